// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Which pages of main's globals changed since the library last looked,
 * so that orbit_create() compares and copies only those (globals.c).
 *
 * Where the kernel has it (Linux 6.7 and later): the spans are registered
 * with a userfaultfd in asynchronous write-protect mode, in which the
 * kernel resolves a write to a protected page itself (a minor fault that
 * clears the page's protection; nothing waits for us), and PAGEMAP_SCAN
 * on /proc/self/pagemap reports the pages written since the last scan and
 * protects them again in the same pass.  Pages that are not present
 * (never touched, or dropped by MADV_DONTNEED) are reported too: their
 * contents may have changed without a write.
 *
 * Anywhere this is missing (older kernels, a seccomp filter, no /proc,
 * the program's own userfaultfd on the same memory), the first attempt
 * fails, the library stops trying, and globals.c compares every page.
 *
 * The descriptors are close-on-exec and name this process's memory: a
 * fork child drops them (uo_written_reset, from the atfork handler) and
 * arms its own when it needs them; the child's mappings are not
 * registered (no UFFD_FEATURE_EVENT_FORK).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* The kernel's ABI (linux/fs.h since 6.7; Debian 12's headers predate it). */
struct uo_page_region {
	uint64_t start, end, categories;
};

struct uo_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask;
	uint64_t return_mask;
};

#define UO_PAGEMAP_SCAN			_IOWR('f', 16, struct uo_pm_scan_arg)
#define UO_PM_SCAN_WP_MATCHING		(1 << 0)
#define UO_PM_SCAN_CHECK_WPASYNC	(1 << 1)
#define UO_PAGE_IS_WRITTEN		(1 << 1)
#define UO_PAGE_IS_PRESENT		(1 << 3)
#define UO_FEATURE_WP_UNPOPULATED	(1 << 13)
#define UO_FEATURE_WP_ASYNC		(1 << 15)
#define SCAN_VEC			64

void uo_written_reset(void)
{
	if (uo_st.written_uffd >= 0)
		close(uo_st.written_uffd);
	if (uo_st.written_pagemap >= 0)
		close(uo_st.written_pagemap);
	uo_st.written_uffd = -1;
	uo_st.written_pagemap = -1;
	uo_st.written_n = 0;
}

static void written_off(void)
{
	uo_written_reset();	/* closing the userfaultfd unregisters all */
	uo_st.written_off = 1;
}

static int open_fds(void)
{
	struct uffdio_api api;
	int fd;

	fd = (int)syscall(SYS_userfaultfd,
			  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return -1;
	memset(&api, 0, sizeof(api));
	api.api = UFFD_API;
	api.features = UO_FEATURE_WP_ASYNC | UO_FEATURE_WP_UNPOPULATED;
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		close(fd);
		return -1;
	}
	uo_st.written_uffd = fd;
	uo_st.written_pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	return uo_st.written_pagemap < 0 ? -1 : 0;
}

/*
 * Scans [lo, hi): protects the pages written or not present since the
 * last scan and hands each run of them to fn (with fn NULL: protects
 * every page).  0, or -1 when the kernel refused.
 */
static int scan(uintptr_t lo, uintptr_t hi, uo_written_fn fn, void *arg)
{
	struct uo_page_region vec[SCAN_VEC];
	struct uo_pm_scan_arg a;
	long n, i;

	while (lo < hi) {
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.flags = UO_PM_SCAN_WP_MATCHING | UO_PM_SCAN_CHECK_WPASYNC;
		a.start = lo;
		a.end = hi;
		if (fn) {
			a.vec = (uintptr_t)vec;
			a.vec_len = SCAN_VEC;
		}
		a.category_inverted = UO_PAGE_IS_PRESENT;
		a.category_anyof_mask = UO_PAGE_IS_WRITTEN | UO_PAGE_IS_PRESENT;
		a.return_mask = UO_PAGE_IS_WRITTEN | UO_PAGE_IS_PRESENT;
		n = ioctl(uo_st.written_pagemap, UO_PAGEMAP_SCAN, &a);
		if (n < 0 || a.walk_end <= lo || a.walk_end > hi)
			return -1;
		for (i = 0; fn && i < n; i++)
			fn((uintptr_t)vec[i].start, (uintptr_t)vec[i].end, arg);
		lo = (uintptr_t)a.walk_end;
	}
	return 0;
}

static int same_spans(const struct uo_span *s, unsigned int n)
{
	return n == uo_st.written_n &&
	       !memcmp(s, uo_st.written_spans, n * sizeof(*s));
}

int uo_written_arm(const struct uo_span *s, unsigned int n)
{
	struct uffdio_register reg;
	unsigned int i;

	if (uo_st.written_off || n > UO_WRITTEN_SPANS)
		return -1;
	if (uo_st.written_uffd >= 0 && !same_spans(s, n))
		uo_written_reset();
	if (uo_st.written_uffd < 0) {
		if (open_fds())
			goto off;
		for (i = 0; i < n; i++) {
			memset(&reg, 0, sizeof(reg));
			reg.range.start = s[i].lo;
			reg.range.len = s[i].hi - s[i].lo;
			reg.mode = UFFDIO_REGISTER_MODE_WP;
			if (ioctl(uo_st.written_uffd, UFFDIO_REGISTER, &reg) < 0)
				goto off;
		}
		memcpy(uo_st.written_spans, s, n * sizeof(*s));
		uo_st.written_n = n;
	}
	for (i = 0; i < n; i++)
		if (scan(s[i].lo, s[i].hi, NULL, NULL))
			goto off;
	return 0;
off:
	written_off();
	return -1;
}

int uo_written_scan(const struct uo_span *s, unsigned int n,
		    uo_written_fn fn, void *arg)
{
	unsigned int i;

	if (uo_st.written_off || uo_st.written_uffd < 0 || !same_spans(s, n))
		return -1;
	for (i = 0; i < n; i++) {
		if (scan(s[i].lo, s[i].hi, fn, arg)) {
			written_off();
			return -1;
		}
	}
	return 0;
}
