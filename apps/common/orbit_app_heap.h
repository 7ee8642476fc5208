/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application ports' heap: the memory a port's tasks must see (Redis's
 * whole zmalloc heap, memcached's slabs and hash table) comes from one
 * orbit area of the main program, so a task sees a snapshot of it at the
 * address it has in main.  Sources that allocate that memory include
 * orbit_app_heap_redirect.h, which routes malloc, calloc, realloc and free
 * to these functions.
 *
 * In an orbit (a task's own allocations), with ORBIT_<APP>=off in the
 * environment, and where orbits are unavailable, it is the C library's
 * heap.  The build names the application: -DORBIT_APP=REDIS.
 */
#ifndef ORBIT_APP_HEAP_H
#define ORBIT_APP_HEAP_H

#include <stddef.h>

void *orbit_app_malloc(size_t size);
void *orbit_app_calloc(size_t nmemb, size_t size);
void *orbit_app_realloc(void *ptr, size_t size);
void orbit_app_free(void *ptr);

/*
 * Defined by the port: the bytes of the block at ptr, an area block a task
 * resizes (in an orbit, where the area allocator's records are not).
 */
size_t orbit_app_block_size(const void *ptr);

struct orbit_area;
/* The area, NULL when the heap is the C library's. */
struct orbit_area *orbit_app_area(void);
/* Why there is no area: "" if there is one or orbits are off on purpose. */
const char *orbit_app_heap_error(void);
/* ORBIT_<APP>=off: every task runs the stock way, in the server. */
int orbit_app_off(void);

#endif
