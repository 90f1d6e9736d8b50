use super::*;

fn terms(q: &str) -> Vec<Term> {
    parse_query(q).unwrap().0
}

fn fts(q: &str) -> Option<String> {
    parse_request(&format!("q={q}")).unwrap().fts()
}

fn refused(q: &str) -> String {
    match parse_query(q) {
        Err(why) => why,
        Ok(parsed) => panic!("{q:?} was accepted as {parsed:?}"),
    }
}

#[test]
fn words_phrases_prefixes_and_from() {
    assert_eq!(
        terms(r#"cafe "big red" dog* from:Alice"#),
        vec![
            Term::Word("cafe".into()),
            Term::Phrase("big red".into()),
            Term::Prefix("dog".into()),
        ]
    );
    assert_eq!(
        parse_query("from:alice").unwrap(),
        (vec![], Some("alice".into()))
    );
    assert_eq!(
        parse_query(r#"hi FROM:"Alice Smith""#).unwrap(),
        (vec![Term::Word("hi".into())], Some("Alice Smith".into()))
    );
    // Punctuation alone is no word; inside a word it splits it as the index does.
    assert_eq!(terms("hello , - !"), vec![Term::Word("hello".into())]);
    assert_eq!(terms("e-mail"), vec![Term::Word("e-mail".into())]);
    assert_eq!(terms("12:30"), vec![Term::Word("12:30".into())]);
    assert_eq!(terms("東京*"), vec![Term::Prefix("東京".into())]);
}

#[test]
fn compiles_every_term_to_an_fts5_string() {
    assert_eq!(fts("cafe").as_deref(), Some(r#""cafe""#));
    assert_eq!(fts("a%20b*").as_deref(), Some(r#""a" "b"*"#));
    assert_eq!(fts("%22x%20y%22").as_deref(), Some(r#""x y""#));
    assert_eq!(fts("from:bob"), None);
    // FTS5 syntax inside a phrase stays text.
    assert_eq!(
        fts("%22a%20OR%20b%20NEAR(c)%20col:d%20%5Ee%22").as_deref(),
        Some(r#""a OR b NEAR(c) col:d ^e""#)
    );
    // `+` is a space in a query string; %2B is a plus.
    assert_eq!(fts("big+dog").as_deref(), Some(r#""big" "dog""#));
}

#[test]
fn hostile_queries_are_refused_with_a_reason() {
    for q in [
        "\"unbalanced",
        "a \"b",
        "*",
        "**",
        "a*b",
        "*a",
        "a**",
        "\"phrase\"*",
        "text:secret",
        "name:bob",
        "-text:x",
        "{text name}:x",
        "NEAR(a b, 5)",
        "NEAR(a b)",
        "a NEAR b",
        "a OR b",
        "a AND b",
        "NOT a",
        "^start",
        "(a)",
        "-excluded",
        "+plus",
        "from:",
        "from:\"\"",
        "from:a from:b",
        "from:\"open",
        "",
        "   ",
        "!!! ???",
        "\"\"",
        "a\u{1}b",
    ] {
        let why = refused(q);
        assert!(!why.is_empty(), "{q:?}");
    }
    assert!(refused("a*b").contains("end of a word"));
    assert!(refused("text:x").contains("unknown filter text:"));
    assert!(refused("a OR b").contains("\"OR\""));
    assert!(refused(&"x".repeat(201)).contains("200"));
    let many: Vec<String> = (0..17).map(|i| format!("w{i}")).collect();
    assert!(refused(&many.join(" ")).contains("at most 16"));
    // Quoted, all of that is text.
    assert_eq!(terms("\"a OR b\""), vec![Term::Phrase("a OR b".into())]);
    assert!(parse_query(&"x".repeat(200)).is_ok());
    // Lowercase operators are just words.
    assert_eq!(
        terms("near or"),
        vec![Term::Word("near".into()), Term::Word("or".into())]
    );
}

#[test]
fn no_input_reaches_match_unquoted() {
    // Whatever the query, the compiled expression is only FTS5 strings, optionally starred,
    // separated by spaces.
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let alphabet: Vec<char> = "ab \"*():^{}-+NEARORANDT/,.é東\\'".chars().collect();
    for _ in 0..20_000 {
        let len = (rng % 12) as usize + 1;
        let q: String = (0..len)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                alphabet[(rng % alphabet.len() as u64) as usize]
            })
            .collect();
        let Ok((terms, from)) = parse_query(&q) else {
            continue;
        };
        let request = SearchRequest {
            terms,
            from,
            limit: 1,
            sort: Sort::Relevance,
            cursor: None,
        };
        if let Some(fts) = request.fts() {
            assert!(well_formed(&fts), "{q:?} -> {fts:?}");
        }
    }
}

/// `"…"` strings (quotes doubled inside), each optionally followed by `*`, separated by one space.
fn well_formed(fts: &str) -> bool {
    let mut chars = fts.chars().peekable();
    loop {
        if chars.next() != Some('"') {
            return false;
        }
        loop {
            match chars.next() {
                Some('"') if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                Some('"') => break,
                Some(_) => {}
                None => return false,
            }
        }
        if chars.peek() == Some(&'*') {
            chars.next();
        }
        match chars.next() {
            None => return true,
            Some(' ') => {}
            Some(_) => return false,
        }
    }
}

#[test]
fn request_parameters() {
    let r = parse_request("q=hi&limit=50&sort=recent&cursor=b42&x=1").unwrap();
    assert_eq!(
        (r.limit, r.sort, r.cursor),
        (50, Sort::Recent, Some(Cursor::Before(42)))
    );
    assert_eq!(r.before(), 42);
    let r = parse_request("q=hi&cursor=o20").unwrap();
    assert_eq!((r.limit, r.offset()), (DEFAULT_LIMIT, 20));
    assert_eq!(r.next_cursor(20, 7).encode(), "o40");
    for bad in [
        "",
        "limit=5",
        "q=hi&limit=0",
        "q=hi&limit=51",
        "q=hi&limit=-1",
        "q=hi&limit=%2B5",
        "q=hi&limit=x",
        "q=hi&sort=best",
        "q=hi&cursor=",
        "q=hi&cursor=o",
        "q=hi&cursor=x5",
        "q=hi&cursor=o10001",
        "q=hi&cursor=b0",
        "q=hi&cursor=b5",
        "q=hi&sort=recent&cursor=o5",
        "q=%ZZ",
        "q=%FF",
    ] {
        assert!(parse_request(bad).is_err(), "{bad}");
    }
}

/// The marked parts of a snippet.
fn marked(s: &Snippet) -> Vec<String> {
    let chars: Vec<char> = s.snippet.chars().collect();
    s.marks
        .iter()
        .map(|[a, b]| chars[*a..*b].iter().collect())
        .collect()
}

fn snip(text: &str, q: &str) -> Snippet {
    snippet(text, &terms(q))
}

#[test]
fn marks_are_character_offsets_of_folded_matches() {
    let s = snip("Un café à Zürich 😀 avec Zoë", "cafe zoe");
    assert_eq!(s.snippet, "Un café à Zürich 😀 avec Zoë");
    assert_eq!(s.marks, vec![[3, 7], [24, 27]]);
    assert_eq!(marked(&s), ["café", "Zoë"]);
    // Decomposed accents and capitals fold the same way; the query may carry them too.
    assert_eq!(marked(&snip("CAFE\u{301} noir", "café")), ["CAFE\u{301}"]);
    assert_eq!(marked(&snip("ÉCOLE", "ecole")), ["ÉCOLE"]);
    assert_eq!(
        marked(&snip("fox, fox and fox", "FOX")),
        ["fox", "fox", "fox"]
    );
    // Whole words only, as the index matches: no mark inside a longer word.
    assert!(snip("foxes", "fox").marks.is_empty());
}

#[test]
fn phrases_prefixes_and_split_words_mark_as_the_index_matches() {
    let s = snip("a big red dog, a red big doghouse", "\"big red\" dog*");
    assert_eq!(marked(&s), ["big red", "dog", "doghouse"]);
    assert_eq!(
        marked(&snip("e-mail me at 12:30", "e-mail 12:30")),
        ["e-mail", "12:30"]
    );
    // Overlapping matches are one mark.
    assert_eq!(
        marked(&snip("big red dog", "\"big red\" \"red dog\"")),
        ["big red dog"]
    );
    // CJK: a run between punctuation is one word.
    let s = snip("東京タワーに行きました。とても高い", "東京*");
    assert_eq!(marked(&s), ["東京タワーに行きました"]);
    assert!(snip("東京タワー", "タワー").marks.is_empty());
}

#[test]
fn long_texts_are_cut_around_the_best_window() {
    let words: Vec<String> = (1..=40).map(|i| format!("w{i}")).collect();
    let text = format!("{} needle {}", words[..20].join(" "), words[20..].join(" "));
    let s = snip(&text, "needle");
    assert!(
        s.snippet.starts_with('…') && s.snippet.ends_with('…'),
        "{}",
        s.snippet
    );
    assert_eq!(s.snippet.split_whitespace().count(), SNIPPET_WORDS);
    assert_eq!(marked(&s), ["needle"]);
    // The window with the most distinct terms wins over one with more of the same.
    let text = format!("alpha alpha alpha {} alpha beta", words.join(" "));
    let s = snip(&text, "alpha beta");
    assert_eq!(marked(&s), ["alpha", "beta"]);
    assert!(s.snippet.ends_with("alpha beta"), "{}", s.snippet);
    // At the start: no leading …, text before the first word kept.
    let s = snip(&format!("> needle {}", words.join(" ")), "needle");
    assert!(s.snippet.starts_with("> needle w1"), "{}", s.snippet);
    // No match seen (FTS5 matched on a fold this does not know): the start, unmarked.
    let s = snip(&words.join(" "), "absent");
    assert!(s.snippet.starts_with("w1 w2") && s.marks.is_empty());
    assert_eq!(
        snip("", "x"),
        Snippet {
            snippet: String::new(),
            marks: vec![]
        }
    );
}

#[test]
fn leads_are_cut_at_twenty_words() {
    assert_eq!(lead("short text").snippet, "short text");
    let long: Vec<String> = (1..=25).map(|i| format!("w{i}")).collect();
    let snippet = lead(&long.join("  ")).snippet;
    assert!(snippet.starts_with("w1  w2"));
    assert!(snippet.ends_with("w20…"), "{snippet}");
}

#[test]
fn authors_match_by_name_key() {
    let names = ["Alice", "ALICE", "Bob", "alice2"];
    assert_eq!(authors("alice", names), vec!["Alice", "ALICE"]);
    // Width and confusables fold like names do (fullwidth letters; Cyrillic А for Latin A).
    assert_eq!(authors("Ａｌｉｃｅ", names), vec!["Alice", "ALICE"]);
    assert_eq!(authors("\u{410}lice", names), vec!["Alice", "ALICE"]);
    assert_eq!(authors("BOB", names), vec!["Bob"]);
    assert!(authors("carol", names).is_empty());
}
