//! v6ctl types and renderers for dhcpv6 (owned by the dhcp helper).
//!
//! CONTRACT with lib.rs (keep these signatures): `render_leases` for `show
//! leases`, `render_stats` for `show dhcpv6`.

/// Placeholder until the lease types land: shows the raw answer.
pub fn render_leases(data: &serde_json::Value) -> Result<String, String> {
    Ok(serde_json::to_string_pretty(data).unwrap_or_default() + "\n")
}

/// Placeholder until the counter types land: shows the raw answer.
pub fn render_stats(data: &serde_json::Value) -> Result<String, String> {
    Ok(serde_json::to_string_pretty(data).unwrap_or_default() + "\n")
}
