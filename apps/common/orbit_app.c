// SPDX-License-Identifier: BSD-3-Clause
/* What the application ports share about their orbits and tasks. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <orbit.h>

#include "orbit_app.h"

int orbit_app_push_data(const void *buf, size_t len)
{
	struct orbit_update *u = orbit_update_create();
	int err;

	if (!u)
		return -1;
	if (orbit_update_add_data(u, buf, len) == 0 && orbit_push(u, NULL) == 0)
		return 0;	/* the update is the library's now */
	err = errno;
	orbit_update_free(u);
	errno = err;
	return -1;
}

const char *orbit_app_death(struct orbit *ob, char *buf, size_t len)
{
	struct orbit_status st;

	if (!ob || orbit_status(ob, &st))
		snprintf(buf, len, "failed");
	else if (st.last_death == ORBIT_DIED_SIGNAL)
		snprintf(buf, len, "crashed (signal %d)", st.last_death_code);
	else if (st.last_death == ORBIT_DIED_TIMEOUT)
		snprintf(buf, len, "hung (killed after its timeout)");
	else if (st.last_death == ORBIT_DIED_OOM)
		snprintf(buf, len, "ran out of memory");
	else if (st.last_death == ORBIT_DIED_EXIT)
		snprintf(buf, len, "exited (status %d)", st.last_death_code);
	else
		snprintf(buf, len, "died (%d)", (int)st.last_death);
	return buf;
}

void orbit_app_fault(const void *name, size_t len)
{
	if (len == sizeof(ORBIT_APP_FAULT_CRASH) - 1 &&
	    !memcmp(name, ORBIT_APP_FAULT_CRASH, len))
		*(volatile int *)(uintptr_t)0 = 1;
	if (len == sizeof(ORBIT_APP_FAULT_HANG) - 1 &&
	    !memcmp(name, ORBIT_APP_FAULT_HANG, len))
		for (volatile unsigned long spin = 0;; spin++)
			;
}
