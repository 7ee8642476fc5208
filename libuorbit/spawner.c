// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The spawner and the orbit-side task loop.
 *
 * Orbits are not forked from the main program, whose size would make every
 * creation slow and whose heap they would pin, but from a small spawner
 * the library forks once, early.  The spawner is re-created when main has
 * loaded new code since (dlopen), so that every function main can name
 * exists in a new orbit.  It receives an orbit descriptor over a socket
 * and hands it to a child that attaches to the module and runs the task
 * loop.
 *
 * The child is forked ahead of time.  After its first request the spawner
 * forks the forker, which does nothing but fork spares: children that wait
 * on their own sockets for the request that makes each an orbit.  The
 * forker hands main its end of each spare's socket, and main keeps
 * UO_SPARES of them, so that it starts an orbit by sending the request to
 * a spare, without a round trip to the spawner, and creates in a row find
 * a spare too (the next is forked beside them).  The spawner, the forker
 * and so every spare are forks of the same spawner at other moments, and
 * the spawner never changes between requests, so an orbit started from a
 * spare is the orbit a fork would have made.  An orbit placed in a cgroup
 * is forked by the spawner when asked for, so that all it ever allocates
 * is charged there.
 *
 * Lifetimes: the spawner, the forker and a spare that got no request each
 * exit when main's end of their socket closes (main exits, or the library
 * drops them: a new spawner after dlopen); the module also kills the
 * spawner with main.  Orbits do not depend on any of them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define SPAWNER_FD	3	/* in the spawner, the forker, a spare: main */
#define RING_FD		4	/* in a direct orbit: its ring */
#define FORKER_FD	4	/* in the spawner: the forker's, until it is forked */
#define SPARE_WAIT_MS	100	/* main's wait for a spare on its way */

struct spawn_req {
	uint64_t entry;
	uint64_t init;
	uint64_t arena_base;	/* its update arena's region, or 0 */
	uint64_t slot_size;
	uint32_t id;		/* orbit_self() */
	uint32_t globals;	/* a globals call comes first: init after it */
	uint32_t background;	/* ORBIT_BACKGROUND: runs SCHED_BATCH */
	uint32_t seq;		/* echoed in the reply; never SEQ_LOST */
	uint32_t direct;	/* ORBIT_DIRECT: a ring descriptor comes along */
	uint32_t observe;	/* ORBIT_OBSERVE_ONLY (a direct orbit's pushes) */
	uint64_t va_base;	/* main's area window, for a direct orbit */
	uint64_t va_size;
	char name[ORBIT_NAME_MAX];
	char cgroup[256];
};

/*
 * A new process: the spawner's reply to a request, and what the forker
 * sends main with its end of a new spare's socket (none with -errno).
 */
struct spawn_reply {
	int32_t pid;	/* > 0, or -errno */
	uint32_t seq;	/* the request's, or SEQ_LOST */
};

/*
 * Main has at most one request out, and waits for its reply; but a
 * request can fail to arrive, and a reply too, under a memory shortage:
 *  - the spawner's recvmsg fails (it may have taken the request off the
 *    socket and lost it, or not): it replies -ENOMEM with SEQ_LOST, taken
 *    as the reply to main's request.  A request that was not taken off
 *    after all is served later; its reply, with its old sequence number,
 *    is dropped by main, and the orbit it started finds its orbit gone.
 *  - main's recv fails: the request failed with that errno (ENOMEM); the
 *    reply, if it is still queued, is dropped by the next request.
 *  - the spawner cannot send a reply: it tries again, then gives up and
 *    exits (main sees EPIPE: it would otherwise wait for ever).
 * So the spawner stays alive through a shortage, and main sees ENOMEM.
 */
#define SEQ_LOST	0
#define SEND_TRIES	100	/* a reply's, 1 ms apart */

/*
 * Sends a request and a descriptor: 0, or -1 with errno set (ENOMEM for
 * the socket's ENOBUFS: the caller knows of no socket).
 */
static int send_with_fds(int sock, const void *buf, size_t len,
			 const int *fds, unsigned int nfd)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfd * sizeof(int));
	msg.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfd * sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)len) {
		if (errno == ENOBUFS)
			errno = ENOMEM;
		return -1;
	}
	return 0;
}

static int send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	return send_with_fds(sock, buf, len, &fd, 1);
}

/*
 * Receives a message of exactly len bytes and its descriptor: 1; 0 for a
 * short or descriptor-less message (*fd is -1 then; errno ENOMEM if the
 * descriptor was sent but could not be received, else EINVAL); -1 at the
 * end of the stream (ECONNRESET) or on an error.
 */
static int recv_with_fds(int sock, void *buf, size_t len, int *fd, int *fd2,
			 int flags)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	if (fd2)
		*fd2 = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ECONNRESET;
	if (n <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
		if (cm->cmsg_len >= CMSG_LEN(2 * sizeof(int))) {
			if (fd2)
				memcpy(fd2, CMSG_DATA(cm) + sizeof(int),
				       sizeof(int));
			else
				close(((int *)CMSG_DATA(cm))[1]);
		}
	}
	if ((size_t)n == len && *fd >= 0)
		return 1;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (fd2 && *fd2 >= 0)
		close(*fd2);
	if (fd2)
		*fd2 = -1;
	errno = msg.msg_flags & MSG_CTRUNC ? ENOMEM : EINVAL;
	return 0;
}

static int recv_with_fd(int sock, void *buf, size_t len, int *fd, int flags)
{
	return recv_with_fds(sock, buf, len, fd, NULL, flags);
}



static __attribute__((constructor)) void spawner_loaded(void)
{
	uo_st.loaded_in = getpid();
}

static int count_objects(struct dl_phdr_info *info, size_t size, void *data)
{
	*(unsigned long long *)data = info->dlpi_adds;
	return 1;
}

/*
 * A value that changes when main dlopen()s new code.  In a fork child,
 * glibc's loader lock may be held by a thread of the parent that the child
 * does not have, and dl_iterate_phdr() would wait for it forever; there
 * the loader's list is walked instead (the child forked with one thread,
 * and nothing changes the list while it only has that one).
 */
static unsigned long long loaded_objects(void)
{
	unsigned long long sig = 0;
	struct link_map *l;

	if (getpid() == uo_st.loaded_in) {
		dl_iterate_phdr(count_objects, &sig);
		return sig;
	}
	for (l = _r_debug.r_map; l; l = l->l_next)
		sig = sig * 31 + l->l_addr + 1;
	return sig;
}

/* Moves a process into a cgroup v2 directory; 0 or -errno. */
static int move_to_cgroup(const char *dir, pid_t pid)
{
	char path[300], num[16];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = snprintf(num, sizeof(num), "%d", (int)pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, num, (size_t)n) != n)
		err = -errno;
	close(fd);
	return err;
}

/*
 * Orbits and the spawner start from default signal dispositions and an
 * empty signal mask: main's handlers (a SIGSEGV handler, say) must never
 * keep a crashing task alive, nor should main's blocked signals.
 */
static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);	/* fails harmlessly for some */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * What an orbit process sets up before it knows its orbit (a spare does it
 * while it waits): default signals, and the buffer for call arguments,
 * its first page touched.
 */
static void *orbit_prepare(void)
{
	size_t cap = uo_st.api.max_arg_size ? uo_st.api.max_arg_size : 1;
	unsigned char *argbuf;

	reset_signals();
	argbuf = malloc(cap);
	if (!argbuf)
		_exit(124);
	argbuf[0] = 0;
	return argbuf;
}

/*
 * A direct orbit: runs the library's calls queued in the module (main's
 * globals), without waiting for more (ORBIT_RUN_NOWAIT).
 */
void uo_orbit_drain_module(void *argbuf)
{
	struct orbit_run run;

	memset(&run, 0, sizeof(run));
	run.argbuf = (uintptr_t)argbuf;
	run.argcap = uo_st.api.max_arg_size;
	run.flags = ORBIT_RUN_NOWAIT;
	for (;;) {
		if (ioctl(uo_st.orbit_fd, ORBIT_IOC_RUN, &run) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			_exit(0);	/* main is gone or destroyed us */
		}
		if (run.tag & UO_TAG_GLOBALS)
			uo_globals_install(argbuf);
		run.retval = 0;
		run.flags = ORBIT_RUN_HAVE_RESULT | ORBIT_RUN_NOWAIT;
	}
}

static __attribute__((noreturn)) void orbit_main(const struct spawn_req *req,
						 int fd, int ring, void *argbuf)
{
	orbit_entry entry = (orbit_entry)(uintptr_t)req->entry;
	void *(*init)(void) = (void *(*)(void))(uintptr_t)req->init;
	struct orbit_update *last = NULL;	/* pushed with the result */
	struct orbit_push last_req;
	struct orbit_attach at;
	struct orbit_run run;
	void *store = NULL;
	int inited = 0;

	prctl(PR_SET_NAME, req->name[0] ? req->name : "orbit");
	/*
	 * A background orbit is not run ahead of the thread whose call woke
	 * it: SCHED_BATCH tasks do not preempt on wakeup.
	 */
	if (req->background &&
	    sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){ 0 }))
		_exit(123);
	/*
	 * Nothing of the spawner's but stdio; the handle becomes fd 3, a
	 * direct orbit's ring fd 4.
	 */
	if (req->direct && ring < 0)
		_exit(125);
	if (ring >= 0 && ring != RING_FD) {
		if (fd == RING_FD) {
			fd = fcntl(fd, F_DUPFD_CLOEXEC, RING_FD + 1);
			if (fd < 0)
				_exit(125);
		}
		if (dup3(ring, RING_FD, O_CLOEXEC) < 0)
			_exit(125);
	}
	if (fd != SPAWNER_FD && dup3(fd, SPAWNER_FD, O_CLOEXEC) < 0)
		_exit(125);
	fd = SPAWNER_FD;
	close_range(ring >= 0 ? RING_FD + 1 : SPAWNER_FD + 1, ~0U, 0);
	memset(&at, 0, sizeof(at));
	if (ioctl(fd, ORBIT_IOC_ATTACH, &at) < 0)
		_exit(125);
	uo_st.orbit_fd = fd;
	uo_st.self_id = req->id;
	memcpy(uo_st.self_name, req->name, sizeof(uo_st.self_name));
	uo_st.arena_base = (unsigned char *)(uintptr_t)req->arena_base;
	uo_st.slot_size = req->slot_size;

	if (req->direct) {
		uo_st.ring_va_base = req->va_base;
		uo_st.ring_va_size = req->va_size;
		uo_st.ring_observe = req->observe;
		if (req->globals)
			uo_orbit_drain_module(argbuf);
		uo_ring_serve(RING_FD, entry, init, argbuf);
	}

	memset(&run, 0, sizeof(run));
	run.argbuf = (uintptr_t)argbuf;
	run.argcap = uo_st.api.max_arg_size;
	for (;;) {
		orbit_entry fn;

		/* init sees the globals the orbit was created with. */
		if (!inited && !req->globals) {
			if (init)
				store = init();
			inited = 1;
		}
		run.tag = 0;
		if (ioctl(fd, ORBIT_IOC_RUN, &run) < 0) {
			if (errno == EINTR)
				continue;
			_exit(0);	/* main is gone or destroyed us */
		}
		if (last) {
			uo_push_last_sent(last);
			last = NULL;
			uo_arena_leave();
		}
		run.flags = ORBIT_RUN_HAVE_RESULT;
		run.push = 0;
		if (run.tag & UO_TAG_GLOBALS) {
			/* The library's own call: main's globals, fresh. */
			uo_globals_install(argbuf);
			run.retval = 0;
			continue;
		}
		/*
		 * init, after the globals, as part of the first call: its
		 * time counts against that call, as a hang or crash in it
		 * ends that call.
		 */
		if (!inited && init)
			store = init();
		inited = 1;
		uo_arena_enter(run.tag);
		fn = run.func ? (orbit_entry)(uintptr_t)run.func : entry;
		uo_push_last_begin();
		run.retval = fn ? fn(argbuf, store) : -1;
		/* An update pushed last may be in the slot: it goes after RUN. */
		last = uo_push_last_arm(&run, &last_req);
		if (!last)
			uo_arena_leave();
	}
}

/*
 * Forks an orbit.  With a cgroup, the child waits until the spawner moved
 * it there, so that everything it ever allocates is charged there.
 */
static pid_t spawn_orbit(const struct spawn_req *req, int fd, int ring)
{
	int gate[2] = { -1, -1 }, err;
	char c;
	pid_t pid;

	if (req->cgroup[0] && pipe2(gate, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		if (gate[0] >= 0) {
			close(gate[1]);
			if (read(gate[0], &c, 1) != 1)
				_exit(126);	/* not placed: never run */
			close(gate[0]);
		}
		orbit_main(req, fd, ring, orbit_prepare());
	}
	err = pid < 0 ? -errno : 0;
	if (gate[0] >= 0) {
		close(gate[0]);
		if (!err) {
			err = move_to_cgroup(req->cgroup, pid);
			if (err)
				kill(pid, SIGKILL);
			else if (write(gate[1], "g", 1) != 1)
				err = -EIO;
		}
		close(gate[1]);
	}
	return err ? err : pid;
}

/*
 * A spare: its socket with main is SPAWNER_FD.  With batch, it waits as
 * SCHED_BATCH and takes SCHED_OTHER back with its request.
 */
static __attribute__((noreturn)) void spare_main(int batch)
{
	struct spawn_req req;
	void *argbuf;
	int fd, ring;

	prctl(PR_SET_NAME, "orbit-spare");
	argbuf = orbit_prepare();
	if (recv_with_fds(SPAWNER_FD, &req, sizeof(req), &fd, &ring, 0) != 1)
		_exit(0);	/* main is gone, or dropped us */
	if (req.cgroup[0])
		_exit(126);	/* never sent: see uo_spawn() */
	if (batch && !req.background &&
	    sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ 0 }))
		_exit(123);
	orbit_main(&req, fd, ring, argbuf);
}

/*
 * The forker: forks a spare for every byte main sends on SPAWNER_FD (its
 * socket with main here) and hands main its end of the spare's socket,
 * until main's end closes.
 *
 * Main wakes the forker, to fork, and a spare, to start an orbit, in the
 * middle of a create: a woken SCHED_OTHER task would take main's CPU
 * first (wakeup preemption), and main would wait for the fork or the
 * orbit's start.  A SCHED_BATCH task does not preempt on wakeup, so the
 * forker and its spares run as such when the spawner runs as SCHED_OTHER.
 */
static __attribute__((noreturn)) void forker_main(void)
{
	struct spawn_reply msg;
	int sv[2], paired, sent, batch;
	char c;

	prctl(PR_SET_NAME, "orbit-forker");
	batch = sched_getscheduler(0) == SCHED_OTHER &&
		sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){ 0 }) == 0;
	while (read(SPAWNER_FD, &c, 1) == 1) {
		paired = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv) == 0;
		msg.pid = paired ? fork() : -1;
		if (msg.pid == 0) {
			/* Its socket only: it must see main's end close. */
			if (dup2(sv[1], SPAWNER_FD) < 0)
				_exit(127);
			close_range(SPAWNER_FD + 1, ~0U, 0);
			spare_main(batch);
		}
		if (msg.pid < 0) {
			msg.pid = -errno;
			sent = send(SPAWNER_FD, &msg, sizeof(msg), MSG_NOSIGNAL);
		} else {
			sent = send_with_fd(SPAWNER_FD, &msg, sizeof(msg), sv[0]);
		}
		if (paired) {
			close(sv[0]);
			close(sv[1]);
		}
		if (sent < 0)
			break;
	}
	_exit(0);
}

/* In the spawner: forks the forker and gives it FORKER_FD. */
static void forker_start(void)
{
	if (fork() == 0) {
		/* Main must see the end of the spawner's socket. */
		if (dup2(FORKER_FD, SPAWNER_FD) < 0)
			_exit(127);
		close_range(FORKER_FD, ~0U, 0);
		forker_main();
	}
	close(FORKER_FD);	/* without a forker, main sees the end */
}

/* The spawner's reply to main: 0, or -1 if it could not be sent. */
static int send_reply(const struct spawn_reply *rep)
{
	int i;

	for (i = 0; i < SEND_TRIES; i++) {
		if (send(SPAWNER_FD, rep, sizeof(*rep), MSG_NOSIGNAL) ==
		    sizeof(*rep))
			return 0;
		if (errno != ENOMEM && errno != ENOBUFS && errno != EFAULT &&
		    errno != EINTR)
			return -1;
		usleep(1000);
	}
	return -1;
}

/* base, size: main's area window, as it was before the fork. */
static __attribute__((noreturn)) void spawner_main(void *base, size_t size)
{
	int forker = 0;

	prctl(PR_SET_NAME, "orbit-spawner");
	reset_signals();
	/* Orbits are reaped by nobody: no zombies. */
	signal(SIGCHLD, SIG_IGN);
	/* Areas (not inherited) leave holes: reserve the whole window again. */
	if (base)
		mmap(base, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		     MAP_NORESERVE | MAP_FIXED, -1, 0);
	for (;;) {
		struct spawn_req req;
		struct spawn_reply rep;
		int fd, ring, got;

		req.seq = SEQ_LOST;	/* unless a request says otherwise */
		got = recv_with_fds(SPAWNER_FD, &req, sizeof(req), &fd, &ring,
				    0);
		if (got < 0 && errno == ECONNRESET)
			_exit(0);	/* main closed its end: it is gone */
		rep.seq = got < 0 ? SEQ_LOST : req.seq;
		if (got < 0)
			rep.pid = -ENOMEM;
		else
			rep.pid = got ? spawn_orbit(&req, fd, ring) : -errno;
		if (fd >= 0)
			close(fd);
		if (ring >= 0)
			close(ring);
		if (send_reply(&rep))
			_exit(0);
		if (!forker) {
			forker_start();
			forker = 1;
		}
	}
}

/* ---- main's side: the spares it holds ---------------------------------- */

static void forker_gone_locked(void)
{
	close(uo_st.forker_sock);
	uo_st.forker_sock = -1;
	uo_st.spares_asked = 0;
}

/* Closes the spares and the forker's socket: they exit. */
static void spares_drop_locked(void)
{
	while (uo_st.nspares)
		close(uo_st.spares[--uo_st.nspares]);
	if (uo_st.forker_sock >= 0)
		forker_gone_locked();
}

/*
 * Takes in the spares the forker has handed over; with wait, waits up to
 * SPARE_WAIT_MS for one on its way when none is held (a forker that
 * stopped must not stop creates: they fall back to the spawner).
 */
static void spares_collect_locked(int wait)
{
	struct pollfd pfd = { .events = POLLIN };
	struct spawn_reply msg;
	int fd, got;

	while (uo_st.forker_sock >= 0 && uo_st.spares_asked) {
		pfd.fd = uo_st.forker_sock;
		if (poll(&pfd, 1, wait && !uo_st.nspares ? SPARE_WAIT_MS : 0) == 0)
			return;
		got = recv_with_fd(uo_st.forker_sock, &msg, sizeof(msg), &fd,
				   MSG_DONTWAIT);
		if (got < 0 && errno == EAGAIN)
			return;
		if (got < 0) {
			forker_gone_locked();	/* orbits are forked now */
			return;
		}
		uo_st.spares_asked--;
		if (got == 1 && msg.pid > 0 && uo_st.nspares < UO_SPARES)
			uo_st.spares[uo_st.nspares++] = fd;
		else if (fd >= 0)
			close(fd);	/* that spare sees the end, exits */
	}
}

/* Asks the forker for spares until the pool will be full. */
static void spares_ask_locked(void)
{
	while (uo_st.forker_sock >= 0 &&
	       uo_st.nspares + uo_st.spares_asked < UO_SPARES) {
		if (send(uo_st.forker_sock, "s", 1, MSG_NOSIGNAL) != 1) {
			/* Out of memory: the next create asks again. */
			if (errno != ENOBUFS && errno != ENOMEM)
				forker_gone_locked();
			return;
		}
		uo_st.spares_asked++;
	}
}

/* Hands the request to the oldest spare that takes it: 0, or -1. */
static int spares_use_locked(const struct spawn_req *req, const int *fds,
			     unsigned int nfd)
{
	int sock, sent;

	spares_collect_locked(1);
	while (uo_st.nspares) {
		sock = uo_st.spares[0];
		memmove(&uo_st.spares[0], &uo_st.spares[1],
			--uo_st.nspares * sizeof(uo_st.spares[0]));
		sent = send_with_fds(sock, req, sizeof(*req), fds, nfd) == 0;
		close(sock);	/* a spare that did not get it exits */
		if (sent)
			return 0;
	}
	return -1;
}

static void spawner_stop_locked(void)
{
	spares_drop_locked();
	if (uo_st.spawner_sock < 0)
		return;
	close(uo_st.spawner_sock);	/* the spawner exits on EOF */
	uo_st.spawner_sock = -1;
	waitpid(uo_st.spawner_pid, NULL, 0);
	uo_st.spawner_pid = 0;
}

static int spawner_start_locked(void)
{
	int ctx = uo_ctx_fd(), sv[2], fv[2], f;
	struct orbit_spawner req;
	void *base;
	size_t size;
	pid_t pid;

	if (ctx < 0 || uo_va_reserve())
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fv) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	uo_st.spawner_adds = loaded_objects();
	uo_va_window(&base, &size);
	pid = fork();
	if (pid == 0) {
		/* Nothing of main's but stdio and the two sockets. */
		f = fcntl(fv[1], F_DUPFD, FORKER_FD + 1);
		if (f < 0 || dup2(sv[1], SPAWNER_FD) < 0 ||
		    dup2(f, FORKER_FD) < 0)
			_exit(127);
		close_range(FORKER_FD + 1, ~0U, 0);
		spawner_main(base, size);
	}
	close(sv[1]);
	close(fv[1]);
	if (pid < 0) {
		close(sv[0]);
		close(fv[0]);
		return -1;
	}
	uo_st.spawner_sock = sv[0];
	uo_st.spawner_pid = pid;
	uo_st.forker_sock = fv[0];
	uo_st.nspares = 0;
	uo_st.spares_asked = 0;
	/* The module kills the spawner when main goes away. */
	memset(&req, 0, sizeof(req));
	req.pid = pid;
	ioctl(ctx, ORBIT_IOC_SPAWNER, &req);
	return 0;
}

static void spawner_atfork_child(void)
{
	pthread_mutex_init(&uo_st.spawner_lock, NULL);
	if (uo_st.spawner_sock >= 0)
		close(uo_st.spawner_sock);
	uo_st.spawner_sock = -1;
	uo_st.spawner_pid = 0;
	spares_drop_locked();	/* the parent's */
}


static void spawner_register_atfork(void)
{
	pthread_atfork(NULL, NULL, spawner_atfork_child);
}

/*
 * Has the spawner fork the orbit: 0, or -1 (EPIPE: the spawner died;
 * ENOMEM: the request or its reply was lost to a shortage, see SEQ_LOST).
 */
static int spawn_once(struct spawn_req *req, const int *fds, unsigned int nfd)
{
	struct spawn_reply rep;
	ssize_t n;

	if (++uo_st.spawn_seq == SEQ_LOST)
		uo_st.spawn_seq++;
	req->seq = uo_st.spawn_seq;
	if (send_with_fds(uo_st.spawner_sock, req, sizeof(*req), fds, nfd))
		return -1;
	do {
		n = recv(uo_st.spawner_sock, &rep, sizeof(rep), 0);
		/* A reply to an earlier request whose reply was lost: drop it. */
	} while ((n < 0 && errno == EINTR) ||
		 (n == sizeof(rep) && rep.seq != req->seq && rep.seq != SEQ_LOST));
	if (n < 0 && errno != ECONNRESET) {
		errno = ENOMEM;	/* the reply, if it came, is lost: see SEQ_LOST */
		return -1;
	}
	if (n != sizeof(rep)) {
		errno = EPIPE;
		return -1;
	}
	if (rep.pid < 0) {
		errno = -rep.pid;
		return -1;
	}
	return 0;
}

/*
 * Starts the process for orbit_fd: in a spare if one takes it, else forked
 * by the spawner (a new spawner once main has new code, or when the old
 * one died); 0 or -1.
 */
int uo_spawn(struct orbit *ob, int orbit_fd)
{
	int fds[2] = { orbit_fd, ob->ring ? uo_ring_fd(ob->ring) : -1 };
	unsigned int nfd = ob->ring ? 2 : 1;
	struct spawn_req req;
	int ret, tries;
	void *arena;
	size_t slot;

	memset(&req, 0, sizeof(req));
	req.direct = !!ob->ring;
	req.observe = !!(ob->attr.flags & ORBIT_OBSERVE_ONLY);
	if (ob->ring) {
		void *b;
		size_t n;

		if (uo_va_reserve())
			return -1;
		uo_va_window(&b, &n);
		req.va_base = (uintptr_t)b;
		req.va_size = n;
	}
	req.entry = (uintptr_t)ob->entry;
	req.init = (uintptr_t)ob->init;
	req.id = ob->id;
	req.globals = (uint32_t)ob->globals;
	req.background = !!(ob->attr.flags & ORBIT_BACKGROUND);
	uo_arena_region(ob->arena, &arena, &slot);
	req.arena_base = (uintptr_t)arena;
	req.slot_size = slot;
	memcpy(req.name, ob->name, sizeof(req.name));
	memcpy(req.cgroup, ob->cgroup, sizeof(req.cgroup));

	pthread_once(&uo_st.spawner_once, spawner_register_atfork);
	pthread_mutex_lock(&uo_st.spawner_lock);
	for (tries = 0; tries < 2; tries++) {
		if (uo_st.spawner_sock >= 0 && uo_st.spawner_adds != loaded_objects())
			spawner_stop_locked();	/* main has new code */
		if (uo_st.spawner_sock < 0 && spawner_start_locked()) {
			ret = -1;
			break;
		}
		if (!req.cgroup[0]) {
			ret = spares_use_locked(&req, fds, nfd);
			spares_ask_locked();
			if (!ret)
				break;
		}
		ret = spawn_once(&req, fds, nfd);
		if (!ret || errno != EPIPE)
			break;
		spawner_stop_locked();	/* the spawner died: a new one */
	}
	pthread_mutex_unlock(&uo_st.spawner_lock);
	return ret;
}
