// SPDX-License-Identifier: GPL-2.0
/*
 * A pull whose last copy fails loses no update, even when the call ends
 * in between.  The pull has taken the update off its call and copied it
 * out when it finds it cannot write the status (EFAULT): the update goes
 * back, and the next pull returns it, then the call's end.  The test
 * holds the pull inside its copy of the update (the buffer's page is
 * missing and a userfaultfd serves it), makes the status read-only, and
 * meanwhile lets the call go on running, kills its orbit, or destroys it.
 * The pull uses the raw ioctl: the library's status is on its stack.
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tap.h"
#include "util.h"
#include "../../libuorbit/internal.h"	/* the future's call id, the fd */

#define PAGE	4096
#define VALUE	0x5eed1234L

enum end_how { RUNNING, KILLED, DESTROYED };

static const char *const how_name[] = {
	[RUNNING] = "the call still running",
	[KILLED] = "the orbit killed",
	[DESTROYED] = "the orbit destroyed",
};

/* Pushes one update, then ends with 7 once main sends SIGUSR1 (or 5 s). */
static long push_then_wait(void *argbuf, void *store)
{
	struct orbit_update *u = orbit_update_create();
	long v = VALUE;

	if (!u || orbit_update_add_data(u, &v, sizeof(v)) || orbit_push(u, NULL))
		return -1;
	wait_sigusr1(5);
	return 7;
}

struct raw_pull {
	struct orbit_pull *req;	/* alone on its page */
	int rc, err;
};

static void *raw_puller(void *arg)
{
	struct raw_pull *p = arg;

	p->rc = ioctl(uo_ctx_fd(), ORBIT_IOC_PULL, p->req);
	p->err = errno;
	return NULL;
}

static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd >= 0 && ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits up to 5 s for a fault on the registered page: 0 if one came. */
static int uffd_fault_seen(int uffd, void *page)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, 5000) != 1 ||
	    read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return -1;
	return (msg.arg.pagefault.address & ~(PAGE - 1UL)) ==
	       (uintptr_t)page ? 0 : -1;
}

static void one_case(enum end_how how)
{
	const char *name = how_name[how];
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_copy cp = { .len = PAGE };
	struct raw_pull p = { 0 };
	struct orbit_update *u = NULL;
	struct orbit_status st;
	struct orbit_future *f;
	struct orbit *ob;
	char *req_page, *buf, *zero;
	int uffd, got_end;
	long r, v = 0, ret = 0;
	pthread_t t;

	req_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	zero = calloc(1, PAGE);
	uffd = uffd_open();
	require(req_page != MAP_FAILED && buf != MAP_FAILED && zero &&
		uffd >= 0, "%s: pages and a userfaultfd", name);
	reg.range.start = (uintptr_t)buf;
	reg.range.len = PAGE;
	require(ioctl(uffd, UFFDIO_REGISTER, &reg) == 0,
		"%s: buffer page served by the userfaultfd", name);

	ob = orbit_create("pullcopy", push_then_wait,
			  init_blocking_sigusr1);
	require(ob, "%s: orbit_create", name);
	f = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
	require(f, "%s: async call", name);

	p.req = (struct orbit_pull *)req_page;
	p.req->call_id = f->call_id;
	p.req->buf = (uintptr_t)buf;
	p.req->cap = PAGE;
	require(pthread_create(&t, NULL, raw_puller, &p) == 0,
		"%s: puller thread", name);
	require(uffd_fault_seen(uffd, buf) == 0,
		"%s: the pull copies the update out", name);
	require(orbit_status(ob, &st) == 0 && st.pid > 0,
		"%s: the orbit's process", name);

	/* The pull is inside its copy: the update is off the call. */
	if (how == KILLED) {
		kill(st.pid, SIGKILL);
		ok(orbit_dead_within(ob, 2000), "%s: the orbit is dead during the pull", name);
	} else if (how == DESTROYED) {
		ok(orbit_destroy(ob) == 0, "%s: orbit_destroy during the pull",
		   name);
		ob = NULL;
	}
	require(mprotect(req_page, PAGE, PROT_READ) == 0,
		"%s: status made read-only", name);
	cp.dst = (uintptr_t)buf;
	cp.src = (uintptr_t)zero;
	require(ioctl(uffd, UFFDIO_COPY, &cp) == 0, "%s: fault served", name);
	pthread_join(t, NULL);
	ok(p.rc == -1 && p.err == EFAULT,
	   "%s: the pull fails with EFAULT (%d, %s)", name, p.rc,
	   strerror(p.err));

	if (how == RUNNING)
		kill(st.pid, SIGUSR1);
	r = pull_orbit(f, &u);
	if (r == 1 && orbit_update_first(u))
		memcpy(&v, orbit_update_first(u)->data, sizeof(v));
	ok(r == 1 && v == VALUE,
	   "%s: the next pull returns the update (%ld, %#lx)", name, r, v);
	orbit_update_free(u);
	u = NULL;
	r = pull_orbit(f, &u);
	got_end = r == 0 || (r == -1 && errno == ESRCH);
	if (how == RUNNING)
		ok(r == 0, "%s: then the end (%ld, %s)", name, r,
		   r ? strerror(errno) : "0");
	else
		ok(r == -1 && errno == ESRCH, "%s: then the end, ESRCH (%ld, %s)",
		   name, r, r ? strerror(errno) : "0");
	r = orbit_future_get(f, &ret);
	ok(got_end && (how == RUNNING ? r == 0 && ret == 7 :
				       r == -1 && errno == ESRCH),
	   "%s: orbit_future_get agrees (%ld, %ld)", name, r, ret);
	if (ob)
		orbit_destroy(ob);
	close(uffd);
	free(zero);
	munmap(buf, PAGE);
	munmap(req_page, PAGE);
}

int main(void)
{
	struct orbit_module_stats start;

	require(orbit_module_stats(&start) == 0, "read module counters");
	one_case(RUNNING);
	one_case(KILLED);
	one_case(DESTROYED);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
