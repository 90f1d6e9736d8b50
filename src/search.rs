//! Search: `GET /api/rooms/{room}/search?q=&limit=&cursor=&sort=` as pure Rust. The request is
//! parsed and its query compiled here into an FTS5 query that can only mean what the grammar
//! below says; the shell (`shell/search.rs`) runs it against the room's FTS5 index.
//!
//! The grammar, and nothing else (anything else is a `400 bad_request` with a message that says
//! what to write instead):
//! - `word`: every word must match (implicit AND). Punctuation inside a word splits it the way the
//!   index does (`e-mail` is the phrase `e mail`);
//! - `"a quoted phrase"`: the words next to each other, in order;
//! - `prefix*`: words starting with `prefix`;
//! - `from:name` or `from:"a name"`: messages by the members whose name key
//!   ([`crate::validate::name_key`]) equals that name's, so `from:alice` finds Alice.
//!
//! User text never reaches `MATCH` as FTS5 syntax: each term is emitted as an FTS5 string
//! (`"…"`, quotes doubled), so `AND`, `NEAR(…)`, `col:` and `^` inside one are plain text, and
//! the query syntax this grammar does not offer is refused before it gets near SQLite.
//!
//! A hit's snippet and marks are cut from the message's own text (`snippet.rs`): the index
//! keeps no copy of the texts.

use crate::validate::{name_key, percent_decode, MAX_ID};
use serde::Serialize;

mod limit;
mod snippet;
pub use limit::SearchLimit;
pub use snippet::snippet;

/// `q` is 1–200 characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// `limit` is 1–50; 20 when absent.
pub const MAX_LIMIT: u32 = 50;
pub const DEFAULT_LIMIT: u32 = 20;
/// Terms per query: a bound on the work one request can ask of the index.
pub const MAX_TERMS: usize = 16;
/// A relevance cursor is an offset into the ranked matches, at most this far (the history cap's
/// default: a room never holds more messages to skip).
pub const MAX_OFFSET: u64 = 10_000;
/// Words in a snippet.
pub const SNIPPET_WORDS: usize = 20;
/// Where a snippet is cut.
pub const ELLIPSIS: &str = "…";

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// bm25, best first; equal ranks newest first.
    Relevance,
    /// Newest first.
    Recent,
}

/// Where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Relevance: how many ranked matches the earlier pages held.
    Offset(u64),
    /// Recent: matches older than this id.
    Before(u64),
}

impl Cursor {
    /// The cursor as the client gets it and sends it back: opaque, but short and readable.
    pub fn encode(self) -> String {
        match self {
            Cursor::Offset(n) => format!("o{n}"),
            Cursor::Before(id) => format!("b{id}"),
        }
    }
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Word(String),
    Phrase(String),
    Prefix(String),
}

/// A parsed, checked search request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub terms: Vec<Term>,
    /// `from:`'s name, as written.
    pub from: Option<String>,
    pub limit: u32,
    pub sort: Sort,
    pub cursor: Option<Cursor>,
}

impl SearchRequest {
    /// The FTS5 `MATCH` expression, or `None` for a query that is only `from:`.
    pub fn fts(&self) -> Option<String> {
        if self.terms.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|term| match term {
                Term::Word(w) | Term::Phrase(w) => fts_string(w),
                Term::Prefix(p) => format!("{}*", fts_string(p)),
            })
            .collect();
        Some(parts.join(" "))
    }

    /// How many matches to skip (relevance) and the id to stay under (recent).
    pub fn offset(&self) -> u64 {
        match self.cursor {
            Some(Cursor::Offset(n)) => n,
            _ => 0,
        }
    }

    pub fn before(&self) -> u64 {
        match self.cursor {
            Some(Cursor::Before(id)) => id,
            _ => MAX_ID,
        }
    }

    /// The cursor of the page after one that ended with `last_id`, having held `count` matches.
    pub fn next_cursor(&self, count: usize, last_id: u64) -> Cursor {
        match self.sort {
            Sort::Relevance => Cursor::Offset(self.offset() + count as u64),
            Sort::Recent => Cursor::Before(last_id),
        }
    }
}

/// An FTS5 string: the text in double quotes, quotes doubled. Inside one, FTS5 sees no syntax.
fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Whether the index's tokenizer (`unicode61`) would find a word in `text`: letters and digits
/// are what it keeps, everything else separates words.
fn has_word(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// Parses the query string of a search request (`q`, `limit`, `cursor`, `sort`; others are
/// ignored, as for history pages). Errors are the `400 bad_request` message.
pub fn parse_request(query: &str) -> Result<SearchRequest, String> {
    let mut q = None;
    let mut limit = DEFAULT_LIMIT;
    let mut cursor = None;
    let mut sort = Sort::Relevance;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        // Forms encode spaces as `+` (and a real `+` as %2B).
        let value = value.replace('+', " ");
        let value = percent_decode(&value)
            .map_err(|_| format!("{key} is not valid percent-encoded UTF-8"))?
            .into_owned();
        match key {
            "q" => q = Some(value),
            "limit" => {
                limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| {
                        (1..=MAX_LIMIT).contains(n) && value.bytes().all(|b| b.is_ascii_digit())
                    })
                    .ok_or_else(|| format!("limit must be 1-{MAX_LIMIT}"))?;
            }
            "cursor" => cursor = Some(parse_cursor(&value)?),
            "sort" => {
                sort = match value.as_str() {
                    "relevance" | "" => Sort::Relevance,
                    "recent" => Sort::Recent,
                    _ => return Err("sort must be relevance or recent".to_string()),
                }
            }
            _ => {}
        }
    }
    let q = q.ok_or("q is required: the words to search for")?;
    let (terms, from) = parse_query(&q)?;
    match (sort, cursor) {
        (Sort::Relevance, Some(Cursor::Before(_))) | (Sort::Recent, Some(Cursor::Offset(_))) => {
            return Err("that cursor belongs to the other sort order".to_string())
        }
        _ => {}
    }
    Ok(SearchRequest {
        terms,
        from,
        limit,
        sort,
        cursor,
    })
}

fn parse_cursor(value: &str) -> Result<Cursor, String> {
    let bad = || "cursor is not one this endpoint gave out".to_string();
    let digits = value
        .get(1..)
        .filter(|d| !d.is_empty() && d.len() <= 16 && d.bytes().all(|b| b.is_ascii_digit()));
    let n: u64 = digits.and_then(|d| d.parse().ok()).ok_or_else(bad)?;
    match value.as_bytes().first() {
        Some(b'o') if n <= MAX_OFFSET => Ok(Cursor::Offset(n)),
        Some(b'b') if (1..=MAX_ID).contains(&n) => Ok(Cursor::Before(n)),
        _ => Err(bad()),
    }
}

/// Parses `q` into its terms and its `from:` name. See the module docs for the grammar.
pub fn parse_query(q: &str) -> Result<(Vec<Term>, Option<String>), String> {
    let count = q.chars().count();
    if count == 0 || q.trim().is_empty() {
        return Err("q must not be empty".to_string());
    }
    if count > MAX_QUERY_CHARS {
        return Err(format!("q must be at most {MAX_QUERY_CHARS} characters"));
    }
    if q.chars().any(char::is_control) {
        return Err("q must not contain control characters".to_string());
    }
    let mut terms = Vec::new();
    let mut from: Option<String> = None;
    let mut rest = q;
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            break;
        };
        if first == '"' {
            let (phrase, after) = quoted(rest)?;
            if after.starts_with('*') {
                return Err("* goes at the end of a word (cafe*), not after a phrase".to_string());
            }
            if has_word(phrase) {
                terms.push(Term::Phrase(phrase.to_string()));
            }
            rest = after;
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        rest = after;
        if let Some(name) = strip_prefix_ignore_case(token, "from:") {
            let name = if name.is_empty() && rest.starts_with('"') {
                let (name, after) = quoted(rest)?;
                rest = after;
                name
            } else {
                name
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(
                    "from: needs a name, as in from:alice or from:\"Alice Smith\"".to_string(),
                );
            }
            if from.is_some() {
                return Err("only one from: per query".to_string());
            }
            from = Some(name.to_string());
            continue;
        }
        if let Some(term) = word(token)? {
            terms.push(term);
        }
    }
    if terms.len() > MAX_TERMS {
        return Err(format!("at most {MAX_TERMS} words and phrases per query"));
    }
    if terms.is_empty() && from.is_none() {
        return Err("q has no words to search for".to_string());
    }
    Ok((terms, from))
}

/// A `"…"` at the start of `s`: its contents and what follows the closing quote.
fn quoted(s: &str) -> Result<(&str, &str), String> {
    let inner = &s[1..];
    match inner.find('"') {
        Some(end) => Ok((&inner[..end], &inner[end + 1..])),
        None => Err("unbalanced quotes: close the phrase with \"".to_string()),
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// One bare token: a word, a prefix, nothing (punctuation alone), or an error for FTS5 syntax
/// this grammar does not offer.
fn word(token: &str) -> Result<Option<Term>, String> {
    if token.contains(['(', ')', '{', '}', '^']) {
        return Err(
            "( ) { } and ^ are not part of this search's syntax; put text with them in quotes"
                .to_string(),
        );
    }
    if matches!(token, "AND" | "OR" | "NOT" | "NEAR") {
        return Err(format!(
            "{token} is not supported: every word must match; write \"{token}\" in quotes to \
             search for the word"
        ));
    }
    if let Some((filter, _)) = token.split_once(':') {
        if !filter.is_empty() && filter.chars().all(char::is_alphabetic) {
            return Err(format!(
                "unknown filter {filter}: (the only filter is from:name); put text with a colon \
                 in quotes"
            ));
        }
    }
    if (token.starts_with('-') || token.starts_with('+')) && has_word(token) {
        return Err(
            "-word and +word are not supported: every word must match; put text starting \
             with - or + in quotes"
                .to_string(),
        );
    }
    let stars = token.matches('*').count();
    if stars > 0 {
        let stem = token.strip_suffix('*').unwrap_or("");
        if stars > 1 || !has_word(stem) {
            return Err(
                "* goes at the end of a word, as in cafe* (not alone or inside a word)".to_string(),
            );
        }
        return Ok(Some(Term::Prefix(stem.to_string())));
    }
    Ok(has_word(token).then(|| Term::Word(token.to_string())))
}

/// The names among `names` (authors in a room's history) that `from:` means: those with the same
/// name key, so case, width and confusable spellings find the same member.
pub fn authors<'a>(from: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let key = name_key(from);
    names
        .into_iter()
        .filter(|name| name_key(name) == key)
        .map(str::to_string)
        .collect()
}

/// A snippet and its marks: `marks` are `[start, end)` offsets in Unicode scalar values
/// (characters, not UTF-16 units or bytes) into `snippet`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snippet {
    pub snippet: String,
    pub marks: Vec<[usize; 2]>,
}

/// The start of a text as a snippet without marks (a `from:`-only search matches no words):
/// the first [`SNIPPET_WORDS`] words, with [`ELLIPSIS`] when cut.
pub fn lead(text: &str) -> Snippet {
    let mut words = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        let is_space = c.is_whitespace();
        if !is_space && !in_word {
            words += 1;
            if words > SNIPPET_WORDS {
                let mut snippet = text[..i].trim_end().to_string();
                snippet.push_str(ELLIPSIS);
                return Snippet {
                    snippet,
                    marks: Vec::new(),
                };
            }
        }
        in_word = !is_space;
    }
    Snippet {
        snippet: text.to_string(),
        marks: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
