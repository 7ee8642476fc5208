// SPDX-License-Identifier: GPL-2.0
/*
 * orbitctl against a running program with two orbits: list, show, stats
 * (tables and JSON) name them, their main's command, their states, and
 * their counters move with calls; kill makes main see ESRCH and the orbit
 * restart per policy, and list shows how it died and the call that
 * failed; names in UTF-8 stay UTF-8 in JSON and control characters are
 * escaped in both outputs; a non-root user sees and kills only their own
 * orbits; check finds the guest's setup in order; bad usage (unknown
 * options, extra arguments) exits 2, no match exits 1.
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "json.h"
#include "tap.h"
#include "util.h"

#define CTL "/tests/orbitctl"

static char out[65536];

/* Runs a shell command; its output in out, its exit status returned. */
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	size_t n;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The list line of the orbit called name, or NULL. */
static const char *line_of(const char *name)
{
	char *p = strstr(out, name);

	while (p && p > out && p[-1] != '\n')
		p--;
	return p;
}

/*
 * Fields of a list line: PID MAIN COMMAND ID NAME STATE CALLS QUEUED
 * FAILED RESTARTS DEATH ...
 */
static char comm[64], death[32];
static long failed;

static int parse_line(const char *l, int *pid, char *state, long *calls,
		      int *restarts)
{
	int mainpid, id;
	long queued;
	char name[64];

	return l && sscanf(l, "%d %d %63s %d %63s %15s %ld %ld %ld %d %31s", pid,
			   &mainpid, comm, &id, name, state, calls, &queued,
			   &failed, restarts, death) == 11;
}

static long nap(void *argbuf, void *store)
{
	usleep(*(int *)argbuf);
	return 1;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_attr attr;
	struct orbit_area *area;
	struct orbit_future *f;
	struct orbit *a, *b;
	char state[16];
	long calls, r;
	int pid_a, pid_b, restarts, i, zero = 0, status;
	pid_t child;

	require(orbit_module_stats(&start) == 0, "read module counters");
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	a = orbit_create_ex("ctl-alpha", nap, NULL, &attr);
	b = orbit_create("ctl-beta", nap, NULL);
	area = orbit_area_create(1 << 20, a);
	require(a && b && area, "two orbits and an area");
	for (i = 0; i < 5; i++)
		orbit_call(a, 1, &area, NULL, &zero, sizeof(zero));
	for (i = 0; i < 2; i++)
		orbit_call(b, 0, NULL, NULL, &zero, sizeof(zero));

	ok(run(CTL " list") == 0, "orbitctl list exits 0");
	ok(parse_line(line_of("ctl-alpha"), &pid_a, state, &calls, &restarts) &&
	   !strcmp(state, "ready") && calls == 5 && restarts == 0 &&
	   !strcmp(comm, "t_orbitctl") && !strcmp(death, "-") && !failed,
	   "list shows ctl-alpha ready with 5 calls, main's command, no death");
	ok(parse_line(line_of("ctl-beta"), &pid_b, state, &calls, &restarts) &&
	   calls == 2, "list shows ctl-beta with 2 calls");
	for (i = 0; i < 3; i++)
		orbit_call(a, 1, &area, NULL, &zero, sizeof(zero));
	run(CTL " list");
	ok(parse_line(line_of("ctl-alpha"), &pid_a, state, &calls, &restarts) &&
	   calls == 8, "its call counter moves with calls (8)");

	ok(run(CTL " --json list") == 0 && json_valid(out) &&
	   strstr(out, "\"name\": \"ctl-alpha\"") && strstr(out, "\"state\": \"ready\""),
	   "list --json parses and names the orbits");
	ok(run(CTL " show %d", pid_a) == 0 && strstr(out, "ctl-alpha") &&
	   strstr(out, "calls done:   8"), "show PID prints the orbit");
	ok(run(CTL " show %d --json", pid_a) == 0 && json_valid(out),
	   "show --json parses");
	ok(run(CTL " stats") == 0 && strstr(out, "orbits"), "stats prints counters");
	ok(run(CTL " --json stats") == 0 && json_valid(out) &&
	   strstr(out, "\"calls_total\""), "stats --json parses");

	i = 3000000;	/* a long call in flight while the orbit is killed */
	f = orbit_call_async(a, 0, 0, NULL, NULL, &i, sizeof(i));
	usleep(200000);
	ok(run(CTL " kill %d", pid_a) == 0 && strstr(out, "killed orbit"),
	   "kill PID kills the orbit");
	ok(f && orbit_future_get(f, &r) == -1 && errno == ESRCH,
	   "main sees ESRCH for the call in flight");
	ok(orbit_call(a, 0, NULL, NULL, &zero, sizeof(zero)) == 1,
	   "the next call works: restarted per policy");
	run(CTL " list");
	ok(parse_line(line_of("ctl-alpha"), &i, state, &calls, &restarts) &&
	   restarts == 1 && i != pid_a, "list shows 1 restart and a new pid");
	ok(!strcmp(death, "SIGKILL") && failed == 1,
	   "and how it died (%s) and the call that failed (%ld)", death, failed);
	ok(run(CTL " kill --name ctl-beta") == 0, "kill --name");
	ok(orbit_call(b, 0, NULL, NULL, &zero, sizeof(zero)) == -1 &&
	   errno == ESRCH, "without a restart policy the orbit stays dead");
	run(CTL " list");
	ok(parse_line(line_of("ctl-beta"), &i, state, &calls, &restarts) &&
	   !strcmp(state, "dead"), "list shows ctl-beta dead");

	ok(run(CTL " show 999999") == 1, "show of a non-orbit exits 1");
	ok(run(CTL " bogus 2>/dev/null") == 2, "unknown command exits 2");
	ok(run(CTL " --jsn list 2>/dev/null") == 2, "an unknown option exits 2");
	ok(run(CTL " list extra 2>/dev/null") == 2, "an extra argument exits 2");
	ok(run(CTL " -V") == 0 && strstr(out, "orbitctl ") && strstr(out, "ABI 2"),
	   "-V prints the versions");
	ok(run(CTL " --help") == 0 && strstr(out, "usage"), "--help exits 0");
	ok(run(CTL " -p stats") == 0 && json_valid(out) && strstr(out, "\n  \""),
	   "-p prints indented JSON");
	ok(run(CTL " check") == 0 && strstr(out, "everything is in place"),
	   "check finds the guest's setup in order");
	ok(run(CTL " kill --name no-such-orbit") == 1, "kill without a match exits 1");

	child = fork();
	if (child == 0) {
		struct orbit *mine;
		int rc = 0;

		if (setgid(1000) || setuid(1000))
			_exit(100);
		if (run(CTL " list") != 0 || strstr(out, "ctl-alpha"))
			rc |= 1;
		if (run(CTL " kill --name ctl-alpha") != 1)
			rc |= 2;
		mine = orbit_create("ctl-user", nap, NULL);
		if (!mine || run(CTL " list") != 0 || !strstr(out, "ctl-user") ||
		    strstr(out, "ctl-alpha"))
			rc |= 4;
		_exit(rc);
	}
	waitpid(child, &status, 0);
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 1) &&
	   WEXITSTATUS(status) != 100, "a non-root user does not see root's orbits");
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 2),
	   "a non-root user cannot kill them");
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 4),
	   "a non-root user sees their own orbit");
	ok(orbit_call(a, 0, NULL, NULL, &zero, sizeof(zero)) == 1,
	   "root's orbit survived the other user");

	{
		struct orbit *u = orbit_create("caf\xc3\xa9", nap, NULL);
		struct orbit *e = orbit_create("\x1b[31mevil", nap, NULL);

		ok(u && e && run(CTL " list") == 0 && strstr(out, "caf\xc3\xa9") &&
		   strstr(out, "\\x1b[31mevil") && !strchr(out, 0x1b),
		   "the table keeps UTF-8 and escapes control characters");
		ok(run(CTL " -j list") == 0 && json_valid(out) &&
		   strstr(out, "\"caf\xc3\xa9\"") &&
		   strstr(out, "\"\\u001b[31mevil\"") && !strchr(out, 0x1b),
		   "JSON keeps UTF-8 and escapes control characters");
		orbit_destroy(u);
		orbit_destroy(e);
	}
	orbit_area_destroy(area);
	orbit_destroy(a);
	orbit_destroy(b);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
