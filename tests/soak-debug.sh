#!/bin/bash
# make soak-debug: the soak's tests on the debug kernel that
# scripts/debug-kernel.sh built into DIR (lockdep, KASAN, DEBUG_VM), with
# the orbit.ko the Makefile built for it in build/<its release>/, after
# proving that kernel reports a planted lock-order inversion: a run that
# could not fail would prove nothing.
# usage: soak-debug.sh DIR "TESTS" VCPUS PER-TEST-SECONDS
# A word "suite" in TESTS stands for every test of make check's guests
# but t_installed.sh (DKMS builds no module for this kernel); the
# application ports' overlay is then needed.  As in make check, the
# t_numa_* tests run in a second guest, of two NUMA nodes.  The fi_*
# tests (allocation failures by fault injection, which only this kernel
# has) run once, first, whatever TESTS holds.
# Logs: logs/soak-debug-<release>/, its -numa/ and -selftest/ beside it.
set -u
cd "$(dirname "$0")/.." || exit 1
dir=$1 tests=$2 cpus=$3 limit=$4
suite='' faults=''
for t in build/vmtests/t_* build/vmtests/fi_*; do
	case ${t##*/} in
	t_installed.sh) ;;
	t_*) suite="$suite ${t##*/}" ;;
	fi_*) faults="$faults ${t##*/}" ;;
	esac
done
overlay=()
case " $tests " in *" suite "*)
	overlay=(-r build/apps/overlay)
	[ -d build/apps/overlay ] || { echo "soak-debug: no build/apps/overlay (make apps)"; exit 1; }
	tests=$(for t in $tests; do [ "$t" = suite ] && echo "$suite" || echo "$t"; done | tr '\n' ' ')
esac
tests="$faults $tests"
k=$(cat "$dir/kver") || exit 1
ko=build/$k/orbit.ko
logs=logs/soak-debug-$k
sb=build/selftest-debug
rm -rf "$sb"
tests/selftest/build-mod.sh "$dir/linux" lock "$sb" || exit 1
cp tests/selftest/t_selftest_lock.sh build/vmtests/leakcheck "$sb/bin/"
if out=$(tests/vm/run-vm.sh -k "$k" -i "$dir/bzImage" -m "$ko" \
	-b "$sb/bin" -l "$logs-selftest" -t t_selftest_lock.sh 2>&1) ||
	! grep -q 'possible circular locking' <<<"$out"; then
	echo "not ok - $k did not report a planted lock-order inversion"
	printf '    %s\n' "${out//$'\n'/$'\n'    }"
	exit 1
fi
echo "ok - $k reports a planted lock-order inversion"
exec tests/vm/run-split.sh "$logs" "$cpus" "$tests" -k "$k" -i "$dir/bzImage" \
	-m "$ko" -b build/vmtests "${overlay[@]}" -T "$limit"
