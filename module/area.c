// SPDX-License-Identifier: GPL-2.0
/*
 * Areas and their pages.
 *
 * An area's memory is module pages kept in a persistent page tree
 * (ptree.c).  The main program maps the area through a per-area pseudo
 * file, MAP_SHARED at the area's address; every orbit bound to the area
 * maps its own per-(orbit, area) *view* file at the same address.  Both
 * mappings are write-notified (page_mkwrite), so a page's PTE is read-only
 * until its first write after a snapshot:
 *
 *  - main: the first write marks the page dirty.  A snapshot zaps the PTEs
 *    of dirty pages (write-protecting them) and takes one reference on the
 *    tree root.  A later write to a page still shared with a snapshot gets
 *    a fresh copy (module COW), the snapshot keeps the old one.
 *  - view: serves the installed snapshot; a write makes an orbit-private
 *    copy.  Installing the next call's snapshot zaps only the pages whose
 *    tree entry differs, plus the private copies, which are discarded.
 *
 * Pages that main writes between most snapshots switch to COPY mode (kept
 * in the overlay, copied at snapshot time within a per-call budget), as do
 * pages pinned for DMA, which must never be frozen under an I/O.
 */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/highmem.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"

#define ORBIT_FS_MAGIC		0x0b17f5a1
#define COPY_BUDGET_PAGES	(SZ_32K >> PAGE_SHIFT)
#define AUTO_MIN_SNAPS		4	/* snapshots seen before judging */
#define VIEW_WRITTEN		XA_MARK_1
#define VIEW_AROUND		16	/* pages mapped per view read fault */
#define VIEW_FREE_ASYNC		64	/* changed pages worth a free worker */

static struct vfsmount *orbit_mnt;

static int orbit_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, ORBIT_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type orbit_fs_type = {
	.name			= "orbitfs",
	.init_fs_context	= orbit_fs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/* A file with its own inode, so each has its own address_space to zap. */
static struct file *orbit_file_new(const char *name,
				   const struct file_operations *fops,
				   void *priv)
{
	struct inode *inode;
	struct file *file;

	/* The file's fops reference, dropped by fput (as anon_inodes does). */
	if (!try_module_get(fops->owner))
		return ERR_PTR(-ENOENT);
	inode = alloc_anon_inode(orbit_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		module_put(fops->owner);
		return ERR_CAST(inode);
	}
	file = alloc_file_pseudo(inode, orbit_mnt, name, O_RDWR, fops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(fops->owner);
		return file;
	}
	file->private_data = priv;
	return file;
}

/* ---- zapping ranges of PTEs, coalesced into runs ---------------------- */

/* A run of PTEs to zap, coalesced from consecutive indices. */
struct zap_run {
	struct address_space *mapping;
	unsigned long start, nr;
};

static void zap_flush(struct zap_run *z)
{
	if (z->nr)
		unmap_mapping_pages(z->mapping, z->start, z->nr, false);
	z->nr = 0;
}

static void zap_add(struct zap_run *z, unsigned long idx)
{
	if (z->nr && idx == z->start + z->nr) {
		z->nr++;
		return;
	}
	zap_flush(z);
	z->start = idx;
	z->nr = 1;
}

/*
 * Adds a page of main's mapping to freeze.  A write fault makes a PTE
 * writable under the page lock after area_page_mkwrite marked the page
 * dirty, so taking and dropping the lock waits out such a fault, and the
 * zap then removes its writable PTE (as page_mkclean does).  No new one
 * can start meanwhile: area_page_mkwrite needs area->lock, which the
 * snapshot holds until its runs are zapped, so the runs can be long.
 */
static void zap_add_quiesced(struct zap_run *z, unsigned long idx,
			     struct page *page)
{
	lock_page(page);
	unlock_page(page);
	zap_add(z, idx);
}

/*
 * The range must hold nothing but reservations (inaccessible anonymous
 * mappings) or holes, so mapping an area there never replaces user data.
 */
static int orbit_range_reserved(struct mm_struct *mm, unsigned long addr,
				unsigned long len)
{
	struct vm_area_struct *vma;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	for (vma = find_vma(mm, addr); vma && vma->vm_start < addr + len;
	     vma = find_vma(mm, vma->vm_end)) {
		if (vma->vm_file || (vma->vm_flags &
				     (VM_READ | VM_WRITE | VM_EXEC))) {
			ret = -EEXIST;
			break;
		}
	}
	mmap_read_unlock(mm);
	return ret;
}

static int orbit_map_file(struct file *file, unsigned long addr,
			  unsigned long len)
{
	unsigned long ret;
	int err;

	err = orbit_range_reserved(current->mm, addr, len);
	if (err)
		return err;
	ret = vm_mmap(file, addr, len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_FIXED, 0);
	if (IS_ERR_VALUE(ret))
		return (int)ret;
	return ret == addr ? 0 : -EFAULT;
}

/* ---- common mmap rules ------------------------------------------------ */

static int orbit_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;	/* an area is mapped and unmapped whole */
}

static int orbit_vma_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;	/* must stay at the same address as in the orbits */
}

/*
 * Both kinds of area mapping: whole, shared, at the area's address, in
 * the one mm they belong to; never copied by fork, never grown.
 */
static int orbit_mmap_setup(struct vm_area_struct *vma, struct mm_struct *mm,
			    unsigned long addr, unsigned long size,
			    const struct vm_operations_struct *ops, void *priv)
{
	if (current->mm != mm)
		return -EPERM;
	if (!(vma->vm_flags & VM_SHARED) || vma->vm_pgoff ||
	    vma->vm_start != addr || vma->vm_end - vma->vm_start != size)
		return -EINVAL;
	orbit_vma_set_flags(vma, VM_DONTCOPY | VM_DONTEXPAND);
	vma->vm_ops = ops;
	vma->vm_private_data = priv;
	return 0;
}

/* ---- the main program's mapping --------------------------------------- */

/* Pages written since the last snapshot. */
static struct xarray *area_dirty(struct orbit_area *area)
{
	return &area->dirty_set[area->dirty_cur];
}

/* Pages written before the last snapshot, which froze them. */
static struct xarray *area_hot(struct orbit_area *area)
{
	return &area->dirty_set[!area->dirty_cur];
}

/* A write fault marks its page up to three times (fault, COW, mkwrite). */
static int area_mark_dirty(struct orbit_area *area, unsigned long idx)
{
	if (xa_load(area_dirty(area), idx))
		return 0;
	return xa_err(xa_store(area_dirty(area), idx, xa_mk_value(0),
			       GFP_KERNEL));
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

	if (!e)
		since = area->seq;
	seen = area->seq - since;
	if (seen >= AUTO_MIN_SNAPS && faults * 10 > seen * 3) {
		xa_erase(&area->meta, idx);
		return true;
	}
	if (faults < 0xffff)
		xa_store(&area->meta, idx, xa_mk_value(since << 16 | faults),
			 GFP_KERNEL);
	return false;
}

/*
 * Stores page at idx in the current tree (the caller's reference moves
 * in) and drops the tree's reference on the page it displaces.
 * Called with area->lock, as are all changes of the current tree.
 */
static int area_tree_store(struct orbit_area *area, unsigned long idx,
			   struct page *page)
{
	struct page *old;
	int err = pt_set(area->pool, &area->cur, area->levels, idx, page,
			 &old);

	if (!err)
		opage_put_pool(area->pool, old);
	return err;
}

/* The tree (so the next snapshot) gets a copy of src; main keeps src. */
static int area_tree_copy(struct orbit_area *area, unsigned long idx,
			  struct page *src)
{
	struct page *copy = opage_copy_pool(area->pool, src);
	int err;

	if (!copy)
		return -ENOMEM;
	err = area_tree_store(area, idx, copy);
	if (err)
		opage_put(copy);
	else
		ostat_inc(OS_COPY_PAGES);
	return err;
}

/*
 * Gives main its own copy of a frozen page.  Called with area->lock.  A
 * copy made for a read (write false) is not marked dirty: main maps it
 * read-only, and page_mkwrite marks it when it is written.
 */
static struct page *area_cow(struct orbit_area *area, unsigned long idx,
			     struct page *frozen, bool write)
{
	struct page *copy = opage_copy_pool(area->pool, frozen);

	if (!copy)
		return NULL;
	ostat_inc(OS_COW_FAULTS);
	atomic_long_inc(&area->cow_faults);
	if (area->auto_mode && area_wants_copy(area, idx) &&
	    !xa_err(xa_store(&area->ovl, idx, copy, GFP_KERNEL)))
		return copy;	/* the tree keeps the frozen page */
	if ((write && area_mark_dirty(area, idx)) ||
	    area_tree_store(area, idx, copy)) {
		opage_put(copy);
		return NULL;
	}
	return copy;
}

/* Main's page for idx, allocating a zero page on first touch. */
static struct page *area_page(struct orbit_area *area, unsigned long idx,
			      bool write, bool *in_ovl)
{
	struct page *page;
	bool shared;

	page = xa_load(&area->ovl, idx);
	*in_ovl = page;
	if (page)
		return page;
	if (area->copy_mode) {
		/* COPY areas: main's pages never enter the tree. */
		page = opage_alloc(true);
		if (page && xa_err(xa_store(&area->ovl, idx, page,
					    GFP_KERNEL))) {
			opage_put(page);
			page = NULL;
		}
		if (page)
			atomic_long_inc(&area->npresent);
		*in_ovl = page;
		return page;
	}
	page = pt_lookup(area->cur, idx, &shared);
	if (!page) {
		page = opage_alloc(true);
		if (!page)
			return NULL;
		if (area_tree_store(area, idx, page)) {
			opage_put(page);
			return NULL;
		}
		atomic_long_inc(&area->npresent);
	} else if (shared && (write || xa_load(area_hot(area), idx))) {
		/*
		 * A read of a page the last snapshot froze because main
		 * wrote it copies at once too: such a page is most likely
		 * written again, and copying now spares the write a second
		 * fault, a zap and a refault.
		 */
		page = area_cow(area, idx, page, write);
		*in_ovl = page && xa_load(&area->ovl, idx) == page;
	}
	if (page && write && !*in_ovl && area_mark_dirty(area, idx))
		return NULL;
	return page;
}

static vm_fault_t area_fault(struct vm_fault *vmf)
{
	struct orbit_area *area = vmf->vma->vm_private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE, in_ovl;
	struct page *page;

	if (vmf->pgoff >= area->npages)
		return VM_FAULT_SIGBUS;
	mutex_lock(&area->lock);
	page = area_page(area, vmf->pgoff, write, &in_ovl);
	if (page)
		get_page(page);
	mutex_unlock(&area->lock);
	if (!page)
		return VM_FAULT_OOM;
	vmf->page = page;
	return 0;
}

static vm_fault_t area_page_mkwrite(struct vm_fault *vmf)
{
	struct orbit_area *area = vmf->vma->vm_private_data;
	unsigned long idx = vmf->pgoff;
	struct page *page;
	bool shared = false;

	mutex_lock(&area->lock);
	page = xa_load(&area->ovl, idx);
	if (!page)
		page = pt_lookup(area->cur, idx, &shared);
	if (page != vmf->page || shared) {
		/* Stale PTE or frozen page: the retry faults in main's page. */
		if (page == vmf->page && !area_cow(area, idx, page, true)) {
			mutex_unlock(&area->lock);
			return VM_FAULT_OOM;
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
	.may_split	= orbit_vma_may_split,
	.mremap		= orbit_vma_mremap,
};

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
		opage_put(page);
	xa_destroy(&area->ovl);
	xa_destroy(&area->dirty_set[0]);
	xa_destroy(&area->dirty_set[1]);
	xa_destroy(&area->meta);
	pt_put(area->cur);
	area->cur = NULL;
}

static void area_release(struct kref *ref)
{
	struct orbit_area *area = container_of(ref, struct orbit_area, ref);

	area_free_pages(area);
	pt_pool_close(area->pool);
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
 * [addr, addr + size).  Returns the area with one reference for the caller.
 */
struct orbit_area *area_create(unsigned long addr, unsigned long size,
			       unsigned int flags)
{
	struct orbit_area *area;
	struct file *file;
	int err;

	area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!area)
		return ERR_PTR(-ENOMEM);
	area->pool = pt_pool_create();
	if (!area->pool) {
		kfree(area);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&area->ref);
	mutex_init(&area->lock);
	xa_init(&area->ovl);
	xa_init(&area->dirty_set[0]);
	xa_init(&area->dirty_set[1]);
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
	area->mapping = file->f_mapping;
	err = orbit_map_file(file, addr, size);
	fput(file);	/* the mapping, if any, holds the file now */
	if (err) {
		area_put(area);
		return ERR_PTR(err);
	}
	return area;
}

/* ---- snapshots ---------------------------------------------------------- */

static int area_snapshot_copy_pages(struct orbit_area *area,
				    struct zap_run *zap)
{
	unsigned long idx, budget = COPY_BUDGET_PAGES;
	struct page *page;
	int err;

	xa_for_each(&area->ovl, idx, page) {
		bool pinned = folio_maybe_dma_pinned(page_folio(page));

		if (area->copy_mode || pinned || budget) {
			err = area_tree_copy(area, idx, page);
			if (err)
				return err;
			if (!area->copy_mode && !pinned)
				budget--;
			continue;
		}
		/* Over budget: back to COW, frozen like any written page. */
		err = area_tree_store(area, idx, page);
		if (err)
			return err;
		xa_erase(&area->ovl, idx);
		zap_add_quiesced(zap, idx, page);
	}
	return 0;
}

struct freeze_all {
	struct orbit_area *area;
	struct zap_run *zap;
};

/* Freezes one page of the tree that was not written since the last
 * snapshot (those are frozen by the dirty pass).
 */
static int freeze_one(void *ctx, unsigned long idx)
{
	struct freeze_all *fa = ctx;
	struct page *page = pt_lookup(fa->area->cur, idx, NULL);

	if (page && !xa_load(area_dirty(fa->area), idx) &&
	    !xa_load(&fa->area->ovl, idx) &&
	    !folio_maybe_dma_pinned(page_folio(page)))
		zap_add_quiesced(fa->zap, idx, page);
	return 0;
}

/*
 * Freezes the pages written since the last snapshot: their main PTEs are
 * zapped, so the next write faults and gets a copy.  A written page that
 * is pinned (O_DIRECT, RDMA...) is never frozen: main keeps it in COPY
 * mode and the snapshot gets a copy.
 */
static int area_snapshot_freeze(struct orbit_area *area, struct zap_run *zap)
{
	unsigned long idx;
	void *entry;
	int err;

	if (READ_ONCE(orbit_debug_full_snapshot) && area->cur) {
		/* Benchmark baseline: every page is captured again. */
		struct freeze_all fa = { area, zap };

		pt_diff(NULL, area->cur, area->levels, freeze_one, &fa);
	}
	xa_for_each(area_dirty(area), idx, entry) {
		struct page *page = pt_lookup(area->cur, idx, NULL);

		if (page && folio_maybe_dma_pinned(page_folio(page)) &&
		    !xa_load(&area->ovl, idx)) {
			/* Main keeps the page (in the overlay), the tree a copy. */
			err = xa_err(xa_store(&area->ovl, idx, page,
					      GFP_KERNEL));
			if (err)
				return err;
			opage_get(page);
			err = area_tree_copy(area, idx, page);
			if (err) {
				xa_erase(&area->ovl, idx);
				opage_put(page);
				return err;
			}
			continue;
		}
		if (page)
			zap_add_quiesced(zap, idx, page);
	}
	/* This interval's dirty pages are the next one's hot pages. */
	xa_destroy(area_hot(area));
	area->dirty_cur ^= 1;
	return 0;
}

/*
 * Takes a snapshot: returns a reference on the tree root that holds the
 * area exactly as it is now (NULL for an area never touched).
 */
int area_snapshot(struct orbit_area *area, struct pt_node **root)
{
	struct zap_run zap = { .mapping = area->mapping };
	int err;

	mutex_lock(&area->lock);
	err = area_snapshot_copy_pages(area, &zap);
	if (!err)
		err = area_snapshot_freeze(area, &zap);
	zap_flush(&zap);
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

/* ---- orbit views ------------------------------------------------------ */

/* The view's page for idx: the orbit's copy, else the snapshot's. */
static struct page *view_page(struct orbit_view *view, unsigned long idx)
{
	struct page *page = xa_load(&view->priv, idx);

	return page ? page : pt_lookup(view->root, idx, NULL);
}

/*
 * Read fault-around, as filemap does for page cache files: maps the
 * present pages of the VIEW_AROUND-aligned block around idx read-only, in
 * runs (one page table lock per run), so a task scanning a snapshot takes
 * one fault per block.  A write to any of them still goes through
 * view_page_mkwrite.  Called with view->lock, which orders it against
 * view_install's zaps.  A slot already mapped stops a run (-EBUSY) and is
 * skipped.  Returns true when idx itself was mapped.
 */
static bool view_map_around(struct orbit_view *view,
			    struct vm_area_struct *vma, unsigned long idx)
{
	unsigned long first = round_down(idx, VIEW_AROUND), i = first, n;
	unsigned long end = min(first + VIEW_AROUND, view->area->npages);
	struct page *run[VIEW_AROUND];
	bool mapped = false;

	while (i < end) {
		unsigned long start = i, left;

		for (n = 0; i < end && (run[n] = view_page(view, i)); i++)
			n++;
		left = n;
		if (n && vm_insert_pages(vma, vma->vm_start +
					 (start << PAGE_SHIFT), run, &left))
			i = start + n - left + 1;	/* skip the busy slot */
		if (idx >= start && idx < start + n - left)
			mapped = true;
		if (i == start)
			i++;			/* a hole */
	}
	return mapped;
}

static vm_fault_t view_fault(struct vm_fault *vmf)
{
	struct orbit_view *view = vmf->vma->vm_private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	unsigned long idx = vmf->pgoff;
	struct page *page, *copy;

	if (idx >= view->area->npages)
		return VM_FAULT_SIGBUS;
	mutex_lock(&view->lock);
	if (!write && view_map_around(view, vmf->vma, idx)) {
		mutex_unlock(&view->lock);
		return VM_FAULT_NOPAGE;
	}
	page = xa_load(&view->priv, idx);
	if (!page) {
		struct page *snap = pt_lookup(view->root, idx, NULL);

		copy = snap ? (write ? opage_copy(snap) : NULL) :
			      opage_alloc(true);
		if (copy && xa_err(xa_store(&view->priv, idx, copy,
					    GFP_KERNEL))) {
			opage_put(copy);
			copy = NULL;
		}
		page = copy ? copy : snap;
		if (!page) {
			mutex_unlock(&view->lock);
			return VM_FAULT_OOM;
		}
	}
	if (write && page == xa_load(&view->priv, idx))
		xa_set_mark(&view->priv, idx, VIEW_WRITTEN);
	get_page(page);
	mutex_unlock(&view->lock);
	vmf->page = page;
	return 0;
}

static vm_fault_t view_page_mkwrite(struct vm_fault *vmf)
{
	struct orbit_view *view = vmf->vma->vm_private_data;
	unsigned long idx = vmf->pgoff;
	struct page *page, *copy;

	mutex_lock(&view->lock);
	page = xa_load(&view->priv, idx);
	if (page == vmf->page) {
		xa_set_mark(&view->priv, idx, VIEW_WRITTEN);
		lock_page(page);
		mutex_unlock(&view->lock);
		return VM_FAULT_LOCKED;
	}
	if (!page && pt_lookup(view->root, idx, NULL) == vmf->page) {
		/* First write to a snapshot page: a private copy. */
		copy = opage_copy(vmf->page);
		if (!copy || xa_err(xa_store(&view->priv, idx, copy,
					     GFP_KERNEL))) {
			opage_put(copy);
			mutex_unlock(&view->lock);
			return VM_FAULT_OOM;
		}
		xa_set_mark(&view->priv, idx, VIEW_WRITTEN);
	}
	unmap_mapping_pages(view->mapping, idx, 1, false);
	mutex_unlock(&view->lock);
	return VM_FAULT_NOPAGE;
}

static const struct vm_operations_struct view_vm_ops = {
	.fault		= view_fault,
	.page_mkwrite	= view_page_mkwrite,
	.may_split	= orbit_vma_may_split,
	.mremap		= orbit_vma_mremap,
};

static int view_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct orbit_view *view = file->private_data;
	int err = orbit_mmap_setup(vma, view->mm, view->area->addr,
				   view->area->size, &view_vm_ops, view);

	/* Fault-around's vm_insert_pages needs it set already: setting
	 * it there would need mmap_lock held for writing.
	 */
	if (!err)
		orbit_vma_set_flags(vma, VM_MIXEDMAP);
	return err;
}

static void view_release(struct kref *ref)
{
	struct orbit_view *view = container_of(ref, struct orbit_view, ref);
	unsigned long idx;
	struct page *page;

	xa_for_each(&view->priv, idx, page)
		opage_put(page);
	xa_destroy(&view->priv);
	pt_put(view->root);
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
 * address.  Returns the view with one reference for the caller.
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
	view->area = area_get(area);
	view->mm = current->mm;
	mmgrab(view->mm);
	ostat_inc(OS_VIEWS);

	kref_get(&view->ref);
	file = orbit_file_new("[orbit-view]", &view_fops, view);
	if (IS_ERR(file)) {
		view_put(view);
		view_put(view);
		return ERR_CAST(file);
	}
	view->mapping = file->f_mapping;
	err = orbit_map_file(file, area->addr, area->size);
	fput(file);
	if (err) {
		view_put(view);
		return ERR_PTR(err);
	}
	return view;
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

struct view_install {
	struct orbit_view *view;
	struct zap_run zap;
	unsigned long changed;	/* entries that differ from the old root */
};

static int view_install_one(void *ctx, unsigned long idx)
{
	struct view_install *vi = ctx;
	/* A mapped page keeps its own reference until the zap. */
	opage_put(xa_erase(&vi->view->priv, idx));
	zap_add(&vi->zap, idx);
	vi->changed++;
	return 0;
}

/*
 * Installs a snapshot (the root reference moves to the view): zaps the
 * pages whose entry differs from the installed snapshot and discards every
 * page the orbit wrote.  Runs in the orbit, which is between calls.
 */
void view_install(struct orbit_view *view, struct pt_node *root)
{
	struct view_install vi = {
		.view = view,
		.zap = { .mapping = view->mapping },
	};
	unsigned long idx;
	struct page *page;

	mutex_lock(&view->lock);
	xa_for_each_marked(&view->priv, idx, page, VIEW_WRITTEN) {
		xa_erase(&view->priv, idx);
		opage_put(page);
		zap_add(&vi.zap, idx);
	}
	if (READ_ONCE(orbit_debug_full_snapshot)) {
		/* Benchmark baseline: remap everything, every call. */
		zap_flush(&vi.zap);
		unmap_mapping_pages(view->mapping, 0, view->area->npages, false);
		vi.changed = view->area->npages;
	} else {
		pt_diff(view->root, root, view->area->levels, view_install_one,
			&vi);
	}
	zap_flush(&vi.zap);
	/*
	 * The old root holds about the pages that changed since.  Many are
	 * freed beside the task; a few cost less than waking a worker.
	 */
	if (vi.changed > VIEW_FREE_ASYNC)
		pt_put_async(view->root);
	else
		pt_put(view->root);
	view->root = root;
	mutex_unlock(&view->lock);
}

int __init area_init(void)
{
	orbit_mnt = kern_mount(&orbit_fs_type);
	return PTR_ERR_OR_ZERO(orbit_mnt);
}

void area_exit(void)
{
	kern_unmount(orbit_mnt);
}
