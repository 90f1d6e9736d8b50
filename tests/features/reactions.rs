//! Reactions: `react` toggles one RGI emoji; REACTIONS_PER_MEMBER (3) per member per message and
//! REACTIONS_PER_MESSAGE (20) distinct emoji per message.

use serde_json::json;

use crate::common::*;

use super::*;

#[tokio::test]
async fn react_toggles_and_everyone_sees_the_counts() {
    let s = server();
    let room = uniq("react");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let m = a.say("react to me").await;
    b.expect("message").await;
    let target = id_of(&m);
    let react = |emoji: &str| json!({"type":"react","id":target,"emoji":emoji});

    let r1 = change(&mut a, &mut [&mut b], react("👍"), "react").await;
    assert_eq!(
        (&r1["target"], &r1["emoji"], &r1["on"], &r1["name"]),
        (&json!(target), &json!("👍"), &json!(true), &json!("Alice")),
        "{r1}"
    );
    let r2 = change(&mut b, &mut [&mut a], react("👍"), "react").await;
    assert_eq!((&r2["on"], &r2["name"]), (&json!(true), &json!("Bob")));
    let r3 = change(&mut b, &mut [&mut a], react("🏳️‍🌈"), "react").await;
    assert_eq!(r3["emoji"], "🏳️‍🌈");
    assert!(id_of(&r1) < id_of(&r2) && id_of(&r2) < id_of(&r3));

    let (mut c, w) = join(s, &room, "Cy").await;
    a.expect("join").await;
    b.expect("join").await;
    assert_eq!(
        history(&w)[0]["reactions"],
        json!([{"emoji":"👍","count":2,"names":["Alice","Bob"]},{"emoji":"🏳️‍🌈","count":1,"names":["Bob"]}]),
        "{w}"
    );
    // The same react again takes it back; the last one takes the emoji off the message.
    let off = change(&mut a, &mut [&mut b, &mut c], react("👍"), "react").await;
    assert_eq!((&off["on"], &off["name"]), (&json!(false), &json!("Alice")));
    let off = change(&mut b, &mut [&mut a, &mut c], react("🏳️‍🌈"), "react").await;
    assert_eq!(off["on"], false);
    let page = history_page(s, &room, "").await;
    assert_eq!(
        page[0]["reactions"],
        json!([{"emoji":"👍","count":1,"names":["Bob"]}])
    );
    c.expect_silence(QUIET).await;
}

#[tokio::test]
async fn only_one_emoji_is_a_reaction() {
    let s = server();
    let room = uniq("emoji");
    let (mut a, _) = join(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let m = a.say("pick one").await;
    b.expect("message").await;
    let target = id_of(&m);
    for bad in [
        "",
        "a",
        "1",
        "#",
        ":+1:",
        "e\u{301}",
        "ก",
        "中",
        "\u{200d}",
        "👍👍",
        "👍🏽😂",
        "🇫🇷🇩🇪",
        "👍 ",
        " 👍",
        "😂x",
        "👍\u{0}",
    ] {
        let e = refused(
            &mut a,
            json!({"type":"react","id":target,"emoji":bad}),
            "invalid_emoji",
        )
        .await;
        assert_eq!(e["target"], target, "{bad:?}: {e}");
    }
    // Skin tones, flags, keycaps, ZWJ sequences and presentation selectors are one emoji each.
    for good in ["👍🏽", "🇫🇷", "#️⃣"] {
        let r = change(
            &mut a,
            &mut [&mut b],
            json!({"type":"react","id":target,"emoji":good}),
            "react",
        )
        .await;
        assert_eq!(r["emoji"], good);
    }
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn reactions_are_capped_per_member_and_per_message() {
    let s = server();
    let room = uniq("cap");
    let (mut a, _) = join(s, &room, "Alice").await;
    let m = a.say("so many feelings").await;
    let target = id_of(&m);
    let emoji = [
        "😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉", "😊", "😇", "🥰", "😍",
        "🤩", "😘", "😗", "😚", "😙", "😋",
    ];
    let react = |e: &str| json!({"type":"react","id":target,"emoji":e});

    // Three per member: a fourth is refused, taking one back makes room.
    for e in &emoji[..3] {
        a.send_json(&react(e)).await;
        assert_eq!(a.expect("react").await["on"], true);
    }
    let e = refused(&mut a, react(emoji[3]), "too_many_reactions").await;
    assert_eq!(e["target"], target, "{e}");
    a.send_json(&react(emoji[0])).await;
    assert_eq!(a.expect("react").await["on"], false);
    a.send_json(&react(emoji[3])).await;
    assert_eq!(a.expect("react").await["on"], true);
    // (Alice holds emoji 1, 2 and 3.)

    // Twenty distinct emoji per message: six more members fill it, the 21st is refused, but an
    // emoji already there may still be joined.
    let mut others = Vec::new();
    let mut next = 4;
    for i in 0..6 {
        let (mut c, _) = join(s, &room, &format!("Member{i}")).await;
        for _ in 0..3 {
            if next == 20 {
                break;
            }
            c.send_json(&react(emoji[next])).await;
            let r = next_of(&mut c, "react").await;
            assert_eq!(r["emoji"], emoji[next], "{r}");
            next += 1;
        }
        others.push(c);
    }
    // emoji[0] was taken back: 1..=19 are on the message (19 distinct); one more fits.
    let last = others.last_mut().unwrap();
    last.send_json(&react(emoji[0])).await;
    assert_eq!(next_of(last, "react").await["on"], true);
    let (mut z, _) = join(s, &room, "Zed").await;
    let e = refused(&mut z, react(emoji[20]), "too_many_reactions").await;
    assert_eq!(e["target"], target, "{e}");
    z.send_json(&react(emoji[5])).await;
    let r = next_of(&mut z, "react").await;
    assert_eq!((&r["emoji"], &r["on"]), (&json!(emoji[5]), &json!(true)));
    let page = history_page(s, &room, "").await;
    let reactions = page[0]["reactions"].as_array().unwrap();
    assert_eq!(reactions.len(), 20, "{}", page[0]);
    for r in reactions {
        assert!(r["names"].as_array().is_some_and(|n| !n.is_empty()), "{r}");
    }
}
