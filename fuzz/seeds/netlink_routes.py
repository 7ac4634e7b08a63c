#!/usr/bin/env python3
# Makes fuzz/seeds/netlink_routes/: real RTM_NEWROUTE payloads from a Linux
# kernel, wrapped in the target's [op, len, payload] records. Made (root) in
# a throw-away namespace where eth0 is ifindex 2 (the fuzz engine's RIPng
# interface) and the routes are the engine's learned ones plus others:
#   ip netns add v6t-seed; ip -n v6t-seed link add eth1 type veth peer name eth0
#   ip -n v6t-seed link set eth0 up; ip -n v6t-seed link set eth1 up
#   for i in 0 1 2 3; do ip -n v6t-seed -6 route add 2001:db8:$i::/48 \
#       via fe80::2 dev eth0 proto rip metric 1024; done
#   ip -n v6t-seed -6 route add 2001:db8:10::/48 via fe80::3 dev eth0 proto static
#   ip -n v6t-seed -6 route add blackhole 2001:db8:20::/48 proto boot
#   ip -n v6t-seed -6 route add 2001:db8:30::/48 proto rip \
#       nexthop via fe80::2 dev eth0 nexthop via fe80::3 dev eth1
#   ip -n v6t-seed -6 route add 2001:db8:40::/48 via fe80::2 dev eth0 proto rip table 100
#   ip -n v6t-seed -6 route add default via fe80::1 dev eth0 proto ra
#   ip -n v6t-seed -6 route add 2001:db8:50::/64 dev eth1 proto kernel
#   ip netns exec v6t-seed python3 fuzz/seeds/netlink_routes.py fuzz/seeds/netlink_routes
#   ip netns del v6t-seed
# It dumps the IPv6 routes of the current namespace (RTM_GETROUTE) and write the
# rtmsg payloads as netlink_routes fuzz seeds: [op, len, payload] records.
import socket, struct, sys, os
out = sys.argv[1]
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
req = struct.pack("=LHHLL", 16 + 12, 26, 0x301, 1, 0) + struct.pack("=BBBBBBBBL", 10, 0, 0, 0, 0, 0, 0, 0, 0)
s.send(req)
pays = []
done = False
while not done:
    d = s.recv(65536)
    at = 0
    while at + 16 <= len(d):
        ln, ty, fl, seq, pid = struct.unpack_from("=LHHLL", d, at)
        if ty == 3: done = True; break
        if ty == 24: pays.append(d[at + 16:at + ln])
        at += (ln + 3) & ~3
pays = [p for p in pays if len(p) <= 255]
def rec(op, p): return bytes([op, len(p)]) + p
def w(name, data):
    open(os.path.join(out, name), "wb").write(data)
# every route alone as a dump, as an addition and as a deletion
for i, p in enumerate(pays):
    w(f"route{i:02}-dump", rec(0, p))
    w(f"route{i:02}-added-deleted", rec(1, p) + rec(2, p) + bytes([4, 0]))
w("whole-dump-then-timers", b"".join(rec(0, p) for p in pays) + bytes([9, 0]) * 4)
w("refused-then-retry", b"".join(rec(3, p) + bytes([9, 0]) for p in pays))
print(len(pays), "routes,", len(os.listdir(out)), "seeds")
