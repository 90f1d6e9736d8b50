//! `edit` and `delete`: an author changes or takes back their own message, within
//! `EDIT_WINDOW_MS`; the owner may delete any message. Each is a change in the room's log, and
//! the message itself is kept in its current state: a delete erases the text from storage for real
//! (the message, its earlier edits, and the quotes of replies to it) and leaves a tombstone.

use super::history::{erase_quote, requote, Posted};
use super::{ConnId, Effects, Room, Store};
use crate::config::LogLevel;
use crate::protocol::{Change, ErrorCode, ErrorFrame};
use crate::validate;

/// Where a message a change is about was found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Sent in this burst, not stored yet: stored in its final state.
    Pending,
    /// Stored: its row is rewritten at the flush.
    Stored,
}

/// What a change needs to know about its member.
pub(super) struct Actor {
    pub name: String,
    pub key: String,
    pub session: Option<String>,
    pub owner: bool,
}

impl Room {
    pub(super) fn actor(&self, conn: ConnId) -> Result<Actor, ErrorFrame> {
        let member = self
            .member(conn)
            .ok_or_else(|| ErrorFrame::new(ErrorCode::NotJoined, "join the room first"))?;
        Ok(Actor {
            name: member.name.clone(),
            key: member.key.clone(),
            session: member.session.clone(),
            owner: member.owner,
        })
    }

    /// The message `id` as it is now, wherever it is (this burst, memory, storage), if it is one.
    pub(super) fn posted_mut(
        &mut self,
        id: u64,
        store: &mut dyn Store,
    ) -> Result<Option<&mut Posted>, ErrorFrame> {
        Ok(match self.locate(id, store)? {
            Some(Place::Pending) => self.outbox.pending_mut(id),
            Some(Place::Stored) => match self.outbox.fetched.contains_key(&id) {
                true => self.outbox.fetched.get_mut(&id),
                false => self.history.message_mut(id),
            },
            None => None,
        })
    }

    fn locate(&mut self, id: u64, store: &mut dyn Store) -> Result<Option<Place>, ErrorFrame> {
        if self.outbox.pending_mut(id).is_some() {
            return Ok(Some(Place::Pending));
        }
        if self.outbox.fetched.contains_key(&id) || self.history.message_mut(id).is_some() {
            return Ok(Some(Place::Stored));
        }
        if id > self.history.last_id() {
            return Ok(None);
        }
        match store.posted(id) {
            Ok(Some(posted)) => {
                self.outbox.fetched.insert(id, posted);
                Ok(Some(Place::Stored))
            }
            Ok(None) => Ok(None),
            Err(_) => Err(ErrorFrame::new(
                ErrorCode::StorageFailed,
                "the message could not be read; try again",
            )),
        }
    }

    /// A live (not deleted) message, or `not_found`.
    pub(super) fn live_message_ref(
        &mut self,
        id: u64,
        store: &mut dyn Store,
    ) -> Result<&Posted, ErrorFrame> {
        self.live_message(id, store).map(|p| &*p)
    }

    pub(super) fn touch_message(&mut self, id: u64) {
        self.touch(id);
    }

    /// A live (not deleted) message, or `not_found`.
    fn live_message(&mut self, id: u64, store: &mut dyn Store) -> Result<&mut Posted, ErrorFrame> {
        match self.posted_mut(id, store)? {
            Some(posted) if !posted.message.deleted => Ok(posted),
            _ => Err(ErrorFrame::new(
                ErrorCode::NotFound,
                "no message has that id",
            )),
        }
    }

    /// Marks a stored message's row for rewriting at the flush.
    fn touch(&mut self, id: u64) {
        if self.outbox.pending_mut(id).is_none() {
            self.outbox.touched.insert(id);
        }
    }

    /// May `actor` change `posted` as its author, now?
    fn check_author(&self, actor: &Actor, posted: &Posted, now: u64) -> Result<(), ErrorFrame> {
        let same_name = validate::name_key(&posted.message.name) == actor.key;
        let same_session = matches!((&actor.session, &posted.author), (Some(a), Some(b)) if a == b);
        if !same_name || !same_session {
            return Err(ErrorFrame::new(
                ErrorCode::Forbidden,
                "only its author (same name and session) can change a message",
            ));
        }
        if now > posted.message.at.saturating_add(self.limits.edit_window_ms) {
            return Err(ErrorFrame::new(
                ErrorCode::EditWindow,
                "messages can be changed only for a while after sending",
            ));
        }
        Ok(())
    }

    pub(super) fn edit(
        &mut self,
        conn: ConnId,
        id: u64,
        text: &str,
        now: u64,
        store: &mut dyn Store,
        fx: &mut Effects,
    ) {
        match self.apply_edit(conn, id, text, now, store) {
            Ok(change) => self.outbox.change(conn, change),
            Err(error) => self.reject(conn, error.with_target(id), now, fx),
        }
    }

    fn apply_edit(
        &mut self,
        conn: ConnId,
        id: u64,
        text: &str,
        now: u64,
        store: &mut dyn Store,
    ) -> Result<Change, ErrorFrame> {
        let actor = self.actor(conn)?;
        let text = validate::message_text(text)
            .map_err(|why| ErrorFrame::new(ErrorCode::InvalidMessage, why))?
            .to_string();
        let posted = self.live_message(id, store)?.clone();
        self.check_author(&actor, &posted, now)?;
        self.take_token(&actor.key, now)?;
        let mentions = self.mentions(&text, actor.owner);
        if let Some(posted) = self.posted_mut(id, store)? {
            posted.message.text = text.clone();
            posted.message.edited_at = Some(now);
            posted.message.mentions = mentions.clone();
        }
        self.touch(id);
        // Replies quote the message as it reads now, in storage, memory and this burst.
        let quote: String = text.chars().take(super::message::QUOTE_CHARS).collect();
        self.history.requote(id, &quote);
        for posted in self.outbox.held_messages() {
            requote(&mut posted.message, id, &quote);
        }
        // Storage is asked only where a stored reply may be; replies of this burst are not
        // stored yet and were requoted just above.
        if self.history.may_have_replies(id) {
            self.outbox.requoted.push((id, quote));
        }
        Ok(Change::Edit {
            id: self.history.next_id(),
            target: id,
            text,
            name: actor.name,
            at: now,
            mentions,
        })
    }

    pub(super) fn delete(
        &mut self,
        conn: ConnId,
        id: u64,
        now: u64,
        store: &mut dyn Store,
        fx: &mut Effects,
    ) {
        match self.apply_delete(conn, id, now, store) {
            Ok((change, moderated, files)) => {
                // Its pictures and files go with it.
                if !files.is_empty() {
                    self.doom_files(files, None, now, store, fx);
                }
                // The owner taking back someone else's message is moderation: logged like a kick.
                if moderated {
                    fx.log(LogLevel::Info, "delete", serde_json::json!({}));
                }
                self.outbox.change(conn, change)
            }
            Err(error) => self.reject(conn, error.with_target(id), now, fx),
        }
    }

    fn apply_delete(
        &mut self,
        conn: ConnId,
        id: u64,
        now: u64,
        store: &mut dyn Store,
    ) -> Result<(Change, bool, Vec<String>), ErrorFrame> {
        let actor = self.actor(conn)?;
        let mut files = Vec::new();
        let posted = self.live_message(id, store)?.clone();
        // The owner may take back anything; an author only their own, in the window.
        let as_author = self.check_author(&actor, &posted, now);
        let moderated = actor.owner && as_author.is_err();
        if !actor.owner {
            as_author?;
        }
        if let Some(posted) = self.posted_mut(id, store)? {
            posted.message.text.clear();
            posted.message.deleted = true;
            posted.message.edited_at = None;
            posted.message.reactions.clear();
            posted.message.reply = None;
            posted.message.reply_to = None;
            posted.message.mentions.clear();
            files = std::mem::take(&mut posted.message.files)
                .into_iter()
                .map(|f| f.id)
                .collect();
        }
        self.touch(id);
        // The text goes from everywhere it was copied to.
        self.outbox.erased.push(id);
        self.history.erase(id);
        // An edit earlier in this burst is not in the history yet: it would reach it with its text.
        for (change, _) in &mut self.outbox.changes {
            if let Change::Edit {
                target,
                text,
                mentions,
                ..
            } = change
            {
                if *target == id {
                    text.clear();
                    mentions.clear();
                }
            }
        }
        for posted in self.outbox.held_messages() {
            erase_quote(&mut posted.message, id);
        }
        let change = Change::Delete {
            id: self.history.next_id(),
            target: id,
            name: actor.name,
            at: now,
        };
        Ok((change, moderated, files))
    }

    /// Edits and reactions count against the member's message bucket.
    pub(super) fn take_token(&mut self, key: &str, now: u64) -> Result<(), ErrorFrame> {
        self.quota
            .message(key, now, &self.limits)
            .map_err(|retry_after_ms| {
                let mut e = ErrorFrame::new(
                    ErrorCode::RateLimited,
                    "too many changes; this one was dropped",
                );
                e.retry_after_ms = Some(retry_after_ms);
                e
            })
    }
}
