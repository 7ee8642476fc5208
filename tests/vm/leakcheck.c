// SPDX-License-Identifier: GPL-2.0
/*
 * Run by the guest runner after every test: all of the module's live
 * object counters must return to zero (teardown of exited processes is
 * asynchronous, so wait up to 5 s).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../../uapi/orbit.h"

int main(void)
{
	struct orbit_stats st;
	int i, fd;

	for (i = 0; i < 100; i++) {
		fd = open("/dev/orbit", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, ORBIT_IOC_STATS, &st) < 0) {
			perror("leakcheck: /dev/orbit");
			return 1;
		}
		close(fd);
		/* contexts - 1: our own descriptor was open while reading. */
		if (st.contexts == 1 && !st.charged && !st.orbits &&
		    !st.areas && !st.views && !st.pages && !st.nodes &&
		    !st.calls && !st.updates)
			return 0;
		usleep(50000);
	}
	printf("# leak: contexts %llu charged %llu orbits %llu areas %llu views %llu pages %llu nodes %llu calls %llu updates %llu\n",
	       st.contexts - 1, st.charged, st.orbits, st.areas, st.views,
	       st.pages, st.nodes, st.calls, st.updates);
	return 1;
}
