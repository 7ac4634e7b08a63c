#!/usr/bin/env bash
# The demo lab: five network namespaces on this machine,
#
#   [v6lab-up] eth0 ──── up0 [v6lab-rtr] lan0 (a bridge) ──── eth0 [v6lab-host]
#   the "ISP": Kea 2.2      v6routerd          │              the host's own kernel
#   (DHCPv6-PD), radvd,     config/lab.toml    │              (SLAAC) and dhclient -6
#   BIRD 2 (RIPng)                             └── wan0 [v6lab-rtr2] lan0 ──── eth0 [v6lab-host2]
#                                                   a second v6routerd,        another host
#                                                   config/lab-cascade.toml    (SLAAC)
#
# Kea delegates 2001:db8:100::/56 to v6routerd, which gives lan0
# 2001:db8:100:1::1/64 (and a ULA /64), advertises it (RA with M/O, MTU 1280,
# the ISP's DNS server, DNSSL), serves DHCPv6 there (an address for the host,
# a /60 for the cascaded router, routed via its link-local address), and tells
# the ISP's BIRD about the LAN and the /60 over RIPng, so both hosts reach the
# ISP and back.
#
#   tests/lab/demo.sh          run it, show what v6ctl shows, clean up
#   tests/lab/demo.sh --keep   stay up until Ctrl-C (try v6ctl yourself:
#                              v6ctl -s /tmp/v6router-lab/v6routerd.sock show ra)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it creates network namespaces)"; exit 1; }
KEEP=${1:-}
RUN=/tmp/v6router-lab
PIDS=()
NSS="v6lab-up v6lab-rtr v6lab-host v6lab-rtr2 v6lab-host2"

# `grep -q` in a pipeline under pipefail fails when it closes the pipe early.
has() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    for ns in $NSS; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$RUN"
    echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash tests/setup.sh
echo "== building"
cargo build --workspace --quiet
BIN=$PWD/target/debug
V6CTL="$BIN/v6ctl -s $RUN/v6routerd.sock"
V6CTL2="$BIN/v6ctl -s $RUN/v6routerd2.sock"

rm -rf "$RUN"; mkdir -p "$RUN"
for ns in $NSS; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # No duplicate address detection in the lab: Kea binds to the link-local
    # address at start and would find it still tentative.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
# veth NAME_A NS_A IF_A NS_B IF_B: a cable between two namespaces.
veth() {
    ip link add "$1a" type veth peer name "$1b"
    ip link set "$1a" netns "$2"; ip link set "$1b" netns "$4"
    ip -n "$2" link set "$1a" name "$3"; ip -n "$4" link set "$1b" name "$5"
    ip -n "$2" link set "$3" up; ip -n "$4" link set "$5" up
}
veth v6lab-u v6lab-rtr up0 v6lab-up eth0
# The main router's LAN is a bridge with two ports, as on a home router:
# one to the host, one to the cascaded router's WAN. (No MLD snooping: the
# bridge would otherwise drop multicast until it has seen a report.)
ip -n v6lab-rtr link add lan0 type bridge mcast_snooping 0
veth v6lab-h v6lab-rtr lan0-h v6lab-host eth0
veth v6lab-r v6lab-rtr lan0-r v6lab-rtr2 wan0
ip -n v6lab-rtr link set lan0-h master lan0; ip -n v6lab-rtr link set lan0-r master lan0
ip -n v6lab-rtr link set lan0 up
veth v6lab-s v6lab-rtr2 lan0 v6lab-host2 eth0
ip netns exec v6lab-host2 sysctl -qw net.ipv6.conf.eth0.accept_ra=2
ip netns exec v6lab-host sysctl -qw net.ipv6.conf.eth0.accept_ra=2
ip netns exec v6lab-up sysctl -qw net.ipv6.conf.all.forwarding=1
ip -n v6lab-up addr add 2001:db8:ff::1/64 dev eth0 nodad
# Upstream: an address in its own /48, reachable once RIPng has run.
ip -n v6lab-up addr add 2001:db8:bb::1/128 dev lo

# The ISP's DHCPv6 server (prefix delegation) and RA daemon.
mkdir -p /var/lib/kea /run/kea
cat > "$RUN/kea.json" <<KEA
{ "Dhcp6": { "interfaces-config": { "interfaces": [ "eth0" ] },
  "renew-timer": 300, "rebind-timer": 480, "preferred-lifetime": 600, "valid-lifetime": 1200,
  "lease-database": { "type": "memfile", "persist": true, "name": "$RUN/isp-leases.csv" },
  "option-data": [ { "name": "dns-servers", "data": "2001:db8:ff::53" } ],
  "subnet6": [ { "subnet": "2001:db8:ff::/64", "interface": "eth0",
     "pd-pools": [ { "prefix": "2001:db8:100::", "prefix-len": 40, "delegated-len": 56 } ] } ] } }
KEA
KEA_PIDFILE_DIR=$RUN KEA_LOCKFILE_DIR=$RUN ip netns exec v6lab-up kea-dhcp6 -c "$RUN/kea.json" > "$RUN/kea.log" 2>&1 &
PIDS+=($!)
cat > "$RUN/radvd.conf" <<'RADVD'
interface eth0 { AdvSendAdvert on; AdvManagedFlag on; MaxRtrAdvInterval 10;
  prefix 2001:db8:ff::/64 { AdvOnLink on; AdvAutonomous on; }; };
RADVD
ip netns exec v6lab-up radvd -n -m stderr -C "$RUN/radvd.conf" -p "$RUN/radvd.pid" > "$RUN/radvd.log" 2>&1 &
PIDS+=($!)

cat > "$RUN/bird.conf" <<'BIRD'
router id 192.0.2.2;
protocol device { }
protocol direct { ipv6; interface "lo"; }
protocol kernel { ipv6 { export all; import none; }; learn; scan time 5; }
protocol static { ipv6; route 2001:db8:bb::/48 unreachable; }
protocol rip ng { ipv6 { import all; export all; }; interface "eth*" { mode multicast; update time 5; }; }
BIRD
ip netns exec v6lab-up bird -c "$RUN/bird.conf" -s "$RUN/bird.ctl" -P "$RUN/bird.pid" -f &
PIDS+=($!)

echo "== starting v6routerd in v6lab-rtr with config/lab.toml"
ip netns exec v6lab-rtr "$BIN/v6routerd" -c config/lab.toml > "$RUN/v6routerd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do $V6CTL show status >/dev/null 2>&1 && break; sleep 0.1; done
echo "== starting a second v6routerd in v6lab-rtr2 with config/lab-cascade.toml"
ip netns exec v6lab-rtr2 "$BIN/v6routerd" -c config/lab-cascade.toml > "$RUN/v6routerd2.log" 2>&1 &
PIDS+=($!)

echo "== the ISP delegates a prefix; lan0 gets a /64 of it"
for _ in $(seq 100); do
    has "$(ip -n v6lab-rtr -6 addr show dev lan0)" 2001:db8:100:1::1 && break; sleep 0.1
done
ip -n v6lab-rtr -6 addr show dev lan0 scope global || true
ip -n v6lab-rtr -6 route show type unreachable || true
has "$(ip -n v6lab-rtr -6 addr show dev lan0)" 2001:db8:100:1::1 || { echo "(no delegation; Kea said:)"; tail -5 "$RUN/kea.log"; }

echo "== the host autoconfigures from our RA (its own kernel is the client)"
for _ in $(seq 100); do
    has "$(ip -n v6lab-host -6 addr show dev eth0 scope global)" 2001:db8:100:1: && break; sleep 0.1
done
ip -n v6lab-host -6 addr show dev eth0 scope global || true
# Its default route comes once ours does (RFC 7084 G-4: router lifetime 0
# until the ISP's RA, which our WAN solicits at start).
for _ in $(seq 100); do
    has "$(ip -n v6lab-host -6 route show default)" via && break; sleep 0.1
done
ip -n v6lab-host -6 route show default || true

echo "== the host asks DHCPv6 for an address (dhclient -6)"
ip netns exec v6lab-host timeout 15 dhclient -6 -v -1 -sf /bin/true \
    -lf "$RUN/dhclient.leases" -pf "$RUN/dhclient.pid" eth0 2>&1 | grep -E "Reply|Bound|iaaddr|address" || echo "(no DHCPv6 reply)"
[ -s "$RUN/dhclient.pid" ] && PIDS+=("$(cat "$RUN/dhclient.pid")")
grep -E "iaaddr" "$RUN/dhclient.leases" 2>/dev/null || true

echo "== the cascaded router gets a /60 from us over DHCPv6-PD (our own PD client against our own server)"
for _ in $(seq 150); do
    has "$(ip -n v6lab-rtr2 -6 addr show dev lan0 scope global)" 2001:db8:100: && break; sleep 0.1
done
$V6CTL2 show uplink || true
echo "-- its LAN address:"; ip -n v6lab-rtr2 -6 addr show dev lan0 scope global || true
echo "-- our kernel routes the /60 via its link-local address:"
ip -n v6lab-rtr -6 route show proto 201 | grep -v unreachable || true
for _ in $(seq 100); do
    has "$(ip -n v6lab-host2 -6 addr show dev eth0 scope global)" 2001:db8:100: && break; sleep 0.1
done
echo "-- the host behind it autoconfigures:"; ip -n v6lab-host2 -6 addr show dev eth0 scope global || true

echo "== RIPng with BIRD upstream (waiting for an update)"
for _ in $(seq 80); do
    has "$(ip -n v6lab-up -6 route show 2001:db8:100:1::/64)" 2001:db8 && has "$(ip -n v6lab-rtr -6 route show proto rip)" bb && break; sleep 0.25
done
echo "-- upstream's kernel (via BIRD):"; ip -n v6lab-up -6 route show 2001:db8:100:1::/64 || true
echo "-- our kernel (proto rip):"; ip -n v6lab-rtr -6 route show proto rip || true
HOSTADDR=$(ip -n v6lab-host -6 -o addr show dev eth0 scope global | awk '{print $4}' | cut -d/ -f1 | grep '^2001:db8:100:1:' | head -1 || true)
if [ -n "$HOSTADDR" ]; then
    echo "-- upstream pings the LAN host ($HOSTADDR):"
    ip netns exec v6lab-up ping -6 -c 2 -W 2 -I 2001:db8:bb::1 "$HOSTADDR" | tail -2 || true
fi

HOST2ADDR=$(ip -n v6lab-host2 -6 -o addr show dev eth0 scope global | awk '{print $4}' | cut -d/ -f1 | grep '^2001:db8:100:' | head -1 || true)
if [ -n "$HOST2ADDR" ]; then
    for _ in $(seq 80); do
        has "$(ip -n v6lab-up -6 route show proto bird)" "/60" && break; sleep 0.25
    done
    echo "-- upstream's kernel has the delegated /60 (via BIRD):"; ip -n v6lab-up -6 route show proto bird | grep /60 || true
    echo "-- upstream pings the host behind the cascaded router ($HOST2ADDR):"
    ip netns exec v6lab-up ping -6 -c 2 -W 2 -I 2001:db8:bb::1 "$HOST2ADDR" | tail -2 || true
fi

HOST_OK=$(ip netns exec v6lab-host ping -6 -c 1 -W 2 2001:db8:ff::1 >/dev/null 2>&1 && echo yes || echo no)
echo "== the host pings the ISP's router 2001:db8:ff::1: $HOST_OK"

for cmd in "show status" "show uplink" "show interfaces" "show ra" "show leases" "show route" "show rip neighbors" "show protocols"; do
    echo "== v6ctl $cmd"
    $V6CTL $cmd || true
done

if [ "$KEEP" = "--keep" ]; then
    echo "== lab is up; v6ctl: $V6CTL ...; log: $RUN/v6routerd.log; Ctrl-C to stop"
    # sleep in the background and wait: a signal to this script then runs
    # the clean-up at once instead of after the sleep.
    while :; do sleep 3600 & wait $!; done
fi
