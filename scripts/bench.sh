#!/bin/bash
# make bench / make bench-quick: boots Debian's stock 6.1 kernel (THP off),
# runs bench/orbit_bench (and its build with 16 MiB of globals) and the
# end-to-end example runs (bench/e2e.sh) in the guest and writes their
# rows (every figure with its same-run baseline) as CSV and markdown to
# logs/bench*/ and stdout, and draws the plots (gnuplot) next to them.
# ORBIT_BENCH_KERNEL names another test kernel (e.g. 6.12's).
set -u
cd "$(dirname "$0")/.."
k=${ORBIT_BENCH_KERNEL:-$(scripts/kernels.sh | head -n 1)}
accel=$(tests/vm/probe-accel.sh)	# what run-vm.sh boots under (cached)
out=logs/bench${ORBIT_BENCH_QUICK:+-quick}${ORBIT_BENCH_KERNEL:+-$k}
mkdir -p "$out" build/benchbin
cp build/bench/orbit_bench build/benchbin/t_bench
cp build/bench/orbit_bench_globals build/benchbin/t_bench_globals
cp build/vmtests/leakcheck build/vmtests/ex_* build/benchbin/
install -m 755 bench/e2e.sh build/benchbin/t_bench_e2e
tests/vm/run-vm.sh -k "$k" -m "build/$k/orbit.ko" -b build/benchbin -l "$out" \
	-t "t_bench t_bench_globals t_bench_e2e" -M 6144 -T 3000 -D | grep -v '^  ok'
rc=${PIPESTATUS[0]}
# One header line (each program prints its own), then the rows.
grep '^BENCH,' "$out/results.log" | sed 's/^BENCH,//' |
	awk '!/^group,/ || !seen++' > "$out/results.csv"
{
	echo "# orbit benchmarks ($k, QEMU ${accel^^}, THP off${ORBIT_BENCH_QUICK:+, quick sizes}${ORBIT_BENCH_REPS:+, $ORBIT_BENCH_REPS e2e repetitions}, $(date -u +%Y-%m-%d))"
	echo
	echo "All figures are medians; every baseline ran in the same VM run."
	echo
	scripts/bench-table.sh "$out/results.csv"
} > "$out/results.md"
cat "$out/results.md"
if scripts/plot.sh "$out" "$k, QEMU ${accel^^}"; then
	echo "# plots: $out/*.png"
else
	echo "# no plots (gnuplot failed)"
	rc=1
fi
echo "# results: $out/results.md, $out/results.csv"
exit "$rc"
