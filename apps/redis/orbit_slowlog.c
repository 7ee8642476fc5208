// SPDX-License-Identifier: BSD-3-Clause
/*
 * orbit port of Redis: the slow log, kept in an orbit.
 *
 * Main turns each slow command into a record (the same trimming as
 * Redis: at most SLOWLOG_ENTRY_MAX_ARGC arguments, each at most
 * SLOWLOG_ENTRY_MAX_STRING bytes) and appends it to a batch in its own
 * memory; a batch goes to the orbit as one fire-and-forget call when it is
 * full, when its oldest record is 100 ms old, and before every SLOWLOG
 * command, so the orbit sees records in command order.  The orbit keeps
 * the log (its own heap: struct sl_log, made by its init, holds the
 * batches as they came, one allocation each) and answers
 * SLOWLOG GET with the reply's bytes as updates, LEN and RESET with a
 * return value.  Nothing of the dataset is needed: the calls pass no area.
 *
 * With ORBIT_REDIS=off (or without orbits) the same code keeps the log in
 * main, as stock Redis does.
 *
 * Fault switches (tests): a recorded command with an argument
 * "orbit-fault:crash" makes the task write through a NULL pointer, one with
 * "orbit-fault:hang" makes it spin forever.
 */
#include "server.h"
#include "slowlog.h"
#include "orbit_app_heap.h"
#include "orbit_app.h"
#include "orbit_redis.h"

/*
 * Bytes of records per call: the call's argument, header included, stays
 * within orbit.ko's default max_arg (64 KiB).  Every call switches the
 * server's CPU to the orbit and back; with every command logged, 16 KiB
 * batches were about 120 calls a second at 19,000 requests a second, 64
 * KiB batches of 104-byte records about 30 (a redis-benchmark SET is a
 * 72-byte record now).
 */
#define SL_BATCH	(64 * 1024 - sizeof(struct sl_call))
#define SL_BATCH_MS	100
#define SL_CNAME_MAX	4096		/* client name, peer id kept: bytes (u16) */
#define SL_UPDATE	(32 * 1024)	/* reply bytes per update */

/*
 * A record: this header, then peer id, client name, and argc arguments.
 * What all records of a batch share is in the batch's call header (struct
 * sl_call): the ids (consecutive from first_id), the time the first was
 * logged, and slowlog-max-len (a change of it starts a new batch).  Every
 * byte here is copied twice on its way to the orbit, so it stays small.
 */
struct sl_rec {
	int64_t duration;
	uint32_t len;		/* the whole record, bytes, 8-aligned */
	int32_t dtime;		/* logged at the batch's time + dtime, seconds */
	uint16_t argc, peer_len, name_len, reserved;
	unsigned char data[];	/* peer, name, then per argument u16 len + bytes */
};

/*
 * The log keeps the batches as they came: one allocation per batch, the
 * records' bytes and their offsets, the oldest still in the log at first.
 */
struct sl_batch {
	struct sl_batch *newer, *older;
	uint32_t n, first;	/* records; the oldest one still logged */
	int64_t id, time;	/* record 0's id; the batch's time */
	uint32_t *off;		/* n offsets into data */
	unsigned char *data;
};

/* The log: in the orbit's heap (or main's with orbits off). */
struct sl_log {
	struct sl_batch *newest, *oldest;
	unsigned long len;	/* records logged */
};

static const struct sl_rec *sl_rec_at(const struct sl_batch *b, uint32_t i)
{
	return (const struct sl_rec *)(b->data + b->off[i]);
}

/* A call's argument: this header, then (SL_RECORD) a batch of records. */
enum sl_op { SL_RECORD, SL_GET, SL_LEN, SL_RESET };
struct sl_call {
	uint32_t op;
	uint32_t reserved;
	int64_t count;		/* SL_GET: entries; SL_RECORD: batch bytes */
	/* SL_RECORD: */
	int64_t id;		/* the first record's id; the others follow it */
	int64_t time;		/* when the first was logged (unix seconds) */
	uint64_t max_len;	/* slowlog-max-len for all of them */
};

/*
 * Main's side: the batch, built right behind its call header so that it
 * goes to the orbit as it is, and the log when the task runs in main.
 */
static struct {
	struct {
		struct sl_call call;
		unsigned char buf[SL_BATCH];
	} batch;
	size_t used;
	long long first_ms;
	struct sl_log local;
} sl;

static long sl_task(void *arg, void *store);
static void *sl_init(void);

static struct orbit_port sl_port = {
	.name = "slowlog",
	.entry = sl_task,
	.init = sl_init,
	.timeout_env = "ORBIT_REDIS_SLOWLOG_TIMEOUT_MS",
	.timeout_ms = 1000,
};

/* ---- the task (in the orbit, or in main with orbits off) ---------------- */

static void *sl_init(void)
{
	return zcalloc(sizeof(struct sl_log));
}

/* The oldest record leaves the log; an emptied batch is freed. */
static void sl_drop_oldest(struct sl_log *log)
{
	struct sl_batch *b = log->oldest;

	log->len--;
	if (++b->first < b->n)
		return;
	log->oldest = b->newer;
	if (log->oldest)
		log->oldest->older = NULL;
	else
		log->newest = NULL;
	zfree(b);
}

/* A record's argument at *p (u16 length, bytes): its bytes; *p moves on. */
static const unsigned char *sl_next_arg(const unsigned char **p, uint16_t *n)
{
	const unsigned char *arg = *p + 2;

	memcpy(n, *p, 2);
	*p = arg + *n;
	return arg;
}

static void sl_check_faults(const struct sl_rec *r)
{
	const unsigned char *p = r->data + r->peer_len + r->name_len, *arg;
	uint16_t i, n;

	for (i = 0; i < r->argc; i++) {
		arg = sl_next_arg(&p, &n);
		orbit_app_fault(arg, n);
	}
}

/*
 * A batch of records, oldest first, logged as Redis logs them one by one
 * (each trims the log to its slowlog-max-len).  The log is always the
 * newest records, so how many remain is counted first and only those are
 * copied: with every command logged, a batch holds several times the
 * default 128.
 */
static void sl_record(struct sl_log *log, const struct sl_call *c,
		      const unsigned char *data)
{
	const struct sl_rec *r;
	unsigned long len;
	struct sl_batch *b;
	uint32_t count = 0, keep, i;
	size_t off, from = 0, n = (size_t)c->count;

	for (off = 0; off + sizeof(*r) <= n; off += r->len, count++) {
		r = (const struct sl_rec *)(data + off);
		if (r->len < sizeof(*r) || r->len > n - off)
			break;
		sl_check_faults(r);
	}
	n = off;
	/* Each record trims the log to max_len as Redis's push does. */
	len = log->len + count < c->max_len ? log->len + count : c->max_len;
	keep = len < count ? (uint32_t)len : count;
	b = NULL;
	if (keep) {
		for (i = 0; i < count - keep; i++)
			from += ((const struct sl_rec *)(data + from))->len;
		b = ztrymalloc(sizeof(*b) + keep * sizeof(uint32_t) + (n - from));
		if (!b)
			return;	/* out of memory: the batch is not logged */
	}
	while (log->len > len - keep)
		sl_drop_oldest(log);
	if (!b)
		return;
	b->off = (uint32_t *)(b + 1);
	b->data = (unsigned char *)(b->off + keep);
	memcpy(b->data, data + from, n - from);
	for (off = 0, i = 0; i < keep; i++, off += r->len) {
		r = (const struct sl_rec *)(b->data + off);
		b->off[i] = (uint32_t)off;
	}
	b->n = keep;
	b->first = 0;
	b->id = c->id + (count - keep);
	b->time = c->time;
	b->newer = NULL;
	b->older = log->newest;
	if (log->newest)
		log->newest->newer = b;
	else
		log->oldest = b;
	log->newest = b;
	log->len += keep;
}

struct sl_out {
	char *buf;
	size_t len, cap;
	void (*flush)(struct sl_out *o);
	client *c;		/* in main: the client replied to */
	int failed;
};

static void sl_put(struct sl_out *o, const void *p, size_t n)
{
	while (n) {
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;

		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p = (const char *)p + k;
		n -= k;
		if (o->len == o->cap)
			o->flush(o);
	}
}

static void sl_putf(struct sl_out *o, const char *fmt, long long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), fmt, v);

	sl_put(o, tmp, (size_t)n);
}

static void sl_bulk(struct sl_out *o, const unsigned char *p, uint32_t n)
{
	sl_putf(o, "$%lld\r\n", n);
	sl_put(o, p, n);
	sl_put(o, "\r\n", 2);
}

/* SLOWLOG GET: count entries, newest first, as RESP; returns how many. */
static long sl_get(struct sl_log *log, long count, struct sl_out *o)
{
	const struct sl_batch *b;
	long sent = 0;
	uint32_t i;

	for (b = log->newest; b && count; b = b->older) {
		for (i = b->n; i-- > b->first && count; count--, sent++) {
			const struct sl_rec *r = sl_rec_at(b, i);
			const unsigned char *p = r->data + r->peer_len + r->name_len;
			uint32_t j;
			uint16_t n;

			sl_put(o, "*6\r\n", 4);
			sl_putf(o, ":%lld\r\n", b->id + i);
			sl_putf(o, ":%lld\r\n", b->time + r->dtime);
			sl_putf(o, ":%lld\r\n", r->duration);
			sl_putf(o, "*%lld\r\n", r->argc);
			for (j = 0; j < r->argc; j++) {
				const unsigned char *arg = sl_next_arg(&p, &n);

				sl_bulk(o, arg, n);
			}
			sl_bulk(o, r->data, r->peer_len);
			sl_bulk(o, r->data + r->peer_len, r->name_len);
		}
	}
	if (o->len)
		o->flush(o);
	return sent;
}

static void sl_reset(struct sl_log *log)
{
	while (log->len)
		sl_drop_oldest(log);
}

static void sl_push_out(struct sl_out *o)
{
	if (orbit_app_push_data(o->buf, o->len))
		o->failed = 1;
	o->len = 0;
}

static long sl_task(void *arg, void *store)
{
	struct sl_call *call = arg;
	struct sl_log *log = store;
	char buf[SL_UPDATE];
	struct sl_out o = { .buf = buf, .cap = sizeof(buf), .flush = sl_push_out };
	long n;

	if (!log)
		return -ENOMEM;
	switch (call->op) {
	case SL_RECORD:	/* the argument's size is the batch's */
		sl_record(log, call, (const unsigned char *)(call + 1));
		return 0;
	case SL_GET:
		n = sl_get(log, (long)call->count, &o);
		return o.failed ? -EIO : n;
	case SL_LEN:
		return (long)log->len;
	case SL_RESET:
		sl_reset(log);
		return 0;
	}
	return -EINVAL;
}

/* ---- main's side -------------------------------------------------------- */

static struct orbit *sl_orbit(void)
{
	return orbitPortGet(&sl_port);
}

/* Sends the batch (one fire-and-forget call), or records it in main. */
static void sl_flush(void)
{
	struct orbit *ob;

	if (!sl.used)
		return;
	ob = sl_orbit();
	sl.batch.call.op = SL_RECORD;
	sl.batch.call.count = (int64_t)sl.used;
	if (!ob) {
		sl_record(&sl.local, &sl.batch.call, sl.batch.buf);
	} else {
		if (!orbit_call_async(ob, ORBIT_NOFUTURE, 0, NULL, NULL, &sl.batch,
				      (size_t)(sl.batch.buf - (unsigned char *)&sl.batch) +
				      sl.used) &&
		    errno) {
			serverLog(LL_WARNING, "orbit slowlog: a batch of slow "
				  "commands was dropped: %s", strerror(errno));
		}
		orbitPortCheck(&sl_port);
	}
	sl.used = 0;
}

static size_t sl_align(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* An argument as the log shows it: trimmed as Redis trims it. */
static size_t sl_arg(robj *o, char *tmp, size_t tmplen, const char **p)
{
	if (o->type == OBJ_STRING && sdsEncodedObject(o)) {
		*p = o->ptr;
		return sdslen(o->ptr);
	}
	if (o->type == OBJ_STRING && o->encoding == OBJ_ENCODING_INT) {
		*p = tmp;
		return (size_t)ll2string(tmp, tmplen, (long)o->ptr);
	}
	*p = "";
	return 0;
}

int orbitSlowlogPush(client *c, robj **argv, int argc, long long duration)
{
	const char *peer = getClientPeerId(c), *name = "";
	size_t peer_len = strlen(peer), name_len = 0, len;
	int slargc = argc < SLOWLOG_ENTRY_MAX_ARGC ? argc : SLOWLOG_ENTRY_MAX_ARGC;
	unsigned char *w;
	struct sl_rec *r;
	char tmp[64], more[64];
	time_t now;
	int j;

	if (server.slowlog_log_slower_than < 0 ||
	    duration < server.slowlog_log_slower_than)
		return 1;
	if (c->name) {
		name = c->name->ptr;
		name_len = sdslen(c->name->ptr);
		if (name_len > SL_CNAME_MAX)
			name_len = SL_CNAME_MAX;
	}
	if (peer_len > SL_CNAME_MAX)
		peer_len = SL_CNAME_MAX;
	/* Room for the record at its largest. */
	len = sizeof(*r) + peer_len + name_len +
	      (size_t)slargc * (2 + SLOWLOG_ENTRY_MAX_STRING + sizeof(more));
	len = sl_align(len);
	if (sl.used && (sl.used + len > SL_BATCH ||
			server.mstime - sl.first_ms >= SL_BATCH_MS ||
			(uint64_t)server.slowlog_max_len != sl.batch.call.max_len))
		sl_flush();
	if (len > SL_BATCH)
		return 1;	/* cannot happen with the limits above */
	now = time(NULL);
	if (!sl.used) {
		sl.first_ms = server.mstime;
		sl.batch.call.id = server.slowlog_entry_id;
		sl.batch.call.time = now;
		sl.batch.call.max_len = (uint64_t)server.slowlog_max_len;
	}
	r = (struct sl_rec *)(sl.batch.buf + sl.used);
	server.slowlog_entry_id++;
	r->duration = duration;
	r->dtime = (int32_t)(now - sl.batch.call.time);
	r->argc = (uint16_t)slargc;
	r->peer_len = (uint16_t)peer_len;
	r->name_len = (uint16_t)name_len;
	r->reserved = 0;
	w = r->data;
	memcpy(w, peer, peer_len);
	w += peer_len;
	memcpy(w, name, name_len);
	w += name_len;
	for (j = 0; j < slargc; j++) {
		const char *p;
		size_t n;
		uint16_t n16;

		if (slargc != argc && j == slargc - 1) {
			n = (size_t)snprintf(more, sizeof(more),
					     "... (%d more arguments)",
					     argc - slargc + 1);
			p = more;
		} else {
			n = sl_arg(argv[j], tmp, sizeof(tmp), &p);
		}
		if (n > SLOWLOG_ENTRY_MAX_STRING) {
			n16 = (uint16_t)(SLOWLOG_ENTRY_MAX_STRING +
				snprintf(more, sizeof(more), "... (%lu more bytes)",
					 (unsigned long)(n - SLOWLOG_ENTRY_MAX_STRING)));
			memcpy(w + 2, p, SLOWLOG_ENTRY_MAX_STRING);
			memcpy(w + 2 + SLOWLOG_ENTRY_MAX_STRING, more,
			       n16 - SLOWLOG_ENTRY_MAX_STRING);
		} else {
			n16 = (uint16_t)n;
			memcpy(w + 2, p, n);
		}
		memcpy(w, &n16, 2);	/* as sl_next_arg reads it */
		w += 2 + n16;
	}
	r->len = (uint32_t)sl_align((size_t)(w - (unsigned char *)r));
	sl.used += r->len;
	if (!sl_orbit())
		sl_flush();	/* in main: at once, as stock Redis */
	return 1;
}

/* Main's end of a SLOWLOG GET: the reply's bytes, straight to the client. */
static void sl_reply_out(struct sl_out *o)
{
	addReplyProto(o->c, o->buf, o->len);
	o->len = 0;
}

static void sl_failed(client *c, const char *what)
{
	char why[64];

	orbitPortCheck(&sl_port);
	addReplyErrorFormat(c, "slowlog orbit failed (%s): the task %s; it "
			    "restarts with an empty log", what,
			    orbit_app_death(sl_port.ob, why, sizeof(why)));
}

int orbitSlowlogCommand(client *c)
{
	struct sl_call call = { 0 };
	struct orbit_update *u;
	const struct orbit_update_entry *e;
	struct orbit *ob;
	long count = 10, r;
	void *arraylen;

	if (c->argc == 2 && !strcasecmp(c->argv[1]->ptr, "help"))
		return 0;	/* Redis's own help text */
	if (c->argc == 2 && !strcasecmp(c->argv[1]->ptr, "reset"))
		call.op = SL_RESET;
	else if (c->argc == 2 && !strcasecmp(c->argv[1]->ptr, "len"))
		call.op = SL_LEN;
	else if ((c->argc == 2 || c->argc == 3) &&
		 !strcasecmp(c->argv[1]->ptr, "get"))
		call.op = SL_GET;
	else
		return 0;	/* Redis's own syntax error */
	if (call.op == SL_GET && c->argc == 3 &&
	    getRangeLongFromObjectOrReply(c, c->argv[2], -1, LONG_MAX, &count,
			"count should be greater than or equal to -1") != C_OK)
		return 1;
	call.count = count == -1 ? LLONG_MAX : count;
	sl_flush();
	ob = sl_orbit();
	if (!ob) {
		/* The log is main's. */
		char buf[SL_UPDATE];
		struct sl_out o = { .buf = buf, .cap = sizeof(buf),
				    .flush = sl_reply_out, .c = c };

		if (call.op == SL_RESET) {
			sl_reset(&sl.local);
			addReply(c, shared.ok);
		} else if (call.op == SL_LEN) {
			addReplyLongLong(c, (long long)sl.local.len);
		} else {
			arraylen = addReplyDeferredLen(c);
			setDeferredArrayLen(c, arraylen, sl_get(&sl.local, (long)call.count, &o));
		}
		return 1;
	}
	r = orbit_call(ob, 0, NULL, NULL, &call, sizeof(call));
	if (r == -1 && errno) {
		sl_failed(c, strerror(errno));
		return 1;
	}
	orbitPortCheck(&sl_port);
	if (r < 0) {
		addReplyErrorFormat(c, "slowlog orbit: %s", strerror((int)-r));
		return 1;
	}
	if (call.op == SL_RESET) {
		addReply(c, shared.ok);
	} else if (call.op == SL_LEN) {
		addReplyLongLong(c, r);
	} else {
		addReplyArrayLen(c, r);
		while (pull_orbit(NULL, &u) == 1) {
			for (e = orbit_update_first(u); e; e = orbit_update_next(u, e))
				if (e->type == ORBIT_UPDATE_DATA)
					addReplyProto(c, (const char *)e->data, e->len);
			orbit_update_free(u);
		}
	}
	return 1;
}
