//! `v6ctl monitor`: events as they happen, streamed on the control
//! connection after the ordinary answer line.
//!
//! After `{"cmd":"monitor","topic":"leases"}` the daemon answers one
//! `Response` line, then one [`StreamLine`] per line until the client
//! goes away or falls too far behind (then a last `end` line says so).

use serde::{Deserialize, Serialize};

/// What a monitor asks for.
pub const TOPICS: &[&str] = &["all", "leases", "prefixes", "routes"];

/// One event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// API_VERSION of the daemon.
    #[serde(default)]
    pub version: u32,
    /// When it happened, ms since the Unix epoch (UTC).
    pub time_ms: u64,
    /// leases, prefixes or routes.
    pub topic: String,
    /// granted, renewed, declined, released, expired (leases).
    pub action: String,
    /// The address, or PREFIX/LENGTH.
    pub lease: String,
    /// address or prefix.
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub interface: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub duid: String,
    #[serde(default)]
    pub iaid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Event {
    /// Whether a monitor of `topic` wants it.
    pub fn wanted_by(&self, topic: &str) -> bool {
        topic == "all" || topic == self.topic
    }
}

/// A line of the stream after the answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamLine {
    Event(Event),
    /// The stream ends, and why.
    End(String),
}

/// One line of text for an event: local time as birdc prints it, then
/// what happened.
pub fn event_text(e: &Event) -> String {
    let mut o = format!(
        "{} {} {} {} {}",
        crate::rip::local_since(e.time_ms, e.time_ms),
        e.topic,
        e.action,
        e.kind,
        e.lease
    );
    if !e.interface.is_empty() {
        o.push_str(&format!(" on {}", e.interface));
    }
    if !e.duid.is_empty() {
        o.push_str(&format!(" duid {} iaid {:08x}", e.duid, e.iaid));
    }
    if let Some(n) = &e.name {
        o.push_str(&format!(" name {n}"));
    }
    o.push('\n');
    o
}

#[cfg(test)]
mod tests {
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
}
