#!/bin/bash
# Builds a debug kernel for `make soak-debug`: Debian's source of a test
# kernel's series (linux-source-6.1 or -6.12) with that stock cloud
# kernel's configuration plus
# lockdep (PROVE_LOCKING, PROVE_RCU), sleeping-in-atomic checks, KASAN,
# DEBUG_VM, DEBUG_LIST, debug objects, DEBUG_PAGEALLOC and fault
# injection (failslab, fail_page_alloc, usercopy faults, a task's
# fail-nth: the fi_* tests), no loadable
# modules but orbit.ko (the guests load none), no debug info, and one
# change to the source: dump_mm exported (see below).  The stock kernels
# compile lockdep_assert_held() and friends to nothing; this one checks
# every lock the module takes.  orbit.ko is built against it by the
# Makefile's module rule (KDIR_OF knows the -orbitdebug release).
#
# usage: debug-kernel.sh OUTDIR [SERIES]
# SERIES is 6.1 (the default) or 6.12.  Leaves OUTDIR/bzImage and
# OUTDIR/kver (the release); OUTDIR/linux is the built tree.  The kernel
# is built once (about 35 minutes on two cores); later runs apply the
# options again and rebuild only what a change to them needs.
set -eu
out=${1:?usage: debug-kernel.sh OUTDIR [6.1|6.12]}
series=${2:-6.1}
case $series in 6.1|6.12) ;; *) echo "debug-kernel: series 6.1 or 6.12, not $series" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
tree=$out/linux

"$here/scripts/deps.sh" "linux-source-$series" xz-utils flex bison bc libelf-dev libssl-dev
if [ ! -f "$tree/.config" ]; then
	stock=$("$here/scripts/kernels.sh" | grep "^${series//./\\.}\\." || true)
	[ -n "$stock" ] || { echo "debug-kernel: no $series test kernel installed" >&2; exit 1; }
	rm -rf "$tree" "$out/src"
	mkdir -p "$out/src"
	tar -xJf "/usr/src/linux-source-$series.tar.xz" -C "$out/src"
	mv "$out/src/linux-source-$series" "$tree"
	rmdir "$out/src"
	cp "/boot/config-$stock" "$tree/.config"
	# The guests boot with an initramfs of busybox and the tests: what
	# the stock kernel has as modules it does not need.
	sed -i 's/^\(CONFIG_[A-Za-z0-9_]*\)=m$/# \1 is not set/' "$tree/.config"
fi
# The options, each run: a tree built before one was added gets it.
"$tree/scripts/config" --file "$tree/.config" \
	--disable DEBUG_INFO --disable DEBUG_INFO_DWARF5 \
	--disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT \
	--disable DEBUG_INFO_BTF --enable DEBUG_INFO_NONE \
	--set-str SYSTEM_TRUSTED_KEYS "" \
	--set-str SYSTEM_REVOCATION_KEYS "" \
	--disable MODULE_SIG_ALL \
	--set-str LOCALVERSION "-orbitdebug" --disable LOCALVERSION_AUTO \
	--enable PROVE_LOCKING --enable DEBUG_LOCKDEP --enable PROVE_RCU \
	--enable DEBUG_ATOMIC_SLEEP --enable DEBUG_MUTEXES \
	--enable DEBUG_SPINLOCK --enable DEBUG_RWSEMS \
	--enable KASAN --enable KASAN_GENERIC --enable KASAN_INLINE \
	--enable DEBUG_VM --enable DEBUG_LIST \
	--enable DEBUG_OBJECTS --enable DEBUG_OBJECTS_WORK \
	--enable DEBUG_OBJECTS_TIMERS --enable DEBUG_OBJECTS_RCU_HEAD \
	--enable DEBUG_PAGEALLOC --disable DEBUG_PAGEALLOC_ENABLE_DEFAULT \
	--enable FAULT_INJECTION --enable FAILSLAB --enable FAIL_PAGE_ALLOC \
	--enable FAULT_INJECTION_USERCOPY --enable FAULT_INJECTION_DEBUG_FS
make -s -C "$tree" olddefconfig
for opt in PROVE_LOCKING KASAN DEBUG_VM DEBUG_ATOMIC_SLEEP MODULES \
	FAILSLAB FAIL_PAGE_ALLOC FAULT_INJECTION_USERCOPY FAULT_INJECTION_DEBUG_FS; do
	grep -q "^CONFIG_$opt=y" "$tree/.config" ||
		{ echo "debug-kernel: CONFIG_$opt did not stay on" >&2; exit 1; }
done
# DEBUG_VM's checks in inline helpers the module calls (mmap_assert_locked
# and others) report through dump_mm, which mm/debug.c does not export.
grep -q '^EXPORT_SYMBOL(dump_mm);' "$tree/mm/debug.c" ||
	sed -i '/^void dump_mm(const struct mm_struct \*mm)$/,/^}$/ s/^}$/}\nEXPORT_SYMBOL(dump_mm);/' \
		"$tree/mm/debug.c"
grep -q '^EXPORT_SYMBOL(dump_mm);' "$tree/mm/debug.c" ||
	{ echo "debug-kernel: could not export dump_mm" >&2; exit 1; }
make -s -C "$tree" kernelrelease > "$out/kver"
echo "debug-kernel: building $(cat "$out/kver") in $tree"
make -s -C "$tree" -j"$(nproc)" bzImage modules > "$out/build.log" 2>&1 ||
	{ tail -40 "$out/build.log"; exit 1; }
cp -p "$tree/arch/x86/boot/bzImage" "$out/bzImage"
echo "debug-kernel: $(cat "$out/kver"): $out/bzImage"
