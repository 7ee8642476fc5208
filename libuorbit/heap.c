// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Area allocator, see heap.h.
 *
 * Block layout (all sizes multiples of 16):
 *   [prev_size][size | flags][payload ...]
 * prev_size is valid only when the previous block is free.  A free block
 * keeps its bin links in the payload and its size again in the next
 * block's prev_size (boundary tag), so both neighbours coalesce in O(1).
 */
#include <errno.h>
#include <string.h>

#include "heap.h"

#define F_USED		1UL
#define F_PREV_USED	2UL
#define F_MASK		15UL
#define HDR		16UL
#define MIN_BLOCK	32UL

struct blk {
	size_t prev_size;
	size_t size_flags;
	struct blk *next;	/* free blocks only */
	struct blk *prev;
};

static size_t bsize(const struct blk *b)
{
	return b->size_flags & ~F_MASK;
}

static struct blk *at(const struct uo_heap *h, size_t off)
{
	return (struct blk *)(h->base + off);
}

static size_t off_of(const struct uo_heap *h, const struct blk *b)
{
	return (size_t)((const unsigned char *)b - h->base);
}

static unsigned int bin_of(size_t size)
{
	unsigned int bin = 63 - (unsigned int)__builtin_clzl(size);

	return bin < UO_HEAP_BINS ? bin : UO_HEAP_BINS - 1;
}

static void bin_insert(struct uo_heap *h, struct blk *b)
{
	unsigned int i = bin_of(bsize(b));

	b->prev = NULL;
	b->next = h->bins[i];
	if (b->next)
		b->next->prev = b;
	h->bins[i] = b;
}

static void bin_remove(struct uo_heap *h, struct blk *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		h->bins[bin_of(bsize(b))] = b->next;
	if (b->next)
		b->next->prev = b->prev;
}

/* Marks b free: flags, boundary tag and the next block's PREV_USED. */
static void set_free(struct uo_heap *h, struct blk *b, size_t size)
{
	size_t end = off_of(h, b) + size;

	b->size_flags = size | (b->size_flags & F_PREV_USED);
	if (end < h->top) {
		struct blk *n = at(h, end);

		n->prev_size = size;
		n->size_flags &= ~F_PREV_USED;
	}
}

void uo_heap_init(struct uo_heap *h, void *base, size_t cap)
{
	memset(h, 0, sizeof(*h));
	h->base = base;
	h->cap = cap & ~(UO_HEAP_ALIGN - 1);
}

static size_t request_size(size_t size)
{
	size_t need;

	if (size > ((size_t)-1) / 2)
		return 0;
	need = (size + HDR + UO_HEAP_ALIGN - 1) & ~(UO_HEAP_ALIGN - 1);
	return need < MIN_BLOCK ? MIN_BLOCK : need;
}

static struct blk *find_free(struct uo_heap *h, size_t need)
{
	unsigned int i;
	struct blk *b;

	for (i = bin_of(need); i < UO_HEAP_BINS; i++)
		for (b = h->bins[i]; b; b = b->next)
			if (bsize(b) >= need)
				return b;
	return NULL;
}

void *uo_heap_alloc(struct uo_heap *h, size_t size)
{
	size_t need = request_size(size);
	struct blk *b;

	if (!need || !size) {
		errno = EINVAL;
		return NULL;
	}
	b = find_free(h, need);
	if (b) {
		size_t have = bsize(b);

		bin_remove(h, b);
		if (have - need >= MIN_BLOCK) {
			struct blk *rest = at(h, off_of(h, b) + need);

			rest->size_flags = F_PREV_USED;
			set_free(h, rest, have - need);
			bin_insert(h, rest);
			have = need;
		} else if (off_of(h, b) + have < h->top) {
			at(h, off_of(h, b) + have)->size_flags |= F_PREV_USED;
		}
		b->size_flags = have | F_USED | (b->size_flags & F_PREV_USED);
	} else {
		if (need > h->cap - h->top) {
			errno = ENOMEM;
			return NULL;
		}
		b = at(h, h->top);
		/* The block below top is always in use (free ones merge). */
		b->size_flags = need | F_USED | F_PREV_USED;
		h->top += need;
	}
	h->used += bsize(b) - HDR;
	return (unsigned char *)b + HDR;
}

/* Validates that ptr is the payload of a live block. */
static struct blk *live_block(const struct uo_heap *h, const void *ptr)
{
	const unsigned char *p = ptr;
	size_t off, size;
	struct blk *b;

	if (!p || p < h->base + HDR || p >= h->base + h->top)
		return NULL;
	off = (size_t)(p - h->base) - HDR;
	if (off & (UO_HEAP_ALIGN - 1))
		return NULL;
	b = at(h, off);
	size = bsize(b);
	if (!(b->size_flags & F_USED) || size < MIN_BLOCK ||
	    size > h->top - off)
		return NULL;
	return b;
}

int uo_heap_free(struct uo_heap *h, void *ptr)
{
	struct blk *b = live_block(h, ptr);
	size_t off, size;

	if (!b) {
		errno = EINVAL;
		return -1;
	}
	off = off_of(h, b);
	size = bsize(b);
	h->used -= size - HDR;

	if (off + size < h->top) {
		struct blk *n = at(h, off + size);

		if (!(n->size_flags & F_USED)) {
			bin_remove(h, n);
			size += bsize(n);
		}
	}
	if (!(b->size_flags & F_PREV_USED)) {
		struct blk *p = at(h, off - b->prev_size);

		bin_remove(h, p);
		size += b->prev_size;
		off -= b->prev_size;
		b = p;
	}
	if (off + size == h->top) {
		h->top = off;	/* give the tail back to the wilderness */
		return 0;
	}
	b->size_flags &= F_PREV_USED;
	set_free(h, b, size);
	bin_insert(h, b);
	return 0;
}

size_t uo_heap_block_size(const struct uo_heap *h, const void *ptr)
{
	const struct blk *b = live_block(h, ptr);

	return b ? bsize(b) - HDR : 0;
}

int uo_heap_check(const struct uo_heap *h)
{
	size_t off = 0, used = 0, nfree = 0, binned = 0;
	int prev_used = 1;
	unsigned int i;

	while (off < h->top) {
		const struct blk *b = at(h, off);
		size_t size = bsize(b);

		if (size < MIN_BLOCK || size > h->top - off || (size & F_MASK))
			return -1;
		if (!!(b->size_flags & F_PREV_USED) != prev_used)
			return -1;
		prev_used = !!(b->size_flags & F_USED);
		if (prev_used) {
			used += size - HDR;
		} else {
			if (off + size < h->top &&
			    at(h, off + size)->prev_size != size)
				return -1;
			nfree++;
		}
		off += size;
	}
	if (off != h->top || used != h->used || !prev_used)
		return -1;
	for (i = 0; i < UO_HEAP_BINS; i++) {
		const struct blk *b;

		for (b = h->bins[i]; b; b = b->next) {
			if (bin_of(bsize(b)) != i || (b->size_flags & F_USED))
				return -1;
			binned++;
		}
	}
	return binned == nfree ? 0 : -1;
}
