#!/usr/bin/env bash
# Run every cargo-fuzz target in fuzz/ for SECONDS each and print a table of
# executions and crashes; exit non-zero on any crash (or a target that did
# not build or run).
#
#   tests/fuzz.sh 30                      # the short run of the full test command
#   FUZZ_RUNS=10000000 tests/fuzz.sh 3600 # a campaign: stop at 10 M execs or 1 h
#   tests/fuzz.sh 60 dhcpv6_client        # only the named targets
#   FUZZ_FLAGS="-O -a -s none" FUZZ_TARGET_DIR=fuzz/target-camp \
#     FUZZ_RUNS=10000000 nice -n 19 tests/fuzz.sh 5400   # the cheap campaign build
#
# Installs what it needs: the nightly toolchain (rustup) and cargo-fuzz.
# Corpora live in fuzz/corpus/<target>/ (gitignored, kept between runs) and
# are seeded from fuzz/seeds/<target>/ and from the golden fixtures in the
# crates' wire.rs test modules (captured radvd/Linux/dhclient/Kea/BIRD
# packets), the reference configs and the docs' TOML examples.
# Crashes are written to fuzz/artifacts/<target>/; each one found must become
# a regression unit test in the crate it hit.
set -uo pipefail

SECS=${1:-30}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
tdir=${FUZZ_TARGET_DIR:-$fuzz/target}
runs=${FUZZ_RUNS:-0}
# Build flags for cargo fuzz build/run: the default is release with ASan;
# a campaign may use FUZZ_FLAGS="-O -a -s none" (no sanitizer, overflow
# checks and debug assertions on) with its own FUZZ_TARGET_DIR.
read -r -a flags <<<"${FUZZ_FLAGS:--O}"
# More libFuzzer options for every target, e.g. FUZZ_ARGS="-max_len=4096 -reload=0".
read -r -a fargs <<<"${FUZZ_ARGS:-}"
jobs_log=${FUZZ_LOG_DIR:-$tdir/logs}

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal || exit 2
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked || exit 2
fi

# Targets: the [[bin]] names of fuzz/Cargo.toml, or those given.
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(awk '/^\[\[bin\]\]/{b=1; next} b && /^name *=/{gsub(/[" ]/,"",$0); sub(/name=/,""); print; b=0}' "$fuzz/Cargo.toml")
fi
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets in $fuzz/Cargo.toml" >&2; exit 2; }

# Seed corpora. Records are wrapped in each target's own input format.
seed() {
    python3 - "$root" "$1" "$fuzz/corpus/$1" <<'PY'
import glob, hashlib, json, os, re, sys
root, target, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)

def hexes(path):
    """Hex string literals in a source file (golden and captured packets)."""
    src = open(path, encoding="utf-8").read()
    for lit in re.findall(r'"((?:[0-9a-fA-F \n:]|\\\n)+)"', src):
        h = re.sub(r"[^0-9a-fA-F]", "", lit)
        if len(h) >= 16 and len(h) % 2 == 0:
            yield bytes.fromhex(h)

def put(data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

def rec(data, lead):
    """[lead..][len u8][bytes] records, as several targets read them."""
    return bytes(lead) + bytes([min(len(data), 255)]) + data[:255]

def wire(crate):
    return [b for p in glob.glob(f"{root}/crates/{crate}/src/*.rs") for b in hexes(p)]

seeds_dir = f"{root}/fuzz/seeds/{target}"
if os.path.isdir(seeds_dir):
    for p in glob.glob(seeds_dir + "/*"):
        put(open(p, "rb").read())

if target == "dhcpv6_wire":
    for b in wire("dhcpv6"): put(b)
elif target == "dhcpv6_server":
    for b in wire("dhcpv6"):
        # [flags][len][bytes]: multicast, client fe80::1
        put(bytes([1, min(len(b), 255)]) + b[:255])
elif target == "dhcpv6_client":
    for b in wire("dhcpv6"):
        # cfg byte, then op 0 (raw, xid patched) and a timer step.
        put(bytes([0]) + rec(b, [0]) + bytes([4, 0]))
        put(bytes([8]) + rec(b, [16]) + bytes([4, 0]) + rec(b, [0]))
elif target == "ra_parse":
    for b in wire("ra"): put(bytes([0]) + b)
elif target == "ra_engine":
    for b in wire("ra"): put(rec(b, [0]) + bytes([3, 0]) + rec(b, [5]))
elif target == "ripng_wire":
    for b in wire("ripng"): put(b)
elif target == "ripng_engine":
    for b in wire("ripng"):
        n = min((len(b) + 3) // 4, 255)
        put(bytes([n, 2, 2, 9, 255, 1]) + b[: n * 4])
elif target == "lease_journal":
    # Journal images in the layout of crates/dhcpv6/src/store.rs, like its
    # unit tests build: upserts of addresses and prefixes, a remove, then a
    # torn tail, a flipped byte, a damaged length, zeros grown ahead.
    import struct, zlib
    def frame(payload):
        return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload
    def upsert(n, prefix):
        addr = bytes.fromhex("20010db80008%04x" % (n << 4) + "00" * 8) if prefix \
            else bytes.fromhex("20010db80001" + "00" * 8 + "%04x" % n)
        duid = bytes([0, 1, 0, 1, 0, 0, 0, 7, 8, 0, 0x27, 0, 0, n])
        via = bytes.fromhex("fe80" + "00" * 13 + "01") if prefix else bytes(16)
        return frame(bytes([1, int(prefix)]) + addr + bytes([60 if prefix else 128])
                     + struct.pack(">IQII", n, 1_800_000_000 + n, 3600, 7200)
                     + bytes([0, (n % 2 == 0) | (prefix << 1)]) + via
                     + bytes([len(duid)]) + duid + bytes([4]) + b"lan0")
    def remove(n):
        return frame(bytes([2, 0]) + bytes.fromhex("20010db80001" + "00" * 8 + "%04x" % n) + bytes([128]))
    magic = b"v6rlease"
    recs = [upsert(1, False), upsert(2, True), upsert(3, False), remove(1), upsert(4, True)]
    img = magic + b"".join(recs)
    put(magic)
    put(img)
    put(img + bytes(64))
    put(img + bytes(40) + bytes([40, 0, 0, 0, 1, 2]))
    put(img[:-7])
    put(img[:len(magic) + len(recs[0]) + 5])
    flipped = bytearray(img); flipped[len(magic) + len(recs[0]) + 20] ^= 0xff; put(bytes(flipped))
    badlen = bytearray(img); badlen[len(magic) + len(recs[0]) + 3] = 0x7f; put(bytes(badlen))
    put(magic[:3])
elif target == "config_load":
    for p in glob.glob(f"{root}/config/*.toml"): put(open(p, "rb").read())
    for p in glob.glob(f"{root}/docs/*.md"):
        for block in re.findall(r"```toml\n(.*?)```", open(p, encoding="utf-8").read(), re.S):
            put(block.encode())
elif target == "control_request":
    cmds = ["show status", "sh int", "show ra eth0", "show leases", "show dhcpv6",
            "show route for 2001:db8::1 protocol ripng", "sh ro", "show rip neighbors",
            "show rip interfaces", "show protocols", "show tunnels", "show uplink",
            "uplink renew", "uplink release", "reload", "help"]
    for c in cmds: put(c.encode())
    for j in ['{"cmd":"show_status"}', '{"cmd":"show_ra","iface":"eth0"}',
              '{"cmd":"show_route","target":"2001:db8::/32","protocol":"ripng"}',
              '{"cmd":"uplink_renew"}', '{"cmd":"reload"}']:
        put(j.encode())
print(len(os.listdir(out)))
PY
}

mkdir -p "$jobs_log"
echo "building ${#targets[@]} fuzz targets (cargo +nightly fuzz build ${flags[*]})..." >&2
: >"$jobs_log/build.log"
# One bin that no longer builds must not stop the others: build each target
# (cargo fuzz run would too) and mark the broken ones build-failed.
for t in "${targets[@]}"; do
    if ! (cd "$fuzz" && cargo +nightly fuzz build "${flags[@]}" --target-dir "$tdir" "$t" >>"$jobs_log/build.log" 2>&1); then
        echo "fuzz target $t does not build (log: $jobs_log/build.log)" >&2
    fi
done

fail=0
rows=()
for t in "${targets[@]}"; do
    nseeds=$(seed "$t")
    mkdir -p "$fuzz/artifacts/$t"
    # crash-*, leak-*, oom-*, timeout-* are failures; slow-unit-* is not (a
    # step of the wall clock, which libFuzzer times units with, makes one).
    bad() { find "$fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l; }
    before=$(bad)
    log="$jobs_log/$t.log"
    # -runs=0 would mean "run only the corpus"; leave it out unless asked.
    extra=()
    [ "$runs" != 0 ] && extra+=("-runs=$runs")
    (cd "$fuzz" && cargo +nightly fuzz run "${flags[@]}" --target-dir "$tdir" "$t" "corpus/$t" -- \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" "${extra[@]}" "${fargs[@]}") >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    fi
    secs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE '[0-9]+ second' | grep -oE '[0-9]+')
    after=$(bad)
    crashes=$((after - before))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # died without an artifact (e.g. out of memory in the harness)
        if grep -q 'failed to build fuzz script' "$log"; then
            crashes="build-failed"
        fi
    fi
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
    corpus=$(find "$fuzz/corpus/$t" -type f | wc -l)
    rows+=("$(printf '%-18s %12s %8s %6s %7s %7s %s' "$t" "${execs:-0}" "${secs:-$SECS}" "${cov:-?}" "$nseeds" "$corpus" "$crashes")")
    if [ "$crashes" != 0 ]; then
        fail=1
        echo "CRASH in $t (rc $rc, $crashes): see $log and fuzz/artifacts/$t/" >&2
        grep -m5 -E 'panicked at|ERROR: libFuzzer|SUMMARY|^error' "$log" >&2
    fi
done

printf '%-18s %12s %8s %6s %7s %7s %s\n' target executions seconds cov seeds corpus crashes
printf '%s\n' "${rows[@]}"
exit $fail
