#!/bin/bash
# make bench / make bench-quick: boots each test kernel (Debian's stock
# 6.1 and 6.12, THP off) in turn, runs bench/orbit_bench (and its build
# with 16 MiB of globals) and the end-to-end example runs (bench/e2e.sh)
# in the guest, writes their rows (every figure with its same-run
# baseline) as CSV and markdown to logs/bench[-quick]-<kernel>/, draws the
# plots (gnuplot) next to them, and prints one table per kernel.
# ORBIT_BENCH_KERNEL names a single kernel to run instead.
# The kernels run one after the other: two VMs at once on this machine's
# two CPUs would time each other.
set -u
cd "$(dirname "$0")/.."
accel=$(tests/vm/probe-accel.sh)	# what run-vm.sh boots under (cached)
mkdir -p build/benchbin
cp build/bench/orbit_bench build/benchbin/t_bench
cp build/bench/orbit_bench_globals build/benchbin/t_bench_globals
cp build/vmtests/leakcheck build/vmtests/ex_* build/benchbin/
install -m 755 bench/e2e.sh build/benchbin/t_bench_e2e

# bench_kernel K: one VM run on kernel K; its tables in logs/bench*-K/.
bench_kernel() {
	local k=$1 out=logs/bench${ORBIT_BENCH_QUICK:+-quick}-$1 rc
	mkdir -p "$out"
	tests/vm/run-vm.sh -k "$k" -m "build/$k/orbit.ko" -b build/benchbin \
		-l "$out" -t "t_bench t_bench_globals t_bench_e2e" -M 6144 \
		-T 3000 -D | grep -v '^  ok'
	rc=${PIPESTATUS[0]}
	# One header line (each program prints its own), then the rows.
	grep '^BENCH,' "$out/results.log" | sed 's/^BENCH,//; s/\r$//' |
		awk '!/^group,/ || !seen++' > "$out/results.csv"
	{
		echo "# orbit benchmarks ($k, QEMU ${accel^^}, THP off${ORBIT_BENCH_QUICK:+, quick sizes}${ORBIT_BENCH_REPS:+, $ORBIT_BENCH_REPS e2e repetitions}, $(date -u +%Y-%m-%d))"
		echo
		echo "All figures are medians; every baseline ran in the same VM run."
		# The module's choice of page copies at load (mc.c), timed.
		grep -aho 'orbit: page copies .* plain)' "$out/console.log" |
			head -n 1 | sed 's/^orbit: \(.*\)$/Module: \1./'
		echo
		scripts/bench-table.sh "$out/results.csv"
	} > "$out/results.md"
	if ! scripts/plot.sh "$out" "$k, QEMU ${accel^^}"; then
		echo "# no plots (gnuplot failed)"
		rc=1
	fi
	# An empty table is a failed run, whatever the VM said.
	[ "$(wc -l < "$out/results.csv")" -gt 1 ] || rc=1
	return "$rc"
}

if [ -n "${ORBIT_BENCH_KERNEL:-}" ]; then
	kernels=$ORBIT_BENCH_KERNEL
else
	kernels=$(scripts/kernels.sh)
fi
[ -n "$kernels" ] || { echo "bench: no test kernel installed (make deps)"; exit 1; }
rc=0
for k in $kernels; do
	bench_kernel "$k" || rc=1
done
for k in $kernels; do
	out=logs/bench${ORBIT_BENCH_QUICK:+-quick}-$k
	echo
	cat "$out/results.md"
	echo "# plots: $out/*.png; results: $out/results.md, $out/results.csv"
done
exit "$rc"
