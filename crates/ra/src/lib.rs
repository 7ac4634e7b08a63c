//! Router Advertisements for v6router.
//!
//! - [`wire`]: RS/RA messages and their options (RFC 4861 §4.1, §4.2, §4.6;
//!   RFC 4191; RFC 8106; RFC 8781; RFC 8910) as plain structs; parse with the
//!   receive checks of RFC 4861 §6.1 and emit, one parser and writer per option.
//! - [`engine`]: the per-interface advertiser of RFC 4861 §6.2, pure, driven by
//!   virtual time: timers, RS answers, the prefix table with renumbering
//!   (RFC 9096), consistency checks of other routers' RAs (§6.2.7).
//! - [`relay`]: the uplink's RA content, relayed (odhcpd's `ra relay`).
//! - [`solicit`]: Router Solicitations from the WAN (RFC 4861 §6.3.7).
//! - [`io`]: the raw ICMPv6 socket.
//!
//! Tests sit beside what they test: `src/engine/tests.rs`, `src/wire/tests.rs`.

pub mod engine;
pub mod io;
pub mod ndproxy;
pub mod relay;
pub mod solicit;
pub mod wire;
