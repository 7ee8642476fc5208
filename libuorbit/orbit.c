// SPDX-License-Identifier: LGPL-2.1-or-later
/* Orbits, calls and futures: the public API over the module's ioctls. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

#define RESTART_TRIES	3	/* restarts one call may trigger */
#define ATTR_FLAGS	(ORBIT_OBSERVE_ONLY | ORBIT_SPAWNER_GLOBALS | \
			 ORBIT_BACKGROUND | ORBIT_DIRECT)

_Static_assert(ORBIT_DIED_CLOSED == ORBIT_DEATH_CLOSED &&
	       ORBIT_DIED_EXIT == ORBIT_DEATH_EXIT,
	       "enum orbit_death follows ORBIT_DEATH_*");

void orbit_attr_init(struct orbit_attr *attr)
{
	if (attr)
		memset(attr, 0, sizeof(*attr));
}

static int attr_valid(const struct orbit_attr *attr)
{
	unsigned int i;

	if (!attr)
		return 1;
	if (attr->restart > ORBIT_RESTART_LIMIT || attr->flags & ~ATTR_FLAGS ||
	    attr->reserved0 ||
	    (attr->cgroup && strlen(attr->cgroup) >= 256))
		return 0;
	for (i = 0; i < sizeof(attr->reserved) / sizeof(attr->reserved[0]); i++)
		if (attr->reserved[i])
			return 0;
	return 1;
}

/* ---- the list of live handles ------------------------------------------- */

static void list_add(struct orbit *ob)
{
	pthread_mutex_lock(&uo_st.list_lock);
	ob->next = uo_st.list;
	if (ob->next)
		ob->next->prev = ob;
	uo_st.list = ob;
	pthread_mutex_unlock(&uo_st.list_lock);
}

static void list_del(struct orbit *ob)
{
	int empty;

	pthread_mutex_lock(&uo_st.list_lock);
	if (ob->prev)
		ob->prev->next = ob->next;
	else if (uo_st.list == ob)
		uo_st.list = ob->next;
	if (ob->next)
		ob->next->prev = ob->prev;
	ob->prev = ob->next = NULL;
	empty = !uo_st.list;
	pthread_mutex_unlock(&uo_st.list_lock);
	if (empty)
		uo_globals_drop();	/* main has no orbit left */
}

/* In a fork child: the inherited handles are the parent's. */
void uo_list_forget(void)
{
	struct orbit *ob;

	/* A direct orbit's ring is not the child's (nor mapped there). */
	for (ob = uo_st.list; ob; ob = ob->next)
		if (ob->ring)
			uo_ring_forget(ob->ring);
	pthread_mutex_init(&uo_st.list_lock, NULL);
	uo_st.list = NULL;
}

static void handle_free(struct orbit *ob)
{
	uo_arena_put(ob->arena);	/* a no-op for a parent's handle */
	if (ob->epoch == uo_st.epoch)
		uo_ring_free(ob->ring);
	pthread_mutex_destroy(&ob->lock);
	free(ob);
}

/* ---- creation and restarts ---------------------------------------------- */

#define SETTLE_TRIES	100

int uo_settle_again(int *tries)
{
	if (errno == EINTR)
		return 1;
	if ((errno != ENOMEM && errno != EFAULT) || ++*tries > SETTLE_TRIES)
		return 0;
	sched_yield();
	return 1;
}

/*
 * Starts the process of a new generation for the orbit's descriptor fd;
 * 0 or -1.  Main's globals, as they are now, are queued first: the
 * process installs them before init and before any other call.  If they
 * cannot be (EDQUOT, ENOMEM, EMFILE), no process starts.
 */
static int start_process(struct orbit *ob, int fd)
{
	int ret, err;

	ob->globals = !(ob->attr.flags & ORBIT_SPAWNER_GLOBALS);
	ret = ob->globals ? uo_globals_send(ob) : 0;
	if (!ret)
		ret = uo_spawn(ob, fd);
	err = errno;
	close(fd);	/* the orbit holds it now */
	if (!ret && ob->ring)
		uo_ring_started(ob);
	errno = err;
	return ret ? -1 : 0;
}

struct orbit *orbit_create_ex(const char *name, orbit_entry entry,
			      void *(*init)(void),
			      const struct orbit_attr *attr)
{
	struct orbit_create req;
	struct orbit_ref ref;
	struct orbit *ob;
	int fd, err, tries = 0;

	if (!attr_valid(attr)) {
		errno = EINVAL;
		return NULL;
	}
	fd = uo_ctx_fd();
	if (fd < 0)
		return NULL;
	/* Fresh globals reach a direct orbit through ORBIT_RUN_NOWAIT. */
	if (attr && (attr->flags & ORBIT_DIRECT) &&
	    !(attr->flags & ORBIT_SPAWNER_GLOBALS) &&
	    !(uo_st.api.features & ORBIT_FEAT_RUN_NOWAIT)) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return NULL;
	ob->epoch = uo_st.epoch;
	ob->entry = entry;
	ob->init = init;
	if (attr)
		ob->attr = *attr;
	if (attr && attr->cgroup)
		strcpy(ob->cgroup, attr->cgroup);
	ob->attr.cgroup = NULL;
	strncpy(ob->name, name ? name : "orbit", sizeof(ob->name) - 1);
	pthread_mutex_init(&ob->lock, NULL);
	ob->arena = uo_arena_new();
	if ((ob->attr.flags & ORBIT_DIRECT) && uo_ring_new(ob)) {
		err = errno;
		handle_free(ob);
		errno = err;
		return NULL;
	}

	memset(&req, 0, sizeof(req));
	memcpy(req.name, ob->name, sizeof(req.name));
	req.flags = ORBIT_CREATE_CLOEXEC |
		    (ob->attr.flags & ORBIT_OBSERVE_ONLY ? ORBIT_CREATE_OBSERVE : 0);
	/* A direct orbit's calls are timed by main (direct.c). */
	req.timeout_ns = ob->ring ? 0 : ob->attr.timeout_ns;
	if (ioctl(fd, ORBIT_IOC_CREATE, &req) < 0)
		goto fail;
	ob->id = req.id;
	if (start_process(ob, req.orbit_fd)) {
		err = errno;
		memset(&ref, 0, sizeof(ref));
		ref.id = ob->id;
		while (ioctl(fd, ORBIT_IOC_DESTROY, &ref) < 0 &&
		       uo_settle_again(&tries))
			;
		errno = err;
		goto fail;
	}
	list_add(ob);
	return ob;
fail:
	err = errno;
	handle_free(ob);
	errno = err;
	return NULL;
}

struct orbit *orbit_create(const char *name, orbit_entry entry,
			   void *(*init)(void))
{
	return orbit_create_ex(name, entry, init, NULL);
}

static int restart_allowed(const struct orbit *ob)
{
	switch (ob->attr.restart) {
	case ORBIT_RESTART_ALWAYS:
		return 1;
	case ORBIT_RESTART_LIMIT:
		return ob->restarts < ob->attr.restart_max;
	default:
		return 0;
	}
}

int uo_orbit_restart(struct orbit *ob)
{
	struct orbit_respawn req;
	int fd = uo_ctx_fd(), ret = -1, err = ESRCH;

	if (fd < 0)
		return -1;
	pthread_mutex_lock(&ob->lock);
	if (!restart_allowed(ob))
		goto out;
	memset(&req, 0, sizeof(req));
	req.id = ob->id;
	req.flags = ORBIT_CREATE_CLOEXEC;
	if (ioctl(fd, ORBIT_IOC_RESPAWN, &req) < 0) {
		/* EBUSY: another thread restarted it already. */
		err = errno == EBUSY ? 0 : errno;
		ret = errno == EBUSY ? 0 : -1;
		goto out;
	}
	/*
	 * Only a process that started counts against restart_max: one that
	 * could not (its globals, at the user's memory limit) never ran, so
	 * never crashed, and the next call tries again.
	 */
	if (ob->ring)
		uo_ring_restarting(ob);
	if (start_process(ob, req.orbit_fd) == 0) {
		ob->restarts++;
		ret = 0;
	} else {
		err = errno;
	}
out:
	pthread_mutex_unlock(&ob->lock);
	if (ret)
		errno = err;
	return ret;
}

/* ---- destruction ------------------------------------------------------ */

/*
 * In a fork child, a handle inherited from the parent is only the child's
 * copy of it: destroying it frees the copy, the parent's orbit lives on.
 */
int orbit_destroy(struct orbit *ob)
{
	struct orbit_ref ref;
	int fd;

	if (!ob) {
		errno = EINVAL;
		return -1;
	}
	if (ob->epoch == uo_st.epoch) {
		fd = uo_ctx_fd();
		if (fd < 0)
			return -1;
		memset(&ref, 0, sizeof(ref));
		ref.id = ob->id;
		if (ioctl(fd, ORBIT_IOC_DESTROY, &ref) < 0)
			return -1;
		/* What this thread's last sync call left goes with it. */
		if ((uo_last_sync_call && uo_last_sync_orbit == ob->id) ||
		    (uo_last_sync_direct &&
		     uo_last_sync_direct->orbit_id == ob->id))
			uo_release_sync_updates();
		list_del(ob);
	}
	handle_free(ob);
	return 0;
}

/* Every orbit this process made; how many, or -1 if one failed. */
int orbit_destroy_all(void)
{
	struct orbit *ob;
	int n = 0, err = 0;

	for (;;) {
		pthread_mutex_lock(&uo_st.list_lock);
		ob = uo_st.list;
		pthread_mutex_unlock(&uo_st.list_lock);
		if (!ob)
			break;
		if (orbit_destroy(ob)) {
			if (errno != ENOENT && !err)
				err = errno;
			/* Gone already (destroyed under the library): the handle goes. */
			list_del(ob);
			handle_free(ob);
			continue;
		}
		n++;
	}
	if (err) {
		errno = err;
		return -1;
	}
	return n;
}

/* ---- state ------------------------------------------------------------ */

int orbit_status(struct orbit *ob, struct orbit_status *st)
{
	struct orbit_query q;
	int fd;

	if (!st) {
		errno = EINVAL;
		return -1;
	}
	fd = uo_ctx_fd_for(ob, ob ? ob->epoch : 0);
	if (fd < 0)
		return -1;
	memset(&q, 0, sizeof(q));
	q.id = ob->id;
	if (ioctl(fd, ORBIT_IOC_QUERY, &q) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	switch (q.state) {
	case ORBIT_STATE_READY:
		st->state = ORBIT_STATUS_READY;
		break;
	case ORBIT_STATE_DEAD:
		st->state = ORBIT_STATUS_DEAD;
		break;
	default:
		st->state = q.gen ? ORBIT_STATUS_RESTARTING :
				    ORBIT_STATUS_STARTING;
		break;
	}
	pthread_mutex_lock(&ob->lock);
	st->restarts = ob->restarts;
	st->will_restart = st->state == ORBIT_STATUS_DEAD &&
			   restart_allowed(ob);
	pthread_mutex_unlock(&ob->lock);
	st->pid = q.pid;
	st->id = ob->id;
	st->flags = ob->attr.flags;
	st->last_death = (enum orbit_death)q.death;
	st->last_death_code = q.death_code;
	st->calls_done = q.calls_done;
	st->calls_queued = q.calls_queued;
	st->calls_failed = q.calls_failed;
	if (ob->ring)
		uo_ring_status(ob->ring, st);
	return 0;
}

unsigned int orbit_self(void)
{
	return uo_st.orbit_fd >= 0 ? uo_st.self_id : 0;
}

const char *orbit_self_name(void)
{
	return uo_st.orbit_fd >= 0 ? uo_st.self_name : NULL;
}

/* ---- calls ------------------------------------------------------------ */

/*
 * Waits for a call and collects it; 0 with *retval, or -1 with errno.
 * Tried again after a shortage: a WAIT that failed reading its request or
 * writing the result leaves the call in the module.
 */
int uo_wait_call(uint64_t call_id, long *retval)
{
	struct orbit_wait w;
	int fd = uo_ctx_fd(), tries = 0;

	if (fd < 0)
		return -1;
	memset(&w, 0, sizeof(w));
	w.call_id = call_id;
	while (ioctl(fd, ORBIT_IOC_WAIT, &w) < 0)
		if (!uo_settle_again(&tries))
			return -1;
	if (retval)
		*retval = w.retval;
	return 0;
}

#define STACK_IDS	16

static int issue(struct orbit *ob, uint32_t flags, uint64_t tag, size_t narea,
		 struct orbit_area **areas, orbit_entry func_once,
		 void *arg, size_t argsize, struct orbit_call_req *req)
{
	uint32_t stack_ids[STACK_IDS], *ids = stack_ids;
	size_t i;
	int fd, err, tries, ret = -1;

	memset(req, 0, sizeof(*req));
	fd = uo_ctx_fd_for(ob, ob ? ob->epoch : 0);
	if (fd < 0)
		return -1;
	err = uo_check_call_args(narea, areas, arg, argsize,
				 uo_st.api.max_arg_size, uo_st.api.max_call_areas);
	for (i = 0; !err && i < narea; i++)
		if (areas[i]->epoch != uo_st.epoch)
			err = EBADF;
	if (!err && narea > STACK_IDS) {
		ids = malloc(narea * sizeof(*ids));
		if (!ids)
			err = ENOMEM;
	}
	if (err) {
		errno = err;
		return -1;
	}
	for (i = 0; i < narea; i++)
		ids[i] = areas[i]->id;
	memset(req, 0, sizeof(*req));
	req->orbit_id = ob->id;
	req->flags = flags;
	req->func = (uintptr_t)func_once;
	req->areas = (uintptr_t)ids;
	req->narea = (uint32_t)narea;
	req->argsize = (uint32_t)argsize;
	req->arg = (uintptr_t)arg;
	req->tag = tag;
	for (tries = 0;; tries++) {
		if (ioctl(fd, ORBIT_IOC_CALL, req) == 0) {
			ret = 0;
			break;
		}
		/*
		 * Dead before the call was queued: restart per policy (a few
		 * times at most, for an orbit whose init keeps crashing).
		 * Never for the library's globals call: a restart sends the
		 * globals itself, with ob->lock and globals_lock held.
		 */
		if (errno != ESRCH || req->call_id || tries == RESTART_TRIES ||
		    tag == UO_TAG_GLOBALS || uo_orbit_restart(ob))
			break;
	}
	if (ids != stack_ids) {
		err = errno;
		free(ids);
		errno = err;
	}
	return ret;
}

int uo_call_internal(struct orbit *ob, struct orbit_area *area, uint64_t tag,
		     void *arg, size_t argsize)
{
	struct orbit_call_req req;

	/* A real function: LATEST never mistakes it for a user's task. */
	return issue(ob, ORBIT_CALL_NOFUTURE | ORBIT_CALL_QUIET, tag, 1, &area,
		     (orbit_entry)(uintptr_t)uo_globals_install, arg, argsize,
		     &req);
}

long orbit_call(struct orbit *ob, size_t narea, struct orbit_area **areas,
		orbit_entry func_once, void *arg, size_t argsize)
{
	struct orbit_call_req req;
	unsigned int slot = UO_NO_SLOT;
	struct uo_arena *arena = ob ? ob->arena : NULL;
	uint64_t tag;
	long ret;

	uo_release_sync_updates();
	if (ob && ob->ring && ob->epoch == uo_st.epoch) {
		/* Direct: updates left are pulled with pull_orbit(NULL). */
		struct orbit_future *f;

		f = orbit_call_async(ob, 0, narea, areas, func_once, arg,
				     argsize);
		if (!f)
			return -1;
		if (uo_ring_updates_left(f, &ret)) {
			uo_last_sync_direct = f;
			errno = 0;
			return ret;
		}
		if (orbit_future_get(f, &ret))
			return -1;
		errno = 0;
		return ret;
	}
	if (ob && ob->epoch != uo_st.epoch)
		arena = NULL;
	tag = uo_arena_slot_get(arena, &slot);
	if (issue(ob, ORBIT_CALL_SYNC, tag, narea, areas, func_once, arg,
		  argsize, &req) < 0) {
		int err = errno;

		/*
		 * Interrupted while waiting, or the result not copied out (a
		 * shortage): the call runs or ran, collect it.  EFAULT may
		 * also be the call's own error: then there is nothing to
		 * collect (ENOENT), and EFAULT is the answer.
		 */
		if ((err != EINTR && err != EFAULT) || !req.call_id ||
		    uo_wait_call(req.call_id, &ret)) {
			if (err == EINTR || errno != ENOENT)
				err = errno;
			if (tag)
				uo_arena_slot_put(arena, slot);
			errno = err;
			return -1;
		}
		if (tag)
			uo_arena_slot_put(arena, slot);
		errno = 0;
		return ret;
	}
	if (req.result & ORBIT_RESULT_UPDATES) {
		uo_last_sync_call = req.call_id;
		uo_last_sync_orbit = ob->id;
		uo_last_sync_arena = tag ? arena : NULL;
		uo_last_sync_slot = slot;
	} else if (tag) {
		uo_arena_slot_put(arena, slot);
	}
	errno = 0;
	return req.retval;
}

/* Posts a direct call; a dead orbit is restarted per policy first. */
static int direct_post(struct orbit *ob, size_t narea,
		       struct orbit_area **areas, orbit_entry func_once,
		       void *arg, size_t argsize, struct orbit_future *f)
{
	int tries;

	for (tries = 0;; tries++) {
		if (uo_ring_call(ob, narea, areas, func_once, arg, argsize,
				 f) == 0)
			return 0;
		if (errno != ESRCH || tries == RESTART_TRIES ||
		    uo_orbit_restart(ob))
			return -1;
	}
}

/* orbit_call_async() on a direct orbit (direct.c). */
static struct orbit_future *direct_call(struct orbit *ob, int flags,
					size_t narea, struct orbit_area **areas,
					orbit_entry func_once, void *arg,
					size_t argsize)
{
	struct orbit_future *f;
	size_t i;
	int err;

	err = uo_check_call_args(narea, areas, arg, argsize,
				 uo_st.api.max_arg_size,
				 uo_st.api.max_call_areas);
	for (i = 0; !err && i < narea; i++)
		if (areas[i]->epoch != uo_st.epoch)
			err = EBADF;
	if (!err && (flags & ~ORBIT_NOFUTURE))
		err = EINVAL;	/* no LATEST yet */
	if (err) {
		errno = err;
		return NULL;
	}
	if (flags & ORBIT_NOFUTURE) {
		if (direct_post(ob, narea, areas, func_once, arg, argsize,
				NULL))
			return NULL;
		errno = 0;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->epoch = uo_st.epoch;
	f->slot = UO_NO_SLOT;
	pthread_mutex_init(&f->lock, NULL);
	if (direct_post(ob, narea, areas, func_once, arg, argsize, f)) {
		err = errno;
		pthread_mutex_destroy(&f->lock);
		free(f);
		errno = err;
		return NULL;
	}
	return f;
}

struct orbit_future *orbit_call_async(struct orbit *ob, int flags,
				      size_t narea, struct orbit_area **areas,
				      orbit_entry func_once, void *arg,
				      size_t argsize)
{
	struct orbit_call_req req;
	struct orbit_future *f = NULL;
	unsigned int slot = UO_NO_SLOT;
	uint32_t kflags = 0;
	uint64_t tag = 0;
	int err;

	if (flags & ~(ORBIT_NOFUTURE | ORBIT_LATEST)) {
		errno = EINVAL;
		return NULL;
	}
	if (ob && ob->ring && ob->epoch == uo_st.epoch)
		return direct_call(ob, flags, narea, areas, func_once, arg,
				   argsize);
	if (flags & ORBIT_NOFUTURE)
		kflags |= ORBIT_CALL_NOFUTURE;
	if (flags & ORBIT_LATEST)
		kflags |= ORBIT_CALL_LATEST;
	if (!(flags & ORBIT_NOFUTURE)) {
		f = calloc(1, sizeof(*f));	/* no ring: a module call */
		if (!f)
			return NULL;
		if (ob && ob->epoch == uo_st.epoch)
			tag = uo_arena_slot_get(ob->arena, &slot);
	}
	if (issue(ob, kflags, tag, narea, areas, func_once, arg, argsize,
		  &req) < 0) {
		err = errno;
		if (tag)
			uo_arena_slot_put(ob->arena, slot);
		free(f);
		errno = err;
		return NULL;
	}
	if (!f) {
		errno = 0;
		return NULL;
	}
	f->epoch = uo_st.epoch;
	f->call_id = req.call_id;
	f->orbit_id = ob->id;
	f->arena = tag ? ob->arena : NULL;
	f->slot = slot;
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

int orbit_future_get(struct orbit_future *f, long *retval)
{
	int ret, err;

	if (uo_own(f, f ? f->epoch : 0))
		return -1;
	if (f->ring) {
		ret = uo_ring_get(f, retval);
		err = errno;
	} else if (uo_future_ended(f)) {
		/* A pull collected it at its end. */
		ret = f->error ? -1 : 0;
		err = f->error;
		if (!ret && retval)
			*retval = f->retval;
	} else {
		ret = uo_wait_call(f->call_id, retval);
		err = errno;
	}
	pthread_mutex_destroy(&f->lock);
	free(f->held.buf);	/* an update never pulled again */
	if (f->arena)
		uo_arena_slot_put(f->arena, f->slot);
	free(f);
	errno = err;
	return ret;
}

int orbit_cancel(struct orbit_future *f)
{
	struct orbit_cancel c;
	int fd;

	fd = uo_ctx_fd_for(f, f ? f->epoch : 0);
	if (fd < 0)
		return -1;
	if (f->ring) {
		errno = EOPNOTSUPP;	/* not on a direct call, yet */
		return -1;
	}
	if (uo_future_ended(f)) {
		errno = EALREADY;	/* pulled to its end */
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.call_id = f->call_id;
	return ioctl(fd, ORBIT_IOC_CANCEL, &c) < 0 ? -1 : 0;
}
