// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test only: a planted use-after-free.  It writes into a slab
 * object after freeing it and allocates from the cache again, which the
 * guest's slub_debug poisoning reports ("Poison overwritten").  The
 * harness must fail the run on that report.
 */
#include <linux/module.h>
#include <linux/slab.h>

static int __init selftest_uaf_init(void)
{
	struct kmem_cache *c;
	char *p, *q;

	c = kmem_cache_create("orbit_selftest_uaf", 64, 0, SLAB_POISON, NULL);
	if (!c)
		return -ENOMEM;
	p = kmem_cache_alloc(c, GFP_KERNEL);
	if (!p) {
		kmem_cache_destroy(c);
		return -ENOMEM;
	}
	kmem_cache_free(c, p);
	/* The bug: a write through a pointer whose object was freed. */
	WRITE_ONCE(p[8], 0x42);
	q = kmem_cache_alloc(c, GFP_KERNEL);	/* checks the poison */
	if (q)
		kmem_cache_free(c, q);
	kmem_cache_destroy(c);
	return 0;
}

static void __exit selftest_uaf_exit(void)
{
}

module_init(selftest_uaf_init);
module_exit(selftest_uaf_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("orbit test harness self-test: planted use-after-free");
