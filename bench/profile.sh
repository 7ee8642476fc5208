#!/bin/sh
# Guest side of `make profile`: traces the module's snapshot and install
# paths with the function_graph tracer while orbit_bench's call-size
# group runs (quick sizes; ORBIT_BENCH_ONLY picks another group,
# ORBIT_PROFILE_FULL=1 full sizes, ORBIT_PROFILE_FUNCS the functions whose
# calls are traced, ORBIT_PROFILE_DEPTH how deep), then sums time per
# traced function by depth.  ORBIT_PROFILE_CMD runs a program of this
# directory instead, with its arguments (the examples are here as
# ex_<name>), for instance the lock manager against its IPC floor:
#   ORBIT_PROFILE_CMD="ex_lockmgr --mode orbit --seconds 3"
#   ORBIT_PROFILE_FUNCS="ctx_ioctl orbit_fd_ioctl pipe_read pipe_write"
# The tracer slows every traced call down, so read the shares, not the
# absolute times.
T=/sys/kernel/tracing
mount -t tracefs nodev $T 2>/dev/null
[ -w $T/current_tracer ] || { echo "    # no tracefs"; exit 1; }
echo 0 > $T/tracing_on
echo 262144 > $T/buffer_size_kb
echo function_graph > $T/current_tracer
echo ${ORBIT_PROFILE_DEPTH:-3} > $T/max_graph_depth
echo "${ORBIT_PROFILE_FUNCS:-area_snapshot view_install area_fault area_page_mkwrite view_fault}" > $T/set_graph_function || exit 1
echo nofuncgraph-irqs > $T/trace_options 2>/dev/null
echo funcgraph-tail > $T/trace_options	# name the function on its closing line
: > $T/trace
echo 1 > $T/tracing_on
if [ -n "${ORBIT_PROFILE_CMD:-}" ]; then
	set -- $ORBIT_PROFILE_CMD
	case $1 in
	*/*|.*) echo "    # ORBIT_PROFILE_CMD: a program of $(dirname "$0"), not $1"; exit 1 ;;
	esac
	prog="$(dirname "$0")/$1"
	shift
	[ -x "$prog" ] || { echo "    # ORBIT_PROFILE_CMD: no program $prog"; exit 1; }
	"$prog" "$@" 2>&1 | sed 's/^/    # /'
else
	[ -n "${ORBIT_PROFILE_FULL:-}" ] || export ORBIT_BENCH_QUICK=1
	ORBIT_BENCH_ONLY=${ORBIT_BENCH_ONLY:-size} "$(dirname "$0")/t_bench" | grep '^BENCH,[a-z]' | sed 's/^/    # /'
fi
echo 0 > $T/tracing_on
echo "    # trace lines: $(wc -l < $T/trace), overruns: $(grep -h overrun $T/per_cpu/cpu*/stats | awk '{ s += $2 } END { print s }')"
# Lines look like " 1)   3.456 us    |      name();" (a leaf) or
# " 1) + 12.345 us   |    } /* name */" (the end of a caller).
awk -F'|' 'NF >= 2 && $1 ~ /us/ {
	d = $1; sub(/^.*\) */, "", d); gsub(/[^0-9.]/, " ", d); split(d, v, " ")
	f = $2; ind = match(f, /[^ ]/) - 1
	if (f ~ /\/\* /) { sub(/.*\/\* /, "", f); sub(/ \*\/.*/, "", f) }
	else if (f ~ /\(\);/) { sub(/^ */, "", f); sub(/\(\);.*/, "", f) }
	else next
	key = sprintf("%d %s", ind / 2, f)
	t[key] += v[1]; n[key]++
} END { for (k in t) printf "%12.0f us %9d calls %8.2f us/call  depth %s\n", t[k], n[k], t[k] / n[k], k }' $T/trace | sort -k8,8n -k1,1nr | awk '$1 >= 1000' | sed 's/^/    # /'
echo nop > $T/current_tracer
