// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input gets the documented errno, never an oops, and leaks nothing:
 * through the library (NULL/unknown areas, oversized arguments, bad
 * flags) and through the raw ABI (unaligned or overlapping areas, areas
 * over user memory, unknown ids, bad pointers, another process's orbit,
 * a destroyed orbit, orbit-side ioctls from main).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

#define BAD_PTR ((void *)16)

static long noop(void *argbuf, void *store)
{
	return 7;
}

static int fails(int ret, int err)
{
	return ret == -1 && errno == err;
}

static void library_checks(void)
{
	struct orbit_area *area, *nul = NULL, *two[2];
	struct orbit *ob = orbit_create("bad", noop, NULL);
	static char big[65537];
	void *p;

	require(ob, "orbit_create");
	area = orbit_area_create_ex(4096, 8192, 0, ob);
	require(area, "orbit_area_create_ex");
	ok(fails(orbit_call(NULL, 0, NULL, NULL, NULL, 0), EINVAL),
	   "call on a NULL orbit: EINVAL");
	ok(fails(orbit_call(ob, 1, NULL, NULL, NULL, 0), EINVAL),
	   "narea 1 with a NULL area list: EINVAL");
	ok(fails(orbit_call(ob, 1, &nul, NULL, NULL, 0), EINVAL),
	   "NULL area in the list: EINVAL");
	ok(fails(orbit_call(ob, 0, NULL, NULL, big, sizeof(big)), EINVAL),
	   "argument over the 64 KiB limit: EINVAL");
	ok(fails(orbit_call(ob, 0, NULL, NULL, NULL, 8), EINVAL),
	   "argsize with a NULL argument: EINVAL");
	two[0] = two[1] = area;
	ok(fails(orbit_call(ob, 2, two, NULL, NULL, 0), EINVAL),
	   "the same area twice in one call: EINVAL");
	ok(!orbit_call_async(ob, 0x100, 0, NULL, NULL, NULL, 0) &&
	   errno == EINVAL, "unknown async flag: EINVAL");
	ok(orbit_call(ob, 0, NULL, NULL, big, 65536) == 7,
	   "argument of exactly 64 KiB works");
	ok(!orbit_area_create_ex(8192, 4096, 0, NULL) && errno == EINVAL,
	   "area maximum below its initial size: EINVAL");
	ok(!orbit_area_create_ex(1UL << 50, 0, 0, NULL) && errno == EINVAL,
	   "area over the module's size limit: EINVAL");
	ok(!orbit_alloc(NULL, 8) && errno == EINVAL, "alloc in a NULL area: EINVAL");
	ok(!orbit_alloc(area, 0) && errno == EINVAL, "alloc of 0 bytes: EINVAL");
	p = orbit_alloc(area, 8193);
	ok(!p && errno == ENOMEM, "alloc past the area's maximum: ENOMEM");
	ok(fails(orbit_area_destroy(NULL), EINVAL), "destroy a NULL area: EINVAL");
	ok(fails(orbit_destroy(NULL), EINVAL), "destroy a NULL orbit: EINVAL");
	orbit_area_destroy(area);
	orbit_destroy(ob);
}

static void raw_checks(void)
{
	int fd = raw_context(0), ofd, other, status;
	struct orbit_create cr = { .name = "raw" };
	struct orbit_area_req ar;
	struct orbit_call_req cq;
	struct orbit_wait w;
	struct orbit_run run;
	struct orbit_attach at;
	uint32_t ids[2], id;
	unsigned char *win, *user;
	pid_t pid;

	require(fd >= 0, "raw context");
	require(ioctl(fd, ORBIT_IOC_CREATE, &cr) == 0, "raw ORBIT_IOC_CREATE");
	ofd = cr.orbit_fd;
	win = mmap(NULL, 16 << 20, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	user = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	require(win != MAP_FAILED && user != MAP_FAILED, "reserve a window");

	memset(&ar, 0, sizeof(ar));
	ar.addr = (uintptr_t)win + 1;
	ar.size = 4096;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EINVAL),
	   "unaligned area address: EINVAL");
	ar.addr = (uintptr_t)win;
	ar.size = 100;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EINVAL),
	   "unaligned area size: EINVAL");
	ar.size = 0;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EINVAL),
	   "zero area size: EINVAL");
	ar.addr = ~0UL & ~4095UL;
	ar.size = 8192;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EINVAL),
	   "area past the end of user space: EINVAL");
	ar.addr = (uintptr_t)user;
	ar.size = 4096;
	user[0] = 0x5a;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EEXIST) &&
	   user[0] == 0x5a, "area over existing user memory: EEXIST, memory intact");
	/* Memory made inaccessible after use is no reservation either. */
	require(mprotect(user, 4096, PROT_NONE) == 0, "mprotect it to PROT_NONE");
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EEXIST),
	   "area over memory made PROT_NONE after use: EEXIST");
	ok(mprotect(user, 4096, PROT_READ | PROT_WRITE) == 0 && user[0] == 0x5a,
	   "its data is intact");
	ar.addr = (uintptr_t)win;
	ar.orbit_id = 999;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), ENOENT),
	   "area bound to an unknown orbit: ENOENT");
	ar.orbit_id = 0;
	ar.flags = 0x80;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EINVAL),
	   "unknown area flag: EINVAL");
	ar.flags = 0;
	require(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar) == 0, "a valid raw area");
	id = ar.id;
	ar.addr = (uintptr_t)win;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EEXIST),
	   "overlapping area: EEXIST");

	memset(&cq, 0, sizeof(cq));
	cq.orbit_id = 999;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), ENOENT),
	   "call to an unknown orbit: ENOENT");
	cq.orbit_id = cr.id;
	ids[0] = 4242;
	cq.areas = (uintptr_t)ids;
	cq.narea = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), ENOENT),
	   "call with an unknown area: ENOENT");
	ids[0] = ids[1] = id;
	cq.narea = 2;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EINVAL),
	   "call with a duplicated area: EINVAL");
	cq.narea = 1000;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EINVAL),
	   "call with too many areas: EINVAL");
	cq.narea = 1;
	cq.areas = (uintptr_t)BAD_PTR;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EFAULT),
	   "call with a bad area-list pointer: EFAULT");
	cq.areas = (uintptr_t)ids;
	cq.arg = (uintptr_t)BAD_PTR;
	cq.argsize = 8;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EFAULT),
	   "call with a bad argument pointer: EFAULT");
	cq.arg = 0;
	cq.argsize = 1 << 20;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EINVAL),
	   "call with an oversized argument: EINVAL");
	cq.argsize = 0;
	cq.flags = ORBIT_CALL_SYNC | ORBIT_CALL_NOFUTURE;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EINVAL),
	   "SYNC together with NOFUTURE: EINVAL");
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, BAD_PTR), EFAULT),
	   "call with a bad request pointer: EFAULT");

	memset(&w, 0, sizeof(w));
	ok(fails(ioctl(fd, ORBIT_IOC_WAIT, &w), EINVAL), "wait for id 0: EINVAL");
	w.call_id = 12345;
	ok(fails(ioctl(fd, ORBIT_IOC_WAIT, &w), ENOENT),
	   "wait for an unknown future: ENOENT");

	memset(&run, 0, sizeof(run));
	ok(fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EPERM),
	   "main running the orbit's task loop: EPERM");
	ok(fails(ioctl(ofd, ORBIT_IOC_ATTACH, &at), EPERM),
	   "main attaching as its own orbit: EPERM");

	pid = fork();
	if (pid == 0) {
		int mine = raw_context(0), rc = 0;

		/* The inherited context belongs to the parent. */
		memset(&cq, 0, sizeof(cq));
		cq.orbit_id = cr.id;
		if (!fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EPERM))
			rc |= 1;
		/* Ids are per context: the parent's orbit is not ours. */
		if (mine < 0 || !fails(ioctl(mine, ORBIT_IOC_CALL, &cq), ENOENT))
			rc |= 2;
		_exit(rc);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && (WEXITSTATUS(status) & 1) == 0,
	   "another process using main's context: EPERM");
	ok(WIFEXITED(status) && (WEXITSTATUS(status) & 2) == 0,
	   "another process naming main's orbit: ENOENT");

	ok(ioctl(fd, ORBIT_IOC_DESTROY, &(struct orbit_ref){ .id = cr.id }) == 0,
	   "destroy the raw orbit");
	cq.orbit_id = cr.id;
	cq.flags = 0;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), ENOENT),
	   "call to a destroyed orbit: ENOENT");
	ok(fails(ioctl(fd, ORBIT_IOC_DESTROY, &(struct orbit_ref){ .id = cr.id }),
		 ENOENT),
	   "destroy it again: ENOENT");
	ok(ioctl(fd, ORBIT_IOC_AREA_DESTROY, &(struct orbit_ref){ .id = id }) == 0,
	   "destroy the raw area");
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_DESTROY, &(struct orbit_ref){ .id = id }),
		 ENOENT),
	   "destroy it again: ENOENT");
	other = raw_context(0);
	ok(other >= 0 && fails(ioctl(other, ORBIT_IOC_API, &(struct orbit_api){
		.api = ORBIT_API_VERSION }), EBUSY),
	   "second handshake on a context: EBUSY");
	close(other);
	close(ofd);
	close(fd);
	munmap(win, 16 << 20);
	munmap(user, 4096);
}

int main(void)
{
	struct orbit_module_stats start;

	require(orbit_module_stats(&start) == 0, "read module counters");
	library_checks();
	raw_checks();
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
