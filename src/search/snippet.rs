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
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/public/shared/fold.js")]
    extern "C" {
        #[wasm_bindgen(js_name = searchFold)]
        pub fn fold(word: &str) -> String;
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
    // The matches wholly inside `[from, to)`.
    let inside = |from: usize, to: usize| found.iter().filter(move |h| h.1 >= from && h.2 < to);
    if n > SNIPPET_WORDS {
        // Distinct terms as bits (a query has at most `MAX_TERMS`), then the count of matches.
        let score = |s: usize| {
            let (mut terms, mut count) = (0u64, 0);
            for h in inside(s, s + SNIPPET_WORDS) {
                terms |= 1 << (h.0 % 64);
                count += 1;
            }
            (terms.count_ones(), count)
        };
        let mut best = (0, score(0));
        for s in 1..=n - SNIPPET_WORDS {
            let sc = score(s);
            if sc > best.1 {
                best = (s, sc);
            }
        }
        from = best.0;
        let first = inside(from, from + SNIPPET_WORDS).map(|h| h.1).min();
        let last = inside(from, from + SNIPPET_WORDS).map(|h| h.2).max();
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
    // Which words are marked, and which are joined to the next one by a match over both: a
    // mark is a run of joined words, so overlapping matches make one.
    let (mut marked, mut joined) = (vec![false; n], vec![false; n]);
    for h in inside(from, to) {
        marked[h.1..=h.2].fill(true);
        joined[h.1..h.2].fill(true);
    }
    // Character offset of byte `i` of `text` in the snippet.
    let at = |i: usize| lead + text[start..i].chars().count();
    let mut marks: Vec<[usize; 2]> = Vec::new();
    let mut open = None;
    for w in from..to {
        if marked[w] {
            let first = *open.get_or_insert(w);
            if !joined[w] {
                marks.push([at(spans[first].0), at(spans[w].1)]);
                open = None;
            }
        }
    }
    Snippet {
        snippet: out,
        marks,
    }
}
