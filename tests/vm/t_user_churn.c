// SPDX-License-Identifier: GPL-2.0
/*
 * The per-user limit under churn: four processes of one unprivileged
 * user at a time, each making orbits and 8 MiB areas, touching them,
 * calling and rewriting them after the call, then ending with or without
 * destroying what it made, while root moves max_user_bytes between 8 and
 * 16 MiB.  The user's charges are taken and returned from every side at
 * once (main's faults, the snapshot's copies, the module's workqueue
 * tearing down the contexts of processes gone, the user's record made and
 * freed as its first and last contexts come and go), and what a user
 * relies on holds throughout: the program's own write over the limit
 * raises SIGBUS, a create or a call over it fails with EDQUOT, and
 * nothing else happens: no SIGBUS anywhere else (the library's copy of
 * the globals into its hidden area at each create, a read of a page the
 * last call froze), no other errno, no task that dies, no process
 * killed; each call that succeeds returns what its snapshot held.  Once
 * they are gone the user has its whole limit again and the module's
 * counters are back.  The harness fails the run on any kernel report
 * (user.c warns when a user's record is freed with bytes still charged).
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include "sigbus.h"
#include "tap.h"
#include "util.h"

#define UID		1000
#define AREA		(8L << 20)
#define PG		4096L
#define NPAGES		(AREA / PG)
#define STEP		16		/* the task reads every 16th page */
#define NPROC		4
#define SECONDS		4
#define LIMITS		{ "8388608", "16777216", "12582912" }

/* Outcomes the processes add up, in memory they share with the test. */
struct tally {
	long lives, rounds, calls, refused_calls, refused_creates, sigbus;
};

static struct tally *tally;

struct job {
	const volatile unsigned char *base;
	long npages;
};

/* The sum of every STEP-th page's first byte, pages [0, npages). */
static long reader(void *argbuf, void *store)
{
	const struct job *j = argbuf;
	long i, sum = 0;

	for (i = 0; i < j->npages; i += STEP)
		sum += j->base[i * PG];
	return sum;
}

/* The sum reader returns for pages [0, n) that each hold v first. */
static long expected(long n, int v)
{
	return (n + STEP - 1) / STEP * v;
}

/*
 * Writes v into the first byte of pages [0, want) of p: the pages written
 * before a SIGBUS stopped it, all of them if none did.
 */
static long touch(volatile unsigned char *p, long want, int v)
{
	long done = sigbus_touch((volatile char *)p, 0, want, v);

	if (done < want)
		__atomic_fetch_add(&tally->sigbus, 1, __ATOMIC_RELAXED);
	return done;
}

/*
 * One round: an orbit and an area, some pages touched, a call, the pages
 * rewritten.  Exits with a status that names what went wrong; returns
 * with what it made, or nothing if the limit refused it.
 */
static void round_of(uint64_t r, struct orbit **obp, struct orbit_area **ap)
{
	struct orbit *ob = orbit_create("churn", reader, NULL);
	struct orbit_area *a;
	struct job j;
	long ret;

	*obp = ob;
	*ap = NULL;
	if (!ob) {
		if (errno != EDQUOT)
			_exit(20);
		__atomic_fetch_add(&tally->refused_creates, 1, __ATOMIC_RELAXED);
		return;
	}
	a = orbit_area_create(AREA, ob);
	if (!a) {
		if (errno != EDQUOT)
			_exit(21);
		__atomic_fetch_add(&tally->refused_creates, 1, __ATOMIC_RELAXED);
		return;
	}
	*ap = a;
	j.base = orbit_area_base(a);
	j.npages = touch(orbit_area_base(a), 1 + r % NPAGES, 1);
	ret = orbit_call(ob, 1, &a, NULL, &j, sizeof(j));
	if (ret < 0) {
		if (errno != EDQUOT)
			_exit(22);
		__atomic_fetch_add(&tally->refused_calls, 1, __ATOMIC_RELAXED);
	} else if (ret != expected(j.npages, 1)) {
		_exit(23);
	} else {
		__atomic_fetch_add(&tally->calls, 1, __ATOMIC_RELAXED);
	}
	/* Copies of the pages the call froze, if it succeeded. */
	touch(orbit_area_base(a), j.npages / 2, 2);
	__atomic_fetch_add(&tally->rounds, 1, __ATOMIC_RELAXED);
}

/*
 * A process of the user: one to three rounds, each one's orbit and area
 * destroyed or left for the process's end to release, by r's bits.
 */
static void life(uint64_t r)
{
	struct orbit_area *a;
	struct orbit *ob;
	int i, n = 1 + r % 3;

	if (setgid(UID) || setuid(UID))
		_exit(10);
	sigbus_catch();
	__atomic_fetch_add(&tally->lives, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		round_of(r >> 33, &ob, &a);
		if (r & (1ULL << 20))
			continue;	/* left to the process's end */
		if (a && orbit_area_destroy(a))
			_exit(30);
		if (ob && orbit_destroy(ob))
			_exit(31);
	}
	_exit(0);
}

/* Touches up to 32 MiB of a fresh area as the user: the bytes touched. */
static long user_reach(void)
{
	int p[2], status;
	long done = -1;
	pid_t pid = fork_piped(p);

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct orbit_area *a;

		if (setgid(UID) || setuid(UID))
			_exit(10);
		sigbus_catch();
		a = orbit_area_create(32L << 20, NULL);
		done = a ? touch(orbit_area_base(a), 32L << 20 >> 12, 1) * PG :
			   -1;
		_exit(write(p[1], &done, sizeof(done)) != sizeof(done));
	}
	if (read(p[0], &done, sizeof(done)) != sizeof(done))
		done = -2;
	close(p[0]);
	waitpid(pid, &status, 0);
	return done;
}

int main(void)
{
	static const char *const limits[] = LIMITS;
	struct orbit_module_stats start;
	int status, live = 0, bad = 0, first_bad = 0, nlimit = 0;
	char saved[32] = "";
	uint64_t r = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	double end;
	long reach;
	pid_t pid;

	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	require(tally != MAP_FAILED, "shared tally");
	require(orbit_module_stats(&start) == 0, "read module counters");
	require(param_read("max_user_bytes", saved, sizeof(saved)) == 0 &&
		param_write("max_user_bytes", limits[1]) == 0,
		"read max_user_bytes, set it to 16 MiB");

	end = now_us() + SECONDS * 1e6;
	while (now_us() < end || live) {
		while (now_us() < end && live < NPROC) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			pid = fork();
			if (pid == 0)
				life(r);
			if (pid < 0)
				break;
			live++;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			live--;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				if (!bad++)
					first_bad = status;
			}
		}
		if (pid < 0 && errno == ECHILD)
			live = 0;
		param_write("max_user_bytes", limits[nlimit++ % 3]);
		usleep(20000);
	}
	printf("    # %ld processes, %ld rounds: %ld calls, %ld refused; "
	       "%ld creates refused; %ld SIGBUS; %d limit changes\n",
	       tally->lives, tally->rounds, tally->calls, tally->refused_calls,
	       tally->refused_creates, tally->sigbus, nlimit);
	ok(!bad,
	   "every process saw SIGBUS, EDQUOT or its snapshot, nothing else (%d failed, first status 0x%x)",
	   bad, first_bad);
	ok(tally->lives >= NPROC && tally->calls > 0,
	   "the user's processes ran and called (%ld processes, %ld calls)",
	   tally->lives, tally->calls);
	ok(tally->sigbus + tally->refused_calls + tally->refused_creates > 0,
	   "the limit refused some of them");

	ok(param_write("max_user_bytes", limits[1]) == 0 &&
	   counters_back_to(&start),
	   "with the processes gone, the module's counters are back");
	reach = user_reach();
	ok(reach > (15L << 20) && reach <= (16L << 20),
	   "the user has its whole 16 MiB again (%ld KiB before SIGBUS)",
	   reach >> 10);
	ok(param_write("max_user_bytes", saved) == 0, "restore max_user_bytes");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
