//! The public hpack-test-case stories (tests/data/hpack/README.md): every header block of every
//! story decodes to exactly the header list the encoder was given, in order, sharing one
//! decoder per story as the blocks share one compression context.

use std::path::Path;

use serde_json::Value;
use wsnoop::http2::hpack::Decoder;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Decode one story; returns the number of header blocks checked.
fn check_story(path: &Path) -> usize {
    let story: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let cases = story["cases"].as_array().unwrap();
    // The observer's table cap is well above the largest size any story uses (16384), so every
    // reference resolves.
    let mut d = Decoder::new(64 * 1024);
    for case in cases {
        let wire = hex(case["wire"].as_str().unwrap());
        let mut fields = Vec::new();
        d.decode(&wire, &mut fields)
            .unwrap_or_else(|e| panic!("{}: case {}: {e}", path.display(), case["seqno"]));
        let want: Vec<(String, String)> = case["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let (name, value) = h.as_object().unwrap().iter().next().unwrap();
                (name.clone(), value.as_str().unwrap().to_string())
            })
            .collect();
        let got: Vec<(String, String)> = fields
            .iter()
            .map(|f| {
                assert_eq!(f.unresolved, None);
                (
                    String::from_utf8(f.name.clone()).unwrap(),
                    String::from_utf8(f.value.clone()).unwrap(),
                )
            })
            .collect();
        assert_eq!(got, want, "{}: case {}", path.display(), case["seqno"]);
        assert!(d.is_certain());
    }
    cases.len()
}

#[test]
fn every_story_decodes_exactly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hpack");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 8);
    let mut stories = 0;
    let mut blocks = 0;
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 13, "{}", dir.display());
        for f in files {
            blocks += check_story(&f);
            stories += 1;
        }
    }
    assert_eq!(stories, 104);
    assert_eq!(blocks, 1104);
}

/// The same blocks with their dynamic table state lost before each story's second half:
/// nothing fails, every field either resolves to what was sent or is reported unresolved, and
/// what resolves is exactly right.
#[test]
fn stories_after_lost_state_never_guess() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hpack");
    for dir in ["nghttp2", "python-hpack", "nghttp2-change-table-size"] {
        for n in ["02", "05", "24"] {
            let path = root.join(dir).join(format!("story_{n}.json"));
            let story: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let cases = story["cases"].as_array().unwrap();
            let mut d = Decoder::new(64 * 1024);
            let mut unresolved = 0;
            for (i, case) in cases.iter().enumerate() {
                if i == cases.len() / 2 {
                    d.lose_state();
                }
                let mut fields = Vec::new();
                d.decode(&hex(case["wire"].as_str().unwrap()), &mut fields)
                    .unwrap();
                let want = case["headers"].as_array().unwrap();
                assert_eq!(fields.len(), want.len());
                for (f, w) in fields.iter().zip(want) {
                    let (name, value) = w.as_object().unwrap().iter().next().unwrap();
                    if f.unresolved.is_some() {
                        unresolved += 1;
                        assert!(f.name.is_empty());
                        if f.value_known {
                            assert_eq!(f.value, value.as_str().unwrap().as_bytes());
                        }
                    } else {
                        assert_eq!(f.name, name.as_bytes());
                        assert_eq!(f.value, value.as_str().unwrap().as_bytes());
                    }
                }
            }
            assert!(unresolved > 0, "{}", path.display());
        }
    }
}
