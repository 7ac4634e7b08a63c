#!/usr/bin/env bash
# Power cuts under load (issue 21): does a DHCPv6 server keep every lease it
# acknowledged when the power goes, not just at kill -9?
#
# The server runs inside User-Mode Linux with its state on a UML block
# device holding ext4; perfdhcp loads it and tcpdump logs every Reply it
# sends to a console whose host side is a file. After a random 1-5 s of
# load the UML process is killed from the host (the guest's page cache dies
# with it, as at a power cut); the next boot on the same disk lists what
# the server holds, and every address and prefix a captured Reply granted
# must be among them. Each boot both checks the previous cut and loads for
# the next. v6routerd also keeps its server DUID and its LAN's ULA address
# (the random /48 and the /64 chosen in it) across every cut, and no state
# file is empty or logged as torn or ignored. Kea 2.2 (memfile) runs through the
# same harness for comparison.
#
#   sudo tests/faults/power-cut.sh            # CUTS=20 for v6routerd, KEA_CUTS=5
#   CUTS=50 KEA_CUTS=20 RATE=500 sudo tests/faults/power-cut.sh
#
# Needs: user-mode-linux, kea-dhcp6-server, kea-admin (perfdhcp), tcpdump,
# e2fsprogs; the debug build of v6routerd, v6ctl and testlab's linux-uml
# (cargo build --workspace). The last line is
#   power-cut: acknowledged A, lost L over N cuts
# and the exit status is 1 when v6routerd lost anything or broke a check.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BIN_DIR:-$root/target/debug}
CUTS=${CUTS:-20}
KEA_CUTS=${KEA_CUTS:-5}
RATE=${RATE:-300}
W=$(mktemp -d /tmp/v6t-powercut.XXXXXX)
uml_pid=
cleanup() {
    [ -n "$uml_pid" ] && kill -9 -- "-$uml_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
for b in v6routerd v6ctl linux-uml; do
    [ -x "$bin/$b" ] || { echo "power-cut: $bin/$b missing (cargo build --workspace)"; exit 2; }
done

# Wait until FILE has a line WORD (at most SECS seconds).
wait_word() {
    local file=$1 word=$2 secs=$3 i=0
    # The console writes CR LF.
    until tr -d '\r' <"$file" 2>/dev/null | grep -qx "$word"; do
        grep -q '^FAIL' "$file" 2>/dev/null && return 1
        i=$((i + 1))
        [ $i -gt $((secs * 10)) ] && return 1
        sleep 0.1
    done
}

# One boot: SERVER MODE BOOT. Leaves uml_pid set (a process group).
boot() {
    local server=$1 mode=$2 n=$3
    : >"$W/$server/console-$n.log"
    setsid "$bin/linux-uml" mem=384M root=/dev/root rootfstype=hostfs rootflags=/ rw \
        init="$root/tests/uml/power-cut.sh" ubda="$W/$server/disk.img" \
        con=null con0=null con1=fd:3 \
        SERVER="$server" MODE="$mode" BOOT="$n" RATE="$RATE" WORK="$W/$server" \
        V6ROUTERD="$bin/v6routerd" V6CTL="$bin/v6ctl" \
        3>"$W/$server/console-$n.log" </dev/null >"$W/$server/uml-$n.log" 2>&1 &
    uml_pid=$!
}

cut() {
    kill -9 -- "-$uml_pid" 2>/dev/null || true
    wait "$uml_pid" 2>/dev/null || true
    uml_pid=
}

# What the Replies captured in a console log granted, one per line.
acked() {
    # A cut before the first Reply leaves none: not an error.
    { grep 'dhcp6 reply' "$1" || true; } |
        grep -o 'IA_ADDR [0-9a-f:]*\|IA_PD-prefix [0-9a-f:]*/[0-9]*' |
        awk '{print $2}' | sort -u || true
}

# run SERVER CUTS: prints "acknowledged A lost L problems P".
run() {
    local server=$1 cuts=$2 acks=0 lost=0 problems=0 duid= ula= u
    mkdir -p "$W/$server"
    truncate -s 256M "$W/$server/disk.img"
    mkfs.ext4 -q -F "$W/$server/disk.img"
    for n in $(seq 0 "$cuts"); do
        local mode=load
        [ "$n" = "$cuts" ] && mode=list
        boot "$server" "$mode" "$n"
        if ! wait_word "$W/$server/console-$n.log" LISTED 90; then
            echo "power-cut: $server boot $n did not list its leases" >&2
            tail -n 5 "$W/$server/uml-$n.log" "$W/$server/console-$n.log" "$W/$server/server-$n.log" >&2 || true
            problems=$((problems + 1))
            cut
            break
        fi
        local listed=$W/$server/listed-$n.txt
        if [ "$n" -gt 0 ]; then
            local prev=$((n - 1)) a l
            acked "$W/$server/console-$prev.log" >"$W/$server/acked-$prev.txt"
            a=$(wc -l <"$W/$server/acked-$prev.txt")
            l=$(grep -vxFf "$listed" "$W/$server/acked-$prev.txt" | wc -l || true)
            acks=$((acks + a))
            lost=$((lost + l))
            echo "  $server cut $n: $a acknowledged, $l lost" >&2
        fi
        if [ "$server" = v6routerd ]; then
            local d
            d=$(awk '/^duid /{print $2}' "$listed")
            [ -z "$duid" ] && duid=$d
            if [ -z "$d" ] || [ "$d" != "$duid" ]; then
                echo "power-cut: boot $n: server DUID '$d', was '$duid'" >&2
                problems=$((problems + 1))
            fi
            # The ULA /48 (random, made once) and lan0's /64 in it.
            u=$(awk '/^ula /{print $2}' "$listed")
            [ -z "$ula" ] && ula=$u
            if [ -z "$u" ] || [ "$u" != "$ula" ]; then
                echo "power-cut: boot $n: lan0's ULA address '$u', was '$ula'" >&2
                problems=$((problems + 1))
            fi
            if grep -q '^empty \|^log ' "$listed"; then
                echo "power-cut: boot $n: $(grep '^empty \|^log ' "$listed")" >&2
                problems=$((problems + 1))
            fi
        fi
        if [ "$mode" = list ]; then
            cut
            break
        fi
        wait_word "$W/$server/console-$n.log" LOAD 30 || problems=$((problems + 1))
        sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.1f", 1 + 4 * rand() }')"
        cut
    done
    echo "acknowledged $acks lost $lost problems $problems"
}

ours=$(run v6routerd "$CUTS")
kea=$(run kea "$KEA_CUTS")
read -r _ a _ l _ p <<<"$ours"
read -r _ ka _ kl _ _ <<<"$kea"
echo "power-cut: Kea 2.2 memfile: acknowledged $ka, lost $kl over $KEA_CUTS cuts"
echo "power-cut: acknowledged $a, lost $l over $CUTS cuts"
[ "$l" = 0 ] && [ "$p" = 0 ] && [ "$a" -gt 0 ]
