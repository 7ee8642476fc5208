# orbit: kernel module, libuorbit, orbitctl, tests.
#   make             libuorbit, orbitctl, and orbit.ko for the running kernel
#                    (KVER=... for another; without its headers, the module
#                    is skipped with the package to install named)
#   make check       install deps, build, run host tests, the packages' test,
#                    the harness self-test and the VM suite on 6.1 and 6.12
#   make demo        run the demo application in a VM
#   make apps        the application ports (apps/: Redis, memcached) from
#                    Debian's source packages, stock and ported
#   make bench-apps  the ports under their own load generators, in a VM
#   make install     library, headers, pkg-config file, orbitctl, man pages
#   make deb         the Debian packages (dpkg-buildpackage), in build/deb
#
# The one version number is debian/changelog's; everything else (library
# soname and pkg-config file, orbit.h's macros, MODULE_VERSION, dkms.conf
# and the packages) takes it from there.
VERSION    := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
MAJOR      := $(word 1,$(subst ., ,$(VERSION)))
MINOR      := $(word 2,$(subst ., ,$(VERSION)))
PATCHLEVEL := $(word 3,$(subst ., ,$(VERSION)))
SOVERSION  := 0
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
UDEVDIR    ?= /lib/udev/rules.d
DESTDIR    ?=
KVER       ?= $(shell uname -r)

B          := build
CC         ?= gcc
CFLAGS     ?= -O2 -g
WFLAGS     := -Wall -Wextra -Wno-unused-parameter -Werror
VFLAGS     := -DUO_VERSION='"$(VERSION)"' -I$(B)/include
TEST_KERNELS = $(shell scripts/kernels.sh)
KDIR_OF     = $(firstword $(wildcard /lib/modules/$(1)/build /usr/src/linux-headers-$(1)) \
	      $(if $(filter %-orbitdebug,$(1)),$(call DEBUG_DIR_OF,$(1))/linux))

LIB_SRCS   := $(wildcard libuorbit/*.c)
LIB_HDRS   := $(wildcard libuorbit/*.h) uapi/orbit.h $(B)/include/orbit_version.h
LIB_PIC    := $(patsubst libuorbit/%.c,$(B)/lib/pic/%.o,$(LIB_SRCS))
LIB_OBJS   := $(patsubst libuorbit/%.c,$(B)/lib/obj/%.o,$(LIB_SRCS))
SONAME     := libuorbit.so.$(SOVERSION)
MOD_SRCS   := $(wildcard module/*.c module/*.h) module/Kbuild uapi/orbit.h debian/changelog
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNITS      := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
VM_SRCS    := $(wildcard tests/vm/t_*.c tests/vm/fi_*.c) tests/vm/leakcheck.c
VM_BINS    := $(patsubst tests/vm/%.c,$(B)/vmtests/%,$(VM_SRCS))
VM_SCRIPTS := $(wildcard tests/vm/t_*.sh) tests/vm/tap.sh
ORBITCTL_SRCS := $(wildcard tools/orbitctl/*.c)

all: lib orbitctl module

deps:
	@scripts/deps.sh

# ---- kernel module ------------------------------------------------------------
# The running kernel's (or KVER's): skipped, with the package named, when
# its headers are not installed.  The test kernels' are built by the
# targets that boot them.
module:
	@if [ -n "$(call KDIR_OF,$(KVER))" ]; then \
		$(MAKE) --no-print-directory $(B)/$(KVER)/orbit.ko; \
	else \
		echo "orbit.ko not built: no headers for kernel $(KVER) (install linux-headers-$(KVER), then run make again)"; \
	fi

test-modules:
	@k="$(TEST_KERNELS)"; [ -n "$$k" ] || { echo "no test kernel headers installed (run scripts/deps.sh)"; exit 1; }; \
	for k in $$k; do $(MAKE) --no-print-directory $(B)/$$k/orbit.ko KVER=$$k || exit 1; done

$(B)/%/orbit.ko: $(MOD_SRCS)
	@mkdir -p $(B)/$*/src/module $(B)/$*/src/uapi
	@cp -p module/*.c module/*.h module/Kbuild module/Makefile $(B)/$*/src/module/
	@cp -p uapi/orbit.h $(B)/$*/src/uapi/
	@echo "  KMOD    $@"
	@$(MAKE) -s -C $(call KDIR_OF,$*) M=$(CURDIR)/$(B)/$*/src/module \
		ORBIT_VERSION=$(VERSION) KCFLAGS=-Werror modules > $(B)/$*/build.log 2>&1 || { cat $(B)/$*/build.log; exit 1; }
	@if grep -i 'warning:' $(B)/$*/build.log; then echo "module build for $* has warnings"; exit 1; fi
	@cp $(B)/$*/src/module/orbit.ko $@

# ---- libuorbit ------------------------------------------------------------------
lib: $(B)/lib/$(SONAME) $(B)/lib/libuorbit.a $(B)/lib/uorbit.pc

$(B)/include/orbit_version.h: debian/changelog
	@mkdir -p $(@D)
	@printf '%s\n' '/* Generated from debian/changelog. */' \
		'#define LIBUORBIT_VERSION_MAJOR $(MAJOR)' \
		'#define LIBUORBIT_VERSION_MINOR $(MINOR)' \
		'#define LIBUORBIT_VERSION_PATCH $(PATCHLEVEL)' > $@

$(B)/lib/pic/%.o: libuorbit/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) $(VFLAGS) -fPIC -pthread -c -o $@ $<

$(B)/lib/obj/%.o: libuorbit/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) $(VFLAGS) -pthread -c -o $@ $<

$(B)/lib/$(SONAME): $(LIB_PIC) libuorbit/libuorbit.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=libuorbit/libuorbit.map \
		-Wl,-z,defs -o $(B)/lib/libuorbit.so.$(VERSION) $(LIB_PIC) -pthread
	ln -sf libuorbit.so.$(VERSION) $@
	ln -sf $(SONAME) $(B)/lib/libuorbit.so

$(B)/lib/libuorbit.a: $(LIB_OBJS) scripts/check-lib-state.sh
	scripts/check-lib-state.sh $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $(LIB_OBJS)

$(B)/lib/uorbit.pc: libuorbit/uorbit.pc.in debian/changelog Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' $< > $@

# ---- orbitctl ---------------------------------------------------------------------
orbitctl: $(B)/bin/orbitctl

# With libuorbit.a: it runs from the build tree as it is.
$(B)/bin/orbitctl: $(ORBITCTL_SRCS) uapi/orbit.h $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) $(VFLAGS) -Ilibuorbit $(LDFLAGS) -o $@ \
		$(ORBITCTL_SRCS) $(B)/lib/libuorbit.a -pthread

# A static copy for the guest.
$(B)/vmtests/orbitctl: $(ORBITCTL_SRCS) uapi/orbit.h $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) $(VFLAGS) -Ilibuorbit -static -o $@ $(ORBITCTL_SRCS) \
		$(B)/lib/libuorbit.a -pthread

# ---- tests ----------------------------------------------------------------------------
$(B)/unit/test_%: tests/unit/test_%.c $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) $(VFLAGS) -o $@ $< $(LIB_SRCS) -lcmocka -pthread

$(B)/vmtests/%: tests/vm/%.c $(wildcard tests/vm/*.h) $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) $(VFLAGS) -static -Ilibuorbit -o $@ $< $(B)/lib/libuorbit.a -pthread

# Examples run in the guest (tests/vm/t_example_*.sh drive them).
$(B)/vmtests/ex_%: examples/%.c examples/example.h $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) $(VFLAGS) -static -Ilibuorbit -o $@ $< $(B)/lib/libuorbit.a -pthread

EXAMPLE_BINS := $(patsubst examples/%.c,$(B)/vmtests/ex_%,$(wildcard examples/*.c))

# Dynamic builds of some tests, with libuorbit.so beside them.
DYN_TESTS := t_fresh_globals
DYN_BINS  := $(patsubst %,$(B)/vmtests/%_dyn,$(DYN_TESTS))
$(B)/vmtests/libuorbit.so.$(SOVERSION): $(B)/lib/$(SONAME)
	@mkdir -p $(@D)
	cp -L $< $@
$(B)/vmtests/%_dyn: tests/vm/%.c tests/vm/tap.h tests/vm/util.h $(B)/vmtests/libuorbit.so.$(SOVERSION)
	$(CC) $(CFLAGS) $(WFLAGS) $(VFLAGS) -Ilibuorbit -o $@ $< -L$(B)/vmtests \
		-l:libuorbit.so.$(SOVERSION) -Wl,-rpath,'$$ORIGIN' -pthread

# ---- orbit-analyze ---------------------------------------------------------------
LLVM_DIR     := $(lastword $(sort $(wildcard /usr/lib/llvm-[0-9]*)))
ANALYZE      := $(B)/bin/orbit-analyze
ANALYZE_SRCS := $(wildcard tools/orbit-analyze/*.c)
analyze: $(ANALYZE)
$(ANALYZE): $(ANALYZE_SRCS) tools/orbit-analyze/analyze.h
	@mkdir -p $(@D)
	@[ -e "$(LLVM_DIR)/include/clang-c/Index.h" ] || \
		{ echo "orbit-analyze needs libclang: apt-get install libclang-dev"; exit 1; }
	$(CC) $(CFLAGS) $(WFLAGS) -I$(LLVM_DIR)/include -o $@ $(ANALYZE_SRCS) \
		-L$(LLVM_DIR)/lib -lclang -Wl,-rpath,$(LLVM_DIR)/lib

# The examples that keep data in areas, with every orbit_alloc turned back
# into malloc (tests/analyze/unport.sh) and then patched by orbit-analyze
# --fix, built for the guest as fx_* (tests/vm/t_analyze_fixed.sh).
FIXED      := quickstart lockmgr snapshot watchdog
FIXED_BINS := $(patsubst %,$(B)/vmtests/fx_%,$(FIXED))
AN_FLAGS   := -I$(CURDIR)/libuorbit -I$(CURDIR)/$(B)/include -I$(CURDIR)/uapi -D_GNU_SOURCE
$(B)/analyze/%.c: examples/%.c examples/example.h $(ANALYZE) tests/analyze/unport.sh
	@mkdir -p $(@D)/unported
	@tests/analyze/unport.sh examples/$*.c $(@D)/unported/$*.c
	@tests/analyze/unport.sh examples/example.h $(@D)/unported/example.h
	@cd $(@D)/unported && $(CURDIR)/$(ANALYZE) --fix $*.c -- $(AN_FLAGS) > ../$*.patch
	@cp $(@D)/unported/$*.c $(@D)/unported/example.h $(@D)/
	@patch -s -p1 -d $(@D) < $(@D)/$*.patch
.PRECIOUS: $(B)/analyze/%.c
$(B)/vmtests/fx_%: $(B)/analyze/%.c $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) $(VFLAGS) -static -Ilibuorbit -o $@ $< $(B)/lib/libuorbit.a -pthread

vmtests: $(VM_BINS) $(DYN_BINS) $(EXAMPLE_BINS) $(FIXED_BINS) $(B)/vmtests/orbitctl
	@mkdir -p $(B)/vmtests && for s in $(VM_SCRIPTS); do install -m 755 $$s $(B)/vmtests/; done

unit: $(UNITS)
	@for t in $(UNITS); do $$t || exit 1; done

check: deps
	@tests/check.sh

check-harness: deps
	@$(MAKE) --no-print-directory test-modules lib orbitctl vmtests
	@tests/check-harness.sh

# The packages' overlay (t_installed.sh) comes from tests/packages.sh,
# which installs and purges the packages on this machine; the application
# ports' (t_app_*.sh) from `make apps`.
PKG_OVERLAY := $(B)/pkgoverlay
# T's t_numa_* tests run in a guest of two NUMA nodes (run-vm.sh -N), the
# others in the usual one; without T, each guest runs all of its tests.
CHECK_T := $(if $(T),$(filter-out t_numa_%,$(T)),all)
CHECK_NUMA_T := $(if $(T),$(filter t_numa_%,$(T)),all)
check-vm: deps
	@$(MAKE) --no-print-directory test-modules lib orbitctl vmtests apps
	@[ -d $(PKG_OVERLAY) ] || tests/packages.sh $(PKG_OVERLAY) $(TEST_KERNELS)
	@for k in $(TEST_KERNELS); do \
		$(if $(CHECK_T),tests/vm/run-vm.sh -k $$k -m $(B)/$$k/orbit.ko -b $(B)/vmtests -r $(PKG_OVERLAY) -r $(APPS_OVERLAY) -l logs/$$k $(if $(T),-t "$(CHECK_T)") || exit 1;) \
		$(if $(CHECK_NUMA_T),tests/vm/run-vm.sh -N -k $$k -m $(B)/$$k/orbit.ko -b $(B)/vmtests -l logs/$$k-numa $(if $(T),-t "$(CHECK_NUMA_T)") || exit 1;) \
	done

# ---- soak: the race and stress tests, round after round ------------------------
# Not part of `make check`: the tests that race objects against each other
# run SOAK_ROUNDS times in a row in one guest per kernel, memory debugging on;
# t_fuzz draws its requests from SOAK_SEED.  SOAK_CPUS vCPUs (default 2, as
# in make check): more than the host's cores preempts vCPUs at random points
# and so widens other race windows; each test's limit, SOAK_TIMEOUT, is then
# 1200 s, not 300: every TLB shootdown waits for vCPUs the host has not
# scheduled (README, make soak).  The t_numa_* tests of the list run in a
# second guest, of two NUMA nodes (tests/vm/run-split.sh), with SOAK_CPUS
# rounded up to even.  Logs: logs/soak-<kernel>/ and logs/soak-<kernel>-numa/.
SOAK_TESTS := t_stress t_crash_storm t_fuzz t_copy_out_race t_freeze_fault_race \
	t_push_last_teardown t_spawner_race t_kill_during_call t_cancel_while_pulled \
	t_main_exit t_main_killed t_context_lifetime t_kill_while_polling \
	t_view_fault_unmap t_pull_threads t_threads t_push_crash t_queued_timeout \
	t_live_snapshots t_fork_loader_lock t_write_around t_param_churn t_protect_race \
	t_area_create_unseen t_collect_race t_area_fault_race t_view_install_race \
	t_view_mangle t_exit_discard_race t_area_zero_reads t_user_churn \
	t_numa_hinting t_direct_stress t_direct_timeout
SOAK_ROUNDS ?= 4
SOAK_SEED ?= 1
SOAK_CPUS ?= 2
SOAK_TIMEOUT ?= $(if $(shell [ "$(SOAK_CPUS)" -gt "$$(nproc)" ] 2>/dev/null && echo over),1200,300)
SOAK_LIST = $(foreach r,$(shell seq $(SOAK_ROUNDS) 2>/dev/null),$(SOAK_TESTS))
define soak_settings
	@[ "$(SOAK_ROUNDS)" -ge 1 ] 2>/dev/null || { echo "make $@: SOAK_ROUNDS must be a number of at least 1" >&2; exit 2; }
	@[ "$(SOAK_CPUS)" -ge 1 ] 2>/dev/null || { echo "make $@: SOAK_CPUS must be a number of at least 1" >&2; exit 2; }
	@[ "$(SOAK_TIMEOUT)" -ge 1 ] 2>/dev/null || { echo "make $@: SOAK_TIMEOUT must be a number of seconds, at least 1" >&2; exit 2; }
endef
soak: deps
	$(soak_settings)
	@$(MAKE) --no-print-directory test-modules lib orbitctl vmtests
	@for k in $(TEST_KERNELS); do ORBIT_FUZZ_SEED=$(SOAK_SEED) tests/vm/run-split.sh logs/soak-$$k $(SOAK_CPUS) "$(SOAK_LIST)" -k $$k -m $(B)/$$k/orbit.ko -b $(B)/vmtests -T $(SOAK_TIMEOUT) || exit 1; done

# ---- soak-debug: the same tests on a kernel that checks the module's locks ----
# scripts/debug-kernel.sh builds Debian's 6.1 source (DEBUG_KERNEL=6.12:
# 6.12's, in $(B)/debug-kernel-6.12) with the stock cloud configuration
# plus lockdep, KASAN, DEBUG_VM and fault injection (once; about 35
# minutes), release <version>-orbitdebug, which KDIR_OF finds in DEBUG_DIR
# for the module's rule (the module is rebuilt when the kernel is newer);
# tests/soak-debug.sh first checks that kernel reports a planted
# lock-order inversion.  Each test's limit is three times SOAK_TIMEOUT's:
# lockdep and KASAN make the tests 3..5 times slower.
# SOAK_TESTS=suite runs make check's guest suites there instead (but
# t_installed.sh; about 25 minutes a round).  t_numa_* tests run in a
# guest of two NUMA nodes, as in make soak.  The fi_* tests (allocation
# failures, one at a time, by the kernel's fail-nth) run first, once.
# Logs: logs/soak-debug-<release>/ (and -numa/, -selftest/).
DEBUG_KERNEL ?= 6.1
DEBUG_DIR_OF = $(B)/debug-kernel$(if $(filter 6.12 6.12.%,$(1)),-6.12)
DEBUG_DIR := $(call DEBUG_DIR_OF,$(DEBUG_KERNEL))
soak-debug: deps
	$(soak_settings)
	@scripts/debug-kernel.sh $(DEBUG_DIR) $(DEBUG_KERNEL)
	@$(MAKE) --no-print-directory lib orbitctl vmtests $(if $(filter suite,$(SOAK_TESTS)),apps)
	@k=$$(cat $(DEBUG_DIR)/kver); [ $(B)/$$k/orbit.ko -nt $(DEBUG_DIR)/bzImage ] || rm -f $(B)/$$k/orbit.ko
	@$(MAKE) --no-print-directory $(B)/$$(cat $(DEBUG_DIR)/kver)/orbit.ko
	@ORBIT_FUZZ_SEED=$(SOAK_SEED) tests/soak-debug.sh $(DEBUG_DIR) "$(SOAK_LIST)" $(SOAK_CPUS) $$(( $(SOAK_TIMEOUT) * 3 ))

# ---- application ports (apps/) ---------------------------------------------------
# Redis and memcached from Debian's source packages, stock and ported, and
# the guest's overlay with them and their test suites' interpreters.
APPS_OVERLAY := $(B)/apps/overlay
apps: lib
	@apps/redis/build.sh $(B)/apps/redis
	@apps/memcached/build.sh $(B)/apps/memcached
	@apps/overlay.sh $(APPS_OVERLAY) > /dev/null

demo: deps
	@mkdir -p $(B)
	@$(MAKE) --no-print-directory -s test-modules lib vmtests > $(B)/demo-build.log 2>&1 || { cat $(B)/demo-build.log; exit 1; }
	@tests/demo.sh

BENCH_BINS := $(B)/bench/orbit_bench $(B)/bench/orbit_bench_globals
$(B)/bench/orbit_bench: bench/orbit_bench.c tests/vm/util.h $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) $(VFLAGS) -static -Ilibuorbit -Itests/vm -o $@ $< $(B)/lib/libuorbit.a -pthread

# The same program with 16 MiB of globals: the "globals" group only.
$(B)/bench/orbit_bench_globals: bench/orbit_bench.c tests/vm/util.h $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) $(VFLAGS) -DBENCH_GLOBALS_MIB=16 -static -Ilibuorbit -Itests/vm -o $@ $< $(B)/lib/libuorbit.a -pthread

bench: deps
	@$(MAKE) --no-print-directory test-modules lib vmtests $(BENCH_BINS)
	@scripts/bench.sh

# The same programs with small sizes (under 2 minutes), for regressions.
bench-quick: deps
	@$(MAKE) --no-print-directory test-modules lib vmtests $(BENCH_BINS)
	@ORBIT_BENCH_QUICK=1 scripts/bench.sh

# The application ports under their load generators (bench/apps.sh), on
# both test kernels.
bench-apps: deps
	@$(MAKE) --no-print-directory test-modules lib vmtests apps
	@scripts/bench-apps.sh

profile: deps
	@$(MAKE) --no-print-directory test-modules lib vmtests $(BENCH_BINS)
	@scripts/profile.sh

# ---- install ------------------------------------------------------------------------
INSTALLED := $(LIBDIR)/libuorbit.a $(LIBDIR)/libuorbit.so.$(VERSION) \
	$(LIBDIR)/$(SONAME) $(LIBDIR)/libuorbit.so $(INCLUDEDIR)/orbit.h \
	$(INCLUDEDIR)/orbit_version.h $(INCLUDEDIR)/linux/orbit.h \
	$(LIBDIR)/pkgconfig/uorbit.pc $(BINDIR)/orbitctl \
	$(DATADIR)/bash-completion/completions/orbitctl \
	$(addprefix $(MANDIR)/man3/,$(notdir $(wildcard man/*.3))) \
	$(addprefix $(MANDIR)/man7/,$(notdir $(wildcard man/*.7))) \
	$(addprefix $(MANDIR)/man8/,$(notdir $(wildcard man/*.8))) \
	$(UDEVDIR)/60-orbit.rules

install: lib orbitctl
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(BINDIR)
	install -m 644 $(B)/lib/libuorbit.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/lib/libuorbit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libuorbit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libuorbit.so
	install -m 644 libuorbit/orbit.h $(B)/include/orbit_version.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 uapi/orbit.h $(DESTDIR)$(INCLUDEDIR)/linux/orbit.h
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		libuorbit/uorbit.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/uorbit.pc
	install -m 755 $(B)/bin/orbitctl $(DESTDIR)$(BINDIR)/orbitctl
	install -d $(DESTDIR)$(DATADIR)/bash-completion/completions
	install -m 644 tools/orbitctl/orbitctl.bash $(DESTDIR)$(DATADIR)/bash-completion/completions/orbitctl
	install -d $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UDEVDIR)
	install -m 644 scripts/60-orbit.rules $(DESTDIR)$(UDEVDIR)/60-orbit.rules
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

dkms-install:
	scripts/dkms.sh install $(VERSION)

dkms-uninstall:
	scripts/dkms.sh uninstall $(VERSION)

# ---- Debian packages -------------------------------------------------------------
# Built from a copy of the tree in build/deb, where dpkg-buildpackage
# leaves the .deb files too.
deb:
	@rm -rf $(B)/deb && mkdir -p $(B)/deb/orbit-$(VERSION)
	@tar --exclude=./build --exclude=./logs --exclude=./.git -cf - . | tar -xf - -C $(B)/deb/orbit-$(VERSION)
	cd $(B)/deb/orbit-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls $(B)/deb/*.deb

clean:
	rm -rf $(B) logs
	rm -f module/*.o module/*.ko module/*.mod* module/.*.cmd module/modules.order module/Module.symvers

.PHONY: all deps module test-modules lib orbitctl analyze vmtests unit check check-harness check-vm soak soak-debug demo bench bench-quick bench-apps apps profile install uninstall dkms-install dkms-uninstall deb clean
