/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libuorbit internals shared by its files. */
#ifndef UO_INTERNAL_H
#define UO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../uapi/orbit.h"
#include "orbit.h"

#define UO_DEVICE	"/dev/orbit"

/* ctx.c: the process's main context (opened and handshaken on first use). */
int uo_ctx_fd(void);
extern struct orbit_api uo_api;

/*
 * Argument checks shared by every call path; returns 0 or an errno value.
 * Pure: unit tested on the host.
 */
int uo_check_call_args(size_t narea, struct orbit_area **areas,
		       const void *arg, size_t argsize, size_t max_arg,
		       size_t max_areas);

#endif
