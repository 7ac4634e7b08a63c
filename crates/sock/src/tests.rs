use super::*;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

fn loopback_pair() -> (UdpSocket, UdpSocket) {
    let a = UdpSocket::bind("[::1]:0").expect("bind a");
    let b = UdpSocket::bind("[::1]:0").expect("bind b");
    for s in [&a, &b] {
        setsockopt_int(s.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)
            .expect("pktinfo");
        setsockopt_int(
            s.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVHOPLIMIT,
            1,
        )
        .expect("hoplimit");
    }
    (a, b)
}

fn to(s: &UdpSocket) -> SocketAddrV6 {
    match s.local_addr().expect("local addr") {
        std::net::SocketAddr::V6(a) => a,
        std::net::SocketAddr::V4(_) => unreachable!("bound to ::1"),
    }
}

#[test]
fn loopback_reports_interface_destination_and_hop_limit() {
    let (a, b) = loopback_pair();
    setsockopt_int(
        a.as_raw_fd(),
        libc::IPPROTO_IPV6,
        libc::IPV6_UNICAST_HOPS,
        9,
    )
    .expect("hops");
    let n = send(
        a.as_raw_fd(),
        b"hello",
        to(&b),
        1,
        Some(Ipv6Addr::LOCALHOST),
    )
    .expect("send");
    assert_eq!(n, 5);
    let mut buf = [0u8; 64];
    let m = recv(b.as_raw_fd(), &mut buf).expect("recv");
    assert_eq!(&buf[..m.len], b"hello");
    assert_eq!(m.src, to(&a));
    assert_eq!(m.dst, Some(Ipv6Addr::LOCALHOST));
    assert_eq!(m.ifindex, 1, "lo is interface 1");
    assert_eq!(m.hop_limit, Some(9));
}

#[test]
fn a_datagram_larger_than_the_buffer_is_an_error_not_a_cut() {
    let (a, b) = loopback_pair();
    send(a.as_raw_fd(), &[7u8; 100], to(&b), 0, None).expect("send");
    let mut small = [0u8; 10];
    let e = recv(b.as_raw_fd(), &mut small).expect_err("truncated");
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("100 bytes"), "{e}");
    // The datagram was consumed: the next one is read whole.
    send(a.as_raw_fd(), b"next", to(&b), 0, None).expect("send");
    let mut buf = [0u8; 10];
    let m = recv(b.as_raw_fd(), &mut buf).expect("recv");
    assert_eq!(&buf[..m.len], b"next");
}

#[test]
fn nothing_queued_is_would_block() {
    let (_a, b) = loopback_pair();
    b.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 10];
    let e = recv(b.as_raw_fd(), &mut buf).expect_err("empty");
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn send_many_sends_each_datagram_whole_in_order_to_its_destination() {
    let (a, b) = loopback_pair();
    let (c, _) = loopback_pair();
    // 150 datagrams: three sendmmsg calls (64 + 64 + 22), to two sockets.
    let payloads: Vec<Vec<u8>> = (0..150u8).map(|i| vec![i; 1 + i as usize]).collect();
    let out: Vec<Outgoing<'_>> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| Outgoing {
            data: p,
            dst: if i % 3 == 0 { to(&c) } else { to(&b) },
            ifindex: 1,
        })
        .collect();
    assert_eq!(send_many(a.as_raw_fd(), &out).expect("send_many"), 150);
    let mut buf = [0u8; 256];
    for (i, p) in payloads.iter().enumerate() {
        let from = if i % 3 == 0 { &c } else { &b };
        let m = recv(from.as_raw_fd(), &mut buf).expect("recv");
        assert_eq!(&buf[..m.len], &p[..], "datagram {i}");
        assert_eq!(m.src, to(&a));
        assert_eq!(m.ifindex, 1);
    }
    assert_eq!(send_many(a.as_raw_fd(), &[]).expect("nothing"), 0);
}
