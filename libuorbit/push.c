// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Controlled alteration: the orbit pushes updates for the call it runs,
 * main pulls them from the call's future and applies them after the
 * module confirmed every modification lies in an area of that orbit and
 * every operation points at main's code.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"
#include "update.h"

#define PULL_FIRST	4096	/* first guess at an update's size */

__thread uint64_t uo_last_sync_call;
__thread uint32_t uo_last_sync_orbit;
__thread struct uo_arena *uo_last_sync_arena;
__thread unsigned int uo_last_sync_slot;
__thread struct uo_held uo_last_sync_held;
/* The thread's last sync call to a direct orbit, if it left updates. */
__thread struct orbit_future *uo_last_sync_direct;

/* Forgets the last sync call; collect: also in the module (WAIT). */
static void sync_updates_done(int collect)
{
	if (uo_last_sync_direct) {
		orbit_future_get(uo_last_sync_direct, NULL);
		uo_last_sync_direct = NULL;
	}
	if (!uo_last_sync_call)
		return;
	free(uo_last_sync_held.buf);	/* never pulled again */
	uo_last_sync_held.buf = NULL;
	if (collect)	/* discards what is left */
		uo_wait_call(uo_last_sync_call, NULL);
	uo_last_sync_call = 0;
	if (uo_last_sync_arena)
		uo_arena_slot_put(uo_last_sync_arena, uo_last_sync_slot);
	uo_last_sync_arena = NULL;
}

void uo_release_sync_updates(void)
{
	sync_updates_done(1);
}

/* Can a pull collect the call it ends (ORBIT_FEAT_PULL_END)? */
static int pull_releases(void)
{
	return !!(uo_st.api.features & ORBIT_FEAT_PULL_END);
}

/* An update pushed: large buffers' pages now belong to the module. */
static void pushed(struct orbit_update *update)
{
	if (update->kind == UO_BUF_SLOT)
		uo_arena_pushed(update);
	orbit_update_free(update);
}

/* PUSH, under uo_st.held_lock (a held update goes before any other). */
static int push_locked(struct orbit_update *update)
{
	struct orbit_push req;

	memset(&req, 0, sizeof(req));
	req.buf = (uintptr_t)update->buf;
	req.len = update->len;
	if (ioctl(uo_st.orbit_fd, ORBIT_IOC_PUSH, &req) < 0)
		return -1;
	pushed(update);
	return 0;
}

/* Sends the held update now, ahead of a later one; dropped on failure. */
static int push_held_locked(void)
{
	struct orbit_update *u = uo_st.held;

	if (!u)
		return 0;
	uo_st.held = NULL;
	if (push_locked(u) == 0)
		return 0;
	orbit_update_free(u);
	return -1;
}

/* EINVAL for a bad update, EPERM outside a task; else 0. */
static int push_allowed(const struct orbit_update *update)
{
	if (!update) {
		errno = EINVAL;
		return -1;
	}
	if (uo_st.orbit_fd < 0) {
		errno = EPERM;	/* only a task in an orbit pushes */
		return -1;
	}
	return 0;
}

long orbit_push(struct orbit_update *update, struct orbit_future *f)
{
	int err;

	if (f) {
		errno = EINVAL;
		return -1;
	}
	if (push_allowed(update))
		return -1;
	if (uo_ring_active()) {
		err = uo_ring_push(update);
		if (!err)
			orbit_update_free(update);
		return err;
	}
	pthread_mutex_lock(&uo_st.held_lock);
	err = push_held_locked();
	if (!err)
		err = push_locked(update);
	pthread_mutex_unlock(&uo_st.held_lock);
	return err;
}

long orbit_push_last(struct orbit_update *update)
{
	int err;

	if (push_allowed(update))
		return -1;
	if (uo_ring_active() ||
	    !(uo_st.api.features & ORBIT_FEAT_RUN_PUSH))
		return orbit_push(update, NULL);
	pthread_mutex_lock(&uo_st.held_lock);
	if (!uo_st.in_task) {
		/* No task of the loop's runs (a thread it left): at once. */
		pthread_mutex_unlock(&uo_st.held_lock);
		return orbit_push(update, NULL);
	}
	err = push_held_locked();
	if (!err)
		uo_st.held = update;
	pthread_mutex_unlock(&uo_st.held_lock);
	return err;
}

void uo_push_last_begin(void)
{
	pthread_mutex_lock(&uo_st.held_lock);
	uo_st.in_task = 1;
	pthread_mutex_unlock(&uo_st.held_lock);
}

struct orbit_update *uo_push_last_arm(struct orbit_run *run,
				      struct orbit_push *req)
{
	struct orbit_update *u;

	pthread_mutex_lock(&uo_st.held_lock);
	uo_st.in_task = 0;
	u = uo_st.held;
	uo_st.held = NULL;	/* a push from now on goes on its own */
	pthread_mutex_unlock(&uo_st.held_lock);
	if (!u)
		return NULL;
	memset(req, 0, sizeof(*req));
	req->buf = (uintptr_t)u->buf;
	req->len = u->len;
	run->flags |= ORBIT_RUN_PUSH;
	run->push = (uintptr_t)req;
	return u;
}

void uo_push_last_sent(struct orbit_update *u)
{
	pushed(u);
}

/*
 * One PULL into *bufp (malloc'd, *capp bytes; grown for a larger update),
 * retried on EINTR: 0 with req filled, or -1 with errno.
 */
static int pull_ioctl(int fd, struct orbit_pull *req, void **bufp,
		      size_t *capp)
{
	for (;;) {
		req->buf = (uintptr_t)*bufp;
		req->cap = *capp;
		if (ioctl(fd, ORBIT_IOC_PULL, req) == 0)
			return 0;
		if (errno == ENOSPC) {
			void *nb = realloc(*bufp, req->len);

			if (!nb)
				return -1;
			*bufp = nb;
			*capp = req->len;
		} else if (errno != EINTR) {
			return -1;
		}
	}
}

/* Takes a held update into *bufp and req: 1 if there was one. */
static int held_take(struct uo_held *h, struct orbit_pull *req, void **bufp)
{
	if (!h->buf)
		return 0;
	free(*bufp);
	*bufp = h->buf;
	req->len = h->len;
	req->status = h->status;
	h->buf = NULL;
	return 1;
}

/*
 * A future's pull, under its lock: one puller at a time, so that the one
 * whose pull collects the call (ORBIT_PULL_RELEASE) has kept its result
 * before any other asks the module again, and so that an update this
 * pull cannot place is held before another pull can take the next one
 * (updates come in push order).  Returns with f->lock held; the caller
 * drops it once the update is placed or held.  1: req filled by the
 * module, or by the update a pull before could not place; 0: the call
 * was pulled to its end before (*err its error); -1: errno.
 */
static int pull_future(struct orbit_future *f, int fd, struct orbit_pull *req,
		       void **bufp, size_t *capp, int *err)
{
	pthread_mutex_lock(&f->lock);
	if (held_take(&f->held, req, bufp))
		return 1;	/* its end, if it came with it, is in f already */
	if (uo_future_ended(f)) {
		*err = f->error;
		return 0;
	}
	if (pull_ioctl(fd, req, bufp, capp))
		return -1;	/* the module keeps what it took: pull again */
	if (req->status != ORBIT_PULL_UPDATE &&
	    (req->flags & ORBIT_PULL_RELEASE)) {
		f->error = req->error;
		f->retval = (long)req->retval;
		__atomic_store_n(&f->ended, 1, __ATOMIC_RELEASE);
	}
	return 1;
}

/*
 * Keeps an update the pull could not place, for the call's next pull
 * (a future's: under its lock, taken by pull_future).
 */
static void held_keep(struct orbit_future *f, const struct orbit_pull *req,
		      void *buf)
{
	struct uo_held *h = f ? &f->held : &uo_last_sync_held;

	h->buf = buf;
	h->len = req->len;
	h->status = req->status;
}

/*
 * The last sync call's pull reported its end: it is forgotten, with a
 * WAIT unless the pull collected it (ORBIT_PULL_RELEASE).
 */
static void sync_saw_end(const struct orbit_pull *req)
{
	sync_updates_done(!(req->flags & ORBIT_PULL_RELEASE));
}

long pull_orbit(struct orbit_future *f, struct orbit_update **update)
{
	struct orbit_pull req;
	struct orbit_update *u;
	size_t cap = PULL_FIRST;
	struct uo_arena *arena;
	unsigned int slot;
	uint32_t origin;
	void *buf;
	int fd = uo_ctx_fd(), err = 0, ret, sync_end = 0;
	int place_err = 0, kept = 0;	/* kept: held for the next pull */

	if (!update) {
		errno = EINVAL;
		return -1;
	}
	if (f && uo_own(f, f->epoch))
		return -1;
	if (f && f->ring) {
		pthread_mutex_lock(&f->lock);
		ret = uo_ring_pull(f, update);
		pthread_mutex_unlock(&f->lock);
		return ret;
	}
	if (!f && uo_last_sync_direct) {
		ret = uo_ring_pull(uo_last_sync_direct, update);
		if (ret == 0)
			sync_updates_done(1);	/* all pulled: collected */
		return ret;
	}
	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	if (pull_releases())
		req.flags = ORBIT_PULL_RELEASE;
	if (f) {
		req.call_id = f->call_id;
		origin = f->orbit_id;
		arena = f->arena;
		slot = f->slot;
	} else if (uo_last_sync_call) {
		req.call_id = uo_last_sync_call;
		origin = uo_last_sync_orbit;
		arena = uo_last_sync_arena;
		slot = uo_last_sync_slot;
	} else {
		return 0;	/* the last sync call left nothing */
	}
	/* Allocated first: an update taken from the module is not lost. */
	u = calloc(1, sizeof(*u));
	buf = malloc(cap);
	if (!u || !buf) {
		free(u);
		free(buf);
		errno = ENOMEM;
		return -1;
	}
	if (f)
		ret = pull_future(f, fd, &req, &buf, &cap, &err);
	else
		ret = held_take(&uo_last_sync_held, &req, &buf) ||
		      !pull_ioctl(fd, &req, &buf, &cap) ? 1 : -1;
	if (ret > 0 && req.status != ORBIT_PULL_END) {
		/* A sync call's end waits for the placing: its slot use. */
		sync_end = !f && req.status == ORBIT_PULL_UPDATE_END;
		/* An update with arena memory goes where the task built it. */
		place_err = uo_arena_place(arena, arena ? slot : UO_NO_SLOT,
					   &buf, req.len, u);
		/* Not mapped (ENOMEM): the next pull returns it. */
		kept = place_err && place_err != EBADMSG;
		if (kept)
			held_keep(f, &req, buf);
	}
	if (f)
		pthread_mutex_unlock(&f->lock);
	if (ret < 0)
		goto fail;
	if (ret == 0 || req.status == ORBIT_PULL_END) {
		/* The end, now or before: its error, if the call failed. */
		free(u);
		free(buf);
		if (ret)
			err = req.error;
		if (ret && !f)
			sync_saw_end(&req);
		if (err) {
			errno = err;
			return -1;
		}
		return 0;
	}
	if (kept) {
		free(u);
		errno = place_err;
		return -1;
	}
	if (place_err) {
		errno = place_err;
		goto fail;
	}
	u->buf = buf;
	u->len = req.len;
	if (u->kind != UO_BUF_SLOT)
		u->cap = req.len;
	u->origin = origin;
	if (uo_update_validate(buf, req.len)) {
		orbit_update_free(u);
		buf = NULL;
		u = NULL;
		errno = EBADMSG;
		goto fail;
	}
	if (sync_end)
		sync_saw_end(&req);
	*update = u;
	return 1;
fail:
	err = errno;
	free(u);
	free(buf);
	if (sync_end)
		sync_saw_end(&req);
	errno = err;
	return -1;
}

/* Does the entry need the module's check (it changes main)? */
static int needs_check(const struct orbit_update_entry *e)
{
	return e->type == ORBIT_UPDATE_MODIFY ||
	       e->type == ORBIT_UPDATE_OPERATION;
}

static void check_entry(struct orbit_check_entry *c,
			const struct orbit_update_entry *e)
{
	memset(c, 0, sizeof(*c));
	c->addr = e->addr;
	c->len = e->type == ORBIT_UPDATE_MODIFY ? e->len : 1;
	c->kind = e->type == ORBIT_UPDATE_MODIFY ? ORBIT_CHECK_AREA :
						   ORBIT_CHECK_EXEC;
}

int orbit_apply_one(struct orbit_update *u)
{
	const struct orbit_update_entry *e = orbit_update_peek(u);
	struct orbit_check_entry c;
	struct orbit_check req;
	int fd;

	if (!e) {
		errno = u ? ENOENT : EINVAL;	/* nothing left to apply */
		return -1;
	}
	if (needs_check(e)) {
		fd = uo_ctx_fd();
		if (fd < 0)
			return -1;
		check_entry(&c, e);
		memset(&req, 0, sizeof(req));
		req.orbit_id = u->origin;
		req.count = 1;
		req.entries = (uintptr_t)&c;
		if (ioctl(fd, ORBIT_IOC_CHECK, &req) < 0)
			return -1;	/* the entry stays next */
	}
	uo_update_apply_entry(e);
	u->pos = (size_t)((const unsigned char *)e - u->buf) +
		 uo_update_span(e);
	return 0;
}

int orbit_apply(struct orbit_update *u)
{
	const struct orbit_update_entry *e;
	struct orbit_check_entry *ents;
	struct orbit_check req;
	unsigned int n = 0, done;
	int fd, ret, err;

	if (!u) {
		errno = EINVAL;
		return -1;
	}
	for (e = orbit_update_peek(u); e; e = orbit_update_next(u, e))
		n += needs_check(e);
	if (n) {
		fd = uo_ctx_fd();
		if (fd < 0)
			return -1;
		ents = calloc(n, sizeof(*ents));
		if (!ents)
			return -1;
		n = 0;
		for (e = orbit_update_peek(u); e; e = orbit_update_next(u, e))
			if (needs_check(e))
				check_entry(&ents[n++], e);
		for (done = 0, ret = 0; done < n && ret == 0; done += req.count) {
			memset(&req, 0, sizeof(req));
			req.orbit_id = u->origin;
			req.count = n - done < ORBIT_CHECK_MAX ? n - done :
							      ORBIT_CHECK_MAX;
			req.entries = (uintptr_t)(ents + done);
			ret = ioctl(fd, ORBIT_IOC_CHECK, &req);
		}
		err = errno;
		free(ents);
		if (ret < 0) {
			errno = err;
			return -1;
		}
	}
	return uo_update_apply(u, NULL, NULL);
}
