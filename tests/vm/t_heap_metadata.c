// SPDX-License-Identifier: GPL-2.0
/*
 * The area allocator keeps no metadata in area memory: an orbit whose
 * checked modifications overwrite every byte main ever allocated in an
 * area (freed blocks included) changes those objects' contents only.
 * Main's later orbit_alloc()/orbit_free() keep returning disjoint blocks
 * inside the area, and never write outside them.
 */
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#define AREA	(4 << 20)
#define NOBJ	512

struct scribble {
	unsigned char *base;
	size_t len;
};

/* In the orbit: overwrite [base, base + len) with a hostile pattern. */
static long scribble(void *argbuf, void *store)
{
	struct scribble *s = argbuf;
	struct orbit_update *u = orbit_update_create();
	static unsigned char junk[65536];
	size_t off, n;

	for (off = 0; off < sizeof(junk); off += 8)
		*(uint64_t *)(junk + off) = 0x4141414100000000ULL | (off * 977);
	for (off = 0; off < s->len; off += n) {
		n = s->len - off < sizeof(junk) ? s->len - off : sizeof(junk);
		if (orbit_update_add_modify(u, s->base + off, junk, n))
			return -1;
	}
	return orbit_push(u, NULL);
}

static int run(void)
{
	struct orbit_area *area;
	struct orbit_update *u;
	struct scribble s;
	struct orbit *ob;
	unsigned char *obj[NOBJ], *base, *hi = NULL;
	size_t size[NOBJ];
	int i, round;

	ob = orbit_create("scribbler", scribble, NULL);
	area = orbit_area_create_ex(AREA, AREA, 0, ob);
	if (!ob || !area)
		return 1;
	base = orbit_area_base(area);
	for (i = 0; i < NOBJ; i++) {
		size[i] = 16 + (size_t)i * 37 % 3000;
		obj[i] = orbit_alloc(area, size[i]);
		if (!obj[i])
			return 2;
		if (obj[i] + size[i] > hi)
			hi = obj[i] + size[i];
	}
	for (i = 0; i < NOBJ; i += 2)	/* leave free blocks between */
		orbit_free(area, obj[i]);
	s.base = base;
	s.len = (size_t)(hi - base) + 4096;
	if (orbit_call(ob, 1, &area, NULL, &s, sizeof(s)) != 0 ||
	    pull_orbit(NULL, &u) != 1 || orbit_apply(u))
		return 3;
	orbit_update_free(u);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < NOBJ; i += 2) {
			size[i] = 16 + (size_t)(i + round) * 53 % 5000;
			obj[i] = orbit_alloc(area, size[i]);
			if (!obj[i] || obj[i] < base ||
			    obj[i] + size[i] > base + AREA)
				return 4;
			memset(obj[i], i & 0xff, size[i]);
		}
		for (i = 0; i < NOBJ; i += 2) {
			size_t k;

			for (k = 0; k < size[i]; k++)
				if (obj[i][k] != (i & 0xff))
					return 5;	/* blocks overlap */
			orbit_free(area, obj[i]);
		}
	}
	orbit_area_destroy(area);
	orbit_destroy(ob);
	return 0;
}

int main(void)
{
	struct orbit_module_stats start;
	int status;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	pid = fork();
	if (pid == 0)
		_exit(run());
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) != 3,
	   "an orbit's modifications overwrite all allocated area memory");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "main's allocator then still hands out disjoint blocks inside the area (%s %d)",
	   WIFSIGNALED(status) ? "signal" : "status",
	   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
