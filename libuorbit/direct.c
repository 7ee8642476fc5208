// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Direct calls (ORBIT_DIRECT): a call path that leaves the module out.  Main
 * copies the areas a call names into a slot of a ring it shares with the
 * orbit (a memfd, mapped read-write by both); the orbit copies them to the
 * areas' addresses in its own memory, runs the task, and writes its result
 * and its updates into the slot.  Each side posts a counter and wakes the
 * other with a futex only when the other sleeps, so a busy peer costs no
 * system call.  Main reads the slot as untrusted input: it copies a reply
 * out before it looks at it and validates updates as a pull from the module
 * does; orbit_apply() keeps the module's check of every modification.  A
 * wait is bounded: on every expiry main asks the module whether the orbit
 * still lives (ESRCH when it does not), so an orbit's death never hangs
 * main.
 *
 * A dead orbit's calls not answered fail with ESRCH; its restart policy
 * applies at the next call, whose new process serves the same ring.
 *
 * Call timeouts are main's: a wait, or a call, that finds the call the
 * orbit runs older than the orbit's timeout kills the orbit's process
 * (through a pidfd, so never another process); that call fails with
 * ETIMEDOUT, the calls queued behind it with ESRCH.  Main times a call
 * from its post, or from the moment main first saw the orbit done with
 * the call before it, whichever is later: never from before the call
 * started, so a timeout may come late (main looks on a call, and every
 * UO_RING_WAIT_MS of a wait) but never early.
 *
 * Limits: a call names at most UO_RING_AREAS areas, copied up to what
 * their allocator carved, UO_RING_REQ bytes with the argument (E2BIG
 * beyond); at most UO_RING_SLOTS calls are posted and not collected
 * (EAGAIN beyond); no ORBIT_LATEST (EINVAL), no cancel (EOPNOTSUPP), no
 * arena updates (orbit_update_alloc()'s memory: the push says EINVAL).
 *
 * Ownership: main's struct uo_ring holds one reference for its orbit
 * handle (dropped by orbit_destroy) and one per future of a direct call
 * not yet collected; the last frees it.  A call's slot stays taken until
 * orbit_future_get() collects it (a fire-and-forget call's, until the
 * orbit answered it; a call whose orbit died, for good).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "update.h"

#define UO_RING_SLOTS	32
#define UO_RING_SLOT	(64UL << 10)	/* bytes a slot */
#define UO_RING_REPLY	(16UL << 10)	/* of which the reply's */
#define UO_RING_REQ	(UO_RING_SLOT - UO_RING_REPLY - sizeof(struct slot_hdr))
#define UO_RING_MAGIC	0x6f726264u	/* "orbd" */
#define UO_RING_WAIT_MS	10		/* main's liveness check period */

/* The ring's first page. */
struct ring_hdr {
	uint32_t magic;
	uint32_t posted;	/* calls main posted (main writes) */
	uint32_t done;		/* calls the orbit answered (orbit writes) */
	int32_t orbit_sleeps;	/* the orbit waits on posted (0 or 1) */
	int32_t main_sleeps;	/* main's threads that wait on done */
	uint32_t queue[UO_RING_SLOTS];	/* call seq's slot: queue[seq % N] */
};

/* A slot: the request (main writes), then the reply (the orbit writes). */
struct slot_hdr {
	uint32_t kind;		/* SLOT_CALL, or SLOT_MODULE: a call waits there */
	uint32_t pad;
	uint64_t func;		/* func_once, or 0 for the entry */
	uint32_t argsize;
	uint32_t narea;		/* struct slot_area records after the header */
	int64_t retval;		/* reply */
	int32_t error;		/* reply: 0 or an errno value */
	uint32_t reply_len;	/* reply: bytes of updates at reply */
};

#define SLOT_CALL	0
#define SLOT_MODULE	1

struct slot_area {
	uint64_t base;
	uint64_t len;
};

#define SLOT_FUTURE	1
#define SLOT_NOFUTURE	2

struct uo_ring {
	int fd;
	unsigned char *map;
	size_t size;
	uint32_t orbit_id;
	int observe;		/* ORBIT_OBSERVE_ONLY: replies' updates dropped */
	pthread_mutex_t lock;	/* posts; taken[]; refs */
	unsigned int refs;	/* the handle's, and one per future */
	uint32_t posted;	/* main's own count (the ring's is the orbit's too) */
	uint32_t gen;		/* the generation of the process serving it */
	int dead;		/* a wait found that process dead */
	/*
	 * Main's own records (the ring's copies may change under it): the
	 * slot of each call in the queue, the call in each slot, and per
	 * slot SLOT_FUTURE (posted, not collected) or SLOT_NOFUTURE (free
	 * once answered), and whether its call died with its process.
	 */
	uint32_t queue[UO_RING_SLOTS];
	uint32_t slot_seq[UO_RING_SLOTS];
	uint64_t post_ns[UO_RING_SLOTS];	/* when the slot's call came */
	unsigned char taken[UO_RING_SLOTS];
	unsigned char failed[UO_RING_SLOTS];	/* ESRCH or ETIMEDOUT */
	/* Call timeouts (the orbit's timeout_ns, 0: none). */
	uint64_t timeout_ns;
	uint32_t head;		/* the call main last saw the orbit on */
	uint64_t head_since;	/* when main saw that first */
	int timed_out;		/* main killed the process for call timed_seq */
	uint32_t timed_seq;
	int last_timeout;	/* the process before this one: timed out */
	uint32_t lost;		/* calls that died with their process */
};

static size_t ring_size(void)
{
	return (size_t)getpagesize() + UO_RING_SLOTS * UO_RING_SLOT;
}

static struct ring_hdr *hdr(unsigned char *map)
{
	return (struct ring_hdr *)map;
}

static unsigned char *slot_at(unsigned char *map, uint32_t idx)
{
	return map + getpagesize() + (size_t)idx * UO_RING_SLOT;
}

static unsigned char *reply_at(unsigned char *slot)
{
	return slot + UO_RING_SLOT - UO_RING_REPLY;
}

static int orbit_alive(uint32_t id, uint32_t gen, uint32_t *now);

/* Publishes *ctr = val; wakes the side that sleeps on it, if one does. */
static void post(uint32_t *ctr, int32_t *sleeps, uint32_t val)
{
	__atomic_store_n(ctr, val, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(sleeps, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, ctr, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/*
 * Sleeps while *ctr == seen, at most ms milliseconds (0: no bound), counted
 * in *sleeps meanwhile so that post() wakes it; 0 when it changed (or a
 * wakeup came), ETIMEDOUT when the bound passed first.
 */
static int wait_change(uint32_t *ctr, int32_t *sleeps, uint32_t seen, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	int err = 0;

	__atomic_add_fetch(sleeps, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(ctr, __ATOMIC_SEQ_CST) == seen &&
	    syscall(SYS_futex, ctr, FUTEX_WAIT, seen, ms ? &ts : NULL,
		    NULL, 0) < 0 && errno == ETIMEDOUT)
		err = ETIMEDOUT;
	__atomic_sub_fetch(sleeps, 1, __ATOMIC_SEQ_CST);
	return err;
}

/* Drops a reference; the last frees the ring. */
static void ring_put(struct uo_ring *r)
{
	unsigned int left;

	pthread_mutex_lock(&r->lock);
	left = --r->refs;
	pthread_mutex_unlock(&r->lock);
	if (left)
		return;
	munmap(r->map, r->size);
	close(r->fd);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- main --------------------------------------------------------------- */

int uo_ring_new(struct orbit *ob)
{
	struct uo_ring *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -1;
	r->size = ring_size();
	r->fd = memfd_create("orbit-ring", MFD_CLOEXEC);
	if (r->fd < 0 || ftruncate(r->fd, (off_t)r->size) < 0)
		goto fail;
	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      r->fd, 0);
	if (r->map == MAP_FAILED)
		goto fail;
	madvise(r->map, r->size, MADV_DONTFORK);	/* not a fork child's */
	hdr(r->map)->magic = UO_RING_MAGIC;
	pthread_mutex_init(&r->lock, NULL);
	r->refs = 1;
	r->timeout_ns = ob->attr.timeout_ns;
	r->observe = !!(ob->attr.flags & ORBIT_OBSERVE_ONLY);
	ob->ring = r;
	return 0;
fail:
	err = errno;
	if (r->fd >= 0)
		close(r->fd);
	free(r);
	errno = err;
	return -1;
}

/* The handle's reference: futures not yet collected keep the ring. */
void uo_ring_free(struct uo_ring *r)
{
	if (r)
		ring_put(r);
}

int uo_ring_fd(const struct uo_ring *r)
{
	return r->fd;
}

/* In a fork child of main: the ring's descriptor goes (MADV_DONTFORK: no map). */
void uo_ring_forget(struct uo_ring *r)
{
	close(r->fd);
	r->fd = -1;
}

/*
 * Is slot idx free?  A fire-and-forget call's is once the orbit answered
 * it (the ring's count says so: a lie only hurts the orbit's own reading
 * of the slot).
 */
static int slot_free_locked(struct uo_ring *r, uint32_t idx)
{
	if (r->taken[idx] == SLOT_NOFUTURE &&
	    (int32_t)(__atomic_load_n(&hdr(r->map)->done, __ATOMIC_SEQ_CST) -
		      r->slot_seq[idx]) > 0)
		r->taken[idx] = 0;
	return !r->taken[idx];
}

/*
 * A free slot for the next call, as kind (SLOT_FUTURE or SLOT_NOFUTURE):
 * its index, or -1 when UO_RING_SLOTS calls hold one (not collected, or
 * not answered).  The slots are taken in any order, the calls queued in
 * order: the queue has room as every call in it holds a slot.
 */
static int slot_claim_locked(struct uo_ring *r, unsigned char kind)
{
	uint32_t i;

	if (r->dead)
		return -1;
	for (i = 0; i < UO_RING_SLOTS; i++)
		if (slot_free_locked(r, i)) {
			r->taken[i] = kind;
			r->failed[i] = 0;
			r->slot_seq[i] = r->posted;
			return (int)i;
		}
	return -1;
}

/* Queues the call in slot idx, the next in order, and wakes the orbit. */
static void slot_post_locked(struct uo_ring *r, uint32_t idx)
{
	struct ring_hdr *h = hdr(r->map);
	uint32_t seq = r->posted;

	r->queue[seq % UO_RING_SLOTS] = idx;
	h->queue[seq % UO_RING_SLOTS] = idx;
	r->posted = seq + 1;
	post(&h->posted, &h->orbit_sleeps, seq + 1);
}

/* A slot could not be claimed: why, as an errno value. */
static int claim_error(struct orbit *ob)
{
	struct uo_ring *r = ob->ring;
	int dead;

	pthread_mutex_lock(&r->lock);
	dead = r->dead;
	pthread_mutex_unlock(&r->lock);
	if (!dead && orbit_alive(ob->id, r->gen, NULL))
		return EAGAIN;	/* UO_RING_SLOTS calls not collected */
	pthread_mutex_lock(&r->lock);
	r->dead = 1;
	pthread_mutex_unlock(&r->lock);
	return ESRCH;	/* restarted per policy by the caller */
}

/*
 * The library queued a call in the module (main's globals, now): a slot
 * in the ring, fire-and-forget, has the orbit take it there, in order.
 */
int uo_ring_module_call(struct orbit *ob)
{
	struct uo_ring *r = ob->ring;
	struct slot_hdr *sh;
	int idx;

	pthread_mutex_lock(&r->lock);
	idx = slot_claim_locked(r, SLOT_NOFUTURE);
	if (idx < 0) {
		pthread_mutex_unlock(&r->lock);
		errno = claim_error(ob);
		return -1;
	}
	sh = (struct slot_hdr *)slot_at(r->map, (uint32_t)idx);
	memset(sh, 0, sizeof(*sh));
	sh->kind = SLOT_MODULE;
	slot_post_locked(r, (uint32_t)idx);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/*
 * The module's word on the orbit: 1 if the process of generation gen
 * lives (or the module cannot say), 0 if it is gone; *now gets the
 * generation of the orbit's process now, if not NULL.
 */
static int orbit_alive(uint32_t id, uint32_t gen, uint32_t *now)
{
	struct orbit_query q;
	int fd = uo_ctx_fd();

	if (fd < 0)
		return 1;
	memset(&q, 0, sizeof(q));
	q.id = id;
	if (ioctl(fd, ORBIT_IOC_QUERY, &q) < 0)
		return errno != ENOENT;
	if (now)
		*now = q.gen;
	return q.state != ORBIT_STATE_DEAD && q.gen == gen;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * SIGKILL to the process of generation gen of orbit id, if it is still
 * that one's: the pid is taken for a pidfd, then checked again.
 */
static void orbit_kill(uint32_t id, uint32_t gen)
{
	struct orbit_query q, again;
	int fd = uo_ctx_fd(), pfd;

	memset(&q, 0, sizeof(q));
	q.id = id;
	if (fd < 0 || ioctl(fd, ORBIT_IOC_QUERY, &q) < 0 || q.pid <= 0 ||
	    q.gen != gen || q.state == ORBIT_STATE_DEAD)
		return;
	pfd = (int)syscall(SYS_pidfd_open, q.pid, 0);
	if (pfd < 0)
		return;
	again = q;
	if (ioctl(fd, ORBIT_IOC_QUERY, &again) == 0 && again.pid == q.pid &&
	    again.gen == gen && again.state != ORBIT_STATE_DEAD)
		syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
	close(pfd);
}

/*
 * The call timeout (r->timeout_ns set): times the call the orbit runs,
 * the first it has not answered (see the top of this file), and kills
 * the process that holds it too long.
 */
static void ring_timeout_locked(struct uo_ring *r)
{
	uint32_t d = __atomic_load_n(&hdr(r->map)->done, __ATOMIC_SEQ_CST);
	uint64_t t, start;

	if (!r->timeout_ns || r->dead || r->timed_out)
		return;
	t = now_ns();
	if (d != r->head || !r->head_since) {
		r->head = d;
		r->head_since = t;
	}
	if (r->posted - d - 1 >= UO_RING_SLOTS)
		return;		/* no call running (or a count not main's) */
	start = r->post_ns[r->queue[d % UO_RING_SLOTS]];
	if (start < r->head_since)
		start = r->head_since;
	if (t - start < r->timeout_ns)
		return;
	r->timed_out = 1;
	r->timed_seq = d;
	orbit_kill(r->orbit_id, r->gen);
}

/* How a call of the dead process that did not answer it fails. */
static int death_error(struct uo_ring *r, uint32_t seq)
{
	return r->timed_out && r->timed_seq == seq ? ETIMEDOUT : ESRCH;
}

/*
 * After the ring's process died, before the next one starts (main's
 * lock on the orbit held): every call it did not answer fails with
 * ESRCH (ETIMEDOUT for the call main killed it for), and the next
 * process starts with the counters at main's count.
 * What the dead process wrote is not trusted: the calls main posted in
 * the last UO_RING_SLOTS, from its count of answers on, fail.
 */
int uo_ring_restarting(struct orbit *ob)
{
	struct uo_ring *r = ob->ring;
	struct ring_hdr *h = hdr(r->map);
	uint32_t done, seq, i;

	pthread_mutex_lock(&r->lock);
	done = __atomic_load_n(&h->done, __ATOMIC_SEQ_CST);
	if ((uint32_t)(r->posted - done) > UO_RING_SLOTS)
		done = r->posted - UO_RING_SLOTS;	/* nonsense: all */
	r->lost += r->posted - done;
	for (seq = done; seq != r->posted; seq++) {
		i = r->queue[seq % UO_RING_SLOTS];
		if (r->taken[i] == SLOT_FUTURE && r->slot_seq[i] == seq)
			r->failed[i] = (unsigned char)death_error(r, seq);
	}
	for (i = 0; i < UO_RING_SLOTS; i++)
		if (r->taken[i] == SLOT_NOFUTURE)
			r->taken[i] = 0;	/* answered: free */
	h->posted = r->posted;
	h->done = r->posted;
	h->orbit_sleeps = 0;
	r->head_since = 0;
	r->last_timeout = r->timed_out;
	r->timed_out = 0;
	r->dead = 1;	/* until uo_ring_started() */
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/* After a process started for the ring: the generation it serves. */
void uo_ring_started(struct orbit *ob)
{
	uint32_t gen = 0;

	orbit_alive(ob->id, 0, &gen);
	pthread_mutex_lock(&ob->ring->lock);
	ob->ring->orbit_id = ob->id;
	ob->ring->gen = gen;
	ob->ring->dead = 0;
	pthread_mutex_unlock(&ob->ring->lock);
}

/*
 * orbit_status() of a direct orbit: the calls are the ring's (the
 * module's, the copies of globals, added), and a process main killed
 * for a call timeout died of ORBIT_DIED_TIMEOUT.
 */
void uo_ring_status(struct uo_ring *r, struct orbit_status *st)
{
	uint32_t done;
	int timeout;

	pthread_mutex_lock(&r->lock);
	done = __atomic_load_n(&hdr(r->map)->done, __ATOMIC_SEQ_CST);
	if (r->posted - done > UO_RING_SLOTS)
		done = r->posted;	/* a count not main's */
	st->calls_done += done - r->lost;
	st->calls_queued += r->posted - done;
	st->calls_failed += r->lost;
	timeout = st->state == ORBIT_STATUS_DEAD ? r->timed_out :
		  r->last_timeout;
	pthread_mutex_unlock(&r->lock);
	if (timeout && st->last_death == ORBIT_DIED_SIGNAL &&
	    st->last_death_code == SIGKILL) {
		st->last_death = ORBIT_DIED_TIMEOUT;
		st->last_death_code = 0;
	}
}

/* Bytes of the area a direct call copies: what its allocator carved. */
static size_t area_extent(struct orbit_area *a)
{
	size_t top;

	pthread_mutex_lock(&a->lock);
	top = a->heap.top;
	pthread_mutex_unlock(&a->lock);
	return top;
}

int uo_ring_call(struct orbit *ob, size_t narea, struct orbit_area **areas,
		 orbit_entry func, const void *arg, size_t argsize,
		 struct orbit_future *f)
{
	struct uo_ring *r = ob->ring;
	size_t need = narea * sizeof(struct slot_area) + argsize, i;
	size_t len[UO_RING_AREAS];	/* main's: the ring's may change */
	unsigned char *slot, *p;
	struct slot_area *sa;
	struct slot_hdr *sh;
	uint32_t seq;
	int idx;

	if (narea > UO_RING_AREAS) {
		errno = E2BIG;
		return -1;
	}
	for (i = 0; i < narea; i++) {
		len[i] = area_extent(areas[i]);
		need += len[i];
	}
	if (need > UO_RING_REQ) {
		errno = E2BIG;
		return -1;
	}
	pthread_mutex_lock(&r->lock);
	ring_timeout_locked(r);
	idx = slot_claim_locked(r, f ? SLOT_FUTURE : SLOT_NOFUTURE);
	if (idx < 0) {
		pthread_mutex_unlock(&r->lock);
		errno = claim_error(ob);
		return -1;
	}
	seq = r->posted;
	slot = slot_at(r->map, (uint32_t)idx);
	sh = (struct slot_hdr *)slot;
	sa = (struct slot_area *)(sh + 1);
	sh->kind = SLOT_CALL;
	sh->func = (uintptr_t)func;
	sh->argsize = (uint32_t)argsize;
	sh->narea = (uint32_t)narea;
	p = (unsigned char *)(sa + narea);
	if (argsize)
		memcpy(p, arg, argsize);
	p += argsize;
	for (i = 0; i < narea; i++) {
		sa[i].base = (uintptr_t)areas[i]->base;
		sa[i].len = len[i];
		memcpy(p, areas[i]->base, len[i]);
		p += len[i];
	}
	r->refs += !!f;
	if (r->timeout_ns)
		r->post_ns[idx] = now_ns();
	slot_post_locked(r, (uint32_t)idx);
	pthread_mutex_unlock(&r->lock);
	if (f) {
		f->ring = r;
		f->seq = seq;
		f->rslot = (uint32_t)idx;
		f->gen = r->gen;
		f->orbit_id = ob->id;
	}
	return 0;
}

/*
 * Waits until the orbit answered f's call, or its process died first
 * (f->error: ESRCH, or ETIMEDOUT for the call main killed it for).  Once
 * answered, copies the reply out (f->reply, the only copy main reads).
 */
static void ring_wait(struct orbit_future *f)
{
	struct ring_hdr *h = hdr(f->ring->map);
	struct slot_hdr sh;
	unsigned char *slot;
	int answered = 0;
	uint32_t d;

	if (f->ended)
		return;
	for (;;) {
		d = __atomic_load_n(&h->done, __ATOMIC_SEQ_CST);
		if ((int32_t)(d - f->seq) > 0) {
			answered = 1;
			break;
		}
		if (f->ring->timeout_ns) {
			pthread_mutex_lock(&f->ring->lock);
			ring_timeout_locked(f->ring);
			pthread_mutex_unlock(&f->ring->lock);
		}
		if (wait_change(&h->done, &h->main_sleeps, d,
				UO_RING_WAIT_MS) == ETIMEDOUT &&
		    !orbit_alive(f->orbit_id, f->gen, NULL)) {
			pthread_mutex_lock(&f->ring->lock);
			f->ring->dead |= f->gen == f->ring->gen;
			pthread_mutex_unlock(&f->ring->lock);
			break;
		}
	}
	pthread_mutex_lock(&f->ring->lock);
	if (f->ring->failed[f->rslot] || !answered) {
		/* Its process died before answering (killed if it timed out). */
		f->error = f->ring->failed[f->rslot];
		if (!f->error)
			f->error = f->gen == f->ring->gen ?
				   death_error(f->ring, f->seq) : ESRCH;
		f->died = 1;
		pthread_mutex_unlock(&f->ring->lock);
		f->ended = 1;
		return;
	}
	pthread_mutex_unlock(&f->ring->lock);
	slot = slot_at(f->ring->map, f->rslot);
	memcpy(&sh, slot, sizeof(sh));
	f->retval = sh.retval;
	/* The loop's own errors only: anything else is a broken reply. */
	f->error = sh.error == 0 || sh.error == EINVAL || sh.error == ENOMEM ?
		   sh.error : EBADMSG;
	f->ended = 1;
	if (sh.reply_len > UO_RING_REPLY) {
		f->error = EBADMSG;
		return;
	}
	/* An observe-only orbit's updates never reach main. */
	if (sh.reply_len && !f->ring->observe) {
		f->reply = malloc(sh.reply_len);
		if (!f->reply) {
			f->error = ENOMEM;
			return;
		}
		memcpy(f->reply, reply_at(slot), sh.reply_len);
		f->reply_len = sh.reply_len;
	}
}

/* Reply format: updates, each a uint32_t length then its bytes, padded to 8. */
long uo_ring_pull(struct orbit_future *f, struct orbit_update **update)
{
	struct orbit_update *u;
	uint32_t len;
	void *buf;

	ring_wait(f);
	if (f->error && !f->reply)
		return 0;	/* the end: orbit_future_get() tells the error */
	if (f->reply_pos + sizeof(len) > f->reply_len)
		return 0;
	memcpy(&len, f->reply + f->reply_pos, sizeof(len));
	if (len > f->reply_len - f->reply_pos - sizeof(len)) {
		f->reply_pos = f->reply_len;
		errno = EBADMSG;
		return -1;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return -1;
	memcpy(buf, f->reply + f->reply_pos + sizeof(len), len);
	f->reply_pos += (sizeof(len) + len + 7) & ~(size_t)7;
	if (uo_update_validate(buf, len)) {
		free(buf);
		return -1;
	}
	u = uo_update_wrap(buf, len);
	if (!u) {
		free(buf);
		return -1;
	}
	u->origin = f->orbit_id;
	*update = u;
	return 1;
}

/*
 * Waits for a sync call's answer: 1 (and its result in *retval) if it
 * succeeded and left updates to pull, else 0.
 */
int uo_ring_updates_left(struct orbit_future *f, long *retval)
{
	ring_wait(f);
	if (f->error || !f->reply_len)
		return 0;
	*retval = f->retval;
	return 1;
}

int uo_ring_get(struct orbit_future *f, long *retval)
{
	struct uo_ring *r = f->ring;
	int err;

	ring_wait(f);
	err = f->error;
	if (!err && retval)
		*retval = f->retval;
	/*
	 * A slot of a call whose process died unanswered stays taken until
	 * the restart: a process that is only thought dead may still write.
	 */
	pthread_mutex_lock(&r->lock);
	if (!f->died || r->failed[f->rslot])
		r->taken[f->rslot] = 0;
	else	/* the dead process's: free at the restart */
		r->taken[f->rslot] = SLOT_NOFUTURE;
	r->failed[f->rslot] = 0;
	pthread_mutex_unlock(&r->lock);
	ring_put(r);
	free(f->reply);
	errno = err;
	return err ? -1 : 0;
}

/* ---- the orbit ---------------------------------------------------------- */

/*
 * Private memory at [base, base + len) of the area window (reserved,
 * inaccessible, in every orbit), mapped at an area's first call and again
 * only when the area grew.  The previous call's bytes are overwritten.
 */
static int area_place(uintptr_t base, size_t len)
{
	size_t pg = (size_t)getpagesize(), i;
	void *want = (void *)base;

	uint64_t wbase = uo_st.ring_va_base, wsize = uo_st.ring_va_size;

	len = (len + pg - 1) & ~(pg - 1);
	if (!len)
		return 0;
	if (base < wbase || len > wsize || base - wbase > wsize - len)
		return -1;	/* only ever inside the area window */
	for (i = 0; i < uo_st.ring_nareas; i++)
		if (uo_st.ring_areas[i].base == base)
			break;
	if (i < uo_st.ring_nareas && uo_st.ring_areas[i].len >= len)
		return 0;
	if (mmap(want, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != want)
		return -1;
	if (i == uo_st.ring_nareas && i < UO_RING_AREAS)
		uo_st.ring_nareas++;
	if (i < UO_RING_AREAS) {
		uo_st.ring_areas[i].base = base;
		uo_st.ring_areas[i].len = len;
	}
	return 0;
}

/* In the orbit: appends an update to the running call's reply. */
int uo_ring_push(struct orbit_update *u)
{
	struct slot_hdr *sh = (struct slot_hdr *)uo_st.ring_slot;
	size_t off = sh->reply_len, need;
	uint32_t len;

	if (uo_st.ring_observe) {
		errno = EPERM;	/* ORBIT_OBSERVE_ONLY */
		return -1;
	}
	if (u->kind == UO_BUF_SLOT) {
		errno = EINVAL;	/* arena memory: not on a direct orbit */
		return -1;
	}
	need = (sizeof(len) + u->len + 7) & ~(size_t)7;
	if (u->len > UINT32_MAX || need > UO_RING_REPLY - off) {
		errno = EMSGSIZE;
		return -1;
	}
	len = (uint32_t)u->len;
	memcpy(reply_at(uo_st.ring_slot) + off, &len, sizeof(len));
	memcpy(reply_at(uo_st.ring_slot) + off + sizeof(len), u->buf, u->len);
	sh->reply_len = (uint32_t)(off + need);
	return 0;
}

int uo_ring_active(void)
{
	return uo_st.ring_slot != NULL;
}

void uo_ring_serve(int fd, orbit_entry entry, void *(*init)(void),
		   void *argbuf)
{
	struct ring_hdr *h;
	void *store = NULL;
	uint32_t n = 0, i;

	uo_st.ring_map = mmap(NULL, ring_size(), PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0);
	if (uo_st.ring_map == MAP_FAILED || hdr(uo_st.ring_map)->magic != UO_RING_MAGIC)
		_exit(125);
	close(fd);
	h = hdr(uo_st.ring_map);
	n = __atomic_load_n(&h->done, __ATOMIC_SEQ_CST);
	if (init)
		store = init();
	for (;;) {
		struct slot_hdr *sh;
		struct slot_area *sa;
		unsigned char *p;
		orbit_entry fn;

		/* A wakeup is only a hint: the count says whether a call came. */
		while (__atomic_load_n(&h->posted, __ATOMIC_SEQ_CST) == n)
			wait_change(&h->posted, &h->orbit_sleeps, n, 0);
		i = __atomic_load_n(&h->queue[n % UO_RING_SLOTS],
				    __ATOMIC_RELAXED);
		if (i >= UO_RING_SLOTS) {	/* not main's doing */
			post(&h->done, &h->main_sleeps, ++n);
			continue;
		}
		uo_st.ring_slot = slot_at(uo_st.ring_map, i);
		sh = (struct slot_hdr *)uo_st.ring_slot;
		sa = (struct slot_area *)(sh + 1);
		sh->reply_len = 0;
		sh->error = 0;
		sh->retval = -1;
		if (sh->kind == SLOT_MODULE) {
			uo_orbit_drain_module(argbuf);
			goto answer;
		}
		if (sh->narea > UO_RING_REQ / sizeof(*sa) ||
		    sh->argsize > UO_RING_REQ) {
			sh->error = EINVAL;
			goto answer;
		}
		p = (unsigned char *)(sa + sh->narea);
		if (sh->argsize)
			memcpy(argbuf, p, sh->argsize);
		p += sh->argsize;
		for (i = 0; i < sh->narea; i++) {
			if (area_place(sa[i].base, sa[i].len)) {
				sh->error = ENOMEM;
				goto answer;
			}
			memcpy((void *)(uintptr_t)sa[i].base, p, sa[i].len);
			p += sa[i].len;
		}
		fn = sh->func ? (orbit_entry)(uintptr_t)sh->func : entry;
		sh->retval = fn ? fn(argbuf, store) : -1;
answer:
		uo_st.ring_slot = NULL;
		post(&h->done, &h->main_sleeps, ++n);
	}
}
