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
check "the DKMS-built module for $k replaces the test build" \
	sh -c "rmmod orbit && insmod /dkms/orbit-$k.ko"
check "its version is the packages'" sh -c "grep -q . /sys/module/orbit/version && cat /sys/module/orbit/version"
check "the program runs on it" quickstart
check "orbitctl check finds it in place" /usr/sbin/orbitctl check
check "the test build is back" sh -c "rmmod orbit && insmod /orbit.ko"
finish
