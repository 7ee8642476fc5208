/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libuorbit: isolated auxiliary tasks ("orbits") for a main program.
 *
 * See orbit(7) for the model and one man page per function group.
 */
#ifndef ORBIT_H
#define ORBIT_H

#include <stddef.h>
#include <stdint.h>

#include "orbit_version.h"	/* LIBUORBIT_VERSION_MAJOR, _MINOR, _PATCH */

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH" (the one it was built as). */
const char *orbit_version(void);

typedef long (*orbit_entry)(void *argbuf, void *store);
typedef long (*orbit_operation)(void *arg);

struct orbit;
struct orbit_area;
struct orbit_future;
struct orbit_update;

/* Restart policy (struct orbit_attr.restart). */
enum orbit_restart {
	ORBIT_RESTART_NEVER = 0,	/* a dead orbit stays dead */
	ORBIT_RESTART_ALWAYS = 1,	/* restart on every death */
	ORBIT_RESTART_LIMIT = 2,	/* restart up to restart_max times */
};

/* struct orbit_attr.flags */
#define ORBIT_OBSERVE_ONLY	(1U << 0)	/* pushes fail with EPERM */
#define ORBIT_SPAWNER_GLOBALS	(1U << 1)	/* no fresh copy of main's globals */
#define ORBIT_BACKGROUND	(1U << 2)	/* SCHED_BATCH: never runs ahead of its caller */
#define ORBIT_DIRECT		(1U << 3)	/* calls copy small areas through a ring */

struct orbit_attr {
	enum orbit_restart restart;	/* default ORBIT_RESTART_NEVER */
	unsigned int restart_max;	/* with ORBIT_RESTART_LIMIT */
	uint64_t timeout_ns;		/* per call; 0 = none */
	const char *cgroup;		/* cgroup v2 directory, or NULL */
	unsigned int flags;		/* ORBIT_OBSERVE_ONLY, ... */
	unsigned int reserved0;		/* zero */
	uint64_t reserved[4];		/* zero (orbit_attr_init) */
};

void orbit_attr_init(struct orbit_attr *attr);

struct orbit *orbit_create(const char *name, orbit_entry entry,
			   void *(*init)(void));
struct orbit *orbit_create_ex(const char *name, orbit_entry entry,
			      void *(*init)(void),
			      const struct orbit_attr *attr);
int orbit_destroy(struct orbit *ob);
int orbit_destroy_all(void);
int orbit_sync_globals(struct orbit *ob);

/* struct orbit_status.state */
enum orbit_state {
	ORBIT_STATUS_STARTING = 0,	/* its process is being made */
	ORBIT_STATUS_READY = 1,		/* idle or running a call */
	ORBIT_STATUS_RESTARTING = 2,	/* made again after a death */
	ORBIT_STATUS_DEAD = 3,		/* see last_death; a call may restart it */
};

/* struct orbit_status.last_death */
enum orbit_death {
	ORBIT_DIED_NEVER = 0,
	ORBIT_DIED_EXIT = 1,		/* its process exited (code: status) */
	ORBIT_DIED_SIGNAL = 2,		/* killed by signal (code) */
	ORBIT_DIED_OOM = 3,		/* killed by the OOM killer */
	ORBIT_DIED_TIMEOUT = 4,		/* a call outlived timeout_ns */
	ORBIT_DIED_DESTROYED = 5,	/* destroyed */
	ORBIT_DIED_FAILED = 6,		/* a call could not be installed */
	ORBIT_DIED_EXEC = 7,		/* its process called exec */
	ORBIT_DIED_CLOSED = 8,		/* its descriptor was closed */
};

struct orbit_status {
	enum orbit_state state;
	unsigned int restarts;		/* restarts so far */
	int pid;			/* its process now, 0 if none */
	unsigned int id;		/* as orbit_self() returns in it */
	unsigned int flags;		/* ORBIT_OBSERVE_ONLY, ... */
	enum orbit_death last_death;
	int last_death_code;
	int will_restart;		/* dead, and a call would restart it */
	uint64_t calls_done;		/* calls that ended (the library's own too) */
	uint64_t calls_queued;		/* waiting or running */
	uint64_t calls_failed;
	uint64_t reserved[4];
};

int orbit_status(struct orbit *ob, struct orbit_status *st);

/* In a task: the orbit it runs in (0 outside any orbit), and its name. */
unsigned int orbit_self(void);
const char *orbit_self_name(void);

/* Area flags for orbit_area_create_ex(). */
#define ORBIT_AREA_MODE_COPY	(1U << 0)	/* copy at every snapshot */
#define ORBIT_AREA_MODE_COW	(1U << 1)	/* never choose COPY per page */

struct orbit_area *orbit_area_create(size_t init_size, struct orbit *ob);
struct orbit_area *orbit_area_create_ex(size_t init_size, size_t max_size,
					unsigned int flags, struct orbit *ob);
int orbit_area_bind(struct orbit_area *area, struct orbit *ob);
int orbit_area_destroy(struct orbit_area *area);
int orbit_area_set_mode(struct orbit_area *area, unsigned int mode);
void *orbit_alloc(struct orbit_area *area, size_t size);
void *orbit_calloc(struct orbit_area *area, size_t nmemb, size_t size);
void *orbit_realloc(struct orbit_area *area, void *ptr, size_t size);
void orbit_free(struct orbit_area *area, void *ptr);
void *orbit_area_base(const struct orbit_area *area);
size_t orbit_area_size(const struct orbit_area *area);

long orbit_call(struct orbit *ob, size_t narea, struct orbit_area **areas,
		orbit_entry func_once, void *arg, size_t argsize);

/* Flags for orbit_call_async(). */
#define ORBIT_NOFUTURE	(1 << 0)	/* fire and forget: returns NULL, errno 0 */
#define ORBIT_LATEST	(1 << 1)	/* cancels queued calls of the same function */

struct orbit_future *orbit_call_async(struct orbit *ob, int flags,
				      size_t narea, struct orbit_area **areas,
				      orbit_entry func_once, void *arg,
				      size_t argsize);
int orbit_future_get(struct orbit_future *f, long *retval);
int orbit_cancel(struct orbit_future *f);

/* Updates: built in the orbit, pulled and applied in the main program. */
enum orbit_update_type {
	ORBIT_UPDATE_DATA = 1,
	ORBIT_UPDATE_MODIFY = 2,
	ORBIT_UPDATE_OPERATION = 3,
	ORBIT_UPDATE_ARENA = 4,		/* memory from orbit_update_alloc() */
};

struct orbit_update_entry {
	uint32_t type;		/* enum orbit_update_type */
	uint32_t reserved;
	uint64_t len;		/* bytes at data */
	uint64_t addr;		/* MODIFY: target; OPERATION: function */
	unsigned char data[];	/* DATA/MODIFY: bytes; OPERATION: void *arg */
};

struct orbit_update *orbit_update_create(void);
int orbit_update_add_data(struct orbit_update *u, const void *data,
			  size_t len);
int orbit_update_add_modify(struct orbit_update *u, void *addr,
			    const void *val, size_t len);
int orbit_update_add_operation(struct orbit_update *u, orbit_operation op,
			       void *arg);
void *orbit_update_alloc(struct orbit_update *u, size_t size);
long orbit_push(struct orbit_update *update, struct orbit_future *f);
long orbit_push_last(struct orbit_update *update);
long pull_orbit(struct orbit_future *f, struct orbit_update **update);
int orbit_apply(struct orbit_update *u);
int orbit_apply_one(struct orbit_update *u);
int orbit_skip_one(struct orbit_update *u);
const struct orbit_update_entry *
orbit_update_peek(const struct orbit_update *u);
void orbit_update_free(struct orbit_update *u);
const struct orbit_update_entry *
orbit_update_first(const struct orbit_update *u);
const struct orbit_update_entry *
orbit_update_next(const struct orbit_update *u,
		  const struct orbit_update_entry *e);
size_t orbit_update_size(const struct orbit_update *u);
void *orbit_update_operation_arg(const struct orbit_update_entry *e);

/* Module-wide counters, as struct orbit_stats in <linux/orbit.h>. */
struct orbit_module_stats {
	uint64_t contexts, orbits, areas, views, pages, nodes, calls, updates;
	uint64_t calls_total, calls_failed, cow_faults, copy_pages, snapshots;
	uint64_t orbit_deaths, update_pages, install_failures;
};
int orbit_module_stats(struct orbit_module_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* ORBIT_H */
