// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test only, for a kernel with lockdep (make soak-debug): a
 * planted lock-order inversion.  It takes two mutexes in one order, then
 * in the other; one thread cannot deadlock that way, but lockdep reports
 * the inversion ("possible circular locking dependency") as it would
 * between two threads.  The harness must fail the run on that report.
 */
#include <linux/module.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(selftest_a);
static DEFINE_MUTEX(selftest_b);

static int __init selftest_lock_init(void)
{
	mutex_lock(&selftest_a);
	mutex_lock(&selftest_b);
	mutex_unlock(&selftest_b);
	mutex_unlock(&selftest_a);
	/* The bug: b, then a. */
	mutex_lock(&selftest_b);
	mutex_lock(&selftest_a);
	mutex_unlock(&selftest_a);
	mutex_unlock(&selftest_b);
	return 0;
}

static void __exit selftest_lock_exit(void)
{
}

module_init(selftest_lock_init);
module_exit(selftest_lock_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("orbit test harness self-test: planted lock-order inversion");
