// SPDX-License-Identifier: BSD-3-Clause
/*
 * The application ports' heap in an orbit area (see orbit_app_heap.h).
 *
 * The area is made by the first allocation of the process, before main()
 * has made anything else and before any thread exists, and lives until the
 * process ends.  Its bounds are global variables: an orbit gets a fresh
 * copy of them, so a task can tell area pointers (main's, read-only for it
 * in effect: freeing one is a no-op there) from its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orbit.h>

#include "orbit_app_heap.h"

/* ORBIT_<APP>_HEAP_GB: the area's maximum (address space, not memory). */
#define HEAP_DEFAULT_GB	16
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define ENV(name)	("ORBIT_" STR(ORBIT_APP) name)

static struct orbit_area *heap_area;
static uintptr_t heap_lo, heap_hi;
static int heap_tried, app_off;
static char heap_err[128];

static void heap_init(void)
{
	const char *env = getenv(ENV(""));
	const char *gb = getenv(ENV("_HEAP_GB"));
	size_t max = (size_t)(gb && atol(gb) > 0 ? atol(gb) : HEAP_DEFAULT_GB) << 30;

	heap_tried = 1;
	if (env && !strcmp(env, "off")) {
		app_off = 1;
		return;
	}
	heap_area = orbit_area_create_ex(0, max, 0, NULL);
	if (!heap_area) {
		snprintf(heap_err, sizeof(heap_err), "orbit_area_create: %s",
			 strerror(errno));
		return;
	}
	heap_lo = (uintptr_t)orbit_area_base(heap_area);
	heap_hi = heap_lo + orbit_area_size(heap_area);
}

static int in_area(const void *p)
{
	return (uintptr_t)p >= heap_lo && (uintptr_t)p < heap_hi;
}

/* Main's allocations go to the area; an orbit's to its own heap. */
static struct orbit_area *main_area(void)
{
	struct orbit_area *a = orbit_app_area();

	return a && !orbit_self() ? a : NULL;
}

void *orbit_app_malloc(size_t size)
{
	struct orbit_area *a = main_area();

	return a ? orbit_alloc(a, size ? size : 1) : malloc(size);
}

void *orbit_app_calloc(size_t nmemb, size_t size)
{
	struct orbit_area *a = main_area();

	return a ? orbit_calloc(a, nmemb ? nmemb : 1, size ? size : 1) :
		   calloc(nmemb, size);
}

void *orbit_app_realloc(void *ptr, size_t size)
{
	struct orbit_area *a = main_area();
	size_t old;
	void *p;

	if (a && (!ptr || in_area(ptr)))
		return orbit_realloc(a, ptr, size ? size : 1);
	if (!in_area(ptr))
		return realloc(ptr, size);
	/* A task resizing a block of main's snapshot: a copy of its own. */
	old = orbit_app_block_size(ptr);
	p = malloc(size);
	if (p)
		memcpy(p, ptr, old < size ? old : size);
	return p;
}

void orbit_app_free(void *ptr)
{
	if (!in_area(ptr))
		free(ptr);
	else if (!orbit_self())
		orbit_free(heap_area, ptr);
	/* else: a task freeing a block of the snapshot; main still has it. */
}

struct orbit_area *orbit_app_area(void)
{
	if (!heap_tried)
		heap_init();
	return heap_area;
}

const char *orbit_app_heap_error(void)
{
	return heap_err;
}

int orbit_app_off(void)
{
	orbit_app_area();
	return app_off;
}
