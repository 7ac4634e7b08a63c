//! The configuration as the engine sees it: one `LinkConfig` per served
//! interface that exists now and per relayed link behind it, their pools
//! (fixed, relative to the interface's /64, or sub-delegated from what the
//! uplink got), options, static bindings and the per-client limits; and the
//! multicast groups the socket joins for them.

use crate::service::UplinkFacts;
use std::collections::BTreeSet;
use std::net::Ipv6Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::warn;
use v6common::{AddrFact, Ipv6Prefix, KernelView};
use v6config::{Config, PoolRange};
use v6dhcp::engine::{AddressPool, Host, HostId, Limits, LinkConfig, PrefixPool};
use v6dhcp::io::ServerSocket;
use v6dhcp::wire::{Duid, NtpSuboption};

/// The engine's view of the configuration on the links that exist now.
/// Returns the links, per-interface notes for `show dhcpv6`, and the limits.
pub(super) fn build_links(
    cfg: &Config,
    k: &KernelView,
    up: &UplinkFacts,
) -> (Vec<LinkConfig>, Vec<String>, Limits) {
    let mut links = vec![];
    let mut notes = vec![];
    let relaying = crate::service::relaying(cfg, up);
    for ifc in &cfg.interfaces {
        let Some(d) = &ifc.dhcpv6 else { continue };
        // Relay mode: the servers upstream answer this LAN, through the
        // relay agent (dhcp_relay.rs), not us.
        if relaying.contains_key(ifc.name.as_str()) {
            notes.push(format!("{} (relayed)", ifc.name));
            continue;
        }
        let Some(link) = k.link_by_name(&ifc.name) else {
            notes.push(format!("{} (absent)", ifc.name));
            continue;
        };
        let mut note = format!("{} ({})", ifc.name, link.index);
        let local = local_link(&ifc.name, link.index, d, k, up, &mut note);
        let relayed: Vec<LinkConfig> = d
            .relayed
            .iter()
            .map(|r| relayed_link(d, r, &local, &mut note))
            .collect();
        notes.push(note);
        links.push(local);
        links.extend(relayed);
    }
    (links, notes, limits(cfg))
}

/// Per-client limits: the engine has one set, the largest any
/// `[interface.dhcpv6]` asks for (present or not); its defaults where
/// none asks for any.
fn limits(cfg: &Config) -> Limits {
    let served = || cfg.interfaces.iter().filter_map(|i| i.dhcpv6.as_ref());
    let most = |n: Option<u32>, default: usize| match n.unwrap_or(0) {
        0 => default,
        n => n as usize,
    };
    let d = Limits::default();
    Limits {
        addresses_per_client: most(
            served().map(|d| d.max_leases_per_client).max(),
            d.addresses_per_client,
        ),
        prefixes_per_client: most(
            served().map(|d| d.max_prefixes_per_client).max(),
            d.prefixes_per_client,
        ),
        solicits_per_second: most(
            served().map(|d| d.max_solicits_per_second).max(),
            d.solicits_per_second as usize,
        ) as u32,
        ..d
    }
}

/// Lease lifetimes never outlast the prefix they come from (RFC 9096 §3):
/// the configured ones, capped by each prefix served from.
struct Lifetimes {
    preferred: u32,
    valid: u32,
}

impl Lifetimes {
    /// The lifetimes `[interface.dhcpv6]` configures, before any cap.
    fn configured(d: &v6config::Dhcpv6) -> Lifetimes {
        Lifetimes {
            preferred: d.preferred_lifetime,
            valid: d.valid_lifetime,
        }
    }

    /// Into `lc`, with preferred never above valid, and T1/T2 as
    /// configured (None: derived from preferred by the engine).
    fn apply(&self, d: &v6config::Dhcpv6, lc: &mut LinkConfig) {
        lc.preferred = self.preferred.min(self.valid);
        lc.valid = self.valid;
        lc.t1 = d.renew_time;
        lc.t2 = d.rebind_time;
    }

    fn cap(&mut self, preferred: u32, valid: u32) {
        self.preferred = self.preferred.min(preferred);
        self.valid = self.valid.min(valid);
    }
}

/// The link of a served interface (`name`, `index`): its prefixes, pools,
/// options and static bindings. What cannot be served yet goes into `note`.
fn local_link(
    name: &str,
    index: u32,
    d: &v6config::Dhcpv6,
    k: &KernelView,
    up: &UplinkFacts,
    note: &mut String,
) -> LinkConfig {
    let mut lc = LinkConfig::new(name, index);
    let mut on_link: Vec<Ipv6Prefix> = k.globals(index).map(|a| a.prefix()).collect();
    on_link.sort();
    on_link.dedup();
    lc.on_link = on_link;
    lc.served_prefixes = served_prefixes(k, index);
    let mut life = Lifetimes::configured(d);
    if let Some(p) = &d.pool {
        lc.address_pools
            .extend(address_pool(p, k, index, &mut life, note));
    }
    if let Some(pd) = &d.pd_pool {
        lc.prefix_pools
            .extend(prefix_pools(pd, up, &mut life, note));
    }
    lc.dns_servers = crate::service::resolve_dns(&d.dns, &up.dns, k.own_dns_address(index));
    lc.domain_list = d.search.clone();
    life.apply(d, &mut lc);
    lc.rapid_commit = d.rapid_commit;
    lc.reconfigure = d.reconfigure;
    lc.preference = (d.preference > 0).then_some(d.preference);
    lc.hosts = d.hosts.iter().filter_map(host).collect();
    lc.unicast = d.unicast;
    lc.information_refresh_time = d.information_refresh_time;
    max_rt_and_ntp(d, &mut lc);
    lc
}

/// SOL_MAX_RT, INF_MAX_RT (RFC 8415 §21.24, §21.25) and the NTP servers
/// (RFC 5908 §4) of `[interface.dhcpv6]`.
fn max_rt_and_ntp(d: &v6config::Dhcpv6, lc: &mut LinkConfig) {
    lc.sol_max_rt = d.sol_max_rt;
    lc.inf_max_rt = d.inf_max_rt;
    lc.ntp_servers = d.ntp.iter().map(|n| NtpSuboption::from_server(n)).collect();
}

/// The address pool `pool`: fixed, or relative to the interface's /64
/// (then the lease lifetimes are capped by that address's).
fn address_pool(
    pool: &str,
    k: &KernelView,
    index: u32,
    life: &mut Lifetimes,
    note: &mut String,
) -> Option<AddressPool> {
    let r = match PoolRange::parse(pool) {
        Ok(r) => r,
        Err(e) => {
            note.push_str(&format!(" bad pool: {e}"));
            return None;
        }
    };
    if !r.relative {
        return Some(AddressPool {
            first: r.first,
            last: r.last,
        });
    }
    let Some(a) = serving_address(k, index) else {
        note.push_str(" pool waits for a /64 address");
        return None;
    };
    let r = r.on(a.prefix());
    life.cap(a.preferred_lft, a.valid_lft);
    Some(AddressPool {
        first: r.first,
        last: r.last,
    })
}

/// The /64 address a relative pool is served from: a preferred one before
/// a deprecated one (after renumbering both are on the link), a global one
/// before a ULA, the longest-lived first.
fn serving_address(k: &KernelView, index: u32) -> Option<&AddrFact> {
    k.globals(index)
        .filter(|a| a.prefix_len == 64 && !a.tentative)
        .max_by_key(|a| {
            (
                !a.deprecated && a.preferred_lft > 0,
                !is_ula(a.addr),
                a.preferred_lft,
            )
        })
}

/// The /64s a host's `hostid` is placed in: the interface's /64
/// addresses that are still preferred. After renumbering the old one stays
/// on the link, deprecated, until it expires; its hostid address is then
/// withdrawn (lifetime 0) and the new one given.
fn served_prefixes(k: &KernelView, index: u32) -> Vec<Ipv6Prefix> {
    let mut v: Vec<Ipv6Prefix> = k
        .globals(index)
        .filter(|a| a.prefix_len == 64 && !a.deprecated && a.preferred_lft > 0)
        .map(|a| a.prefix())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// fc00::/7 (RFC 4193).
fn is_ula(a: Ipv6Addr) -> bool {
    (a.segments()[0] & 0xfe00) == 0xfc00
}

/// The prefix pools of `pd_pool`: its fixed prefix, or what the uplink
/// delegated (`from`).
fn prefix_pools(
    pd: &v6config::PdPool,
    up: &UplinkFacts,
    life: &mut Lifetimes,
    note: &mut String,
) -> Vec<PrefixPool> {
    match (&pd.prefix, &pd.from) {
        (Some(p), _) => vec![PrefixPool {
            prefix: *p,
            delegated_len: pd.delegated_length,
        }],
        (None, Some(from)) => delegated_pools(from, pd.delegated_length, up, life, note),
        (None, None) => vec![],
    }
}

/// Sub-delegation: what the ISP delegated on `uplink` and no LAN uses
/// (RFC 7084 WPD-4), one pool per free sub-prefix of `len`; the lease
/// lifetimes are capped by the delegation's.
fn delegated_pools(
    uplink: &str,
    len: u8,
    up: &UplinkFacts,
    life: &mut Lifetimes,
    note: &mut String,
) -> Vec<PrefixPool> {
    let free = up.free_subprefixes(uplink, len);
    if free.is_empty() {
        note.push_str(&format!(
            " pd_pool from `{uplink}` waits for the uplink's prefix"
        ));
    }
    let now = Instant::now();
    let mut pools = vec![];
    for (sub, deleg) in free {
        pools.push(PrefixPool {
            prefix: sub,
            delegated_len: len,
        });
        life.cap(
            whole_secs(deleg.preferred_until.saturating_duration_since(now)),
            whole_secs(deleg.valid_until.saturating_duration_since(now)),
        );
    }
    pools
}

/// A lifetime in whole seconds, as the engine takes it.
fn whole_secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// A static binding as the engine's `Host`: by DUID (and IAID), else by
/// MAC; its `hostid` as the interface identifier (the lower 64 bits).
/// None if the client it names cannot be read (the config check reports
/// it).
pub(super) fn host(h: &v6config::Host) -> Option<Host> {
    let id = match (&h.duid, h.mac.as_deref()) {
        (Some(duid), _) => {
            let duid = v6config::parse_hex_bytes(duid)
                .ok()
                .and_then(|b| Duid::from_bytes(&b).ok())?;
            match h.iaid {
                Some(i) => HostId::DuidIaid(duid, i),
                None => HostId::Duid(duid),
            }
        }
        (None, Some(mac)) => HostId::Mac(v6config::parse_mac(mac).ok()?),
        (None, None) => return None,
    };
    Some(Host {
        id,
        name: h
            .name
            .as_deref()
            .filter(|n| v6common::hostname::is_host_label(n))
            .map(Arc::from),
        address: h.address,
        hostid: h.hostid.map(|a| u128::from(a) as u64),
        prefix: h.prefix,
        preferred: h.preferred_lifetime,
        valid: h.valid_lifetime,
    })
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
    relayed_pools(r, &mut l, note);
    l.dns_servers = local.dns_servers.clone();
    l.domain_list = local.domain_list.clone();
    // Not capped: the relayed link's pools are fixed, not of a delegation.
    Lifetimes::configured(d).apply(d, &mut l);
    l.rapid_commit = local.rapid_commit;
    l.preference = local.preference;
    l.information_refresh_time = local.information_refresh_time;
    max_rt_and_ntp(d, &mut l);
    let pd_prefixes: Vec<Ipv6Prefix> = l.prefix_pools.iter().map(|p| p.prefix).collect();
    l.hosts = local
        .hosts
        .iter()
        .filter(|h| {
            h.hostid.is_some()
                || (h.address.is_none() && h.prefix.is_none())
                || h.address.is_some_and(|a| r.link.contains(a))
                || h.prefix
                    .is_some_and(|p| pd_prefixes.iter().any(|q| q.covers(&p)))
        })
        .cloned()
        .collect();
    l
}

/// A relayed link's pools: only fixed ones; a relative pool or a pd_pool
/// without a prefix is noted, not served.
fn relayed_pools(r: &v6config::Dhcpv6Relayed, l: &mut LinkConfig, note: &mut String) {
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
}

/// Join ff02::1:2 where we serve, leave where we no longer do.
pub(super) fn sync_groups(sock: &ServerSocket, joined: &mut BTreeSet<u32>, links: &[LinkConfig]) {
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
                Err(e) => warn!("cannot join ff02::1:2 on interface {i}: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests;
