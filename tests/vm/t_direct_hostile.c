// SPDX-License-Identifier: GPL-2.0
/*
 * Direct calls: main reads the ring as untrusted input.  A task that
 * scribbles over the whole ring (its reply's length, its error, the updates'
 * bytes, the counters) makes its call fail with EBADMSG, or its pull, never
 * main crash or read beyond the ring; main goes on calling a well-behaved
 * orbit afterwards.  An observe-only orbit's task that forges a well-formed
 * update into its reply gets nothing to main.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"

/* The ring in this orbit's address space, found in /proc/self/maps. */
static unsigned char *find_ring(size_t *len)
{
	char line[512];
	unsigned long lo, hi;
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned char *p = NULL;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "orbit-ring") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			p = (unsigned char *)lo;
			*len = hi - lo;
			break;
		}
	if (f)
		fclose(f);
	return p;
}

/*
 * Writes a well-formed DATA update into the reply of the slot whose
 * argument holds marker (as the ring lays a slot out: a 40-byte header,
 * one 16-byte area record, the argument; the reply in the last 16 KiB of
 * 64), and sets the reply's length.
 */
static int forge(unsigned char *r, size_t len, long marker)
{
	struct orbit_update_entry e = { .type = ORBIT_UPDATE_DATA, .len = 8 };
	unsigned char *slot = NULL, *rep;
	uint32_t n = sizeof(e) + 8;
	size_t i;

	for (i = 4096; i + sizeof(marker) <= len; i += 8)
		if (!memcmp(r + i, &marker, sizeof(marker)) &&
		    *(int *)(r + i - 8) == 3) {	/* this call's: how 3 */
			slot = r + i - 16 - 40 - 8;	/* arg: {how, pad, marker} */
			break;
		}
	if (!slot)
		return -1;
	rep = slot + (64 << 10) - (16 << 10);
	memcpy(rep, &n, sizeof(n));
	memcpy(rep + 4, &e, sizeof(e));
	memcpy(rep + 4 + sizeof(e), &marker, 8);
	n = (4 + n + 7) & ~7u;
	memcpy(slot + 36, &n, sizeof(n));	/* reply_len */
	return 0;
}

struct harg {
	int how;
	long marker;
};

static long scribble(void *argbuf, void *store)
{
	int how = ((struct harg *)argbuf)->how;
	size_t len = 0, i;
	unsigned char *r = find_ring(&len);
	struct orbit_update *u;

	if (!r)
		return -2;
	if (how == 3)
		return forge(r, len, ((struct harg *)argbuf)->marker) ? -4 : 3;
	if (how == 1) {
		/* Everything but the counters' page: 0xa5. */
		memset(r + 4096, 0xa5, len - 4096);
		return 1;
	}
	/* A well-formed length, garbage bytes behind it. */
	u = orbit_update_create();
	if (!u || orbit_update_add_data(u, "hello", 5) || orbit_push(u, NULL))
		return -3;
	for (i = 4096 + 16; i + 8 < len; i++)
		if (!memcmp(r + i, "hello", 5))
			memset(r + i - 16, 0x5a, 16);	/* its entry header */
	return 2;
}

/* A direct orbit (ORBIT_DIRECT and flags) running scribble, and an area. */
static struct orbit *hostile_orbit(unsigned int flags, struct orbit_area **area)
{
	struct orbit_attr attr;
	struct orbit *ob;

	orbit_attr_init(&attr);
	attr.flags = ORBIT_DIRECT | flags;
	ob = orbit_create_ex("hostile", scribble, NULL, &attr);
	*area = ob ? orbit_area_create(1 << 20, ob) : NULL;
	return *area && orbit_alloc(*area, 64) ? ob : NULL;
}

int main(void)
{
	struct orbit_area *area;
	struct orbit_update *u;
	struct orbit_future *f;
	struct orbit *ob;
	struct harg how = { 0, 0x5eed5eed5eedL };
	long got;

	ob = hostile_orbit(ORBIT_SPAWNER_GLOBALS, &area);
	require(ob, "a direct orbit and its area");

	how.how = 1;
	f = orbit_call_async(ob, 0, 1, &area, NULL, &how, sizeof(how));
	require(f, "a call that overwrites the ring");
	ok(pull_orbit(f, &u) <= 0, "its pull finds no update");
	ok(orbit_future_get(f, &got) == -1 && errno == EBADMSG,
	   "its result: EBADMSG");

	how.how = 2;
	f = orbit_call_async(ob, 0, 1, &area, NULL, &how, sizeof(how));
	require(f, "a call whose update's entry is overwritten");
	ok(pull_orbit(f, &u) == -1 && errno == EBADMSG,
	   "its pull: EBADMSG");
	ok(orbit_future_get(f, &got) == 0 && got == 2, "its result, 2");
	how.how = 3;
	f = orbit_call_async(ob, 0, 1, &area, NULL, &how, sizeof(how));
	require(f, "a call whose task forges an update into its reply");
	ok(pull_orbit(f, &u) == 1 && orbit_update_first(u) &&
	   orbit_update_first(u)->len == 8, "the forged update arrives");
	orbit_update_free(u);
	ok(orbit_future_get(f, &got) == 0 && got == 3, "its result, 3");
	orbit_destroy(ob);

	ob = hostile_orbit(ORBIT_OBSERVE_ONLY, &area);
	require(ob, "an observe-only direct orbit and its area");
	f = orbit_call_async(ob, 0, 1, &area, NULL, &how, sizeof(how));
	require(f, "the same forging call to it");
	ok(pull_orbit(f, &u) == 0, "no update reaches main");
	ok(orbit_future_get(f, &got) == 0 && got == 3,
	   "though the task forged one (its result, 3)");
	orbit_destroy(ob);
	return tap_done();
}
