use super::*;
use crate::wire::{Dnssl, PrefixInformation, Rdnss};

fn pio(p: &str, valid: u32, preferred: u32) -> NdOption {
    NdOption::PrefixInformation(PrefixInformation {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        router_address: false,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
        prefix: p.parse().unwrap(),
    })
}

fn ra(lifetime: u16, options: Vec<NdOption>) -> RouterAdvertisement {
    RouterAdvertisement {
        router_lifetime: lifetime,
        options,
        ..Default::default()
    }
}

fn isp() -> Ipv6Addr {
    "fe80::1".parse().unwrap()
}

/// An upstream that heard one RA with `options` from the ISP at `t0`.
fn heard(t0: Instant, options: Vec<NdOption>) -> Upstream {
    let mut u = Upstream::default();
    u.on_ra(t0, isp(), &ra(1800, options));
    u
}

#[test]
fn relays_prefix_dns_mtu_and_lifetime_counting_down() {
    let t0 = Instant::now();
    let mut u = Upstream::default();
    let changed = u.on_ra(t0, isp(), &isp_ra());
    assert!(changed);
    let p = u.params(t0 + Duration::from_secs(100), base());
    assert!(p.other_config && !p.managed);
    assert_eq!(p.mtu, Some(1480));
    assert_eq!(p.router_lifetime, 1700);
    assert!(!p.require_default_route);
    let pp = p
        .prefixes
        .iter()
        .find(|x| x.prefix == "2001:db8:7::/64".parse().unwrap())
        .unwrap();
    assert_eq!((pp.valid_lifetime, pp.preferred_lifetime), (3500, 1700));
    assert!(
        pp.autonomous && !pp.on_link,
        "hosts must send off-link to us"
    );
    assert_eq!(p.rdnss, vec!["2001:db8:7::53".parse::<Ipv6Addr>().unwrap()]);
    assert_eq!(p.dns_lifetime, 500);
    assert_eq!(p.dnssl, vec!["isp.example".to_string()]);
    // The same RA again is no change.
    assert!(!u.on_ra(t0 + Duration::from_secs(5), isp(), &isp_ra()));
}

#[test]
fn withdrawal_is_relayed_then_forgotten() {
    let t0 = Instant::now();
    let mut u = heard(t0, vec![pio("2001:db8:7::", 3600, 1800)]);
    assert!(u.on_ra(t0, isp(), &ra(0, vec![pio("2001:db8:7::", 0, 0)])));
    let p = u.params(t0, base());
    assert_eq!(p.router_lifetime, 0);
    let pp = p
        .prefixes
        .iter()
        .find(|x| x.prefix.len() == 64 && !x.is_template());
    assert_eq!(
        pp.map(|x| (x.valid_lifetime, x.preferred_lifetime)),
        Some((0, 0))
    );
    assert!(!u.expire(t0 + Duration::from_secs(10)));
    assert_eq!(u.next_expiry(), Some(t0 + WITHDRAWN_KEEP));
    assert!(u.expire(t0 + WITHDRAWN_KEEP));
    let p = u.params(t0 + WITHDRAWN_KEEP, base());
    assert!(p.prefixes.iter().all(|x| x.is_template()));
}

#[test]
fn link_local_and_inconsistent_prefixes_are_not_relayed() {
    let t0 = Instant::now();
    let u = heard(
        t0,
        vec![pio("fe80::", 3600, 1800), pio("2001:db8:8::", 100, 200)],
    );
    let p = u.params(t0, base());
    assert!(p.prefixes.iter().all(|x| x.is_template()));
}

#[test]
fn rdnss_expires_with_its_lifetime() {
    let t0 = Instant::now();
    let mut u = heard(
        t0,
        vec![NdOption::Rdnss(Rdnss {
            lifetime: 30,
            servers: vec!["2001:db8:7::53".parse().unwrap()],
        })],
    );
    assert!(u.expire(t0 + Duration::from_secs(30)));
    assert!(u.params(t0, base()).rdnss.is_empty());
}

fn base() -> Params {
    Params::with_max_interval(Duration::from_secs(600))
}

/// The ISP's RA: O flag, a /64, MTU, RDNSS and DNSSL.
fn isp_ra() -> RouterAdvertisement {
    RouterAdvertisement {
        other_config: true,
        ..ra(
            1800,
            vec![
                pio("2001:db8:7::", 3600, 1800),
                NdOption::Mtu(1480),
                NdOption::Rdnss(Rdnss {
                    lifetime: 600,
                    servers: vec!["2001:db8:7::53".parse().unwrap()],
                }),
                NdOption::Dnssl(Dnssl {
                    lifetime: 600,
                    domains: vec!["isp.example".into()],
                }),
            ],
        )
    }
}
