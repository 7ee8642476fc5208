#!/bin/bash
# `make check`: host unit tests (cmocka), orbit-analyze, man pages, DKMS builds for both
# kernels, the harness self-test, and the VM suite under each stock test
# kernel (with an installed tree, for the install/pkg-config test, and the
# application ports with their test suites).
# Every part reports TAP-style lines; the last line is the grand total.
set -u
cd "$(dirname "$0")/.."
mkdir -p logs
total_pass=0 total_fail=0
add() { total_pass=$((total_pass + $1)); total_fail=$((total_fail + $2)); }

kernels=$(scripts/kernels.sh)
if [ "$(echo "$kernels" | grep -c .)" -lt 2 ]; then
	echo "not ok - need both the 6.1 and 6.12 test kernels, found: $kernels"
	add 0 1
fi

echo "# build"
if make --no-print-directory -s test-modules lib orbitctl vmtests > logs/build.log 2>&1; then
	add 1 0; echo "ok - build (module for: $(echo $kernels), libuorbit, orbitctl, tests)"
else
	add 0 1; echo "not ok - build"; tail -30 logs/build.log
	echo "total: $total_pass passed, $total_fail failed"; exit 1
fi
# Plain make: user space, and the module for the running kernel when its
# headers are installed (else one line naming the package).
out=$(make --no-print-directory all 2>&1)
if [ -x build/bin/orbitctl ] && [ -e build/lib/libuorbit.so.0 ] &&
   { [ -e "build/$(uname -r)/orbit.ko" ] ||
     grep -q "install linux-headers-$(uname -r)" <<<"$out"; }; then
	add 1 0; echo "ok - make builds libuorbit and orbitctl; orbit.ko for $(uname -r) or the headers package named"
else
	add 0 1; echo "not ok - make: $out"
fi
out=$(build/bin/orbitctl check 2>&1); rc=$?
if [ -e /dev/orbit ] || { [ $rc != 0 ] && grep -q "modprobe orbit" <<<"$out"; }; then
	add 1 0; echo "ok - orbitctl check on this host without the module exits $rc and names the remedy"
else
	add 0 1; echo "not ok - orbitctl check without the module: exit $rc: $out"
fi

echo "# application ports (apps/: Debian's source packages, stock and ported)"
for a in redis memcached; do
	if out=$(apps/$a/build.sh build/apps/$a 2>&1); then
		add 1 0; echo "ok - apps/$a builds (stock and orbit)"
	else
		add 0 1; echo "not ok - apps/$a does not build"; echo "$out" | tail -20
	fi
done
if apps/overlay.sh build/apps/overlay > logs/apps-overlay.log 2>&1; then
	add 1 0; echo "ok - the guest's overlay of the ports"
else
	add 0 1; echo "not ok - the guest's overlay of the ports"; tail -5 logs/apps-overlay.log
fi

echo "# host unit tests"
make --no-print-directory -s $(ls tests/unit/test_*.c | sed 's|tests/unit/|build/unit/|; s|\.c$||') > logs/unit-build.log 2>&1 ||
	{ cat logs/unit-build.log; add 0 1; }
for t in build/unit/test_*; do
	out=$("$t" 2>&1); rc=$?
	p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out")
	f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out")
	p=${p:-0} f=${f:-0}
	[ $rc != 0 ] && [ "$f" = 0 ] && f=1
	add "$p" "$f"
	echo "$out" | grep -E '^\[ +(OK|FAILED) +\]' | sed "s|^|  $(basename "$t"): |"
done

echo "# orbit-analyze (the examples' hand-made ports as ground truth, and a sample)"
out=$(python3 tests/analyze/run.py 2>&1); echo "$out"
add "$(grep -c '^ok' <<<"$out")" "$(grep -c '^not ok' <<<"$out")"
grep -q '^ok' <<<"$out" || add 0 1

echo "# man pages (every page renders from the checkout, warnings enabled)"
for m in man/*.[0-9]; do
	w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	if [ -z "$w" ] && MANWIDTH=80 man -l "$m" 2>/dev/null | grep -q .; then
		add 1 0; echo "ok - man -l $m renders without warnings"
	else
		add 0 1; echo "not ok - man -l $m: $w"
	fi
done
# Every function orbit.h declares has its page, with errors, thread
# safety and an example.
missing=
for f in $(grep -oE '\b(orbit|pull)_[a-z_]+\(' libuorbit/orbit.h | tr -d '(' | sort -u); do
	p=man/$f.3
	[ -f "$p" ] && grep -q '^\.SH ERRORS' "$p" && grep -q '^\.SH ATTRIBUTES' "$p" &&
		grep -q 'Thread safety' "$p" && grep -q '^\.SH EXAMPLES' "$p" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	add 1 0; echo "ok - every function in orbit.h has a page with ERRORS, ATTRIBUTES and EXAMPLES"
else
	add 0 1; echo "not ok - no complete page for:$missing"
fi

echo "# dkms (from the source tree)"
out=$(scripts/dkms.sh check "$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)" $kernels 2>&1); echo "$out"
add "$(grep -c '^ok' <<<"$out")" "$(grep -c '^not ok' <<<"$out")"

echo "# Debian packages"
out=$(tests/packages.sh build/pkgoverlay $kernels 2>&1); echo "$out"
add "$(grep -c '^ok' <<<"$out")" "$(grep -c '^not ok' <<<"$out")"

echo "# harness self-test"
out=$(tests/check-harness.sh 2>&1); echo "$out"
add "$(grep -c '^ok' <<<"$out")" "$(grep -c '^not ok' <<<"$out")"

# Per kernel: the suite in a guest of one node, then the t_numa_* tests
# in one of two NUMA nodes (run-vm.sh -N).
vm_suite() {
	local k=$1 out line p f
	shift
	out=$(tests/vm/run-vm.sh -k "$k" -m "build/$k/orbit.ko" -b build/vmtests "$@" 2>&1)
	echo "$out"
	line=$(grep -F "kernel $k: " <<<"$out" | grep -E "[0-9]+ passed, [0-9]+ failed$" | tail -1)
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	add "${p:-0}" "${f:-1}"
}
for k in $kernels; do
	echo "# VM suite, kernel $k"
	vm_suite "$k" -r build/pkgoverlay -r build/apps/overlay -l "logs/$k"
	echo "# VM suite, kernel $k, two NUMA nodes"
	vm_suite "$k" -N -l "logs/$k-numa"
done
echo "# logs: logs/<kernel>[-numa]/console.log (guest kernel), logs/<kernel>[-numa]/results.log (TAP)"
echo "total: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
