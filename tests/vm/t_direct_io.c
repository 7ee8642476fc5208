// SPDX-License-Identifier: GPL-2.0
/*
 * I/O that writes into area memory without page faults: O_DIRECT reads
 * from the guest's NVMe disk into an area page while another thread keeps
 * taking snapshots of the area and writing elsewhere in the same page.
 * Every read's data must reach main (a snapshot may never take the page
 * the device is writing away from main), and a snapshot never changes
 * after its call was issued (the device may not write into it).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>

#include "tap.h"
#include "util.h"

#define DISK		"/dev/nvme0n1"
#define SECTORS		16384

static volatile int stop;
static char *page;
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
	char first[512];
	int i;

	for (i = 0; i < 512; i++)
		first[i] = p[i];
	usleep(2000);
	for (i = 0; i < 512; i++)
		if (first[i] != p[i])
			return 1;
	return 0;
}

static void *snapshotter(void *arg)
{
	struct orbit_future *f;
	long ret;

	while (!stop) {
		f = orbit_call_async(ob, 0, 1, &area, NULL, &page, sizeof(page));
		page[4000]++;		/* main writes the frozen page */
		if (!f || orbit_future_get(f, &ret) || ret)
			__atomic_add_fetch(&bad_snaps, 1, __ATOMIC_RELAXED);
		snaps++;
	}
	return NULL;
}

int main(void)
{
	struct orbit_module_stats start;
	long reads = 0, lost = 0, n;
	double end;
	pthread_t t;
	int fd;

	require(orbit_module_stats(&start) == 0, "read module counters");
	fd = open(DISK, O_RDONLY | O_DIRECT);
	require(fd >= 0, "open %s with O_DIRECT", DISK);
	ob = orbit_create("directio", check_snapshot, NULL);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "orbit and area");
	page = orbit_alloc(area, 2 * 4096);
	page = (char *)(((uintptr_t)page + 4095) & ~4095UL);
	memset(page, 0, 4096);

	pthread_create(&t, NULL, snapshotter, NULL);
	end = now_us() + 5e6;
	while (now_us() < end) {
		n = reads * 7919 % SECTORS;
		if (pread(fd, page, 512, n * 512) != 512 ||
		    !sector_ok(page, n))
			lost++;
		reads++;
	}
	stop = 1;
	pthread_join(t, NULL);
	ok(reads > 100 && !lost, "%ld O_DIRECT reads into the area during %ld snapshots: %ld lost",
	   reads, snaps, lost);
	ok(snaps > 100 && !bad_snaps, "no snapshot changed under its task (%ld did)",
	   bad_snaps);
	close(fd);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
