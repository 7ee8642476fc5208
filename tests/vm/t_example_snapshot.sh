#!/bin/sh
# examples/snapshot.c: dumps of a table that writers keep changing are
# point-in-time consistent (checksums hold, balances add up) in every
# mode; a crashing dump in an orbit is reported and the next one works;
# in a thread it kills the program.
. /tests/tap.sh
EX=/tests/ex_snapshot

run orbit --mode orbit --mib 32 --seconds 4 --interval-ms 500
check "orbit: every dump is consistent while writers run" [ $rc = 0 ]
check "orbit: several dumps were taken" [ "$(field /tmp/orbit.out consistent)" -ge 2 ]
check "orbit: writers made progress" [ "$(field /tmp/orbit.out writes)" -gt 0 ]

run crash --mode orbit --mib 32 --seconds 4 --interval-ms 500 --crash 1
check "orbit, dump 1 crashes: reported, later dumps consistent" \
	sh -c "[ $rc = 0 ] && [ $(field /tmp/crash.out failed) = 1 ] && grep -q '^snapshot 1: FAILED' /tmp/crash.out"

run fork --mode fork --mib 32 --seconds 3 --interval-ms 500
check "fork: every dump is consistent" [ $rc = 0 ]
run thread --mode thread --mib 32 --seconds 3 --interval-ms 500
check "thread: every dump is consistent" [ $rc = 0 ]
run tcrash --mode thread --mib 32 --seconds 3 --interval-ms 500 --crash 1
check "thread: a crashing dump kills the program (SIGSEGV)" [ "$rc" = 139 ]
finish
