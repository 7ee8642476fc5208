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
 *  - the first write marks the page dirty.  A snapshot write-protects
 *    main's PTEs of dirty pages in place (one page-table walk, one TLB
 *    flush) and takes one reference on the tree root.  Main's next write
 *    to a page still shared with a snapshot copies it: main keeps its
 *    page and the snapshot gets the copy (copy-out) when nothing else
 *    maps the page, else main gets the copy (module COW).
 *  - a page that something beyond main's mappings holds when its PTE is
 *    gone (a pin, or a plain get_user_pages reference as 6.1's O_DIRECT
 *    takes: I/O may write it without a fault) is never frozen: main keeps
 *    it (COPY mode) and the snapshot gets a copy.
 *
 * Pages that main writes between most snapshots switch to COPY mode too
 * (kept in the overlay, copied at snapshot time within a per-call budget).
 *
 * A fault of main's finds its page under area->lock and keeps it locked
 * until its PTE is set; whatever makes a page no longer main's (a copy
 * replacing it, a discard) waits for that under area->lock and zaps the
 * PTE (area_forget_page), so no fault maps a page main no longer has.
 * A read of a hole maps a zero page (ptree.c), held locked the same way;
 * the fault that gives the hole a page waits for it (area_hole_filled).
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm_inline.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
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

/*
 * The tree (so the next snapshot) gets a copy of src; main keeps src, and
 * may be writing it meanwhile (a COPY-mode page, a held one).
 */
static int area_tree_copy(struct orbit_area *area, unsigned long idx,
			  struct page *src)
{
	struct page *copy = opage_copy_live(area->pool, src);
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
 * Main's page at idx is no longer old: a copy replaced it.  A fault still
 * in flight with old is waited out and the PTE it set zapped, so that
 * main does not go on reading a page that is no longer its own.  A fault
 * that set its PTE before needs nothing: main's next write there finds it
 * stale (area_page_mkwrite zaps it), and until then old holds what the
 * copy holds.
 */
static void area_forget_page(struct orbit_area *area, unsigned long idx,
			     struct page *old)
{
	lockdep_assert_held(&area->lock);
	if (opage_wait_unlocked(old))
		unmap_mapping_pages(area->mapping, idx, 1, false);
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
	area_forget_page(area, idx, frozen);
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

struct area_pte_check {
	struct page *page;
	bool maps;
};

static int area_pte_maps(pte_t *ptep, unsigned long addr, void *data)
{
	struct area_pte_check *c = data;
	pte_t pte = ptep_get(ptep);

	c->maps = pte_present(pte) && pte_pfn(pte) == page_to_pfn(c->page);
	return 0;
}

/*
 * Does main's PTE at addr map page?  Read under its page-table lock.  A
 * PTE that is none (the walk skips it), or a page table that is gone, is
 * no mapping: main's PTE may have been zapped since the fault read it
 * (MADV_DONTNEED by another thread), and then the one mapping the page
 * still has is not main's.
 */
static bool area_main_maps(struct orbit_area *area, unsigned long addr,
			   struct page *page)
{
	struct area_pte_check c = { .page = page };

	return !apply_to_existing_page_range(area->mm, addr, PAGE_SIZE,
					     area_pte_maps, &c) && c.maps;
}

/*
 * Copy-out: main's first write to a page a snapshot froze keeps the page;
 * the snapshots get a copy instead, put in their leaf in place
 * (pt_replace).  From page_mkwrite or a write fault-around (addr given:
 * main's PTE there maps the page read-only) the PTE just becomes
 * writable: no zap, no TLB flush, no refault; from a write fault on a
 * none PTE (addr 0) main maps the page it already had.  With swap_lock
 * held for writing (no view is then between a lookup and its reference),
 * views that map the page (a task read it) are made to let go of it, and
 * the swap happens only if then nothing but main's PTE at addr if any,
 * one tree slot and the caller's refs (page_mkwrite's fault holds one)
 * hold the page: no view maps it, and none can map it after the swap.  The
 * snapshots' copy is made first: the page is read-only everywhere, so it
 * cannot change.  When no call's snapshot is live, the snapshots get no
 * copy: the page just leaves their leaf, and main writes it in place, as
 * after a forked child has exited.
 *
 * Returns 0 when main keeps the page (in the tree, or in the overlay
 * in COPY mode or when auto mode moves it there), -EAGAIN when main
 * should get the copy instead (the caller's COW path), or an allocation
 * error.
 */
static int area_copy_out(struct orbit_area *area, unsigned long idx,
			 struct page *page, unsigned long addr, int refs)
{
	struct pt_node *cur_leaf = pt_leaf(area->cur, idx), *leaf = cur_leaf;
	long slots = opage_holders(page);
	int mapped = addr ? 1 : 0;
	bool swapped = false;
	struct page *copy;
	int err;

	lockdep_assert_held(&area->lock);
	/*
	 * The leaf to put the copy in: cur's own, which it then shares
	 * with the snapshots; or, once cur's path was copied (the page
	 * sits in two leaves), the last snapshot's, if that is the other.
	 */
	if (slots != 1) {
		leaf = slots == 2 ? pt_leaf(area->last_snap, idx) : NULL;
		if (!leaf || leaf == cur_leaf)
			return -EAGAIN;
	}
	/*
	 * No call that snapshotted the area is still running or queued:
	 * the snapshots lose the page instead of getting a copy.
	 */
	copy = NULL;
	if (atomic_read_acquire(&area->live_snaps))
		copy = opage_copy(area->pool, page);
	if (IS_ERR(copy))
		return PTR_ERR(copy);
	err = area_mark_dirty(area, idx);	/* harmless if it goes to ovl */
	if (err)
		goto out;
	if (down_write_trylock(&area->swap_lock)) {
		if (opage_mapcount(page) > mapped)
			views_unmap_page(area, idx);
		swapped = opage_held_only_by(page, slots, mapped, refs) &&
			  (!addr || area_main_maps(area, addr, page)) &&
			  pt_replace(leaf, idx, page, copy);
		up_write(&area->swap_lock);
	}
	if (!swapped) {
		err = -EAGAIN;
		goto out;
	}
	/*
	 * The snapshots hold copy now; the leaf's reference on page is ours,
	 * for the overlay in COPY mode (where cur's leaf may hold the page
	 * too, until the next snapshot copies it), else for cur's tree.
	 */
	if (area->copy_mode || (area->auto_mode && area_wants_copy(area, idx))) {
		err = xa_err(xa_store(&area->ovl, idx, page,
				      GFP_KERNEL_ACCOUNT));
	} else if (slots == 2) {
		opage_put(area->pool, page);	/* cur's leaf holds it too */
		err = 0;
	} else {
		err = area_tree_store(area, idx, page);
	}
	if (err) {
		/* Main must not write the page its tree no longer holds. */
		unmap_mapping_pages(area->mapping, idx, 1, false);
		opage_put(area->pool, page);
		return err;
	}
	if (copy) {
		ostat_inc(OS_COW_FAULTS);
		atomic_long_inc(&area->cow_faults);
	}
	return 0;
out:
	opage_put(area->pool, copy);
	return err;
}

/*
 * A hole at idx now has a page.  A read fault that found the hole may
 * still be mapping a zero page there (it keeps it locked until its PTE is
 * set; it locked it under area->lock, which the caller holds): waited
 * out, and its PTE zapped, so that main does not go on reading zeros
 * where the area has a page.  A zero page's PTE set before needs nothing:
 * the fault that filled the hole found it (a write to it goes through
 * area_page_mkwrite, which fills the hole and zaps it).
 */
static void area_hole_filled(struct orbit_area *area, unsigned long idx)
{
	lockdep_assert_held(&area->lock);
	if (opage_zeros_wait_unlocked())
		unmap_mapping_pages(area->mapping, idx, 1, false);
}

/*
 * Main's page for idx: for a read of a hole, a zero page (none allocated;
 * one allocated if no zero page serves); for a write, a zeroed page of
 * the area.
 */
static struct page *area_page(struct orbit_area *area, unsigned long idx,
			      bool write, bool *in_ovl)
{
	struct page *page, *cur;
	bool shared;
	int err;

	lockdep_assert_held(&area->lock);
	page = xa_load(&area->ovl, idx);
	*in_ovl = page;
	if (page)
		return page;
	cur = pt_lookup(area->cur, idx, &shared);
	if (!cur && !write) {
		page = opage_zero();
		if (page)
			return page;
	}
	if (area->copy_mode) {
		/*
		 * COPY areas: main writes pages the tree does not hold; a
		 * page the tree has (the area was COW before) is main's to
		 * keep if no snapshot holds it, else main gets a copy.
		 */
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
		if (!cur)
			area_hole_filled(area, idx);
		else if (page != cur)
			area_forget_page(area, idx, cur);
		atomic_long_inc(&area->npresent);
		*in_ovl = true;
		return page;
	}
	page = cur;
	if (!page) {
		page = opage_alloc(area->pool, true);
		if (IS_ERR(page))
			return page;
		err = area_tree_store(area, idx, page);
		if (err) {
			opage_put(area->pool, page);
			return ERR_PTR(err);
		}
		area_hole_filled(area, idx);
		atomic_long_inc(&area->npresent);
	} else if (shared && (write || pset_test(area_hot(area), idx))) {
		/*
		 * A read of a page the last snapshot froze because main
		 * wrote it copies at once too: such a page is most likely
		 * written again, and copying now spares the write a second
		 * fault, a zap and a refault.  A read that cannot have the
		 * copy (max_user_bytes reached, no memory) maps the frozen
		 * page as any other read does: only a write needs a page.
		 */
		err = write ? area_copy_out(area, idx, page, 0, 0) : -EAGAIN;
		if (err == -EAGAIN)
			page = area_cow(area, idx, page, write);
		else if (err)
			page = ERR_PTR(err);
		if (IS_ERR(page) && !write)
			return cur;
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
	if (!IS_ERR(page)) {
		get_page(page);
		/*
		 * Locked until the fault has set main's PTE (or found one
		 * there): whoever makes the page no longer main's waits for
		 * that, then zaps it (area_forget_page), as does whoever
		 * fills the hole a zero page stood for (area_hole_filled).
		 */
		lock_page(page);
	}
	mutex_unlock(&area->lock);
	if (IS_ERR(page))
		return orbit_fault_error(PTR_ERR(page));
	orbit_fault_delay(write ? ORBIT_FAULT_AREA_WRITE :
				  ORBIT_FAULT_AREA_READ);
	/*
	 * A page with a memory error (memory_failure marks module pages but
	 * cannot unmap them) must not reach the core with VM_FAULT_LOCKED:
	 * it would unmap it through page->mapping, which module pages do
	 * not have (a NULL dereference in __do_fault).  A zero page is
	 * retried, area data is lost (opage_marked_error), as for a poisoned
	 * page of a file.  An error marked between here and the core's own
	 * check is not caught.
	 */
	if (unlikely(PageHWPoison(page))) {
		int err = opage_marked_error(page);

		unlock_page(page);
		put_page(page);
		return orbit_fault_error(err);
	}
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

/* A PTE with both rights (write, dirty) or neither. */
static inline pte_t area_pte_write(pte_t pte, bool write)
{
	return write ? orbit_pte_mkwrite(pte_mkdirty(pte)) :
		       pte_mkclean(pte_wrprotect(pte));
}

/*
 * Gives a present PTE of main's, under its page table's lock, both rights
 * or neither: writable and dirty (write fault-around) or read-only and
 * clean (the snapshot's freeze; see area_wp_one for why clean).  On x86
 * one cmpxchg, fully ordered, which also keeps an Accessed or Dirty bit
 * the hardware sets at the same time from being lost or left on a
 * read-only PTE (as x86's ptep_set_wrprotect guards it on 6.12);
 * elsewhere the generic read-modify-write of mprotect, with no barrier.
 */
static void area_pte_set_write(struct vm_area_struct *vma, unsigned long addr,
			       pte_t *ptep, pte_t pte, bool write)
{
#ifdef CONFIG_X86
	pte_t new;

	do {
		new = area_pte_write(pte, write);
	} while (!try_cmpxchg(&ptep->pte, &pte.pte, new.pte));
#else
	pte = ptep_modify_prot_start(vma, addr, ptep);
	ptep_modify_prot_commit(vma, addr, ptep, pte, area_pte_write(pte, write));
#endif
}

/*
 * Write fault-around.  Main's first write to a page the last snapshot
 * froze also takes the first write of the pages around it, in the same
 * aligned block of write_around pages and the same mapping, that main
 * wrote in the last interval too (the hot set): a program that rewrites
 * its area between calls then takes one fault per block instead of one
 * per page.  Each such page gets here what its own page_mkwrite would
 * give it (copy-out, the dirty mark), then its PTE becomes writable and
 * dirty, as a write fault's would.  All of it under area->lock, as the
 * fault's own bookkeeping: a snapshot, which takes that lock, sees every
 * page made writable here marked dirty, and write-protects it again.
 * Only when no call's snapshot is live (copy-out then copies nothing), so
 * a page main does not write after all costs no copy; a page a view maps
 * lets its 64-page block go from the views, as copy-out does for main's
 * own fault.
 */
struct area_wa {
	struct vm_area_struct *vma;
	unsigned long addr;		/* of the block's first page */
	unsigned long mask;		/* pages whose first write was taken */
	struct page *page[ORBIT_WRITE_AROUND_MAX];
};

/*
 * Makes one of main's PTEs that is present, read-only and maps the page
 * the block's bookkeeping was done for writable and dirty, under the page
 * table's lock (apply_to_existing_page_range's).  Raising a PTE's rights
 * needs no TLB flush: a stale read-only entry faults, and the fault finds
 * the PTE writable.
 */
static int area_wa_pte(pte_t *ptep, unsigned long addr, void *data)
{
	struct area_wa *wa = data;
	unsigned long i = (addr - wa->addr) >> PAGE_SHIFT;
	pte_t pte = ptep_get(ptep);

	if (!(wa->mask & BIT(i)) || !pte_present(pte) || pte_protnone(pte) ||
	    pte_write(pte) || pte_pfn(pte) != page_to_pfn(wa->page[i]))
		return 0;
	area_pte_set_write(wa->vma, addr, ptep, pte, true);
	return 0;
}

static void area_write_around(struct orbit_area *area, struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned int n = READ_ONCE(orbit_write_around);
	unsigned long block, first, last, idx, i;
	struct area_wa wa = { .vma = vma };
	struct page *page;
	bool shared;

	lockdep_assert_held(&area->lock);
	if (n < 2 || area->copy_mode || atomic_read(&area->live_snaps) ||
	    !pset_test(area_hot(area), vmf->pgoff))
		return;
	n = rounddown_pow_of_two(n);
	block = round_down(vmf->pgoff, n);
	first = max(block, vma->vm_pgoff);
	last = min3(block + n, vma->vm_pgoff + vma_pages(vma),
		    (unsigned long)area->npages);
	wa.addr = vma->vm_start + ((first - vma->vm_pgoff) << PAGE_SHIFT);
	for (idx = first; idx < last; idx++) {
		if (idx == vmf->pgoff || !pset_test(area_hot(area), idx) ||
		    pset_test(area_dirty(area), idx) ||
		    xa_load(&area->ovl, idx))
			continue;
		page = pt_lookup(area->cur, idx, &shared);
		/* A marked page's own fault answers SIGBUS (page_mkwrite). */
		if (!page || PageHWPoison(page))
			continue;
		i = idx - first;
		if (shared ? area_copy_out(area, idx, page,
					   wa.addr + (i << PAGE_SHIFT), 0) :
			     area_mark_dirty(area, idx))
			continue;
		wa.mask |= BIT(i);
		wa.page[i] = page;
	}
	if (wa.mask)
		apply_to_existing_page_range(vma->vm_mm, wa.addr,
					     (last - first) << PAGE_SHIFT,
					     area_wa_pte, &wa);
}

static vm_fault_t area_page_mkwrite(struct vm_fault *vmf)
{
	struct orbit_area *area = vmf->vma->vm_private_data;
	unsigned long idx = vmf->pgoff;
	struct page *page, *copy;
	bool shared = false;
	int err;

	if (vmf->vma->vm_mm != area->mm)
		return VM_FAULT_SIGBUS;
	mutex_lock(&area->lock);
	page = xa_load(&area->ovl, idx);
	if (!page)
		page = pt_lookup(area->cur, idx, &shared);
	if (!page) {
		/*
		 * A write to a hole's zero page: the hole gets its page
		 * here, for the retry to map.  Zapping alone could go on
		 * for ever: a read-modify-write (an emulated one, or a
		 * load-exclusive/store-exclusive loop) may refault as a
		 * read, which would map the zero page again.
		 */
		bool in_ovl;

		page = area_page(area, idx, true, &in_ovl);
		if (IS_ERR(page)) {
			mutex_unlock(&area->lock);
			return orbit_fault_error(PTR_ERR(page));
		}
		unmap_mapping_pages(area->mapping, idx, 1, false);
		mutex_unlock(&area->lock);
		return VM_FAULT_NOPAGE;
	}
	/*
	 * Main's page has a memory error: its contents are lost, and main
	 * must not go on with them as if written (see area_fault).  A stale
	 * PTE's page is not main's: the zap below and the retry handle it.
	 */
	if (unlikely(page == vmf->page && PageHWPoison(page))) {
		mutex_unlock(&area->lock);
		return VM_FAULT_HWPOISON;
	}
	if (page == vmf->page && shared) {
		err = pte_present(vmf->orig_pte) ?
		      area_copy_out(area, idx, page, vmf->address & PAGE_MASK,
				    1) : -EAGAIN;
		if (!err)
			goto locked;
		if (err != -EAGAIN) {
			mutex_unlock(&area->lock);
			return orbit_fault_error(err);
		}
	}
	if (page != vmf->page || shared) {
		/*
		 * Stale PTE or frozen page: the retry faults in main's page
		 * (a COPY area's fault puts it in the overlay).
		 */
		if (page == vmf->page && !area->copy_mode) {
			copy = area_cow(area, idx, page, true);
			if (IS_ERR(copy)) {
				mutex_unlock(&area->lock);
				return orbit_fault_error(PTR_ERR(copy));
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
locked:
	area_write_around(area, vmf);
	/* A freeze waits for this lock (area_snapshot_freeze). */
	lock_page(page);
	mutex_unlock(&area->lock);
	orbit_fault_delay(ORBIT_FAULT_AREA_WRITE);
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
 * lacks them, so orbits see zeros there too.  Main's PTEs are zapped
 * once the pages are gone and their faults in flight waited out, so that
 * none maps a dropped page after.
 */
void area_discard(struct orbit_area *area, unsigned long first,
		  unsigned long n)
{
	unsigned long idx;
	struct page *page, *old;
	bool present;

	mutex_lock(&area->lock);
	for (idx = first; idx < first + n; idx++) {
		present = false;
		page = xa_erase(&area->ovl, idx);
		if (page) {
			opage_wait_unlocked(page);
			opage_put(area->pool, page);
			present = true;
		}
		page = pt_lookup(area->cur, idx, NULL);
		if (page)
			opage_wait_unlocked(page);
		if (page && !pt_set(area->pool, &area->cur, area->levels, idx,
				    NULL, &old)) {
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
	unmap_mapping_pages(area->mapping, first, n, false);
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
	pt_put(area->last_snap);
	area->last_snap = NULL;
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
	area->pool = pt_pool_create(acct, size >> PAGE_SHIFT);
	if (!area->pool) {
		kfree(area);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&area->ref);
	mutex_init(&area->lock);
	init_rwsem(&area->swap_lock);
	mutex_init(&area->views_lock);
	INIT_LIST_HEAD(&area->views);
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
 * pages (it is marked dirty here), as does a page with a memory error,
 * marked or read by the copy (mc.c): main and the snapshot share its
 * loss, and main's next fault there copies it, which fails (SIGBUS, see
 * opage_copy).
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

		if ((area->copy_mode || held || budget) &&
		    !PageHWPoison(page)) {
			err = area_tree_copy(area, idx, page);
			if (!err) {
				cost->copied++;
				if (!area->copy_mode && !held)
					budget--;
				continue;
			}
			/* An error the copy read: as for a marked page. */
			if (err != -EHWPOISON)
				return err;
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
 * A freeze's page lookups: the dirty set is walked in index order, so
 * the leaf of the last lookup is kept and the tree is walked once per
 * 512 pages; the overlay is looked at only if it holds anything.  Valid
 * while cur does not change (area_freeze_forget after a change).
 */
struct area_walk {
	struct orbit_area *area;
	struct pt_node *leaf;
	unsigned long region;	/* of leaf; ULONG_MAX: none yet */
	bool ovl;		/* the overlay is not empty */
};

static void area_freeze_forget(struct area_walk *w)
{
	w->region = ULONG_MAX;
	w->ovl = !xa_empty(&w->area->ovl);
}

/* The tree's page at idx, NULL if none or if main keeps it in ovl. */
static struct page *area_freeze_page(struct area_walk *w, unsigned long idx)
{
	lockdep_assert_held(&w->area->lock);
	if (w->ovl && xa_load(&w->area->ovl, idx))
		return NULL;
	if (idx >> PT_SHIFT != w->region) {
		w->region = idx >> PT_SHIFT;
		w->leaf = pt_leaf(w->area->cur, idx);
	}
	return w->leaf ? w->leaf->slot[idx & (PT_FANOUT - 1)] : NULL;
}

/* Held pages the walk can list for the freeze to give main copies of. */
#define WP_HELD_MAX	8

/*
 * The write-protect walk of main's PTEs over the runs of dirty pages, and
 * the reference check of each page it passes (see area_snapshot_freeze).
 */
struct area_wp {
	struct vm_area_struct *vma;	/* main's mapping; NULL: zap instead */
	struct area_walk *w;		/* the tree's pages, to compare */
	unsigned long changed;		/* PTEs write-protected */
	unsigned long flush_idx;	/* a page of the first changed run */
	unsigned long checked;		/* pages reference-checked */
	unsigned long tab_n;		/* PTEs for area_wp_table to walk */
	bool tab_done;			/* area_wp_table was called */
	bool all_checked;		/* every frozen page was, and listed */
	unsigned int nheld;		/* found held (> WP_HELD_MAX: more) */
	unsigned long held[WP_HELD_MAX];
};

/*
 * Write-protects one of main's PTEs, and cleans it: mprotect makes a
 * dirty PTE of a write-notify mapping writable again without
 * page_mkwrite (can_change_pte_writable).  Then checks the page for
 * other holders, ordered after the PTE change as page_try_share_anon_rmap
 * orders its own (a GUP-fast that took a reference before the change is
 * seen; one after it finds no writable PTE and faults, which waits for
 * area->lock).  A locked page (see area_snapshot_freeze) is left alone,
 * and neither it nor a PTE that does not map the tree's page counts as
 * checked.
 */
static void area_wp_one(struct area_wp *wp, pte_t *ptep, unsigned long addr,
			unsigned long idx)
{
	pte_t pte = ptep_get(ptep);
	struct page *page;

	if (!pte_present(pte))
		return;
	page = area_freeze_page(wp->w, idx);
	if (page && pte_pfn(pte) != page_to_pfn(page))
		page = NULL;
	if (page && PageLocked(page))
		return;
	if (pte_write(pte) || pte_dirty(pte)) {
		area_pte_set_write(wp->vma, addr, ptep, pte, false);
		wp->changed++;
		if (!IS_ENABLED(CONFIG_X86))
			smp_mb();	/* the PTE change, then the check */
	} else if (page) {
		smp_mb();	/* no change of ours to order: a pin's */
	}
	if (!page)
		return;
	wp->checked++;
	if (opage_referenced(page) && wp->nheld++ < WP_HELD_MAX)
		wp->held[wp->nheld - 1] = idx;
}

/*
 * Walks wp->tab_n PTEs from ptep, all in the page table that maps addr,
 * under its lock (held by apply_to_existing_page_range, which called
 * this for addr alone): a loop here costs much less per PTE than a
 * callback per PTE.
 */
static int area_wp_table(pte_t *ptep, unsigned long addr, void *data)
{
	struct area_wp *wp = data;
	unsigned long idx = (addr - wp->w->area->addr) >> PAGE_SHIFT;
	unsigned long i;

	wp->tab_done = true;
	for (i = 0; i < wp->tab_n; i++)
		area_wp_one(wp, ptep + i, addr + (i << PAGE_SHIFT), idx + i);
	return 0;
}

/* One PTE for a walk whose first PTE was none (see area_freeze_walk). */
static int area_wp_pte(pte_t *ptep, unsigned long addr, void *data)
{
	struct area_wp *wp = data;

	area_wp_one(wp, ptep, addr, (addr - wp->w->area->addr) >> PAGE_SHIFT);
	return 0;
}

/* Waits out a write fault in flight on idx's page, then zaps its PTE. */
static void area_freeze_zap(struct orbit_area *area, struct zap_run *zap,
			    unsigned long idx)
{
	opage_wait_unlocked(pt_lookup(area->cur, idx, NULL));
	zap_add(zap, idx);
}

/*
 * Write-protects main's PTEs over [start, start + n), one page table at a
 * time under its lock (apply_to_existing_page_range skips a PTE that is
 * none, so a table whose first PTE is none is walked PTE by PTE); true if
 * the walk was done, false if there is no walk to do (see area_wp_mm) or
 * it failed (on 6.12, a page table that went away).
 */
static bool area_freeze_walk(struct orbit_area *area, struct area_wp *wp,
			     unsigned long start, unsigned long n)
{
	unsigned long changed = wp->changed;
	unsigned long addr = area->addr + (start << PAGE_SHIFT);
	unsigned long end = addr + (n << PAGE_SHIFT), next;
	struct mm_struct *mm;

	if (!wp->vma)
		return false;
	mm = wp->vma->vm_mm;
	for (; addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		wp->tab_n = (next - addr) >> PAGE_SHIFT;
		wp->tab_done = false;
		if (apply_to_existing_page_range(mm, addr, PAGE_SIZE,
						 area_wp_table, wp))
			return false;
		if (!wp->tab_done && wp->tab_n > 1 &&
		    apply_to_existing_page_range(mm, addr + PAGE_SIZE,
						 next - addr - PAGE_SIZE,
						 area_wp_pte, wp))
			return false;
	}
	if (!changed && wp->changed)
		wp->flush_idx = start;
	return true;
}

/* Freezes a run of pages the tree holds: walks it, or zaps it. */
static void area_freeze_run(struct orbit_area *area, struct area_wp *wp,
			    struct zap_run *zap, unsigned long start,
			    unsigned long n)
{
	unsigned long idx;

	if (!n || area_freeze_walk(area, wp, start, n))
		return;
	for (idx = start; idx < start + n; idx++)
		area_freeze_zap(area, zap, idx);
}

/*
 * Freezes the dirty pages [first, first + count) one by one: those the
 * tree holds, in runs; a locked page, which is in a fault between
 * area_fault or page_mkwrite (which locked it before dropping area->lock)
 * and its PTE being set or made writable (whether the PTE is there yet or
 * not), is waited for and zapped.  The pages frozen.
 */
static unsigned long area_freeze_pages(struct orbit_area *area,
				       struct area_wp *wp,
				       struct zap_run *zap,
				       unsigned long first,
				       unsigned long count)
{
	unsigned long idx, start = 0, n = 0, frozen = 0;
	struct page *page;

	for (idx = first; idx < first + count; idx++) {
		page = area_freeze_page(wp->w, idx);
		if (!page)
			continue;
		frozen++;
		if (PageLocked(page)) {
			area_freeze_zap(area, zap, idx);
			continue;
		}
		if (n && idx == start + n) {
			n++;
			continue;
		}
		area_freeze_run(area, wp, zap, start, n);
		start = idx;
		n = 1;
	}
	area_freeze_run(area, wp, zap, start, n);
	return frozen;
}

/* Main keeps a held page it wrote (the tree's at idx); the tree gets a copy. */
static int area_freeze_keep(struct orbit_area *area, struct area_walk *w,
			    unsigned long idx, struct page *page,
			    struct snap_cost *cost)
{
	int err;

	/* Lost to a memory error: frozen as it is, not read to copy. */
	if (PageHWPoison(page))
		return 0;
	err = area_keep_for_main(area, idx, page);
	area_freeze_forget(w);	/* cur and ovl changed */
	if (err)
		return err;
	cost->frozen--;
	cost->copied++;
	return 0;
}

/* The held pages the write-protect walk listed, having checked them all. */
static int area_freeze_keep_held(struct orbit_area *area, struct area_wp *wp,
				 struct snap_cost *cost)
{
	struct area_walk w = { .area = area };
	struct page *page;
	unsigned int i;
	int err;

	area_freeze_forget(&w);
	for (i = 0; i < wp->nheld; i++) {
		page = area_freeze_page(&w, wp->held[i]);
		if (!page)
			continue;
		err = area_freeze_keep(area, &w, wp->held[i], page, cost);
		if (err)
			return err;
	}
	return 0;
}

/* The second pass: every dirty page, once all PTE changes are done. */
static int area_freeze_check_all(struct orbit_area *area,
				 struct snap_cost *cost)
{
	struct area_walk w = { .area = area };
	struct page *page;
	unsigned long idx;
	int err;

	smp_mb();	/* the PTE changes, then the reference checks */
	area_freeze_forget(&w);
	pset_for_each(area_dirty(area), idx) {
		page = area_freeze_page(&w, idx);
		if (!page || !opage_referenced(page))
			continue;
		err = area_freeze_keep(area, &w, idx, page, cost);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Freezes the pages written since the last snapshot, so that main's next
 * write to one faults (area_page_mkwrite: copy-out, or a COW copy).
 * Main's PTEs are write-protected in place when vma is given (see
 * area_wp_mm), else zapped.  The TLB is flushed once for the whole mm:
 * flush_tlb_mm_range is not exported, but a zap that finds another PTE
 * change pending in the mm (inc_tlb_flush_pending, as mprotect marks its
 * own) flushes the whole mm in tlb_finish_mmu, so one zap of one page
 * changed here flushes every write-protection before it.
 *
 * Only once its PTE is read-only or gone is each page checked for other
 * holders: the write-protect walk checks the pages it passes, and a
 * second pass over the dirty set, after the zaps, checks every page when
 * the walk did not pass them all (a zap, no walk, a PTE not there, more
 * held pages than it lists).  A held page is not frozen: main keeps it
 * and the tree gets a copy.
 */
static int area_snapshot_freeze(struct orbit_area *area,
				struct vm_area_struct *vma,
				struct snap_cost *cost)
{
	struct zap_run zap = { .mapping = area->mapping };
	struct area_walk w = { .area = area };
	struct area_wp wp = { .vma = vma, .w = &w, .all_checked = true };
	unsigned long idx, start, n, checked, frozen = 0;
	bool refault = false;
	int err;

	lockdep_assert_held(&area->lock);
	if (READ_ONCE(orbit_debug_full_snapshot) && area->cur) {
		struct freeze_all fa = { area, 0 };

		pt_diff(NULL, area->cur, area->levels, freeze_one, &fa);
		if (fa.err)
			return fa.err;
	}
	if (vma) {
		mmap_assert_locked(vma->vm_mm);
		inc_tlb_flush_pending(vma->vm_mm);
	}
	area_freeze_forget(&w);
	pset_for_each_run(area_dirty(area), start, n) {
		/*
		 * A run is walked whole first: if the walk checked each of
		 * its pages as the tree's, unlocked, all are frozen.
		 */
		checked = wp.checked;
		if (!w.ovl && area_freeze_walk(area, &wp, start, n) &&
		    wp.checked - checked == n) {
			frozen += n;
			continue;
		}
		wp.all_checked = false;
		frozen += area_freeze_pages(area, &wp, &zap, start, n);
	}
	if (wp.changed) {
		/*
		 * The flushing zap: of the area's last page if it has none
		 * (never written: main maps at most a zero page there, which
		 * costs a read fault to map again), else of a page just
		 * changed, which main then refaults (not as a hot page: see
		 * below).
		 */
		idx = area->npages - 1;
		refault = pt_lookup(area->cur, idx, NULL) ||
			  xa_load(&area->ovl, idx);
		zap_add(&zap, refault ? wp.flush_idx : idx);
	}
	zap_flush(&zap);
	if (vma)
		dec_tlb_flush_pending(vma->vm_mm);
	cost->frozen += frozen;
	if (wp.all_checked && wp.nheld <= WP_HELD_MAX)
		err = area_freeze_keep_held(area, &wp, cost);
	else
		err = area_freeze_check_all(area, cost);
	if (err)
		return err;
	/* This interval's dirty pages are the next one's hot pages. */
	pset_clear(area_hot(area));
	area->dirty_cur ^= 1;
	if (refault)
		pset_del(area_hot(area), wp.flush_idx);
	return 0;
}

/* Pages written since the last snapshot, read without area->lock. */
unsigned long area_dirty_hint(struct orbit_area *area)
{
	return READ_ONCE(area_dirty(area)->count);
}

/*
 * Below this many dirty pages a snapshot zaps main's PTEs: flushing a
 * few pages from the TLB costs less than the whole mm's flush that
 * write-protecting ends with, for main's other threads most of all.
 */
#define WP_MIN_PAGES	32

/*
 * Main's mm with its mmap_lock held for reading, when the freeze should
 * write-protect main's PTEs (*vmap: main's mapping): enough dirty pages
 * (a hint: read without area->lock, taken later), main maps the whole
 * area, so its page tables stay while the lock is held (munmap detaches a
 * VMA before it frees its page tables, even where 6.1 frees them under
 * the read lock), and no secondary MMU mirrors the mm (MMU notifiers
 * would need invalidating, which only zapping does).  NULL: the freeze
 * zaps.  ERR_PTR(-EINTR): killed while waiting for the lock.
 */
static struct mm_struct *area_wp_mm(struct orbit_area *area,
				    struct vm_area_struct **vmap)
{
	struct mm_struct *mm = area->mm;
	struct vm_area_struct *vma;

	*vmap = NULL;
	if (area_dirty_hint(area) < WP_MIN_PAGES ||
	    !mmget_not_zero(mm))
		return NULL;
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return ERR_PTR(-EINTR);
	}
	vma = find_vma(mm, area->addr);
	if (mm_has_notifiers(mm) || !vma || !area_mapped_at(area, vma) ||
	    vma->vm_start != area->addr ||
	    vma->vm_end != area->addr + area->size) {
		mmap_read_unlock(mm);
		mmput(mm);
		return NULL;
	}
	*vmap = vma;
	return mm;
}

/*
 * Takes a snapshot: returns a reference on the tree root that holds the
 * area exactly as it is now (NULL for an area never touched), and adds
 * what it cost to *cost.  The snapshot counts as live (copy-out keeps
 * its pages) until the caller's area_snapshot_end.
 */
int area_snapshot(struct orbit_area *area, struct pt_node **root,
		  struct snap_cost *cost)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm = area_wp_mm(area, &vma);
	struct pt_node *old = NULL;
	int err;

	if (IS_ERR(mm))
		return PTR_ERR(mm);
	mutex_lock(&area->lock);
	err = area_snapshot_copy_pages(area, cost);
	if (!err)
		err = area_snapshot_freeze(area, vma, cost);
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
		atomic_inc(&area->live_snaps);
		ostat_inc(OS_SNAPSHOTS);
		old = area->last_snap;
		area->last_snap = pt_get(*root);
	}
	mutex_unlock(&area->lock);
	pt_put_async(old);	/* a big tree is freed beside main */
	if (mm) {
		mmap_read_unlock(mm);
		mmput(mm);
	}
	return err;
}

/*
 * The call a snapshot was taken for has ended: its task read the
 * snapshot, if at all, before this (release), and copy-out reads the
 * count with acquire before main's write goes ahead in place.
 */
void area_snapshot_end(struct orbit_area *area)
{
	smp_mb__before_atomic();	/* the task's reads, then the count */
	atomic_dec(&area->live_snaps);
}
