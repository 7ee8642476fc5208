#!/bin/sh
# The application ports under their own load generators, in the guest
# (make bench-apps boots it with /apps from apps/overlay.sh).  Stock and
# orbit builds run interleaved in one VM run; every figure is a median.
#   Redis, slow log every command (slowlog-log-slower-than 0: the task on
#     every request) and at its default (10 ms: the port's heap only):
#     redis-benchmark SET/GET throughput and p99, stock vs orbit, and the
#     orbit build with its tasks in the server (ORBIT_REDIS=off);
#   the same two settings side by side (rside): orbit and stock servers
#     sharing one vCPU, commands served in the same 2-second windows, and
#     a stock/stock pair for the method's spread;
#   Redis BGSAVE with a 1 GiB dataset (DEBUG POPULATE), fork (stock) vs
#     orbit: the main thread's stall per save (INFO latest_fork_usec: fork,
#     or the orbit's globals copy and snapshot) for the first save, for
#     saves with nothing written since the last and for saves after SETs
#     of new keys, and each save's duration (BGSAVE to
#     rdb_bgsave_in_progress:0);
#   memcached: set/get throughput stock vs orbit side by side (mside, as
#     rside, under memaslap), and one after the other under memcslap,
#     alone and with
#     `lru_crawler metadump all` in a loop (stock: its crawler thread;
#     orbit: the port), the p99 of single gets while memcslap runs, and one
#     dump's duration.
# Prints BENCH rows (group,case,unit,orbit,baseline,baseline_value,ratio,
# target,verdict); a ratio is the median of the per-repetition ratios.
# ORBIT_BENCH_QUICK=1: small sizes, one repetition; ORBIT_BENCH_ONLY: some
# of "redis rside bgsave memcached mside".
PATH=/usr/bin:$PATH
R=/apps/redis M=/apps/memcached
[ -x $R/orbit/src/redis-server ] && [ -x $M/orbit/memcached ] ||
	{ echo "# bench-apps: no /apps in the guest (apps/overlay.sh)"; exit 1; }
if [ -n "${ORBIT_BENCH_QUICK:-}" ]; then
	REPS=1 RN=5000 KEYS=50000 VSIZE=1000 SAVES=2 WRITES=1000 MCN=2000 MCITEMS=5000 CWIN=2
else
	REPS=11 RN=20000 CWIN=6 KEYS=1000000 VSIZE=1000 SAVES=3 WRITES=10000 MCN=20000 MCITEMS=10000
fi
MREPS=$(( REPS < 3 ? REPS : 3 ))
CLI=$R/stock/src/redis-cli BENCH=$R/stock/src/redis-benchmark
port=7100
echo "BENCH,group,case,unit,orbit,baseline,baseline_value,ratio,target,verdict"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# row GROUP CASE UNIT ORBIT BASE BASEVALUE TARGET [RATIO]: ratio orbit/base;
# TARGET "max:X" (ratio at most X) or "min:X" or "-"
row() {	# ... [RATIO]: the ratio when it is not ORBIT/BASEVALUE
	awk -v g="$1" -v c="$2" -v u="$3" -v o="$4" -v b="$5" -v bv="$6" -v t="$7" -v rr="${8:-}" 'BEGIN {
		r = rr != "" ? rr : bv > 0 ? o / bv : 0; v = "-"
		if (t ~ /^max:/) { x = substr(t, 5); v = r <= x ? "met" : "missed"; t = "<= " x "x" }
		else if (t ~ /^min:/) { x = substr(t, 5); v = r >= x ? "met" : "missed"; t = ">= " x "x" }
		printf "BENCH,%s,%s,%s,%.1f,%s,%.1f,%.3f,%s,%s\n", g, c, u, o, b, bv, r, t, v }'
}
# pair GROUP CASE UNIT ORBIT-FILE BASE BASE-FILE TARGET: files of one
# figure per repetition (line n: repetition n); the medians, and the
# median of the per-repetition ratios (the VM's speed drifts between
# repetitions, a ratio within one does not)
pair() {
	local r
	r=$(paste -d' ' "$4" "$6" | awk '$2 > 0 { print $1 / $2 }' | median)
	row "$1" "$2" "$3" "$(median < "$4")" "$5" "$(median < "$6")" "$7" "$r"
	echo "# ratios $1 $2 vs $5, per repetition: $(paste -d' ' "$4" "$6" |
		awk '$2 > 0 { printf "%.3f ", $1 / $2 }')"
}
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# info SECTION FIELD [PORT]: a field of INFO (of the last server started)
info() { $CLI -p ${3:-$port} info "$1" | tr -d '\r' | sed -n "s/^$2:\(.*\)/\1/p"; }

# rstart BUILD [CONFIG...]: a Redis server of that build on the next port
rstart() {
	local build=$1
	shift
	port=$((port + 1))
	rm -rf /tmp/r$port && mkdir -p /tmp/r$port
	$RPIN $R/$build/src/redis-server --port $port --save "" --appendonly no --dir /tmp/r$port \
		--logfile /tmp/r$port/log --daemonize no --enable-debug-command yes \
		"$@" > /dev/null 2>&1 &
	rpid=$!
	for i in $(seq 100); do
		[ "$($CLI -p $port ping 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	echo "# bench-apps: redis ($build) did not start"; cat /tmp/r$port/log; return 1
}
rstop() { kill $rpid 2>/dev/null; wait $rpid 2>/dev/null; }

# -- Redis throughput: one file per build/test/figure, a line per
#    repetition; "inserver" is the orbit build with ORBIT_REDIS=off (libc
#    heap, the tasks in the server), which tells the heap's share apart.
#    The three servers run side by side and each test runs against them
#    one right after the other, in an order reversed every repetition:
#    the emulator's speed drifts by half between phases of a few seconds,
#    so only figures taken seconds apart compare (with a server restarted
#    between them, SET ratios of idle servers on 6.12 spread 0.75x-1.43x).
#    Even so a run's medians move by several percent (memcached's request
#    path, which its port does not change, read 0.79x-1.27x of stock this
#    way), so these rows carry no target: the side-by-side rows below,
#    with their stock/stock control, do.
#    The servers run on vCPU 0 (an orbit inherits its main's affinity, so
#    it shares that vCPU) and redis-benchmark on vCPU 1: unpinned, the
#    ratios of one run still spread 0.61x-1.48x, pinned 0.85x-1.11x.
rtput() {	# rtput KEY LABEL SLOWLOG-THRESHOLD
	local b order="stock orbit inserver" rev pids= RPIN="taskset -c 0"
	for b in $order; do
		case $b in
		inserver) export ORBIT_REDIS=off; rstart orbit --slowlog-log-slower-than $3 || return 1; unset ORBIT_REDIS ;;
		*) rstart $b --slowlog-log-slower-than $3 || return 1 ;;
		esac
		eval "port_$b=$port"
		pids="$pids $rpid"
	done
	for rep in $(seq $REPS); do
		for t in SET GET; do
			for b in $order; do
				eval "p=\$port_$b"
				taskset -c 1 $BENCH -p $p -t $t -n $RN -c 20 --csv > /tmp/rb.out 2>&1
				tr -d '"' < /tmp/rb.out | awk -F, -v t=$t -v d=/tmp/rb.$1.$b.$t '$1 == t {
					print $2 >> (d ".rps"); print $7 * 1000 >> (d ".p99") }'
				[ "$(wc -l < /tmp/rb.$1.$b.$t.rps 2>/dev/null)" = $rep ] ||
					{ echo "# bench-apps: redis-benchmark ($b $t):"; sed 's/^/# /' /tmp/rb.out; }
			done
		done
		rev=
		for b in $order; do rev="$b $rev"; done
		order=$rev
	done
	kill $pids 2>/dev/null
	wait $pids 2>/dev/null
	for t in SET GET; do
		pair redis "$t throughput ($2)" "req/s" /tmp/rb.$1.orbit.$t.rps stock /tmp/rb.$1.stock.$t.rps "-"
		pair redis "$t throughput ($2)" "req/s" /tmp/rb.$1.orbit.$t.rps \
			"orbit build with ORBIT_REDIS=off" /tmp/rb.$1.inserver.$t.rps "-"
		pair redis "$t p99 ($2)" "us" /tmp/rb.$1.orbit.$t.p99 stock /tmp/rb.$1.stock.$t.p99 "-"
	done
}

# -- Redis throughput, two servers at once: the emulator's speed drifts
#    by half within seconds, so the pair shares vCPU 0 (each server and
#    its orbits in a cgroup of its own, equal cpu weight) with their
#    redis-benchmark clients on vCPU 1, and each 2-second window compares
#    the commands the two served (INFO's total_commands_processed) in
#    the same 2 seconds.  Half the windows start X's client first, half
#    Y's.  A stock/stock pair is the method's own spread.
CG=/sys/fs/cgroup
cgwrap() {	# cgwrap NAME: /tmp/cgexec-NAME runs a command on vCPU 0 in cgroup bench-NAME
	mkdir -p $CG/bench-$1 2>/dev/null
	printf '#!/bin/sh\necho $$ > %s/cgroup.procs 2>/dev/null\nexec taskset -c 0 "$@"\n' \
		$CG/bench-$1 > /tmp/cgexec-$1
	chmod +x /tmp/cgexec-$1
}
cstart() {	# cstart NAME BUILD [CONFIG...]: rstart in cgroup bench-NAME
	local name=$1
	shift
	cgwrap $name
	RPIN=/tmp/cgexec-$name rstart "$@"
}
# windows OUT PORT-X PORT-Y: under $LOAD PORT (a load until killed) on
# each, X/Y of the growth of $COUNT PORT (a running count) per window
windows() {
	local c1 c2 w x0 y0
	$LOAD $2 & c1=$!
	$LOAD $3 & c2=$!
	sleep $WARM
	cpustat > /tmp/sb.cpu
	for w in $(seq $CWIN); do
		x0=$($COUNT $2) y0=$($COUNT $3)
		sleep 2
		awk -v x=$(( $($COUNT $2) - x0 )) -v y=$(( $($COUNT $3) - y0 )) \
			'BEGIN { if (y > 0) printf "%.4f\n", x / y }' >> "$1"
	done
	cpustat | paste /tmp/sb.cpu - >> /tmp/sb.busy
	kill $c1 $c2 2>/dev/null
	wait $c1 $c2 2>/dev/null
}
# cpustat: per vCPU, busy and total jiffies
cpustat() { awk '/^cpu[0-9]/ { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t }' /proc/stat; }
# sidebyside GROUP SUFFIX TEST...: servers on ports $sb_orbit, $sb_stock
# and $sb_stock2; per TEST ($CTEST), orbit/stock and stock/stock windows,
# half of them with the stock server's load started first
sidebyside() {
	local g=$1 sfx=$2 x
	shift 2
	for CTEST; do
		rm -f /tmp/sb.busy
		for x in orbit stock2; do
			rm -f /tmp/sb.$x /tmp/sb.$x.r
			eval "windows /tmp/sb.$x \$sb_$x \$sb_stock"
			eval "windows /tmp/sb.$x.r \$sb_stock \$sb_$x"
			awk '{ printf "%.4f\n", 1 / $1 }' /tmp/sb.$x.r >> /tmp/sb.$x
		done
		row $g "$CTEST throughput side by side$sfx" "ratio" "$(median < /tmp/sb.orbit)" \
			"stock in the same 2 s" 1 "min:0.97"
		row $g "$CTEST throughput side by side$sfx: stock vs stock" "ratio" \
			"$(median < /tmp/sb.stock2)" "stock in the same 2 s" 1 "-"
		echo "# windows $g $CTEST side by side$sfx, orbit/stock: $(tr '\n' ' ' < /tmp/sb.orbit)"
		echo "# windows $g $CTEST side by side$sfx, stock/stock: $(tr '\n' ' ' < /tmp/sb.stock2)"
		# (vCPU 0: the servers; vCPU 1: the load)
		awk '{ n = NR % 2; i[n] += $3 - $1; t[n] += $4 - $2 } END {
			printf "# %s %s side by side%s: vCPU 0 busy %.0f %%, vCPU 1 busy %.0f %% in the windows\n",
				g, c, s, 100 - 100 * i[1] / t[1], 100 - 100 * i[0] / t[0] }' \
			g=$g c=$CTEST s="$sfx" /tmp/sb.busy
	done
}
sbcgroups() {
	mount -t cgroup2 none $CG 2>/dev/null
	echo +cpu > $CG/cgroup.subtree_control 2>/dev/null
}
cmds() { info stats total_commands_processed $1; }
rload() { exec taskset -c 1 $BENCH -p $1 -t $CTEST -n 1000000000 -c 20 -q > /dev/null 2>&1; }
# conc APP START SIDEBYSIDE-ARGS...: servers stock, orbit and stock2, each
# started by "START NAME BUILD" (which sets spid), side by side
conc() {
	local app=$1 start=$2 b pids=
	shift 2
	sbcgroups
	for b in stock orbit stock2; do
		$start $b ${b%2} || return 1
		eval "sb_$b=$port"
		pids="$pids $spid"
		echo "# $app side by side: $b in $(cat /proc/$spid/cgroup)"
	done
	sidebyside $app "$@"
	kill $pids 2>/dev/null
	wait $pids 2>/dev/null
}
rsbstart() { cstart $1 $2 --slowlog-log-slower-than $SLOWLOG && spid=$rpid; }
rconc() {	# rconc LABEL SLOWLOG-THRESHOLD
	SLOWLOG=$2 LOAD=rload COUNT=cmds WARM=3 conc redis rsbstart " ($1)" SET GET
}
only() { case ${ORBIT_BENCH_ONLY:-redis rside bgsave memcached mside} in *$1*) ;; *) false ;; esac; }
if only redis; then
	rtput every "slow log on every command" 0
	rtput default "slow log at its default 10 ms" 10000
fi
if only rside; then
	rconc "slow log on every command" 0
	rconc "slow log at its default 10 ms" 10000
fi

# -- Redis BGSAVE at 1 GiB: fork vs orbit.  Save 1 takes everything; then
#    saves with nothing written between, then saves with WRITES new keys
#    between (the key count stays under 2^20, where the main dict would
#    double and rewrite every bucket: see apps/README.md).
for b in stock orbit; do
	only bgsave || break
	rstart $b || exit 1
	t0=$(now_ms)
	$CLI -p $port debug populate $KEYS key $VSIZE > /dev/null
	echo "# redis ($b): $KEYS keys of $VSIZE bytes in $(( $(now_ms) - t0 )) ms, used_memory $(info memory used_memory_human)"
	for i in $(seq $((1 + 2 * SAVES))); do
		[ $i -gt $((1 + SAVES)) ] &&
			$BENCH -p $port -t set -n $WRITES -r 100000000 -d $VSIZE -c 10 -q > /dev/null 2>&1
		t0=$(now_ms)
		$CLI -p $port bgsave > /dev/null
		while [ "$(info persistence rdb_bgsave_in_progress)" != 0 ]; do
			sleep 0.05
		done
		t1=$(now_ms)
		st=$(info stats latest_fork_usec) ok=$(info persistence rdb_last_bgsave_status)
		echo "# redis ($b) save $i: stall $st us, $((t1 - t0)) ms, $ok, $($CLI -p $port dbsize) keys"
		[ "$ok" = ok ] || echo "# bench-apps: redis ($b) save $i failed"
		if [ $i = 1 ]; then
			echo $st > /tmp/bg.$b.first
		elif [ $i -le $((1 + SAVES)) ]; then
			echo $st >> /tmp/bg.$b.idle
		else
			echo $st >> /tmp/bg.$b.writes
		fi
		echo $((t1 - t0)) >> /tmp/bg.$b.ms
	done
	rstop
done
gb="$KEYS keys of $VSIZE B"
# (one first save per build: its fork ran 45-67 ms in runs whose later
# forks took as long, so the verdict is that of one sample)
only bgsave && row redis-bgsave "stall of the first save ($gb)" us "$(cat /tmp/bg.orbit.first)" fork "$(cat /tmp/bg.stock.first)" "max:0.5"
only bgsave && row redis-bgsave "stall of a save with nothing written since the last ($gb)" us "$(median < /tmp/bg.orbit.idle)" fork "$(median < /tmp/bg.stock.idle)" "max:0.5"
only bgsave && row redis-bgsave "stall of a save after $WRITES SETs of new keys ($gb)" us "$(median < /tmp/bg.orbit.writes)" fork "$(median < /tmp/bg.stock.writes)" "max:0.5"
only bgsave && row redis-bgsave "save duration ($gb)" ms "$(median < /tmp/bg.orbit.ms)" fork "$(median < /tmp/bg.stock.ms)" "-"

# -- memcached
cat > /tmp/mcb.pl <<'PERL'
# mcb.pl PORT MODE [N]: "dump": one lru_crawler metadump all, prints its ms
# and lines; "dumps": dumps until killed; "probe": N single gets, prints
# the p99 in us; "stat": the value of the stat named N.
use strict; use IO::Socket::INET; use Time::HiRes qw(time);
my ($port, $mode, $n) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!";
sub dump1 { my $t = time; my $l = 0; print $s "lru_crawler metadump all\r\n";
	while (<$s>) { last if /^(END|SERVER_ERROR|BUSY|ERROR)/; $l++ } return ((time - $t) * 1000, $l) }
if ($mode eq "dump") { my ($ms, $l) = dump1(); printf "%.1f %d\n", $ms, $l; }
elsif ($mode eq "stat") { print $s "stats\r\n";
	while (<$s>) { last if /^END/; print "$1\n" if /^STAT $n (\d+)/ } }
elsif ($mode eq "dumps") { while (1) { dump1(); select(undef, undef, undef, 0.05) } }
else { my @t; for my $i (1 .. $n) { my $t = time; print $s "get memtier-probe-$i\r\n";
	while (<$s>) { last if /^END/ } push @t, (time - $t) * 1e6 }
	@t = sort { $a <=> $b } @t; printf "%.0f\n", $t[int(@t * 0.99)]; }
PERL
mstart() {	# mstart BUILD
	port=$((port + 1))
	${MPIN:-} $M/$1/memcached -U 0 -p $port -t 2 -m 512 -u root > /tmp/mc.$port.log 2>&1 &
	mpid=$!
	for i in $(seq 50); do
		perl /tmp/mcb.pl $port probe 1 > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "# bench-apps: memcached ($1) did not start"; return 1
}
mstop() { kill $mpid 2>/dev/null; wait $mpid 2>/dev/null; }
slap() {	# slap TEST: ops/s of one memcslap run
	memcslap --servers=127.0.0.1:$port --concurrency=4 --execute-number=$((MCN / 4)) \
		--test=$1 --initial-load=$MCITEMS 2>&1 |
		sed -n "s/^Time to $1 *\([0-9]*\) keys by .*: *\([0-9.]*\) seconds.*/\1 \2/p" |
		awk '$2 > 0 { printf "%.0f\n", $1 / $2 }'
}
# -- memcached side by side (mside), as rconc does for Redis: an orbit
#    and a stock server (or two stock) on vCPU 0 in cgroups of their own,
#    each under memaslap (libmemcached's other load generator, which runs
#    for a set time: memcslap runs end and load their keys anew, which
#    left windows without a get) on vCPU 1,
#    64-byte keys and 1000-byte values, all sets or all gets (of keys it
#    set first), and per 2-second window the ratio of the sets or gets
#    the two served (cmd_set/cmd_get).
mcstat() { perl /tmp/mcb.pl $1 stat cmd_$CTEST; }
mload() {	# mload PORT: memaslap doing $CTEST until killed
	printf 'key\n64 64 1\nvalue\n1000 1000 1\ncmd\n0 %s\n1 %s\n' \
		$([ $CTEST = set ] && echo "1.0 0.0" || echo "0.0 1.0") > /tmp/mload.$1
	exec taskset -c 1 memcaslap -s 127.0.0.1:$1 -T 1 -c 8 -w 1k -t 36000s \
		-F /tmp/mload.$1 > /dev/null 2>&1
}
msbstart() { cgwrap m$1; MPIN=/tmp/cgexec-m$1 mstart $2 && spid=$mpid; }
mconc() { LOAD=mload COUNT=mcstat WARM=3 conc memcached msbstart "" set get; }
only mside && mconc
only memcached || exit 0
for rep in $(seq $MREPS); do
	for b in stock orbit; do
		mstart $b || exit 1
		slap set >> /tmp/mc.$b.set
		slap get >> /tmp/mc.$b.get
		perl /tmp/mcb.pl $port dump | awk '{ print $1 }' >> /tmp/mc.$b.dumpms
		perl /tmp/mcb.pl $port dumps & d=$!
		slap get >> /tmp/mc.$b.getdump
		kill $d; wait $d 2>/dev/null
		( slap get > /dev/null ) & l=$!
		perl /tmp/mcb.pl $port probe 2000 >> /tmp/mc.$b.p99
		wait $l
		mstop
	done
done
# (one after the other: no target, see rtput, mside carries it; metadump
# is a rare task: the loop is a stress figure)
for t in set get getdump; do
	c=$t
	[ $t = getdump ] && c="get with metadump all in a loop"
	pair memcached "$c throughput" "ops/s" /tmp/mc.orbit.$t stock /tmp/mc.stock.$t "-"
done
pair memcached "get p99 under memcslap load" us /tmp/mc.orbit.p99 stock /tmp/mc.stock.p99 "-"
pair memcached "metadump all ($MCITEMS+ items)" ms /tmp/mc.orbit.dumpms "stock crawler" /tmp/mc.stock.dumpms "-"
