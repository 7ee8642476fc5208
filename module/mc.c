// SPDX-License-Identifier: GPL-2.0
/*
 * The module's page copies, and the memory errors they may read.
 *
 * A memory error that a copy in the kernel is the first to read raises
 * a machine check there, which the kernel survives only in a copy it
 * knows how to cut short (copy_mc_to_kernel: the core's copy-on-write
 * copies so).  Such a copy costs what a plain one does where the CPU has
 * fast string copies, but several times more under an emulator that
 * executes rep movsb a byte at a time (QEMU's TCG, where this project's
 * figures are measured).  mc_copy chooses:
 *   1  copies that survive the error: the page is reported to
 *      memory_failure (which marks it where the kernel handles memory
 *      errors) and the copy fails as for a marked page (-EHWPOISON);
 *   0  plain copies (copy_highpage): such an error is fatal;
 *   2  (the default; resolved when set, and at load if not given): 1,
 *      unless a surviving copy of a page takes more than MC_SLOWER times
 *      a plain one, timed here on two pages of our own, as the kernel
 *      times its RAID and checksum routines at boot.
 * Either way no copy reads a page already marked (PageHWPoison).
 *
 * debug_mc_fail (tests only): the next that many surviving copies fail
 * as if they had read an error, and report none (the page is sound), so
 * that what answers such an error runs where no machine check can be
 * raised.  Both are read without a lock: each copy reads them once.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/clock.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"

/* A surviving copy this many times slower than a plain one is not used. */
#define MC_SLOWER	3
/* Copies of each kind timed; the fastest of each counts. */
#define MC_ROUNDS	8

unsigned int orbit_mc_copy = ORBIT_MC_AUTO;
unsigned int orbit_mc_fail;

static bool mc_fail_injected(void)
{
	unsigned int n = READ_ONCE(orbit_mc_fail);

	while (unlikely(n))
		if (try_cmpxchg(&orbit_mc_fail, &n, n - 1))
			return true;
	return false;
}

unsigned int orbit_mc_choose(void)
{
	struct page *src = alloc_page(GFP_KERNEL | __GFP_ZERO);
	struct page *dst = alloc_page(GFP_KERNEL);
	u64 plain = U64_MAX, safe = U64_MAX, t;
	unsigned int i, on = 1;
	void *to, *from;

	if (!src || !dst) {
		pr_info("orbit: page copies survive memory errors (not timed: no memory)\n");
		goto out;
	}
	to = kmap_local_page(dst);
	from = kmap_local_page(src);
	for (i = 0; i < MC_ROUNDS; i++) {
		t = local_clock();
		copy_page(to, from);
		plain = min(plain, local_clock() - t);
		t = local_clock();
		if (copy_mc_to_kernel(to, from, PAGE_SIZE))
			break;		/* an error in our page: keep them on */
		safe = min(safe, local_clock() - t);
	}
	kunmap_local(from);
	kunmap_local(to);
	on = safe == U64_MAX || safe <= MC_SLOWER * plain;
	pr_info("orbit: page copies %s memory errors (a page: %llu ns surviving them, %llu plain)\n",
		on ? "survive" : "do not survive", safe, plain);
out:
	if (src)
		__free_page(src);
	if (dst)
		__free_page(dst);
	return on;
}

int orbit_mc_read(void *to, struct page *src)
{
	unsigned long left;
	void *from;

	if (unlikely(PageHWPoison(src)) || mc_fail_injected())
		return -EHWPOISON;
	from = kmap_local_page(src);
	left = copy_mc_to_kernel(to, from, PAGE_SIZE);
	kunmap_local(from);
	if (likely(!left))
		return 0;
	memory_failure_queue(page_to_pfn(src), 0);
	return -EHWPOISON;
}

/*
 * live: main may write src while it is copied (a COPY-mode page, which
 * main keeps writing; a page held by I/O).  Every aligned word of the
 * copy must then be a value the word held, as a task reading the page
 * would have found it, which a copy a byte at a time (copy_mc's rep
 * movsb) does not give: a word rewritten during its copy came out as
 * bytes of both values.  So with mc_copy on, the surviving copy first
 * finds any error, then copy_page copies again a word at a time (its
 * lines still cached).  Plain copies move words already.
 */
int orbit_copy_page(struct page *dst, struct page *src, bool live)
{
	void *to, *from;
	int err;

	if (!READ_ONCE(orbit_mc_copy)) {
		if (unlikely(PageHWPoison(src)))
			return -EHWPOISON;
		copy_highpage(dst, src);
		return 0;
	}
	to = kmap_local_page(dst);
	err = orbit_mc_read(to, src);
	if (!err && live) {
		from = kmap_local_page(src);
		copy_page(to, from);
		kunmap_local(from);
	}
	kunmap_local(to);
	return err;
}
