#!/usr/bin/env bash
# Size and memory budget of v6router on a router (issue 7). Prints figures;
# asserts nothing (the budget lines say "within" or "OVER").
#
#   tests/bench/size.sh [ARCH...]
#
# 1. Per OpenWrt arch (packaging/common.sh DEFAULT_ARCHES, all seven): the
#    .ipk, the .apk and the stripped static v6routerd (v6ctl is a link to
#    it), against the 1 MiB package budget of issue 18 (packaging/ipk.sh,
#    packaging/apk.sh, which build all archs in one cargo run).
# 2. Where the bytes go: `cargo bloat --crates` on an aarch64 build with
#    symbols kept (cargo-bloat is installed with `cargo install` if
#    missing); else an `nm --size-sort` breakdown by crate.
# 3. Idle RSS of v6routerd (x86_64 static build, same code) running
#    config/lab.toml in a network namespace of its own, after it settled;
#    radvd and BIRD 2 measured the same way for comparison when installed.
#    Budget: idle RSS <= 4 MB. Needs root (namespaces); skipped otherwise.
# Reference sizes of the tools it replaces on OpenWrt (from the issue and
# shared/research/openwrt.md): radvd ~120 KB, odhcpd ~34 KB (ipk 28.8 KB,
# mips_24kc), bird2 ~1 MB plus libraries.
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), V6_NO_BUILD=1 to
# package binaries already built, SETTLE (seconds before reading RSS, 5).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
SETTLE=${SETTLE:-5}
AARCH=aarch64-unknown-linux-musl
X86=x86_64-unknown-linux-musl
T=$(mktemp -d)
NS=v6t-size-$$
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

kb() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
budget() { # LABEL VALUE LIMIT
    if [ "$2" -le "$3" ]; then
        echo "budget: $1 $(kb "$2") <= $(kb "$3"): within"
    else
        echo "budget: $1 $(kb "$2") > $(kb "$3"): OVER"
    fi
}

echo "== 1. package and binary sizes per OpenWrt arch (budget: 1 MiB = 1048576 bytes per package)"
# shellcheck source=packaging/common.sh
. "$REPO/packaging/common.sh"
ARCHES=("$@")
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=("${DEFAULT_ARCHES[@]}")
OUT_DIR=$T/pkgs "$REPO/packaging/ipk.sh" "${ARCHES[@]}" >/dev/null 2>"$T/build.log" ||
    { tail -20 "$T/build.log"; exit 1; }
OUT_DIR=$T/pkgs V6_NO_BUILD=1 "$REPO/packaging/apk.sh" "${ARCHES[@]}" >/dev/null 2>>"$T/build.log" ||
    { tail -20 "$T/build.log"; exit 1; }
MIB=1048576
printf '%-26s %9s %9s %10s  %s\n' arch .ipk .apk v6routerd "budget (largest package)"
for a in "${ARCHES[@]}"; do
    ipk=$(stat -c %s "$T/pkgs/${PKG_NAME}_${VERSION}_$a.ipk")
    apk=$(stat -c %s "$T/pkgs/$a/$PKG_NAME-$VERSION.apk")
    bin=$(stat -c %s "$(bin_dir_for "$(rust_target_for "$a")")/v6routerd")
    big=$((ipk > apk ? ipk : apk))
    if [ "$big" -le "$MIB" ]; then v="within, $((MIB - big)) B to spare"; else v="OVER by $((big - MIB)) B"; fi
    printf '%-26s %9d %9d %10d  %s\n' "$a" "$ipk" "$apk" "$bin" "$v"
done
echo "reference OpenWrt packages: odhcpd ~29 kB (ipk, mips_24kc), radvd ~120 kB, bird2 ~1 MB (+ libraries);"
echo "  v6routerd does the work of radvd + odhcpd (DHCPv6 part) + bird2 (RIPng) + odhcp6c (PD client)"

echo
echo "== 2. where the bytes go (aarch64 v6routerd, same profile with symbols kept)"
BLOAT_DIR=$CARGO_TARGET_DIR/bloat
if ! command -v cargo-bloat >/dev/null && [ "${V6_NO_INSTALL:-0}" != 1 ]; then
    cargo install --locked cargo-bloat >/dev/null 2>&1 || true
fi
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
if command -v cargo-bloat >/dev/null; then
    (cd "$REPO" && CARGO_TARGET_DIR=$BLOAT_DIR CARGO_PROFILE_RELEASE_STRIP=false \
        cargo bloat --release --target "$AARCH" -p v6routerd --crates -n 25 2>/dev/null) ||
        echo "cargo bloat failed"
else
    echo "(cargo-bloat not available: nm breakdown by crate of the unstripped build)"
    (cd "$REPO" && CARGO_TARGET_DIR=$BLOAT_DIR CARGO_PROFILE_RELEASE_STRIP=false \
        cargo build --release --target "$AARCH" -p v6routerd >/dev/null 2>&1)
    nm -C --size-sort -S -t d "$BLOAT_DIR/$AARCH/release/v6routerd" | awk '
        $3 ~ /^[tTrRdD]$/ {
            size = $2 + 0; name = $0
            sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", name)
            sub(/^</, "", name); sub(/^&/, "", name)
            split(name, p, "::"); crate = p[1]
            if (crate == name) crate = "[C/asm/unknown]"
            sum[crate] += size; total += size
        }
        END {
            for (c in sum) printf "%9d %5.1f%% %s\n", sum[c], 100 * sum[c] / total, c
        }' | sort -rn | head -25
fi

echo
echo "== 3. idle RSS with config/lab.toml (x86_64 static build; aarch64 code is the same)"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
    echo "skipped: needs root and iproute2 for a network namespace"
    exit 0
fi
ip netns add "$NS"
ip -n "$NS" link set lo up
for i in lan0 up0; do
    ip -n "$NS" link add "$i" type veth peer name "${i}p"
    ip -n "$NS" link set "$i" up
    ip -n "$NS" link set "${i}p" up
done
sleep 2 # link-local addresses leave DAD
mkdir -p "$T/state"
sed -e "s|^state_dir = .*|state_dir = \"$T/state\"|" \
    -e "s|^socket = .*|socket = \"$T/v6routerd.sock\"|" "$REPO/config/lab.toml" >"$T/lab.toml"

# rss NAME PID: VmRSS / VmHWM of a process that has been idle SETTLE s.
rss() {
    local name=$1 pid=$2
    sleep "$SETTLE"
    if [ ! -r "/proc/$pid/status" ]; then
        echo "$name: exited before it could be measured"
        return 1
    fi
    local rss hwm
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
    printf '%-10s VmRSS %6d KiB  VmHWM %6d KiB\n' "$name" "$rss" "$hwm"
    eval "RSS_$name=$rss"
}

ip netns exec "$NS" "$CARGO_TARGET_DIR/$X86/release/v6routerd" -c "$T/lab.toml" \
    >"$T/v6routerd.log" 2>&1 &
PIDS+=($!)
ln -sf "$CARGO_TARGET_DIR/$X86/release/v6routerd" "$T/v6ctl" # the multi-call binary
if rss v6routerd "${PIDS[-1]}"; then
    # shellcheck disable=SC2154 # set by rss() with eval
    budget "idle RSS" $((RSS_v6routerd * 1024)) $((4096 * 1024))
    echo "what was running while measured (v6ctl show protocols):"
    "$T/v6ctl" -s "$T/v6routerd.sock" show protocols 2>&1 | sed 's/^/  /'
else
    sed 's/^/  /' "$T/v6routerd.log" | tail -5
fi

if command -v radvd >/dev/null; then
    cat >"$T/radvd.conf" <<'EOF'
interface lan0 {
    AdvSendAdvert on; AdvManagedFlag on; AdvOtherConfigFlag on;
    AdvLinkMTU 1280; MaxRtrAdvInterval 30;
    prefix 2001:db8:1::/64 { };
    RDNSS 2001:db8:1::1 { };
    DNSSL home.arpa { };
};
EOF
    ip netns exec "$NS" radvd -n -C "$T/radvd.conf" -p "$T/radvd.pid" -m stderr >"$T/radvd.log" 2>&1 &
    PIDS+=($!)
    rss radvd "${PIDS[-1]}" || true
fi
if command -v bird >/dev/null; then
    cat >"$T/bird.conf" <<'EOF'
router id 192.0.2.1;
protocol device { }
protocol direct { ipv6; interface "lan0"; }
protocol kernel { ipv6 { export none; import none; }; }
protocol rip ng { ipv6 { import all; export all; };
    interface "up0" { mode multicast; update time 5; }; }
EOF
    ip netns exec "$NS" bird -f -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid" >"$T/bird.log" 2>&1 &
    PIDS+=($!)
    rss bird "${PIDS[-1]}" || true
fi
echo "(radvd and bird here are Debian's glibc builds, doing only their part of the lab config)"
