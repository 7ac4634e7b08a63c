# shellcheck shell=bash disable=SC2034 # variables for the scripts that source it
# Shared by packaging/ipk.sh and packaging/apk.sh (sourced, bash).
# Package metadata, OpenWrt arch -> Rust target mapping, and the staging
# of the package's root file system.

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
PROFILE=${CARGO_PROFILE:-release}

PKG_NAME=v6router
# [workspace.package] version in the root Cargo.toml is the one version.
PKG_VERSION=${PKG_VERSION:-$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml")}
PKG_RELEASE=${PKG_RELEASE:-1}
# OpenWrt's VERSION: PKG_VERSION-rPKG_RELEASE (include/package.mk); valid
# for opkg and for apk (apk-package(5): "-r<number>" is the package release).
VERSION=$PKG_VERSION-r$PKG_RELEASE
PKG_LICENSE=${PKG_LICENSE:-$(sed -n '/^\[workspace.package\]/,/^\[/s/^license *= *"\(.*\)"/\1/p' "$REPO/Cargo.toml")}
PKG_SECTION=net
PKG_URL=${PKG_URL:-}
PKG_MAINTAINER=${PKG_MAINTAINER:-}
PKG_CONFIG=${PKG_CONFIG:-$REPO/packaging/openwrt/files/v6router.toml}
# One-paragraph description, as in a feed Makefile's Package/x/description.
PKG_DESCRIPTION="IPv6 control plane for home routers in one daemon: Router
Advertisements (like radvd), a DHCPv6 server with prefix delegation, a
DHCPv6-PD client for the uplink, RIPng and 6in4 (SIT) tunnels. Configured
by /etc/v6router.toml; v6ctl shows its state with birdc-like output."
CONFFILES=(/etc/v6router.toml /etc/config/v6router)

# Reproducible archives: the commit's time unless SOURCE_DATE_EPOCH is set
# (ipkg-build uses PKG_SOURCE_DATE_EPOCH / SOURCE_DATE_EPOCH the same way).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH

# OpenWrt package architecture -> Rust target. The static binaries do not
# depend on the CPU tuning OpenWrt uses for its own C code, only on the
# instruction set and float ABI: every aarch64_* package holds one build,
# every armv7 package with a VFP one (armv7-a, Thumb-2, VFPv3-D16, hard
# float: runs on cortex-a7/a8/a9/a15 with vfpv3-d16, vfpv4 or NEON), and
# the MIPS packages mips32r2 soft-float o32 builds -- OpenWrt's own ABI on
# mips_24kc (ath79) and mipsel_24kc (ramips mt7621), also 74kc/4kec/1004kc.
# Not mapped: mips*_mips32 (MIPS32 release 1 lacks r2 instructions) and ARM
# without an FPU (arm_cortex-a9, arm_arm926ej-s...): a soft-float build would
# be needed.
# Every package of these is at most 1 MiB (tests/packaging/check.sh).
DEFAULT_ARCHES=(x86_64 aarch64_cortex-a53 aarch64_generic arm_cortex-a7_neon-vfpv4
    arm_cortex-a9_vfpv3-d16 mipsel_24kc mips_24kc)
rust_target_for() {
    case $1 in
    x86_64) echo x86_64-unknown-linux-musl ;;
    aarch64_generic | aarch64_cortex-a53 | aarch64_cortex-a72 | aarch64_cortex-a76)
        echo aarch64-unknown-linux-musl ;;
    arm_cortex-a7_neon-vfpv4 | arm_cortex-a7_vfpv4 | arm_cortex-a9_vfpv3-d16 | arm_cortex-a9_neon | \
        arm_cortex-a8_vfpv3 | arm_cortex-a15_neon-vfpv4)
        echo armv7-unknown-linux-musleabihf ;;
    mipsel_24kc | mipsel_74kc | mipsel_1004kc) echo mipsel-unknown-linux-musl ;;
    mips_24kc | mips_4kec | mips_74kc) echo mips-unknown-linux-musl ;;
    *) return 1 ;;
    esac
}

# qemu-user binary that runs an OpenWrt arch's binaries on this PC (empty
# for the build machine's own arch). Debian's qemu-user-static.
qemu_for() {
    case $(rust_target_for "$1") in
    x86_64-*) [ "$(uname -m)" = x86_64 ] || echo qemu-x86_64-static ;;
    aarch64-*) echo qemu-aarch64-static ;;
    armv7-*) echo qemu-arm-static ;;
    mipsel-*) echo qemu-mipsel-static ;;
    mips-*) echo qemu-mips-static ;;
    esac
}

bin_dir_for() { # RUST_TARGET
    local d=$PROFILE
    [ "$d" = dev ] && d=debug
    echo "$CARGO_TARGET_DIR/$1/$d"
}

# Build the binaries the given OpenWrt arches need (one cargo run for all
# their Rust targets) unless V6_NO_BUILD=1.
build_for_arches() {
    [ "${V6_NO_BUILD:-0}" = 1 ] && return 0
    local targets=() a t
    for a in "$@"; do
        t=$(rust_target_for "$a") || { echo "unknown OpenWrt arch: $a" >&2; return 1; }
        [[ " ${targets[*]} " == *" $t "* ]] || targets+=("$t")
    done
    "$REPO/packaging/build.sh" "${targets[@]}" >/dev/null
}

# stage_root DIR ARCH: the package's files, root-owned modes set explicitly
# (the archives are written with --owner=0 --group=0, as under fakeroot).
stage_root() {
    local root=$1 arch=$2 bin
    bin=$(bin_dir_for "$(rust_target_for "$arch")")
    [ -f "$PKG_CONFIG" ] || { echo "missing config: $PKG_CONFIG" >&2; return 1; }
    rm -rf "$root"
    install -d -m 0755 "$root" "$root/usr" "$root/usr/sbin" "$root/etc" "$root/etc/init.d"
    install -m 0755 "$bin/v6routerd" "$root/usr/sbin/v6routerd"
    # One multi-call binary: v6routerd is v6ctl when called by that name
    # (busybox-style, crates/v6ctl). Saves a second copy of std and serde.
    ln -s v6routerd "$root/usr/sbin/v6ctl"
    # 0600 like OpenWrt's INSTALL_CONF (the daemon runs as root there).
    install -m 0600 "$PKG_CONFIG" "$root/etc/v6router.toml"
    install -m 0755 "$REPO/packaging/openwrt/files/v6routerd.init" "$root/etc/init.d/v6routerd"
    # As the SDK Makefile: source 'uci' (INSTALL_CONF), the capabilities
    # procd gives the daemon, and sysupgrade keeping state_dir (INSTALL_DATA).
    local f=$REPO/packaging/openwrt/files
    install -d -m 0755 "$root/etc/config" "$root/etc/capabilities" "$root/lib" "$root/lib/upgrade" "$root/lib/upgrade/keep.d"
    install -m 0600 "$f/v6router.config" "$root/etc/config/v6router"
    install -m 0644 "$f/v6routerd.capabilities" "$root/etc/capabilities/v6routerd.json"
    install -m 0644 "$f/v6router.keep" "$root/lib/upgrade/keep.d/v6router"
}

# reproducible_tar DIR: GNU tar of DIR's contents ("./", "./etc/", ...) on
# stdout, like ipkg-build: numeric root owner, sorted names, fixed mtime.
reproducible_tar() {
    local dir=$1
    shift
    [ $# -gt 0 ] || set -- .
    (cd "$dir" && tar --format=gnu --numeric-owner --owner=0 --group=0 \
        --sort=name --mtime="@$SOURCE_DATE_EPOCH" -cf - "$@")
}
