//! Replies: a message with `reply_to` carries a quote (author and the start of the text) for
//! everyone; when the answered message is deleted, the quote becomes a tombstone.

use serde_json::json;

use crate::common::*;

use super::*;

#[tokio::test]
async fn a_reply_quotes_its_author_and_text_until_the_original_is_deleted() {
    let s = server();
    let room = uniq("reply");
    let (mut a, _, _) = join_session(s, &room, "Alice").await;
    let (mut b, _) = join(s, &room, "Bob").await;
    a.expect("join").await;
    let long = format!("{} the rest is not quoted", "q".repeat(100));
    let m = a.say(&long).await;
    b.expect("message").await;
    let target = id_of(&m);

    b.send_json(&json!({"type":"message","text":"I agree","nonce":"r1","reply_to":target}))
        .await;
    let r = b.expect("message").await;
    assert_eq!(a.expect("message").await, r, "everyone gets the same reply");
    assert_eq!(r["reply_to"], target, "{r}");
    assert_eq!(r["reply"]["name"], "Alice", "{r}");
    assert_eq!(
        r["reply"]["text"],
        "q".repeat(100),
        "the start of the text: {r}"
    );
    assert!(r["reply"].get("deleted").is_none(), "{r}");

    // A later joiner sees the quote too.
    let (mut c, w) = join(s, &room, "Cy").await;
    a.expect("join").await;
    b.expect("join").await;
    assert_eq!(history(&w)[1]["reply"], r["reply"], "{w}");

    change(
        &mut a,
        &mut [&mut b, &mut c],
        json!({"type":"delete","id":target}),
        "delete",
    )
    .await;
    // The reply stays; its quote is a tombstone everywhere, with the text gone.
    let (_d, w) = join(s, &room, "Dee").await;
    let h = history(&w);
    assert_eq!(h[1]["id"], r["id"]);
    assert_eq!(h[1]["text"], "I agree");
    assert_eq!(h[1]["reply_to"], target);
    assert_eq!(
        h[1]["reply"],
        json!({"name":"Alice","text":"","deleted":true}),
        "{w}"
    );
    let page = history_page(s, &room, "").await;
    assert_eq!(page[1]["reply"], h[1]["reply"]);
    let all = http("GET", s.url(&format!("/api/rooms/{room}/messages?after=0"))).await;
    assert!(!all.body.contains("qqqq"), "{}", all.body);

    // Replying to a deleted or unknown message: not_found, with the nonce.
    for to in [target, 987_654, u64::MAX] {
        let frame = json!({"type":"message","text":"hm","nonce":"r2","reply_to":to});
        let e = refused(&mut b, frame, "not_found").await;
        assert_eq!(e["nonce"], "r2", "{e}");
    }
    let ok = post(&mut b, "plain message still works").await;
    assert!(ok.get("reply").is_none());
}
