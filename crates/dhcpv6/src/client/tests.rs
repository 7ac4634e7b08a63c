//! The DHCPv6 client driven with virtual time against a scripted server.

use super::*;
use crate::wire::{
    ClientServerMessage, DhcpOption, Duid, IaPd, IaPrefix, Message, MessageType, StatusCode,
};

const SRV: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

fn params() -> ClientParams {
    ClientParams {
        duid: Duid::new_ll(1, &[2, 0, 0, 0, 0, 1]),
        iaid: 1,
        prefix_length: Some(56),
        request_pd: true,
        request_address: false,
        rapid_commit: false,
        sol_max_rt: timing::SOL_MAX_RT,
        reconfigure: true,
    }
}

fn server_duid() -> Duid {
    Duid::new_ll(1, &[2, 0, 0, 0, 0, 0x99])
}

fn sent(actions: &[ClientAction]) -> Vec<ClientServerMessage> {
    actions
        .iter()
        .filter_map(|a| match a {
            ClientAction::Send(b) => match Message::parse(b) {
                Ok(Message::ClientServer(m)) => Some(m),
                other => panic!("client sent something unparsable: {other:?}"),
            },
            _ => None,
        })
        .collect()
}

fn pd(prefix: &str, preferred: u32, valid: u32) -> DhcpOption {
    let p: Ipv6Prefix = prefix.parse().unwrap();
    DhcpOption::IaPrefix(IaPrefix {
        preferred,
        valid,
        prefix_len: p.len(),
        prefix: p.addr(),
        options: vec![],
    })
}

/// A server message answering `to`, with IA_PD(iaid 1, t1, t2) holding `prefixes`.
fn answer(
    to: &ClientServerMessage,
    kind: MessageType,
    t1: u32,
    t2: u32,
    prefixes: Vec<DhcpOption>,
) -> Vec<u8> {
    let mut opts = vec![
        DhcpOption::ClientId(to.client_id().unwrap().clone()),
        DhcpOption::ServerId(server_duid()),
    ];
    opts.push(DhcpOption::IaPd(IaPd {
        iaid: 1,
        t1,
        t2,
        options: prefixes,
    }));
    opts.push(DhcpOption::DnsServers(vec!["2001:db8:ff::53"
        .parse()
        .unwrap()]));
    ClientServerMessage {
        msg_type: kind,
        transaction_id: to.transaction_id,
        options: opts,
    }
    .to_bytes()
}

/// Run timers until the client sends something; returns the time and message.
fn next_send(c: &mut Client, now: &mut Instant) -> ClientServerMessage {
    for _ in 0..10_000 {
        let t = c.next_timer().expect("client has nothing scheduled");
        *now = t.max(*now);
        let m = sent(&c.on_timer(*now));
        if let Some(m) = m.into_iter().next() {
            return m;
        }
    }
    panic!("client never sent");
}

/// A client (random `seed`) started now, the time of its first Solicit
/// and that Solicit.
fn soliciting(seed: u64) -> (Client, Instant, ClientServerMessage) {
    let mut now = Instant::now();
    let mut c = Client::new(params(), seed, None);
    c.start(now);
    let sol = next_send(&mut c, &mut now);
    (c, now, sol)
}

/// Start, Solicit, Advertise, Request, Reply: a bound client.
fn bound(t1: u32, t2: u32, prefixes: Vec<DhcpOption>) -> (Client, Instant) {
    let mut now = Instant::now();
    let mut c = Client::new(params(), 7, None);
    assert!(
        sent(&c.start(now)).is_empty(),
        "the first Solicit is delayed (§18.2.1)"
    );
    let sol = next_send(&mut c, &mut now);
    assert_eq!(sol.msg_type, MessageType::Solicit);
    let adv = answer(&sol, MessageType::Advertise, t1, t2, prefixes.clone());
    assert!(
        sent(&c.handle(now, SRV, &adv)).is_empty(),
        "Advertises are collected for the first RT"
    );
    let req = next_send(&mut c, &mut now);
    assert_eq!(req.msg_type, MessageType::Request);
    assert_eq!(req.server_id(), Some(&server_duid()));
    let acts = c.handle(
        now,
        SRV,
        &answer(&req, MessageType::Reply, t1, t2, prefixes),
    );
    assert!(acts.contains(&ClientAction::BindingChanged));
    assert_eq!(c.state(), ClientState::Bound);
    (c, now)
}

#[test]
fn solicit_carries_what_rfc8415_asks() {
    let now = Instant::now();
    let mut c = Client::new(params(), 1, None);
    c.start(now);
    let t = c.next_timer().unwrap();
    assert!(t <= now + timing::SOL_MAX_DELAY);
    let m = sent(&c.on_timer(t)).pop().unwrap();
    assert_eq!(m.msg_type, MessageType::Solicit);
    assert_eq!(m.client_id(), Some(&params().duid));
    assert!(m.server_id().is_none());
    assert!(matches!(
        m.option(code::ELAPSED_TIME),
        Some(DhcpOption::ElapsedTime(0))
    ));
    assert!(m.oro().contains(&code::DNS_SERVERS));
    match m.option(code::IA_PD) {
        Some(DhcpOption::IaPd(pd)) => {
            assert_eq!(pd.iaid, 1);
            assert!(
                matches!(&pd.options[..], [DhcpOption::IaPrefix(p)] if p.prefix_len == 56 && p.prefix.is_unspecified())
            );
        }
        other => panic!("no IA_PD: {other:?}"),
    }
    assert!(!m.has(code::RAPID_COMMIT));
}

#[test]
fn solicit_backs_off_to_sol_max_rt() {
    let mut now = Instant::now();
    let mut c = Client::new(params(), 3, None);
    c.start(now);
    let mut times = vec![];
    for _ in 0..20 {
        next_send(&mut c, &mut now);
        times.push(now);
    }
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    // First RT: IRT + RAND*IRT with RAND > 0 (§18.2.1): in (1.0, 1.1].
    assert!(gaps[0] > 1.0 && gaps[0] <= 1.1, "{gaps:?}");
    // Then roughly doubling (RAND within ±0.1 each step).
    assert!(gaps[1] > 1.7 && gaps[1] < 2.5, "{gaps:?}");
    // Capped at SOL_MAX_RT ± 10 %.
    let last = *gaps.last().unwrap();
    assert!((3240.0..=3960.0).contains(&last), "{gaps:?}");
    // Elapsed time grows and saturates at 0xffff (§21.9).
}

#[test]
fn full_exchange_binds_and_learns_dns() {
    let (c, now) = bound(10, 16, vec![pd("2001:db8:100::/56", 20, 40)]);
    let b = c.binding().unwrap();
    assert_eq!(b.prefixes.len(), 1);
    assert_eq!(b.prefixes[0].value.to_string(), "2001:db8:100::/56");
    assert_eq!(b.prefixes[0].valid_left(now), Duration::from_secs(40));
    assert_eq!(b.t1_at, now + Duration::from_secs(10));
    assert_eq!(b.dns, vec!["2001:db8:ff::53".parse::<Ipv6Addr>().unwrap()]);
    assert_eq!(c.next_timer(), Some(now + Duration::from_secs(10)));
}

#[test]
fn renew_at_t1_then_rebind_at_t2() {
    let (mut c, mut now) = bound(10, 16, vec![pd("2001:db8:100::/56", 20, 40)]);
    let renew = next_send(&mut c, &mut now);
    assert_eq!(renew.msg_type, MessageType::Renew);
    assert_eq!(
        renew.server_id(),
        Some(&server_duid()),
        "Renew names the server (§18.2.4)"
    );
    // The held prefix is listed (lifetimes 0 as hints).
    let Some(DhcpOption::IaPd(ia)) = renew.option(code::IA_PD) else {
        panic!()
    };
    assert!(
        matches!(&ia.options[..], [DhcpOption::IaPrefix(p)] if p.prefix_len == 56 && !p.prefix.is_unspecified())
    );
    // No answer: retransmit until T2, then Rebind without a Server ID.
    let mut kinds = vec![];
    while now < c.binding().unwrap().t2_at + Duration::from_secs(1) {
        kinds.push(next_send(&mut c, &mut now));
        if kinds.last().unwrap().msg_type == MessageType::Rebind {
            break;
        }
    }
    let rebind = kinds.last().unwrap();
    assert_eq!(rebind.msg_type, MessageType::Rebind);
    assert!(
        rebind.server_id().is_none(),
        "Rebind goes to any server (§18.2.5)"
    );
    let acts = c.handle(
        now,
        SRV,
        &answer(
            rebind,
            MessageType::Reply,
            10,
            16,
            vec![pd("2001:db8:100::/56", 20, 40)],
        ),
    );
    assert!(acts.contains(&ClientAction::BindingChanged));
    assert_eq!(c.state(), ClientState::Bound);
}

/// Regression (dhcpv6_client fuzz target): bound with T1 = T2, the timer at
/// T1 sent a Renew and left T2 due at once, so the same instant also sent a
/// Rebind. Past T2 the client rebinds directly and the timer is not due again.
#[test]
fn past_t2_while_bound_rebinds_without_a_renew_first() {
    let (mut c, _) = bound(10, 10, vec![pd("2001:db8:100::/56", 20, 40)]);
    let t2 = c.binding().unwrap().t2_at;
    let acts = c.on_timer(t2);
    let kinds: Vec<_> = sent(&acts).iter().map(|m| m.msg_type).collect();
    assert_eq!(kinds, vec![MessageType::Rebind]);
    assert_eq!(c.state(), ClientState::Rebinding);
    assert!(c.next_timer().unwrap() > t2, "nothing due again at once");
}

#[test]
fn renumbering_reply_replaces_the_prefix() {
    // What Kea does after a pd-pool change (RECIPES.md): the new prefix, and the
    // old one with lifetimes 0/0, in one Reply.
    let (mut c, mut now) = bound(10, 16, vec![pd("2001:db8:100::/56", 20, 40)]);
    let renew = next_send(&mut c, &mut now);
    let reply = answer(
        &renew,
        MessageType::Reply,
        10,
        16,
        vec![
            pd("2001:db8:200::/56", 20, 40),
            pd("2001:db8:100::/56", 0, 0),
        ],
    );
    let acts = c.handle(now, SRV, &reply);
    assert!(acts.contains(&ClientAction::BindingChanged));
    let b = c.binding().unwrap();
    let got: Vec<String> = b.prefixes.iter().map(|p| p.value.to_string()).collect();
    assert_eq!(got, vec!["2001:db8:200::/56"]);
}

#[test]
fn no_prefix_avail_keeps_soliciting() {
    let (mut c, mut now, sol) = soliciting(9);
    let mut opts = vec![
        DhcpOption::ClientId(params().duid),
        DhcpOption::ServerId(server_duid()),
    ];
    opts.push(DhcpOption::IaPd(IaPd {
        iaid: 1,
        t1: 0,
        t2: 0,
        options: vec![DhcpOption::StatusCode(
            StatusCode::NoPrefixAvail,
            "none left".into(),
        )],
    }));
    let adv = ClientServerMessage {
        msg_type: MessageType::Advertise,
        transaction_id: sol.transaction_id,
        options: opts,
    }
    .to_bytes();
    c.handle(now, SRV, &adv);
    assert_eq!(c.counters.no_prefix_avail, 1);
    let next = next_send(&mut c, &mut now);
    assert_eq!(
        next.msg_type,
        MessageType::Solicit,
        "an empty Advertise is ignored (§18.2.9)"
    );
}

#[test]
fn preference_255_is_taken_at_once() {
    let (mut c, t, sol) = soliciting(11);
    let mut opts = vec![
        DhcpOption::ClientId(params().duid),
        DhcpOption::ServerId(server_duid()),
        DhcpOption::Preference(255),
    ];
    opts.push(DhcpOption::IaPd(IaPd {
        iaid: 1,
        t1: 0,
        t2: 0,
        options: vec![pd("2001:db8:100::/56", 20, 40)],
    }));
    let adv = ClientServerMessage {
        msg_type: MessageType::Advertise,
        transaction_id: sol.transaction_id,
        options: opts,
    }
    .to_bytes();
    let out = sent(&c.handle(t, SRV, &adv));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].msg_type, MessageType::Request);
}

#[test]
fn foreign_and_malformed_messages_are_dropped_and_counted() {
    let (mut c, now, sol) = soliciting(5);
    let mut wrong_xid = sol.clone();
    wrong_xid.transaction_id ^= 1;
    c.handle(
        now,
        SRV,
        &answer(
            &wrong_xid,
            MessageType::Advertise,
            0,
            0,
            vec![pd("2001:db8:100::/56", 20, 40)],
        ),
    );
    c.handle(now, SRV, &[1, 2]);
    c.handle(now, SRV, &[]);
    let mut other = sol.clone();
    other.options[0] = DhcpOption::ClientId(Duid::new_ll(1, &[9; 6]));
    c.handle(
        now,
        SRV,
        &answer(
            &other,
            MessageType::Advertise,
            0,
            0,
            vec![pd("2001:db8:100::/56", 20, 40)],
        ),
    );
    assert_eq!(c.counters.dropped, 4);
    assert_eq!(c.state(), ClientState::Soliciting);
}

#[test]
fn expiry_without_server_goes_back_to_solicit() {
    let (mut c, mut now) = bound(10, 16, vec![pd("2001:db8:100::/56", 20, 40)]);
    let mut last = MessageType::Renew;
    while c.binding().is_some() {
        last = next_send(&mut c, &mut now).msg_type;
        assert!(now <= Instant::now() + Duration::from_secs(3600));
    }
    assert!(matches!(last, MessageType::Rebind | MessageType::Solicit));
    assert_eq!(c.state(), ClientState::Soliciting);
}

#[test]
fn a_stored_binding_survives_a_restart_and_is_rebound() {
    let (c, now) = bound(10, 16, vec![pd("2001:db8:100::/56", 20, 40)]);
    let wall = 1_800_000_000;
    let stored = c.binding().unwrap().store(now, wall);
    let json = serde_json::to_string(&stored).unwrap();
    let back: StoredBinding = serde_json::from_str(&json).unwrap();
    // Restarted 5 s later.
    let later = Instant::now();
    let restored = Binding::restore(&back, later, wall + 5).unwrap();
    assert_eq!(restored.prefixes[0].value.to_string(), "2001:db8:100::/56");
    assert_eq!(
        restored.prefixes[0].valid_left(later),
        Duration::from_secs(35)
    );
    let mut c2 = Client::new(params(), 8, Some(restored));
    let first = sent(&c2.start(later));
    assert_eq!(
        first[0].msg_type,
        MessageType::Rebind,
        "a restart asks for the same prefix (§18.2.12)"
    );
    // Expired while we were down: nothing to restore.
    assert!(Binding::restore(&back, later, wall + 41).is_none());
}

#[test]
fn rapid_commit_reply_binds_from_solicit() {
    let mut now = Instant::now();
    let mut p = params();
    p.rapid_commit = true;
    let mut c = Client::new(p, 2, None);
    c.start(now);
    let sol = next_send(&mut c, &mut now);
    assert!(sol.has(code::RAPID_COMMIT));
    let mut reply = answer(
        &sol,
        MessageType::Reply,
        10,
        16,
        vec![pd("2001:db8:100::/56", 20, 40)],
    );
    // Append the Rapid Commit option to the Reply.
    let mut m = match Message::parse(&reply).unwrap() {
        Message::ClientServer(m) => m,
        _ => unreachable!(),
    };
    m.options.push(DhcpOption::RapidCommit);
    reply = m.to_bytes();
    c.handle(now, SRV, &reply);
    assert_eq!(c.state(), ClientState::Bound);
}

#[test]
fn release_names_what_we_give_back() {
    let (mut c, now) = bound(10, 16, vec![pd("2001:db8:100::/56", 20, 40)]);
    let out = c.release(now);
    let m = sent(&out).pop().unwrap();
    assert_eq!(m.msg_type, MessageType::Release);
    assert_eq!(m.server_id(), Some(&server_duid()));
    let Some(DhcpOption::IaPd(ia)) = m.option(code::IA_PD) else {
        panic!("no IA_PD in Release")
    };
    assert_eq!(ia.options.len(), 1);
    assert!(c.binding().is_none());
}

/// A Reconfigure from our server asking for `kind`, signed with `key`.
fn reconfigure(kind: MessageType, replay: u64, key: &[u8; 16]) -> Vec<u8> {
    let mut m = ClientServerMessage {
        msg_type: MessageType::Reconfigure,
        transaction_id: 0,
        options: vec![
            DhcpOption::ClientId(params().duid),
            DhcpOption::ServerId(server_duid()),
            DhcpOption::ReconfMsg(kind),
            DhcpOption::Auth(crate::wire::Auth::reconfigure_hmac_placeholder(replay)),
        ],
    }
    .to_bytes();
    crate::wire::sign_reconfigure(&mut m, key).unwrap();
    m
}

/// A bound client whose Renew's Reply carried the Reconfigure Key.
fn bound_with_key(key: &[u8; 16]) -> (Client, Instant) {
    let (mut c, mut now) = bound(1000, 1600, vec![pd("2001:db8:100::/56", 2000, 4000)]);
    now += Duration::from_secs(10);
    let renew = sent(&c.renew_now(now)).pop().unwrap();
    assert_eq!(renew.msg_type, MessageType::Renew);
    assert!(
        renew.has(code::RECONF_ACCEPT),
        "§18.2.4 with reconfigure on"
    );
    let mut reply = answer(
        &renew,
        MessageType::Reply,
        1000,
        1600,
        vec![pd("2001:db8:100::/56", 2000, 4000)],
    );
    DhcpOption::Auth(crate::wire::Auth::reconfigure_key(1, key)).emit(&mut reply);
    c.handle(now, SRV, &reply);
    assert_eq!(c.binding().unwrap().reconfigure_key, Some(*key));
    (c, now)
}

#[test]
fn authenticated_reconfigure_starts_a_renew_at_once() {
    let key = [0x5a; 16];
    let (mut c, now) = bound_with_key(&key);
    let acts = c.handle(now, SRV, &reconfigure(MessageType::Renew, 10, &key));
    let renew = sent(&acts);
    assert_eq!(renew.len(), 1, "{acts:?}");
    assert_eq!(renew[0].msg_type, MessageType::Renew);
    assert_eq!(c.counters.reconfigures, 1);
    assert_eq!(c.binding().unwrap().reconfigure_replay, Some(10));
    // The key and the counter are stored with the binding.
    let s = c.binding().unwrap().store(now, 1_000_000);
    let back = Binding::restore(&s, now, 1_000_000).unwrap();
    assert_eq!(back.reconfigure_key, Some(key));
    assert_eq!(back.reconfigure_replay, Some(10));
}

#[test]
fn reconfigure_with_a_wrong_key_none_or_a_replayed_counter_is_refused() {
    let key = [0x5a; 16];
    let (mut c, now) = bound_with_key(&key);
    let before = c.counters.dropped;
    assert!(sent(&c.handle(now, SRV, &reconfigure(MessageType::Renew, 10, &[1; 16]))).is_empty());
    let bare = ClientServerMessage {
        msg_type: MessageType::Reconfigure,
        transaction_id: 0,
        options: vec![
            DhcpOption::ClientId(params().duid),
            DhcpOption::ServerId(server_duid()),
            DhcpOption::ReconfMsg(MessageType::Renew),
        ],
    }
    .to_bytes();
    assert!(sent(&c.handle(now, SRV, &bare)).is_empty());
    assert_eq!(c.counters.reconfigures_refused, 2);
    assert_eq!(c.counters.dropped, before + 2);
    assert_eq!(c.state(), ClientState::Bound);
    // A good one, then the same again (replayed), while bound.
    let good = reconfigure(MessageType::Rebind, 20, &key);
    assert_eq!(
        sent(&c.handle(now, SRV, &good))[0].msg_type,
        MessageType::Rebind
    );
    // §18.2.11: during the exchange another one is ignored.
    let next = reconfigure(MessageType::Renew, 21, &key);
    assert!(sent(&c.handle(now, SRV, &next)).is_empty());
    assert_eq!(c.counters.reconfigures, 1);
    assert_eq!(c.counters.reconfigures_refused, 3);
}

#[test]
fn replayed_reconfigure_is_refused_when_bound() {
    let key = [0x5a; 16];
    let (mut c, now) = bound_with_key(&key);
    let good = reconfigure(MessageType::Renew, 20, &key);
    let renew = sent(&c.handle(now, SRV, &good)).pop().unwrap();
    let reply = answer(
        &renew,
        MessageType::Reply,
        1000,
        1600,
        vec![pd("2001:db8:100::/56", 2000, 4000)],
    );
    c.handle(now, SRV, &reply);
    assert_eq!(c.state(), ClientState::Bound);
    assert!(
        sent(&c.handle(now, SRV, &good)).is_empty(),
        "same counter again"
    );
    assert_eq!(c.counters.reconfigures, 1);
    assert_eq!(c.counters.reconfigures_refused, 1);
    assert_eq!(
        sent(&c.handle(now, SRV, &reconfigure(MessageType::Renew, 21, &key))).len(),
        1
    );
}

#[test]
fn reconfigure_is_refused_when_turned_off_and_not_offered() {
    let mut p = params();
    p.reconfigure = false;
    let now = Instant::now();
    let mut c = Client::new(p, 1, None);
    c.start(now);
    let t = c.next_timer().unwrap();
    let m = sent(&c.on_timer(t)).pop().unwrap();
    assert!(!m.has(code::RECONF_ACCEPT));
}
