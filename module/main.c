// SPDX-License-Identifier: GPL-2.0
/*
 * orbit.ko: operating-system support for safe and efficient auxiliary tasks.
 *
 * Module entry points and limits.  Each object lives in its own file
 * (see orbit_internal.h for the list, the reference rules and the lock
 * order).
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/workqueue.h>

#include "orbit_internal.h"

#define CREATE_TRACE_POINTS
#include "orbit_trace.h"

unsigned int orbit_max_orbits = 64;
module_param_named(max_orbits, orbit_max_orbits, uint, 0644);
MODULE_PARM_DESC(max_orbits, "Orbits per main program (default 64)");

unsigned int orbit_max_areas = 1024;
module_param_named(max_areas, orbit_max_areas, uint, 0644);
MODULE_PARM_DESC(max_areas, "Areas per main program (default 1024)");

unsigned int orbit_max_queue = 4096;
module_param_named(max_queue, orbit_max_queue, uint, 0644);
MODULE_PARM_DESC(max_queue, "Queued calls per orbit (default 4096)");

unsigned long orbit_max_area_size = 64UL << 30;
module_param_named(max_area_size, orbit_max_area_size, ulong, 0644);
MODULE_PARM_DESC(max_area_size, "Largest area in bytes (default 64 GiB)");

unsigned long orbit_max_main_bytes = 256UL << 30;
module_param_named(max_main_bytes, orbit_max_main_bytes, ulong, 0644);
MODULE_PARM_DESC(max_main_bytes,
		 "Area address space per main program (default 256 GiB)");

/*
 * A uint parameter whose setter rejects values outside [min, max] with
 * EINVAL (the ops name##_ops, their setter name##_set).
 */
#define ORBIT_PARAM_UINT(name, var, min, max)				\
static int name##_set(const char *val, const struct kernel_param *kp)	\
{									\
	return param_set_uint_minmax(val, kp, min, max);		\
}									\
static const struct kernel_param_ops name##_ops = {			\
	.set = name##_set,						\
	.get = param_get_uint,						\
};									\
module_param_cb(name, &name##_ops, &(var), 0644)

unsigned int orbit_max_arg = 65536;
ORBIT_PARAM_UINT(max_arg, orbit_max_arg, 0, ORBIT_MAX_ARG_LIMIT);
MODULE_PARM_DESC(max_arg,
		 "Argument buffer bytes per call (default 65536, at most 1 GiB)");

unsigned int orbit_max_call_areas = 64;
ORBIT_PARAM_UINT(max_call_areas, orbit_max_call_areas, 0,
		 ORBIT_MAX_CALL_AREAS_LIMIT);
MODULE_PARM_DESC(max_call_areas,
		 "Areas named by one call (default 64, at most 4096)");

unsigned int orbit_max_update = 16 << 20;
ORBIT_PARAM_UINT(max_update, orbit_max_update, 0, ORBIT_MAX_UPDATE_LIMIT);
MODULE_PARM_DESC(max_update,
		 "Bytes per update (default 16 MiB, at most 1 GiB); 4x that may wait per call");

/* Half of the machine's memory: what 0 means, at load and later. */
static unsigned long max_user_bytes_default(void)
{
	return (totalram_pages() << PAGE_SHIFT) / 2;
}

static int max_user_bytes_set(const char *val, const struct kernel_param *kp)
{
	unsigned long v;
	int err = kstrtoul(val, 0, &v);

	if (err)
		return err;
	WRITE_ONCE(*(unsigned long *)kp->arg, v ? v : max_user_bytes_default());
	return 0;
}

static const struct kernel_param_ops max_user_bytes_ops = {
	.set = max_user_bytes_set,
	.get = param_get_ulong,
};

unsigned long orbit_max_user_bytes;
module_param_cb(max_user_bytes, &max_user_bytes_ops, &orbit_max_user_bytes,
		0644);
MODULE_PARM_DESC(max_user_bytes,
		 "Bytes of area pages, snapshots, calls and updates one user may hold (EDQUOT beyond; default and 0: half of memory)");

unsigned int orbit_poll_us = 500;
ORBIT_PARAM_UINT(poll_us, orbit_poll_us, 0, ORBIT_POLL_US_MAX);
MODULE_PARM_DESC(poll_us,
		 "Microseconds a woken-early waiter of a call may poll (0: no early wakeups; default 500, at most 1 s)");

unsigned int orbit_write_around = 16;
ORBIT_PARAM_UINT(write_around, orbit_write_around, 0, ORBIT_WRITE_AROUND_MAX);
MODULE_PARM_DESC(write_around,
		 "Pages a write fault on an area also makes writable, if main wrote them in the last interval (0: off; default 16, at most 32)");

unsigned int orbit_zero_refs = ORBIT_ZERO_REFS_MAX;
ORBIT_PARAM_UINT(debug_zero_refs, orbit_zero_refs, 2, ORBIT_ZERO_REFS_MAX);
MODULE_PARM_DESC(debug_zero_refs,
		 "Tests only: references a zero page that views and main map takes before the next one serves (default and at most 2^30)");

unsigned int orbit_fault_delay_us;
ORBIT_PARAM_UINT(debug_fault_delay_us, orbit_fault_delay_us, 0,
		 ORBIT_FAULT_DELAY_MAX);
MODULE_PARM_DESC(debug_fault_delay_us,
		 "Tests only: microseconds the faults of debug_fault_delay_kinds sleep between choosing their page and the kernel mapping it (default 0, at most 1000)");

unsigned int orbit_fault_delay_kinds = ORBIT_FAULT_KINDS;
ORBIT_PARAM_UINT(debug_fault_delay_kinds, orbit_fault_delay_kinds, 0,
		 ORBIT_FAULT_KINDS);
MODULE_PARM_DESC(debug_fault_delay_kinds,
		 "Tests only: the faults debug_fault_delay_us delays: 1 main's reads, 2 main's writes, 4 an orbit's writes (default 7: all)");

static int mc_copy_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err = kstrtouint(val, 0, &v);

	if (err)
		return err;
	if (v > ORBIT_MC_AUTO)
		return -EINVAL;
	WRITE_ONCE(orbit_mc_copy, v == ORBIT_MC_AUTO ? orbit_mc_choose() : v);
	return 0;
}

static const struct kernel_param_ops mc_copy_ops = {
	.set = mc_copy_set,
	.get = param_get_uint,
};

module_param_cb(mc_copy, &mc_copy_ops, &orbit_mc_copy, 0644);
MODULE_PARM_DESC(mc_copy,
		 "Page copies that survive a memory error they read: 1 yes, 0 no (fatal, faster under emulators), 2 (default): 1 unless they cost over 3x plain ones here (mc.c)");

ORBIT_PARAM_UINT(debug_mc_fail, orbit_mc_fail, 0, ORBIT_MC_FAIL_MAX);
MODULE_PARM_DESC(debug_mc_fail,
		 "Tests only: the next N surviving page copies fail as if they had read a memory error (default 0)");

/* The module's own work: contexts' teardowns (flushed at unload). */
struct workqueue_struct *orbit_wq;

bool orbit_debug_full_snapshot;
module_param_named(debug_full_snapshot, orbit_debug_full_snapshot, bool, 0644);
MODULE_PARM_DESC(debug_full_snapshot,
		 "Benchmarks only: freeze every page, copy the whole snapshot tree and remap every view page on every call");

static int __init orbit_init(void)
{
	int err;

	if (!orbit_max_user_bytes)	/* not given at load */
		orbit_max_user_bytes = max_user_bytes_default();
	if (orbit_mc_copy == ORBIT_MC_AUTO)	/* not given at load */
		orbit_mc_copy = orbit_mc_choose();
	orbit_wq = alloc_workqueue("orbit", 0, 0);
	if (!orbit_wq)
		return -ENOMEM;
	err = pt_init();
	if (err)
		goto err_wq;
	err = orbit_mapfs_init();
	if (err)
		goto err_pt;
	err = orbit_dev_init();
	if (err)
		goto err_mapfs;
	return 0;
err_mapfs:
	orbit_mapfs_exit();
err_pt:
	pt_exit();
err_wq:
	destroy_workqueue(orbit_wq);
	return err;
}

static void __exit orbit_exit(void)
{
	orbit_dev_exit();
	destroy_workqueue(orbit_wq);	/* runs what is queued */
	orbit_timeouts_exit();
	orbit_mapfs_exit();
	pt_exit();
}

module_init(orbit_init);
module_exit(orbit_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("orbit: isolated auxiliary tasks with copy-on-write snapshots");
MODULE_AUTHOR("orbit developers");
MODULE_VERSION(ORBIT_VERSION);
