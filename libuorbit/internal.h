/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libuorbit internals shared by its files. */
#ifndef UO_INTERNAL_H
#define UO_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../uapi/orbit.h"
#include "heap.h"
#include "state.h"
#include "orbit.h"

#define UO_DEVICE	"/dev/orbit"

/* Features this library asks for at the handshake (all it knows). */
#define UO_FEATURES	ORBIT_FEAT_ALL

/*
 * A call's tag (struct orbit_call_req.tag), read by the orbit's task
 * loop: the library's own call that installs main's globals, or the
 * arena slot the call may use (slot + 1; 0: none).
 */
#define UO_TAG_GLOBALS		(1ULL << 63)
#define UO_TAG_SLOT_MASK	0xffULL
#define UO_TAG_SLOT(i)		((uint64_t)(i) + 1)
#define UO_ARENA_SLOTS		64
#define UO_NO_SLOT		(~0U)

/*
 * ctx.c: the process's main context, opened and handshaken on first use.
 * Handles (orbits, areas, futures) belong to the process that made them:
 * a fork child (the spawner and orbits included) starts a new epoch, and
 * a handle of another epoch fails with EBADF.
 */
int uo_ctx_fd(void);
/* uo_ctx_fd() for an operation on a handle: EINVAL if NULL, EBADF if foreign. */
int uo_ctx_fd_for(const void *obj, unsigned long epoch);
/* 0 if a handle may be used here, else -1 with errno (EINVAL, EBADF). */
int uo_own(const void *obj, unsigned long epoch);

struct uo_arena;

/*
 * A handle on an orbit.  Made by orbit_create_ex(), freed by
 * orbit_destroy() or orbit_destroy_all(); on uo_st.list (list_lock)
 * while it lives in the process that made it.
 */
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
	struct uo_arena *arena;		/* its update arena, or NULL */
	int globals;			/* its process gets a globals call first */
	struct uo_ring *ring;		/* ORBIT_DIRECT: its ring (direct.c) */
	struct orbit *prev, *next;	/* on uo_st.list */
};

/*
 * orbit.c: does a failed step that ends or frees something (an ioctl, a
 * mmap) deserve another try?  A shortage (ENOMEM, or EFAULT reading the
 * library's own buffer) or EINTR passes, at most 100 shortages (*tries
 * counts them); an end given up on would leave the object until the
 * context closes or main exits.
 */
int uo_settle_again(int *tries);
/* orbit.c: restarts a dead orbit if its policy allows; 0 if it did. */
int uo_orbit_restart(struct orbit *ob);
/* orbit.c: in a fork child, forgets the parent's handles. */
void uo_list_forget(void);

struct orbit_area {
	unsigned long epoch;		/* of the process that made it */
	uint32_t id;
	unsigned char *base;
	size_t size;			/* maximum: the mapping's size */
	pthread_mutex_t lock;		/* protects heap */
	struct uo_heap heap;		/* its records live in main's heap */
};

/*
 * An update a pull took from the module but could not map at its arena
 * address (ENOMEM): the next pull of the same call returns it first.
 */
struct uo_held {
	void *buf;		/* malloc'd, len bytes; NULL: none */
	size_t len;
	uint32_t status;	/* ORBIT_PULL_UPDATE or ORBIT_PULL_UPDATE_END */
};

struct orbit_future {
	unsigned long epoch;
	uint64_t call_id;
	uint32_t orbit_id;	/* origin of its updates */
	struct uo_arena *arena;	/* with slot: the call's arena slot */
	unsigned int slot;	/* UO_NO_SLOT: none */
	/*
	 * lock: one pull at a time (held across its ioctl, which may wait
	 * long: nothing else takes it).  A pull that saw the end collected
	 * the call in the module (ORBIT_PULL_RELEASE): it keeps error and
	 * retval, then sets ended (release; read by uo_future_ended).
	 * held: under lock; freed with the future if never pulled again.
	 */
	pthread_mutex_t lock;
	int ended;
	int error;
	long retval;
	struct uo_held held;
	/* A direct call (direct.c): its ring and slot, the reply copied out. */
	struct uo_ring *ring;
	uint32_t seq;
	uint32_t gen;		/* of the process it was posted to */
	uint32_t rslot;		/* its slot in the ring */
	int died;		/* its process died before answering */
	unsigned char *reply;
	size_t reply_len, reply_pos;
};

/* Has a pull collected f's call at its end (its result is in f)? */
static inline int uo_future_ended(struct orbit_future *f)
{
	return __atomic_load_n(&f->ended, __ATOMIC_ACQUIRE);
}

/* area.c: the virtual-address window that holds every area. */
int uo_va_reserve(void);
void uo_va_window(void **base, size_t *size);
void uo_va_forget(void);
/* A range of the window (2 MiB aligned), or NULL with ENOMEM. */
void *uo_va_alloc(size_t len);
/* Gives a range back, reserved (inaccessible) again. */
void uo_va_free(void *p, size_t len);

/* arena.c: update arenas (main side, then the orbit's). */
struct uo_arena *uo_arena_new(void);
void uo_arena_put(struct uo_arena *a);
void uo_arena_region(const struct uo_arena *a, void **base, size_t *slot);
uint64_t uo_arena_slot_get(struct uo_arena *a, unsigned int *slot);
void uo_arena_slot_put(struct uo_arena *a, unsigned int slot);
int uo_arena_place(struct uo_arena *a, unsigned int slot, void **buf,
		   size_t len, struct orbit_update *u);
void uo_arena_enter(uint64_t tag);
void uo_arena_leave(void);
void uo_arena_pushed(struct orbit_update *u);

/* written.c: pages of main's globals written since the last look. */
typedef void (*uo_written_fn)(uintptr_t lo, uintptr_t hi, void *arg);
int uo_written_arm(const struct uo_span *s, unsigned int n);
int uo_written_scan(const struct uo_span *s, unsigned int n,
		    uo_written_fn fn, void *arg);
void uo_written_reset(void);

/* globals.c: fresh copies of main's global variables for orbits. */
int uo_globals_send(struct orbit *ob);
void uo_globals_install(void *argbuf);
void uo_globals_drop(void);

/* direct.c: direct calls, main's side then the orbit's. */
int uo_ring_new(struct orbit *ob);
void uo_ring_free(struct uo_ring *r);
int uo_ring_fd(const struct uo_ring *r);
void uo_ring_forget(struct uo_ring *r);
int uo_ring_restarting(struct orbit *ob);
void uo_ring_started(struct orbit *ob);
int uo_ring_call(struct orbit *ob, size_t narea, struct orbit_area **areas,
		 orbit_entry func, const void *arg, size_t argsize,
		 struct orbit_future *f);
long uo_ring_pull(struct orbit_future *f, struct orbit_update **update);
int uo_ring_get(struct orbit_future *f, long *retval);
int uo_ring_updates_left(struct orbit_future *f, long *retval);
int uo_ring_active(void);
int uo_ring_push(struct orbit_update *u);
__attribute__((noreturn)) void uo_ring_serve(int fd, orbit_entry entry,
					     void *(*init)(void), void *argbuf);
int uo_ring_module_call(struct orbit *ob);
void uo_ring_status(struct uo_ring *r, struct orbit_status *st);
void uo_orbit_drain_module(void *argbuf);

/* spawner.c: the per-main spawner and the orbit-side task loop. */
int uo_spawn(struct orbit *ob, int orbit_fd);
/* orbit.c: issues the library's own call (tag UO_TAG_GLOBALS, no future). */
int uo_call_internal(struct orbit *ob, struct orbit_area *area, uint64_t tag,
		     void *arg, size_t argsize);

/* orbit.c: waits for a call's end and releases its future. */
int uo_wait_call(uint64_t call_id, long *retval);
/* push.c: the calling thread's last sync call, if it left updates. */
void uo_release_sync_updates(void);
/*
 * The task loop's side of orbit_push_last: begin as the task starts (an
 * update is held only while it runs); arm, as it has returned, hands the
 * held update to the RUN that ends the call, in *req (which must last
 * until that RUN returns), and returns it (NULL: none); sent frees it
 * once that RUN has returned (the module has taken it, or failed the
 * call).
 */
void uo_push_last_begin(void);
struct orbit_update *uo_push_last_arm(struct orbit_run *run,
				      struct orbit_push *req);
void uo_push_last_sent(struct orbit_update *u);
extern __thread uint64_t uo_last_sync_call;
extern __thread uint32_t uo_last_sync_orbit;
extern __thread struct uo_arena *uo_last_sync_arena;
extern __thread unsigned int uo_last_sync_slot;
extern __thread struct uo_held uo_last_sync_held;
extern __thread struct orbit_future *uo_last_sync_direct;

/*
 * Argument checks shared by every call path; returns 0 or an errno value.
 * Pure: unit tested on the host.
 */
int uo_check_call_args(size_t narea, struct orbit_area **areas,
		       const void *arg, size_t argsize, size_t max_arg,
		       size_t max_areas);

#endif
