use super::*;

/// Loopback round trip on an unprivileged port: packet info and hop
/// limit come back (unicast hop limit 255 as we set it).
#[tokio::test(flavor = "current_thread")]
async fn loopback_meta() {
    let a = match RipSocket::open_port(0) {
        Ok(s) => s,
        Err(e) => {
            // No IPv6 in this sandbox: nothing to test.
            eprintln!("skipping: {e}");
            return;
        }
    };
    let port =
        a.fd.get_ref()
            .local_addr()
            .unwrap()
            .as_socket_ipv6()
            .unwrap()
            .port();
    let b = RipSocket::open_port(0).unwrap();
    let dst = SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0);
    b.send(&[2, 1, 0, 0], dst, 0, Ipv6Addr::LOCALHOST)
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let m = a.recv(&mut buf).await.unwrap();
    assert_eq!(m.len, 4);
    assert_eq!(&buf[..4], &[2, 1, 0, 0]);
    assert_eq!(m.hop_limit, Some(255));
    assert_eq!(m.dst, Some(Ipv6Addr::LOCALHOST));
    assert_eq!(*m.src.ip(), Ipv6Addr::LOCALHOST);
    assert!(m.ifindex > 0, "loopback has an index");
}
