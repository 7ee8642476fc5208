// SPDX-License-Identifier: GPL-2.0
/*
 * What else rewrites main's PTEs, racing the freeze: while two threads
 * keep writing every page of an area and main keeps snapshotting it, a
 * third makes the whole area read-only and writable again (mprotect makes
 * a write-protected PTE writable at once if it is still dirty: the
 * freeze must leave it clean; a writer's store in between faults, and
 * is retried once the area is writable), drops its PTEs
 * (MADV_DONTNEED), ages them (MADV_COLD, MADV_PAGEOUT, clear_refs of
 * the referenced bits), write-protects them behind the module's back
 * (clear_refs of the soft-dirty bits: read-only but still dirty), asks
 * for read-ahead (MADV_WILLNEED), faults them in through
 * get_user_pages (MADV_POPULATE_WRITE, _READ), and writes its
 * pages through /proc/self/mem and process_vm_writev (writes that take a
 * reference on the page and bypass main's PTEs).  Every task reads its
 * snapshot twice, 3 ms apart, and finds it unchanged, and finds the pages
 * nobody writes as they were; main finds them so at the end.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "tap.h"
#include "freeze_race.h"

#define NPAGES	256		/* written by everyone */
#define NKEPT	16		/* after them: written once, at the start */

struct meddler {
	struct freeze_race *r;
	size_t size;		/* the area's */
	long rounds;
	long failed;		/* calls that did not do what they should */
	char what[64];		/* the first of them */
};

static void meddle_check(struct meddler *m, int good, const char *what)
{
	if (good || m->failed++)
		return;
	snprintf(m->what, sizeof(m->what), "%s: %s", what, strerror(errno));
}

/* Writes v into two written pages through a reference, not a PTE. */
static void poke(struct meddler *m, int fd, int i, long v)
{
	struct iovec local = { &v, sizeof(v) };
	struct iovec remote = {
		fr_word(m->r->base, (i + NPAGES / 2) % NPAGES), sizeof(v)
	};

	meddle_check(m, pwrite(fd, &v, sizeof(v),
			       (off_t)(uintptr_t)fr_word(m->r->base, i)) ==
			sizeof(v), "pwrite /proc/self/mem");
	meddle_check(m, process_vm_writev(getpid(), &local, 1, &remote, 1,
					  0) == sizeof(v),
		     "process_vm_writev");
}

static void *meddler(void *arg)
{
	struct meddler *m = arg;
	unsigned char *base = m->r->base;
	size_t size = m->size;
	/* The pages in use (the area is larger): populated, not 1 GiB. */
	size_t used = (NPAGES + NKEPT) * FR_PAGE;
	int fd = open("/proc/self/mem", O_RDWR);

	meddle_check(m, fd >= 0, "open /proc/self/mem");
	while (!m->r->stop && fd >= 0) {
		meddle_check(m, !mprotect(base, size, PROT_READ),
			     "mprotect r");
		usleep(200);
		meddle_check(m, !mprotect(base, size, PROT_READ | PROT_WRITE),
			     "mprotect rw");
		poke(m, fd, m->rounds % NPAGES, m->rounds);
		switch (m->rounds % 8) {
		case 0:
			meddle_check(m, !madvise(base, size, MADV_DONTNEED),
				     "MADV_DONTNEED");
			break;
		case 1:
			meddle_check(m, !madvise(base, used,
						 MADV_POPULATE_WRITE),
				     "MADV_POPULATE_WRITE");
			break;
		case 2:	/* soft-dirty */
			meddle_check(m, !write_file("/proc/self/clear_refs",
						    "4"), "clear_refs 4");
			break;
		case 3:
			meddle_check(m, !madvise(base, size, MADV_COLD),
				     "MADV_COLD");
			break;
		case 4:	/* referenced */
			meddle_check(m, !write_file("/proc/self/clear_refs",
						    "1"), "clear_refs 1");
			break;
		case 5:
			meddle_check(m, !madvise(base, size, MADV_WILLNEED),
				     "MADV_WILLNEED");
			break;
		case 6:
			meddle_check(m, !madvise(base, size, MADV_PAGEOUT),
				     "MADV_PAGEOUT");
			break;
		case 7:
			meddle_check(m, !madvise(base, used,
						 MADV_POPULATE_READ),
				     "MADV_POPULATE_READ");
			break;
		}
		m->rounds++;
		usleep(300);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(void)
{
	struct freeze_race r = { .npages = NPAGES, .nkept = NKEPT };
	struct meddler m = { .r = &r };
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct fr_result res;
	struct orbit *ob;
	pthread_t t;
	int i, kept = 1;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("protect-race", fr_reread, NULL);
	area = orbit_area_create((NPAGES + NKEPT) * FR_PAGE, ob);
	require(ob && area, "orbit and area");
	r.base = orbit_area_base(area);
	m.size = orbit_area_size(area);
	/* A writer's store while the area is read-only is retried. */
	require(segv_retry_in(r.base, m.size) == 0, "SIGSEGV handler");
	require(fr_start(&r) == 0 &&
		pthread_create(&t, NULL, meddler, &m) == 0,
		"start the writers and the meddler");
	res = fr_calls(ob, area, &r, 6);
	fr_stop(&r);
	pthread_join(t, NULL);
	ok(m.rounds > 100 && !m.failed,
	   "%ld rounds of mprotect, madvise, clear_refs and pokes (%ld failed%s%s)",
	   m.rounds, m.failed, m.failed ? ": first " : "", m.what);
	ok(res.calls > 50 && !res.changed && !res.lost && !res.failed,
	   "%ld snapshots: %ld changed under their task, %ld lost a kept page, %ld failed",
	   res.calls, res.changed, res.lost, res.failed);
	for (i = 0; i < NKEPT; i++)
		kept &= *fr_word(r.base, NPAGES + i) == fr_kept_value(i);
	ok(kept, "main's kept pages are as written");
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
