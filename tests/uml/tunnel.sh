#!/bin/sh
# The 6in4 (SIT) end-to-end test. It runs as `init` inside User-Mode Linux,
# because the host kernel has no sit driver (see shared RECIPES.md); the
# guest sees the host's files, so the host-built v6routerd runs as it is.
#
# Started by crates/v6routerd/tests/tunnel_e2e.rs, which passes on the kernel
# command line (UML hands unknown KEY=VALUE words to init as environment):
#   V6ROUTERD, V6CTL  the binaries under test
#   WORK              an empty directory for configs, logs and outputs
#   RESULT            the result file: "PASS name detail" / "FAIL name detail"
#                     lines, then "DONE" (UML's exit status does not come back)
#
# Two namespaces joined by an IPv4 veth, v6routerd in each with a tunnel to
# the other, configured only through v6router.toml:
#   a: wan0 192.0.2.1/24, he6 local auto (from wan0), 2001:db8:f::1/64, default route
#   b: wan0 192.0.2.2/24, he6 local 192.0.2.2, 2001:db8:f::2/64, route 2001:db8:aa::/48,
#      keep_on_stop
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
R="$RESULT"
W="$WORK"
: >"$R"
pass() { echo "PASS $*" >>"$R"; }
fail() { echo "FAIL $*" >>"$R"; }
finish() {
    echo DONE >>"$R"
    sync
    halt -f
}
# Milliseconds since boot.
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /run # else `ip netns add` leaves files in the host's /run
M=/usr/lib/uml/modules/$(ls /usr/lib/uml/modules | head -n 1)/kernel
for m in lib/crc-ccitt.ko net/ipv6/ipv6.ko net/ipv4/tunnel4.ko \
    net/ipv4/ip_tunnel.ko net/ipv6/sit.ko drivers/net/veth.ko; do
    insmod "$M/$m" 2>>"$W/insmod.log"
done
ip link set lo up
# The sit module makes its fallback device sit0 in every namespace.
if ! ip link show sit0 >/dev/null 2>&1; then
    fail setup "no sit driver in the guest: $(cat "$W/insmod.log")"
    finish
fi

for n in a b c; do
    ip netns add "$n"
    ip -n "$n" link set lo up
done
ip link add va type veth peer name vb
ip link set va netns a
ip link set vb netns b
ip -n a link set va name wan0
ip -n b link set vb name wan0
ip -n a addr add 192.0.2.1/24 dev wan0
ip -n b addr add 192.0.2.2/24 dev wan0
ip -n a link set wan0 up
ip -n b link set wan0 up

cat >"$W/a.toml" <<EOF
[router]
state_dir = "$W/a-state"
[control]
socket = "/run/v6t-a.sock"
[log]
level = "info"

[[tunnel]]
name = "he6"
remote = "192.0.2.2"
local = "auto"
wan = "wan0"
address = "2001:db8:f::1/64"
default_route = true
update_command = 'echo "\$V6_TUNNEL \$V6_LOCAL [\$V6_PREVIOUS_LOCAL] \$V6_REMOTE" >>$W/update-a.txt; echo "good \$V6_LOCAL"'
EOF
cat >"$W/b.toml" <<EOF
[router]
state_dir = "$W/b-state"
[control]
socket = "/run/v6t-b.sock"
[log]
level = "info"

[[tunnel]]
name = "he6"
remote = "192.0.2.1"
local = "192.0.2.2"
address = "2001:db8:f::2/64"
routes = ["2001:db8:aa::/48"]
keep_on_stop = true
update_command = 'echo badauth; exit 1'
EOF

ip netns exec a "$V6ROUTERD" -c "$W/a.toml" >"$W/a.log" 2>&1 &
PA=$!
ip netns exec b "$V6ROUTERD" -c "$W/b.toml" >"$W/b.log" 2>&1 &
PB=$!

# ready NS ADDR: he6 exists, is up, and carries ADDR.
ready() {
    ip -n "$1" link show he6 2>/dev/null | head -n 1 | grep -q '[<,]UP[,>]' &&
        ip -n "$1" -6 addr show dev he6 2>/dev/null | grep -q "inet6 $2/64"
}
# wait_ready NS ADDR MAX_MS: prints the milliseconds it took, or fails.
wait_ready() {
    t0=$(now_ms)
    while :; do
        if ready "$1" "$2"; then
            echo $(($(now_ms) - t0))
            return 0
        fi
        if [ $(($(now_ms) - t0)) -gt "$3" ]; then
            return 1
        fi
        sleep 0.01
    done
}

# 1. The tunnels come up from the configuration alone (the generous bound
#    covers the first start of a debug binary paged in through hostfs).
if ta=$(wait_ready a 2001:db8:f::1 20000) && tb=$(wait_ready b 2001:db8:f::2 20000); then
    pass up_from_config "a after ${ta} ms, b after ${tb} ms"
else
    fail up_from_config "a: $(ip -n a -d link show he6 2>&1) b: $(ip -n b -d link show he6 2>&1)"
    tail -n 20 "$W/a.log" "$W/b.log" >>"$R"
    kill "$PA" "$PB"
    finish
fi
ip -n a -d link show he6 >"$W/a-link.txt"

# wait_line FILE LINE MAX_MS: FILE has LINE (a whole line) within MAX_MS.
wait_line() {
    t0=$(now_ms)
    until grep -qxF "$2" "$1" 2>/dev/null; do
        [ $(($(now_ms) - t0)) -gt "$3" ] && return 1
        sleep 0.01
    done
}
# 1b. The broker is told the local address once the tunnel is up (a's
#     update_command appends its environment to a file and says "good");
#     b's command fails, which `show tunnels` says, with the next try.
if wait_line "$W/update-a.txt" "he6 192.0.2.1 [] 192.0.2.2" 3000; then
    pass broker_told_at_start "$(cat "$W/update-a.txt")"
else
    fail broker_told_at_start "$(cat "$W/update-a.txt" 2>&1) | $(grep -i broker "$W/a.log")"
fi
sleep 0.5
ip netns exec b "$V6CTL" -s /run/v6t-b.sock show tunnels >"$W/show-b-broker.txt" 2>&1
if grep -q '^  Broker:    telling 192.0.2.2 failed at .*: exit status: 1: badauth; next try in [0-9]* s$' "$W/show-b-broker.txt" &&
    grep -q 'update_command for 192.0.2.2 failed: exit status: 1: badauth' "$W/b.log"; then
    pass broker_failure_shown "$(grep Broker "$W/show-b-broker.txt")"
else
    fail broker_failure_shown "$(cat "$W/show-b-broker.txt") | $(grep -i broker "$W/b.log")"
fi
ip -n b -d link show he6 >"$W/b-link.txt"
ip -n a -6 route show dev he6 >"$W/a-routes.txt"
ip -n b -6 route show dev he6 >"$W/b-routes.txt"

# 2. The link is what `ip tunnel add he6 mode sit remote .. local .. ttl 255`
#    makes: compare `ip -d link show` of ours with one made that way in a
#    third namespace (the first line holds index and up/down flags, and ours
#    carries the owner alias: both are left out; the MTU is compared).
ip -n c tunnel add he6 mode sit remote 192.0.2.2 local 192.0.2.1 ttl 255
ip -n c -d link show he6 >"$W/c-link.txt"
details() { tail -n +2 "$1" | grep -v '^ *alias ' | sed 's/^ *//'; }
mtu() { head -n 1 "$1" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
details "$W/a-link.txt" >"$W/a-details.txt"
details "$W/c-link.txt" >"$W/c-details.txt"
if cmp -s "$W/a-details.txt" "$W/c-details.txt" && [ "$(mtu "$W/a-link.txt")" = "$(mtu "$W/c-link.txt")" ] &&
    grep -q 'sit ip6ip remote 192.0.2.2 local 192.0.2.1 ttl 255' "$W/a-details.txt"; then
    pass same_as_ip_tunnel_add "mtu $(mtu "$W/a-link.txt"): $(grep -o 'sit ip6ip[^6]*' "$W/a-details.txt")"
else
    fail same_as_ip_tunnel_add "ours: $(cat "$W/a-link.txt") | ip tunnel add: $(cat "$W/c-link.txt")"
fi
if grep -q '^ *alias v6routerd' "$W/a-link.txt"; then
    pass owner_tag "alias v6routerd on the link"
else
    fail owner_tag "$(cat "$W/a-link.txt")"
fi

# 3. Routes with our protocol id (201).
if grep -q '^default .*proto 201 .*metric 1024' "$W/a-routes.txt" &&
    grep -q '^2001:db8:aa::/48 .*proto 201 .*metric 1024' "$W/b-routes.txt"; then
    pass routes "a: $(grep default "$W/a-routes.txt"); b: $(grep aa:: "$W/b-routes.txt")"
else
    fail routes "a: $(cat "$W/a-routes.txt") b: $(cat "$W/b-routes.txt")"
fi

# 4. IPv6 across the tunnel.
if ip netns exec a ping -6 -c 3 -i 0.2 -W 2 2001:db8:f::2 >"$W/ping.txt" 2>&1; then
    pass ping6 "$(grep -E 'packets transmitted' "$W/ping.txt")"
else
    fail ping6 "$(cat "$W/ping.txt")"
fi

# 5. v6ctl show tunnels.
ip netns exec a "$V6CTL" -s /run/v6t-a.sock show tunnels >"$W/show-a.txt" 2>&1
if grep -q '^he6 .*up .*192.0.2.1 .*192.0.2.2 .*255 .*1480 .*created (not present)' "$W/show-a.txt" &&
    grep -q 'Addresses: 2001:db8:f::1/64' "$W/show-a.txt" &&
    grep -q 'Routes: .*::/0 metric 1024 proto v6router' "$W/show-a.txt"; then
    pass show_tunnels "$(head -n 2 "$W/show-a.txt" | tail -n 1)"
else
    fail show_tunnels "$(cat "$W/show-a.txt")"
fi

# The kernel's own record of events, with timestamps, for measuring how fast
# v6routerd repairs: `ip -ts monitor` lines start "[2026-11-24T22:21:22.284016]".
# elapsed FILE START END: milliseconds from the first line matching START to
# the first later line matching END (-1 if either is missing).
elapsed() {
    awk -v s="$2" -v e="$3" '
        function t(line,  a) { split(substr(line, 13, 15), a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
        !t0 && $0 ~ s { t0 = t($0); next }
        t0 && $0 ~ e { printf "%d\n", (t($0) - t0) * 1000; found = 1; exit }
        END { if (!found) print -1 }' "$1"
}
# monitor FILE: record ns a's events into FILE until `kill $MON`.
monitor() {
    ip -n a -ts monitor link address route >"$1" 2>&1 &
    MON=$!
    sleep 0.5
}
ROUTE_BACK='^\[[^]]*\] default dev he6 proto 201'

ip netns exec a "$V6CTL" -s /run/v6t-a.sock show protocols >"$W/protocols-a.txt" 2>&1
if grep -q '^tunnel .*SIT .*up .*1 of 1 tunnels up' "$W/protocols-a.txt"; then
    pass show_protocols "$(grep '^tunnel' "$W/protocols-a.txt")"
else
    fail show_protocols "$(cat "$W/protocols-a.txt")"
fi

# 6. Deleted from outside: back within a second, with address and route.
monitor "$W/monitor-del.txt"
ip -n a link del he6
if wait_ready a 2001:db8:f::1 5000 >/dev/null && ip -n a -6 route show dev he6 | grep -q '^default'; then
    sleep 0.3
    kill "$MON"
    # From the first event of the deletion (`ip link del` first takes the
    # link down, then unregisters it; v6routerd may start re-making it before
    # the RTM_DELLINK is even sent) to our default route being back.
    ms=$(elapsed "$W/monitor-del.txt" '[0-9]+: he6@' "$ROUTE_BACK")
    if [ "$ms" -ge 0 ] && [ "$ms" -le 1000 ]; then
        pass restored_after_delete "link, address and default route back ${ms} ms after the deletion began"
    else
        fail restored_after_delete "took ${ms} ms (more than 1000, or events missing): $(cat "$W/monitor-del.txt")"
    fi
else
    fail restored_after_delete "not back after 5 s: $(ip -n a -d link show 2>&1)"
    kill "$MON"
fi
if ip netns exec a ping -6 -c 1 -W 2 2001:db8:f::2 >/dev/null 2>&1; then
    pass ping6_after_restore "ok"
else
    fail ping6_after_restore "no reply"
fi

# 7. Brought down from outside (IPv6 then drops the address and routes):
#    up again, with address and route, within a second.
monitor "$W/monitor-down.txt"
ip -n a link set he6 down
if wait_ready a 2001:db8:f::1 5000 >/dev/null; then
    sleep 0.3
    kill "$MON"
    ms=$(elapsed "$W/monitor-down.txt" 'he6@NONE: <POINTOPOINT,NOARP> .*state DOWN' "$ROUTE_BACK")
    if [ "$ms" -ge 0 ] && [ "$ms" -le 1000 ]; then
        pass restored_after_down "up, address and default route back ${ms} ms after the link went down"
    else
        fail restored_after_down "took ${ms} ms (more than 1000, or events missing)"
    fi
else
    fail restored_after_down "still down after 5 s"
    kill "$MON"
fi

# 8. The ISP changes the WAN address: the tunnel follows (local = "auto").
ip -n a addr del 192.0.2.1/24 dev wan0
ip -n a addr add 192.0.2.11/24 dev wan0
t0=$(now_ms)
ok=
while [ $(($(now_ms) - t0)) -lt 5000 ]; do
    if ip -n a -d link show he6 2>/dev/null | grep -q 'local 192.0.2.11 ' && ready a 2001:db8:f::1; then
        ok=1
        break
    fi
    sleep 0.01
done
ms=$(($(now_ms) - t0))
ip netns exec a "$V6CTL" -s /run/v6t-a.sock show tunnels >"$W/show-a-2.txt" 2>&1
if [ -n "$ok" ] && grep -q 're-created (local is 192.0.2.1, want 192.0.2.11 (the address of wan0))' "$W/show-a-2.txt"; then
    pass wan_address_followed "local 192.0.2.11 after ${ms} ms"
    if wait_line "$W/update-a.txt" "he6 192.0.2.11 [192.0.2.1] 192.0.2.2" 3000; then
        sleep 0.2
        ip netns exec a "$V6CTL" -s /run/v6t-a.sock show tunnels >"$W/show-a-broker.txt" 2>&1
        if grep -q '^  Broker:    told 192.0.2.11 at .* (good 192.0.2.11)$' "$W/show-a-broker.txt"; then
            pass broker_told_new_address "$(tail -n 1 "$W/update-a.txt")"
        else
            fail broker_told_new_address "$(cat "$W/show-a-broker.txt")"
        fi
    else
        fail broker_told_new_address "$(cat "$W/update-a.txt" 2>&1) | $(grep -i broker "$W/a.log")"
    fi
else
    fail wan_address_followed "$(ip -n a -d link show he6 2>&1) | $(cat "$W/show-a-2.txt")"
fi

# 9. Reload (SIGHUP) with a new MTU and one more route: the MTU is changed
#    in place (same ifindex, no re-create) and the route added.
idx_before=$(ip -n a -o link show he6 | cut -d: -f1)
sed -e 's/^default_route = true$/default_route = true\nmtu = 1280\nroutes = ["2001:db8:bb::\/48"]/' "$W/a.toml" >"$W/a2.toml"
cp "$W/a2.toml" "$W/a.toml"
kill -HUP "$PA"
t0=$(now_ms)
ok=
while [ $(($(now_ms) - t0)) -lt 5000 ]; do
    if ip -n a link show he6 2>/dev/null | grep -q ' mtu 1280 ' &&
        ip -n a -6 route show dev he6 | grep -q '^2001:db8:bb::/48 proto 201'; then
        ok=1
        break
    fi
    sleep 0.05
done
idx_after=$(ip -n a -o link show he6 | cut -d: -f1)
ip netns exec a "$V6CTL" -s /run/v6t-a.sock show tunnels >"$W/show-a-3.txt" 2>&1
if [ -n "$ok" ] && [ "$idx_before" = "$idx_after" ] && grep -q 'mtu 1480 -> 1280' "$W/show-a-3.txt"; then
    pass reload "mtu 1280 in place (ifindex $idx_after kept), route 2001:db8:bb::/48 added"
else
    fail reload "ifindex $idx_before -> $idx_after; $(ip -n a link show he6); $(ip -n a -6 route show dev he6) | $(cat "$W/show-a-3.txt")"
fi

# 9b. b's update_command fixed by a reload (a corrected key, say): the new
#     command runs at once, not after the failed one's retry delay.
sed -e "s/^update_command = 'echo badauth; exit 1'$/update_command = 'echo \"nochg \$V6_LOCAL\"'/" "$W/b.toml" >"$W/b2.toml"
cp "$W/b2.toml" "$W/b.toml"
kill -HUP "$PB"
t0=$(now_ms)
ok=
while [ $(($(now_ms) - t0)) -lt 3000 ]; do
    ip netns exec b "$V6CTL" -s /run/v6t-b.sock show tunnels >"$W/show-b-broker2.txt" 2>&1
    if grep -q '^  Broker:    told 192.0.2.2 at .* (nochg 192.0.2.2)$' "$W/show-b-broker2.txt"; then
        ok=1
        break
    fi
    sleep 0.1
done
if [ -n "$ok" ]; then
    pass broker_command_reloaded "told after $(($(now_ms) - t0)) ms: $(grep Broker "$W/show-b-broker2.txt")"
else
    fail broker_command_reloaded "$(cat "$W/show-b-broker2.txt") | $(grep -i 'broker\|update_command' "$W/b.log")"
fi

# 10. A tunnel made by hand (the `ip tunnel add` one in c) with the wanted
#     parameters is adopted, not re-made; at stop only what v6routerd added
#     (address, route) is taken back and the link stays.
idx_before=$(ip -n c -o link show he6 | cut -d: -f1)
cat >"$W/c.toml" <<EOF
[router]
state_dir = "$W/c-state"
[control]
socket = "/run/v6t-c.sock"

[[tunnel]]
name = "he6"
remote = "192.0.2.2"
local = "192.0.2.1"
address = "2001:db8:f::9/64"
default_route = true
EOF
ip netns exec c "$V6ROUTERD" -c "$W/c.toml" >"$W/c.log" 2>&1 &
PC=$!
if wait_ready c 2001:db8:f::9 10000 >/dev/null && [ "$(ip -n c -o link show he6 | cut -d: -f1)" = "$idx_before" ] &&
    ! ip -n c -d link show he6 | grep -q alias; then
    pass adopted_hand_made "ifindex $idx_before kept, set up, address added, no owner alias"
else
    fail adopted_hand_made "before $idx_before: $(ip -n c -d link show he6) $(cat "$W/c.log")"
fi
kill -TERM "$PC"
t0=$(now_ms)
while [ $(($(now_ms) - t0)) -lt 5000 ] && kill -0 "$PC" 2>/dev/null; do sleep 0.05; done
if ip -n c link show he6 >/dev/null 2>&1 && ! ip -n c -6 addr show dev he6 | grep -q 2001:db8:f::9 &&
    ! ip -n c -6 route show dev he6 | grep -q 'proto 201'; then
    pass stop_leaves_adopted "link kept, our address and route removed"
else
    fail stop_leaves_adopted "$(ip -n c -d link show he6 2>&1); $(ip -n c -6 addr show dev he6 2>&1); $(ip -n c -6 route show dev he6 2>&1)"
fi

# 11. Stop: a removes its tunnel; b keeps its own (keep_on_stop).
kill -TERM "$PA" "$PB"
t0=$(now_ms)
while [ $(($(now_ms) - t0)) -lt 5000 ] && { kill -0 "$PA" 2>/dev/null || kill -0 "$PB" 2>/dev/null; }; do
    sleep 0.05
done
if kill -0 "$PA" 2>/dev/null || kill -0 "$PB" 2>/dev/null; then
    fail stop "v6routerd did not exit within 5 s of SIGTERM"
    kill -KILL "$PA" "$PB" 2>/dev/null
fi
if ip -n a link show he6 >/dev/null 2>&1; then
    fail removed_on_stop "he6 still in a: $(ip -n a -d link show he6)"
else
    pass removed_on_stop "he6 gone from a after $(($(now_ms) - t0)) ms"
fi
if ready b 2001:db8:f::2; then
    pass kept_on_stop "he6 still up in b"
else
    fail kept_on_stop "$(ip -n b -d link show he6 2>&1)"
fi
finish
