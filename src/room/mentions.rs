//! Mentions: the `@name`s in a message's text, resolved by the room when the message is stored
//! (and again when it is edited) into the `mentions` the message carries.
//!
//! `@` starts a mention where it does not follow a letter or digit (`bob@example.com` mentions no
//! one). The name after it is matched by name key ([`crate::validate::name_key`]), so `@alice`,
//! `@ALICE` and `@Ａｌｉｃｅ` all mention Alice; names with spaces match too (`@Alice Smith`), the
//! longest name that ends at a word boundary winning. `@everyone` and `@here` are mentions only
//! from the room's owner. Text in code spans (`` `…` ``, ```` ``` ```` …) mentions no one.

use crate::validate::{name_key, MAX_NAME};

/// Mentions one message carries at most.
pub const MAX_MENTIONS: usize = 20;
/// `@` signs looked at per message: the cost of a message full of them stays bounded.
pub const MAX_ATTEMPTS: usize = 40;
/// The entries for `@everyone` and `@here` (a member's name never starts with `@` in a mention
/// list: these two are the only ones that do).
pub const EVERYONE: &str = "@everyone";
pub const HERE: &str = "@here";

/// The members `text` mentions, by their names as `lookup` (name key → name) gives them, in
/// order of first mention, without repeats, at most [`MAX_MENTIONS`].
pub fn mentions(text: &str, owner: bool, lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    // Most texts mention no one: one byte search instead of a walk over every character.
    if !text.as_bytes().contains(&b'@') {
        return Vec::new();
    }
    let code = code_spans(text);
    let mut found: Vec<String> = Vec::new();
    let mut attempts = 0;
    let mut prev: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && !prev.is_some_and(char::is_alphanumeric);
        prev = Some(c);
        if !starts || code.iter().any(|&(a, b)| (a..b).contains(&at)) {
            continue;
        }
        attempts += 1;
        if attempts > MAX_ATTEMPTS || found.len() >= MAX_MENTIONS {
            break;
        }
        if let Some(name) = resolve(&text[at + 1..], owner, &lookup) {
            if !found.contains(&name) {
                found.push(name);
            }
        }
    }
    found
}

/// The member (or special) named at the start of `after` (the text after an `@`): the longest
/// candidate that ends where a word ends and whose key names a member.
fn resolve(after: &str, owner: bool, lookup: &impl Fn(&str) -> Option<String>) -> Option<String> {
    if after.starts_with(char::is_whitespace) {
        return None;
    }
    let mut ends = Vec::new();
    for (i, c) in after.char_indices().take(MAX_NAME) {
        // A name holds no line break, and never ends with a space (names are trimmed).
        if c == '\n' {
            break;
        }
        let end = i + c.len_utf8();
        let next = after[end..].chars().next();
        if !c.is_whitespace() && next.is_none_or(|n| !n.is_alphanumeric()) {
            ends.push(end);
        }
    }
    if owner {
        if let Some(&first) = ends.first() {
            match &after[..first] {
                w if w.eq_ignore_ascii_case("everyone") => return Some(EVERYONE.to_string()),
                w if w.eq_ignore_ascii_case("here") => return Some(HERE.to_string()),
                _ => {}
            }
        }
    }
    ends.iter()
        .rev()
        .find_map(|&end| lookup(&name_key(&after[..end])))
}

/// Byte ranges of code spans: a run of n backticks up to the next run of exactly n (CommonMark's
/// rule); a run that is never closed is plain text.
fn code_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|&&b| b == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let n = run_at(i);
        let mut j = i + n;
        let mut closed = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let m = run_at(j);
                if m == n {
                    closed = Some(j + m);
                    break;
                }
                j += m;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                spans.push((i, end));
                i = end;
            }
            None => i += n,
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The room's members by key, as the room's lookup does.
    fn find(text: &str, owner: bool) -> Vec<String> {
        let members = [
            "Alice",
            "Bob",
            "Alice Smith",
            "Zoë",
            "Dr. Who",
            "bob2",
            "東京",
        ];
        mentions(text, owner, |key| {
            members
                .iter()
                .find(|m| name_key(m) == key)
                .map(|m| m.to_string())
        })
    }

    #[test]
    fn names_by_key() {
        assert_eq!(find("hi @alice", false), ["Alice"]);
        assert_eq!(find("@ALICE and @bob", false), ["Alice", "Bob"]);
        // Width and confusables fold like names (fullwidth; Cyrillic А).
        assert_eq!(find("@Ａｌｉｃｅ", false), ["Alice"]);
        assert_eq!(find("@\u{410}lice", false), ["Alice"]);
        assert_eq!(find("@zoë @東京", false), ["Zoë", "東京"]);
        // The diaeresis is part of the name: `zoe` is someone else.
        assert!(find("@zoe", false).is_empty());
    }

    #[test]
    fn the_longest_name_that_ends_a_word() {
        assert_eq!(find("@Alice Smith said", false), ["Alice Smith"]);
        assert_eq!(find("@Alice said", false), ["Alice"]);
        assert_eq!(find("@bob2 @bob", false), ["bob2", "Bob"]);
        assert_eq!(find("@dr. who?", false), ["Dr. Who"]);
        assert!(find("@bobby", false).is_empty());
        assert!(find("@Alice\nSmith", false) == ["Alice"]);
    }

    #[test]
    fn punctuation_around() {
        assert_eq!(find("(@alice), @bob!", false), ["Alice", "Bob"]);
        assert_eq!(find("@alice: hi; @bob.", false), ["Alice", "Bob"]);
        assert_eq!(find("\"@alice\"", false), ["Alice"]);
        assert!(find("mail bob@alice.com", false).is_empty());
        assert!(find("@ alice", false).is_empty());
        assert!(find("@", false).is_empty());
        assert!(find("@@", false).is_empty());
        assert_eq!(find("@@alice", false), ["Alice"]);
    }

    #[test]
    fn code_spans_are_left_alone() {
        assert!(find("`@alice`", false).is_empty());
        assert!(find("```\n@alice\n```", false).is_empty());
        assert_eq!(find("`code` @bob `@alice`", false), ["Bob"]);
        // An unclosed backtick is text; a run of two is closed only by a run of two.
        assert_eq!(find("` @alice", false), ["Alice"]);
        assert!(find("``a ` @alice``", false).is_empty());
    }

    #[test]
    fn everyone_and_here_only_for_the_owner() {
        assert_eq!(
            find("@everyone @here @alice", true),
            [EVERYONE, HERE, "Alice"]
        );
        assert_eq!(find("@Everyone", true), [EVERYONE]);
        assert_eq!(find("@everyone @here", false), Vec::<String>::new());
        assert!(find("@everyones", true).is_empty());
    }

    #[test]
    fn repeats_once_and_at_most_twenty() {
        assert_eq!(find("@alice @Alice @ALICE", false), ["Alice"]);
        let many: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
        let text: String = many.iter().map(|m| format!("@{m} ")).collect();
        let found = mentions(&text, false, |key| {
            many.iter().find(|m| name_key(m) == key).cloned()
        });
        assert_eq!(found.len(), MAX_MENTIONS);
        assert_eq!(found[0], "m0");
        // Past MAX_ATTEMPTS @ signs nothing more is looked at.
        let text = format!("{}@alice", "@nobody ".repeat(MAX_ATTEMPTS));
        assert!(find(&text, false).is_empty());
    }

    #[test]
    fn long_text_after_an_at_sign() {
        let long = "a".repeat(MAX_NAME);
        let lookup = |k: &str| (k == name_key(&long)).then(|| long.clone());
        assert!(mentions(&format!("@{}", "a".repeat(100)), false, lookup).is_empty());
        assert_eq!(
            mentions(&format!("@{long} x"), false, lookup),
            vec![long.clone()]
        );
    }
}
