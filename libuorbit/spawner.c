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
 * The child is forked ahead of time: once a creation is SPARE_DELAY_MS
 * behind it, the spawner forks a spare, which waits on its own socket for
 * the next request, so that a create or a restart does not wait for a
 * fork (back-to-back creates still do).  A spare is a fork
 * of the same spawner at another moment, and the spawner never changes
 * between requests, so an orbit started from a spare is the orbit a fork
 * would have made.  An orbit placed in a cgroup is forked when asked for,
 * so that all it ever allocates is charged there.  A spare exits with its
 * spawner; orbits do not.
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

#define SPAWNER_FD	3
#define SPARE_DELAY_MS	5

struct spawn_req {
	uint64_t entry;
	uint64_t init;
	uint64_t arena_base;	/* its update arena's region, or 0 */
	uint64_t slot_size;
	uint32_t id;		/* orbit_self() */
	uint32_t globals;	/* a globals call comes first: init after it */
	uint32_t background;	/* ORBIT_BACKGROUND: runs SCHED_BATCH */
	uint32_t pad;
	char name[ORBIT_NAME_MAX];
	char cgroup[256];
};

struct spawn_reply {
	int32_t pid;	/* > 0, or -errno */
};

/* Sends a request and a descriptor: 0, or -1 with errno set. */
static int send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	return 0;
}

/*
 * Receives a request of exactly len bytes and its descriptor: 1; 0 for a
 * short or descriptor-less message (*fd is -1 then); -1 at the end of the
 * stream or on an error.
 */
static int recv_with_fd(int sock, void *buf, size_t len, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if ((size_t)n == len && *fd >= 0)
		return 1;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 0;
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

static __attribute__((noreturn)) void orbit_main(const struct spawn_req *req,
						 int fd, void *argbuf)
{
	orbit_entry entry = (orbit_entry)(uintptr_t)req->entry;
	void *(*init)(void) = (void *(*)(void))(uintptr_t)req->init;
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
	/* Nothing of the spawner's but stdio; the handle becomes fd 3. */
	if (fd != SPAWNER_FD && dup3(fd, SPAWNER_FD, O_CLOEXEC) < 0)
		_exit(125);
	fd = SPAWNER_FD;
	close_range(SPAWNER_FD + 1, ~0U, 0);
	memset(&at, 0, sizeof(at));
	if (ioctl(fd, ORBIT_IOC_ATTACH, &at) < 0)
		_exit(125);
	uo_st.orbit_fd = fd;
	uo_st.self_id = req->id;
	memcpy(uo_st.self_name, req->name, sizeof(uo_st.self_name));
	uo_st.arena_base = (unsigned char *)(uintptr_t)req->arena_base;
	uo_st.slot_size = req->slot_size;

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
		run.flags = ORBIT_RUN_HAVE_RESULT;
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
		run.retval = fn ? fn(argbuf, store) : -1;
		uo_arena_leave();
	}
}

/*
 * Forks an orbit.  With a cgroup, the child waits until the spawner moved
 * it there, so that everything it ever allocates is charged there.
 */
static pid_t spawn_orbit(const struct spawn_req *req, int fd)
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
		orbit_main(req, fd, orbit_prepare());
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

/* The spawner's spare: a forked child waiting for its orbit. */
struct spare {
	pid_t pid;
	int sock;	/* the spawner's end; -1 without a spare */
};

/*
 * The spawner holds the only other end of sock: the spare exits when the
 * spawner does (main closed it, or the module killed it with main).
 */
static __attribute__((noreturn)) void spare_main(int sock)
{
	struct spawn_req req;
	void *argbuf;
	int fd;

	prctl(PR_SET_NAME, "orbit-spare");
	argbuf = orbit_prepare();
	if (recv_with_fd(sock, &req, sizeof(req), &fd) != 1)
		_exit(0);	/* the spawner is gone, or gave up on us */
	if (req.cgroup[0])
		_exit(126);	/* never sent: see spawn_request() */
	orbit_main(&req, fd, argbuf);
}

/* Forks a spare if there is none; without one, orbits are forked later. */
static void spare_fill(struct spare *sp)
{
	int sv[2];
	pid_t pid;

	if (sp->sock >= 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		/* Main must see the end of its socket when the spawner dies. */
		close(SPAWNER_FD);
		close(sv[0]);
		spare_main(sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	sp->pid = pid;
	sp->sock = sv[0];
}

/*
 * Forks the spare once no request came for SPARE_DELAY_MS: the new orbit
 * starts meanwhile, without a fork beside it taking a CPU.
 */
static void spare_fill_idle(struct spare *sp)
{
	struct pollfd pfd = { .fd = SPAWNER_FD, .events = POLLIN };

	if (sp->sock < 0 && poll(&pfd, 1, SPARE_DELAY_MS) == 0)
		spare_fill(sp);
}

/*
 * Starts the requested orbit: from the spare if there is one that takes
 * the request, else by a fork; its pid or -errno.
 */
static pid_t spawn_request(struct spare *sp, const struct spawn_req *req,
			   int fd)
{
	pid_t pid = sp->pid;
	int sent;

	if (req->cgroup[0] || sp->sock < 0)
		return spawn_orbit(req, fd);
	sent = send_with_fd(sp->sock, req, sizeof(*req), fd) == 0;
	close(sp->sock);	/* a spare that did not get it exits */
	sp->sock = -1;
	return sent ? pid : spawn_orbit(req, fd);
}

/* base, size: main's area window, as it was before the fork. */
static __attribute__((noreturn)) void spawner_main(void *base, size_t size)
{
	struct spare spare = { .sock = -1 };

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
		int fd, got;

		got = recv_with_fd(SPAWNER_FD, &req, sizeof(req), &fd);
		if (got < 0)
			_exit(0);	/* main closed its end: it is gone */
		rep.pid = got ? spawn_request(&spare, &req, fd) : -EINVAL;
		if (fd >= 0)
			close(fd);
		if (send(SPAWNER_FD, &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
			_exit(0);
		spare_fill_idle(&spare);
	}
}

static void spawner_stop_locked(void)
{
	if (uo_st.spawner_sock < 0)
		return;
	close(uo_st.spawner_sock);	/* the spawner exits on EOF */
	uo_st.spawner_sock = -1;
	waitpid(uo_st.spawner_pid, NULL, 0);
	uo_st.spawner_pid = 0;
}

static int spawner_start_locked(void)
{
	int ctx = uo_ctx_fd(), sv[2];
	struct orbit_spawner req;
	void *base;
	size_t size;
	pid_t pid;

	if (ctx < 0 || uo_va_reserve())
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	uo_st.spawner_adds = loaded_objects();
	uo_va_window(&base, &size);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(sv[1], SPAWNER_FD) < 0)
			_exit(127);
		/* Nothing of main's but stdio and the socket. */
		close_range(SPAWNER_FD + 1, ~0U, 0);
		spawner_main(base, size);
	}
	close(sv[1]);
	uo_st.spawner_sock = sv[0];
	uo_st.spawner_pid = pid;
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
}


static void spawner_register_atfork(void)
{
	pthread_atfork(NULL, NULL, spawner_atfork_child);
}

static int spawn_once(const struct spawn_req *req, int orbit_fd, pid_t *pid)
{
	struct spawn_reply rep;
	ssize_t n;

	if (send_with_fd(uo_st.spawner_sock, req, sizeof(*req), orbit_fd))
		return -1;
	do {
		n = recv(uo_st.spawner_sock, &rep, sizeof(rep), 0);
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(rep)) {
		errno = EPIPE;
		return -1;
	}
	if (rep.pid < 0) {
		errno = -rep.pid;
		return -1;
	}
	*pid = rep.pid;
	return 0;
}

int uo_spawn(struct orbit *ob, int orbit_fd, pid_t *pid)
{
	struct spawn_req req;
	int ret, tries;
	void *arena;
	size_t slot;

	memset(&req, 0, sizeof(req));
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
		ret = spawn_once(&req, orbit_fd, pid);
		if (!ret || errno != EPIPE)
			break;
		spawner_stop_locked();	/* the spawner died: a new one */
	}
	pthread_mutex_unlock(&uo_st.spawner_lock);
	return ret;
}
