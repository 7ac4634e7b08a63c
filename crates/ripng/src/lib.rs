//! RIPng (RFC 2080): wire format, routing engine and sockets.
//!
//! - [`wire`]: the packet format (§2.1), typed view plus `Repr`.
//! - [`engine`]: the routing table, timers, split horizon, triggered
//!   updates and neighbours, pure and driven with virtual time (§2.3–2.5).
//! - [`io`]: the UDP socket on port 521 (multicast group, packet info).

pub mod engine;
pub mod io;
pub mod wire;
