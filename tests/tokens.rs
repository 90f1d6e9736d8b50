//! Issue 18 against a real `wrangler dev`: join tokens signed here by test keys (an HS256 secret
//! and two Ed25519 keys in a JWKS), each refusal, renewal and expiry (4004), one member on two
//! devices with one on a relay, a kick that closes both and keeps the sub out, CORS, and
//! `POST /api/rooms` with a bearer token.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use chatterly::token::mint;
use common::*;
use serde_json::{json, Value};

const SECRET: &str = "integration-secret-0123456789abcdef";
const SEED_1: [u8; 32] = [11; 32];
const SEED_2: [u8; 32] = [22; 32];
const APP: &str = "http://app.example:3000";

static SERVER: OnceLock<Server> = OnceLock::new();

fn server() -> &'static Server {
    static JWKS: OnceLock<String> = OnceLock::new();
    let jwks = JWKS.get_or_init(|| mint::jwks(&[("k1", SEED_1), ("k2", SEED_2)]));
    shared(
        &SERVER,
        &[
            ("JOIN_TOKENS", "required"),
            ("JOIN_TOKEN_SECRET", SECRET),
            ("JOIN_TOKEN_PUBLIC_KEYS", jwks),
            ("ALLOWED_ORIGINS", APP),
            // The third socket of a room goes to a relay.
            ("RELAY_THRESHOLD", "2"),
            ("RELAY_MEMBERS", "2"),
            ("PRESENCE_GRACE_MS", "3000"),
        ],
    )
}

fn now_s() -> i64 {
    now_ms() / 1000
}

fn claims(sub: &str, name: &str, room: &str) -> Value {
    json!({"sub": sub, "name": name, "room": room, "iat": now_s(), "exp": now_s() + 600})
}

fn hs(claims: &Value) -> String {
    mint::hs256(SECRET.as_bytes(), claims)
}

fn with(mut c: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

async fn join_token(room: &str, token: &str) -> (Client, Value) {
    let mut c = connect(server(), room).await;
    let w = c.join_with(json!({"type":"join","token":token})).await;
    (c, w)
}

#[tokio::test]
async fn each_refusal_is_unauthorized_and_the_socket_stays_usable() {
    let room = uniq("refuse");
    let good = claims("u1", "Alice", &room);
    let none = format!(
        "{}.{}.",
        mint::b64url(br#"{"alg":"none"}"#),
        mint::b64url(good.to_string().as_bytes())
    );
    let cases: Vec<(Value, &str)> = vec![
        (json!({"type":"join","name":"Alice"}), "needs a join token"),
        (
            json!({"type":"join","token": format!("{}x", hs(&good))}),
            "does not verify",
        ),
        (
            json!({"type":"join","token": hs(&with(good.clone(), json!({"room":"elsewhere"})))}),
            "another room",
        ),
        (
            json!({"type":"join","token": hs(&with(good.clone(), json!({"exp": now_s() - 120, "iat": now_s() - 200})))}),
            "expired",
        ),
        (
            json!({"type":"join","token": hs(&with(good.clone(), json!({"nbf": now_s() + 600})))}),
            "not valid yet",
        ),
        (
            json!({"type":"join","token": hs(&with(good.clone(), json!({"exp": now_s() + 90_000})))}),
            "JOIN_TOKEN_MAX_TTL_S",
        ),
        (
            json!({"type":"join","token": "A".repeat(5000)}),
            "over 4 KiB",
        ),
        (json!({"type":"join","token": none}), "alg none"),
        (
            json!({"type":"join","token": mint::eddsa([3; 32], Some("k9"), &good)}),
            "kid names no key",
        ),
        (
            json!({"type":"join","token": mint::eddsa(SEED_1, Some("k2"), &good)}),
            "does not verify",
        ),
        (
            json!({"type":"join","token": hs(&with(good.clone(), json!({"sub": 42})))}),
            "sub claim",
        ),
    ];
    let mut c = connect(server(), &room).await;
    for (frame, why) in cases {
        c.send_json(&frame).await;
        let e = c.expect_error("unauthorized").await;
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(why), "{why}: {message}");
        if let Some(t) = frame["token"].as_str() {
            assert!(
                !message.contains(&t[..t.len().min(24)]),
                "never echoes the token"
            );
        }
    }
    // The same socket joins once the token is right; Ed25519 by kid works too.
    let w = c
        .join_with(json!({"type":"join","token": mint::eddsa(SEED_2, Some("k2"), &good)}))
        .await;
    assert_eq!(w["name"], "Alice");
    assert_eq!(w["verified"], json!(["Alice"]));
}

#[tokio::test]
async fn renewal_keeps_a_member_and_expiry_closes_with_4004() {
    let room = uniq("expiry");
    // Tokens that ran out 55 s ago: still inside the 60 s skew, so they close in ~5 s.
    let stale = |sub: &str, name: &str| {
        hs(&with(
            claims(sub, name, &room),
            json!({"iat": now_s() - 100, "exp": now_s() - 55}),
        ))
    };
    let (mut renewing, _) = join_token(&room, &stale("r1", "Renee")).await;
    let (mut lapsing, _) = join_token(&room, &stale("l1", "Lapse")).await;
    renewing.expect("join").await;
    // Someone else's token does not renew.
    renewing
        .send_json(&json!({"type":"auth","token": hs(&claims("l1", "Lapse", &room))}))
        .await;
    let e = renewing.expect_error("unauthorized").await;
    assert!(e["message"].as_str().unwrap().contains("another sub"));
    renewing
        .send_json(&json!({"type":"auth","token": hs(&claims("r1", "Renee", &room))}))
        .await;
    let ack = renewing.expect("auth").await;
    assert!(ack["exp"].as_i64().unwrap() > now_s());
    // The lapsing member is closed with 4004 and the others see them away.
    loop {
        match lapsing.recv().await {
            Frame::Close(code, _) => {
                assert_eq!(code, Some(4004));
                break;
            }
            Frame::Text(_) => continue,
            other => panic!("expected 4004, got {}", other.describe()),
        }
    }
    let away = renewing.expect("away").await;
    assert_eq!(away["name"], "Lapse");
    // A fresh token within the grace: a quiet return.
    let (_back, w) = join_token(&room, &hs(&claims("l1", "Lapse", &room))).await;
    assert_eq!(w["name"], "Lapse");
    let back = renewing.expect("back").await;
    assert_eq!(back["name"], "Lapse");
    renewing.expect_silence(Duration::from_millis(800)).await;
}

#[tokio::test]
async fn devices_on_the_room_and_on_two_relays_are_one_member_and_a_kick_closes_all() {
    let room = uniq("devices");
    let (mut owner, _) = join_token(
        &room,
        &hs(&with(claims("boss", "Boss", &room), json!({"owner": true}))),
    )
    .await;
    let alice = claims("alice-id", "Alice", &room);
    let (mut laptop, _) = join_token(&room, &hs(&alice)).await;
    owner.expect("join").await;
    // The third socket of the room is held by a relay.
    let (mut phone, w) = join_token(&room, &mint::eddsa(SEED_1, Some("k1"), &alice)).await;
    assert_eq!(members(&w), vec!["Boss", "Alice"]);
    let st = stats(server(), &room).await;
    assert_eq!(st["members"], 2, "{st}");
    assert!(
        st["relays"].as_array().is_some_and(|r| !r.is_empty()),
        "a relay holds the phone: {st}"
    );
    // Bob fills the first relay (two sockets each); Alice's tablet lands on a second one.
    let (_bob, _) = join_token(&room, &hs(&claims("bob-id", "Bob", &room))).await;
    owner.expect("join").await;
    let (mut tablet, w) = join_token(&room, &hs(&alice)).await;
    assert_eq!(members(&w), vec!["Boss", "Alice", "Bob"]);
    let st = stats(server(), &room).await;
    assert_eq!(st["members"], 3, "{st}");
    assert_eq!(st["relays"].as_array().map(Vec::len), Some(2), "{st}");
    owner.expect_silence(Duration::from_millis(800)).await;
    laptop.expect("join").await; // Bob's
    phone.expect("join").await;
    laptop.expect_silence(Duration::from_millis(100)).await;
    // Every device gets every frame.
    owner.say("hello all").await;
    for device in [&mut laptop, &mut phone, &mut tablet] {
        assert_eq!(device.expect("message").await["text"], "hello all");
    }
    phone.say("from the phone").await;
    assert_eq!(laptop.expect("message").await["name"], "Alice");
    assert_eq!(tablet.expect("message").await["text"], "from the phone");
    // The owner kicks Alice: every device closes with 4003.
    owner
        .send_json(&json!({"type":"kick","name":"Alice"}))
        .await;
    for device in [&mut laptop, &mut phone, &mut tablet] {
        loop {
            match device.recv().await {
                Frame::Close(code, _) => {
                    assert_eq!(code, Some(4003));
                    break;
                }
                Frame::Text(_) => continue,
                other => panic!("expected 4003, got {}", other.describe()),
            }
        }
    }
    // A fresh token under another name does not get the sub back in.
    let fresh = hs(&with(alice.clone(), json!({"name": "Not Alice"})));
    let mut again = connect(server(), &room).await;
    again
        .send_json(&json!({"type":"join","token": fresh}))
        .await;
    again.expect_error("banned").await;
}

#[tokio::test]
async fn a_name_held_by_a_sub_cannot_be_taken() {
    let room = uniq("held");
    let (_alice, _) = join_token(&room, &hs(&claims("a", "Alice", &room))).await;
    let mut other = connect(server(), &room).await;
    other
        .send_json(&json!({"type":"join","token": hs(&claims("b", "ALICE", &room))}))
        .await;
    other.expect_error("name_taken").await;
}

fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_blocking(method, &server().url(path), headers)
}

#[tokio::test]
async fn cors_headers_preflight_and_refusals() {
    let room = uniq("cors");
    let path = format!("/api/rooms/{room}/stats");
    let pre = request(
        "OPTIONS",
        "/api/rooms",
        &[
            ("Origin", APP),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some(APP));
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Authorization"));
    assert!(pre
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert!(pre.header("access-control-max-age").is_some());
    // Every answer, errors included, carries the headers for an allowed origin.
    let ok = request("GET", &path, &[("Origin", APP)]);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("access-control-allow-origin"), Some(APP));
    assert_eq!(ok.header("vary"), Some("Origin"));
    let missing = request("GET", "/api/nope", &[("Origin", APP)]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("access-control-allow-origin"), Some(APP));
    // Another page's origin: no header on a read; a POST and an upgrade are refused.
    let other = "http://evil.example";
    let read = request("GET", &path, &[("Origin", other)]);
    assert_eq!(read.header("access-control-allow-origin"), None);
    let post = request("POST", "/api/rooms", &[("Origin", other)]);
    assert_http_error(post.status, &post.json(), 403, "origin_not_allowed");
    let pre = request("OPTIONS", "/api/rooms", &[("Origin", other)]);
    assert_eq!(pre.status, 403);
    let refused = try_connect_with(server().port, &room, &[("Origin", other)])
        .await
        .err()
        .expect("upgrade refused");
    assert_eq!(refused.status, 403);
    // The same upgrade by a plain HTTP client, which reads the whole body.
    let path = format!("/api/rooms/{room}/websocket");
    let upgrade = request(
        "GET",
        &path,
        &[
            ("Origin", other),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ],
    );
    assert_http_error(upgrade.status, &upgrade.json(), 403, "origin_not_allowed");
    // The allowed origin upgrades; no Origin (not a browser) is not refused either.
    let mut c = try_connect_with(server().port, &room, &[("Origin", APP)])
        .await
        .expect("allowed origin upgrades");
    c.join_with(json!({"type":"join","token": hs(&claims("c", "Cora", &room))}))
        .await;
    assert!(try_connect(server(), &room).await.is_ok());
}

#[tokio::test]
async fn making_a_room_needs_a_bearer_create_token_whose_sub_owns_it() {
    let post = |headers: &[(&str, &str)]| request("POST", "/api/rooms", headers);
    let r = post(&[]);
    assert_http_error(r.status, &r.json(), 401, "unauthorized");
    let plain = format!("Bearer {}", hs(&claims("maker", "Maker", "*")));
    let r = post(&[("Authorization", &plain)]);
    assert_http_error(r.status, &r.json(), 401, "unauthorized");
    assert!(r.body.contains("create claim"), "{}", r.body);
    let create = format!(
        "Bearer {}",
        hs(&with(
            claims("maker", "Maker", "*"),
            json!({"create": true})
        ))
    );
    let r = post(&[("Authorization", &create), ("Origin", APP)]);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    let id = r.json()["room"].as_str().unwrap().to_string();
    // The maker is the owner without the owner key; another sub is not.
    let (_maker, w) = join_token(&id, &hs(&claims("maker", "Maker", &id))).await;
    assert_eq!(w["owner"], true, "{w}");
    let (_guest, w) = join_token(&id, &hs(&claims("someone", "Someone", &id))).await;
    assert!(w.get("owner").is_none(), "{w}");
}

/// Malformed tokens, many and varied, on one socket: each is `unauthorized` (the room never
/// panics or drops the socket), then the socket still joins and renews.
#[tokio::test]
async fn token_fuzz_is_unauthorized_never_a_crash() {
    let room = uniq("fuzz");
    let header = mint::b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let signed = |payload: &str| {
        mint::hs256_raw(
            SECRET.as_bytes(),
            &format!("{header}.{}", mint::b64url(payload.as_bytes())),
        )
    };
    let nested = format!("{}1{}", "[".repeat(3000), "]".repeat(3000));
    let deep_claim = format!(
        r#"{{"sub":{}"x"{}}}"#,
        "{\"a\":".repeat(500),
        "}".repeat(500)
    );
    let mut tokens = vec![
        "".to_string(),
        "...".to_string(),
        "a.b".to_string(),
        "%%%.%%%.%%%".to_string(),
        format!("{header}.e30.{}", "!".repeat(40)),
        "x".repeat(4097),
        signed(&nested),
        signed(&deep_claim),
        signed("null"),
        signed(r#"{"sub":["u"],"name":"A","room":"*","exp":1e300}"#),
        signed(r#"{"sub":"u","name":{"n":1},"room":"*","exp":9}"#),
        signed(r#"{"sub":"u","name":"A","room":"*","exp":"soon"}"#),
        signed(r#"{"sub":"u","name":"A","room":"*","exp":-1}"#),
        signed(r#"{"sub":"u","name":"A","room":true,"exp":99999999999}"#),
        signed(r#"{"sub":"u","name":"A","room":"*","exp":99999999999,"owner":"yes"}"#),
    ];
    // And random printable strings with dots in them, from a seeded generator.
    let mut seed: u64 = 0x5eed;
    for _ in 0..40 {
        let len = (seed % 300) as usize;
        let s: String = (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let c = (seed >> 33) % 66;
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/"[c as usize]
                    as char
            })
            .collect();
        tokens.push(s);
    }
    let mut c = connect(server(), &room).await;
    for t in &tokens {
        c.send_json(&json!({"type":"join","token": t})).await;
        c.expect_error("unauthorized").await;
    }
    c.join_with(json!({"type":"join","token": hs(&claims("f", "Fuzz", &room))}))
        .await;
    for t in tokens.iter().take(12) {
        c.send_json(&json!({"type":"auth","token": t})).await;
        c.expect_error("unauthorized").await;
    }
    assert_eq!(c.say("still here").await["text"], "still here");
}

/// Forged, wrong-room, expired and unsigned tokens from many addresses at once: every attempt is
/// `unauthorized`, none of them joins or lingers, and a member's messages keep flowing meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_from_many_addresses_are_refused_and_leave_nothing() {
    let room = uniq("forged");
    let (mut alice, _) = join_token(&room, &hs(&claims("alice-id", "Alice", &room))).await;
    let mallory = claims("mallory", "Mallory", &room);
    let unsigned = format!(
        "{}.{}.",
        mint::b64url(br#"{"alg":"none","typ":"JWT"}"#),
        mint::b64url(mallory.to_string().as_bytes())
    );
    let forged = vec![
        mint::hs256(b"not-the-secret-0123456789abcdef!", &mallory),
        mint::eddsa([99; 32], Some("k1"), &mallory),
        hs(&claims("mallory", "Mallory", "another-room")),
        hs(&with(
            mallory.clone(),
            json!({"iat": now_s() - 1200, "exp": now_s() - 600}),
        )),
        unsigned,
    ];
    let mut attackers = tokio::task::JoinSet::new();
    for i in 0..60u32 {
        let (room, forged) = (room.clone(), forged.clone());
        attackers.spawn(async move {
            // Half IPv4, half IPv6 (each /64 its own address).
            let address = if i % 2 == 0 {
                format!("198.51.100.{}", i + 1)
            } else {
                format!("2001:db8:{i:x}::1")
            };
            let headers = [("CF-Connecting-IP", address.as_str())];
            let Ok(mut c) = try_connect_with(server().port, &room, &headers).await else {
                panic!("{address}: the upgrade was refused");
            };
            for token in &forged {
                c.send_json(&json!({"type":"join","token": token})).await;
                c.expect_error("unauthorized").await;
            }
        });
    }
    for k in 0..10 {
        alice.say(&format!("still here {k}")).await;
    }
    while let Some(done) = attackers.join_next().await {
        done.expect("an attacker's socket saw something other than unauthorized");
    }
    // Nobody joined: Alice heard no join, and the room holds her alone.
    alice.expect_silence(Duration::from_millis(800)).await;
    let st = stats(server(), &room).await;
    assert_eq!(st["members"], 1, "{st}");
    server().assert_no_panic();
}
