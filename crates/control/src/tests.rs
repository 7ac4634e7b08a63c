use super::*;

#[test]
fn responses_cross_the_socket_as_one_json_line() {
    let ok = Response::ok(vec![Status {
        version: "1".into(),
        ..Default::default()
    }]);
    let line = serde_json::to_string(&ok).unwrap();
    assert!(!line.contains('\n'), "{line}");
    let back: Response = serde_json::from_str(&line).unwrap();
    assert_eq!(back, ok);
    assert_eq!(back.value().unwrap()[0]["version"], "1");
    let err = Response::error("no");
    let back: Response = serde_json::from_str(&serde_json::to_string(&err).unwrap()).unwrap();
    assert_eq!((back.ok, back.error.as_deref()), (false, Some("no")));
    assert_eq!(back.value().unwrap(), Value::Null);
    // An answer without data (older daemons leave it out on errors).
    let bare: Response = serde_json::from_str(r#"{"ok":false,"error":"x"}"#).unwrap();
    assert_eq!(bare.value().unwrap(), Value::Null);
}

#[test]
fn commands_and_abbreviations() {
    assert_eq!(
        parse_command(&["show", "interfaces"]),
        Ok(Request::ShowInterfaces)
    );
    assert_eq!(parse_command(&["sh", "int"]), Ok(Request::ShowInterfaces));
    assert_eq!(
        parse_command(&["sh", "rip", "nei"]),
        Ok(Request::ShowRipNeighbors)
    );
    assert_eq!(parse_command(&["reload"]), Ok(Request::Reload));
    assert_eq!(
        parse_command(&["show", "route", "for", "2001:db8::1", "protocol", "rip"]),
        Ok(Request::ShowRoute {
            target: Some("2001:db8::1".into()),
            protocol: Some("rip".into()),
            count: false,
            all: false,
        })
    );
    assert_eq!(
        parse_command(&["show", "ra", "lan0"]),
        Ok(Request::ShowRa {
            iface: Some("lan0".into())
        })
    );
}

#[test]
fn birdc_habits() {
    let p = |w: &str| parse_command(&w.split(' ').collect::<Vec<_>>());
    assert_eq!(
        p("sh ro count"),
        Ok(Request::ShowRoute {
            target: None,
            protocol: None,
            count: true,
            all: false,
        })
    );
    assert_eq!(
        p("show route protocol rip1 count"),
        Ok(Request::ShowRoute {
            target: None,
            protocol: Some("rip1".into()),
            count: true,
            all: false,
        })
    );
    assert_eq!(p("configure"), Ok(Request::Reload));
    assert_eq!(p("conf check"), Ok(Request::ConfigureCheck { file: None }));
    assert_eq!(
        p("configure check /tmp/new.toml"),
        Ok(Request::ConfigureCheck {
            file: Some("/tmp/new.toml".into())
        })
    );
    assert!(p("configure soft").is_err());
    assert_eq!(
        p("disable rip1"),
        Ok(Request::Disable {
            protocol: "rip1".into()
        })
    );
    assert_eq!(
        p("en ra"),
        Ok(Request::Enable {
            protocol: "ra".into()
        })
    );
    assert_eq!(
        p("restart dhcpv6"),
        Ok(Request::Restart {
            protocol: "dhcpv6".into()
        })
    );
    assert!(p("restart").is_err());
    // `re` is reload or restart: ambiguous, and said so.
    assert!(p("re").unwrap_err().contains("reload"));
    assert_eq!(p("sh mem"), Ok(Request::ShowMemory));
    assert_eq!(
        p("show route all for 2001:db8::1"),
        Ok(Request::ShowRoute {
            target: Some("2001:db8::1".into()),
            protocol: None,
            count: false,
            all: true
        })
    );
    assert_eq!(
        p("monitor"),
        Ok(Request::Monitor {
            topic: "all".into()
        })
    );
    assert_eq!(
        p("mon lea"),
        Ok(Request::Monitor {
            topic: "leases".into()
        })
    );
    assert!(p("monitor bgp").is_err());
    let bare: Request = serde_json::from_str(r#"{"cmd":"monitor"}"#).unwrap();
    assert_eq!(bare, p("monitor").unwrap());
    assert_eq!(
        p("show leases"),
        Ok(Request::ShowLeases {
            filter: Default::default(),
            page: None,
        })
    );
    assert_eq!(
        p("sh lea int lan0 na laptop"),
        Ok(Request::ShowLeases {
            filter: dhcpv6::LeaseFilter {
                interface: Some("lan0".into()),
                name: Some("laptop".into()),
                ..Default::default()
            },
            page: None,
        })
    );
    assert!(p("show leases duid")
        .unwrap_err()
        .contains("`duid` needs a value"));
    assert!(p("show leases colour blue").is_err());
    // The filter travels flat, and an older v6ctl's bare request parses.
    let r = serde_json::to_string(&p("show leases address 2001:db8::5").unwrap()).unwrap();
    assert_eq!(r, r#"{"cmd":"show_leases","address":"2001:db8::5"}"#);
    let bare: Request = serde_json::from_str(r#"{"cmd":"show_leases"}"#).unwrap();
    assert_eq!(bare, p("show leases").unwrap());
}

/// A newer v6ctl's request with a field this daemon does not know, and
/// an older daemon's answer without `version`, both still parse.
#[test]
fn older_and_newer_peers_understand_each_other() {
    let newer = r#"{"cmd":"show_route","target":null,"colour":"blue"}"#;
    let r: Request = serde_json::from_str(newer).expect("unknown field ignored");
    assert!(matches!(r, Request::ShowRoute { count: false, .. }));
    let unknown: Result<Request, _> = serde_json::from_str(r#"{"cmd":"show_bgp"}"#);
    assert!(unknown.unwrap_err().to_string().contains("show_bgp"));
    // The answer a daemon from before the version field sent.
    let older = r#"{"ok":true,"data":{"routes":3,"total":5,"networks":2}}"#;
    let a: Response = serde_json::from_str(older).expect("old answer");
    assert_eq!((a.version, a.ok), (0, true));
    let c: rip::RouteCount = serde_json::from_str(a.data.get()).expect("count");
    assert_eq!(
        rip::render_route_count(&c),
        "3 of 5 routes for 2 networks in table master6\n"
    );
    // And ours carry the version.
    let ours = serde_json::to_string(&Response::ok(1)).expect("json");
    assert!(
        ours.starts_with(&format!("{{\"version\":{API_VERSION},")),
        "{ours}"
    );
}

#[test]
fn command_errors() {
    let e = parse_command(&["show", "foo"]).unwrap_err();
    assert!(e.contains("unknown command `show foo`"), "{e}");
    assert!(parse_command(&["show", "r"])
        .unwrap_err()
        .contains("ambiguous"));
    assert!(parse_command(&["show", "status", "x"])
        .unwrap_err()
        .contains("unexpected `x`"));
    assert!(parse_command(&[]).is_err());
    let e = parse_command(&["show", "route", "for"]).unwrap_err();
    assert!(e.contains("`for` needs an address"), "{e}");
    let e = parse_command(&["show", "leases", "duid"]).unwrap_err();
    assert!(e.contains("`duid` needs a value"), "{e}");
}

#[test]
fn show_leases_and_route_take_their_filters_in_any_order() {
    let Ok(Request::ShowLeases { filter, page: None }) =
        parse_command(&["sh", "lea", "n", "printer", "int", "lan0", "du", "00:01"])
    else {
        panic!("not show leases");
    };
    assert_eq!(filter.interface.as_deref(), Some("lan0"));
    assert_eq!(filter.duid.as_deref(), Some("00:01"));
    assert_eq!(filter.name.as_deref(), Some("printer"));
    assert_eq!(filter.address, None);
    assert_eq!(
        parse_command(&["show", "route", "all", "count", "for", "2001:db8::/32"]),
        Ok(Request::ShowRoute {
            target: Some("2001:db8::/32".into()),
            protocol: None,
            count: true,
            all: true,
        })
    );
}

#[test]
fn requests_are_json_lines() {
    let r = Request::ShowRa {
        iface: Some("lan0".into()),
    };
    let s = serde_json::to_string(&r).unwrap();
    assert_eq!(s, r#"{"cmd":"show_ra","iface":"lan0"}"#);
    assert_eq!(
        serde_json::from_str::<Request>(r#"{"cmd":"show_status"}"#).unwrap(),
        Request::ShowStatus
    );
    assert!(serde_json::from_str::<Request>(r#"{"cmd":"format_disk"}"#).is_err());
}

#[test]
fn interfaces_render_like_birdc() {
    let i = InterfaceInfo {
        name: "lan0".into(),
        index: Some(3),
        present: true,
        admin_up: true,
        running: true,
        mtu: 1500,
        lladdr: None,
        kind: Some("veth".into()),
        roles: vec!["ra".into()],
        addrs: vec![AddrInfo {
            addr: "fe80::1/64".into(),
            scope: "link".into(),
            preferred_lft: None,
            valid_lft: None,
            flags: vec![],
        }],
    };
    let s = render_interfaces(&[i]);
    assert_eq!(
        s,
        "lan0 up (index=3)\n\tAdminUp LinkUp Kind=veth MTU=1500 Roles=ra\n\tfe80::1/64 (link)\n"
    );
}
