/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Update encoding: a flat buffer of struct orbit_update_entry records, each
 * followed by its data padded to 8 bytes.  The same bytes travel from the
 * orbit to the main program, so received buffers are validated before use.
 */
#ifndef UO_UPDATE_H
#define UO_UPDATE_H

#include <stddef.h>

#include "orbit.h"

/*
 * Bytes per update (EMSGSIZE beyond): the module's limit, from the
 * handshake (an orbit inherits its main's), else a default.
 */
#define UO_UPDATE_MAX	(16UL << 20)

/*
 * Buffers of at least UO_UPDATE_MAP_MIN bytes are page-aligned mappings,
 * so that orbit_push() can hand their pages to the module instead of
 * having them copied.
 */
#define UO_UPDATE_MAP_MIN	(16UL << 10)

/*
 * An update with arena memory (orbit_update_alloc) is built in the arena
 * slot of the call the task runs, at an address main keeps free for that
 * call, and starts with a BASE entry that holds its own address: main
 * puts it at that address, so that pointers into it stay valid.  BASE is
 * the library's, never shown by orbit_update_first/next.
 */
#define UO_UPDATE_BASE	0x100

/* struct orbit_update.kind: where buf lives */
enum uo_buf_kind {
	UO_BUF_HEAP = 0,	/* malloc() */
	UO_BUF_MAP = 1,		/* its own mmap() of cap bytes */
	UO_BUF_SLOT = 2,	/* at a fixed address in an arena slot */
};

struct uo_arena;

struct orbit_update {
	unsigned char *buf;
	size_t len;
	size_t cap;
	enum uo_buf_kind kind;
	uint32_t origin;	/* orbit id it was pulled from, 0 if built here */
	size_t pos;		/* offset of the next entry to apply */
	struct uo_arena *arena;	/* main: the arena slot it holds, or NULL */
	unsigned int slot;
};

/* 0 if buf holds well-formed entries only, -1 (errno EBADMSG) if not. */
int uo_update_validate(const void *buf, size_t len);
/* Takes ownership of a malloc'd, validated buffer. */
struct orbit_update *uo_update_wrap(void *buf, size_t len);
/* Offset of the first entry a user sees (past a BASE entry). */
size_t uo_update_start(const struct orbit_update *u);
/* Span of the entry at e (header and padded data). */
size_t uo_update_span(const struct orbit_update_entry *e);

/*
 * Validates the entries from the cursor on with check(entry, ctx) (0 =
 * acceptable, else an errno value), then, only if all passed, applies
 * them in order and moves the cursor to the end.
 */
int uo_update_apply(struct orbit_update *u,
		    int (*check)(const struct orbit_update_entry *e,
				 void *ctx),
		    void *ctx);
/* Applies one entry (a DATA or ARENA entry: nothing to do). */
void uo_update_apply_entry(const struct orbit_update_entry *e);

/* arena.c: the update's buffer moves into the running call's arena slot. */
int uo_arena_adopt(struct orbit_update *u, size_t need);
/* arena.c: releases a buffer of kind UO_BUF_SLOT. */
void uo_arena_release(struct orbit_update *u);

#endif
