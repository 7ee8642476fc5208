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

/* Supported features and ioctls, answered by the handshake. */
#define ORBIT_FEATURES	(ORBIT_FEAT_COPY_MODE | ORBIT_FEAT_AUTO_MODE)

/* stats.c: module-wide counters, all updated locklessly. */
enum orbit_stat {
	OS_CONTEXTS, OS_ORBITS, OS_AREAS, OS_VIEWS, OS_PAGES, OS_NODES,
	OS_CALLS, OS_UPDATES, OS_CALLS_TOTAL, OS_CALLS_FAILED, OS_COW_FAULTS,
	OS_COPY_PAGES, OS_SNAPSHOTS, OS_ORBIT_DEATHS, OS_NR
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

void orbit_stats_fill(struct orbit_stats *st);
long orbit_stats_ioctl(void __user *arg);

/*
 * A main context: one per handshaken /dev/orbit descriptor, owned by the
 * thread group that completed the handshake.
 */
struct orbit_ctx {
	struct mutex lock;	/* serialises handshake and context state */
	pid_t tgid;		/* owning thread group */
	bool ready;		/* handshake done */
};

int orbit_dev_init(void);
void orbit_dev_exit(void);

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
