#!/bin/sh
# The examples as orbit-analyze --fix rebuilt them from copies whose
# orbit_alloc calls were turned back into malloc (Makefile: fx_*): each
# runs its task in an orbit and gets what the hand-written port gets.
. /tests/tap.sh

EX=/tests/fx_quickstart
run quickstart
check "quickstart, fixed: the expected sums, the crash survived" \
	[ "$(tail -1 /tmp/quickstart.out)" = "after a restart: sum 1400" ]

# 8 locks, as in t_example_lockmgr.sh: with 32, 400 commits may finish
# before any cycle forms.
EX=/tests/fx_lockmgr
run lockmgr --mode orbit --txns 50 --heap 16 --locks 8
check "lockmgr, fixed: every transaction commits, deadlocks resolved" \
	sh -c "[ $rc = 0 ] && grep -q 'commits=400 .*consistent=yes' /tmp/lockmgr.out && [ $(field /tmp/lockmgr.out deadlocks) -gt 0 ]"

EX=/tests/fx_snapshot
run snapshot --mode orbit --mib 16 --seconds 2 --interval-ms 500
check "snapshot, fixed: every dump consistent while writers run" \
	sh -c "[ $rc = 0 ] && [ $(field /tmp/snapshot.out consistent) -ge 2 ]"

EX=/tests/fx_watchdog
run watchdog --mode orbit --threads 2 --seconds 2 --stuck-after 200 --heap 16
check "watchdog, fixed: the stuck worker is diagnosed once" \
	sh -c "[ $rc = 0 ] && [ $(field /tmp/watchdog.out diagnoses) = 1 ]"
finish
