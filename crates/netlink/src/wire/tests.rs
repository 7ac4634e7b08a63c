use super::*;

#[test]
fn emitted_messages_walk_back() {
    let mut b = Vec::new();
    let s = begin(&mut b, RTM_GETLINK, NLM_F_DUMP, 7);
    b.extend_from_slice(&[0; 16]);
    put_attr(&mut b, 3, b"eth0\0");
    let n = begin_nest(&mut b, 18);
    put_attr(&mut b, 1, b"sit");
    end_nest(&mut b, n);
    finish(&mut b, s);
    let s2 = begin(&mut b, NLMSG_DONE, 0, 8);
    finish(&mut b, s2);
    let mut it = messages(&b);
    let m = it.next().unwrap();
    assert_eq!((m.kind, m.flags, m.seq), (RTM_GETLINK, 0x301, 7));
    let mut seen = Vec::new();
    walk_attrs(&m.payload[16..], |k, d| {
        seen.push((k, d.to_vec()));
        Some(())
    })
    .unwrap();
    assert_eq!(seen[0], (3, b"eth0\0".to_vec()));
    assert_eq!(seen[1].0, 18);
    // The nest: 4 + (4 + 3 padded to 8) bytes.
    assert_eq!(seen[1].1.len(), 8);
    assert_eq!(str_attr(&seen[0].1).as_deref(), Some("eth0"));
    assert_eq!(it.next().unwrap().kind, NLMSG_DONE);
    assert!(it.next().is_none());
    assert_eq!(it.rest(), 0);
}

#[test]
fn truncated_input_stops_the_walkers() {
    let mut b = Vec::new();
    let s = begin(&mut b, RTM_NEWLINK, 0, 1);
    put_attr(&mut b, 3, b"eth0\0");
    finish(&mut b, s);
    for cut in 0..b.len() {
        let mut it = messages(&b[..cut]);
        assert!(it.next().is_none());
        assert_eq!(it.rest(), cut);
    }
    let attrs = &b[NLMSG_HDRLEN..];
    for cut in 5..attrs.len() {
        // A cut inside the attribute: its length no longer fits.
        if cut < 9 {
            assert!(walk_attrs(&attrs[..cut], |_, _| Some(())).is_none());
        }
    }
    // A zero attribute length would loop forever: refused.
    assert!(walk_attrs(&[0, 0, 3, 0], |_, _| Some(())).is_none());
}

/// An ack as a 6.x kernel sends it with NETLINK_CAP_ACK and
/// NETLINK_EXT_ACK: errno -EEXIST, our header, then NLMSGERR_ATTR_MSG.
#[test]
fn ack_reads_errno_and_text() {
    let mut p = Vec::new();
    p.extend_from_slice(&(-libc::EEXIST).to_ne_bytes());
    p.extend_from_slice(&[0; NLMSG_HDRLEN]);
    put_attr(&mut p, NLMSGERR_ATTR_MSG, b"File exists\0");
    let m = Msg {
        kind: NLMSG_ERROR,
        flags: NLM_F_ACK_TLVS | NLM_F_CAPPED,
        seq: 1,
        payload: &p,
    };
    assert_eq!(ack(&m), Some((libc::EEXIST, Some("File exists".into()))));
    let m = Msg {
        flags: 0,
        payload: &p[..4],
        ..m
    };
    assert_eq!(ack(&m), Some((libc::EEXIST, None)));
    let m = Msg {
        payload: &p[..3],
        ..m
    };
    assert_eq!(ack(&m), None);
}
