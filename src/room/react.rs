//! `react`: a member toggles one emoji on a message. Distinct emoji per message and reactions per
//! member per message are capped, so reactions cannot flood a message or the room's storage.

use super::{ConnId, Effects, Room, Store};
use crate::protocol::{Change, ErrorCode, ErrorFrame, Reaction};
use crate::validate;

impl Room {
    pub(super) fn react(
        &mut self,
        conn: ConnId,
        id: u64,
        emoji: &str,
        now: u64,
        store: &mut dyn Store,
        fx: &mut Effects,
    ) {
        match self.apply_react(conn, id, emoji, now, store) {
            Ok(change) => self.outbox.change(conn, change),
            Err(error) => self.reject(conn, error.with_target(id), now, fx),
        }
    }

    fn apply_react(
        &mut self,
        conn: ConnId,
        id: u64,
        emoji: &str,
        now: u64,
        store: &mut dyn Store,
    ) -> Result<Change, ErrorFrame> {
        let actor = self.actor(conn)?;
        let emoji = validate::emoji(emoji)
            .map_err(|why| ErrorFrame::new(ErrorCode::InvalidEmoji, why))?
            .to_string();
        let (per_message, per_member) = (
            self.limits.reactions_per_message,
            self.limits.reactions_per_member,
        );
        let message = &self.live_message_ref(id, store)?.message;
        // Who reacted is kept by name as shown; the same member is the same name key ("Alice"
        // then "ALICE" after a reconnect), as everywhere in the room.
        let is_me = |n: &String| *n == actor.name || validate::name_key(n) == actor.key;
        let mine = |r: &Reaction| r.names.iter().any(is_me);
        let on = !message
            .reactions
            .iter()
            .any(|r| r.emoji == emoji && mine(r));
        if on {
            let new_emoji = !message.reactions.iter().any(|r| r.emoji == emoji);
            if new_emoji && message.reactions.len() >= per_message {
                return Err(too_many(
                    "this message has as many different reactions as it can hold",
                ));
            }
            if message.reactions.iter().filter(|r| mine(r)).count() >= per_member {
                return Err(too_many(
                    "you have as many reactions on this message as you can",
                ));
            }
        }
        self.take_token(&actor.key, now)?;
        let mut count = 0;
        if let Some(posted) = self.posted_mut(id, store)? {
            let reactions = &mut posted.message.reactions;
            match reactions.iter_mut().position(|r| r.emoji == emoji) {
                Some(i) if on => reactions[i].names.push(actor.name.clone()),
                Some(i) => {
                    reactions[i].names.retain(|n| !is_me(n));
                    if reactions[i].names.is_empty() {
                        reactions.remove(i);
                    }
                }
                None => reactions.push(Reaction {
                    emoji: emoji.clone(),
                    names: vec![actor.name.clone()],
                }),
            }
            count = reactions
                .iter()
                .find(|r| r.emoji == emoji)
                .map_or(0, |r| r.names.len());
        }
        self.touch_message(id);
        Ok(Change::React {
            id: self.history.next_id(),
            target: id,
            emoji,
            on,
            count,
            name: actor.name,
            at: now,
        })
    }
}

fn too_many(why: &'static str) -> ErrorFrame {
    ErrorFrame::new(ErrorCode::TooManyReactions, why)
}
