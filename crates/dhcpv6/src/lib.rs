//! DHCPv6 (RFC 8415): message codec, server engine, lease store.
//!
//! - [`wire`]: messages and options decoded into owned trees and emitted
//!   back (client and server side).
//! - [`engine`]: the server's rules, sans-IO (packets and time in, actions
//!   out); each handler builds one `Reply` (options, lease records, routes).
//!   Inside it: `table` (the leases), `offers` (what Advertises hold) and
//!   `budget` (the Solicits a link answers a second).
//! - [`client`]: the uplink client for a delegated prefix, sans-IO.
//! - [`relay_agent`]: relay mode's DHCPv6 relay agent (§19.1), sans-IO.
//! - [`store`]: the append-only lease journal with group commit and compaction.
//! - [`import`]: ISC dhcpd and Kea lease files, for migration.
//! - [`io`]: the server's socket.
//!
//! Tests of the engine and the client live in `src/engine/tests.rs` and
//! `src/client/tests.rs` (`#[cfg(test)] mod tests;`), as in crates/ripng.

mod budget;
pub mod client;
pub mod engine;
pub mod import;
pub mod io;
pub mod lease;
mod offers;
mod reconfigure;
pub mod relay_agent;
pub mod store;
mod table;
pub mod wire;
