#!/bin/bash
# Boots one stock kernel in QEMU with an initramfs holding busybox, orbit.ko
# and the test binaries; runs the guest suite; reports per-test TAP results
# and a summary line; fails on a missing boot, failed insmod, missing or
# failing or timed-out test, and on any Oops/BUG/WARNING/lockdep/KASAN,
# SLUB or KFENCE report, refcount warning or RCU stall in the guest log.
#
# The guest boots with the kernel's memory debugging on (slub_debug=FZPU,
# init_on_free, page poisoning, KFENCE sampling every millisecond where the
# kernel has them), so that corruption shows; -D boots without it (for
# benchmarks, whose figures it would distort).  The guest has a small
# NVMe disk (/dev/nvme0n1, 8 MiB, every 512-byte sector holds its own
# number) for tests of I/O into area memory.
#
# -N boots a guest of two NUMA nodes, each with half of the vCPUs and of
# the memory (NUMA balancing at the kernel's default, on), for the tests
# named t_numa_*: without -t, a run with -N runs those and one without
# runs all others (two nodes of one vCPU each also change how the
# scheduler places tasks, which the other tests and the benchmarks do not
# want).
#
# usage: run-vm.sh -k KVER -m orbit.ko -b BINDIR -l LOGDIR [-t "t1 t2"]
#                  [-T per-test-timeout] [-M guest-MiB] [-c vCPUs]
#                  [-i kernel-image] [-r ROOT-OVERLAY]... [-D] [-N]
# -i boots another image than /boot/vmlinuz-KVER (a kernel built with
# lockdep and KASAN: scripts/debug-kernel.sh).  A guest that crashes, or
# has no insmod result within ORBIT_BOOT_TIMEOUT seconds (180; at most
# the run's budget less 10), before orbit.ko is loaded is booted once more.
set -u
KVER= MODULE= BINDIR= LOGDIR= TESTS= PER_TEST=${ORBIT_TEST_TIMEOUT:-300} MEM=3072 OVERLAY=
CPUS=2 VMLINUZ= BOOT_SECS=${ORBIT_BOOT_TIMEOUT:-180} NUMA=
DEBUG="slub_debug=FZPU init_on_free=1 page_poison=1 kfence.sample_interval=1"
while getopts k:m:b:l:t:T:M:c:i:r:DN o; do
	case $o in
	k) KVER=$OPTARG ;; m) MODULE=$OPTARG ;; b) BINDIR=$OPTARG ;;
	l) LOGDIR=$OPTARG ;; t) TESTS=$OPTARG ;; T) PER_TEST=$OPTARG ;;
	M) MEM=$OPTARG ;; c) CPUS=$OPTARG ;; i) VMLINUZ=$OPTARG ;;
	r) OVERLAY="$OVERLAY $OPTARG" ;; D) DEBUG= ;; N) NUMA=1 ;; *) exit 2 ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "run-vm: $*" >&2; echo "kernel $KVER: 0 passed, 1 failed"; exit 1; }
[ -n "$KVER" ] && [ -n "$MODULE" ] && [ -n "$BINDIR" ] && [ -n "$LOGDIR" ] ||
	{ echo "usage: $0 -k KVER -m orbit.ko -b BINDIR -l LOGDIR [-t tests]" >&2; exit 2; }
case $CPUS in
''|*[!0-9]*|0) echo "run-vm: -c takes a number of vCPUs, at least 1" >&2; exit 2 ;;
esac
if [ -n "$NUMA" ] && { [ $((CPUS % 2)) != 0 ] || [ "$MEM" -lt 512 ]; }; then
	echo "run-vm: -N needs an even number of vCPUs and 512 MiB" >&2; exit 2
fi
case $BOOT_SECS in
''|*[!0-9]*|0) echo "run-vm: ORBIT_BOOT_TIMEOUT takes a number of seconds, at least 1" >&2; exit 2 ;;
esac
[ -n "$VMLINUZ" ] || VMLINUZ=/boot/vmlinuz-$KVER
[ -r "$VMLINUZ" ] || die "no kernel image $VMLINUZ"
[ -r "$MODULE" ] || die "no module $MODULE"
BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ -x "$BUSYBOX" ] || die "busybox-static is not installed"
if [ -z "$TESTS" ] && [ -n "$NUMA" ]; then
	TESTS=$(cd "$BINDIR" && ls t_numa_* 2>/dev/null | tr '\n' ' ')
elif [ -z "$TESTS" ]; then
	TESTS=$(cd "$BINDIR" && ls t_* 2>/dev/null | grep -v '^t_numa_' | tr '\n' ' ')
fi
[ -n "$TESTS" ] || die "no tests in $BINDIR"
# Two nodes, one socket each: the first half of the vCPUs and of the
# memory, and the rest.
smp=$CPUS numa_args=()
if [ -n "$NUMA" ]; then
	smp=$CPUS,sockets=2,cores=$((CPUS / 2)),threads=1
	half=$((MEM / 2))
	numa_args=(-object "memory-backend-ram,id=m0,size=${half}M"
		-object "memory-backend-ram,id=m1,size=$((MEM - half))M"
		-numa "node,nodeid=0,cpus=0-$((CPUS / 2 - 1)),memdev=m0"
		-numa "node,nodeid=1,cpus=$((CPUS / 2))-$((CPUS - 1)),memdev=m1")
fi

mkdir -p "$LOGDIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,tests,etc,root}
cp "$BUSYBOX" "$root/bin/busybox"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"
cp "$MODULE" "$root/orbit.ko"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "user:x:1000:1000:user:/tmp:/bin/sh" >> "$root/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' > "$root/etc/group"
# An installed tree (and the shared libraries its programs need).
for o in $OVERLAY; do
	cp -a "$o"/. "$root"/ || die "overlay $o"
done
for f in "$BINDIR"/*; do
	[ -f "$f" ] && cp -a "$f" "$root/tests/"
done
: > "$root/tests/list"
for t in $TESTS; do echo "$t" >> "$root/tests/list"; done
echo "$PER_TEST" > "$root/tests/timeout"
# Settings passed through to guest tests, quoted for the guest's shell
# (a value may hold spaces: ORBIT_BENCH_EXAMPLES="kvserver watchdog").
env | grep -E '^ORBIT_(FUZZ_[A-Z]+|STRESS_SECS|BENCH_[A-Z_]+|PROFILE_[A-Z]+|SELFTEST_[A-Z_]+)=' |
	sed -e "s/'/'\\\\''/g" -e "s/=/='/" -e "s/\$/'/" > "$root/tests/env" || true
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initrd.gz" ||
	die "could not build the initramfs"
# The scratch disk: sector n holds n as text, padded with dots.
python3 -c 'import sys; sys.stdout.buffer.write(b"".join(
	("%-511d" % n).replace(" ", ".").encode() + b"\n" for n in range(16384)))' \
	> "$work/disk.img" || die "could not make the scratch disk"

accel=$("$here/probe-accel.sh")
ntests=$(echo $TESTS | wc -w)
budget=$((60 + ntests * PER_TEST))
con=$LOGDIR/console.log res=$LOGDIR/results.log
rm -f "$con" "$res"
echo "# kernel $KVER: booting under $accel (console: $con, results: $res)"
# Kernel log: the whole console stream plus the dmesg dump.
# (Not "Call Trace" alone: an expected OOM kill in a cgroup test dumps one.)
# SLUB reports start "BUG <cache> (...): <what>" (matched by "BUG "), KFENCE
# ones "BUG: KFENCE: ...", and both name what they found on the next lines.
bad='Oops|BUG[: ]|WARNING:|lockdep|KASAN|UBSAN|general protection|possible circular locking|INFO: task .* blocked|Show Blocked State|Kernel panic|refcount_t:|list_add corruption|list_del corruption|Bad page|Poison overwritten|Redzone overwritten|Object already free|Freechain corrupt|Objects remaining|memory corruption|detected stall|self-detected stall|soft lockup|hard LOCKUP|kmem_cache_destroy'
# Not reports: a lockdep kernel's boot line that it checks RCU, the
# guest's own lockdep line (above), and a call trace's frames, whose
# function names may hold a word above (a debug kernel's expected OOM
# dump has lockdep_hardirqs_on_prepare); a report's own lines still match.
# Nor the SIGBUS of a memory error t_memory_failure injects, or of a copy
# t_mc_copy makes fail as if it had read one ("MCE: Killing <comm>:<pid>
# due to hardware memory corruption fault at <addr>"), in their mains or
# in their orbits (named memfail, mccopy).
benign='rcu:[[:space:]]+RCU lockdep checking is enabled|^# lockdep: debug_locks|MCE: Killing (t_memory_failur|memfail|t_mc_copy|mccopy):[0-9]+ due to hardware memory corruption fault at [0-9a-f]+|\]  (\? )?[A-Za-z0-9_.]+\+0x[0-9a-f]+/0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?[[:space:]]*$'
reports() {	# reports GREP-OPTION FILE...: the report lines
	local opt=$1
	shift
	grep -a "$opt" -E "$bad" "$@" | grep -avE "$benign"
}
booted() { grep -qE '^(not )?ok 1 - insmod' "$res" 2>/dev/null; }
# A report in the console before orbit.ko's first line (the kernel's own
# boot, as a debug kernel's KASAN under TCG has shown in early CPU setup
# and interrupt code): not the module's, and it turns lockdep off for
# the whole run.
early_report() {
	local r m
	r=$(reports -n "$con" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$r" ] || return 1
	m=$(grep -anE '\] orbit: ' "$con" 2>/dev/null | head -1 | cut -d: -f1)
	[ -z "$m" ] || [ "$r" -lt "$m" ]
}
boot() {
	rm -f "$con" "$res"
	# tsc=reliable: the emulator's TSC follows one virtual clock on every
	# vCPU, but the kernel's watchdog, timing it against the HPET through
	# emulated device reads, finds skew when the host is busy, marks it
	# unstable mid-run and so flips the sched_clock static key: text
	# patching in the timer tick, which multi-threaded TCG has been seen
	# to lose ("Oops: int3" at sched_clock_tick).
	timeout -s KILL "$budget" qemu-system-x86_64 -accel "$accel" -cpu max \
		-m "$MEM" -smp "$smp" "${numa_args[@]}" \
		-kernel "$VMLINUZ" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 panic=-1 loglevel=7 transparent_hugepage=never tsc=reliable $DEBUG" \
		-drive "file=$work/disk.img,if=none,id=scratch,format=raw" \
		-device nvme,serial=orbit-scratch,drive=scratch \
		-nographic -no-reboot -monitor none \
		-serial "file:$con" -serial "file:$res" > "$LOGDIR/qemu.log" 2>&1 &
	qpid=$!
	# A guest that has not loaded orbit.ko within hung_secs hung while
	# booting: stopped here rather than at the whole run's budget (and
	# before it, when the budget is the shorter: a short per-test timeout).
	# On the first boot, one that has but reported an error before it did
	# is stopped there too (early=1).
	hung=0 early=0 waited=0
	while kill -0 $qpid 2>/dev/null && ! booted; do
		if [ $waited -ge "$hung_secs" ]; then
			hung=1
			kill -TERM $qpid	# timeout passes it on to qemu
			break
		fi
		sleep 2
		waited=$((waited + 2))
	done
	if [ "$retry" = 0 ] && booted && early_report; then
		early=1
		kill -TERM $qpid
	fi
	wait $qpid
}
hung_secs=$((BOOT_SECS < budget - 10 ? BOOT_SECS : budget - 10))
retry=0
boot
qrc=$?
# Multi-threaded TCG occasionally crashes or hangs a stock kernel while it
# patches its own text during boot.  A guest that died or hung before
# orbit.ko was even loaded, or reported an error before it, is booted
# once more (logged); any later failure counts, and a second boot's early
# report fails the run as any report does.
if [ $early = 1 ] ||
   { ! booted && { [ $hung = 1 ] || grep -aqE 'Oops|Kernel panic' "$con" 2>/dev/null; }; }; then
	what=crashed
	[ $hung = 1 ] && what="hung (no insmod result in ${hung_secs}s)"
	[ $early = 1 ] && what="reported an error"
	echo "# kernel $KVER: guest $what while booting, before orbit.ko was loaded; retrying once"
	mv "$con" "$LOGDIR/console-boot-crash.log"
	retry=1
	boot
	qrc=$?
fi

# Per-test results, as the guest reported them.
[ -f "$res" ] || : > "$res"
pass=$(grep -cE '^ok [0-9]+ ' "$res")
fail=$(grep -cE '^not ok [0-9]+ ' "$res")
grep -E '^# (memory debugging|lockdep):' "$res" | sed 's/^/  /'
grep -E '^(not )?ok [0-9]+ |^    not ok|^    # ' "$res" | sed 's/^/  /'
expected=$((ntests + 2))
reported=$((pass + fail))
if [ "$qrc" = 137 ]; then
	echo "  not ok - guest timed out after ${budget}s"
	fail=$((fail + 1))
elif [ $hung = 1 ]; then
	echo "  not ok - guest hung while booting: no insmod result in ${hung_secs}s"
	fail=$((fail + 1))
elif ! grep -q '^# guest done' "$res"; then
	echo "  not ok - guest did not finish (qemu exit $qrc; see $con)"
	fail=$((fail + 1))
fi
# A kernel with lockdep must have kept it on and seen the module's locks.
if grep -q '^# lockdep:' "$res" &&
   ! grep -qE '^# lockdep: debug_locks 1, [1-9][0-9]* lock classes' "$res"; then
	echo "  not ok - lockdep was off, or saw none of orbit.ko's locks"
	fail=$((fail + 1))
fi
if [ "$reported" -lt "$expected" ]; then
	echo "  not ok - guest reported $reported of $expected results"
	fail=$((fail + expected - reported))
fi
if reports -h "$con" "$res" > /dev/null; then
	echo "  not ok - guest kernel log has errors:"
	reports -h "$con" "$res" | sort -u | head -20 | sed 's/^/    /'
	fail=$((fail + 1))
	# The first report in full (register dump, call trace) and the test
	# that was running: CI keeps only the log's tail, not the console.
	first=$(reports -n "$con" | head -1 | cut -d: -f1)
	if [ -n "$first" ]; then
		echo "  first report (console line $first), during:"
		head -n "$first" "$con" | grep -a '^# test ' | tail -1 |
			sed 's/^/    /'
		tail -n "+$first" "$con" | head -60 | sed 's/^/    /'
	fi
fi
echo "kernel $KVER: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" = "$expected" ]
