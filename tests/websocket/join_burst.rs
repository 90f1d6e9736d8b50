//! A message sent right behind its join, before the welcome arrives (as a bot or an SDK that
//! does not wait sends it): the welcome is the room before the burst, and the sender hears its own
//! message after it, like everyone else (docs/protocol.md, "Batches").

use super::*;
use serde_json::json;

#[tokio::test]
async fn a_message_right_behind_the_join_is_echoed_to_its_sender_after_the_welcome() {
    let s = server();
    let room = uniq("join-burst");
    let (mut alice, _) = join(s, &room, "Alice").await;
    let before = alice.say("before").await;
    // Six tries: before the change, the sender's echo was missing in each (its message was only
    // in the welcome's history).
    for i in 0..6 {
        let name = format!("Bot{i}");
        let nonce = format!("n{i}");
        let mut bot = connect(s, &room).await;
        // Join and message in ONE write: they reach the room in the same burst.
        bot.write_texts(&[
            json!({"type":"join","name":name}).to_string(),
            json!({"type":"message","text":format!("hello {i}"),"nonce":nonce}).to_string(),
        ])
        .await;
        let welcome = bot.expect("welcome").await;
        let last_id = welcome["last_id"].as_u64().unwrap();
        let history = welcome["history"].as_array().unwrap();
        assert!(
            history.iter().all(|m| m["nonce"] != nonce.as_str()),
            "the welcome holds the room before the burst: {welcome}"
        );
        let echo = bot.expect("message").await;
        assert_eq!(echo["nonce"], nonce.as_str(), "{echo}");
        assert_eq!(echo["name"], name.as_str());
        assert!(
            echo["id"].as_u64().unwrap() > last_id,
            "{echo} after {welcome}"
        );
        assert!(last_id >= before["id"].as_u64().unwrap());
        // Everyone else hears the join, then the message, once.
        assert_eq!(alice.expect("join").await["name"], name.as_str());
        assert_eq!(alice.expect("message").await["nonce"], nonce.as_str());
        bot.expect_silence(QUIET).await;
        drop(bot);
        assert_eq!(alice.expect("leave").await["name"], name.as_str());
    }
}
