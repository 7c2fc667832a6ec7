//! Operators, precedence, parentheses, negation and how words are read.

use super::*;
use crate::event::Dir;

#[test]
fn or_in_every_spelling() {
    // The issue's case: `hello or bye` was one text search matching nothing.
    assert_eq!(keep("hello or bye"), vec![0, 1, 4, 9]);
    assert_eq!(keep("hello || bye"), vec![0, 1, 4, 9]);
    assert_eq!(keep("hello||bye"), vec![0, 1, 4, 9]);
    assert_eq!(keep("hello OR bye"), vec![0, 1, 4, 9]);
    assert_eq!(keep("hello Or bye"), vec![0, 1, 4, 9]);
}

#[test]
fn and_in_every_spelling_and_side_by_side() {
    for src in [
        "hello back",
        "hello and back",
        "hello AND back",
        "hello && back",
        "hello&&back",
    ] {
        assert_eq!(keep(src), vec![1], "{src}");
    }
    assert_eq!(keep("op:text dir:s2c hello"), vec![1]);
}

#[test]
fn not_in_every_spelling() {
    for src in ["not hello", "NOT hello", "!hello", "! hello"] {
        assert_eq!(keep(src), vec![2, 3, 4, 5, 9], "{src}");
    }
    assert_eq!(keep("not not hello"), keep("hello"));
    assert_eq!(keep("!!hello"), keep("hello"));
    assert_eq!(keep("! ! ! hello"), keep("not hello"));
}

#[test]
fn not_binds_tighter_than_and_tighter_than_or() {
    // (hello) or (bye and c2s)
    assert_eq!(keep("hello or bye dir:c2s"), vec![0, 1, 9]);
    assert_eq!(keep("hello or (bye dir:c2s)"), vec![0, 1, 9]);
    assert_eq!(keep("(hello or bye) dir:c2s"), vec![0, 9]);
    // (bye and c2s) or hello
    assert_eq!(keep("bye dir:c2s or hello"), vec![0, 1, 9]);
    // (not hello) or bye
    assert_eq!(keep("not hello or bye"), vec![2, 3, 4, 5, 9]);
    assert_eq!(keep("not (hello or bye)"), vec![2, 3, 5]);
    // (not c2s) and text
    assert_eq!(keep("!dir:c2s op:text"), vec![1]);
    assert_eq!(keep("!(dir:c2s op:text)"), vec![1, 2, 3, 4, 5]);
    // a and b or c and d
    assert_eq!(keep("op:text dir:c2s or op:ping dir:s2c"), vec![0, 3, 9]);
    assert_eq!(keep("op:text (dir:c2s or op:ping) dir:s2c"), NONE.to_vec());
}

#[test]
fn parentheses_group_and_nest() {
    assert_eq!(keep("((hello))"), vec![0, 1]);
    assert_eq!(keep("( hello )"), vec![0, 1]);
    assert_eq!(keep("(op:text)(dir:s2c)"), vec![1]);
    assert_eq!(
        keep("((op:text or op:ping) and (conn:1 or conn:2)) !dir:c2s"),
        vec![1, 3]
    );
    assert_eq!(keep("not (not (hello))"), vec![0, 1]);
}

#[test]
fn a_word_keeps_the_parentheses_it_opens() {
    // `re:(hel|by)e` is one word; the group's `)` closes the outer `(`.
    assert_eq!(keep("(re:(hel|by)e)"), vec![4, 9]);
    assert_eq!(keep("re:(hel|by)e"), vec![4, 9]);
    assert_eq!(keep("(hello)"), vec![0, 1]);
}

#[test]
fn quoted_operators_and_terms_are_text() {
    let f = Filter::parse("\"or\" \"port:1\"").unwrap();
    let yes = message(1, Dir::C2s, crate::event::Opcode::Text, b"door PORT:1");
    let no = message(1, Dir::C2s, crate::event::Opcode::Text, b"port 1 or");
    assert!(f.matches(&yes));
    assert!(!f.matches(&no));
    // A quote inside quotes.
    let f = Filter::parse(r#""say \"hi\"""#).unwrap();
    let yes = message(1, Dir::C2s, crate::event::Opcode::Text, b"they SAY \"HI\"!");
    assert!(f.matches(&yes));
}

#[test]
fn words_that_are_text() {
    // No colon, no comparison, not a term's name: text.
    assert_eq!(keep("{\"type\""), vec![0]);
    assert_eq!(keep("hello!"), NONE.to_vec());
    // Names that merely start like a term are text.
    let f = Filter::parse("hostname length conference operator").unwrap();
    let s = message(
        1,
        Dir::C2s,
        crate::event::Opcode::Text,
        b"HOSTNAME, Length, conference, operator",
    );
    assert!(f.matches(&s));
}

#[test]
fn quoted_values_of_terms() {
    let f = Filter::parse(r#"uri:"/chat?room=1" or uri:"/a b""#).unwrap();
    let s = sample();
    assert!(f.matches(&s[0]));
    assert!(!f.matches(&s[2]));
    assert_eq!(keep(r#"re:"hello b""#), vec![1]);
}

#[test]
fn source_is_kept_trimmed() {
    let f = Filter::parse("  hello or  bye ").unwrap();
    assert_eq!(f.source(), "hello or  bye");
    assert!(!f.is_empty());
    assert!(Filter::parse(" \t ").unwrap().is_empty());
}

#[test]
fn every_example_of_the_help_parses_and_every_term_is_listed() {
    let help = crate::filter::HELP;
    let examples = help.split("Examples:\n").nth(1).unwrap();
    let mut n = 0;
    for line in examples.lines() {
        // Two examples a line, in columns apart by at least two spaces.
        for ex in line
            .trim()
            .split("  ")
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Filter::parse(ex).unwrap_or_else(|e| panic!("{ex:?}: {e}"));
            n += 1;
        }
    }
    assert_eq!(n, 12);
    for t in crate::filter::terms::TERMS {
        assert!(
            help.contains(&format!("  {}", t.name)) || help.contains(&format!(" {}:", t.name)),
            "{}",
            t.name
        );
    }
    assert!(help.lines().all(|l| l.chars().count() <= 78));
}
