# orbit: kernel module, libuorbit, orbitctl, tests.
#   make            build everything for every installed test kernel
#   make check      install deps, build, run host unit tests, DKMS builds,
#                   the harness self-test and the VM suite on 6.1 and 6.12
#   make demo       run the demo application in a VM
#   make install    library, headers, pkg-config file, orbitctl, man pages
VERSION    := 0.1.0
SOVERSION  := 0
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=

B          := build
CC         ?= gcc
CFLAGS     ?= -O2 -g
WFLAGS     := -Wall -Wextra -Wno-unused-parameter -Werror
KERNELS     = $(shell scripts/kernels.sh)

LIB_SRCS   := $(wildcard libuorbit/*.c)
LIB_HDRS   := $(wildcard libuorbit/*.h) uapi/orbit.h
LIB_PIC    := $(patsubst libuorbit/%.c,$(B)/lib/pic/%.o,$(LIB_SRCS))
LIB_OBJS   := $(patsubst libuorbit/%.c,$(B)/lib/obj/%.o,$(LIB_SRCS))
SONAME     := libuorbit.so.$(SOVERSION)
MOD_SRCS   := $(wildcard module/*.c module/*.h) module/Kbuild uapi/orbit.h
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNITS      := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRCS))
VM_SRCS    := $(wildcard tests/vm/t_*.c) tests/vm/leakcheck.c
VM_BINS    := $(patsubst tests/vm/%.c,$(B)/vmtests/%,$(VM_SRCS))
VM_SCRIPTS := $(wildcard tests/vm/t_*.sh) tests/vm/tap.sh

all: modules lib orbitctl

deps:
	@scripts/deps.sh

# ---- kernel module: one out-of-tree build per test kernel ----------------
modules:
	@k="$(KERNELS)"; [ -n "$$k" ] || { echo "no test kernel headers installed (run scripts/deps.sh)"; exit 1; }; \
	for k in $$k; do $(MAKE) --no-print-directory $(B)/$$k/orbit.ko KVER=$$k || exit 1; done

$(B)/%/orbit.ko: $(MOD_SRCS)
	@mkdir -p $(B)/$*/src/module $(B)/$*/src/uapi
	@cp -p module/*.c module/*.h module/Kbuild module/Makefile $(B)/$*/src/module/
	@cp -p uapi/orbit.h $(B)/$*/src/uapi/
	@echo "  KMOD    $@"
	@$(MAKE) -s -C /usr/src/linux-headers-$* M=$(CURDIR)/$(B)/$*/src/module \
		KCFLAGS=-Werror modules > $(B)/$*/build.log 2>&1 || { cat $(B)/$*/build.log; exit 1; }
	@if grep -i 'warning:' $(B)/$*/build.log; then echo "module build for $* has warnings"; exit 1; fi
	@cp $(B)/$*/src/module/orbit.ko $@

# ---- libuorbit ------------------------------------------------------------
lib: $(B)/lib/$(SONAME) $(B)/lib/libuorbit.a $(B)/lib/uorbit.pc

$(B)/lib/pic/%.o: libuorbit/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -fPIC -pthread -c -o $@ $<

$(B)/lib/obj/%.o: libuorbit/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -pthread -c -o $@ $<

$(B)/lib/$(SONAME): $(LIB_PIC) libuorbit/libuorbit.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=libuorbit/libuorbit.map \
		-Wl,-z,defs -o $(B)/lib/libuorbit.so.$(VERSION) $(LIB_PIC) -pthread
	ln -sf libuorbit.so.$(VERSION) $@
	ln -sf $(SONAME) $(B)/lib/libuorbit.so

$(B)/lib/libuorbit.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/lib/uorbit.pc: libuorbit/uorbit.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' $< > $@

# ---- orbitctl -------------------------------------------------------------
orbitctl: $(B)/bin/orbitctl

$(B)/bin/orbitctl: $(wildcard tools/orbitctl/*.c) uapi/orbit.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -o $@ $(filter %.c,$^)

# A static copy for the guest.
$(B)/vmtests/orbitctl: $(wildcard tools/orbitctl/*.c) uapi/orbit.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -static -o $@ $(filter %.c,$^)

# ---- tests ----------------------------------------------------------------
$(B)/unit/test_%: tests/unit/test_%.c $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -o $@ $< $(LIB_SRCS) -lcmocka -pthread

$(B)/vmtests/%: tests/vm/%.c tests/vm/tap.h tests/vm/util.h $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -static -Ilibuorbit -o $@ $< $(B)/lib/libuorbit.a -pthread

# Examples run in the guest (tests/vm/t_example_*.sh drive them).
$(B)/vmtests/ex_%: examples/%.c examples/example.h $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -static -Ilibuorbit -o $@ $< $(B)/lib/libuorbit.a -pthread

EXAMPLE_BINS := $(patsubst examples/%.c,$(B)/vmtests/ex_%,$(wildcard examples/*.c))

vmtests: $(VM_BINS) $(EXAMPLE_BINS) $(B)/vmtests/orbitctl
	@mkdir -p $(B)/vmtests && for s in $(VM_SCRIPTS); do install -m 755 $$s $(B)/vmtests/; done

unit: $(UNITS)
	@for t in $(UNITS); do $$t || exit 1; done

check: deps
	@tests/check.sh

check-harness: deps
	@$(MAKE) --no-print-directory all vmtests
	@tests/check-harness.sh

check-vm: deps
	@$(MAKE) --no-print-directory all vmtests installed-test
	@for k in $(KERNELS); do tests/vm/run-vm.sh -k $$k -m $(B)/$$k/orbit.ko -b $(B)/vmtests -r $(STAGE) -l logs/$$k $(if $(T),-t "$(T)") || exit 1; done

demo: deps
	@$(MAKE) --no-print-directory all vmtests
	@tests/demo.sh

$(B)/bench/orbit_bench: bench/orbit_bench.c tests/vm/util.h $(B)/lib/libuorbit.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -static -Ilibuorbit -Itests/vm -o $@ $< $(B)/lib/libuorbit.a -pthread

bench: deps
	@$(MAKE) --no-print-directory all vmtests $(B)/bench/orbit_bench
	@scripts/bench.sh

# The same programs with small sizes (under 2 minutes), for regressions.
profile: deps
	@$(MAKE) --no-print-directory all vmtests $(B)/bench/orbit_bench
	@scripts/profile.sh

bench-quick: deps
	@$(MAKE) --no-print-directory all vmtests $(B)/bench/orbit_bench
	@ORBIT_BENCH_QUICK=1 scripts/bench.sh

# ---- install ----------------------------------------------------------------
install: lib orbitctl
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR)
	install -m 644 $(B)/lib/libuorbit.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/lib/libuorbit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libuorbit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libuorbit.so
	install -m 644 libuorbit/orbit.h $(DESTDIR)$(INCLUDEDIR)/orbit.h
	install -d $(DESTDIR)$(INCLUDEDIR)/linux
	install -m 644 uapi/orbit.h $(DESTDIR)$(INCLUDEDIR)/linux/orbit.h
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		libuorbit/uorbit.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/uorbit.pc
	install -m 755 $(B)/bin/orbitctl $(DESTDIR)$(BINDIR)/orbitctl
	install -d $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)/lib/udev/rules.d
	install -m 644 scripts/60-orbit.rules $(DESTDIR)/lib/udev/rules.d/60-orbit.rules

# An installed tree (DESTDIR) and a program built against it with
# pkg-config, plus what it needs to run in the guest: the guest test
# t_installed.sh runs it.
STAGE := $(CURDIR)/$(B)/stage
installed-test: lib orbitctl
	@rm -rf $(STAGE) && $(MAKE) --no-print-directory -s install DESTDIR=$(STAGE) PREFIX=/usr >/dev/null
	@mkdir -p $(STAGE)/usr/bin
	PKG_CONFIG_SYSROOT_DIR=$(STAGE) PKG_CONFIG_LIBDIR=$(STAGE)/usr/lib/pkgconfig; \
	export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR; \
	$(CC) $(CFLAGS) -o $(STAGE)/usr/bin/orbit-quickstart examples/quickstart.c $$(pkg-config --cflags --libs uorbit)
	@for f in $$(ldd $(STAGE)/usr/bin/orbit-quickstart | grep -o '/[^ ]*' | grep -v libuorbit); do \
		install -D -m 755 $$f $(STAGE)$$f; done

dkms-install:
	scripts/dkms.sh install

clean:
	rm -rf $(B) logs
	rm -f module/*.o module/*.ko module/*.mod* module/.*.cmd module/modules.order module/Module.symvers

.PHONY: all deps modules lib orbitctl vmtests unit check check-harness check-vm demo bench bench-quick profile install installed-test dkms-install clean
