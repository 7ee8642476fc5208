#!/bin/bash
# make bench-apps: the application ports under their own load generators
# (bench/apps.sh in the guest): stock vs orbit builds of Redis and
# memcached, and Redis BGSAVE fork vs orbit with a 1 GiB dataset, in one
# VM run per kernel (THP off), medians.  Writes logs/bench-apps-<kernel>/
# results.{csv,md} and prints the tables.  ORBIT_BENCH_KERNEL names one
# test kernel (default: both); ORBIT_BENCH_QUICK=1 uses small sizes;
# ORBIT_BENCH_ONLY picks groups ("redis rside bgsave memcached mside").
set -u
cd "$(dirname "$0")/.."
accel=$(tests/vm/probe-accel.sh)
kernels=${ORBIT_BENCH_KERNEL:-$(scripts/kernels.sh)}
mkdir -p build/benchapps
cp build/vmtests/leakcheck build/vmtests/orbitctl build/benchapps/
install -m 755 bench/apps.sh build/benchapps/t_bench_apps
rc=0
for k in $kernels; do
	out=logs/bench-apps${ORBIT_BENCH_QUICK:+-quick}-$k
	mkdir -p "$out"
	tests/vm/run-vm.sh -k "$k" -m "build/$k/orbit.ko" -b build/benchapps -r build/apps/overlay \
		-l "$out" -t t_bench_apps -M 8192 -T 5400 -D | grep -v '^  ok' || rc=1
	grep '^BENCH,' "$out/results.log" | sed 's/^BENCH,//; s/\r$//' > "$out/results.csv"
	{
		echo "# orbit application ports ($k, QEMU ${accel^^}, THP off${ORBIT_BENCH_QUICK:+, quick sizes}, $(date -u +%Y-%m-%d))"
		echo
		echo "Medians; stock and orbit builds ran interleaved in the same VM run."
		echo
		scripts/bench-table.sh "$out/results.csv"
		echo
		grep -E '^# (redis|memcached|bench-apps|ratios)' "$out/results.log" | sed 's/^# /    /'
	} > "$out/results.md"
	cat "$out/results.md"
	[ "$(grep -c . "$out/results.csv")" -gt 1 ] || rc=1
done
exit "$rc"
