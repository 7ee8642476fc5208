#!/bin/sh
# examples/kvserver.c: a slow-query log in an orbit.  Drive load, check the
# slow log, inject a crash into the log task: the server keeps answering,
# the orbit restarts (orbitctl shows it).  In thread mode the same crash
# takes the whole server down.
KV=/tests/ex_kvserver
n=0 fail=0
check() {	# check DESCRIPTION COMMAND...
	desc=$1; shift
	n=$((n + 1))
	if "$@"; then echo "    ok $n - $desc"; else echo "    not ok $n - $desc"; fail=1; fi
}
$KV serve --mode orbit --port 7401 > /tmp/kv-orbit.log 2>&1 &
srv=$!
sleep 1
check "load against the orbit-mode server" $KV load 7401 200
out=$($KV client 7401 "SLOWLOG GET")
check "slow queries were logged by the orbit" sh -c "echo '$out' | grep -q 'us: SLOW k'"
check "orbitctl lists the slowlog orbit" sh -c "/tests/orbitctl list | grep -q slowlog"
$KV client 7401 CRASH "SLOW k0" > /dev/null
sleep 1
check "the server still answers after the log task crashed" sh -c "$KV client 7401 'SET a 1' 'GET a' | grep -q '^1$'"
check "the slow log works again (restarted orbit)" sh -c "$KV client 7401 'SLOW a' 'SLOWLOG GET' | grep -q 'us: SLOW a'"
check "orbitctl shows the restart" sh -c "/tests/orbitctl list | awk '/slowlog/ { exit \$8 == 1 ? 0 : 1 }'"
kill $srv; wait $srv 2>/dev/null

$KV serve --mode thread --port 7402 > /tmp/kv-thread.log 2>&1 &
srv=$!
sleep 1
check "thread mode serves too" $KV load 7402 100
$KV client 7402 CRASH "SLOW k0" > /dev/null 2>&1
sleep 1
check "in thread mode the crash kills the server" sh -c "! kill -0 $srv 2>/dev/null"
wait $srv 2>/dev/null
echo "    1..$n"
exit $fail
