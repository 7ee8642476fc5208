// SPDX-License-Identifier: BSD-3-Clause
/*
 * orbit port of memcached: `lru_crawler metadump` from an orbit.
 *
 * Stock memcached walks the live cache in its crawler thread, item by
 * item under the cache's locks, and writes to the client from there.  The
 * port takes a snapshot instead: slab pages and the hash table are in the
 * ports' orbit area (orbit_app_heap.c).  The worker that reads the
 * command lends the connection to a thread of its own (struct md_dump, one
 * per dump, which owns the connection until it hands it back with
 * redispatch_conn(), as the crawler does).  That thread refreshes the
 * orbit's copy of the globals (settings, current_time...), holds off table
 * expansion and takes every item lock -- no item changes meanwhile --
 * issues one asynchronous call, which snapshots the area, and lets go of
 * the locks.  The task walks the snapshot's hash table in the orbit and
 * pushes the dump's lines as updates; the thread writes them to the
 * client and ends with END, or with a SERVER_ERROR line when the task
 * died.
 *
 * With ORBIT_MEMCACHED=off (or without orbits) the same walk runs in that
 * thread of main over the live table, bucket by bucket under the item
 * locks (memcached's own hash iterator): the stock architecture.
 *
 * Fault switches (tests): the walk meeting a key "orbit-fault:crash"
 * writes through a NULL pointer; one meeting "orbit-fault:hang" spins.
 */
#include "memcached.h"
#include "assoc.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <orbit.h>

#include "orbit_app_heap.h"
#include "orbit_app.h"
#include "orbit_memcached.h"

#define MD_CHUNK	(64 * 1024)	/* dump bytes per update */

/* What to dump: a class filter (all of them for "all" and "hash"). */
struct md_arg {
	void **table;
	uint32_t power;
	uint8_t cls[MAX_NUMBER_OF_SLAB_CLASSES];
};

/* Where lines go: updates (in the orbit) or the client's socket (in main). */
struct md_out {
	char buf[MD_CHUNK];
	size_t len;
	void (*flush)(struct md_out *o);
	int sfd;
	int failed;
};

/* One dump in progress; its thread frees it. */
struct md_dump {
	conn *c;
	struct orbit_future *f;	/* NULL: the walk runs in main */
	struct md_arg a;
	struct md_out out;
};

static long md_task(void *arg, void *store);
static struct orbit *md_orbit(void);

static struct {
	pthread_mutex_t lock;	/* ob, tried */
	struct orbit *ob;
	int tried;
} md = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- the walk (in the orbit, or in main with orbits off) ------------ */

static void md_put(struct md_out *o, const char *p, size_t n)
{
	if (o->len + n > sizeof(o->buf))
		o->flush(o);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

/* One item's line, in the format of memcached's metadump. */
static void md_item(struct md_out *o, item *it, const struct md_arg *a)
{
	char key[KEY_MAX_URI_ENCODED_LENGTH];
	char line[KEY_MAX_URI_ENCODED_LENGTH + 200];
	int n;

	orbit_app_fault(ITEM_key(it), it->nkey);
	if (!a->cls[ITEM_clsid(it)])
		return;
	if ((it->exptime != 0 && it->exptime < current_time) || item_is_flushed(it))
		return;
	if (!uriencode(ITEM_key(it), key, it->nkey, sizeof(key)))
		return;
	n = snprintf(line, sizeof(line),
		     "key=%s exp=%ld la=%llu cas=%llu fetch=%s cls=%u size=%lu\n",
		     key, it->exptime == 0 ? -1 : (long)(it->exptime + process_started),
		     (unsigned long long)(it->time + process_started),
		     (unsigned long long)ITEM_get_cas(it),
		     it->it_flags & ITEM_FETCHED ? "yes" : "no",
		     ITEM_clsid(it), (unsigned long)ITEM_ntotal(it));
	if (n > 0 && (size_t)n < sizeof(line))
		md_put(o, line, (size_t)n);
}

static void md_push(struct md_out *o)
{
	if (orbit_app_push_data(o->buf, o->len))
		o->failed = 1;
	o->len = 0;
}

/* In the orbit: the snapshot's table, bucket by bucket. */
static long md_task(void *arg, void *store)
{
	struct md_arg *a = arg;
	struct md_out *o = malloc(sizeof(*o));
	uint64_t b;
	item *it;
	long ret;

	(void)store;
	if (!o)
		return -ENOMEM;
	o->len = 0;
	o->failed = 0;
	o->flush = md_push;
	for (b = 0; b < ((uint64_t)1 << a->power); b++)
		for (it = a->table[b]; it; it = it->h_next)
			md_item(o, it, a);
	if (o->len)
		md_push(o);
	ret = o->failed ? -EIO : 0;
	free(o);
	return ret;
}

/* ---- main's side ---------------------------------------------------- */

/* Writes all of p to the client (its socket is non-blocking). */
static int md_write(int sfd, const char *p, size_t n)
{
	struct pollfd pfd = { .fd = sfd, .events = POLLOUT };
	ssize_t w;

	while (n) {
		w = write(sfd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (poll(&pfd, 1, 10000) <= 0)
				return -1;	/* a client that stopped reading */
		} else {
			return -1;
		}
	}
	return 0;
}

static void md_send(struct md_out *o)
{
	if (!o->failed && md_write(o->sfd, o->buf, o->len))
		o->failed = 1;	/* the client left: the rest is dropped */
	o->len = 0;
}

/*
 * The snapshot: every item lock held, table expansion held off.  In the
 * dump's thread, never in a worker: the maintenance thread holds
 * maintenance_lock while it pauses the workers for an expansion, so a
 * worker waiting for that lock would never pause.
 */
static int md_snapshot(struct md_dump *d, struct orbit *ob)
{
	struct orbit_area *area = orbit_app_area();
	uint32_t i, nlocks = 1U << item_lock_hashpower;
	int err;

	if (orbit_sync_globals(ob))
		return -1;
	d->a.table = orbit_assoc_hold(&d->a.power);
	for (i = 0; i < nlocks; i++)
		item_lock(i);
	d->f = orbit_call_async(ob, 0, 1, &area, NULL, &d->a, sizeof(d->a));
	err = errno;
	for (i = 0; i < nlocks; i++)
		item_unlock(i);
	orbit_assoc_release();
	errno = err;
	return d->f ? 0 : -1;
}

/* The dump's thread: the orbit's lines to the client, or the walk itself. */
static void *md_run(void *arg)
{
	struct md_dump *d = arg;
	struct orbit_update *u;
	const struct orbit_update_entry *e;
	struct orbit *ob = md_orbit();
	char msg[160], why[64];
	void *iter;
	item *it;
	long ret;

	if (ob && md_snapshot(d, ob)) {
		snprintf(msg, sizeof(msg), "SERVER_ERROR metadump orbit: %s\r\n",
			 strerror(errno));
		md_write(d->out.sfd, msg, strlen(msg));
	} else if (!ob) {
		iter = assoc_get_iterator();
		while (iter && assoc_iterate(iter, &it))
			if (it)
				md_item(&d->out, it, &d->a);
		if (iter)
			assoc_iterate_final(iter);
		md_send(&d->out);
		md_write(d->out.sfd, "END\r\n", 5);
	} else {
		while (pull_orbit(d->f, &u) == 1) {
			for (e = orbit_update_first(u); e; e = orbit_update_next(u, e))
				if (e->type == ORBIT_UPDATE_DATA && !d->out.failed &&
				    md_write(d->out.sfd, (const char *)e->data, e->len))
					d->out.failed = 1;
			orbit_update_free(u);
		}
		if (orbit_future_get(d->f, &ret) == 0 && ret == 0) {
			md_write(d->out.sfd, "END\r\n", 5);
		} else {
			orbit_app_death(md.ob, why, sizeof(why));
			snprintf(msg, sizeof(msg), "SERVER_ERROR metadump orbit: "
				 "the task %s; the dump is cut short\r\n", why);
			md_write(d->out.sfd, msg, strlen(msg));
			fprintf(stderr, "orbit metadump: the task %s; the orbit "
				"restarts, the server keeps serving\n", why);
		}
	}
	redispatch_conn(d->c);
	free(d);
	return NULL;
}

static struct orbit *md_orbit(void)
{
	struct orbit_attr attr;
	const char *env;

	pthread_mutex_lock(&md.lock);
	if (!md.tried && !orbit_app_off()) {
		md.tried = 1;
		if (!orbit_app_area()) {
			fprintf(stderr, "orbit metadump: no orbits (%s): the dump "
				"runs in the server\n", orbit_app_heap_error());
		} else if (!orbit_slabs_in_heap()) {
			fprintf(stderr, "orbit metadump: the slab memory is "
				"preallocated (-L) or a file (-e), not in the "
				"orbit area: the dump runs in the server\n");
		} else {
			orbit_attr_init(&attr);
			attr.restart = ORBIT_RESTART_ALWAYS;
			env = getenv("ORBIT_MEMCACHED_TIMEOUT_MS");
			attr.timeout_ns = (env ? strtoull(env, NULL, 10) : 600000) * 1000000ULL;
			md.ob = orbit_create_ex("memcached-dump", md_task, NULL, &attr);
			if (!md.ob)
				fprintf(stderr, "orbit metadump: orbit_create: %s: the "
					"dump runs in the server\n", strerror(errno));
		}
	}
	pthread_mutex_unlock(&md.lock);
	return md.ob;
}

/* The classes spec names, as lru_crawler takes them ("all", "hash", 1,2,...). */
static int md_classes(const char *spec, uint8_t *cls)
{
	char buf[256], *tok, *save = NULL;
	uint32_t id;

	if (!strcmp(spec, "all") || !strcmp(spec, "hash")) {
		memset(cls, 1, MAX_NUMBER_OF_SLAB_CLASSES);
		return 0;
	}
	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!safe_strtoul(tok, &id) || id < POWER_SMALLEST ||
		    id >= MAX_NUMBER_OF_SLAB_CLASSES)
			return -1;
		cls[id] = 1;
	}
	return 0;
}

int orbit_metadump(conn *c, const char *spec)
{
	pthread_attr_t tattr;
	struct md_dump *d;
	pthread_t t;

	d = calloc(1, sizeof(*d));
	if (!d) {
		out_string(c, "SERVER_ERROR out of memory");
		return 1;
	}
	if (md_classes(spec, d->a.cls)) {
		free(d);
		out_string(c, "BADCLASS invalid class id");
		return 1;
	}
	d->c = c;
	d->out.sfd = c->sfd;
	d->out.flush = md_send;
	/* The connection is the dump's until md_run() hands it back. */
	conn_set_state(c, conn_watch);
	event_del(&c->event);
	pthread_attr_init(&tattr);
	pthread_attr_setdetachstate(&tattr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &tattr, md_run, d)) {
		/* No thread (md_run must not run in a worker): give it back. */
		md_write(d->out.sfd, "SERVER_ERROR out of threads\r\n", 29);
		redispatch_conn(c);
		free(d);
	}
	pthread_attr_destroy(&tattr);
	return 1;
}

/* The ports' heap asks this only of a task resizing main's blocks: never here. */
size_t orbit_app_block_size(const void *ptr)
{
	(void)ptr;
	return 0;
}
