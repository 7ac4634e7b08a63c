#!/usr/bin/env bash
# Install everything the tests and the demo lab need on a fresh Debian 12
# machine (as root). Safe to run again: it only installs what is missing.
set -euo pipefail

PKGS=(iproute2 iputils-ping procps ndisc6 bird2 isc-dhcp-client isc-dhcp-relay isc-dhcp-server
      dhcpcd-base wide-dhcpv6-client wide-dhcpv6-server frr
      kea-admin kea-dhcp6-server
      radvd tshark tcpdump user-mode-linux kmod qemu-user-static
      dnsmasq dnsmasq-base bind9-dnsutils prometheus curl e2fsprogs python3
      # packaging (tests/packaging/check.sh): cross gcc for the musl sysroots
      # packaging/build.sh makes, dpkg-dev for Debian's musl source, and
      # apk-tools v3's build dependencies plus a static busybox for its test root
      gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-mips-linux-gnu gcc-mipsel-linux-gnu
      dpkg-dev busybox-static meson ninja-build pkg-config libssl-dev zlib1g-dev libzstd-dev)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -q
    # tshark asks whether non-root users may capture unless told not to.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
# The servers and BIRD are started by the tests themselves, never as system services.
for s in kea-dhcp6-server bird radvd wide-dhcpv6-server isc-dhcp-server dnsmasq prometheus; do
    systemctl stop "$s" 2>/dev/null || true
done
mkdir -p /var/lib/kea /run/kea /run/bird

if command -v rustup >/dev/null; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
