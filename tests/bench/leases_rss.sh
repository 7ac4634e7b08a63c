#!/bin/bash
# How much the daemon's peak RSS grows while it answers `show leases` with
# N leases (issue 21 §3: < 2 MB at 100,000). The leases come from a Kea
# memfile CSV made here and `v6routerd import-leases`; the daemon runs in a
# namespace serving them; VmHWM is read from /proc before and after
# the answer (read raw from the socket and counted, not kept).
#
# usage: tests/bench/leases_rss.sh [N]   (root)
#   V6ROUTERD=, V6CTL= binaries (default target/debug). KEEP=1 keeps the dir.
set -eu
N=${1:-100000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
V6ROUTERD=${V6ROUTERD:-$ROOT/target/debug/v6routerd}
V6CTL=${V6CTL:-$ROOT/target/debug/v6ctl}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
W=$(mktemp -d /tmp/v6t-lrss.XXXXXX)
NS=v6t-lrss$$
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    ip netns del $NS 2>/dev/null || true
    ip netns del $NS-h 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
ip netns add $NS; ip netns add $NS-h
ip link add lan0 netns $NS type veth peer name eth0 netns $NS-h
ip -n $NS link set lan0 up; ip -n $NS link set lo up
ip -n $NS -6 addr add 2001:db8:1::1/64 dev lan0 nodad
cat > "$W/r.toml" <<CONF
[router]
state_dir = "$W/state"
[control]
socket = "$W/r.sock"
[[interface]]
name = "lan0"
[interface.dhcpv6]
pool = "2001:db8:1::1:0-2001:db8:1::ffff:ffff"
valid_lifetime = 86400
preferred_lifetime = 43200
CONF
expire=$(( $(date +%s) + 80000 ))
python3 - "$N" "$expire" > "$W/kea.csv" <<'PY'
import sys
n, expire = int(sys.argv[1]), int(sys.argv[2])
print("address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context")
for i in range(n):
    a = 0x10000 + i
    d = "00:03:00:01:02:00:%02x:%02x:%02x:%02x" % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)
    print(f"2001:db8:1::{a >> 16:x}:{a & 0xffff:x},{d},86400,{expire},1,43200,0,{i},128,0,0,host{i}.lan.,,0,")
PY
ip netns exec $NS "$V6ROUTERD" -c "$W/r.toml" import-leases --from kea "$W/kea.csv" --interface lan0 | tail -2
ip netns exec $NS "$V6ROUTERD" -c "$W/r.toml" > "$W/r.log" 2>&1 &
PID=$!
for _ in $(seq 100); do [ -S "$W/r.sock" ] && break; sleep 0.2; done
sleep 1
hwm() { awk '/^VmHWM/ {print $2}' /proc/$PID/status; }
rss() { awk '/^VmRSS/ {print $2}' /proc/$PID/status; }
count=$("$V6CTL" -s "$W/r.sock" show dhcpv6 | sed -n 's/^Leases: \([0-9]*\) addresses.*/\1/p')
# VmHWM can be reset (echo 5 > /proc/PID/clear_refs): the peak then
# measures this answer alone, not the start's journal load.
echo 5 > /proc/$PID/clear_refs
before_hwm=$(hwm); before_rss=$(rss)
t0=$(date +%s.%N)
# The raw answer, read as it comes (v6ctl's own time to pretty-print
# 100,000 leases is not the daemon's).
bytes=$(python3 - "$W/r.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"cmd":"show_leases"}\n')
import json
buf = bytearray()
while not buf.endswith(b"\n"):
    b = s.recv(1 << 16)
    if not b:
        break
    buf += b
a = json.loads(buf)
rows = a["data"]["leases"]
keys = [(r["kind"], r["lease"]) for r in rows]
print(len(buf), "bytes,", len(rows), "rows,", len(set(keys)), "distinct")
PY
)
t1=$(date +%s.%N)
after_hwm=$(hwm)
echo "leases: $count; answer: $bytes in $(echo "$t1 - $t0" | bc) s"
echo "daemon RSS before: ${before_rss} kB; peak during show leases: ${after_hwm} kB; growth: $(( after_hwm - before_hwm )) kB"
