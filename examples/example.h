/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the examples: the --mode switch (where the auxiliary
 * task runs), a monotonic clock, latency percentiles and the one-line
 * RESULT summary that tests and `make bench` read.
 */
#ifndef ORBIT_EXAMPLE_H
#define ORBIT_EXAMPLE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum ex_mode { EX_THREAD, EX_FORK, EX_ORBIT };

static const char *const ex_mode_names[] = { "thread", "fork", "orbit" };

/*
 * Reports a failed orbit setup with what to do about it: the module is
 * not loaded (ENODEV), or module and library do not match (EPROTO).
 */
static inline void ex_orbit_error(const char *what)
{
	int err = errno;

	fprintf(stderr, "%s: %s%s\n", what, strerror(err),
		err == ENODEV ? " (load the module: modprobe orbit; orbitctl check tells what is missing)" :
		err == EPROTO ? " (module and library versions differ: orbitctl check)" : "");
}

/* Parses "thread", "fork" or "orbit"; exits with a message otherwise. */
static inline enum ex_mode ex_parse_mode(const char *s)
{
	int m;

	for (m = EX_THREAD; m <= EX_ORBIT; m++)
		if (!strcmp(s, ex_mode_names[m]))
			return (enum ex_mode)m;
	fprintf(stderr, "unknown mode '%s' (thread, fork or orbit)\n", s);
	exit(2);
}

/* One --name VALUE option: type 'm' (mode), 'i' (int), 'l' (long),
 * 'd' (double) or 's' (string), or a --name flag without a value, type
 * 'f', that sets an int to 1; p points at the variable.
 */
struct ex_opt {
	const char *name;
	char type;
	void *p;
};

/* Parses --name VALUE pairs and --flag options against a table ended by
 * { NULL }; -1 on an unknown option or a missing value.
 */
static inline int ex_parse_opts(int argc, char **argv,
				const struct ex_opt *opts)
{
	const struct ex_opt *o;
	int i;

	for (i = 1; i < argc; i++) {
		for (o = opts; o->name && strcmp(o->name, argv[i]); o++)
			;
		if (!o->name)
			return -1;
		if (o->type == 'f') {		/* a flag: no value */
			*(int *)o->p = 1;
			continue;
		}
		if (++i >= argc)
			return -1;
		if (o->type == 'm')
			*(enum ex_mode *)o->p = ex_parse_mode(argv[i]);
		else if (o->type == 'i')
			*(int *)o->p = atoi(argv[i]);
		else if (o->type == 'l')
			*(long *)o->p = atol(argv[i]);
		else if (o->type == 'd')
			*(double *)o->p = atof(argv[i]);
		else
			*(const char **)o->p = argv[i];
	}
	return 0;
}

static inline double ex_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int ex_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100) of n samples; sorts v.  0 when n == 0. */
static inline double ex_percentile(double *v, size_t n, int p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), ex_cmp_double);
	return v[(n - 1) * (size_t)p / 100];
}

/* Latency samples, bounded; the examples record one per task call. */
struct ex_lat {
	double v[65536];
	size_t n;
};

static inline void ex_lat_add(struct ex_lat *l, double us)
{
	if (l->n < sizeof(l->v) / sizeof(l->v[0]))
		l->v[l->n++] = us;
}

/* The application's own data (a buffer pool): resident, non-zero pages
 * that a fork has to copy page tables for and an orbit never sees.
 */
static inline void *ex_heap(long mib)
{
	size_t len = (size_t)mib << 20, i;
	unsigned char *p = malloc(len ? len : 1);

	for (i = 0; p && i < len; i += 4096)
		p[i] = (unsigned char)(i >> 12 | 1);
	return p;
}

#endif /* ORBIT_EXAMPLE_H */
