// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fresh globals: an orbit sees main's global variables as they are when
 * it is created (or restarted, or when main calls orbit_sync_globals()),
 * not as they were when the spawner it descends from was forked.
 *
 * What is copied: the writable data and bss of main's executable and of
 * its shared libraries, without
 *  - the parts made read-only after relocation (PT_GNU_RELRO);
 *  - the C runtime's libraries (libc, the loader, libm, libstdc++, libgcc,
 *    allocators such as jemalloc, libuorbit itself...): their state (the
 *    heap's, stdio's, locks) describes the process it lives in, and the
 *    orbit's heap is not main's;
 *  - variables the executable holds for those libraries (copy
 *    relocations: environ, stdout, optarg...);
 *  - in an executable linked with libuorbit.a, the library's state and
 *    everything the linker placed after it (the static C library): only
 *    the program's own data, up to uo_st and uo_bss_mark (state.h).
 *
 * How: main copies those ranges into a hidden area (pages that did not
 * change are not written, so they cost nothing; where the kernel can say
 * which pages main wrote since the last copy, written.c, and the globals
 * reach WRITTEN_MIN_BYTES, only those are compared, else every page is)
 * and queues the library's own call, tagged UO_TAG_GLOBALS, before any
 * other call of the orbit's process; the orbit's task loop copies the
 * area's snapshot into place before it runs init.  The area lives while
 * main has orbits.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define MAX_RANGES	512
#define GLOBALS_MAGIC	0x6f72626974676c62ULL	/* "orbitglb" */
/*
 * Globals smaller than this are compared whole at every send: cheaper
 * than tracking main's writes (a PAGEMAP_SCAN that protects the pages
 * again, with its TLB flush, and a fault at main's next write to each).
 */
#define WRITTEN_MIN_BYTES	(64UL << 10)

struct range {
	uint64_t addr;
	uint64_t len;
};

struct globals_hdr {
	uint64_t magic;
	uint64_t count;
	struct range r[];	/* then the bytes, range after range */
};

struct collect {
	struct range r[MAX_RANGES];
	struct uo_span s[MAX_RANGES];	/* r's pages, sorted and merged */
	unsigned int n, ns;
	size_t bytes;
	int overflow;
	int objects;		/* seen so far: the first is the executable */
};

extern char __bss_start[];	/* the linker's: where this object's bss starts */

/* Libraries whose state is the process's own, never main's. */
static int is_runtime(const char *path)
{
	static const char *const names[] = {
		"libc.so", "ld-linux", "ld64.so", "libm.so", "libmvec.so",
		"libpthread.so", "libdl.so", "librt.so", "libutil.so",
		"libresolv.so", "libnss_", "libanl.so", "libthread_db.so",
		"libgcc_s.so", "libstdc++.so", "libatomic.so", "libjemalloc.so",
		"libtcmalloc", "libmimalloc.so", "libasan.so", "libubsan.so",
		"libtsan.so", "liblsan.so", "libuorbit.so", "linux-vdso",
		"linux-gate",
	};
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(base, names[i], strlen(names[i])))
			return 1;
	return 0;
}

static void add(struct collect *c, uintptr_t lo, uintptr_t hi)
{
	if (hi <= lo)
		return;
	if (c->n == MAX_RANGES) {
		c->overflow = 1;
		return;
	}
	c->r[c->n].addr = lo;
	c->r[c->n].len = hi - lo;
	c->bytes += hi - lo;
	c->n++;
}

/* Adds [lo, hi) without the holes listed in cut (sorted or not). */
static void add_cut(struct collect *c, uintptr_t lo, uintptr_t hi,
		    const struct range *cut, unsigned int ncut)
{
	unsigned int i;

	for (i = 0; i < ncut; i++) {
		uintptr_t a = cut[i].addr, b = cut[i].addr + cut[i].len;

		if (b <= lo || a >= hi)
			continue;
		add_cut(c, lo, a > lo ? a : lo, cut + i + 1, ncut - i - 1);
		add_cut(c, b < hi ? b : hi, hi, cut + i + 1, ncut - i - 1);
		return;
	}
	add(c, lo, hi);
}

static uintptr_t dyn_ptr(uintptr_t base, uintptr_t v)
{
	return v < base ? base + v : v;	/* the loader may have relocated it */
}

/* The executable's copy relocations: variables that are a library's. */
static unsigned int copy_relocs(uintptr_t base, const ElfW(Phdr) *ph,
				int phnum, struct range *cut,
				unsigned int max)
{
#ifdef R_X86_64_COPY
	const ElfW(Dyn) *d = NULL;
	const ElfW(Rela) *rela = NULL;
	const ElfW(Sym) *sym = NULL;
	size_t relasz = 0, relaent = sizeof(ElfW(Rela)), i;
	unsigned int n = 0;
	int k;

	for (k = 0; k < phnum; k++)
		if (ph[k].p_type == PT_DYNAMIC)
			d = (const ElfW(Dyn) *)(base + ph[k].p_vaddr);
	for (; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_RELA)
			rela = (const ElfW(Rela) *)dyn_ptr(base, d->d_un.d_ptr);
		else if (d->d_tag == DT_RELASZ)
			relasz = d->d_un.d_val;
		else if (d->d_tag == DT_RELAENT && d->d_un.d_val)
			relaent = d->d_un.d_val;
		else if (d->d_tag == DT_SYMTAB)
			sym = (const ElfW(Sym) *)dyn_ptr(base, d->d_un.d_ptr);
	}
	if (!rela || !sym)
		return 0;
	for (i = 0; i + relaent <= relasz && n < max; i += relaent) {
		const ElfW(Rela) *r = (const void *)((const char *)rela + i);

		if (ELF64_R_TYPE(r->r_info) != R_X86_64_COPY)
			continue;
		cut[n].addr = base + r->r_offset;
		cut[n].len = sym[ELF64_R_SYM(r->r_info)].st_size;
		n++;
	}
	return n;
#else
	return 0;
#endif
}

static void collect_object(struct collect *c, const char *name,
			   uintptr_t base, const ElfW(Phdr) *ph, int phnum,
			   int is_exe)
{
	struct range cut[64];
	unsigned int ncut = 0;
	uintptr_t st = (uintptr_t)&uo_st, mark = (uintptr_t)&uo_bss_mark;
	int k;

	if (!is_exe && is_runtime(name))
		return;
	for (k = 0; k < phnum && ncut < 64; k++) {
		if (ph[k].p_type != PT_GNU_RELRO)
			continue;
		cut[ncut].addr = base + ph[k].p_vaddr;
		cut[ncut].len = ph[k].p_memsz;
		ncut++;
	}
	if (is_exe)
		ncut += copy_relocs(base, ph, phnum, cut + ncut, 64 - ncut);
	for (k = 0; k < phnum; k++) {
		uintptr_t lo = base + ph[k].p_vaddr, hi = lo + ph[k].p_memsz;

		if (ph[k].p_type != PT_LOAD || !(ph[k].p_flags & PF_W))
			continue;
		if (st >= lo && st < hi) {
			/*
			 * libuorbit is linked into this object: only the
			 * program's data before the library's, and its bss
			 * before the library's.
			 */
			uintptr_t bss = (uintptr_t)__bss_start;

			add_cut(c, lo, st, cut, ncut);
			if (bss > st && mark >= bss && mark < hi)
				add_cut(c, bss, mark, cut, ncut);
			continue;
		}
		add_cut(c, lo, hi, cut, ncut);
	}
}

static int collect_one(struct dl_phdr_info *info, size_t size, void *data)
{
	struct collect *c = data;

	collect_object(c, info->dlpi_name ? info->dlpi_name : "",
		       info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum,
		       c->objects++ == 0);
	return 0;
}

static void collect(struct collect *c)
{
	struct link_map *l;

	memset(c, 0, sizeof(*c));
	if (getpid() == uo_st.loaded_in) {
		dl_iterate_phdr(collect_one, c);
		return;
	}
	/*
	 * A fork child: the loader's lock may be held by a thread it does
	 * not have (see spawner.c); the list is walked, program headers
	 * read where each object's ELF header is mapped.
	 */
	collect_object(c, "", 0, (const ElfW(Phdr) *)getauxval(AT_PHDR),
		       (int)getauxval(AT_PHNUM), 1);
	for (l = _r_debug.r_map; l; l = l->l_next) {
		const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)l->l_addr;

		if (!l->l_name || !l->l_name[0] || !l->l_addr ||
		    memcmp(eh->e_ident, ELFMAG, SELFMAG))
			continue;
		collect_object(c, l->l_name, l->l_addr,
			       (const ElfW(Phdr) *)(l->l_addr + eh->e_phoff),
			       eh->e_phnum, 0);
	}
}

/*
 * Readies [p, p + len) of the hidden area for main's writes: each page is
 * given to main now, by a system call that fails where a store would
 * raise SIGBUS (the module refuses a page beyond the user's
 * max_user_bytes: EDQUOT).  0 or -1.
 */
static int area_writable(unsigned char *p, size_t len)
{
	uintptr_t pg = 4096, lo = (uintptr_t)p & ~(pg - 1);
	uintptr_t hi = ((uintptr_t)p + len + pg - 1) & ~(pg - 1);

	if (!madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE))
		return 0;
	if (errno == EFAULT)
		errno = EDQUOT;
	return -1;
}

/*
 * Copies src to dst a page at a time, writing only pages that differ, a
 * run of them at once: 0, or -1 if dst could not take a write (nothing of
 * that run written).
 */
static int copy_changed(unsigned char *dst, const unsigned char *src,
			size_t len)
{
	size_t off = 0, end, n = 0, pg = 4096;

	while (off < len) {
		for (end = off; end < len; end += n) {
			n = len - end < pg ? len - end : pg;
			if (!memcmp(dst + end, src + end, n))
				break;
		}
		if (end > off) {
			if (area_writable(dst + off, end - off))
				return -1;
			memcpy(dst + off, src + off, end - off);
		}
		off = end < len ? end + n : len;	/* past the equal page */
	}
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct uo_span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* c->s: the pages of c->r, sorted, overlapping and adjacent ones merged. */
static void spans_of(struct collect *c)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	unsigned int i, n = 0;

	for (i = 0; i < c->n; i++) {
		c->s[i].lo = c->r[i].addr & ~(pg - 1);
		c->s[i].hi = (c->r[i].addr + c->r[i].len + pg - 1) & ~(pg - 1);
	}
	qsort(c->s, c->n, sizeof(c->s[0]), span_cmp);
	for (i = 0; i < c->n; i++) {
		if (n && c->s[i].lo <= c->s[n - 1].hi) {
			if (c->s[i].hi > c->s[n - 1].hi)
				c->s[n - 1].hi = c->s[i].hi;
			continue;
		}
		c->s[n++] = c->s[i];
	}
	c->ns = n;
}

struct fill {
	const struct collect *c;
	unsigned char *data;	/* the area's copy of c->r[0] */
	int err;		/* errno of the first copy that failed */
};

/*
 * Pages main wrote, [lo, hi): copies what of them lies in c's ranges,
 * until a copy fails.
 */
static void fill_written(uintptr_t lo, uintptr_t hi, void *arg)
{
	struct fill *f = arg;
	unsigned char *p = f->data;
	unsigned int i;

	for (i = 0; i < f->c->n && !f->err; i++) {
		uintptr_t a = f->c->r[i].addr, b = a + f->c->r[i].len;
		uintptr_t x = lo > a ? lo : a, y = hi < b ? hi : b;

		if (x < y && copy_changed(p + (x - a),
					  (const unsigned char *)x, y - x))
			f->err = errno;
		p += f->c->r[i].len;
	}
}

static size_t hdr_size(unsigned int n)
{
	return (sizeof(struct globals_hdr) + n * sizeof(struct range) + 15) &
	       ~(size_t)15;
}

/*
 * Makes the hidden area hold c's ranges as they are now; 0, or -1 with
 * errno (EDQUOT: a page of it would take the user beyond max_user_bytes).
 */
static int globals_fill_locked(struct collect *c)
{
	size_t need = hdr_size(c->n) + c->bytes;
	struct globals_hdr hdr = { GLOBALS_MAGIC, c->n }, *h;
	int track = c->bytes >= WRITTEN_MIN_BYTES;
	unsigned char *p;
	unsigned int i;

	if (uo_st.globals_area && uo_st.globals_epoch == uo_st.epoch &&
	    orbit_area_size(uo_st.globals_area) < need) {
		orbit_area_destroy(uo_st.globals_area);
		uo_st.globals_area = NULL;
	}
	if (!uo_st.globals_area || uo_st.globals_epoch != uo_st.epoch) {
		need = (need + 0xffff) & ~(size_t)0xffff;
		uo_st.globals_area = orbit_area_create_ex(need, need, 0, NULL);
		if (!uo_st.globals_area)
			return -1;
		uo_st.globals_epoch = uo_st.epoch;
		uo_st.globals_tracked = 0;
	}
	h = orbit_area_base(uo_st.globals_area);
	p = (unsigned char *)h + hdr_size(c->n);
	if (track && uo_st.globals_tracked && h->magic == GLOBALS_MAGIC &&
	    h->count == c->n &&
	    !memcmp(h->r, c->r, c->n * sizeof(struct range))) {
		struct fill f = { c, p, 0 };

		if (!uo_written_scan(c->s, c->ns, fill_written, &f)) {
			if (!f.err)
				return 0;	/* only what main wrote */
			errno = f.err;
			goto failed;
		}
	}
	/* Protect first, then copy: a write during the copy is seen next time. */
	if (track) {
		uo_st.globals_tracked = !uo_written_arm(c->s, c->ns);
	} else {
		uo_written_reset();	/* main's writes take no faults */
		uo_st.globals_tracked = 0;
	}
	if (copy_changed((unsigned char *)h, (const unsigned char *)&hdr,
			 sizeof(hdr)) ||
	    copy_changed((unsigned char *)h->r, (const unsigned char *)c->r,
			 c->n * sizeof(struct range)))
		goto failed;
	for (i = 0; i < c->n; i++) {
		if (copy_changed(p,
				 (const unsigned char *)(uintptr_t)c->r[i].addr,
				 c->r[i].len))
			goto failed;
		p += c->r[i].len;
	}
	return 0;
failed:
	/* Pages scanned or compared were not all copied: compare all next. */
	uo_st.globals_tracked = 0;
	return -1;
}

int uo_globals_send(struct orbit *ob)
{
	struct collect *c = malloc(sizeof(*c));
	void *base;
	int ret = -1, err = ENOMEM;

	if (!c)
		goto out;
	pthread_mutex_lock(&uo_st.globals_lock);
	collect(c);
	spans_of(c);
	err = 0;
	if (!c->n) {
		ret = 0;	/* nothing of main's to copy */
	} else if (globals_fill_locked(c) == 0) {
		base = orbit_area_base(uo_st.globals_area);
		ret = uo_call_internal(ob, uo_st.globals_area, UO_TAG_GLOBALS,
				       &base, sizeof(base));
	}
	if (ret)
		err = errno;
	pthread_mutex_unlock(&uo_st.globals_lock);
	if (!ret && c->overflow)
		ret = 0;	/* the first MAX_RANGES ranges only */
out:
	free(c);
	if (ret)
		errno = err;
	return ret;
}

/*
 * main: no orbit left, so no call needs the hidden area any more.  A
 * destroy that fails for a shortage is tried again, and if it still
 * fails the area is kept for the next drop (or the next orbit's use).
 */
void uo_globals_drop(void)
{
	int tries = 0;

	pthread_mutex_lock(&uo_st.globals_lock);
	if (uo_st.globals_area && uo_st.globals_epoch == uo_st.epoch) {
		while (orbit_area_destroy(uo_st.globals_area)) {
			if (!uo_settle_again(&tries)) {
				pthread_mutex_unlock(&uo_st.globals_lock);
				return;
			}
		}
	}
	uo_st.globals_area = NULL;
	uo_st.globals_tracked = 0;
	pthread_mutex_unlock(&uo_st.globals_lock);
}

int orbit_sync_globals(struct orbit *ob)
{
	if (uo_own(ob, ob ? ob->epoch : 0))
		return -1;
	if (ob->attr.flags & ORBIT_SPAWNER_GLOBALS) {
		errno = EINVAL;
		return -1;
	}
	if (uo_globals_send(ob) == 0)
		return ob->ring ? uo_ring_module_call(ob) : 0;
	/* Dead: a restart (per policy) starts it with the globals of now. */
	return errno == ESRCH ? uo_orbit_restart(ob) : -1;
}

/*
 * The orbit: the library's call, the hidden area's snapshot in argbuf.
 * Pages equal to what the orbit's process already has are not written:
 * each write would copy a page the process shares with the spawner.
 */
void uo_globals_install(void *argbuf)
{
	const struct globals_hdr *h = *(void **)argbuf;
	const unsigned char *p;
	uint64_t i;

	if (!h || h->magic != GLOBALS_MAGIC || h->count > MAX_RANGES)
		return;
	p = (const unsigned char *)h + hdr_size((unsigned int)h->count);
	for (i = 0; i < h->count; i++) {
		copy_changed((unsigned char *)(uintptr_t)h->r[i].addr, p,
			     h->r[i].len);
		p += h->r[i].len;
	}
}
