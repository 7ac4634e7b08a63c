#!/usr/bin/env bash
# Build OpenWrt .ipk packages (opkg; OpenWrt 24.10 and older) of v6router
# without the OpenWrt SDK, byte-for-byte in the layout scripts/ipkg-build
# and include/package-pack.mk produce:
#
#   <pkg>_<ver>_<arch>.ipk = gzip(GNU tar of ./debian-binary ./data.tar.gz
#                                 ./control.tar.gz), in that order
#   data.tar.gz            = the package root ("./", "./etc/", ...)
#   control.tar.gz         = ./conffiles ./control ./postinst ./prerm
#
# every tar with --format=gnu --numeric-owner --sort=name and a fixed mtime,
# every gzip with -9n (-9: ~5 kB smaller than the default -6 on MIPS; -n: no name or time), so the same commit gives the same bytes.
#
# Usage: packaging/ipk.sh [ARCH...]
#   ARCH: an OpenWrt package arch (packaging/common.sh rust_target_for);
#   default: x86_64 aarch64_cortex-a53 aarch64_generic
#   arm_cortex-a7_neon-vfpv4 arm_cortex-a9_vfpv3-d16 mipsel_24kc mips_24kc,
#   all built by one cargo run (packaging/build.sh).
# Environment: CARGO_TARGET_DIR (default <repo>/target), OUT_DIR (default
#   $CARGO_TARGET_DIR/packages), PKG_RELEASE (default 1), PKG_CONFIG (the
#   conffile shipped as /etc/v6router.toml, default
#   packaging/openwrt/files/v6router.toml),
#   PKG_URL, PKG_MAINTAINER (fields left out when empty), V6_NO_BUILD=1
#   (package the binaries already built), SOURCE_DATE_EPOCH.
# Prints the path of each package built.
set -euo pipefail
# shellcheck source=packaging/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ARCHES=("$@")
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=("${DEFAULT_ARCHES[@]}")
OUT_DIR=${OUT_DIR:-$CARGO_TARGET_DIR/packages}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

build_for_arches "${ARCHES[@]}"

# control, fields in the order package-pack.mk writes them. No Depends:
# the binaries are static (musl linked in), so not even libc is needed.
write_control() { # FILE ARCH INSTALLED_SIZE
    {
        echo "Package: $PKG_NAME"
        echo "Version: $VERSION"
        echo "SourceName: $PKG_NAME"
        [ -z "$PKG_LICENSE" ] || echo "License: $PKG_LICENSE"
        echo "Section: $PKG_SECTION"
        echo "SourceDateEpoch: $SOURCE_DATE_EPOCH"
        [ -z "$PKG_URL" ] || echo "URL: $PKG_URL"
        [ -z "$PKG_MAINTAINER" ] || echo "Maintainer: $PKG_MAINTAINER"
        echo "Architecture: $2"
        echo "Installed-Size: $3"
        # package-pack.mk: printf "Description: "; echo "$DESCRIPTION" |
        # sed -e 's,^[[:space:]]*, ,g' -- every line starts with one space.
        printf 'Description: '
        sed -e 's,^[[:space:]]*, ,' <<<"$PKG_DESCRIPTION"
    } >"$1"
}

# The maintainer scripts package-pack.mk generates for every package:
# default_postinst enables and starts the shipped /etc/init.d scripts
# (only enables when IPKG_INSTROOT is set, i.e. in an image build);
# default_prerm stops and disables them (lib/functions.sh).
write_scripts() { # DIR
    cat >"$1/postinst" <<'EOF'
#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_postinst $0 $@
EOF
    cat >"$1/prerm" <<'EOF'
#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_prerm $0 $@
EOF
    chmod 0755 "$1/postinst" "$1/prerm"
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for arch in "${ARCHES[@]}"; do
    root=$WORK/$arch/root
    ctl=$WORK/$arch/CONTROL
    tmp=$WORK/$arch/out
    stage_root "$root" "$arch"
    install -d -m 0755 "$ctl" "$tmp"

    reproducible_tar "$root" | gzip -9n >"$tmp/data.tar.gz"
    # ipkg-build: Installed-Size is the size of the uncompressed data.tar.
    installed_size=$(zcat <"$tmp/data.tar.gz" | wc -c)

    write_control "$ctl/control" "$arch" "$installed_size"
    printf '%s\n' "${CONFFILES[@]}" | LC_ALL=C sort >"$ctl/conffiles"
    write_scripts "$ctl"
    chmod 0644 "$ctl/control" "$ctl/conffiles"
    reproducible_tar "$ctl" | gzip -9n >"$tmp/control.tar.gz"

    echo "2.0" >"$tmp/debian-binary"
    chmod 0644 "$tmp/debian-binary" "$tmp/data.tar.gz" "$tmp/control.tar.gz"
    pkg=$OUT_DIR/${PKG_NAME}_${VERSION}_${arch}.ipk
    # Members in ipkg-build's order (not sorted: --sort applies to
    # directory walks, explicit names keep their order).
    reproducible_tar "$tmp" ./debian-binary ./data.tar.gz ./control.tar.gz |
        gzip -n >"$pkg"
    echo "$pkg"
done
