/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * All of libuorbit's process-wide mutable state, in one object (state.c).
 *
 * An orbit gets a fresh copy of main's global variables at creation
 * (globals.c), but never the library's own state nor the C runtime's.  In
 * a program linked with libuorbit.a that state sits in the same data and
 * bss sections as the program's: the program's objects come first, then
 * libuorbit's, then the C library's.  With every mutable variable of the
 * library in state.o, uo_st (its .data) and uo_bss_mark (its .bss) mark
 * where the program's own data ends.  The build checks that no other
 * object of the library has data or bss (scripts/check-lib-state.sh).
 * Thread-local variables (.tdata/.tbss) are per thread and not copied.
 */
#ifndef UO_STATE_H
#define UO_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../uapi/orbit.h"

#define UO_VA_MAX_HOLES	256
#define UO_WRITTEN_SPANS	512
#define UO_SPARES		2	/* spare orbit processes kept ready */

struct orbit;
struct orbit_area;

/* A page-aligned span of main's memory (written.c). */
struct uo_span {
	uintptr_t lo, hi;
};

#define UO_RING_AREAS	16	/* areas a direct orbit maps */

struct uo_state {
	/* ctx.c: the main context */
	pthread_mutex_t ctx_lock;
	pthread_once_t atfork_once;
	int ctx_fd;			/* -1 until opened */
	struct orbit_api api;		/* the handshake's answer */
	unsigned long epoch;		/* handles of other epochs: EBADF */

	/* area.c: the virtual-address window */
	pthread_mutex_t va_lock;
	unsigned char *va_base;
	size_t va_size, va_top;
	struct { size_t off, len; } va_holes[UO_VA_MAX_HOLES];
	unsigned int va_nholes;

	/* spawner.c */
	pthread_mutex_t spawner_lock;
	pthread_once_t spawner_once;
	pid_t spawner_pid;
	int spawner_sock;		/* -1 without a spawner */
	int forker_sock;		/* -1 without, or once it is gone */
	int spares[UO_SPARES];		/* sockets of spares, oldest first */
	unsigned int nspares, spares_asked;
	unsigned long long spawner_adds;
	uint32_t spawn_seq;		/* the last request's (spawner.c) */
	pid_t loaded_in;		/* the process that loaded the library */

	/* In an orbit: the task loop's view of itself. */
	int orbit_fd;			/* its descriptor, -1 outside an orbit */
	uint32_t self_id;
	char self_name[ORBIT_NAME_MAX];
	unsigned char *arena_base;	/* its arena region (arena.c) */
	unsigned char *slot;		/* the running call's slot in it */
	size_t slot_size, slot_used;
	int slot_busy;			/* an arena update is being built */
	/*
	 * push.c: orbit_push_last's update, held while the loop's task runs
	 * (held_lock: in_task, held); once the task has returned, the task
	 * loop's (uo_push_last_arm).
	 */
	pthread_mutex_t held_lock;
	int in_task;
	struct orbit_update *held;

	/* direct.c, in a direct orbit: its ring, the running call's slot */
	unsigned char *ring_map;
	unsigned char *ring_slot;	/* NULL between calls */
	struct { uintptr_t base; size_t len; } ring_areas[UO_RING_AREAS];
	unsigned int ring_nareas;	/* areas mapped so far */
	uint64_t ring_va_base, ring_va_size;	/* main's area window */
	int ring_observe;		/* ORBIT_OBSERVE_ONLY: pushes fail */

	/* update.c */
	size_t update_limit;		/* bytes per update */

	/* orbit.c: live orbit handles, for orbit_destroy_all() */
	pthread_mutex_t list_lock;
	struct orbit *list;

	/* globals.c */
	pthread_mutex_t globals_lock;
	struct orbit_area *globals_area;
	unsigned long globals_epoch;
	int globals_tracked;		/* the area holds the armed spans */

	/* written.c (under globals_lock) */
	int written_uffd, written_pagemap;	/* -1 when not armed */
	int written_off;		/* the kernel cannot: stop trying */
	unsigned int written_n;
	struct uo_span written_spans[UO_WRITTEN_SPANS];
};

extern struct uo_state uo_st;
extern unsigned char uo_bss_mark;

#endif
