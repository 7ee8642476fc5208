/* SPDX-License-Identifier: GPL-2.0 */
/*
 * orbit.ko internal definitions shared by the module's files.
 *
 * Objects, one file each (owner and reference rules are written where
 * each structure is defined below):
 *
 *   orbit_ctx    ctx.c       a main program's context (one /dev/orbit open)
 *   orbit        orbits.c    an orbit: its generations, queue and death
 *   orbit_handle orbit_fd.c  an orbit descriptor: attach, task loop, push
 *   orbit_call   call.c      a call, its snapshots and its future
 *   orbit_upd    update.c    an update pushed to a call
 *   orbit_area   area.c      an area: main's mapping and its snapshots
 *   orbit_view   view.c      an orbit's view of an area
 *   pt_node      ptree.c     persistent page tree (snapshots share nodes)
 *   pageset      pageset.c   a set of an area's pages (region bitmaps)
 *   orbit_user   user.c      a user's charged bytes (per-user limit)
 *
 * Lock order (outermost first; as fs/userfaultfd.c documents its own):
 *
 *   ctx->lock (mutex: a context's tables, accounting and spawner)
 *     ob->view_lock (mutex: an orbit generation's views)
 *       mmap_lock of main's or of the orbit's mm (vm_mmap, faults),
 *       or the faulting VMA's lock (per-VMA lock faults, 6.4+)
 *         area->lock, view->lock (mutexes: faults, snapshots, installs)
 *           area->swap_lock (rwsem: read under view->lock around a
 *           view's lookup and map; under area->lock only ever
 *           trylocked for writing, by copy-out)
 *             area->views_lock (mutex: copy-out, view create/release)
 *             opage_zero_lock (mutex: the zero pages for holes, ptree.c;
 *             only the page allocator under it)
 *           page lock (area_fault, area_page_mkwrite, snapshot
 *           quiescing, area_forget_page: held by a fault until its PTE
 *           is set, which takes no lock of ours)
 *             i_mmap_rwsem, page-table locks (unmap_mapping_pages,
 *             vm_insert_pages, apply_to_existing_page_range)
 *
 *   timed_lock (orbits.c, spinlock) -> ob->lock (spinlock)
 *
 *   ctx->lock -> ctx->calls_lock (spinlock: the futures' table)
 *
 *   ob->lock, pool->lock, users_lock, calls_lock, ctx_list_lock (stats.c:
 *   the listing's list of contexts), argbufs.lock (argbuf.c: a context's
 *   kept argument buffers) and the xarray/idr internal locks
 *   are innermost: nothing but wait-queue locks is taken under them, and
 *   no sleeping call is made with them held.  An area's lock and a view's
 *   lock are never held together.
 */
#ifndef ORBIT_INTERNAL_H
#define ORBIT_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../uapi/orbit.h"

/* Module parameters (limits), see main.c. */
extern unsigned int orbit_max_orbits;
extern unsigned int orbit_max_areas;
extern unsigned int orbit_max_queue;
extern unsigned int orbit_max_arg;
extern unsigned int orbit_max_call_areas;
extern unsigned long orbit_max_area_size;
extern unsigned long orbit_max_main_bytes;
extern unsigned int orbit_max_update;
extern unsigned long orbit_max_user_bytes;
extern bool orbit_debug_full_snapshot;
extern unsigned int orbit_write_around;
extern unsigned int orbit_zero_refs;
#define ORBIT_ZERO_REFS_MAX	BIT(30)
extern unsigned int orbit_fault_delay_us;
extern unsigned int orbit_fault_delay_kinds;
#define ORBIT_FAULT_DELAY_MAX	1000

/* The faults debug_fault_delay_kinds may choose (see orbit_fault_delay). */
enum orbit_fault_kind {
	ORBIT_FAULT_AREA_READ	= BIT(0),	/* main's read faults */
	ORBIT_FAULT_AREA_WRITE	= BIT(1),	/* main's write faults, mkwrite */
	ORBIT_FAULT_VIEW_WRITE	= BIT(2),	/* an orbit's write faults, mkwrite */
	ORBIT_FAULT_KINDS	= BIT(3) - 1,
};

/* Largest value write_around may take (pages; rounded down to a power of 2). */
#define ORBIT_WRITE_AROUND_MAX	32

/* Largest value max_update may take: 4x it must fit a size_t anywhere. */
#define ORBIT_MAX_UPDATE_LIMIT	BIT(30)

/*
 * Largest values max_arg and max_call_areas may take: an argument buffer
 * stays below what kvmalloc serves (INT_MAX), a call's allocation (struct
 * orbit_snap per area) below 256 KiB, and its duplicate check (quadratic,
 * under ctx->lock) short.
 */
#define ORBIT_MAX_ARG_LIMIT		BIT(30)
#define ORBIT_MAX_CALL_AREAS_LIMIT	4096

/* Supported features and ioctls, answered by the handshake. */
#define ORBIT_FEATURES	ORBIT_FEAT_ALL

/* ---- stats.c: module-wide counters, all updated locklessly ---- */
enum orbit_stat {
	OS_CONTEXTS, OS_ORBITS, OS_AREAS, OS_VIEWS, OS_PAGES, OS_NODES,
	OS_CALLS, OS_UPDATES, OS_CALLS_TOTAL, OS_CALLS_FAILED, OS_COW_FAULTS,
	OS_COPY_PAGES, OS_SNAPSHOTS, OS_ORBIT_DEATHS, OS_UPDATE_PAGES,
	OS_INSTALL_FAILURES, OS_CHARGED, OS_POLLS, OS_POLLS_MISSED, OS_NR
};

extern atomic64_t orbit_stats[OS_NR];

static inline void ostat_add(enum orbit_stat s, long v)
{
	atomic64_add(v, &orbit_stats[s]);
}

static inline void ostat_inc(enum orbit_stat s)
{
	atomic64_inc(&orbit_stats[s]);
}

static inline void ostat_dec(enum orbit_stat s)
{
	atomic64_dec(&orbit_stats[s]);
}

struct orbit_ctx;
long orbit_stats_ioctl(void __user *arg);
long orbit_list_ioctl(void __user *arg);
void orbit_list_add(struct orbit_ctx *ctx);
void orbit_list_del(struct orbit_ctx *ctx);

/* ---- user.c: per-user charges ---- */

/*
 * What a main context's objects are charged to: its user, limited unless
 * the context was made by a process with CAP_SYS_RESOURCE.  Copied by
 * value into every object that charges (ctx, page pool); each copy holds
 * a reference on the user.
 */
struct orbit_acct {
	struct orbit_user *user;
	bool unlimited;
};

int orbit_acct_init(struct orbit_acct *acct);
void orbit_acct_copy(struct orbit_acct *to, const struct orbit_acct *from);
void orbit_acct_release(struct orbit_acct *acct);
int orbit_charge(const struct orbit_acct *acct, size_t bytes);
void orbit_uncharge(const struct orbit_acct *acct, size_t bytes);

/* ---- mapfile.c: the module's mapping files and their rules ---- */
struct file *orbit_file_new(const char *name,
			    const struct file_operations *fops, void *priv);
int orbit_map_file(struct file *file, unsigned long addr, unsigned long len,
		   unsigned long prot);
int orbit_mmap_setup(struct vm_area_struct *vma, struct mm_struct *mm,
		     unsigned long addr, unsigned long size,
		     const struct vm_operations_struct *ops, void *priv);
int orbit_vma_may_split(struct vm_area_struct *vma, unsigned long addr);
int orbit_vma_mremap(struct vm_area_struct *vma);
vm_fault_t orbit_map_pages_none(struct vm_fault *vmf, pgoff_t start,
				pgoff_t end);
int orbit_mapfs_init(void);
void orbit_mapfs_exit(void);

/* A run of PTEs of one mapping to zap, coalesced from consecutive pages. */
struct zap_run {
	struct address_space *mapping;
	unsigned long start, nr;
};

void zap_add(struct zap_run *z, unsigned long idx);
void zap_flush(struct zap_run *z);

/*
 * vm_flags became read-only (accessors only) in 6.3; Kbuild detects the
 * accessors in the headers instead of testing version numbers.
 */
static inline void orbit_vma_set_flags(struct vm_area_struct *vma,
				       unsigned long flags)
{
#ifdef ORBIT_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void orbit_vma_clear_flags(struct vm_area_struct *vma,
					 unsigned long flags)
{
#ifdef ORBIT_HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * A PTE made writable, for a mapping that is not a shadow stack: 6.6 gave
 * pte_mkwrite a VMA argument (out of line on x86, not exported) and kept
 * the old one as pte_mkwrite_novma.
 */
static inline pte_t orbit_pte_mkwrite(pte_t pte)
{
#ifdef ORBIT_HAVE_PTE_MKWRITE_NOVMA
	return pte_mkwrite_novma(pte);
#else
	return pte_mkwrite(pte);
#endif
}

/* ---- ptree.c: persistent page tree ---- */
#define PT_SHIFT	9
#define PT_FANOUT	BIT(PT_SHIFT)

struct pt_pool;

/*
 * A tree node.  Owners: its parent slot, or an area's current tree
 * (area->cur), or a snapshot (a call's snap[] entry, a view's root); each
 * holds one reference.  A node whose count is above one is shared and is
 * copied before it is changed (path copying).  Each node holds a
 * reference on its pool.  A slot whose bit in used is clear is NULL, so
 * copies, frees and comparisons visit only the slots in use (a small
 * area fills a few of a leaf's 512); a node in its pool's free list is
 * all NULL, used empty.
 */
struct pt_node {
	refcount_t ref;
	unsigned int level;	/* 0: slots are pages, else child nodes */
	struct pt_pool *pool;	/* its area's: where it and its pages go */
	struct llist_node free;	/* on the deferred free list (pt_put_async) */
	DECLARE_BITMAP(used, PT_FANOUT);	/* a superset of non-NULL slots */
	void *slot[PT_FANOUT];
};

struct page *opage_alloc(struct pt_pool *pool, bool zero);
struct page *opage_copy(struct pt_pool *pool, struct page *src);
struct page *opage_copy_live(struct pt_pool *pool, struct page *src);
void opage_get(struct page *page);
void opage_put(struct pt_pool *pool, struct page *page);
bool opage_held_only_by(struct page *page, long slots, int mappings,
			int refs);
long opage_holders(struct page *page);
struct page *opage_zero(void);
bool opage_is_zero(struct page *page);
bool opage_zeros_wait_unlocked(void);

/* How many of the page's user mappings there are (order-0 pages only). */
static inline int opage_mapcount(struct page *page)
{
	return atomic_read(&page->_mapcount) + 1;
}

/*
 * Waits out a fault that holds the page locked until its PTE is set
 * (area_fault, area_page_mkwrite, view_page_mkwrite).  The caller holds
 * the lock under which such a fault locks the page (area->lock or
 * view->lock), so none starts meanwhile.  True if there was one.
 */
static inline bool opage_wait_unlocked(struct page *page)
{
	if (!PageLocked(page))
		return false;
	lock_page(page);
	unlock_page(page);
	return true;
}

/*
 * A fault's answer to an error: over the user's limit; out of memory; a
 * page table that went away (6.12) or a PTE another fault set, for the
 * retry to find; a page lost to a memory error (-EHWPOISON, see
 * opage_copy); or a page the kernel would not map, or no zero page to map
 * (-ENOSPC, see opage_zero).
 */
static inline vm_fault_t orbit_fault_error(int err)
{
	switch (err) {
	case -EDQUOT:
		return VM_FAULT_SIGBUS;
	case -EHWPOISON:
		return VM_FAULT_HWPOISON;
	case -ENOMEM:
		return VM_FAULT_OOM;
	case -EFAULT:
	case -EBUSY:
		return VM_FAULT_NOPAGE;
	default:
		return VM_FAULT_SIGBUS;
	}
}

/*
 * The error a fault answers for a page it found marked with a memory
 * error (PageHWPoison): a zero page held nothing, so -EBUSY, a retry that
 * maps another (opage_zero passes marked ones over); any other page's
 * contents are lost: -EHWPOISON, SIGBUS (BUS_MCEERR_AR).
 */
static inline int opage_marked_error(struct page *page)
{
	return opage_is_zero(page) ? -EBUSY : -EHWPOISON;
}

/*
 * Tests only (debug_fault_delay_us, of the faults debug_fault_delay_kinds
 * chooses): a fault that has decided on its page sleeps here, its own
 * locks released and the page (locked or not) not yet mapped, so that a
 * race test finds the window between a fault's decision and the core's
 * PTE at once, not once in thousands of calls.  Only the racing kind
 * sleeps, so that what it races is not slowed down as well.
 */
static inline void orbit_fault_delay(enum orbit_fault_kind kind)
{
	unsigned int us = READ_ONCE(orbit_fault_delay_us);

	if (unlikely(us) && (READ_ONCE(orbit_fault_delay_kinds) & kind))
		usleep_range(us, us + us / 4 + 1);
}

/*
 * Does anything beyond the module and the page's mappings hold the page:
 * a pin or a plain reference (get_user_pages, as 6.1's O_DIRECT takes),
 * through which the page may be written without a fault?  Transient
 * references (a fault about to map it) count too: the answer errs on
 * the side of yes.
 */
static inline bool opage_referenced(struct page *page)
{
	return page_ref_count(page) > 1 + opage_mapcount(page);
}

struct pt_pool *pt_pool_create(const struct orbit_acct *acct,
			       unsigned long npages);
void pt_pool_close(struct pt_pool *pool);
struct pt_node *pt_get(struct pt_node *n);
void pt_put(struct pt_node *n);
void pt_put_async(struct pt_node *n);
void pt_flush(void);
int pt_wait_freed(void);
unsigned int pt_levels(unsigned long npages);
struct page *pt_lookup(struct pt_node *root, unsigned long idx, bool *shared);
struct pt_node *pt_leaf(struct pt_node *root, unsigned long idx);
bool pt_replace(struct pt_node *leaf, unsigned long idx, struct page *page,
		struct page *copy);
int pt_set(struct pt_pool *pool, struct pt_node **rootp, unsigned int levels,
	   unsigned long idx, struct page *page, struct page **old);
struct pt_node *pt_deep_copy(struct pt_node *n);
int pt_diff(struct pt_node *a, struct pt_node *b, unsigned int levels,
	    int (*fn)(void *ctx, unsigned long idx), void *ctx);
int pt_diff_skip(struct pt_node *a, struct pt_node *b, unsigned int levels,
		 int (*fn)(void *ctx, unsigned long idx),
		 bool (*skip)(void *ctx, unsigned long first), void *ctx,
		 unsigned long *skipped);
int pt_init(void);
void pt_exit(void);

/* ---- area.c: areas, main's mapping of them and their snapshots ---- */

/* ---- pageset.c: a set of page indexes (owner serialises) ---- */
#define PSET_REGION_PAGES	512
struct pset_region {
	DECLARE_BITMAP(bits, PSET_REGION_PAGES);
};

struct pageset {
	struct xarray regions;	/* region index -> struct pset_region */
	unsigned long count;	/* pages in the set (read locklessly too) */
};

void pset_init(struct pageset *ps);
int pset_add(struct pageset *ps, unsigned long idx);
bool pset_test(struct pageset *ps, unsigned long idx);
void pset_del(struct pageset *ps, unsigned long idx);
void pset_clear(struct pageset *ps);
void pset_destroy(struct pageset *ps);

/* A walk over a set; the set must not change during it. */
struct pset_iter {
	unsigned long region, bit;
	struct pset_region *reg;
};

bool pset_next(struct pageset *ps, struct pset_iter *it, unsigned long *idx);

bool pset_next_run(struct pageset *ps, struct pset_iter *it,
		   unsigned long *start, unsigned long *n);

#define pset_for_each(ps, idx)						\
	for (struct pset_iter __pset_it = { 0 };			\
	     pset_next(ps, &__pset_it, &(idx));)

/* Each maximal run [start, start + n) of consecutive pages in the set. */
#define pset_for_each_run(ps, start, n)					\
	for (struct pset_iter __pset_it = { 0 };			\
	     pset_next_run(ps, &__pset_it, &(start), &(n));)

/*
 * An area.  References: its context's table (until destroyed or the
 * context ends), main's mapping (the area file, until main unmaps it),
 * each view, each call that names it (until the call is freed).  It
 * holds a reference on main's mm (mm_count) and on its file's inode, so
 * that its mapping can be zapped whatever became of the file.
 */
struct orbit_area {
	struct kref ref;
	u32 id;			/* in its context (set by the context) */
	unsigned long addr, size, npages;
	unsigned int levels;	/* of its page tree */
	bool copy_mode;		/* snapshot by copying every page */
	bool auto_mode;		/* per-page COW/COPY choice */
	bool dead;		/* destroyed: orbits drop their views */
	struct mm_struct *mm;	/* main's mm (grabbed), for mmap checks */
	struct inode *inode;	/* of main's mapping file (held) */
	struct address_space *mapping;	/* inode's, for zaps */
	struct pt_pool *pool;	/* pages and nodes its trees dropped */
	/*
	 * Protects cur, ovl, the dirty sets, meta and seq: faults of the
	 * main mapping and snapshots serialise on it.  Taken before page
	 * locks.
	 */
	struct mutex lock;
	/*
	 * Copy-out (area_page_mkwrite) changes a snapshot's leaf in place;
	 * held for reading by views between reading a snapshot's entry and
	 * taking their reference on its page, so that a page copy-out gives
	 * back to main is never mapped by a view.
	 */
	struct rw_semaphore swap_lock;
	/*
	 * The views of the area that have a mapping (view.c adds and
	 * removes them), for copy-out to unmap a page from.
	 */
	struct mutex views_lock;
	struct list_head views;
	struct pt_node *cur;	/* current page tree */
	/*
	 * The last snapshot's root (a reference, dropped at the next
	 * snapshot or with the area): where copy-out finds the other leaf
	 * of a page that sits in two, after cur's path was copied.
	 */
	struct pt_node *last_snap;
	/*
	 * Snapshots taken for calls that have not ended (area_snapshot
	 * counts one up under lock, area_snapshot_end down).  At zero no
	 * task can read a snapshot's copy of a page main writes, so copy-out
	 * drops it from the snapshots instead of copying it; the next
	 * install maps the page's next version.
	 */
	atomic_t live_snaps;
	struct xarray ovl;	/* COPY-mode pages main writes directly */
	/*
	 * Two index sets, flipped at each snapshot: dirty (written since
	 * the last snapshot) and hot (written before it, so frozen by it).
	 */
	struct pageset dirty_set[2];
	unsigned int dirty_cur;	/* which of them is dirty */
	struct xarray meta;	/* auto mode: per-page fault statistics */
	u64 seq;		/* snapshots taken */
	atomic_long_t npresent;	/* pages allocated (for listings) */
	atomic_long_t cow_faults;	/* main's COW faults (for listings) */
};

struct orbit_area *area_create(unsigned long addr, unsigned long size,
			       unsigned int flags,
			       const struct orbit_acct *acct);
struct orbit_area *area_get(struct orbit_area *area);
void area_put(struct orbit_area *area);
/* What a snapshot cost: pages frozen (write-protected) and copied. */
struct snap_cost {
	u64 frozen, copied;
};

int area_snapshot(struct orbit_area *area, struct pt_node **root,
		  struct snap_cost *cost);
void area_snapshot_end(struct orbit_area *area);
unsigned long area_dirty_hint(struct orbit_area *area);
bool area_mapped_at(struct orbit_area *area, struct vm_area_struct *vma);
void area_set_mode(struct orbit_area *area, unsigned int flags);
void area_discard(struct orbit_area *area, unsigned long first,
		  unsigned long n);

/* ---- view.c: an orbit's view of an area ---- */

/*
 * A view.  References: its orbit's view list (for the generation that
 * made it, until that generation dies or the area is destroyed) and the
 * orbit's mapping of it (the view file).  It holds references on its
 * area, on the orbit's mm (mm_count) and on its file's inode.
 */
struct orbit_view {
	struct kref ref;
	struct orbit_area *area;
	struct mm_struct *mm;	/* the orbit's mm (grabbed) */
	struct inode *inode;	/* of its mapping file (held) */
	struct address_space *mapping;	/* inode's, for zaps */
	struct list_head node;	/* in orbit->views */
	struct list_head area_node;	/* in area->views, while mapped */
	/* Protects root, priv: view faults and installs serialise. */
	struct mutex lock;
	struct pt_node *root;	/* installed snapshot */
	/* The view's own pages: written, zero fill, and mirrors (view.c). */
	struct xarray priv;
	unsigned int nmirrors;	/* priv entries marked VIEW_MIRROR */
	/*
	 * Bitmaps of fault-around blocks (atomic bit operations): used, the
	 * blocks the task has faulted in, set under lock before the fault maps
	 * anything and never cleared: installs map their changed pages, and
	 * need not zap the others; unmapped, the blocks copy-out unmapped
	 * since the last install, which maps them again.
	 */
	unsigned long *used, *unmapped;
};

struct orbit_view *view_create(struct orbit_area *area);
void view_put(struct orbit_view *view);
unsigned long view_install(struct orbit_view *view, struct pt_node *root,
			   struct pt_node **replaced);
void view_unmap(struct orbit_view *view);
void views_unmap_page(struct orbit_area *area, unsigned long idx);

/* ---- argbuf.c: large call arguments' buffers, kept per context ---- */
#define ARGBUF_KEEP	4

struct argbuf_kept {
	void *data;
	size_t alloc;		/* bytes allocated and charged */
};

/* A context's kept buffers, buf[0..n) in no order; lock innermost. */
struct argbuf_keep {
	spinlock_t lock;	/* n and buf */
	unsigned int n;
	struct argbuf_kept buf[ARGBUF_KEEP];
};

void argbuf_init(struct argbuf_keep *keep);
void *argbuf_get(struct orbit_ctx *ctx, size_t size, size_t *alloc, int *err);
void argbuf_put(struct orbit_ctx *ctx, void *data, size_t alloc);
void argbuf_drop(struct orbit_ctx *ctx);

/*
 * A main context.  References: the /dev/orbit file (until released), each
 * orbit (ob->ctx), its anchor mapping's file (until main's address space
 * goes or main unmaps it) and its teardown work while queued.
 *
 * Bound to main at the handshake: pid, mm, cred, acct, features and the
 * anchor never change after it.  Torn down (dead) once, by the first of:
 * main's address space going away (exit, exec), main unmapping the
 * anchor, the last release of the file.  Teardown kills its orbits,
 * drops its areas and futures, and kills its spawner.
 */
struct orbit_ctx {
	struct kref ref;
	/*
	 * Protects ready, dead, the orbit and area tables, the limits'
	 * accounting (norbits, nareas, area_bytes) and spawner.
	 */
	struct mutex lock;
	bool ready;		/* handshake done */
	bool dead;		/* torn down */
	struct pid *pid;	/* main's thread group (held) */
	struct mm_struct *mm;	/* main's mm (grabbed) */
	const struct cred *cred;	/* main's, at the handshake (held) */
	struct orbit_acct acct;	/* what its objects are charged to */
	u64 features;		/* asked for at the handshake */
	char comm[TASK_COMM_LEN];	/* main's command name */
	unsigned long anchor;	/* its address in main */
	/*
	 * Ids are allocated cyclically: a stale id (a handle kept after a
	 * destroy) names nothing, not the next object, for a long while.
	 */
	struct idr orbits;	/* id -> struct orbit (one reference) */
	struct idr areas;	/* id -> struct orbit_area (one reference) */
	/*
	 * Futures: id -> struct orbit_call (one reference), hashed, under
	 * calls_lock; ids cyclic too.  Not an xarray: a main with one call
	 * at a time made it allocate and free a node per call.
	 */
	spinlock_t calls_lock;
	DECLARE_HASHTABLE(calls, 6);
	u32 next_call;
	unsigned int norbits;	/* entries in orbits */
	unsigned int nareas;	/* entries in areas */
	unsigned long area_bytes;
	struct pid *spawner;	/* library's spawner, killed with main */
	struct list_head all;	/* in the listing's list of contexts */
	struct work_struct teardown;	/* queued when main's mm goes */
	struct argbuf_keep argbufs;	/* large arguments' buffers for reuse */
};

extern struct workqueue_struct *orbit_wq;	/* main.c */
int orbit_dev_init(void);
void orbit_dev_exit(void);

struct orbit_ctx *ctx_alloc(void);
void ctx_put(struct orbit_ctx *ctx);
void ctx_teardown(struct orbit_ctx *ctx);
void ctx_unmap_anchor(struct orbit_ctx *ctx);
long ctx_handshake(struct orbit_ctx *ctx, void __user *uarg);
long ctx_ioctl(struct orbit_ctx *ctx, unsigned int cmd, void __user *uarg);
bool orbit_kill_allowed(const struct cred *cred, struct pid *pid);
void orbit_kill_pid(struct pid *pid, const struct cred *cred);

/* ---- orbits.c: an orbit, its generations and its death ---- */
enum orbit_state { ORBIT_SPAWNING, ORBIT_READY, ORBIT_DEAD };

/*
 * An orbit.  References: its context's table (until destroyed or the
 * context ends), each orbit descriptor (orbit_fd.c), each call naming it,
 * and the timeout scanner while it looks at it.  It holds a reference on
 * its context.
 *
 * An orbit lives through generations: each attached process is one, and
 * ends (state DEAD) when the process exits or execs, a call times out,
 * main destroys the orbit, or main ends; ORBIT_IOC_RESPAWN starts the
 * next.  Everything a generation owns (its process, the running call,
 * the task loop's thread, its views) is tagged with or checked against
 * the generation number, so a late actor of an old generation can never
 * touch the new one.
 */
struct orbit {
	struct kref ref;
	struct orbit_ctx *ctx;	/* holds a reference; constant */
	u32 id;			/* constant once in the table */
	char name[ORBIT_NAME_MAX];
	u64 timeout;		/* ns a call may take, 0 = forever; constant */
	bool observe;		/* observe only: its pushes fail; constant */
	struct list_head timed;	/* in the timeout scanner's list */
	/* Protects the fields below up to view_lock; wq waits on them. */
	spinlock_t lock;
	wait_queue_head_t wq;	/* the task loop waits here for calls */
	enum orbit_state state;
	u32 gen;		/* generation, bumped by respawn */
	struct pid *pid;	/* the generation's process, after attach */
	struct mm_struct *mm;	/* its mm (pointer only), after attach */
	struct task_struct *runner;	/* thread in the task loop (compared) */
	struct list_head queue;	/* FIFO of struct orbit_call (their refs) */
	unsigned int nqueued;
	struct orbit_call *running;	/* holds the queue's reference */
	unsigned long deadline;	/* jiffies by which it must progress */
	bool has_deadline;
	u64 calls_done;
	u64 calls_failed;
	u32 restarts;
	u32 death;		/* ORBIT_DEATH_* of the last death */
	s32 death_code;
	/* Protects views and views_gen; taken by installs and kills. */
	struct mutex view_lock;
	struct list_head views;	/* of generation views_gen */
	u32 views_gen;
	struct xarray bound;	/* ids of the areas bound to it */
	/* Early wakeups (wake.c): hints, no lock. */
	atomic_t prewake;	/* callers snapshotting after a prewake */
	int loop_cpu;		/* where the task loop last slept; -1 */
	unsigned int early_skip;	/* early wakes not to make */
	unsigned int early_backoff;	/* early_skip after the last miss */
};

#define ORBIT_ANY_GEN	U32_MAX

struct orbit *orbit_alloc(struct orbit_ctx *ctx, const char *name,
			  u64 timeout_ns, bool observe);
void orbit_put(struct orbit *ob);
void orbit_kill(struct orbit *ob, int err, u32 cause);
void orbit_kill_gen(struct orbit *ob, int err, u32 gen, u32 cause,
		    s32 code);
int orbit_respawn(struct orbit *ob, u32 *gen);
int orbit_bind_area(struct orbit *ob, u32 area_id);
void orbit_unbind_area(struct orbit *ob, u32 area_id);
int orbit_enqueue(struct orbit *ob, struct orbit_call *call);
int orbit_cancel_call(struct orbit *ob, struct orbit_call *call);
void orbit_query_fill(struct orbit *ob, struct orbit_query *q);
struct orbit_call *orbit_next_call(struct orbit *ob, u32 gen);
struct orbit_call *orbit_take_running(struct orbit *ob, u32 gen,
				      struct orbit_call *expect);
bool orbit_gen_alive(struct orbit *ob, u32 gen);
int orbit_install(struct orbit *ob, u32 gen, struct orbit_call *call,
		  u64 *changed);
void orbit_timeouts_exit(void);

/* ---- orbit_fd.c: the orbit descriptor ---- */
int orbit_install_fd(struct orbit *ob, u32 gen, u32 flags, s32 __user *fdp);

/* ---- orbit_trace.h: durations reported by trace events ---- */
/*
 * The clock is read only while the event is enabled: where the
 * clocksource is the HPET (emulators), a read is a device access that
 * cost a call more than its snapshot.  A duration whose start was not
 * read (the event was enabled in between) reads 0.
 */
static inline u64 orbit_trace_clock(bool enabled)
{
	return enabled ? ktime_get_ns() : 0;
}

static inline u64 orbit_trace_since(u64 t0)
{
	return t0 ? ktime_get_ns() - t0 : 0;
}

/* ---- call.c: calls, their snapshots and their futures ---- */
struct orbit_snap {
	struct orbit_area *area;	/* holds a reference */
	struct pt_node *root;	/* the snapshot, until the orbit takes it */
	/*
	 * The snapshot its install replaced, if big (view_install): handed
	 * to the free worker when the call ends (call_finish), so after the
	 * task, which it would delay, and before the caller is woken, so a
	 * counters read after the call waits for it.  xchg.
	 */
	struct pt_node *replaced;
	int live;		/* counted in area->live_snaps (xchg) */
};

enum call_state { CALL_QUEUED, CALL_RUNNING, CALL_DONE };

/*
 * A call.  References: the orbit's (its queue entry, then its running
 * slot, until the call ends: call_finish() drops it), the future's (the
 * context's calls table, until waited for or the context ends), a sync
 * caller's while it waits, and one per thread looking at it (lookups,
 * the task loop while it installs it).  It holds a reference on its
 * orbit (once resolved) and on each area it names.  Its charge (the
 * struct, with a small argument) is returned to ctx->acct when it is
 * freed, and a large argument's buffer is kept in ctx (argbuf.c); ctx stays
 * valid as long as the call, through the orbit's reference or (before
 * the orbit is resolved) the issuing thread's file.
 */
struct orbit_call {
	struct kref ref;
	u32 id;			/* future id, 0 without a future */
	u32 flags;
	struct hlist_node hnode;	/* in ctx->calls while it has a future */
	struct orbit_ctx *ctx;	/* no reference: see above */
	struct orbit *orbit;
	u64 func;
	u64 tag;		/* opaque to the module, for the task */
	void *arg;		/* inline, or a buffer of argalloc bytes (argbuf.c) */
	size_t argalloc;	/* 0: inline or none */
	u32 argsize;
	size_t charged;		/* bytes charged to the context's user */
	u64 issued_ns;		/* orbit_trace_clock() at issue */
	enum call_state state;	/* set under orbit->lock */
	bool queued;		/* on orbit->queue (orbit->lock) */
	long retval;
	int error;		/* 0 or a negative errno */
	wait_queue_head_t done;	/* WAIT and sync calls wait here: the end */
	wait_queue_head_t pullq;	/* pulls wait here: an update, the end */
	struct list_head node;	/* in orbit->queue */
	struct list_head updates;	/* pushed, not pulled (orbit->lock) */
	size_t upd_bytes;	/* their size (orbit->lock) */
	/* Early wake (wake.c): hints, no lock. */
	bool early;		/* the orbit has it: its waiters may poll */
	bool early_spent;	/* a poll of it ran out (wake.c) */
	int wait_cpu;		/* where a waiter last slept; -1 */
	unsigned int nsnap;
	struct orbit_snap snap[];	/* then a small argument, inline */
};

long call_issue(struct orbit_ctx *ctx, void __user *uarg);
long call_wait(struct orbit_ctx *ctx, void __user *uarg);
void call_finish(struct orbit_call *call, long retval, int error);
void call_get(struct orbit_call *call);
void call_put(struct orbit_call *call);
struct pt_node *call_take_root(struct orbit_call *call, unsigned int i);
void call_keep_replaced(struct orbit_call *call, unsigned int i,
			struct pt_node *old);
void call_drop_futures(struct orbit_ctx *ctx);
bool call_done(struct orbit_call *call);
struct orbit_call *call_lookup(struct orbit_ctx *ctx, u64 id);
void call_unpublish(struct orbit_ctx *ctx, struct orbit_call *call);

/* ---- mc.c: page copies and the memory errors they may read ---- */
#define ORBIT_MC_AUTO	2	/* mc_copy: choose by timing both copies */
extern unsigned int orbit_mc_copy;	/* 0 plain, 1 surviving copies */
extern unsigned int orbit_mc_fail;	/* debug_mc_fail */
#define ORBIT_MC_FAIL_MAX	1000000
/* 1 if surviving copies cost at most a few plain ones here, else 0. */
unsigned int orbit_mc_choose(void);
/*
 * Copies page src into dst: 0, or -EHWPOISON if src has a memory error
 * (marked, or read by a surviving copy, which reports it).  live: main
 * may be writing src meanwhile; each word of dst is then one src held.
 */
int orbit_copy_page(struct page *dst, struct page *src, bool live);
/* The same into a kernel buffer of PAGE_SIZE, always a surviving copy. */
int orbit_mc_read(void *to, struct page *src);

/* ---- wake.c: early wakeups of a call's sleepers ---- */
extern unsigned int orbit_poll_us;
#define ORBIT_POLL_US_MAX	USEC_PER_SEC
/*
 * Polls ready(arg) for at most poll_us: true once it holds; false when the
 * CPU is wanted or a signal is pending, or (*spent) the time ran out.
 */
bool orbit_poll(bool (*ready)(void *arg), void *arg, bool *spent);
/* Before a call's snapshot: wakes the task loop to poll; true if it did. */
bool orbit_prewake_begin(struct orbit *ob, struct orbit_call *call);
/* After the call is queued (or failed): ends what _begin started. */
void orbit_prewake_end(struct orbit *ob, bool prewoken);
/* The task loop took call: wakes its waiters to poll for what they wait for. */
void orbit_wake_early(struct orbit *ob, struct orbit_call *call);
/*
 * Sleeps on wq (call->done or call->pullq) until ready(call); woken early,
 * polls for it once first.  0, or -ERESTARTSYS on a signal.
 */
int orbit_wait_call(struct orbit_call *call, struct wait_queue_head *wq,
		    bool (*ready)(void *call));

/* ---- update.c: update transport and apply checks ---- */
int update_req_read(struct orbit_push *req, void __user *uarg);
int update_append(struct orbit *ob, struct orbit_call *call,
		  const struct orbit_push *req, bool wake);
long update_push(struct orbit *ob, u32 gen, void __user *uarg);
long update_pull(struct orbit_ctx *ctx, void __user *uarg);
long update_check(struct orbit_ctx *ctx, void __user *uarg);
void upd_free_list(struct orbit_ctx *ctx, struct list_head *list);

#endif /* ORBIT_INTERNAL_H */
