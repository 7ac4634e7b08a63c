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
mod tests;
