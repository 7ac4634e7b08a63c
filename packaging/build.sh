#!/usr/bin/env bash
# Build static (musl) release binaries of v6routerd (and v6ctl, the same
# binary under another name: a multi-call binary, see crates/v6ctl) for the
# CPUs OpenWrt routers run, in ONE cargo invocation for all targets.
#
# Usage: packaging/build.sh [TARGET...]
#   TARGET defaults to x86_64-unknown-linux-musl aarch64-unknown-linux-musl
#   armv7-unknown-linux-musleabihf mipsel-unknown-linux-musl
#   mips-unknown-linux-musl
#
# How, and why each step:
# - A pinned nightly ($V6_NIGHTLY) with rust-src, and -Zbuild-std: the MIPS
#   targets are tier 3 (no prebuilt std at all), and rebuilding std for size
#   with -Cpanic=immediate-abort and no unwind tables is what brings every
#   package under 1 MiB (docs/openwrt.md, "Sizes"). Pinned so that two
#   machines build the same bytes and a new nightly cannot break the build.
# - A musl sysroot (crt1.o, crti.o, crtn.o, libc.a) per cross target, built
#   here from Debian's musl source package with Debian's cross gcc: a
#   build-std link needs libc.a and the C start files, which rustup only ships
#   (in rust-std's self-contained/) for tier-2 targets -- never for MIPS, and
#   the pinned nightly's mirror has no aarch64/armv7 musl rust-std either
#   (measured: "component 'rust-std' for target 'aarch64-unknown-linux-musl'
#   is unavailable"). rustc finds the start files on the -L native= path
#   (get_object_file_path) and rust-lld links; no C code of ours is compiled.
#   x86_64 uses rustup's self-contained musl (its rust-std is available).
# - crtbegin.o/crtend.o are empty objects: they only carry .ctors/.dtors and
#   EH-frame registration, which a Rust static binary (init_array, no
#   unwinding) does not use.
#
# Environment:
#   CARGO_TARGET_DIR  where cargo builds (default: <repo>/target); the musl
#                     sysroots go to $CARGO_TARGET_DIR/musl-sysroot/<target>
#   CARGO_PROFILE     cargo profile (default: release: opt-level z, LTO,
#                     panic=abort, strip)
#   V6_NIGHTLY        toolchain (default: the pinned nightly below)
#   V6_INSTALL=0      install nothing (no rustup, no apt-get): offline
#   V6_CARGO_LOCKED=1 build with --locked
#   V6_SYSROOT_ONLY=1 only install the toolchain and make the sysroots
#
# Output: $CARGO_TARGET_DIR/<target>/<profile>/v6routerd; the last lines
# printed are "<target> <path-to-v6routerd>".
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR=$(cd "$CARGO_TARGET_DIR" && pwd)
PROFILE=${CARGO_PROFILE:-release}
# Pinned: nightly of 2026-05-20 (rustc 1.97.0-nightly e50aa6fba 2026-05-19),
# the one the fuzz targets use; -Cpanic=immediate-abort is spelled this way
# there (older nightlies: -Zbuild-std-features=panic_immediate_abort).
V6_NIGHTLY=${V6_NIGHTLY:-nightly-2026-05-20}
V6_CARGO_LOCKED=${V6_CARGO_LOCKED-0}
[ "$V6_CARGO_LOCKED" = 0 ] && V6_CARGO_LOCKED=
PROFILE_DIR=$PROFILE
[ "$PROFILE" = dev ] && PROFILE_DIR=debug

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf
        mipsel-unknown-linux-musl mips-unknown-linux-musl)
fi

# Debian cross compiler prefix and musl CFLAGS for a target that gets a
# sysroot of ours; nothing for x86_64 (rustup's self-contained musl).
# CFLAGS follow the Rust target specs (rustc --print target-spec-json):
# mips*: mips32r2 soft-float o32 (also OpenWrt's mips_24kc/mipsel_24kc ABI);
# armv7: v7 thumb2 vfpv3-d16 hard-float (OpenWrt's cortex-a7/a9 run it).
cross_for() {
    case $1 in
    aarch64-unknown-linux-musl) echo "aarch64-linux-gnu|" ;;
    armv7-unknown-linux-musleabihf) echo "arm-linux-gnueabihf|-march=armv7-a -mthumb -mfpu=vfpv3-d16 -mfloat-abi=hard" ;;
    mipsel-unknown-linux-musl) echo "mipsel-linux-gnu|-march=mips32r2 -msoft-float -mabi=32" ;;
    mips-unknown-linux-musl) echo "mips-linux-gnu|-march=mips32r2 -msoft-float -mabi=32" ;;
    *) return 1 ;;
    esac
}

SUDO=()
[ "$(id -u)" = 0 ] || SUDO=(sudo)
APT_UPDATED=
apt_install() { # PKG...: install the missing ones
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    [ "${V6_INSTALL:-1}" = 1 ] || { echo "build.sh: missing ${missing[*]} (V6_INSTALL=0)" >&2; return 1; }
    echo "build.sh: apt-get install ${missing[*]}" >&2
    [ -n "$APT_UPDATED" ] || { "${SUDO[@]}" apt-get update -qq >&2; APT_UPDATED=1; }
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >&2
}

# --- toolchain ---------------------------------------------------------------
if [ "${V6_INSTALL:-1}" = 1 ]; then
    if ! rustup run "$V6_NIGHTLY" rustc --version >/dev/null 2>&1 ||
        ! rustup component list --toolchain "$V6_NIGHTLY" --installed | grep -q '^rust-src'; then
        rustup toolchain install "$V6_NIGHTLY" --profile minimal -c rust-src >&2
    fi
    for t in "${TARGETS[@]}"; do
        if ! cross_for "$t" >/dev/null; then
            rustup target list --toolchain "$V6_NIGHTLY" --installed | grep -qx "$t" ||
                rustup target add --toolchain "$V6_NIGHTLY" "$t" >&2
        fi
    done
fi

# --- musl sysroots -------------------------------------------------------------
SYSROOTS=$CARGO_TARGET_DIR/musl-sysroot
musl_source() { # -> prints the unpacked source dir (Debian's musl, patches applied)
    local d=$SYSROOTS/src
    if [ ! -f "$d/done" ]; then
        apt_install dpkg-dev
        rm -rf "$d"
        mkdir -p "$d/apt/lists/partial" "$d/dl"
        # A private deb-src list: the system's apt configuration is left as
        # it is (Debian 12 images have no deb-src lines).
        echo "deb-src http://deb.debian.org/debian bookworm main" >"$d/apt/sources.list"
        local opts=(-o "Dir::Etc::SourceList=$d/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$d/apt/lists" -o APT::Sandbox::User=root)
        apt-get -qq "${opts[@]}" update >&2
        (cd "$d/dl" && apt-get -qq "${opts[@]}" source --download-only musl >&2)
        dpkg-source -x "$d"/dl/musl_*.dsc "$d/musl" >&2
        touch "$d/done"
    fi
    echo "$d/musl"
}
build_sysroot() { # TARGET -> prints the sysroot's lib dir
    local t=$1 spec gcc cflags out src b
    spec=$(cross_for "$t")
    gcc=${spec%%|*}-gcc
    cflags=${spec#*|}
    out=$SYSROOTS/$t
    # Rebuilt when the recipe (compiler, flags, musl version) changes.
    local stamp
    src=$(musl_source)
    stamp="$($gcc --version | head -1) | $cflags | $(cat "$src/VERSION") | $(sed -n '1s/.*(\(.*\)).*/\1/p' "$src/debian/changelog") | $(sha256sum <"$REPO/packaging/unwind-stub.c")"
    if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then
        echo "$out/lib"
        return
    fi
    echo "build.sh: musl $(cat "$src/VERSION") for $t with $gcc $cflags" >&2
    b=$SYSROOTS/build-$t
    rm -rf "$b" "$out"
    cp -a "$src" "$b"
    (cd "$b" && ./configure --target="${spec%%|*}" CC="$gcc" --prefix=/ --disable-shared \
        CFLAGS="-Os -fPIC -ffunction-sections -fdata-sections -ffile-prefix-map=$b=musl $cflags" >&2 &&
        make -s -j"$(nproc)" >&2 && make -s install-libs DESTDIR="$out" >&2)
    # Empty crtbegin.o/crtend.o (see the header).
    : >"$b/empty.c"
    # shellcheck disable=SC2086 # the flags are words
    $gcc $cflags -c "$b/empty.c" -o "$out/lib/crtbegin.o"
    cp "$out/lib/crtbegin.o" "$out/lib/crtend.o"
    # std's `unwind` crate links -lunwind on musl even with
    # panic=immediate-abort (measured: "rust-lld: error: unable to find
    # library -lunwind"); rustup's self-contained libunwind.a does not exist
    # for these targets, so a stub (packaging/unwind-stub.c): the release
    # binaries never unwind, and a test binary's panic aborts instead.
    # shellcheck disable=SC2086 # the flags are words
    $gcc $cflags -Os -fPIC -c "$REPO/packaging/unwind-stub.c" -o "$b/unwind-stub.o"
    ar rcD "$out/lib/libunwind.a" "$b/unwind-stub.o"
    rm -rf "$b"
    echo "$stamp" >"$out/stamp"
    echo "$out/lib"
}

need=()
for t in "${TARGETS[@]}"; do
    spec=$(cross_for "$t") || continue
    need+=("gcc-${spec%%|*}")
done
need+=(make)
apt_install "${need[@]}"

# V6_SYSROOT_ONLY=1: make the toolchain and sysroots, print each sysroot's
# lib dir, build nothing (tests/packaging/check.sh's big-endian unit tests).
if [ "${V6_SYSROOT_ONLY:-0}" = 1 ]; then
    for t in "${TARGETS[@]}"; do
        if cross_for "$t" >/dev/null; then echo "$t $(build_sysroot "$t")"; fi
    done
    exit 0
fi

# --- per-target flags, then one cargo run -------------------------------------
targs=()
for t in "${TARGETS[@]}"; do
    U=$(tr 'a-z-' 'A-Z_' <<<"$t")
    var=CARGO_TARGET_${U}_LINKER
    export "$var=${!var:-rust-lld}"
    # crt-static said explicitly so a RUSTFLAGS from the environment cannot
    # turn it off. immediate-abort: a panic aborts without formatting a
    # message (the daemon runs under procd respawn; the messages and their
    # formatting machinery are ~1/3 of the binary). Paths remapped so the
    # build directory does not end up in the binary.
    flags="-C target-feature=+crt-static -Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no"
    # No file/line/column in panic locations: with immediate-abort nothing
    # ever prints them, yet every #[track_caller] site kept its source path
    # string and a Location record in .rodata.
    flags="$flags -Zlocation-detail=none"
    # Identical code folding in rust-lld: monomorphized copies that compile
    # to the same machine code (drop glue, Vec/BTreeMap helpers over types
    # of one layout) are kept once. Rust promises no distinct addresses for
    # distinct functions, so --icf=all is sound for Rust code. Saved
    # 36,196 B of v6routerd and 11,288 B of the gzip'd binary on MIPS
    # (docs/openwrt.md, "Sizes").
    flags="$flags -C link-arg=--icf=all"
    flags="$flags --remap-path-prefix=$REPO=/v6router --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
    flags="$flags --remap-path-prefix=$(rustc "+$V6_NIGHTLY" --print sysroot)=/rust"
    if cross_for "$t" >/dev/null; then
        lib=$(build_sysroot "$t")
        flags="$flags -L native=$lib"
    fi
    case $t in
    aarch64-*)
        # Cortex-A53 erratum 843419 (ADRP at page offset 0xff8/0xffc): the
        # linker moves such sequences out of harm's way, as GCC toolchains
        # for aarch64 Linux do by default. The generic aarch64 build is also
        # the aarch64_cortex-a53 package, so it is always on.
        flags="$flags -C link-arg=--fix-cortex-a53-843419"
        ;;
    armv7-*)
        # Thumb-2 code, as Rust's thumbv7neon-* targets and OpenWrt's own
        # ARM C builds use: every cortex-a7/a9 runs it, and it is about a
        # third smaller than ARM code (v6routerd 2,164,796 -> 1,470,740 B,
        # gzip'd 1,137,169 -> 991,179: the armv7 packages fit in 1 MiB).
        # musl's crt1.o and libc.a above are Thumb-2 already (-mthumb).
        flags="$flags -C target-feature=+thumb-mode"
        ;;
    mips*)
        # Non-PIC code: a static binary needs no position independence, and
        # MIPS PIC (abicalls: every call and global through the GOT and $gp)
        # costs ~14% of the code (gzip'd binary 1,296,257 -> 1,128,166 B,
        # mipsel). +noabicalls is "unstable" to rustc (a warning per crate)
        # but is LLVM's own MIPS feature; lld warns that musl's crt1.o is
        # abicalls code, which is harmless in a static link (it is only
        # called from the kernel's entry point).
        flags="$flags -C relocation-model=static -C target-feature=+noabicalls"
        ;;
    esac
    tvar=CARGO_TARGET_${U}_RUSTFLAGS
    export "$tvar=${!tvar:+${!tvar} }$flags"
    targs+=(--target "$t")
done

# std's optimize_for_size feature: core/alloc pick their small variants
# (a plain merge sort instead of driftsort/quicksort, whose every
# instantiation -- 19 of them here (sort/sort_by/sort_by_key) -- was ~80 kB of
# MIPS code; smaller integer formatting and float parsing tables). Saved
# 73,508 B of v6routerd and 27,655 B gzip'd on MIPS. Sorting is of config
# and show lists of at most a few thousand entries.
bstd=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
echo ">> cargo +$V6_NIGHTLY build --profile $PROFILE ${targs[*]} -p v6routerd ${bstd[*]}" >&2
# shellcheck disable=SC2054 # one argument with a comma in it
(cd "$REPO" && cargo "+$V6_NIGHTLY" build ${V6_CARGO_LOCKED:+--locked} --profile "$PROFILE" \
    "${targs[@]}" -p v6routerd "${bstd[@]}" >&2)

results=()
for t in "${TARGETS[@]}"; do
    out=$CARGO_TARGET_DIR/$t/$PROFILE_DIR
    [ -x "$out/v6routerd" ] || { echo "build.sh: $out/v6routerd missing" >&2; exit 1; }
    # A static binary has no PT_INTERP / NEEDED entries; refuse to ship
    # anything that would look for a dynamic loader on the router.
    if command -v readelf >/dev/null &&
        readelf -lW "$out/v6routerd" | grep -q 'Requesting program interpreter'; then
        echo "build.sh: $out/v6routerd is dynamically linked" >&2
        exit 1
    fi
    # MIPS: LLVM writes a .pdr (procedure descriptors, for old debuggers)
    # that no loader reads and lld does not strip: ~27 kB of the gzip'd
    # package. Removed with Debian's cross objcopy (comes with the gcc).
    # Idempotent, so a binary cargo did not relink is left as it is.
    if [[ $t == mips* ]]; then
        spec=$(cross_for "$t")
        "${spec%%|*}-objcopy" -R .pdr -R .comment "$out/v6routerd"
    fi
    results+=("$t $out/v6routerd")
done
printf '%s\n' "${results[@]}"
