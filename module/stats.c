// SPDX-License-Identifier: GPL-2.0
/*
 * Module-wide counters: live objects (for leak checks) and event totals.
 */
#include <linux/uaccess.h>

#include "orbit_internal.h"

atomic64_t orbit_stats[OS_NR];

void orbit_stats_fill(struct orbit_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->contexts = atomic64_read(&orbit_stats[OS_CONTEXTS]);
	st->orbits = atomic64_read(&orbit_stats[OS_ORBITS]);
	st->areas = atomic64_read(&orbit_stats[OS_AREAS]);
	st->views = atomic64_read(&orbit_stats[OS_VIEWS]);
	st->pages = atomic64_read(&orbit_stats[OS_PAGES]);
	st->nodes = atomic64_read(&orbit_stats[OS_NODES]);
	st->calls = atomic64_read(&orbit_stats[OS_CALLS]);
	st->updates = atomic64_read(&orbit_stats[OS_UPDATES]);
	st->calls_total = atomic64_read(&orbit_stats[OS_CALLS_TOTAL]);
	st->calls_failed = atomic64_read(&orbit_stats[OS_CALLS_FAILED]);
	st->cow_faults = atomic64_read(&orbit_stats[OS_COW_FAULTS]);
	st->copy_pages = atomic64_read(&orbit_stats[OS_COPY_PAGES]);
	st->snapshots = atomic64_read(&orbit_stats[OS_SNAPSHOTS]);
	st->orbit_deaths = atomic64_read(&orbit_stats[OS_ORBIT_DEATHS]);
	st->update_pages = atomic64_read(&orbit_stats[OS_UPDATE_PAGES]);
}

long orbit_stats_ioctl(void __user *arg)
{
	struct orbit_stats st;

	orbit_stats_fill(&st);
	if (copy_to_user(arg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}
