// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Area allocator, see heap.h.  Offsets are from the area's base; every
 * record below is malloc'd in main's heap.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"

#define UNIT		16UL
#define EMPTY_KEY	SIZE_MAX
#define DEAD_KEY	(SIZE_MAX - 1)
#define SMAP_SHIFT	10	/* slab map: 1024 slabs (16 MiB) per chunk */
#define SMAP_CHUNK	(1UL << SMAP_SHIFT)

/* A run of the area: used, free, or holding a slab. */
struct uo_blk {
	size_t off, size;
	enum { BLK_USED, BLK_FREE, BLK_SLAB } kind;
	struct uo_blk *prev, *next;	/* address order */
	struct uo_blk *fprev, *fnext;	/* its free bin */
};

struct uo_slab {
	struct uo_blk *blk;
	size_t off;			/* blk->off, read on every free */
	unsigned int cls, size, nslots, nfree;
	uint32_t recip;			/* 2^32 / size + 1: slot by multiply */
	unsigned int hint;		/* no free slot in used[0..hint) */
	struct uo_slab *prev, *next;	/* partial list of its class */
	uint64_t used[];		/* one bit per slot */
};

struct uo_hslot {
	size_t key;
	void *val;
};

static const unsigned int class_size[UO_HEAP_CLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256,
	320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048,
};

/* ---- hash table: offset of a large block -> its record ---------------- */

static size_t hash_of(size_t key, size_t size)
{
	return (key * 0x9E3779B97F4A7C15ULL >> 17) & (size - 1);
}

static struct uo_hslot *table_find(const struct uo_heap *h, size_t key)
{
	size_t i;

	if (!h->tsize)
		return NULL;
	for (i = hash_of(key, h->tsize);; i = (i + 1) & (h->tsize - 1)) {
		if (h->table[i].key == key)
			return &h->table[i];
		if (h->table[i].key == EMPTY_KEY)
			return NULL;
	}
}

static int table_grow(struct uo_heap *h)
{
	size_t size = h->tsize ? h->tsize * 2 : 64, i, j;
	struct uo_hslot *t = malloc(size * sizeof(*t)), *old = h->table;

	if (!t)
		return -1;
	for (i = 0; i < size; i++)
		t[i].key = EMPTY_KEY;
	h->tused = 0;
	for (i = 0; i < h->tsize; i++) {
		if (old[i].key == EMPTY_KEY || old[i].key == DEAD_KEY)
			continue;
		for (j = hash_of(old[i].key, size); t[j].key != EMPTY_KEY;
		     j = (j + 1) & (size - 1))
			;
		t[j] = old[i];
		h->tused++;
	}
	free(old);
	h->table = t;
	h->tsize = size;
	return 0;
}

static int table_put(struct uo_heap *h, size_t key, void *val)
{
	size_t i;

	if ((h->tused + 1) * 2 > h->tsize && table_grow(h))
		return -1;
	for (i = hash_of(key, h->tsize); h->table[i].key != EMPTY_KEY &&
	     h->table[i].key != DEAD_KEY; i = (i + 1) & (h->tsize - 1))
		;
	if (h->table[i].key == EMPTY_KEY)
		h->tused++;
	h->table[i].key = key;
	h->table[i].val = val;
	return 0;
}

static void table_del(struct uo_heap *h, size_t key)
{
	struct uo_hslot *s = table_find(h, key);

	if (s)
		s->key = DEAD_KEY;
}

/* ---- slab map: slab index (offset / UO_HEAP_SLAB) -> slab --------------- */

static struct uo_slab **smap_slot(const struct uo_heap *h, size_t off)
{
	size_t i = off / UO_HEAP_SLAB;

	if ((i >> SMAP_SHIFT) >= h->smap_n || !h->smap[i >> SMAP_SHIFT])
		return NULL;
	return &h->smap[i >> SMAP_SHIFT][i & (SMAP_CHUNK - 1)];
}

/* Makes room in the map for the slab at off; -1 (ENOMEM) if it cannot. */
static int smap_reserve(struct uo_heap *h, size_t off)
{
	size_t c = off / UO_HEAP_SLAB >> SMAP_SHIFT, n;
	struct uo_slab ***m;

	if (c >= h->smap_n) {
		for (n = h->smap_n ? h->smap_n : 8; n <= c; n *= 2)
			;
		m = realloc(h->smap, n * sizeof(*m));
		if (!m)
			return -1;
		memset(m + h->smap_n, 0, (n - h->smap_n) * sizeof(*m));
		h->smap = m;
		h->smap_n = n;
	}
	if (!h->smap[c]) {
		h->smap[c] = calloc(SMAP_CHUNK, sizeof(**h->smap));
		if (!h->smap[c])
			return -1;
	}
	return 0;
}

/* ---- blocks ------------------------------------------------------------- */

static unsigned int bin_of(size_t size)
{
	unsigned int bin = 63 - (unsigned int)__builtin_clzl(size);

	return bin < UO_HEAP_BINS ? bin : UO_HEAP_BINS - 1;
}

static void bin_insert(struct uo_heap *h, struct uo_blk *b)
{
	unsigned int i = bin_of(b->size);

	b->kind = BLK_FREE;
	b->fprev = NULL;
	b->fnext = h->bins[i];
	if (b->fnext)
		b->fnext->fprev = b;
	h->bins[i] = b;
}

static void bin_remove(struct uo_heap *h, struct uo_blk *b)
{
	if (b->fprev)
		b->fprev->fnext = b->fnext;
	else
		h->bins[bin_of(b->size)] = b->fnext;
	if (b->fnext)
		b->fnext->fprev = b->fprev;
}

static struct uo_blk *blk_new(size_t off, size_t size)
{
	struct uo_blk *b = calloc(1, sizeof(*b));

	if (b) {
		b->off = off;
		b->size = size;
	}
	return b;
}

/* Puts fresh block n right after b in address order (b NULL: empty list). */
static void blk_link_after(struct uo_heap *h, struct uo_blk *b,
			   struct uo_blk *n)
{
	n->prev = b;
	n->next = b ? b->next : NULL;
	if (b)
		b->next = n;
	if (n->next)
		n->next->prev = n;
	if (h->tail == b)
		h->tail = n;
}

/* Puts fresh block n right before b. */
static void blk_link_before(struct uo_blk *b, struct uo_blk *n)
{
	n->next = b;
	n->prev = b->prev;
	if (b->prev)
		b->prev->next = n;
	b->prev = n;
}

static void blk_unlink(struct uo_heap *h, struct uo_blk *b)
{
	if (b->prev)
		b->prev->next = b->next;
	if (b->next)
		b->next->prev = b->prev;
	if (h->tail == b)
		h->tail = b->prev;
}

/*
 * Makes the free block b exactly [start, start + size): the head before
 * start and the tail after it become free blocks of their own.  Returns
 * the block, out of its bin, or NULL (ENOMEM) for a record that could not
 * be made.
 */
static struct uo_blk *blk_carve(struct uo_heap *h, struct uo_blk *b,
				size_t start, size_t size)
{
	size_t end = b->off + b->size;
	struct uo_blk *head = NULL, *tail = NULL;

	if (start > b->off && !(head = blk_new(b->off, start - b->off)))
		return NULL;
	if (start + size < end &&
	    !(tail = blk_new(start + size, end - start - size))) {
		free(head);
		return NULL;
	}
	bin_remove(h, b);
	if (head) {
		blk_link_before(b, head);
		bin_insert(h, head);
	}
	b->off = start;
	b->size = size;
	if (tail) {
		blk_link_after(h, b, tail);
		bin_insert(h, tail);
	}
	return b;
}

/* A free block holding size bytes aligned to align, carved out; or NULL. */
static struct uo_blk *blk_find(struct uo_heap *h, size_t size, size_t align)
{
	unsigned int i;
	struct uo_blk *b;

	for (i = bin_of(size); i < UO_HEAP_BINS; i++) {
		for (b = h->bins[i]; b; b = b->fnext) {
			size_t start = (b->off + align - 1) & ~(align - 1);

			if (start + size <= b->off + b->size)
				return blk_carve(h, b, start, size);
		}
	}
	return NULL;
}

/* A block from the untouched top of the area (a gap before it is free). */
static struct uo_blk *blk_from_top(struct uo_heap *h, size_t size,
				   size_t align)
{
	size_t start = (h->top + align - 1) & ~(align - 1);
	struct uo_blk *gap = NULL, *b;

	if (start > h->cap || size > h->cap - start) {
		errno = ENOMEM;
		return NULL;
	}
	if (start > h->top && !(gap = blk_new(h->top, start - h->top)))
		return NULL;
	b = blk_new(start, size);
	if (!b) {
		free(gap);
		return NULL;
	}
	if (gap) {
		blk_link_after(h, h->tail, gap);
		bin_insert(h, gap);
	}
	blk_link_after(h, h->tail, b);
	h->top = start + size;
	return b;
}

static struct uo_blk *blk_alloc(struct uo_heap *h, size_t size, size_t align)
{
	struct uo_blk *b = blk_find(h, size, align);

	if (!b)
		b = blk_from_top(h, size, align);
	return b;
}

/* Frees block b: merges with free neighbours, gives the tail to top. */
static void blk_free(struct uo_heap *h, struct uo_blk *b)
{
	struct uo_blk *n = b->next, *p = b->prev;

	h->blk_off = b->off;
	h->blk_len = b->size;
	if (n && n->kind == BLK_FREE) {
		bin_remove(h, n);
		b->size += n->size;
		blk_unlink(h, n);
		free(n);
	}
	if (p && p->kind == BLK_FREE) {
		bin_remove(h, p);
		p->size += b->size;
		blk_unlink(h, b);
		free(b);
		b = p;
	}
	h->run_off = b->off;
	h->run_len = b->size;
	if (!b->next) {		/* the tail: back to the untouched top */
		h->run_len = h->top - b->off;
		h->top = b->off;
		blk_unlink(h, b);
		free(b);
		return;
	}
	bin_insert(h, b);
}

/* ---- slabs -------------------------------------------------------------- */

/*
 * The smallest class holding size bytes (1..UO_HEAP_SMALL): eight steps of
 * 16 bytes up to 128, then four steps per doubling.
 */
static unsigned int class_of(size_t size)
{
	unsigned int e;

	if (size <= 128)
		return (unsigned int)((size + UNIT - 1) / UNIT) - 1;
	e = 63 - (unsigned int)__builtin_clzl(size - 1);	/* 7..10 */
	return 8 + (e - 7) * 4 + (unsigned int)((size - 1) >> (e - 2)) - 4;
}

static void partial_add(struct uo_heap *h, struct uo_slab *s)
{
	s->prev = NULL;
	s->next = h->partial[s->cls];
	if (s->next)
		s->next->prev = s;
	h->partial[s->cls] = s;
}

static void partial_del(struct uo_heap *h, struct uo_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->partial[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static struct uo_slab *slab_new(struct uo_heap *h, unsigned int cls)
{
	unsigned int n = UO_HEAP_SLAB / class_size[cls];
	struct uo_slab *s = calloc(1, sizeof(*s) + (n + 63) / 64 * 8);
	struct uo_blk *b;

	if (!s)
		return NULL;
	b = blk_alloc(h, UO_HEAP_SLAB, UO_HEAP_SLAB);
	if (!b || smap_reserve(h, b->off)) {
		if (b)
			blk_free(h, b);
		free(s);
		return NULL;
	}
	*smap_slot(h, b->off) = s;
	b->kind = BLK_SLAB;
	s->blk = b;
	s->off = b->off;
	s->cls = cls;
	s->size = class_size[cls];
	s->recip = (uint32_t)((1ULL << 32) / s->size + 1);
	s->nslots = s->nfree = n;
	partial_add(h, s);
	return s;
}

static void *slab_alloc(struct uo_heap *h, unsigned int cls)
{
	struct uo_slab *s = h->partial[cls];
	unsigned int w, bit;

	if (!s && !(s = slab_new(h, cls)))
		return NULL;
	for (w = s->hint; ~s->used[w] == 0; w++)
		;
	s->hint = w;
	bit = (unsigned int)__builtin_ctzll(~s->used[w]);
	s->used[w] |= 1ULL << bit;
	if (!--s->nfree)
		partial_del(h, s);
	h->used += s->size;
	return h->base + s->off + (size_t)(w * 64 + bit) * s->size;
}

/* The slab and slot of a live small block at off, or NULL. */
static struct uo_slab *slab_of(const struct uo_heap *h, size_t off,
			       unsigned int *slot)
{
	struct uo_slab **m = smap_slot(h, off), *s = m ? *m : NULL;
	uint64_t in, q;

	if (!s)
		return NULL;
	/*
	 * in / size without a division: in < 2^14 and size < 2^12, so the
	 * quotient of an exact multiple is exact, and any other offset
	 * fails the product check.
	 */
	in = off - s->off;
	q = in * s->recip >> 32;
	if (q * s->size != in || q >= s->nslots)
		return NULL;
	*slot = (unsigned int)q;
	if (!(s->used[*slot / 64] & 1ULL << (*slot % 64)))
		return NULL;
	return s;
}

/* A slab whose hint skips a word with a free slot. */
static bool slab_hint_wrong(const struct uo_slab *s)
{
	unsigned int w;

	for (w = 0; w < s->hint; w++)
		if (~s->used[w])
			return true;
	return false;
}

static void slab_free(struct uo_heap *h, struct uo_slab *s, unsigned int slot)
{
	s->used[slot / 64] &= ~(1ULL << (slot % 64));
	if (slot / 64 < s->hint)
		s->hint = slot / 64;
	h->used -= s->size;
	if (!s->nfree++)
		partial_add(h, s);
	/* An empty slab goes back, unless it is its class's only room. */
	if (s->nfree == s->nslots && (s->next || s->prev)) {
		partial_del(h, s);
		*smap_slot(h, s->off) = NULL;
		blk_free(h, s->blk);
		free(s);
	}
}

/* ---- the interface --------------------------------------------------------- */

void uo_heap_init(struct uo_heap *h, void *base, size_t cap)
{
	memset(h, 0, sizeof(*h));
	h->base = base;
	h->cap = cap & ~(UO_HEAP_ALIGN - 1);
}

void uo_heap_destroy(struct uo_heap *h)
{
	struct uo_blk *b = h->tail, *p;
	size_t i, j;

	for (i = 0; i < h->smap_n; i++) {
		for (j = 0; h->smap[i] && j < SMAP_CHUNK; j++)
			free(h->smap[i][j]);
		free(h->smap[i]);
	}
	free(h->smap);
	for (; b; b = p) {
		p = b->prev;
		free(b);
	}
	free(h->table);
	uo_heap_init(h, h->base, h->cap);
}

void *uo_heap_alloc(struct uo_heap *h, size_t size)
{
	struct uo_blk *b;
	size_t need;

	if (!size) {
		errno = EINVAL;
		return NULL;
	}
	if (size > h->cap) {
		errno = ENOMEM;
		return NULL;
	}
	if (size <= UO_HEAP_SMALL)
		return slab_alloc(h, class_of(size));
	need = (size + UNIT - 1) & ~(UNIT - 1);
	b = blk_alloc(h, need, UNIT);
	if (!b)
		return NULL;
	if (table_put(h, b->off, b)) {
		blk_free(h, b);
		return NULL;
	}
	b->kind = BLK_USED;
	h->used += b->size;
	return h->base + b->off;
}

/* The live large block at off, or NULL. */
static struct uo_blk *blk_of(const struct uo_heap *h, size_t off)
{
	struct uo_hslot *e = table_find(h, off);

	return e && ((struct uo_blk *)e->val)->kind == BLK_USED ? e->val : NULL;
}

/* ptr's offset if it points into the carved part of the area, else -1. */
static size_t off_of(const struct uo_heap *h, const void *ptr)
{
	const unsigned char *p = ptr;

	if (!p || p < h->base || p >= h->base + h->top ||
	    (size_t)(p - h->base) % UNIT)
		return (size_t)-1;
	return (size_t)(p - h->base);
}

int uo_heap_free(struct uo_heap *h, void *ptr)
{
	size_t off = off_of(h, ptr);
	unsigned int slot;
	struct uo_slab *s;
	struct uo_blk *b;

	if (off == (size_t)-1)
		goto bad;
	h->blk_len = 0;
	s = slab_of(h, off, &slot);
	if (s) {
		slab_free(h, s, slot);
		return 0;
	}
	b = blk_of(h, off);
	if (!b)
		goto bad;
	table_del(h, off);
	h->used -= b->size;
	blk_free(h, b);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int uo_heap_released(const struct uo_heap *h, size_t pagesize, size_t *off,
		     size_t *len)
{
	size_t lo, hi, run_end = h->run_off + h->run_len;

	if (!h->blk_len)
		return 0;	/* a slab slot: its slab stays */
	/* Pages the block touched, as far as the run reaches. */
	lo = h->blk_off & ~(pagesize - 1);
	hi = (h->blk_off + h->blk_len + pagesize - 1) & ~(pagesize - 1);
	if (lo < h->run_off)
		lo = (h->run_off + pagesize - 1) & ~(pagesize - 1);
	if (hi > run_end)
		hi = run_end & ~(pagesize - 1);
	if (lo >= hi)
		return 0;
	*off = lo;
	*len = hi - lo;
	return 1;
}

size_t uo_heap_block_size(const struct uo_heap *h, const void *ptr)
{
	size_t off = off_of(h, ptr);
	unsigned int slot;
	struct uo_slab *s;
	struct uo_blk *b;

	if (off == (size_t)-1)
		return 0;
	s = slab_of(h, off, &slot);
	if (s)
		return s->size;
	b = blk_of(h, off);
	return b ? b->size : 0;
}

int uo_heap_check(const struct uo_heap *h)
{
	size_t off = 0, used = 0, nfree = 0, binned = 0, live = 0, slabs = 0;
	size_t i, j;
	const struct uo_blk *b, *prev = NULL;

	for (b = h->tail; b && b->prev; b = b->prev)
		;
	for (; b; prev = b, b = b->next) {
		if (b->off != off || !b->size || b->size % UNIT ||
		    b->prev != prev)
			return -1;
		if (b->kind == BLK_FREE) {
			if (prev && prev->kind == BLK_FREE)
				return -2;	/* should have merged */
			nfree++;
		} else if (b->kind == BLK_USED) {
			if (!table_find(h, b->off))
				return -3;
			used += b->size;
			live++;
		} else {
			struct uo_slab **m = smap_slot(h, b->off);
			const struct uo_slab *s = m ? *m : NULL;

			if (!s || s->blk != b || s->off != b->off ||
			    s->size != class_size[s->cls] ||
			    b->size != UO_HEAP_SLAB || b->off % UO_HEAP_SLAB ||
			    slab_hint_wrong(s))
				return -4;
			used += (size_t)(s->nslots - s->nfree) * s->size;
			slabs++;
		}
		off += b->size;
	}
	if (off != h->top || (prev && prev->kind == BLK_FREE) ||
	    prev != h->tail)
		return -5;
	for (i = 0; i < UO_HEAP_BINS; i++)
		for (b = h->bins[i]; b; b = b->fnext) {
			if (b->kind != BLK_FREE || bin_of(b->size) != i)
				return -6;
			binned++;
		}
	for (i = 0; i < h->tsize; i++)
		if (h->table[i].key != EMPTY_KEY && h->table[i].key != DEAD_KEY)
			live--;
	for (i = 0; i < h->smap_n; i++)
		for (j = 0; h->smap[i] && j < SMAP_CHUNK; j++)
			if (h->smap[i][j])
				slabs--;
	return binned == nfree && used == h->used && !live && !slabs ? 0 : -7;
}
