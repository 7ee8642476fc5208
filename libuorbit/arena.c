// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Update arenas: memory a task allocates for an update that arrives in
 * main at the same address, so that pointers inside it stay valid.
 *
 * Every orbit has an arena region in main's address window (reserved and
 * inaccessible in main and, inherited from the spawner, in the orbit): 64
 * slots of up to 16 MiB.  Main gives each call with a future (or sync) a
 * free slot, named in the call's tag.  A task's update that allocates
 * arena memory moves into the slot, where its buffer never moves, and
 * starts with a BASE entry holding its address.  Main puts a pulled
 * update of that kind at that address, after checking it lies in the
 * call's slot beyond the updates it placed there before; the update then
 * holds the slot until orbit_update_free().  A slot is free again when the
 * call was collected and every update placed in it freed.
 *
 * Ownership (main): struct uo_arena is referenced by its orbit handle and
 * by every busy slot; the last reference returns the region to the window.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "update.h"

#define SLOT_MAX	(16UL << 20)

struct uo_arena {
	unsigned long epoch;		/* a fork child's copy is left alone */
	unsigned char *base;
	size_t slot_size;
	pthread_mutex_t lock;		/* protects everything below */
	unsigned int refs;		/* the handle's, plus one per busy slot */
	uint64_t busy;			/* bit i: slot i is in use */
	unsigned int uses[UO_ARENA_SLOTS];	/* the call, and held updates */
	size_t placed[UO_ARENA_SLOTS];	/* end of what main placed there */
};

static size_t page_up(size_t v)
{
	size_t pg = (size_t)getpagesize();

	return (v + pg - 1) & ~(pg - 1);
}

/* Makes [p, p + len) inaccessible again (reserved, no memory). */
static void reserve(void *p, size_t len)
{
	mmap(p, page_up(len), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	     MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* ---- main --------------------------------------------------------------- */

struct uo_arena *uo_arena_new(void)
{
	struct uo_arena *a = calloc(1, sizeof(*a));
	size_t slot = uo_st.update_limit < SLOT_MAX ? uo_st.update_limit :
						      SLOT_MAX;

	if (!a)
		return NULL;
	a->slot_size = page_up(slot);
	a->base = uo_va_alloc(a->slot_size * UO_ARENA_SLOTS);
	if (!a->base) {
		free(a);
		return NULL;	/* an orbit without an arena */
	}
	pthread_mutex_init(&a->lock, NULL);
	a->epoch = uo_st.epoch;
	a->refs = 1;
	return a;
}

void uo_arena_region(const struct uo_arena *a, void **base, size_t *slot)
{
	*base = a ? a->base : NULL;
	*slot = a ? a->slot_size : 0;
}

static void arena_unref_locked(struct uo_arena *a, int *last)
{
	*last = --a->refs == 0;
}

static void arena_free(struct uo_arena *a)
{
	uo_va_free(a->base, a->slot_size * UO_ARENA_SLOTS);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void uo_arena_put(struct uo_arena *a)
{
	int last;

	if (!a || a->epoch != uo_st.epoch)
		return;
	pthread_mutex_lock(&a->lock);
	arena_unref_locked(a, &last);
	pthread_mutex_unlock(&a->lock);
	if (last)
		arena_free(a);
}

/* A free slot for a call: its tag, or 0 (the call gets no arena). */
uint64_t uo_arena_slot_get(struct uo_arena *a, unsigned int *slot)
{
	unsigned int i;

	if (!a || a->epoch != uo_st.epoch)
		return 0;
	pthread_mutex_lock(&a->lock);
	if (!~a->busy) {
		pthread_mutex_unlock(&a->lock);
		return 0;
	}
	i = (unsigned int)__builtin_ctzll(~a->busy);
	a->busy |= 1ULL << i;
	a->uses[i] = 1;
	a->placed[i] = 0;
	a->refs++;
	pthread_mutex_unlock(&a->lock);
	*slot = i;
	return UO_TAG_SLOT(i);
}

void uo_arena_slot_put(struct uo_arena *a, unsigned int slot)
{
	int last = 0;

	if (!a || a->epoch != uo_st.epoch)
		return;
	pthread_mutex_lock(&a->lock);
	if (--a->uses[slot] == 0) {
		a->busy &= ~(1ULL << slot);
		arena_unref_locked(a, &last);
	}
	pthread_mutex_unlock(&a->lock);
	if (last)
		arena_free(a);
}

/*
 * A pulled update that starts with a BASE entry goes to its address, if
 * that lies in the call's slot past what main placed there before: *buf
 * (malloc'd, len bytes) is freed and replaced.  EBADMSG if it does not
 * belong there, or the call had no slot.
 */
int uo_arena_place(struct uo_arena *a, unsigned int slot, void **buf,
		   size_t len, struct orbit_update *u)
{
	const struct orbit_update_entry *e = *buf;
	unsigned char *at, *lo, *hi;
	size_t before;
	void *p;

	if (len < sizeof(*e) || e->type != UO_UPDATE_BASE)
		return 0;	/* an ordinary update */
	if (!a || slot >= UO_ARENA_SLOTS)
		return EBADMSG;
	at = (unsigned char *)(uintptr_t)e->addr;
	lo = a->base + (size_t)slot * a->slot_size;
	hi = lo + a->slot_size;
	pthread_mutex_lock(&a->lock);
	if (at < lo + a->placed[slot] || at >= hi || len > (size_t)(hi - at) ||
	    (uintptr_t)at % (uintptr_t)getpagesize()) {
		pthread_mutex_unlock(&a->lock);
		return EBADMSG;
	}
	before = a->placed[slot];
	a->placed[slot] = (size_t)(at - lo) + page_up(len);
	a->uses[slot]++;
	pthread_mutex_unlock(&a->lock);
	p = mmap(at, page_up(len), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		/* Not placed: the same update may come here again. */
		reserve(at, len);
		pthread_mutex_lock(&a->lock);
		if (a->placed[slot] == (size_t)(at - lo) + page_up(len))
			a->placed[slot] = before;
		pthread_mutex_unlock(&a->lock);
		uo_arena_slot_put(a, slot);
		return err;
	}
	memcpy(p, *buf, len);
	free(*buf);
	*buf = p;
	u->kind = UO_BUF_SLOT;
	u->arena = a;
	u->slot = slot;
	u->cap = page_up(len);
	return 0;
}

/* ---- the orbit ---------------------------------------------------------- */

/* The task loop: the call about to run has this tag. */
void uo_arena_enter(uint64_t tag)
{
	unsigned int i = (unsigned int)(tag & UO_TAG_SLOT_MASK);

	uo_st.slot = NULL;
	uo_st.slot_used = 0;
	uo_st.slot_busy = 0;
	if (i && uo_st.arena_base)
		uo_st.slot = uo_st.arena_base + (size_t)(i - 1) * uo_st.slot_size;
}

/* The call ended: what it left in its slot goes. */
void uo_arena_leave(void)
{
	if (uo_st.slot && uo_st.slot_used)
		reserve(uo_st.slot, uo_st.slot_size);
	uo_st.slot = NULL;
	uo_st.slot_used = 0;
	uo_st.slot_busy = 0;
}

/* The update's buffer moves into the running call's slot. */
int uo_arena_adopt(struct orbit_update *u, size_t need)
{
	struct orbit_update_entry *base;
	unsigned char *at;
	size_t room, hdr = sizeof(*base);

	if (uo_st.orbit_fd < 0) {
		errno = EPERM;	/* arena memory is for tasks */
		return -1;
	}
	if (!uo_st.slot) {
		errno = ENOSPC;	/* fire and forget, or no free slot */
		return -1;
	}
	if (uo_st.slot_busy) {
		errno = EBUSY;	/* one arena update at a time */
		return -1;
	}
	at = uo_st.slot + uo_st.slot_used;
	room = uo_st.slot_size - uo_st.slot_used;
	if (need + hdr > room) {
		errno = EMSGSIZE;
		return -1;
	}
	if (mmap(at, room, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		 MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -1;
	base = (struct orbit_update_entry *)at;
	memset(base, 0, hdr);
	base->type = UO_UPDATE_BASE;
	base->addr = (uintptr_t)at;
	if (u->len)
		memcpy(at + hdr, u->buf, u->len);
	if (u->kind == UO_BUF_MAP)
		munmap(u->buf, u->cap);
	else
		free(u->buf);
	u->buf = at;
	u->len += hdr;
	u->cap = room;
	u->kind = UO_BUF_SLOT;
	uo_st.slot_busy = 1;
	return 0;
}

/* An arena update was pushed: later ones go after it. */
void uo_arena_pushed(struct orbit_update *u)
{
	uo_st.slot_used = (size_t)(u->buf - uo_st.slot) + page_up(u->len);
	uo_st.slot_busy = 0;
	u->cap = page_up(u->len);	/* what release gives back */
}

void uo_arena_release(struct orbit_update *u)
{
	if (u->arena) {		/* main: an update placed in a slot */
		reserve(u->buf, u->cap);
		uo_arena_slot_put(u->arena, u->slot);
		return;
	}
	/* The orbit: an update built in the slot, pushed or given up. */
	if (uo_st.slot && u->buf >= uo_st.slot &&
	    u->buf < uo_st.slot + uo_st.slot_size) {
		reserve(u->buf, u->cap);
		if (u->buf >= uo_st.slot + uo_st.slot_used)
			uo_st.slot_busy = 0;	/* given up, not pushed */
	}
}
