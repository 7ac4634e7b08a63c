#!/bin/bash
# Relay-mode benchmark (issue 19): v6routerd relaying radvd's /64 to a LAN
# with N host addresses (default 1,000). Not a timed test: it prints.
#
# - the LAN host adds N addresses in the ISP's /64; its kernel sends a DAD
#   NS for each, which the ND proxy learns (a /128 route each): the time
#   until all N routes are in, and the daemon's CPU time per NS heard;
# - the time for the ISP to reach a new host address: one announced by
#   DAD, and one added without DAD (found by probing the LAN when the ISP
#   asks), with the N others in place.
#
# Usage (root): tests/bench/relay.sh
#   N=1000            host addresses
#   V6ROUTERD=path    (default target/bench-release/v6routerd; built if absent)
#   KEEP=1            keep the scratch directory
set -euo pipefail

N=${N:-1000}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$HERE/target}
V6ROUTERD=${V6ROUTERD:-$TARGET/bench-release/v6routerd}
if [ ! -x "$V6ROUTERD" ]; then
    (cd "$HERE" && cargo build --profile bench-release -p v6routerd)
fi
TAG=rb$$
DIR=$(mktemp -d /tmp/v6-relay-bench.XXXXXX)
ISP=$TAG-isp RTR=$TAG-rtr HOST=$TAG-host
DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
    [ -f "$DIR/radvd.pid" ] && kill "$(cat "$DIR/radvd.pid")" 2>/dev/null || true
    for n in $ISP $RTR $HOST; do ip netns del "$n" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT
for n in $ISP $RTR $HOST; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add "$TAG"a type veth peer name "$TAG"b
ip link set "$TAG"a netns $ISP name isp0; ip link set "$TAG"b netns $RTR name wan0
ip link add "$TAG"c type veth peer name "$TAG"d
ip link set "$TAG"c netns $RTR name lan0; ip link set "$TAG"d netns $HOST name eth0
ip -n $ISP link set isp0 up; ip -n $RTR link set wan0 up
ip -n $RTR link set lan0 up; ip -n $HOST link set eth0 up
ip -n $ISP addr add 2001:db8:ff::1/64 dev isp0 nodad
ip netns exec $RTR sysctl -qw net.ipv6.conf.all.forwarding=1
ip netns exec $HOST sysctl -qw net.ipv6.conf.eth0.accept_ra=2
# Room for N neighbours (the gc thresholds are global, not per namespace,
# on this kernel: raised only if lower, left raised).
for k in 1 2 3; do
    f=/proc/sys/net/ipv6/neigh/default/gc_thresh$k
    [ -w "$f" ] && [ "$(cat "$f")" -lt $((N * 4)) ] && echo $((N * 4)) >"$f" || true
done
ip netns exec $HOST sysctl -qw net.ipv6.conf.eth0.max_addresses=0 2>/dev/null || true

cat >"$DIR/radvd.conf" <<RADVD
interface isp0 { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4;
  prefix 2001:db8:ff::/64 { AdvOnLink on; AdvAutonomous on; }; };
RADVD
ip netns exec $ISP radvd -C "$DIR/radvd.conf" -p "$DIR/radvd.pid" -m logfile -l "$DIR/radvd.log"
cat >"$DIR/r.toml" <<CONF
[router]
state_dir = "$DIR/state"
ula = "off"
[control]
socket = "$DIR/r.sock"
[log]
level = "${LOG:-warn}"
[[interface]]
name = "wan0"
[[interface]]
name = "lan0"
relay = { from = "wan0" }
[interface.ra]
max_interval = 4
CONF
ip netns exec $RTR "$V6ROUTERD" -c "$DIR/r.toml" >"$DIR/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do
    ip -n $HOST -6 addr show dev eth0 scope global | grep -q "2001:db8:ff:" && break
    sleep 0.2
done
ip -n $HOST -6 addr show dev eth0 scope global | grep -q "2001:db8:ff:" \
    || { echo "the host never autoconfigured; daemon log:"; cat "$DIR/daemon.log"; exit 1; }

routes() { ip -n $RTR -6 route show proto 201 | grep -c . || true; }
cpu() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }
HZ=$(getconf CLK_TCK)
before_routes=$(routes)
cpu0=$(cpu)
t0=$(date +%s.%N)
for i in $(seq 1 "$N"); do
    printf 'addr add 2001:db8:ff::1:%x/64 dev eth0\n' "$i"
done >"$DIR/addrs.batch"
ip -n $HOST -b "$DIR/addrs.batch"
want=$((before_routes + N))
for _ in $(seq 600); do
    [ "$(routes)" -ge "$want" ] && break
    sleep 0.1
done
t1=$(date +%s.%N)
cpu1=$(cpu)
got=$(( $(routes) - before_routes ))
[ -n "${DEBUG:-}" ] && ip -n $RTR -6 route && ip -n $HOST -6 addr show dev eth0 | head -20
echo "host addresses learned: $got of $N in $(echo "$t1 - $t0" | bc) s (DAD of the host's kernel included, ~1 s)"
echo "daemon CPU: $(( (cpu1 - cpu0) * 1000 / HZ )) ms for $N DAD NS = $(echo "scale=1; ($cpu1 - $cpu0) * 1000000 / $HZ / $N" | bc) us per NS (clock tick ${HZ} Hz: coarse)"

reach() {
    local a=$1 s e
    s=$(date +%s.%N)
    for _ in $(seq 100); do
        ip netns exec $ISP ping -6 -c 1 -W 1 "$a" >/dev/null 2>&1 && break
    done
    e=$(date +%s.%N)
    echo "$(echo "$e - $s" | bc)"
}
ip -n $HOST addr add 2001:db8:ff::2:1/64 dev eth0
# Until its DAD is over (a tentative address answers nothing).
for _ in $(seq 50); do
    ip -n $HOST -6 addr show dev eth0 | grep "2001:db8:ff::2:1/" | grep -q tentative || break
    sleep 0.1
done
echo "ISP reaches a new DAD-announced address in $(reach 2001:db8:ff::2:1) s"
ip -n $HOST addr add 2001:db8:ff::2:2/64 dev eth0 nodad
echo "ISP reaches a new address added without DAD in $(reach 2001:db8:ff::2:2) s (found by probing the LAN; the ISP's NS retransmit is 1 s)"
