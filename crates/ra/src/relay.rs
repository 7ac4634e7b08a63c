//! RA relay (odhcpd's `ra relay`; RFC 7278 for the 3GPP /64 case, RFC 4389
//! §4.1.3.3 for the Proxy flag): what the uplink's router advertises,
//! remembered per option with when it was heard, and turned into the
//! parameters of our own advertiser on the LAN. Our RAs keep RFC 4861
//! timing of their own (§6.2.4, §6.2.6); only their content follows
//! upstream, with lifetimes counted down from when each option was heard
//! (a relayed lifetime never outlives the upstream one).
//!
//! Pure: time is passed in.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use v6common::Ipv6Prefix;

use crate::engine::{Params, PrefixParams, INFINITY, MAX_ROUTER_LIFETIME};
use crate::wire::{NdOption, RouterAdvertisement};

/// A withdrawn prefix (valid lifetime 0 upstream) is still advertised with
/// lifetime 0 this long, so hosts hear the withdrawal (RFC 4862 §5.5.3 e
/// lets a host keep a 2 h lifetime; the deprecation still reaches them).
const WITHDRAWN_KEEP: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Heard<T> {
    value: T,
    lifetime: u32,
    at: Instant,
}

/// The upstream router's advertised state (RFC 4861 §6.3.4: a host
/// processes each option on its own; an RA may carry a subset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Upstream {
    /// Who sent the last RA.
    pub router: Option<Ipv6Addr>,
    pub managed: bool,
    pub other_config: bool,
    /// Router lifetime as heard, and when.
    router_lifetime: Option<(u16, Instant)>,
    pub mtu: Option<u32>,
    /// Prefix -> (on-link, autonomous, preferred) with its valid lifetime.
    prefixes: BTreeMap<Ipv6Prefix, Heard<(bool, bool, u32)>>,
    rdnss: Option<Heard<Vec<Ipv6Addr>>>,
    dnssl: Option<Heard<Vec<String>>>,
}

/// Seconds left of `lifetime` heard at `at` (INFINITY stays).
fn left(lifetime: u32, at: Instant, now: Instant) -> u32 {
    if lifetime == INFINITY {
        return INFINITY;
    }
    let gone = u32::try_from(now.saturating_duration_since(at).as_secs()).unwrap_or(u32::MAX);
    lifetime.saturating_sub(gone)
}

/// Drop an option whose lifetime ran out; true if it did.
fn expire_heard<T>(slot: &mut Option<Heard<T>>, now: Instant) -> bool {
    let gone = slot
        .as_ref()
        .is_some_and(|h| left(h.lifetime, h.at, now) == 0);
    if gone {
        *slot = None;
    }
    gone
}

impl Upstream {
    /// An RA received on the uplink (already checked by `wire::parse`,
    /// RFC 4861 §6.1.2). Returns whether anything we relay changed.
    pub fn on_ra(&mut self, now: Instant, src: Ipv6Addr, ra: &RouterAdvertisement) -> bool {
        let before = self.clone();
        self.router = Some(src);
        self.managed = ra.managed;
        self.other_config = ra.other_config;
        self.router_lifetime = Some((ra.router_lifetime, now));
        for o in &ra.options {
            match o {
                NdOption::Mtu(m) => self.mtu = Some(*m),
                NdOption::PrefixInformation(pi) => {
                    // RFC 4862 §5.5.3 b/c: link-local and invalid ones are
                    // ignored; RFC 4861 §6.3.4 the same for on-link.
                    let p = Ipv6Prefix::new(pi.prefix, pi.prefix_len);
                    if p.is_link_local() || pi.preferred_lifetime > pi.valid_lifetime {
                        continue;
                    }
                    self.prefixes.insert(
                        p,
                        Heard {
                            value: (pi.on_link, pi.autonomous, pi.preferred_lifetime),
                            lifetime: pi.valid_lifetime,
                            at: now,
                        },
                    );
                }
                NdOption::Rdnss(r) => {
                    self.rdnss = Some(Heard {
                        value: r.servers.clone(),
                        lifetime: r.lifetime,
                        at: now,
                    })
                }
                NdOption::Dnssl(d) => {
                    self.dnssl = Some(Heard {
                        value: d.domains.clone(),
                        lifetime: d.lifetime,
                        at: now,
                    })
                }
                _ => {}
            }
        }
        // Timestamps alone do not count as a change: compare the content.
        let strip = |u: &Upstream| {
            (
                u.managed,
                u.other_config,
                u.router_lifetime.map(|r| r.0),
                u.mtu,
                u.prefixes
                    .iter()
                    .map(|(p, h)| (*p, h.value, h.lifetime == 0))
                    .collect::<Vec<_>>(),
                u.rdnss.as_ref().map(|h| (h.value.clone(), h.lifetime == 0)),
                u.dnssl.as_ref().map(|h| (h.value.clone(), h.lifetime == 0)),
            )
        };
        strip(&before) != strip(self)
    }

    /// Forget what expired upstream (a withdrawn prefix after
    /// `WITHDRAWN_KEEP`). Returns whether anything was forgotten.
    pub fn expire(&mut self, now: Instant) -> bool {
        let n = self.prefixes.len();
        self.prefixes.retain(|_, h| {
            let end = if h.lifetime == 0 {
                WITHDRAWN_KEEP
            } else {
                Duration::from_secs(u64::from(h.lifetime))
            };
            h.lifetime == INFINITY || now.saturating_duration_since(h.at) < end
        });
        let rdnss = expire_heard(&mut self.rdnss, now);
        let dnssl = expire_heard(&mut self.dnssl, now);
        n != self.prefixes.len() || rdnss || dnssl
    }

    /// When `expire` next has something to do.
    pub fn next_expiry(&self) -> Option<Instant> {
        let p = self
            .prefixes
            .values()
            .filter(|h| h.lifetime != INFINITY)
            .map(|h| {
                h.at + if h.lifetime == 0 {
                    WITHDRAWN_KEEP
                } else {
                    Duration::from_secs(u64::from(h.lifetime))
                }
            });
        let d = [
            self.rdnss.as_ref().map(|h| (h.lifetime, h.at)),
            self.dnssl.as_ref().map(|h| (h.lifetime, h.at)),
        ]
        .into_iter()
        .flatten()
        .filter(|(l, _)| *l != INFINITY)
        .map(|(l, at)| at + Duration::from_secs(u64::from(l)));
        p.chain(d).min()
    }

    /// The prefixes relayed now (valid lifetime left): what the ND proxy
    /// answers for.
    pub fn prefixes(&self, now: Instant) -> Vec<Ipv6Prefix> {
        self.prefixes
            .iter()
            .filter(|(_, h)| left(h.lifetime, h.at, now) > 0)
            .map(|(p, _)| *p)
            .collect()
    }

    /// Whether any RA was heard yet.
    pub fn heard(&self) -> bool {
        self.router.is_some()
    }

    /// Our advertiser's parameters: `base` (the LAN's own `[interface.ra]`
    /// timing and extras) with the upstream content: M/O flags, MTU, router
    /// lifetime, each prefix and RDNSS/DNSSL with what is left of their
    /// lifetimes. The LAN's own configured prefixes stay (templates find no
    /// address on a relayed LAN).
    pub fn params(&self, now: Instant, mut base: Params) -> Params {
        base.managed = self.managed;
        base.other_config = self.other_config;
        if self.mtu.is_some() {
            base.mtu = self.mtu;
        }
        // RFC 4861 §6.2.3: the router lifetime is ours to send; relayed, it
        // is what is left of upstream's (0: no default router upstream, so
        // none here either). Upstream's is the truth about a default route,
        // so our own check (RFC 7084 G-4) is not wanted on top.
        base.require_default_route = false;
        base.router_lifetime = self
            .router_lifetime
            .map(|(l, at)| {
                let l = u16::try_from(left(u32::from(l), at, now)).unwrap_or(u16::MAX);
                l.min(MAX_ROUTER_LIFETIME)
            })
            .unwrap_or(0);
        for (p, h) in &self.prefixes {
            let valid = left(h.lifetime, h.at, now);
            // L cleared (RFC 4861 §6.3.4: hosts then send everything off
            // their own address to the router): the /64's other members,
            // the ISP's router among them, are on the WAN, not here, and the
            // ND proxy answers only the WAN side (RFC 4389 §4.1).
            let (_on_link, autonomous, preferred) = h.value;
            let on_link = false;
            let preferred = left(preferred, h.at, now).min(valid);
            base.prefixes.retain(|x| x.prefix != *p);
            base.prefixes.push(PrefixParams {
                prefix: *p,
                on_link,
                autonomous,
                valid_lifetime: valid,
                preferred_lifetime: preferred,
            });
        }
        if let Some(h) = &self.rdnss {
            for a in &h.value {
                if !base.rdnss.contains(a) {
                    base.rdnss.push(*a);
                }
            }
            base.dns_lifetime = left(h.lifetime, h.at, now);
        }
        if let Some(h) = &self.dnssl {
            for d in &h.value {
                if !base.dnssl.contains(d) {
                    base.dnssl.push(d.clone());
                }
            }
        }
        base
    }
}

#[cfg(test)]
mod tests;
