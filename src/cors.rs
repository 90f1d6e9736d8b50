//! Which web pages may talk to the API: `ALLOWED_ORIGINS`, a comma-separated list of origins or
//! `*` (the default, like socket.io's `cors: { origin: '*' }`).
//!
//! Every `/api/*` answer carries the CORS headers for an allowed origin; a preflight (`OPTIONS`)
//! is answered here; a WebSocket upgrade or a `POST` from a browser page of another origin is
//! refused with `403 origin_not_allowed`. CORS alone would not stop those: a browser sends a
//! WebSocket upgrade and a simple `POST` without asking first, so the server has to say no. A
//! request without `Origin` (a server, a script, curl) is not a browser page and is not refused
//! for it: tokens, not origins, are what keeps those out.

use crate::api::HttpError;

/// How long a browser may cache a preflight's answer.
pub const MAX_AGE_S: u32 = 86_400;

/// `ALLOWED_ORIGINS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    Any,
    /// Normalized origins (`scheme://host[:port]`, lower case, no trailing slash).
    List(Vec<String>),
}

impl Origins {
    /// Unset, empty or `*` is any origin.
    pub fn parse(var: Option<&str>) -> Origins {
        let list: Vec<String> = var
            .unwrap_or_default()
            .split(',')
            .map(normalize)
            .filter(|o| !o.is_empty())
            .collect();
        if list.is_empty() || list.iter().any(|o| o == "*") {
            Origins::Any
        } else {
            Origins::List(list)
        }
    }

    /// Whether a page of `origin` may use the API served at `own` (the request's own origin:
    /// the Worker's own page is always allowed).
    pub fn allows(&self, origin: &str, own: &str) -> bool {
        let origin = normalize(origin);
        match self {
            Origins::Any => true,
            Origins::List(list) => origin == normalize(own) || list.contains(&origin),
        }
    }
}

fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// What the CORS layer does with one `/api/*` request, decided before routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A preflight: answer 204 with these headers.
    Preflight(Vec<(&'static str, String)>),
    /// Go on, and add these headers to the answer (whatever it is).
    Serve(Vec<(&'static str, String)>),
    /// Refuse (403), with these headers on the refusal.
    Refuse(HttpError, Vec<(&'static str, String)>),
}

/// Decides for a request of `method` with the `Origin` header `origin` (if any) and an
/// `Upgrade: websocket` or not, to the API at `own`.
pub fn decide(
    origins: &Origins,
    method: &str,
    origin: Option<&str>,
    upgrade: bool,
    own: &str,
) -> Decision {
    let allowed = origin.map(|o| origins.allows(o, own));
    let mut headers = vec![("Vary", "Origin".to_string())];
    match (origins, origin, allowed) {
        (Origins::Any, _, _) => headers.push(("Access-Control-Allow-Origin", "*".to_string())),
        (Origins::List(_), Some(o), Some(true)) => {
            headers.push(("Access-Control-Allow-Origin", o.trim().to_string()));
        }
        _ => {}
    }
    let refused = allowed == Some(false);
    if method == "OPTIONS" {
        if refused {
            return Decision::Refuse(not_allowed(), headers);
        }
        headers.extend([
            (
                "Access-Control-Allow-Methods",
                "GET, HEAD, POST, PUT, OPTIONS".to_string(),
            ),
            (
                "Access-Control-Allow-Headers",
                "Content-Type, Authorization, Range".to_string(),
            ),
            ("Access-Control-Max-Age", MAX_AGE_S.to_string()),
        ]);
        return Decision::Preflight(headers);
    }
    // A page's GET is harmless without the CORS headers (the browser will not show it the
    // answer); an upgrade or a POST acts, so it is refused outright.
    if refused && (upgrade || method == "POST") {
        return Decision::Refuse(not_allowed(), headers);
    }
    Decision::Serve(headers)
}

fn not_allowed() -> HttpError {
    HttpError::new(
        403,
        "origin_not_allowed",
        "this page's origin may not use this chat (ALLOWED_ORIGINS)",
    )
}

/// The origin (`scheme://host[:port]`) of an absolute URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://chat.example";

    fn header<'a>(headers: &'a [(&str, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn parses_the_var() {
        assert_eq!(Origins::parse(None), Origins::Any);
        assert_eq!(Origins::parse(Some(" * ")), Origins::Any);
        assert_eq!(Origins::parse(Some("")), Origins::Any);
        assert_eq!(
            Origins::parse(Some("https://A.example/, http://localhost:3000")),
            Origins::List(vec![
                "https://a.example".into(),
                "http://localhost:3000".into()
            ])
        );
        assert_eq!(origin_of("https://h:8787/api/rooms?x=1"), "https://h:8787");
        assert_eq!(origin_of("http://h"), "http://h");
    }

    #[test]
    fn any_origin_gets_a_star() {
        for origin in [None, Some("https://x.example")] {
            let Decision::Serve(h) = decide(&Origins::Any, "POST", origin, false, OWN) else {
                panic!("served");
            };
            assert_eq!(header(&h, "Access-Control-Allow-Origin"), Some("*"));
            assert_eq!(header(&h, "Vary"), Some("Origin"));
        }
    }

    #[test]
    fn a_listed_origin_is_echoed_and_others_are_refused_when_they_act() {
        let o = Origins::parse(Some("https://app.example"));
        let Decision::Serve(h) = decide(&o, "GET", Some("https://APP.example"), true, OWN) else {
            panic!("an allowed upgrade is served");
        };
        assert_eq!(
            header(&h, "Access-Control-Allow-Origin"),
            Some("https://APP.example")
        );
        assert_eq!(header(&h, "Vary"), Some("Origin"));
        for (method, upgrade) in [("GET", true), ("POST", false)] {
            let d = decide(&o, method, Some("https://evil.example"), upgrade, OWN);
            let Decision::Refuse(e, h) = d else {
                panic!("{method} refused");
            };
            assert_eq!((e.status, e.code), (403, "origin_not_allowed"));
            assert_eq!(header(&h, "Access-Control-Allow-Origin"), None);
        }
        // A GET is served, without the header the browser needs to read it.
        let Decision::Serve(h) = decide(&o, "GET", Some("https://evil.example"), false, OWN) else {
            panic!("served");
        };
        assert_eq!(header(&h, "Access-Control-Allow-Origin"), None);
        // No Origin: not a browser page, not refused.
        assert!(matches!(
            decide(&o, "POST", None, false, OWN),
            Decision::Serve(_)
        ));
        assert!(matches!(
            decide(&o, "GET", None, true, OWN),
            Decision::Serve(_)
        ));
        // The Worker's own page always may; "null" (a sandboxed page) may not.
        assert!(matches!(
            decide(&o, "GET", Some(OWN), true, OWN),
            Decision::Serve(_)
        ));
        assert!(matches!(
            decide(&o, "GET", Some("null"), true, OWN),
            Decision::Refuse(..)
        ));
    }

    #[test]
    fn preflights() {
        let o = Origins::parse(Some("https://app.example"));
        let Decision::Preflight(h) = decide(&o, "OPTIONS", Some("https://app.example"), false, OWN)
        else {
            panic!("preflight");
        };
        assert_eq!(
            header(&h, "Access-Control-Allow-Methods"),
            Some("GET, HEAD, POST, PUT, OPTIONS")
        );
        assert_eq!(
            header(&h, "Access-Control-Allow-Headers"),
            Some("Content-Type, Authorization, Range")
        );
        assert_eq!(header(&h, "Access-Control-Max-Age"), Some("86400"));
        assert!(matches!(
            decide(&o, "OPTIONS", Some("https://evil.example"), false, OWN),
            Decision::Refuse(..)
        ));
    }
}
