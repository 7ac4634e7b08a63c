use super::*;

use testlab::unhex;

/// A Solicit laid out as ISC dhclient 4.4 sends it (`dhclient -6 eth0`),
/// written out by hand from RFC 8415 §21: Client ID DUID-LLT (the DUID
/// of the example), ORO (DNS, domain list), Elapsed Time 0,
/// IA_NA iaid 0x27c540c7 with T1=T2=0.
const DHCLIENT_SOLICIT: &str = "01 10 08 74 \
        0001 000e 0001 0001 11f94b5a 080027c540c7 \
        0006 0004 0017 0018 \
        0008 0002 0000 \
        0003 000c 27c540c7 00000000 00000000";

#[test]
fn golden_solicit_parse_and_reemit() {
    let bytes = unhex(DHCLIENT_SOLICIT);
    let m = match Message::parse(&bytes).unwrap() {
        Message::ClientServer(m) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(m.msg_type, MessageType::Solicit);
    assert_eq!(m.transaction_id, 0x100874);
    let duid = m.client_id().unwrap();
    assert_eq!(duid.to_hex(), "00:01:00:01:11:f9:4b:5a:08:00:27:c5:40:c7");
    assert_eq!(duid.mac(), Some([0x08, 0x00, 0x27, 0xc5, 0x40, 0xc7]));
    assert!(matches!(
        duid.kind(),
        DuidKind::Llt {
            hw_type: 1,
            time: 0x11f94b5a,
            ..
        }
    ));
    assert_eq!(m.oro(), &[code::DNS_SERVERS, code::DOMAIN_LIST]);
    assert_eq!(
        m.option(code::ELAPSED_TIME),
        Some(&DhcpOption::ElapsedTime(0))
    );
    assert_eq!(
        m.option(code::IA_NA),
        Some(&DhcpOption::IaNa(IaNa {
            iaid: 0x27c540c7,
            t1: 0,
            t2: 0,
            options: vec![]
        }))
    );
    assert_eq!(m.to_bytes(), bytes);
}

/// A Reply written out by hand from the field layouts of RFC 8415 §21:
/// Server ID (DUID-LL), Client ID, IA_NA with one IAADDR (3600/7200) and
/// a success status, DNS servers, domain list "home.arpa" + "example.com".
fn reply_repr() -> Message {
    Message::ClientServer(ClientServerMessage {
        msg_type: MessageType::Reply,
        transaction_id: 0xabcdef,
        options: vec![
            DhcpOption::ServerId(Duid::new_ll(1, &[2, 0, 0, 0, 0, 1])),
            DhcpOption::ClientId(Duid::new_llt(
                1,
                0x11f94b5a,
                &[8, 0, 0x27, 0xc5, 0x40, 0xc7],
            )),
            DhcpOption::IaNa(IaNa {
                iaid: 1,
                t1: 1800,
                t2: 2880,
                options: vec![
                    DhcpOption::IaAddr(IaAddr {
                        addr: "2001:db8:1::1000".parse().unwrap(),
                        preferred: 3600,
                        valid: 7200,
                        options: vec![],
                    }),
                    DhcpOption::StatusCode(StatusCode::Success, String::new()),
                ],
            }),
            DhcpOption::DnsServers(vec!["2001:db8:1::1".parse().unwrap()]),
            DhcpOption::DomainList(vec!["home.arpa".into(), "example.com".into()]),
        ],
    })
}

#[test]
fn golden_reply_emit_and_parse() {
    let repr = reply_repr();
    let emitted = repr.to_bytes();
    let expected = unhex(
        "07 abcdef \
            0002 000a 0003 0001 020000000001 \
            0001 000e 0001 0001 11f94b5a 080027c540c7 \
            0003 002e 00000001 00000708 00000b40 \
                0005 0018 20010db8000100000000000000001000 00000e10 00001c20 \
                000d 0002 0000 \
            0017 0010 20010db8000100000000000000000001 \
            0018 0018 04 686f6d65 04 61727061 00 07 6578616d706c65 03 636f6d 00",
    );
    assert_eq!(hex_colon(&emitted), hex_colon(&expected));
    assert_eq!(Message::parse(&expected).unwrap(), repr);
}

/// IA_PD with one IAPREFIX as Kea 2.2 sends it (2001:db8:100::/56,
/// preferred 20, valid 40, T1 4, T2 6; see RECIPES.md).
#[test]
fn golden_ia_pd() {
    let bytes = unhex(
        "0019 0029 0000000a 00000004 00000006 \
               001a 0019 00000014 00000028 38 20010db8010000000000000000000000",
    );
    let opts = parse_options(&bytes).unwrap();
    let want = DhcpOption::IaPd(IaPd {
        iaid: 10,
        t1: 4,
        t2: 6,
        options: vec![DhcpOption::IaPrefix(IaPrefix {
            preferred: 20,
            valid: 40,
            prefix_len: 56,
            prefix: "2001:db8:100::".parse().unwrap(),
            options: vec![],
        })],
    });
    assert_eq!(opts, vec![want.clone()]);
    let mut out = Vec::new();
    want.emit(&mut out);
    assert_eq!(out, bytes);
}

/// Captured on a veth (tcpdump, 2026-11-24) between ISC dhclient 4.4.3-P1
/// (`dhclient -6 -P -N`) and Kea 2.2.0 (`kea-dhcp6`, one /64 with an
/// address pool and a /40 pd-pool delegating /56s, DNS and search list):
/// the Solicit and Request of dhclient, the Advertise and Reply of Kea.
const CAPTURED: [(MessageType, &str); 4] = [
        (MessageType::Solicit, "01982cb50001000e000100013298d32b5a427174c3f400060008001700180027001f0008000200000003000c7174c3f400000e10000015180019000c7174c3f400000e1000001518"),
        (MessageType::Advertise, "02982cb50001000e000100013298d32b5a427174c3f40002000e000100013298cbe6b232c9cd79f0000300287174c3f400000004000000060005001820010db800ff0000000000000000010000000014000000280017001020010db800ff000000000000000000010018000b04686f6d65046172706100001900297174c3f40000000400000006001a001900000014000000283820010db8010000000000000000000000"),
        (MessageType::Request, "037b72550001000e000100013298d32b5a427174c3f40002000e000100013298cbe6b232c9cd79f000060008001700180027001f000800020000000300287174c3f400000e10000015180005001820010db800ff0000000000000000010000001c2000001d4c001900297174c3f400000e1000001518001a001900001c2000001d4c3820010db8010000000000000000000000"),
        (MessageType::Reply, "077b72550001000e000100013298d32b5a427174c3f40002000e000100013298cbe6b232c9cd79f0000300287174c3f400000004000000060005001820010db800ff0000000000000000010000000014000000280017001020010db800ff000000000000000000010018000b04686f6d65046172706100001900297174c3f40000000400000006001a001900000014000000283820010db8010000000000000000000000"),
    ];

#[test]
fn captured_dhclient_and_kea_messages() {
    for (t, hex) in CAPTURED {
        let bytes = unhex(hex);
        let Message::ClientServer(m) = Message::parse(&bytes).unwrap() else {
            panic!()
        };
        assert_eq!(m.msg_type, t);
        // Byte for byte what the peers sent.
        assert_eq!(m.to_bytes(), bytes, "{t:?}");
        let client = m.client_id().unwrap();
        assert_eq!(client.duid_type(), duid_type::LLT);
        assert_eq!(client.mac(), Some([0x5a, 0x42, 0x71, 0x74, 0xc3, 0xf4]));
        if t != MessageType::Solicit {
            assert_eq!(
                m.server_id().unwrap().to_hex(),
                "00:01:00:01:32:98:cb:e6:b2:32:c9:cd:79:f0"
            );
        }
    }
    let Message::ClientServer(sol) = Message::parse(&unhex(CAPTURED[0].1)).unwrap() else {
        panic!()
    };
    assert_eq!(sol.oro(), &[code::DNS_SERVERS, code::DOMAIN_LIST, 39, 31]);
    let Message::ClientServer(reply) = Message::parse(&unhex(CAPTURED[3].1)).unwrap() else {
        panic!()
    };
    assert_eq!(
        reply.option(code::IA_NA),
        Some(&DhcpOption::IaNa(IaNa {
            iaid: 0x7174c3f4,
            t1: 4,
            t2: 6,
            options: vec![DhcpOption::IaAddr(IaAddr {
                addr: "2001:db8:ff::100".parse().unwrap(),
                preferred: 20,
                valid: 40,
                options: vec![]
            })]
        }))
    );
    assert_eq!(
        reply.option(code::DOMAIN_LIST),
        Some(&DhcpOption::DomainList(vec!["home.arpa".into()]))
    );
    let Some(DhcpOption::IaPd(pd)) = reply.option(code::IA_PD) else {
        panic!()
    };
    assert_eq!(
        pd.options,
        vec![DhcpOption::IaPrefix(IaPrefix {
            preferred: 20,
            valid: 40,
            prefix_len: 56,
            prefix: "2001:db8:100::".parse().unwrap(),
            options: vec![]
        })]
    );
}

#[test]
fn relay_forw_parse() {
    let inner = unhex(DHCLIENT_SOLICIT);
    let mut b = unhex("0c 00 20010db8000100000000000000000001 fe800000000000000a0027fffec540c7");
    DhcpOption::InterfaceId(b"eth0".to_vec()).emit(&mut b);
    DhcpOption::RelayMsg(inner.clone()).emit(&mut b);
    let Message::Relay(r) = Message::parse(&b).unwrap() else {
        panic!()
    };
    assert_eq!(r.msg_type, MessageType::RelayForw);
    assert_eq!(r.hop_count, 0);
    assert_eq!(r.link_address, "2001:db8:1::1".parse::<Ipv6Addr>().unwrap());
    assert_eq!(
        r.peer_address,
        "fe80::a00:27ff:fec5:40c7".parse::<Ipv6Addr>().unwrap()
    );
    assert_eq!(r.interface_id(), Some(&b"eth0"[..]));
    assert_eq!(r.relay_msg(), Some(inner.as_slice()));
    assert!(matches!(
        Message::parse(r.relay_msg().unwrap()).unwrap(),
        Message::ClientServer(_)
    ));
    assert_eq!(Message::Relay(r).to_bytes(), b);
}

#[test]
fn every_option_round_trips() {
    let opts = vec![
        DhcpOption::ClientId(Duid::new_en(9, b"abc")),
        DhcpOption::ServerId(Duid::new_uuid([7; 16])),
        DhcpOption::IaTa(IaTa {
            iaid: 3,
            options: vec![],
        }),
        DhcpOption::Oro(vec![23, 24, 82]),
        DhcpOption::Preference(255),
        DhcpOption::ElapsedTime(65535),
        DhcpOption::Unicast("2001:db8::1".parse().unwrap()),
        DhcpOption::StatusCode(StatusCode::NoBinding, "no binding".into()),
        DhcpOption::RapidCommit,
        DhcpOption::ReconfAccept,
        DhcpOption::InformationRefreshTime(86400),
        DhcpOption::SolMaxRt(3600),
        DhcpOption::InfMaxRt(3600),
        DhcpOption::ClientFqdn(ClientFqdn {
            flags: fqdn_flag::N | fqdn_flag::O,
            name: "foo".into(),
            fully_qualified: false,
        }),
        DhcpOption::ClientLinkLayerAddr(ClientLinkLayerAddr {
            hw_type: 1,
            addr: vec![8, 0, 0x27, 0, 0, 1],
        }),
        // A malformed Client FQDN stays raw (RFC 4704 names are checked).
        DhcpOption::Unknown {
            code: code::CLIENT_FQDN,
            data: vec![0, 0xc0, 0x0c],
        },
        DhcpOption::Unknown {
            code: 65000,
            data: vec![0, 3, b'f', b'o', b'o'],
        },
    ];
    let mut b = Vec::new();
    emit_options(&opts, &mut b);
    assert_eq!(parse_options(&b).unwrap(), opts);
}

#[test]
fn duid_kinds_and_mac() {
    let ll = Duid::from_hex("00:03:00:01:02:00:00:00:00:01").unwrap();
    assert_eq!(ll.mac(), Some([2, 0, 0, 0, 0, 1]));
    let en = Duid::new_en(43793, &[1, 2, 3]);
    assert_eq!(en.mac(), None);
    assert!(matches!(
        en.kind(),
        DuidKind::En {
            enterprise: 43793,
            id: [1, 2, 3]
        }
    ));
    // LLT for a non-Ethernet hardware type has no MAC.
    assert_eq!(Duid::new_llt(6, 0, &[1, 2, 3, 4, 5, 6]).mac(), None);
    // WIDE style single-digit bytes.
    assert_eq!(Duid::from_hex("0:3:0:1:2:0:0:0:0:1"), Some(ll));
    assert_eq!(
        Duid::from_hex("000300010200000000 01".replace(' ', "").as_str()).map(|d| d.mac()),
        Some(Some([2, 0, 0, 0, 0, 1]))
    );
    // Long DUIDs (kept on the heap) behave like short ones.
    let long: Vec<u8> = [0u8, 2].iter().copied().chain(0..128).collect();
    let d = Duid::from_bytes(&long).unwrap();
    assert_eq!(d.as_bytes(), &long[..]);
    assert_eq!(d.clone(), Duid::from_bytes(&long).unwrap());
    assert_ne!(d, Duid::from_bytes(&long[..129]).unwrap());
    let mut b = Vec::new();
    DhcpOption::ClientId(d.clone()).emit(&mut b);
    assert_eq!(parse_options(&b).unwrap(), vec![DhcpOption::ClientId(d)]);
    assert!(Duid::from_bytes(&[0, 1, 0]).is_err()); // LLT too short
    assert!(Duid::from_bytes(&[0, 4, 1, 2]).is_err()); // UUID wrong size
    assert!(Duid::from_bytes(&[0; 131]).is_err());
    assert!(Duid::from_bytes(&[0, 1]).is_err());
}

#[test]
fn malformed_inputs_are_errors() {
    assert_eq!(Message::parse(&[]), Err(WireError::Truncated));
    assert_eq!(
        Message::parse(&[0, 1, 2, 3]),
        Err(WireError::UnknownMessageType(0))
    );
    assert_eq!(
        Message::parse(&[14, 1, 2, 3]),
        Err(WireError::UnknownMessageType(14))
    );
    assert_eq!(Message::parse(&[1, 1, 2]), Err(WireError::Truncated));
    // Option header cut short.
    assert_eq!(
        Message::parse(&[1, 0, 0, 0, 0, 1, 0]),
        Err(WireError::Truncated)
    );
    // Option length past the end.
    assert_eq!(
        Message::parse(&[1, 0, 0, 0, 0, 8, 0, 4, 0, 0]),
        Err(WireError::OptionOverrun { code: 8 })
    );
    // Elapsed time with 3 bytes.
    assert_eq!(
        Message::parse(&[1, 0, 0, 0, 0, 8, 0, 3, 0, 0, 0]),
        Err(WireError::BadOptionLength { code: 8, len: 3 })
    );
    // IA_NA shorter than its 12 fixed octets.
    assert!(matches!(
        parse_options(&unhex("0003 0008 00000001 00000000")),
        Err(WireError::BadOptionLength { .. })
    ));
    // IAPREFIX with prefix length 129.
    assert!(parse_options(&unhex(
        "001a 0019 00000014 00000028 81 20010db8010000000000000000000000"
    ))
    .is_err());
    // Relay header short.
    assert_eq!(Message::parse(&[12, 0, 1]), Err(WireError::Truncated));
    // Domain name with compression pointer, and one without terminating label.
    assert_eq!(
        parse_options(&unhex("0018 0002 c000")),
        Err(WireError::BadDomainName)
    );
    assert_eq!(
        parse_options(&unhex("0018 0004 03 636f6d")),
        Err(WireError::BadDomainName)
    );
}

#[test]
fn deep_nesting_is_bounded() {
    // IA_NA inside IA_NA inside ... : each level adds 16 bytes.
    let mut body: Vec<u8> = Vec::new();
    for _ in 0..50 {
        let mut o = Vec::new();
        o.extend_from_slice(&code::IA_NA.to_be_bytes());
        o.extend_from_slice(&((12 + body.len()) as u16).to_be_bytes());
        o.extend_from_slice(&[0; 12]);
        o.extend_from_slice(&body);
        body = o;
    }
    assert_eq!(parse_options(&body), Err(WireError::TooDeep));
}

#[test]
fn domain_names() {
    let mut b = Vec::new();
    DhcpOption::DomainList(vec!["home.arpa.".into()]).emit(&mut b);
    assert_eq!(
        parse_options(&b).unwrap(),
        vec![DhcpOption::DomainList(vec!["home.arpa".into()])]
    );
    assert!(valid_domain_name("home.arpa"));
    assert!(!valid_domain_name("a..b"));
    assert!(!valid_domain_name(&"x".repeat(64)));
}

/// RFC 5908 §4, written out from the RFC: option 56 with an
/// NTP_SUBOPTION_SRV_ADDR (§4.1) and an NTP_SUBOPTION_SRV_FQDN (§4.3,
/// uncompressed). (tshark decodes what the server sends in dhcpv6_e2e.)
#[test]
fn ntp_server_option_golden_bytes() {
    let golden = unhex(
        "0038 0027 \
             0001 0010 20010db8000000000000000000000123 \
             0003 000f 036e7470 04686f6d65 0461727061 00",
    );
    let opt = DhcpOption::NtpServer(vec![
        NtpSuboption::from_server("2001:db8::123"),
        NtpSuboption::from_server("ntp.home.arpa."),
    ]);
    let mut b = Vec::new();
    opt.emit(&mut b);
    assert_eq!(b, golden);
    assert_eq!(parse_options(&golden).unwrap(), vec![opt]);
    // A multicast address is a §4.2 suboption; unknown ones are kept.
    let mc = DhcpOption::NtpServer(vec![
        NtpSuboption::from_server("ff05::101"),
        NtpSuboption::Unknown {
            code: 9,
            data: vec![1, 2],
        },
    ]);
    let mut b = Vec::new();
    mc.emit(&mut b);
    assert_eq!(&b[4..6], &[0, 2]);
    assert_eq!(parse_options(&b).unwrap(), vec![mc]);
}

#[test]
fn malformed_ntp_suboptions_are_errors() {
    for bad in [
        // An address suboption of 15 bytes.
        "0038 0013 0001 000f 20010db80000000000000000000001",
        // A suboption running past the option.
        "0038 0006 0001 0010 2001",
        // A suboption header cut short.
        "0038 0002 0001",
        // Two names in one FQDN suboption (§4.3: exactly one).
        "0038 0008 0003 0004 0161 0162 00",
    ] {
        let b = unhex(bad);
        assert!(parse_options(&b).is_err(), "{bad}");
    }
}
