use super::*;

#[test]
fn crc32_is_ieee_crc32() {
    // The standard check value (the CRC catalogue's CRC-32/ISO-HDLC),
    // which crc32fast and zlib also give.
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

fn lease(n: u8, kind: LeaseKind) -> Lease {
    Lease {
        kind,
        prefix: match kind {
            LeaseKind::Address => Ipv6Prefix::new(
                Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, u16::from(n)),
                128,
            ),
            LeaseKind::Prefix => Ipv6Prefix::new(
                Ipv6Addr::new(0x2001, 0xdb8, 8, u16::from(n) << 4, 0, 0, 0, 0),
                60,
            ),
        },
        duid: Duid::new_llt(1, 7, &[8, 0, 0x27, 0, 0, n]),
        iaid: u32::from(n),
        link: Arc::from("lan0"),
        cltt: 1_800_000_000 + u64::from(n),
        preferred: 3600,
        valid: 7200,
        state: LeaseState::Bound,
        is_static: n & 1 == 0,
        via: (kind == LeaseKind::Prefix).then(|| "fe80::1".parse().unwrap()),
        name: n
            .is_multiple_of(3)
            .then(|| Arc::from(format!("host-{n}").as_str())),
        reconfigure: (n % 4 == 1).then(|| ReconfigureKey {
            key: [n; 16],
            client_addr: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(n)),
        }),
    }
}

/// A version 2 journal of `leases`: what that version wrote is this
/// version's record without its last byte (the Reconfigure flag, 0).
fn version_2_image(leases: &[Lease]) -> Vec<u8> {
    let mut out = MAGIC_V2.to_vec();
    for l in leases {
        assert!(l.reconfigure.is_none());
        let mut one = vec![];
        encode_record(&LeaseRecord::Upsert(l.clone()), &mut one);
        let payload = &one[8..one.len() - 1];
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32(payload).to_le_bytes());
        out.extend_from_slice(payload);
    }
    out
}

#[test]
fn version_2_journal_still_loads_and_keys_survive_a_rewrite() {
    let old: Vec<Lease> = [2, 3, 6]
        .iter()
        .map(|n| lease(*n, LeaseKind::Address))
        .collect();
    let rep = replay(&version_2_image(&old)).unwrap();
    assert!(rep.is_clean(), "{rep:?}");
    for l in &old {
        assert_eq!(rep.leases[&l.key()], *l);
    }
    let dir = tempdir("v2");
    let path = dir.join("leases.journal");
    std::fs::write(&path, version_2_image(&old)).unwrap();
    let (mut j, _) = Journal::open(&path).unwrap();
    let keyed = lease(5, LeaseKind::Prefix);
    assert!(keyed.reconfigure.is_some());
    j.append(&[LeaseRecord::Upsert(keyed.clone())]).unwrap();
    drop(j);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], MAGIC);
    let rep = replay(&bytes).unwrap();
    assert_eq!(rep.leases.len(), 4);
    assert_eq!(rep.leases[&keyed.key()], keyed);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A version 1 journal as the code before host names wrote it (dumped
/// from `snapshot_image` at commit 4326077): an address lease of
/// 2001:db8:1::1000 and a static prefix 2001:db8:8:10::/60 via fe80::2.
const V1_IMAGE: &str = "7636726c656173654d000000f3a90b00010020010db80001000000000000000010008000000001000000006b49d20000000e1000001c200000000000000000000000000000000000000e0001000100000007080027000001046c616e304d000000299a8139010120010db80008001000000000000000003c00000002000000006b49d20100000e1000001c200003fe8000000000000000000000000000020e0001000100000007080027000002046c616e30";

#[test]
fn version_1_journal_still_loads_and_is_rewritten_as_version_2() {
    let img = testlab::unhex(V1_IMAGE);
    let rep = replay(&img).unwrap();
    assert!(rep.is_clean(), "{rep:?}");
    assert_eq!(rep.records, 2);
    let a = &rep.leases[&(LeaseKind::Address, "2001:db8:1::1000/128".parse().unwrap())];
    assert_eq!(
        (a.iaid, a.cltt, a.valid, a.is_static),
        (1, 1_800_000_000, 7200, false)
    );
    assert_eq!(a.duid, Duid::new_llt(1, 7, &[8, 0, 0x27, 0, 0, 1]));
    assert_eq!((&*a.link, a.name.as_deref()), ("lan0", None));
    let p = &rep.leases[&(LeaseKind::Prefix, "2001:db8:8:10::/60".parse().unwrap())];
    assert!(p.is_static);
    assert_eq!(p.via, Some("fe80::2".parse().unwrap()));
    // Opened as a file, it is rewritten in the current version.
    let dir = tempdir("v1");
    let path = dir.join("leases.journal");
    std::fs::write(&path, &img).unwrap();
    let (mut j, rep) = Journal::open(&path).unwrap();
    assert_eq!(rep.leases.len(), 2);
    let mut named = a.clone();
    named.name = Some(Arc::from("laptop"));
    j.append(&[LeaseRecord::Upsert(named.clone())]).unwrap();
    drop(j);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], MAGIC);
    let rep = replay(&bytes).unwrap();
    assert!(rep.is_clean());
    assert_eq!(rep.leases[&named.key()], named);
    assert_eq!(rep.leases[&p.key()], *p);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_longest_record_fits() {
    let mut l = lease(3, LeaseKind::Prefix);
    l.duid = Duid::from_bytes(&[0xee; 130]).unwrap();
    l.link = Arc::from("x".repeat(300).as_str());
    l.name = Some(Arc::from("h".repeat(300).as_str()));
    l.reconfigure = lease(1, LeaseKind::Prefix).reconfigure;
    let mut one = vec![];
    encode_record(&LeaseRecord::Upsert(l), &mut one);
    assert!(one.len() - 8 <= MAX_RECORD, "{}", one.len());
    let Some(LeaseRecord::Upsert(back)) = decode_payload(&one[8..]) else {
        panic!("does not decode");
    };
    assert_eq!(back.name.as_deref().map(str::len), Some(MAX_NAME));
}

fn image(records: &[LeaseRecord]) -> Vec<u8> {
    let mut v = MAGIC.to_vec();
    for r in records {
        encode_record(r, &mut v);
    }
    v
}

#[test]
fn records_round_trip_and_replay_applies_removes() {
    let recs = vec![
        LeaseRecord::Upsert(lease(1, LeaseKind::Address)),
        LeaseRecord::Upsert(lease(2, LeaseKind::Prefix)),
        LeaseRecord::Upsert(lease(3, LeaseKind::Address)),
        LeaseRecord::Remove(lease(1, LeaseKind::Address).key()),
    ];
    let mut one = vec![];
    for r in &recs {
        one.clear();
        encode_record(r, &mut one);
        assert_eq!(decode_payload(&one[8..]).as_ref(), Some(r));
    }
    let rep = replay(&image(&recs)).unwrap();
    assert!(rep.is_clean());
    assert_eq!(rep.records, 4);
    let mut keys: Vec<_> = rep.leases.keys().copied().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            lease(3, LeaseKind::Address).key(),
            lease(2, LeaseKind::Prefix).key()
        ]
    );
    assert_eq!(
        rep.leases[&lease(2, LeaseKind::Prefix).key()],
        lease(2, LeaseKind::Prefix)
    );
}

/// Every possible cut of the file keeps exactly the whole records before it.
#[test]
fn torn_tail_at_every_offset() {
    let recs: Vec<_> = (1..=5)
        .map(|n| LeaseRecord::Upsert(lease(n, LeaseKind::Address)))
        .collect();
    let img = image(&recs);
    let mut ends = vec![8usize];
    let mut tmp = vec![];
    for r in &recs {
        tmp.clear();
        encode_record(r, &mut tmp);
        ends.push(ends.last().unwrap() + tmp.len());
    }
    for cut in 8..=img.len() {
        let rep = replay(&img[..cut]).unwrap();
        let whole = ends.iter().filter(|e| **e <= cut).count() - 1;
        assert_eq!(rep.leases.len(), whole, "cut at {cut}");
        assert_eq!(rep.torn_tail_bytes, cut - ends[whole], "cut at {cut}");
        assert_eq!(rep.corrupt_records, 0);
    }
}

#[test]
fn corrupt_record_is_skipped_and_reported() {
    let recs: Vec<_> = (1..=3)
        .map(|n| LeaseRecord::Upsert(lease(n, LeaseKind::Address)))
        .collect();
    let mut img = image(&recs);
    // Flip one byte in the middle record's payload.
    let mut first = vec![];
    encode_record(&recs[0], &mut first);
    img[8 + first.len() + 20] ^= 0xff;
    let rep = replay(&img).unwrap();
    assert_eq!(rep.corrupt_records, 1);
    assert_eq!(rep.leases.len(), 2);
    assert!(!rep.leases.contains_key(&lease(2, LeaseKind::Address).key()));
    // A damaged length ends the readable part.
    let mut img = image(&recs);
    img[8 + first.len() + 3] = 0x7f;
    let rep = replay(&img).unwrap();
    assert_eq!((rep.leases.len(), rep.corrupt_records), (1, 1));
    assert!(rep.torn_tail_bytes > 0);
    // Not a journal at all.
    assert!(matches!(
        replay(b"hello world, not ours"),
        Err(LoadError::BadMagic)
    ));
    assert!(replay(b"v6r").unwrap().leases.is_empty());
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "v6dhcp-store-{tag}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn file_journal_survives_reopen_and_cuts_torn_tail() {
    let dir = tempdir("reopen");
    let path = dir.join("leases.journal");
    let (mut j, rep) = Journal::open(&path).unwrap();
    assert!(rep.leases.is_empty());
    j.append(&[
        LeaseRecord::Upsert(lease(1, LeaseKind::Address)),
        LeaseRecord::Upsert(lease(2, LeaseKind::Prefix)),
    ])
    .unwrap();
    j.append(&[LeaseRecord::Remove(lease(1, LeaseKind::Address).key())])
        .unwrap();
    // Simulate a torn write just after the last record.
    let end = j.size();
    drop(j);
    let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(end)).unwrap();
    f.write_all(&[40, 0, 0, 0, 1, 2]).unwrap();
    drop(f);
    let (mut j, rep) = Journal::open(&path).unwrap();
    // Inside the zeros grown ahead, the torn header frames 40 zero bytes
    // whose checksum fails, with only zeros after them: the 6 bytes of a
    // torn last write, reported as such.
    assert_eq!((rep.corrupt_records, rep.torn_tail_bytes), (0, 6));
    assert!(!rep.is_clean());
    assert_eq!(rep.leases.len(), 1);
    // The torn bytes are gone, so new appends are readable.
    j.append(&[LeaseRecord::Upsert(lease(3, LeaseKind::Address))])
        .unwrap();
    drop(j);
    let (_, rep) = Journal::open(&path).unwrap();
    assert!(rep.is_clean());
    assert_eq!(rep.leases.len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn grown_file_ends_at_the_zero_header() {
    let dir = tempdir("grow");
    let path = dir.join("leases.journal");
    let (mut j, _) = Journal::open(&path).unwrap();
    j.append(&[LeaseRecord::Upsert(lease(1, LeaseKind::Address))])
        .unwrap();
    j.append(&[LeaseRecord::Upsert(lease(2, LeaseKind::Prefix))])
        .unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(
        len >= GROW && j.size() < 400,
        "grown ahead: {len} bytes, {} used",
        j.size()
    );
    drop(j);
    let bytes = std::fs::read(&path).unwrap();
    let rep = replay(&bytes).unwrap();
    assert!(rep.is_clean(), "{rep:?}");
    assert_eq!(rep.leases.len(), 2);
    // A record half written into the zeros is a torn tail.
    let mut torn = bytes.clone();
    let used = {
        let mut v = MAGIC.to_vec();
        encode_record(&LeaseRecord::Upsert(lease(1, LeaseKind::Address)), &mut v);
        encode_record(&LeaseRecord::Upsert(lease(2, LeaseKind::Prefix)), &mut v);
        v.len()
    };
    torn[used + 9] = 0x55;
    let rep = replay(&torn).unwrap();
    assert_eq!((rep.leases.len(), rep.torn_tail_bytes), (2, 10));
    // So is one whose header made it and whose payload stopped part-way:
    // torn, not a corrupt record among intact ones.
    let mut third = vec![];
    encode_record(
        &LeaseRecord::Upsert(lease(3, LeaseKind::Address)),
        &mut third,
    );
    let mut cut = bytes.clone();
    cut[used..used + third.len() - 7].copy_from_slice(&third[..third.len() - 7]);
    let rep = replay(&cut).unwrap();
    assert_eq!(rep.leases.len(), 2);
    assert_eq!(rep.corrupt_records, 0, "{rep:?}");
    assert!(rep.torn_tail_bytes > 8 && rep.torn_tail_bytes <= third.len() - 7);
    // With an intact record after it, the same damage is a corrupt record.
    let mut mid = cut.clone();
    let at = used + third.len();
    let mut fourth = vec![];
    encode_record(
        &LeaseRecord::Upsert(lease(4, LeaseKind::Address)),
        &mut fourth,
    );
    mid[at..at + fourth.len()].copy_from_slice(&fourth);
    let rep = replay(&mid).unwrap();
    assert_eq!((rep.leases.len(), rep.corrupt_records), (3, 1));
    // Reopened, appends go after the last record, not after the zeros.
    let (mut j, rep) = Journal::open(&path).unwrap();
    assert_eq!(rep.leases.len(), 2);
    j.append(&[LeaseRecord::Remove(lease(1, LeaseKind::Address).key())])
        .unwrap();
    drop(j);
    let (_, rep) = Journal::open(&path).unwrap();
    assert!(rep.is_clean());
    assert_eq!(rep.leases.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compaction_keeps_appends_made_meanwhile() {
    let dir = tempdir("compact");
    let path = dir.join("leases.journal");
    let (mut j, _) = Journal::open(&path).unwrap();
    let mut live = HashMap::new();
    for round in 0..50u8 {
        let l = lease(round % 10, LeaseKind::Address);
        live.insert(l.key(), l.clone());
        j.append(&[LeaseRecord::Upsert(l)]).unwrap();
    }
    let before = j.size();
    j.begin_compaction(live.values().cloned().collect());
    // Appends while the worker writes.
    let extra = lease(42, LeaseKind::Prefix);
    j.append(&[LeaseRecord::Upsert(extra.clone())]).unwrap();
    j.append(&[LeaseRecord::Remove(lease(0, LeaseKind::Address).key())])
        .unwrap();
    j.finish_compaction().unwrap();
    assert!(!j.compacting());
    assert!(j.size() < before, "{} < {before}", j.size());
    drop(j);
    let (_, rep) = Journal::open(&path).unwrap();
    assert!(rep.is_clean());
    live.insert(extra.key(), extra);
    live.remove(&lease(0, LeaseKind::Address).key());
    assert_eq!(rep.leases, live);
    assert!(!durable::temp_path(&path).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn append_failure_is_an_error_not_a_panic() {
    // /dev/full accepts open and fails every write with ENOSPC.
    let Ok(f) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    let mut j = Journal {
        path: PathBuf::from("/dev/full"),
        file: f,
        size: 0,
        allocated: 0,
        compaction: None,
        buf: vec![],
    };
    let e = j
        .append(&[LeaseRecord::Upsert(lease(1, LeaseKind::Address))])
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(28), "ENOSPC");
}
