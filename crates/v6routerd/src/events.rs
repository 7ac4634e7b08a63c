//! The event bus of `v6ctl monitor`: one `broadcast` channel owned by the
//! supervisor. Services publish from one place each; every monitor
//! subscribes. A broadcast sender never waits for its receivers, so a slow
//! reader cannot slow the daemon: it falls behind by more than `CAPACITY`
//! events, loses them, and is cut off with a last line saying so.
//!
//! The channel holds `Arc<Event>`: its CAPACITY slots are made (and
//! written) when the daemon starts, whether anyone monitors or not, and a
//! slot holding a whole `Event` (eight strings) took 266 KiB of them; a
//! slot of an `Arc` takes a tenth. Each monitor still gets its own copy.

use crate::prefixes::Delegation;
use crate::service::UplinkFacts;
use std::borrow::Borrow;
use std::sync::Arc;
use tokio::sync::broadcast;
use v6common::kernel::{rtprot, KernelEvent};
use v6common::{Ipv6Prefix, KernelView, RouteFact};
use v6control::monitor::{Event, StreamLine};

/// Events a monitor may fall behind before it is cut off.
pub const CAPACITY: usize = 1024;

pub type Bus = broadcast::Sender<Arc<Event>>;

pub fn bus() -> Bus {
    broadcast::channel(CAPACITY).0
}

/// Publish `e`. No receiver is no error: nobody is watching.
pub fn publish(bus: &Bus, e: Event) {
    let _ = bus.send(Arc::new(e));
}

/// The next line for a monitor of `topic`; after an `End` the stream stops.
pub async fn next_line<E: Borrow<Event> + Clone>(
    rx: &mut broadcast::Receiver<E>,
    topic: &str,
) -> StreamLine {
    loop {
        match rx.recv().await {
            Ok(e) if e.borrow().wanted_by(topic) => return StreamLine::Event(e.borrow().clone()),
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(n)) => {
                return StreamLine::End(format!(
                "cut off: this monitor fell {n} events behind (it reads slower than events happen)"
            ))
            }
            Err(broadcast::error::RecvError::Closed) => {
                return StreamLine::End("the daemon is stopping".into())
            }
        }
    }
}

/// What changed between two of the uplink's facts, as `prefixes` events:
/// a delegation gained or lost (on its uplink), a LAN subnet assigned or
/// no longer planned (deprecated: its addresses go to preferred 0).
pub fn prefix_events(old: &UplinkFacts, new: &UplinkFacts, time_ms: u64) -> Vec<Event> {
    let ev = |action: &str, kind: &str, p: &Ipv6Prefix, iface: &str| Event {
        version: v6control::API_VERSION,
        time_ms,
        topic: "prefixes".into(),
        action: action.into(),
        lease: p.to_string(),
        kind: kind.into(),
        interface: iface.into(),
        ..Default::default()
    };
    let held = |f: &UplinkFacts, d: &Delegation| {
        f.delegations
            .iter()
            .any(|x| x.uplink == d.uplink && x.value == d.value)
    };
    let mut out = Vec::new();
    for d in new.delegations.iter().filter(|d| !held(old, d)) {
        out.push(ev("gained", "delegated", &d.value, &d.uplink));
    }
    for d in old.delegations.iter().filter(|d| !held(new, d)) {
        out.push(ev("lost", "delegated", &d.value, &d.uplink));
    }
    for p in new.assigned.iter().filter(|p| !old.assigned.contains(p)) {
        out.push(ev("assigned", "subnet", p, ""));
    }
    for p in old.assigned.iter().filter(|p| !new.assigned.contains(p)) {
        out.push(ev("deprecated", "subnet", p, ""));
    }
    out
}

/// A `routes` event for a kernel event before `view` takes it in: a route
/// of ours (v6router's protocol: relayed hosts, tunnels, the uplink's
/// unreachable aggregates) that appeared in or left the kernel. Replacing
/// a route that is already there is no event. RIPng's routes never reach
/// the supervisor's event socket (its filter drops them: RIPng follows its
/// own), and the supervisor asks for no delegated prefix's route here:
/// the writer that installs them announces them (kernel_side.rs).
pub fn route_event(view: &KernelView, ev: &KernelEvent, time_ms: u64) -> Option<Event> {
    let (action, r) = match ev {
        KernelEvent::NewRoute(r) if view.find_route(r).is_none() => ("installed", r),
        KernelEvent::DelRoute(r) if view.find_route(r).is_some() => ("removed", r),
        _ => return None,
    };
    if r.protocol != rtprot::V6ROUTER {
        return None;
    }
    Some(route_change(view, action, r, time_ms))
}

/// The `routes` event saying route `r` of ours was `action` ("installed",
/// "removed"); `view` names its interface.
pub fn route_change(view: &KernelView, action: &str, r: &RouteFact, time_ms: u64) -> Event {
    let interface = r
        .oif
        .and_then(|i| view.links.get(&i))
        .map(|l| l.name.clone())
        .unwrap_or_default();
    Event {
        version: v6control::API_VERSION,
        time_ms,
        topic: "routes".into(),
        action: action.into(),
        lease: r.dst.to_string(),
        kind: "route".into(),
        interface,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
