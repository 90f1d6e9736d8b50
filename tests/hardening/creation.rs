//! Item 6: making rooms is limited per client address (`ADDRESS_ROOMS_PER_HOUR`, 3 on this
//! server), keyed like every per-address limit (an IPv6 /64 is one client).

use crate::common::*;

use super::limits;

fn create_from(s: &Server, address: &str) -> HttpResponse {
    http_blocking(
        "POST",
        &s.url("/api/rooms"),
        &[("CF-Connecting-IP", address)],
    )
}

#[tokio::test]
async fn rooms_per_address_are_limited_with_retry_after() {
    let s = limits();
    for i in 0..3 {
        let r = create_from(s, "2001:db8:66:1::1");
        assert_eq!(r.status, 201, "room {i}: {}", r.body);
    }
    // The same /64 from another address is the same client.
    let r = create_from(s, "2001:db8:66:1::ffff");
    assert_eq!(r.status, 429, "{}", r.body);
    let body = r.json();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After in seconds: {:?}", r.header("retry-after")));
    // One room refills in an hour / 3 = 1200 s.
    assert!((1..=1200).contains(&retry), "Retry-After {retry}");
    // Another client is not affected.
    let r = create_from(s, "2001:db8:66:2::1");
    assert_eq!(r.status, 201, "{}", r.body);
}
