// SPDX-License-Identifier: GPL-2.0
/*
 * The module kills only what main could kill itself: an unprivileged main
 * that names a root process (a setuid program that became root) as its
 * spawner, or whose orbit execs such a program, does not get that process
 * killed when main exits or destroys the orbit.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

#define SUID	"/tmp/orbit-suid-sleeper"

/* Is pid a live (not zombie) process running as root? */
static int alive_as_root(pid_t pid)
{
	char path[64], line[256];
	int uid = -1, zombie = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "State:", 6) && strchr(line, 'Z'))
			zombie = 1;
		if (!strncmp(line, "Uid:", 4))
			uid = atoi(line + 4);
	}
	fclose(f);
	return !zombie && uid == 0;
}

static pid_t wait_root_sleeper(pid_t pid)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (alive_as_root(pid))
			return pid;
		usleep(10000);
	}
	return -1;
}

/* The orbit's task: keep its descriptor across exec, become root. */
static long exec_suid(void *argbuf, void *store)
{
	int fd = fd_linked_to("[orbit]");

	if (fd >= 0)
		fcntl(fd, F_SETFD, 0);
	execl(SUID, SUID, "sleeper", (char *)NULL);
	return -1;
}

/* As user 1000: a raw context whose "spawner" is a root process. */
static void spawner_case(int report)
{
	struct orbit_api api = { .api = ORBIT_API_VERSION };
	int ctx, pfd[2];
	pid_t g;

	if (setgid(1000) || setuid(1000))
		_exit(1);
	ctx = open("/dev/orbit", O_RDWR | O_CLOEXEC);
	if (ctx < 0 || ioctl(ctx, ORBIT_IOC_API, &api))
		_exit(2);
	if (pipe(pfd))
		_exit(3);
	g = fork();
	if (g == 0) {
		execl(SUID, SUID, "sleeper", (char *)NULL);
		_exit(127);
	}
	if (wait_root_sleeper(g) < 0)
		_exit(4);
	ioctl(ctx, ORBIT_IOC_SPAWNER, &(struct orbit_spawner){ .pid = g });
	/* (which the module may refuse: then it kills nothing either) */
	if (write(report, &g, sizeof(g)) != sizeof(g))
		_exit(5);
	_exit(0);	/* main goes away: its context is torn down */
}

static void orbit_case(int report)
{
	struct orbit_future *f;
	struct orbit *ob;
	pid_t pid = -1;
	int i;

	if (setgid(1000) || setuid(1000))
		_exit(1);
	ob = orbit_create("suidorbit", exec_suid, NULL);
	if (!ob)
		_exit(2);
	f = orbit_call_async(ob, ORBIT_NOFUTURE, 0, NULL, NULL, NULL, 0);
	(void)f;
	for (i = 0; i < 200 && pid < 0; i++) {
		pid_t p;

		if (procs_named("orbit-suid-slee", &p) == 1 && alive_as_root(p))
			pid = p;
		else
			usleep(10000);
	}
	if (pid < 0)
		_exit(3);
	orbit_destroy(ob);
	if (write(report, &pid, sizeof(pid)) != sizeof(pid))
		_exit(5);
	_exit(0);
}

static void run_case(const char *what, void (*fn)(int))
{
	int pfd[2], status;
	pid_t child, victim = -1;

	require(pipe(pfd) == 0, "pipe");
	child = fork();
	if (child == 0) {
		close(pfd[0]);
		fn(pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &victim, sizeof(victim)) != sizeof(victim))
		victim = -1;
	close(pfd[0]);
	waitpid(child, &status, 0);
	ok(victim > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "%s: set up (status %d)", what, WEXITSTATUS(status));
	usleep(300000);
	ok(victim > 0 && alive_as_root(victim),
	   "%s: the root process survives", what);
	if (victim > 0) {
		kill(victim, SIGKILL);
		waitpid(victim, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	struct orbit_module_stats start;

	if (argc > 1 && !strcmp(argv[1], "sleeper")) {
		if (setresuid(0, 0, 0))
			return 1;
		for (;;)
			pause();
	}
	require(orbit_module_stats(&start) == 0, "read module counters");
	{
		char cmd[600], self[256] = "";

		if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
			strcpy(self, argv[0]);
		snprintf(cmd, sizeof(cmd), "cp %s %s && chown 0:0 %s && chmod 4755 %s",
			 self, SUID, SUID, SUID);
		require(system(cmd) == 0, "a setuid-root helper");
	}
	/* Orphans are reaped by init; keep them ours to check on. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	run_case("a root process named as spawner", spawner_case);
	run_case("an orbit that execs a setuid program", orbit_case);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
