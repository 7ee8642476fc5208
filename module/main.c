// SPDX-License-Identifier: GPL-2.0
/*
 * orbit.ko: operating-system support for safe and efficient auxiliary tasks.
 *
 * Module entry points and limits.  Each concern lives in its own file:
 * dev.c (device, contexts, ioctl dispatch), lifecycle.c (orbit lifecycle and
 * task loop), call.c (calls, futures, FIFO), area.c (areas, mappings,
 * snapshots), ptree.c (persistent page tree), update.c (update transport),
 * stats.c (counters).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "orbit_internal.h"

unsigned int orbit_max_orbits = 64;
module_param_named(max_orbits, orbit_max_orbits, uint, 0644);
MODULE_PARM_DESC(max_orbits, "Orbits per main program (default 64)");

unsigned int orbit_max_areas = 1024;
module_param_named(max_areas, orbit_max_areas, uint, 0644);
MODULE_PARM_DESC(max_areas, "Areas per main program (default 1024)");

unsigned int orbit_max_queue = 4096;
module_param_named(max_queue, orbit_max_queue, uint, 0644);
MODULE_PARM_DESC(max_queue, "Queued calls per orbit (default 4096)");

unsigned int orbit_max_arg = 65536;
module_param_named(max_arg, orbit_max_arg, uint, 0644);
MODULE_PARM_DESC(max_arg, "Argument buffer bytes per call (default 65536)");

unsigned int orbit_max_call_areas = 64;
module_param_named(max_call_areas, orbit_max_call_areas, uint, 0644);
MODULE_PARM_DESC(max_call_areas, "Areas named by one call (default 64)");

unsigned long orbit_max_area_size = 64UL << 30;
module_param_named(max_area_size, orbit_max_area_size, ulong, 0644);
MODULE_PARM_DESC(max_area_size, "Largest area in bytes (default 64 GiB)");

unsigned long orbit_max_main_bytes = 256UL << 30;
module_param_named(max_main_bytes, orbit_max_main_bytes, ulong, 0644);
MODULE_PARM_DESC(max_main_bytes,
		 "Area address space per main program (default 256 GiB)");

unsigned int orbit_max_update = 16 << 20;
module_param_named(max_update, orbit_max_update, uint, 0644);
MODULE_PARM_DESC(max_update,
		 "Bytes per update (default 16 MiB); 4x that may wait per call");

bool orbit_debug_full_snapshot;
module_param_named(debug_full_snapshot, orbit_debug_full_snapshot, bool, 0644);
MODULE_PARM_DESC(debug_full_snapshot,
		 "Benchmarks only: freeze every page, copy the whole snapshot tree and remap every view page on every call");

static int __init orbit_init(void)
{
	int err;

	err = pt_init();
	if (err)
		return err;
	err = area_init();
	if (err)
		goto err_pt;
	err = orbit_dev_init();
	if (err)
		goto err_area;
	return 0;
err_area:
	area_exit();
err_pt:
	pt_exit();
	return err;
}

static void __exit orbit_exit(void)
{
	orbit_dev_exit();
	orbit_timeouts_exit();
	area_exit();
	pt_exit();
}

module_init(orbit_init);
module_exit(orbit_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("orbit: isolated auxiliary tasks with copy-on-write snapshots");
MODULE_AUTHOR("orbit developers");
MODULE_VERSION("0.1");
