// SPDX-License-Identifier: GPL-2.0
/*
 * Persistent page tree: a 512-way radix tree of module pages whose nodes
 * are reference counted and shared between an area's current tree and its
 * snapshots.  Taking a snapshot is one reference on the root; changing the
 * current tree copies only the shared nodes on the path (path copying), so
 * the cost of a call is proportional to what changed, never to the area.
 *
 * Pages carry a module reference count in page->private (the module owns
 * these pages; they are never in the page cache or anonymous).  The
 * module's hold on a page is one struct page reference, dropped when that
 * count reaches zero; mappings hold their own struct page references.
 *
 * Each area has a pool of the pages and nodes its trees dropped, bounded,
 * which its next copies take before the allocators: a snapshot of a small
 * area then costs a copy, not an allocation that first zeroes the page
 * (init_on_alloc, on by default in Debian's kernels) only for the copy to
 * overwrite it.
 *
 * New pages come in runs: the pool of an area of 128 pages or more takes
 * a block of up to a 64th of the area (at most 2 MiB) when the allocator
 * has one free (no reclaim, no compaction for it; else a block of 8
 * pages, else single pages), splits it and hands its pages out in order,
 * so that pages allocated one after the other (main writing its area
 * through) are contiguous in physical memory.  Under virtualization a
 * page access goes through the host's translation of guest-physical
 * memory too: single pages taken after a large area was freed were
 * scattered over a host huge page every five pages, and made a task's
 * read of them 1.5..2.4 times a forked child's.
 */
#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/llist.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "orbit_internal.h"

static struct kmem_cache *pt_cache;

/*
 * The pages views and main map where the area has none (a hole: a page
 * main never wrote), so that a task reading a sparse area takes one fault
 * per block and allocates nothing, and main's reads of it (its own, a
 * core dump's, mlockall's population of the whole mapping) allocate
 * nothing either.  Zeroed when allocated and never written: both map them
 * read-only and clean, and a write goes through page_mkwrite, which gives
 * the view a private page, or main a page of the area, instead.
 *
 * Each PTE that maps one holds a reference and a map count on it, which
 * would overflow past 2^31 (an 8 TiB hole, read through views: 32 orbits
 * reading the 256 GiB a main may have).  So a page that holds
 * orbit_zero_refs references no longer serves (a fault maps a run of up
 * to 64 pages at once, so a page may take that many more, per fault in
 * flight: far below the margin of 2^30): the next of OPAGE_ZEROS
 * does, allocated then, or one used before once its PTEs are gone.  With
 * all of them full opage_zero() returns NULL: a view's fault fails
 * (SIGBUS: the orbit dies, main goes on), main's allocates a page.
 * The pages are the module's from their allocation to pt_exit, so a
 * caller needs no reference of its own; no view or area mapping outlives
 * the module (each holds its file, which holds the module).
 */
#define OPAGE_ZEROS	16

static struct page *opage_zeros[OPAGE_ZEROS];
static unsigned int opage_zero_cur;
static DEFINE_MUTEX(opage_zero_lock);	/* opage_zeros, opage_zero_cur */

/*
 * A zero page with a memory error (PageHWPoison, set by memory_failure)
 * serves no more either: it held nothing, so new faults get another and
 * lose nothing (area_fault).
 */
static bool opage_zero_serves(struct page *page)
{
	return page && page_ref_count(page) < READ_ONCE(orbit_zero_refs) &&
	       !PageHWPoison(page);
}

/* The first zero page that serves, allocated if need be; NULL if none. */
static struct page *opage_zero_next(void)
{
	struct page *page = NULL;
	unsigned int i;

	mutex_lock(&opage_zero_lock);
	for (i = 0; i < OPAGE_ZEROS; i++) {
		if (!opage_zeros[i])	/* zeroed before it is seen */
			smp_store_release(&opage_zeros[i],
					  alloc_page(GFP_KERNEL | __GFP_ZERO));
		if (opage_zero_serves(opage_zeros[i])) {
			page = opage_zeros[i];
			WRITE_ONCE(opage_zero_cur, i);
			break;
		}
	}
	mutex_unlock(&opage_zero_lock);
	return page;
}

struct page *opage_zero(void)
{
	unsigned int cur = READ_ONCE(opage_zero_cur);
	/* Pairs with opage_zero_next's release: a zeroed page, or NULL. */
	struct page *page = smp_load_acquire(&opage_zeros[cur]);

	return opage_zero_serves(page) ? page : opage_zero_next();
}

/* Is page one of the zero pages? */
bool opage_is_zero(struct page *page)
{
	unsigned int i;

	for (i = 0; i < OPAGE_ZEROS; i++)
		if (READ_ONCE(opage_zeros[i]) == page)
			return true;
	return false;
}

/*
 * Waits for every fault in flight with a zero page, which it keeps locked
 * until its PTE is set (area_fault; the lock is taken under the lock its
 * caller holds, so no such fault starts meanwhile).  True if there was
 * one.
 */
bool opage_zeros_wait_unlocked(void)
{
	bool waited = false;
	unsigned int i;

	for (i = 0; i < OPAGE_ZEROS; i++) {
		/* Pairs with opage_zero_next's release. */
		struct page *page = smp_load_acquire(&opage_zeros[i]);

		if (page && opage_wait_unlocked(page))
			waited = true;
	}
	return waited;
}

#define POOL_PAGES	64
#define POOL_NODES	8
#define POOL_RUN_SHARE	6	/* a run: at most 1 / 2^6 of the area */
#define POOL_RUN_MAX	9	/* orders: at most 2 MiB */
#define POOL_RUN_MIN	3	/* the fallback */

/*
 * An area's pool.  References: its area (until the area is freed: then it
 * is closed and keeps nothing more) and each node of its trees.  Every
 * page and node it hands out is charged to acct until freed; what it
 * keeps stays charged.  The rest of its last run is not charged to acct
 * (its memory cgroup has it) nor counted in OS_PAGES until handed out:
 * zeroed pages, fewer than a 64th of the area, freed when the pool is
 * drained.
 */
struct pt_pool {
	struct kref ref;
	struct orbit_acct acct;
	/* Protects everything below: the free worker takes it too. */
	spinlock_t lock;
	bool closed;		/* the area is gone: free, do not keep */
	unsigned int npages, nnodes;
	struct list_head pages;	/* kept pages, by page->lru */
	struct llist_node *nodes;	/* kept nodes, by node->free */
	struct page *run;	/* next page of the last run */
	unsigned int run_left;	/* pages from run on, zeroed */
	unsigned int run_order;	/* of a new run; 0: single pages */
};

static atomic_long_t *opage_count(struct page *page)
{
	return (atomic_long_t *)&page->private;
}

#define OPAGE_GFP	(GFP_HIGHUSER | __GFP_ACCOUNT | __GFP_NOWARN)

static void opage_free(struct pt_pool *pool, struct page *page)
{
	set_page_private(page, 0);
	ostat_dec(OS_PAGES);
	orbit_uncharge(&pool->acct, PAGE_SIZE);
	put_page(page);
}

/*
 * The next page of the pool's run (run), or a page it kept; NULL if there
 * is none.  A page marked with a memory error while it waited there
 * (memory_failure marks a page it cannot take from us) is freed, and the
 * next one taken: handed out, it would make its first fault SIGBUS
 * though it held nothing.  Freed, the core keeps it from reuse.
 */
static struct page *pool_take(struct pt_pool *pool, bool run)
{
	struct page *page;

	for (;;) {
		page = NULL;
		spin_lock(&pool->lock);
		if (run && pool->run_left) {
			page = pool->run;
			pool->run = page + 1;	/* within one block */
			pool->run_left--;
		} else if (!run && pool->npages) {
			page = list_first_entry(&pool->pages, struct page,
						lru);
			list_del(&page->lru);
			pool->npages--;
		}
		spin_unlock(&pool->lock);
		if (!page || !PageHWPoison(page))
			return page;
		if (run)
			put_page(page);	/* not charged nor counted yet */
		else
			opage_free(pool, page);
	}
}

/*
 * A new run if a free block is at hand: its first page, the rest kept
 * for the next allocations (freed at once if another run got there
 * first or the pool is closed).  NULL if there is none.
 */
static struct page *pool_run_new(struct pt_pool *pool)
{
	gfp_t gfp = (OPAGE_GFP | __GFP_ZERO) & ~__GFP_RECLAIM;
	unsigned int i, order = pool->run_order;
	struct page *block = NULL;
	bool kept;

	if (order)
		block = alloc_pages(gfp, order);
	if (!block && order > POOL_RUN_MIN) {
		order = POOL_RUN_MIN;
		block = alloc_pages(gfp, order);
	}
	if (!block)
		return NULL;
	split_page(block, order);
	spin_lock(&pool->lock);
	kept = !pool->closed && !pool->run_left;
	if (kept) {
		pool->run = block + 1;
		pool->run_left = BIT(order) - 1;
	}
	spin_unlock(&pool->lock);
	for (i = 1; !kept && i < BIT(order); i++)
		put_page(block + i);
	return block;
}

/* A page for pool's trees or views: ERR_PTR(-EDQUOT or -ENOMEM). */
struct page *opage_alloc(struct pt_pool *pool, bool zero)
{
	struct page *page;
	int err = orbit_charge(&pool->acct, PAGE_SIZE);

	if (err)
		return ERR_PTR(err);
	page = pool_take(pool, true);
	if (!page)
		page = pool_run_new(pool);
	if (!page)
		page = alloc_page(zero ? OPAGE_GFP | __GFP_ZERO : OPAGE_GFP);
	if (!page) {
		orbit_uncharge(&pool->acct, PAGE_SIZE);
		return ERR_PTR(-ENOMEM);
	}
	atomic_long_set(opage_count(page), 1);
	ostat_inc(OS_PAGES);
	return page;
}

void opage_get(struct page *page)
{
	atomic_long_inc(opage_count(page));
}

/* How many tree slots (and overlay or view entries) hold the page. */
long opage_holders(struct page *page)
{
	return atomic_long_read(opage_count(page));
}

/*
 * Is page held by the given number of tree slots and nothing else but
 * the given number of user mappings and of other struct page references
 * (a fault's)?
 */
bool opage_held_only_by(struct page *page, long slots, int mappings,
			int refs)
{
	return atomic_long_read(opage_count(page)) == slots &&
	       opage_mapcount(page) == mappings &&
	       page_ref_count(page) == 1 + mappings + refs;
}

/*
 * Drops a module reference.  A page this frees is kept in the pool if it
 * has room and nothing else holds it (no mapping, no pin): a kept page is
 * written again, so no one may still see it.
 */
void opage_put(struct pt_pool *pool, struct page *page)
{
	if (!page || !atomic_long_dec_and_test(opage_count(page)))
		return;
	/* A page with a memory error goes: the core keeps it from reuse. */
	if (page_ref_count(page) == 1 && !page_mapped(page) &&
	    !PageHWPoison(page)) {
		spin_lock(&pool->lock);
		if (!pool->closed && pool->npages < POOL_PAGES) {
			list_add(&page->lru, &pool->pages);
			pool->npages++;
			page = NULL;
		}
		spin_unlock(&pool->lock);
	}
	if (page)
		opage_free(pool, page);
}

/*
 * A copy of src, in a page from the pool when there is one; -EHWPOISON if
 * src has a memory error (mc.c): what it held is lost.  Faults answer
 * that with SIGBUS (BUS_MCEERR_AR).  live: main may be writing src.
 */
static struct page *opage_copy_as(struct pt_pool *pool, struct page *src,
				  bool live)
{
	struct page *page;
	int err;

	if (unlikely(PageHWPoison(src)))
		return ERR_PTR(-EHWPOISON);	/* before taking a page */
	page = pool_take(pool, false);
	if (!page) {
		page = opage_alloc(pool, false);
		if (IS_ERR(page))
			return page;
	}
	atomic_long_set(opage_count(page), 1);
	err = orbit_copy_page(page, src, live);
	if (unlikely(err)) {
		opage_put(pool, page);
		return ERR_PTR(err);
	}
	return page;
}

/* A copy of src, which nobody writes (frozen, or a snapshot's). */
struct page *opage_copy(struct pt_pool *pool, struct page *src)
{
	return opage_copy_as(pool, src, false);
}

/* A copy of src, which main may be writing meanwhile. */
struct page *opage_copy_live(struct pt_pool *pool, struct page *src)
{
	return opage_copy_as(pool, src, true);
}

/* The pool of an area of npages pages. */
struct pt_pool *pt_pool_create(const struct orbit_acct *acct,
			       unsigned long npages)
{
	struct pt_pool *pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);

	if (!pool)
		return NULL;
	if (npages >> POOL_RUN_SHARE > 1)
		pool->run_order = min(ilog2(npages >> POOL_RUN_SHARE),
				      POOL_RUN_MAX);
	kref_init(&pool->ref);
	orbit_acct_copy(&pool->acct, acct);
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->pages);
	return pool;
}

static void pt_node_free(struct pt_pool *pool, struct pt_node *n)
{
	kmem_cache_free(pt_cache, n);
	ostat_dec(OS_NODES);
	orbit_uncharge(&pool->acct, sizeof(*n));
}

/* Frees what the pool keeps; it keeps nothing from now on. */
static void pt_pool_drain(struct pt_pool *pool)
{
	struct llist_node *nodes;
	struct page *page, *next, *run;
	unsigned int run_left;
	struct pt_node *n, *nn;
	LIST_HEAD(pages);

	spin_lock(&pool->lock);
	pool->closed = true;
	list_splice_init(&pool->pages, &pages);
	nodes = pool->nodes;
	pool->nodes = NULL;
	pool->npages = 0;
	pool->nnodes = 0;
	run = pool->run;
	run_left = pool->run_left;
	pool->run_left = 0;
	spin_unlock(&pool->lock);
	while (run_left--)
		put_page(run++);	/* never charged nor counted */
	list_for_each_entry_safe(page, next, &pages, lru)
		opage_free(pool, page);
	llist_for_each_entry_safe(n, nn, nodes, free)
		pt_node_free(pool, n);
}

static void pt_pool_release(struct kref *ref)
{
	struct pt_pool *pool = container_of(ref, struct pt_pool, ref);

	pt_pool_drain(pool);
	orbit_acct_release(&pool->acct);
	kfree(pool);
}

/* The area is gone: frees what the pool keeps and drops the area's hold. */
void pt_pool_close(struct pt_pool *pool)
{
	pt_pool_drain(pool);
	kref_put(&pool->ref, pt_pool_release);
}

/*
 * A node for pool's trees, every slot NULL.  ERR_PTR(-EDQUOT or -ENOMEM)
 * on failure.
 */
static struct pt_node *pt_alloc(struct pt_pool *pool, unsigned int level)
{
	struct pt_node *n = NULL;

	spin_lock(&pool->lock);
	if (pool->nodes) {
		n = llist_entry(pool->nodes, struct pt_node, free);
		pool->nodes = pool->nodes->next;
		pool->nnodes--;
	}
	spin_unlock(&pool->lock);
	if (!n) {
		int err = orbit_charge(&pool->acct, sizeof(*n));

		if (err)
			return ERR_PTR(err);
		n = kmem_cache_alloc(pt_cache, GFP_KERNEL_ACCOUNT);
		if (!n) {
			orbit_uncharge(&pool->acct, sizeof(*n));
			return ERR_PTR(-ENOMEM);
		}
		ostat_inc(OS_NODES);
		memset(n->slot, 0, sizeof(n->slot));
		bitmap_zero(n->used, PT_FANOUT);
	}
	refcount_set(&n->ref, 1);
	n->level = level;
	n->pool = pool;
	kref_get(&pool->ref);
	return n;
}

struct pt_node *pt_get(struct pt_node *n)
{
	if (n)
		refcount_inc(&n->ref);
	return n;
}

/* Drops what n's slots hold and leaves them NULL (pt_alloc's state). */
static void pt_free(struct pt_node *n)
{
	struct pt_pool *pool = n->pool;
	unsigned int i;

	for_each_set_bit(i, n->used, PT_FANOUT) {
		void *slot = n->slot[i];

		if (!slot)
			continue;
		n->slot[i] = NULL;
		if (n->level) {
			pt_put(slot);
			cond_resched();	/* a big tree: yield per 2 MiB */
		} else {
			opage_put(pool, slot);
		}
	}
	bitmap_zero(n->used, PT_FANOUT);
	spin_lock(&pool->lock);
	if (!pool->closed && pool->nnodes < POOL_NODES) {
		n->free.next = pool->nodes;
		pool->nodes = &n->free;
		pool->nnodes++;
		n = NULL;
	}
	spin_unlock(&pool->lock);
	if (n)
		pt_node_free(pool, n);
	kref_put(&pool->ref, pt_pool_release);
}

/* Drops a reference; may sleep (freeing a tree yields as it goes). */
void pt_put(struct pt_node *n)
{
	if (n && refcount_dec_and_test(&n->ref))
		pt_free(n);
}

/*
 * Trees dropped by pt_put_async, freed by pt_free_work a batch at a time
 * (a work item never runs on two CPUs at once).  pt_queued counts the
 * trees queued, pt_freed those freed, a batch's count added when all of
 * it is freed: once pt_freed reaches a value pt_queued had, every tree
 * whose pt_put_async had returned by then is freed (a tree queued before
 * another is freed in the same batch or an earlier one).
 */
static LLIST_HEAD(pt_free_list);
static atomic64_t pt_queued = ATOMIC64_INIT(0);
static atomic64_t pt_freed = ATOMIC64_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(pt_freed_wq);

static void pt_free_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&pt_free_list);
	struct pt_node *n, *next;
	s64 nr = 0;

	llist_for_each_entry_safe(n, next, list, free) {
		pt_free(n);
		nr++;
		cond_resched();
	}
	/* The frees (and their counters) before the count. */
	atomic64_add_return_release(nr, &pt_freed);
	wake_up_all(&pt_freed_wq);
}

static DECLARE_WORK(pt_free_work, pt_free_fn);

/*
 * Drops a reference like pt_put, but a tree that this frees is freed by a
 * worker: an orbit drops its previous snapshot this way when it installs
 * the next one, so the freeing runs beside the task instead of before it.
 */
void pt_put_async(struct pt_node *n)
{
	if (!n || !refcount_dec_and_test(&n->ref))
		return;
	atomic64_inc(&pt_queued);
	if (llist_add(&n->free, &pt_free_list))
		schedule_work(&pt_free_work);
}

/*
 * Waits, interruptibly, until every tree pt_put_async dropped before the
 * call is freed: 0 or -ERESTARTSYS.  Trees dropped meanwhile do not
 * prolong the wait.
 */
int pt_wait_freed(void)
{
	s64 target = atomic64_read(&pt_queued);

	return wait_event_interruptible(pt_freed_wq,
					atomic64_read_acquire(&pt_freed) >=
					target);
}

/* Waits until every tree dropped by pt_put_async is freed (module exit). */
void pt_flush(void)
{
	flush_work(&pt_free_work);
}

/* Private copy of a shared node: children gain one reference each. */
static struct pt_node *pt_clone(struct pt_node *n)
{
	struct pt_node *c = pt_alloc(n->pool, n->level);
	unsigned int i;

	if (IS_ERR(c))
		return c;
	bitmap_copy(c->used, n->used, PT_FANOUT);
	for_each_set_bit(i, n->used, PT_FANOUT) {
		c->slot[i] = n->slot[i];
		if (!c->slot[i])
			continue;
		if (n->level)
			pt_get(c->slot[i]);
		else
			opage_get(c->slot[i]);
	}
	return c;
}

static unsigned int pt_index(unsigned long idx, unsigned int level)
{
	return (idx >> (PT_SHIFT * level)) & (PT_FANOUT - 1);
}

unsigned int pt_levels(unsigned long npages)
{
	unsigned int levels = 1;

	while (levels < 8 && (npages - 1) >> (PT_SHIFT * levels))
		levels++;
	return levels;
}

/*
 * Looks up the page at idx.  *shared tells whether a snapshot may hold it:
 * a node on the path is shared, or the page itself sits in more than one
 * leaf (after a path copy, clones share pages between exclusive leaves).
 */
struct page *pt_lookup(struct pt_node *root, unsigned long idx, bool *shared)
{
	struct pt_node *n = root;
	struct page *page;
	bool sh = false;

	while (n) {
		if (refcount_read(&n->ref) > 1)
			sh = true;
		if (!n->level) {
			page = READ_ONCE(n->slot[pt_index(idx, 0)]);
			if (page && atomic_long_read(opage_count(page)) > 1)
				sh = true;
			if (shared)
				*shared = sh;
			return page;
		}
		n = n->slot[pt_index(idx, n->level)];
	}
	if (shared)
		*shared = sh;
	return NULL;
}

/* The leaf of root's tree that covers idx, or NULL. */
struct pt_node *pt_leaf(struct pt_node *root, unsigned long idx)
{
	struct pt_node *n = root;

	while (n && n->level)
		n = n->slot[pt_index(idx, n->level)];
	return n;
}

/*
 * Puts copy in the place of page at idx in leaf, in place, without
 * copying any path: every tree that shares the leaf sees copy from then
 * on.  The leaf's reference on page moves to the caller, the caller's on
 * copy into the leaf.  For copy-out (area.c), which makes sure that no
 * view is between a lookup and its reference.  False (nothing changed)
 * if page is not at idx in leaf.
 */
bool pt_replace(struct pt_node *leaf, unsigned long idx, struct page *page,
		struct page *copy)
{
	if (!leaf || leaf->slot[pt_index(idx, 0)] != page)
		return false;
	WRITE_ONCE(leaf->slot[pt_index(idx, 0)], copy);
	return true;
}

/*
 * Stores page (the caller's module reference moves into the tree) at idx,
 * copying every shared node on the path.  The page previously there is
 * returned in *old with the tree's reference, for the caller to drop.
 * The caller serialises all changes to *rootp.
 */
int pt_set(struct pt_pool *pool, struct pt_node **rootp, unsigned int levels,
	   unsigned long idx, struct page *page, struct page **old)
{
	struct pt_node **pp = rootp;
	unsigned int level = levels - 1;

	for (;;) {
		struct pt_node *n = *pp;
		unsigned int i = pt_index(idx, level);

		if (!n) {
			n = pt_alloc(pool, level);
			if (IS_ERR(n))
				return PTR_ERR(n);
			*pp = n;
		} else if (refcount_read(&n->ref) > 1) {
			struct pt_node *c = pt_clone(n);

			if (IS_ERR(c))
				return PTR_ERR(c);
			pt_put(n);
			*pp = c;
			n = c;
		}
		/* The slot is in use from here (its node, or page). */
		__set_bit(i, n->used);
		if (!level) {
			*old = n->slot[i];
			n->slot[i] = page;
			return 0;
		}
		pp = (struct pt_node **)&n->slot[i];
		level--;
	}
}

/*
 * A deep copy sharing no node with n (pages gain a reference each): what a
 * snapshot costs without incremental reuse.  For the debug_full_snapshot
 * benchmark switch only.
 */
struct pt_node *pt_deep_copy(struct pt_node *n)
{
	struct pt_node *c;
	unsigned int i;

	if (!n)
		return NULL;
	c = pt_clone(n);
	if (IS_ERR(c))
		return NULL;
	if (!c->level)
		return c;
	for_each_set_bit(i, c->used, PT_FANOUT) {
		struct pt_node *child = c->slot[i];

		if (!child)
			continue;
		c->slot[i] = pt_deep_copy(child);
		pt_put(child);	/* the clone's reference */
		if (!c->slot[i]) {
			pt_put(c);
			return NULL;
		}
	}
	return c;
}

/* A tree comparison: see pt_diff_skip. */
struct pt_differ {
	int (*fn)(void *ctx, unsigned long idx);
	bool (*skip)(void *ctx, unsigned long first);
	void *ctx;
	unsigned long skipped;
};

static int pt_diff_level(struct pt_node *a, struct pt_node *b,
			 unsigned int level, unsigned long base,
			 struct pt_differ *d)
{
	unsigned long span = 1UL << (PT_SHIFT * level);
	DECLARE_BITMAP(used, PT_FANOUT);
	unsigned int i;
	int ret;

	if (a == b)
		return 0;
	/* Slots clear in both nodes are NULL in both. */
	if (a && b)
		bitmap_or(used, a->used, b->used, PT_FANOUT);
	else
		bitmap_copy(used, a ? a->used : b->used, PT_FANOUT);
	if (!level && d->skip && d->skip(d->ctx, base)) {
		for_each_set_bit(i, used, PT_FANOUT)
			d->skipped += (a ? READ_ONCE(a->slot[i]) : NULL) !=
				      (b ? READ_ONCE(b->slot[i]) : NULL);
		return 0;
	}
	for_each_set_bit(i, used, PT_FANOUT) {
		void *sa = a ? READ_ONCE(a->slot[i]) : NULL;
		void *sb = b ? READ_ONCE(b->slot[i]) : NULL;

		if (sa == sb)
			continue;
		if (level)
			ret = pt_diff_level(sa, sb, level - 1, base + i * span,
					    d);
		else
			ret = d->fn(d->ctx, base + i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Calls fn for every index whose page differs between trees a and b,
 * except in the leaves (PT_FANOUT indexes from first) that skip, if
 * given, passes over: their differing indexes are only counted, in
 * *skipped.  Stops at, and returns, fn's first non-zero return.
 */
int pt_diff_skip(struct pt_node *a, struct pt_node *b, unsigned int levels,
		 int (*fn)(void *ctx, unsigned long idx),
		 bool (*skip)(void *ctx, unsigned long first), void *ctx,
		 unsigned long *skipped)
{
	struct pt_differ d = { fn, skip, ctx, 0 };
	int ret = pt_diff_level(a, b, levels - 1, 0, &d);

	if (skipped)
		*skipped = d.skipped;
	return ret;
}

int pt_diff(struct pt_node *a, struct pt_node *b, unsigned int levels,
	    int (*fn)(void *ctx, unsigned long idx), void *ctx)
{
	return pt_diff_skip(a, b, levels, fn, NULL, ctx, NULL);
}

static void opage_zeros_free(void)
{
	unsigned int i;

	for (i = 0; i < OPAGE_ZEROS; i++)
		if (opage_zeros[i])
			__free_page(opage_zeros[i]);
}

int __init pt_init(void)
{
	opage_zeros[0] = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!opage_zeros[0])
		return -ENOMEM;
	pt_cache = kmem_cache_create("orbit_pt_node", sizeof(struct pt_node),
				     0, SLAB_ACCOUNT, NULL);
	if (!pt_cache) {
		opage_zeros_free();
		return -ENOMEM;
	}
	return 0;
}

void pt_exit(void)
{
	pt_flush();
	kmem_cache_destroy(pt_cache);
	opage_zeros_free();
}
