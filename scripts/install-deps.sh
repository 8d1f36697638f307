#!/bin/sh
# Installs the Debian 12 packages berth needs; quick when they are present.
#
#   scripts/install-deps.sh           build and test dependencies
#   scripts/install-deps.sh --bench   also what bench/ compares against
set -eu

pkgs="meson ninja-build g++ pkg-config git
      libseccomp-dev libcap-dev libnftables-dev nftables nlohmann-json3-dev libarchive-dev libssl-dev libcurl4-openssl-dev doctest-dev
      busybox-static bats jq python3 curl util-linux iproute2 procps
      clang libclang-rt-14-dev zstd
      runc podman conmon containerd umoci skopeo docker-registry
      qemu-system-x86"  # with busybox-static: the cgroup v2 guest (tests/vm; virtiofsd comes with it)
if [ "${1:-}" = "--bench" ]; then
  pkgs="$pkgs runc crun hyperfine time"
fi

missing=
for p in $pkgs; do
  # "install ok installed" is the only state that means usable.
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing$missing" >&2
# A fresh machine may have no package lists yet.
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
