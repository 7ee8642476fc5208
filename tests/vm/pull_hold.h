/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pull held inside its copy of an update to the user: the first page
 * of its buffer is missing and a userfaultfd serves it, so that a test
 * can kill, destroy or let run the update's orbit while the update is
 * off its call and the puller's alone.  The pull uses the raw ioctl on a
 * request alone on its page (the library's is on its stack), which the
 * test may make read-only before it lets the pull go on.
 */
#ifndef PULL_HOLD_H
#define PULL_HOLD_H

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../uapi/orbit.h"
#include "../../libuorbit/internal.h"	/* the future's call id, the fd */

struct pull_hold {
	struct orbit_pull *req;	/* alone on its page */
	char *buf;		/* len bytes, the first page missing */
	size_t len;
	char *zero;		/* what serves the missing page */
	int uffd;
	pthread_t thread;
	int rc, err;		/* the pull's return and errno */
};

static inline void *pull_hold_thread(void *arg)
{
	struct pull_hold *h = arg;

	h->rc = ioctl(uo_ctx_fd(), ORBIT_IOC_PULL, h->req);
	h->err = errno;
	return NULL;
}

/* Waits up to 5 s for the pull's fault on the buffer: 0 if it came. */
static inline int pull_hold_fault_seen(struct pull_hold *h)
{
	struct pollfd pfd = { .fd = h->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, 5000) != 1 ||
	    read(h->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return -1;
	return (msg.arg.pagefault.address & ~(uint64_t)(getpagesize() - 1)) ==
	       (uintptr_t)h->buf ? 0 : -1;
}

static inline int pull_hold_uffd(struct pull_hold *h)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	h->uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (h->uffd < 0 || ioctl(h->uffd, UFFDIO_API, &api))
		return -1;
	reg.range.start = (uintptr_t)h->buf;
	reg.range.len = getpagesize();
	return ioctl(h->uffd, UFFDIO_REGISTER, &reg);
}

static inline void pull_hold_free(struct pull_hold *h)
{
	if (h->uffd >= 0)
		close(h->uffd);
	free(h->zero);
	if (h->buf && h->buf != MAP_FAILED)
		munmap(h->buf, h->len);
	if (h->req && (void *)h->req != MAP_FAILED)
		munmap(h->req, getpagesize());
}

/* Serves the missing page and waits for the pull: 0, or -1. */
static inline int pull_hold_release(struct pull_hold *h)
{
	struct uffdio_copy cp = {
		.dst = (uintptr_t)h->buf, .src = (uintptr_t)h->zero,
		.len = getpagesize(),
	};
	int err = ioctl(h->uffd, UFFDIO_COPY, &cp);

	pthread_join(h->thread, NULL);
	return err;
}

/*
 * Starts a pull of f's next update into a buffer of len bytes and waits
 * until it is inside its copy: 0, or -1 (everything freed).
 */
static inline int pull_hold_start(struct pull_hold *h, struct orbit_future *f,
				  size_t len)
{
	const size_t pg = getpagesize();

	*h = (struct pull_hold){ .len = len, .uffd = -1 };
	h->req = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	h->buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	h->zero = calloc(1, pg);
	if (h->req == MAP_FAILED || h->buf == MAP_FAILED || !h->zero ||
	    pull_hold_uffd(h))
		goto fail;
	h->req->call_id = f->call_id;
	h->req->buf = (uintptr_t)h->buf;
	h->req->cap = len;
	if (pthread_create(&h->thread, NULL, pull_hold_thread, h))
		goto fail;
	if (!pull_hold_fault_seen(h))
		return 0;
	pull_hold_release(h);	/* not left hanging */
fail:
	pull_hold_free(h);
	return -1;
}

#endif
