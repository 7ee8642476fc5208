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
extern size_t uo_update_limit;

/*
 * Buffers of at least UO_UPDATE_MAP_MIN bytes are page-aligned mappings,
 * so that orbit_push() can hand their pages to the module instead of
 * having them copied.
 */
#define UO_UPDATE_MAP_MIN	(16UL << 10)

struct orbit_update {
	unsigned char *buf;
	size_t len;
	size_t cap;
	int mapped;		/* buf is an mmap()ed mapping of cap bytes */
	uint32_t origin;	/* orbit id it was pulled from, 0 if built here */
};

/* 0 if buf holds well-formed entries only, -1 (errno EBADMSG) if not. */
int uo_update_validate(const void *buf, size_t len);
/* Takes ownership of a malloc'd, validated buffer. */
struct orbit_update *uo_update_wrap(void *buf, size_t len);

/*
 * Validates every entry with check(entry, ctx) (0 = acceptable, else an
 * errno value), then, only if all passed, applies them in order.
 */
int uo_update_apply(struct orbit_update *u,
		    int (*check)(const struct orbit_update_entry *e,
				 void *ctx),
		    void *ctx);

#endif
