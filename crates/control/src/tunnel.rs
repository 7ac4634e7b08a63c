//! v6ctl types and renderers for tunnels (owned by the tunnel helper).
//!
//! CONTRACT with lib.rs (keep this signature): `render` for `show tunnels`.

/// Placeholder: shows the raw answer.
pub fn render(data: &serde_json::Value) -> Result<String, String> {
    Ok(serde_json::to_string_pretty(data).unwrap_or_default() + "\n")
}
