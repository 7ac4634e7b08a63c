use super::*;

fn he6() -> TunnelSpec {
    TunnelSpec::new(
        "he6",
        Ipv4Addr::new(198, 51, 100, 1),
        LocalEndpoint::Fixed(Ipv4Addr::new(192, 0, 2, 2)),
    )
}

#[test]
fn defaults_are_those_of_ip_tunnel_add() {
    let s = he6();
    assert_eq!(
        (s.ttl, s.mtu, s.pmtudisc, s.metric),
        (255, 1480, true, 1024)
    );
    assert!(s.validate().is_ok());
    assert!(s.wanted_routes().is_empty());
}

#[test]
fn wanted_routes_default_first_no_duplicates() {
    let mut s = he6();
    s.default_route = true;
    s.routes = vec!["2001:db8:aa::/48".parse().unwrap(), "::/0".parse().unwrap()];
    let r: Vec<String> = s.wanted_routes().iter().map(|p| p.to_string()).collect();
    assert_eq!(r, ["::/0", "2001:db8:aa::/48"]);
}

#[test]
fn address_parse() {
    let a: TunnelAddress = "2001:db8:f::2/64".parse().unwrap();
    assert_eq!(a.to_string(), "2001:db8:f::2/64");
    assert!("2001:db8:f::2".parse::<TunnelAddress>().is_err());
    assert!("ff02::1/64".parse::<TunnelAddress>().is_err());
    assert!("2001:db8::1/129".parse::<TunnelAddress>().is_err());
    assert!("::/0".parse::<TunnelAddress>().is_err());
}

#[test]
fn validation_rejects_what_the_kernel_or_iproute2_would() {
    let mut s = he6();
    s.name = "sit0".into();
    assert_eq!(s.validate(), Err(SpecError::FallbackDevice));
    s.name = "a-very-long-name-x".into();
    assert!(matches!(s.validate(), Err(SpecError::BadName(_))));
    s.name = "he:6".into();
    assert!(matches!(s.validate(), Err(SpecError::BadName(_))));
    let mut s = he6();
    s.remote = Ipv4Addr::UNSPECIFIED;
    assert!(matches!(s.validate(), Err(SpecError::BadRemote(_))));
    let mut s = he6();
    s.local = LocalEndpoint::Fixed(Ipv4Addr::new(224, 0, 0, 1));
    assert!(matches!(s.validate(), Err(SpecError::BadLocal(_))));
    let mut s = he6();
    s.local = LocalEndpoint::Auto { wan: String::new() };
    assert_eq!(s.validate(), Err(SpecError::AutoWithoutWan));
    let mut s = he6();
    s.pmtudisc = false;
    assert_eq!(s.validate(), Err(SpecError::TtlNeedsPmtudisc(255)));
    s.ttl = 0;
    assert!(s.validate().is_ok());
    let mut s = he6();
    s.mtu = 1279;
    assert_eq!(s.validate(), Err(SpecError::BadMtu(1279)));
    s.mtu = 1280;
    assert!(s.validate().is_ok());
}

#[test]
fn validate_all_finds_clashes() {
    let a = he6();
    let mut b = he6();
    assert_eq!(
        validate_all(&[a.clone(), b.clone()]),
        Err(SpecError::DuplicateName("he6".into()))
    );
    b.name = "he7".into();
    assert_eq!(
        validate_all(&[a.clone(), b.clone()]),
        Err(SpecError::DuplicateEndpoints("he7".into()))
    );
    b.remote = Ipv4Addr::new(198, 51, 100, 2);
    assert!(validate_all(&[a, b]).is_ok());
}
