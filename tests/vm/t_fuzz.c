// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl fuzzer.  Requests are built from each command's structure (ids,
 * flags, sizes and pointers that are nearly right; futures' ids among
 * those the thread's calls got) and then damaged at random, or are
 * noise; targets are fresh contexts, contexts handshaken with every
 * feature or some, and orbit descriptors.  Phases:
 *  1. one thread, ORBIT_FUZZ_ITERS requests (default 100,000);
 *  2. threads and forked processes sharing the descriptors (passed with
 *     SCM_RIGHTS), while another thread unmaps, protects and advises
 *     every mapping the module made (areas, anchors), ORBIT_FUZZ_SECS
 *     seconds (default 10);
 *  3. threads inside a live orbit fuzzing its own descriptor;
 *  4. main's own descriptor beside a live orbit and area, with requests
 *     that leave them in place, ORBIT_FUZZ_SECS seconds.
 * Every thread's seed is fixed, plus ORBIT_FUZZ_SEED (default 0), printed
 * so that a run can be repeated.  Phases 1, 2 and 4 run in processes of
 * their own, so that what they mapped goes when they exit.  The harness
 * fails the run on any kernel report; here the module must stay usable
 * and its counters must return to where they started.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

static const unsigned int cmds[] = {
	ORBIT_IOC_API, ORBIT_IOC_CREATE, ORBIT_IOC_DESTROY,
	ORBIT_IOC_AREA_CREATE, ORBIT_IOC_AREA_DESTROY, ORBIT_IOC_AREA_BIND,
	ORBIT_IOC_CALL, ORBIT_IOC_WAIT, ORBIT_IOC_SPAWNER, ORBIT_IOC_PULL,
	ORBIT_IOC_CHECK, ORBIT_IOC_RESPAWN, ORBIT_IOC_CANCEL, ORBIT_IOC_QUERY,
	ORBIT_IOC_AREA_MODE, ORBIT_IOC_AREA_DISCARD, ORBIT_IOC_ATTACH,
	ORBIT_IOC_RUN, ORBIT_IOC_PUSH, ORBIT_IOC_STATS, ORBIT_IOC_LIST,
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))
#define MAXFD	12

static unsigned char *window;	/* where areas may go: 64 pages */
static volatile int stop;
/*
 * Phase 4's calls reach a live orbit, whose task runs func: there it is
 * 0 (the orbit's entry) or an address in the window, which faults
 * (SIGSEGV) where an arbitrary one would also be a general protection
 * fault or code run at random.
 */
static int live_funcs;

/* Per-thread state: a seed and a scratch buffer with a guard page after. */
struct fz {
	unsigned int seed;
	unsigned char *buf;	/* 4096 bytes, then PROT_NONE */
	uint64_t last_call;	/* the id the last call this thread made got */
};

static unsigned int rnd(struct fz *z, unsigned int n)
{
	return n ? (unsigned int)rand_r(&z->seed) % n : 0;
}

static uint64_t rnd64(struct fz *z)
{
	return (uint64_t)rand_r(&z->seed) << 33 ^ (uint64_t)rand_r(&z->seed);
}

/* Added to every thread's seed: ORBIT_FUZZ_SEED, 0 by default. */
static unsigned int seed_base;

static struct fz *fz_new(unsigned int seed)
{
	struct fz *z = calloc(1, sizeof(*z));

	z->seed = seed_base + seed;
	z->buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(z->buf + 4096, 4096, PROT_NONE);
	return z;
}

/* A value for a field: mostly plausible, sometimes anything. */
static uint64_t near(struct fz *z, uint64_t good)
{
	switch (rnd(z, 8)) {
	case 0:
		return rnd64(z);
	case 1:
		return good ^ (1ULL << rnd(z, 64));
	default:
		return good;
	}
}

static uint64_t some_ptr(struct fz *z)
{
	switch (rnd(z, 6)) {
	case 0:
		return 0;
	case 1:
		return 16;
	case 2:
		return 0xffff888000000000ULL;	/* kernel address */
	case 3:
		return (uintptr_t)(z->buf + 4096 - rnd(z, 64));	/* off the end */
	case 4:
		return (uintptr_t)(window + rnd(z, 64) * 4096);
	}
	return (uintptr_t)(z->buf + 2048);
}

/* Features to ask for: every one the module has, or some of them. */
static uint64_t some_features(struct fz *z)
{
	return rnd(z, 2) ? ORBIT_FEAT_ALL : rnd64(z) & ORBIT_FEAT_ALL;
}

/* An orbit or area id: one of the first few handed out, or anything. */
static uint32_t some_id(struct fz *z)
{
	return (uint32_t)near(z, 1 + rnd(z, 4));
}

/* A future's id: the last one handed out here, a small one, or anything. */
static uint64_t some_call(struct fz *z)
{
	return near(z, rnd(z, 2) ? z->last_call : 1 + rnd(z, 64));
}

/* Builds cmd's request in z->buf: nearly right, then maybe damaged. */
static void *build(struct fz *z, unsigned int cmd)
{
	uint64_t *w = (uint64_t *)z->buf;
	unsigned int i, first, size = _IOC_SIZE(cmd);
	uint32_t *ids = (uint32_t *)(z->buf + 2048);

	memset(z->buf, 0, 4096);
	/* Area ids: the first four distinct, as a valid call's are. */
	for (i = 0, first = rnd(z, 4); i < 16; i++)
		ids[i] = i < 4 ? 1 + (first + i) % 4 : 1 + rnd(z, 4);
	switch (cmd) {
	case ORBIT_IOC_API: {
		struct orbit_api *a = (void *)w;

		a->api = near(z, ORBIT_API_VERSION);
		a->features = near(z, some_features(z));
		break;
	}
	case ORBIT_IOC_CREATE: {
		struct orbit_create *c = (void *)w;

		snprintf(c->name, sizeof(c->name), "fz%u", rnd(z, 100));
		c->flags = (uint32_t)near(z, rnd(z, 2));
		c->timeout_ns = rnd(z, 3) ? 0 : near(z, 1000000ULL << rnd(z, 12));
		break;
	}
	case ORBIT_IOC_DESTROY:
	case ORBIT_IOC_AREA_DESTROY:
		((struct orbit_ref *)w)->id = some_id(z);
		break;
	case ORBIT_IOC_AREA_CREATE: {
		struct orbit_area_req *a = (void *)w;

		a->addr = near(z, (uintptr_t)(window + rnd(z, 32) * 4096));
		a->size = near(z, 4096ULL << rnd(z, 5));
		a->flags = (uint32_t)near(z, rnd(z, 4));
		a->orbit_id = rnd(z, 5);
		break;
	}
	case ORBIT_IOC_AREA_BIND: {
		struct orbit_bind *b = (void *)w;

		b->area_id = some_id(z);
		b->orbit_id = some_id(z);
		break;
	}
	case ORBIT_IOC_CALL: {
		struct orbit_call_req *c = (void *)w;

		c->orbit_id = some_id(z);
		c->flags = rnd(z, 2) ? 0 :
			   (uint32_t)near(z, rnd(z, 2 * ORBIT_CALL_FLAGS));
		c->func = rnd(z, 2) ? 0 : rnd64(z);
		c->tag = rnd(z, 2) ? 0 : rnd64(z);
		c->narea = (uint32_t)near(z, rnd(z, 4));
		c->areas = rnd(z, 4) ? (uintptr_t)ids : some_ptr(z);
		c->argsize = (uint32_t)near(z, rnd(z, 300));
		c->arg = rnd(z, 2) ? (uintptr_t)(z->buf + 1536) : some_ptr(z);
		break;
	}
	case ORBIT_IOC_WAIT:
		((struct orbit_wait *)w)->call_id = some_call(z);
		break;
	case ORBIT_IOC_SPAWNER:
		((struct orbit_spawner *)w)->pid = (int32_t)near(z, getpid() +
							      rnd(z, 8));
		break;
	case ORBIT_IOC_PULL: {
		struct orbit_pull *p = (void *)w;

		p->call_id = some_call(z);
		p->buf = some_ptr(z);
		p->cap = near(z, rnd(z, 4096));
		p->flags = (uint32_t)near(z, rnd(z, 2) * ORBIT_PULL_RELEASE);
		break;
	}
	case ORBIT_IOC_CHECK: {
		struct orbit_check *c = (void *)w;
		struct orbit_check_entry *e = (void *)(z->buf + 2048);

		c->orbit_id = rnd(z, 5);
		c->count = (uint32_t)near(z, 1 + rnd(z, 8));
		c->entries = rnd(z, 4) ? (uintptr_t)e : some_ptr(z);
		for (i = 0; i < 8; i++) {
			e[i].addr = some_ptr(z);
			e[i].len = near(z, 8);
			e[i].kind = (uint32_t)near(z, 1 + rnd(z, 3));
		}
		break;
	}
	case ORBIT_IOC_RESPAWN:
		((struct orbit_respawn *)w)->id = some_id(z);
		((struct orbit_respawn *)w)->flags = (uint32_t)near(z, 1);
		break;
	case ORBIT_IOC_CANCEL:
		((struct orbit_cancel *)w)->call_id = some_call(z);
		break;
	case ORBIT_IOC_QUERY:
		((struct orbit_query *)w)->id = some_id(z);
		break;
	case ORBIT_IOC_AREA_MODE: {
		struct orbit_area_mode *m = (void *)w;

		m->id = some_id(z);
		m->flags = (uint32_t)near(z, rnd(z, 2 * ORBIT_AREA_FLAGS));
		break;
	}
	case ORBIT_IOC_AREA_DISCARD: {
		struct orbit_area_discard *d = (void *)w;

		d->id = some_id(z);
		d->offset = near(z, 4096ULL * rnd(z, 40));
		d->len = near(z, 4096ULL << rnd(z, 6));
		break;
	}
	case ORBIT_IOC_RUN: {
		struct orbit_run *r = (void *)w;
		struct orbit_push *p = (void *)(z->buf + 1024);

		r->flags = (uint32_t)near(z, rnd(z, 2 * ORBIT_RUN_FLAGS));
		r->argcap = (uint32_t)near(z, 512);
		r->argbuf = some_ptr(z);
		r->retval = (int64_t)rnd64(z);
		if (r->flags & ORBIT_RUN_PUSH) {
			r->push = rnd(z, 4) ? (uintptr_t)p : some_ptr(z);
			p->buf = some_ptr(z);
			p->len = near(z, rnd(z, 2) ? 64 : 16384 << rnd(z, 3));
		}
		break;
	}
	case ORBIT_IOC_PUSH: {
		struct orbit_push *p = (void *)w;

		p->buf = some_ptr(z);
		p->len = near(z, rnd(z, 2) ? 64 : 16384 << rnd(z, 3));
		break;
	}
	case ORBIT_IOC_LIST: {
		struct orbit_list *l = (void *)w;

		l->buf = some_ptr(z);
		l->cap = (uint32_t)near(z, rnd(z, 4));
		break;
	}
	default:
		for (i = 0; i < 512; i++)
			w[i] = rnd(z, 2) ? rnd(z, 8) : rnd64(z);
	}
	/* Sometimes damage one more word of the structure. */
	if (size > 4096)
		size = 4096;
	if (size >= 8 && !rnd(z, 4))
		w[rnd(z, size / 8)] = rnd(z, 2) ? rnd64(z) : 0;
	if (cmd == ORBIT_IOC_CALL && live_funcs)
		((struct orbit_call_req *)w)->func =
			rnd(z, 4) ? 0 : (uintptr_t)(window + rnd(z, 64) * 4096);
	switch (rnd(z, 16)) {
	case 0:
		return NULL;
	case 1:
		return (void *)16;
	case 2:
		return z->buf + 4096 - size / 2;	/* runs into the guard */
	}
	return z->buf;
}

static unsigned int random_cmd(struct fz *z)
{
	switch (rnd(z, 6)) {
	case 0:
		return (unsigned int)rand_r(&z->seed);
	case 1:
		return _IOC(rnd(z, 4), ORBIT_IOC_MAGIC, rnd(z, 0x30), rnd(z, 512));
	default:
		return cmds[rnd(z, NCMDS)];
	}
}

static int new_ctx(struct fz *z)
{
	struct orbit_api api = { .api = ORBIT_API_VERSION,
				 .features = some_features(z) };
	int fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);

	if (fd >= 0 && rnd(z, 4))
		ioctl(fd, ORBIT_IOC_API, &api);
	return fd;
}

static long succeeded[0x30];	/* per command number, for coverage */

/* Request cmd on fd; a created orbit's descriptor is returned (or -1). */
static int fuzz_cmd(struct fz *z, int fd, unsigned int cmd)
{
	void *arg = build(z, cmd);
	int ret = ioctl(fd, cmd, arg);

	if (!ret && _IOC_TYPE(cmd) == ORBIT_IOC_MAGIC && _IOC_NR(cmd) < 0x30)
		__atomic_add_fetch(&succeeded[_IOC_NR(cmd)], 1,
				   __ATOMIC_RELAXED);
	if (!ret && arg == z->buf && cmd == ORBIT_IOC_CALL)
		z->last_call = ((struct orbit_call_req *)arg)->call_id;
	if (!ret && arg == z->buf &&
	    (cmd == ORBIT_IOC_CREATE || cmd == ORBIT_IOC_RESPAWN))
		return cmd == ORBIT_IOC_CREATE ?
		       ((struct orbit_create *)arg)->orbit_fd :
		       ((struct orbit_respawn *)arg)->orbit_fd;
	return -1;
}

/* How often each of the n commands in list succeeded in this process. */
static void print_coverage(const unsigned int *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("    # %#x succeeded %ld times\n", _IOC_NR(list[i]),
		       succeeded[_IOC_NR(list[i])]);
}

/* One random request on fd, as fuzz_cmd. */
static int fuzz_one(struct fz *z, int fd)
{
	return fuzz_cmd(z, fd, random_cmd(z));
}

/* ---- phase 2: many threads and processes on shared descriptors ---------- */

static int shared[MAXFD];
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static long requests;

static int pick_fd(struct fz *z)
{
	int fd;

	pthread_mutex_lock(&shared_lock);
	fd = shared[rnd(z, MAXFD)];
	pthread_mutex_unlock(&shared_lock);
	return fd;
}

static void put_fd(struct fz *z, int fd)
{
	int k = (int)rnd(z, MAXFD), old;

	pthread_mutex_lock(&shared_lock);
	old = shared[k];
	shared[k] = fd;
	pthread_mutex_unlock(&shared_lock);
	if (old >= 0)
		close(old);	/* may tear down a context others use */
}

static void *fuzz_thread(void *p)
{
	struct fz *z = fz_new((unsigned int)(uintptr_t)p);
	int fd;

	while (!stop) {
		if (!rnd(z, 100))
			put_fd(z, new_ctx(z));
		fd = fuzz_one(z, pick_fd(z));
		if (fd >= 0)
			put_fd(z, fd);
		__atomic_add_fetch(&requests, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Unmaps, protects and advises what the module mapped into us. */
static void *mm_thread(void *p)
{
	struct fz *z = fz_new((unsigned int)(uintptr_t)p);
	char line[512];

	while (!stop) {
		FILE *f = fopen("/proc/self/maps", "r");

		while (f && fgets(line, sizeof(line), f)) {
			unsigned long lo, hi;
			size_t len;

			if (!strstr(line, "orbit-") ||
			    sscanf(line, "%lx-%lx", &lo, &hi) != 2)
				continue;
			len = hi - lo;
			switch (rnd(z, 10)) {
			case 0:
				munmap((void *)lo, len);
				break;
			case 1:
				mprotect((void *)lo, len, rnd(z, 8));
				break;
			case 2:
				madvise((void *)lo, len, MADV_DONTNEED);
				break;
			case 3:
				madvise((void *)lo, len, MADV_DOFORK);
				break;
			case 4:
				mlock((void *)lo, len < (1 << 20) ? len : 1 << 20);
				munlock((void *)lo, len);
				break;
			case 5:
				mremap((void *)lo, len, len * 2, MREMAP_MAYMOVE);
				break;
			case 6:
				madvise((void *)lo, len, MADV_PAGEOUT);
				break;
			}
		}
		if (f)
			fclose(f);
		usleep(2000);
	}
	return NULL;
}

static int send_fds(int sock, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAXFD)];
	struct iovec iov = { "f", 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

/* A process (another user, sometimes) fuzzing descriptors it was sent. */
static void fd_receiver(int sock, unsigned int seed)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MAXFD)], c;
	struct iovec iov = { &c, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct itimerval it = { { 0, 5000 }, { 0, 5000 } };
	struct fz *z = fz_new(seed);
	struct cmsghdr *cm;
	int fds[MAXFD], n, i;

	setitimer(ITIMER_REAL, &it, NULL);	/* blocking requests end */
	if (seed % 2 && (setgid(1000) || setuid(1000)))
		_exit(2);
	if (recvmsg(sock, &msg, 0) != 1)
		_exit(3);
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm)
		_exit(0);
	n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * n);
	for (i = 0; i < 3000 && n; i++) {
		int fd = fuzz_one(z, fds[rnd(z, n)]);

		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}

static void fork_receiver(struct fz *z)
{
	int sv[2], fds[MAXFD], n = 0, i;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		fd_receiver(sv[1], z->seed);
	}
	close(sv[1]);
	pthread_mutex_lock(&shared_lock);
	for (i = 0; i < MAXFD; i++)
		if (shared[i] >= 0 && fcntl(shared[i], F_GETFD) >= 0)
			fds[n++] = shared[i];
	if (n)
		send_fds(sv[0], fds, n);
	pthread_mutex_unlock(&shared_lock);
	close(sv[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void on_alarm(int sig)
{
}

static long concurrent(double secs)
{
	pthread_t t[5];
	struct fz *z = fz_new(99);
	double end = now_us() + secs * 1e6;
	long i;

	for (i = 0; i < MAXFD; i++)
		shared[i] = i < 3 ? new_ctx(z) : -1;
	stop = 0;
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, fuzz_thread, (void *)(i + 1));
	pthread_create(&t[4], NULL, mm_thread, (void *)5);
	while (now_us() < end) {
		fork_receiver(z);
		usleep(100000);
	}
	stop = 1;
	for (i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < MAXFD; i++)
		if (shared[i] >= 0)
			close(shared[i]);
	return requests;
}

/* ---- phase 3: inside an orbit -------------------------------------------- */

static void *inside_thread(void *p)
{
	struct fz *z = fz_new((unsigned int)(uintptr_t)p);
	int fd = fd_linked_to("[orbit]"), mine = new_ctx(z), i;

	for (i = 0; i < 3000 && fd >= 0; i++) {
		unsigned int cmd = random_cmd(z);

		if (cmd == ORBIT_IOC_RUN)
			continue;	/* would end this very call */
		ioctl(rnd(z, 2) ? fd : mine, cmd, build(z, cmd));
	}
	close(mine);
	return NULL;
}

static long fuzz_inside(void *argbuf, void *store)
{
	pthread_t t[3];
	long i;

	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, inside_thread, (void *)(i + 11));
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static long nothing(void *argbuf, void *store)
{
	return 7;
}

/* ---- phase 4: main's own descriptor, with a live orbit and area ---------- */

/*
 * Requests that leave main's orbit and area in place, so that calls reach
 * a live orbit: snapshots, installs, futures pulled, waited and
 * cancelled, the orbit crashing on a bad function and restarted.  Not
 * DESTROY, which would unmap the area main writes here, nor RESPAWN,
 * whose new orbit descriptor would come here instead of to an orbit
 * process (phases 1 and 2 make both).
 */
static const unsigned int live_cmds[] = {
	ORBIT_IOC_CALL, ORBIT_IOC_WAIT, ORBIT_IOC_PULL, ORBIT_IOC_CHECK,
	ORBIT_IOC_CANCEL, ORBIT_IOC_QUERY, ORBIT_IOC_AREA_MODE,
	ORBIT_IOC_AREA_DISCARD, ORBIT_IOC_AREA_BIND, ORBIT_IOC_STATS,
	ORBIT_IOC_LIST,
};

#define NLIVE	(sizeof(live_cmds) / sizeof(live_cmds[0]))

static int live_main(long secs)
{
	struct fz *z = fz_new(4242);
	struct orbit_future *f[4] = { NULL };
	double end = now_us() + secs * 1e6;
	long n = 0, calls = 0, ret;
	struct orbit_area *a = NULL;
	struct orbit_attr attr;
	unsigned char *p = NULL;
	struct orbit *ob;
	int fd, ofd, k;

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;	/* after a crash on func */
	ob = orbit_create_ex("fuzz-main", nothing, NULL, &attr);
	if (ob)
		a = orbit_area_create(16 * 4096, ob);
	if (a)
		p = orbit_alloc(a, 8 * 4096);
	fd = fd_linked_to("/dev/orbit");
	if (!p || fd < 0)
		return 1;
	live_funcs = 1;
	while (now_us() < end) {
		p[rnd(z, 8) * 4096 + rnd(z, 4096)] = (unsigned char)n++;
		/* Up to four calls in flight while the requests go on. */
		k = (int)rnd(z, 4);
		if (!rnd(z, 4)) {
			if (f[k])
				calls += orbit_future_get(f[k], &ret) == 0;
			f[k] = orbit_call_async(ob, 0, 1, &a, NULL, NULL, 0);
		}
		ofd = fuzz_cmd(z, fd, live_cmds[rnd(z, NLIVE)]);
		if (ofd >= 0)
			close(ofd);
	}
	for (k = 0; k < 4; k++)
		if (f[k])
			calls += orbit_future_get(f[k], &ret) == 0;
	printf("    # %ld requests, %ld library calls completed\n", n,
	       calls);
	print_coverage(live_cmds, NLIVE);
	orbit_destroy(ob);
	/* Requests that never reached a live orbit would test nothing here. */
	return calls && succeeded[_IOC_NR(ORBIT_IOC_CALL)] ? 0 : 1;
}

/* Phase 1, in a process of its own (what it mapped goes with it). */
static int sequential(long iters)
{
	struct fz *z = fz_new(12345);
	int fds[6], nfd = 0, k, fd;
	long i;

	for (i = 0; i < iters; i++) {
		if (nfd < 6 && (nfd == 0 || !rnd(z, 200))) {
			fds[nfd] = new_ctx(z);
			if (fds[nfd] >= 0)
				nfd++;
		}
		k = (int)rnd(z, nfd);
		if (!rnd(z, 500)) {
			close(fds[k]);	/* tear a context down */
			fds[k] = fds[--nfd];
			continue;
		}
		fd = fuzz_one(z, fds[k]);
		if (fd >= 0 && nfd < 6)
			fds[nfd++] = fd;	/* fuzz it too */
		else if (fd >= 0)
			close(fd);
	}
	print_coverage(cmds, NCMDS);
	return 0;
}

/* Runs fn(arg) in a child with the itimer that ends blocking requests. */
static int in_child(int (*fn)(long), long arg)
{
	struct itimerval it = { { 0, 5000 }, { 0, 5000 } };
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setitimer(ITIMER_REAL, &it, NULL);
		_exit(fn(arg));
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int concurrent_for(long secs)
{
	return concurrent((double)secs) > 0 ? 0 : 1;
}

int main(void)
{
	struct orbit_module_stats start;
	const char *env = getenv("ORBIT_FUZZ_ITERS"), *senv;
	long iters = 100000, secs = 10;
	struct sigaction sa;
	struct orbit *ob;

	if (env && atol(env) > 0)
		iters = atol(env);
	senv = getenv("ORBIT_FUZZ_SECS");
	if (senv && atol(senv) > 0)
		secs = atol(senv);
	senv = getenv("ORBIT_FUZZ_SEED");
	if (senv)
		seed_base = (unsigned int)strtoul(senv, NULL, 0);
	diag("seed base %u (ORBIT_FUZZ_SEED)", seed_base);
	require(orbit_module_stats(&start) == 0, "read module counters");
	window = mmap(NULL, 64 * 4096, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	require(window != MAP_FAILED, "an address window for areas");

	/* Blocking ioctls (sync calls to orbits that never run) get EINTR. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	ok(in_child(sequential, iters) == 0,
	   "%ld requests on contexts and orbit descriptors", iters);
	ok(in_child(concurrent_for, secs) == 0,
	   "%ld s of requests from 4 threads and forked processes sharing the descriptors, while their mappings were unmapped and changed",
	   secs);

	ob = orbit_create("fuzz-inside", fuzz_inside, NULL);
	ok(ob && orbit_call(ob, 0, NULL, NULL, NULL, 0) == 0,
	   "three threads inside an orbit fuzz its descriptor");
	if (ob)
		orbit_destroy(ob);
	ok(in_child(live_main, secs) == 0,
	   "%ld s of requests on main's descriptor beside a live orbit and area, calls to it among them",
	   secs);
	ob = orbit_create("fuzz-after", nothing, NULL);
	ok(ob && orbit_call(ob, 0, NULL, NULL, NULL, 0) == 7,
	   "a fresh orbit works after the fuzzing");
	if (ob)
		orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
