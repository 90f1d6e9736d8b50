//! File ids and upload tickets: HMAC-SHA256 with the room's own secret (made by the shell from
//! the runtime's CSPRNG and kept in the room's storage), so the room needs no random source and
//! keeps no ticket: the row of the file ([`super::FileRow`]) holds the fields the ticket is a MAC
//! over, and its state makes it single use.

use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mac_hex(secret: &str, parts: &[&str], hex_chars: usize) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    for part in parts {
        // Length-prefixed, so no two field lists MAC the same bytes.
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part.as_bytes());
    }
    let bytes = mac.finalize().into_bytes();
    let mut out: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    out.truncate(hex_chars);
    out
}

/// A new file's id: 128 bits no one without the room's secret can guess, from the member, the
/// time and a counter the caller bumps when the id is already taken.
pub fn file_id(secret: &str, owner: &str, now: u64, attempt: u32) -> String {
    mac_hex(
        secret,
        &["file", owner, &now.to_string(), &attempt.to_string()],
        32,
    )
}

/// The ticket for a file: a MAC over what it allows (this room, this file, this member, this
/// size, until then).
pub fn ticket(
    secret: &str,
    room: &str,
    file: &str,
    owner: &str,
    size: u64,
    expires_at: u64,
) -> String {
    mac_hex(
        secret,
        &[
            "ticket",
            room,
            file,
            owner,
            &size.to_string(),
            &expires_at.to_string(),
        ],
        64,
    )
}

/// Compares two tickets in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
