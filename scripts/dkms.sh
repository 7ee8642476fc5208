#!/bin/bash
# DKMS helper (source installs; the Debian package orbit-dkms does the same).
#   dkms.sh install VERSION        add, build and install orbit for the running kernel
#   dkms.sh uninstall VERSION      remove it from every kernel and /usr/src
#   dkms.sh check VERSION K1 K2..  add, build for each kernel, then remove (no install)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
ver=${2:-}
name=orbit
src=/usr/src/$name-$ver
[ -n "$ver" ] || { echo "usage: $0 install|uninstall|check VERSION [KVER...]" >&2; exit 2; }

stage() {
	rm -rf "$src"
	mkdir -p "$src/module" "$src/uapi"
	sed "s/#MODULE_VERSION#/$ver/" "$top/dkms.conf" > "$src/dkms.conf"
	cp "$top"/module/*.c "$top"/module/*.h "$top/module/Kbuild" \
		"$top/module/Makefile" "$src/module/"
	cp "$top/uapi/orbit.h" "$src/uapi/"
	dkms remove "$name/$ver" --all >/dev/null 2>&1 || true
	dkms add "$name/$ver"
}

case $cmd in
install)
	stage
	dkms build "$name/$ver"
	dkms install "$name/$ver"
	install -m 644 "$top/scripts/60-orbit.rules" /lib/udev/rules.d/60-orbit.rules
	install -D -m 644 "$top/scripts/orbit-modules-load.conf" /usr/lib/modules-load.d/orbit.conf
	;;
uninstall)
	dkms remove "$name/$ver" --all || true
	rm -rf "$src" /usr/lib/modules-load.d/orbit.conf
	;;
check)
	shift 2
	stage >/dev/null
	rc=0
	for k in "$@"; do
		# Kernels built with CONFIG_MODULE_COMPRESS_* get orbit.ko.xz
		# (Debian's 6.12) or .ko.zst; modinfo reads them all.
		if dkms build "$name/$ver" -k "$k" > "/tmp/orbit-dkms-$k.log" 2>&1 &&
		   ko=$(ls "/var/lib/dkms/$name/$ver/$k/x86_64/module/"orbit.ko* 2>/dev/null | head -1) &&
		   [ -n "$ko" ] &&
		   modinfo -F version "$ko" 2>/dev/null | grep -qx "$ver"; then
			echo "ok - dkms build for $k (module version $ver)"
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
	echo "usage: $0 install|uninstall|check VERSION [KVER...]" >&2
	exit 2
	;;
esac
