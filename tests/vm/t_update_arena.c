// SPDX-License-Identifier: GPL-2.0
/*
 * Update arenas: a task builds a linked list of entries with strings in
 * memory from orbit_update_alloc() and pushes it; main pulls it and walks
 * the list at the same addresses, then frees it.  Limits and misuse get
 * their documented errors: more than an update may hold (EMSGSIZE), a
 * fire-and-forget call (ENOSPC), outside a task (EPERM), a second arena
 * update at once (EBUSY).  Many calls in flight and updates kept across
 * calls never share memory; a pushed update with a forged address is
 * refused (EBADMSG), and nothing is left behind.
 */
#include <sys/ioctl.h>

#include "../../libuorbit/internal.h"	/* the task loop's descriptor */
#include "../../libuorbit/update.h"
#include "tap.h"
#include "util.h"

struct entry {
	struct entry *next;
	char *text;
	long n;
};

struct req {
	int what;
	int count;	/* entries */
	long base;	/* first n */
	size_t size;	/* for T_BIG */
};

enum { T_LIST, T_BIG, T_TWO, T_NOSLOT_PROBE, T_LAST, T_FORGE, T_FORGE_IN };

static long last_probe;

/* The list, built in arena memory; its head travels in a DATA entry. */
static long build(struct req *r, int push)
{
	struct orbit_update *u = orbit_update_create();
	struct entry *head = NULL, **tail = &head;
	int i;

	if (!u)
		return -1;
	for (i = 0; i < r->count; i++) {
		struct entry *e = orbit_update_alloc(u, sizeof(*e));
		char *t = orbit_update_alloc(u, 40);

		if (!e || !t) {
			long err = -1000 - errno;

			orbit_update_free(u);
			return err;
		}
		e->n = r->base + i;
		snprintf(t, 40, "entry %ld", e->n);
		e->text = t;
		e->next = NULL;
		*tail = e;
		tail = &e->next;
	}
	if (orbit_update_add_data(u, &head, sizeof(head)) ||
	    (push && orbit_push(u, NULL))) {
		orbit_update_free(u);
		return -2000 - errno;
	}
	if (!push)
		orbit_update_free(u);
	return (long)(uintptr_t)head;
}

/*
 * Raw pushes the library would never make: an arena update that claims an
 * address outside the call's slot, or (inside) an arena block that points
 * outside its entry.
 */
static long forge(int inside)
{
	struct orbit_update *u = orbit_update_create();
	struct orbit_update_entry *e;
	struct orbit_push p;
	char *blk = orbit_update_alloc(u, 64);
	unsigned char *copy;
	long ret;

	if (!blk)
		return -1;
	copy = malloc(u->len);
	memcpy(copy, u->buf, u->len);
	e = (struct orbit_update_entry *)copy;
	if (inside)	/* the ARENA entry's block, pointed far away */
		((struct orbit_update_entry *)(copy + 24))->addr = 0x1000;
	else		/* the BASE entry: main's first page */
		e->addr = 0x400000;
	memset(&p, 0, sizeof(p));
	p.buf = (uintptr_t)copy;
	p.len = u->len;
	ret = ioctl(uo_st.orbit_fd, ORBIT_IOC_PUSH, &p);
	free(copy);
	orbit_update_free(u);
	return ret;
}

static long task(void *argbuf, void *store)
{
	struct req *r = argbuf;
	struct orbit_update *u, *v;
	long ret;

	switch (r->what) {
	case T_LIST:
		return build(r, 1);
	case T_BIG:
		u = orbit_update_create();
		if (!orbit_update_alloc(u, r->size))
			ret = -1000 - errno;
		else
			ret = 0;
		orbit_update_free(u);
		return ret;
	case T_TWO:
		/* Two arena updates built at once: the second waits its turn. */
		u = orbit_update_create();
		v = orbit_update_create();
		ret = orbit_update_alloc(u, 16) && !orbit_update_alloc(v, 16) &&
		      errno == EBUSY;
		orbit_update_free(v);
		orbit_update_free(u);
		return ret;
	case T_NOSLOT_PROBE:
		u = orbit_update_create();
		ret = orbit_update_alloc(u, 16) ? 0 : errno;
		orbit_update_free(u);
		last_probe = ret;
		return ret;
	case T_LAST:
		return last_probe;
	case T_FORGE:
	case T_FORGE_IN:
		return forge(r->what == T_FORGE_IN);
	}
	return -1;
}

/* Walks a pulled list: every pointer inside the update, every entry right. */
static int walk(struct orbit_update *u, int count, long base)
{
	const struct orbit_update_entry *e = orbit_update_first(u);
	const unsigned char *lo = (const unsigned char *)e;
	const unsigned char *hi = lo + orbit_update_size(u);
	struct entry *x;
	char want[40];
	int i = 0;

	while (e && e->type != ORBIT_UPDATE_DATA)
		e = orbit_update_next(u, e);
	if (!e || e->len != sizeof(x))
		return 0;
	memcpy(&x, e->data, sizeof(x));
	for (; x; x = x->next, i++) {
		if ((unsigned char *)x < lo || (unsigned char *)x >= hi ||
		    (unsigned char *)x->text < lo || (unsigned char *)x->text >= hi)
			return 0;
		snprintf(want, sizeof(want), "entry %ld", base + i);
		if (x->n != base + i || strcmp(x->text, want))
			return 0;
	}
	return i == count;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_update *u, *kept[8];
	struct orbit_future *f[40];
	struct orbit *ob;
	struct req r = { T_LIST, 100, 0, 0 };
	long ret, head;
	int i, good;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("arena", task, NULL);
	require(ob != NULL, "orbit_create");

	head = orbit_call(ob, 0, NULL, NULL, &r, sizeof(r));
	ok(head > 0, "a task builds a 100-entry list in arena memory (%ld)", head);
	ok(pull_orbit(NULL, &u) == 1, "main pulls it");
	ok(walk(u, 100, 0), "main walks the list: pointers valid, texts right");
	ok((long)(uintptr_t)orbit_update_first(u) < head &&
	   head < (long)(uintptr_t)orbit_update_first(u) + (long)orbit_update_size(u),
	   "the list sits where the task built it");
	orbit_update_free(u);

	/* Calls in flight at once, and updates kept across calls. */
	for (i = 0; i < 8; i++) {
		r.base = 1000 * i;
		r.count = 10 + i;
		ret = orbit_call(ob, 0, NULL, NULL, &r, sizeof(r));
		kept[i] = ret > 0 && pull_orbit(NULL, &kept[i]) == 1 ? kept[i] : NULL;
	}
	for (i = 0; i < 40; i++) {
		struct req q = { T_LIST, 5, 100000 + i * 10, 0 };

		f[i] = orbit_call_async(ob, 0, 0, NULL, NULL, &q, sizeof(q));
	}
	for (good = 0, i = 0; i < 40; i++) {
		struct orbit_update *v;

		if (f[i] && pull_orbit(f[i], &v) == 1) {
			good += walk(v, 5, 100000 + i * 10);
			orbit_update_free(v);
		}
		if (f[i])
			orbit_future_get(f[i], NULL);
	}
	ok(good == 40, "40 async calls in flight: 40 lists intact (%d)", good);
	for (good = 0, i = 0; i < 8; i++) {
		good += kept[i] && walk(kept[i], 10 + i, 1000 * i);
		orbit_update_free(kept[i]);
	}
	ok(good == 8, "8 updates kept across those calls are intact (%d)", good);

	r.what = T_BIG;
	r.size = (16 << 20) + 1;
	ok(orbit_call(ob, 0, NULL, NULL, &r, sizeof(r)) == -1000 - EMSGSIZE,
	   "more than an update may hold: EMSGSIZE");
	r.size = 1 << 20;
	ok(orbit_call(ob, 0, NULL, NULL, &r, sizeof(r)) == 0,
	   "1 MiB of arena memory: fine");
	r.what = T_TWO;
	ok(orbit_call(ob, 0, NULL, NULL, &r, sizeof(r)) == 1,
	   "a second arena update while one is built: EBUSY");
	r.what = T_NOSLOT_PROBE;
	ok(orbit_call(ob, 0, NULL, NULL, &r, sizeof(r)) == 0,
	   "a sync call has an arena");
	u = orbit_update_create();
	ok(!orbit_update_alloc(u, 16) && errno == EPERM,
	   "orbit_update_alloc outside a task: EPERM");
	ok(!orbit_update_alloc(u, 0) && errno == EINVAL &&
	   !orbit_update_alloc(NULL, 8) && errno == EINVAL,
	   "size 0 or no update: EINVAL");
	orbit_update_free(u);
	/* A fire-and-forget call's task has no arena. */
	errno = 0;
	ok(orbit_call_async(ob, ORBIT_NOFUTURE, 0, NULL, NULL, &r, sizeof(r)) == NULL &&
	   errno == 0, "a fire-and-forget call");
	r.what = T_LAST;
	ok(orbit_call(ob, 0, NULL, NULL, &r, sizeof(r)) == ENOSPC,
	   "its task's orbit_update_alloc failed with ENOSPC");

	r.what = T_FORGE;
	ok(orbit_call(ob, 0, NULL, NULL, &r, sizeof(r)) == 0 &&
	   pull_orbit(NULL, &u) == -1 && errno == EBADMSG,
	   "an arena update claiming an address outside its slot: EBADMSG");
	r.what = T_FORGE_IN;
	ok(orbit_call(ob, 0, NULL, NULL, &r, sizeof(r)) == 0 &&
	   pull_orbit(NULL, &u) == -1 && errno == EBADMSG,
	   "an arena block pointing outside its entry: EBADMSG");
	r.what = T_LIST;
	r.count = 2;
	r.base = 5;
	ok(orbit_call(ob, 0, NULL, NULL, &r, sizeof(r)) > 0 &&
	   pull_orbit(NULL, &u) == 1 && walk(u, 2, 5),
	   "the next arena update arrives fine");
	orbit_update_free(u);

	ok(orbit_destroy(ob) == 0, "orbit_destroy");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
