// SPDX-License-Identifier: LGPL-2.1-or-later
/* libuorbit's mutable state: see state.h for why it is all here. */
#include "state.h"
#include "update.h"

struct uo_state uo_st = {
	.ctx_lock = PTHREAD_MUTEX_INITIALIZER,
	.atfork_once = PTHREAD_ONCE_INIT,
	.ctx_fd = -1,
	.epoch = 1,
	.va_lock = PTHREAD_MUTEX_INITIALIZER,
	.spawner_lock = PTHREAD_MUTEX_INITIALIZER,
	.spawner_once = PTHREAD_ONCE_INIT,
	.spawner_sock = -1,
	.forker_sock = -1,
	.orbit_fd = -1,
	.update_limit = UO_UPDATE_MAX,
	.held_lock = PTHREAD_MUTEX_INITIALIZER,
	.list_lock = PTHREAD_MUTEX_INITIALIZER,
	.globals_lock = PTHREAD_MUTEX_INITIALIZER,
	.written_uffd = -1,
	.written_pagemap = -1,
};

unsigned char uo_bss_mark;
