//! Mentions: resolved by the room by name key, carried by the message in live frames, welcomes,
//! resumes and history pages, and recomputed by an edit.

use serde_json::{json, Value};

use super::*;

fn mentions(v: &Value) -> Value {
    v.get("mentions").cloned().unwrap_or(json!([]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_in_live_frames_welcomes_resumes_and_pages() {
    let s = server();
    let room = uniq("mention");
    let bob_sess = session("b");
    let (mut a, _) = enter(s, &room, "Alice", Some(&session("a"))).await;
    let (mut b, _) = enter(s, &room, "Bob", Some(&bob_sess)).await;
    let m = post(
        &mut a,
        "hi @BOB and @Ａｌｉｃｅ, `@bob` in code, mail x@bob.com",
    )
    .await;
    assert_eq!(mentions(&m), json!(["Bob", "Alice"]));
    let live = skip_to(&mut b, "message").await;
    assert_eq!(mentions(&live), json!(["Bob", "Alice"]));
    let last_seen = id_of(&live);
    // Bob goes; Alice mentions him again while he is away (resume) and a newcomer reads history.
    assert_eq!(b.close(Some(1000)).await, Some(1000));
    let carol_sess = session("c");
    let (_c, _) = enter(s, &room, "Carol", Some(&carol_sess)).await;
    let again = post(&mut a, "@carol please tell @bob").await;
    assert_eq!(
        mentions(&again),
        json!(["Carol"]),
        "Bob left: no one to mention"
    );
    let (mut b2, _) = enter(s, &room, "Bob", Some(&bob_sess)).await;
    let third = post(&mut a, "welcome back @bob").await;
    assert_eq!(mentions(&third), json!(["Bob"]));
    skip_to(&mut b2, "message").await;
    // A resume with `since` holds the message as stored.
    let mut r = connect(s, &room).await;
    let w = r
        .join_with(
            json!({"type":"join","name":"Rita","session":session("r"),"since":last_seen - 1}),
        )
        .await;
    let history = w["history"].as_array().unwrap();
    let first = history
        .iter()
        .find(|e| e["id"] == json!(id_of(&m)))
        .unwrap();
    assert_eq!(mentions(first), json!(["Bob", "Alice"]), "{w}");
    // A welcome without `since` and a history page too.
    let (_d, w) = enter(s, &room, "Dan", None).await;
    let last = w["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(mentions(&last), json!(["Bob"]));
    let page = history_page(s, &room, "?limit=10").await;
    let stored: Vec<Value> = page.iter().map(mentions).collect();
    assert_eq!(
        stored,
        [json!(["Bob", "Alice"]), json!(["Carol"]), json!(["Bob"])]
    );
    // Search hits carry them too.
    let hits = search(s, &room, "welcome", "").await;
    assert_eq!(mentions(&hits[0]), json!(["Bob"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_recomputes_mentions() {
    let s = server();
    let room = uniq("remention");
    let (mut a, _) = enter(s, &room, "Alice", Some(&session("a"))).await;
    let (mut b, _) = enter(s, &room, "Bob", None).await;
    let m = post(&mut a, "ping @bob").await;
    a.send_json(&json!({"type":"edit","id":id_of(&m),"text":"ping @alice instead"}))
        .await;
    let edit = skip_to(&mut b, "edit").await;
    assert_eq!(mentions(&edit), json!(["Alice"]), "{edit}");
    settle(&mut a).await;
    let page = history_page(s, &room, "").await;
    assert_eq!(mentions(&page[0]), json!(["Alice"]));
    let entries = history_page(s, &room, "?after=0").await;
    assert_eq!(
        mentions(&entries[1]),
        json!(["Alice"]),
        "the edit as stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_and_here_only_from_the_owner() {
    let s = server();
    let (st, v) = post_json(s, "/api/rooms").await;
    assert_eq!(st, 201);
    let room = v["room"].as_str().unwrap().to_string();
    let key = v["owner_key"].as_str().unwrap().to_string();
    let mut o = connect(s, &room).await;
    o.join_with(json!({"type":"join","name":"Olga","owner_key":key}))
        .await;
    let (mut b, _) = enter(s, &room, "Bob", None).await;
    assert_eq!(
        mentions(&post(&mut o, "@everyone meeting").await),
        json!(["@everyone"])
    );
    assert_eq!(
        mentions(&post(&mut b, "@everyone @here me too").await),
        json!([])
    );
    assert_eq!(mentions(&post(&mut o, "@here now").await), json!(["@here"]));
}
