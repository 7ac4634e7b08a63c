use super::*;

#[test]
fn only_get_metrics_is_served() {
    let p = |s: &str| parse_head(s.as_bytes());
    assert_eq!(
        p("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
        Asked::Metrics
    );
    assert_eq!(p("GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Asked::Metrics);
    assert_eq!(p("HEAD /metrics HTTP/1.1\r\n\r\n"), Asked::Metrics);
    assert_eq!(p("GET / HTTP/1.1\r\n\r\n"), Asked::NotFound);
    assert_eq!(p("POST /metrics HTTP/1.1\r\n\r\n"), Asked::WrongMethod);
    assert_eq!(p("GET /metrics\r\n\r\n"), Asked::Malformed);
    assert_eq!(p("GET /metrics SPDY/3\r\n\r\n"), Asked::Malformed);
    assert_eq!(p(""), Asked::Malformed);
    assert_eq!(p("\u{0}\u{1}"), Asked::Malformed);
}
