use super::*;

#[test]
fn parse_masks_host_bits() {
    let p: Ipv6Prefix = "2001:db8:1::5/64".parse().unwrap();
    assert_eq!(p.to_string(), "2001:db8:1::/64");
    assert!(p.contains("2001:db8:1::ffff".parse().unwrap()));
    assert!(!p.contains("2001:db8:2::1".parse().unwrap()));
}

#[test]
fn parse_errors() {
    assert_eq!(
        "2001:db8::".parse::<Ipv6Prefix>(),
        Err(PrefixError::MissingLength)
    );
    assert!(matches!(
        "x/64".parse::<Ipv6Prefix>(),
        Err(PrefixError::BadAddress(_))
    ));
    assert!(matches!(
        "::/129".parse::<Ipv6Prefix>(),
        Err(PrefixError::BadLength(_))
    ));
}

#[test]
fn subnets() {
    let p: Ipv6Prefix = "2001:db8:100::/56".parse().unwrap();
    assert_eq!(p.subnet(64, 1).unwrap().to_string(), "2001:db8:100:1::/64");
    assert_eq!(
        p.subnet(64, 255).unwrap().to_string(),
        "2001:db8:100:ff::/64"
    );
    assert!(p.subnet(64, 256).is_none());
    assert!(p.subnet(48, 0).is_none());
    assert_eq!(p.subnet(60, 3).unwrap().to_string(), "2001:db8:100:30::/60");
    assert!(p.covers(&p.subnet(60, 3).unwrap()));
    let all: Ipv6Prefix = "::/0".parse().unwrap();
    assert_eq!(all.subnet(1, 1).unwrap().to_string(), "8000::/1");
}

#[test]
fn link_local() {
    assert!(is_link_local("fe80::1".parse().unwrap()));
    assert!(is_link_local("febf::1".parse().unwrap()));
    assert!(!is_link_local("fec0::1".parse().unwrap()));
}
