#!/bin/bash
# DHCPv6 server benchmark: v6routerd against Kea (kea-dhcp6), same run, same
# veth, same subnet, pool, lifetimes and options, perfdhcp (kea-admin) as the
# load generator. Not a timed test: it prints figures and ratios.
#
# For each server it steps the offered rate of full 4-way exchanges
# (Solicit-Advertise-Request-Reply from distinct clients) and reports the
# highest rate held with < 0.1 % drops in both exchanges, then fills the
# server with 100,000 leases and reports its RSS.
#
# Each mode runs the whole comparison: MODES="na napd" (default) asks for
# an address (IA_NA) per client, then an address and a prefix (IA_NA +
# IA_PD, perfdhcp -e address-and-prefix). With a prefix, v6routerd also
# installs a kernel route per delegated prefix (Kea does not): its CPU
# figure includes them.
#
# v6routerd runs with its journal on disk and fsync before every Reply
# (grouped); Kea runs memfile with persist on (it writes its CSV but does not
# fsync).
#
# Each step also logs where packets were lost: Solicits perfdhcp really
# sent per second (below the offered rate: perfdhcp is the limit) and UDP
# receive-buffer overflows (Udp6RcvbufErrors) in the server's and in the
# clients' namespaces.
#
# Usage (root): tests/bench/dhcpv6.sh [PERIOD_SECONDS] [RATES...]
#   PARALLEL=N      N perfdhcp processes (default 3), each in its own
#                   namespace on one bridge with the server, sharing the
#                   offered rate
#   V6ROUTERD=path  (default target/bench-release/v6routerd; built if absent)
#   KEEP=1          keep the scratch directory
#   SMAPS=1         print the server's smaps_rollup (anonymous vs file) with its RSS
#   SERVERS, STEP, FILL, CPU_RATE: see below
#
# Kea runs twice: as Kea 2.2 ships (single-threaded) and with its
# multi-threading on (2 threads, one per core here; the default from
# Kea 2.4). The ratios are against the better of the two for each figure:
# the highest rate, the lowest RSS, the best exchanges per CPU-second.
set -euo pipefail

PERIOD=${1:-10}
shift || true
RATES=${*:-"1000 2000 4000 6000 8000 12000 16000 20000 24000 32000 40000"}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$HERE/target}
V6ROUTERD=${V6ROUTERD:-$TARGET/bench-release/v6routerd}
V6CTL=${V6CTL:-$(dirname "$V6ROUTERD")/v6ctl}
LEASES=${LEASES:-100000}

[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; exit 1; }
for c in perfdhcp kea-dhcp6 ip; do command -v $c >/dev/null || { echo "missing $c"; exit 1; }; done
if [ ! -x "$V6ROUTERD" ] || [ ! -x "$V6CTL" ]; then
    (cd "$HERE" && cargo build --profile bench-release -p v6routerd -p v6ctl)
fi

NS=v6t-bench$$
SRV=$NS-srv
SW=$NS-sw
# PARALLEL perfdhcp processes share the offered rate (one saturates at a few
# thousand exchanges/s on a small machine), each in its own client
# namespace behind one bridge with the server: one link, as many clients'
# sockets (servers answer port 546, so they cannot share a namespace), and
# distinct client MAC/DUID ranges (-b mac=...).
# Default 3: with one perfdhcp (and with two) the losses at 5,000/s here
# were UDP overflows in perfdhcp's own socket, none in the server's.
PARALLEL=${PARALLEL:-3}
CLIS=()
for i in $(seq "$PARALLEL"); do CLIS+=("$NS-cli$i"); done
CLI=${CLIS[0]}
# Scratch on the same disk as /var/lib (fsync must mean something).
DIR=$(mktemp -d /var/tmp/v6t-bench-dhcpv6.XXXXXX)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for n in "$SRV" "$SW" "${CLIS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] && echo "kept $DIR" || rm -rf "$DIR"
}
trap cleanup EXIT

for n in "$SRV" "$SW" "${CLIS[@]}"; do
    ip netns add "$n"
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n "$n" link set lo up
done
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
# veth port $2 of the bridge <-> $3 in namespace $1.
attach() {
    ip link add "v6tb$$-$2" type veth peer name "v6tc$$-$2"
    ip link set "v6tb$$-$2" netns "$SW"
    ip link set "v6tc$$-$2" netns "$1"
    ip -n "$SW" link set "v6tb$$-$2" master br0 up
    ip -n "$1" link set "v6tc$$-$2" name "$3"
    ip -n "$1" link set "$3" up
}
attach "$SRV" 0 lan0
for i in $(seq "$PARALLEL"); do attach "${CLIS[$((i - 1))]}" "$i" eth0; done
ip -n "$SRV" -6 addr add 2001:db8:1::1/64 dev lan0 nodad
# perfdhcp cannot bind a tentative link-local address: wait for DAD to end.
for _ in $(seq 100); do
    t=$(ip -n "$SRV" -6 addr show dev lan0 tentative)
    for c in "${CLIS[@]}"; do t+=$(ip -n "$c" -6 addr show dev eth0 tentative); done
    [ -z "$t" ] && break
    sleep 0.1
done

# The same service on both: one /64, a /80 pool, DNS server and search list,
# preferred 3000 s, valid 4000 s, T1 1000 s, T2 2000 s.
cat > "$DIR/v6router.toml" <<EOF
[router]
state_dir = "$DIR/v6r-state"
[control]
socket = "$DIR/v6r.sock"
[log]
level = "warn"
[[interface]]
name = "lan0"
[interface.dhcpv6]
pool = "2001:db8:1::-2001:db8:1::ffff:ffff:ffff"
dns = ["2001:db8:1::1"]
search = ["home.arpa"]
preferred_lifetime = 3000
valid_lifetime = 4000
renew_time = 1000
rebind_time = 2000
max_leases_per_client = 8
# The load is a few perfdhcp, each one source address: no Solicit budget
# (Kea has none either).
max_solicits_per_second = 1000000
# /64s from a /33: more than any run here asks for.
pd_pool = { prefix = "2001:db8:8000::/33", delegated_length = 64 }
EOF

mkdir -p "$DIR/kea" /run/kea /var/lib/kea
for mt in false true; do
cat > "$DIR/kea-mt-$mt.json" <<EOF
{ "Dhcp6": {
    "interfaces-config": { "interfaces": [ "lan0" ] },
    "lease-database": { "type": "memfile", "persist": true, "name": "$DIR/kea/leases6.csv", "lfc-interval": 0 },
    "server-id": { "type": "LLT", "persist": true },
    "data-directory": "$DIR/kea",
    "preferred-lifetime": 3000, "valid-lifetime": 4000,
    "renew-timer": 1000, "rebind-timer": 2000,
    "option-data": [ { "name": "dns-servers", "data": "2001:db8:1::1" },
                     { "name": "domain-search", "data": "home.arpa" } ],
    "subnet6": [ { "id": 1, "subnet": "2001:db8:1::/64", "interface": "lan0",
                   "pools": [ { "pool": "2001:db8:1::/80" } ],
                   "pd-pools": [ { "prefix": "2001:db8:8000::", "prefix-len": 33, "delegated-len": 64 } ] } ],
    "multi-threading": { "enable-multi-threading": $mt, "thread-pool-size": 2, "packet-queue-size": 64 },
    "loggers": [ { "name": "kea-dhcp6", "severity": "WARN",
                   "output_options": [ { "output": "$DIR/kea/kea.log" } ] } ]
} }
EOF
done

start_v6r() {
    rm -rf "$DIR/v6r-state"
    ip netns exec "$SRV" "$V6ROUTERD" -c "$DIR/v6router.toml" > "$DIR/v6r.log" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    for _ in $(seq 50); do "$V6CTL" -s "$DIR/v6r.sock" show dhcpv6 2>/dev/null | grep -q 'lan0 (' && return; sleep 0.1; done
    echo "v6routerd did not start"; cat "$DIR/v6r.log"; exit 1
}
start_kea() { start_kea_with false; }
start_kea_mt() { start_kea_with true; }
start_kea_with() {
    rm -f "$DIR"/kea/leases6.csv*
    ip netns exec "$SRV" kea-dhcp6 -c "$DIR/kea-mt-$1.json" > "$DIR/kea.out" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    sleep 2
    kill -0 "$SPID" || { echo "kea-dhcp6 did not start"; cat "$DIR/kea.out"; exit 1; }
}
stop_server() {
    kill "$SPID" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# utime + stime of all threads, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# Server CPU per exchange at a rate both servers hold: on a machine where
# perfdhcp itself saturates first, this is the figure that still compares
# the servers (exchanges per CPU-second of the server process).
cpu_rate() {
    local name=$1 rate=$2 before after got drops
    before=$(cpu_ticks "$SPID")
    read -r got drops < <(run_perf "$name-cpu" "$rate")
    after=$(cpu_ticks "$SPID")
    awk -v g="$got" -v p="$PERIOD" -v t=$((after - before)) -v hz="$HZ" \
        'BEGIN { if (t == 0) t = 1; printf "%.0f", g * p / (t / hz) }'
}

# UDP receive-buffer overflows in a namespace (/proc/net/snmp6): where
# datagrams were lost, if they were lost in a socket queue.
rcvbuf_errors() { ip netns exec "$1" awk '$1 == "Udp6RcvbufErrors" {print $2}' /proc/net/snmp6; }

client_rcvbuf_errors() {
    local c t=0
    for c in "${CLIS[@]}"; do t=$((t + $(rcvbuf_errors "$c"))); done
    echo "$t"
}

# One perfdhcp run; prints "achieved max_drop_percent"; logs where packets
# went (sent by perfdhcp vs offered, socket overflows on either side).
run_perf() {
    local name=$1 rate=$2 out i per srv0 cli0 srv1 cli1
    per=$(( (rate + PARALLEL - 1) / PARALLEL ))
    srv0=$(rcvbuf_errors "$SRV"); cli0=$(client_rcvbuf_errors)
    # -W: after the period, wait 1 s for answers still in flight (they are
    # not drops).
    for i in $(seq "$PARALLEL"); do
        ip netns exec "${CLIS[$((i - 1))]}" perfdhcp -6 -l eth0 -r "$per" -R 1000000 \
            -p "$PERIOD" -W 1000000 -b "mac=02:$(printf %02x "$i"):00:00:00:00" -e "$PERF_E" \
            > "$DIR/perf-$name-$rate.$i.log" 2>&1 &
    done
    wait
    srv1=$(rcvbuf_errors "$SRV"); cli1=$(client_rcvbuf_errors)
    out=$(cat "$DIR/perf-$name-$rate".*.log)
    echo "$out" > "$DIR/perf-$name-$rate.log"
    local achieved drops sent
    achieved=$(echo "$out" | awk '/^Rate:/ {s += $2; n++} END {if (n) print s}')
    drops=$(echo "$out" | awk '/drops ratio:/ {gsub("%","",$3); if ($3+0 > m) m = $3+0} END {print m+0}')
    # Solicits perfdhcp really sent per second: below the offered rate,
    # perfdhcp (not the server) is the limit.
    sent=$(echo "$out" | awk '/Statistics for: SOLICIT/ {f = 1} f && /^sent packets:/ {s += $3; f = 0} END {print s + 0}')
    printf '    %s @%s/s: perfdhcp sent %s Solicit/s; rcvbuf overflows: server %s, client %s\n' \
        "$name" "$rate" "$(( sent / PERIOD ))" "$(( srv1 - srv0 ))" "$(( cli1 - cli0 ))" >> "$DIR/diag.log"
    # No rate line or nothing received: the run failed, count it as all dropped.
    if [ -z "$achieved" ] || ! echo "$out" | grep -q 'received packets: [1-9]'; then
        echo "0 100"
        return
    fi
    echo "$achieved $drops"
}

# Step the rate; the best rate held with < 0.1 % drops. Stops after two misses.
step() {
    local name=$1 best=0 misses=0
    for r in $RATES; do
        read -r got drops < <(run_perf "$name" "$r")
        local ok=no
        if awk -v d="$drops" 'BEGIN {exit !(d < 0.1)}'; then ok=yes; best=$r; misses=0; else misses=$((misses + 1)); fi
        printf '  %-10s offered %6s/s  achieved %9s/s  drops %7s %%  %s\n' "$name" "$r" "$got" "$drops" "$ok" >&2
        tail -n 1 "$DIR/diag.log" >&2
        [ $misses -ge 2 ] && break
    done
    echo "$best"
}

# Fill at half the best rate held (at least 1000/s): the fill is about
# memory, and at the edge rate a loaded machine loses some clients.
fill() {
    local name=$1 rate=$(( $2 / 2 > 1000 ? $2 / 2 : 1000 ))
    # 100,000 distinct clients, each a full exchange.
    ip netns exec "$CLI" perfdhcp -6 -l eth0 -r "$rate" -R "$LEASES" -n "$LEASES" -W 2000000 -e "$PERF_E" > "$DIR/fill-$name.log" 2>&1 || true
    sleep 1
}

echo "DHCPv6 benchmark: ${PERIOD}s per step, rates: $RATES"
echo "v6routerd: $V6ROUTERD (journal $DIR/v6r-state, fsync before Reply)"
echo "kea: $(kea-dhcp6 -v) (memfile, persist on, no fsync; kea = single-threaded, kea-mt = 2 threads)"

CPU_RATE=${CPU_RATE:-2000}
# SERVERS="v6routerd kea kea-mt" (default) or a part of it (for
# profiling; the ratios need v6routerd and a Kea). STEP=0 skips the rate
# steps, FILL=0 the 100,000-lease fill (RSS).
SERVERS=${SERVERS:-v6routerd kea kea-mt}
MODES=${MODES:-na napd}
STEP=${STEP:-1}
FILL=${FILL:-1}

# bench_server NAME START: the rate steps, the CPU efficiency and the fill
# for one server; sets BEST EFF LEASES RSS.
bench_server() {
    local name=$1 start=$2
    BEST=- EFF=- LEASES_GOT=- RSS=-
    if [ "$STEP" = 1 ]; then
        $start; BEST=$(step "$name"); stop_server
    fi
    $start; EFF=$(cpu_rate "$name" "$CPU_RATE"); stop_server
    if [ "$FILL" = 1 ]; then
        $start
        fill "$name" "$([ "$BEST" != - ] && [ "$BEST" -gt 0 ] && echo "$BEST" || echo 1000)"
        if [ "${name%%-*}" = v6routerd ]; then
            LEASES_GOT=$("$V6CTL" -s "$DIR/v6r.sock" show dhcpv6 | awk '/^Leases:/ {print $2}')
            "$V6CTL" -s "$DIR/v6r.sock" show dhcpv6 | sed -n '1,6p' | sed 's/^/  /'
        else
            # The CSV is append-only: count distinct addresses.
            LEASES_GOT=$(grep -h '^2001:db8:1:' "$DIR"/kea/leases6.csv* 2>/dev/null | cut -d, -f1 | sort -u | wc -l)
        fi
        RSS=$(rss_kib "$SPID")
        # SMAPS=1: where that RSS is (file-backed vs anonymous), per thread count.
        if [ -n "${SMAPS:-}" ]; then
            grep -E '^(Rss|Pss_Anon|Pss_File|Anonymous):' "/proc/$SPID/smaps_rollup" | sed "s/^/  $name smaps: /"
            echo "  $name threads: $(ls "/proc/$SPID/task" | wc -l)"
            awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == "" ? "[anon]" : $6) } /^Rss:/ { r[m] += $2 }
                 END { for (m in r) if (r[m] >= 256) printf "  '"$name"' rss %6d kB %s\n", r[m], m }' \
                "/proc/$SPID/smaps" | sort -k4 -nr
        fi
        stop_server
    fi
}

declare -A R_BEST R_EFF R_LEASES R_RSS
for m in $MODES; do
    case $m in
        na) PERF_E=address-only ;;
        napd) PERF_E=address-and-prefix ;;
        *) echo "unknown mode $m (na, napd)" >&2; exit 2 ;;
    esac
    for s in $SERVERS; do
        case $s in
            v6routerd) start=start_v6r ;;
            kea) start=start_kea ;;
            kea-mt) start=start_kea_mt ;;
            *) echo "unknown server $s (v6routerd, kea, kea-mt)" >&2; exit 2 ;;
        esac
        echo "== $s $m"
        bench_server "$s-$m" $start
        R_BEST[$s/$m]=$BEST R_EFF[$s/$m]=$EFF R_LEASES[$s/$m]=$LEASES_GOT R_RSS[$s/$m]=$RSS
    done
done

# Exchanges per CPU-second -> µs of server CPU per exchange.
us() { awk -v e="$1" 'BEGIN { if (e == "-" || e == 0) print "-"; else printf "%.0f", 1e6 / e }'; }
echo
printf '%-10s %-5s %14s %20s %12s %10s %12s\n' server mode "held <0.1%" "capacity ex/CPU-s" "CPU µs/ex" leases "RSS KiB"
for m in $MODES; do
    for s in $SERVERS; do
        k=$s/$m
        printf '%-10s %-5s %14s %20s %12s %10s %12s\n' "$s" "$m" "${R_BEST[$k]}/s" "${R_EFF[$k]}" \
            "$(us "${R_EFF[$k]}")" "${R_LEASES[$k]}" "${R_RSS[$k]}"
    done
done
# The best Kea for each figure (highest rate and capacity, lowest RSS)
# in mode $3.
kea_best() {
    local k v out=-
    for k in kea kea-mt; do
        v=$(eval "echo \${$1[$k/$3]:--}")
        [ "$v" = - ] && continue
        if [ "$out" = - ] || { [ "$2" = max ] && [ "$v" -gt "$out" ]; } || { [ "$2" = min ] && [ "$v" -lt "$out" ]; }; then out=$v; fi
    done
    echo "$out"
}
for m in $MODES; do
    awk -v m="$m" -v a="${R_BEST[v6routerd/$m]:--}" -v b="$(kea_best R_BEST max "$m")" \
        -v ea="${R_EFF[v6routerd/$m]:--}" -v eb="$(kea_best R_EFF max "$m")" \
        -v ra="${R_RSS[v6routerd/$m]:--}" -v rb="$(kea_best R_RSS min "$m")" 'BEGIN {
        if (a != "-" && b != "-" && b > 0) printf "%-5s held rate v6routerd/best kea: %.2f (target >= 1)\n", m, a / b;
        if (ea != "-" && eb != "-" && ea > 0) printf "%-5s CPU per exchange v6routerd/best kea: %.2f (target <= 0.33)\n", m, eb / ea;
        if (ra != "-" && rb != "-" && rb > 0) printf "%-5s RSS v6routerd/smallest kea: %.2f (target <= 0.25)\n", m, ra / rb;
    }'
done
a=${R_BEST[v6routerd/napd]:--} b=${R_BEST[v6routerd/na]:--}
if [ "$a" != - ] && [ "$b" != - ] && [ "$b" -gt 0 ]; then
    awk -v a="$a" -v b="$b" 'BEGIN { printf "v6routerd held rate NA+PD / NA: %.2f (target >= 0.8)\n", a / b }'
fi
