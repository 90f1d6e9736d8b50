//! The wire format's tests: every client frame parses or gets its one clear error, and server
//! frames have the documented shapes.
use super::*;
use serde_json::{json, Value};

fn code(frame: &str) -> ErrorCode {
    ClientFrame::parse(frame).unwrap_err().code
}

#[test]
fn parses_each_client_frame() {
    assert_eq!(
        ClientFrame::parse(r#"{"type":"join","name":"Alice","since":4,"session":"s"}"#),
        Ok(ClientFrame::Join {
            name: "Alice".into(),
            since: Some(4),
            session: Some("s".into()),
            owner_key: None,
            token: None,
        })
    );
    assert_eq!(
        ClientFrame::parse(r#"{"type":"message","text":"hi \"there\"","nonce":"c1"}"#),
        Ok(ClientFrame::Message {
            text: "hi \"there\"".into(),
            nonce: Some("c1".into()),
            reply_to: None,
            files: Vec::new(),
        })
    );
    // With files the text may be absent; without, it may not.
    assert_eq!(
        ClientFrame::parse(r#"{"type":"message","files":["ab"]}"#),
        Ok(ClientFrame::Message {
            text: "".into(),
            nonce: None,
            reply_to: None,
            files: vec!["ab".into()],
        })
    );
    assert!(ClientFrame::parse(r#"{"type":"message","files":[]}"#).is_err());
    assert_eq!(
        ClientFrame::parse(r#"{"type":"upload","name":"a.png","size":3}"#),
        Ok(ClientFrame::Upload {
            name: "a.png".into(),
            size: 3
        })
    );
    assert!(ClientFrame::parse(r#"{"type":"upload","name":"a.png"}"#).is_err());
    assert!(ClientFrame::parse(r#"{"type":"upload","name":"a.png","size":-1}"#).is_err());
    assert_eq!(
        ClientFrame::parse(r#"{"type":"typing","extra":[1,{"a":2}]}"#),
        Ok(ClientFrame::Typing)
    );
}

#[test]
fn malformed_frames_are_bad_requests() {
    for frame in [
        "",
        "ping!",
        "{",
        "[]",
        "42",
        "null",
        r#"{"name":"x"}"#,
        r#"{"type":"shout"}"#,
        r#"{"type":5}"#,
        r#"{"type":"join","name":5}"#,
        r#"{"type":"join","name":"a","since":-1}"#,
        r#"{"type":"join","name":"a","since":1.5}"#,
        r#"{"type":"message","text":["hi"]}"#,
        r#"{"type":"join","type":"join","name":"a"}"#,
        r#"{"__proto__":{"type":"join"},"type":"nope"}"#,
    ] {
        assert_eq!(code(frame), ErrorCode::BadRequest, "{frame:?}");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!(r#"{{"type":"typing","x":{}}}"#, "[".repeat(10_000));
    assert_eq!(code(&deep), ErrorCode::BadRequest);
}

#[test]
fn missing_content_has_its_own_code() {
    assert_eq!(code(r#"{"type":"join"}"#), ErrorCode::InvalidName);
    assert_eq!(code(r#"{"type":"message"}"#), ErrorCode::InvalidMessage);
}

#[test]
fn oversized_frames_are_not_parsed() {
    let big = format!(
        r#"{{"type":"message","text":"{}"}}"#,
        "a".repeat(MAX_FRAME_BYTES)
    );
    assert_eq!(code(&big), ErrorCode::TooLarge);
}

#[test]
fn error_messages_are_bounded() {
    let long = format!(r#"{{"type":"join","name":{}}}"#, "1".repeat(5000));
    let err = ClientFrame::parse(&long).unwrap_err();
    assert!(err.message.chars().count() <= 65, "{}", err.message);
}

#[test]
fn server_frames_match_the_documented_shapes() {
    let msg = ChatMessage::new(42, "Alice".into(), "hi".into(), 7, Some("c1".into()));
    let v: Value = serde_json::from_str(&to_json(&msg)).unwrap();
    assert_eq!(
        v,
        json!({"type":"message","id":42,"name":"Alice","text":"hi","at":7,"nonce":"c1"})
    );
    let plain = ChatMessage { nonce: None, ..msg };
    let v: Value = serde_json::from_str(&to_json(&plain)).unwrap();
    assert!(v.get("nonce").is_none());

    let welcome = ServerFrame::Welcome {
        room: "lobby",
        name: "Alice",
        members: vec!["Alice", "Bob"],
        count: None,
        away: vec![],
        history: vec![EntryRef::Message(&plain).out(None)],
        truncated: false,
        last_id: 42,
        topic: "",
        title: "",
        locked: false,
        owner: false,
        owners: vec![],
        verified: vec![],
        read_id: 40,
    };
    let v: Value = serde_json::from_str(&to_json(&welcome)).unwrap();
    assert!(
        v.get("verified").is_none(),
        "absent when nobody is verified"
    );
    assert_eq!(v["type"], "welcome");
    assert_eq!(v["members"], json!(["Alice", "Bob"]));
    assert_eq!(v["history"][0]["type"], "message");
    assert_eq!(v["last_id"], 42);
    assert_eq!(v["read_id"], 40);
    let v: Value = serde_json::from_str(&to_json(&ServerFrame::Read { id: 9 })).unwrap();
    assert_eq!(v, json!({"type":"read","id":9}));
    let mut mentioning = plain.clone();
    mentioning.mentions = vec!["Bob".into()];
    let v: Value = serde_json::from_str(&to_json(&mentioning)).unwrap();
    assert_eq!(v["mentions"], json!(["Bob"]));
    let back: ChatMessage = serde_json::from_value(v).unwrap();
    assert_eq!(back, mentioning);

    let v: Value =
        serde_json::from_str(&to_json(&ServerFrame::Leave { name: "Bob", at: 9 })).unwrap();
    assert_eq!(v, json!({"type":"leave","name":"Bob","at":9}));

    let mut err = ErrorFrame::new(ErrorCode::RateLimited, "slow down");
    err.retry_after_ms = Some(200);
    let v: Value = serde_json::from_str(&to_json(&err)).unwrap();
    assert_eq!(
        v,
        json!({"type":"error","code":"rate_limited","message":"slow down","retry_after_ms":200})
    );
}

#[test]
fn error_code_names_match_serde() {
    for code in [
        ErrorCode::InvalidName,
        ErrorCode::NameTaken,
        ErrorCode::RoomFull,
        ErrorCode::InvalidMessage,
        ErrorCode::NotJoined,
        ErrorCode::BadRequest,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::StorageFailed,
        ErrorCode::AddressLimit,
    ] {
        assert_eq!(to_json(&code), format!("\"{}\"", code.as_str()));
    }
}

#[test]
fn http_error_body_shape() {
    let v: Value = serde_json::from_str(&http_error_body("invalid_room", "no")).unwrap();
    assert_eq!(v, json!({"error":{"code":"invalid_room","message":"no"}}));
}
