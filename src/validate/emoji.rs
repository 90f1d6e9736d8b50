//! A reaction's emoji: exactly one emoji, as Unicode's list of recommended (RGI) emoji has it,
//! skin tones and ZWJ sequences included.
//!
//! As with names, the Worker asks the JavaScript engine (`public/shared/emoji.js`, the browser
//! client's own check: `/^\p{RGI_Emoji}$/v` over the engine's ICU data) instead of shipping the
//! emoji tables in the Wasm; the host tests use the `emojis` crate, and both are run on the same
//! vectors (`tests/vectors/emoji.json`).

/// Longer strings are never one emoji (the longest RGI sequences are ~35 bytes).
const MAX_EMOJI_BYTES: usize = 64;

pub fn emoji(raw: &str) -> Result<&str, &'static str> {
    if raw.is_empty() || raw.len() > MAX_EMOJI_BYTES || !unicode::is_emoji(raw) {
        return Err("a reaction is exactly one emoji");
    }
    Ok(raw)
}

#[cfg(not(target_arch = "wasm32"))]
mod unicode {
    pub fn is_emoji(s: &str) -> bool {
        emojis::get(s).is_some()
    }
}

#[cfg(target_arch = "wasm32")]
mod unicode {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/public/shared/emoji.js")]
    extern "C" {
        #[wasm_bindgen(js_name = isEmoji)]
        pub fn is_emoji(s: &str) -> bool;
    }
}

#[cfg(test)]
mod tests {
    use super::emoji;

    #[test]
    fn the_shared_vectors_hold() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/emoji.json")).unwrap();
        for e in vectors["emoji"].as_array().unwrap() {
            let e = e.as_str().unwrap();
            assert!(emoji(e).is_ok(), "{e:?} is one emoji");
        }
        for e in vectors["not_emoji"].as_array().unwrap() {
            let e = e.as_str().unwrap();
            assert!(emoji(e).is_err(), "{e:?} is not one emoji");
        }
    }
}
