// SPDX-License-Identifier: BSD-3-Clause
/* The application ports' tasks: output to main as updates. */
#include <errno.h>

#include <orbit.h>

#include "orbit_app_push.h"

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
