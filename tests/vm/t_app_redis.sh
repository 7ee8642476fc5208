#!/bin/sh
# apps/redis: the Redis port on this kernel.  Redis's own tests for the
# slow log and RDB persistence (integration/rdb and the units that load
# old RDB encodings) pass with it (and used its orbits); the
# slow log and BGSAVE run in orbits; a BGSAVE dump loads into stock Redis
# with the same DEBUG DIGEST, even with writes during the save, and a
# stock replica's full sync from it (disk-based) gets the same data; the fault
# switches crash and hang each task: the orbit build keeps serving and
# logs it, the build with the task in the server (ORBIT_REDIS=off) dies
# or stops answering.
. /tests/tap.sh
PATH=/usr/bin:$PATH
O=/apps/redis/orbit S=/apps/redis/stock
[ -x $O/src/redis-server ] || { echo "    # no /apps/redis (apps/overlay.sh)"; exit 1; }
port=7000
# cli ARGS: redis-cli for the server started last (a program: check's
# sh -c sees it too)
mkdir -p /tmp/bin
printf '#!/bin/sh\nexec timeout 5 %s -p "$(cat /tmp/port)" "$@"\n' $S/src/redis-cli > /tmp/bin/cli
chmod +x /tmp/bin/cli
PATH=/tmp/bin:$PATH
info() { cli info "$1" | tr -d '\r' | sed -n "s/^$2:\(.*\)/\1/p"; }
# start DIR BUILD [VAR=VALUE...]: a server on the next port, logging to DIR/log
start() {
	dir=$1 bin=$2/src/redis-server
	shift 2
	port=$((port + 1))
	echo $port > /tmp/port
	mkdir -p "$dir"
	env "$@" $bin --port $port --save "" --appendonly no --dir "$dir" \
		--logfile "$dir/log" --daemonize no --enable-debug-command yes \
		> "$dir/out" 2>&1 &
	pid=$!
	for i in $(seq 100); do
		[ "$(cli ping 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	show "$dir/log"
	return 1
}
stop() { kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; }
alive() { [ "$(cli ping 2>/dev/null)" = PONG ] || { stuck; false; }; }
stuck() {	# where the server's threads and its orbits are
	for t in /proc/$pid/task/*; do
		echo "    # thread $(basename $t) $(cat $t/comm) $(cat $t/wchan) $(cut -d' ' -f1 $t/syscall)"
	done
	/tests/orbitctl list 2>&1 | show
}
logged() { grep -q "$1" "$dir/log" || { show "$dir/log" | tail -20; false; }; }
wait_save() {	# until no save runs (at most $1 s)
	for i in $(seq $(($1 * 10))); do
		[ "$(info persistence rdb_bgsave_in_progress)" = 0 ] && return 0
		alive || return 1
		sleep 0.1
	done
	return 1
}
orbits() { /tests/orbitctl list 2>/dev/null | grep -c "$1"; }

# -- Redis's own tests (the two that look at the forked child's process and
#    its copy-on-write report are skipped: apps/README.md says why)
cd $O
./runtest --clients 1 --dont-clean --single unit/slowlog --single integration/rdb \
	--single integration/convert-zipmap-hash-on-load \
	--single integration/convert-ziplist-hash-on-load \
	--single integration/convert-ziplist-zset-on-load \
	--skiptest "Test child sending info" --skiptest "failed bgsave prevents writes" \
	> /tmp/runtest.out 2>&1
grep -q "All tests passed without errors" /tmp/runtest.out || tail -40 /tmp/runtest.out | show
echo "    # $(grep -c '\[.*ok.*\]:' /tmp/runtest.out) tests ok, $(grep -c '\[.*err.*\]:' /tmp/runtest.out) failed; $(grep -E ' seconds? - ' /tmp/runtest.out | tr -s ' ' | tr '\n' ';')"
check "runtest unit/slowlog and the RDB units pass" grep -q "All tests passed without errors" /tmp/runtest.out
check "their servers ran the slow log and BGSAVE in orbits" sh -c \
	"grep -l 'task runs in orbit redis-slowlog' tests/tmp/*/stdout | grep -q . &&
	 grep -l 'Background saving started in orbit' tests/tmp/*/stdout | grep -q ."
rm -rf tests/tmp/*
cd /tmp

# -- the slow log in an orbit, and its task crashing and hanging
# slowlog_fault KIND WHAT [VAR=VALUE]: the fault switch orbit-fault:KIND
slowlog_fault() {
	start /tmp/sl-$1 $O $3 || exit 1
	cli config set slowlog-log-slower-than 0 > /dev/null
	cli set k1 v1 > /dev/null
	check "SLOWLOG GET answers from the orbit" sh -c \
		"cli slowlog get 2 | grep -q '^k1$' && [ $(orbits redis-slowlog) = 1 ]"
	cli echo orbit-fault:$1 > /dev/null
	cli slowlog len > $dir/len 2>&1
	show $dir/len
	check "slowlog task $2: the server keeps serving" alive
	check "... and logs it" logged "orbit slowlog: the task $2"
	cli set k2 v2 > /dev/null
	check "... and the restarted orbit logs again" sh -c "cli slowlog get 5 | grep -q '^k2$'"
	stop
}
slowlog_fault crash "crashed (signal 11)"
slowlog_fault hang "hung" ORBIT_REDIS_SLOWLOG_TIMEOUT_MS=1000

start /tmp/sli $O ORBIT_REDIS=off || exit 1
cli config set slowlog-log-slower-than 0 > /dev/null
cli echo orbit-fault:crash > /dev/null 2>&1
sleep 1
check "task in the server (ORBIT_REDIS=off): the crash takes it down" sh -c "! kill -0 $pid 2>/dev/null"
grep -q "crashed by signal" /tmp/sli/log && echo "    # $(grep -m1 'crashed by signal' /tmp/sli/log)"
stop
start /tmp/slj $O ORBIT_REDIS=off || exit 1
cli config set slowlog-log-slower-than 0 > /dev/null
(timeout 3 $S/src/redis-cli -p $port echo orbit-fault:hang > /dev/null 2>&1 &)
sleep 1
check "task in the server: the hang stops it answering" sh -c "! timeout 3 $S/src/redis-cli -p $port ping > /dev/null 2>&1"
stop

# -- BGSAVE from an orbit
start /tmp/bg $O || exit 1
cli debug populate 20000 key 100 | grep -q OK || echo "    # DEBUG POPULATE failed"
cli rpush list a b c > /dev/null
cli hset hash f1 v1 f2 v2 > /dev/null
before=$(cli debug digest)
cli config set rdb-key-save-delay 100 > /dev/null	# 2 s for 20000 keys
cli bgsave > /dev/null
cli set key:1 changed > /dev/null
cli del key:2 list > /dev/null
cli hset hash f3 v3 > /dev/null
check "BGSAVE runs in an orbit (writes go on meanwhile)" sh -c \
	"[ $(orbits redis-bgsave) = 1 ] && [ \"\$(cli get key:1)\" = changed ] &&
	 [ \"\$(cli dbsize)\" = 20000 ]"
wait_save 60
check "... and ends with success" sh -c "[ \"$(info persistence rdb_last_bgsave_status)\" = ok ]"
check "... logged with its snapshot time" logged "Background saving started in orbit"
echo "    # stall: latest_fork_usec=$(info stats latest_fork_usec)"
stop
port_bg=$port
start /tmp/bg $S || exit 1
check "the dump loads into stock Redis with the digest from when BGSAVE was issued" \
	sh -c "[ \"\$(cli debug digest)\" = '$before' ]"
stop

start /tmp/bgc $O || exit 1
cli debug populate 1000 > /dev/null
cli set orbit-fault:crash 1 > /dev/null
cli bgsave > /dev/null
wait_save 20
check "save task crashes: the server keeps serving" alive
check "... the save is reported failed" sh -c "[ \"$(info persistence rdb_last_bgsave_status)\" = err ]"
check "... and the crash logged" logged "orbit bgsave: the save task crashed (signal 11)"
cli del orbit-fault:crash > /dev/null
cli bgsave > /dev/null
wait_save 20
check "... the next BGSAVE succeeds" sh -c "[ \"$(info persistence rdb_last_bgsave_status)\" = ok ]"
check "forks that would lose the dataset are refused, not crashed" sh -c \
	"cli bgrewriteaof | grep -qi err; cli ping | grep -q PONG"
stop

# -- saves under a write load, and the server shutting down mid-save
start /tmp/bgw $O || exit 1
cli debug populate 20000 key 100 > /dev/null
$S/src/redis-benchmark -p $port -t set -n 30000 -r 100000 -c 4 -q > /dev/null 2>&1 &
w=$!
oks=0
for i in 1 2 3; do
	cli bgsave > /dev/null
	wait_save 60 && [ "$(info persistence rdb_last_bgsave_status)" = ok ] && oks=$((oks + 1))
done
wait $w
check "three BGSAVEs under redis-benchmark's writes succeed" [ $oks = 3 ]
cli config set rdb-key-save-delay 1000 > /dev/null	# 20 s
cli bgsave > /dev/null
sleep 1
cli shutdown nosave > /dev/null 2>&1
sleep 2
check "SHUTDOWN during an orbit save: the server exits, its orbits go" \
	sh -c "! kill -0 $pid 2>/dev/null && [ $(orbits redis-bgsave) = 0 ]"
wait $pid 2>/dev/null

start /tmp/bgh $O ORBIT_REDIS_BGSAVE_TIMEOUT_MS=2000 || exit 1
cli set orbit-fault:hang 1 > /dev/null
cli bgsave > /dev/null
check "save task hangs: the server keeps serving" alive
wait_save 20
check "... the save is ended at its timeout and reported failed" sh -c \
	"[ \"$(info persistence rdb_last_bgsave_status)\" = err ]"
check "... and the hang logged" logged "orbit bgsave: the save task hung"
stop

# -- a stock replica's full sync from the orbit build: disk-based, so the
#    master's BGSAVE for it runs in an orbit and the dump goes over the link
start /tmp/rm $O || exit 1
mport=$port mpid=$pid
cli config set repl-diskless-sync no > /dev/null
cli debug populate 5000 key 100 > /dev/null
cli hset hash f1 v1 > /dev/null
mdigest=$(cli debug digest)
start /tmp/rr $S || exit 1
cli replicaof 127.0.0.1 $mport > /dev/null
for i in $(seq 150); do
	[ "$(info replication master_link_status)" = up ] && break
	sleep 0.2
done
check "a stock replica's full sync from the orbit build: the link is up, the master's digest" \
	sh -c "[ \"$(info replication master_link_status)\" = up ] && [ \"\$(cli debug digest)\" = '$mdigest' ]"
check "... the master saved for it in an orbit" grep -q "Background saving started in orbit" /tmp/rm/log
echo $mport > /tmp/port
cli set after-sync 1 > /dev/null
echo $port > /tmp/port
for i in $(seq 50); do
	[ "$(cli get after-sync)" = 1 ] && break
	sleep 0.1
done
check "... and a write after the sync reaches the replica" sh -c "[ \"\$(cli get after-sync)\" = 1 ]"
stop
kill -9 $mpid 2>/dev/null
wait $mpid 2>/dev/null
finish
