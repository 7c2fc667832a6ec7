//! The operation a GraphQL document runs (GraphQL spec §2.3 "Operations"): its type and name,
//! read with a small lexer (§2.1) that skips strings, comments and nested selections.

/// Type (`query`, `mutation`, `subscription`) and name of the operation `wanted` names, or
/// of the only operation when `wanted` is `None`. A selection set alone is a query (§2.3
/// "Query shorthand").
pub(super) fn operation(doc: &str, wanted: Option<&str>) -> Option<(&'static str, Option<String>)> {
    let mut ops: Vec<(&'static str, Option<String>)> = Vec::new();
    let b = doc.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    // A keyword at depth 0 waiting for its name.
    let mut pending: Option<&'static str> = None;
    // Inside a definition's head (keyword, name, variables, directives): its first `{` at
    // depth 0 opens its selection set rather than a shorthand query.
    let mut in_def = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                let block = b.get(i..i + 3) == Some(b"\"\"\"");
                i += if block { 3 } else { 1 };
                loop {
                    match b.get(i) {
                        None => return None,
                        Some(b'\\') => i += 2,
                        Some(b'"') if block && b.get(i..i + 3) == Some(b"\"\"\"") => {
                            i += 3;
                            break;
                        }
                        Some(b'"') if !block => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                continue;
            }
            b'{' | b'(' | b'[' => {
                if depth == 0 {
                    if let Some(kind) = pending.take() {
                        ops.push((kind, None));
                    }
                    if c == b'{' {
                        if !in_def {
                            ops.push(("query", None));
                        }
                        in_def = false;
                    }
                }
                depth += 1;
            }
            b'}' | b')' | b']' => {
                depth = depth.saturating_sub(1);
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let start = i;
                while b
                    .get(i)
                    .is_some_and(|&c| c == b'_' || c.is_ascii_alphanumeric())
                {
                    i += 1;
                }
                let name = doc.get(start..i).unwrap_or_default();
                if depth == 0 {
                    if let Some(kind) = pending.take() {
                        ops.push((kind, Some(name.to_owned())));
                    } else {
                        match name {
                            "query" => pending = Some("query"),
                            "mutation" => pending = Some("mutation"),
                            "subscription" => pending = Some("subscription"),
                            "fragment" => {}
                            _ => continue,
                        }
                        in_def = true;
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(kind) = pending {
        ops.push((kind, None));
    }
    match wanted {
        Some(w) => ops.into_iter().find(|(_, n)| n.as_deref() == Some(w)),
        None if ops.len() == 1 => ops.pop(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_of_the_spec_examples() {
        assert_eq!(
            operation("{ user(id: 4) { name } }", None),
            Some(("query", None))
        );
        assert_eq!(
            operation(
                "mutation { likeStory(storyID: 12345) { story { likeCount } } }",
                None
            ),
            Some(("mutation", None))
        );
        assert_eq!(
            operation(
                "subscription NewMessages($room: ID! = \"a { b\") { newMessage(roomId: $room) { id } }",
                None
            ),
            Some(("subscription", Some("NewMessages".into())))
        );
        let doc = "# comment query X\nquery A { a } fragment F on T { f } mutation B { b }";
        assert_eq!(
            operation(doc, Some("B")),
            Some(("mutation", Some("B".into())))
        );
        assert_eq!(operation(doc, Some("A")), Some(("query", Some("A".into()))));
        assert_eq!(
            operation(doc, None),
            None,
            "ambiguous without operationName"
        );
        assert_eq!(operation("query \"\"\"unterminated", None), None);
    }
}
