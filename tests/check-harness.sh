#!/bin/bash
# Proves the VM harness reports failure: each broken scenario must make
# run-vm.sh fail with the expected reason, and a clean control run must
# pass.  Prints one TAP line per scenario and a summary.
set -u
cd "$(dirname "$0")/.."
k=$(scripts/kernels.sh | head -n 1)
[ -n "$k" ] || { echo "check-harness: no test kernel"; echo "harness: 0 passed, 1 failed"; exit 1; }
sb=build/selftest
for m in warn uaf; do
	tests/selftest/build-mod.sh "/usr/src/linux-headers-$k" "$m" "$sb" || exit 1
done
cp build/vmtests/t_smoke build/vmtests/leakcheck "$sb/bin/"
cc -O2 -Wall -static -o "$sb/bin/t_selftest_fail" tests/selftest/t_selftest_fail.c || exit 1
install -m 755 tests/selftest/t_selftest_warn.sh tests/selftest/t_selftest_hang.sh \
	tests/selftest/t_selftest_env.sh tests/selftest/t_selftest_uaf.sh \
	tests/selftest/t_selftest_rmmod.sh "$sb/bin/"

pass=0 fail=0 n=0
scenario() {	# scenario NAME EXPECT(pass|fail) PATTERN TESTS [extra args]
	local name=$1 expect=$2 pattern=$3 tests=$4
	shift 4
	n=$((n + 1))
	out=$(tests/vm/run-vm.sh -k "$k" -m "build/$k/orbit.ko" -b "$sb/bin" \
		-l "logs/harness/$name" -t "$tests" "$@" 2>&1)
	rc=$?
	if { [ "$expect" = fail ] && [ $rc != 0 ] && grep -q -- "$pattern" <<<"$out"; } ||
	   { [ "$expect" = pass ] && [ $rc = 0 ]; }; then
		echo "ok $n - harness: $name"
		pass=$((pass + 1))
	else
		echo "not ok $n - harness: $name (run-vm exit $rc, expected $expect)"
		sed 's/^/    /' <<<"$out"
		fail=$((fail + 1))
	fi
}
echo "1..10"
scenario clean-run pass "" t_smoke
scenario failing-test fail "not ok .* t_selftest_fail" "t_smoke t_selftest_fail"
scenario kernel-warning fail "first report (console line" t_selftest_warn.sh
scenario use-after-free fail "Poison overwritten" t_selftest_uaf.sh
scenario missing-binary fail "test binary missing" "t_smoke t_no_such_test"
scenario timeout fail "timeout after 5s" t_selftest_hang.sh -T 5
scenario module-unloaded fail \
	"not ok 3 - t_smoke # an earlier test left orbit.ko unloaded" \
	"t_selftest_rmmod.sh t_smoke"
# No guest reaches insmod in a second: each boot counts as hung, the
# second one fails the run.
ORBIT_BOOT_TIMEOUT=1 \
	scenario boot-hang fail "guest hung while booting: no insmod result" t_smoke
# A report before orbit.ko is loaded (the guest writes one when asked):
# booted once more, and the second boot's report fails the run.
ORBIT_SELFTEST_EARLY_REPORT=1 \
	scenario early-report fail \
	"reported an error while booting, before orbit.ko was loaded; retrying once" t_smoke
ORBIT_BENCH_SELFTEST="two words, it's \$HOME" \
	scenario settings-reach-guest pass "" t_selftest_env.sh
echo "harness: $pass passed, $fail failed"
[ $fail = 0 ]
