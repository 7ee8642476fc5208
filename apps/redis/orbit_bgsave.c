// SPDX-License-Identifier: BSD-3-Clause
/*
 * orbit port of Redis: BGSAVE from an orbit instead of a forked child.
 *
 * The dataset is in the heap's area (orbit_app_heap.c).  A save refreshes the
 * orbit's copy of the globals (struct redisServer and the rest) and
 * issues one asynchronous call that snapshots the area: from then on main
 * writes as it likes, and the task runs Redis's own rdbSave() on the
 * snapshot, in the orbit, to temp-<orbit pid>.rdb and then the target
 * name.  The time main spends in those two steps is the save's stall; it
 * is reported where fork's is (INFO latest_fork_usec).
 *
 * Redis then treats the orbit as its RDB child: child_pid is the orbit's
 * pid (so killRDBChild()'s SIGUSR1 ends the save as it ends a child),
 * checkChildrenDone() asks orbitCheckChildrenDone() first, and the end is
 * handed to backgroundSaveDoneHandler() with the exit code or signal a
 * child would have had.  A thread of main waits for the call's future
 * (bg.waiter, one per save) and flags the end; main joins it there.
 *
 * Other forks (AOF rewrite, diskless replication, daemonize) would give a
 * child without the area (areas are not copied by fork): in this build
 * redisFork() refuses them (ENOTSUP) and daemonize() exits instead.
 *
 * Fault switches (tests): a key "orbit-fault:crash" in db 0 makes the save
 * task write through a NULL pointer; "orbit-fault:hang" makes it spin.
 */
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "orbit_app.h"
#include "orbit_app_heap.h"
#include "orbit_redis.h"

struct bg_arg {
	int req;
	int has_rsi;
	rdbSaveInfo rsi;
	char filename[1024];
};

static long bg_task(void *arg, void *store);

static struct orbit_port bg_port = {
	.name = "bgsave",
	.entry = bg_task,
	.timeout_env = "ORBIT_REDIS_BGSAVE_TIMEOUT_MS",
	.timeout_ms = 3600 * 1000,
};

/* The save in progress: main's thread only, but for done/rc/ret/err. */
static struct {
	int active;
	pthread_t waiter;
	struct orbit_future *f;
	atomic_int done;
	int rc, err;
	long ret;
} bg;

/* ---- the task, in the orbit ----------------------------------------- */

static int bg_has_key(const char *name)
{
	sds key = sdsnew(name);
	int found = server.db && dictFind(server.db[0].dict, key) != NULL;

	sdsfree(key);
	return found;
}

static long bg_task(void *arg, void *store)
{
	struct bg_arg *a = arg;

	(void)store;
	if (bg_has_key(ORBIT_APP_FAULT_CRASH))
		orbit_app_fault(ORBIT_APP_FAULT_CRASH, strlen(ORBIT_APP_FAULT_CRASH));
	if (bg_has_key(ORBIT_APP_FAULT_HANG))
		orbit_app_fault(ORBIT_APP_FAULT_HANG, strlen(ORBIT_APP_FAULT_HANG));
	redisSetProcTitle("redis-rdb-bgsave-orbit");
	return rdbSave(a->req, a->filename, a->has_rsi ? &a->rsi : NULL) == C_OK ? 0 : 1;
}

/* ---- main's side ---------------------------------------------------- */

int orbitBgsaveEnabled(void)
{
	return orbit_app_area() && orbitPortGet(&bg_port);
}

int orbitForkRefused(int purpose)
{
	if (!orbit_app_area())
		return 0;
	serverLog(LL_WARNING, "orbit: refusing to fork (%s): in this build the "
		  "dataset is in an orbit area, which a forked child does not "
		  "have%s", purpose == CHILD_TYPE_NONE ? "daemonize" : "child",
		  purpose == CHILD_TYPE_NONE ? " (run with --daemonize no)" : "");
	errno = ENOTSUP;
	return 1;
}

static void *bg_wait(void *unused)
{
	(void)unused;
	bg.rc = orbit_future_get(bg.f, &bg.ret);
	bg.err = errno;
	atomic_store(&bg.done, 1);
	return NULL;
}

int orbitRdbSaveBackground(int req, char *filename, rdbSaveInfo *rsi)
{
	struct orbit *ob = orbitPortGet(&bg_port);
	struct orbit_area *area = orbit_app_area();
	struct orbit_status st;
	struct bg_arg a;
	long long start;

	memset(&a, 0, sizeof(a));
	a.req = req;
	a.has_rsi = rsi != NULL;
	if (rsi)
		a.rsi = *rsi;
	if (strlen(filename) >= sizeof(a.filename)) {
		serverLog(LL_WARNING, "Can't save in background: file name too long");
		server.lastbgsave_status = C_ERR;
		return C_ERR;
	}
	strcpy(a.filename, filename);
	orbitPortCheck(&bg_port);

	start = ustime();
	if (orbit_sync_globals(ob) ||
	    !(bg.f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a)))) {
		server.lastbgsave_status = C_ERR;
		serverLog(LL_WARNING, "Can't save in background: orbit: %s",
			  strerror(errno));
		return C_ERR;
	}
	server.stat_fork_time = ustime() - start;
	server.stat_fork_rate = (double)zmalloc_used_memory() * 1000000 /
		(server.stat_fork_time ? server.stat_fork_time : 1) / (1024 * 1024 * 1024);
	latencyAddSampleIfNeeded("fork", server.stat_fork_time / 1000);

	atomic_store(&bg.done, 0);
	if (pthread_create(&bg.waiter, NULL, bg_wait, NULL)) {
		/* Without a waiter the end is found by waiting now. */
		bg.waiter = pthread_self();
		bg_wait(NULL);
	}
	bg.active = 1;
	/* The child's pid names its temp file (temp-<pid>.rdb). */
	server.child_pid = orbit_status(ob, &st) == 0 && st.pid > 0 ? st.pid : INT_MAX;
	server.child_type = CHILD_TYPE_RDB;
	server.stat_current_cow_peak = 0;
	server.stat_current_cow_bytes = 0;
	server.stat_current_cow_updated = 0;
	server.stat_current_save_keys_processed = 0;
	server.stat_module_progress = 0;
	server.stat_current_save_keys_total = dbTotalServerKeyCount();
	updateDictResizePolicy();
	serverLog(LL_NOTICE, "Background saving started in orbit (pid %ld), "
		  "snapshot in %lld us", (long)server.child_pid,
		  server.stat_fork_time);
	server.rdb_save_time_start = time(NULL);
	server.rdb_child_type = RDB_CHILD_TYPE_DISK;
	return C_OK;
}

/*
 * killRDBChild(): end the save as SIGUSR1 ends a child.  The signal goes
 * to the orbit's process as the module reports it now, never to a pid
 * kept from earlier; the end is found by orbitCheckChildrenDone().
 */
int orbitKillSave(void)
{
	struct orbit_status st;

	if (!bg.active)
		return 0;
	if (orbit_cancel(bg.f) && orbit_status(bg_port.ob, &st) == 0 && st.pid > 0)
		kill(st.pid, SIGUSR1);
	return 1;
}

int orbitCheckChildrenDone(void)
{
	int exitcode = 0, bysignal = 0;
	struct orbit_status st;
	char why[64];

	if (!bg.active)
		return 0;
	if (!atomic_load(&bg.done))
		return 1;
	if (!pthread_equal(bg.waiter, pthread_self()))
		pthread_join(bg.waiter, NULL);
	bg.active = 0;
	if (bg.rc == 0) {
		exitcode = bg.ret == 0 ? 0 : 1;
	} else {
		/* As a child's death: its signal, or SIGKILL for a timeout. */
		orbit_app_death(bg_port.ob, why, sizeof(why));
		if (bg.err == ECANCELED)
			bysignal = SIGUSR1;
		else if (orbit_status(bg_port.ob, &st) == 0 &&
		    st.last_death == ORBIT_DIED_SIGNAL)
			bysignal = st.last_death_code;
		else
			bysignal = SIGKILL;
		if (bysignal != SIGUSR1)
			serverLog(LL_WARNING, "orbit bgsave: the save task %s (%s)",
				  why, strerror(bg.err));
		orbitPortCheck(&bg_port);
	}
	backgroundSaveDoneHandler(exitcode, bysignal);
	resetChildState();
	replicationStartPendingFork();
	return 1;
}
