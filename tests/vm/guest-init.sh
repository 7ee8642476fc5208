#!/bin/busybox sh
# Guest /init for orbit VM tests.  Results go to /dev/ttyS1 as TAP, the
# kernel console to ttyS0.  Top-level plan: insmod, each test in
# /tests/list (each followed by a leak check), rmmod.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
# Switch on now, before orbit.ko is loaded, the kernel's static keys that
# the cgroup tests would otherwise switch on mid-run: the memory and cpu
# controllers, and CFS bandwidth (an empty group with a quota of ten
# CPUs, which never throttles).  Switching a key patches kernel text, and
# multi-threaded TCG now and then appears to run a stale copy of a
# patched site: seen once in CI as "Oops: int3" in interrupt context
# during t_cgroup on 6.12.  run-vm.sh boots once more when a guest dies
# or hangs before insmod, not after.
echo "+memory +cpu" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
mkdir -p /sys/fs/cgroup/keys-on &&
	echo "1000000 100000" > /sys/fs/cgroup/keys-on/cpu.max 2>/dev/null
# Likewise tracing: while any trace event is enabled, the kernel records
# task names through probes on sched_switch and sched_wakeup, so the
# first event t_tracepoints enables would patch the scheduler (seen: the
# same Oops at ttwu_do_activate).  One event that fires only at insmod
# keeps those probes on from here.
mkdir -p /sys/kernel/tracing &&
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
echo 1 > /sys/kernel/tracing/events/module/module_load/enable 2>/dev/null
echo never > /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
echo 20 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
ip link set lo up 2>/dev/null
exec >/dev/ttyS1 2>&1

TIMEOUT=$(cat /tests/timeout 2>/dev/null || echo 300)
set -a
. /tests/env 2>/dev/null
set +a
n=0
total=$(($(grep -c . /tests/list) + 2))
echo "KTAP version 1"
echo "# kernel $(uname -r)"
echo "1..$total"
# Which memory debugging this kernel really has (the harness prints it).
dbg=$(dmesg | sed -n 's/.*mem auto-init: \(stack:.*\)/\1/p' | head -n 1)
dmesg | grep -q 'Unknown kernel command line parameters.*page_poison' ||
	{ grep -q 'page_poison=1' /proc/cmdline && dbg="$dbg, page_poison"; }
grep -q 'slub_debug=' /proc/cmdline && dbg="$dbg, slub_debug=$(sed 's/.*slub_debug=\([^ ]*\).*/\1/' /proc/cmdline)"
dmesg | grep -q 'kfence: initialized' && dbg="$dbg, KFENCE every $(cat /sys/module/kfence/parameters/sample_interval 2>/dev/null) ms"
echo "# memory debugging: ${dbg:-none}"

# Where every user process is, and the module's orbits (after a timeout
# or a leak).
where() {
	for p in /proc/[0-9]*; do
		[ "$(cut -d' ' -f4 $p/stat 2>/dev/null)" = 2 ] && continue
		echo "#   $(basename $p) $(cat $p/comm 2>/dev/null) $(cat $p/wchan 2>/dev/null) $(cut -d' ' -f1 $p/syscall 2>/dev/null) fds: $(ls -l $p/fd 2>/dev/null | grep -c orbit)"
		# Each other thread: its state, wait channel and system call.
		for t in $p/task/[0-9]*; do
			[ "${t##*/}" = "${p##*/}" ] && continue
			echo "#     thread ${t##*/} $(cut -d' ' -f3 $t/stat 2>/dev/null) $(cat $t/wchan 2>/dev/null) $(cut -d' ' -f1 $t/syscall 2>/dev/null)"
		done
	done
	[ -x /tests/orbitctl ] && /tests/orbitctl list 2>&1 | sed 's/^/#   /'
}

result() {	# result STATUS NAME [REASON]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2${3:+ # $3}"
	fi
}

# Harness self-test (tests/check-harness.sh): a kernel report before
# orbit.ko is loaded, for which run-vm.sh must boot the guest once more.
[ -n "${ORBIT_SELFTEST_EARLY_REPORT:-}" ] &&
	echo "<3>WARNING: harness self-test: a report before insmod" > /dev/kmsg

if insmod /orbit.ko; then
	result 0 insmod
	loaded=1
else
	result 1 insmod "insmod failed"
	loaded=0
fi

for t in $(cat /tests/list); do
	echo "# test $t"
	if [ ! -x "/tests/$t" ]; then
		result 1 "$t" "test binary missing"
		continue
	fi
	if [ "$loaded" = gone ]; then
		result 1 "$t" "an earlier test left orbit.ko unloaded"
		continue
	elif [ "$loaded" != 1 ]; then
		result 1 "$t" "module not loaded"
		continue
	fi
	cd /tmp
	t0=$(cut -d' ' -f1 /proc/uptime)
	"/tests/$t" &
	pid=$!
	# On a timeout, show where everything is stuck, then kill the test.
	( sleep "$TIMEOUT"
	  echo "# timeout: processes and wait channels"
	  where
	  echo w > /proc/sysrq-trigger
	  kill -9 $pid ) &
	watchdog=$!
	wait $pid
	rc=$?
	echo "# $t took $(awk -v a="$t0" '{ printf "%.0f", $1 - a }' /proc/uptime) s"
	kill $watchdog 2>/dev/null
	wait $watchdog 2>/dev/null
	cd /
	if [ "$rc" = 137 ]; then
		result 1 "$t" "timeout after ${TIMEOUT}s"
	elif ! grep -q '^orbit ' /proc/modules; then
		result 1 "$t" "left orbit.ko unloaded"
		loaded=gone	# the tests after it fail, and rmmod
	elif [ "$rc" != 0 ]; then
		result 1 "$t" "exit status $rc"
	elif ! /tests/leakcheck; then
		where
		result 1 "$t" "module objects leaked"
	else
		result 0 "$t"
	fi
done

# A kernel with lockdep (make soak-debug): is it still on, and how many
# lock classes has it seen whose keys lie in orbit.ko (run-vm.sh wants
# both)?  rmmod drops them.
if [ "$loaded" = 1 ] && [ -r /proc/lockdep ]; then
	set -- $(grep '^orbit ' /proc/modules)
	lo=$(($6)) hi=$(($6 + $2)) mine=0
	for key in $(sed -n 's/^\([0-9a-f]\{16\}\) .*/\1/p' /proc/lockdep); do
		k=$((0x$key))
		[ $k -ge $lo ] && [ $k -lt $hi ] && mine=$((mine + 1))
	done
	echo "# lockdep: debug_locks $(awk '/debug_locks:/ { print $2 }' /proc/lockdep_stats), $mine lock classes of orbit.ko"
fi
if [ "$loaded" = gone ]; then
	result 1 rmmod "a test left orbit.ko unloaded"
elif [ "$loaded" = 1 ] && rmmod orbit; then
	result 0 rmmod
else
	result 1 rmmod "rmmod failed"
fi
echo "# dmesg begin"
dmesg
echo "# dmesg end"
echo "# guest done"
sync
poweroff -f
