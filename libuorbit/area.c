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
#include <stdbool.h>
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
#define VA_MAX_HOLES		256

static pthread_mutex_t va_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *va_base;
static size_t va_size, va_top;
static struct { size_t off, len; } va_holes[VA_MAX_HOLES];
static unsigned int va_nholes;

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int va_reserve_locked(void)
{
	size_t size = VA_DEFAULT;
	const char *env = getenv("ORBIT_VA_WINDOW_GB");
	void *p;

	if (va_base)
		return 0;
	if (env && atol(env) > 0)
		size = (size_t)atol(env) << 30;
	for (; size >= VA_MIN; size /= 2) {
		p = mmap(NULL, size + VA_ALIGN, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		/* Align the window; give back the slack. */
		va_base = (unsigned char *)align_up((size_t)p, VA_ALIGN);
		if (va_base != p)
			munmap(p, (size_t)(va_base - (unsigned char *)p));
		munmap(va_base + size,
		       (size_t)((unsigned char *)p + size + VA_ALIGN -
				(va_base + size)));
		va_size = size;
		return 0;
	}
	return -1;
}

int uo_va_reserve(void)
{
	int ret;

	pthread_mutex_lock(&va_lock);
	ret = va_reserve_locked();
	pthread_mutex_unlock(&va_lock);
	return ret;
}

/* Lock-free: the window never moves once reserved. */
void uo_va_window(void **base, size_t *size)
{
	*base = va_base;
	*size = va_size;
}

/* In a fork child: the inherited window is the parent's (still reserved). */
void uo_va_forget(void)
{
	pthread_mutex_init(&va_lock, NULL);
	va_base = NULL;
	va_size = va_top = 0;
	va_nholes = 0;
}

/* Areas start 2 MiB aligned: whole page-table pages per area. */
static unsigned char *va_alloc(size_t len)
{
	unsigned char *p = NULL;
	unsigned int i;

	len = align_up(len, VA_ALIGN);
	pthread_mutex_lock(&va_lock);
	if (va_reserve_locked())
		goto out;
	for (i = 0; i < va_nholes; i++) {
		if (va_holes[i].len < len)
			continue;
		p = va_base + va_holes[i].off;
		va_holes[i].off += len;
		va_holes[i].len -= len;
		if (!va_holes[i].len)
			va_holes[i] = va_holes[--va_nholes];
		goto out;
	}
	if (len <= va_size - va_top) {
		p = va_base + va_top;
		va_top += len;
	}
out:
	pthread_mutex_unlock(&va_lock);
	if (!p)
		errno = ENOMEM;
	return p;
}

/* Returns a range to the window, reserved again (inaccessible). */
static void va_release(unsigned char *p, size_t len)
{
	unsigned int i;
	size_t off = (size_t)(p - va_base);

	len = align_up(len, VA_ALIGN);
	mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
	     MAP_FIXED, -1, 0);
	pthread_mutex_lock(&va_lock);
	for (i = 0; i < va_nholes; i++) {
		if (va_holes[i].off + va_holes[i].len == off) {
			va_holes[i].len += len;
			goto out;
		}
		if (off + len == va_holes[i].off) {
			va_holes[i].off = off;
			va_holes[i].len += len;
			goto out;
		}
	}
	if (off + len == va_top)
		va_top = off;
	else if (va_nholes < VA_MAX_HOLES) {
		va_holes[va_nholes].off = off;
		va_holes[va_nholes].len = len;
		va_nholes++;
	}
out:
	pthread_mutex_unlock(&va_lock);
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
	if (max_size > uo_api.max_area_size) {
		errno = EINVAL;
		return NULL;
	}
	if (ob && uo_own(ob, ob->epoch))
		return NULL;
	area = calloc(1, sizeof(*area));
	if (!area)
		return NULL;
	area->epoch = uo_epoch;
	area->base = va_alloc(max_size);
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
		va_release(area->base, area->size);
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
/* Is main's mapping of the area still there, whole? */
static bool area_mapped_whole(int fd, const struct orbit_area *area)
{
	struct orbit_check_entry e = {
		.addr = (uintptr_t)area->base, .len = area->size,
		.kind = ORBIT_CHECK_MAPPED,
	};
	struct orbit_check req;

	if (!(uo_api.features & ORBIT_FEAT_CHECK_MAPPED))
		return false;
	memset(&req, 0, sizeof(req));
	req.count = 1;
	req.entries = (uintptr_t)&e;
	return ioctl(fd, ORBIT_IOC_CHECK, &req) == 0;
}

int orbit_area_destroy(struct orbit_area *area)
{
	struct orbit_ref ref;
	bool whole;
	int fd;

	if (!area) {
		errno = EINVAL;
		return -1;
	}
	if (area->epoch == uo_epoch) {
		fd = uo_ctx_fd();
		if (fd < 0)
			return -1;
		whole = area_mapped_whole(fd, area);
		memset(&ref, 0, sizeof(ref));
		ref.id = area->id;
		if (ioctl(fd, ORBIT_IOC_AREA_DESTROY, &ref) < 0)
			return -1;
		/*
		 * An area main unmapped left a hole that anything may have
		 * been mapped into since: the range leaves the window.
		 */
		if (whole)
			va_release(area->base, area->size);
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

void orbit_free(struct orbit_area *area, void *ptr)
{
	if (!ptr || uo_own(area, area ? area->epoch : 0))
		return;
	pthread_mutex_lock(&area->lock);
	uo_heap_free(&area->heap, ptr);
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
