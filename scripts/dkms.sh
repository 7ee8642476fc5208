#!/bin/bash
# DKMS helper.
#   dkms.sh install        add, build and install orbit for the running kernel
#   dkms.sh check K1 K2..  add, build for each kernel, then remove (no install)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
src=/usr/src/$name-$ver

stage() {
	rm -rf "$src"
	mkdir -p "$src/module" "$src/uapi"
	cp "$top/dkms.conf" "$src/"
	cp "$top"/module/*.c "$top"/module/*.h "$top/module/Kbuild" \
		"$top/module/Makefile" "$src/module/"
	cp "$top/uapi/orbit.h" "$src/uapi/"
	dkms remove "$name/$ver" --all >/dev/null 2>&1 || true
	dkms add "$name/$ver"
}

case ${1:-} in
install)
	stage
	dkms build "$name/$ver"
	dkms install "$name/$ver"
	install -m 644 "$top/scripts/60-orbit.rules" /lib/udev/rules.d/60-orbit.rules
	;;
check)
	shift
	stage >/dev/null
	rc=0
	for k in "$@"; do
		if dkms build "$name/$ver" -k "$k" > "/tmp/orbit-dkms-$k.log" 2>&1; then
			echo "ok - dkms build for $k"
		else
			echo "not ok - dkms build for $k (log: /tmp/orbit-dkms-$k.log)"
			tail -20 "/tmp/orbit-dkms-$k.log"
			rc=1
		fi
	done
	dkms remove "$name/$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src"
	exit $rc
	;;
*)
	echo "usage: $0 install | check KVER..." >&2
	exit 2
	;;
esac
