//! Read positions: monotonic, shared live by the connections of one identity (today: one
//! session, here under two names), in every welcome as `read_id`, kept across a rejoin and a
//! restart of the server.

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_positions_across_two_sockets_and_a_restart() {
    let srv = Server::start(&[("RATE_LIMIT_PER_SEC", "0")]);
    let room = uniq("read");
    let sess = session("a");
    let (mut laptop, w) = enter(&srv, &room, "Alice", Some(&sess)).await;
    assert_eq!(w["read_id"], 0, "{w}");
    let (mut phone, _) = enter(&srv, &room, "Alice phone", Some(&sess)).await;
    let (mut bob, _) = enter(&srv, &room, "Bob", Some(&session("b"))).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(&post(&mut bob, &format!("m{i}")).await));
    }
    for c in [&mut laptop, &mut phone] {
        while skip_to(c, "message").await["id"] != json!(ids[4]) {}
    }
    // Reading on the phone moves the laptop's position, not Bob's.
    phone.send_json(&json!({"type":"read","id":ids[2]})).await;
    assert_eq!(
        skip_to(&mut laptop, "read").await,
        json!({"type":"read","id":ids[2]})
    );
    // Back is ignored; past the newest entry is the newest.
    phone.send_json(&json!({"type":"read","id":ids[1]})).await;
    laptop
        .send_json(&json!({"type":"read","id":9_999_999}))
        .await;
    assert_eq!(
        skip_to(&mut phone, "read").await,
        json!({"type":"read","id":ids[4]})
    );
    bob.expect_silence(Duration::from_millis(300)).await;
    // Not joined, no session, no id: errors.
    let mut stranger = connect(&srv, &room).await;
    stranger.send_json(&json!({"type":"read","id":1})).await;
    stranger.expect_error("not_joined").await;
    let (mut guest, _) = enter(&srv, &room, "Guest", None).await;
    guest.send_json(&json!({"type":"read","id":1})).await;
    guest.expect_error("bad_request").await;
    guest.send_json(&json!({"type":"read"})).await;
    guest.expect_error("bad_request").await;

    // A rejoin with the same session gets it back (after the write interval).
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(laptop.close(Some(1000)).await, Some(1000));
    let (_again, w) = enter(&srv, &room, "Alice", Some(&sess)).await;
    assert_eq!(w["read_id"], ids[4], "{w}");
    drop(phone);

    // And after a restart of the server.
    let srv = restart_blocking(srv).await;
    let (_after, w) = enter(&srv, &room, "Alice", Some(&sess)).await;
    assert_eq!(w["read_id"], ids[4], "{w}");
    let (_b, w) = enter(&srv, &room, "Bob", Some(&session("b2"))).await;
    assert_eq!(w["read_id"], 0);
    srv.assert_no_panic();
}
