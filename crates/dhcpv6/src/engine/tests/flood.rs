//! A Solicit flood (issue 21): offers never starve the pools, a Request gets
//! what is free or only offered, the offer table is bounded, and each link
//! answers a budget of Solicits.

use super::*;

/// A server of link() with 4096 addresses and these limits.
fn large_pool_server(limits: Limits) -> Server {
    let mut l = link();
    l.address_pools[0].last = a("2001:db8:1::1fff");
    server_of(vec![l], limits)
}

/// A Solicit for one IA_NA (or IA_PD) from client `n`, sent from the
/// address of client `from`.
fn solicit(s: &mut Server, c: &Clock, n: u8, from: u8, ia: DhcpOption) -> Vec<Action> {
    let sol = from_client(MessageType::Solicit, n, vec![ia]);
    feed(s, c, from, &sol, true)
}

fn request(s: &mut Server, c: &Clock, n: u8, ia: DhcpOption) -> ClientServerMessage {
    let req = to_us(MessageType::Request, n, vec![ia]);
    reply_of(&feed(s, c, n, &req, true))
}

fn advertised(s: &mut Server, c: &Clock, n: u8) -> Ipv6Addr {
    let adv = reply_of(&solicit(s, c, n, n, ia_na(1, &[])));
    assert_eq!(adv.msg_type, MessageType::Advertise);
    ia_addrs(&adv)[0].0
}

/// A server of link() (four addresses, sixteen /60s) after clients 1 to
/// 100 solicited one IA of `kind` each: every one was offered a lease,
/// none got NoAddrsAvail / NoPrefixAvail.
fn flooded(kind: LeaseKind) -> (Server, Clock) {
    let mut s = server_with(link());
    let c = Clock::new();
    for n in 1..=100 {
        let ia = match kind {
            LeaseKind::Address => ia_na(1, &[]),
            LeaseKind::Prefix => ia_pd(1, &[]),
        };
        let adv = reply_of(&solicit(&mut s, &c, n, n, ia));
        let offered = ia_addrs(&adv).len() + ia_prefixes(&adv).len();
        assert_eq!(offered, 1, "Solicit {n}: {adv:?}");
    }
    (s, c)
}

#[test]
fn a_pool_of_four_survives_a_hundred_solicits() {
    let (mut s, c) = flooded(LeaseKind::Address);
    // At most half the four free addresses are held.
    assert!(s.pending_offers() <= 2, "{}", s.pending_offers());
    // A new client that never solicited is leased one, and so is one
    // that solicits first.
    let rep = request(&mut s, &c, 200, ia_na(1, &[]));
    assert_eq!(ia_addrs(&rep).len(), 1, "{rep:?}");
    let x = advertised(&mut s, &c, 201);
    let rep = request(&mut s, &c, 201, ia_na(1, &[x]));
    assert_eq!(ia_addrs(&rep)[0].0, x);
    // Only when every address is bound is there none left.
    for n in [202, 203] {
        assert_eq!(ia_addrs(&request(&mut s, &c, n, ia_na(1, &[]))).len(), 1);
    }
    let rep = request(&mut s, &c, 204, ia_na(1, &[]));
    assert_eq!(ia_status(&rep), Some(StatusCode::NoAddrsAvail));
}

#[test]
fn the_oldest_offer_is_reused_when_the_link_holds_all_it_may() {
    let mut s = server_with(link());
    let mut c = Clock::new();
    // Four free addresses: two offers held.
    let x1 = advertised(&mut s, &c, 1);
    c.advance(1);
    let x2 = advertised(&mut s, &c, 2);
    assert_ne!(x1, x2);
    c.advance(1);
    assert_eq!(advertised(&mut s, &c, 3), x1, "client 1's is the oldest");
    assert_eq!(advertised(&mut s, &c, 4), x2);
    assert_eq!(s.pending_offers(), 2);
    // A retransmission keeps the client's offer.
    assert_eq!(advertised(&mut s, &c, 4), x2);
    assert_eq!(s.pending_offers(), 2);
}

#[test]
fn a_request_gets_an_address_offered_to_another_client() {
    let mut s = server_with(link());
    let c = Clock::new();
    let x = advertised(&mut s, &c, 1);
    // Client 2 asks for client 1's offer (which may have vanished).
    let rep = request(&mut s, &c, 2, ia_na(1, &[x]));
    assert_eq!(ia_addrs(&rep)[0].0, x);
    assert_eq!(s.pending_offers(), 0, "the offer went with the binding");
    // Client 1 comes back: it gets another one.
    let rep = request(&mut s, &c, 1, ia_na(1, &[x]));
    let got = ia_addrs(&rep);
    assert_eq!(got.len(), 1);
    assert_ne!(got[0].0, x);
    // A Rebind naming an address only offered re-creates the binding too
    // (§18.3.5).
    let y = advertised(&mut s, &c, 3);
    let reb = from_client(MessageType::Rebind, 4, vec![ia_na(1, &[y])]);
    let rep = reply_of(&feed(&mut s, &c, 4, &reb, true));
    assert_eq!(ia_addrs(&rep)[0].0, y);
}

#[test]
fn the_offer_table_is_bounded() {
    let mut s = large_pool_server(Limits {
        offers_per_link: 16,
        ..Limits::default()
    });
    let c = Clock::new();
    let mut seen = std::collections::BTreeSet::new();
    for n in 1..=250 {
        seen.insert(advertised(&mut s, &c, n));
    }
    assert_eq!(s.pending_offers(), 16);
    assert_eq!(seen.len(), 16, "past the bound the same leases churn");
    // Held offers still end with offer_hold.
    let mut c = c;
    c.advance(Limits::default().offer_hold);
    s.on_timer(c.now());
    assert_eq!(s.pending_offers(), 0);
}

#[test]
fn prefix_pools_are_not_starved_either() {
    // Sixteen /60s: at most eight held by offers.
    let (mut s, c) = flooded(LeaseKind::Prefix);
    assert!(s.pending_offers() <= 8, "{}", s.pending_offers());
    let offered = ia_prefixes(&reply_of(&solicit(&mut s, &c, 150, 150, ia_pd(1, &[]))))[0].0;
    // Someone else's offer is granted to a Request naming it.
    let rep = request(&mut s, &c, 151, ia_pd(1, &[offered]));
    assert_eq!(ia_prefixes(&rep)[0].0, offered);
    for n in 152..=166 {
        let rep = request(&mut s, &c, n, ia_pd(1, &[]));
        assert_eq!(ia_prefixes(&rep).len(), 1, "client {n}: {rep:?}");
    }
    let rep = request(&mut s, &c, 167, ia_pd(1, &[]));
    assert_eq!(ia_status(&rep), Some(StatusCode::NoPrefixAvail));
}

#[test]
fn a_link_answers_a_budget_of_solicits_and_every_request() {
    let mut s = large_pool_server(Limits {
        solicits_per_second: 10,
        ..Limits::default()
    });
    let mut c = Clock::new();
    // One device floods from its address with ever new DUIDs.
    let answered = |s: &mut Server, c: &Clock, ns: std::ops::RangeInclusive<u8>| {
        ns.filter(|n| !solicit(s, c, *n, 1, ia_na(1, &[])).is_empty())
            .count()
    };
    // The link's ten, then the source's own allowance of four.
    assert_eq!(answered(&mut s, &c, 1..=100), 14);
    assert_eq!(s.stats().drops.get(drop_reason::SOLICIT_BUDGET), Some(&86));
    // Another device on the link is still answered, and so is a Request.
    assert!(!solicit(&mut s, &c, 101, 2, ia_na(1, &[])).is_empty());
    let rep = request(&mut s, &c, 102, ia_na(1, &[]));
    assert_eq!(ia_addrs(&rep).len(), 1);
    // A second later: ten more for the link, one more for the flooder.
    c.advance(1);
    assert_eq!(answered(&mut s, &c, 103..=200), 11);
}
