#!/bin/sh
# apps/memcached: the memcached port on this kernel.  memcached's own
# t/lru-crawler.t passes with it, its dumps taken in an orbit; a dump is a
# point-in-time snapshot of the cache; the fault switches crash and hang
# the dump task: the orbit build answers the dump with a SERVER_ERROR line
# and keeps serving, the build with the dump in the server
# (ORBIT_MEMCACHED=off) dies on the crash and never ends the hung dump.
. /tests/tap.sh
PATH=/usr/bin:$PATH
O=/apps/memcached/orbit
[ -x $O/memcached ] || { echo "    # no /apps/memcached (apps/overlay.sh)"; exit 1; }
port=11300
cat > /tmp/mc.pl <<'PERL'
# mc.pl PORT TIMEOUT COMMAND...: sends the commands (\r\n added), prints
# the replies up to the last one's final line, "TIMEOUT" if none came.
use strict; use IO::Socket::INET;
my ($port, $timeout, @cmds) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port") or die "connect: $!";
$SIG{ALRM} = sub { print "TIMEOUT\n"; exit 2 };
alarm($timeout);
while (defined(my $c = shift @cmds)) {
	print $s "$c\r\n";
	print $s shift(@cmds) . "\r\n" if $c =~ /^set /;	# its data
	next if $c =~ /noreply/ || $c !~ /^(set|get|delete|version|lru_crawler|stats)/;
	while (<$s>) {
		print;
		last if /^(END|ERROR|SERVER_ERROR|CLIENT_ERROR|BADCLASS|STORED|VERSION|OK|DELETED|NOT_FOUND|BUSY)/;
	}
}
PERL
mc() { perl /tmp/mc.pl $port "$@"; }
snapshots() { /tests/orbitctl stats | sed -n 's/^snapshots *\([0-9]*\).*/\1/p'; }
# start DIR [VAR=VALUE...]: the orbit build on the next port
start() {
	dir=$1
	shift
	port=$((port + 1))
	mkdir -p "$dir"
	env "$@" $O/memcached -U 0 -p $port -t 2 -m 64 -u root $MCARGS > "$dir/log" 2>&1 &
	pid=$!
	for i in $(seq 50); do
		mc 5 version 2>/dev/null | grep -q VERSION && return 0
		sleep 0.1
	done
	show "$dir/log"
	return 1
}
stop() { kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; }
alive() { mc 5 version | grep -q VERSION; }
fill() {	# fill N: keys k1..kN
	i=1 cmds=
	while [ $i -le $1 ]; do
		cmds="$cmds set k$i 0 0 1 noreply|x|"
		i=$((i + 1))
	done
	echo "$cmds" | tr '|' '\n' | sed 's/$/\r/' > /tmp/fill
	printf 'version\r\n' >> /tmp/fill
	perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:'$port'") or die; open F, "/tmp/fill"; print $s $_ while <F>; while (<$s>) { last if /VERSION/ }'
}
dump_keys() { grep -c '^key=' "$1"; }

# -- memcached's own test of the crawler and its metadump
s0=$(snapshots)
cd $O
prove t/lru-crawler.t > /tmp/prove.out 2>&1
rc=$?
cd /tmp
[ $rc = 0 ] || tail -30 /tmp/prove.out | show
check "prove t/lru-crawler.t passes" [ $rc = 0 ]
check "... its metadumps were snapshots taken for orbits" [ "$(snapshots)" -gt "$s0" ]

# -- dumps from an orbit
start /tmp/mc1 || exit 1
fill 2000
mc 10 "lru_crawler metadump all" > /tmp/mc1/dump
check "metadump all from the orbit lists every key" sh -c \
	"[ $(dump_keys /tmp/mc1/dump) = 2000 ] && tail -1 /tmp/mc1/dump | grep -q '^END'"
check "... in memcached's format" grep -qE '^key=k1 exp=-1 la=[0-9]+ cas=[0-9]+ fetch=no cls=1 size=[0-9]+$' /tmp/mc1/dump
check "... with the dump orbit running" sh -c "/tests/orbitctl list | grep -q memcached-dump"
mc 10 "lru_crawler metadump 2" > /tmp/mc1/dump2
check "a class with no items: END only" sh -c "[ \"\$(cat /tmp/mc1/dump2 | tr -d '\r')\" = END ]"
mc 10 "lru_crawler metadump 99" > /tmp/mc1/bad
check "a bad class: BADCLASS" grep -q '^BADCLASS' /tmp/mc1/bad
mc 10 "set orbit-fault:crash 0 0 1" x > /dev/null
mc 20 "lru_crawler metadump all" > /tmp/mc1/crash
show /tmp/mc1/crash | tail -2
check "dump task crashes: SERVER_ERROR to the client" grep -q '^SERVER_ERROR metadump orbit: the task crashed (signal 11)' /tmp/mc1/crash
check "... the server keeps serving" alive
check "... and logs it" grep -q 'orbit metadump: the task crashed' /tmp/mc1/log
mc 10 "delete orbit-fault:crash" > /dev/null
mc 20 "lru_crawler metadump hash" > /tmp/mc1/after
check "... the restarted orbit dumps everything" [ "$(dump_keys /tmp/mc1/after)" = 2000 ]
stop

# -- dumps while writers change the cache and the hash table grows (a
#    small table: it doubles at 6144 items), and clients that leave
#    mid-dump.  The table's maintenance thread pauses every worker to
#    double it while holding the lock a dump holds off expansion with: a
#    dump must never wait for that lock in a worker.
MCARGS="-o hashpower=12" start /tmp/mc5 || exit 1
fill 3000
memcslap --servers=127.0.0.1:$port --concurrency=2 --execute-number=20000 --test=set > /dev/null 2>&1 &
w=$!
ends=0
for i in 1 2 3 4 5; do
	mc 30 "lru_crawler metadump all" > /tmp/mc5/d$i
	tail -1 /tmp/mc5/d$i | grep -q '^END' && ends=$((ends + 1))
	perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:'$port'") or die;
		print $s "lru_crawler metadump all\r\n"; $l = <$s>; close $s'
done
kill $w 2>/dev/null; wait $w 2>/dev/null
check "five dumps while memcslap writes and the table grows all end with END" [ $ends = 5 ]
mc 5 stats > /tmp/mc5/stats
check "... the table did grow" grep -q 'hash_power_level 1[3-9]' /tmp/mc5/stats
check "... and clients that left mid-dump did not hurt the server" alive
mc 30 "lru_crawler metadump hash" > /tmp/mc5/last
check "... which dumps its keys afterwards" sh -c "[ $(dump_keys /tmp/mc5/last) -ge 3000 ]"
stop

start /tmp/mc2 ORBIT_MEMCACHED_TIMEOUT_MS=1000 || exit 1
fill 100
mc 10 "set orbit-fault:hang 0 0 1" x > /dev/null
mc 20 "lru_crawler metadump all" > /tmp/mc2/hang
show /tmp/mc2/hang | tail -1
check "dump task hangs: SERVER_ERROR after its timeout" grep -q '^SERVER_ERROR metadump orbit: the task hung' /tmp/mc2/hang
check "... the server keeps serving" alive
stop

start /tmp/mc3 ORBIT_MEMCACHED=off || exit 1
fill 100
mc 10 "set orbit-fault:crash 0 0 1" x > /dev/null
mc 10 "lru_crawler metadump all" > /dev/null 2>&1
sleep 1
check "dump in the server (ORBIT_MEMCACHED=off): the crash takes it down" sh -c "! kill -0 $pid 2>/dev/null"
stop
start /tmp/mc4 ORBIT_MEMCACHED=off || exit 1
fill 100
mc 10 "set orbit-fault:hang 0 0 1" x > /dev/null
mc 5 "lru_crawler metadump all" > /tmp/mc4/hang 2>&1
check "dump in the server: the hung dump never ends" grep -q '^TIMEOUT' /tmp/mc4/hang
stop
finish
