//! SHA-256 in hex: how Chatterly keeps secrets (session keys, owner keys, token subjects) and
//! client addresses wherever it keeps them at all. Attachments, tables and logs are storage, and
//! storage is not a place for either.

use sha2::{Digest, Sha256};

/// The whole digest of `input`, 64 hex characters.
pub fn digest(input: &str) -> String {
    digest_hex(input, 64)
}

/// The first `hex_chars` hex characters of `input`'s digest (a short one where it only tells
/// apart, as an address's key or a log's room tag).
pub fn digest_hex(input: &str, hex_chars: usize) -> String {
    let digest = Sha256::digest(input.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex.truncate(hex_chars);
    hex
}
