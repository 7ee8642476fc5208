/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Area allocator.  Every byte of its metadata lives in main's own heap,
 * none in the area: an orbit may change area memory (through checked
 * modifications main applies) but never the allocator's state, and the
 * allocator never reads or writes area memory, so an area's pages are
 * only allocated when the program touches what it allocated.
 *
 * Blocks up to UO_HEAP_SMALL bytes come from slabs (UO_HEAP_SLAB bytes,
 * aligned, one size class each, a bitmap of used slots); larger blocks
 * are runs of 16-byte units in an address-ordered list whose free
 * neighbours coalesce.  A pointer finds its slab through a map indexed by
 * slab (a chunk of it per 16 MiB of the area that holds slabs), or its
 * block through a hash table, so a bad pointer is recognised (EINVAL),
 * never followed.
 */
#ifndef UO_HEAP_H
#define UO_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define UO_HEAP_ALIGN	16
#define UO_HEAP_SMALL	2048
#define UO_HEAP_SLAB	16384
#define UO_HEAP_BINS	64
#define UO_HEAP_CLASSES	24

struct uo_blk;
struct uo_slab;
struct uo_hslot;

struct uo_heap {
	unsigned char *base;	/* first byte of the area */
	size_t cap;		/* area size: the heap never grows past it */
	size_t top;		/* bytes carved so far */
	size_t used;		/* payload bytes handed out */
	struct uo_blk *tail;	/* last block below top, address order */
	struct uo_blk *bins[UO_HEAP_BINS];	/* free blocks by log2 size */
	struct uo_slab *partial[UO_HEAP_CLASSES];	/* slabs with room */
	struct uo_slab ***smap;	/* slab index -> slab: smap_n chunks */
	size_t smap_n;
	struct uo_hslot *table;	/* large block offset -> block */
	size_t tsize, tused;	/* slots, slots not empty (live + dead) */
	size_t blk_off, blk_len;	/* the block the last free released */
	size_t run_off, run_len;	/* the free run it is part of now */
};

void uo_heap_init(struct uo_heap *h, void *base, size_t cap);
/* Frees every record (not the area); the heap is empty afterwards. */
void uo_heap_destroy(struct uo_heap *h);
/* NULL with errno: EINVAL for size 0, ENOMEM when it does not fit. */
void *uo_heap_alloc(struct uo_heap *h, size_t size);
/* Returns 0, or -1 (EINVAL) for a pointer that is not a live block. */
int uo_heap_free(struct uo_heap *h, void *ptr);
/*
 * After uo_heap_free(): the whole pages (of pagesize bytes) that the free
 * left without any allocation in them, and that were not free before;
 * 0 if there are none, else 1 with [*off, *off + *len).
 */
int uo_heap_released(const struct uo_heap *h, size_t pagesize, size_t *off,
		     size_t *len);
/* Usable size of a live block, 0 if ptr is not one. */
size_t uo_heap_block_size(const struct uo_heap *h, const void *ptr);
/* Checks every invariant; 0 if consistent. */
int uo_heap_check(const struct uo_heap *h);

#endif
