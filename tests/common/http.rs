//! HTTP: a blocking, dependency-free client (async tests call it through `spawn_blocking`) and
//! the endpoints the tests read (stats, history).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::server::Server;
use super::util::clip;

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                clip(&self.body)
            )
        })
    }
}

pub fn http_blocking(method: &str, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let m = match method {
        "GET" => minreq::Method::Get,
        "POST" => minreq::Method::Post,
        "PUT" => minreq::Method::Put,
        "DELETE" => minreq::Method::Delete,
        "PATCH" => minreq::Method::Patch,
        other => minreq::Method::Custom(other.to_string()),
    };
    let mut req = minreq::Request::new(m, url)
        .with_timeout(30)
        .with_follow_redirects(false);
    for (k, v) in headers {
        req = req.with_header(*k, *v);
    }
    if method == "POST" || method == "PUT" || method == "PATCH" {
        req = req.with_body(Vec::new());
    }
    let r = req
        .clone()
        .send()
        .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
    // wrangler dev's proxy answers a POST whose pooled connection to the runtime went stale with
    // 503 "Your worker restarted mid-request" (it retries only GET and HEAD): the dev proxy's, not
    // the Worker's. Once more.
    let r = if r.status_code == 503
        && r.as_str()
            .is_ok_and(|b| b.contains("restarted mid-request"))
    {
        req.send()
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"))
    } else {
        r
    };
    HttpResponse {
        status: r.status_code,
        headers: r.headers.clone(),
        body: String::from_utf8_lossy(r.as_bytes()).into_owned(),
    }
}

pub async fn http(method: &str, url: String) -> HttpResponse {
    let method = method.to_string();
    tokio::task::spawn_blocking(move || http_blocking(&method, &url, &[]))
        .await
        .unwrap()
}

/// A WebSocket upgrade request sent with a plain HTTP client, for refusals: unlike the WebSocket
/// client, it reads the whole error body. (Never use it on a route that upgrades.)
pub async fn upgrade_request(server: &Server, room: &str) -> HttpResponse {
    let url = server.url(&format!("/api/rooms/{room}/websocket"));
    tokio::task::spawn_blocking(move || {
        http_blocking(
            "GET",
            &url,
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
            ],
        )
    })
    .await
    .unwrap()
}

/// GET a path, returning status and the JSON body.
pub async fn get_json(server: &Server, path: &str) -> (u16, Value) {
    let r = http("GET", server.url(path)).await;
    (r.status, r.json())
}

/// POST a path (empty body), returning status and the JSON body.
pub async fn post_json(server: &Server, path: &str) -> (u16, Value) {
    let r = http("POST", server.url(path)).await;
    (r.status, r.json())
}

pub async fn stats(server: &Server, room: &str) -> Value {
    let (st, v) = get_json(server, &format!("/api/rooms/{room}/stats")).await;
    assert_eq!(st, 200, "stats for {room}: {v}");
    v
}

/// Polls stats until `pred` holds (sockets close asynchronously); panics with the last stats.
pub async fn wait_stats(
    server: &Server,
    room: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s = stats(server, room).await;
        if pred(&s) {
            return s;
        }
        if Instant::now() > deadline {
            panic!("stats of {room} never reached {what}: {s}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GET /messages with a raw query string, returning the messages (asserting 200).
pub async fn history_page(server: &Server, room: &str, query: &str) -> Vec<Value> {
    let (st, v) = get_json(server, &format!("/api/rooms/{room}/messages{query}")).await;
    assert_eq!(st, 200, "messages{query}: {v}");
    v["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages must be an array: {v}"))
        .clone()
}
