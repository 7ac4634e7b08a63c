use super::*;

fn lease(i: u16, duid: u8, kind: LeaseKind, cltt: u64, valid: u32) -> Lease {
    let prefix = match kind {
        LeaseKind::Address => Ipv6Prefix::new(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i), 128),
        LeaseKind::Prefix => {
            Ipv6Prefix::new(Ipv6Addr::new(0x2001, 0xdb8, 0x100 + i, 0, 0, 0, 0, 0), 56)
        }
    };
    Lease {
        kind,
        prefix,
        duid: Duid::new_ll(1, &[2, 0, 0, 0, 0, duid]),
        iaid: u32::from(i),
        link: Arc::from("lan0"),
        cltt,
        preferred: valid / 2,
        valid,
        state: LeaseState::Bound,
        is_static: false,
        via: (kind == LeaseKind::Prefix).then(|| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i)),
        name: (i % 2 == 1).then(|| Arc::from(format!("host{i}").as_str())),
        reconfigure: None,
    }
}

#[test]
fn insert_get_replace_remove() {
    let mut t = LeaseTable::default();
    let a = lease(1, 1, LeaseKind::Address, 1000, 100);
    let p = lease(2, 1, LeaseKind::Prefix, 1000, 200);
    let b = lease(3, 2, LeaseKind::Address, 1000, 300);
    t.insert(a.clone());
    t.insert(p.clone());
    t.insert(b.clone());
    assert_eq!(t.len(), 3);
    assert_eq!(t.get(&a.key()), Some(a.clone()));
    assert_eq!(t.get(&p.key()), Some(p.clone()));
    let mut keys = t.client_keys(&a.duid);
    keys.sort();
    assert_eq!(keys, vec![a.key(), p.key()]);
    // Replace: same key, new client.
    let mut a2 = a.clone();
    a2.duid = b.duid.clone();
    a2.cltt = 2000;
    t.insert(a2.clone());
    assert_eq!(t.len(), 3);
    assert_eq!(t.client_keys(&a.duid), vec![p.key()]);
    assert_eq!(t.client_keys(&b.duid).len(), 2);
    assert_eq!(t.remove(&p.key()), Some(p.clone()));
    assert!(t.client_keys(&a.duid).is_empty());
    assert_eq!(t.remove(&p.key()), None);
    // The freed slot is reused.
    t.insert(p.clone());
    assert_eq!(t.slots.len(), 3);
    assert_eq!(t.iter().count(), 3);
}

#[test]
fn a_link_local_via_is_kept_in_the_slot_and_others_beside_it() {
    let mut t = LeaseTable::default();
    let ll = lease(2, 1, LeaseKind::Prefix, 1000, 200);
    let mut relayed = lease(3, 1, LeaseKind::Prefix, 1000, 200);
    relayed.via = Some("2001:db8:ff::1".parse().unwrap());
    let mut long = lease(4, 1, LeaseKind::Prefix, 1000, 200);
    long.prefix = "2001:db8:104:0:8000::/72".parse().unwrap();
    let mut none = lease(5, 1, LeaseKind::Prefix, 1000, 200);
    none.via = None;
    for l in [&ll, &relayed, &long, &none] {
        t.insert(l.clone());
    }
    // Only the via that does not fit the slot takes a side entry.
    assert_eq!(t.via.len(), 2);
    for l in [&ll, &relayed, &long, &none] {
        assert_eq!(t.get(&l.key()), Some(l.clone()));
        assert!(t.contains(&l.key()));
    }
    assert_eq!(t.iter().filter(|x| x.via == ll.via).count(), 1);
    // The same prefix with its via's bits is not another lease.
    let mut other = ll.clone();
    other.via = Some("fe80::99".parse().unwrap());
    t.insert(other.clone());
    assert_eq!(t.len(), 4);
    assert_eq!(t.get(&ll.key()), Some(other.clone()));
    assert_eq!(t.remove(&ll.key()), Some(other));
    assert_eq!(t.get(&ll.key()), None);
}

#[test]
fn unlinks_from_the_middle_of_a_client_chain() {
    let mut t = LeaseTable::default();
    let ls: Vec<Lease> = (1..=4)
        .map(|i| lease(i, 9, LeaseKind::Address, 0, 10))
        .collect();
    for l in &ls {
        t.insert(l.clone());
    }
    t.remove(&ls[1].key());
    t.remove(&ls[3].key());
    let mut k = t.client_keys(&ls[0].duid);
    k.sort();
    assert_eq!(k, vec![ls[0].key(), ls[2].key()]);
}

#[test]
fn expiry_in_order_and_stale_entries_skipped() {
    let mut t = LeaseTable::default();
    let a = lease(1, 1, LeaseKind::Address, 1000, 100);
    let b = lease(2, 2, LeaseKind::Address, 1000, 50);
    t.insert(a.clone());
    t.insert(b.clone());
    // Renew a: its old entry (1100) stays in the heap but must not expire it.
    let mut a2 = a.clone();
    a2.cltt = 1090;
    t.insert(a2.clone());
    assert_eq!(t.next_expiry(), Some(1050));
    assert_eq!(t.pop_expired(1049), None);
    assert_eq!(t.pop_expired(1100).map(|l| l.key()), Some(b.key()));
    assert_eq!(t.pop_expired(1100), None);
    assert_eq!(t.len(), 1);
    assert_eq!(t.pop_expired(1190), Some(a2));
    assert_eq!(t.len(), 0);
    // An infinite lease never expires.
    t.insert(lease(3, 3, LeaseKind::Address, 5, u32::MAX));
    assert_eq!(t.next_expiry(), None);
    assert_eq!(t.pop_expired(u64::MAX), None);
}

#[test]
fn a_slot_is_64_bytes() {
    // What the memory figure in the module comment rests on.
    assert!(std::mem::size_of::<Slot>() <= 64);
}

#[test]
fn link_names_beyond_u16_share_one() {
    let mut t = LeaseTable::default();
    for i in 0..70_000u32 {
        let mut l = lease(1, 1, LeaseKind::Address, 0, 10);
        l.link = Arc::from(format!("if{i}").as_str());
        t.insert(l);
    }
    assert_eq!(t.links.len(), usize::from(u16::MAX) + 1);
    let l = t.iter().next().unwrap();
    assert_eq!(&*l.link, "?");
}

#[test]
fn heap_is_rebuilt_when_stale_entries_pile_up() {
    let mut t = LeaseTable::default();
    let mut a = lease(1, 1, LeaseKind::Address, 0, 100);
    for c in 0..5000 {
        a.cltt = c;
        t.insert(a.clone());
    }
    assert!(t.expiry.len() <= 2 * t.len() + 1024);
    assert_eq!(t.pop_expired(4999 + 100).map(|l| l.cltt), Some(4999));
}

#[test]
fn counts_leases_per_link_and_kind() {
    let mut t = LeaseTable::default();
    t.insert(lease(1, 1, LeaseKind::Address, 1000, 100));
    t.insert(lease(1, 1, LeaseKind::Address, 1010, 100)); // replaced
    t.insert(lease(2, 2, LeaseKind::Address, 1000, 100));
    t.insert(lease(3, 2, LeaseKind::Prefix, 1000, 300));
    assert_eq!(t.count("lan0", LeaseKind::Address), 2);
    assert_eq!(t.count("lan0", LeaseKind::Prefix), 1);
    assert_eq!(t.count("wan", LeaseKind::Address), 0);
    assert!(t.pop_expired(1100).is_some());
    let key = lease(3, 2, LeaseKind::Prefix, 0, 0).key();
    assert!(t.remove(&key).is_some());
    assert_eq!(t.count("lan0", LeaseKind::Address), 1);
    assert_eq!(t.count("lan0", LeaseKind::Prefix), 0);
}
