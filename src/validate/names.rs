//! Member names: which names are refused, and when two names are one person.
//!
//! The rules come from Unicode's own data through maintained crates: normalization and case
//! folding (`unicode-normalization`, `caseless`), UTS #39 confusable skeletons, Default_Ignorable
//! code points and script sets (`unicode-security`, `unicode-script`).
//!
//! In the Worker, the key and the Default_Ignorable check run in the browser client's own module,
//! `public/shared/names.js`, and the script rule in `public/shared/scripts.js`, whose tables and
//! script lists (`names-data.js`) are generated from these crates by `names_data_is_current`. The crates' normalization, case-folding and confusable tables
//! would add ~100 KB to the gzipped Wasm (measured: 223 KB → 323 KB), past its 250 KiB budget,
//! while the JavaScript engine normalizes for free. So server and client share one
//! implementation, and the host tests check it against the crates on the same vectors
//! (`tests/vectors/names.json`, also run against names.js by `tests/unit/names.test.mjs`).

use super::MAX_NAME;

/// A member's name: trimmed, 1–32 characters. Returns the name as it will be shown (as typed).
///
/// Refused, because they let one person pass for another or hide what a name says:
/// - control characters and line/paragraph separators;
/// - Unicode Default_Ignorable code points (zero-width spaces and joiners, bidi overrides,
///   variation selectors, Hangul fillers, tags, U+1D173–1D17A, …): they render as nothing;
/// - characters that render blank without being a space (U+2800 BRAILLE PATTERN BLANK);
/// - mixed scripts that UTS #39 calls unsafe (see `mixes_unsafe_scripts`), so `Аlice` with a
///   Cyrillic `А` is refused rather than admitted beside `Alice`.
pub fn member_name(raw: &str) -> Result<&str, &'static str> {
    let name = raw.trim();
    let count = name.chars().count();
    if count == 0 {
        return Err("name must not be empty");
    }
    if count > MAX_NAME {
        return Err("name must be at most 32 characters");
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err("name must not contain control characters or line breaks");
    }
    if unicode::has_default_ignorable(name) {
        return Err("name must not contain invisible characters");
    }
    if name.chars().any(|c| BLANK.contains(&c)) {
        return Err("name must not contain blank characters other than spaces");
    }
    if mixes_unsafe_scripts(name) {
        return Err(
            "name must not mix scripts that look alike (such as Latin with Cyrillic or Greek)",
        );
    }
    Ok(name)
}

/// The key that makes names unique in a room: two names collide when their keys are equal.
///
/// The name is folded (Unicode's compatibility caseless form, D146: NFKD and full case folding,
/// so `Zoë`/`Zoe`+U+0308, `ΟΔΟΣ`/`οδος`, `Straße`/`STRASSE` and `ﬁ`/`fi` fold alike), mapped to
/// its UTS #39 confusable skeleton (`рау` in Cyrillic and `pay` in Latin, `m` and `rn`), and folded
/// again because some skeleton prototypes are capitals (`0` becomes `O`, like `o`). Runs of
/// whitespace become one space. Equal folded forms therefore always give equal keys.
///
/// Skeletons are compared after folding, so `Ian` and `lan` (capital I, small L) stay two names:
/// "same fold or same case-sensitive skeleton" is not transitive, and no single key can honour it.
pub fn name_key(name: &str) -> String {
    unicode::name_key(name)
}

/// Characters that are not whitespace but that UTS #39 finds confusable with whitespace only
/// (`Bob⠀` looks like `Bob`). Checked against the crate's data for every character by
/// `the_only_blank_non_space_is_braille_blank`.
const BLANK: [char; 1] = ['\u{2800}'];

/// Whether a name mixes scripts beyond UTS #39's Moderately Restrictive level: a name passes when
/// it is single-script (Common and Inherited characters such as digits, punctuation, emoji and
/// combining marks go with any script; Han goes with Hiragana and Katakana, Hangul or Bopomofo),
/// or is Latin plus one other Recommended script that is neither Cyrillic nor Greek (whose letters
/// double for Latin ones). UTS #39 also limits that level to identifier characters; names keep
/// spaces, punctuation and emoji, so only the script rule applies.
///
/// In the Worker the JavaScript engine's Script_Extensions answer (`public/shared/scripts.js`,
/// the same rule): the crate's script table alone is ~10 KB of the gzipped upload (issue 18).
#[cfg(not(target_arch = "wasm32"))]
fn mixes_unsafe_scripts(name: &str) -> bool {
    use unicode_script::Script;
    use unicode_security::mixed_script::AugmentedScriptSet;

    let mut all = AugmentedScriptSet::default();
    let mut non_latin = AugmentedScriptSet::default();
    for c in name.chars() {
        let set = AugmentedScriptSet::for_char(c);
        all.intersect_with(set);
        if !set.base.contains_script(Script::Latin) {
            non_latin.intersect_with(set);
        }
    }
    if !all.is_empty() || non_latin.hanb || non_latin.jpan || non_latin.kore {
        return false;
    }
    let mut scripts = non_latin.base.iter();
    match (scripts.next(), scripts.next()) {
        (Some(other), None) => {
            !other.is_recommended() || matches!(other, Script::Cyrillic | Script::Greek)
        }
        _ => true,
    }
}

/// On the host: the Unicode crates.
#[cfg(not(target_arch = "wasm32"))]
mod unicode {
    use caseless::Caseless;
    use unicode_normalization::UnicodeNormalization;

    pub fn name_key(name: &str) -> String {
        let skeleton: String = unicode_security::skeleton(&fold(name.chars())).collect();
        let key = fold(skeleton.chars());
        let mut words = key.split_whitespace();
        let mut out = String::with_capacity(key.len());
        out.push_str(words.next().unwrap_or(""));
        for word in words {
            out.push(' ');
            out.push_str(word);
        }
        out
    }

    /// Unicode's compatibility caseless form (D146): NFKD(casefold(NFKD(casefold(NFD(s))))).
    pub fn fold(chars: impl Iterator<Item = char>) -> String {
        chars
            .nfd()
            .default_case_fold()
            .nfkd()
            .default_case_fold()
            .nfkd()
            .collect()
    }

    pub fn has_default_ignorable(name: &str) -> bool {
        name.chars().any(is_default_ignorable)
    }

    /// Unicode's Default_Ignorable_Code_Point. unicode-security keeps its table of them private,
    /// but its `skeleton` drops exactly those code points (UTS #39 step 2), so a character whose
    /// skeleton is empty is one.
    pub fn is_default_ignorable(c: char) -> bool {
        unicode_security::skeleton(c.encode_utf8(&mut [0; 4]))
            .next()
            .is_none()
    }
}

/// In the Worker: the browser's module, with tables generated from the same crates (see the
/// module comment for why).
#[cfg(target_arch = "wasm32")]
mod unicode {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/public/shared/names.js")]
    extern "C" {
        #[wasm_bindgen(js_name = nameKey)]
        pub fn name_key(name: &str) -> String;
    }

    // Imported here as well so that wasm-bindgen copies names-data.js beside names.js, which
    // imports it.
    #[wasm_bindgen(module = "/public/shared/names-data.js")]
    extern "C" {
        #[wasm_bindgen(thread_local_v2, js_name = IGNORABLE)]
        static IGNORABLE: js_sys::RegExp;
    }

    pub fn has_default_ignorable(name: &str) -> bool {
        IGNORABLE.with(|ignorable| ignorable.test(name))
    }

    #[wasm_bindgen(module = "/public/shared/scripts.js")]
    extern "C" {
        #[wasm_bindgen(js_name = mixesUnsafeScripts)]
        pub fn mixes_unsafe_scripts(name: &str) -> bool;
    }
}

#[cfg(target_arch = "wasm32")]
use unicode::mixes_unsafe_scripts;

#[cfg(test)]
mod tests;
