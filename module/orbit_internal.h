/* SPDX-License-Identifier: GPL-2.0 */
/*
 * orbit.ko internal definitions shared by the module's files.
 */
#ifndef ORBIT_INTERNAL_H
#define ORBIT_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

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
extern bool orbit_debug_full_snapshot;

#define ORBIT_CHECK_MAX	4096	/* entries per ORBIT_IOC_CHECK */

/* Supported features and ioctls, answered by the handshake. */
#define ORBIT_FEATURES	(ORBIT_FEAT_COPY_MODE | ORBIT_FEAT_AUTO_MODE | \
			 ORBIT_FEAT_UPDATES | ORBIT_FEAT_RESTART |	\
			 ORBIT_FEAT_TIMEOUT)

/* stats.c: module-wide counters, all updated locklessly. */
enum orbit_stat {
	OS_CONTEXTS, OS_ORBITS, OS_AREAS, OS_VIEWS, OS_PAGES, OS_NODES,
	OS_CALLS, OS_UPDATES, OS_CALLS_TOTAL, OS_CALLS_FAILED, OS_COW_FAULTS,
	OS_COPY_PAGES, OS_SNAPSHOTS, OS_ORBIT_DEATHS, OS_UPDATE_PAGES,
	OS_INSTALL_FAILURES, OS_NR
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
void orbit_stats_fill(struct orbit_stats *st);
long orbit_stats_ioctl(void __user *arg);
long orbit_list_ioctl(void __user *arg);
void orbit_list_add(struct orbit_ctx *ctx);
void orbit_list_del(struct orbit_ctx *ctx);

/* ---- ptree.c: persistent page tree ---- */
#define PT_SHIFT	9
#define PT_FANOUT	(1U << PT_SHIFT)

struct pt_pool;

struct pt_node {
	refcount_t ref;		/* parents, area->cur and snapshots */
	unsigned int level;	/* 0: slots are pages, else child nodes */
	struct pt_pool *pool;	/* its area's: where it and its pages go */
	struct llist_node free;	/* on the deferred free list (pt_put_async) */
	void *slot[PT_FANOUT];
};

struct page *opage_alloc(bool zero);
struct page *opage_copy(struct page *src);
void opage_get(struct page *page);
void opage_put(struct page *page);
void opage_put_pool(struct pt_pool *pool, struct page *page);
struct page *opage_copy_pool(struct pt_pool *pool, struct page *src);
struct pt_pool *pt_pool_create(void);
void pt_pool_close(struct pt_pool *pool);
struct pt_node *pt_get(struct pt_node *n);
void pt_put(struct pt_node *n);
void pt_put_async(struct pt_node *n);
void pt_flush(void);
unsigned int pt_levels(unsigned long npages);
struct page *pt_lookup(struct pt_node *root, unsigned long idx, bool *shared);
int pt_set(struct pt_pool *pool, struct pt_node **rootp, unsigned int levels,
	   unsigned long idx, struct page *page, struct page **old);
struct pt_node *pt_deep_copy(struct pt_node *n);
int pt_diff(struct pt_node *a, struct pt_node *b, unsigned int levels,
	    int (*fn)(void *ctx, unsigned long idx), void *ctx);
int pt_init(void);
void pt_exit(void);

/* ---- area.c: areas, their mappings and snapshots ---- */
struct orbit_area {
	struct kref ref;	/* ctx table, main mapping, views, snapshots */
	u32 id;			/* in its context (set by the context) */
	unsigned long addr, size, npages;
	unsigned int levels;	/* of its page tree */
	bool copy_mode;		/* snapshot by copying every page */
	bool auto_mode;		/* per-page COW/COPY choice */
	bool dead;		/* destroyed: orbits drop their views */
	struct mm_struct *mm;	/* main's mm (grabbed), for mmap checks */
	struct address_space *mapping;	/* main mapping's, for zaps */
	struct pt_pool *pool;	/* pages and nodes its trees dropped */
	/*
	 * Protects cur, ovl, the dirty sets, meta and seq: faults of the
	 * main mapping and snapshots serialise on it.  Taken before page
	 * locks.
	 */
	struct mutex lock;
	struct pt_node *cur;	/* current page tree */
	struct xarray ovl;	/* COPY-mode pages main writes directly */
	/*
	 * Two index sets, flipped at each snapshot: dirty (written since
	 * the last snapshot) and hot (written before it, so frozen by it).
	 */
	struct xarray dirty_set[2];
	unsigned int dirty_cur;	/* which of them is dirty */
	struct xarray meta;	/* auto mode: per-page fault statistics */
	u64 seq;		/* snapshots taken */
	atomic_long_t npresent;	/* pages allocated (for listings) */
	atomic_long_t cow_faults;	/* main's COW faults (for listings) */
};

struct orbit_view {
	struct kref ref;	/* its orbit and its file */
	struct orbit_area *area;
	struct mm_struct *mm;	/* the orbit's mm (grabbed) */
	struct address_space *mapping;	/* view mapping's, for zaps */
	struct list_head node;	/* in orbit->views */
	/* Protects root and priv: view faults and installs serialise. */
	struct mutex lock;
	struct pt_node *root;	/* installed snapshot */
	struct xarray priv;	/* orbit-private pages (written, zero fill) */
};

struct orbit_area *area_create(unsigned long addr, unsigned long size,
			       unsigned int flags);
struct orbit_area *area_get(struct orbit_area *area);
void area_put(struct orbit_area *area);
int area_snapshot(struct orbit_area *area, struct pt_node **root);
struct orbit_view *view_create(struct orbit_area *area);
void view_put(struct orbit_view *view);
void view_install(struct orbit_view *view, struct pt_node *root);
void view_unmap(struct orbit_view *view);
int area_init(void);
void area_exit(void);

/* ---- dev.c: main contexts ---- */
struct orbit_ctx {
	struct kref ref;	/* its file, its orbits */
	/*
	 * Protects ready, dead, the orbit and area tables and the limits'
	 * accounting (norbits, nareas, area_bytes).
	 */
	struct mutex lock;
	pid_t tgid;		/* owning thread group */
	struct mm_struct *mm;	/* its mm (grabbed at handshake) */
	bool ready;		/* handshake done */
	bool dead;		/* torn down: main exited or closed it */
	kuid_t euid;		/* its user: orbits must run as it */
	struct idr orbits;	/* id -> struct orbit */
	struct idr areas;	/* id -> struct orbit_area */
	struct xarray calls;	/* future id -> struct orbit_call */
	u32 next_call;		/* cyclic future id allocation */
	unsigned int norbits;	/* entries in orbits */
	unsigned int nareas;	/* entries in areas */
	unsigned long area_bytes;
	struct pid *spawner;	/* library's spawner, killed with main */
	struct list_head all;	/* in the listing's list of contexts */
};

void ctx_put(struct orbit_ctx *ctx);
int orbit_dev_init(void);
void orbit_dev_exit(void);

/* ---- lifecycle.c: orbit lifecycle and the orbit's task loop ---- */
enum orbit_state { ORBIT_SPAWNING, ORBIT_READY, ORBIT_DEAD };

struct orbit {
	struct kref ref;	/* ctx table, its file, calls in flight */
	struct orbit_ctx *ctx;	/* holds a reference */
	u32 id;
	char name[ORBIT_NAME_MAX];
	/* Protects state, queue, nqueued and running; wq waits on them. */
	spinlock_t lock;
	wait_queue_head_t wq;	/* the orbit waits here for calls */
	enum orbit_state state;
	struct list_head queue;	/* FIFO of struct orbit_call */
	unsigned int nqueued;
	struct orbit_call *running;
	struct pid *pid;	/* orbit's thread group, after attach */
	struct mm_struct *mm;	/* orbit's mm (pointer only), after attach */
	/* Protects views; taken by the orbit's task loop and teardown. */
	struct mutex view_lock;
	struct list_head views;
	struct xarray bound;	/* ids of the areas bound to it */
	u64 calls_done;		/* under lock */
	u32 gen;		/* generation, bumped by respawn (lock) */
	u32 restarts;		/* respawns so far (lock) */
	u64 timeout;		/* ns a call may run, 0 = forever */
	struct list_head timed;	/* in the timeout scanner's list */
};

#define ORBIT_ANY_GEN	U32_MAX

struct orbit *orbit_alloc(struct orbit_ctx *ctx, const char *name,
			  u64 timeout_ns);
int orbit_install_fd(struct orbit *ob, s32 __user *fdp);
int orbit_bind_area(struct orbit *ob, u32 area_id);
int orbit_respawn(struct orbit *ob);
void orbit_timeouts_exit(void);
void orbit_put(struct orbit *ob);
void orbit_kill(struct orbit *ob, int err);
long orbit_fd_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* ---- call.c: calls, their snapshots and the per-orbit FIFO ---- */
struct orbit_snap {
	struct orbit_area *area;
	struct pt_node *root;
};

enum call_state { CALL_QUEUED, CALL_RUNNING, CALL_DONE };

struct orbit_call {
	struct kref ref;	/* the orbit's queue, the future, a waiter */
	u32 id;			/* future id, 0 without a future */
	u32 flags;
	struct orbit *orbit;
	u64 func;
	void *arg;
	u32 argsize;
	unsigned long deadline;	/* jiffies, with an orbit timeout */
	enum call_state state;	/* set under orbit->lock */
	long retval;
	int error;		/* 0 or a negative errno */
	wait_queue_head_t done;	/* main waits here: end, updates */
	struct list_head node;	/* in orbit->queue */
	struct list_head updates;	/* pushed, not pulled (orbit->lock) */
	size_t upd_bytes;	/* their size (orbit->lock) */
	unsigned int nsnap;
	struct orbit_snap snap[];	/* then a small argument, inline */
};

long call_issue(struct orbit_ctx *ctx, void __user *uarg);
long call_wait(struct orbit_ctx *ctx, void __user *uarg);
void call_finish(struct orbit_call *call, long retval, int error);
void call_put(struct orbit_call *call);
struct pt_node *call_take_root(struct orbit_call *call, unsigned int i);
void call_drop_futures(struct orbit_ctx *ctx);
bool call_done(struct orbit_call *call);
struct orbit_call *call_lookup(struct orbit_ctx *ctx, u64 id,
			       const u64 reserved[2]);

/* ---- update.c: update transport and apply checks ---- */
long update_push(struct orbit *ob, void __user *uarg);
long update_pull(struct orbit_ctx *ctx, void __user *uarg);
long update_check(struct orbit_ctx *ctx, void __user *uarg);
void upd_free_list(struct list_head *list);

/*
 * vm_flags became read-only (accessors only) in 6.3; Kbuild detects the
 * accessor in the headers instead of testing version numbers.
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

#endif /* ORBIT_INTERNAL_H */
