#!/bin/sh
# make demo, in the guest: a key-value server whose slow-query log runs in
# an orbit; the log task crashes; the server keeps serving.
KV=/tests/ex_kvserver
say() { echo "    # $*"; }
show() { sed 's/^/    #   /'; }

say "== a key-value server on 127.0.0.1:7400 keeps its slow-query log in an orbit"
say "   The orbit is a separate process.  The server's log entries live in an"
say "   orbit area; each call hands the orbit a copy-on-write snapshot of it."
$KV serve --mode orbit --port 7400 > /tmp/kv.log 2>&1 &
srv=$!
sleep 1
cat /tmp/kv.log | show
say "== orbitctl list before any load: the orbit exists, no call made yet"
/tests/orbitctl list | show
say "== driving load (400 requests, every 50th one slow)"
say "   Each slow request is sent to the orbit as a fire-and-forget call."
$KV load 7400 400 | show
say "== SLOWLOG GET, answered by the orbit from its snapshot:"
$KV client 7400 "SLOWLOG GET" | tail -4 | show
say "== orbitctl list: CALLS counts the calls; AREA_BYTES and PAGES are what the"
say "   orbit sees of the server; COW counts the server's first writes to pages a"
say "   snapshot shared (each one copied a page instead of copying them all)"
/tests/orbitctl list | show
say "== injecting a crash into the slow-log task (NULL dereference in the orbit)"
say "   Only the orbit's process dies; the kernel restarts it for the server."
$KV client 7400 CRASH "SLOW k1" | show
sleep 1
dmesg | grep -m1 'slowlog.*segfault' | sed 's/^\[[^]]*\] //' | show
say "== the server is still serving:"
$KV client 7400 "SET after crash" "GET after" | show
$KV load 7400 100 | show
say "== and the restarted orbit logs again:"
$KV client 7400 "SLOW after" "SLOWLOG GET" | show
say "== orbitctl list (note RESTARTS and the new PID)"
/tests/orbitctl list | show
kill $srv
wait $srv 2>/dev/null

say "== the same crash with the log task in a thread of the server:"
$KV serve --mode thread --port 7401 > /tmp/kv2.log 2>&1 &
srv=$!
sleep 1
$KV client 7401 CRASH "SLOW k1" > /dev/null 2>&1
sleep 1
if kill -0 $srv 2>/dev/null; then
	say "   (the server survived?)"
	kill $srv
else
	wait $srv
	say "   the whole server died (exit status $?): no more answers:"
	$KV client 7401 "GET k1" 2>&1 | show
fi
say "== snapshots at work: a 16 MiB table in an area, written by 4 threads,"
say "   dumped to a file by an orbit every 0.5 s while the writers go on"
/tests/ex_snapshot --mode orbit --mib 16 --seconds 3 --interval-ms 500 \
	--dir /tmp > /tmp/snap.log 2>&1 &
snap=$!
sleep 1
say "== orbitctl list after 1 s: AREA_BYTES is the address space of the areas"
say "   the orbit sees, PAGES what is in them (the table is 4096 pages); COW"
say "   counts the writers' first writes to pages a snapshot still shares"
/tests/orbitctl list | show
sleep 1
say "== and a second later: more calls (snapshots), more COW copies"
/tests/orbitctl list | show
wait $snap
say "== what the snapshotter reported (each dump verified consistent):"
grep -E '^snapshot|^RESULT' /tmp/snap.log | tail -4 | show
echo "    ok 1 - demo"
echo "    1..1"
