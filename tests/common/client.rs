//! The WebSocket client. The server may send several frames as one batch: a text frame holding a
//! JSON array of ordinary frames. The client reads a batch as its frames, one by one and in order,
//! so tests never see the grouping (docs/protocol.md).

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use super::server::Server;
use super::util::clip;

/// How long a test waits for a frame it expects.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(10);

/// What arrived on a socket. WebSocket-level Ping/Pong control frames are transport noise that
/// tungstenite answers itself; everything else is reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
    /// A close frame: code (None when the frame had no status) and reason.
    Close(Option<u16>, String),
    /// The stream ended (after a close handshake, or the TCP connection closed).
    Ended,
    /// A transport error (e.g. connection reset without a close frame).
    Error(String),
}

impl Frame {
    pub fn describe(&self) -> String {
        match self {
            Frame::Text(t) => format!("text {}", clip(t)),
            other => format!("{other:?}"),
        }
    }
}

pub type Ws = WebSocketStream<TcpStream>;

pub struct Client {
    pub ws: Ws,
    pub room: String,
    pub name: Option<String>,
    pub port: u16,
    /// The rest of a batch already read, in order.
    pending: VecDeque<String>,
}

/// The frames in one WebSocket text frame: the elements of a JSON array (a batch), in order, or
/// the text itself (a lone frame, `pong`, or anything that is not a JSON array).
pub fn split_batch(text: String) -> Vec<String> {
    if !text.trim_start().starts_with('[') {
        return vec![text];
    }
    match serde_json::from_str::<Vec<Value>>(&text) {
        Ok(frames) => frames.iter().map(Value::to_string).collect(),
        Err(_) => vec![text],
    }
}

/// A refused upgrade: the HTTP status and body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: String,
}

pub async fn try_connect_port(port: u16, room: &str) -> Result<Client, Refused> {
    try_connect_with(port, room, &[]).await
}

/// Like [`try_connect_port`], with extra headers on the upgrade request (e.g. a client address in
/// `CF-Connecting-IP`).
pub async fn try_connect_with(
    port: u16,
    room: &str,
    headers: &[(&str, &str)],
) -> Result<Client, Refused> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
    let tcp = tokio::time::timeout(
        Duration::from_secs(10),
        TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    .expect("TCP connect timed out")
    .expect("TCP connect failed");
    tcp.set_nodelay(true).unwrap();
    let url = format!("ws://127.0.0.1:{port}/api/rooms/{room}/websocket");
    let mut req = url.as_str().into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let Ok(res) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::client_async(req, tcp),
    )
    .await
    else {
        panic!("WebSocket handshake to {url} timed out");
    };
    match res {
        Ok((ws, _resp)) => Ok(Client {
            ws,
            room: room.to_string(),
            name: None,
            port,
            pending: VecDeque::new(),
        }),
        Err(tungstenite::Error::Http(resp)) => Err(Refused {
            status: resp.status().as_u16(),
            body: resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
        }),
        Err(e) => panic!("WebSocket handshake to {url} failed: {e}"),
    }
}

pub async fn try_connect(server: &Server, room: &str) -> Result<Client, Refused> {
    try_connect_port(server.port, room).await
}

pub async fn connect(server: &Server, room: &str) -> Client {
    match try_connect(server, room).await {
        Ok(c) => c,
        Err(r) => panic!(
            "upgrade to room {room:?} refused: {} {}",
            r.status,
            clip(&r.body)
        ),
    }
}

/// Connects and joins as `name`; returns the client and its welcome frame.
pub async fn join(server: &Server, room: &str, name: &str) -> (Client, Value) {
    let mut c = connect(server, room).await;
    let w = c.join(name).await;
    (c, w)
}

impl Client {
    pub async fn send_text(&mut self, text: impl Into<String>) {
        let t: String = text.into();
        tokio::time::timeout(RECV_TIMEOUT, self.ws.send(Message::Text(t)))
            .await
            .expect("send timed out")
            .expect("send failed");
    }

    pub async fn send_json(&mut self, v: &Value) {
        self.send_text(v.to_string()).await;
    }

    pub async fn send_binary(&mut self, b: Vec<u8>) {
        tokio::time::timeout(RECV_TIMEOUT, self.ws.send(Message::Binary(b)))
            .await
            .expect("send timed out")
            .expect("send failed");
    }

    /// Sends without panicking (for hostile tests where the socket may already be gone).
    pub async fn try_send(&mut self, m: Message) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.ws.send(m)).await,
            Ok(Ok(()))
        )
    }

    /// The next frame within `d` (the next of a batch first), or None if nothing arrived.
    pub async fn recv_timeout(&mut self, d: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + d;
        loop {
            if let Some(t) = self.pending.pop_front() {
                return Some(Frame::Text(t));
            }
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            return match next {
                Err(_) => None,
                Ok(None) => Some(Frame::Ended),
                Ok(Some(Err(tungstenite::Error::ConnectionClosed)))
                | Ok(Some(Err(tungstenite::Error::AlreadyClosed))) => Some(Frame::Ended),
                Ok(Some(Err(e))) => Some(Frame::Error(e.to_string())),
                Ok(Some(Ok(m))) => match m {
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                    Message::Text(t) => {
                        self.pending.extend(split_batch(t));
                        continue;
                    }
                    Message::Binary(b) => Some(Frame::Binary(b)),
                    Message::Close(cf) => Some(match cf {
                        Some(cf) => Frame::Close(Some(u16::from(cf.code)), cf.reason.into_owned()),
                        None => Frame::Close(None, String::new()),
                    }),
                },
            };
        }
    }

    /// The next WebSocket message as sent, a batch NOT split into its frames (control frames are
    /// skipped), or None if nothing arrived within `d`. Panics if split frames are still pending.
    pub async fn recv_raw_timeout(&mut self, d: Duration) -> Option<Frame> {
        assert!(
            self.pending.is_empty(),
            "recv_raw_timeout after a batch was partly read"
        );
        let deadline = tokio::time::Instant::now() + d;
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next()).await;
            return match next {
                Err(_) => None,
                Ok(None) => Some(Frame::Ended),
                Ok(Some(Err(e))) => Some(Frame::Error(e.to_string())),
                Ok(Some(Ok(m))) => match m {
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                    Message::Text(t) => Some(Frame::Text(t)),
                    Message::Binary(b) => Some(Frame::Binary(b)),
                    Message::Close(cf) => Some(Frame::Close(
                        cf.as_ref().map(|c| u16::from(c.code)),
                        cf.map(|c| c.reason.into_owned()).unwrap_or_default(),
                    )),
                },
            };
        }
    }

    /// The next frame; panics if none arrives within RECV_TIMEOUT.
    pub async fn recv(&mut self) -> Frame {
        match self.recv_timeout(RECV_TIMEOUT).await {
            Some(f) => f,
            None => panic!(
                "{}: no frame within {RECV_TIMEOUT:?} (room {})",
                self.who(),
                self.room
            ),
        }
    }

    fn who(&self) -> String {
        self.name.clone().unwrap_or_else(|| "<unjoined>".into())
    }

    /// The next frame, which must be a JSON text frame.
    pub async fn recv_json(&mut self) -> Value {
        let f = self.recv().await;
        match &f {
            Frame::Text(t) => serde_json::from_str(t)
                .unwrap_or_else(|e| panic!("{}: frame is not JSON ({e}): {}", self.who(), clip(t))),
            other => panic!(
                "{}: expected a JSON text frame, got {}",
                self.who(),
                other.describe()
            ),
        }
    }

    /// The next frame must be a JSON frame of this `type`.
    pub async fn expect(&mut self, ty: &str) -> Value {
        let v = self.recv_json().await;
        assert_eq!(
            v["type"],
            ty,
            "{}: expected a {ty:?} frame, got {v}",
            self.who()
        );
        v
    }

    /// The next frame must be `{"type":"error","code":code,"message":"…"}`.
    pub async fn expect_error(&mut self, code: &str) -> Value {
        let v = self.recv_json().await;
        assert!(
            v["type"] == "error" && v["code"] == code,
            "{}: expected error {code:?}, got {v}",
            self.who()
        );
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error frames carry a non-empty message: {v}"
        );
        v
    }

    /// Nothing may arrive within `d`.
    pub async fn expect_silence(&mut self, d: Duration) {
        if let Some(f) = self.recv_timeout(d).await {
            panic!(
                "{}: expected no frame within {d:?}, got {}",
                self.who(),
                f.describe()
            );
        }
    }

    /// The next frame must be a close frame; returns its code.
    pub async fn expect_close(&mut self) -> Option<u16> {
        match self.recv().await {
            Frame::Close(code, _) => code,
            other => panic!(
                "{}: expected a close frame, got {}",
                self.who(),
                other.describe()
            ),
        }
    }

    pub async fn join_with(&mut self, frame: Value) -> Value {
        self.send_json(&frame).await;
        let w = self.expect("welcome").await;
        self.name = w["name"].as_str().map(String::from);
        w
    }

    /// Sends a join and expects the welcome.
    pub async fn join(&mut self, name: &str) -> Value {
        self.join_with(json!({"type":"join","name":name})).await
    }

    /// Sends a message and returns the echo (which must carry our name and the trimmed text).
    pub async fn say(&mut self, text: &str) -> Value {
        self.send_json(&json!({"type":"message","text":text})).await;
        let m = self.expect("message").await;
        assert_eq!(m["text"], text.trim(), "echo text: {m}");
        if let Some(n) = &self.name {
            assert_eq!(m["name"], n.as_str(), "echo name: {m}");
        }
        m
    }

    /// Sends a message with a nonce and returns the echo.
    pub async fn say_nonce(&mut self, text: &str, nonce: &str) -> Value {
        self.send_json(&json!({"type":"message","text":text,"nonce":nonce}))
            .await;
        let m = self.expect("message").await;
        assert_eq!(m["nonce"], nonce, "echo nonce: {m}");
        m
    }

    /// Starts the close handshake (`None`: a close frame with no status code) and returns the
    /// code of the server's answering close frame.
    pub async fn close(mut self, code: Option<u16>) -> Option<u16> {
        let frame = code.map(|c| CloseFrame {
            code: CloseCode::from(c),
            reason: "".into(),
        });
        tokio::time::timeout(RECV_TIMEOUT, self.ws.close(frame))
            .await
            .expect("close timed out")
            .expect("close failed");
        loop {
            match self.recv().await {
                Frame::Close(c, _) => return c,
                Frame::Text(t) => {
                    // Frames already in flight before our close may still arrive.
                    let _ = t;
                }
                other => panic!(
                    "{}: expected the server's close frame, got {}",
                    self.who(),
                    other.describe()
                ),
            }
        }
    }

    /// Drops the TCP connection without a close frame, with a RST (SO_LINGER 0).
    pub fn drop_abruptly(self) {
        let _ = self.ws.get_ref().set_zero_linger();
        drop(self);
    }

    /// Drops the TCP connection without a close frame (FIN).
    pub fn drop_silently(self) {
        drop(self);
    }

    /// Writes `texts` as masked WebSocket text frames in ONE write to the TCP stream, bypassing
    /// the WebSocket state machine: the frames arrive together (a burst), and still go out on a
    /// socket whose close frame the client has not read (a raw client that ignores closes).
    pub async fn write_texts(&mut self, texts: &[String]) {
        let bytes: Vec<u8> = texts.iter().flat_map(|t| masked_text_frame(t)).collect();
        self.write_raw(&bytes).await;
    }

    /// Writes raw bytes to the TCP stream under the WebSocket (e.g. half a frame).
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        let _ = self.ws.get_mut().write_all(bytes).await;
        let _ = self.ws.get_mut().flush().await;
    }
}

/// One client-to-server WebSocket text frame (FIN, masked, as RFC 6455 requires of clients).
pub fn masked_text_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut out = vec![0x81u8];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

#[cfg(test)]
mod tests {
    use super::split_batch;

    #[test]
    fn a_batch_reads_as_its_frames_in_order() {
        let batch = r#"[{"type":"message","id":1},{"type":"join","name":"Bo"}]"#;
        let frames: Vec<serde_json::Value> = split_batch(batch.into())
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect();
        assert_eq!(
            frames,
            [
                serde_json::json!({"type":"message","id":1}),
                serde_json::json!({"type":"join","name":"Bo"}),
            ]
        );
        assert_eq!(
            split_batch(r#"{"type":"leave"}"#.into()),
            [r#"{"type":"leave"}"#]
        );
        assert_eq!(split_batch("pong".into()), ["pong"]);
        assert_eq!(split_batch("[not json".into()), ["[not json"]);
        assert!(split_batch("[]".into()).is_empty());
    }
}
