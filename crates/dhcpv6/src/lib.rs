//! DHCPv6 (RFC 8415): message codec, server engine, lease store.
//!
//! - [`wire`]: messages and options, parse and emit (client and server side).
//! - [`engine`]: the server's rules, sans-IO (packets and time in, actions out).
//! - [`store`]: the append-only lease journal with group commit and compaction.

pub mod client;
pub mod engine;
pub mod import;
pub mod io;
pub mod lease;
pub mod store;
mod table;
pub mod wire;
