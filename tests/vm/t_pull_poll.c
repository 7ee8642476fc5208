// SPDX-License-Identifier: GPL-2.0
/*
 * Early wakeups of a future's waiters (a pull, orbit_future_get; module
 * parameter poll_us), as a sync caller's (t_sync_poll): the task loop
 * wakes them when it takes the call, and they poll for an update or the
 * end.  That changes when they wake, never what they get:
 *  - with main and the orbit on different CPUs, every call's updates
 *    come whole and in push order and then its result, with poll_us 500
 *    and 0; with 500 the pullers polled, with 0 nobody did;
 *  - orbit_future_get of an async call polls as well;
 *  - main does not poll through tasks longer than the poll: of 200 calls
 *    whose task sleeps 5 ms before it pushes, at most one in 17 has its
 *    pulls run out of their poll (the orbit's back-off), also when the
 *    pull for each call's end finds it by polling;
 *  - a signal ends a pull's poll at once: the handler runs and the
 *    update and the result still come;
 *  - a pull that polls ends with ESRCH as soon as the orbit is killed,
 *    and a process may exit (another thread's _exit) while it pulls;
 *  - nothing leaks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"
#include "polls.h"
#include "util.h"

#define CALLS		60
#define UPDATES		3

#define SPIN_US		100	/* a task's work before it pushes */

struct push_arg {
	long seq;
	unsigned int sleep_ms;
	unsigned int updates;
	unsigned int tail_us;	/* work after the pushes */
};

/*
 * The task: SPIN_US of work (so that main waits when the task loop takes
 * the call) or a sleep, then pushes seq * 10 + i for each update i, then
 * works tail_us more.
 */
static long pusher(void *argbuf, void *store)
{
	const struct push_arg *a = argbuf;
	struct orbit_update *u;
	unsigned int i;
	long v;

	if (a->sleep_ms)
		usleep(a->sleep_ms * 1000);
	else
		spin_us(SPIN_US);
	for (i = 0; i < a->updates; i++) {
		v = a->seq * 10 + i;
		u = orbit_update_create();
		if (!u || orbit_update_add_data(u, &v, sizeof(v)) ||
		    orbit_push(u, NULL)) {
			orbit_update_free(u);
			return -1;
		}
	}
	spin_us(a->tail_us);
	return a->seq;
}

/*
 * One async call of the pusher, pulled to its end: 1 when its updates
 * came in order and whole, then its result.
 */
static int pulled_right(struct orbit *ob, struct push_arg *a)
{
	const struct orbit_update_entry *e;
	struct orbit_future *f;
	struct orbit_update *u;
	unsigned int got = 0, right = 0;
	long ret, v;

	f = orbit_call_async(ob, 0, 0, NULL, NULL, a, sizeof(*a));
	if (!f)
		return 0;
	while (pull_orbit(f, &u) == 1) {
		e = orbit_update_first(u);
		if (e && e->type == ORBIT_UPDATE_DATA && e->len == sizeof(v)) {
			memcpy(&v, e->data, sizeof(v));
			right += v == a->seq * 10 + got;
		}
		got++;
		orbit_update_free(u);
	}
	return orbit_future_get(f, &ret) == 0 && ret == a->seq &&
	       got == a->updates && right == got;
}

static int calls_right(struct orbit *ob, unsigned int sleep_ms,
		       unsigned int tail_us, int n)
{
	struct push_arg a = { 0, sleep_ms, UPDATES, tail_us };
	int right = 0;

	for (a.seq = 1; a.seq <= n; a.seq++)
		right += pulled_right(ob, &a);
	return right;
}

struct kill_arg {
	pid_t pid;
	unsigned int ms;
};

static void *kill_later(void *arg)
{
	const struct kill_arg *k = arg;

	usleep(k->ms * 1000);
	kill(k->pid, SIGKILL);
	return NULL;
}

static void *exit_later(void *unused)
{
	usleep(20000);
	_exit(0);
}

/*
 * In a child: its own orbit, apart on CPU 1, and a pull that polls for a
 * 200 ms task (poll_us 1 s) when another thread exits the process 20 ms
 * in.  Before the pull it writes the module's poll count to fd.
 */
static int exit_while_pulling(int fd)
{
	struct push_arg a = { 1, 200, 1, 0 };
	struct orbit_future *f;
	struct orbit_update *u;
	struct orbit_status st;
	unsigned long long p0, m0;
	struct orbit *ob;
	pthread_t t;

	ob = orbit_create("exitpoll", pusher, NULL);
	if (!ob || calls_right(ob, 0, 0, 3) != 3 || orbit_status(ob, &st) ||
	    pin_to_cpu(0, 0) || pin_to_cpu(st.pid, 1))
		return 2;
	module_polls(&p0, &m0);
	if (write(fd, &p0, sizeof(p0)) != sizeof(p0))
		return 3;
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &a, sizeof(a));
	if (!f || pthread_create(&t, NULL, exit_later, NULL))
		return 4;
	pull_orbit(f, &u);
	return 5;	/* the pull came back before the exit */
}

int main(void)
{
	struct orbit_module_stats start;
	struct push_arg a = { 7, 0, 0, 0 };	/* no update */
	unsigned long long p0, p1, m0, m1;
	struct kill_arg ka = { 0, 20 };
	int n, waited, err, status = -1, cp[2];
	struct orbit_future *f;
	struct orbit_update *u;
	struct orbit_status st;
	pthread_t killer;
	struct orbit *ob;
	double t0, dt;
	pid_t child;
	ssize_t got;
	long ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(param_write("poll_us", "1000000") == 0, "set poll_us");
	child = fork_piped(cp);
	if (child == 0)
		_exit(exit_while_pulling(cp[1]));
	require(child > 0, "fork");
	got = read(cp[0], &p0, sizeof(p0));
	waitpid(child, &status, 0);
	close(cp[0]);
	module_polls(&p1, &m1);
	ok(got == sizeof(p0) && WIFEXITED(status) && !WEXITSTATUS(status) &&
	   p1 - p0 >= 1 && counters_back_to(&start),
	   "a process exits while its pull polls: status %d, %llu polls, its objects freed",
	   status, p1 - p0);

	require(param_write("poll_us", "500") == 0, "set poll_us");
	ob = orbit_create("pullpoll", pusher, NULL);
	require(ob, "an orbit");
	/* Its first calls (its process runs them), past any back-off. */
	n = calls_right(ob, 0, 0, 17);
	require(n == 17 && orbit_status(ob, &st) == 0 && st.pid > 0,
		"17 first calls right (%d) and the orbit's process", n);
	/* Apart: a waiter on the task loop's own CPU is not woken early. */
	require(pin_to_cpu(0, 0) == 0 && pin_to_cpu(st.pid, 1) == 0,
		"main on CPU 0, the orbit on CPU 1");
	ka.pid = st.pid;

	module_polls(&p0, &m0);
	n = calls_right(ob, 0, 0, CALLS);
	module_polls(&p1, &m1);
	ok(n == CALLS,
	   "poll_us=500: %d of %d calls pulled their %d updates in order, then the result",
	   n, CALLS, UPDATES);
	/*
	 * About one poll a call (the first pull's; the end is mostly there
	 * by the last); a poll that ran out would stop 16 calls' polls, so
	 * a quarter leaves room for two.  The module before polled none.
	 */
	ok(p1 - p0 >= CALLS / 4,
	   "and the pullers polled (%llu times in %d calls, %llu ran out)",
	   p1 - p0, CALLS, m1 - m0);

	module_polls(&p0, &m0);
	for (n = 0, waited = 0; n < CALLS; n++) {
		f = orbit_call_async(ob, 0, 0, NULL, NULL, &a, sizeof(a));
		waited += f && orbit_future_get(f, &ret) == 0 && ret == a.seq;
	}
	module_polls(&p1, &m1);
	ok(waited == CALLS && p1 - p0 >= CALLS / 4,
	   "orbit_future_get: %d of %d results, %llu polls, %llu ran out",
	   waited, CALLS, p1 - p0, m1 - m0);

	require(param_write("poll_us", "0") == 0, "set poll_us");
	module_polls(&p0, &m0);
	n = calls_right(ob, 0, 0, CALLS);
	module_polls(&p1, &m1);
	ok(n == CALLS && p1 == p0,
	   "poll_us=0: %d of %d calls right, %llu polls", n, CALLS, p1 - p0);

	require(param_write("poll_us", "500") == 0, "set poll_us");
	module_polls(&p0, &m0);
	n = calls_right(ob, 5, 0, 200);
	module_polls(&p1, &m1);
	/* A call whose pull ran out may also run out pulling its end. */
	ok(n == 200 && p1 - p0 >= 1 && m1 - m0 <= 2 * (200 / 17 + 1),
	   "200 calls of 5 ms tasks: %d right, %llu polls, %llu ran out", n,
	   p1 - p0, m1 - m0);

	/*
	 * The same tasks ending 1 ms after their pushes, polls of 2 ms: the
	 * pull for the end, woken by the last push, finds it by polling,
	 * which must not end the back-off that the same call's first poll,
	 * run out, began.
	 */
	require(param_write("poll_us", "2000") == 0, "set poll_us");
	module_polls(&p0, &m0);
	n = calls_right(ob, 5, 1000, 200);
	module_polls(&p1, &m1);
	ok(n == 200 && p1 - p0 >= 1 && m1 - m0 <= 2 * (200 / 17 + 1),
	   "200 calls of 5 ms tasks ending 1 ms after their pushes: %d right, %llu polls, %llu ran out",
	   n, p1 - p0, m1 - m0);

	/* A pull polls (a 1 s poll, a 200 ms task) when the alarm comes. */
	require(param_write("poll_us", "1000000") == 0, "set poll_us");
	calls_right(ob, 0, 0, 17);	/* past the back-off */
	module_polls(&p0, &m0);
	alarm_in_ms(20);
	n = calls_right(ob, 200, 0, 1);
	module_polls(&p1, &m1);
	ok(n == 1 && alarms == 1 && p1 - p0 >= 1,
	   "a signal during a pull's poll: the handler ran (%d), the updates and the result came (%llu polls)",
	   (int)alarms, p1 - p0);

	/* The orbit killed while a pull polls (a 1 s poll, a 200 ms task). */
	calls_right(ob, 0, 0, 17);
	a = (struct push_arg){ 1, 200, 1, 0 };
	module_polls(&p0, &m0);
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &a, sizeof(a));
	t0 = now_us();
	require(f && pthread_create(&killer, NULL, kill_later, &ka) == 0,
		"an async call and a thread to kill its orbit");
	n = pull_orbit(f, &u);
	err = errno;
	dt = now_us() - t0;
	pthread_join(killer, NULL);
	module_polls(&p1, &m1);
	ok(n == -1 && err == ESRCH && p1 - p0 >= 1 && dt < 150000,
	   "the orbit killed while a pull polls: ESRCH after %.0f ms, not the task's 200 (%llu polls)",
	   dt / 1000, p1 - p0);
	ok(orbit_future_get(f, &ret) == -1 && errno == ESRCH,
	   "and orbit_future_get reports ESRCH");

	require(param_write("poll_us", "500") == 0, "set poll_us");
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
