#!/usr/bin/env bash
# How fast renumbering flows: from the ISP's Reply carrying a new prefix (real
# Kea 2.2 restarted with another pd-pool) to the first LAN RA with the new PIO.
# Both packets are captured in the router's namespace, so one clock times them.
# Prints the figure of each run; not a pass/fail test.
#
#   tests/bench/renumber.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
bash tests/setup.sh >/dev/null
cargo build --workspace --quiet
for i in $(seq "$RUNS"); do
    cargo test -q -p v6routerd --test uplink_e2e -- --include-ignored --nocapture \
        renumbering_latency_reply_to_lan_ra 2>/dev/null | grep '^FIGURE' | sed "s/^FIGURE /run $i: /"
done
echo "target: under 100 ms (issue 10)"
