//! Pictures and files (docs/protocol.md, Files) against `wrangler dev` and its local R2: tickets
//! on the socket, uploads and downloads byte for byte, every refusal, ranges, and the lifecycle
//! (delete, trim, abandoned uploads, a restart) proved by listing the bucket through the
//! `TEST_HOOKS` endpoint.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

static SERVER: OnceLock<Server> = OnceLock::new();

const TTL_MS: u64 = 1500;

fn server() -> &'static Server {
    shared(
        &SERVER,
        &[
            ("TEST_HOOKS", "1"),
            ("HISTORY_CAP", "5"),
            ("FILE_BYTES_PER_HOUR", "20000000"),
            ("FILE_TICKET_TTL_MS", "1500"),
        ],
    )
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("{}: {}", self.status, String::from_utf8_lossy(&self.body)))
    }
}

async fn request(
    method: &str,
    url: String,
    headers: Vec<(&str, String)>,
    body: Option<Vec<u8>>,
) -> Reply {
    let method = method.to_string();
    let headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    tokio::task::spawn_blocking(move || {
        let m = match method.as_str() {
            "GET" => minreq::Method::Get,
            "PUT" => minreq::Method::Put,
            "HEAD" => minreq::Method::Head,
            other => minreq::Method::Custom(other.to_string()),
        };
        let mut req = minreq::Request::new(m, url).with_timeout(60);
        for (k, v) in headers {
            req = req.with_header(k, v);
        }
        if let Some(body) = body {
            req = req.with_body(body);
        }
        let r = req.send().expect("request");
        Reply {
            status: r.status_code,
            headers: r.headers.clone().into_iter().collect(),
            body: r.as_bytes().to_vec(),
        }
    })
    .await
    .unwrap()
}

/// Asks for a ticket on the socket: the `upload_ticket` frame (or the error frame).
async fn ticket(c: &mut Client, name: &str, size: usize) -> Value {
    c.send_json(&json!({"type":"upload","name":name,"size":size}))
        .await;
    c.recv_json().await
}

async fn put(s: &Server, url: &str, bytes: Vec<u8>) -> Reply {
    request("PUT", s.url(url), vec![], Some(bytes)).await
}

/// Uploads `bytes` as `name`: the `PUT`'s answer and the file's id.
async fn upload(s: &Server, c: &mut Client, name: &str, bytes: Vec<u8>) -> (Reply, String) {
    let t = ticket(c, name, bytes.len()).await;
    assert_eq!(t["type"], "upload_ticket", "{t}");
    let url = t["url"].as_str().unwrap().to_string();
    (
        put(s, &url, bytes).await,
        t["id"].as_str().unwrap().to_string(),
    )
}

async fn download(s: &Server, room: &str, id: &str, headers: Vec<(&str, String)>) -> Reply {
    request(
        "GET",
        s.url(&format!("/api/rooms/{room}/files/{id}")),
        headers,
        None,
    )
    .await
}

async fn listed(s: &Server, room: &str) -> Vec<String> {
    let r = request(
        "GET",
        s.url(&format!("/api/rooms/{room}/files")),
        vec![],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    serde_json::from_value(r.json()["files"].clone()).unwrap()
}

/// Waits until the bucket holds exactly `want` for the room (deletes are carried out after the
/// frame that caused them).
async fn wait_listed(s: &Server, room: &str, want: &[String], what: &str) {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let mut got = listed(s, room).await;
        got.sort();
        let mut want = want.to_vec();
        want.sort();
        if got == want {
            return;
        }
        assert!(
            Instant::now() < until,
            "{what}: bucket of {room}: {got:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn png(w: u32, h: u32, extra: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend(w.to_be_bytes());
    b.extend(h.to_be_bytes());
    b.extend([8, 6, 0, 0, 0]);
    b.extend((0..extra).map(|i| (i * 7 % 251) as u8));
    b
}

fn pdf(size: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    let mut x: u32 = 12345;
    while b.len() < size {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        b.push((x >> 16) as u8);
    }
    b
}

#[tokio::test]
async fn a_picture_goes_up_and_comes_down_byte_for_byte_and_in_a_message() {
    let s = server();
    let room = uniq("files-png");
    let (mut a, _) = join(s, &room, "alice").await;
    let (mut b, _) = join(s, &room, "bob").await;
    a.expect("join").await;
    let bytes = png(320, 240, 5000);
    let (r, id) = upload(s, &mut a, "shot.png", bytes.clone()).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let up = r.json();
    assert_eq!(
        (
            up["type"].as_str(),
            up["width"].as_u64(),
            up["height"].as_u64()
        ),
        (Some("image/png"), Some(320), Some(240))
    );
    // The message carries the file; text is optional with one.
    a.send_json(&json!({"type":"message","files":[id]})).await;
    let m = a.expect("message").await;
    assert_eq!(m["text"], "");
    assert_eq!(
        m["files"],
        json!([{"id":id,"name":"shot.png","type":"image/png","size":bytes.len(),"width":320,"height":240}])
    );
    let seen = b.expect("message").await;
    assert_eq!(seen["files"], m["files"]);
    // In the history too.
    let page = history_page(s, &room, "").await;
    assert_eq!(page.last().unwrap()["files"], m["files"]);
    let d = download(s, &room, &id, vec![]).await;
    assert_eq!(d.status, 200);
    assert_eq!(d.body, bytes);
    assert_eq!(d.header("content-type"), Some("image/png"));
    assert_eq!(d.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        d.header("content-security-policy"),
        Some("sandbox; default-src 'none'")
    );
    assert!(d
        .header("content-disposition")
        .unwrap()
        .starts_with("inline"));
    assert!(d
        .header("cache-control")
        .unwrap()
        .starts_with("private, max-age="));
    let etag = d.header("etag").unwrap().to_string();
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let again = download(s, &room, &id, vec![("If-None-Match", etag)]).await;
    assert_eq!(again.status, 304);
    // Attached once only.
    a.send_json(&json!({"type":"message","files":[id]})).await;
    a.expect_error("invalid_message").await;
}

#[tokio::test]
async fn a_nine_mib_pdf_byte_for_byte_as_an_attachment_with_ranges() {
    let s = server();
    let room = uniq("files-pdf");
    let (mut a, _) = join(s, &room, "alice").await;
    let bytes = pdf(9 * 1024 * 1024);
    let (r, id) = upload(s, &mut a, "plan.pdf", bytes.clone()).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let d = download(s, &room, &id, vec![]).await;
    assert_eq!(d.status, 200);
    assert!(d.body == bytes, "the download differs from the upload");
    assert_eq!(d.header("content-type"), Some("application/pdf"));
    assert_eq!(
        d.header("content-disposition"),
        Some("attachment; filename=\"plan.pdf\"")
    );
    let part = download(s, &room, &id, vec![("Range", "bytes=100-199".into())]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &bytes[100..200]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{}", bytes.len()).as_str())
    );
    let tail = download(s, &room, &id, vec![("Range", "bytes=-10".into())]).await;
    assert_eq!(
        (tail.status, tail.body.as_slice()),
        (206, &bytes[bytes.len() - 10..])
    );
    let past = download(
        s,
        &room,
        &id,
        vec![("Range", format!("bytes={}-", bytes.len()))],
    )
    .await;
    assert_eq!(past.status, 416);
    assert_eq!(
        past.header("content-range"),
        Some(format!("bytes */{}", bytes.len()).as_str())
    );
    let head = request(
        "HEAD",
        s.url(&format!("/api/rooms/{room}/files/{id}")),
        vec![],
        None,
    )
    .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    // Another room's URL does not reach it.
    let other = download(s, &uniq("files-other"), &id, vec![]).await;
    assert_eq!(other.status, 404);
}

#[tokio::test]
async fn every_refusal() {
    let s = server();
    let room = uniq("files-refuse");
    let (mut a, _) = join(s, &room, "alice").await;
    let (mut b, _) = join(s, &room, "bob").await;
    a.expect("join").await;
    // Over MAX_FILE_BYTES: no ticket.
    let t = ticket(&mut a, "big.pdf", 10 * 1024 * 1024 + 1).await;
    assert_eq!(
        (t["type"].as_str(), t["code"].as_str()),
        (Some("error"), Some("file_too_large")),
        "{t}"
    );
    // Not joined: no ticket.
    let mut stranger = connect(s, &room).await;
    stranger
        .send_json(&json!({"type":"upload","name":"a.png","size":3}))
        .await;
    stranger.expect_error("not_joined").await;
    // A body of another length than the ticket's: refused, and the ticket not used up.
    let t = ticket(&mut a, "a.png", 100).await;
    let url = t["url"].as_str().unwrap().to_string();
    let wrong = put(s, &url, png(1, 1, 10)).await;
    assert_eq!(
        (wrong.status, wrong.json()["error"]["code"].as_str()),
        (400, Some("wrong_size"))
    );
    // The right one, once; replayed, refused.
    assert_eq!(put(s, &url, png(1, 1, 71)).await.status, 201);
    let replay = put(s, &url, png(1, 1, 71)).await;
    assert_eq!(
        (replay.status, replay.json()["error"]["code"].as_str()),
        (403, Some("bad_ticket"))
    );
    // A forged ticket; another file's ticket.
    let t2 = ticket(&mut a, "b.png", 40).await;
    let forged = t2["url"]
        .as_str()
        .unwrap()
        .replace("ticket=", "ticket=0")
        .chars()
        .take(t2["url"].as_str().unwrap().len())
        .collect::<String>();
    assert_eq!(put(s, &forged, png(1, 1, 7)).await.status, 403);
    // HTML renamed .png, and SVG: refused by their bytes.
    let html = b"<html><script>window.__xss=1</script></html>".to_vec();
    let (r, _) = upload(s, &mut a, "cat.png", html).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (415, Some("file_type"))
    );
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let (r, _) = upload(s, &mut a, "logo.svg", svg).await;
    assert_eq!(r.status, 415);
    let (r, _) = upload(s, &mut a, "x.bin", vec![0, 1, 2, 3, 0xFF]).await;
    assert_eq!(r.status, 415);
    // Someone else's file cannot be attached; one not uploaded neither.
    let (r, mine) = upload(s, &mut a, "notes.txt", b"hello\n".to_vec()).await;
    assert_eq!(r.status, 201);
    b.send_json(&json!({"type":"message","text":"mine now","files":[mine]}))
        .await;
    b.expect_error("not_found").await;
    let pending = ticket(&mut a, "later.txt", 5).await;
    a.send_json(&json!({"type":"message","files":[pending["id"]]}))
        .await;
    a.expect_error("invalid_message").await;
    // FILE_BYTES_PER_HOUR (20 MB here): alice has ~0 used, two 10 MiB tickets pass the limit.
    let t = ticket(&mut b, "a.pdf", 10 * 1024 * 1024).await;
    assert_eq!(t["type"], "upload_ticket");
    let over = ticket(&mut b, "b.pdf", 10 * 1024 * 1024).await;
    assert_eq!(over["code"], "file_quota", "{over}");
    // No Content-Length, or a body shorter than it: a_body_without_its_length_or_shorter_than_it….
    s.assert_no_panic();
}

#[tokio::test]
async fn delete_trim_and_abandoned_uploads_leave_no_object() {
    let s = server();
    let room = uniq("files-life");
    let mut a = connect(s, &room).await;
    a.join_with(json!({"type":"join","name":"alice","session":"alice-session-0123456789"}))
        .await;
    // A message delete takes its file.
    let (_, id) = upload(s, &mut a, "a.txt", b"delete me".to_vec()).await;
    a.send_json(&json!({"type":"message","text":"x","files":[id]}))
        .await;
    let m = a.expect("message").await;
    wait_listed(s, &room, std::slice::from_ref(&id), "step 1").await;
    a.send_json(&json!({"type":"delete","id":m["id"]})).await;
    a.expect("delete").await;
    wait_listed(s, &room, &[], "step 2").await;
    assert_eq!(download(s, &room, &id, vec![]).await.status, 404);
    // HISTORY_CAP (5 here) trims the message, and its file with it.
    let (_, id) = upload(s, &mut a, "b.txt", b"trim me".to_vec()).await;
    a.send_json(&json!({"type":"message","text":"old","files":[id]}))
        .await;
    a.expect("message").await;
    wait_listed(s, &room, std::slice::from_ref(&id), "step 3").await;
    for i in 0..5 {
        a.say(&format!("newer {i}")).await;
    }
    wait_listed(s, &room, &[], "step 4").await;
    // An upload never attached is deleted by the alarm after twice the ticket's life.
    let (r, id) = upload(s, &mut a, "c.txt", b"forgotten".to_vec()).await;
    assert_eq!(r.status, 201);
    wait_listed(s, &room, std::slice::from_ref(&id), "step 5").await;
    tokio::time::sleep(Duration::from_millis(2 * TTL_MS)).await;
    wait_listed(s, &room, &[], "step 6").await;
    // And is no longer attachable.
    a.send_json(&json!({"type":"message","files":[id]})).await;
    a.expect_error("invalid_message").await;
}

#[tokio::test]
async fn a_restart_keeps_files_and_the_messages_that_carry_them() {
    let srv = Server::start(&[("TEST_HOOKS", "1")]);
    let room = uniq("files-restart");
    let (mut a, _) = join(&srv, &room, "alice").await;
    let bytes = png(2, 2, 300);
    let (r, id) = upload(&srv, &mut a, "keep.png", bytes.clone()).await;
    assert_eq!(r.status, 201);
    a.send_json(&json!({"type":"message","text":"kept","files":[id]}))
        .await;
    a.expect("message").await;
    drop(a);
    let srv = restart_blocking(srv).await;
    let d = download(&srv, &room, &id, vec![]).await;
    assert_eq!((d.status, d.body == bytes), (200, true));
    let page = history_page(&srv, &room, "").await;
    assert_eq!(page.last().unwrap()["files"][0]["id"], id.as_str());
    assert_eq!(listed(&srv, &room).await, vec![id]);
}

/// A `PUT` written by hand on a raw socket, for what an HTTP library will not send: a chunked body
/// with no `Content-Length`, or a body that stops short of it. `Some(status)` of the answer, or
/// `None` when the connection closed without one.
async fn raw_put(s: &Server, url: &str, headers: &str, body: &[u8]) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", s.port))
        .await
        .unwrap();
    let head = format!(
        "PUT {url} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{headers}\r\n",
        s.port
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    // Half-close: the server sees the end of the body it was promised more of.
    tcp.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer and no close within 30 s");
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}

#[tokio::test]
async fn a_body_without_its_length_or_shorter_than_it_stores_nothing() {
    let s = server();
    let room = uniq("files-short");
    let mut a = connect(s, &room).await;
    a.join_with(json!({"type":"join","name":"alice","session":"alice-session-0123456789"}))
        .await;
    let bytes = png(4, 4, 2000);

    // No Content-Length (a chunked body): 411, before the ticket is looked at, so it still works.
    let t = ticket(&mut a, "whole.png", bytes.len()).await;
    let url = t["url"].as_str().unwrap();
    let mut chunked = format!("{:x}\r\n", bytes.len()).into_bytes();
    chunked.extend(&bytes);
    chunked.extend(b"\r\n0\r\n\r\n");
    let status = raw_put(s, url, "Transfer-Encoding: chunked\r\n", &chunked).await;
    assert_eq!(status, Some(411));
    let r = put(s, url, bytes.clone()).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let whole = t["id"].as_str().unwrap().to_string();

    // A body that stops halfway: never a success, nothing in R2, nothing to attach. (The Worker
    // answers 400 wrong_size; wrangler dev's proxy, which sees the client's body end first, may
    // answer 503 "restarted mid-request" instead. Either way the state below is what counts.)
    let t = ticket(&mut a, "half.png", bytes.len()).await;
    let url = t["url"].as_str().unwrap();
    let half = t["id"].as_str().unwrap().to_string();
    let length = format!("Content-Length: {}\r\n", bytes.len());
    let status = raw_put(s, url, &length, &bytes[..bytes.len() / 2]).await;
    assert!(
        matches!(status, None | Some(400) | Some(503)),
        "a short body answered {status:?}"
    );
    wait_listed(
        s,
        &room,
        std::slice::from_ref(&whole),
        "after the short body",
    )
    .await;
    a.send_json(&json!({"type":"message","files":[half]})).await;
    a.expect_error("invalid_message").await;
    // Its ticket was used up by the attempt: a second try with the whole file is refused too.
    assert_eq!(put(s, url, bytes.clone()).await.status, 403);
    // The complete upload is unharmed and attaches.
    a.send_json(&json!({"type":"message","text":"whole","files":[whole]}))
        .await;
    assert_eq!(a.expect("message").await["files"][0]["id"], whole.as_str());
    s.assert_no_panic();
}
