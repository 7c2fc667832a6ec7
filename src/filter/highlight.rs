//! What a filter searches payloads for, so a viewer can mark the matches.

use regex::bytes::Regex;

use super::Filter;

impl Filter {
    /// The patterns of the text and regex terms in positive positions (under an even number
    /// of `not`s): those that can be the reason an item was selected. A text term is its
    /// escaped, case-insensitive literal. Empty for the empty filter.
    pub fn search_patterns(&self) -> Vec<Regex> {
        let mut out = Vec::new();
        if let Some(expr) = &self.expr {
            expr.visit(true, &mut |t, positive| {
                if let (true, Some(re)) = (positive, &t.pattern) {
                    out.push(re.clone());
                }
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Filter;

    fn patterns(src: &str) -> Vec<String> {
        let f = Filter::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        f.search_patterns()
            .iter()
            .map(|r| r.as_str().to_string())
            .collect()
    }

    #[test]
    fn positive_text_and_regex_terms_only() {
        assert_eq!(patterns(""), Vec::<String>::new());
        assert_eq!(patterns("hello"), ["hello"]);
        assert_eq!(patterns("\"a.b c\" dir:c2s"), ["a\\.b c"]);
        assert_eq!(patterns("re:^x+ or /y?/"), ["^x+", "y?"]);
        assert_eq!(patterns("hello !bye"), ["hello"]);
        assert_eq!(patterns("not (a or not b)"), ["b"]);
        assert_eq!(patterns("port:80 op:text len>3"), Vec::<String>::new());
    }

    #[test]
    fn patterns_keep_the_filters_case_folding() {
        let f = Filter::parse("Hello").unwrap();
        let res = f.search_patterns();
        assert_eq!(res.len(), 1);
        assert!(res[0].is_match(b"say HELLO"));
    }
}
