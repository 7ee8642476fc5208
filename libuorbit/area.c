// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Areas and the virtual-address window.
 *
 * Before the spawner exists the library reserves one large inaccessible
 * window (PROT_NONE, MAP_NORESERVE: no memory, only address space).  Every
 * area is carved from it, so the address an area has in main is free in
 * every orbit too (orbits descend from the spawner and inherit the
 * reservation) and can be mapped there at the same address.
 *
 * A fork child (the spawner, each orbit, a plain fork of main) forgets the
 * window: it keeps the reservation, where an orbit maps its views of
 * main's areas, but areas of its own (an orbit's nested ones) come from a
 * window it reserves for itself, so they never collide with those views.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define VA_ALIGN		(2UL << 20)
#define VA_DEFAULT		(1UL << 40)	/* 1 TiB of address space */
#define VA_MIN			(1UL << 30)
#define AREA_DEFAULT_MAX	(1UL << 30)


static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int va_reserve_locked(void)
{
	size_t size = VA_DEFAULT;
	const char *env = getenv("ORBIT_VA_WINDOW_GB");
	void *p;

	if (uo_st.va_base)
		return 0;
	if (env && atol(env) > 0)
		size = (size_t)atol(env) << 30;
	for (; size >= VA_MIN; size /= 2) {
		p = mmap(NULL, size + VA_ALIGN, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		/* Align the window; give back the slack. */
		uo_st.va_base = (unsigned char *)align_up((size_t)p, VA_ALIGN);
		if (uo_st.va_base != p)
			munmap(p, (size_t)(uo_st.va_base - (unsigned char *)p));
		munmap(uo_st.va_base + size,
		       (size_t)((unsigned char *)p + size + VA_ALIGN -
				(uo_st.va_base + size)));
		uo_st.va_size = size;
		return 0;
	}
	return -1;
}

int uo_va_reserve(void)
{
	int ret;

	pthread_mutex_lock(&uo_st.va_lock);
	ret = va_reserve_locked();
	pthread_mutex_unlock(&uo_st.va_lock);
	return ret;
}

/* Lock-free: the window never moves once reserved. */
void uo_va_window(void **base, size_t *size)
{
	*base = uo_st.va_base;
	*size = uo_st.va_size;
}

/* In a fork child: the inherited window is the parent's (still reserved). */
void uo_va_forget(void)
{
	pthread_mutex_init(&uo_st.va_lock, NULL);
	uo_st.va_base = NULL;
	uo_st.va_size = uo_st.va_top = 0;
	uo_st.va_nholes = 0;
}

/* Areas start 2 MiB aligned: whole page-table pages per area. */
void *uo_va_alloc(size_t len)
{
	unsigned char *p = NULL;
	unsigned int i;

	len = align_up(len, VA_ALIGN);
	pthread_mutex_lock(&uo_st.va_lock);
	if (va_reserve_locked())
		goto out;
	for (i = 0; i < uo_st.va_nholes; i++) {
		if (uo_st.va_holes[i].len < len)
			continue;
		p = uo_st.va_base + uo_st.va_holes[i].off;
		uo_st.va_holes[i].off += len;
		uo_st.va_holes[i].len -= len;
		if (!uo_st.va_holes[i].len)
			uo_st.va_holes[i] = uo_st.va_holes[--uo_st.va_nholes];
		goto out;
	}
	if (len <= uo_st.va_size - uo_st.va_top) {
		p = uo_st.va_base + uo_st.va_top;
		uo_st.va_top += len;
	}
out:
	pthread_mutex_unlock(&uo_st.va_lock);
	if (!p)
		errno = ENOMEM;
	return p;
}

/*
 * Returns a range to the window, reserved again (inaccessible).  A range
 * that cannot be reserved again (out of memory) leaves the window: what
 * is mapped there stays, and no later area may be placed on it.
 */
void uo_va_free(void *p, size_t len)
{
	unsigned int i;
	int tries = 0;
	size_t off = (size_t)((unsigned char *)p - uo_st.va_base);

	len = align_up(len, VA_ALIGN);
	/*
	 * Tried again while memory is short: given up on, the range (and
	 * an area's pages mapped there) would stay until main exits.
	 */
	while (mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
		if (!uo_settle_again(&tries))
			return;
	pthread_mutex_lock(&uo_st.va_lock);
	for (i = 0; i < uo_st.va_nholes; i++) {
		if (uo_st.va_holes[i].off + uo_st.va_holes[i].len == off) {
			uo_st.va_holes[i].len += len;
			goto out;
		}
		if (off + len == uo_st.va_holes[i].off) {
			uo_st.va_holes[i].off = off;
			uo_st.va_holes[i].len += len;
			goto out;
		}
	}
	if (off + len == uo_st.va_top)
		uo_st.va_top = off;
	else if (uo_st.va_nholes < UO_VA_MAX_HOLES) {
		uo_st.va_holes[uo_st.va_nholes].off = off;
		uo_st.va_holes[uo_st.va_nholes].len = len;
		uo_st.va_nholes++;
	}
out:
	pthread_mutex_unlock(&uo_st.va_lock);
}

struct orbit_area *orbit_area_create_ex(size_t init_size, size_t max_size,
					unsigned int flags, struct orbit *ob)
{
	struct orbit_area_req req;
	struct orbit_area *area;
	int fd, err;

	if (flags & ~(ORBIT_AREA_MODE_COPY | ORBIT_AREA_MODE_COW) ||
	    (flags & ORBIT_AREA_MODE_COPY && flags & ORBIT_AREA_MODE_COW) ||
	    init_size > SIZE_MAX / 2 || max_size > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	fd = uo_ctx_fd();
	if (fd < 0)
		return NULL;
	if (!max_size)
		max_size = init_size > AREA_DEFAULT_MAX ? init_size :
							  AREA_DEFAULT_MAX;
	if (max_size < init_size) {
		errno = EINVAL;
		return NULL;
	}
	max_size = align_up(max_size ? max_size : 1, (size_t)getpagesize());
	if (max_size > uo_st.api.max_area_size) {
		errno = EINVAL;
		return NULL;
	}
	if (ob && uo_own(ob, ob->epoch))
		return NULL;
	area = calloc(1, sizeof(*area));
	if (!area)
		return NULL;
	area->epoch = uo_st.epoch;
	area->base = uo_va_alloc(max_size);
	if (!area->base) {
		free(area);
		return NULL;
	}
	area->size = max_size;
	memset(&req, 0, sizeof(req));
	req.addr = (uintptr_t)area->base;
	req.size = max_size;
	req.flags = (flags & ORBIT_AREA_MODE_COPY ? ORBIT_AREA_COPY : 0) |
		    (flags & ORBIT_AREA_MODE_COW ? ORBIT_AREA_NOAUTO : 0);
	req.orbit_id = ob ? ob->id : 0;
	if (ioctl(fd, ORBIT_IOC_AREA_CREATE, &req) < 0) {
		err = errno;
		uo_va_free(area->base, area->size);
		free(area);
		errno = err;
		return NULL;
	}
	area->id = req.id;
	pthread_mutex_init(&area->lock, NULL);
	uo_heap_init(&area->heap, area->base, area->size);
	return area;
}

struct orbit_area *orbit_area_create(size_t init_size, struct orbit *ob)
{
	return orbit_area_create_ex(init_size, 0, 0, ob);
}

int orbit_area_bind(struct orbit_area *area, struct orbit *ob)
{
	struct orbit_bind b;
	int fd;

	if (!ob) {
		errno = EINVAL;
		return -1;
	}
	if (uo_own(ob, ob->epoch))
		return -1;
	fd = uo_ctx_fd_for(area, area ? area->epoch : 0);
	if (fd < 0)
		return -1;
	memset(&b, 0, sizeof(b));
	b.area_id = area->id;
	b.orbit_id = ob->id;
	return ioctl(fd, ORBIT_IOC_AREA_BIND, &b) < 0 ? -1 : 0;
}

/*
 * In a fork child, a handle inherited from the parent is only the child's
 * copy of it: destroying it frees the copy (the area is not the child's).
 */
/*
 * Is main's mapping of the area still there, whole?  1 or 0; -1 with
 * errno when the module could not tell (a shortage: the entry's verdict
 * names it in failed, a failed copy or allocation does not).
 */
static int area_mapped_whole(int fd, const struct orbit_area *area)
{
	struct orbit_check_entry e = {
		.addr = (uintptr_t)area->base, .len = area->size,
		.kind = ORBIT_CHECK_MAPPED,
	};
	struct orbit_check req;

	if (!(uo_st.api.features & ORBIT_FEAT_CHECK_MAPPED))
		return 0;
	memset(&req, 0, sizeof(req));
	req.count = 1;
	req.entries = (uintptr_t)&e;
	req.failed = UINT32_MAX;
	if (ioctl(fd, ORBIT_IOC_CHECK, &req) == 0)
		return 1;
	return req.failed == 0 ? 0 : -1;
}

int orbit_area_destroy(struct orbit_area *area)
{
	struct orbit_ref ref;
	int fd, whole;

	if (!area) {
		errno = EINVAL;
		return -1;
	}
	if (area->epoch == uo_st.epoch) {
		fd = uo_ctx_fd();
		if (fd < 0)
			return -1;
		whole = area_mapped_whole(fd, area);
		if (whole < 0)
			return -1;	/* the handle stays: try again */
		memset(&ref, 0, sizeof(ref));
		ref.id = area->id;
		if (ioctl(fd, ORBIT_IOC_AREA_DESTROY, &ref) < 0)
			return -1;
		/*
		 * An area main unmapped left a hole that anything may have
		 * been mapped into since: the range leaves the window.
		 */
		if (whole)
			uo_va_free(area->base, area->size);
	}
	uo_heap_destroy(&area->heap);
	pthread_mutex_destroy(&area->lock);
	free(area);
	return 0;
}

void *orbit_alloc(struct orbit_area *area, size_t size)
{
	void *p;

	if (uo_own(area, area ? area->epoch : 0))
		return NULL;
	pthread_mutex_lock(&area->lock);
	p = uo_heap_alloc(&area->heap, size);
	pthread_mutex_unlock(&area->lock);
	return p;
}

/*
 * Pages a free left with nothing allocated in them go back to the module:
 * no memory, nothing for snapshots to hold.
 */
static void area_release_pages(struct orbit_area *area)
{
	struct orbit_area_discard d;
	size_t off, len;
	int fd;

	if (!(uo_st.api.features & ORBIT_FEAT_DISCARD) ||
	    !uo_heap_released(&area->heap, (size_t)getpagesize(), &off, &len))
		return;
	fd = uo_ctx_fd();
	if (fd < 0)
		return;
	memset(&d, 0, sizeof(d));
	d.id = area->id;
	d.offset = off;
	d.len = len;
	ioctl(fd, ORBIT_IOC_AREA_DISCARD, &d);
}

void *orbit_calloc(struct orbit_area *area, size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	p = orbit_alloc(area, nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);	/* a freed block keeps its bytes */
	return p;
}

void *orbit_realloc(struct orbit_area *area, void *ptr, size_t size)
{
	size_t old;
	void *p;

	if (!ptr)
		return orbit_alloc(area, size);
	if (uo_own(area, area ? area->epoch : 0))
		return NULL;
	pthread_mutex_lock(&area->lock);
	old = uo_heap_block_size(&area->heap, ptr);
	if (!old) {
		pthread_mutex_unlock(&area->lock);
		errno = EINVAL;	/* not a block of this area */
		return NULL;
	}
	if (!size) {
		if (uo_heap_free(&area->heap, ptr) == 0)
			area_release_pages(area);
		pthread_mutex_unlock(&area->lock);
		errno = 0;
		return NULL;
	}
	if (size <= old) {
		pthread_mutex_unlock(&area->lock);
		return ptr;	/* it fits where it is */
	}
	p = uo_heap_alloc(&area->heap, size);
	if (p) {
		memcpy(p, ptr, old);
		if (uo_heap_free(&area->heap, ptr) == 0)
			area_release_pages(area);
	}
	pthread_mutex_unlock(&area->lock);
	return p;	/* NULL (ENOMEM): ptr is unchanged */
}

int orbit_area_set_mode(struct orbit_area *area, unsigned int mode)
{
	struct orbit_area_mode m;
	int fd;

	if (mode & ~(ORBIT_AREA_MODE_COPY | ORBIT_AREA_MODE_COW) ||
	    (mode & ORBIT_AREA_MODE_COPY && mode & ORBIT_AREA_MODE_COW)) {
		errno = EINVAL;
		return -1;
	}
	fd = uo_ctx_fd_for(area, area ? area->epoch : 0);
	if (fd < 0)
		return -1;
	memset(&m, 0, sizeof(m));
	m.id = area->id;
	m.flags = (mode & ORBIT_AREA_MODE_COPY ? ORBIT_AREA_COPY : 0) |
		  (mode & ORBIT_AREA_MODE_COW ? ORBIT_AREA_NOAUTO : 0);
	return ioctl(fd, ORBIT_IOC_AREA_MODE, &m) < 0 ? -1 : 0;
}

void orbit_free(struct orbit_area *area, void *ptr)
{
	if (!ptr || uo_own(area, area ? area->epoch : 0))
		return;
	pthread_mutex_lock(&area->lock);
	if (uo_heap_free(&area->heap, ptr) == 0)
		area_release_pages(area);
	pthread_mutex_unlock(&area->lock);
}

void *orbit_area_base(const struct orbit_area *area)
{
	return area ? area->base : NULL;
}

size_t orbit_area_size(const struct orbit_area *area)
{
	return area ? area->size : 0;
}
