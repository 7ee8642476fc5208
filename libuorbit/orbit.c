// SPDX-License-Identifier: LGPL-2.1-or-later
/* Orbits, calls and futures: the public API over the module's ioctls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

#define RESTART_TRIES	3	/* restarts one call may trigger */

void orbit_attr_init(struct orbit_attr *attr)
{
	if (attr)
		memset(attr, 0, sizeof(*attr));
}

struct orbit *orbit_create_ex(const char *name, orbit_entry entry,
			      void *(*init)(void),
			      const struct orbit_attr *attr)
{
	struct orbit_create req;
	struct orbit *ob;
	pid_t pid;
	int fd, err;

	if (attr && (attr->restart > ORBIT_RESTART_LIMIT ||
		     (attr->cgroup && strlen(attr->cgroup) >= 256))) {
		errno = EINVAL;
		return NULL;
	}
	fd = uo_ctx_fd();
	if (fd < 0)
		return NULL;
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return NULL;
	ob->epoch = uo_epoch;
	ob->entry = entry;
	ob->init = init;
	if (attr)
		ob->attr = *attr;
	if (attr && attr->cgroup)
		strcpy(ob->cgroup, attr->cgroup);
	ob->attr.cgroup = NULL;
	strncpy(ob->name, name ? name : "orbit", sizeof(ob->name) - 1);

	pthread_mutex_init(&ob->lock, NULL);
	memset(&req, 0, sizeof(req));
	memcpy(req.name, ob->name, sizeof(req.name));
	req.flags = ORBIT_CREATE_CLOEXEC;
	req.timeout_ns = ob->attr.timeout_ns;
	if (ioctl(fd, ORBIT_IOC_CREATE, &req) < 0)
		goto fail;
	ob->id = req.id;
	if (uo_spawn(ob, req.orbit_fd, &pid)) {
		struct orbit_ref ref = { .id = ob->id };

		err = errno;
		close(req.orbit_fd);
		ioctl(fd, ORBIT_IOC_DESTROY, &ref);
		errno = err;
		goto fail;
	}
	close(req.orbit_fd);	/* the orbit holds it now */
	return ob;
fail:
	free(ob);
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
	pid_t pid;

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
	ob->restarts++;
	if (uo_spawn(ob, req.orbit_fd, &pid) == 0)
		ret = 0;
	else
		err = errno;
	close(req.orbit_fd);
out:
	pthread_mutex_unlock(&ob->lock);
	if (ret)
		errno = err;
	return ret;
}

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
	if (ob->epoch == uo_epoch) {
		fd = uo_ctx_fd();
		if (fd < 0)
			return -1;
		memset(&ref, 0, sizeof(ref));
		ref.id = ob->id;
		if (ioctl(fd, ORBIT_IOC_DESTROY, &ref) < 0)
			return -1;
		/* What this thread's last sync call left goes with it. */
		if (uo_last_sync_call && uo_last_sync_orbit == ob->id)
			uo_release_sync_updates();
	}
	pthread_mutex_destroy(&ob->lock);
	free(ob);
	return 0;
}

/* Waits for a call; 0 with *retval, or -1 with errno. */
int uo_wait_call(uint64_t call_id, long *retval)
{
	struct orbit_wait w;
	int fd = uo_ctx_fd();

	if (fd < 0)
		return -1;
	memset(&w, 0, sizeof(w));
	w.call_id = call_id;
	while (ioctl(fd, ORBIT_IOC_WAIT, &w) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (retval)
		*retval = w.retval;
	return 0;
}

#define STACK_IDS	16

static int issue(struct orbit *ob, uint32_t flags, size_t narea,
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
				 uo_api.max_arg_size, uo_api.max_call_areas);
	for (i = 0; !err && i < narea; i++)
		if (areas[i]->epoch != uo_epoch)
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
	for (tries = 0;; tries++) {
		if (ioctl(fd, ORBIT_IOC_CALL, req) == 0) {
			ret = 0;
			break;
		}
		/*
		 * Dead before the call was queued: restart per policy (a few
		 * times at most, for an orbit whose init keeps crashing).
		 */
		if (errno != ESRCH || req->call_id || tries == RESTART_TRIES ||
		    uo_orbit_restart(ob))
			break;
	}
	if (ids != stack_ids) {
		err = errno;
		free(ids);
		errno = err;
	}
	return ret;
}

long orbit_call(struct orbit *ob, size_t narea, struct orbit_area **areas,
		orbit_entry func_once, void *arg, size_t argsize)
{
	struct orbit_call_req req;
	long ret;

	uo_release_sync_updates();
	if (issue(ob, ORBIT_CALL_SYNC, narea, areas, func_once, arg, argsize,
		  &req) < 0) {
		/* Interrupted while waiting: the call runs, collect it. */
		if (errno != EINTR || !req.call_id ||
		    uo_wait_call(req.call_id, &ret))
			return -1;
		errno = 0;
		return ret;
	}
	if (req.result & ORBIT_RESULT_UPDATES) {
		uo_last_sync_call = req.call_id;
		uo_last_sync_orbit = ob->id;
	}
	errno = 0;
	return req.retval;
}

struct orbit_future *orbit_call_async(struct orbit *ob, int flags,
				      size_t narea, struct orbit_area **areas,
				      orbit_entry func_once, void *arg,
				      size_t argsize)
{
	struct orbit_call_req req;
	struct orbit_future *f = NULL;

	if (flags & ~ORBIT_NOFUTURE) {
		errno = EINVAL;
		return NULL;
	}
	if (!(flags & ORBIT_NOFUTURE)) {
		f = malloc(sizeof(*f));
		if (!f)
			return NULL;
	}
	if (issue(ob, flags & ORBIT_NOFUTURE ? ORBIT_CALL_NOFUTURE : 0, narea,
		  areas, func_once, arg, argsize, &req) < 0) {
		free(f);
		return NULL;
	}
	if (!f) {
		errno = 0;
		return NULL;
	}
	f->epoch = uo_epoch;
	f->call_id = req.call_id;
	f->orbit_id = ob->id;
	return f;
}

int orbit_future_get(struct orbit_future *f, long *retval)
{
	int ret;

	if (uo_own(f, f ? f->epoch : 0))
		return -1;
	ret = uo_wait_call(f->call_id, retval);
	free(f);
	return ret;
}
