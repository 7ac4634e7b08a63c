//! Facts the unit tests of several modules build the same way.

use v6common::kernel::RT_TABLE_MAIN;
use v6common::{KernelView, LinkFact, RouteFact, RouteKind};

/// A main-table unicast route out of link 3, metric 1024.
pub fn route(dst: &str, gateway: Option<&str>, protocol: u8) -> RouteFact {
    RouteFact {
        dst: dst.parse().unwrap(),
        gateway: gateway.map(|g| g.parse().unwrap()),
        oif: Some(3),
        protocol,
        metric: 1024,
        table: RT_TABLE_MAIN,
        kind: RouteKind::Unicast,
    }
}

/// A kernel view holding only link 3, `lan0`.
pub fn view_with_lan0() -> KernelView {
    let mut view = KernelView::default();
    view.links.insert(
        3,
        LinkFact {
            index: 3,
            name: "lan0".into(),
            ..Default::default()
        },
    );
    view
}
