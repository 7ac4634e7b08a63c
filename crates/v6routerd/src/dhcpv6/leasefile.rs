//! odhcpd's lease file (`[dhcpv6_state] lease_file`, OpenWrt's
//! `dhcp.odhcpd.leasefile`), which LuCI's "Active DHCPv6 Leases" table
//! (rpcd-mod-luci, `luci.c` `lease_next`) and dnsmasq (a hosts file in
//! `/tmp/hosts`, `--hostsdir`/`--addn-hosts`) read. Pure: leases and names
//! in, text out; publish.rs writes it.
//!
//! The format is odhcpd 24.10's (openwrt/odhcpd `src/dhcpv6-ia.c`,
//! `dhcpv6_ia_write_statefile` with `dhcpv6_write_ia_addr`, at 5585b96):
//! for each binding (one IA of one client on one interface), first a hosts
//! line per address when the binding is an IA_NA with a valid name,
//!
//!     ADDR<TAB>NAME.DOMAIN<TAB>NAME        (ADDR<TAB>NAME without a domain)
//!
//! then the binding itself, a comment to dnsmasq:
//!
//!     # IFNAME DUID_HEX IAID_HEX NAME|- VALID_UNTIL ID_HEX LENGTH ADDR/LEN ...
//!
//! VALID_UNTIL is a Unix time (odhcpd converts its monotonic `valid_until`
//! to wall-clock time; LuCI subtracts `time(NULL)`), -1 for infinite. ID is
//! odhcpd's assigned host id (IA_NA: the address's interface identifier) or
//! subnet id (IA_PD: the prefix's bits inside its pool); LENGTH is 128 for
//! an IA_NA, the delegated length for an IA_PD. Names are escaped as
//! odhcpd does since 68f3826 (`statefiles_escape_hostname`): a byte outside
//! `[0-9A-Za-z._-]` becomes `\xNN`, and a name that is not a valid host
//! name is written `broken\x20NAME` and gets no hosts line. odhcpd 25.12
//! moved the hosts lines to per-interface files (`hostsdir`); one file with
//! both, as here, serves LuCI and dnsmasq of either release.

use super::links::host;
use std::collections::BTreeMap;
use std::fmt::Write;
use v6common::hex::hex;
use v6common::Ipv6Prefix;
use v6config::Config;
use v6dhcp::engine::{Host, HostId, LinkConfig};
use v6dhcp::lease::{Lease, LeaseKind, LeaseState};

#[cfg(test)]
pub(super) mod tests;

/// One binding as one `#` line lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding<'a> {
    pub kind: LeaseKind,
    pub ifname: &'a str,
    pub duid: &'a [u8],
    pub iaid: u32,
    /// The client's name: a static host entry's, or (later) its FQDN's.
    pub name: Option<&'a str>,
    /// The first domain of the link's search list, for `NAME.DOMAIN`.
    pub domain: Option<&'a str>,
    /// Unix time the binding ends; None: never.
    pub valid_until: Option<u64>,
    /// odhcpd's assigned host id (IA_NA) or subnet id (IA_PD).
    pub id: u64,
    pub length: u8,
    /// The addresses (as /128) or the delegated prefixes.
    pub prefixes: Vec<Ipv6Prefix>,
}

/// The file's text and, separately, its hosts lines: odhcpd runs the
/// trigger only when those change (an md5 of the named addresses).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub hosts: String,
}

/// The file for `bindings`, in their order.
pub fn render(bindings: &[Binding<'_>]) -> Rendered {
    let mut r = Rendered::default();
    for b in bindings {
        let named = b.name.filter(|n| valid_hostname(n));
        if let (LeaseKind::Address, Some(n)) = (b.kind, named) {
            for p in &b.prefixes {
                let line = match b.domain {
                    Some(d) => format!("{}\t{n}.{d}\t{n}\n", p.addr()),
                    None => format!("{}\t{n}\n", p.addr()),
                };
                r.text.push_str(&line);
                r.hosts.push_str(&line);
            }
        }
        binding_line(&mut r.text, b);
    }
    r
}

/// `# IFNAME DUID IAID NAME VALID_UNTIL ID LENGTH ADDR/LEN ...`
fn binding_line(out: &mut String, b: &Binding<'_>) {
    let name = match b.name {
        None => "-".to_string(),
        Some(n) if valid_hostname(n) => n.to_string(),
        Some(n) => format!("broken\\x20{}", escape(n)),
    };
    let valid = b
        .valid_until
        .map_or(-1, |t| i64::try_from(t).unwrap_or(i64::MAX));
    let _ = write!(
        out,
        "# {} {} {:x} {name} {valid} {:x} {}",
        escape(b.ifname),
        hex(b.duid),
        b.iaid,
        b.id,
        b.length
    );
    for p in &b.prefixes {
        let _ = write!(out, " {}/{}", p.addr(), p.len());
    }
    out.push('\n');
}

/// statefiles_escape_hostname: one field of a line-based, space-separated
/// file, whatever bytes a client or a config put into a name.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// odhcpd_valid_hostname: labels of at most 63 letters, digits, `-` and
/// `_`, the latter two not first or last in a label (RFC 1035 §2.3.1's
/// preferred syntax, with `_`); dots between labels.
pub fn valid_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'))
                && !matches!(b[0], b'-' | b'_')
                && !matches!(b[b.len() - 1], b'-' | b'_')
        })
}

/// What the file says about clients besides their leases, per served link:
/// the static host entries' names, the domain, the PD pools (for subnet ids).
#[derive(Debug, Default)]
pub struct Naming {
    /// Every host entry that has a name, with how it is recognised.
    hosts: Vec<(Host, String)>,
    /// Link name -> (first search domain, PD pool prefixes).
    links: BTreeMap<String, (Option<String>, Vec<Ipv6Prefix>)>,
}

impl Naming {
    pub fn new(cfg: &Config, links: &[LinkConfig]) -> Naming {
        let hosts = cfg
            .interfaces
            .iter()
            .filter_map(|i| i.dhcpv6.as_ref())
            .flat_map(|d| &d.hosts)
            .filter_map(|h| Some((host(h)?, h.name.clone()?)))
            .collect();
        let links = links
            .iter()
            .map(|l| {
                let domain = l
                    .domain_list
                    .first()
                    .map(|d| d.trim_end_matches('.').to_string());
                let pools = l.prefix_pools.iter().map(|p| p.prefix).collect();
                (l.name.clone(), (domain, pools))
            })
            .collect();
        Naming { hosts, links }
    }

    /// The name of `l`'s client: the host entry that reserves what `l`
    /// leases, else the one that recognises the client as the engine
    /// does (DUID and IAID, DUID, MAC).
    pub fn name(&self, l: &Lease) -> Option<&str> {
        let reserves = |h: &Host| match l.kind {
            LeaseKind::Address => h.address == Some(l.prefix.addr()),
            LeaseKind::Prefix => h.prefix == Some(l.prefix),
        };
        let mac = l.duid.mac();
        let ranks: [&dyn Fn(&Host) -> bool; 4] = [
            &reserves,
            &|h| matches!(&h.id, HostId::DuidIaid(d, i) if *d == l.duid && *i == l.iaid),
            &|h| matches!(&h.id, HostId::Duid(d) if *d == l.duid),
            &|h| matches!(&h.id, HostId::Mac(m) if Some(*m) == mac),
        ];
        ranks.iter().find_map(|f| {
            self.hosts
                .iter()
                .find(|(h, _)| f(h))
                .map(|(_, n)| n.as_str())
        })
    }

    fn domain(&self, link: &str) -> Option<&str> {
        self.links.get(link).and_then(|(d, _)| d.as_deref())
    }

    /// odhcpd's subnet id of a delegated prefix: its bits below the pool
    /// it came from, within the 32 bits odhcpd keeps (it ORs the id into
    /// the second word of its prefix).
    fn subnet_id(&self, link: &str, p: Ipv6Prefix) -> u64 {
        let upper = (u128::from(p.addr()) >> 64) as u64;
        let pool_len = self
            .links
            .get(link)
            .and_then(|(_, pools)| pools.iter().find(|q| q.covers(&p)))
            .map_or(32, |q| q.len().clamp(32, 63));
        upper & ((1u64 << (64 - pool_len)) - 1) & u64::from(u32::MAX)
    }
}

/// The bindings of `leases` that are bound and not expired at `unix`:
/// the leases of one IA of one client on one link together, ordered by
/// link, kind and first address (odhcpd goes interface by interface).
pub fn bindings<'a>(leases: &'a [Lease], unix: u64, naming: &'a Naming) -> Vec<Binding<'a>> {
    type Key<'k> = (&'k str, LeaseKind, &'k [u8], u32);
    let mut by_ia: BTreeMap<Key<'a>, Vec<&'a Lease>> = BTreeMap::new();
    for l in leases {
        let live = l.valid == u32::MAX || l.expires() > unix;
        if l.state == LeaseState::Bound && live {
            let key = (&*l.link, l.kind, l.duid.as_bytes(), l.iaid);
            by_ia.entry(key).or_default().push(l);
        }
    }
    let mut out: Vec<Binding<'a>> = by_ia
        .into_iter()
        .map(|((link, kind, duid, iaid), mut ls)| {
            ls.sort_by_key(|l| l.prefix);
            let first = ls[0];
            let valid_until = if ls.iter().any(|l| l.valid == u32::MAX) {
                None
            } else {
                ls.iter().map(|l| l.expires()).max()
            };
            let (id, length) = match kind {
                LeaseKind::Address => (u128::from(first.prefix.addr()) as u64, 128),
                LeaseKind::Prefix => (naming.subnet_id(link, first.prefix), first.prefix.len()),
            };
            Binding {
                kind,
                ifname: link,
                duid,
                iaid,
                // The lease's own name (its host entry's, else the
                // client's FQDN, RFC 4704), else a host entry matching now.
                name: ls
                    .iter()
                    .find_map(|l| l.name.as_deref())
                    .or_else(|| ls.iter().find_map(|l| naming.name(l))),
                domain: naming.domain(link),
                valid_until,
                id,
                length,
                prefixes: ls.iter().map(|l| l.prefix).collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.ifname, a.kind, &a.prefixes).cmp(&(b.ifname, b.kind, &b.prefixes)));
    out
}
