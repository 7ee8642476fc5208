/* SPDX-License-Identifier: BSD-3-Clause */
/* The application ports' tasks: output to main as updates. */
#ifndef ORBIT_APP_PUSH_H
#define ORBIT_APP_PUSH_H

#include <stddef.h>

/*
 * In a task: len bytes at buf to main, as one ORBIT_UPDATE_DATA update of
 * the running call; 0, or -1 with errno set (nothing was sent).
 */
int orbit_app_push_data(const void *buf, size_t len);

#endif
