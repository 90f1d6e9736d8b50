use super::mint::{b64url, eddsa, hs256, hs256_raw, jwks};
use super::*;
use serde_json::json;

const SECRET: &[u8] = b"a test secret of thirty-two bytes!";
const SEED_A: [u8; 32] = [7; 32];
const SEED_B: [u8; 32] = [9; 32];
/// 2026-01-01T00:00:00Z in seconds.
const NOW: u64 = 1_767_225_600;

fn settings(secret: bool, public: &[(&str, [u8; 32])]) -> Settings {
    let (keys, skipped) = Keys::from_vars(
        secret.then_some(std::str::from_utf8(SECRET).unwrap()),
        (!public.is_empty()).then(|| jwks(public)).as_deref(),
    );
    assert_eq!(skipped, 0);
    Settings {
        mode: Mode::Required,
        keys,
        max_ttl_s: 86_400,
    }
}

fn claims() -> Value {
    json!({"sub": "user-42", "name": "Alice", "room": "lobby", "exp": NOW + 600, "iat": NOW})
}

fn with(extra: Value) -> Value {
    let mut c = claims();
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn at(now_s: u64) -> u64 {
    now_s * 1000
}

fn refusal(token: &str, s: &Settings) -> &'static str {
    verify(token, s, at(NOW)).unwrap_err().0
}

#[test]
fn hs256_token_gives_its_claims() {
    let s = settings(true, &[]);
    let c = verify(&hs256(SECRET, &claims()), &s, at(NOW)).unwrap();
    assert_eq!(
        (c.sub.as_str(), c.name.as_str(), c.room.as_str()),
        ("user-42", "Alice", "lobby")
    );
    assert_eq!((c.exp, c.owner, c.create), (NOW + 600, false, false));
    assert_eq!(c.expires_at_ms(), (NOW + 600 + SKEW_S) * 1000);
    let c = verify(
        &hs256(SECRET, &with(json!({"owner": true, "create": true}))),
        &s,
        at(NOW),
    )
    .unwrap();
    assert!(c.owner && c.create);
}

#[test]
fn eddsa_token_is_checked_against_the_key_its_kid_names() {
    let s = settings(false, &[("k1", SEED_A), ("k2", SEED_B)]);
    assert!(verify(&eddsa(SEED_A, Some("k1"), &claims()), &s, at(NOW)).is_ok());
    assert!(verify(&eddsa(SEED_B, Some("k2"), &claims()), &s, at(NOW)).is_ok());
    // Signed by one key but naming the other.
    assert!(refusal(&eddsa(SEED_A, Some("k2"), &claims()), &s).contains("does not verify"));
    assert!(refusal(&eddsa(SEED_A, Some("k3"), &claims()), &s).contains("kid names no key"));
    assert!(refusal(&eddsa(SEED_A, None, &claims()), &s).contains("no kid"));
    // A set of one key needs no kid.
    let one = settings(false, &[("k1", SEED_A)]);
    assert!(verify(&eddsa(SEED_A, None, &claims()), &one, at(NOW)).is_ok());
}

#[test]
fn key_rotation_by_kid() {
    // Before: k1 only. During: both. After: k2 only, and k1's tokens are refused.
    let token_1 = eddsa(SEED_A, Some("k1"), &claims());
    let token_2 = eddsa(SEED_B, Some("k2"), &claims());
    let before = settings(false, &[("k1", SEED_A)]);
    let during = settings(false, &[("k1", SEED_A), ("k2", SEED_B)]);
    let after = settings(false, &[("k2", SEED_B)]);
    assert!(verify(&token_1, &before, at(NOW)).is_ok());
    assert!(verify(&token_2, &before, at(NOW)).is_err());
    assert!(verify(&token_1, &during, at(NOW)).is_ok());
    assert!(verify(&token_2, &during, at(NOW)).is_ok());
    assert!(refusal(&token_1, &after).contains("kid"));
    assert!(verify(&token_2, &after, at(NOW)).is_ok());
}

#[test]
fn alg_confusion_and_none_are_refused() {
    let public_only = settings(false, &[("k1", SEED_A)]);
    let secret_only = settings(true, &[]);
    // An HS256 token when only public keys are set, even one "signed" with the public key.
    let (_, pk) = super::mint::ed25519_pair(SEED_A);
    let forged = hs256(&pk, &claims());
    assert!(refusal(&forged, &public_only).contains("HS256 tokens are not accepted"));
    assert!(refusal(&hs256(SECRET, &claims()), &public_only).contains("HS256"));
    // And the reverse.
    let ed = eddsa(SEED_A, Some("k1"), &claims());
    assert!(refusal(&ed, &secret_only).contains("EdDSA tokens are not accepted"));
    // alg none, with or without a signature.
    let header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64url(claims().to_string().as_bytes());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}.c2ln"),
    ] {
        let both = settings(true, &[("k1", SEED_A)]);
        assert!(refusal(&token, &both).contains("alg none"), "{token}");
    }
    // Other algorithms, and a header without one.
    for alg in [
        r#"{"alg":"RS256"}"#,
        r#"{"alg":"HS512"}"#,
        r#"{"typ":"JWT"}"#,
    ] {
        let input = format!("{}.{payload}", b64url(alg.as_bytes()));
        let token = hs256_raw(SECRET, &input);
        assert!(refusal(&token, &secret_only).contains("alg"), "{alg}");
    }
    // crit extensions are refused rather than ignored.
    let input = format!("{}.{payload}", b64url(br#"{"alg":"HS256","crit":["exp"]}"#));
    assert!(refusal(&hs256_raw(SECRET, &input), &secret_only).contains("crit"));
}

#[test]
fn a_tampered_token_does_not_verify() {
    let s = settings(true, &[("k1", SEED_A)]);
    for token in [
        hs256(SECRET, &claims()),
        eddsa(SEED_A, Some("k1"), &claims()),
    ] {
        let parts: Vec<&str> = token.split('.').collect();
        let other = b64url(with(json!({"sub": "admin"})).to_string().as_bytes());
        let tampered = format!("{}.{other}.{}", parts[0], parts[2]);
        assert!(refusal(&tampered, &s).contains("does not verify"));
    }
    assert!(refusal(&hs256(b"another secret", &claims()), &s).contains("does not verify"));
}

#[test]
fn every_claim_rule() {
    let s = settings(true, &[]);
    let cases: &[(Value, &str)] = &[
        (json!({"sub": null}), "no sub"),
        (json!({"sub": ""}), "1 to 128"),
        (json!({"sub": "x".repeat(129)}), "1 to 128"),
        (json!({"sub": 42}), "sub claim must be a string"),
        (json!({"name": null}), "no name"),
        (json!({"name": "  "}), "not a valid member name"),
        (json!({"name": "a\u{200b}b"}), "not a valid member name"),
        (json!({"name": ["Alice"]}), "name claim must be a string"),
        (json!({"room": null}), "no room"),
        (json!({"room": 1}), "room claim"),
        (json!({"exp": null}), "no exp"),
        (json!({"exp": "tomorrow"}), "exp claim must be a number"),
        (json!({"exp": -5}), "exp claim must be a number"),
        (json!({"nbf": "x"}), "nbf claim must be a number"),
        (json!({"iat": true}), "iat claim must be a number"),
        (json!({"owner": "yes"}), "owner claim"),
        (json!({"create": 1}), "create claim"),
        (json!({"exp": NOW - SKEW_S - 1}), "expired"),
        (json!({"nbf": NOW + SKEW_S + 1}), "not valid yet"),
        (
            json!({"iat": NOW + SKEW_S + 1, "exp": NOW + 700}),
            "issued in the future",
        ),
        (json!({"exp": NOW + 86_401}), "JOIN_TOKEN_MAX_TTL_S"),
    ];
    for (extra, why) in cases {
        let token = hs256(SECRET, &with(extra.clone()));
        let got = refusal(&token, &s);
        assert!(got.contains(why), "{extra}: {got}");
    }
    // 128 characters (not bytes) is fine; a fractional NumericDate too.
    let ok = with(json!({"sub": "é".repeat(128), "exp": (NOW + 10) as f64 + 0.5}));
    assert!(verify(&hs256(SECRET, &ok), &s, at(NOW)).is_ok());
}

#[test]
fn skew_edges() {
    let s = settings(true, &[]);
    let exp = |e: u64| hs256(SECRET, &with(json!({"exp": e, "iat": null})));
    // exp + 60 s is the last accepted second.
    assert!(verify(&exp(NOW - SKEW_S), &s, at(NOW)).is_ok());
    assert!(verify(&exp(NOW - SKEW_S - 1), &s, at(NOW)).is_err());
    let nbf = |n: u64| hs256(SECRET, &with(json!({"nbf": n})));
    assert!(verify(&nbf(NOW + SKEW_S), &s, at(NOW)).is_ok());
    assert!(verify(&nbf(NOW + SKEW_S + 1), &s, at(NOW)).is_err());
    let iat = |i: u64| hs256(SECRET, &with(json!({"iat": i})));
    assert!(verify(&iat(NOW + SKEW_S), &s, at(NOW)).is_ok());
    assert!(verify(&iat(NOW + SKEW_S + 1), &s, at(NOW)).is_err());
}

#[test]
fn the_ttl_cap_counts_from_iat_or_now_and_zero_turns_it_off() {
    let mut s = settings(true, &[]);
    let t = hs256(SECRET, &with(json!({"iat": null, "exp": NOW + 86_400})));
    assert!(verify(&t, &s, at(NOW)).is_ok());
    let t = hs256(
        SECRET,
        &with(json!({"iat": NOW - 100, "exp": NOW + 86_350})),
    );
    assert!(refusal(&t, &s).contains("JOIN_TOKEN_MAX_TTL_S"));
    s.max_ttl_s = 0;
    let t = hs256(SECRET, &with(json!({"exp": NOW + 10 * 86_400})));
    assert!(verify(&t, &s, at(NOW)).is_ok());
}

#[test]
fn room_claims() {
    let s = settings(true, &[]);
    let c = |room: &str| verify(&hs256(SECRET, &with(json!({"room": room}))), &s, at(NOW)).unwrap();
    assert!(c("lobby").for_room("lobby").is_ok());
    assert!(c(" Lobby ").for_room("lobby").is_ok());
    assert!(c("*").for_room("anything").is_ok());
    let no = c("lobby").for_room("kitchen").unwrap_err().0;
    assert!(no.contains("another room"));
    assert!(c("*x").for_room("lobby").is_err());
}

#[test]
fn shape_refusals_name_the_rule_and_never_echo_the_token() {
    let s = settings(true, &[("k1", SEED_A)]);
    let good = hs256(SECRET, &claims());
    let huge = format!("{good}{}", "A".repeat(MAX_TOKEN_BYTES));
    let cases = [
        (huge.as_str(), "over 4 KiB"),
        ("", "three base64url parts"),
        ("abc", "three base64url parts"),
        ("a.b.c.d", "three base64url parts"),
        ("!!!.e30.sig", "header is not base64url JSON"),
        ("e30.e30.%%%", "signature is not base64url"),
        // Header `[]` and `"x"`: JSON, but not objects.
        ("W10.e30.", "header is not base64url JSON"),
        ("Ingi.e30.", "header is not base64url JSON"),
    ];
    for (token, why) in cases {
        let got = refusal(token, &s);
        assert!(got.contains(why), "{token:.40}: {got}");
        assert!(token.len() < 8 || !got.contains(token));
    }
    // Claims that are not a JSON object, behind a valid signature.
    let header = b64url(br#"{"alg":"HS256"}"#);
    for payload in ["[1,2]", "null", "{", "\"sub\""] {
        let t = hs256_raw(SECRET, &format!("{header}.{}", b64url(payload.as_bytes())));
        assert!(
            refusal(&t, &s).contains("claims are not base64url JSON"),
            "{payload}"
        );
    }
}

#[test]
fn fuzz_never_panics() {
    use proptest::prelude::*;
    let s = settings(true, &[("k1", SEED_A)]);
    let header = b64url(br#"{"alg":"HS256"}"#);
    // Deeply nested JSON in the claims, behind a valid signature.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let t = hs256_raw(SECRET, &format!("{header}.{}", b64url(nested.as_bytes())));
    assert!(verify(&t, &s, at(NOW)).is_err());
    let nested = format!(
        "{{\"sub\":{}1{}}}",
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    let t = hs256_raw(SECRET, &format!("{header}.{}", b64url(nested.as_bytes())));
    assert!(verify(&t, &s, at(NOW)).is_err());
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&".{0,300}", |input| {
            let _ = verify(&input, &s, at(NOW));
            Ok(())
        })
        .unwrap();
    // Signed garbage claims: every value type in every claim.
    let values = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,140}".prop_map(Value::from),
        Just(json!([1, {"a": []}])),
        Just(json!({"nested": {"x": 1}})),
    ];
    let fields = [
        "sub", "name", "room", "exp", "nbf", "iat", "owner", "create",
    ];
    runner
        .run(&proptest::collection::vec(values, 8), |vals| {
            let mut c = serde_json::Map::new();
            for (f, v) in fields.iter().zip(vals) {
                c.insert(f.to_string(), v);
            }
            let _ = verify(&hs256(SECRET, &Value::Object(c)), &s, at(NOW));
            Ok(())
        })
        .unwrap();
}

#[test]
fn jwks_parsing_skips_what_is_not_ed25519_and_debug_hides_the_secret() {
    let set = json!({"keys": [
        {"kty": "OKP", "crv": "Ed25519", "kid": "a", "x": b64url(&[1; 32])},
        {"kty": "RSA", "kid": "r", "n": "..", "e": "AQAB"},
        {"kty": "OKP", "crv": "Ed25519", "kid": "short", "x": b64url(&[1; 31])},
        {"kty": "OKP", "crv": "X25519", "kid": "x", "x": b64url(&[1; 32])},
    ]});
    let (keys, skipped) = Keys::from_vars(Some("s3cret"), Some(&set.to_string()));
    assert_eq!(skipped, 3);
    assert_eq!(keys.public.len(), 1);
    assert!(!format!("{keys:?}").contains("s3cret"));
    let (keys, skipped) = Keys::from_vars(Some(" "), Some("not json"));
    assert!(keys.is_empty());
    assert_eq!(skipped, 1);
    assert_eq!(Mode::parse(None), Mode::Off);
    assert_eq!(Mode::parse(Some("optional")), Mode::Optional);
    assert_eq!(Mode::parse(Some("required")), Mode::Required);
    assert_eq!(
        Mode::parse(Some("requierd")),
        Mode::Required,
        "fails closed"
    );
}

#[test]
fn identities_are_digests_of_the_sub() {
    assert_eq!(identity("42"), identity("42"));
    assert_ne!(identity("42"), identity("43"));
    assert!(!identity("user-42").contains("user-42"));
}

#[test]
fn making_a_room_needs_a_bearer_with_create() {
    let mut s = settings(true, &[]);
    let create = hs256(SECRET, &with(json!({"create": true, "room": "*"})));
    let bearer = format!("Bearer {create}");
    assert_eq!(
        may_create(Some(&bearer), &s, at(NOW)),
        Ok(Some(identity("user-42")))
    );
    assert_eq!(
        may_create(Some(&format!("bearer  {create} ")), &s, at(NOW)).map(|o| o.is_some()),
        Ok(true)
    );
    let refused = |h: Option<&str>, s: &Settings| {
        let e = may_create(h, s, at(NOW)).unwrap_err();
        assert_eq!((e.status, e.code), (401, "unauthorized"));
        e.message
    };
    assert!(refused(None, &s).contains("Bearer"));
    assert!(refused(Some(&create), &s).contains("Bearer <token>"));
    let plain = format!("Bearer {}", hs256(SECRET, &claims()));
    assert!(refused(Some(&plain), &s).contains("create claim"));
    assert!(refused(Some("Bearer x.y.z"), &s).contains("not base64url"));
    // Optional: none is fine (an anonymous room), a bad one is not. Off: ignored.
    s.mode = Mode::Optional;
    assert_eq!(may_create(None, &s, at(NOW)), Ok(None));
    refused(Some(&plain), &s);
    s.mode = Mode::Off;
    assert_eq!(may_create(Some(&plain), &s, at(NOW)), Ok(None));
}

/// Tokens minted by docs/embedding.md's snippets (Node.js crypto, HS256 and EdDSA, and Python's
/// standard library), with the JWKS its key snippet printed: another implementation's output.
#[test]
fn tokens_minted_as_the_docs_show_verify() {
    const JWKS: &str = r#"{"keys":[{"crv":"Ed25519","x":"0qws0pFjtufThu5HxdiY9qFTsN0UljHmtVBeBz4O1u0","kty":"OKP","kid":"app-2026-01"}]}"#;
    const NODE_HS256: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwibmFtZSI6IkFsaWNlIiwicm9vbSI6ImxvYmJ5IiwiaWF0IjoxNzk2NTIzNTA0LCJleHAiOjE3OTY1MjcxMDR9.VzS-z1UBuL3zWZ4Nwkjjlm0fJDNRPxw0RE1dUTnNAro";
    const NODE_EDDSA: &str = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6ImFwcC0yMDI2LTAxIn0.eyJzdWIiOiJ1c2VyLTQyIiwibmFtZSI6IkFsaWNlIiwicm9vbSI6ImxvYmJ5IiwiaWF0IjoxNzk2NTIzNTA0LCJleHAiOjE3OTY1MjcxMDR9.6fOTBW1w41_WZ8JNf2R9IP35iYN3EiaO2DM1UUhC9niZVuCfE43jdQmJrlwmssn5foLbBTjyfnTXhsK7TdofDw";
    const PYTHON_HS256: &str = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAidXNlci00MiIsICJuYW1lIjogIkFsaWNlIiwgInJvb20iOiAibG9iYnkiLCAiaWF0IjogMTc5NjUyMzUwNCwgImV4cCI6IDE3OTY1MjcxMDR9.WGwOKNRAU5pNcT-sRlUOOnhU4Qx1iX4oPXaFeewu_ZY";
    let (keys, skipped) = Keys::from_vars(Some("a-long-random-secret"), Some(JWKS));
    assert_eq!(skipped, 0);
    let s = Settings {
        mode: Mode::Required,
        keys,
        max_ttl_s: 86_400,
    };
    for token in [NODE_HS256, NODE_EDDSA, PYTHON_HS256] {
        let c = verify(token, &s, 1_796_523_504_000).unwrap();
        assert_eq!((c.sub.as_str(), c.name.as_str()), ("user-42", "Alice"));
        assert!(c.for_room("lobby").is_ok());
    }
}

#[test]
fn base64url_decodes_exactly_what_the_base64_crate_does() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..80), |bytes| {
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(base64url(&text), Some(bytes));
            Ok(())
        })
        .unwrap();
    runner
        .run(&"[A-Za-z0-9_+/=.-]{0,40}", |text| {
            prop_assert_eq!(base64url(&text), URL_SAFE_NO_PAD.decode(&text).ok());
            Ok(())
        })
        .unwrap();
    assert_eq!(base64url("QQ"), Some(b"A".to_vec()));
    assert_eq!(base64url("QR"), None, "stray bits");
    assert_eq!(base64url("Q"), None);
    assert_eq!(base64url("QQ=="), None, "no padding");
}
