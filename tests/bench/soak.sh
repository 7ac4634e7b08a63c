#!/bin/bash
# Soak: every service of v6routerd busy at once for a while, and its memory
# sampled, to show that nothing grows without bound (a leak, a table never
# pruned, a journal never compacted). Not a timed test: it prints samples
# and the growth over the steady part of the run.
#
#   S: v6routerd  lan0 (RA + DHCPv6, leases valid VALID s)  rip0 (RIPng)
#   C: perfdhcp on eth0, RATE full exchanges/s from a million distinct
#      clients: leases are granted, expire and are reclaimed all along
#   B: BIRD 2 on rip0 originating ROUTES routes over RIPng, withdrawn and
#      announced again every CHURN s (birdc disable/enable of its statics)
#
# usage: tests/bench/soak.sh [SECONDS]   (root; bird2, kea-admin installed)
#   RATE=500 VALID=60 ROUTES=5000 CHURN=30 EVERY=30 (sampling period, s)
#   V6ROUTERD=, V6CTL= binaries (default target/release: build with
#   `cargo build --release -p v6routerd -p v6ctl`). KEEP=1 keeps the work dir.
set -eu

DURATION=${1:-600}
RATE=${RATE:-500}
VALID=${VALID:-60}
ROUTES=${ROUTES:-5000}
CHURN=${CHURN:-30}
EVERY=${EVERY:-30}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
V6ROUTERD=${V6ROUTERD:-$ROOT/target/release/v6routerd}
V6CTL=${V6CTL:-$ROOT/target/release/v6ctl}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
for c in perfdhcp bird birdc ip; do
    command -v $c >/dev/null || { echo "missing $c" >&2; exit 2; }
done
if [ ! -x "$V6ROUTERD" ] || [ ! -x "$V6CTL" ]; then
    echo "no $V6ROUTERD or $V6CTL: cargo build --release -p v6routerd -p v6ctl" >&2
    exit 2
fi

W=$(mktemp -d /tmp/v6t-soak.XXXXXX)
S=v6t-sk$$-s
C=v6t-sk$$-c
B=v6t-sk$$-b
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
    for n in $S $C $B; do ip netns del "$n" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

for n in $S $C $B; do
    ip netns add "$n"
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n "$n" link set lo up
done
ip link add v6tk$$a type veth peer name v6tk$$b
ip link set v6tk$$a netns $S; ip link set v6tk$$b netns $C
ip -n $S link set v6tk$$a name lan0; ip -n $C link set v6tk$$b name eth0
ip link add v6tk$$c type veth peer name v6tk$$d
ip link set v6tk$$c netns $S; ip link set v6tk$$d netns $B
ip -n $S link set v6tk$$c name rip0; ip -n $B link set v6tk$$d name rip0
ip -n $S link set lan0 up; ip -n $S link set rip0 up
ip -n $C link set eth0 up; ip -n $B link set rip0 up
ip -n $S -6 addr add 2001:db8:1::1/64 dev lan0 nodad
ip netns exec $S sysctl -qw net.ipv6.conf.all.forwarding=1
sleep 1

cat > "$W/v6router.toml" <<EOF
[router]
state_dir = "$W/state"
[control]
socket = "$W/v6r.sock"
[log]
level = "warn"
[[interface]]
name = "lan0"
[interface.ra]
managed = true
max_interval = 10
[[interface.ra.prefix]]
prefix = "::/64"
[interface.dhcpv6]
pool = "2001:db8:1::-2001:db8:1::ffff:ffff:ffff"
dns = ["2001:db8:1::1"]
preferred_lifetime = $((VALID * 2 / 3))
valid_lifetime = $VALID
renew_time = $((VALID / 3))
rebind_time = $((VALID / 2))
[ripng]
interfaces = ["rip0"]
[ripng.export]
connected = true
connected_interfaces = ["lan0"]
EOF

{
    echo "router id 10.0.0.2;"
    echo "protocol device { }"
    echo "protocol static churn { ipv6;"
    i=0
    while [ $i -lt "$ROUTES" ]; do
        printf '  route fd00:2:%x:%x::/64 unreachable;\n' $((i / 65536)) $((i % 65536))
        i=$((i + 1))
    done
    echo "}"
    echo "protocol rip ng { ipv6 { import all; export all; }; interface \"rip0\" { mode multicast; }; }"
} > "$W/bird.conf"

ip netns exec $B bird -f -c "$W/bird.conf" -s "$W/bird.ctl" > "$W/bird.log" 2>&1 &
PIDS="$PIDS $!"
ip netns exec $S "$V6ROUTERD" -c "$W/v6router.toml" > "$W/v6r.log" 2>&1 &
V6PID=$!
PIDS="$PIDS $V6PID"
for _ in $(seq 50); do "$V6CTL" -s "$W/v6r.sock" show status >/dev/null 2>&1 && break; sleep 0.1; done

ip netns exec $C perfdhcp -6 -l eth0 -r "$RATE" -R 1000000 -p "$DURATION" \
    > "$W/perfdhcp.log" 2>&1 &
PERF=$!
PIDS="$PIDS $PERF"

# BIRD's routes go and come back every CHURN s.
(
    on=1
    while :; do
        sleep "$CHURN"
        if [ $on = 1 ]; then a=disable; on=0; else a=enable; on=1; fi
        birdc -s "$W/bird.ctl" "$a" churn > /dev/null 2>&1 || exit 0
    done
) &
CHURNER=$!
PIDS="$PIDS $CHURNER"

field() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$V6PID/status"; }
HZ=$(getconf CLK_TCK)
cpu() { awk -v hz="$HZ" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$V6PID/stat"; }
# From the counters (a full `show leases` would itself cost memory).
leases() { "$V6CTL" -s "$W/v6r.sock" show dhcpv6 2>/dev/null | awk '/^Leases:/ {print $2}'; }
rip_routes() { ip -n $S -6 route show proto rip | grep -c '^fd00:2:' || true; }
journal() { du -k "$W/state" 2>/dev/null | tail -1 | cut -f1; }

echo "soak: ${DURATION}s; DHCPv6 $RATE exchanges/s (valid ${VALID}s), RIPng $ROUTES routes churned every ${CHURN}s"
echo "v6routerd: $V6ROUTERD ($(stat -c %s "$V6ROUTERD") bytes); load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%8s %10s %10s %8s %8s %9s %8s\n' seconds RSS_KiB HWM_KiB leases rip state_KiB cpu_s
t=0
: > "$W/samples"
while kill -0 $PERF 2>/dev/null && [ $t -le "$DURATION" ]; do
    line=$(printf '%8s %10s %10s %8s %8s %9s %8s' "$t" "$(field VmRSS)" "$(field VmHWM)" \
        "$(leases)" "$(rip_routes)" "$(journal)" "$(cpu)")
    echo "$line"; echo "$line" >> "$W/samples"
    sleep "$EVERY"; t=$((t + EVERY))
done
kill -0 $V6PID 2>/dev/null || { echo "v6routerd died"; tail -20 "$W/v6r.log"; exit 1; }
# What one `v6ctl show leases` costs the daemon with the table full (the
# answer is built in memory): its peak RSS before and after the call.
hwm0=$(field VmHWM)
n=$("$V6CTL" -s "$W/v6r.sock" show leases | grep -c '^2001:db8:1::' || true)
hwm1=$(field VmHWM)
wait $PERF 2>/dev/null || true

# Steady part: from when the first leases have expired twice over (2 x
# VALID) and BIRD has churned at least twice, to the end.
warm=$((2 * VALID > 2 * CHURN ? 2 * VALID : 2 * CHURN))
awk -v warm="$warm" '
    $1 >= warm && first == "" { first = $2; t0 = $1 }
    { last = $2; t1 = $1; if ($2 > max) max = $2 }
    END {
        if (first == "") { print "run too short for a steady part"; exit }
        printf "RSS over the steady part (%d..%d s): %d -> %d KiB (%+d KiB, %+.1f%%), peak %d KiB\n",
            t0, t1, first, last, last - first, 100 * (last - first) / first, max
    }' "$W/samples"
echo "one show leases listing $n leases: peak RSS $hwm0 -> $hwm1 KiB"
grep -E '^(Rate|Drops ratio|.*drops ratio)' "$W/perfdhcp.log" | head -4 || true
echo "warnings or errors in v6routerd's log: $(grep -c -E 'WARN|ERROR' "$W/v6r.log" || true)"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
