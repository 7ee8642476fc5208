#!/bin/sh
# The Debian packages at work (tests/packages.sh installed them on the
# host and copied what the guest needs): a program built with
# `pkg-config --cflags --libs uorbit` against libuorbit-dev runs, linked
# to the packaged libuorbit.so.0; the packaged orbitctl finds the setup
# in order; and both work with the orbit.ko DKMS built for this kernel.
. /tests/tap.sh
k=$(uname -r)
quickstart() {
	/usr/bin/orbit-quickstart > /tmp/qs.out 2>&1
	show /tmp/qs.out
	[ "$(tail -1 /tmp/qs.out)" = "after a restart: sum 1400" ]
}
echo "    # $(ls -l /lib/x86_64-linux-gnu/libuorbit.so.0 2>&1)"
check "the program built with pkg-config runs" quickstart
check "the packaged orbitctl check finds everything in place" /usr/sbin/orbitctl check
# Without a DKMS build for this kernel the rest fails and the test build
# stays loaded for the tests after this one.
dkms=/dkms/orbit-$k.ko
check "DKMS built orbit.ko for $k" [ -e "$dkms" ]
on_dkms=0
replace() {
	[ -e "$dkms" ] && rmmod orbit && insmod "$dkms" && on_dkms=1
}
loaded_dkms() {		# loaded_dkms COMMAND...: COMMAND, on the DKMS build
	[ "$on_dkms" = 1 ] && "$@"
}
check "the DKMS-built module replaces the test build" replace
check "its version is the packages'" loaded_dkms sh -c "grep -q . /sys/module/orbit/version && cat /sys/module/orbit/version"
check "the program runs on it" loaded_dkms quickstart
check "orbitctl check finds it in place" loaded_dkms /usr/sbin/orbitctl check
check "the test build is back" \
	sh -c "{ ! grep -q '^orbit ' /proc/modules || rmmod orbit; } && insmod /orbit.ko"
finish
