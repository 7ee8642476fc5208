// SPDX-License-Identifier: GPL-2.0
/*
 * The paper's deadlock checker (Figures 2, 4, 7): transactions and locks
 * live in an area; an async call searches the wait-for graph in the orbit,
 * picks a victim and pushes data (victim and its version), a modify (the
 * victim's cancel flag) and an operation (wake the victim).  Main pulls,
 * checks the version is still current, applies, and the waiting thread
 * wakes cancelled.  When the victim moved on meanwhile, main discards the
 * stale update and nothing changes.
 */
#include <pthread.h>

#include "tap.h"
#include "util.h"

#define NTXN	4

struct txn {
	int id;
	long version;		/* bumped each time the txn restarts */
	int cancel;		/* set by the checker's update */
	int waits_for;		/* lock index, -1 if not waiting */
};

struct lockobj {
	int holder;		/* txn id, -1 if free */
};

struct db {
	struct txn txn[NTXN];
	struct lockobj lock[NTXN];
};

struct victim {
	int id;
	long version;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int woken;

struct check_arg {
	struct db *db;
	int start;
};

/* An operation: runs in main, from orbit_apply(). */
static long wake_waiters(void *arg)
{
	pthread_mutex_lock(&mu);
	woken++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return 0;
}

/* The checker: follow wait-for edges from the starting txn to a cycle. */
static long check_deadlock(void *argbuf, void *store)
{
	struct check_arg *a = argbuf;
	struct db *db = a->db;
	int seen[NTXN] = { 0 }, t = a->start, victim = -1;
	struct orbit_update *u;
	struct victim v;

	while (t >= 0 && !seen[t]) {
		int l = db->txn[t].waits_for;

		seen[t] = 1;
		if (t > victim)
			victim = t;	/* youngest in the chain */
		t = l < 0 ? -1 : db->lock[l].holder;
	}
	if (t < 0)
		return 0;	/* no cycle */
	v.id = victim;
	v.version = db->txn[victim].version;
	u = orbit_update_create();
	orbit_update_add_data(u, &v, sizeof(v));
	orbit_update_add_modify(u, &db->txn[victim].cancel, &(int){ 1 },
				sizeof(int));
	orbit_update_add_operation(u, wake_waiters, NULL);
	if (orbit_push(u, NULL)) {
		orbit_update_free(u);
		return -1;
	}
	return 1;
}

static struct db *db;

static void *victim_thread(void *p)
{
	struct txn *t = p;

	pthread_mutex_lock(&mu);
	while (!t->cancel && woken == 0)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return (void *)(long)t->cancel;
}

static int run_checker(struct orbit *ob, struct orbit_area *area, int stale)
{
	struct check_arg a = { db, 0 };
	const struct orbit_update_entry *e;
	struct orbit_future *f;
	struct orbit_update *u;
	struct victim v;
	long ret;
	int applied = 0;

	f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	if (!f)
		return -1;
	if (stale)
		db->txn[1].version++;	/* the victim restarted meanwhile */
	while (pull_orbit(f, &u) == 1) {
		e = orbit_update_first(u);
		memcpy(&v, e->data, sizeof(v));
		if (e->type == ORBIT_UPDATE_DATA &&
		    db->txn[v.id].version == v.version) {
			if (orbit_apply(u) == 0)
				applied++;
		}
		orbit_update_free(u);
	}
	if (orbit_future_get(f, &ret) || ret != 1)
		return -1;
	return applied;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;
	pthread_t th;
	void *res;
	int i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("deadlock", check_deadlock, NULL);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "orbit and area");
	db = orbit_alloc(area, sizeof(*db));
	for (i = 0; i < NTXN; i++) {
		db->txn[i] = (struct txn){ i, 100 + i, 0, -1 };
		db->lock[i].holder = -1;
	}
	/* T0 holds L0, waits for L1; T1 holds L1, waits for L0. */
	db->lock[0].holder = 0;
	db->lock[1].holder = 1;
	db->txn[0].waits_for = 1;
	db->txn[1].waits_for = 0;

	ok(run_checker(ob, area, 1) == 0,
	   "stale victim version: main discards the update");
	ok(db->txn[1].cancel == 0 && woken == 0,
	   "stale update: victim not cancelled, nobody woken");

	pthread_create(&th, NULL, victim_thread, &db->txn[1]);
	ok(run_checker(ob, area, 0) == 1, "current victim: main applies the update");
	pthread_join(th, &res);
	ok((long)res == 1, "the waiting victim woke up cancelled");
	ok(db->txn[1].cancel == 1 && db->txn[0].cancel == 0,
	   "only the youngest transaction in the cycle was cancelled");

	db->txn[1].waits_for = -1;	/* rolled back: the cycle is gone */
	{
		struct check_arg a = { db, 0 };

		ok(orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == 0,
		   "no cycle: the checker finds none");
	}
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
