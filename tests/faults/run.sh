#!/usr/bin/env bash
# Inject faults into a running v6routerd and measure the time to recover.
# Needs root (network namespaces), iproute2, tcpdump, tshark, ndisc6
# (rdisc6), isc-dhcp-client, kea-dhcp6-server, kea-admin (perfdhcp), bird2
# and python3 (tests/faults/flood.py). Prints the table of
# docs/reliability.md (markdown) on stdout; the full test output goes to
# $OUT (default /tmp/v6router-faults.log). Exit status: that of the tests.
#
#   sudo tests/faults/run.sh                 # every row
#   sudo tests/faults/run.sh kill9 clock     # rows whose test name matches
#   sudo tests/faults/run.sh flood           # the malformed-packet flood only
#
# The clock row steps the host's system clock by an hour for a few seconds
# (and puts it back, also when the test fails): skip it on a machine where
# that matters with SKIP_CLOCK=1.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-/tmp/v6router-faults.log}
cd "$root"
cargo build -q -p v6routerd -p v6ctl || exit 2
args=(--ignored --nocapture --test-threads=1)
[ "${SKIP_CLOCK:-0}" = 1 ] && args+=(--skip clock)
if [ $# -gt 0 ]; then
    rc=0
    for f in "$@"; do
        cargo test -p v6routerd --test faults_e2e -- "${args[@]}" "$f" >>"$out.tmp" 2>&1 || rc=1
    done
    mv "$out.tmp" "$out"
else
    cargo test -p v6routerd --test faults_e2e -- "${args[@]}" >"$out" 2>&1
    rc=$?
fi
echo "| fault | recovered after | how it was seen |"
echo "| --- | ---: | --- |"
grep -o 'FAULT|.*' "$out" | while IFS='|' read -r _ row ms detail; do
    if [ "$ms" -ge 99000 ]; then
        t="**not recovered**"
    elif [ "$ms" -ge 1000 ]; then
        t=$(awk -v m="$ms" 'BEGIN{printf "%.2f s", m/1000}')
    else
        t="$ms ms"
    fi
    echo "| $row | $t | $detail |"
done
echo
grep -E '^test result' "$out" | sed 's/^/tests: /'
# The names under the last "failures:" heading of each run.
awk '/^failures:$/{n++; next} n%2==0 && n>0 && /^    [a-z0-9_]+$/{print "failed:" $0}' "$out"
exit $rc
