// SPDX-License-Identifier: GPL-2.0
/*
 * A program for orbit-analyze's own test (tests/analyze/run.py): a task
 * that walks a list of named items it reaches through its argument and a
 * global, none of them in an area yet.  Lines marked NEEDED are what the
 * analyzer must report; lines marked NOT are what it must leave out.
 */
#include <orbit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
	struct item *next;
	char *name;
	long value;
};

struct query {
	struct item *head;
	long min;
};

struct counter {			/* main's own, never seen by a task */
	long hits;
};

static struct item *spare;	/* a global pointer the task follows */
static long limit = 10;

static long sum_items(void *argbuf, void *store)
{
	struct query *q = argbuf;
	const struct item *it;
	char *scratch = malloc(64);	/* NOT: the orbit's own memory */
	long s = 0;

	for (it = q->head; it; it = it->next)
		if (it->value >= q->min && strlen(it->name) < (size_t)limit)
			s += it->value;
	if (spare)
		s += spare->value;
	free(scratch);
	return s;
}

/* An allocator wrapper: its callers are the allocation points. */
static struct item *item_new(long v)
{
	struct item *it = malloc(sizeof(*it));

	if (it) {
		it->value = v;
		it->next = NULL;
		it->name = NULL;
	}
	return it;
}

/*
 * The sum in the orbit, or here (a mode beside the orbit's): the items
 * allocated on the side that makes no orbit call are never seen by it.
 */
static long sum_mode(struct orbit *ob, struct query *q, int here)
{
	struct item *it;
	long r;

	if (!here) {
		r = orbit_call(ob, 0, NULL, NULL, q, sizeof(*q));
	} else {
		it = malloc(sizeof(*it));	/* NOT: beside an orbit call */
		r = it ? q->min : -1;
		free(it);
	}
	return r;
}

int main(void)
{
	struct orbit *ob = orbit_create("sum", sum_items, NULL);
	struct counter *c = calloc(1, sizeof(*c));	/* NOT */
	struct query q = { NULL, 2 };
	struct item *a, *b;
	long r;

	a = malloc(sizeof(*a));				/* NEEDED */
	b = item_new(7);				/* NEEDED (wrapper) */
	spare = calloc(1, sizeof(*spare));		/* NEEDED */
	if (!ob || !a || !b || !c || !spare)
		return 1;
	a->value = 5;
	a->next = b;
	a->name = strdup("first");			/* NEEDED (strdup) */
	b->name = malloc(8);				/* NEEDED */
	if (!a->name || !b->name)
		return 1;
	strcpy(b->name, "second");
	spare->value = 1;
	q.head = a;
	r = orbit_call(ob, 0, NULL, NULL, &q, sizeof(q));
	r += sum_mode(ob, &q, 1);
	c->hits++;
	printf("%ld\n", r);
	free(b->name);
	free(a->name);
	free(a);
	free(c);
	orbit_destroy(ob);
	return 0;
}
