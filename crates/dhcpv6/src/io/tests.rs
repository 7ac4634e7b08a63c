use super::*;

/// Loopback round trip through recvmsg/sendmsg with packet info (no root
/// needed: an ephemeral port on ::1).
#[tokio::test(flavor = "current_thread")]
async fn pktinfo_round_trip_on_loopback() {
    let Ok(a) = ServerSocket::bind(0) else { return }; // no IPv6 in this sandbox
    let port = a.socket().local_addr().unwrap().as_socket().unwrap().port();
    let b = ServerSocket::bind(0).unwrap();
    let bport = b.socket().local_addr().unwrap().as_socket().unwrap().port();
    let lo = 1; // the loopback interface is index 1 on Linux
    let hello = Outgoing {
        data: b"hello",
        dst: SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0),
        ifindex: lo,
    };
    assert_eq!(send_many_blocking(b.raw_fd(), &[hello], 50), 0);
    let mut buf = [0u8; 64];
    let m = a.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..m.len], b"hello");
    assert_eq!(m.dst, Ipv6Addr::LOCALHOST);
    assert_eq!(m.src.port(), bport);
    assert_eq!(m.ifindex, lo);
    assert!(!m.multicast());
    assert_eq!(a.try_recv(&mut buf).unwrap(), None);
}

/// recvmmsg takes what is queued, in order, with packet info each, up
/// to its slots; then nothing.
#[tokio::test(flavor = "current_thread")]
async fn recv_many_takes_the_queue_in_order() {
    let Ok(a) = ServerSocket::bind(0) else { return }; // no IPv6 in this sandbox
    let port = a.socket().local_addr().unwrap().as_socket().unwrap().port();
    let b = ServerSocket::bind(0).unwrap();
    let bport = b.socket().local_addr().unwrap().as_socket().unwrap().port();
    let data: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10 + usize::from(i)]).collect();
    let out: Vec<Outgoing<'_>> = data
        .iter()
        .map(|d| Outgoing {
            data: d,
            dst: SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0),
            ifindex: 1,
        })
        .collect();
    assert_eq!(send_many_blocking(b.raw_fd(), &out, 50), 0);
    let mut m = RecvMany::new(3);
    let mut got = Vec::new();
    loop {
        let n = recv_many(a.raw_fd(), &mut m).unwrap();
        if n == 0 {
            break;
        }
        assert!(n <= 3);
        for i in 0..n {
            let (r, buf) = m.get(i);
            let meta = r.unwrap();
            assert_eq!(
                (meta.dst, meta.ifindex, meta.src.port()),
                (Ipv6Addr::LOCALHOST, 1, bport)
            );
            got.push(buf[..meta.len].to_vec());
        }
    }
    assert_eq!(got, data);
}
