// SPDX-License-Identifier: GPL-2.0
/*
 * Views: an orbit's mapping of an area, at the area's address.
 *
 * A view serves the snapshot installed in it (its root); a write by the
 * orbit makes an orbit-private copy, discarded at the next install.
 * Installing the next call's snapshot replaces only the pages whose tree
 * entry differs, plus the private copies, and maps the new ones at once
 * (VM_MIXEDMAP, vm_insert_pages) in the 64-page blocks the task has
 * faulted in before; the previous snapshot goes to a worker to free when
 * it differs in many pages.  A read fault maps the 64-page block around
 * it, a page the snapshot does not have as the module's zero page.
 *
 * Mirrors: a changed page in a block the task uses gets, up to
 * VIEW_MIRRORS per view, a view-owned copy (a priv entry marked
 * VIEW_MIRROR) that stays mapped; the next install that changes the page
 * copies the new contents into it instead of zapping and mapping again,
 * which for the few pages a small call changes costs a fraction of the
 * zap's TLB flush and rmap work.  A mirror always holds the installed
 * snapshot's page; the orbit's first write to one makes it an ordinary
 * private copy (VIEW_WRITTEN, discarded at the next install).  A thread
 * of the orbit that reads the area during an install may see a mirror
 * half-copied, as it may see zeros there between calls (README).
 *
 * Views run in the orbit's process: created, installed and unmapped by
 * its task loop (orbits.c, orbit_install), faulted by its task.
 */
#include <linux/file.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "orbit_internal.h"

#define VIEW_WRITTEN		XA_MARK_1
#define VIEW_AROUND		64UL	/* pages mapped per view read fault */
#define VIEW_FREE_ASYNC		64	/* changed pages worth a free worker */
#define VIEW_MIRROR		XA_MARK_2
#define VIEW_MIRRORS		32	/* mirror pages per view, at most */

/* Fault-around blocks of an area: the bits of view->used and unmapped. */
static unsigned long view_nblocks(const struct orbit_area *area)
{
	return DIV_ROUND_UP(area->npages, VIEW_AROUND);
}

/* The view's page for idx: the orbit's copy, else the snapshot's. */
static struct page *view_page(struct orbit_view *view, unsigned long idx)
{
	struct page *page = xa_load(&view->priv, idx);

	lockdep_assert_held(&view->lock);
	lockdep_assert_held_read(&view->area->swap_lock);
	return page ? page : pt_lookup(view->root, idx, NULL);
}

/* The orbit writes page idx, which it holds privately: a mirror no more. */
static void view_mark_written(struct orbit_view *view, unsigned long idx)
{
	lockdep_assert_held(&view->lock);
	if (xa_get_mark(&view->priv, idx, VIEW_MIRROR)) {
		xa_clear_mark(&view->priv, idx, VIEW_MIRROR);
		view->nmirrors--;
	}
	xa_set_mark(&view->priv, idx, VIEW_WRITTEN);
}

/*
 * The view's own page for idx, if any, and whether it is a mirror, in one
 * walk: installs look at every changed page, most of which have none.
 */
static struct page *view_priv_peek(struct orbit_view *view, unsigned long idx,
				   bool *mirror)
{
	XA_STATE(xas, &view->priv, idx);
	struct page *page;

	lockdep_assert_held(&view->lock);
	rcu_read_lock();
	page = xas_load(&xas);
	*mirror = page && xas_get_mark(&xas, VIEW_MIRROR);
	rcu_read_unlock();
	return page;
}

/*
 * Drops the view's own page for idx (a private copy or a mirror), if any.
 * A write fault that view_page_mkwrite let through holds the page locked
 * until its PTE is set; the drop waits for that, so that the install's
 * zap, which follows, takes that PTE too.
 */
static void view_priv_drop(struct orbit_view *view, unsigned long idx)
{
	struct page *page;

	lockdep_assert_held(&view->lock);
	if (xa_get_mark(&view->priv, idx, VIEW_MIRROR))
		view->nmirrors--;
	page = xa_erase(&view->priv, idx);
	if (page)
		opage_wait_unlocked(page);
	opage_put(view->area->pool, page);
}

/*
 * Maps the pages of [first, end) read-only, in runs (one page table lock
 * per run), a hole as the module's zero page (opage_zero); a write to any
 * of them still goes through view_page_mkwrite.  A slot already mapped
 * stops a run (-EBUSY) and is skipped, as is a slot that failed to map.
 * Returns 0 when idx is mapped (by this or before), else the error that
 * stopped its mapping; with idx ULONG_MAX, 0.
 */
static int view_map_range(struct orbit_view *view, struct vm_area_struct *vma,
			  unsigned long first, unsigned long end,
			  unsigned long idx)
{
	struct page *run[VIEW_AROUND];
	unsigned long i = first, n;
	int err, ret = 0;

	lockdep_assert_held(&view->lock);
	while (i < end) {
		unsigned long start = i, left;

		for (n = 0; i < end && n < VIEW_AROUND; i++, n++) {
			run[n] = view_page(view, i) ?: opage_zero();
			if (!run[n] || PageHWPoison(run[n]))
				break;
		}
		if (!n) {
			/*
			 * No zero page to map (see opage_zero), or a page
			 * with a memory error (see opage_marked_error): not
			 * mapped.
			 */
			if (i == idx)
				ret = run[0] ? opage_marked_error(run[0]) :
					       -ENOSPC;
			i++;
			continue;
		}
		left = n;
		err = vm_insert_pages(vma, vma->vm_start + (start << PAGE_SHIFT),
				      run, &left);
		if (!err)
			continue;
		i = start + n - left;	/* the slot that stopped the run */
		if (i == idx && err != -EBUSY)
			ret = err;
		i++;
	}
	return ret;
}

/*
 * Read fault-around, as filemap does for page cache files: maps the
 * VIEW_AROUND-aligned block around idx, so a task scanning a snapshot
 * takes one fault per block.  view->lock orders it against view_install:
 * a read fault maps its pages itself, under that lock, so none can map a
 * page an install has replaced since the fault looked it up.  Returns 0
 * when idx itself is mapped, else why not.
 */
static int view_map_around(struct orbit_view *view,
			   struct vm_area_struct *vma, unsigned long idx)
{
	unsigned long first = round_down(idx, VIEW_AROUND);

	return view_map_range(view, vma, first,
			      min(first + VIEW_AROUND, view->area->npages), idx);
}

/* An orbit-private page for idx: a copy of snap, or a zero page. */
static struct page *view_private(struct orbit_view *view, unsigned long idx,
				 struct page *snap)
{
	struct pt_pool *pool = view->area->pool;
	struct page *copy;
	int err;

	lockdep_assert_held(&view->lock);
	copy = snap ? opage_copy(pool, snap) : opage_alloc(pool, true);
	if (IS_ERR(copy))
		return copy;
	err = xa_err(xa_store(&view->priv, idx, copy, GFP_KERNEL_ACCOUNT));
	if (err) {
		opage_put(pool, copy);
		return ERR_PTR(err);
	}
	return copy;
}

static vm_fault_t view_fault(struct vm_fault *vmf)
{
	struct orbit_view *view = vmf->vma->vm_private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	unsigned long idx = vmf->pgoff;
	struct page *page;
	int err;

	if (idx >= view->area->npages || vmf->vma->vm_mm != view->mm)
		return VM_FAULT_SIGBUS;
	mutex_lock(&view->lock);
	set_bit(idx / VIEW_AROUND, view->used);
	down_read(&view->area->swap_lock);
	if (!write) {
		err = view_map_around(view, vmf->vma, idx);
		page = err ? ERR_PTR(err) : NULL;
		goto out;
	}
	/*
	 * A write maps the orbit's own copy, which view_page_mkwrite finds
	 * still the view's (an install may drop it first) and keeps locked
	 * until the PTE is set: view_install waits for that.
	 */
	page = xa_load(&view->priv, idx) ?:
	       view_private(view, idx, pt_lookup(view->root, idx, NULL));
	if (IS_ERR(page))
		goto out;
	view_mark_written(view, idx);
	get_page(page);
out:
	up_read(&view->area->swap_lock);
	mutex_unlock(&view->lock);
	if (IS_ERR(page))
		return orbit_fault_error(PTR_ERR(page));
	if (!page)
		return VM_FAULT_NOPAGE;
	orbit_fault_delay(ORBIT_FAULT_VIEW_WRITE);
	vmf->page = page;
	return 0;
}

static vm_fault_t view_page_mkwrite(struct vm_fault *vmf)
{
	struct orbit_view *view = vmf->vma->vm_private_data;
	unsigned long idx = vmf->pgoff;
	struct page *page, *copy;

	if (vmf->vma->vm_mm != view->mm)
		return VM_FAULT_SIGBUS;
	mutex_lock(&view->lock);
	page = xa_load(&view->priv, idx);
	if (page == vmf->page && unlikely(PageHWPoison(page))) {
		/* The orbit's own copy, lost to a memory error. */
		mutex_unlock(&view->lock);
		return VM_FAULT_HWPOISON;
	}
	if (page == vmf->page) {
		view_mark_written(view, idx);
		lock_page(page);
		mutex_unlock(&view->lock);
		orbit_fault_delay(ORBIT_FAULT_VIEW_WRITE);
		return VM_FAULT_LOCKED;
	}
	if (!page && pt_lookup(view->root, idx, NULL) == vmf->page) {
		/* First write to a snapshot page: a private copy. */
		copy = view_private(view, idx, vmf->page);
		if (IS_ERR(copy)) {
			mutex_unlock(&view->lock);
			return orbit_fault_error(PTR_ERR(copy));
		}
		xa_set_mark(&view->priv, idx, VIEW_WRITTEN);
	}
	unmap_mapping_pages(view->mapping, idx, 1, false);
	mutex_unlock(&view->lock);
	return VM_FAULT_NOPAGE;
}

/*
 * A copy of the view in a fork child (the task's MADV_DOFORK cleared
 * VM_DONTCOPY) is no view, and its faults fail.  Fork would also copy
 * the PTEs of a VM_MIXEDMAP mapping, each with a reference on its page
 * (forks of a view mapping holes would pile them on a zero page past
 * opage_zero's bound), unless the copy is to be wiped: dup_mmap calls
 * open before it decides.
 */
static void view_vma_open(struct vm_area_struct *vma)
{
	struct orbit_view *view = vma->vm_private_data;

	if (vma->vm_mm != view->mm)
		orbit_vma_set_flags(vma, VM_WIPEONFORK);
}

static const struct vm_operations_struct view_vm_ops = {
	.open		= view_vma_open,
	.fault		= view_fault,
	.page_mkwrite	= view_page_mkwrite,
	.map_pages	= orbit_map_pages_none,
	.may_split	= orbit_vma_may_split,
	.mremap		= orbit_vma_mremap,
};

static int view_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct orbit_view *view = file->private_data;
	int err = orbit_mmap_setup(vma, view->mm, view->area->addr,
				   view->area->size, &view_vm_ops, view);

	/*
	 * Fault-around's vm_insert_pages needs it set already: setting it
	 * there would need mmap_lock held for writing.
	 */
	if (!err)
		orbit_vma_set_flags(vma, VM_MIXEDMAP);
	return err;
}

/*
 * A bit per block of the area: 32 KiB for a 64 GiB area, but up to 64 MiB
 * for one as large as the address space, which only vmalloc can serve.
 */
static unsigned long *view_bitmap_alloc(const struct orbit_area *area)
{
	return kvcalloc(BITS_TO_LONGS(view_nblocks(area)),
			sizeof(unsigned long),
			GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
}

static void view_release(struct kref *ref)
{
	struct orbit_view *view = container_of(ref, struct orbit_view, ref);
	unsigned long idx;
	struct page *page;

	mutex_lock(&view->area->views_lock);
	list_del(&view->area_node);	/* a no-op if never added */
	mutex_unlock(&view->area->views_lock);
	xa_for_each(&view->priv, idx, page)
		opage_put(view->area->pool, page);
	xa_destroy(&view->priv);
	kvfree(view->used);
	kvfree(view->unmapped);
	pt_put(view->root);
	if (view->inode)
		iput(view->inode);
	area_put(view->area);
	mmdrop(view->mm);
	kfree(view);
	ostat_dec(OS_VIEWS);
}

void view_put(struct orbit_view *view)
{
	if (view)
		kref_put(&view->ref, view_release);
}

static int view_file_release(struct inode *inode, struct file *file)
{
	view_put(file->private_data);
	return 0;
}

static const struct file_operations view_fops = {
	.owner		= THIS_MODULE,
	.mmap		= view_file_mmap,
	.release	= view_file_release,
	.llseek		= noop_llseek,
};

/*
 * Creates the calling orbit's view of an area and maps it at the area's
 * address.  Returns the view with one reference for the caller; the
 * mapping holds another.
 */
struct orbit_view *view_create(struct orbit_area *area)
{
	struct orbit_view *view;
	struct file *file;
	int err;

	view = kzalloc(sizeof(*view), GFP_KERNEL_ACCOUNT);
	if (!view)
		return ERR_PTR(-ENOMEM);
	kref_init(&view->ref);
	mutex_init(&view->lock);
	xa_init(&view->priv);
	INIT_LIST_HEAD(&view->node);
	INIT_LIST_HEAD(&view->area_node);
	view->area = area_get(area);
	view->mm = current->mm;
	mmgrab(view->mm);
	ostat_inc(OS_VIEWS);
	view->used = view_bitmap_alloc(area);
	view->unmapped = view_bitmap_alloc(area);
	if (!view->used || !view->unmapped) {
		view_put(view);
		return ERR_PTR(-ENOMEM);
	}

	kref_get(&view->ref);	/* the file's */
	file = orbit_file_new("[orbit-view]", &view_fops, view);
	if (IS_ERR(file)) {
		view_put(view);
		view_put(view);
		return ERR_CAST(file);
	}
	view->inode = file_inode(file);
	ihold(view->inode);
	view->mapping = file->f_mapping;
	mutex_lock(&area->views_lock);
	list_add(&view->area_node, &area->views);
	mutex_unlock(&area->views_lock);
	err = orbit_map_file(file, area->addr, area->size,
			     PROT_READ | PROT_WRITE);
	fput(file);
	if (err) {
		view_put(view);
		return ERR_PTR(err);
	}
	return view;
}

/*
 * Unmaps page idx from every view of area, for copy-out to give the page
 * back to main alone: a view that needs it again faults in the
 * snapshot's copy.  The whole fault-around block goes: main writing one
 * page it shares with a view likely writes its neighbours next, and one
 * zap per block costs less than one per page.  The next install maps the
 * block again.
 */
void views_unmap_page(struct orbit_area *area, unsigned long idx)
{
	unsigned long first = round_down(idx, VIEW_AROUND);
	struct orbit_view *view;

	lockdep_assert_held_write(&area->swap_lock);
	mutex_lock(&area->views_lock);
	list_for_each_entry(view, &area->views, area_node) {
		set_bit(idx / VIEW_AROUND, view->unmapped);
		unmap_mapping_pages(view->mapping, first, VIEW_AROUND, false);
	}
	mutex_unlock(&area->views_lock);
}

/*
 * Unmaps a view from the calling orbit and reserves its range again, so
 * that a later area can take the address.  Called by the orbit itself for
 * views of destroyed areas.
 */
void view_unmap(struct orbit_view *view)
{
	unsigned long addr = view->area->addr, len = view->area->size;
	struct vm_area_struct *vma;
	bool ours;

	if (current->mm != view->mm || mmap_read_lock_killable(view->mm))
		return;
	vma = find_vma(view->mm, addr);
	ours = vma && vma->vm_start == addr && vma->vm_ops == &view_vm_ops &&
	       vma->vm_private_data == view;
	mmap_read_unlock(view->mm);
	if (!ours || vm_munmap(addr, len))
		return;
	/* A failure leaves a hole, which the next area may map over too. */
	if (IS_ERR_VALUE(vm_mmap(NULL, addr, len, PROT_NONE, MAP_PRIVATE |
				 MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, 0)))
		pr_debug("orbit: could not re-reserve %lx\n", addr);
}

/*
 * An install's run of changed pages, at most VIEW_AROUND long: zapped,
 * then mapped from the new snapshot when the view's mapping is found.
 */
struct view_install {
	struct orbit_view *view;
	struct vm_area_struct *vma;	/* NULL: zap only */
	unsigned long start, nr;
	unsigned long changed;	/* entries that differ from the old root */
};

static void view_install_flush(struct view_install *vi)
{
	struct orbit_view *view = vi->view;

	if (!vi->nr)
		return;
	unmap_mapping_pages(view->mapping, vi->start, vi->nr, false);
	if (vi->vma) {
		down_read(&view->area->swap_lock);
		view_map_range(view, vi->vma, vi->start, vi->start + vi->nr,
			       ULONG_MAX);
		up_read(&view->area->swap_lock);
	}
	vi->nr = 0;
}

static void view_install_add(struct view_install *vi, unsigned long idx)
{
	unsigned long b = idx / VIEW_AROUND;

	/*
	 * A block the task never faulted in has nothing to zap, and is left
	 * to fault in; view_install_blocks maps one copy-out unmapped.
	 */
	if (!test_bit(b, vi->view->used) || test_bit(b, vi->view->unmapped))
		return;
	if (vi->nr && idx == vi->start + vi->nr && vi->nr < VIEW_AROUND) {
		vi->nr++;
		return;
	}
	view_install_flush(vi);
	vi->start = idx;
	vi->nr = 1;
}

/*
 * Copies the installed snapshot's page idx into mirror, the view's mirror
 * of it, which stays mapped: false if it cannot be rewritten (no page in
 * the snapshot; or held beyond the view's one mapping: the orbit's I/O, a
 * pipe it vmspliced the page into, must keep the contents of the call
 * that took it; or either page has a memory error); the caller then
 * drops it.
 */
static bool view_mirror_refresh(struct orbit_view *view, unsigned long idx,
				struct page *mirror)
{
	struct page *snap;
	bool done = false;

	lockdep_assert_held(&view->lock);
	down_read(&view->area->swap_lock);
	snap = pt_lookup(view->root, idx, NULL);
	if (snap && opage_mapcount(mirror) <= 1 && !opage_referenced(mirror) &&
	    !PageHWPoison(mirror) && !orbit_copy_page(mirror, snap, false)) {
		flush_dcache_page(mirror);
		done = true;
	}
	up_read(&view->area->swap_lock);
	return done;
}

/*
 * Gives page idx, changed in the snapshot just installed and in a block
 * the task uses, a mirror if the view has room for one: the mapping of
 * the run it is in then maps the mirror.  Best effort: without one the
 * run maps the snapshot's page.
 */
static void view_mirror_create(struct orbit_view *view, unsigned long idx)
{
	struct page *snap, *copy = NULL;

	lockdep_assert_held(&view->lock);
	if (view->nmirrors >= VIEW_MIRRORS ||
	    !test_bit(idx / VIEW_AROUND, view->used))
		return;
	down_read(&view->area->swap_lock);
	snap = pt_lookup(view->root, idx, NULL);
	if (snap)
		copy = opage_copy(view->area->pool, snap);
	up_read(&view->area->swap_lock);
	if (IS_ERR_OR_NULL(copy))
		return;
	if (xa_err(xa_store(&view->priv, idx, copy, GFP_KERNEL_ACCOUNT))) {
		opage_put(view->area->pool, copy);
		return;
	}
	xa_set_mark(&view->priv, idx, VIEW_MIRROR);
	view->nmirrors++;
}

static int view_install_one(void *ctx, unsigned long idx)
{
	struct view_install *vi = ctx;
	bool mirror;
	struct page *own = view_priv_peek(vi->view, idx, &mirror);

	vi->changed++;
	if (mirror && view_mirror_refresh(vi->view, idx, own))
		return 0;	/* the same page, mapped, holds the new one */
	/* A mapped page keeps its own reference until the zap. */
	if (own)
		view_priv_drop(vi->view, idx);
	view_mirror_create(vi->view, idx);
	view_install_add(vi, idx);
	return 0;
}

/*
 * Maps again the blocks copy-out unmapped since the last install, whole:
 * their pages that did not change are gone from the view too.  A block
 * copy-out unmaps after its bit is cleared here keeps its bit.
 */
static void view_install_blocks(struct view_install *vi)
{
	struct orbit_view *view = vi->view;
	unsigned long b;

	for_each_set_bit(b, view->unmapped, view_nblocks(view->area)) {
		if (!test_and_clear_bit(b, view->unmapped) ||
		    !test_bit(b, view->used))
			continue;
		vi->start = b * VIEW_AROUND;
		vi->nr = min(VIEW_AROUND, view->area->npages - vi->start);
		view_install_flush(vi);
	}
}

/*
 * A leaf of the tree (PT_FANOUT pages from first) none of whose blocks
 * the task has faulted in: the view has nothing there to replace, so
 * pt_diff_skip only counts its changes.
 */
static bool view_install_skip(void *ctx, unsigned long first)
{
	struct view_install *vi = ctx;
	unsigned long b = first / VIEW_AROUND;
	unsigned long end = min(view_nblocks(vi->view->area),
				b + PT_FANOUT / VIEW_AROUND);

	BUILD_BUG_ON(PT_FANOUT % VIEW_AROUND);
	return find_next_bit(vi->view->used, end, b) >= end;
}

/*
 * debug_full_snapshot: every page of the blocks the task has used (the
 * others have nothing to replace), without a walk of the whole area, which
 * may be as large as the address space.
 */
static void view_install_all(struct view_install *vi)
{
	struct orbit_area *area = vi->view->area;
	unsigned long b, idx, end;

	for_each_set_bit(b, vi->view->used, view_nblocks(area)) {
		end = min((b + 1) * VIEW_AROUND, area->npages);
		for (idx = b * VIEW_AROUND; idx < end; idx++)
			view_install_add(vi, idx);
	}
}

/* The view's mapping in the calling orbit, if it is still whole. */
static struct vm_area_struct *view_vma(struct orbit_view *view)
{
	struct orbit_area *area = view->area;
	struct vm_area_struct *vma;

	mmap_assert_locked(view->mm);
	vma = find_vma(view->mm, area->addr);
	if (!vma || vma->vm_start != area->addr ||
	    vma->vm_end - vma->vm_start != area->size ||
	    vma->vm_ops != &view_vm_ops || vma->vm_private_data != view)
		return NULL;
	return vma;
}

/*
 * Installs a snapshot (the root reference moves to the view): replaces
 * the pages whose entry differs from the installed snapshot, and every
 * page the orbit wrote, by the new snapshot's, mapped here in the blocks
 * the task has used, so that reading them again takes no fault.  Runs in
 * the orbit, which is between calls.  Returns how many pages changed.
 * The snapshot it replaced is freed here if few pages changed, else
 * handed to the caller (*replaced) to free once the task has run.
 */
unsigned long view_install(struct orbit_view *view, struct pt_node *root,
			   struct pt_node **replaced)
{
	struct view_install vi = { .view = view };
	struct pt_node *old = view->root;
	unsigned long idx;
	struct page *page;
	bool locked;

	locked = current->mm == view->mm && !mmap_read_lock_killable(view->mm);
	if (locked)
		vi.vma = view_vma(view);
	mutex_lock(&view->lock);
	view->root = root;
	xa_for_each_marked(&view->priv, idx, page, VIEW_WRITTEN) {
		view_priv_drop(view, idx);
		view_install_add(&vi, idx);
	}
	view_install_flush(&vi);
	if (READ_ONCE(orbit_debug_full_snapshot)) {
		/* Benchmark baseline: remap everything, every call. */
		xa_for_each(&view->priv, idx, page)
			view_priv_drop(view, idx);
		view_install_all(&vi);
		vi.changed = view->area->npages;
	} else {
		unsigned long skipped;

		pt_diff_skip(old, root, view->area->levels, view_install_one,
			     view_install_skip, &vi, &skipped);
		vi.changed += skipped;
	}
	view_install_flush(&vi);
	view_install_blocks(&vi);
	mutex_unlock(&view->lock);
	if (locked)
		mmap_read_unlock(view->mm);
	/* The old root holds about the pages that changed since. */
	*replaced = NULL;
	if (vi.changed > VIEW_FREE_ASYNC)
		*replaced = old;
	else
		pt_put(old);
	return vi.changed;
}
