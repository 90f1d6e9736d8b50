//! Names that cannot impersonate: NFKC case-folded forms and confusable skeletons collide, and
//! names with invisible (Default_Ignorable) code points are refused.

use serde_json::{json, Value};

use crate::common::*;

use super::{limits, QUIET};

/// Sends a join as `name` on a new socket: the welcome or the error frame.
async fn try_join(s: &Server, room: &str, name: &str) -> (Client, Value) {
    let mut c = connect(s, room).await;
    c.send_json(&json!({"type":"join","name":name})).await;
    let v = c.recv_json().await;
    (c, v)
}

#[tokio::test]
async fn composed_and_decomposed_names_collide() {
    let s = limits();
    let room = uniq("names-nfkc");
    let (mut first, _) = join(s, &room, "Zo\u{00EB}").await;
    let (_c, e) = try_join(s, &room, "Zoe\u{0308}").await;
    assert!(
        e["type"] == "error" && e["code"] == "name_taken",
        "Zoe+U+0308 next to Zoë: want name_taken, got {e}"
    );
    first.expect_silence(QUIET).await;
    let (_late, w) = join(s, &room, "Late").await;
    assert_eq!(members(&w), ["Zo\u{00EB}", "Late"]);
}

#[tokio::test]
async fn a_cyrillic_look_alike_is_not_a_second_alice() {
    let s = limits();
    for (first, second) in [("Alice", "\u{0410}lice"), ("\u{0410}lice", "Alice")] {
        let room = uniq("names-confusable");
        let (_a, v1) = try_join(s, &room, first).await;
        let (_b, v2) = try_join(s, &room, second).await;
        let welcomed: Vec<&Value> = [&v1, &v2]
            .into_iter()
            .filter(|v| v["type"] == "welcome")
            .collect();
        assert!(
            welcomed.len() <= 1,
            "{first:?} then {second:?}: both joined: {v1} / {v2}"
        );
        for v in [&v1, &v2] {
            if v["type"] == "error" {
                let code = v["code"].as_str().unwrap_or_default();
                assert!(
                    code == "name_taken" || code == "invalid_name",
                    "{first:?} then {second:?}: {v}"
                );
            }
        }
        let (_late, w) = join(s, &room, "Late").await;
        let m = members(&w);
        assert_eq!(m.len(), welcomed.len() + 1, "members: {m:?}");
    }
}

#[tokio::test]
async fn names_with_invisible_code_points_are_invalid() {
    let s = limits();
    let room = uniq("names-ignorable");
    // U+2800 BRAILLE PATTERN BLANK, U+1D173 MUSICAL SYMBOL BEGIN BEAM: both render as nothing.
    for name in ["Bob\u{2800}", "\u{2800}", "Bo\u{1D173}b", "Eve\u{1D17A}"] {
        let (_c, e) = try_join(s, &room, name).await;
        assert!(
            e["type"] == "error" && e["code"] == "invalid_name",
            "{name:?}: want invalid_name, got {e}"
        );
    }
    let (_late, w) = join(s, &room, "Bob").await;
    assert_eq!(members(&w), ["Bob"]);
}

/// The Worker answers the script rule from the JavaScript engine (public/shared/scripts.js), the
/// host from the unicode-script crate: the same vectors hold in both.
#[tokio::test]
async fn names_that_mix_unsafe_scripts_are_invalid_and_safe_mixes_join() {
    let s = limits();
    let room = uniq("names-scripts");
    for name in [
        "\u{0410}lice",
        "\u{0391}lice",
        "p\u{0430}ypal",
        "\u{05E9}\u{0644}\u{0627}\u{0645}",
    ] {
        let (_c, e) = try_join(s, &room, name).await;
        assert!(
            e["type"] == "error" && e["code"] == "invalid_name",
            "{name:?}: want invalid_name, got {e}"
        );
    }
    let mut joined = Vec::new();
    for name in ["Алиса", "Tanaka 田中", "Ana مريم", "山田たろう", "김철수"] {
        let (c, w) = try_join(s, &room, name).await;
        assert_eq!(w["type"], "welcome", "{name:?}: {w}");
        joined.push(c);
    }
}
