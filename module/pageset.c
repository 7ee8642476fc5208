// SPDX-License-Identifier: GPL-2.0
/*
 * Page sets: which pages of an area main wrote in an interval.
 *
 * A set is an xarray of bitmaps, one per region of PSET_REGION_PAGES
 * pages (2 MiB with 4 KiB pages).  A region is allocated the first time
 * one of its pages is added and kept until the set is destroyed, so
 * adding a page costs one xarray lookup and one bit store, emptying the
 * set (at every snapshot) frees nothing, and walking it visits a region
 * per 512 pages instead of an xarray entry per page.  A region costs 64
 * bytes, charged to the caller's memory cgroup.
 *
 * Owner: the structure that embeds the set (an area, for its dirty and
 * hot sets) initialises and destroys it and serialises every use with
 * its own lock; the set has no lock or reference count of its own.
 * Only its count may be read without that lock, as a hint.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>

#include "orbit_internal.h"

void pset_init(struct pageset *ps)
{
	xa_init(&ps->regions);
	ps->count = 0;
}

int pset_add(struct pageset *ps, unsigned long idx)
{
	unsigned long r = idx / PSET_REGION_PAGES;
	struct pset_region *reg = xa_load(&ps->regions, r);
	void *old;

	if (!reg) {
		reg = kzalloc(sizeof(*reg), GFP_KERNEL_ACCOUNT);
		if (!reg)
			return -ENOMEM;
		old = xa_store(&ps->regions, r, reg, GFP_KERNEL_ACCOUNT);
		if (xa_is_err(old)) {
			kfree(reg);
			return xa_err(old);
		}
	}
	if (!__test_and_set_bit(idx % PSET_REGION_PAGES, reg->bits))
		WRITE_ONCE(ps->count, ps->count + 1);
	return 0;
}

bool pset_test(struct pageset *ps, unsigned long idx)
{
	struct pset_region *reg = xa_load(&ps->regions,
					  idx / PSET_REGION_PAGES);

	return reg && test_bit(idx % PSET_REGION_PAGES, reg->bits);
}

void pset_del(struct pageset *ps, unsigned long idx)
{
	struct pset_region *reg = xa_load(&ps->regions,
					  idx / PSET_REGION_PAGES);

	if (reg && __test_and_clear_bit(idx % PSET_REGION_PAGES, reg->bits))
		WRITE_ONCE(ps->count, ps->count - 1);
}

/* The next page of the walk it in *idx; false at the end. */
bool pset_next(struct pageset *ps, struct pset_iter *it, unsigned long *idx)
{
	for (;;) {
		if (it->reg) {
			it->bit = find_next_bit(it->reg->bits,
						PSET_REGION_PAGES, it->bit);
			if (it->bit < PSET_REGION_PAGES) {
				*idx = it->region * PSET_REGION_PAGES +
				       it->bit++;
				return true;
			}
			it->region++;
			it->bit = 0;
		}
		it->reg = xa_find(&ps->regions, &it->region, ULONG_MAX,
				  XA_PRESENT);
		if (!it->reg)
			return false;
	}
}

/*
 * The next run of consecutive pages of the walk in [*start, *start + *n),
 * whole: one bitmap search per end of a run in a region, and a run that
 * fills a region to its end goes on into the next region's first pages.
 * False at the end.
 */
bool pset_next_run(struct pageset *ps, struct pset_iter *it,
		   unsigned long *start, unsigned long *n)
{
	struct pset_region *next;
	unsigned long end;

	if (!pset_next(ps, it, start))
		return false;
	*n = 1;
	for (;;) {
		end = find_next_zero_bit(it->reg->bits, PSET_REGION_PAGES,
					 it->bit);
		*n += end - it->bit;
		it->bit = end;
		if (end < PSET_REGION_PAGES)
			return true;
		next = xa_load(&ps->regions, it->region + 1);
		if (!next || !test_bit(0, next->bits))
			return true;
		it->region++;
		it->reg = next;
		it->bit = 1;
		(*n)++;
	}
}

/* Empties the set; its regions stay for the next interval's pages. */
void pset_clear(struct pageset *ps)
{
	struct pset_region *reg;
	unsigned long r;

	xa_for_each(&ps->regions, r, reg)
		bitmap_zero(reg->bits, PSET_REGION_PAGES);
	WRITE_ONCE(ps->count, 0);
}

void pset_destroy(struct pageset *ps)
{
	struct pset_region *reg;
	unsigned long r;

	xa_for_each(&ps->regions, r, reg)
		kfree(reg);
	xa_destroy(&ps->regions);
}
