#!/bin/sh
# examples/kvserver.c: a slow-query log in an orbit.  Drive load, check the
# slow log, inject a crash into the log task: the server keeps answering,
# the orbit restarts (orbitctl shows it).  In thread mode the same crash
# takes the whole server down.
. /tests/tap.sh
KV=/tests/ex_kvserver
# serve MODE PORT LOG: starts a server in the background, its pid in srv
serve() {
	$KV serve --mode $1 --port $2 > $3 2>&1 &
	srv=$!
	sleep 1
}
# restarts_are N: orbitctl's RESTARTS column (found by its header) for slowlog
restarts_are() {
	/tests/orbitctl list | awk -v want="$1" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "RESTARTS") c = i; next }
		/slowlog/ { found = 1; ok = $c == want }
		END { exit found && ok ? 0 : 1 }'
}
serve orbit 7401 /tmp/kv-orbit.log
check "load against the orbit-mode server" $KV load 7401 200
out=$($KV client 7401 "SLOWLOG GET")
check "slow queries were logged by the orbit" sh -c "echo '$out' | grep -q 'us: SLOW k'"
check "orbitctl lists the slowlog orbit" sh -c "/tests/orbitctl list | grep -q slowlog"
$KV client 7401 CRASH "SLOW k0" > /dev/null
sleep 1
check "the server still answers after the log task crashed" sh -c "$KV client 7401 'SET a 1' 'GET a' | grep -q '^1$'"
check "the slow log works again (restarted orbit)" sh -c "$KV client 7401 'SLOW a' 'SLOWLOG GET' | grep -q 'us: SLOW a'"
check "orbitctl shows the restart" restarts_are 1
$KV client 7401 HANG "SLOW k0" > /dev/null
sleep 2
check "a hung log task times out; the server still answers" sh -c "$KV client 7401 'SET b 2' 'GET b' | grep -q '^2$'"
check "the slow log works again after the timeout" sh -c "$KV client 7401 'SLOW b' 'SLOWLOG GET' | grep -q 'us: SLOW b'"
check "orbitctl shows the second restart" restarts_are 2
kill $srv; wait $srv 2>/dev/null

serve fork 7403 /tmp/kv-fork.log
check "fork-per-call mode serves load" $KV load 7403 200
check "fork-per-call children logged the slow queries" sh -c "$KV client 7403 'SLOWLOG GET' | grep -q 'us: SLOW k'"
$KV client 7403 CRASH "SLOW k0" HANG "SLOW k1" > /dev/null
sleep 2
# A forked logger races the SLOWLOG GET child that follows it (nothing
# orders the two), so the entry is polled for, for up to 2 s.
$KV client 7403 'SLOW c' > /dev/null
check "fork-per-call: a crashed and a hung child leave the server answering" sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do $KV client 7403 'SLOWLOG GET' | grep -q 'us: SLOW c' && exit 0; sleep 0.2; done; exit 1"
kill $srv; wait $srv 2>/dev/null

serve thread 7402 /tmp/kv-thread.log
check "thread mode serves too" $KV load 7402 100
$KV client 7402 CRASH "SLOW k0" > /dev/null 2>&1
sleep 1
check "in thread mode the crash kills the server" sh -c "! kill -0 $srv 2>/dev/null"
wait $srv 2>/dev/null

serve thread 7404 /tmp/kv-thread2.log
$KV client 7404 HANG "SLOW k0" > /dev/null
sleep 1
check "thread mode, hung log task: plain requests still answer" sh -c "$KV client 7404 'SET d 4' 'GET d' | grep -q '^4$'"
check "thread mode, hung log task: SLOWLOG never answers again" sh -c "! timeout 3 $KV client 7404 'SLOWLOG LEN' > /dev/null 2>&1"
kill $srv; wait $srv 2>/dev/null
finish
