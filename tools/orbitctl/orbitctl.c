// SPDX-License-Identifier: GPL-2.0
/*
 * orbitctl: inspect orbits.  `orbitctl stats [--json]` prints the module's
 * counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "orbit.h"

static int usage(FILE *f)
{
	fprintf(f, "usage: orbitctl stats [--json]\n");
	return f == stderr ? 2 : 0;
}

static int cmd_stats(int json)
{
	struct orbit_module_stats st;
	const struct { const char *name; uint64_t *v; } rows[] = {
		{ "contexts", &st.contexts }, { "orbits", &st.orbits },
		{ "areas", &st.areas }, { "views", &st.views },
		{ "pages", &st.pages }, { "nodes", &st.nodes },
		{ "calls", &st.calls }, { "updates", &st.updates },
		{ "calls_total", &st.calls_total },
		{ "calls_failed", &st.calls_failed },
		{ "cow_faults", &st.cow_faults },
		{ "copy_pages", &st.copy_pages },
		{ "snapshots", &st.snapshots },
		{ "orbit_deaths", &st.orbit_deaths },
		{ "update_pages", &st.update_pages },
	};
	size_t i, n = sizeof(rows) / sizeof(rows[0]);

	if (orbit_module_stats(&st)) {
		fprintf(stderr, "orbitctl: cannot read /dev/orbit: %s%s\n",
			strerror(errno),
			errno == ENOENT ? " (is orbit.ko loaded?)" : "");
		return 1;
	}
	if (json)
		printf("{");
	for (i = 0; i < n; i++) {
		if (json)
			printf("%s\"%s\": %llu", i ? ", " : "", rows[i].name,
			       (unsigned long long)*rows[i].v);
		else
			printf("%-14s %llu\n", rows[i].name,
			       (unsigned long long)*rows[i].v);
	}
	if (json)
		printf("}\n");
	return 0;
}

int main(int argc, char **argv)
{
	int json = argc > 2 && !strcmp(argv[2], "--json");

	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(json);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(stdout);
	fprintf(stderr, "orbitctl: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}
