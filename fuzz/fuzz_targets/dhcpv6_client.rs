//! DHCPv6 client (the uplink's PD client, RFC 8415 §18.2): arbitrary server
//! datagrams, timer ticks, clock jumps, link down/up, renew and release, in
//! any order, never panic. Invariants checked after every step: what the
//! client sends parses, a binding never has T1 after T2 nor a lease whose
//! preferred deadline is after its valid one, and a timer the client asks for
//! is never in the past after on_timer ran at that instant (no busy loop).
//!
//! Raw bytes alone would almost never match the transaction ID and Client
//! Identifier the client checks (§16.10), so most server messages are either
//! patched (xid copied from the exchange in flight, our Client ID appended)
//! or built from fuzz-chosen fields with the wire encoder.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};
use v6dhcp::client::{Client, ClientAction, ClientParams, ClientState};
use v6dhcp::wire::{
    ClientServerMessage, DhcpOption, Duid, IaAddr, IaNa, IaPd, IaPrefix, Message, MessageType,
    StatusCode,
};

const SRV: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u32(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            v = v << 8 | u32::from(self.u8()?);
        }
        Some(v)
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

/// A lifetime: small values (seconds) most of the time, the edges sometimes.
fn lifetime(b: u8, c: u8) -> u32 {
    match b >> 6 {
        0 => 0,
        1 => u32::from(c),
        2 => u32::from(c) * 60,
        _ => u32::MAX - u32::from(c),
    }
}

fn server(k: u8) -> Duid {
    Duid::new_ll(1, &[2, 0, 0, 0, 0, 0x90 | (k & 3)])
}

/// A server message built from fuzz-chosen fields, answering exchange `xid`.
fn synth(inp: &mut Input, xid: u32, ours: &Duid) -> Option<Vec<u8>> {
    let kind = inp.u8()?;
    let flags = inp.u8()?;
    let msg_type = if kind & 1 == 0 {
        MessageType::Advertise
    } else {
        MessageType::Reply
    };
    let mut opts = Vec::new();
    if flags & 1 == 0 {
        opts.push(DhcpOption::ClientId(ours.clone()));
    }
    if flags & 2 == 0 {
        opts.push(DhcpOption::ServerId(server(kind >> 1)));
    }
    if flags & 4 != 0 {
        opts.push(DhcpOption::RapidCommit);
    }
    if flags & 8 != 0 {
        opts.push(DhcpOption::Preference(inp.u8()?));
    }
    if flags & 16 != 0 {
        let code = inp.u8()?;
        opts.push(DhcpOption::StatusCode(
            StatusCode::from_u16(u16::from(code & 7)),
            "fuzz".into(),
        ));
    }
    if flags & 32 != 0 {
        opts.push(DhcpOption::SolMaxRt(inp.u32()?));
    }
    let n_ia = inp.u8()? & 3;
    for _ in 0..n_ia {
        let sel = inp.u8()?;
        let iaid = if sel & 1 == 0 { 1 } else { u32::from(sel >> 4) };
        let t1 = lifetime(inp.u8()?, inp.u8()?);
        let t2 = lifetime(inp.u8()?, inp.u8()?);
        let mut inner = Vec::new();
        for _ in 0..(sel >> 1) & 3 {
            let (a, b, c, d) = (inp.u8()?, inp.u8()?, inp.u8()?, inp.u8()?);
            let preferred = lifetime(a, b);
            let valid = lifetime(c, d);
            if sel & 8 == 0 {
                let len = 48 + (inp.u8()? % 17);
                let prefix = Ipv6Addr::new(0x2001, 0xdb8, u16::from(a), 0, 0, 0, 0, 0);
                inner.push(DhcpOption::IaPrefix(IaPrefix {
                    preferred,
                    valid,
                    prefix_len: len,
                    prefix,
                    options: vec![],
                }));
            } else {
                let addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, u16::from(c));
                inner.push(DhcpOption::IaAddr(IaAddr {
                    addr,
                    preferred,
                    valid,
                    options: vec![],
                }));
            }
        }
        if sel & 0x40 != 0 {
            inner.push(DhcpOption::StatusCode(
                StatusCode::from_u16(u16::from(sel & 7)),
                String::new(),
            ));
        }
        if sel & 8 == 0 {
            opts.push(DhcpOption::IaPd(IaPd {
                iaid,
                t1,
                t2,
                options: inner,
            }));
        } else {
            opts.push(DhcpOption::IaNa(IaNa {
                iaid,
                t1,
                t2,
                options: inner,
            }));
        }
    }
    let m = ClientServerMessage {
        msg_type,
        transaction_id: xid,
        options: opts,
    };
    Some(m.to_bytes())
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let Some(cfg) = inp.u8() else { return };
    let duid = Duid::new_ll(1, &[2, 0, 0, 0, 0, 1]);
    let params = ClientParams {
        duid: duid.clone(),
        iaid: 1,
        prefix_length: if cfg & 1 == 0 { Some(56) } else { None },
        request_pd: cfg & 2 == 0,
        request_address: cfg & 4 != 0,
        rapid_commit: cfg & 8 != 0,
        sol_max_rt: Duration::from_secs(3600),
        reconfigure: cfg & 16 == 0,
    };
    let t0 = Instant::now();
    let mut now = t0;
    let mut c = Client::new(params, u64::from(cfg), None);
    let mut xid = 0u32;
    let mut out = c.start(now);
    while let Some(op) = inp.u8() {
        check(&c, now, &out, &mut xid);
        out = match op % 8 {
            // Raw datagram, xid patched in unless bit 3 says not to; our
            // Client ID appended when bit 4 is set.
            0 | 1 => {
                let len = usize::from(inp.u8().unwrap_or(0));
                let mut d = inp.bytes(len).to_vec();
                if op & 8 == 0 && d.len() >= 4 {
                    d[1..4].copy_from_slice(&xid.to_be_bytes()[1..]);
                }
                if op & 16 != 0 {
                    let id = duid.as_bytes();
                    d.extend_from_slice(&1u16.to_be_bytes());
                    d.extend_from_slice(&(id.len() as u16).to_be_bytes());
                    d.extend_from_slice(id);
                }
                c.handle(now, SRV, &d)
            }
            2 | 3 => match synth(&mut inp, if op & 8 == 0 { xid } else { xid ^ 1 }, &duid) {
                Some(d) => c.handle(now, SRV, &d),
                None => break,
            },
            // Time passes: up to the next timer, or a jump.
            4 => {
                let step = inp.u8().unwrap_or(0);
                now = match (step & 0x80, c.next_timer()) {
                    (0, Some(t)) => now.max(t),
                    _ => now + Duration::from_secs(u64::from(step & 0x7f).pow(3)),
                };
                c.on_timer(now)
            }
            5 => {
                now += Duration::from_millis(u64::from(op) * 37);
                c.on_timer(now)
            }
            // Link down / up.
            6 => {
                if op & 8 == 0 {
                    c.stop();
                    Vec::new()
                } else {
                    c.start(now)
                }
            }
            _ => {
                if op & 8 == 0 {
                    c.renew_now(now)
                } else {
                    c.release(now)
                }
            }
        };
        // A timer the client asks for, once due, is consumed: one on_timer
        // call at that instant leaves nothing due, so the glue's
        // sleep_until(next_timer) loop neither spins nor sends two messages
        // at once.
        for step in 0.. {
            match c.next_timer() {
                Some(t) if t <= now && c.state() != ClientState::Stopped => {
                    assert!(step < 1, "timer due again at once: {:?}", c.state());
                    let more = c.on_timer(now);
                    check(&c, now, &more, &mut xid);
                }
                _ => break,
            }
        }
    }
    check(&c, now, &out, &mut xid);
});

fn check(c: &Client, now: Instant, out: &[ClientAction], xid: &mut u32) {
    for a in out {
        if let ClientAction::Send(b) = a {
            match Message::parse(b) {
                Ok(Message::ClientServer(m)) => *xid = m.transaction_id & 0x00ff_ffff,
                other => panic!("the client sent something it cannot parse: {other:?}"),
            }
        }
    }
    if let Some(b) = c.binding() {
        assert!(b.t1_at <= b.t2_at, "T1 after T2");
        for p in &b.prefixes {
            assert!(p.preferred_until <= p.valid_until, "preferred beyond valid");
        }
        for a in &b.addresses {
            assert!(a.preferred_until <= a.valid_until, "preferred beyond valid");
        }
        let _ = b.store(now, 1_800_000_000);
    }
}
