use super::*;
use v6common::kernel::rtprot;
use v6common::RouteFact;

fn route(dst: &str, gateway: Option<&str>) -> RouteFact {
    crate::testkit::route(dst, gateway, rtprot::V6ROUTER)
}

#[test]
fn the_view_leaves_delegated_routes_out_unless_ripng_exports_them() {
    let delegated = route("2001:db8:8:10::/60", Some("fe80::2"));
    let tunnel = route("::/0", None);
    assert!(is_delegated_event(&KernelEvent::NewRoute(
        delegated.clone()
    )));
    assert!(is_delegated_event(&KernelEvent::DelRoute(
        delegated.clone()
    )));
    assert!(!is_delegated_event(&KernelEvent::NewRoute(tunnel.clone())));
    let mut view = KernelView::default();
    view.upsert_route(delegated.clone());
    view.upsert_route(tunnel.clone());
    drop_delegated(&mut view);
    assert_eq!(view.routes, vec![tunnel.clone()]);
    // The index follows: the tunnel's route is still found, updated.
    assert_eq!(view.find_route(&tunnel), Some(&tunnel));
    view.remove_route(&tunnel);
    assert!(view.routes.is_empty());

    let cfg = |ripng: &str| {
        let text = format!("[[interface]]\nname = \"eth0\"\n{ripng}");
        v6config::parse(&text, std::path::Path::new("t.toml"))
            .unwrap()
            .config
    };
    assert!(!keeps_delegated(&cfg("")));
    let rip = "[ripng]\ninterfaces = [\"eth0\"]\n";
    assert!(!keeps_delegated(&cfg(rip)));
    assert!(keeps_delegated(&cfg(&format!(
        "{rip}[ripng.export]\nkernel = true\n"
    ))));
}
