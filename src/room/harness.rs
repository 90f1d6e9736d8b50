//! A room driven as the shell drives it, for tests: events in, a flush per burst, and what each
//! socket received (batches unpacked into frames) out.

#[allow(unused_imports)]
use super::history::Posted;
use super::history::VecStore;
use super::*;
use crate::digest::digest;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const ROOM: &str = "lobby";

/// The owner key of the rooms [`Harness::owned`] makes (the room keeps only its digest).
pub const OWNER_KEY: &str = "0wner-key-0123456789abcdef0123456789";

pub struct Harness {
    pub room: Room,
    pub store: VecStore,
    pub limits: Limits,
    pub now: u64,
    /// Frames each socket received, in order, not yet taken.
    inbox: BTreeMap<ConnId, Vec<Value>>,
    /// The raw texts each socket received (to see batch shapes).
    pub texts: BTreeMap<ConnId, Vec<String>>,
    pub attachments: BTreeMap<ConnId, Attachment>,
    pub closed: Vec<Close>,
    pub logs: Vec<LogLine>,
    pub alarm: Option<u64>,
    /// Files whose objects the room asked the shell to delete.
    pub deleted_files: Vec<String>,
    /// Sockets that went away without the room hearing of it (a restart of the room object).
    pub dropped: Vec<ConnId>,
}

/// Rate limiting off: most tests send bursts; their own tests turn the limits on.
pub fn unlimited() -> Limits {
    Limits {
        rate_per_sec: 0.0,
        address_joins_per_min: 0,
        address_max_members: 0,
        // Leaves are immediate unless a test is about the presence grace.
        presence_grace_ms: 0,
        // Presence goes out with every flush unless a test is about holding it.
        presence_batch_ms: 0,
        ..Limits::default()
    }
}

impl Harness {
    pub fn new(limits: Limits) -> Self {
        Self::with_history(limits, StoredHistory::default(), VecStore::default())
    }

    pub fn with_history(limits: Limits, history: StoredHistory, store: VecStore) -> Self {
        Harness {
            room: Room::new(limits.clone(), ROOM, history),
            store,
            limits,
            now: 1_000,
            inbox: BTreeMap::new(),
            texts: BTreeMap::new(),
            attachments: BTreeMap::new(),
            closed: Vec::new(),
            logs: Vec::new(),
            alarm: None,
            deleted_files: Vec::new(),
            dropped: Vec::new(),
        }
    }

    /// A room whose owner key is [`OWNER_KEY`]: storage holds its digest, as `POST /api/rooms`
    /// leaves it.
    pub fn owned(limits: Limits) -> Self {
        let mut store = VecStore::default();
        store.meta.insert("owner", digest(OWNER_KEY));
        Self::with_history(limits, store.load(), store)
    }

    /// The room object restarts: every socket drops at once, unheard; only storage survives.
    pub fn restart(&mut self) {
        self.dropped.extend(self.attachments.keys().copied());
        self.rebuild();
    }

    fn apply(&mut self, fx: Effects) {
        for (conn, attachment) in fx.attach {
            self.attachments.insert(conn, attachment);
        }
        self.closed.extend(fx.close);
        for batch in fx.send {
            let frames: Value = serde_json::from_str(&batch.text).expect("a batch is JSON");
            let frames = match frames {
                Value::Array(frames) => {
                    assert!(frames.len() > 1, "a lone frame is sent as itself");
                    frames
                }
                frame => vec![frame],
            };
            for conn in batch.to {
                self.texts.entry(conn).or_default().push(batch.text.clone());
                self.inbox
                    .entry(conn)
                    .or_default()
                    .extend(frames.iter().cloned());
            }
        }
        self.logs.extend(fx.logs);
        self.deleted_files.extend(fx.delete_files);
        if fx.alarm.is_some() {
            self.alarm = fx.alarm;
        }
        if fx.reload {
            self.rebuild();
        }
    }

    /// One event, without a flush (the burst goes on).
    pub fn event(&mut self, event: Event<'_>) {
        let fx = self.room.handle(event, self.now, &mut self.store);
        self.apply(fx);
    }

    /// The end of a burst.
    pub fn flush(&mut self) {
        let fx = self.room.flush(&mut self.store, self.now);
        self.apply(fx);
    }

    pub fn connect(&mut self, conn: ConnId) {
        self.connect_from(conn, None);
    }

    pub fn connect_from(&mut self, conn: ConnId, address: Option<&str>) {
        self.event(Event::Connect { conn, address });
    }

    /// Queues a frame from `conn` (no flush).
    pub fn queue(&mut self, conn: ConnId, frame: &Value) {
        let text = frame.to_string();
        self.event(Event::Frame { conn, text: &text });
    }

    /// A frame from `conn`, then a flush.
    pub fn send(&mut self, conn: ConnId, frame: Value) {
        self.queue(conn, &frame);
        self.flush();
    }

    pub fn send_raw(&mut self, conn: ConnId, text: &str) {
        self.event(Event::Frame { conn, text });
        self.flush();
    }

    pub fn gone(&mut self, conn: ConnId) {
        self.event(Event::Gone { conn, why: "close" });
        self.flush();
    }

    pub fn ring(&mut self, heard: Vec<(ConnId, u64)>) {
        self.event(Event::Alarm { heard });
        self.flush();
    }

    /// Everything `conn` received since the last take.
    pub fn take(&mut self, conn: ConnId) -> Vec<Value> {
        self.inbox.remove(&conn).unwrap_or_default()
    }

    /// Drops everything received so far.
    pub fn clear(&mut self) {
        self.inbox.clear();
        self.texts.clear();
    }

    /// The one frame `conn` received.
    pub fn one(&mut self, conn: ConnId) -> Value {
        let frames = self.take(conn);
        assert_eq!(
            frames.len(),
            1,
            "expected one frame for {conn}, got {frames:?}"
        );
        frames.into_iter().next().unwrap_or(Value::Null)
    }

    pub fn error_code(&mut self, conn: ConnId) -> String {
        let frame = self.one(conn);
        assert_eq!(frame["type"], "error", "{frame}");
        frame["code"].as_str().unwrap_or_default().to_string()
    }

    /// Connects and joins `conn` as `name`; returns its welcome.
    pub fn join(&mut self, conn: ConnId, name: &str) -> Value {
        self.join_with(conn, json!({"type":"join","name":name}))
    }

    pub fn join_with(&mut self, conn: ConnId, frame: Value) -> Value {
        self.connect(conn);
        self.send(conn, frame);
        let welcome = self.one(conn);
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        welcome
    }

    /// Connects and sends a join with a session and an owner key; returns the one frame it got
    /// (its welcome, or an error).
    pub fn join_keys(
        &mut self,
        conn: ConnId,
        name: &str,
        session: Option<&str>,
        owner_key: Option<&str>,
    ) -> Value {
        self.connect(conn);
        self.send(
            conn,
            json!({"type":"join","name":name,"session":session,"owner_key":owner_key}),
        );
        self.one(conn)
    }

    /// Sends a message from `conn` and returns the frame everyone got.
    pub fn say(&mut self, conn: ConnId, text: &str) -> Value {
        self.send(conn, json!({"type":"message","text":text}));
        let frame = self.take(conn).pop().unwrap_or_default();
        assert_eq!(frame["type"], "message", "{frame}");
        frame
    }

    /// The runtime rebuilt the object: only attachments and storage survive.
    pub fn rebuild(&mut self) {
        let history = self.store.load();
        let open: Vec<Attachment> = self
            .attachments
            .values()
            .filter(|a| !self.gone_conns().contains(&a.conn) && !self.dropped.contains(&a.conn))
            .cloned()
            .collect();
        self.room = Room::new(self.limits.clone(), ROOM, history);
        let fx = self.room.restore(open, self.now);
        self.apply(fx);
    }

    fn gone_conns(&self) -> Vec<ConnId> {
        self.attachments
            .keys()
            .copied()
            .filter(|c| !self.room.conns.contains_key(c))
            .collect()
    }

    pub fn frame_types(frames: &[Value]) -> Vec<String> {
        frames
            .iter()
            .map(|f| f["type"].as_str().unwrap_or("?").to_string())
            .collect()
    }
}
