#!/bin/bash
# The Debian packages, as a user gets them: make deb builds the four
# packages, lintian finds no error, dpkg -i installs them on this machine
# (DKMS builds orbit.ko for each installed test kernel), a program builds
# against the installed -dev package with pkg-config, and dpkg --purge
# leaves nothing behind.  What the guest needs to run the installed
# program, orbitctl and the DKMS-built modules is copied to OVERLAY first
# (tests/vm/t_installed.sh runs them).  Also: make install and make
# uninstall into a scratch DESTDIR leave nothing behind either.
#
# usage: tests/packages.sh OVERLAY KVER...     (as root; TAP lines out)
set -u
cd "$(dirname "$0")/.."
overlay=$1
shift
kernels="$*"
version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
pkgs="orbit-dkms libuorbit0 libuorbit-dev orbit-tools"
log=logs/packages.log
mkdir -p logs
: > "$log"
pass=0 fail=0
t() {	# t DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@" >> "$log" 2>&1; then
		echo "ok - $d"
		pass=$((pass + 1))
	else
		echo "not ok - $d (log: $log)"
		fail=$((fail + 1))
	fi
}
debs() {
	for p in $pkgs; do ls build/deb/${p}_"$version"_*.deb; done
}
no_lintian_errors() {
	lintian --fail-on error build/deb/orbit_"$version"_amd64.changes
}
installed() {
	autoinstall_all_kernels=1 DEBIAN_FRONTEND=noninteractive \
		dpkg -i $(debs) && dpkg-query -W $pkgs
}
dkms_built() {	# dkms_built KVER
	dkms status orbit/"$version" -k "$1" | tee /dev/stderr | grep -q ': installed' &&
		[ "$(modinfo -k "$1" -F version orbit)" = "$version" ]
}
quickstart_builds() {
	rm -rf build/pkgtest && mkdir -p build/pkgtest &&
	cc -O2 -o build/pkgtest/orbit-quickstart examples/quickstart.c \
		$(pkg-config --cflags --libs uorbit) &&
	ldd build/pkgtest/orbit-quickstart | tee /dev/stderr |
		grep -q "libuorbit.so.0 => /.*/x86_64-linux-gnu/libuorbit.so.0"
}
# What the guest needs: the program and orbitctl, the installed library
# and their own libraries, and each kernel's DKMS-built module.
overlay_made() {
	rm -rf "$overlay" && mkdir -p "$overlay/usr/bin" "$overlay/dkms" || return 1
	install -m 755 build/pkgtest/orbit-quickstart "$overlay/usr/bin/" || return 1
	for f in /usr/sbin/orbitctl $(ldd build/pkgtest/orbit-quickstart /usr/sbin/orbitctl |
			sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^\t\(\/[^ ]*\).*/\1/p'); do
		cp -L --parents "$f" "$overlay" || return 1
	done
	# (6.12's modules are xz-compressed; the guest's insmod wants them plain)
	for k in $kernels; do
		m=$(modinfo -k "$k" -n orbit) &&
		case $m in
		*.xz) xz -dc "$m" ;;
		*) cat "$m" ;;
		esac > "$overlay/dkms/orbit-$k.ko" || return 1
	done
}
purged() {
	DEBIAN_FRONTEND=noninteractive dpkg --purge $pkgs || return 1
	local left
	left=$(ls -d /usr/src/orbit-* /var/lib/dkms/orbit /lib/modules/*/updates/dkms/orbit.ko \
		/usr/lib/x86_64-linux-gnu/libuorbit* /usr/include/orbit.h \
		/usr/include/orbit_version.h /usr/include/linux/orbit.h /usr/sbin/orbitctl \
		/lib/udev/rules.d/60-orbit.rules /usr/lib/modules-load.d/orbit.conf \
		/usr/share/bash-completion/completions/orbitctl 2>/dev/null)
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
	! dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | grep -q installed
}
source_install_roundtrip() {
	local d=build/install-roundtrip
	rm -rf "$d" && make --no-print-directory -s install DESTDIR="$PWD/$d" PREFIX=/usr &&
	[ -x "$d/usr/sbin/orbitctl" ] && [ -e "$d/usr/lib/libuorbit.so.0" ] &&
	make --no-print-directory -s uninstall DESTDIR="$PWD/$d" PREFIX=/usr &&
	[ -z "$(find "$d" -type f -o -type l)" ]
}

# A machine that ran an earlier, interrupted check may still have them.
dpkg --purge $pkgs >/dev/null 2>&1
t "make deb builds $(echo $pkgs | wc -w) packages (version $version)" \
	sh -c "make --no-print-directory deb && test \$(ls build/deb/*_${version}_*.deb | grep -vc dbgsym) = 4"
t "lintian reports no errors" no_lintian_errors
t "dpkg -i installs them" installed
for k in $kernels; do
	t "dkms status: orbit $version built and installed for $k" dkms_built "$k"
done
t "quickstart builds with pkg-config --cflags --libs uorbit against libuorbit-dev" quickstart_builds
t "the installed program, orbitctl and DKMS modules are copied for the guest" overlay_made
t "dpkg --purge leaves no file and no DKMS tree behind" purged
t "make install and make uninstall (DESTDIR) leave nothing behind" source_install_roundtrip
echo "packages: $pass passed, $fail failed"
[ "$fail" = 0 ]
