//! The `import-leases` subcommand: another server's leases into our
//! journal, so that a migration keeps every client's address and prefix.

use super::duid::write_duid;
use super::JOURNAL_FILE;
use std::net::Ipv6Addr;
use std::path::Path;
use std::sync::Arc;
use v6config::{Config, PoolRange};
use v6dhcp::import::Imported;
use v6dhcp::lease::{Lease, LeaseKind, LeaseRecord};
use v6dhcp::store::Journal;
use v6dhcp::wire::Duid;

const USAGE: &str = "usage: v6routerd [-c FILE] import-leases --from isc|kea LEASEFILE \
    [--interface NAME] [--server-duid HEX | --keep-server-duid] [--dry-run]";

/// The `import-leases` subcommand: load the configuration, import, print.
pub fn import_main(config: &Path, args: &[String]) -> std::process::ExitCode {
    let cfg = match v6config::load(config) {
        Ok(l) => l.config,
        Err(d) => {
            eprint!("{d}");
            return std::process::ExitCode::from(1);
        }
    };
    match import_leases(&cfg, args) {
        Ok(report) => {
            print!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("v6routerd import-leases: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// The arguments of `import-leases`.
struct Args {
    from: String,
    file: String,
    iface: Option<String>,
    dry: bool,
    server_duid: Option<Duid>,
    keep_server_duid: bool,
}

impl Args {
    fn parse(args: &[String]) -> Result<Args, String> {
        let (mut from, mut file, mut iface, mut dry) = (None, None, None, false);
        let (mut server_duid, mut keep_server_duid) = (None, false);
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--from" => from = it.next().cloned(),
                "--interface" => iface = it.next().cloned(),
                "--dry-run" => dry = true,
                "--keep-server-duid" => keep_server_duid = true,
                "--server-duid" => {
                    let h = it.next().ok_or(USAGE)?;
                    let d = v6config::parse_hex_bytes(h)
                        .ok()
                        .and_then(|b| Duid::from_bytes(&b).ok())
                        .ok_or_else(|| format!("--server-duid `{h}` is not a DUID"))?;
                    server_duid = Some(d);
                }
                f if !f.starts_with('-') && file.is_none() => file = Some(f.to_string()),
                other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
            }
        }
        let (Some(from), Some(file)) = (from, file) else {
            return Err(USAGE.into());
        };
        Ok(Args {
            from,
            file,
            iface,
            dry,
            server_duid,
            keep_server_duid,
        })
    }
}

/// `v6routerd import-leases --from isc|kea FILE [--interface NAME]
/// [--server-duid HEX | --keep-server-duid] [--dry-run]`: read another
/// server's lease file and add its bound, unexpired leases to our journal,
/// so that a migration keeps every client's address and prefix. The old
/// server's DUID (ISC's `server-duid`, or given) becomes ours, so that the
/// clients' Renews, which name it (RFC 8415 §18.2.4), are answered at T1
/// rather than ignored until they Rebind at T2. The daemon must be stopped
/// (it owns the journal while it runs). Returns the text to print, or why not.
pub fn import_leases(cfg: &Config, args: &[String]) -> Result<String, String> {
    let a = Args::parse(args)?;
    if let Some(i) = &a.iface {
        if cfg.interface(i).is_none_or(|x| x.dhcpv6.is_none()) {
            return Err(format!(
                "`{i}` has no [interface.dhcpv6] in the configuration"
            ));
        }
    }
    let imp = read_leases(&a)?;
    let mut report = String::new();
    for (why, line) in &imp.skipped {
        report.push_str(&format!("{}:{line}: skipped: {why}\n", a.file));
    }
    let (records, unplaced) = place(cfg, imp.leases, a.iface.as_deref(), &mut report);
    let path = cfg.router.state_dir.join(JOURNAL_FILE);
    let new_duid = if a.keep_server_duid {
        None
    } else {
        a.server_duid.or(imp.server_duid)
    };
    if let Some(d) = &new_duid {
        report.push_str(&format!("server DUID becomes {d} (the old server's)\n"));
    }
    report.push_str(&format!(
        "{} leases to import into {} ({} not bound, {} expired, {} without a link, {} unreadable)\n",
        records.len(),
        path.display(),
        imp.not_bound,
        imp.expired,
        unplaced,
        imp.skipped.len()
    ));
    if a.dry {
        return Ok(report);
    }
    write(cfg, &path, &records, new_duid.as_ref())?;
    report.push_str("done\n");
    Ok(report)
}

/// The lease file, parsed as `--from` says.
fn read_leases(a: &Args) -> Result<Imported, String> {
    let text = std::fs::read_to_string(&a.file).map_err(|e| format!("{}: {e}", a.file))?;
    let unix = crate::service::unix_secs();
    match a.from.as_str() {
        // dhcpd writes the IAID in its host's byte order; without an
        // authoring-byte-order line assume this host's.
        "isc" => Ok(v6dhcp::import::parse_isc(
            &text,
            unix,
            cfg!(target_endian = "little"),
        )),
        "kea" => Ok(v6dhcp::import::parse_kea_csv(&text, unix)),
        other => Err(format!("--from `{other}`: isc or kea\n{USAGE}")),
    }
}

/// The leases as journal records, each on its link (`iface` if given);
/// those no single link claims are reported and counted.
fn place(
    cfg: &Config,
    leases: Vec<Lease>,
    iface: Option<&str>,
    report: &mut String,
) -> (Vec<LeaseRecord>, usize) {
    let mut records = vec![];
    let mut unplaced = 0;
    for mut l in leases {
        match iface.map(str::to_string).or_else(|| import_link(cfg, &l)) {
            Some(name) => {
                l.link = Arc::from(name.as_str());
                records.push(LeaseRecord::Upsert(l));
            }
            None => {
                unplaced += 1;
                report.push_str(&format!(
                    "{}: no single configured pool holds it (use --interface)\n",
                    l.prefix
                ));
            }
        }
    }
    (records, unplaced)
}

/// Append `records` to the journal at `path` and store `new_duid`, unless
/// the daemon runs (it owns both).
fn write(
    cfg: &Config,
    path: &Path,
    records: &[LeaseRecord],
    new_duid: Option<&Duid>,
) -> Result<(), String> {
    if std::os::unix::net::UnixStream::connect(&cfg.control.socket).is_ok() {
        return Err(format!(
            "v6routerd is running (it answers on {}): stop it first, it owns the journal",
            cfg.control.socket.display()
        ));
    }
    let (mut j, _) = Journal::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    j.append(records)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(d) = new_duid {
        write_duid(&cfg.router.state_dir, d)?;
    }
    Ok(())
}

/// Which served link an imported lease belongs to: a pool (an absolute one
/// by address, one relative to the interface's /64 by the low 64 bits), a
/// relayed link's prefix, a prefix pool, a static binding; None if none or
/// several interfaces claim it.
fn import_link(cfg: &Config, l: &Lease) -> Option<String> {
    let mut found: Vec<String> = vec![];
    for ifc in &cfg.interfaces {
        let Some(d) = &ifc.dhcpv6 else { continue };
        // A relayed link's prefix is specific: it settles the question.
        if let Some(name) = relayed_claim(d, l) {
            return Some(name);
        }
        if claims(d, l) {
            found.push(ifc.name.clone());
        }
    }
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The relayed link of `d` whose prefix (address) or fixed pd_pool
/// (prefix) holds `l`.
fn relayed_claim(d: &v6config::Dhcpv6, l: &Lease) -> Option<String> {
    d.relayed
        .iter()
        .find(|r| match l.kind {
            LeaseKind::Address => r.link.contains(l.prefix.addr()),
            LeaseKind::Prefix => r
                .pd_pool
                .as_ref()
                .and_then(|p| p.prefix)
                .is_some_and(|p| p.covers(&l.prefix)),
        })
        .map(|r| r.name.clone().unwrap_or_else(|| r.link.to_string()))
}

/// Whether `d`'s own pools or static bindings hold `l`.
fn claims(d: &v6config::Dhcpv6, l: &Lease) -> bool {
    let a = l.prefix.addr();
    match l.kind {
        LeaseKind::Address => {
            d.pool
                .as_deref()
                .and_then(|p| PoolRange::parse(p).ok())
                .is_some_and(|r| in_pool(&r, a))
                || d.hosts.iter().any(|h| h.address == Some(a))
        }
        LeaseKind::Prefix => {
            d.pd_pool
                .as_ref()
                .and_then(|p| p.prefix)
                .is_some_and(|p| p.covers(&l.prefix))
                || d.hosts.iter().any(|h| h.prefix == Some(l.prefix))
        }
    }
}

/// Whether `a` is in the pool; a relative pool compares the low 64 bits
/// only (we do not know which /64 the old server served it on).
fn in_pool(r: &PoolRange, a: Ipv6Addr) -> bool {
    let (x, f, t) = if r.relative {
        let low = |v: Ipv6Addr| u128::from(v) & u128::from(u64::MAX);
        (low(a), low(r.first), low(r.last))
    } else {
        (u128::from(a), u128::from(r.first), u128::from(r.last))
    };
    f <= x && x <= t
}
