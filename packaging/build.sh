#!/usr/bin/env bash
# Build static (musl) release binaries of v6routerd and v6ctl for the
# targets OpenWrt routers run, without a C cross toolchain: the crates are
# pure Rust, and rust-lld (shipped with rustup) links musl's self-contained
# CRT objects.
#
# Usage: packaging/build.sh [TARGET...]
#   TARGET defaults to: x86_64-unknown-linux-musl aarch64-unknown-linux-musl
# Environment:
#   CARGO_TARGET_DIR  where cargo builds (default: <repo>/target)
#   CARGO_PROFILE     cargo profile (default: release; see [profile.release]
#                     in Cargo.toml: opt-level z, LTO, panic=abort, strip)
#   V6_INSTALL_TARGETS=0  do not run `rustup target add` (offline machines)
#   V6_CARGO_LOCKED=1     build with --locked (release builds: fail if
#                         Cargo.lock is not in step with the Cargo.toml files)
#   V6_BUILD_STD=1        smaller binaries: rebuild std for size with the
#                         nightly toolchain (V6_NIGHTLY, default "nightly"),
#                         -Zbuild-std, -Cpanic=immediate-abort (a panic aborts
#                         without a message) and no unwind tables. Needs the
#                         rust-src component and the target's rust-std (its
#                         self-contained musl CRT) for that toolchain. Measured
#                         on aarch64: v6routerd -40 %, v6ctl -65 % (see
#                         tests/bench/size.sh). Not the default: unstable flags.
#
# Output: $CARGO_TARGET_DIR/<target>/<profile>/{v6routerd,v6ctl}; the last
# lines printed are "<target> <path-to-v6routerd> <path-to-v6ctl>".
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
PROFILE=${CARGO_PROFILE:-release}
V6_CARGO_LOCKED=${V6_CARGO_LOCKED-0}
[ "$V6_CARGO_LOCKED" = 0 ] && V6_CARGO_LOCKED=
# cargo's output directory for the "dev" profile is "debug".
PROFILE_DIR=$PROFILE
[ "$PROFILE" = dev ] && PROFILE_DIR=debug

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
fi

if [ "${V6_INSTALL_TARGETS:-1}" = 1 ] && command -v rustup >/dev/null; then
    tc=()
    if [ "${V6_BUILD_STD:-0}" = 1 ]; then
        tc=(--toolchain "${V6_NIGHTLY:-nightly}")
        rustup component add rust-src "${tc[@]}" >&2
    fi
    installed=$(rustup target list --installed "${tc[@]}")
    for t in "${TARGETS[@]}"; do
        grep -qx "$t" <<<"$installed" || rustup target add "$t" "${tc[@]}" >&2
    done
fi

results=()
for t in "${TARGETS[@]}"; do
    # CARGO_TARGET_<TRIPLE>_LINKER, triple upper-cased with '-' -> '_'.
    var=CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$t")_LINKER
    export "$var=${!var:-rust-lld}"
    # musl targets are statically linked by default (crt-static); say so
    # explicitly so a RUSTFLAGS from the environment cannot turn it off
    # by accident, and keep any flags the caller set.
    tvar=CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$t")_RUSTFLAGS
    flags="-C target-feature=+crt-static"
    case $t in
    aarch64-*)
        # Cortex-A53 erratum 843419 (ADRP at page offset 0xff8/0xffc): the
        # linker moves such sequences out of harm's way, as GCC toolchains
        # for aarch64 Linux do by default. The generic aarch64 build is also
        # the aarch64_cortex-a53 package, so it is always on. (Erratum
        # 835769 needs a codegen change that rustc only offers as an
        # unstable target feature; it stays off, as in GCC's default build.)
        flags="$flags -C link-arg=--fix-cortex-a53-843419"
        ;;
    esac
    toolchain=() buildstd=()
    if [ "${V6_BUILD_STD:-0}" = 1 ]; then
        toolchain=("+${V6_NIGHTLY:-nightly}")
        # shellcheck disable=SC2054 # one argument with a comma in it
        buildstd=(-Zbuild-std=std,panic_abort)
        flags="$flags -Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no"
    fi
    export "$tvar=${!tvar:+${!tvar} }$flags"
    echo ">> cargo ${toolchain[*]} build --profile $PROFILE --target $t -p v6routerd -p v6ctl ${buildstd[*]}" >&2
    (cd "$REPO" && cargo "${toolchain[@]}" build ${V6_CARGO_LOCKED:+--locked} --profile "$PROFILE" \
        --target "$t" -p v6routerd -p v6ctl "${buildstd[@]}" >&2)
    out=$CARGO_TARGET_DIR/$t/$PROFILE_DIR
    for b in v6routerd v6ctl; do
        [ -x "$out/$b" ] || { echo "build.sh: $out/$b missing" >&2; exit 1; }
        # A static binary has no PT_INTERP / NEEDED entries; refuse to ship
        # anything that would look for a dynamic loader on the router.
        if command -v readelf >/dev/null &&
            readelf -lW "$out/$b" | grep -q 'Requesting program interpreter'; then
            echo "build.sh: $out/$b is dynamically linked" >&2
            exit 1
        fi
    done
    results+=("$t $out/v6routerd $out/v6ctl")
done
printf '%s\n' "${results[@]}"
