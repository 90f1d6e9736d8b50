//! Property: for any sequence of messages, edits and deletes, searching for a word returns
//! exactly the live messages whose current text contains it.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

const WORDS: [&str; 8] = [
    "apple", "banana", "cherry", "damson", "elder", "fig", "grape", "Hazel",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_exactly_the_live_messages_with_the_word() {
    let s = server();
    for seed in [1_u64, 2, 3] {
        let room = uniq("prop");
        let (mut a, _) = enter(s, &room, "Alice", Some(&session("p"))).await;
        let mut rng = Rng::new(seed);
        // The model: live messages by id, with their current text.
        let mut live: BTreeMap<u64, String> = BTreeMap::new();
        for _ in 0..40 {
            let text = |rng: &mut Rng| {
                let n = rng.below(4) + 1;
                (0..n)
                    .map(|_| *rng.pick(&WORDS))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let ids: Vec<u64> = live.keys().copied().collect();
            match rng.below(10) {
                0..=5 => {
                    let t = text(&mut rng);
                    let m = post(&mut a, &t).await;
                    live.insert(id_of(&m), t);
                }
                6..=7 if !ids.is_empty() => {
                    let id = *rng.pick(&ids);
                    let t = text(&mut rng);
                    a.send_json(&json!({"type":"edit","id":id,"text":t})).await;
                    assert_eq!(skip_to(&mut a, "edit").await["target"], id);
                    live.insert(id, t);
                }
                _ if !ids.is_empty() => {
                    let id = *rng.pick(&ids);
                    a.send_json(&json!({"type":"delete","id":id})).await;
                    assert_eq!(skip_to(&mut a, "delete").await["target"], id);
                    live.remove(&id);
                }
                _ => {}
            }
        }
        settle(&mut a).await;
        for word in WORDS {
            let key = word.to_lowercase();
            let mut want: Vec<u64> = live
                .iter()
                .filter(|(_, t)| t.to_lowercase().split(' ').any(|w| w == key))
                .map(|(id, _)| *id)
                .collect();
            want.reverse();
            let got: Vec<u64> = search(s, &room, word, "&sort=recent&limit=50")
                .await
                .iter()
                .map(id_of)
                .collect();
            assert_eq!(got, want, "seed {seed}, word {word}: {live:?}");
        }
    }
}
