// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test: the device exists, the handshake answers the ABI version,
 * unknown ioctls give ENOTTY, bad pointers EFAULT, and nothing but the
 * handshake works before it.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../uapi/orbit.h"
#include "tap.h"

int main(void)
{
	struct orbit_api api;
	struct orbit_stats st;
	struct stat sb;
	int fd;

	ok(stat("/dev/orbit", &sb) == 0 && S_ISCHR(sb.st_mode),
	   "/dev/orbit is a character device");
	fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);
	require(fd >= 0, "open /dev/orbit");

	ok(ioctl(fd, ORBIT_IOC_DESTROY, &(struct orbit_ref){ .id = 1 }) == -1 &&
	   errno == EINVAL, "ioctl before the handshake fails with EINVAL");
	ok(ioctl(fd, ORBIT_IOC_STATS, &st) == 0,
	   "stats work without a handshake");

	memset(&api, 0, sizeof(api));
	api.api = ORBIT_API_VERSION + 1;
	ok(ioctl(fd, ORBIT_IOC_API, &api) == -1 && errno == EINVAL,
	   "unknown API version is refused with EINVAL");
	memset(&api, 0, sizeof(api));
	api.api = ORBIT_API_VERSION;
	api.features = 1ULL << 63;
	ok(ioctl(fd, ORBIT_IOC_API, &api) == -1 && errno == EINVAL,
	   "unknown feature bit is refused with EINVAL");
	ok(ioctl(fd, ORBIT_IOC_API, (void *)16) == -1 && errno == EFAULT,
	   "handshake with a bad pointer fails with EFAULT");

	memset(&api, 0, sizeof(api));
	api.api = ORBIT_API_VERSION;
	ok(ioctl(fd, ORBIT_IOC_API, &api) == 0, "handshake succeeds");
	ok(api.api == ORBIT_API_VERSION, "handshake returns ABI version %llu",
	   (unsigned long long)api.api);
	ok(api.ioctls & (1ULL << _IOC_NR(ORBIT_IOC_API)),
	   "handshake lists the API ioctl");
	ok(api.max_arg_size > 0 && api.max_area_size > 0,
	   "handshake reports limits (arg %u, area %llu)", api.max_arg_size,
	   (unsigned long long)api.max_area_size);
	ok(ioctl(fd, ORBIT_IOC_API, &api) == -1 && errno == EBUSY,
	   "second handshake on one descriptor fails with EBUSY");

	ok(ioctl(fd, _IO(ORBIT_IOC_MAGIC, 0x7f)) == -1 && errno == ENOTTY,
	   "unknown orbit ioctl number fails with ENOTTY");
	ok(ioctl(fd, _IO('x', 1)) == -1 && errno == ENOTTY,
	   "foreign ioctl fails with ENOTTY");
	ok(ioctl(fd, ORBIT_IOC_STATS, (void *)16) == -1 && errno == EFAULT,
	   "stats with a bad pointer fail with EFAULT");
	ok(close(fd) == 0, "close");
	return tap_done();
}
