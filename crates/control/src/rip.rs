//! v6ctl types and renderers for RIPng (owned by the rip helper).
//!
//! CONTRACT with lib.rs (keep these signatures): `render_routes` (`show
//! route`), `render_neighbors` (`show rip neighbors`), `render_interfaces`
//! (`show rip interfaces`). `show protocols` is answered by the core with
//! `ProtocolInfo` rows; the RIPng service contributes its row through the
//! supervisor (see crates/v6routerd/src/service.rs).

/// Placeholder: shows the raw answer.
pub fn render_routes(data: &serde_json::Value) -> Result<String, String> {
    Ok(serde_json::to_string_pretty(data).unwrap_or_default() + "\n")
}

/// Placeholder: shows the raw answer.
pub fn render_neighbors(data: &serde_json::Value) -> Result<String, String> {
    Ok(serde_json::to_string_pretty(data).unwrap_or_default() + "\n")
}

/// Placeholder: shows the raw answer.
pub fn render_interfaces(data: &serde_json::Value) -> Result<String, String> {
    Ok(serde_json::to_string_pretty(data).unwrap_or_default() + "\n")
}
