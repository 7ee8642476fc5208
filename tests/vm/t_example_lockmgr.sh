#!/bin/sh
# examples/lockmgr.c: transactions deadlock; the wait-for-graph detector
# finds the cycles and its pushed updates cancel a victim.  Every
# transaction commits, every lock is released and every write is
# accounted for, also when the detector crashes (orbit, fork); a crash
# of the detector in a thread kills the program.  The orbit also runs
# with ORBIT_BACKGROUND (--background), with ORBIT_DIRECT (--direct: its
# calls through a ring shared with the orbit, crashes included) and with
# both.  Every abort resolves a deadlock: the detectors that decide on a
# snapshot (orbit, fork, the snapshot and isolated floors) pick one
# victim per cycle, so no verdict cancels a second member of a cycle
# already resolved (extra_aborts=0; when a tie went to the member where
# the walk entered the cycle, orbit runs here counted 1..5).
# The short runs that must see deadlocks, or a detector call, use 8
# locks: with the default 32, 400 commits can finish before any cycle
# forms (seen once on 6.12; 25 runs a kernel counted 2..20 deadlocks,
# against 41..220 with 8), or without any transaction waiting (the IPC
# floor, once on 6.12: 400 commits in 0.03 s, no detector call; on the
# debug kernel each worker finished before the next was created, which
# the example's start gate now prevents).
. /tests/tap.sh
EX=/tests/ex_lockmgr

run orbit --mode orbit --txns 100 --heap 16
check "orbit: all 800 transactions commit, locks released, writes consistent" \
	sh -c "[ $rc = 0 ] && grep -q 'commits=800 .*consistent=yes' /tmp/orbit.out"
check "orbit: deadlocks were found and resolved by applied updates" \
	[ "$(field /tmp/orbit.out deadlocks)" -gt 0 ]
check "orbit: every detector call succeeded" [ "$(field /tmp/orbit.out check_failures)" = 0 ]
check "orbit: every abort resolved a deadlock (one victim per cycle)" \
	[ "$(field /tmp/orbit.out extra_aborts)" = 0 ]

run crash --mode orbit --txns 100 --heap 16 --crash 3
check "orbit, detector crashes on call 3: the program completes consistently" \
	sh -c "[ $rc = 0 ] && grep -q 'commits=800 .*consistent=yes' /tmp/crash.out"
check "orbit: the crash was reported as a failed call" \
	[ "$(field /tmp/crash.out check_failures)" -ge 1 ]
check "orbit: the restarted detector resolves deadlocks" \
	[ "$(field /tmp/crash.out deadlocks)" -gt 0 ]

# A detector slower than the waiters' re-check interval (20 ms against
# 1): a waiter re-checks only once its calls are resolved, so calls do
# not pile up behind the one resolver.  Each wait's first check is still
# made, so a waiter may have a few calls in flight (13..17 queued at
# most in runs on 6.1 and 6.12, 6 to 10 s).  Re-checking every interval
# whatever was pending, this run had not ended after 100 s on 6.12.
EX="timeout 300 /tests/ex_lockmgr"
run slow --mode orbit --txns 20 --heap 16 --locks 8 --wait-ms 1 --detect-us 20000
EX=/tests/ex_lockmgr
check "orbit, a detector slower than the re-check interval: completes consistently" \
	sh -c "[ $rc = 0 ] && grep -q 'commits=160 .*check_failures=0 .*consistent=yes' /tmp/slow.out"
check "orbit, a slow detector: calls do not pile up (48 queued at most, 6 a waiter)" \
	[ "$(field /tmp/slow.out queued_max)" -le 48 ]

# The same slow detector with room for one pending call: the other
# waiters find the queue full, make no call and re-check later, and the
# run still completes with every deadlock resolved.
EX="timeout 300 /tests/ex_lockmgr"
run full --mode orbit --txns 50 --heap 16 --locks 8 --wait-ms 1 --detect-us 20000 --queue 1
EX=/tests/ex_lockmgr
check "orbit, a queue of one pending call: completes consistently" \
	sh -c "[ $rc = 0 ] && grep -q 'commits=400 .*check_failures=0 .*consistent=yes' /tmp/full.out"
check "orbit, a queue of one: waiters found it full and made no call" \
	sh -c "[ $(field /tmp/full.out queue_full) -gt 0 ] && [ $(field /tmp/full.out queued_max) = 1 ]"
check "orbit, a queue of one: deadlocks were still resolved" \
	[ "$(field /tmp/full.out deadlocks)" -gt 0 ]

run fork --mode fork --txns 50 --heap 16 --crash 3
check "fork-per-call: completes consistently despite a crashed child" \
	sh -c "[ $rc = 0 ] && grep -q 'commits=400 .*consistent=yes' /tmp/fork.out"
check "fork-per-call: every abort resolved a deadlock" \
	[ "$(field /tmp/fork.out extra_aborts)" = 0 ]

run thread --mode thread --txns 100 --heap 16
check "thread: completes consistently" \
	sh -c "[ $rc = 0 ] && grep -q 'commits=800 .*consistent=yes' /tmp/thread.out"
run floor --mode thread --ipc-floor --txns 50 --heap 16 --locks 8
check "thread with the IPC-floor control: completes, every check echoed" \
	sh -c "[ $rc = 0 ] && grep -q 'mode=thread+ipc-floor .*commits=400 .*check_failures=0 .*consistent=yes' /tmp/floor.out"
check "thread with the IPC-floor control: the detector was called" \
	[ "$(field /tmp/floor.out checks)" -gt 0 ]
run tfloor --mode thread --ipc-floor --echo-thread --txns 50 --heap 16 --locks 8
check "IPC-floor control with the echo in a thread: completes, every check echoed" \
	sh -c "[ $rc = 0 ] && grep -q 'mode=thread+ipc-floor-thread .*commits=400 .*check_failures=0 .*consistent=yes' /tmp/tfloor.out"
check "IPC-floor control with the echo in a thread: the detector was called" \
	[ "$(field /tmp/tfloor.out checks)" -gt 0 ]
run sfloor --mode thread --ipc-floor --snapshot-floor --txns 50 --heap 16 --locks 8
check "IPC-floor control deciding on copies: completes, every check echoed" \
	sh -c "[ $rc = 0 ] && grep -q 'mode=thread+ipc-floor-snapshot .*commits=400 .*check_failures=0 .*consistent=yes' /tmp/sfloor.out"
check "IPC-floor control deciding on copies: its verdicts resolve deadlocks" \
	[ "$(field /tmp/sfloor.out deadlocks)" -gt 0 ]
check "IPC-floor control deciding on copies: every abort resolved a deadlock" \
	[ "$(field /tmp/sfloor.out extra_aborts)" = 0 ]
run ifloor --mode thread --isolated-floor --txns 50 --heap 16 --locks 8
check "isolated-floor control: completes, every verdict read" \
	sh -c "[ $rc = 0 ] && grep -q 'mode=thread+isolated-floor .*commits=400 .*check_failures=0 .*consistent=yes' /tmp/ifloor.out"
check "isolated-floor control: its verdicts resolve deadlocks" \
	[ "$(field /tmp/ifloor.out deadlocks)" -gt 0 ]
check "isolated-floor control: every abort resolved a deadlock" \
	[ "$(field /tmp/ifloor.out extra_aborts)" = 0 ]
run bg --mode orbit --background --txns 50 --heap 16 --locks 8
check "orbit with ORBIT_BACKGROUND: completes consistently" \
	sh -c "[ $rc = 0 ] && grep -q 'mode=orbit+background .*commits=400 .*check_failures=0 .*consistent=yes' /tmp/bg.out"
check "orbit with ORBIT_BACKGROUND: its verdicts resolve deadlocks" \
	[ "$(field /tmp/bg.out deadlocks)" -gt 0 ]
check "orbit with ORBIT_BACKGROUND: every abort resolved a deadlock" \
	[ "$(field /tmp/bg.out extra_aborts)" = 0 ]
run direct --mode orbit --direct --txns 50 --heap 16 --locks 8
check "orbit with ORBIT_DIRECT: completes consistently, every call answered" \
	sh -c "[ $rc = 0 ] && grep -q 'mode=orbit+direct .*commits=400 .*check_failures=0 .*consistent=yes' /tmp/direct.out"
check "orbit with ORBIT_DIRECT: its verdicts resolve deadlocks" \
	[ "$(field /tmp/direct.out deadlocks)" -gt 0 ]
check "orbit with ORBIT_DIRECT: every abort resolved a deadlock" \
	[ "$(field /tmp/direct.out extra_aborts)" = 0 ]
run dcrash --mode orbit --direct --txns 50 --heap 16 --locks 8 --crash 3
check "ORBIT_DIRECT, detector crashes on call 3: completes consistently" \
	sh -c "[ $rc = 0 ] && grep -q 'mode=orbit+direct .*commits=400 .*consistent=yes' /tmp/dcrash.out"
check "ORBIT_DIRECT: the crash was reported as a failed call" \
	[ "$(field /tmp/dcrash.out check_failures)" -ge 1 ]
check "ORBIT_DIRECT: the restarted detector resolves deadlocks" \
	[ "$(field /tmp/dcrash.out deadlocks)" -gt 0 ]
run dbg --mode orbit --direct --background --txns 50 --heap 16 --locks 8
check "ORBIT_DIRECT with ORBIT_BACKGROUND: completes consistently, every call answered" \
	sh -c "[ $rc = 0 ] && grep -q 'mode=orbit+direct+background .*commits=400 .*check_failures=0 .*consistent=yes' /tmp/dbg.out"
check "ORBIT_DIRECT with ORBIT_BACKGROUND: its verdicts resolve deadlocks" \
	[ "$(field /tmp/dbg.out deadlocks)" -gt 0 ]
run baddirect --mode thread --direct --txns 1
check "--direct outside orbit mode is a usage error" [ "$rc" = 2 ]
run badbg --mode thread --background --txns 1
check "--background outside orbit mode is a usage error" [ "$rc" = 2 ]
run badflag --mode orbit --echo-thread --txns 1
check "--echo-thread without --ipc-floor is a usage error" [ "$rc" = 2 ]
run badfloors --mode thread --ipc-floor --isolated-floor --txns 1
check "--isolated-floor with --ipc-floor is a usage error" [ "$rc" = 2 ]
run badiso --mode orbit --isolated-floor --txns 1
check "--isolated-floor outside thread mode is a usage error" [ "$rc" = 2 ]
run badq --mode orbit --queue 0 --txns 1
check "--queue 0 is a usage error" [ "$rc" = 2 ]
run tcrash --mode thread --txns 100 --heap 16 --crash 3
check "thread: a crashing detector kills the whole program (SIGSEGV)" [ "$rc" = 139 ]
finish
