// SPDX-License-Identifier: GPL-2.0
/*
 * A call's end that its caller could not be told of is not lost.  When
 * ORBIT_IOC_WAIT, a releasing ORBIT_IOC_PULL or a sync ORBIT_IOC_CALL has
 * the result but cannot write it out (EFAULT: here its request is on a
 * page made read-only after the module read it), the future stays: the
 * next WAIT or PULL returns the result (and a last update with it), once.
 * The raw ioctls run on the library's context, for orbits it made.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"
#include "../../libuorbit/internal.h"	/* the context's descriptor */

#define PAGE	4096
#define VALUE	0x5eed1234L
#define RESULT	7

/* Pushes VALUE if asked (a non-empty argument); ends with RESULT. */
static long answer(void *argbuf, void *store)
{
	struct orbit_update *u;
	long v = VALUE;

	if (*(char *)argbuf) {
		u = orbit_update_create();
		if (!u || orbit_update_add_data(u, &v, sizeof(v)) ||
		    orbit_push(u, NULL))
			return -1;
	}
	return RESULT;
}

/* Ends with RESULT once main sends SIGUSR1 (or after 5 s). */
static long answer_when_told(void *argbuf, void *store)
{
	wait_sigusr1(5);
	return RESULT;
}

static long quick(void *argbuf, void *store)
{
	return 0;
}

/* A page whose first bytes are set to *src, then made read-only. */
static void *read_only(const void *src, size_t len)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, src, len);
	if (mprotect(p, PAGE, PROT_READ)) {
		munmap(p, PAGE);
		return NULL;
	}
	return p;
}

/* An async call the library does not know of: its id, or 0. */
static uint64_t raw_call(struct orbit *ob, char push)
{
	return raw_call_on(uo_ctx_fd(), ob->id, &push, 1);
}

/* The orbit's calls done so far (the library's own too), or -1. */
static long calls_done(struct orbit *ob)
{
	struct orbit_status st;

	return orbit_status(ob, &st) ? -1 : (long)st.calls_done;
}

static void wait_req(struct orbit_wait *w, uint64_t id)
{
	memset(w, 0, sizeof(*w));
	w->call_id = id;
}

/* A releasing pull of the call into buf (PAGE bytes). */
static void pull_req(struct orbit_pull *p, uint64_t id, void *buf)
{
	memset(p, 0, sizeof(*p));
	p->call_id = id;
	p->buf = (uintptr_t)buf;
	p->cap = PAGE;
	p->flags = ORBIT_PULL_RELEASE;
}

static int raw_wait(uint64_t id, struct orbit_wait *w)
{
	wait_req(w, id);
	return ioctl(uo_ctx_fd(), ORBIT_IOC_WAIT, w);
}

/*
 * ioctl cmd with a copy of req on a read-only page, which the module reads
 * and cannot write: 0 if it failed with EFAULT.
 */
static int read_only_fails(unsigned long cmd, const void *req, size_t len)
{
	void *ro = read_only(req, len);
	int rc;

	if (!ro)
		return -1;
	rc = ioctl(uo_ctx_fd(), cmd, ro);
	munmap(ro, PAGE);
	return rc == -1 && errno == EFAULT ? 0 : -1;
}

static void wait_case(struct orbit *ob)
{
	struct orbit_wait w;
	uint64_t id = raw_call(ob, 0);
	int rc;

	require(id, "wait: a call");
	wait_req(&w, id);
	ok(read_only_fails(ORBIT_IOC_WAIT, &w, sizeof(w)) == 0,
	   "wait: the result cannot be written: EFAULT");
	rc = raw_wait(id, &w);
	ok(rc == 0 && w.retval == RESULT,
	   "wait: the next wait collects the result (%d, %lld)", rc,
	   (long long)w.retval);
	ok(raw_wait(id, &w) == -1 && errno == ENOENT,
	   "wait: once: then the future is gone (ENOENT)");
}

/* A releasing pull's END (push 0) or UPDATE_END (push 1). */
static void pull_case(struct orbit *ob, int push)
{
	const char *name = push ? "pull, last update" : "pull, end";
	long done = calls_done(ob), value = VALUE;
	char buf[PAGE];
	struct orbit_pull p;
	struct orbit_wait w;
	uint64_t id = raw_call(ob, push);
	int rc;

	require(id && done >= 0, "%s: a call", name);
	require(orbit_done_within(ob, done + 1, 5000), "%s: the call ended", name);
	pull_req(&p, id, buf);
	ok(read_only_fails(ORBIT_IOC_PULL, &p, sizeof(p)) == 0,
	   "%s: the status cannot be written: EFAULT", name);
	memset(buf, 0, sizeof(buf));
	rc = ioctl(uo_ctx_fd(), ORBIT_IOC_PULL, &p);
	ok(rc == 0 &&
	   p.status == (push ? ORBIT_PULL_UPDATE_END : ORBIT_PULL_END) &&
	   p.error == 0 && p.retval == RESULT &&
	   (!push || memmem(buf, p.len, &value, sizeof(value))),
	   "%s: the next pull returns it (status %u, retval %lld, %llu bytes)",
	   name, p.status, (long long)p.retval, (unsigned long long)p.len);
	ok(raw_wait(id, &w) == -1 && errno == ENOENT,
	   "%s: once: then the future is gone (ENOENT)", name);
}

/*
 * In a child, a main of its own: a result and an update kept for a retry
 * outlive the orbit's death (the wait still collects the result), and the
 * update still kept goes with the context when main exits.  Exit status:
 * 0, or the step that went wrong.
 */
static void kept_then_exit(void)
{
	struct orbit *ob = orbit_create("endcopy-exit", answer, NULL);
	struct orbit_pull p;
	struct orbit_wait w;
	uint64_t id1, id2;
	long done;
	char buf[PAGE];

	if (!ob)
		_exit(10);
	done = calls_done(ob);
	id1 = raw_call(ob, 0);
	id2 = raw_call(ob, 1);
	if (!id1 || !id2 || !orbit_done_within(ob, done + 2, 5000))
		_exit(11);
	wait_req(&w, id1);
	pull_req(&p, id2, buf);
	if (read_only_fails(ORBIT_IOC_WAIT, &w, sizeof(w)) ||
	    read_only_fails(ORBIT_IOC_PULL, &p, sizeof(p)))
		_exit(12);
	if (!orbit_kill_within(ob, 5000))
		_exit(13);
	if (raw_wait(id1, &w) || w.retval != RESULT)
		_exit(14);
	exit(0);	/* id2's future and its update left to the module */
}

struct sync_call {
	struct orbit_call_req *req;	/* alone on its page */
	int rc, err;
};

static void *sync_caller(void *arg)
{
	struct sync_call *c = arg;

	c->rc = ioctl(uo_ctx_fd(), ORBIT_IOC_CALL, c->req);
	c->err = errno;
	return NULL;
}

/* The id is written when the call is issued; the result at its end. */
static void sync_case(void)
{
	struct orbit *ob = orbit_create("endcopy-sync", answer_when_told,
					init_blocking_sigusr1);
	struct sync_call c = { 0 };
	struct orbit_status st;
	struct orbit_wait w;
	volatile __u64 *id;
	pthread_t t;
	int i, rc;

	/* init (SIGUSR1 blocked) runs with the first call: this one. */
	require(ob && orbit_call(ob, 0, NULL, quick, NULL, 0) == 0,
		"sync: orbit_create, init run");
	c.req = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	require(c.req != MAP_FAILED, "sync: a page for the request");
	c.req->orbit_id = ob->id;
	c.req->flags = ORBIT_CALL_SYNC;
	require(pthread_create(&t, NULL, sync_caller, &c) == 0,
		"sync: caller thread");
	id = &c.req->call_id;
	for (i = 0; i < 500 && !*id; i++)
		usleep(10000);
	require(*id, "sync: the call was issued (id %llu)",
		(unsigned long long)*id);
	require(mprotect(c.req, PAGE, PROT_READ) == 0 &&
		orbit_status(ob, &st) == 0 && st.pid > 0 &&
		kill(st.pid, SIGUSR1) == 0,
		"sync: request made read-only, then the task told to end");
	pthread_join(t, NULL);
	ok(c.rc == -1 && c.err == EFAULT,
	   "sync: the result cannot be written: EFAULT (%d, %s)", c.rc,
	   strerror(c.err));
	rc = raw_wait(*id, &w);
	ok(rc == 0 && w.retval == RESULT,
	   "sync: a wait on its id collects the result (%d, %lld)", rc,
	   (long long)w.retval);
	ok(raw_wait(*id, &w) == -1 && errno == ENOENT,
	   "sync: once: then the future is gone (ENOENT)");
	munmap(c.req, PAGE);
	orbit_destroy(ob);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit *ob;
	int status = -1;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	/* First, before this process has a context a child would share. */
	pid = fork();
	if (pid == 0)
		kept_then_exit();
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "kept results outlive the orbit's death; main exits with one kept (status %#x)",
	   status);
	ok(counters_back_to(&start), "module counters back to their start values");
	ob = orbit_create("endcopy", answer, NULL);
	require(ob, "orbit_create");
	wait_case(ob);
	pull_case(ob, 0);
	pull_case(ob, 1);
	orbit_destroy(ob);
	sync_case();
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
