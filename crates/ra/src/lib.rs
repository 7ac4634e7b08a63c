//! Router Advertisements for v6router.
//!
//! - [`wire`]: RS/RA messages and their options (RFC 4861 §4.1, §4.2, §4.6;
//!   RFC 4191; RFC 8106; RFC 8781; RFC 8910), parse with the receive checks of
//!   RFC 4861 §6.1 and emit.
//! - [`engine`]: the per-interface advertiser of RFC 4861 §6.2, pure, driven by
//!   virtual time.
//! - [`io`]: the raw ICMPv6 socket.

pub mod engine;
pub mod io;
pub mod wire;
