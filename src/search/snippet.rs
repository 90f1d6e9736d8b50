//! A hit's `snippet` and `marks`, computed from the message's own text. The index keeps no copy
//! of the texts (a contentless FTS5 table: `shell/search.rs`), so FTS5's `snippet()` has nothing
//! to cut; this does the same job with the index's idea of a word:
//! - a word is a run of letters, digits and combining marks (the `unicode61` tokenizer);
//! - words compare folded: lower case, without diacritics (`remove_diacritics 2`), so `cafe`
//!   marks `Café`;
//! - a phrase (or a word the index splits, `e-mail`) is one mark over its words; a prefix marks
//!   the whole word it starts.
//!
//! FTS5 decides what matches; this only says where. A text it matched in a way this does not
//! see (a fold the two disagree on) still gets a snippet, its start, without marks.

use super::{Snippet, Term, ELLIPSIS, SNIPPET_WORDS};

/// Combining diacritical marks (their Unicode blocks): `unicode61` keeps them inside a word
/// (`e` + U+0301 is one word, folded to `e`).
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}'
        | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}')
}

/// The byte ranges of the words of `text`.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let in_word = c.is_alphanumeric() || is_combining_mark(c);
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// A word as the index compares it: lower case, diacritics removed. ASCII here; the rest by
/// canonical decomposition without the marks, which needs Unicode's tables: on the host from
/// `unicode-normalization`, in the Worker from the JavaScript engine (as for names: the tables
/// would cost the Wasm upload what the engine has for free).
fn fold(word: &str) -> String {
    if word.is_ascii() {
        word.to_ascii_lowercase()
    } else {
        unicode::fold(word)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod unicode {
    use unicode_normalization::UnicodeNormalization;

    pub fn fold(word: &str) -> String {
        let lower: String = word.chars().flat_map(char::to_lowercase).collect();
        lower
            .nfd()
            .filter(|&c| !super::is_combining_mark(c))
            .collect()
    }
}

#[cfg(target_arch = "wasm32")]
mod unicode {
    use js_sys::{JsString, RegExp};

    pub fn fold(word: &str) -> String {
        let marks = RegExp::new(
            "[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]",
            "gu",
        );
        let folded = JsString::from(word).to_lower_case().normalize("NFD");
        folded.replace_by_pattern(&marks, "").into()
    }
}

/// A term's folded words, and whether the last one is a prefix.
fn pattern(term: &Term) -> (Vec<String>, bool) {
    let (text, prefix) = match term {
        Term::Word(w) | Term::Phrase(w) => (w, false),
        Term::Prefix(p) => (p, true),
    };
    let folded = words(text).into_iter().map(|(a, b)| fold(&text[a..b]));
    (folded.collect(), prefix)
}

/// Where the terms occur: `(term, first word, last word)`, by word index.
fn hits(folded: &[String], terms: &[Term]) -> Vec<(usize, usize, usize)> {
    let mut found = Vec::new();
    for (t, term) in terms.iter().enumerate() {
        let (want, prefix) = pattern(term);
        let Some(last) = want.len().checked_sub(1) else {
            continue;
        };
        for start in 0..folded.len().saturating_sub(last) {
            let matches = want.iter().enumerate().all(|(k, w)| {
                let word = &folded[start + k];
                if prefix && k == last {
                    word.starts_with(w.as_str())
                } else {
                    word == w
                }
            });
            if matches {
                found.push((t, start, start + last));
            }
        }
    }
    found
}

/// The snippet of `text` for a search of `terms`: the whole text when it has at most
/// [`SNIPPET_WORDS`] words, else the window of that many words holding the most distinct terms
/// (then the most matches; the earliest), centred on its matches, with [`ELLIPSIS`] where cut.
/// `marks` are character offsets into the snippet, one per match (overlapping ones merged).
pub fn snippet(text: &str, terms: &[Term]) -> Snippet {
    let spans = words(text);
    let folded: Vec<String> = spans.iter().map(|&(a, b)| fold(&text[a..b])).collect();
    let found = hits(&folded, terms);
    let n = spans.len();
    let (mut from, mut to) = (0, n);
    if n > SNIPPET_WORDS {
        let score = |s: usize| {
            let inside: Vec<_> = found
                .iter()
                .filter(|h| h.1 >= s && h.2 < s + SNIPPET_WORDS)
                .collect();
            let mut distinct: Vec<usize> = inside.iter().map(|h| h.0).collect();
            distinct.sort_unstable();
            distinct.dedup();
            (distinct.len(), inside.len())
        };
        let mut best = (0, score(0));
        for s in 1..=n - SNIPPET_WORDS {
            let sc = score(s);
            if sc > best.1 {
                best = (s, sc);
            }
        }
        from = best.0;
        let inside = found
            .iter()
            .filter(|h| h.1 >= from && h.2 < from + SNIPPET_WORDS);
        let first = inside.clone().map(|h| h.1).min();
        let last = inside.map(|h| h.2).max();
        if let (Some(first), Some(last)) = (first, last) {
            let slack = SNIPPET_WORDS - (last - first + 1);
            from = first.saturating_sub(slack / 2).min(n - SNIPPET_WORDS);
        }
        to = from + SNIPPET_WORDS;
    }
    let start = if from == 0 { 0 } else { spans[from].0 };
    let end = if to == n { text.len() } else { spans[to - 1].1 };
    let mut out = String::with_capacity(end - start + 2 * ELLIPSIS.len());
    if from > 0 {
        out.push_str(ELLIPSIS);
    }
    let lead = out.chars().count();
    out.push_str(&text[start..end]);
    if to < n {
        out.push_str(ELLIPSIS);
    }
    // Character offset of byte `i` of `text` in the snippet.
    let at = |i: usize| lead + text[start..i].chars().count();
    let mut ranges: Vec<(usize, usize)> = found
        .iter()
        .filter(|h| h.1 >= from && h.2 < to)
        .map(|h| (h.1, h.2))
        .collect();
    ranges.sort_unstable();
    let mut marks: Vec<[usize; 2]> = Vec::new();
    let mut last_word = None;
    for (a, b) in ranges {
        match (marks.last_mut(), last_word) {
            (Some(mark), Some(end_word)) if a <= end_word => {
                if b > end_word {
                    mark[1] = at(spans[b].1);
                    last_word = Some(b);
                }
            }
            _ => {
                marks.push([at(spans[a].0), at(spans[b].1)]);
                last_word = Some(b);
            }
        }
    }
    Snippet {
        snippet: out,
        marks,
    }
}
