//! The DHCPv6 server service: the socket, the pure engine (`v6dhcp::engine`),
//! the lease journal on its own thread, routes for delegated prefixes, and
//! the answers to `v6ctl show leases` / `show dhcpv6`.
//!
//! Durability: a reply that grants or extends a lease is handed to the store
//! thread together with its records. That thread appends everything queued
//! (many packets' worth: group commit), fsyncs once, and only then sends the
//! replies. If the write or the fsync fails, the replies are dropped and
//! counted: a client is never told about a lease that is not on disk.

use crate::service::{Query, ServiceCtx, UplinkFacts};
use std::collections::BTreeSet;
use std::io;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as stdmpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};
use v6common::{Ipv6Prefix, KernelView, RouteFact};
use v6config::{Config, PoolRange};
use v6control::dhcpv6::{Counter, Dhcpv6Stats, JournalStats, LeaseRow, Leases};
use v6control::{ProtocolInfo, Request, Response};
use v6dhcp::engine::{
    Action, AddressPool, Host, HostId, Limits, LinkConfig, Now, PrefixPool, Received, Server,
    ServerConfig,
};
use v6dhcp::io::{send_many_blocking, Outgoing, ServerSocket};
use v6dhcp::lease::{Lease, LeaseKind, LeaseRecord, LeaseState};
use v6dhcp::store::Journal;
use v6dhcp::wire::{Duid, SERVER_PORT};

const JOURNAL_FILE: &str = "leases.journal";
const DUID_FILE: &str = "dhcpv6-server-duid";
/// Most datagrams handled before their records are committed together.
const BATCH: usize = 512;
/// Under load, how long the store thread gathers records before an fsync.
const COMMIT_DELAY: Duration = Duration::from_millis(2);
/// Under load, how long datagrams gather in the socket between reads.
const COALESCE: Duration = Duration::from_millis(1);
/// Commit at once when this many records are waiting.
const GATHER_MAX: usize = 256;
/// Compact when the journal is this much larger than a fresh snapshot would be.
const COMPACT_FACTOR: u64 = 4;
const COMPACT_MIN: u64 = 4 << 20;
/// Bytes per lease in a snapshot, roughly (for the compaction trigger).
const SNAPSHOT_BYTES_PER_LEASE: u64 = 100;
/// Seconds between 1970-01-01 and 2000-01-01 (DUID-LLT time base, RFC 8415 §11.2).
const DUID_EPOCH: u64 = 946_684_800;

pub async fn run(mut ctx: ServiceCtx) {
    loop {
        if enabled(&ctx.config()) {
            match serve(&mut ctx).await {
                Ok(()) => return,
                Err(e) => {
                    error!("dhcpv6: {e}");
                    publish(&ctx, "error", &e);
                    idle(&mut ctx, Some(e)).await;
                    return;
                }
            }
        }
        publish(&ctx, "down", "no [interface.dhcpv6]");
        if !idle_until_enabled(&mut ctx).await {
            return;
        }
    }
}

fn enabled(cfg: &Config) -> bool {
    cfg.interfaces.iter().any(|i| i.dhcpv6.is_some())
}

fn publish(ctx: &ServiceCtx, state: &str, info: &str) {
    ctx.publish_protocol(Some(ProtocolInfo {
        name: "dhcpv6".into(),
        proto: "DHCPv6".into(),
        table: "---".into(),
        state: state.into(),
        since: String::new(),
        info: info.into(),
        since_ms: None,
    }));
}

/// Not configured: answer queries until the config turns the server on.
/// Returns false on shutdown.
async fn idle_until_enabled(ctx: &mut ServiceCtx) -> bool {
    loop {
        tokio::select! {
            r = ctx.config.changed() => {
                if r.is_err() { return false; }
                if enabled(&ctx.config()) { return true; }
            }
            Some(q) = ctx.queries.recv() => {
                let _ = q.reply.send(Response::error("the DHCPv6 server is not configured (no [interface.dhcpv6])"));
            }
            _ = ctx.shutdown.changed() => return false,
        }
    }
}

/// Failed to start: say why to every query until shutdown.
async fn idle(ctx: &mut ServiceCtx, why: Option<String>) {
    let why = why.unwrap_or_default();
    loop {
        tokio::select! {
            Some(q) = ctx.queries.recv() => {
                let _ = q.reply.send(Response::error(format!("the DHCPv6 server is not running: {why}")));
            }
            _ = ctx.shutdown.changed() => return,
        }
    }
}

/// The engine's clock. Lease times are Unix seconds (they go into the
/// journal and must mean something after a restart), but while we run they
/// advance with the monotonic clock from the wall-clock time read once at
/// start: an admin or NTP stepping the system clock an hour forwards must not
/// expire every lease at once, nor a step back keep them forever.
fn now() -> Now {
    static BASE: std::sync::OnceLock<(Instant, u64)> = std::sync::OnceLock::new();
    let (mono0, unix0) = *BASE.get_or_init(|| (Instant::now(), crate::service::unix_secs()));
    let mono = Instant::now();
    Now {
        mono,
        unix: unix0 + mono.saturating_duration_since(mono0).as_secs(),
    }
}

/// Counters the store thread shares with the service.
#[derive(Default)]
struct StoreCounters {
    size: AtomicU64,
    records: AtomicU64,
    commits: AtomicU64,
    commit_failures: AtomicU64,
    compactions: AtomicU64,
    /// Replies dropped because their records could not be made durable;
    /// taken (swap 0) by the service into the engine's drop counter.
    dropped_replies: AtomicU64,
    compacting: AtomicBool,
}

struct Reply {
    data: Vec<u8>,
    dst: std::net::SocketAddrV6,
    ifindex: u32,
}

enum StoreCmd {
    Commit {
        records: Vec<LeaseRecord>,
        replies: Vec<Reply>,
    },
    Compact(Vec<Lease>),
    Stop(tokio::sync::oneshot::Sender<()>),
}

/// The store thread: group commit, then send what waited for it.
fn store_loop(
    mut j: Journal,
    rx: stdmpsc::Receiver<StoreCmd>,
    fd: OwnedFd,
    c: Arc<StoreCounters>,
    failed: mpsc::UnboundedSender<Vec<LeaseRecord>>,
) {
    c.size.store(j.size(), Ordering::Relaxed);
    let mut last_commit = Instant::now()
        .checked_sub(COMMIT_DELAY)
        .unwrap_or_else(Instant::now);
    let mut records: Vec<LeaseRecord> = Vec::new();
    let mut replies: Vec<Reply> = Vec::new();
    let commit = |j: &mut Journal, records: &mut Vec<LeaseRecord>, replies: &mut Vec<Reply>| {
        if records.is_empty() && replies.is_empty() {
            return;
        }
        match j.append(records) {
            Ok(()) => {
                c.commits.fetch_add(1, Ordering::Relaxed);
                c.records.fetch_add(records.len() as u64, Ordering::Relaxed);
                send_replies(fd.as_raw_fd(), replies, 100);
            }
            Err(e) => {
                c.commit_failures.fetch_add(1, Ordering::Relaxed);
                c.dropped_replies
                    .fetch_add(replies.len() as u64, Ordering::Relaxed);
                error!(
                    "dhcpv6: cannot write leases to {}: {e}; {} replies not sent",
                    j.path().display(),
                    replies.len()
                );
                replies.clear();
                // The service forgets these grants (never a lease in memory
                // or in `show leases` that is not on disk).
                let _ = failed.send(std::mem::take(records));
            }
        }
        records.clear();
        c.size.store(j.size(), Ordering::Relaxed);
        if !j.compacting() && c.compacting.swap(false, Ordering::Relaxed) {
            c.compactions.fetch_add(1, Ordering::Relaxed);
        }
    };
    loop {
        let first = if j.compacting() {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(cmd) => Some(cmd),
                Err(stdmpsc::RecvTimeoutError::Timeout) => None,
                Err(stdmpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(cmd) => Some(cmd),
                Err(_) => break,
            }
        };
        let mut next = first;
        let mut stop = None;
        // Take everything queued now: one fsync for all of it. Under load
        // (the last commit ended a moment ago: more are coming), also wait
        // up to COMMIT_DELAY for more, as PostgreSQL's commit_delay does:
        // at 2,000 Requests/s on a virtio disk this takes the fsyncs from
        // ~1,200/s to a few hundred, about half the server's CPU, for 2 ms
        // more before a Reply (against a client's 1 s REQ_TIMEOUT, RFC 8415
        // §7.6). A lone Request, nothing committed lately, does not wait.
        let gather_until =
            (last_commit.elapsed() < COMMIT_DELAY).then(|| Instant::now() + COMMIT_DELAY);
        loop {
            let cmd = match next.take().or_else(|| rx.try_recv().ok()) {
                Some(c) => c,
                None => {
                    let Some(until) = gather_until else { break };
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() || records.len() >= GATHER_MAX {
                        break;
                    }
                    // Sleep out the window, then take what came: waiting on
                    // the channel instead would wake this thread (and make
                    // the service thread's send a futex wake) once per
                    // datagram; this is one wake per group.
                    std::thread::sleep(left);
                    match rx.try_recv() {
                        Ok(c) => c,
                        Err(_) => break,
                    }
                }
            };
            match cmd {
                StoreCmd::Commit {
                    records: r,
                    replies: p,
                } => {
                    records.extend(r);
                    replies.extend(p);
                }
                StoreCmd::Compact(snapshot) => {
                    // The snapshot was taken after everything queued before it.
                    commit(&mut j, &mut records, &mut replies);
                    j.begin_compaction(snapshot);
                }
                StoreCmd::Stop(ack) => {
                    stop = Some(ack);
                    break;
                }
            }
        }
        commit(&mut j, &mut records, &mut replies);
        last_commit = Instant::now();
        if let Err(e) = j.poll_compaction() {
            error!("dhcpv6: compaction of {} failed: {e}", j.path().display());
            c.compacting.store(false, Ordering::Relaxed);
        } else if !j.compacting() && c.compacting.swap(false, Ordering::Relaxed) {
            c.compactions.fetch_add(1, Ordering::Relaxed);
            c.size.store(j.size(), Ordering::Relaxed);
        }
        if let Some(ack) = stop {
            if let Err(e) = j.finish_compaction() {
                error!("dhcpv6: compaction of {} failed: {e}", j.path().display());
            }
            let _ = ack.send(());
            return;
        }
    }
}

/// Send and clear a batch of replies: one sendmmsg per 64 instead of one
/// sendmsg each. The service sends those that wait for nothing (Advertise,
/// Reply to Information-request, status-only replies) at the end of each
/// batch of datagrams; the store thread those it made durable.
fn send_replies(fd: RawFd, replies: &mut Vec<Reply>, timeout_ms: i32) {
    if replies.is_empty() {
        return;
    }
    let out: Vec<Outgoing<'_>> = replies
        .iter()
        .map(|r| Outgoing {
            data: &r.data,
            dst: r.dst,
            ifindex: r.ifindex,
        })
        .collect();
    send_many_blocking(fd, &out, timeout_ms);
    replies.clear();
}

/// The server's DUID: read from state_dir, or made once (DUID-LLT from a
/// served interface's MAC, else DUID-EN) and stored (RFC 8415 §11: stable).
fn server_duid(dir: &Path, cfg: &Config, k: &KernelView) -> Result<Duid, String> {
    let path = dir.join(DUID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            return Duid::from_hex(s.trim()).ok_or_else(|| {
                format!(
                    "{} does not hold a DUID; remove it to make a new one",
                    path.display()
                )
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", path.display())),
    }
    let mac = cfg
        .interfaces
        .iter()
        .filter(|i| i.dhcpv6.is_some())
        .filter_map(|i| k.link_by_name(&i.name))
        .chain(k.links.values())
        .filter_map(|l| l.lladdr.as_deref())
        .find(|m| m.len() == 6 && m.iter().any(|b| *b != 0))
        .map(|m| m.to_vec());
    let unix = now().unix;
    let duid = match mac {
        Some(m) => Duid::new_llt(
            v6dhcp::wire::HWTYPE_ETHERNET,
            unix.saturating_sub(DUID_EPOCH) as u32,
            &m,
        ),
        None => {
            let mut rng = fastrand::Rng::new();
            let id: Vec<u8> = (0..8).map(|_| rng.u8(..)).collect();
            // 32473: the enterprise number reserved for documentation (RFC 5612).
            Duid::new_en(32473, &id)
        }
    };
    write_duid(dir, &duid)?;
    info!("dhcpv6: made server DUID {duid}");
    Ok(duid)
}

/// Store the server DUID durably (temp file, fsync, rename, fsync the directory).
fn write_duid(dir: &Path, duid: &Duid) -> Result<(), String> {
    let path = dir.join(DUID_FILE);
    let tmp = dir.join(format!("{DUID_FILE}.tmp"));
    let write = || -> io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(dir)?;
        let mut f = std::fs::File::create(&tmp)?;
        writeln!(f, "{}", duid.to_hex())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| format!("cannot store the server DUID in {}: {e}", path.display()))
}

/// The engine's view of the configuration on the links that exist now.
/// Returns the links, per-interface notes for `show dhcpv6`, and the limits.
fn build_links(
    cfg: &Config,
    k: &KernelView,
    up: &UplinkFacts,
) -> (Vec<LinkConfig>, Vec<String>, Limits) {
    let now = std::time::Instant::now();
    let mut links = vec![];
    let mut notes = vec![];
    let mut limits = Limits {
        addresses_per_client: 0,
        prefixes_per_client: 0,
        ..Limits::default()
    };
    for ifc in &cfg.interfaces {
        let Some(d) = &ifc.dhcpv6 else { continue };
        limits.addresses_per_client = limits
            .addresses_per_client
            .max(d.max_leases_per_client as usize);
        limits.prefixes_per_client = limits
            .prefixes_per_client
            .max(d.max_prefixes_per_client as usize);
        let Some(link) = k.link_by_name(&ifc.name) else {
            notes.push(format!("{} (absent)", ifc.name));
            continue;
        };
        let mut lc = LinkConfig::new(&ifc.name, link.index);
        let mut on_link: Vec<Ipv6Prefix> = k.globals(link.index).map(|a| a.prefix()).collect();
        on_link.sort();
        on_link.dedup();
        lc.on_link = on_link;
        let mut note = format!("{} ({})", ifc.name, link.index);
        // Lease lifetimes never outlast the prefix they come from (RFC 9096 §3).
        let mut max_pref = d.preferred_lifetime;
        let mut max_valid = d.valid_lifetime;
        if let Some(p) = &d.pool {
            match PoolRange::parse(p) {
                Ok(r) if r.relative => {
                    // The /64 to serve from: a preferred one before a deprecated
                    // one (after renumbering both are on the link), a global one
                    // before a ULA, the longest-lived first.
                    match k
                        .globals(link.index)
                        .filter(|a| a.prefix_len == 64 && !a.tentative)
                        .max_by_key(|a| {
                            (
                                !a.deprecated && a.preferred_lft > 0,
                                !is_ula(a.addr),
                                a.preferred_lft,
                            )
                        }) {
                        Some(a) => {
                            let r = r.on(a.prefix());
                            lc.address_pools.push(AddressPool {
                                first: r.first,
                                last: r.last,
                            });
                            max_pref = max_pref.min(a.preferred_lft);
                            max_valid = max_valid.min(a.valid_lft);
                        }
                        None => note.push_str(" pool waits for a /64 address"),
                    }
                }
                Ok(r) => lc.address_pools.push(AddressPool {
                    first: r.first,
                    last: r.last,
                }),
                Err(e) => note.push_str(&format!(" bad pool: {e}")),
            }
        }
        if let Some(pd) = &d.pd_pool {
            match (&pd.prefix, &pd.from) {
                (Some(p), _) => lc.prefix_pools.push(PrefixPool {
                    prefix: *p,
                    delegated_len: pd.delegated_length,
                }),
                (None, Some(f)) => {
                    // Sub-delegation: what the ISP delegated on `f` and no LAN
                    // uses (RFC 7084 WPD-4), one pool per free sub-prefix.
                    let free = up.free_subprefixes(f, pd.delegated_length);
                    if free.is_empty() {
                        note.push_str(&format!(
                            " pd_pool from `{f}` waits for the uplink's prefix"
                        ));
                    }
                    for (sub, deleg) in free {
                        lc.prefix_pools.push(PrefixPool {
                            prefix: sub,
                            delegated_len: pd.delegated_length,
                        });
                        max_pref = max_pref.min(secs_until(now, deleg.preferred_until));
                        max_valid = max_valid.min(secs_until(now, deleg.valid_until));
                    }
                }
                (None, None) => {}
            }
        }
        for s in &d.dns {
            match s.parse::<Ipv6Addr>() {
                Ok(a) => lc.dns_servers.push(a),
                // The ISP's DNS servers, learned by the uplink's DHCPv6 client.
                Err(_) if s == "uplink" => lc.dns_servers.extend(up.dns.iter().copied()),
                Err(_) => {}
            }
        }
        lc.dns_servers.dedup();
        lc.domain_list = d.search.clone();
        lc.preferred = max_pref.min(max_valid);
        lc.valid = max_valid;
        lc.t1 = d.renew_time;
        lc.t2 = d.rebind_time;
        lc.rapid_commit = d.rapid_commit;
        lc.preference = (d.preference > 0).then_some(d.preference);
        for h in &d.hosts {
            let id = if let Some(duid) = &h.duid {
                match v6config::parse_hex_bytes(duid)
                    .ok()
                    .and_then(|b| Duid::from_bytes(&b).ok())
                {
                    Some(duid) => match h.iaid {
                        Some(i) => HostId::DuidIaid(duid, i),
                        None => HostId::Duid(duid),
                    },
                    None => continue,
                }
            } else if let Some(mac) = h.mac.as_deref().and_then(|m| v6config::parse_mac(m).ok()) {
                HostId::Mac(mac)
            } else {
                continue;
            };
            lc.hosts.push(Host {
                id,
                address: h.address,
                prefix: h.prefix,
                preferred: h.preferred_lifetime,
                valid: h.valid_lifetime,
            });
        }
        lc.unicast = d.unicast;
        lc.information_refresh_time = d.information_refresh_time;
        let relayed: Vec<LinkConfig> = d
            .relayed
            .iter()
            .map(|r| relayed_link(d, r, &lc, &mut note))
            .collect();
        notes.push(note);
        links.push(lc);
        links.extend(relayed);
    }
    if limits.addresses_per_client == 0 {
        limits.addresses_per_client = Limits::default().addresses_per_client;
    }
    if limits.prefixes_per_client == 0 {
        limits.prefixes_per_client = Limits::default().prefixes_per_client;
    }
    (links, notes, limits)
}

/// A remote link behind relay agents whose Relay-forwards arrive on `local`'s
/// interface: its own pools, the rest (lifetimes, options) as configured
/// for `local`, and those of `local`'s static bindings that lie on it.
fn relayed_link(
    d: &v6config::Dhcpv6,
    r: &v6config::Dhcpv6Relayed,
    local: &LinkConfig,
    note: &mut String,
) -> LinkConfig {
    let name = r.name.clone().unwrap_or_else(|| r.link.to_string());
    let mut l = LinkConfig::new(&name, local.ifindex);
    l.relayed = true;
    l.on_link = vec![r.link];
    l.interface_id = r.interface_id.as_ref().map(|s| s.as_bytes().to_vec());
    note.push_str(&format!(", relayed {name}"));
    match r.pool.as_deref().map(PoolRange::parse) {
        Some(Ok(p)) if !p.relative => l.address_pools.push(AddressPool {
            first: p.first,
            last: p.last,
        }),
        Some(Ok(_)) => note.push_str(" (a relayed pool must be absolute)"),
        Some(Err(e)) => note.push_str(&format!(" (bad pool: {e})")),
        None => {}
    }
    if let Some(pd) = &r.pd_pool {
        match pd.prefix {
            Some(prefix) => l.prefix_pools.push(PrefixPool {
                prefix,
                delegated_len: pd.delegated_length,
            }),
            None => note.push_str(" (a relayed pd_pool needs a fixed prefix)"),
        }
    }
    l.dns_servers = local.dns_servers.clone();
    l.domain_list = local.domain_list.clone();
    l.preferred = d.preferred_lifetime.min(d.valid_lifetime);
    l.valid = d.valid_lifetime;
    l.t1 = d.renew_time;
    l.t2 = d.rebind_time;
    l.rapid_commit = local.rapid_commit;
    l.preference = local.preference;
    l.information_refresh_time = local.information_refresh_time;
    let pd_prefixes: Vec<Ipv6Prefix> = l.prefix_pools.iter().map(|p| p.prefix).collect();
    l.hosts = local
        .hosts
        .iter()
        .filter(|h| {
            h.address.is_some_and(|a| r.link.contains(a))
                || h.prefix
                    .is_some_and(|p| pd_prefixes.iter().any(|q| q.covers(&p)))
        })
        .cloned()
        .collect();
    l
}

/// Which served link an imported lease belongs to: a pool (an absolute one
/// by address, one relative to the interface's /64 by the low 64 bits), a
/// relayed link's prefix, a prefix pool, a static binding; None if none or
/// several interfaces claim it.
fn import_link(cfg: &Config, l: &Lease) -> Option<String> {
    let a = l.prefix.addr();
    let mut found: Vec<String> = vec![];
    for ifc in &cfg.interfaces {
        let Some(d) = &ifc.dhcpv6 else { continue };
        for r in &d.relayed {
            let name = r.name.clone().unwrap_or_else(|| r.link.to_string());
            let hit = match l.kind {
                LeaseKind::Address => r.link.contains(a),
                LeaseKind::Prefix => r
                    .pd_pool
                    .as_ref()
                    .and_then(|p| p.prefix)
                    .is_some_and(|p| p.covers(&l.prefix)),
            };
            if hit {
                return Some(name);
            }
        }
        let hit = match l.kind {
            LeaseKind::Address => {
                d.pool
                    .as_deref()
                    .and_then(|p| PoolRange::parse(p).ok())
                    .is_some_and(|r| {
                        let (x, f, t) = if r.relative {
                            let low = |v: Ipv6Addr| u128::from(v) & u128::from(u64::MAX);
                            (low(a), low(r.first), low(r.last))
                        } else {
                            (u128::from(a), u128::from(r.first), u128::from(r.last))
                        };
                        f <= x && x <= t
                    })
                    || d.hosts.iter().any(|h| h.address == Some(a))
            }
            LeaseKind::Prefix => {
                d.pd_pool
                    .as_ref()
                    .and_then(|p| p.prefix)
                    .is_some_and(|p| p.covers(&l.prefix))
                    || d.hosts.iter().any(|h| h.prefix == Some(l.prefix))
            }
        };
        if hit {
            found.push(ifc.name.clone());
        }
    }
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

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

/// `v6routerd import-leases --from isc|kea FILE [--interface NAME]
/// [--server-duid HEX | --keep-server-duid] [--dry-run]`: read another
/// server's lease file and add its bound, unexpired leases to our journal,
/// so that a migration keeps every client's address and prefix. The old
/// server's DUID (ISC's `server-duid`, or given) becomes ours, so that the
/// clients' Renews, which name it (RFC 8415 §18.2.4), are answered at T1
/// rather than ignored until they Rebind at T2. The daemon must be stopped
/// (it owns the journal while it runs). Returns the text to print, or why not.
pub fn import_leases(cfg: &Config, args: &[String]) -> Result<String, String> {
    const USAGE: &str = "usage: v6routerd [-c FILE] import-leases --from isc|kea LEASEFILE \
        [--interface NAME] [--server-duid HEX | --keep-server-duid] [--dry-run]";
    let (mut from, mut file, mut iface, mut dry) = (None, None, None, false);
    let (mut duid_arg, mut keep_duid) = (None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--from" => from = it.next().cloned(),
            "--interface" => iface = it.next().cloned(),
            "--dry-run" => dry = true,
            "--keep-server-duid" => keep_duid = true,
            "--server-duid" => {
                let h = it.next().ok_or(USAGE)?;
                let d = v6config::parse_hex_bytes(h)
                    .ok()
                    .and_then(|b| Duid::from_bytes(&b).ok())
                    .ok_or_else(|| format!("--server-duid `{h}` is not a DUID"))?;
                duid_arg = Some(d);
            }
            f if !f.starts_with('-') && file.is_none() => file = Some(f.to_string()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let (Some(from), Some(file)) = (from, file) else {
        return Err(USAGE.into());
    };
    if let Some(i) = &iface {
        if cfg.interface(i).is_none_or(|x| x.dhcpv6.is_none()) {
            return Err(format!(
                "`{i}` has no [interface.dhcpv6] in the configuration"
            ));
        }
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
    let unix = crate::service::unix_secs();
    let imp = match from.as_str() {
        // dhcpd writes the IAID in its host's byte order; without an
        // authoring-byte-order line assume this host's.
        "isc" => v6dhcp::import::parse_isc(&text, unix, cfg!(target_endian = "little")),
        "kea" => v6dhcp::import::parse_kea_csv(&text, unix),
        other => return Err(format!("--from `{other}`: isc or kea\n{USAGE}")),
    };
    let mut report = String::new();
    for (why, line) in &imp.skipped {
        report.push_str(&format!("{file}:{line}: skipped: {why}\n"));
    }
    let mut records = vec![];
    let mut unplaced = 0;
    for mut l in imp.leases {
        match iface.clone().or_else(|| import_link(cfg, &l)) {
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
    let path = cfg.router.state_dir.join(JOURNAL_FILE);
    let new_duid = if keep_duid {
        None
    } else {
        duid_arg.or(imp.server_duid)
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
    if dry {
        return Ok(report);
    }
    if std::os::unix::net::UnixStream::connect(&cfg.control.socket).is_ok() {
        return Err(format!(
            "v6routerd is running (it answers on {}): stop it first, it owns the journal",
            cfg.control.socket.display()
        ));
    }
    let (mut j, _) = Journal::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    j.append(&records)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(d) = &new_duid {
        write_duid(&cfg.router.state_dir, d)?;
    }
    report.push_str("done\n");
    Ok(report)
}

/// Join ff02::1:2 where we serve, leave where we no longer do.
fn sync_groups(sock: &ServerSocket, joined: &mut BTreeSet<u32>, links: &[LinkConfig]) {
    let want: BTreeSet<u32> = links.iter().map(|l| l.ifindex).collect();
    for i in joined.difference(&want).copied().collect::<Vec<_>>() {
        let _ = v6dhcp::io::leave(sock.socket(), i);
        joined.remove(&i);
    }
    for i in want {
        if !joined.contains(&i) {
            match v6dhcp::io::join(sock.socket(), i) {
                Ok(()) => {
                    joined.insert(i);
                }
                Err(e) => warn!("dhcpv6: cannot join ff02::1:2 on interface {i}: {e}"),
            }
        }
    }
}

enum RouteOp {
    Add(RouteFact),
    Del(RouteFact),
}

/// Route changes run one after another (an add and a later delete of the
/// same prefix must not be reordered).
async fn route_worker(nl: v6netlink::Kernel, mut rx: mpsc::UnboundedReceiver<RouteOp>) {
    while let Some(op) = rx.recv().await {
        match op {
            RouteOp::Add(r) => {
                if let Err(e) = nl.add_route(&r, true).await {
                    warn!(
                        "dhcpv6: cannot add route {} via {:?}: {e}",
                        r.dst, r.gateway
                    );
                } else {
                    info!(
                        "dhcpv6: route {} via {:?} dev {:?}",
                        r.dst, r.gateway, r.oif
                    );
                }
            }
            RouteOp::Del(r) => {
                if let Err(e) = nl.del_route(&r).await {
                    debug!("dhcpv6: cannot remove route {}: {e}", r.dst);
                }
            }
        }
    }
}

struct Service {
    server: Server,
    notes: Vec<String>,
    store_tx: stdmpsc::Sender<StoreCmd>,
    counters: Arc<StoreCounters>,
    routes: mpsc::UnboundedSender<RouteOp>,
    journal_path: PathBuf,
    load_corrupt: u64,
    load_torn: u64,
}

impl Service {
    /// Split actions: records and the replies behind them go to the store;
    /// replies that grant nothing go to `now`, sent at the end of the batch
    /// (see [`send_replies`]).
    fn dispatch(
        &mut self,
        actions: Vec<Action>,
        now: &mut Vec<Reply>,
        records: &mut Vec<LeaseRecord>,
        held: &mut Vec<Reply>,
    ) {
        let mut persisted = false;
        for a in actions {
            match a {
                Action::Persist(r) => {
                    persisted = true;
                    records.extend(r);
                }
                Action::Send { data, dst, ifindex } => {
                    if persisted {
                        held.push(Reply { data, dst, ifindex });
                    } else {
                        now.push(Reply { data, dst, ifindex });
                    }
                }
                Action::AddRoute(r) => {
                    let _ = self.routes.send(RouteOp::Add(r));
                }
                Action::DelRoute(r) => {
                    let _ = self.routes.send(RouteOp::Del(r));
                }
            }
        }
    }

    fn commit(&mut self, records: Vec<LeaseRecord>, replies: Vec<Reply>) {
        if records.is_empty() && replies.is_empty() {
            return;
        }
        if self
            .store_tx
            .send(StoreCmd::Commit { records, replies })
            .is_err()
        {
            error!("dhcpv6: the lease store stopped; replies dropped");
        }
        self.maybe_compact();
    }

    fn maybe_compact(&mut self) {
        let size = self.counters.size.load(Ordering::Relaxed);
        let live = self.server.lease_count() as u64 * SNAPSHOT_BYTES_PER_LEASE;
        if size > COMPACT_MIN.max(live * COMPACT_FACTOR)
            && !self.counters.compacting.swap(true, Ordering::Relaxed)
        {
            info!(
                "dhcpv6: compacting {} ({size} bytes, {} leases)",
                self.journal_path.display(),
                self.server.lease_count()
            );
            let snapshot: Vec<Lease> = self.server.leases().collect();
            let _ = self.store_tx.send(StoreCmd::Compact(snapshot));
        }
    }

    fn answer(&mut self, q: Query) {
        let r = match q.request {
            Request::ShowLeases => Response::ok(self.leases()),
            Request::ShowDhcpv6 => Response::ok(self.stats()),
            _ => {
                ServiceCtx::unknown(q);
                return;
            }
        };
        let _ = q.reply.send(r);
    }

    fn leases(&self) -> Leases {
        let unix = now().unix;
        let mut v: Vec<Lease> = self.server.leases().collect();
        v.sort_by_key(|l| (l.kind, l.prefix));
        Leases {
            leases: v
                .into_iter()
                .map(|l| LeaseRow {
                    lease: match l.kind {
                        LeaseKind::Address => l.prefix.addr().to_string(),
                        LeaseKind::Prefix => l.prefix.to_string(),
                    },
                    kind: l.kind.name().into(),
                    duid: l.duid.to_hex(),
                    iaid: l.iaid,
                    interface: l.link.to_string(),
                    expires: l.expires(),
                    remaining: l.expires().saturating_sub(unix),
                    state: match l.state {
                        LeaseState::Bound => "bound".into(),
                        LeaseState::Declined => "declined".into(),
                    },
                    is_static: l.is_static,
                    via: l.via.map(|a| a.to_string()),
                })
                .collect(),
        }
    }

    fn stats(&self) -> Dhcpv6Stats {
        let s = self.server.stats();
        let c = &self.counters;
        let counters = |v: Vec<(&'static str, u64)>| {
            v.into_iter()
                .map(|(n, c)| Counter {
                    name: n.into(),
                    count: c,
                })
                .collect()
        };
        Dhcpv6Stats {
            server_duid: self.server.server_duid().to_hex(),
            interfaces: self.notes.clone(),
            addresses: self
                .server
                .leases()
                .filter(|l| l.kind == LeaseKind::Address)
                .count() as u64,
            prefixes: self
                .server
                .leases()
                .filter(|l| l.kind == LeaseKind::Prefix)
                .count() as u64,
            received: counters(s.received_by_type()),
            sent: counters(s.sent_by_type()),
            drops: s
                .drops
                .iter()
                .map(|(n, c)| Counter {
                    name: n.to_string(),
                    count: *c,
                })
                .collect(),
            use_multicast: s.use_multicast,
            journal: JournalStats {
                path: self.journal_path.display().to_string(),
                size: c.size.load(Ordering::Relaxed),
                records_written: c.records.load(Ordering::Relaxed),
                commits: c.commits.load(Ordering::Relaxed),
                commit_failures: c.commit_failures.load(Ordering::Relaxed),
                compactions: c.compactions.load(Ordering::Relaxed),
                load_corrupt_records: self.load_corrupt,
                load_torn_bytes: self.load_torn,
            },
        }
    }
}

async fn serve(ctx: &mut ServiceCtx) -> Result<(), String> {
    let cfg = ctx.config();
    let kernel = ctx.kernel();
    let duid = server_duid(&ctx.state_dir, &cfg, &kernel)?;
    let journal_path = ctx.state_dir.join(JOURNAL_FILE);
    let jp = journal_path.clone();
    let (journal, report) = tokio::task::spawn_blocking(move || Journal::open(&jp))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("lease journal {}: {e}", journal_path.display()))?;
    if report.is_clean() {
        info!(
            "dhcpv6: {} leases from {}",
            report.leases.len(),
            journal_path.display()
        );
    } else {
        warn!(
            "dhcpv6: {} leases from {}; dropped {} corrupt records and {} bytes of torn tail",
            report.leases.len(),
            journal_path.display(),
            report.corrupt_records,
            report.torn_tail_bytes
        );
    }
    let up = ctx.uplink.borrow().clone();
    let (links, notes, limits) = build_links(&cfg, &kernel, &up);
    let seed = fastrand::u64(..);
    let mut server = Server::new(
        ServerConfig {
            server_duid: duid,
            links: links.clone(),
            limits,
        },
        seed,
    );
    let sock = ServerSocket::bind(SERVER_PORT)
        .map_err(|e| format!("cannot bind [::]:{SERVER_PORT}: {e}"))?;
    let send_fd = sock
        .socket()
        .try_clone()
        .map_err(|e| format!("cannot duplicate the socket: {e}"))?;
    let mut joined = BTreeSet::new();
    let mut uplink = ctx.uplink.subscribe();
    sync_groups(&sock, &mut joined, &links);

    let (route_tx, route_rx) = mpsc::unbounded_channel();
    tokio::spawn(route_worker(ctx.netlink.clone(), route_rx));
    let counters = Arc::new(StoreCounters::default());
    let (store_tx, store_rx) = stdmpsc::channel();
    let c2 = counters.clone();
    let (failed_tx, mut failed_rx) = mpsc::unbounded_channel();
    let store_thread = std::thread::Builder::new()
        .name("dhcpv6-store".into())
        .spawn(move || store_loop(journal, store_rx, OwnedFd::from(send_fd), c2, failed_tx))
        .map_err(|e| format!("cannot start the store thread: {e}"))?;

    for a in server.restore(report.leases.into_values()) {
        if let Action::AddRoute(r) = a {
            let _ = route_tx.send(RouteOp::Add(r));
        }
    }
    // Routes a previous run installed for prefixes that are no longer
    // leased (the process died between adding the route and storing the
    // lease, or the lease ended while it was down).
    for r in stale_pd_routes(&kernel, &links, &server) {
        info!("dhcpv6: removing stale route {} via {:?}", r.dst, r.gateway);
        let _ = route_tx.send(RouteOp::Del(r));
    }
    let mut svc = Service {
        server,
        notes,
        store_tx,
        counters,
        routes: route_tx,
        journal_path,
        load_corrupt: report.corrupt_records as u64,
        load_torn: report.torn_tail_bytes as u64,
    };
    publish(ctx, "up", &svc.notes.join(", "));
    info!("dhcpv6: serving on {}", svc.notes.join(", "));
    let mut current_links = links;
    let mut buf = vec![0u8; 65536];
    let mut out: Vec<Reply> = Vec::new();
    let mut last_batch = Instant::now();
    loop {
        let n = now();
        let deadline = svc
            .server
            .next_deadline(n)
            .unwrap_or(n.mono + Duration::from_secs(60))
            .min(n.mono + Duration::from_secs(60));
        tokio::select! {
            r = sock.recv(&mut buf) => {
                let mut records = vec![];
                let mut held = vec![];
                let mut first = Some(r);
                for _ in 0..BATCH {
                    let r = match first.take() {
                        Some(r) => r,
                        None => match sock.try_recv(&mut buf) {
                            Ok(Some(m)) => Ok(m),
                            Ok(None) => break,
                            Err(e) => Err(e),
                        },
                    };
                    let meta = match r {
                        Ok(m) => m,
                        Err(e) => {
                            debug!("dhcpv6: recv: {e}");
                            continue;
                        }
                    };
                    let rx = Received {
                        data: &buf[..meta.len],
                        src: meta.src,
                        ifindex: meta.ifindex,
                        multicast: meta.multicast(),
                    };
                    let actions = svc.server.handle(now(), rx);
                    svc.dispatch(actions, &mut out, &mut records, &mut held);
                }
                send_replies(sock.raw_fd(), &mut out, 50);
                svc.commit(records, held);
                // Under load (this batch came within COALESCE of the last),
                // let the next datagrams gather before reading again, as
                // NAPI coalesces interrupts: one wake-up per COALESCE
                // instead of one per datagram, the largest CPU cost left
                // per exchange after the kernel's own. A lone client is
                // never delayed; under load a reply waits up to ~2 ms
                // more, against a client's 1 s first timeout (RFC 8415
                // §15, SOL_TIMEOUT, REQ_TIMEOUT). The socket's 4 MiB
                // buffer holds far more than 2 ms of any rate we serve.
                let t = Instant::now();
                let busy = t.saturating_duration_since(last_batch) < COALESCE;
                last_batch = t;
                if busy {
                    tokio::time::sleep(COALESCE).await;
                }
            }
            _ = tokio::time::sleep_until(deadline.into()) => {
                let actions = svc.server.on_timer(now());
                let mut records = vec![];
                let mut held = vec![];
                svc.dispatch(actions, &mut out, &mut records, &mut held);
                send_replies(sock.raw_fd(), &mut out, 50);
                svc.commit(records, held);
            }
            r = ctx.config.changed() => {
                if r.is_err() { break; }
                rebuild(ctx, &mut svc, &sock, &mut joined, &mut current_links);
            }
            r = ctx.kernel.changed() => {
                if r.is_err() { break; }
                rebuild(ctx, &mut svc, &sock, &mut joined, &mut current_links);
            }
            r = uplink.changed() => {
                if r.is_err() { break; }
                rebuild(ctx, &mut svc, &sock, &mut joined, &mut current_links);
            }
            Some(q) = ctx.queries.recv() => svc.answer(q),
            Some(recs) = failed_rx.recv() => {
                for a in svc.server.rollback(&recs) {
                    if let Action::DelRoute(r) = a {
                        let _ = svc.routes.send(RouteOp::Del(r));
                    }
                }
                let dropped = svc.counters.dropped_replies.swap(0, Ordering::Relaxed);
                svc.server.note_persist_failed(dropped);
            }
            _ = ctx.shutdown.changed() => break,
        }
    }
    // Stop: flush the journal, then take our routes away (they come back
    // from the journal at the next start).
    let (ack_tx, ack_rx) = tokio::sync::oneshot::channel();
    let _ = svc.store_tx.send(StoreCmd::Stop(ack_tx));
    let _ = tokio::time::timeout(Duration::from_millis(800), ack_rx).await;
    for l in svc.server.leases() {
        if let (LeaseKind::Prefix, Some(via)) = (l.kind, l.via) {
            if let Some(link) = current_links.iter().find(|k| *k.name == *l.link) {
                let r = RouteFact {
                    dst: l.prefix,
                    gateway: Some(via),
                    oif: Some(link.ifindex),
                    protocol: v6common::kernel::rtprot::V6ROUTER,
                    metric: 1024,
                    table: 254,
                    kind: v6common::RouteKind::Unicast,
                };
                let _ = tokio::time::timeout(Duration::from_millis(200), ctx.netlink.del_route(&r))
                    .await;
            }
        }
    }
    drop(svc);
    let _ = store_thread.join();
    Ok(())
}

/// Our routes (protocol v6router, via a gateway, on a served link) into a
/// prefix pool, for which no lease exists.
fn stale_pd_routes(k: &KernelView, links: &[LinkConfig], server: &Server) -> Vec<RouteFact> {
    let leased: BTreeSet<Ipv6Prefix> = server
        .leases()
        .filter(|l| l.kind == LeaseKind::Prefix)
        .map(|l| l.prefix)
        .collect();
    k.routes
        .iter()
        .filter(|r| r.protocol == v6common::kernel::rtprot::V6ROUTER && r.gateway.is_some())
        .filter(|r| {
            links.iter().any(|l| {
                Some(l.ifindex) == r.oif && l.prefix_pools.iter().any(|p| p.prefix.covers(&r.dst))
            })
        })
        .filter(|r| !leased.contains(&r.dst))
        .cloned()
        .collect()
}

fn secs_until(now: std::time::Instant, t: std::time::Instant) -> u32 {
    u32::try_from(t.saturating_duration_since(now).as_secs()).unwrap_or(u32::MAX)
}

/// fc00::/7 (RFC 4193).
fn is_ula(a: Ipv6Addr) -> bool {
    (a.segments()[0] & 0xfe00) == 0xfc00
}

fn rebuild(
    ctx: &ServiceCtx,
    svc: &mut Service,
    sock: &ServerSocket,
    joined: &mut BTreeSet<u32>,
    current: &mut Vec<LinkConfig>,
) {
    let up = ctx.uplink.borrow().clone();
    let (links, notes, _) = build_links(&ctx.config(), &ctx.kernel(), &up);
    svc.notes = notes;
    if links != *current {
        info!("dhcpv6: links now {}", svc.notes.join(", "));
        sync_groups(sock, joined, &links);
        svc.server.set_links(links.clone());
        *current = links;
        publish(ctx, "up", &svc.notes.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use v6common::{AddrFact, LinkFact};

    fn view() -> KernelView {
        let mut k = KernelView::default();
        k.links.insert(
            3,
            LinkFact {
                index: 3,
                name: "lan0".into(),
                lladdr: Some(vec![2, 0, 0, 0, 0, 1]),
                mtu: 1500,
                admin_up: true,
                running: true,
                kind: Some("veth".into()),
                ..Default::default()
            },
        );
        k.upsert_addr(AddrFact {
            index: 3,
            addr: "2001:db8:1::1".parse().unwrap(),
            prefix_len: 64,
            preferred_lft: u32::MAX,
            valid_lft: u32::MAX,
            tentative: false,
            deprecated: false,
            dad_failed: false,
            permanent: true,
        });
        k
    }

    const CFG: &str = r#"
[router]
state_dir = "/tmp/x"
[[interface]]
name = "lan0"
[interface.ra]
managed = true
[interface.dhcpv6]
pool = "::1000-::1fff"
pd_pool = { prefix = "2001:db8:8::/56", delegated_length = 60 }
dns = ["2001:db8:1::1", "uplink"]
search = ["home.arpa"]
rapid_commit = true
preference = 10
[[interface.dhcpv6.host]]
duid = "00:01:00:01:11:f9:4b:5a:08:00:27:c5:40:c7"
address = "2001:db8:1::500"
[[interface.dhcpv6.host]]
mac = "08:00:27:00:00:01"
address = "2001:db8:1::501"
[[interface.dhcpv6.host]]
duid = "00:03:00:01:02:00:00:00:00:09"
iaid = 7
prefix = "2001:db8:9::/56"
[[interface]]
name = "gone0"
[interface.dhcpv6]
pool = "2001:db8:2::10-2001:db8:2::20"
"#;

    #[test]
    fn config_to_engine_links() {
        let cfg = v6config::parse(CFG, Path::new("t.toml")).unwrap().config;
        let (links, notes, limits) = build_links(&cfg, &view(), &UplinkFacts::default());
        assert_eq!(links.len(), 1);
        let l = &links[0];
        assert_eq!((l.name.as_str(), l.ifindex), ("lan0", 3));
        assert_eq!(
            l.address_pools,
            vec![AddressPool {
                first: "2001:db8:1::1000".parse().unwrap(),
                last: "2001:db8:1::1fff".parse().unwrap()
            }]
        );
        assert_eq!(l.prefix_pools[0].delegated_len, 60);
        assert_eq!(
            l.dns_servers,
            vec!["2001:db8:1::1".parse::<Ipv6Addr>().unwrap()]
        );
        assert!(l.rapid_commit);
        assert_eq!(l.preference, Some(10));
        assert_eq!(l.hosts.len(), 3);
        assert!(matches!(l.hosts[1].id, HostId::Mac([8, 0, 0x27, 0, 0, 1])));
        assert!(
            matches!(&l.hosts[2].id, HostId::DuidIaid(d, 7) if d.mac() == Some([2, 0, 0, 0, 0, 9]))
        );
        assert_eq!(l.hosts[2].prefix, Some("2001:db8:9::/56".parse().unwrap()));
        assert_eq!(
            notes,
            vec!["lan0 (3)".to_string(), "gone0 (absent)".to_string()]
        );
        assert_eq!(limits.addresses_per_client, 8);
    }

    #[test]
    fn relayed_links_unicast_and_information_refresh_time() {
        let toml = r#"
[[interface]]
name = "lan0"
[interface.dhcpv6]
pool = "2001:db8:1::1000-2001:db8:1::1fff"
unicast = "2001:db8:1::1"
information_refresh_time = 7200
preferred_lifetime = 1000
valid_lifetime = 2000
dns = ["2001:db8:1::1"]
[[interface.dhcpv6.host]]
mac = "08:00:27:00:00:01"
address = "2001:db8:2::500"
[[interface.dhcpv6.host]]
mac = "08:00:27:00:00:02"
address = "2001:db8:1::500"
[[interface.dhcpv6.relayed]]
link = "2001:db8:2::/64"
name = "shed"
interface_id = "eth1"
pool = "2001:db8:2::100-2001:db8:2::1ff"
pd_pool = { prefix = "2001:db8:20::/56", delegated_length = 60 }
[[interface.dhcpv6.relayed]]
link = "2001:db8:3::/64"
pool = "::100-::1ff"
"#;
        let cfg = v6config::parse(toml, Path::new("t.toml")).unwrap().config;
        let (links, notes, _) = build_links(&cfg, &view(), &UplinkFacts::default());
        assert_eq!(links.len(), 3);
        assert_eq!(links[0].unicast, Some("2001:db8:1::1".parse().unwrap()));
        assert_eq!(links[0].information_refresh_time, Some(7200));
        assert!(!links[0].relayed);
        let shed = &links[1];
        assert_eq!(
            (shed.name.as_str(), shed.ifindex, shed.relayed),
            ("shed", 3, true)
        );
        assert_eq!(shed.interface_id.as_deref(), Some(&b"eth1"[..]));
        assert_eq!(shed.on_link, vec!["2001:db8:2::/64".parse().unwrap()]);
        assert_eq!(
            shed.address_pools[0].first,
            "2001:db8:2::100".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(shed.prefix_pools[0].delegated_len, 60);
        assert_eq!((shed.preferred, shed.valid), (1000, 2000));
        assert_eq!(shed.dns_servers, links[0].dns_servers);
        assert_eq!(shed.information_refresh_time, Some(7200));
        assert_eq!(shed.unicast, None);
        // Only the binding on the remote link goes with it.
        assert_eq!(shed.hosts.len(), 1);
        assert_eq!(
            shed.hosts[0].address,
            Some("2001:db8:2::500".parse().unwrap())
        );
        assert_eq!(links[2].name, "2001:db8:3::/64");
        assert!(links[2].address_pools.is_empty());
        assert_eq!(
            notes,
            vec![
                "lan0 (3), relayed shed, relayed 2001:db8:3::/64 (a relayed pool must be absolute)"
                    .to_string()
            ]
        );
    }

    #[test]
    fn stale_routes_are_ours_in_a_pool_and_unleased() {
        let cfg = v6config::parse(CFG, Path::new("t.toml")).unwrap().config;
        let mut k = view();
        let (links, _, limits) = build_links(&cfg, &k, &UplinkFacts::default());
        let route = |dst: &str, proto: u8, oif: u32| RouteFact {
            dst: dst.parse().unwrap(),
            gateway: Some("fe80::1".parse().unwrap()),
            oif: Some(oif),
            protocol: proto,
            metric: 1024,
            table: 254,
            kind: v6common::RouteKind::Unicast,
        };
        let v6r = v6common::kernel::rtprot::V6ROUTER;
        k.routes = vec![
            route("2001:db8:8:10::/60", v6r, 3), // stale
            route("2001:db8:8:20::/60", v6r, 3), // leased below
            route("2001:db8:8:30::/60", v6common::kernel::rtprot::STATIC, 3), // not ours
            route("2001:db8:77::/48", v6r, 3),   // outside the pool (a tunnel's?)
            route("2001:db8:8:40::/60", v6r, 9), // another interface
        ];
        let mut server = Server::new(
            ServerConfig {
                server_duid: Duid::new_ll(1, &[2, 0, 0, 0, 0, 1]),
                links: links.clone(),
                limits,
            },
            1,
        );
        server.restore([Lease {
            kind: LeaseKind::Prefix,
            prefix: "2001:db8:8:20::/60".parse().unwrap(),
            duid: Duid::new_ll(1, &[2, 0, 0, 0, 0, 2]),
            iaid: 1,
            link: Arc::from("lan0"),
            cltt: now().unix,
            preferred: 100,
            valid: 200,
            state: LeaseState::Bound,
            is_static: false,
            via: Some("fe80::1".parse().unwrap()),
        }]);
        let stale: Vec<String> = stale_pd_routes(&k, &links, &server)
            .iter()
            .map(|r| r.dst.to_string())
            .collect();
        assert_eq!(stale, vec!["2001:db8:8:10::/60".to_string()]);
    }

    #[test]
    fn server_duid_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!(
            "v6r-duid-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = v6config::parse(CFG, Path::new("t.toml")).unwrap().config;
        let d1 = server_duid(&dir, &cfg, &view()).unwrap();
        assert_eq!(
            d1.duid_type(),
            1,
            "DUID-LLT from the served interface's MAC"
        );
        assert_eq!(d1.mac(), Some([2, 0, 0, 0, 0, 1]));
        let d2 = server_duid(&dir, &cfg, &KernelView::default()).unwrap();
        assert_eq!(d1, d2);
        std::fs::write(dir.join(DUID_FILE), "garbage").unwrap();
        assert!(server_duid(&dir, &cfg, &view()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
