//! Small JSON state files in state_dir (RA prefix history, uplink bindings,
//! subnet choices, ULA), read and written one way: through
//! `v6common::durable`, so each survives a power cut whole or not at all.
//! A file that is torn, empty or not what we expect is logged and treated
//! as absent; the next save replaces it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;
use tracing::warn;

/// The file's contents, or None when it is absent or unreadable (logged,
/// naming `what` it holds).
pub fn load_json<T: DeserializeOwned>(path: &Path, what: &str) -> Option<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            warn!(
                "cannot read {what} {}: {e}; starting without it",
                path.display()
            );
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            warn!(
                "ignoring {what} {}: {e}; it is replaced at the next save",
                path.display()
            );
            None
        }
    }
}

/// Write `value` durably; a failure is logged (the state stays in memory
/// and the next save tries again). Returns whether it was written.
pub fn save_json<T: Serialize>(path: &Path, value: &T, what: &str) -> bool {
    let res = serde_json::to_vec_pretty(value)
        .map_err(std::io::Error::other)
        .and_then(|b| v6common::durable::write(path, &b));
    if let Err(e) = &res {
        warn!("cannot save {what} {}: {e}", path.display());
    }
    res.is_ok()
}
