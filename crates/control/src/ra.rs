//! v6ctl types and renderers for ra (owned by the ra helper).
//!
//! CONTRACT with lib.rs (keep these signatures): `render` turns the JSON the
//! daemon's RA service answers to `show ra` into birdc-style text.

/// Placeholder until the RA status types land: shows the raw answer.
pub fn render(data: &serde_json::Value) -> Result<String, String> {
    Ok(serde_json::to_string_pretty(data).unwrap_or_default() + "\n")
}
