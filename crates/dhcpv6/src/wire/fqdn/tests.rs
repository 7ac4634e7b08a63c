use super::*;

#[test]
fn the_root_alone_round_trips() {
    for body in [&[1u8, 0][..], &[1u8][..]] {
        let f = ClientFqdn::parse(body).expect("parses");
        let mut out = vec![];
        f.emit(&mut out);
        assert_eq!(out, body);
    }
}

#[test]
fn full_partial_and_empty_names_round_trip() {
    // "laptop" partial (no root label), as dhclient's `send fqdn.fqdn "laptop";`.
    let partial = [0x01, 6, b'l', b'a', b'p', b't', b'o', b'p'];
    let f = ClientFqdn::parse(&partial).unwrap();
    assert_eq!(
        (f.flags, f.name.as_str(), f.fully_qualified),
        (1, "laptop", false)
    );
    let mut out = vec![];
    f.emit(&mut out);
    assert_eq!(out, partial);
    let full = [0, 2, b'p', b'c', 4, b'h', b'o', b'm', b'e', 0];
    let f = ClientFqdn::parse(&full).unwrap();
    assert_eq!((f.name.as_str(), f.fully_qualified), ("pc.home", true));
    assert_eq!(f.host_label(), Some("pc"));
    out.clear();
    f.emit(&mut out);
    assert_eq!(out, full);
    let empty = ClientFqdn::parse(&[4]).unwrap();
    assert_eq!((empty.name.as_str(), empty.host_label()), ("", None));
    out.clear();
    empty.emit(&mut out);
    assert_eq!(out, [4]);
}

#[test]
fn malformed_names_are_errors() {
    for bad in [
        &[][..],                          // no flags
        &[0, 64][..],                     // label longer than 63
        &[0, 0xc0, 0x0c][..],             // a compression pointer
        &[0, 5, b'a', b'b'][..],          // label runs past the end
        &[0, 1, b'a', 0, 1, b'b'][..],    // bytes after the root label
        &[0, 3, b'a', b' ', b'b', 0][..], // not printable
    ] {
        assert_eq!(
            ClientFqdn::parse(bad),
            Err(WireError::BadDomainName),
            "{bad:?}"
        );
    }
}

#[test]
fn only_host_names_are_recorded() {
    let label = |n: &str| {
        ClientFqdn {
            flags: 0,
            name: n.into(),
            fully_qualified: false,
        }
        .host_label()
        .map(str::to_string)
    };
    assert_eq!(label("my-pc"), Some("my-pc".into()));
    assert_eq!(label("-pc"), None);
    assert_eq!(label("pc_1"), None);
    assert_eq!(label("a\"b"), None);
}

#[test]
fn flags_of_a_server_that_does_not_update_dns() {
    assert_eq!(no_update_flags(flag::S), flag::N | flag::O);
    assert_eq!(no_update_flags(0), flag::N);
    assert_eq!(no_update_flags(flag::N), flag::N);
}
