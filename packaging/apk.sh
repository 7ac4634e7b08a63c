#!/usr/bin/env bash
# Build OpenWrt .apk packages (apk-tools v3 "ADB" format; OpenWrt 25.12 and
# later, and snapshots) of v6router, the way include/package-pack.mk does
# with CONFIG_USE_APK: the package root gets /lib/apk/packages/<pkg>.list,
# .conffiles and .conffiles_static, and `apk mkpkg` writes the package.
#
# The package writer is a real apk-tools v3 `apk mkpkg` when one is on PATH
# (or named by $APK), else `v6-mkapk mkpkg` (crates/mkapk, built here from
# the workspace for the build host): same options, same bytes inside the
# compression (checked against apk-tools' mkpkg by crates/mkapk's fixture
# test). Debian 12 has no apk-tools package, so that is the usual case.
# Output: $OUT_DIR/<arch>/v6router-<version>.apk
#
# Usage: packaging/apk.sh [ARCH...]   (same arches and environment as
# packaging/ipk.sh). Prints the path of each package built.
# Environment: APK (an apk-tools v3 `apk`; when set it must be one),
#   V6_MKAPK (a v6-mkapk binary to use instead of building it).
set -euo pipefail
# shellcheck source=packaging/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# is_apk3 CMD: an apk-tools v3 with the mkpkg applet (v2, Alpine's classic
# apk, prints "apk-tools 2.x" and has no mkpkg). Not by `mkpkg --help`
# alone: apk-tools built with -Dhelp=disabled (as OpenWrt's host build and
# tests/packaging/check.sh's are) fails that with "built without help";
# an unknown applet is "not an apk command", whatever the help build.
is_apk3() {
    "$1" --version 2>/dev/null | grep -q '^apk-tools 3' || return 1
    "$1" mkpkg --help >/dev/null 2>&1 && return 0
    ! "$1" mkpkg 2>&1 | grep -q 'is not an apk command'
}
if [ -n "${APK:-}" ]; then
    if ! command -v "$APK" >/dev/null 2>&1 || ! is_apk3 "$APK"; then
        echo "apk.sh: APK=$APK is not apk-tools v3 with mkpkg ($("$APK" --version 2>&1 | head -1))" >&2
        exit 3
    fi
    MKPKG=("$APK" mkpkg)
    WRITER=apk
elif command -v apk >/dev/null 2>&1 && is_apk3 apk; then
    MKPKG=(apk mkpkg)
    WRITER=apk
else
    if [ -z "${V6_MKAPK:-}" ]; then
        (cd "$REPO" && cargo build -q -p mkapk --bin v6-mkapk) || {
            echo "apk.sh: building v6-mkapk failed" >&2
            exit 3
        }
        V6_MKAPK=$CARGO_TARGET_DIR/debug/v6-mkapk
    fi
    MKPKG=("$V6_MKAPK" mkpkg)
    WRITER=v6-mkapk
fi
echo "apk.sh: package writer: ${MKPKG[*]}" >&2

ARCHES=("$@")
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=("${DEFAULT_ARCHES[@]}")
OUT_DIR=${OUT_DIR:-$CARGO_TARGET_DIR/packages}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

build_for_arches "${ARCHES[@]}"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Scripts as package-pack.mk generates them for apk: default_postinst /
# default_prerm from /lib/functions.sh find the init scripts to enable,
# start, stop and disable through /lib/apk/packages/$pkgname.list.
write_scripts() { # DIR
    cat >"$1/post-install" <<EOF
#!/bin/sh
[ "\${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s \${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. \${IPKG_INSTROOT}/lib/functions.sh
export root="\${IPKG_INSTROOT}"
export pkgname="$PKG_NAME"
add_group_and_user
default_postinst
EOF
    { echo '#!/bin/sh'; echo 'export PKG_UPGRADE=1'; sed '/^\s*#!/d' "$1/post-install"; } \
        >"$1/post-upgrade"
    cat >"$1/pre-deinstall" <<EOF
#!/bin/sh
[ -s \${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. \${IPKG_INSTROOT}/lib/functions.sh
export root="\${IPKG_INSTROOT}"
export pkgname="$PKG_NAME"
default_prerm
EOF
    chmod 0755 "$1/post-install" "$1/post-upgrade" "$1/pre-deinstall"
}

# Files are root-owned in the package: apk mkpkg records the owner it sees
# (so fakeroot for it), v6-mkapk always writes root.
FAKEROOT=()
[ "$(id -u)" = 0 ] || [ "$WRITER" = v6-mkapk ] || FAKEROOT=(fakeroot)

for arch in "${ARCHES[@]}"; do
    root=$WORK/$arch/root
    scripts=$WORK/$arch/scripts
    stage_root "$root" "$arch"
    install -d -m 0755 "$scripts" "$root/lib" "$root/lib/apk" "$root/lib/apk/packages"
    meta=$root/lib/apk/packages/$PKG_NAME
    # The .list is every file and symlink, taken before the .list and
    # .conffiles* themselves exist (package-pack.mk order).
    (cd "$root" && find . \( -type f -o -type l \) -printf '/%P\n' | LC_ALL=C sort) >"$scripts/list"
    mv "$scripts/list" "$meta.list"
    printf '%s\n' "${CONFFILES[@]}" >"$meta.conffiles"
    : >"$meta.conffiles_static"
    for f in "${CONFFILES[@]}"; do
        [ -f "$root$f" ] || continue
        echo "$f $(sha256sum "$root$f" | cut -d' ' -f1)" >>"$meta.conffiles_static"
    done
    chmod 0644 "$meta".*
    write_scripts "$scripts"
    # OpenWrt names apk files <pkg>-<version>.apk (no arch), so one
    # directory per arch, as in its package feeds.
    mkdir -p "$OUT_DIR/$arch"
    pkg=$OUT_DIR/$arch/$PKG_NAME-$VERSION.apk
    info=(--info "name:$PKG_NAME" --info "version:$VERSION"
        --info "description:$(tr '\n' ' ' <<<"$PKG_DESCRIPTION" | sed 's/ *$//')"
        --info "arch:$arch" --info "license:$PKG_LICENSE" --info "origin:$PKG_NAME"
        --info "url:$PKG_URL" --info "maintainer:$PKG_MAINTAINER"
        --info "depends:")
    SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH "${FAKEROOT[@]}" "${MKPKG[@]}" "${info[@]}" \
        --script "post-install:$scripts/post-install" \
        --script "post-upgrade:$scripts/post-upgrade" \
        --script "pre-deinstall:$scripts/pre-deinstall" \
        --files "$root" --output "$pkg"
    echo "$pkg"
done
