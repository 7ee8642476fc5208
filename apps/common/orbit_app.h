/* SPDX-License-Identifier: BSD-3-Clause */
/* What the application ports share about their orbits and tasks. */
#ifndef ORBIT_APP_H
#define ORBIT_APP_H

#include <stddef.h>

struct orbit;

/*
 * In a task: len bytes at buf to main, as one ORBIT_UPDATE_DATA update of
 * the running call; 0, or -1 with errno set (nothing was sent).
 */
int orbit_app_push_data(const void *buf, size_t len);

/* In main: the orbit's last death in words ("crashed (signal 11)"...). */
const char *orbit_app_death(struct orbit *ob, char *buf, size_t len);

/*
 * Fault switches (tests): a task that meets one of these names -- an
 * argument, a key -- crashes (a write through NULL) or hangs (spins).
 */
#define ORBIT_APP_FAULT_CRASH	"orbit-fault:crash"
#define ORBIT_APP_FAULT_HANG	"orbit-fault:hang"
void orbit_app_fault(const void *name, size_t len);

#endif
