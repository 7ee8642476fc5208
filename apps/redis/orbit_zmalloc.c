// SPDX-License-Identifier: BSD-3-Clause
/*
 * orbit port of Redis: what the ports' heap (orbit_app_heap.h) asks of
 * zmalloc.  An area block starts with zmalloc's size prefix, the bytes
 * after it: this build has no HAVE_MALLOC_SIZE.
 */
#include <stddef.h>

#include "orbit_app_heap.h"

size_t orbit_app_block_size(const void *ptr)
{
	return *(const size_t *)ptr + sizeof(size_t);
}
