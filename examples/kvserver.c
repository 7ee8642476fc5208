// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A small TCP key-value server (loopback only) whose slow-query log is an
 * auxiliary task (the paper's Table 2).  The task runs, selected by
 * --mode:
 *   orbit   in an orbit: queries over the threshold are sent with async
 *           fire-and-forget calls; SLOWLOG GET asks the orbit with a
 *           func_once call that pushes the log back as an update
 *   thread  in a thread fed by a queue, in the server's address space
 *   fork    in a child forked per call (fork-per-call); the log lives in
 *           a shared mapping, SLOWLOG GET reads it in a child too
 * Fault switches: the command CRASH makes the next slow-log task
 * dereference NULL: in an orbit the server keeps serving (the orbit
 * restarts, its log starts over); in a thread the whole server dies.
 * HANG makes the next task spin forever: an orbit hits its call timeout
 * (1 s) and restarts; in a thread the task hangs holding the log's lock,
 * and SLOWLOG never answers again.
 *
 *   kvserver serve [--mode orbit|thread|fork] [--port N] [--slow-us N]
 *   kvserver client PORT COMMAND...      one request per argument
 *   kvserver load PORT N                 N mixed requests, prints a summary
 * Commands: SET k v | GET k | SLOW k (a deliberately slow GET) |
 *           SLOWLOG GET | SLOWLOG LEN | CRASH | HANG | QUIT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <orbit.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "example.h"

#define NKEYS	1024
#define LOGMAX	64
#define LINE	256

struct slow_entry {		/* argument of a slow-log call */
	long us;
	int crash;		/* fault switch: crash in the task */
	int hang;		/* fault switch: hang in the task */
	char query[LINE];
};

struct kv {			/* the table, in main */
	pthread_mutex_t lock;
	char key[NKEYS][32];
	char val[NKEYS][64];
};

static struct kv kv = { .lock = PTHREAD_MUTEX_INITIALIZER };
static long slow_us = 2000;
static enum ex_mode mode = EX_ORBIT;
static int crash_next, hang_next;
static struct orbit *slowlog;

/* ---- the slow-log task (same code in an orbit or in a thread) -------- */

struct slowlog_state {
	struct slow_entry e[LOGMAX];
	long n;			/* entries ever logged */
};

static void *slowlog_init(void)
{
	return calloc(1, sizeof(struct slowlog_state));
}

static long slowlog_add(void *arg, void *store)
{
	struct slow_entry *e = arg;
	struct slowlog_state *s = store;

	long n;

	if (e->crash)
		*(volatile long *)NULL = 0;	/* injected fault */
	while (*(volatile int *)&e->hang)
		;				/* injected hang */
	/* Atomic: fork-mode children may add concurrently. */
	n = __atomic_add_fetch(&s->n, 1, __ATOMIC_RELAXED);
	s->e[(n - 1) % LOGMAX] = *e;
	return n;
}

/* The last LOGMAX entries as text; returns bytes. */
static size_t format_log(const struct slowlog_state *s, char *out,
			 size_t cap)
{
	long i, from = s->n > LOGMAX ? s->n - LOGMAX : 0;
	size_t len = 0;

	for (i = from; i < s->n && len < cap; i++)
		len += snprintf(out + len, cap - len, "%ld us: %s\n",
				s->e[i % LOGMAX].us, s->e[i % LOGMAX].query);
	return len < cap ? len : cap - 1;
}

/* func_once in the orbit: push the log back as one data update. */
static long slowlog_dump(void *arg, void *store)
{
	struct slowlog_state *s = store;
	struct orbit_update *u = orbit_update_create();
	char buf[LOGMAX * (LINE + 32)];
	size_t len = format_log(s, buf, sizeof(buf));

	if (orbit_update_add_data(u, buf, len) || orbit_push(u, NULL))
		orbit_update_free(u);
	return s->n;
}

/* Thread mode: a queue drained by one thread running the same task. */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct slow_entry queue[256];
static unsigned int q_head, q_tail;
/* s_lock protects the thread-mode log state against SLOWLOG readers. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slowlog_state *thread_state;	/* thread and fork modes */

static void *slowlog_thread(void *unused)
{
	for (;;) {
		struct slow_entry e;

		pthread_mutex_lock(&q_lock);
		while (q_head == q_tail)
			pthread_cond_wait(&q_cond, &q_lock);
		e = queue[q_head++ % 256];
		pthread_mutex_unlock(&q_lock);
		pthread_mutex_lock(&s_lock);
		slowlog_add(&e, thread_state);
		pthread_mutex_unlock(&s_lock);
	}
	return NULL;
}

static void log_slow(const char *query, long us)
{
	struct slow_entry e = { .us = us };

	snprintf(e.query, sizeof(e.query), "%s", query);
	e.crash = __atomic_exchange_n(&crash_next, 0, __ATOMIC_RELAXED);
	e.hang = __atomic_exchange_n(&hang_next, 0, __ATOMIC_RELAXED);
	if (mode == EX_FORK) {
		/* A child per call; SIGCHLD is ignored, so it reaps itself;
		 * SIGALRM ends a hung one.
		 */
		if (fork() == 0) {
			alarm(1);
			_exit(slowlog_add(&e, thread_state) > 0 ? 0 : 1);
		}
		return;
	}
	if (mode == EX_ORBIT) {
		/* Fire and forget: the server never waits for the log. */
		if (!orbit_call_async(slowlog, ORBIT_NOFUTURE, 0, NULL,
				      slowlog_add, &e, sizeof(e)) && errno)
			fprintf(stderr, "kvserver: slow log: %s\n",
				strerror(errno));
		return;
	}
	pthread_mutex_lock(&q_lock);
	if (q_tail - q_head < 256)
		queue[q_tail++ % 256] = e;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

/* Fork mode: a child formats the log and sends it through a pipe; a
 * child that does not answer within 1 s is killed.
 */
static size_t slowlog_get_fork(char *out, size_t cap)
{
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return snprintf(out, cap, "ERR pipe: %s\n", strerror(errno));
	pid = fork();
	if (pid == 0) {
		char buf[LOGMAX * (LINE + 32)];
		size_t l = format_log(thread_state, buf, sizeof(buf));

		_exit(write(fds[1], buf, l) == (ssize_t)l ? 0 : 1);
	}
	close(fds[1]);
	pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	while (pid > 0 && len < cap - 1 && poll(&pfd, 1, 1000) == 1 &&
	       (n = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	if (pid > 0)
		kill(pid, SIGKILL);	/* done, or hung */
	return len;
}

/* SLOWLOG GET into out; returns bytes. */
static size_t slowlog_get(char *out, size_t cap)
{
	const struct orbit_update_entry *e;
	struct orbit_update *u;
	size_t len = 0;
	long n;

	if (mode == EX_FORK)
		return slowlog_get_fork(out, cap);
	if (mode == EX_THREAD) {
		pthread_mutex_lock(&s_lock);
		len = format_log(thread_state, out, cap);
		pthread_mutex_unlock(&s_lock);
		return len;
	}
	n = orbit_call(slowlog, 0, NULL, slowlog_dump, NULL, 0);
	if (n < 0 && errno)
		return snprintf(out, cap, "ERR slow log unavailable: %s\n",
				strerror(errno));
	while (pull_orbit(NULL, &u) == 1) {
		e = orbit_update_first(u);
		if (e && e->len < cap - len) {
			memcpy(out + len, e->data, e->len);
			len += e->len;
		}
		orbit_update_free(u);
	}
	return len;
}

/* ---- the server ------------------------------------------------------ */

static unsigned int slot(const char *k)
{
	unsigned int h = 5381;

	while (*k)
		h = h * 33 + (unsigned char)*k++;
	return h % NKEYS;
}

static void handle(const char *line, char *out, size_t cap)
{
	char cmd[16] = "", k[32] = "", v[64] = "";
	double t0 = ex_now_us();
	long us;

	sscanf(line, "%15s %31s %63s", cmd, k, v);
	if (!strcmp(cmd, "SET") && *k) {
		pthread_mutex_lock(&kv.lock);
		strcpy(kv.key[slot(k)], k);
		strcpy(kv.val[slot(k)], v);
		pthread_mutex_unlock(&kv.lock);
		snprintf(out, cap, "OK\n");
	} else if ((!strcmp(cmd, "GET") || !strcmp(cmd, "SLOW")) && *k) {
		if (!strcmp(cmd, "SLOW"))
			usleep(3 * slow_us);	/* a query gone slow */
		pthread_mutex_lock(&kv.lock);
		snprintf(out, cap, "%s\n", strcmp(kv.key[slot(k)], k) ?
			 "NIL" : kv.val[slot(k)]);
		pthread_mutex_unlock(&kv.lock);
	} else if (!strcmp(cmd, "SLOWLOG") && !strcmp(k, "GET")) {
		size_t len = slowlog_get(out, cap - 8);

		snprintf(out + len, cap - len, "END\n");	/* multi-line */
		return;
	} else if (!strcmp(cmd, "SLOWLOG") && !strcmp(k, "LEN")) {
		char buf[LOGMAX * (LINE + 32)];
		size_t i, n = 0, len = slowlog_get(buf, sizeof(buf));

		for (i = 0; i < len; i++)
			n += buf[i] == '\n';
		snprintf(out, cap, "%zu\n", n);
		return;
	} else if (!strcmp(cmd, "CRASH")) {
		__atomic_store_n(&crash_next, 1, __ATOMIC_RELAXED);
		snprintf(out, cap, "OK the next slow-log task will crash\n");
		return;
	} else if (!strcmp(cmd, "HANG")) {
		__atomic_store_n(&hang_next, 1, __ATOMIC_RELAXED);
		snprintf(out, cap, "OK the next slow-log task will hang\n");
		return;
	} else {
		snprintf(out, cap, "ERR unknown command\n");
	}
	us = (long)(ex_now_us() - t0);
	if (us > slow_us)
		log_slow(line, us);
}

static void *conn_thread(void *p)
{
	int fd = (int)(long)p;
	char in[LINE], out[LOGMAX * (LINE + 32)];
	FILE *f = fdopen(fd, "r+");

	while (f && fgets(in, sizeof(in), f)) {
		in[strcspn(in, "\r\n")] = 0;
		if (!strcmp(in, "QUIT"))
			break;
		handle(in, out, sizeof(out));
		fputs(out, f);
		fflush(f);
	}
	if (f)
		fclose(f);
	return NULL;
}

static int serve(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (mode == EX_ORBIT) {
		struct orbit_attr attr;

		orbit_attr_init(&attr);
		attr.restart = ORBIT_RESTART_ALWAYS;
		attr.timeout_ns = 1000000000ULL;	/* a hung task */
		slowlog = orbit_create_ex("slowlog", slowlog_add, slowlog_init,
					  &attr);
		if (!slowlog) {
			ex_orbit_error("kvserver: orbit_create");
			return 1;
		}
	} else if (mode == EX_FORK) {
		thread_state = mmap(NULL, sizeof(*thread_state),
				    PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (thread_state == MAP_FAILED) {
			perror("kvserver: mmap");
			return 1;
		}
		signal(SIGCHLD, SIG_IGN);
	} else {
		pthread_t t;

		thread_state = slowlog_init();
		pthread_create(&t, NULL, slowlog_thread, NULL);
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 64)) {
		perror("kvserver: bind");
		return 1;
	}
	printf("kvserver: serving on 127.0.0.1:%d, slow log in %s\n", port,
	       mode == EX_ORBIT ? "an orbit" : mode == EX_FORK ?
	       "a child per call" : "a thread");
	fflush(stdout);
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (c < 0)
			continue;
		pthread_create(&t, NULL, conn_thread, (void *)(long)c);
		pthread_detach(t);
	}
}

/* ---- client and load driver ------------------------------------------ */

static FILE *dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		if (s >= 0)
			close(s);
		return NULL;
	}
	return fdopen(s, "r+");
}

/* Sends one request; copies the reply to out (SLOWLOG GET: up to END). */
static int request(FILE *f, const char *cmd, char *out, size_t cap)
{
	int multi = !strncmp(cmd, "SLOWLOG GET", 11);
	size_t len = 0;

	fprintf(f, "%s\n", cmd);
	fflush(f);
	do {
		if (len >= cap - 1 || !fgets(out + len, (int)(cap - len), f))
			return -1;
		if (multi && !strcmp(out + len, "END\n")) {
			out[len] = 0;
			break;
		}
		len += strlen(out + len);
	} while (multi);
	return 0;
}

static int client(int port, int n, char **cmds)
{
	char out[LOGMAX * (LINE + 32)];
	FILE *f = dial(port);
	int i;

	if (!f) {
		perror("kvserver client: connect");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (request(f, cmds[i], out, sizeof(out))) {
			fprintf(stderr, "kvserver client: no reply to '%s'\n",
				cmds[i]);
			return 1;
		}
		printf("> %s\n%s", cmds[i], out);
	}
	fclose(f);
	return 0;
}

/* n requests, every 50th one slow; prints a summary and a RESULT line. */
static int load(int port, int n)
{
	static struct ex_lat lat;
	char cmd[64], out[256];
	FILE *f = dial(port);
	double t0 = ex_now_us(), t, secs;
	int i, bad = 0;

	if (!f) {
		perror("kvserver load: connect");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (i % 2 == 0)
			snprintf(cmd, sizeof(cmd), "SET k%d v%d", i % 100, i);
		else if (i % 50 == 1)
			snprintf(cmd, sizeof(cmd), "SLOW k%d", (i - 1) % 100);
		else
			snprintf(cmd, sizeof(cmd), "GET k%d", (i - 1) % 100);
		t = ex_now_us();
		if (request(f, cmd, out, sizeof(out)) || !strncmp(out, "ERR", 3))
			bad++;
		ex_lat_add(&lat, ex_now_us() - t);
	}
	fclose(f);
	secs = (ex_now_us() - t0) / 1e6;
	printf("load: %d requests in %.2f s, %d failed\n", n, secs, bad);
	printf("RESULT kvserver requests=%d secs=%.2f per_s=%.1f failed=%d p50_us=%.0f p99_us=%.0f\n",
	       n, secs, n / secs, bad, ex_percentile(lat.v, lat.n, 50),
	       ex_percentile(lat.v, lat.n, 99));
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	int port = 7379, i;

	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "serve")) {
		for (i = 2; i < argc - 1; i++) {
			if (!strcmp(argv[i], "--mode"))
				mode = ex_parse_mode(argv[++i]);
			else if (!strcmp(argv[i], "--port"))
				port = atoi(argv[++i]);
			else if (!strcmp(argv[i], "--slow-us"))
				slow_us = atol(argv[++i]);
		}
		return serve(port);
	}
	if (argc >= 4 && !strcmp(argv[1], "client"))
		return client(atoi(argv[2]), argc - 3, argv + 3);
	if (argc == 4 && !strcmp(argv[1], "load"))
		return load(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: kvserver serve [--mode orbit|thread|fork] [--port N] [--slow-us N]\n"
			"       kvserver client PORT COMMAND...\n"
			"       kvserver load PORT N\n");
	return 2;
}
