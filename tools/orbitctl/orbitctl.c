// SPDX-License-Identifier: GPL-2.0
/*
 * orbitctl: check the setup, list, inspect and kill orbits, show the
 * module's counters.
 *
 * Data comes from /dev/orbit: ORBIT_IOC_LIST (per orbit; a user sees the
 * orbits of their own programs, root all; pids as this process's pid
 * namespace sees them) and ORBIT_IOC_STATS (module wide).  Killing goes
 * through a pidfd opened on the listed pid and checked against a second
 * listing, so a pid reused meanwhile is never hit, with SIGKILL: the
 * kernel's own permission rules decide, and the module notices the death
 * like any other.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../uapi/orbit.h"
#include "orbit.h"

#define DEV	"/dev/orbit"
#define SYSMOD	"/sys/module/orbit"

static const char *const state_names[] = { "spawning", "ready", "dead" };
static int json, pretty;

static int usage(FILE *f)
{
	fprintf(f,
		"usage: orbitctl [OPTIONS] check\n"
		"       orbitctl [OPTIONS] list\n"
		"       orbitctl [OPTIONS] show PID\n"
		"       orbitctl [OPTIONS] kill PID | --main PID | --name NAME\n"
		"       orbitctl [OPTIONS] stats\n"
		"options: -j, --json   JSON output     -p, --pretty  indented JSON\n"
		"         -V, --version                -h, --help\n");
	return f == stderr ? 2 : 0;
}

static int open_dev(void)
{
	int fd = open(DEV, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "orbitctl: %s: %s%s\n", DEV, strerror(errno),
			errno == ENOENT ?
			" (is the module loaded? run: orbitctl check)" : "");
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
			if (errno == EINTR)
				continue;	/* a handler ran: again */
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

/* ---- text that comes from programs: escaped, UTF-8 kept ---------------- */

/* Length of the valid UTF-8 sequence at s (at most max bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t max)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > max)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
		return 0;	/* overlong, surrogate, out of range, C1 control */
	return n;
}

/*
 * Writes s (at most max bytes, NUL-terminated or not) escaped: as a JSON
 * string (control characters as \uXXXX, bytes that are not UTF-8 as
 * U+FFFD) or, for a table, with control characters and such bytes as
 * \xNN.  Valid UTF-8 is kept as it is.
 */
static void put_text(const char *s, size_t max, int as_json)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	if (as_json)
		putchar('"');
	while (i < max && p[i]) {
		n = utf8_len(p + i, max - i);
		if (n > 1 || (n == 1 && p[i] >= 0x20 && p[i] != 0x7f)) {
			if (as_json && (p[i] == '"' || p[i] == '\\'))
				putchar('\\');
			fwrite(p + i, 1, n, stdout);
			i += n;
			continue;
		}
		if (as_json)
			printf(n ? "\\u%04x" : "\\ufffd", p[i]);
		else
			printf("\\x%02x", p[i]);
		i++;
	}
	if (as_json)
		putchar('"');
}

/* ---- list, show ---------------------------------------------------------- */

static const char *death_text(const struct orbit_info *o, char *buf,
			      size_t len)
{
	switch (o->death) {
	case ORBIT_DEATH_NONE:
		return "-";
	case ORBIT_DEATH_EXIT:
		snprintf(buf, len, "exit(%d)", o->death_code);
		return buf;
	case ORBIT_DEATH_SIGNAL:
		snprintf(buf, len, "SIG%s", sigabbrev_np(o->death_code) ?
			 sigabbrev_np(o->death_code) : "?");
		return buf;
	case ORBIT_DEATH_OOM:
		return "oom-kill";
	case ORBIT_DEATH_TIMEOUT:
		return "timeout";
	case ORBIT_DEATH_DESTROYED:
		return "destroyed";
	case ORBIT_DEATH_FAILED:
		return "failed";
	case ORBIT_DEATH_EXEC:
		return "exec";
	case ORBIT_DEATH_CLOSED:
		return "closed";
	}
	return "?";
}

static const char *nl(void)
{
	return pretty ? "\n" : " ";
}

static void print_json(const struct orbit_info *o, const char *indent)
{
	const char *in = pretty ? indent : "";
	char d[32];

	printf("{%s%s  \"pid\": %d,%s%s  \"main_pid\": %d,%s%s  \"main_comm\": ",
	       nl(), in, o->pid, nl(), in, o->main_pid, nl(), in);
	put_text(o->main_comm, sizeof(o->main_comm), 1);
	printf(",%s%s  \"id\": %u,%s%s  \"name\": ", nl(), in, o->id, nl(), in);
	put_text(o->name, sizeof(o->name), 1);
	printf(",%s%s  \"state\": \"%s\",%s%s  \"uid\": %u,"
	       "%s%s  \"calls_done\": %llu,%s%s  \"calls_queued\": %llu,"
	       "%s%s  \"calls_failed\": %llu,%s%s  \"restarts\": %u,"
	       "%s%s  \"last_death\": \"%s\",%s%s  \"area_bytes\": %llu,"
	       "%s%s  \"area_pages\": %llu,%s%s  \"cow_faults\": %llu%s%s}",
	       nl(), in, state_names[o->state % 3], nl(), in, o->uid,
	       nl(), in, (unsigned long long)o->calls_done,
	       nl(), in, (unsigned long long)o->calls_queued,
	       nl(), in, (unsigned long long)o->calls_failed,
	       nl(), in, o->restarts,
	       nl(), in, death_text(o, d, sizeof(d)),
	       nl(), in, (unsigned long long)o->area_bytes,
	       nl(), in, (unsigned long long)o->area_pages,
	       nl(), in, (unsigned long long)o->cow_faults, nl(), in);
}

static int cmd_list(void)
{
	unsigned int n, i;
	struct orbit_info *o = fetch(&n);
	char d[32];

	if (!o)
		return 1;
	if (json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf(i ? ",%s  " : "%s  ", nl());
			print_json(&o[i], "  ");
		}
		printf("%s]\n", n ? nl() : "");
		free(o);
		return 0;
	}
	printf("%7s %7s %-15s %4s %-16s %-8s %8s %6s %6s %8s %-9s %11s %7s %7s\n",
	       "PID", "MAIN", "COMMAND", "ID", "NAME", "STATE", "CALLS",
	       "QUEUED", "FAILED", "RESTARTS", "DEATH", "AREA_BYTES", "PAGES",
	       "COW");
	for (i = 0; i < n; i++) {
		printf("%7d %7d ", o[i].pid, o[i].main_pid);
		put_text(o[i].main_comm, sizeof(o[i].main_comm), 0);
		printf("%*s %4u ", (int)(15 - strnlen(o[i].main_comm, 15)) > 0 ?
		       (int)(15 - strnlen(o[i].main_comm, 15)) : 0, "", o[i].id);
		put_text(o[i].name, sizeof(o[i].name), 0);
		printf("%*s %-8s %8llu %6llu %6llu %8u %-9s %11llu %7llu %7llu\n",
		       (int)(16 - strnlen(o[i].name, 16)) > 0 ?
		       (int)(16 - strnlen(o[i].name, 16)) : 0, "",
		       state_names[o[i].state % 3],
		       (unsigned long long)o[i].calls_done,
		       (unsigned long long)o[i].calls_queued,
		       (unsigned long long)o[i].calls_failed, o[i].restarts,
		       death_text(&o[i], d, sizeof(d)),
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

static int cmd_show(const char *arg)
{
	unsigned int n, i;
	struct orbit_info *o;
	pid_t pid;
	int found = 0;
	char d[32];

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
			print_json(&o[i], "");
			printf("\n");
			continue;
		}
		printf("pid:          %d\nmain pid:     %d\nmain command: ",
		       o[i].pid, o[i].main_pid);
		put_text(o[i].main_comm, sizeof(o[i].main_comm), 0);
		printf("\nid:           %u\nname:         ", o[i].id);
		put_text(o[i].name, sizeof(o[i].name), 0);
		printf("\nstate:        %s\nuid:          %u\n"
		       "calls done:   %llu\ncalls queued: %llu\n"
		       "calls failed: %llu\nrestarts:     %u\n"
		       "last death:   %s\narea bytes:   %llu\n"
		       "area pages:   %llu\ncow faults:   %llu\n",
		       state_names[o[i].state % 3], o[i].uid,
		       (unsigned long long)o[i].calls_done,
		       (unsigned long long)o[i].calls_queued,
		       (unsigned long long)o[i].calls_failed, o[i].restarts,
		       death_text(&o[i], d, sizeof(d)),
		       (unsigned long long)o[i].area_bytes,
		       (unsigned long long)o[i].area_pages,
		       (unsigned long long)o[i].cow_faults);
	}
	free(o);
	if (!found)
		fprintf(stderr, "orbitctl: no orbit with pid %d\n", (int)pid);
	return found ? 0 : 1;
}

/* ---- kill ------------------------------------------------------------------ */

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

static int cmd_kill(pid_t pid, pid_t main_pid, const char *name)
{
	unsigned int n, i, killed = 0;
	struct orbit_info *o;
	int failed = 0;

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
		printf("killed orbit %d (", o[i].pid);
		put_text(o[i].name, sizeof(o[i].name), 0);
		printf(") of main %d\n", o[i].main_pid);
		killed++;
	}
	free(o);
	if (!killed && !failed)
		fprintf(stderr, "orbitctl: no matching live orbit\n");
	return killed && !failed ? 0 : 1;
}

/* ---- stats ------------------------------------------------------------------- */

static int cmd_stats(void)
{
	/* In the order of struct orbit_stats, whose fields are all __u64. */
	static const char *const names[] = {
		"contexts", "orbits", "areas", "views", "pages", "nodes",
		"calls", "updates", "calls_total", "calls_failed", "cow_faults",
		"copy_pages", "snapshots", "orbit_deaths", "update_pages",
		"install_failures", "charged_bytes", "polls", "polls_missed",
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
			printf("%s%s\"%s\": %llu", i ? "," : "",
			       pretty ? "\n  " : (i ? " " : ""), names[i],
			       (unsigned long long)v[i]);
		else
			printf("%-16s %llu\n", names[i], (unsigned long long)v[i]);
	}
	printf(json ? (pretty ? "\n}\n" : "}\n") : "");
	return 0;
}

/* ---- check -------------------------------------------------------------------- */

static int problems, checks;

/* One finding: ok, or a problem with a one-line remedy. */
static void finding(int ok, const char *what, const char *detail,
		    const char *remedy)
{
	if (json) {
		printf("%s%s{\"check\": \"%s\", \"ok\": %s, \"detail\": ",
		       checks ? "," : "", pretty ? "\n  " : (checks ? " " : ""),
		       what, ok ? "true" : "false");
		put_text(detail, strlen(detail), 1);
		printf(", \"remedy\": ");
		put_text(ok ? "" : remedy, strlen(ok ? "" : remedy), 1);
		printf("}");
	} else {
		printf("%-8s %-12s %s\n", ok ? "ok" : "PROBLEM", what, detail);
		if (!ok)
			printf("%-8s %-12s -> %s\n", "", "", remedy);
	}
	checks++;
	problems += !ok;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok = f && fgets(buf, (int)len, f);

	if (f)
		fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok ? 0 : -1;
}

static const char *const feature_names[] = {
	"copy-mode", "auto-mode", "updates", "restart", "timeout", "list",
	"cancel", "observe", "query", "area-mode", "check-mapped", "tag",
	"discard", "quiet", "pull-end", "run-push", "run-nowait",
};

/* What this library asks for: all the features its header defines. */
#define FEATURES_KNOWN	ORBIT_FEAT_ALL
_Static_assert(ORBIT_FEAT_ALL == (1ULL << (sizeof(feature_names) /
					  sizeof(feature_names[0]))) - 1,
	       "a name for every feature");

static void check_handshake(void)
{
	struct orbit_api api;
	char detail[256];
	size_t off;
	unsigned int i;
	int fd = open(DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(detail, sizeof(detail), "cannot open %s: %s", DEV,
			 strerror(errno));
		finding(0, "handshake", detail,
			"run as a user who may open /dev/orbit (see its mode above)");
		return;
	}
	memset(&api, 0, sizeof(api));
	api.api = ORBIT_API_VERSION;
	api.features = FEATURES_KNOWN;
	if (ioctl(fd, ORBIT_IOC_API, &api) < 0) {
		snprintf(detail, sizeof(detail),
			 "the module refused ABI version %d: %s",
			 ORBIT_API_VERSION, strerror(errno));
		finding(0, "handshake", detail,
			"install a module and library of the same version (orbit-dkms and libuorbit0, or make dkms-install and make install)");
		close(fd);
		return;
	}
	close(fd);
	off = (size_t)snprintf(detail, sizeof(detail), "ABI %d, features", ORBIT_API_VERSION);
	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (api.features & (1ULL << i))
			off += (size_t)snprintf(detail + off, sizeof(detail) - off,
						" %s", feature_names[i]);
	if ((api.features & FEATURES_KNOWN) != FEATURES_KNOWN)
		finding(0, "handshake", detail,
			"the module lacks features this library uses: install matching versions");
	else
		finding(1, "handshake", detail, "");
}

static int cmd_check(void)
{
	char detail[512], version[64] = "", path[300], val[64];
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (json)
		printf("[");
	snprintf(detail, sizeof(detail), "libuorbit %s", orbit_version());
	finding(1, "library", detail, "");
	if (stat(SYSMOD, &st) == 0) {
		read_line(SYSMOD "/version", version, sizeof(version));
		snprintf(detail, sizeof(detail), "orbit.ko %s loaded",
			 version[0] ? version : "(no version)");
		finding(1, "module", detail, "");
	} else {
		finding(0, "module", "orbit.ko is not loaded",
			"modprobe orbit (install orbit-dkms, or make dkms-install, first)");
	}
	if (stat(DEV, &st) == 0) {
		snprintf(detail, sizeof(detail), "%s, mode %04o", DEV,
			 st.st_mode & 07777);
		finding(S_ISCHR(st.st_mode), "device", detail,
			DEV " is not a character device: remove it and reload the module");
		if (S_ISCHR(st.st_mode))
			check_handshake();
	} else {
		finding(0, "device", DEV " does not exist",
			"load the module (modprobe orbit); a udev rule (60-orbit.rules) sets its mode");
	}
	if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0)
		finding(1, "cgroup", "cgroup v2 at /sys/fs/cgroup", "");
	else
		finding(0, "cgroup", "no cgroup v2 hierarchy at /sys/fs/cgroup",
			"orbit_attr.cgroup needs cgroup v2: boot with systemd.unified_cgroup_hierarchy=1");
	d = opendir(SYSMOD "/parameters");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SYSMOD "/parameters/%s", e->d_name);
		if (read_line(path, val, sizeof(val)))
			continue;
		snprintf(detail, sizeof(detail), "%s = %s", e->d_name, val);
		finding(1, "parameter", detail, "");
	}
	if (d)
		closedir(d);
	if (json)
		printf("%s]\n", pretty ? "\n" : "");
	else if (problems)
		printf("%d problem%s found\n", problems, problems > 1 ? "s" : "");
	else
		printf("everything is in place\n");
	return problems ? 1 : 0;
}

/* ---- main ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "main", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *cmd;
	pid_t main_pid = 0, pid = 0;
	int c, nargs;

	while ((c = getopt_long(argc, argv, "jpVh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'p':
			json = pretty = 1;
			break;
		case 'V':
			printf("orbitctl %s (libuorbit %s, ABI %d)\n", UO_VERSION,
			       orbit_version(), ORBIT_API_VERSION);
			return 0;
		case 'h':
			return usage(stdout);
		case 'm':
			if (parse_pid(optarg, &main_pid))
				return 2;
			break;
		case 'n':
			name = optarg;
			break;
		default:
			return usage(stderr);
		}
	}
	if (optind >= argc)
		return usage(stderr);
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if ((main_pid || name) && strcmp(cmd, "kill")) {
		fprintf(stderr, "orbitctl: --main and --name are for kill\n");
		return 2;
	}
	if (!strcmp(cmd, "check") && !nargs)
		return cmd_check();
	if (!strcmp(cmd, "list") && !nargs)
		return cmd_list();
	if (!strcmp(cmd, "show") && nargs == 1)
		return cmd_show(argv[optind + 1]);
	if (!strcmp(cmd, "stats") && !nargs)
		return cmd_stats();
	if (!strcmp(cmd, "kill")) {
		if (nargs == 1 && !main_pid && !name) {
			if (parse_pid(argv[optind + 1], &pid))
				return 2;
			return cmd_kill(pid, 0, NULL);
		}
		if (!nargs && (!main_pid != !name))
			return cmd_kill(0, main_pid, name);
		return usage(stderr);
	}
	if (strcmp(cmd, "check") && strcmp(cmd, "list") && strcmp(cmd, "show") &&
	    strcmp(cmd, "stats"))
		fprintf(stderr, "orbitctl: unknown command '%s'\n", cmd);
	else
		fprintf(stderr, "orbitctl: wrong arguments for '%s'\n", cmd);
	return usage(stderr);
}
