//! Connect and join: `{"type":"join"}`, then wait for `welcome`.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::check::View;
use crate::frame;
use crate::shared::Ws;

/// Why a member did not get in (counted by the join storm, fatal otherwise).
pub enum JoinFailure {
    /// The server closed the socket before `welcome` (the join timeout closes with 1008).
    Closed(Option<u16>),
    /// An error frame answered the join (e.g. `rate_limited`, `room_full`).
    Refused(String),
    /// No welcome within the load generator's --join-timeout.
    TimedOut,
    Other(String),
}

impl JoinFailure {
    /// A short key for counting failures by kind.
    pub fn key(&self) -> String {
        match self {
            JoinFailure::Closed(Some(code)) => format!("closed {code}"),
            JoinFailure::Closed(None) => "closed".into(),
            JoinFailure::Refused(code) => format!("error {code}"),
            JoinFailure::TimedOut => "timeout".into(),
            JoinFailure::Other(_) => "other".into(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            JoinFailure::Other(e) => e.clone(),
            other => other.key(),
        }
    }
}

/// Connects and joins; returns the socket once `welcome` arrived, with the room as `welcome`
/// and any presence frames batched after it describe it.
pub async fn connect_and_join(
    url: &str,
    name: &str,
    token: Option<String>,
) -> Result<(Ws, View), JoinFailure> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .map_err(|e| JoinFailure::Other(format!("connect {url}: {e}")))?;
    // Written by hand, "type" first (the ceiling object only looks at the prefix). Names are
    // `m<digits>`: nothing to escape.
    let join = match token {
        Some(token) => format!(r#"{{"type":"join","token":"{token}"}}"#),
        None => format!(r#"{{"type":"join","name":"{name}"}}"#),
    };
    ws.send(Message::Text(join))
        .await
        .map_err(|e| JoinFailure::Other(format!("send join: {e}")))?;
    let mut view = View::default();
    let mut welcomed = false;
    while let Some(m) = ws.next().await {
        match m.map_err(|e| JoinFailure::Other(format!("read welcome: {e}")))? {
            Message::Text(t) => {
                let Ok(frames) = frame::parse(&t) else {
                    continue;
                };
                for f in &frames {
                    match f.ty.as_ref() {
                        "welcome" => {
                            view.welcome(f);
                            welcomed = true;
                        }
                        "error" if !welcomed => {
                            return Err(JoinFailure::Refused(
                                f.code.as_deref().unwrap_or("?").into(),
                            ))
                        }
                        // Presence batched after the welcome. No message can come before the
                        // senders start, which is after every member joined.
                        _ if welcomed => view.apply(f),
                        _ => {}
                    }
                }
                if welcomed {
                    return Ok((ws, view));
                }
            }
            Message::Close(c) => return Err(JoinFailure::Closed(c.map(|c| c.code.into()))),
            _ => {}
        }
    }
    Err(JoinFailure::Closed(None))
}

/// An HS256 join token for member `name` of `room`, valid for an hour: the member's `sub` is
/// its name.
pub fn token(secret: &str, name: &str, room: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = serde_json::json!({"sub": name, "name": name, "room": room, "iat": now,
        "exp": now + 3600});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return input;
    };
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}
