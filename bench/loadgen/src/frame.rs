//! Server frames as the load generator reads them.

use std::borrow::Cow;

use serde::Deserialize;

/// The fields of a server frame the load generator looks at; everything else is skipped.
#[derive(Deserialize)]
pub struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    pub ty: Cow<'a, str>,
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default, borrow)]
    pub text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub members: Option<Vec<Cow<'a, str>>>,
}

/// One WebSocket text frame: a lone frame, or a batch (a JSON array of frames, in order).
pub fn parse(text: &str) -> serde_json::Result<Vec<Frame<'_>>> {
    if text.trim_start().starts_with('[') {
        serde_json::from_str(text)
    } else {
        serde_json::from_str(text).map(|f| vec![f])
    }
}

/// A message text as the senders write it: `s<global sender>:<seq>:<send µs>:xxx…`.
pub struct Stamp {
    pub sender: usize,
    pub seq: u64,
    pub sent_us: u64,
}

pub fn parse_text(t: &str) -> Option<Stamp> {
    let mut it = t.strip_prefix('s')?.splitn(4, ':');
    Some(Stamp {
        sender: it.next()?.parse().ok()?,
        seq: it.next()?.parse().ok()?,
        sent_us: it.next()?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_its_frames_in_order() {
        let t = r#"[{"type":"message","id":1,"text":"s0:0:5:x"},{"type":"join","name":"m3"}]"#;
        let f = parse(t).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].ty.as_ref(), f[0].id), ("message", Some(1)));
        assert_eq!(f[1].name.as_deref(), Some("m3"));
    }

    #[test]
    fn a_lone_frame_is_one_frame() {
        let f = parse(r#"{"type":"welcome","members":["m0","m1"],"history":[]}"#).unwrap();
        assert_eq!(f[0].members.as_ref().map(Vec::len), Some(2));
    }

    #[test]
    fn stamps_round_trip() {
        let s = parse_text("s12:7:123456:xxxx").unwrap();
        assert_eq!((s.sender, s.seq, s.sent_us), (12, 7, 123456));
        assert!(parse_text("hello").is_none());
    }
}
