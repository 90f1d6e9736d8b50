//! Presence in a very large room. Past `PRESENCE_LIST_MAX` members a full member list in every
//! welcome and a frame to everyone per arrival cost more than they tell: a crowd of 10,000 is not
//! read name by name. So the room switches to a count: the welcome carries `count` and the latest
//! joiners, and joins and leaves go out as one `presence` frame per flush with the new count and
//! the latest names. When the room shrinks below the size again, one `presence` frame with the full
//! list puts every client back on lists.

use super::Room;
use crate::protocol::{to_json, ServerFrame};

/// How many of the latest joiners (welcome, `presence`) and leavers (`presence`) are named.
pub const RECENT: usize = 20;

#[derive(Debug, Default)]
pub(super) struct Crowd {
    joined: Vec<String>,
    /// Those of `joined` who joined with a join token.
    verified: Vec<String>,
    left: Vec<String>,
    /// Clients were last told a count, not a list.
    counted: bool,
}

impl Crowd {
    /// Joins or leaves wait for a `presence` frame: the room needs a flush.
    pub(super) fn pending(&self) -> bool {
        !self.joined.is_empty() || !self.left.is_empty()
    }
}

impl Room {
    /// Whether the room is past the size where presence is a count.
    pub(super) fn crowded(&self) -> bool {
        let max = self.limits.presence_list_max;
        max > 0 && self.by_key.len() + self.away.len() > max
    }

    /// A join in a crowded room, for the next `presence` frame.
    pub(super) fn crowd_joined(&mut self, name: &str, verified: bool) {
        self.crowd.joined.push(name.to_string());
        if verified {
            self.crowd.verified.push(name.to_string());
        }
    }

    /// A leave in a crowded room, for the next `presence` frame.
    pub(super) fn crowd_left(&mut self, name: &str) {
        self.crowd.left.push(name.to_string());
    }

    /// At a flush: queues the `presence` frame for what changed since the last one, if anything.
    pub(super) fn summarize_crowd(&mut self) {
        let crowded = self.crowded();
        let changed = !self.crowd.joined.is_empty() || !self.crowd.left.is_empty();
        let frame = if crowded && (changed || !self.crowd.counted) {
            self.crowd.counted = true;
            let joined = latest(&self.crowd.joined);
            let verified = joined
                .iter()
                .copied()
                .filter(|n| self.crowd.verified.iter().any(|v| v == n))
                .collect();
            Some(to_json(&ServerFrame::Presence {
                count: self.member_count(),
                members: None,
                joined,
                left: latest(&self.crowd.left),
                verified,
            }))
        } else if !crowded && self.crowd.counted {
            // Back to lists: everyone gets the whole list once.
            self.crowd.counted = false;
            Some(to_json(&ServerFrame::Presence {
                count: self.member_count(),
                members: Some(self.member_names().collect()),
                joined: Vec::new(),
                left: Vec::new(),
                verified: self.verified_names(),
            }))
        } else {
            None
        };
        self.crowd.joined.clear();
        self.crowd.verified.clear();
        self.crowd.left.clear();
        if let Some(text) = frame {
            self.outbox.presence(text, None);
        }
    }

    /// The welcome's member list: everyone, or in a crowd the latest joiners and the count.
    pub(super) fn welcome_members(&self) -> (Vec<&str>, Option<usize>) {
        let names: Vec<&str> = self.member_names().collect();
        if self.crowded() {
            let from = names.len().saturating_sub(RECENT);
            (names[from..].to_vec(), Some(self.member_count()))
        } else {
            (names, None)
        }
    }
}

fn latest(names: &[String]) -> Vec<&str> {
    let from = names.len().saturating_sub(RECENT);
    names[from..].iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::super::harness::{unlimited, Harness};
    use crate::config::Limits;
    use serde_json::{json, Value};

    fn types(frames: &[Value]) -> Vec<&str> {
        frames.iter().filter_map(|f| f["type"].as_str()).collect()
    }

    #[test]
    fn past_the_list_size_presence_is_a_count_and_back_below_it_a_list_again() {
        let mut h = Harness::new(Limits {
            presence_list_max: 3,
            ..unlimited()
        });
        for (conn, name) in [(1, "Ann"), (2, "Bob"), (3, "Cy")] {
            h.join(conn, name);
        }
        h.clear();
        // The fourth member makes it a crowd: its welcome has the count and the latest names.
        let w = h.join(4, "Dee");
        assert_eq!(w["count"], 4);
        assert_eq!(w["members"], json!(["Ann", "Bob", "Cy", "Dee"]));
        let seen = h.take(1);
        assert_eq!(types(&seen), ["join", "presence"], "{seen:?}");
        assert_eq!(seen[1]["count"], 4);
        // In a crowd a join is no frame of its own, only a name in the next `presence`.
        h.join(5, "Eve");
        let seen = h.take(1);
        assert_eq!(types(&seen), ["presence"], "{seen:?}");
        assert_eq!(seen[0]["count"], 5);
        assert_eq!(seen[0]["joined"], json!(["Eve"]));
        h.gone(5);
        let seen = h.take(1);
        assert_eq!(seen[0]["left"], json!(["Eve"]), "{seen:?}");
        assert_eq!(seen[0]["count"], 4);
        // Below the size again: the whole list, once, then joins and leaves as before.
        h.gone(4);
        let seen = h.take(1);
        assert_eq!(types(&seen), ["leave", "presence"], "{seen:?}");
        assert_eq!(seen[1]["members"], json!(["Ann", "Bob", "Cy"]));
        h.gone(3);
        assert_eq!(types(&h.take(1)), ["leave"]);
        let w = h.join(6, "Fay");
        assert!(w.get("count").is_none(), "{w}");
    }

    #[test]
    fn zero_always_lists_everyone() {
        let mut h = Harness::new(Limits {
            presence_list_max: 0,
            ..unlimited()
        });
        for conn in 1..=30 {
            h.join(conn, &format!("m{conn}"));
        }
        let seen = h.take(1);
        assert!(types(&seen).iter().all(|t| *t == "join"), "{seen:?}");
    }

    #[test]
    fn a_crowd_names_only_the_latest() {
        let mut h = Harness::new(Limits {
            presence_list_max: 2,
            ..unlimited()
        });
        h.join(1, "first");
        h.join(2, "second");
        h.join(3, "third");
        h.clear();
        for conn in 10..40 {
            h.connect(conn);
            h.queue(conn, &json!({"type":"join","name":format!("n{conn}")}));
        }
        h.flush();
        let seen = h.take(1);
        let p = seen.iter().find(|f| f["type"] == "presence").unwrap();
        assert_eq!(p["count"], 33);
        assert_eq!(p["joined"].as_array().unwrap().len(), super::RECENT);
        assert_eq!(p["joined"][super::RECENT - 1], "n39");
        let w = h.take(39).pop().unwrap();
        assert_eq!(w["members"].as_array().unwrap().len(), super::RECENT);
        assert_eq!(w["count"], 33);
    }
}
