/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Area allocator: a boundary-tag, size-binned first-fit heap that lives
 * inside an area.  Block headers sit in the area itself (orbits see them,
 * which is harmless); the control structure lives in the main program.
 * Memory above `top` is never touched, so an area's pages are only
 * allocated as the heap grows into them.
 */
#ifndef UO_HEAP_H
#define UO_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define UO_HEAP_BINS	64
#define UO_HEAP_ALIGN	16

struct uo_heap {
	unsigned char *base;	/* first byte of the area */
	size_t cap;		/* area size: the heap never grows past it */
	size_t top;		/* bytes carved so far */
	size_t used;		/* payload bytes handed out */
	void *bins[UO_HEAP_BINS];
};

void uo_heap_init(struct uo_heap *h, void *base, size_t cap);
void *uo_heap_alloc(struct uo_heap *h, size_t size);
/* Returns 0, or -1 for a pointer that is not a live block of this heap. */
int uo_heap_free(struct uo_heap *h, void *ptr);
/* Payload size of a live block, 0 if ptr is not one. */
size_t uo_heap_block_size(const struct uo_heap *h, const void *ptr);
/* Walks every block, checks the invariants; 0 if consistent. */
int uo_heap_check(const struct uo_heap *h);

#endif
