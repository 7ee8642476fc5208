// SPDX-License-Identifier: GPL-2.0
/*
 * I/O that writes into area memory without page faults: O_DIRECT reads
 * from the guest's NVMe disk into area pages while another thread keeps
 * taking snapshots of the area and writing elsewhere in the same pages.
 * Every read's data must reach main (a snapshot may never take a page
 * the device is writing away from main), and a snapshot never changes
 * after its call was issued (the device may not write into it).  Three
 * runs: one page read into with few pages written per snapshot (the
 * freeze zaps main's PTEs), then with many (it write-protects them and
 * checks each page as it goes), then 16 pages read into by one read (more
 * held pages than the write-protect walk lists: the second pass).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>

#include "tap.h"
#include "util.h"

#define DISK		"/dev/nvme0n1"
#define SECTORS		16384

#define READ_MAX	(16 * 4096)

static volatile int stop;
static char *page;		/* READ_MAX bytes the disk is read into */
static char *others;		/* pages the snapshotter writes */
static int nothers;
static int main_at;		/* the byte of page main writes */
static struct orbit *ob;
static struct orbit_area *area;
static long snaps, bad_snaps;

/* The sector text the harness wrote: its number, dots, a newline. */
static int sector_ok(const char *s, long n)
{
	char want[512];

	snprintf(want, sizeof(want), "%-511ld", n);
	for (int i = 0; i < 511; i++)
		if (want[i] == ' ')
			want[i] = '.';
	want[511] = '\n';
	return !memcmp(s, want, 512);
}

/* In the orbit: the snapshot reads the same twice, 2 ms apart. */
static long check_snapshot(void *argbuf, void *store)
{
	const volatile char *p = *(char **)argbuf;
	static char first[READ_MAX];
	int i;

	for (i = 0; i < READ_MAX; i++)
		first[i] = p[i];
	usleep(2000);
	for (i = 0; i < READ_MAX; i++)
		if (first[i] != p[i])
			return 1;
	return 0;
}

static void *snapshotter(void *arg)
{
	struct orbit_future *f;
	long ret;
	int i;

	while (!stop) {
		for (i = 0; i < nothers; i++)
			others[i * 4096]++;
		f = orbit_call_async(ob, 0, 1, &area, NULL, &page, sizeof(page));
		page[main_at]++;	/* main writes a frozen page */
		if (!f || orbit_future_get(f, &ret) || ret)
			__atomic_add_fetch(&bad_snaps, 1, __ATOMIC_RELAXED);
		snaps++;
	}
	return NULL;
}

static void run(int fd, int len, int written, const char *how)
{
	long reads = 0, lost = 0, n;
	double end;
	pthread_t t;
	int s;

	stop = 0;
	snaps = bad_snaps = 0;
	nothers = written;
	main_at = (len & ~4095) + 4000;	/* past the read, in its last page */
	memset(page, 0, READ_MAX);
	pthread_create(&t, NULL, snapshotter, NULL);
	end = now_us() + 4e6;
	while (now_us() < end) {
		n = reads * 7919 % (SECTORS - len / 512);
		if (pread(fd, page, len, n * 512) != len)
			lost++;
		else
			for (s = 0; s < len / 512; s++)
				if (!sector_ok(page + s * 512, n + s)) {
					lost++;
					break;
				}
		reads++;
	}
	stop = 1;
	pthread_join(t, NULL);
	ok(reads > 50 && !lost,
	   "%s: %ld O_DIRECT reads of %d bytes into the area during %ld snapshots: %ld lost",
	   how, reads, len, snaps, lost);
	ok(snaps > 50 && !bad_snaps,
	   "%s: no snapshot changed under its task (%ld did)", how, bad_snaps);
}

int main(void)
{
	struct orbit_module_stats start;
	int fd;

	require(orbit_module_stats(&start) == 0, "read module counters");
	fd = open(DISK, O_RDONLY | O_DIRECT);
	require(fd >= 0, "open %s with O_DIRECT", DISK);
	ob = orbit_create("directio", check_snapshot, NULL);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "orbit and area");
	page = orbit_alloc(area, READ_MAX + 4096);
	others = orbit_alloc(area, 65 * 4096);
	require(page && others, "area memory");
	page = (char *)(((uintptr_t)page + 4095) & ~4095UL);

	run(fd, 512, 0, "one page, zapping freeze");
	run(fd, 512, 64, "one page, write-protecting freeze");
	run(fd, READ_MAX - 4096 + 512, 64, "16 pages, write-protecting freeze");
	close(fd);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
