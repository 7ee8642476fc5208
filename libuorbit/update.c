// SPDX-License-Identifier: LGPL-2.1-or-later
/* Update encoding, iteration and application, see update.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "state.h"
#include "update.h"

#define ENTRY_HDR	sizeof(struct orbit_update_entry)
#define ARENA_ALIGN	16	/* orbit_update_alloc(): as malloc() aligns */

static size_t entry_span(size_t len)
{
	return ENTRY_HDR + ((len + 7) & ~(size_t)7);
}

size_t uo_update_span(const struct orbit_update_entry *e)
{
	return entry_span(e->len);
}

struct orbit_update *orbit_update_create(void)
{
	return calloc(1, sizeof(struct orbit_update));
}

void orbit_update_free(struct orbit_update *u)
{
	if (!u)
		return;
	if (u->kind == UO_BUF_SLOT)
		uo_arena_release(u);
	else if (u->kind == UO_BUF_MAP)
		munmap(u->buf, u->cap);
	else
		free(u->buf);
	free(u);
}

/* Grows the buffer; large ones live in their own mapping. */
static int grow(struct orbit_update *u, size_t need)
{
	size_t cap = u->cap ? u->cap : 256;
	unsigned char *nb;

	if (u->kind == UO_BUF_SLOT) {
		errno = EMSGSIZE;	/* a slot's buffer cannot move */
		return -1;
	}
	while (cap < need)
		cap *= 2;
	if (cap < UO_UPDATE_MAP_MIN) {
		nb = realloc(u->buf, cap);
		if (!nb)
			return -1;
	} else if (u->kind == UO_BUF_MAP) {
		nb = mremap(u->buf, u->cap, cap, MREMAP_MAYMOVE);
		if (nb == MAP_FAILED)
			return -1;
	} else {
		nb = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (nb == MAP_FAILED)
			return -1;
		memcpy(nb, u->buf, u->len);
		free(u->buf);
		u->kind = UO_BUF_MAP;
	}
	u->buf = nb;
	u->cap = cap;
	return 0;
}

static struct orbit_update_entry *append(struct orbit_update *u,
					 uint32_t type, size_t len)
{
	struct orbit_update_entry *e;
	size_t span;

	if (!u) {
		errno = EINVAL;
		return NULL;
	}
	if (len > uo_st.update_limit ||
	    u->len + entry_span(len) > uo_st.update_limit) {
		errno = EMSGSIZE;
		return NULL;
	}
	span = entry_span(len);
	if (u->len + span > u->cap && grow(u, u->len + span))
		return NULL;
	e = (struct orbit_update_entry *)(u->buf + u->len);
	memset(e, 0, span);
	e->type = type;
	e->len = len;
	u->len += span;
	return e;
}

int orbit_update_add_data(struct orbit_update *u, const void *data,
			  size_t len)
{
	struct orbit_update_entry *e;

	if (len && !data) {
		errno = EINVAL;
		return -1;
	}
	e = append(u, ORBIT_UPDATE_DATA, len);
	if (!e)
		return -1;
	if (len)
		memcpy(e->data, data, len);
	return 0;
}

int orbit_update_add_modify(struct orbit_update *u, void *addr,
			    const void *val, size_t len)
{
	struct orbit_update_entry *e;

	if (!addr || !val || !len) {
		errno = EINVAL;
		return -1;
	}
	e = append(u, ORBIT_UPDATE_MODIFY, len);
	if (!e)
		return -1;
	e->addr = (uintptr_t)addr;
	memcpy(e->data, val, len);
	return 0;
}

int orbit_update_add_operation(struct orbit_update *u, orbit_operation op,
			       void *arg)
{
	struct orbit_update_entry *e;

	if (!op) {
		errno = EINVAL;
		return -1;
	}
	e = append(u, ORBIT_UPDATE_OPERATION, sizeof(arg));
	if (!e)
		return -1;
	e->addr = (uintptr_t)op;
	memcpy(e->data, &arg, sizeof(arg));
	return 0;
}

/*
 * Arena memory: an ARENA entry whose data holds the block at e->addr (16-
 * byte aligned).  The first allocation moves the update into the running
 * call's arena slot, where its buffer never moves again.
 */
void *orbit_update_alloc(struct orbit_update *u, size_t size)
{
	struct orbit_update_entry *e;
	size_t len;

	if (!u || !size) {
		errno = EINVAL;
		return NULL;
	}
	if (size > uo_st.update_limit) {
		errno = EMSGSIZE;
		return NULL;
	}
	len = size + ARENA_ALIGN;
	if (u->kind != UO_BUF_SLOT &&
	    uo_arena_adopt(u, u->len + entry_span(len)))
		return NULL;
	e = append(u, ORBIT_UPDATE_ARENA, len);
	if (!e)
		return NULL;
	e->addr = ((uintptr_t)e->data + ARENA_ALIGN - 1) &
		  ~(uintptr_t)(ARENA_ALIGN - 1);
	return (void *)(uintptr_t)e->addr;
}

void *orbit_update_operation_arg(const struct orbit_update_entry *e)
{
	void *arg = NULL;

	if (e && e->type == ORBIT_UPDATE_OPERATION && e->len == sizeof(arg))
		memcpy(&arg, e->data, sizeof(arg));
	return arg;
}

size_t orbit_update_size(const struct orbit_update *u)
{
	return u ? u->len : 0;
}

size_t uo_update_start(const struct orbit_update *u)
{
	const struct orbit_update_entry *e;

	if (u->len < ENTRY_HDR)
		return 0;
	e = (const struct orbit_update_entry *)u->buf;
	return e->type == UO_UPDATE_BASE ? entry_span(e->len) : 0;
}

static const struct orbit_update_entry *entry_at(const struct orbit_update *u,
						 size_t off)
{
	if (off >= u->len)
		return NULL;
	return (const struct orbit_update_entry *)(u->buf + off);
}

const struct orbit_update_entry *
orbit_update_first(const struct orbit_update *u)
{
	return u ? entry_at(u, uo_update_start(u)) : NULL;
}

const struct orbit_update_entry *
orbit_update_next(const struct orbit_update *u,
		  const struct orbit_update_entry *e)
{
	if (!u || !e)
		return NULL;
	return entry_at(u, (size_t)((const unsigned char *)e - u->buf) +
			   entry_span(e->len));
}

const struct orbit_update_entry *
orbit_update_peek(const struct orbit_update *u)
{
	size_t start;

	if (!u)
		return NULL;
	start = uo_update_start(u);
	return entry_at(u, u->pos > start ? u->pos : start);
}

int orbit_skip_one(struct orbit_update *u)
{
	const struct orbit_update_entry *e = orbit_update_peek(u);

	if (!e) {
		errno = u ? ENOENT : EINVAL;
		return -1;
	}
	u->pos = (size_t)((const unsigned char *)e - u->buf) +
		 entry_span(e->len);
	return 0;
}

int uo_update_validate(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;
	int arena = 0;

	while (off < len) {
		const struct orbit_update_entry *e;

		if (len - off < ENTRY_HDR)
			goto bad;
		e = (const struct orbit_update_entry *)(p + off);
		if (e->reserved)
			goto bad;
		if (e->type == UO_UPDATE_BASE) {
			/* First only, and it names where the buffer is. */
			if (off || e->len || e->addr != (uintptr_t)buf)
				goto bad;
			arena = 1;
		} else if (e->type < ORBIT_UPDATE_DATA ||
			   e->type > ORBIT_UPDATE_ARENA) {
			goto bad;
		}
		if (e->len > len - off - ENTRY_HDR ||
		    entry_span(e->len) > len - off)
			goto bad;
		if (e->type == ORBIT_UPDATE_OPERATION &&
		    e->len != sizeof(void *))
			goto bad;
		if (e->type == ORBIT_UPDATE_MODIFY && !e->len)
			goto bad;
		/* Arena blocks: only at their address, inside their entry. */
		if (e->type == ORBIT_UPDATE_ARENA &&
		    (!arena || e->len < ARENA_ALIGN ||
		     e->addr < (uintptr_t)e->data ||
		     e->addr >= (uintptr_t)e->data + ARENA_ALIGN ||
		     e->addr % ARENA_ALIGN))
			goto bad;
		off += entry_span(e->len);
	}
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

struct orbit_update *uo_update_wrap(void *buf, size_t len)
{
	struct orbit_update *u;

	if (uo_update_validate(buf, len))
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->buf = buf;
	u->len = len;
	u->cap = len;
	return u;
}

void uo_update_apply_entry(const struct orbit_update_entry *e)
{
	if (e->type == ORBIT_UPDATE_MODIFY) {
		memcpy((void *)(uintptr_t)e->addr, e->data, e->len);
	} else if (e->type == ORBIT_UPDATE_OPERATION) {
		orbit_operation op = (orbit_operation)(uintptr_t)e->addr;

		op(orbit_update_operation_arg(e));
	}
}

int uo_update_apply(struct orbit_update *u,
		    int (*check)(const struct orbit_update_entry *e,
				 void *ctx),
		    void *ctx)
{
	const struct orbit_update_entry *e, *from;

	if (!u) {
		errno = EINVAL;
		return -1;
	}
	from = orbit_update_peek(u);
	for (e = from; e; e = orbit_update_next(u, e)) {
		int err = check ? check(e, ctx) : 0;

		if (err) {
			errno = err;
			return -1;
		}
	}
	for (e = from; e; e = orbit_update_next(u, e))
		uo_update_apply_entry(e);
	u->pos = u->len;
	return 0;
}
