/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libuorbit internals shared by its files. */
#ifndef UO_INTERNAL_H
#define UO_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../uapi/orbit.h"
#include "heap.h"
#include "orbit.h"

#define UO_DEVICE	"/dev/orbit"

/* Features this library asks for at the handshake (all it knows). */
#define UO_FEATURES	(ORBIT_FEAT_COPY_MODE | ORBIT_FEAT_AUTO_MODE | \
			 ORBIT_FEAT_UPDATES | ORBIT_FEAT_RESTART |	\
			 ORBIT_FEAT_TIMEOUT | ORBIT_FEAT_LIST |		\
			 ORBIT_FEAT_CHECK_MAPPED)

/*
 * ctx.c: the process's main context, opened and handshaken on first use.
 * Handles (orbits, areas, futures) belong to the process that made them:
 * a fork child (the spawner and orbits included) starts a new epoch, and
 * a handle of another epoch fails with EBADF.
 */
extern unsigned long uo_epoch;
int uo_ctx_fd(void);
/* uo_ctx_fd() for an operation on a handle: EINVAL if NULL, EBADF if foreign. */
int uo_ctx_fd_for(const void *obj, unsigned long epoch);
/* 0 if a handle may be used here, else -1 with errno (EINVAL, EBADF). */
int uo_own(const void *obj, unsigned long epoch);
extern struct orbit_api uo_api;

struct orbit {
	unsigned long epoch;		/* of the process that made it */
	uint32_t id;
	orbit_entry entry;
	void *(*init)(void);
	struct orbit_attr attr;
	char name[ORBIT_NAME_MAX];
	char cgroup[256];
	pthread_mutex_t lock;		/* serialises restarts */
	unsigned int restarts;
};

/* orbit.c: restarts a dead orbit if its policy allows; 0 if it did. */
int uo_orbit_restart(struct orbit *ob);

struct orbit_area {
	unsigned long epoch;		/* of the process that made it */
	uint32_t id;
	unsigned char *base;
	size_t size;			/* maximum: the mapping's size */
	pthread_mutex_t lock;		/* protects heap */
	struct uo_heap heap;		/* its records live in main's heap */
};

struct orbit_future {
	unsigned long epoch;
	uint64_t call_id;
	uint32_t orbit_id;	/* origin of its updates */
};

/* area.c: the virtual-address window that holds every area. */
int uo_va_reserve(void);
void uo_va_window(void **base, size_t *size);
void uo_va_forget(void);

/* spawner.c: the per-main spawner and the orbit-side task loop. */
int uo_spawn(struct orbit *ob, int orbit_fd, pid_t *pid);
extern int uo_orbit_fd;		/* in an orbit: its descriptor, else -1 */

/* orbit.c: waits for a call's end and releases its future. */
int uo_wait_call(uint64_t call_id, long *retval);
/* push.c: the calling thread's last sync call, if it left updates. */
void uo_release_sync_updates(void);
extern __thread uint64_t uo_last_sync_call;
extern __thread uint32_t uo_last_sync_orbit;

/*
 * Argument checks shared by every call path; returns 0 or an errno value.
 * Pure: unit tested on the host.
 */
int uo_check_call_args(size_t narea, struct orbit_area **areas,
		       const void *arg, size_t argsize, size_t max_arg,
		       size_t max_areas);

#endif
