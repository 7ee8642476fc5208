// SPDX-License-Identifier: GPL-2.0
/*
 * orbitctl: list, inspect and kill orbits; show the module's counters.
 *
 * Data comes from /dev/orbit: ORBIT_IOC_LIST (per orbit; a user sees the
 * orbits of their own programs, root all; pids as this process's pid
 * namespace sees them) and ORBIT_IOC_STATS (module wide).  Killing goes
 * through a pidfd opened on the listed pid and checked against a second
 * listing, so a pid reused meanwhile is never hit, with SIGKILL: the
 * kernel's own permission rules decide, and the module notices the death
 * like any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../uapi/orbit.h"

static const char *const state_names[] = { "spawning", "ready", "dead" };

static int usage(FILE *f)
{
	fprintf(f,
		"usage: orbitctl [--json] list\n"
		"       orbitctl [--json] show PID\n"
		"       orbitctl kill PID | --main PID | --name NAME\n"
		"       orbitctl [--json] stats\n");
	return f == stderr ? 2 : 0;
}

static int open_dev(void)
{
	int fd = open("/dev/orbit", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "orbitctl: /dev/orbit: %s%s\n", strerror(errno),
			errno == ENOENT ? " (is orbit.ko loaded?)" : "");
	return fd;
}

/* All visible orbits; *n set.  NULL on error (message printed). */
static struct orbit_info *fetch(unsigned int *n)
{
	struct orbit_list req;
	struct orbit_info *buf = NULL;
	unsigned int cap = 64;
	int fd = open_dev();

	if (fd < 0)
		return NULL;
	for (;;) {
		struct orbit_info *nb = realloc(buf, cap * sizeof(*buf));

		if (!nb) {
			fprintf(stderr, "orbitctl: out of memory\n");
			break;
		}
		buf = nb;
		memset(&req, 0, sizeof(req));
		req.buf = (uintptr_t)buf;
		req.cap = cap;
		if (ioctl(fd, ORBIT_IOC_LIST, &req) < 0) {
			fprintf(stderr, "orbitctl: listing orbits: %s\n",
				strerror(errno));
			break;
		}
		if (req.count <= cap) {
			close(fd);
			*n = req.count;
			return buf;
		}
		cap = req.count;
	}
	close(fd);
	free(buf);
	return NULL;
}

static void json_string(const char *s, size_t max)
{
	size_t i;

	putchar('"');
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(const struct orbit_info *o)
{
	printf("{\"pid\": %d, \"main_pid\": %d, \"id\": %u, \"name\": ",
	       o->pid, o->main_pid, o->id);
	json_string(o->name, sizeof(o->name));
	printf(", \"state\": \"%s\", \"uid\": %u, \"calls_done\": %llu, "
	       "\"calls_queued\": %llu, \"restarts\": %u, \"area_bytes\": %llu, "
	       "\"area_pages\": %llu, \"cow_faults\": %llu}",
	       state_names[o->state % 3], o->uid,
	       (unsigned long long)o->calls_done,
	       (unsigned long long)o->calls_queued, o->restarts,
	       (unsigned long long)o->area_bytes,
	       (unsigned long long)o->area_pages,
	       (unsigned long long)o->cow_faults);
}

static int cmd_list(int json)
{
	unsigned int n, i;
	struct orbit_info *o = fetch(&n);

	if (!o)
		return 1;
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf(i ? ",\n " : "");
			print_json(&o[i]);
		}
		printf("]\n");
	} else {
		printf("%7s %7s %4s %-16s %-8s %9s %6s %8s %12s %8s %8s\n",
		       "PID", "MAIN", "ID", "NAME", "STATE", "CALLS", "QUEUED",
		       "RESTARTS", "AREA_BYTES", "PAGES", "COW");
		for (i = 0; i < n; i++)
			printf("%7d %7d %4u %-16.*s %-8s %9llu %6llu %8u %12llu %8llu %8llu\n",
			       o[i].pid, o[i].main_pid, o[i].id,
			       (int)sizeof(o[i].name), o[i].name,
			       state_names[o[i].state % 3],
			       (unsigned long long)o[i].calls_done,
			       (unsigned long long)o[i].calls_queued,
			       o[i].restarts,
			       (unsigned long long)o[i].area_bytes,
			       (unsigned long long)o[i].area_pages,
			       (unsigned long long)o[i].cow_faults);
	}
	free(o);
	return 0;
}

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v <= 0 || v > 0x3fffffff) {
		fprintf(stderr, "orbitctl: '%s' is not a process id\n", s);
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

static int cmd_show(const char *arg, int json)
{
	unsigned int n, i;
	struct orbit_info *o;
	pid_t pid;
	int found = 0;

	if (parse_pid(arg, &pid))
		return 2;
	o = fetch(&n);
	if (!o)
		return 1;
	for (i = 0; i < n; i++) {
		if (o[i].pid != pid)
			continue;
		found = 1;
		if (json) {
			print_json(&o[i]);
			printf("\n");
			continue;
		}
		printf("pid:          %d\nmain pid:     %d\nid:           %u\n"
		       "name:         %.*s\nstate:        %s\nuid:          %u\n"
		       "calls done:   %llu\ncalls queued: %llu\nrestarts:     %u\n"
		       "area bytes:   %llu\narea pages:   %llu\ncow faults:   %llu\n",
		       o[i].pid, o[i].main_pid, o[i].id,
		       (int)sizeof(o[i].name), o[i].name,
		       state_names[o[i].state % 3], o[i].uid,
		       (unsigned long long)o[i].calls_done,
		       (unsigned long long)o[i].calls_queued, o[i].restarts,
		       (unsigned long long)o[i].area_bytes,
		       (unsigned long long)o[i].area_pages,
		       (unsigned long long)o[i].cow_faults);
	}
	free(o);
	if (!found)
		fprintf(stderr, "orbitctl: no orbit with pid %d\n", (int)pid);
	return found ? 0 : 1;
}

/* Is o (still) a live orbit in the current listing? */
static int still_listed(const struct orbit_info *o)
{
	unsigned int n, i;
	struct orbit_info *now = fetch(&n);
	int found = 0;

	for (i = 0; now && i < n; i++)
		if (now[i].pid == o->pid && now[i].main_pid == o->main_pid &&
		    now[i].id == o->id && now[i].state != ORBIT_STATE_DEAD &&
		    !strncmp(now[i].name, o->name, sizeof(o->name)))
			found = 1;
	free(now);
	return found;
}

/*
 * SIGKILL through a pidfd: opened first, then the orbit is looked up
 * again, so the signal reaches the process that was listed or none.
 */
static int kill_orbit(const struct orbit_info *o)
{
	int pfd = (int)syscall(SYS_pidfd_open, o->pid, 0), ret = -1;

	if (pfd < 0)
		return -1;
	if (!still_listed(o))
		errno = ESRCH;
	else
		ret = (int)syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
	close(pfd);
	return ret;
}

static int cmd_kill(int argc, char **argv)
{
	const char *name = NULL;
	unsigned int n, i, killed = 0;
	struct orbit_info *o;
	pid_t pid = 0, main_pid = 0;
	int failed = 0;

	if (argc == 1 && parse_pid(argv[0], &pid) == 0)
		;
	else if (argc == 2 && !strcmp(argv[0], "--main") &&
		 parse_pid(argv[1], &main_pid) == 0)
		;
	else if (argc == 2 && !strcmp(argv[0], "--name"))
		name = argv[1];
	else
		return usage(stderr);
	o = fetch(&n);
	if (!o)
		return 1;
	for (i = 0; i < n; i++) {
		/* pid 0: dead, or outside this pid namespace */
		if (!o[i].pid || o[i].state == ORBIT_STATE_DEAD)
			continue;
		if ((pid && o[i].pid != pid) ||
		    (main_pid && o[i].main_pid != main_pid) ||
		    (name && strncmp(o[i].name, name, sizeof(o[i].name))))
			continue;
		if (kill_orbit(&o[i])) {
			fprintf(stderr, "orbitctl: kill %d: %s\n", o[i].pid,
				strerror(errno));
			failed = 1;
			continue;
		}
		printf("killed orbit %d (%.*s) of main %d\n", o[i].pid,
		       (int)sizeof(o[i].name), o[i].name, o[i].main_pid);
		killed++;
	}
	free(o);
	if (!killed && !failed)
		fprintf(stderr, "orbitctl: no matching live orbit\n");
	return killed && !failed ? 0 : 1;
}

static int cmd_stats(int json)
{
	/* In the order of struct orbit_stats, whose fields are all __u64. */
	static const char *const names[] = {
		"contexts", "orbits", "areas", "views", "pages", "nodes",
		"calls", "updates", "calls_total", "calls_failed", "cow_faults",
		"copy_pages", "snapshots", "orbit_deaths", "update_pages",
		"install_failures",
	};
	struct orbit_stats st;
	const __u64 *v = &st.contexts;
	int fd = open_dev(), i;

	if (fd < 0)
		return 1;
	if (ioctl(fd, ORBIT_IOC_STATS, &st) < 0) {
		fprintf(stderr, "orbitctl: reading counters: %s\n",
			strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf(json ? "{" : "");
	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		if (json)
			printf("%s\"%s\": %llu", i ? ", " : "", names[i],
			       (unsigned long long)v[i]);
		else
			printf("%-14s %llu\n", names[i], (unsigned long long)v[i]);
	}
	printf(json ? "}\n" : "");
	return 0;
}

int main(int argc, char **argv)
{
	int json = 0;

	argv++, argc--;
	while (argc && !strcmp(argv[0], "--json")) {
		json = 1;
		argv++, argc--;
	}
	if (argc && (!strcmp(argv[argc - 1], "--json"))) {
		json = 1;
		argc--;
	}
	if (!argc)
		return usage(stderr);
	if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help") ||
	    !strcmp(argv[0], "help"))
		return usage(stdout);
	if (!strcmp(argv[0], "list") && argc == 1)
		return cmd_list(json);
	if (!strcmp(argv[0], "show") && argc == 2)
		return cmd_show(argv[1], json);
	if (!strcmp(argv[0], "kill"))
		return cmd_kill(argc - 1, argv + 1);
	if (!strcmp(argv[0], "stats") && argc == 1)
		return cmd_stats(json);
	fprintf(stderr, "orbitctl: unknown or incomplete command '%s'\n", argv[0]);
	return usage(stderr);
}
