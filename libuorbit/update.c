// SPDX-License-Identifier: LGPL-2.1-or-later
/* Update encoding, iteration and application, see update.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "update.h"

#define ENTRY_HDR	sizeof(struct orbit_update_entry)

size_t uo_update_limit = UO_UPDATE_MAX;

static size_t entry_span(size_t len)
{
	return ENTRY_HDR + ((len + 7) & ~(size_t)7);
}

struct orbit_update *orbit_update_create(void)
{
	return calloc(1, sizeof(struct orbit_update));
}

void orbit_update_free(struct orbit_update *u)
{
	if (!u)
		return;
	if (u->mapped)
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

	while (cap < need)
		cap *= 2;
	if (cap < UO_UPDATE_MAP_MIN) {
		nb = realloc(u->buf, cap);
		if (!nb)
			return -1;
	} else if (u->mapped) {
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
		u->mapped = 1;
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
	if (len > uo_update_limit ||
	    u->len + entry_span(len) > uo_update_limit) {
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

const struct orbit_update_entry *
orbit_update_first(const struct orbit_update *u)
{
	if (!u || !u->len)
		return NULL;
	return (const struct orbit_update_entry *)u->buf;
}

const struct orbit_update_entry *
orbit_update_next(const struct orbit_update *u,
		  const struct orbit_update_entry *e)
{
	size_t off;

	if (!u || !e)
		return NULL;
	off = (size_t)((const unsigned char *)e - u->buf) + entry_span(e->len);
	if (off >= u->len)
		return NULL;
	return (const struct orbit_update_entry *)(u->buf + off);
}

int uo_update_validate(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;

	while (off < len) {
		const struct orbit_update_entry *e;

		if (len - off < ENTRY_HDR)
			goto bad;
		e = (const struct orbit_update_entry *)(p + off);
		if (e->type < ORBIT_UPDATE_DATA ||
		    e->type > ORBIT_UPDATE_OPERATION || e->reserved)
			goto bad;
		if (e->len > len - off - ENTRY_HDR ||
		    entry_span(e->len) > len - off)
			goto bad;
		if (e->type == ORBIT_UPDATE_OPERATION &&
		    e->len != sizeof(void *))
			goto bad;
		if (e->type == ORBIT_UPDATE_MODIFY && !e->len)
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

int uo_update_apply(struct orbit_update *u,
		    int (*check)(const struct orbit_update_entry *e,
				 void *ctx),
		    void *ctx)
{
	const struct orbit_update_entry *e;

	if (!u) {
		errno = EINVAL;
		return -1;
	}
	for (e = orbit_update_first(u); e; e = orbit_update_next(u, e)) {
		int err = check ? check(e, ctx) : 0;

		if (err) {
			errno = err;
			return -1;
		}
	}
	for (e = orbit_update_first(u); e; e = orbit_update_next(u, e)) {
		if (e->type == ORBIT_UPDATE_MODIFY) {
			memcpy((void *)(uintptr_t)e->addr, e->data, e->len);
		} else if (e->type == ORBIT_UPDATE_OPERATION) {
			orbit_operation op = (orbit_operation)(uintptr_t)e->addr;

			op(orbit_update_operation_arg(e));
		}
	}
	return 0;
}
