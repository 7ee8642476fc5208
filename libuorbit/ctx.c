// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The main program's context: one /dev/orbit descriptor per process,
 * opened and handshaken on first use.  A fork child (the spawner, every
 * orbit, a plain fork of main) is another main: it drops the inherited
 * descriptor and every handle it inherited (a new epoch), and opens its
 * own context when it first needs one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"
#include "update.h"


static void ctx_atfork_child(void)
{
	pthread_mutex_init(&uo_st.ctx_lock, NULL);
	if (uo_st.ctx_fd >= 0)
		close(uo_st.ctx_fd);
	uo_st.ctx_fd = -1;
	uo_st.epoch++;
	uo_va_forget();
	uo_list_forget();
	pthread_mutex_init(&uo_st.globals_lock, NULL);
	uo_st.globals_area = NULL;	/* the parent's */
	uo_st.globals_tracked = 0;
	uo_written_reset();		/* they name the parent's memory */
}

static void ctx_register_atfork(void)
{
	pthread_atfork(NULL, NULL, ctx_atfork_child);
}

/* Opens and handshakes; -1 with ENODEV (no module) or EPROTO (its ABI). */
static int ctx_open(void)
{
	struct orbit_api api;
	int fd, err;

	fd = open(UO_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENXIO)
			errno = ENODEV;
		return -1;
	}
	memset(&api, 0, sizeof(api));
	api.api = ORBIT_API_VERSION;
	api.features = UO_FEATURES;
	if (ioctl(fd, ORBIT_IOC_API, &api) < 0) {
		err = errno;
		close(fd);
		errno = err == EINVAL || err == ENOTTY ? EPROTO : err;
		return -1;
	}
	uo_st.api = api;
	if (api.max_update)
		uo_st.update_limit = api.max_update;
	return fd;
}

int uo_ctx_fd(void)
{
	int fd;

	pthread_once(&uo_st.atfork_once, ctx_register_atfork);
	pthread_mutex_lock(&uo_st.ctx_lock);
	if (uo_st.ctx_fd < 0)
		uo_st.ctx_fd = ctx_open();
	fd = uo_st.ctx_fd;
	pthread_mutex_unlock(&uo_st.ctx_lock);
	return fd;
}

const char *orbit_version(void)
{
	return UO_VERSION;
}

int uo_own(const void *obj, unsigned long epoch)
{
	if (!obj) {
		errno = EINVAL;
		return -1;
	}
	if (epoch != uo_st.epoch) {
		errno = EBADF;	/* a handle inherited across fork() */
		return -1;
	}
	return 0;
}

int uo_ctx_fd_for(const void *obj, unsigned long epoch)
{
	return uo_own(obj, epoch) ? -1 : uo_ctx_fd();
}

int orbit_module_stats(struct orbit_module_stats *st)
{
	struct orbit_stats ks;
	int fd, ret, err;

	if (!st) {
		errno = EINVAL;
		return -1;
	}
	fd = open(UO_DEVICE, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENXIO)
			errno = ENODEV;
		return -1;
	}
	ret = ioctl(fd, ORBIT_IOC_STATS, &ks);
	err = errno;
	close(fd);
	if (ret < 0) {
		errno = err;
		return -1;
	}
	st->contexts = ks.contexts;
	st->orbits = ks.orbits;
	st->areas = ks.areas;
	st->views = ks.views;
	st->pages = ks.pages;
	st->nodes = ks.nodes;
	st->calls = ks.calls;
	st->updates = ks.updates;
	st->calls_total = ks.calls_total;
	st->calls_failed = ks.calls_failed;
	st->cow_faults = ks.cow_faults;
	st->copy_pages = ks.copy_pages;
	st->snapshots = ks.snapshots;
	st->orbit_deaths = ks.orbit_deaths;
	st->update_pages = ks.update_pages;
	st->install_failures = ks.install_failures;
	return 0;
}

int uo_check_call_args(size_t narea, struct orbit_area **areas,
		       const void *arg, size_t argsize, size_t max_arg,
		       size_t max_areas)
{
	size_t i;

	if (narea && !areas)
		return EINVAL;
	if (narea > max_areas)
		return EINVAL;
	for (i = 0; i < narea; i++)
		if (!areas[i])
			return EINVAL;
	if (argsize && !arg)
		return EINVAL;
	if (argsize > max_arg)
		return EINVAL;
	return 0;
}
