//! v6router configuration: the TOML schema ([`schema`]), loading with
//! diagnostics that name file, line, column and key ([`diag`]), and semantic
//! validation plus cross-section lints ([`validate`]).
//!
//! This crate never touches the system: checks that need the kernel (does the
//! interface exist?) live in `v6routerd check`.

mod de;
pub mod diag;
pub mod docs;
pub mod schema;
pub mod uci;
pub mod validate;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use schema::*;
pub use validate::{parse_hex_bytes, parse_mac, PoolRange};

use std::path::Path;

/// A configuration that passed validation, with the warnings it produced.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// Read and validate a config file.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    match std::fs::read_to_string(path) {
        Ok(src) => parse(&src, path),
        Err(e) => Err(Diagnostics(vec![Diagnostic {
            severity: Severity::Error,
            file: path.to_path_buf(),
            line: 0,
            col: 0,
            key: None,
            message: format!("cannot read the configuration: {e}"),
            help: None,
            source_line: None,
            width: 0,
        }])),
    }
}

/// Parse and validate config text; `file` is only used in diagnostics.
pub fn parse(src: &str, file: &Path) -> Result<Loaded, Diagnostics> {
    let locator = diag::Locator::new(src);
    let config: Config = match de::from_str(src) {
        Ok(c) => c,
        Err(e) => return Err(Diagnostics(vec![toml_error(src, file, &locator, &e)])),
    };
    let diags = validate::validate(&config, file, &locator);
    if diags.iter().any(|d| d.is_error()) {
        return Err(Diagnostics(diags));
    }
    Ok(Loaded {
        config,
        warnings: diags,
    })
}

fn backticked(msg: &str) -> Vec<&str> {
    msg.split('`').skip(1).step_by(2).collect()
}

fn toml_error(src: &str, file: &Path, loc: &diag::Locator<'_>, e: &de::Error) -> Diagnostic {
    let raw = e.message.trim().to_string();
    let (line, col, width) = match e.span.clone() {
        Some(sp) => {
            let (l, c) = diag::line_col(src, sp.start);
            let w = src
                .get(sp.clone())
                .map(|s| s.lines().next().unwrap_or("").chars().count())
                .unwrap_or(1);
            (l, c, w)
        }
        None => (0, 0, 0),
    };
    let mut key = if line > 0 {
        loc.path_at(line, col)
    } else {
        None
    };
    let mut help = None;
    let mut message = raw.clone();
    if let Some(rest) = raw.strip_prefix("unknown field ") {
        let words = backticked(rest);
        if let Some((bad, cands)) = words.split_first() {
            let table = key.as_deref().map(parent_of_key).unwrap_or_default();
            let fq = if table.is_empty() {
                bad.to_string()
            } else {
                format!("{table}.{bad}")
            };
            message = if table.is_empty() {
                format!("unknown key `{bad}`")
            } else {
                format!("unknown key `{bad}` in [{}]", strip_indices(&table))
            };
            key = Some(fq);
            help = Some(match diag::suggest(bad, cands) {
                Some(s) => {
                    format!("did you mean `{s}`? (keys are lower case, words joined by `_`)")
                }
                None => format!("valid keys here: {}", cands.join(", ")),
            });
        }
    } else if raw.starts_with("missing field") {
        // The span covers the table that lacks it.
        if let Some(f) = backticked(&raw).first() {
            help = Some(format!("add `{f} = ...` to this table"));
        }
    }
    Diagnostic {
        severity: Severity::Error,
        file: file.to_path_buf(),
        line,
        col,
        key,
        message,
        help,
        source_line: diag::source_line(src, line),
        width,
    }
}

/// `interface[1].ra.ManagedFlag` -> `interface[1].ra`; a table header's own path
/// stays as it is.
fn parent_of_key(path: &str) -> String {
    // path_at returns the entry at the error position; for an unknown key that is
    // the key itself, whose parent is the table.
    match path.rfind('.') {
        Some(i) if !path.ends_with(']') => path[..i].to_string(),
        _ => path.to_string(),
    }
}

fn strip_indices(p: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for c in p.chars() {
        match c {
            '[' => skip = true,
            ']' => skip = false,
            _ if !skip => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests;
