#!/bin/bash
# Installs the Debian 12 packages orbit needs to build, test and demo,
# skipping the ones already present.  The application ports (apps/) need
# dpkg-dev (dpkg-source), stock Redis's jemalloc, memcached's libevent,
# tclsh and perl for their test suites, and memcslap for make bench-apps.  Needs root (or sudo) and apt.
# Arguments name further packages (make bench: gnuplot-nox).
set -eu
pkgs=(build-essential pkg-config libcmocka-dev cpio gzip busybox-static
      qemu-system-x86 dkms kmod openssl
      linux-headers-cloud-amd64 linux-headers-6.12-cloud-amd64
      linux-image-cloud-amd64 linux-image-6.12-cloud-amd64
      man-db groff-base python3
      debhelper dh-dkms lintian libclang-dev clang
      dpkg-dev libjemalloc-dev libevent-dev tcl8.6 perl libmemcached-tools "$@")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
