#!/bin/bash
# make soak-debug: the soak's tests on the debug kernel that
# scripts/debug-kernel.sh built into DIR (lockdep, KASAN, DEBUG_VM), with
# the orbit.ko the Makefile built for it in build/<its release>/, after
# proving that kernel reports a planted lock-order inversion: a run that
# could not fail would prove nothing.
# usage: soak-debug.sh DIR "TESTS" VCPUS PER-TEST-SECONDS
set -u
cd "$(dirname "$0")/.."
dir=$1 tests=$2 cpus=$3 limit=$4
k=$(cat "$dir/kver") || exit 1
ko=build/$k/orbit.ko
sb=build/selftest-debug
rm -rf "$sb"
tests/selftest/build-mod.sh "$dir/linux" lock "$sb" || exit 1
cp tests/selftest/t_selftest_lock.sh build/vmtests/leakcheck "$sb/bin/"
out=$(tests/vm/run-vm.sh -k "$k" -i "$dir/bzImage" -m "$ko" \
	-b "$sb/bin" -l logs/soak-debug-selftest -t t_selftest_lock.sh 2>&1)
if [ $? = 0 ] || ! grep -q 'possible circular locking' <<<"$out"; then
	echo "not ok - $k did not report a planted lock-order inversion"
	sed 's/^/    /' <<<"$out"
	exit 1
fi
echo "ok - $k reports a planted lock-order inversion"
exec tests/vm/run-vm.sh -k "$k" -i "$dir/bzImage" -m "$ko" \
	-b build/vmtests -l logs/soak-debug -c "$cpus" -T "$limit" -t "$tests"
