#!/bin/sh
# examples/watchdog.c: the watchdog diagnoses a worker stuck holding a lock
# (thread id, lock, site), raises no false alarm on a healthy run, and in
# an orbit survives a crashing and a hanging check.  In a thread the crash
# kills the program and the hang silences the watchdog.
. /tests/tap.sh
EX=/tests/ex_watchdog

run stuck --mode orbit --threads 2 --seconds 2 --stuck-after 200 --heap 16
check "orbit: the stuck worker is diagnosed" [ $rc = 0 ]
check "orbit: the diagnosis names worker 0, its lock and the site" \
	grep -q '^DIAGNOSIS worker 0 (tid [0-9]*) stuck .* holding log_lock, taken at flush_log (' /tmp/stuck.out
check "orbit: exactly one diagnosis" [ "$(field /tmp/stuck.out diagnoses)" = 1 ]
check "orbit: about 10 checks per second" [ "$(field /tmp/stuck.out checks)" -ge 10 ]

run healthy --mode orbit --threads 2 --seconds 1.5 --heap 16
check "orbit: no false alarm on a healthy run" \
	sh -c "[ $rc = 0 ] && [ $(field /tmp/healthy.out diagnoses) = 0 ]"

run crash --mode orbit --threads 2 --seconds 3 --stuck-after 200 --crash 2 --heap 16
check "orbit, check 2 crashes: the stuck worker is still diagnosed" [ $rc = 0 ]
check "orbit: the crash was one failed check" [ "$(field /tmp/crash.out check_failures)" = 1 ]

run hang --mode orbit --threads 2 --seconds 4 --stuck-after 200 --hang 2 --heap 16
check "orbit, check 2 hangs: the call times out and the stuck worker is diagnosed" \
	sh -c "[ $rc = 0 ] && grep -q 'check 2 failed: Connection timed out' /tmp/hang.out"

run fork --mode fork --threads 2 --seconds 2 --stuck-after 200 --heap 16
check "fork-per-call: the stuck worker is diagnosed" [ $rc = 0 ]

run thread --mode thread --threads 2 --seconds 2 --stuck-after 200 --heap 16
check "thread: the stuck worker is diagnosed" [ $rc = 0 ]
run tcrash --mode thread --threads 2 --seconds 2 --crash 2 --heap 16
check "thread: a crashing check kills the program (SIGSEGV)" [ "$rc" = 139 ]
run thang --mode thread --threads 2 --seconds 2 --stuck-after 200 --hang 2 --heap 16
check "thread: a hanging check silences the watchdog (stuck worker missed)" \
	sh -c "[ $rc = 1 ] && grep -q 'watchdog thread hangs' /tmp/thang.out"
finish
