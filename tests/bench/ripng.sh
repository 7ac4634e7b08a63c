#!/bin/sh
# RIPng benchmark: BIRD 2 originates N routes (default 10,000) over RIPng to
# a receiver in another namespace; the receiver is BIRD (reference) or
# v6routerd, in the same run. Then v6routerd originates N routes to a BIRD
# receiver (is our sending paced well enough for BIRD's socket?).
#
# Measured per pair:
#   (a) seconds from the first Response on the receiver's link until all N
#       routes are in the receiver's kernel table, when both start together
#       and when the receiver restarts while the sender keeps running;
#   (b) CPU seconds per 30 s update cycle while holding the table, sender
#       and receiver, over CPU_WINDOW seconds (default 60): from a cpuacct
#       cgroup per daemon (nanoseconds, every thread, also those that
#       ended), else utime+stime (10 ms ticks: too coarse for 10,000
#       routes, where a cycle costs a few ms); the header says which;
#   (c) RSS of sender and receiver holding the table (and its anonymous
#       part: the rest is mapped files, mostly the binary and libc);
#   plus Udp6RcvbufErrors of the receiver's namespace (datagrams the
#   receiver's socket had no room for), the sender's spread (first to last
#   Response before all N were in: no receiver can be faster), and the
#   kernel's floor (`ip -batch` of N route adds in the receiver's
#   namespace, timed in the same run).
# Prints the figures and the ratios v6routerd/BIRD, also against a BIRD
# receiver that holds all N (fed by v6routerd): BIRD -> BIRD loses most of
# a large table. Not a timed test.
#
# usage: tests/bench/ripng.sh [N]        (root; bird2, tcpdump installed)
#   PROFILE=release|bench-release (default bench-release): which build of
#   v6routerd to run. `release` is what users run (opt-level "z", LTO,
#   stripped: `cargo build --release -p v6routerd`); `bench-release` keeps
#   opt-level 3 and symbols for perf (`cargo build --profile bench-release
#   -p v6routerd`). RSS counts the binary's resident pages, so compare
#   RSS on `release`. The header names the profile and the binary's size.
#   BIN_DIR=dir with v6routerd (default: $CARGO_TARGET_DIR or target, then
#   the profile's directory)
#   CPU_WINDOW=seconds (default 60)   LIMIT=seconds to wait for all N (45)
#   PERF=1: perf record the receiver while holding the table (PERF=s: the
#   sender) into perf.PAIR.data (KEEP=1 keeps it), PERF_FREQ samples/s (4000)
#   PAIRS="bb bv vb" (default): which of BIRD->BIRD, BIRD->v6routerd,
#   v6routerd->BIRD to run
set -eu

N=${1:-10000}
CPU_WINDOW=${CPU_WINDOW:-60}
LIMIT=${LIMIT:-45}
LOGLEVEL=${LOGLEVEL:-warn}
PAIRS=${PAIRS:-bb bv vb}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROFILE=${PROFILE:-bench-release}
case $PROFILE in
    release) build="cargo build --release -p v6routerd" ;;
    bench-release) build="cargo build --profile bench-release -p v6routerd" ;;
    *) echo "PROFILE must be release or bench-release" >&2; exit 2 ;;
esac
BIN_DIR=${BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE}
V6=$BIN_DIR/v6routerd
[ -x "$V6" ] || { echo "no $V6: $build" >&2; exit 2; }
if ! command -v bird >/dev/null || ! command -v tcpdump >/dev/null; then
    echo "needs bird2 and tcpdump" >&2; exit 2
fi
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }

# CPU accounting: a cpuacct (cgroup v1) group per daemon when we can make
# one, else the process's clock ticks.
CG_ROOT=/sys/fs/cgroup/cpuacct
CPU_SRC=ticks
if [ -w "$CG_ROOT" ] && mkdir "$CG_ROOT/v6t-rb$$-probe" 2>/dev/null; then
    rmdir "$CG_ROOT/v6t-rb$$-probe"; CPU_SRC=cgroup
fi
W=$(mktemp -d /tmp/v6t-ripbench.XXXXXX)
S=v6t-rb$$-s
R=v6t-rb$$-r
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
    ip netns del $S 2>/dev/null || true
    ip netns del $R 2>/dev/null || true
    for d in "$CG_ROOT"/"v6t-rb$$"-*; do
        if [ -d "$d" ]; then rmdir "$d" 2>/dev/null || true; fi
    done
    if [ -n "${KEEP:-}" ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT INT TERM

ip netns add $S; ip netns add $R
ip link add v6trb$$a type veth peer name v6trb$$b
ip link set v6trb$$a netns $S; ip link set v6trb$$b netns $R
for ns in $S $R; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n "$ns" link set lo up
done
ip -n $S link set v6trb$$a name eth0; ip -n $R link set v6trb$$b name eth0
ip -n $S link set eth0 up; ip -n $R link set eth0 up
sleep 1

# N distinct /64s inside fd00::/8 (documentation-safe ULA space).
route_i() { printf 'fd00:1:%x:%x::/64' $(($1 / 65536)) $(($1 % 65536)); }
i=0; : > "$W/statics"; : > "$W/ipbatch"
while [ $i -lt "$N" ]; do
    r=$(route_i $i)
    echo "  route $r unreachable;" >> "$W/statics"
    echo "route add unreachable $r proto static" >> "$W/ipbatch"
    i=$((i + 1))
done

bird_conf() { # $1 = file, $2 = 1 for the sender (with statics)
    {
        echo "router id 10.0.0.$(( $2 + 1 ));"
        echo "protocol device { }"
        echo "protocol kernel { ipv6 { export all; import none; }; }"
        if [ "$2" = 1 ]; then echo "protocol static { ipv6;"; cat "$W/statics"; echo "}"; fi
        echo "protocol rip ng { ipv6 { import all; export all; }; interface \"eth0\" { mode multicast; }; }"
    } > "$1"
}
bird_conf "$W/s.conf" 1
bird_conf "$W/r.conf" 0

v6_conf() { # $1 = file, $2 = name
    cat > "$1" <<EOF
[router]
state_dir = "$W/$2-state"
[control]
socket = "$W/$2.sock"
[log]
level = "$LOGLEVEL"
[ripng]
interfaces = ["eth0"]
[ripng.export]
kernel = true
EOF
}
v6_conf "$W/vs.toml" vs
v6_conf "$W/vr.toml" vr

# Put pid $1 (all its threads, and those it makes later) in a cpuacct
# group of its own. `ip netns exec` execs the daemon: same pid.
cg_track() {
    [ "$CPU_SRC" = cgroup ] || return 0
    mkdir "$CG_ROOT/v6t-rb$$-$1" && echo "$1" > "$CG_ROOT/v6t-rb$$-$1/cgroup.procs"
}
start_bird() { # ns name conf -> pid in $LASTPID
    ip netns exec "$1" bird -f -c "$3" -s "$W/$2.ctl" >> "$W/$2.log" 2>&1 &
    LASTPID=$!; PIDS="$PIDS $LASTPID"; cg_track $LASTPID
}
start_v6() { # ns name conf
    ip netns exec "$1" "$V6" -c "$3" >> "$W/$2.log" 2>&1 &
    LASTPID=$!; PIDS="$PIDS $LASTPID"; cg_track $LASTPID
}
stop_pid() {
    kill "$1" 2>/dev/null || true
    n=0; while kill -0 "$1" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
count() { # ns proto
    ip -n "$1" -6 route show proto "$2" | grep -c '^\(unreachable \)\?fd00:1:' || true
}
first_response() { # capture the Responses (command 2) arriving on $R's eth0
    rm -f "$W/first" "$W/first.err"
    ip netns exec $R tcpdump -Q in -i eth0 -n -q -tt -l -B 16384 'udp dst port 521 and ip6[48] = 2' \
        > "$W/first" 2> "$W/first.err" &
    TCPD=$!
    n=0; until grep -q "listening on" "$W/first.err" 2>/dev/null || [ $n -ge 100 ]; do sleep 0.05; n=$((n + 1)); done
}
# shellcheck disable=SC2016 # awk fields, not shell expansions
udp_errs() { ip netns exec "$1" awk '$1 == "Udp6RcvbufErrors" { print $2 }' /proc/net/snmp6; }
# shellcheck disable=SC2016
udp_out() { ip netns exec "$1" awk '$1 == "Udp6OutDatagrams" { print $2 }' /proc/net/snmp6; }
mono() { awk '{ print $1 }' /proc/uptime; }
# Routes in ns $1's IPv6 FIB (fib_rt_entries of /proc/net/rt6_stats): O(1)
# to read, unlike a dump of 50,000 routes (0.5 s of CPU each time, which
# would both compete with the receiver and make the poll that coarse).
fib_entries() { h=$(ip netns exec "$1" cut -d' ' -f4 /proc/net/rt6_stats); echo $((0x$h)); }
# Wait until ns $1 has N routes of proto $2; prints "SECONDS COUNT SPREAD"
# from the first Response (or the count reached when LIMIT passed); SPREAD
# is how long the sender took: from the first to the last Response that
# arrived before all N were in (the floor for any receiver). Times are
# monotonic (/proc/uptime): tcpdump's wall-clock stamp of the first Response
# is converted with the wall-minus-monotonic offset read when it shows up,
# so a step of the wall clock during a run cannot spoil the figure.
time_to_all() {
    end=$(awk -v m="$(mono)" -v l="$LIMIT" 'BEGIN { print m + l }')
    c=0; t_first=""
    while awk -v m="$(mono)" -v e="$end" 'BEGIN { exit !(m < e) }'; do
        if [ -z "$t_first" ] && [ -s "$W/first" ]; then
            off=$(awk -v w="$(date +%s.%N)" -v m="$(mono)" 'BEGIN { printf "%.6f", w - m }')
            t_first=$(awk -v t="$(awk 'NR == 1 { print $1 }' "$W/first")" -v o="$off" 'BEGIN { printf "%.6f", t - o }')
        fi
        # Cheap test first; the real count (of the right protocol and
        # prefixes) confirms it.
        if [ $(($(fib_entries "$1") - FIB0)) -ge "$N" ]; then
            t_all=$(mono)
            c=$(count "$1" "$2")
            [ "$c" -ge "$N" ] && break
        fi
        sleep 0.02
    done
    [ "$c" -ge "$N" ] || { c=$(count "$1" "$2"); t_all=$(mono); }
    # tcpdump may print the first Response a little after the routes landed.
    n=0; while [ -z "$t_first" ] && [ ! -s "$W/first" ] && [ $n -lt 40 ]; do sleep 0.05; n=$((n + 1)); done
    if [ -z "$t_first" ] && [ -s "$W/first" ]; then
        off=$(awk -v w="$(date +%s.%N)" -v m="$(mono)" 'BEGIN { printf "%.6f", w - m }')
        t_first=$(awk -v t="$(awk 'NR == 1 { print $1 }' "$W/first")" -v o="$off" 'BEGIN { printf "%.6f", t - o }')
    fi
    kill $TCPD 2>/dev/null || true; wait $TCPD 2>/dev/null || true
    if [ -z "$t_first" ]; then echo "nan $c"; return; fi
    spread=$(awk -v last="$(awk -v o="$off" -v a="$t_all" 'NF > 4 && $1 - o <= a { l = $1 } END { print l }' "$W/first")" \
        -v first="$(awk 'NR == 1 { print $1 }' "$W/first")" 'BEGIN { printf "%.3f", last - first }')
    if [ "$c" -ge "$N" ]; then
        echo "$(awk -v a="$t_all" -v b="$t_first" 'BEGIN { printf "%.3f", a - b }') $c $spread"
    else
        echo "timeout $c $spread"
    fi
}
HZ=$(getconf CLK_TCK)
# CPU nanoseconds used so far by pid $1.
cpu_ns() {
    if [ "$CPU_SRC" = cgroup ]; then cat "$CG_ROOT/v6t-rb$$-$1/cpuacct.usage"
    else awk -v hz="$HZ" '{ printf "%.0f\n", ($14 + $15) * 1e9 / hz }' "/proc/$1/stat"; fi
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
anon_kb() { awk '/^RssAnon/ { print $2 }' "/proc/$1/status"; }
# CPU seconds per 30 s cycle of pids $1 and $2 over CPU_WINDOW.
cpu_per_cycle() {
    a1=$(cpu_ns "$1"); b1=$(cpu_ns "$2")
    o1=$(udp_out $S); p1=$(udp_out $R)
    if [ -n "${PERF:-}" ]; then # profile the receiver (or with PERF=s the sender) meanwhile
        pp=$2; [ "$PERF" = s ] && pp=$1
        perf record -q -g -F "${PERF_FREQ:-4000}" -p "$pp" -o "$W/perf.$label.data" -- sleep "$CPU_WINDOW" > /dev/null 2>&1
    else
        sleep "$CPU_WINDOW"
    fi
    a2=$(cpu_ns "$1"); b2=$(cpu_ns "$2")
    o2=$(udp_out $S); p2=$(udp_out $R)
    # What each side sent meanwhile (its regular updates, jittered, and
    # answers): the CPU figures move with it.
    awk -v a="$((o2 - o1))" -v b="$((p2 - p1))" -v w="$CPU_WINDOW" \
        'BEGIN { printf "%.0f %.0f\n", a * 30 / w, b * 30 / w }' > "$W/out.$label"
    awk -v a="$((a2 - a1))" -v b="$((b2 - b1))" -v w="$CPU_WINDOW" \
        'BEGIN { printf "%.4f %.4f\n", a / 1e9 * 30 / w, b / 1e9 * 30 / w }'
}

# Results go to files: put KEY VALUE (under the current label), get LABEL KEY.
put() { echo "$2" > "$W/res.$label.$1"; }
get() { cat "$W/res.$1.$2"; }
# One pair: $1 = label, $2 = sender kind (bird|v6), $3 = receiver kind.
run_pair() {
    label=$1 skind=$2 rkind=$3
    ip -n $R -6 route flush proto bird 2>/dev/null || true
    ip -n $R -6 route flush proto rip 2>/dev/null || true
    if [ "$skind" = v6 ]; then ip -n $S -batch "$W/ipbatch"; fi
    rproto=bird; [ "$rkind" = v6 ] && rproto=rip
    e0=$(udp_errs $R)
    # (a) both start together.
    FIB0=$(fib_entries $R)
    first_response
    if [ "$skind" = bird ]; then start_bird $S s "$W/s.conf"; else start_v6 $S vs "$W/vs.toml"; fi
    SPID=$LASTPID
    if [ "$rkind" = bird ]; then start_bird $R r "$W/r.conf"; else start_v6 $R vr "$W/vr.toml"; fi
    RPID=$LASTPID
    r=$(time_to_all "$R" "$rproto")
    # shellcheck disable=SC2086 # split into its three fields
    set -- $r
    put together "$1"; put together_n "$2"; put together_spread "${3:--}"
    # (b) CPU while holding the table, (c) RSS.
    r=$(cpu_per_cycle "$SPID" "$RPID")
    put cpu_s "${r% *}"; put cpu_r "${r#* }"
    read -r os or < "$W/out.$label"; put out_s "$os"; put out_r "$or"
    put rss_s "$(rss_kb "$SPID")"; put rss_r "$(rss_kb "$RPID")"
    put anon_s "$(anon_kb "$SPID")"; put anon_r "$(anon_kb "$RPID")"
    # (a') the receiver restarts; the sender keeps running. How long its
    # stop takes (SIGTERM to exit) and what it leaves in the kernel.
    t0=$(mono)
    stop_pid "$RPID"
    put stop_s "$(awk -v a="$(mono)" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')"
    put stop_left "$(count $R $rproto)"
    ip -n $R -6 route flush proto $rproto 2>/dev/null || true
    sleep 1
    FIB0=$(fib_entries $R)
    first_response
    if [ "$rkind" = bird ]; then start_bird $R r "$W/r.conf"; else start_v6 $R vr "$W/vr.toml"; fi
    RPID=$LASTPID
    r=$(time_to_all "$R" "$rproto")
    # shellcheck disable=SC2086 # split into its three fields
    set -- $r
    put restart "$1"; put restart_n "$2"; put restart_spread "${3:--}"
    put udperr "$(( $(udp_errs "$R") - e0 ))"
    stop_pid "$RPID"; stop_pid "$SPID"
    ip -n $S -6 route flush proto static 2>/dev/null || true
    ip -n $R -6 route flush proto $rproto 2>/dev/null || true
    sleep 1
}

echo "RIPng benchmark, N=$N routes, $(bird --version 2>&1 | head -1), v6routerd $("$V6" --version | awk '{print $2}')"
# What is measured: the profile (from BIN_DIR's name, checked against the
# binary: a stripped one has no .symtab) and the size of the binary.
if readelf -S "$V6" 2>/dev/null | grep -q '\.symtab'; then syms="with symbols"; else syms="stripped"; fi
echo "v6routerd: $V6, profile $PROFILE, $(stat -c %s "$V6") bytes, $syms; bird: $(command -v bird), $(stat -c %s "$(command -v bird)") bytes"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at start; CPU from $CPU_SRC over ${CPU_WINDOW} s"
# The kernel's own floor: N routes like the receiver's, added by `ip -batch`
# (one request per route, acknowledged) in the receiver's namespace, timed
# in the same run since the machine's load changes the figure.
kernel_floor() {
    awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "route add fd00:1:%x:%x::/64 via fe80::1 dev eth0 proto 250 metric 20\n", int(i / 65536), i % 65536 }' > "$W/floor"
    t0=$(mono)
    ip -n $R -batch "$W/floor"
    t1=$(mono)
    ip -n $R -6 route flush proto 250
    awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.3f", a - b }'
}
FLOOR=$(kernel_floor)
for p in $PAIRS; do
    case $p in
        bb) echo "running BIRD -> BIRD ..."; run_pair bb bird bird ;;
        bv) echo "running BIRD -> v6routerd ..."; run_pair bv bird v6 ;;
        vb) echo "running v6routerd -> BIRD ..."; run_pair vb v6 bird ;;
        *) echo "unknown pair $p (bb, bv, vb)" >&2; exit 2 ;;
    esac
done
for p in bb bv vb; do # pairs not run print as "-"
    for k in together together_n together_spread restart restart_n restart_spread cpu_s cpu_r out_s out_r rss_s rss_r anon_s anon_r udperr stop_s stop_left; do
        [ -e "$W/res.$p.$k" ] || echo - > "$W/res.$p.$k"
    done
done

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}
printf '\n%-28s %14s %14s %14s\n' "" "BIRD->BIRD" "BIRD->v6r" "v6r->BIRD"
printf '%-28s %14s %14s %14s\n' "all N in kernel, together" "$(get bb together) s" "$(get bv together) s" "$(get vb together) s"
printf '%-28s %14s %14s %14s\n' "  routes reached" "$(get bb together_n)" "$(get bv together_n)" "$(get vb together_n)"
printf '%-28s %14s %14s %14s\n' "  sender's spread" "$(get bb together_spread) s" "$(get bv together_spread) s" "$(get vb together_spread) s"
printf '%-28s %14s %14s %14s\n' "all N, receiver restarted" "$(get bb restart) s" "$(get bv restart) s" "$(get vb restart) s"
printf '%-28s %14s %14s %14s\n' "  routes reached" "$(get bb restart_n)" "$(get bv restart_n)" "$(get vb restart_n)"
printf '%-28s %14s %14s %14s\n' "  sender's spread" "$(get bb restart_spread) s" "$(get bv restart_spread) s" "$(get vb restart_spread) s"
printf '%-28s %14s %14s %14s\n' "sender CPU s / 30 s cycle" "$(get bb cpu_s)" "$(get bv cpu_s)" "$(get vb cpu_s)"
printf '%-28s %14s %14s %14s\n' "receiver CPU s / 30 s cycle" "$(get bb cpu_r)" "$(get bv cpu_r)" "$(get vb cpu_r)"
printf '%-28s %14s %14s %14s\n' "  datagrams sent / 30 s, s" "$(get bb out_s)" "$(get bv out_s)" "$(get vb out_s)"
printf '%-28s %14s %14s %14s\n' "  datagrams sent / 30 s, r" "$(get bb out_r)" "$(get bv out_r)" "$(get vb out_r)"
printf '%-28s %14s %14s %14s\n' "sender RSS kB" "$(get bb rss_s)" "$(get bv rss_s)" "$(get vb rss_s)"
printf '%-28s %14s %14s %14s\n' "  of which anonymous" "$(get bb anon_s)" "$(get bv anon_s)" "$(get vb anon_s)"
printf '%-28s %14s %14s %14s\n' "receiver RSS kB" "$(get bb rss_r)" "$(get bv rss_r)" "$(get vb rss_r)"
printf '%-28s %14s %14s %14s\n' "  of which anonymous" "$(get bb anon_r)" "$(get bv anon_r)" "$(get vb anon_r)"
printf '%-28s %14s %14s %14s\n' "receiver Udp6RcvbufErrors" "$(get bb udperr)" "$(get bv udperr)" "$(get vb udperr)"
printf '%-28s %14s %14s %14s\n' "receiver stop (SIGTERM-exit)" "$(get bb stop_s) s" "$(get bv stop_s) s" "$(get vb stop_s) s"
printf '%-28s %14s %14s %14s\n' "  its routes left after" "$(get bb stop_left)" "$(get bv stop_left)" "$(get vb stop_left)"
echo "kernel floor: $N routes by ip -batch in the receiver's namespace: $FLOOR s"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); v6routerd profile $PROFILE"
echo
echo "ratios v6routerd / BIRD (lower is better):"
echo "  receiving, time together:    $(ratio "$(get bv together)" "$(get bb together)")"
echo "  receiving, time after restart: $(ratio "$(get bv restart)" "$(get bb restart)")"
echo "  receiver CPU per cycle:      $(ratio "$(get bv cpu_r)" "$(get bb cpu_r)")"
echo "  receiver RSS:                $(ratio "$(get bv rss_r)" "$(get bb rss_r)")"
# A BIRD receiver that lost part of the table (Udp6RcvbufErrors) holds less
# than N: BIRD receiving from v6routerd is the like-for-like reference then.
echo "  receiver CPU, both holding N (BIRD fed by v6r): $(ratio "$(get bv cpu_r)" "$(get vb cpu_r)")"
echo "  receiver RSS, both holding N (BIRD fed by v6r): $(ratio "$(get bv rss_r)" "$(get vb rss_r)")"
echo "  sender CPU per cycle:        $(ratio "$(get vb cpu_s)" "$(get bb cpu_s)")"
echo "  sender RSS:                  $(ratio "$(get vb rss_s)" "$(get bb rss_s)")"
# Likewise a sender whose receiver holds all N hears all N back each cycle
# (poisoned reverse): BIRD sending to v6routerd is that reference.
echo "  sender CPU, receiver holding N (BIRD sending to v6r): $(ratio "$(get vb cpu_s)" "$(get bv cpu_s)")"
echo "  sender RSS, receiver holding N (BIRD sending to v6r): $(ratio "$(get vb rss_s)" "$(get bv rss_s)")"
