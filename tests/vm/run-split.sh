#!/bin/bash
# Runs a list of VM tests as make check's guests do: the t_numa_* tests
# in a guest of two NUMA nodes (run-vm.sh -N, the vCPUs rounded up to
# even, logs in LOGDIR-numa/), the others in one guest (LOGDIR/).  The
# options after the list go to run-vm.sh for both; fails when either
# guest fails.  Used by make soak and make soak-debug.
# usage: run-split.sh LOGDIR VCPUS "TESTS" run-vm-options...
set -u
logs=$1 cpus=$2 tests=$3
shift 3
here=$(dirname "$0")
numa='' other=''
for t in $tests; do
	case $t in t_numa_*) numa="$numa $t" ;; *) other="$other $t" ;; esac
done
rc=0
if [ -n "$other" ]; then
	"$here/run-vm.sh" "$@" -l "$logs" -c "$cpus" -t "$other" || rc=1
fi
if [ -n "$numa" ]; then
	"$here/run-vm.sh" -N "$@" -l "$logs-numa" -c $(((cpus + 1) / 2 * 2)) \
		-t "$numa" || rc=1
fi
exit $rc
