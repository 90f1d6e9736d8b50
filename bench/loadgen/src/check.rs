//! What one member checks: each sender's sequence numbers exactly once and in order, and the
//! room's presence as the member sees it.

use std::collections::HashSet;

use crate::frame::Frame;

/// Bitset of the sequence numbers seen from one sender.
pub struct Seen {
    bits: Vec<u64>,
    max_seq: Option<u64>,
}

pub enum Mark {
    New { in_order: bool },
    Duplicate,
    OutOfRange,
}

impl Seen {
    pub fn new(n: u64) -> Self {
        Seen {
            bits: vec![0; n.div_ceil(64) as usize],
            max_seq: None,
        }
    }

    pub fn mark(&mut self, seq: u64) -> Mark {
        let bit = 1u64 << (seq % 64);
        let Some(word) = self.bits.get_mut((seq / 64) as usize) else {
            return Mark::OutOfRange;
        };
        if *word & bit != 0 {
            return Mark::Duplicate;
        }
        *word |= bit;
        let in_order = self.max_seq.is_none_or(|m| seq > m);
        if in_order {
            self.max_seq = Some(seq);
        }
        Mark::New { in_order }
    }
}

/// The members of the room as one member sees them: `welcome.members`, then `join` and `leave`.
#[derive(Default)]
pub struct View {
    pub names: HashSet<String>,
    /// A join (or a welcome entry) for a name already present: "joined twice".
    pub announced_twice: u64,
    /// A leave for a name not present.
    pub unknown_leaves: u64,
}

impl View {
    pub fn welcome(&mut self, f: &Frame) {
        for m in f.members.iter().flatten() {
            self.add(m);
        }
    }

    /// Applies a presence frame; other frames are ignored.
    pub fn apply(&mut self, f: &Frame) {
        let Some(name) = f.name.as_deref() else {
            return;
        };
        match f.ty.as_ref() {
            "join" => self.add(name),
            "leave" if !self.names.remove(name) => self.unknown_leaves += 1,
            _ => {}
        }
    }

    fn add(&mut self, name: &str) {
        if !self.names.insert(name.to_owned()) {
            self.announced_twice += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_duplicates_and_reordering() {
        let mut s = Seen::new(100);
        assert!(matches!(s.mark(0), Mark::New { in_order: true }));
        assert!(matches!(s.mark(2), Mark::New { in_order: true }));
        assert!(matches!(s.mark(1), Mark::New { in_order: false }));
        assert!(matches!(s.mark(2), Mark::Duplicate));
        assert!(matches!(s.mark(128), Mark::OutOfRange));
    }
}
