// SPDX-License-Identifier: GPL-2.0
/*
 * Large arguments: the module keeps a few argument buffers per main for
 * reuse.  Every call's argument still arrives whole and as sent, whatever
 * size came before it (larger, smaller, the same), from one thread or
 * from several at once, synchronous or fire-and-forget; and what the kept
 * buffers hold stays bounded (a few of the largest arguments), not one per
 * call.  Buffers of calls still queued when their orbit is destroyed, or
 * when their main exits, are freed and uncharged: the orbit's with the
 * calls, the main's with its context.  The runner's leak check then finds
 * nothing charged once the process is gone.
 */
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"
#include "../../uapi/orbit.h"

#define MAXARG	65536
#define CALLS	600
#define THREADS	4
#define QUEUED	16	/* large calls left queued behind a slow one */

struct hdr {
	uint32_t size;		/* the whole argument, header included */
	uint32_t seed;		/* 0: report instead */
};

struct tally {
	long seen, bad;
};

static const size_t sizes[] = {
	257, 300, 4096, 4097, MAXARG, 1000, MAXARG - 8, 20000, MAXARG, 33000,
	MAXARG / 2 + 1, 8192,
};
#define NSIZES	(sizeof(sizes) / sizeof(sizes[0]))

static unsigned char pat(uint32_t seed, size_t i)
{
	return (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static void *init(void)
{
	return calloc(1, sizeof(struct tally));
}

/* 1 if the argument is as sent; a report call returns the bad count. */
static long check(void *arg, void *store)
{
	struct tally *t = store;
	struct hdr h;
	const unsigned char *p = arg;
	size_t i;

	memcpy(&h, arg, sizeof(h));
	if (!h.seed)
		return t->bad * 1000000 + t->seen;
	t->seen++;
	for (i = sizeof(h); i < h.size; i++) {
		if (p[i] != pat(h.seed, i)) {
			t->bad++;
			return -1;
		}
	}
	return 1;
}

/* Keeps the calls behind it queued. */
static long slow(void *arg, void *store)
{
	usleep(20000);
	return 1;
}

static void fill(unsigned char *buf, size_t size, uint32_t seed)
{
	struct hdr h = { (uint32_t)size, seed };
	size_t i;

	memcpy(buf, &h, sizeof(h));
	for (i = sizeof(h); i < size; i++)
		buf[i] = pat(seed, i);
}

static uint64_t charged(void)
{
	struct orbit_stats st;
	int fd = open("/dev/orbit", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, ORBIT_IOC_STATS, &st) < 0)
		st.charged = 0;
	if (fd >= 0)
		close(fd);
	return st.charged;
}

/* Waits up to 5 s for the module's charged bytes to fall to at most v. */
static uint64_t charged_down_to(uint64_t v)
{
	uint64_t now = charged();
	int i;

	for (i = 0; i < 100 && now > v; i++) {
		usleep(50000);
		now = charged();
	}
	return now;
}

/* QUEUED fire-and-forget 64 KiB calls to a slow orbit: 0 if all went. */
static int queue_slow(struct orbit *slowob, unsigned char *buf)
{
	int i;

	fill(buf, MAXARG, 7);
	for (i = 0; i < QUEUED; i++) {
		errno = 0;
		if (!orbit_call_async(slowob, ORBIT_NOFUTURE, 0, NULL, NULL,
				      buf, MAXARG) && errno)
			return -1;
	}
	return 0;
}

static struct orbit *ob;

/* Calls of every size, each waited for: how many came back wrong. */
static void *caller(void *arg)
{
	static __thread unsigned char buf[MAXARG];
	uint32_t base = (uint32_t)(uintptr_t)arg;
	long wrong = 0, ret;
	int i;

	for (i = 0; i < CALLS / THREADS; i++) {
		size_t size = sizes[(i + base) % NSIZES];
		struct orbit_future *f;

		fill(buf, size, base * 100000 + i + 1);
		f = orbit_call_async(ob, 0, 0, NULL, NULL, buf, size);
		if (!f || orbit_future_get(f, &ret) || ret != 1)
			wrong++;
	}
	return (void *)wrong;
}

int main(void)
{
	static unsigned char buf[MAXARG];
	struct hdr report = { sizeof(report), 0 };
	struct orbit *slowob;
	pthread_t t[THREADS];
	uint64_t c0, c1, c2;
	long ret, wrong = 0, sent = 0;
	int i, status;
	pid_t pid;
	void *w;

	/* Main exits with its large calls queued (before this process has
	 * a context of its own: the child's is the only one). */
	c0 = charged();
	pid = fork();
	if (pid == 0) {
		slowob = orbit_create("argexit", slow, NULL);
		_exit(!slowob || queue_slow(slowob, buf));	/* no cleanup */
	}
	require(pid > 0, "fork");
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	   !WEXITSTATUS(status), "a main queued %d calls of 64 KiB and exited",
	   QUEUED);
	c1 = charged_down_to(c0);
	ok(c1 == c0, "its calls' buffers, kept or not, were all uncharged "
	   "(%llu bytes left)", (unsigned long long)(c1 - c0));

	ob = orbit_create("argreuse", check, init);
	require(ob, "orbit_create");
	require(orbit_call(ob, 0, NULL, NULL, &report, sizeof(report)) == 0,
		"a first call");
	c0 = charged();

	/* One thread: sync and fire-and-forget calls, sizes changing. */
	for (i = 0; i < CALLS; i++) {
		size_t size = sizes[i % NSIZES];

		fill(buf, size, (uint32_t)i + 1);
		if (i % 3) {
			errno = 0;
			if (!orbit_call_async(ob, ORBIT_NOFUTURE, 0, NULL, NULL,
					      buf, size) && errno)
				wrong++;
		} else if (orbit_call(ob, 0, NULL, NULL, buf, size) != 1) {
			wrong++;
		}
		sent++;
	}
	ret = orbit_call(ob, 0, NULL, NULL, &report, sizeof(report));
	ok(!wrong && ret == sent, "%ld calls of 257 B to 64 KiB, sizes "
	   "changing, a third of them waited for: every argument as sent "
	   "(the task saw %ld, %ld wrong; %ld calls failed)",
	   sent, ret % 1000000, ret / 1000000, wrong);

	/* Several threads at once: buffers change hands between them. */
	for (i = 0; i < THREADS; i++)
		require(pthread_create(&t[i], NULL, caller,
				       (void *)(uintptr_t)(i + 1)) == 0,
			"thread %d", i);
	wrong = 0;
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], &w);
		wrong += (long)w;
	}
	ret = orbit_call(ob, 0, NULL, NULL, &report, sizeof(report));
	ok(!wrong && ret / 1000000 == 0,
	   "%d threads, %d calls each: every argument as sent (%ld wrong)",
	   THREADS, CALLS / THREADS, wrong);

	c1 = charged();
	ok(c1 <= c0 + 4 * MAXARG, "kept argument buffers stay bounded: %llu "
	   "bytes charged after %d large calls (at most 4 x 64 KiB)",
	   (unsigned long long)(c1 - c0), CALLS + CALLS);
	ok(orbit_destroy(ob) == 0, "orbit_destroy");

	/* An orbit destroyed with large calls queued: they end, and their
	 * buffers join the kept ones or are freed. */
	c1 = charged();
	slowob = orbit_create("argslow", slow, NULL);
	require(slowob, "orbit_create (slow)");
	ok(queue_slow(slowob, buf) == 0, "%d calls of 64 KiB queued", QUEUED);
	ok(orbit_destroy(slowob) == 0, "orbit_destroy with them queued");
	c2 = charged_down_to(c1 + 4 * MAXARG);
	ok(c2 <= c1 + 4 * MAXARG, "their buffers were freed or kept (at most "
	   "4 x 64 KiB more charged: %lld)", (long long)(c2 - c1));
	return tap_done();
}
