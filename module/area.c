// SPDX-License-Identifier: GPL-2.0
/*
 * Areas: main's mapping of them and their snapshots.
 *
 * An area's memory is module pages kept in a persistent page tree
 * (ptree.c).  The main program maps the area through a per-area file,
 * MAP_SHARED at the area's address; every orbit bound to the area maps a
 * view of it at the same address (view.c).  Main's mapping is
 * write-notified (page_mkwrite), so a page's PTE is read-only until its
 * first write after a snapshot:
 *
 *  - the first write marks the page dirty.  A snapshot zaps the PTEs of
 *    dirty pages (write-protecting them) and takes one reference on the
 *    tree root.  A later write to a page still shared with a snapshot gets
 *    a fresh copy (module COW), the snapshot keeps the old one.
 *  - a page that something beyond main's mappings holds when its PTE is
 *    gone (a pin, or a plain get_user_pages reference as 6.1's O_DIRECT
 *    takes: I/O may write it without a fault) is never frozen: main keeps
 *    it (COPY mode) and the snapshot gets a copy.
 *
 * Pages that main writes between most snapshots switch to COPY mode too
 * (kept in the overlay, copied at snapshot time within a per-call budget).
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "orbit_internal.h"

#define COPY_BUDGET_PAGES	(SZ_32K >> PAGE_SHIFT)
#define AUTO_MIN_SNAPS		4	/* snapshots seen before judging */

/* Pages written since the last snapshot. */
static struct pageset *area_dirty(struct orbit_area *area)
{
	return &area->dirty_set[area->dirty_cur];
}

/* Pages written before the last snapshot, which froze them. */
static struct pageset *area_hot(struct orbit_area *area)
{
	return &area->dirty_set[!area->dirty_cur];
}

/* A write fault marks its page up to three times (fault, COW, mkwrite). */
static int area_mark_dirty(struct orbit_area *area, unsigned long idx)
{
	lockdep_assert_held(&area->lock);
	return pset_add(area_dirty(area), idx);
}

/*
 * Auto mode: a page that main writes in more than 30% of the snapshots
 * taken since it was last judged moves to COPY mode.
 */
static bool area_wants_copy(struct orbit_area *area, unsigned long idx)
{
	void *e = xa_load(&area->meta, idx);
	unsigned long v = e ? xa_to_value(e) : 0;
	u64 since = v >> 16, faults = (v & 0xffff) + 1, seen;

	lockdep_assert_held(&area->lock);
	if (!e)
		since = area->seq;
	seen = area->seq - since;
	if (seen >= AUTO_MIN_SNAPS && faults * 10 > seen * 3) {
		xa_erase(&area->meta, idx);
		return true;
	}
	if (faults < 0xffff)
		xa_store(&area->meta, idx, xa_mk_value(since << 16 | faults),
			 GFP_KERNEL_ACCOUNT);
	return false;
}

/*
 * Stores page at idx in the current tree (the caller's reference moves
 * in) and drops the tree's reference on the page it displaces.
 */
static int area_tree_store(struct orbit_area *area, unsigned long idx,
			   struct page *page)
{
	struct page *old;
	int err;

	lockdep_assert_held(&area->lock);
	err = pt_set(area->pool, &area->cur, area->levels, idx, page, &old);
	if (!err)
		opage_put(area->pool, old);
	return err;
}

/* The tree (so the next snapshot) gets a copy of src; main keeps src. */
static int area_tree_copy(struct orbit_area *area, unsigned long idx,
			  struct page *src)
{
	struct page *copy = opage_copy(area->pool, src);
	int err;

	if (IS_ERR(copy))
		return PTR_ERR(copy);
	err = area_tree_store(area, idx, copy);
	if (err)
		opage_put(area->pool, copy);
	else
		ostat_inc(OS_COPY_PAGES);
	return err;
}

/* Main keeps page in the overlay (COPY mode); the tree gets a copy. */
static int area_keep_for_main(struct orbit_area *area, unsigned long idx,
			      struct page *page)
{
	int err;

	lockdep_assert_held(&area->lock);
	err = xa_err(xa_store(&area->ovl, idx, page, GFP_KERNEL_ACCOUNT));
	if (err)
		return err;
	opage_get(page);
	err = area_tree_copy(area, idx, page);
	if (err) {
		xa_erase(&area->ovl, idx);
		opage_put(area->pool, page);
	}
	return err;
}

/*
 * Gives main its own copy of a frozen page.  A copy made for a read
 * (write false) is not marked dirty: main maps it read-only, and
 * page_mkwrite marks it when it is written.
 */
static struct page *area_cow(struct orbit_area *area, unsigned long idx,
			     struct page *frozen, bool write)
{
	struct page *copy = opage_copy(area->pool, frozen);
	int err;

	lockdep_assert_held(&area->lock);
	if (IS_ERR(copy))
		return copy;
	ostat_inc(OS_COW_FAULTS);
	atomic_long_inc(&area->cow_faults);
	if (area->auto_mode && area_wants_copy(area, idx) &&
	    !xa_err(xa_store(&area->ovl, idx, copy, GFP_KERNEL_ACCOUNT)))
		return copy;	/* the tree keeps the frozen page */
	err = write ? area_mark_dirty(area, idx) : 0;
	if (!err)
		err = area_tree_store(area, idx, copy);
	if (err) {
		opage_put(area->pool, copy);
		return ERR_PTR(err);
	}
	return copy;
}

/* Main's page for idx, allocating a zero page on first touch. */
static struct page *area_page(struct orbit_area *area, unsigned long idx,
			      bool write, bool *in_ovl)
{
	struct page *page;
	bool shared;
	int err;

	lockdep_assert_held(&area->lock);
	page = xa_load(&area->ovl, idx);
	*in_ovl = page;
	if (page)
		return page;
	if (area->copy_mode) {
		/*
		 * COPY areas: main writes pages the tree does not hold; a
		 * page the tree has (the area was COW before) is main's to
		 * keep if no snapshot holds it, else main gets a copy.
		 */
		struct page *cur = pt_lookup(area->cur, idx, &shared);

		if (cur && !shared) {
			opage_get(cur);
			page = cur;
		} else {
			page = cur ? opage_copy(area->pool, cur) :
				     opage_alloc(area->pool, true);
		}
		if (IS_ERR(page))
			return page;
		err = xa_err(xa_store(&area->ovl, idx, page,
				      GFP_KERNEL_ACCOUNT));
		if (err) {
			opage_put(area->pool, page);
			return ERR_PTR(err);
		}
		atomic_long_inc(&area->npresent);
		*in_ovl = true;
		return page;
	}
	page = pt_lookup(area->cur, idx, &shared);
	if (!page) {
		page = opage_alloc(area->pool, true);
		if (IS_ERR(page))
			return page;
		err = area_tree_store(area, idx, page);
		if (err) {
			opage_put(area->pool, page);
			return ERR_PTR(err);
		}
		atomic_long_inc(&area->npresent);
	} else if (shared && (write || pset_test(area_hot(area), idx))) {
		/*
		 * A read of a page the last snapshot froze because main
		 * wrote it copies at once too: such a page is most likely
		 * written again, and copying now spares the write a second
		 * fault, a zap and a refault.
		 */
		page = area_cow(area, idx, page, write);
		if (IS_ERR(page))
			return page;
		*in_ovl = xa_load(&area->ovl, idx) == page;
	}
	if (write && !*in_ovl) {
		err = area_mark_dirty(area, idx);
		if (err)
			return ERR_PTR(err);
	}
	return page;
}

/* A fault's answer to an allocation failure: over the user's limit, or not. */
static vm_fault_t area_fault_error(struct page *page)
{
	return PTR_ERR(page) == -EDQUOT ? VM_FAULT_SIGBUS : VM_FAULT_OOM;
}

static vm_fault_t area_fault(struct vm_fault *vmf)
{
	struct orbit_area *area = vmf->vma->vm_private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE, in_ovl;
	struct page *page;

	/* A copy of main's mapping (MADV_DOFORK, then fork) is no area. */
	if (vmf->pgoff >= area->npages || vmf->vma->vm_mm != area->mm)
		return VM_FAULT_SIGBUS;
	mutex_lock(&area->lock);
	page = area_page(area, vmf->pgoff, write, &in_ovl);
	if (!IS_ERR(page))
		get_page(page);
	mutex_unlock(&area->lock);
	if (IS_ERR(page))
		return area_fault_error(page);
	vmf->page = page;
	return 0;
}

static vm_fault_t area_page_mkwrite(struct vm_fault *vmf)
{
	struct orbit_area *area = vmf->vma->vm_private_data;
	unsigned long idx = vmf->pgoff;
	struct page *page, *copy;
	bool shared = false;

	if (vmf->vma->vm_mm != area->mm)
		return VM_FAULT_SIGBUS;
	mutex_lock(&area->lock);
	page = xa_load(&area->ovl, idx);
	if (!page)
		page = pt_lookup(area->cur, idx, &shared);
	if (page != vmf->page || shared) {
		/* Stale PTE or frozen page: the retry faults in main's page. */
		if (page == vmf->page) {
			copy = area_cow(area, idx, page, true);
			if (IS_ERR(copy)) {
				mutex_unlock(&area->lock);
				return area_fault_error(copy);
			}
		}
		unmap_mapping_pages(area->mapping, idx, 1, false);
		mutex_unlock(&area->lock);
		return VM_FAULT_NOPAGE;
	}
	if (!xa_load(&area->ovl, idx) && area_mark_dirty(area, idx)) {
		mutex_unlock(&area->lock);
		return VM_FAULT_OOM;
	}
	lock_page(page);
	mutex_unlock(&area->lock);
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct area_vm_ops = {
	.fault		= area_fault,
	.page_mkwrite	= area_page_mkwrite,
	.map_pages	= orbit_map_pages_none,
	.may_split	= orbit_vma_may_split,
	.mremap		= orbit_vma_mremap,
};

/*
 * Changes how the area is snapshotted (ORBIT_AREA_COPY, ORBIT_AREA_NOAUTO
 * or neither).  The next snapshot sorts out the pages: a COW area gives
 * pages main kept for copying back to the tree over the per-call budget;
 * a COPY area keeps main's pages and copies them.
 */
void area_set_mode(struct orbit_area *area, unsigned int flags)
{
	mutex_lock(&area->lock);
	area->copy_mode = flags & ORBIT_AREA_COPY;
	area->auto_mode = !(flags & (ORBIT_AREA_COPY | ORBIT_AREA_NOAUTO));
	mutex_unlock(&area->lock);
}

/*
 * Drops the pages [first, first + n): main's PTEs go, and so do the
 * current tree's and the overlay's references (snapshots taken before
 * keep theirs).  Main's next touch gets a zero page; the next snapshot
 * lacks them, so orbits see zeros there too.
 */
void area_discard(struct orbit_area *area, unsigned long first,
		  unsigned long n)
{
	unsigned long idx;
	struct page *page, *old;
	bool present;

	mutex_lock(&area->lock);
	unmap_mapping_pages(area->mapping, first, n, false);
	for (idx = first; idx < first + n; idx++) {
		present = false;
		page = xa_erase(&area->ovl, idx);
		if (page) {
			opage_put(area->pool, page);
			present = true;
		}
		if (pt_lookup(area->cur, idx, NULL) &&
		    !pt_set(area->pool, &area->cur, area->levels, idx, NULL,
			    &old)) {
			opage_put(area->pool, old);
			present = true;
		}
		pset_del(&area->dirty_set[0], idx);
		pset_del(&area->dirty_set[1], idx);
		xa_erase(&area->meta, idx);
		if (present)
			atomic_long_dec(&area->npresent);
		if (need_resched())
			cond_resched();
	}
	mutex_unlock(&area->lock);
}

/* Is vma main's mapping of area (which orbit_apply may write)? */
bool area_mapped_at(struct orbit_area *area, struct vm_area_struct *vma)
{
	return vma->vm_ops == &area_vm_ops && vma->vm_private_data == area &&
	       vma->vm_mm == area->mm;
}

static int area_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct orbit_area *area = file->private_data;

	return orbit_mmap_setup(vma, area->mm, area->addr, area->size,
				&area_vm_ops, area);
}

static int area_file_release(struct inode *inode, struct file *file)
{
	area_put(file->private_data);
	return 0;
}

static const struct file_operations area_fops = {
	.owner		= THIS_MODULE,
	.mmap		= area_file_mmap,
	.release	= area_file_release,
	.llseek		= noop_llseek,
};

static void area_free_pages(struct orbit_area *area)
{
	unsigned long idx;
	struct page *page;

	xa_for_each(&area->ovl, idx, page)
		opage_put(area->pool, page);
	xa_destroy(&area->ovl);
	pset_destroy(&area->dirty_set[0]);
	pset_destroy(&area->dirty_set[1]);
	xa_destroy(&area->meta);
	pt_put(area->cur);
	area->cur = NULL;
}

static void area_release(struct kref *ref)
{
	struct orbit_area *area = container_of(ref, struct orbit_area, ref);

	area_free_pages(area);
	pt_pool_close(area->pool);
	if (area->inode)
		iput(area->inode);
	mmdrop(area->mm);
	kfree(area);
	ostat_dec(OS_AREAS);
}

void area_put(struct orbit_area *area)
{
	if (area)
		kref_put(&area->ref, area_release);
}

struct orbit_area *area_get(struct orbit_area *area)
{
	kref_get(&area->ref);
	return area;
}

/*
 * Creates an area and maps it into the calling main program at
 * [addr, addr + size).  Returns the area with one reference for the
 * caller; main's mapping holds another.
 */
struct orbit_area *area_create(unsigned long addr, unsigned long size,
			       unsigned int flags,
			       const struct orbit_acct *acct)
{
	struct orbit_area *area;
	struct file *file;
	int err;

	area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!area)
		return ERR_PTR(-ENOMEM);
	area->pool = pt_pool_create(acct);
	if (!area->pool) {
		kfree(area);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&area->ref);
	mutex_init(&area->lock);
	xa_init(&area->ovl);
	pset_init(&area->dirty_set[0]);
	pset_init(&area->dirty_set[1]);
	xa_init(&area->meta);
	area->addr = addr;
	area->size = size;
	area->npages = size >> PAGE_SHIFT;
	area->levels = pt_levels(area->npages);
	area->copy_mode = flags & ORBIT_AREA_COPY;
	area->auto_mode = !(flags & (ORBIT_AREA_COPY | ORBIT_AREA_NOAUTO));
	area->mm = current->mm;
	mmgrab(area->mm);
	ostat_inc(OS_AREAS);

	file = orbit_file_new("[orbit-area]", &area_fops, area_get(area));
	if (IS_ERR(file)) {
		area_put(area);		/* the file's reference */
		area_put(area);
		return ERR_CAST(file);
	}
	area->inode = file_inode(file);
	ihold(area->inode);
	area->mapping = file->f_mapping;
	err = orbit_map_file(file, addr, size, PROT_READ | PROT_WRITE);
	fput(file);	/* the mapping, if any, holds the file now */
	if (err) {
		area_put(area);
		return ERR_PTR(err);
	}
	return area;
}

/* ---- snapshots ---------------------------------------------------------- */

/*
 * COPY-mode pages: the tree gets a copy of each while the per-call budget
 * lasts (always in a COPY area, always for a page something else holds);
 * past the budget a page goes back to COW and is frozen with the dirty
 * pages (it is marked dirty here).
 */
static int area_snapshot_copy_pages(struct orbit_area *area,
				    struct snap_cost *cost)
{
	unsigned long idx, budget = COPY_BUDGET_PAGES;
	struct page *page;
	int err;

	lockdep_assert_held(&area->lock);
	xa_for_each(&area->ovl, idx, page) {
		bool held = opage_referenced(page);

		if (area->copy_mode || held || budget) {
			err = area_tree_copy(area, idx, page);
			if (err)
				return err;
			cost->copied++;
			if (!area->copy_mode && !held)
				budget--;
			continue;
		}
		err = area_mark_dirty(area, idx);
		if (!err)
			err = area_tree_store(area, idx, page);
		if (err)
			return err;
		xa_erase(&area->ovl, idx);
	}
	return 0;
}

struct freeze_all {
	struct orbit_area *area;
	int err;
};

/* debug_full_snapshot: every page of the tree counts as written. */
static int freeze_one(void *ctx, unsigned long idx)
{
	struct freeze_all *fa = ctx;

	if (!xa_load(&fa->area->ovl, idx))
		fa->err = area_mark_dirty(fa->area, idx);
	return fa->err;
}

/*
 * Freezes the pages written since the last snapshot: their PTEs in main
 * are zapped, so that the next write faults and gets a copy.  A write
 * fault makes a PTE writable under the page lock after page_mkwrite
 * marked the page dirty, so taking and dropping the lock waits out such a
 * fault before the zap removes its PTE (as page_mkclean does); no new one
 * can start, since page_mkwrite needs area->lock.
 *
 * Only once the PTEs are gone is each page checked for other holders
 * (smp_mb() orders the zap before the check, as page_try_share_anon_rmap
 * orders its PTE change before the pin check: a GUP-fast that took a
 * reference before the zap is seen; one after it finds no PTE and faults,
 * which waits for area->lock).  A held page is not frozen: main keeps it
 * and the tree gets a copy.
 */
static int area_snapshot_freeze(struct orbit_area *area,
				struct snap_cost *cost)
{
	struct zap_run zap = { .mapping = area->mapping };
	unsigned long idx;
	struct page *page;
	int err;

	lockdep_assert_held(&area->lock);
	if (READ_ONCE(orbit_debug_full_snapshot) && area->cur) {
		struct freeze_all fa = { area, 0 };

		pt_diff(NULL, area->cur, area->levels, freeze_one, &fa);
		if (fa.err)
			return fa.err;
	}
	pset_for_each(area_dirty(area), idx) {
		if (xa_load(&area->ovl, idx))
			continue;
		page = pt_lookup(area->cur, idx, NULL);
		if (!page)
			continue;
		lock_page(page);
		unlock_page(page);
		zap_add(&zap, idx);
		cost->frozen++;
	}
	zap_flush(&zap);
	smp_mb();	/* the zaps above, then the reference checks below */
	pset_for_each(area_dirty(area), idx) {
		if (xa_load(&area->ovl, idx))
			continue;
		page = pt_lookup(area->cur, idx, NULL);
		if (!page || !opage_referenced(page))
			continue;
		err = area_keep_for_main(area, idx, page);
		if (err)
			return err;
		cost->frozen--;
		cost->copied++;
	}
	/* This interval's dirty pages are the next one's hot pages. */
	pset_clear(area_hot(area));
	area->dirty_cur ^= 1;
	return 0;
}

/*
 * Takes a snapshot: returns a reference on the tree root that holds the
 * area exactly as it is now (NULL for an area never touched), and adds
 * what it cost to *cost.
 */
int area_snapshot(struct orbit_area *area, struct pt_node **root,
		  struct snap_cost *cost)
{
	int err;

	mutex_lock(&area->lock);
	err = area_snapshot_copy_pages(area, cost);
	if (!err)
		err = area_snapshot_freeze(area, cost);
	if (!err) {
		if (READ_ONCE(orbit_debug_full_snapshot) && area->cur) {
			*root = pt_deep_copy(area->cur);
			if (!*root)
				err = -ENOMEM;
		} else {
			*root = pt_get(area->cur);
		}
	}
	if (!err) {
		area->seq++;
		ostat_inc(OS_SNAPSHOTS);
	}
	mutex_unlock(&area->lock);
	return err;
}
