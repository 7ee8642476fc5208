#!/bin/sh
# End-to-end benchmark, run in the guest after orbit_bench: each example
# with its auxiliary task in an orbit, in a thread and forked per call,
# the same workload, interleaved, median of REPS runs (the ratio is the
# median of the per-repetition ratios).  The lock manager also runs its
# IPC-floor control (mode "floor": the detector in a thread plus one pipe
# round trip to a helper process per detector call, what an
# out-of-process detector pays for a handoff through a pipe) and mode
# "tfloor" (the same with the echo in a thread of its own process: the
# wakeups without the switches between address spaces) and mode "sfloor"
# (the floor plus the detector deciding on a copy of the tables taken at
# the call, as any detector in another process must, instead of on the
# live tables), mode "ifloor" (that detection made in a helper process,
# on a copy passed through shared memory, the two sides waking one
# another with a futex only when the other sleeps: the least a detector
# isolated from main pays), mode "obg" (the orbit created with
# ORBIT_BACKGROUND, rows "lockmgr background vs ...") and mode "odirect"
# (the orbit created with ORBIT_DIRECT: calls through a ring shared with
# the orbit, without the module; rows "lockmgr direct vs ...") and mode
# "odbg" (ORBIT_DIRECT and ORBIT_BACKGROUND; rows "lockmgr direct
# background vs ...").
# Prints BENCH rows (time per operation = 1e6 / throughput, so lower is
# better):
#   BENCH,e2e,<example> vs <mode>,us/op,orbit,<mode>,<mode>_value,ratio,target,verdict
# and, for the lock manager, how long its latch was held per commit and
# to make a detector call (rows "lockmgr latch held per commit vs ..."
# and "lockmgr detector call under the latch vs ...", us; no target).
# A run lasts SECS (lock manager), WDSECS (watchdog), SNAPSECS
# (snapshotter) or KVREQ requests (key-value server, about 4 s): shorter
# runs spread by 10% and more.
# ORBIT_BENCH_QUICK=1 uses short runs and small sizes; ORBIT_BENCH_EXAMPLES
# names the examples to run (default: all four); ORBIT_BENCH_REPS sets the
# number of repetitions (default 9, quick 1).
# Outside the VM (a machine with orbit.ko loaded), put this script and the
# ex_* programs in one directory and run it there.
case ${ORBIT_BENCH_ONLY:-e2e} in *e2e*) ;; *) exit 0 ;; esac
B=$(dirname "$0")
if [ -n "${ORBIT_BENCH_QUICK:-}" ]; then
	REPS=1 SECS=1 KVREQ=300 MIB=32 SNAPSECS=2 WDSECS=1
else
	REPS=9 SECS=3 KVREQ=6000 MIB=256 SNAPSECS=6 WDSECS=6
fi
REPS=${ORBIT_BENCH_REPS:-$REPS}
case $REPS in *[!0-9]*) REPS=0 ;; esac
[ "$REPS" -gt 0 ] 2>/dev/null ||
	{ echo "# e2e: ORBIT_BENCH_REPS must be a positive integer, not '$ORBIT_BENCH_REPS'"; exit 1; }
out=/tmp/e2e
mkdir -p $out

field() {	# field NAME FILE: the RESULT line's NAME=
	sed -n "s/^RESULT .* $1=\\([^ ]*\\).*/\\1/p" "$2"
}

# run EXAMPLE MODE REP: one run, its output in $out/EXAMPLE.MODE.REP
run() {
	f=$out/$1.$2.$3
	case $1 in
	lockmgr)
		if [ "$2" = floor ]; then
			"$B/ex_lockmgr" --mode thread --ipc-floor --seconds $SECS
		elif [ "$2" = tfloor ]; then
			"$B/ex_lockmgr" --mode thread --ipc-floor --echo-thread \
				--seconds $SECS
		elif [ "$2" = obg ]; then
			"$B/ex_lockmgr" --mode orbit --background --seconds $SECS
		elif [ "$2" = odirect ]; then
			"$B/ex_lockmgr" --mode orbit --direct --seconds $SECS
		elif [ "$2" = odbg ]; then
			"$B/ex_lockmgr" --mode orbit --direct --background \
				--seconds $SECS
		elif [ "$2" = sfloor ]; then
			"$B/ex_lockmgr" --mode thread --ipc-floor --snapshot-floor \
				--seconds $SECS
		elif [ "$2" = ifloor ]; then
			"$B/ex_lockmgr" --mode thread --isolated-floor --seconds $SECS
		else
			"$B/ex_lockmgr" --mode "$2" --seconds $SECS
		fi > "$f" 2>&1 ;;
	watchdog) "$B/ex_watchdog" --mode "$2" --seconds $WDSECS > "$f" 2>&1 ;;
	snapshot) "$B/ex_snapshot" --mode "$2" --mib $MIB --seconds $SNAPSECS \
			--interval-ms 1000 > "$f" 2>&1 ;;
	kvserver)
		port=$((7500 + $3))
		"$B/ex_kvserver" serve --mode "$2" --port $port > "$f.srv" 2>&1 &
		srv=$!
		sleep 1
		"$B/ex_kvserver" load $port $KVREQ > "$f" 2>&1
		kill $srv
		wait $srv 2>/dev/null ;;
	esac
	grep -q '^RESULT' "$f" || { echo "# e2e: $1 --mode $2 failed:"; sed 's/^/#   /' "$f"; }
}

# mid: the median of the numbers on stdin, one per line (0 for none)
mid() {
	sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'
}

# fmedian FIELD EXAMPLE MODE: the median of a RESULT field over the
# repetitions
fmedian() {
	for r in $(seq $REPS); do field $1 $out/$2.$3.$r; done | mid
}

# median EXAMPLE MODE: median throughput over the repetitions
median() {
	fmedian per_s $1 $2
}

# pairs FIELD EXAMPLE MODE BASE: one line per repetition, MODE's field
# and BASE's
pairs() {
	for r in $(seq $REPS); do
		echo "$(field $1 $out/$2.$3.$r) $(field $1 $out/$2.$4.$r)"
	done
}

# ratio EXAMPLE BASE [MODE]: the median over the repetitions of MODE's
# (default orbit) time per operation over BASE's in the same repetition.
# The modes' runs are interleaved, so a change in the emulator's speed
# between repetitions cancels out of each pair.
ratio() {
	pairs per_s $1 ${3:-orbit} $2 |
		awk 'NF == 2 && $1 > 0 { print $2 / $1 }' | mid
}

# row EXAMPLE BASE TARGET [MODE]: MODE (default orbit) vs BASE, as time
# per operation (medians) and their paired ratio
row() {
	o=$(median $1 ${4:-orbit}) b=$(median $1 $2) r=$(ratio $1 $2 $4) label=$1
	[ $1 = snapshot ] && label="snapshotter writers"
	case ${4:-} in
	obg) label="$1 background" ;;
	ifloor) label="$1 isolated floor" ;;
	odirect) label="$1 direct" ;;
	odbg) label="$1 direct background" ;;
	esac
	awk -v ex="$label" -v base="$2" -v o="$o" -v b="$b" -v r="$r" -v t="$3" \
		-v quick="${ORBIT_BENCH_QUICK:-}" 'BEGIN {
		ou = o > 0 ? 1e6 / o : 0; bu = b > 0 ? 1e6 / b : 0
		v = t == "" ? "" : (ou > 0 && r <= substr(t, 3) + 0 ? "met" : "MISSED")
		if (t != "" && quick != "") v = "n/a (quick sizes)"
		printf "BENCH,e2e,%s vs %s,us/op,%.1f,%s,%.1f,%.3f,%s,%s\n", ex, base, ou, base, bu, r, t, v
	}'
}

# lockmgr_row FIELD LABEL BASE [MODE]: a field of the lock manager's
# RESULT line in us (medians), MODE (default orbit) vs BASE, and their
# paired ratio.  Every
# transaction passes through the latch and the detector is called under
# it: latch_us_per_commit is how long the latch was held per commit
# (summed over the threads), invoke_p50_us how long a waiter held it to
# make its detector call (the floors: the pipe write, and the copy of the
# tables for the snapshot floor).
lockmgr_row() {
	o=$(fmedian $1 lockmgr ${4:-orbit})
	b=$(fmedian $1 lockmgr $3)
	r=$(pairs $1 lockmgr ${4:-orbit} $3 |
		awk 'NF == 2 && $2 > 0 { print $1 / $2 }' | mid)
	l="$2"
	[ "${4:-}" = odirect ] && l="direct $2"
	[ "${4:-}" = odbg ] && l="direct background $2"
	printf "BENCH,e2e,lockmgr %s vs %s,us,%s,%s,%s,%.3f,,\n" "$l" "$3" "$o" "$3" "$b" "$r"
}

for ex in ${ORBIT_BENCH_EXAMPLES:-lockmgr kvserver watchdog snapshot}; do
	modes="orbit thread fork"
	[ $ex = lockmgr ] && modes="$modes floor tfloor sfloor ifloor obg odirect odbg"
	for r in $(seq $REPS); do
		for m in $modes; do
			run $ex $m $r
		done
	done
	grep -h '^RESULT' $out/$ex.* | sed 's/^/# /'
	row $ex thread "<=1.03 at full size"
	if [ $ex = lockmgr ]; then
		row $ex fork "<=0.1 at full size"
		row $ex floor ""
		row $ex tfloor ""
		row $ex sfloor ""
		row $ex ifloor ""
		row $ex floor "" ifloor
		row $ex floor "" obg
		row $ex sfloor "" obg
		row $ex floor "<=1.05" odirect
		row $ex ifloor "" odirect
		row $ex orbit "" odirect
		row $ex floor "" odbg
		row $ex ifloor "" odbg
		row $ex odirect "" odbg
		lockmgr_row latch_us_per_commit "latch held per commit" floor
		lockmgr_row latch_us_per_commit "latch held per commit" sfloor
		lockmgr_row invoke_p50_us "detector call under the latch" floor
		lockmgr_row invoke_p50_us "detector call under the latch" sfloor
		lockmgr_row invoke_p50_us "detector call under the latch" floor \
			odirect
		lockmgr_row invoke_p50_us "detector call under the latch" floor \
			odbg
	elif [ $ex = snapshot ]; then
		row $ex fork "<=1 at full size"	# writers at least as fast
	else
		row $ex fork ""
	fi
done
