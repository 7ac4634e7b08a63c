use super::*;

#[test]
fn lines_and_text() {
    let e = Event {
        version: 1,
        time_ms: 1_795_558_112_546,
        topic: "leases".into(),
        action: "granted".into(),
        lease: "2001:db8:1::1000".into(),
        kind: "address".into(),
        interface: "lan0".into(),
        duid: "00:01".into(),
        iaid: 1,
        name: Some("laptop".into()),
    };
    assert!(e.wanted_by("all") && e.wanted_by("leases") && !e.wanted_by("routes"));
    let line = serde_json::to_string(&StreamLine::Event(e.clone())).unwrap();
    assert!(
        line.starts_with(r#"{"event":{"version":1,"time_ms":"#),
        "{line}"
    );
    assert_eq!(
        serde_json::from_str::<StreamLine>(&line).unwrap(),
        StreamLine::Event(e.clone())
    );
    let end: StreamLine = serde_json::from_str(r#"{"end":"cut off"}"#).unwrap();
    assert_eq!(end, StreamLine::End("cut off".into()));
    assert!(event_text(&e).ends_with(
        " leases granted address 2001:db8:1::1000 on lan0 duid 00:01 iaid 00000001 name laptop\n"
    ));
}
