#!/bin/sh
# One boot of the power-cut harness (tests/faults/power-cut.sh), run as
# `init` inside User-Mode Linux. The DHCPv6 server's state lives on the UML
# block device /dev/ubda (ext4): when the host kills this UML process, the
# guest's page cache dies with it, as at a power cut, and only what reached
# the block device survives.
#
# Each boot:
#   1. starts the server (SERVER=v6routerd or kea) on the state it finds,
#   2. writes what that server holds to $WORK/listed-$BOOT.txt (one address
#      or prefix per line; for v6routerd also "duid ...", "ula ..." (lan0's
#      address in the ULA /48) and empty or torn state files), syncs, and
#      prints LISTED on the console,
#   3. unless MODE=list, starts perfdhcp (Solicit/Advertise/Request/Reply
#      for an address and a prefix, RATE exchanges/s) and tcpdump, which
#      prints every Reply the server sends on the console (con1: a file on
#      the host that outlives the guest), prints LOAD, and waits to be cut.
#
# Kernel command line words (UML hands KEY=VALUE to init's environment):
#   SERVER, MODE, BOOT, RATE, WORK, V6ROUTERD, V6CTL
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
W="$WORK"
say() { echo "$*" >/dev/tty1; }
finish() {
    sync
    halt -f
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /run # not /tmp: WORK is there, on the host
M=/usr/lib/uml/modules/$(ls /usr/lib/uml/modules | head -n 1)/kernel
for m in lib/crc-ccitt.ko net/ipv6/ipv6.ko drivers/net/veth.ko; do
    insmod "$M/$m" 2>>"$W/insmod-$BOOT.log"
done
S=/run/state
mkdir -p "$S"
if ! mount -t ext4 /dev/ubda "$S"; then
    say "FAIL cannot mount the state disk"
    finish
fi

ip link set lo up
ip netns add cli
ip -n cli link set lo up
for ns in "" "ip netns exec cli"; do
    $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip link add lan0 type veth peer name eth0
# The uplink's WAN: up, with nobody behind it.
ip link add wan0 type veth peer name wanpeer
ip link set wan0 up
ip link set wanpeer up
ip link set eth0 netns cli
ip addr add 2001:db8:1::1/64 dev lan0
ip link set lan0 up
ip -n cli link set eth0 up

start_v6routerd() {
    cat >"$W/v6router.toml" <<EOF
[router]
state_dir = "$S/v6router"
ula = "auto"
[control]
socket = "/run/v6routerd.sock"
[[interface]]
name = "wan0"
[interface.uplink]
prefix_length = 56
[[interface]]
name = "lan0"
assign = { from = "wan0", length = 64, subnet = "auto" }
[interface.ra]
managed = true
[interface.dhcpv6]
pool = "2001:db8:1::1:0-2001:db8:1::ffff:ffff"
pd_pool = { prefix = "2001:db8:8000::/33", delegated_length = 60 }
preferred_lifetime = 3600
valid_lifetime = 7200
EOF
    "$V6ROUTERD" -c "$W/v6router.toml" >>"$W/server-$BOOT.log" 2>&1 &
    i=0
    until "$V6CTL" -s /run/v6routerd.sock show dhcpv6 2>/dev/null | grep -q 'lan0 ('; do
        i=$((i + 1))
        [ $i -gt 100 ] && { say "FAIL v6routerd did not start"; finish; }
        sleep 0.1
    done
    # The uplink service numbers lan0 from the ULA (no ISP here: wan0
    # never hears a server) with the /64 it chose for lan0.
    i=0
    until ula_of_lan0 | grep -q .; do
        i=$((i + 1))
        [ $i -gt 100 ] && { say "FAIL lan0 got no ULA address"; finish; }
        sleep 0.1
    done
}

# lan0's address in the ULA /48 (the state files "ula" and "assign.json"
# decide it: the /48 is random, made once).
ula_of_lan0() {
    ip -6 -o addr show dev lan0 | awk '$4 ~ /^fd/ { print $4 }'
}

list_v6routerd() {
    "$V6CTL" -s /run/v6routerd.sock --json show leases |
        grep -o '"lease": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'
    "$V6CTL" -s /run/v6routerd.sock --json show dhcpv6 |
        grep -o '"server_duid": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/duid \1/'
    ula_of_lan0 | sed 's/^/ula /'
    # Every state file whole: a torn one would have been logged and set aside.
    find "$S/v6router" -type f -size 0 | sed 's/^/empty /'
    grep -i 'torn\|corrupt\|cannot read\|ignoring\|unreadable' "$W/server-$BOOT.log" | sed 's/^/log /'
}

start_kea() {
    mkdir -p /run/kea
    cat >"$W/kea.json" <<EOF
{ "Dhcp6": {
  "interfaces-config": { "interfaces": [ "lan0" ] },
  "lease-database": { "type": "memfile", "persist": true,
                      "name": "$S/kea-leases6.csv", "lfc-interval": 0 },
  "preferred-lifetime": 3600, "valid-lifetime": 7200,
  "subnet6": [ { "id": 1, "subnet": "2001:db8:1::/64", "interface": "lan0",
    "pools": [ { "pool": "2001:db8:1::1:0 - 2001:db8:1::ffff:ffff" } ],
    "pd-pools": [ { "prefix": "2001:db8:8000::", "prefix-len": 33, "delegated-len": 60 } ] } ],
  "loggers": [ { "name": "kea-dhcp6", "severity": "WARN",
                 "output_options": [ { "output": "stdout" } ] } ] } }
EOF
    KEA_PIDFILE_DIR=/run/kea KEA_LOCKFILE_DIR=/run/kea \
        kea-dhcp6 -c "$W/kea.json" >>"$W/server-$BOOT.log" 2>&1 &
    sleep 2
}

list_kea() {
    # What Kea loads at start: the memfile's rows (address, duid,
    # valid_lifetime, expire, subnet_id, pref_lifetime, lease_type, iaid,
    # prefix_len, ...; lease_type 2 is a prefix); a torn last row is not a
    # lease.
    [ -f "$S/kea-leases6.csv" ] &&
        awk -F, 'NR > 1 && NF >= 9 { if ($7 == 2) print $1 "/" $9; else print $1 }' \
            "$S/kea-leases6.csv" | sort -u
}

if [ "$SERVER" = kea ]; then
    start_kea
    list_kea >"$W/listed-$BOOT.txt"
else
    start_v6routerd
    list_v6routerd >"$W/listed-$BOOT.txt"
fi
sync
say LISTED
[ "$MODE" = list ] && finish

# Replies as the server sent them; -l: a line as soon as it is seen.
tcpdump -l -n -v -i lan0 'udp and src port 547' 2>/dev/null |
    grep --line-buffered 'dhcp6 reply' >/dev/tty1 &
sleep 1
ip netns exec cli perfdhcp -6 -l eth0 -e address-and-prefix -r "$RATE" -R 1000000 \
    >"$W/perfdhcp-$BOOT.log" 2>&1 &
say LOAD
# What the server counted, each second (read after the cut, for a cut with
# no Reply).
while :; do
    sleep 1
    [ "$SERVER" = v6routerd ] && "$V6CTL" -s /run/v6routerd.sock show dhcpv6 >"$W/stats-$BOOT.txt" 2>&1
    sync
done
