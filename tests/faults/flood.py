#!/usr/bin/env python3
"""Hostile-input flood for v6routerd (issue 11): malformed RA/RS (ICMPv6),
DHCPv6 and RIPng datagrams sent as fast as one process can, from inside a
LAN namespace, for SECONDS.

    flood.py IFACE KIND SECONDS      KIND: ra | rs | dhcpv6 | ripng

Every datagram is one the router must drop (RFC 4861 §6.1, RFC 8415 §16,
RFC 2080 §2.4.2): the hop limit is 255 and the source link-local, so only
the content is wrong. For ripng, one valid Response (2001:db8:77::/48,
metric 1) goes out first and then once a second, so the router knows the
sender as a neighbour and counts its bad packets against it.

At the end it prints one line: `FLOOD kind=K sent=N valid=V seconds=S`.
"""
import socket
import struct
import sys
import time

ALL_NODES, ALL_ROUTERS = "ff02::1", "ff02::2"
DHCP_SERVERS, RIP_ROUTERS = "ff02::1:2", "ff02::9"

# RFC 4861 §4.1/§4.2 bodies (the kernel fills in the ICMPv6 checksum).
RS_BAD = [
    bytes([133, 0, 0, 0]) + bytes(4) + bytes([1, 0]) + bytes(6),  # option length 0
    bytes([133, 0, 0, 0, 0, 0]),  # shorter than 8 bytes
    bytes([133, 9, 0, 0]) + bytes(4),  # code not 0
    bytes([133, 0, 0, 0]) + bytes(4) + bytes([1, 2]) + bytes(6),  # option runs past the end
]
RA_HEAD = bytes([134, 0, 0, 0, 64, 0]) + struct.pack(">HII", 1800, 0, 0)
RA_BAD = [
    RA_HEAD + bytes([3, 0]) + bytes(30),  # option length 0
    RA_HEAD[:12],  # shorter than 16 bytes
    bytes([134, 1]) + RA_HEAD[2:],  # code not 0
    RA_HEAD + bytes([3, 4, 200]) + bytes(13),  # prefix length 200, option cut
]
# RFC 8415 §8/§21: bad framing.
DHCP_BAD = [
    bytes([1]),  # no transaction id
    bytes([1, 1, 2, 3]) + struct.pack(">HH", 1, 200) + bytes(10),  # option past the end
    bytes([1, 1, 2, 3]) + struct.pack(">HH", 3, 4) + bytes(4),  # IA_NA shorter than 12
    bytes([12, 0]) + bytes(14) + bytes(16) + struct.pack(">HH", 9, 300),  # relay, cut option
]
# RFC 2080 §2.4.2: header checks and entries not a multiple of 20 bytes.
RIP_VALID = bytes([2, 1, 0, 0]) + bytes.fromhex("20010db8007700000000000000000000") + bytes([0, 0, 48, 1])
RIP_BAD = [
    bytes([2, 0, 0, 0]) + RIP_VALID[4:],  # version 0
    bytes([9, 1, 0, 0]) + RIP_VALID[4:],  # unknown command
    RIP_VALID + bytes(7),  # trailing bytes
    bytes([2, 1]),  # shorter than the header
]


def main():
    iface, kind, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    idx = socket.if_nametoindex(iface)
    if kind in ("ra", "rs"):
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        msgs, dst = (RA_BAD, ALL_NODES) if kind == "ra" else (RS_BAD, ALL_ROUTERS)
    elif kind == "dhcpv6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::", 0, 0, idx))
        msgs, dst = DHCP_BAD, (DHCP_SERVERS, 547)
    elif kind == "ripng":
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", 521, 0, idx))
        msgs, dst = RIP_BAD, (RIP_ROUTERS, 521)
    else:
        sys.exit(f"unknown kind {kind}")
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
    addr = (dst, 0, 0, idx) if isinstance(dst, str) else (dst[0], dst[1], 0, idx)
    sent = valid = 0
    t0 = time.monotonic()
    end = t0 + secs
    next_valid = t0
    n = len(msgs)
    send = s.sendto
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if kind == "ripng" and now >= next_valid:
            send(RIP_VALID, addr)
            valid += 1
            next_valid = now + 1.0
        # A burst between clock reads.
        for i in range(256):
            try:
                send(msgs[i % n], addr)
                sent += 1
            except (BlockingIOError, OSError):
                pass  # a full transmit queue: not sent, not counted
    print(f"FLOOD kind={kind} sent={sent} valid={valid} seconds={time.monotonic() - t0:.1f}", flush=True)


if __name__ == "__main__":
    main()
