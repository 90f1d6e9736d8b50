//! Join tokens: an embedding app vouches for its user with a compact JWT (`docs/embedding.md`).
//!
//! Two kinds are verified, each pinned to its own key material so that one can never pass as the
//! other (the classic "alg confusion"):
//! - HS256 with the shared secret `JOIN_TOKEN_SECRET` (`hmac` + `sha2`);
//! - EdDSA (Ed25519) with the public keys of `JOIN_TOKEN_PUBLIC_KEYS`, a JSON Web Key Set whose
//!   `kid` picks the key (`ed25519-compact` with `opt_size`: pure Rust, no dependencies, builds
//!   for wasm32 and verifies without a random source; ~8.5 KB of the gzipped Wasm, where
//!   `ed25519-dalek` brings `curve25519-dalek`). Chatterly then never holds a key that can mint
//!   tokens.
//!
//! Why not a JWT crate: `jsonwebtoken` pulls `ring` (no wasm32 without a C toolchain) and
//! `jwt-compact` brings `chrono` and a generic claims layer we would still have to check by hand
//! for the rules below. Parsing a compact JWS is three base64url parts; the checks that matter
//! (which key, which algorithm, every claim) are ours either way, and each refusal names its rule.
//!
//! Not the runtime's WebCrypto, though it would cost no Wasm: `crypto.subtle.verify` is async,
//! and a join awaiting it would let the same socket's next frames overtake it; here it is one
//! synchronous step of the pure core.
//!
//! Verification is pure and host-tested: the room calls it at join and at renewal only, never on
//! the message path.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// A token longer than this is refused unread.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Clock skew allowed between the app that minted a token and the room, both ways.
pub const SKEW_S: u64 = 60;
/// `sub` is 1 to this many characters.
pub const MAX_SUB_CHARS: usize = 128;

/// `JOIN_TOKENS`: whether joins carry tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Names as typed, no tokens (a token in a join is ignored).
    #[default]
    Off,
    /// A join may carry a token; one without is a guest.
    Optional,
    /// Every join needs a token.
    Required,
}

impl Mode {
    /// An unknown value is `Required`: a typo in a security setting must fail closed.
    pub fn parse(value: Option<&str>) -> Mode {
        match value.map(str::trim) {
            None | Some("" | "off") => Mode::Off,
            Some("optional") => Mode::Optional,
            _ => Mode::Required,
        }
    }
}

/// The keys tokens are checked against. Debug never prints the secret.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Keys {
    secret: Option<Vec<u8>>,
    /// `(kid, Ed25519 public key)`; `kid` may be empty for a set of one key.
    public: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field(
                "kids",
                &self.public.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keys {
    /// From `JOIN_TOKEN_SECRET` (its UTF-8 bytes) and `JOIN_TOKEN_PUBLIC_KEYS` (a JWKS). Keys the
    /// set holds that are not Ed25519 (`kty` `OKP`, `crv` `Ed25519`, a 32-byte `x`) are skipped;
    /// the second value is how many were.
    pub fn from_vars(secret: Option<&str>, jwks: Option<&str>) -> (Keys, usize) {
        let secret = secret
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.as_bytes().to_vec());
        let mut public = Vec::new();
        let mut skipped = 0;
        let set: Option<Value> = jwks
            .filter(|j| !j.trim().is_empty())
            .and_then(|j| serde_json::from_str(j).ok());
        let entries = match &set {
            Some(Value::Object(o)) => o.get("keys").and_then(Value::as_array),
            // A bare array of keys is accepted too.
            Some(Value::Array(a)) => Some(a),
            _ => None,
        };
        if jwks.is_some_and(|j| !j.trim().is_empty()) && entries.is_none() {
            skipped += 1;
        }
        for key in entries.into_iter().flatten() {
            match ed25519_jwk(key) {
                Some(entry) => public.push(entry),
                None => skipped += 1,
            }
        }
        (Keys { secret, public }, skipped)
    }

    pub fn is_empty(&self) -> bool {
        self.secret.is_none() && self.public.is_empty()
    }

    /// Keys for tests: a secret and `(kid, public key)` pairs.
    pub fn new(secret: Option<&[u8]>, public: &[(&str, [u8; 32])]) -> Keys {
        Keys {
            secret: secret.map(<[u8]>::to_vec),
            public: public.iter().map(|(k, x)| (k.to_string(), *x)).collect(),
        }
    }
}

fn ed25519_jwk(key: &Value) -> Option<(String, [u8; 32])> {
    let str_of = |field: &str| key.get(field).and_then(Value::as_str);
    if str_of("kty") != Some("OKP") || str_of("crv") != Some("Ed25519") {
        return None;
    }
    let x = base64url(str_of("x")?.trim_end_matches('='))?;
    let x: [u8; 32] = x.try_into().ok()?;
    Some((str_of("kid").unwrap_or_default().to_string(), x))
}

/// Everything the room needs to know about tokens (part of [`crate::config::Limits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    pub keys: Keys,
    /// `exp` may be at most this long after `iat` (or now); 0 turns the cap off.
    pub max_ttl_s: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Off,
            keys: Keys::default(),
            max_ttl_s: 86_400,
        }
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The app's user id.
    pub sub: String,
    /// The display name, checked like a typed name.
    pub name: String,
    /// A room name as the room knows itself, or `*` for any room.
    pub room: String,
    /// Unix seconds.
    pub exp: u64,
    /// The member is the room's owner.
    pub owner: bool,
    /// The bearer may make a room (`POST /api/rooms`).
    pub create: bool,
}

impl Claims {
    /// When the room closes a socket whose token ran out (unix ms): `exp` plus the skew.
    pub fn expires_at_ms(&self) -> u64 {
        self.exp.saturating_add(SKEW_S).saturating_mul(1000)
    }

    /// Whether the token is good for the room named `room` (as the room knows itself).
    pub fn for_room(&self, room: &str) -> Result<(), Refusal> {
        if self.room == "*" || self.room == room {
            return Ok(());
        }
        // Public rooms are compared as the room name rules normalize them (" Lobby " is lobby).
        match crate::validate::room_name(&self.room) {
            Ok(name) if name.as_str() == room => Ok(()),
            _ => Err(Refusal("the token is for another room (room claim)")),
        }
    }
}

/// Why a token was refused: a sentence naming the rule that failed, never quoting the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

/// Verifies `token`'s signature, header and claims at `now_ms` (the room is checked separately
/// with [`Claims::for_room`]). Never panics, whatever the input.
pub fn verify(token: &str, settings: &Settings, now_ms: u64) -> Result<Claims, Refusal> {
    let refuse = |why| Err(Refusal(why));
    if token.len() > MAX_TOKEN_BYTES {
        return refuse("the token is over 4 KiB");
    }
    let mut parts = token.trim().split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return refuse("the token is not a compact JWT (three base64url parts)");
    };
    let header = object(h64).ok_or(Refusal("the token's header is not base64url JSON"))?;
    let signature = base64url(s64).ok_or(Refusal("the token's signature is not base64url"))?;
    if header.contains_key("crit") {
        return refuse("the token's header has crit extensions, which are not supported");
    }
    let signed = &token.trim()[..h64.len() + 1 + p64.len()];
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return refuse("the token's kid is not a string"),
    };
    let keys = &settings.keys;
    // Each algorithm checks against its own keys only: a public key is never an HMAC secret.
    match header.get("alg").and_then(Value::as_str) {
        Some("HS256") => {
            let Some(secret) = &keys.secret else {
                return refuse("HS256 tokens are not accepted here (no JOIN_TOKEN_SECRET is set)");
            };
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
                return refuse("HS256 tokens are not accepted here");
            };
            mac.update(signed.as_bytes());
            // Constant-time comparison.
            mac.verify_slice(&signature)
                .map_err(|_| Refusal("the token's signature does not verify (HS256)"))?;
        }
        Some("EdDSA") => {
            if keys.public.is_empty() {
                return refuse(
                    "EdDSA tokens are not accepted here (no JOIN_TOKEN_PUBLIC_KEYS are set)",
                );
            }
            let key = match kid {
                Some(kid) => keys.public.iter().find(|(k, _)| k == kid),
                // Without a kid, only a set of exactly one key is unambiguous.
                None if keys.public.len() == 1 => keys.public.first(),
                None => return refuse("the token has no kid and several public keys are set"),
            };
            let Some((_, x)) = key else {
                return refuse("the token's kid names no key in JOIN_TOKEN_PUBLIC_KEYS");
            };
            let public = ed25519_compact::PublicKey::new(*x);
            let signature = ed25519_compact::Signature::from_slice(&signature)
                .map_err(|_| Refusal("the token's signature does not verify (EdDSA)"))?;
            public
                .verify(signed.as_bytes(), &signature)
                .map_err(|_| Refusal("the token's signature does not verify (EdDSA)"))?;
        }
        Some("none") => return refuse("unsigned tokens (alg none) are refused"),
        Some(_) => return refuse("the token's alg is not supported (HS256 or EdDSA)"),
        None => return refuse("the token's header has no alg"),
    }
    let claims = object(p64).ok_or(Refusal("the token's claims are not base64url JSON"))?;
    check_claims(&claims, settings.max_ttl_s, now_ms / 1000)
}

/// The claim rules, in the order a developer would fix them.
fn check_claims(c: &Map<String, Value>, max_ttl_s: u64, now: u64) -> Result<Claims, Refusal> {
    let refuse = |why| Err(Refusal(why));
    let sub = match c.get("sub") {
        Some(Value::String(s)) if (1..=MAX_SUB_CHARS).contains(&s.chars().count()) => s.clone(),
        Some(Value::String(_)) => return refuse("the sub claim must be 1 to 128 characters"),
        Some(_) => return refuse("the sub claim must be a string"),
        None => return refuse("the token has no sub claim"),
    };
    let name = match c.get("name") {
        Some(Value::String(s)) => crate::validate::member_name(s)
            .map_err(|_| Refusal("the name claim is not a valid member name"))?
            .to_string(),
        Some(_) => return refuse("the name claim must be a string"),
        None => return refuse("the token has no name claim"),
    };
    let room = match c.get("room") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 128 => s.clone(),
        Some(_) => return refuse("the room claim must be a room name or \"*\""),
        None => return refuse("the token has no room claim"),
    };
    let time = |field: &str, bad: &'static str| match c.get(field) {
        None => Ok(None),
        // NumericDate: seconds, possibly with a fraction.
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if (0.0..1e15).contains(&f) => Ok(Some(f as u64)),
            _ => Err(Refusal(bad)),
        },
        Some(_) => Err(Refusal(bad)),
    };
    let exp = time("exp", "the exp claim must be a number of seconds")?
        .ok_or(Refusal("the token has no exp claim"))?;
    let nbf = time("nbf", "the nbf claim must be a number of seconds")?;
    let iat = time("iat", "the iat claim must be a number of seconds")?;
    let flag = |field: &str, bad: &'static str| match c.get(field) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Refusal(bad)),
    };
    let owner = flag("owner", "the owner claim must be true or false")?;
    let create = flag("create", "the create claim must be true or false")?;

    if exp.saturating_add(SKEW_S) < now {
        return refuse("the token has expired (exp)");
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(SKEW_S)) {
        return refuse("the token is not valid yet (nbf)");
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(SKEW_S)) {
        return refuse("the token was issued in the future (iat)");
    }
    let from = iat.unwrap_or(now);
    if max_ttl_s > 0 && exp > from.saturating_add(max_ttl_s) {
        return refuse("the token lives longer than JOIN_TOKEN_MAX_TTL_S allows (exp)");
    }
    Ok(Claims {
        sub,
        name,
        room,
        exp,
        owner,
        create,
    })
}

/// `POST /api/rooms` under tokens: `Authorization: Bearer <token>` with `create: true`. Returns
/// the identity (digest of `sub`) that becomes the room's first owner, or `None` for an
/// anonymous room where tokens allow one (`off`, or `optional` without a header).
pub fn may_create(
    authorization: Option<&str>,
    settings: &Settings,
    now_ms: u64,
) -> Result<Option<String>, crate::api::HttpError> {
    let unauthorized = |why: &'static str| crate::api::HttpError::new(401, "unauthorized", why);
    let token = authorization.map(|h| {
        let h = h.trim();
        match h.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => Ok(h[7..].trim()),
            _ => Err(unauthorized(
                "the Authorization header must be Bearer <token>",
            )),
        }
    });
    match (settings.mode, token) {
        (Mode::Off, _) | (Mode::Optional, None) => Ok(None),
        (Mode::Required, None) => Err(unauthorized(
            "making a room needs Authorization: Bearer <token> (JOIN_TOKENS is required)",
        )),
        (_, Some(token)) => {
            let claims = verify(token?, settings, now_ms).map_err(|r| unauthorized(r.0))?;
            if !claims.create {
                return Err(unauthorized(
                    "the token does not allow making rooms (create claim)",
                ));
            }
            Ok(Some(identity(&claims.sub)))
        }
    }
}

/// One base64url part as a JSON object (serde_json's own recursion limit keeps nested input from
/// overflowing the stack).
fn object(part: &str) -> Option<Map<String, Value>> {
    // From a `str`: the reader the rest of the Worker already uses (a second one costs Wasm).
    let text = String::from_utf8(base64url(part)?).ok()?;
    match serde_json::from_str(&text).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Decodes unpadded base64url (RFC 4648 §5), strictly: `None` for any other character, a
/// length no encoding has, or stray bits in the last character. Written here rather than taken
/// from the `base64` crate, whose general engine costs the Worker ~3 KB of Wasm for these lines.
pub fn base64url(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        }))
    };
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | value(c)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            // Two characters carry one byte and 4 spare bits, three carry two and 2 spare bits:
            // the spare bits must be zero, or two texts would decode the same.
            3 if acc & 0b11 == 0 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 if acc & 0b1111 == 0 => out.push((acc >> 4) as u8),
            _ => return None,
        }
    }
    Some(out)
}

/// A stable, unguessable-from-logs key for a `sub`: how the room keeps identities (sessions,
/// bans, rate buckets) without storing the app's user ids in clear.
pub fn identity(sub: &str) -> String {
    crate::digest::digest(&format!("sub\u{0}{sub}"))
}

/// Signing, for tests (unit and integration) only: tokens are minted by the app, never by us.
#[cfg(not(target_arch = "wasm32"))]
pub mod mint {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn signing_input(header: &Value, claims: &Value) -> String {
        format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        )
    }

    pub fn hs256(secret: &[u8], claims: &Value) -> String {
        let input = signing_input(&serde_json::json!({"alg":"HS256","typ":"JWT"}), claims);
        hs256_raw(secret, &input)
    }

    /// Signs an already assembled `header.payload` with HMAC-SHA256.
    pub fn hs256_raw(secret: &[u8], input: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            return String::new();
        };
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(&mac.finalize().into_bytes()))
    }

    /// An Ed25519 key pair from a 32-byte seed: `(secret key bytes, public key bytes)`.
    pub fn ed25519_pair(seed: [u8; 32]) -> (Vec<u8>, [u8; 32]) {
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed));
        (pair.sk.to_vec(), *pair.pk)
    }

    pub fn eddsa(seed: [u8; 32], kid: Option<&str>, claims: &Value) -> String {
        let mut header = serde_json::json!({"alg":"EdDSA","typ":"JWT"});
        if let Some(kid) = kid {
            header["kid"] = Value::String(kid.to_string());
        }
        let input = signing_input(&header, claims);
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed));
        let signature = pair.sk.sign(input.as_bytes(), None);
        format!("{input}.{}", b64(signature.as_ref()))
    }

    /// A JWKS holding the public keys of `(kid, seed)` pairs.
    pub fn jwks(keys: &[(&str, [u8; 32])]) -> String {
        let keys: Vec<Value> = keys
            .iter()
            .map(|(kid, seed)| {
                serde_json::json!({"kty":"OKP","crv":"Ed25519","kid":kid,
                    "x": b64(&ed25519_pair(*seed).1)})
            })
            .collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    pub fn b64url(bytes: &[u8]) -> String {
        b64(bytes)
    }
}

#[cfg(test)]
mod tests;
