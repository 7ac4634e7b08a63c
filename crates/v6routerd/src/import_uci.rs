//! `v6routerd import-uci [--dir DIR] [--strict]`: reads OpenWrt's UCI files
//! `network` and `dhcp` (and the package's own `v6router`) from DIR,
//! default /etc/config, and prints the equivalent v6router.toml on stdout.
//! What cannot be carried over is named on stderr with file:line and the
//! reason, in the style of `check`; `--strict` makes that an error. The
//! translation itself is pure (`v6config::uci`).

use std::path::{Path, PathBuf};
use v6config::uci::{import, Input};

const USAGE: &str =
    "usage: v6routerd import-uci [--dir DIR] [--strict]   (DIR default /etc/config)";

/// Exit status: 0 printed, 1 errors (or warnings with --strict), 2 usage.
pub fn main(args: Vec<String>) -> i32 {
    let mut dir = PathBuf::from("/etc/config");
    let mut strict = false;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => match it.next() {
                Some(d) => dir = d.into(),
                None => return usage("--dir needs a directory"),
            },
            "--strict" => strict = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            other => return usage(&format!("unknown argument `{other}`")),
        }
    }
    run(&dir, strict)
}

fn usage(msg: &str) -> i32 {
    eprintln!("v6routerd import-uci: {msg}\n{USAGE}");
    2
}

fn run(dir: &Path, strict: bool) -> i32 {
    let read = |name: &str, required: bool| -> Result<Option<(PathBuf, String)>, String> {
        let p = dir.join(name);
        match std::fs::read_to_string(&p) {
            Ok(t) => Ok(Some((p, t))),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", p.display())),
        }
    };
    let files = (
        read("network", true),
        read("dhcp", false),
        read("v6router", false),
    );
    let (network, dhcp, own) = match files {
        (Ok(Some(n)), Ok(d), Ok(o)) => (n, d, o),
        (n, d, o) => {
            for e in [n.err(), d.err(), o.err()].into_iter().flatten() {
                eprintln!("v6routerd import-uci: {e}");
            }
            return 1;
        }
    };
    let out = import(&Input {
        network: (&network.0, &network.1),
        dhcp: dhcp.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        v6router: own.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
    });
    for d in &out.diags {
        eprint!("{d}");
    }
    let errors = out.diags.iter().filter(|d| d.is_error()).count();
    let dropped = out.diags.len() - errors;
    if errors > 0 {
        eprintln!(
            "v6routerd import-uci: {errors} error{}; nothing written",
            plural(errors)
        );
        return 1;
    }
    // The result must load as `check` loads it; if not, that is our bug.
    if let Err(d) = v6config::parse(&out.toml, Path::new("<import-uci output>")) {
        eprint!("{d}");
        eprintln!("v6routerd import-uci: the generated configuration does not validate (a bug in import-uci)");
        return 1;
    }
    if strict && dropped > 0 {
        eprintln!(
            "v6routerd import-uci: {dropped} option{} not carried over (--strict); nothing written",
            plural(dropped)
        );
        return 1;
    }
    print!("{}", out.toml);
    if dropped > 0 {
        eprintln!(
            "v6routerd import-uci: {dropped} option{} not carried over",
            plural(dropped)
        );
    }
    0
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
