//! `v6routerd check -c FILE`: validate, print lints, and check the config
//! against the running system (interfaces that do not exist, other programs
//! doing what the config asks of v6router).

use crate::rivals;
use std::path::Path;
use std::process::ExitCode;
use v6config::{Diagnostic, Severity};

pub fn run(path: &Path) -> ExitCode {
    let loaded = match v6config::load(path) {
        Ok(l) => l,
        Err(d) => {
            eprint!("{d}");
            let n = d.errors().count();
            eprintln!(
                "{}: {n} error{}",
                path.display(),
                if n == 1 { "" } else { "s" }
            );
            return ExitCode::from(1);
        }
    };
    let mut warnings = loaded.warnings;
    warnings.extend(system_lints(path, &loaded.config));
    for w in &warnings {
        eprint!("{w}");
    }
    println!(
        "{}: OK ({} warning{})",
        path.display(),
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" }
    );
    ExitCode::SUCCESS
}

/// Lints that need the system: configured interfaces that do not exist (they
/// are picked up when they appear, but a typo is the likelier cause).
fn system_lints(path: &Path, c: &v6config::Config) -> Vec<Diagnostic> {
    let present: Vec<String> = match std::fs::read_dir("/sys/class/net") {
        Ok(d) => d
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => return vec![],
    };
    let src = std::fs::read_to_string(path).unwrap_or_default();
    let loc = v6config::diag::Locator::new(&src);
    let mut out = Vec::new();
    let mut missing = |key: String, name: &str| {
        if !present.iter().any(|p| p == name) {
            let cands: Vec<&str> = present.iter().map(|s| s.as_str()).collect();
            let help = match v6config::diag::suggest(name, &cands) {
                Some(s) => format!(
                    "did you mean `{s}`? v6routerd will still pick `{name}` up when it appears"
                ),
                None => format!(
                    "v6routerd will pick `{name}` up when it appears; present now: {}",
                    cands.join(", ")
                ),
            };
            out.push(loc.diag(
                path,
                Severity::Warning,
                &key,
                format!("interface `{name}` does not exist on this system"),
                Some(help),
            ));
        }
    };
    for (i, ifc) in c.interfaces.iter().enumerate() {
        missing(format!("interface[{i}].name"), &ifc.name);
    }
    for (i, t) in c.tunnels.iter().enumerate() {
        if let Some(w) = &t.wan {
            missing(format!("tunnel[{i}].wan"), w);
        }
    }
    for r in rivals::find(&rivals::scan(), &rivals::roles_of(c)) {
        let key = role_key(c, r.roles[0]);
        out.push(loc.diag(path, Severity::Warning, &key, r.to_string(), None));
    }
    out
}

/// The config key of the first interface that gives v6router `role`.
fn role_key(c: &v6config::Config, role: rivals::Role) -> String {
    let (field, has): (&str, fn(&v6config::Interface) -> bool) = match role {
        rivals::Role::Ra => ("ra", |i| i.ra.is_some()),
        rivals::Role::Dhcpv6Server => ("dhcpv6", |i| i.dhcpv6.is_some()),
        rivals::Role::Dhcpv6Client => ("uplink", |i| i.uplink.is_some()),
    };
    let i = c.interfaces.iter().position(has).unwrap_or(0);
    format!("interface[{i}].{field}")
}
