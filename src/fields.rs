//! Reading a stored JSON object's fields by hand, with the rules serde's derive applies to them
//! (a missing or mistyped required field, or a mistyped optional one, fails the whole read; an
//! optional field may be missing or `null`; other fields are ignored). Structs the room only
//! reads back from its own storage use this instead of a derived `Deserialize`, whose generated
//! visitor costs Wasm per struct (the upload budget, issue 18); `serde_json::Value` is parsed
//! everywhere already.

use serde_json::{Map, Value};

/// The fields of `value`, if it is an object.
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl<'a> Fields<'a> {
    pub fn of(value: &'a Value) -> Option<Self> {
        value.as_object().map(Fields)
    }

    /// A required string.
    pub fn string(&self, name: &str) -> Option<String> {
        self.0.get(name)?.as_str().map(str::to_string)
    }

    /// A required unsigned integer.
    pub fn u64(&self, name: &str) -> Option<u64> {
        self.0.get(name)?.as_u64()
    }

    /// A required number (an integer reads as one too).
    pub fn f64(&self, name: &str) -> Option<f64> {
        self.0.get(name)?.as_f64()
    }

    /// An optional string: `Some(None)` when missing or `null`, `None` when mistyped.
    pub fn opt_string(&self, name: &str) -> Option<Option<String>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(v) => v.as_str().map(|s| Some(s.to_string())),
        }
    }

    /// An optional unsigned integer: `Some(None)` when missing or `null`, `None` when mistyped.
    pub fn opt_u64(&self, name: &str) -> Option<Option<u64>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(v) => v.as_u64().map(Some),
        }
    }

    /// A flag that defaults to `false` when missing (`null` is mistyped, as serde has it).
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.0.get(name) {
            None => Some(false),
            Some(v) => v.as_bool(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::room::{Attachment, Ban, MemberRecord, MemberRow};
    use serde::de::DeserializeOwned;
    use serde_json::Value;
    use std::fmt::Debug;

    /// The hand reader and serde's derive agree on every input: same value or both refuse.
    fn agree<T: DeserializeOwned + PartialEq + Debug>(
        read: fn(&Value) -> Option<T>,
        inputs: &[&str],
    ) {
        for input in inputs {
            let value: Value = serde_json::from_str(input).unwrap();
            let derived = serde_json::from_str::<T>(input).ok();
            assert_eq!(read(&value), derived, "{input}");
        }
    }

    #[test]
    fn readers_read_as_serde_derive_does() {
        agree(
            Ban::read,
            &[
                r#"{"key":"k","until":5}"#,
                r#"{"key":"k","address":"a","identity":"i","until":5,"x":[1]}"#,
                r#"{"key":"k","address":null,"identity":null,"until":5}"#,
                r#"{"key":"k","until":-5}"#,
                r#"{"key":"k","until":5.5}"#,
                r#"{"key":1,"until":5}"#,
                r#"{"until":5}"#,
                r#"{"key":"k","address":3,"until":5}"#,
                r#"[1]"#,
                r#"null"#,
            ],
        );
        agree(
            MemberRow::read,
            &[
                r#"{"key":"k","name":"n","order":2}"#,
                r#"{"key":"k","name":"n","order":2,"session":"s","owner":true,"address":"a","verified":true,"away_until":9}"#,
                r#"{"key":"k","name":"n","order":2,"owner":null}"#,
                r#"{"key":"k","name":"n","order":2,"owner":1}"#,
                r#"{"key":"k","name":"n","order":2,"away_until":null}"#,
                r#"{"key":"k","name":"n","order":2,"away_until":"9"}"#,
                r#"{"key":"k","name":"n"}"#,
            ],
        );
        agree(
            crate::protocol::ChatMessage::read,
            &[
                r#"{"type":"message","id":1,"name":"n","text":"t","at":2}"#,
                r#"{"id":1,"name":"n","text":"t","at":2}"#,
                r#"{"type":"edit","id":1,"name":"n","text":"t","at":2}"#,
                r#"{"type":5,"id":1,"name":"n","text":"t","at":2}"#,
                r#"{"type":null,"id":1,"name":"n","text":"t","at":2}"#,
                r#"{"id":1,"name":"n","text":"t","at":2,"nonce":"x","reply_to":3,"reply":{"name":"a","text":"b","deleted":true},"edited_at":4,"deleted":true,"reactions":[{"emoji":"e","names":["a","b"]}],"mentions":["a"],"files":[{"id":"f"}]}"#,
                r#"{"id":1,"name":"n","text":"t","at":2,"reply":null,"nonce":null,"files":null}"#,
                r#"{"id":1,"name":"n","text":"t","at":2,"files":5}"#,
                r#"{"id":1,"name":"n","text":"t","at":2,"reactions":null}"#,
                r#"{"id":1,"name":"n","text":"t","at":2,"mentions":[1]}"#,
                r#"{"id":1,"name":"n","text":"t","at":2,"reactions":[{"emoji":"e"}]}"#,
                r#"{"id":1,"name":"n","text":"t","at":2,"reply":{"name":"a"}}"#,
                r#"{"id":1,"name":"n","at":2}"#,
            ],
        );
        agree(
            crate::rate::TokenBucket::read,
            &[
                r#"{"tokens":1.5,"last_ms":2}"#,
                r#"{"tokens":3,"last_ms":2}"#,
                r#"{"tokens":-3,"last_ms":2}"#,
                r#"{"tokens":"3","last_ms":2}"#,
                r#"{"tokens":3}"#,
                r#"{"tokens":3,"last_ms":2.5}"#,
            ],
        );
        agree(
            MemberRecord::read,
            &[
                r#"{"name":"n","order":2}"#,
                r#"{"name":"n","order":2,"session":"s","owner":true,"verified":false}"#,
                r#"{"name":"n","order":2,"session":false}"#,
                r#"{"name":"n","order":2,"key":"k"}"#,
                r#"{"name":"n","order":2,"key":null}"#,
                r#"{"name":"n","order":2,"key":3}"#,
            ],
        );
        agree(
            Attachment::read,
            &[
                r#"{"conn":1,"accepted_at":2}"#,
                r#"{"conn":1,"accepted_at":2,"address":"a","closed":true,"member":{"name":"n","order":2},"expires_at":7}"#,
                r#"{"conn":1,"accepted_at":2,"member":null}"#,
                r#"{"conn":1,"accepted_at":2,"member":{"name":"n"}}"#,
                r#"{"conn":4294967296,"accepted_at":2}"#,
                r#"{"conn":4294967295,"accepted_at":2}"#,
                r#"{"conn":1}"#,
            ],
        );
    }
}
