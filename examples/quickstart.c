// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * orbit quickstart: a main program keeps account balances in an orbit
 * area; an auditor task runs in an orbit on a snapshot of them, pushes a
 * fix back, and crashes once without harming main.
 * Build: cc quickstart.c $(pkg-config --cflags --libs uorbit)
 */
#include <errno.h>
#include <orbit.h>
#include <stdio.h>
#include <string.h>

#define N 4

struct bank {
	long balance[N];
};

/* Runs in the orbit, on a snapshot: sums balances, fixes negative ones. */
static long audit(void *arg, void *store)
{
	struct bank *b = *(struct bank **)arg;
	struct orbit_update *u = orbit_update_create();
	long sum = 0, zero = 0;
	int i;

	for (i = 0; i < N; i++) {
		sum += b->balance[i];
		if (b->balance[i] < 0)
			orbit_update_add_modify(u, &b->balance[i], &zero,
						sizeof(zero));
	}
	if (orbit_push(u, NULL))	/* push consumes u on success */
		orbit_update_free(u);
	return sum;
}

static long crash(void *arg, void *store)
{
	return *(volatile long *)0;	/* a buggy task */
}

int main(void)
{
	struct orbit_attr attr;
	struct orbit_area *area;
	struct orbit_future *f;
	struct orbit_update *u;
	struct orbit *auditor;
	struct bank *b;
	long sum;
	int i;

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;	/* come back after a crash */
	auditor = orbit_create_ex("auditor", audit, NULL, &attr);
	area = orbit_area_create(1 << 20, auditor);
	if (!auditor || !area) {	/* ENODEV: no module; EPROTO: versions */
		fprintf(stderr, "orbit: %s%s\n", strerror(errno),
			errno == ENODEV || errno == EPROTO ?
			" (run: orbitctl check)" : "");
		return 1;
	}
	b = orbit_alloc(area, sizeof(*b));
	for (i = 0; i < N; i++)
		b->balance[i] = 100 * i;
	b->balance[2] = -5;

	/* Async call: the snapshot is taken now; main may keep writing. */
	f = orbit_call_async(auditor, 0, 1, &area, NULL, &b, sizeof(b));
	b->balance[0] = 1000;		/* not seen by this call */
	while (pull_orbit(f, &u) == 1) {	/* updates, in push order */
		if (orbit_apply(u))		/* checked, then applied */
			perror("orbit_apply");
		orbit_update_free(u);
	}
	orbit_future_get(f, &sum);
	printf("audited sum %ld, balance[2] is now %ld\n", sum, b->balance[2]);

	/* A crashing task fails its call with ESRCH; main carries on. */
	if (orbit_call(auditor, 0, NULL, crash, NULL, 0) == -1 && errno == ESRCH)
		printf("the task crashed; main is fine\n");
	sum = orbit_call(auditor, 1, &area, NULL, &b, sizeof(b));
	printf("after a restart: sum %ld\n", sum);

	orbit_area_destroy(area);
	orbit_destroy(auditor);
	return sum == 1000 + 100 + 0 + 300 ? 0 : 1;
}
