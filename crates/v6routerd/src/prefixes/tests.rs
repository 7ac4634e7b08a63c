use super::*;

fn cfg(text: &str) -> Config {
    v6config::parse(text, std::path::Path::new("t.toml"))
        .unwrap()
        .config
}

const TWO_LANS: &str = concat!(
    testlab::wan_uplink!(56),
    testlab::lan_from_wan!("lan0", 1),
    r#"
[[interface]]
name = "lan1"
assign = { from = "wan0", subnet = "auto" }
"#
);

/// wan0's lease of `v`, preferred for `pl` and valid for `vl` seconds
/// from `now`.
fn held<T: std::str::FromStr>(v: &str, now: Instant, pl: u64, vl: u64) -> UplinkLease<T>
where
    T::Err: std::fmt::Debug,
{
    UplinkLease {
        uplink: "wan0".into(),
        value: v.parse().unwrap(),
        preferred_until: now + Duration::from_secs(pl),
        valid_until: now + Duration::from_secs(vl),
    }
}

fn deleg(p: &str, now: Instant, pl: u64, vl: u64) -> Delegation {
    held(p, now, pl, vl)
}

/// The plan for one live /56 from wan0 (preferred 20 s, valid 40 s).
fn plan_56(c: &Config, earlier: &BTreeMap<String, u32>, now: Instant) -> Plan {
    let d = deleg("2001:db8:100::/56", now, 20, 40);
    plan(c, &[d], None, earlier, now)
}

#[test]
fn carves_a_64_per_lan_bounded_by_the_delegation() {
    let now = Instant::now();
    let c = cfg(TWO_LANS);
    let p = plan_56(&c, &BTreeMap::new(), now);
    let got: Vec<String> = p
        .addrs
        .iter()
        .map(|a| {
            format!(
                "{} {}/{} {} {}",
                a.iface, a.addr, a.prefix_len, a.preferred, a.valid
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            "lan0 2001:db8:100:1::1/64 20 40",
            "lan1 2001:db8:100::1/64 20 40"
        ]
    );
    assert_eq!(
        p.unreachable,
        vec!["2001:db8:100::/56".parse::<Ipv6Prefix>().unwrap()]
    );
    assert_eq!(p.auto_subnets.get("lan1"), Some(&0));
}

#[test]
fn auto_subnets_stay_where_they_were() {
    let now = Instant::now();
    let c = cfg(TWO_LANS);
    let mut earlier = BTreeMap::new();
    earlier.insert("lan1".to_string(), 7);
    let p = plan_56(&c, &earlier, now);
    assert!(p
        .addrs
        .iter()
        .any(|a| a.iface == "lan1" && a.addr.to_string() == "2001:db8:100:7::1"));
    // An earlier choice that collides with an explicit index is redone.
    earlier.insert("lan1".to_string(), 1);
    let p = plan_56(&c, &earlier, now);
    assert_eq!(p.auto_subnets.get("lan1"), Some(&0));
}

#[test]
fn renumbering_moves_every_lan_and_expired_delegations_vanish() {
    let now = Instant::now();
    let c = cfg(TWO_LANS);
    let p = plan(
        &c,
        &[
            deleg("2001:db8:200::/56", now, 20, 40),
            deleg("2001:db8:100::/56", now, 0, 0),
        ],
        None,
        &BTreeMap::new(),
        now,
    );
    assert!(
        p.addrs.iter().all(|a| a.addr.segments()[2] == 0x200),
        "{:?}",
        p.addrs
    );
    assert_eq!(p.unreachable.len(), 1);
}

#[test]
fn subnets_that_do_not_fit_are_reported() {
    let now = Instant::now();
    let c = cfg(TWO_LANS.replace("subnet = 1", "subnet = 300").as_str());
    let p = plan_56(&c, &BTreeMap::new(), now);
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert!(p.problems[0].contains("does not fit"));
}

#[test]
fn ia_na_addresses_go_on_the_wan_as_128s_with_their_lifetimes() {
    let now = Instant::now();
    let lease = |addr: &str, pl: u64, vl: u64| -> WanLease { held(addr, now, pl, vl) };
    let got = wan_addrs(
        &[
            lease("2001:db8:ff::1000", 20, 40),
            lease("2001:db8:ff::1001", 0, 0),
        ],
        now,
    );
    assert_eq!(got.len(), 1, "the expired one is not configured: {got:?}");
    let a = &got[0];
    assert_eq!(
        (
            a.iface.as_str(),
            a.addr.to_string(),
            a.prefix_len,
            a.preferred,
            a.valid
        ),
        ("wan0", "2001:db8:ff::1000".to_string(), 128, 20, 40)
    );
}

#[test]
fn ula_gives_every_assigned_lan_a_permanent_64() {
    let now = Instant::now();
    let c = cfg(TWO_LANS);
    let mut rng = fastrand::Rng::with_seed(1);
    let ula = new_ula(&mut rng);
    assert_eq!(ula.len(), 48);
    assert_eq!(ula.addr().segments()[0] >> 8, 0xfd);
    let p = plan(&c, &[], Some(ula), &BTreeMap::new(), now);
    assert_eq!(p.addrs.len(), 2);
    assert!(p
        .addrs
        .iter()
        .all(|a| a.valid == u32::MAX && ula.contains(a.addr)));
    assert!(p.unreachable.is_empty());
}
