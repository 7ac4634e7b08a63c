//! The server's DUID (RFC 8415 §11): made once, kept in `state_dir`, so
//! that clients' Renews, which name it (§18.2.4), still reach us after a
//! restart.

use std::io;
use std::path::Path;
use tracing::info;
use v6common::KernelView;
use v6config::Config;
use v6dhcp::wire::Duid;

pub(super) const DUID_FILE: &str = "dhcpv6-server-duid";
/// Seconds between 1970-01-01 and 2000-01-01 (DUID-LLT time base, RFC 8415 §11.2).
const DUID_EPOCH: u64 = 946_684_800;

/// The server's DUID: read from state_dir, or made once (DUID-LLT from a
/// served interface's MAC, else DUID-EN) and stored (RFC 8415 §11: stable).
pub(super) fn server_duid(dir: &Path, cfg: &Config, k: &KernelView) -> Result<Duid, String> {
    if let Some(duid) = read_duid(dir)? {
        return Ok(duid);
    }
    let duid = new_duid(cfg, k);
    write_duid(dir, &duid)?;
    info!("made server DUID {duid}");
    Ok(duid)
}

/// The stored DUID; None if there is none yet.
fn read_duid(dir: &Path) -> Result<Option<Duid>, String> {
    let path = dir.join(DUID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => Duid::from_hex(s.trim()).map(Some).ok_or_else(|| {
            format!(
                "{} does not hold a DUID; remove it to make a new one",
                path.display()
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// A new DUID-LLT from the MAC of a served interface (any interface's if
/// none has one), else a random DUID-EN.
fn new_duid(cfg: &Config, k: &KernelView) -> Duid {
    let mac = cfg
        .interfaces
        .iter()
        .filter(|i| i.dhcpv6.is_some())
        .filter_map(|i| k.link_by_name(&i.name))
        .chain(k.links.values())
        .filter_map(|l| l.lladdr.as_deref())
        .find(|m| m.len() == 6 && m.iter().any(|b| *b != 0));
    match mac {
        Some(m) => Duid::new_llt(
            v6dhcp::wire::HWTYPE_ETHERNET,
            super::now().unix.saturating_sub(DUID_EPOCH) as u32,
            m,
        ),
        None => {
            let mut rng = fastrand::Rng::new();
            let id: Vec<u8> = (0..8).map(|_| rng.u8(..)).collect();
            // 32473: the enterprise number reserved for documentation (RFC 5612).
            Duid::new_en(32473, &id)
        }
    }
}

/// Store the server DUID durably (v6common::durable: write, fsync, rename,
/// fsync the directory).
pub(super) fn write_duid(dir: &Path, duid: &Duid) -> Result<(), String> {
    let path = dir.join(DUID_FILE);
    std::fs::create_dir_all(dir)
        .and_then(|()| v6common::durable::write(&path, format!("{}\n", duid.to_hex()).as_bytes()))
        .map_err(|e| format!("cannot store the server DUID in {}: {e}", path.display()))
}

#[cfg(test)]
mod tests;
