// SPDX-License-Identifier: GPL-2.0
/*
 * Main's reads of area pages it never wrote (holes) allocate nothing:
 * they map one of the module's zero pages, as views do.  So reading a
 * sparse area costs no memory, and neither does mlockall(MCL_FUTURE),
 * under which every new mapping is populated at once (the library maps
 * an area's whole reserve, 1 GiB by default: before, a 4 KiB area then
 * took 262,161 pages).  A write to a page main has read gives it a page
 * of its own, which the next snapshot holds, also when the write is a
 * read-modify-write instruction.  With every zero page
 * full (debug_zero_refs), a read allocates a page again.  And a read fault that
 * found a hole must not map its zero page over the page a write has
 * since given it: main writes a page just discarded, drops its PTE and
 * reads it back while another thread keeps faulting the page in; then
 * again with that thread's faults sleeping between choosing their page
 * and its PTE (debug_fault_delay_us), and keeping each PTE a while.
 * (With the fault's page lock dropped before its PTE: 3 of 20,000
 * undelayed rounds read zeros on 6.12, 0 on 6.1; 1,391 and 1,380 of
 * 5,000 delayed.)
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "tap.h"
#include "fault_race.h"

#define PAGE		4096
#define NPAGES		4096
#define WORDS		(PAGE / sizeof(long))
#define ROUNDS		20000
#define BUDGET_S	60
#define FILL_DELAY_US	200

static uint64_t live_pages(void)
{
	struct orbit_module_stats st;

	return orbit_module_stats(&st) ? ~0ULL : st.pages;
}

/* The task: the sum of the first word of every page. */
static long sum_pages(void *argbuf, void *store)
{
	const long *base = *(long **)argbuf;
	long s = 0;
	int i;

	(void)store;
	for (i = 0; i < NPAGES; i++)
		s += base[i * WORDS];
	return s;
}

static void reads_and_writes(void)
{
	static uint64_t pfn[NPAGES];
	uint64_t before, after;
	struct orbit_area *area;
	struct orbit *ob;
	long *base, sum = 0, want = 0;
	int i, n, nonzero = 0, lost = 0;

	ob = orbit_create("zero-reads", sum_pages, NULL);
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE, 0, ob);
	require(ob && area, "an orbit and a %d-page area", NPAGES);
	base = orbit_area_base(area);
	before = live_pages();
	for (i = 0; i < NPAGES; i++)
		nonzero += base[i * WORDS] != 0;
	after = live_pages();
	ok(!nonzero && after - before < 64,
	   "main read %d pages it never wrote: %d not zero, %llu pages allocated",
	   NPAGES, nonzero, (unsigned long long)(after - before));
	require(pfns_of(base, NPAGES, pfn) == 0, "read main's pagemap");
	n = frames_in(pfn, NPAGES, 16);
	ok(n >= 1 && n <= 16, "%d frames back them (1..16 zero pages)", n);
	for (i = 0; i < NPAGES; i += 3) {
		base[i * WORDS] = i;
		want += i;
	}
	for (i = 0; i < NPAGES; i++) {
		sum += base[i * WORDS];
		lost += i % 3 == 0 && base[i * WORDS] != i;
	}
	ok(!lost && sum == want,
	   "a write after the read gives main its page: %d pages lost their value",
	   lost);
	ok(live_pages() - before >= NPAGES / 3,
	   "the written pages are allocated (%llu)",
	   (unsigned long long)(live_pages() - before));
	ok(orbit_call(ob, 1, &area, NULL, &base, sizeof(base)) == want,
	   "the snapshot holds the written pages and zeros for the holes");
	orbit_area_destroy(area);
	orbit_destroy(ob);
}

/* One read-modify-write instruction (QEMU's TCG emulates it as a load, then a store). */
static inline void rmw_add(volatile long *p)
{
#if defined(__x86_64__)
	asm volatile("addq $1, %0" : "+m"(*p));
#else
	__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
#endif
}

/*
 * Read-modify-writes of pages main has read (so its PTEs map a zero
 * page), in a child so that a fault loop fails the check instead of
 * hanging the test: each write faults once more as a read when the
 * instruction starts over, which must find the page the write gave the
 * hole, not the zero page again.
 */
static void rmw_after_read(void)
{
	int p[2], status, bad = -1;
	pid_t pid = fork_piped(p);

	if (pid == 0) {
		struct orbit_area *area;
		volatile long *base;
		int i, wrong = 0;

		area = orbit_area_create_ex(64 * PAGE, 64 * PAGE, 0, NULL);
		if (!area)
			_exit(2);
		base = orbit_area_base(area);
		for (i = 0; i < 64; i++)
			wrong += base[i * WORDS] != 0;
		for (i = 0; i < 64; i++)
			rmw_add(&base[i * WORDS]);
		for (i = 0; i < 64; i++)
			wrong += base[i * WORDS] != 1;
		_exit(wrong ? 1 : 0);
	}
	require(pid > 0, "fork");
	close(p[0]);
	if (!wait_child_ms(pid, 20000, &status))
		bad = WIFEXITED(status) ? WEXITSTATUS(status) : 100;
	ok(bad == 0,
	   "read-modify-writes of 64 pages main had read end, each with its value (%s)",
	   bad < 0 ? "they did not end in 20 s" : bad ? "wrong" : "right");
}

/*
 * With every zero page full (debug_zero_refs at 64: 16 pages serve about
 * 1000 PTEs), main's reads of holes allocate pages instead: main reads
 * zeros and goes on.
 */
static void zero_pages_full(void)
{
	struct param_saved saved[] = { { .name = "debug_zero_refs" } };
	struct orbit_area *area;
	uint64_t before;
	long *base;
	int i, nonzero = 0;

	require(params_save(saved, 1) == 0, "read debug_zero_refs");
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE, 0, NULL);
	require(area, "an area");
	base = orbit_area_base(area);
	require(param_write("debug_zero_refs", "64") == 0,
		"debug_zero_refs = 64");
	before = live_pages();
	for (i = 0; i < NPAGES; i++)
		nonzero += base[i * WORDS] != 0;
	ok(!nonzero && live_pages() - before >= NPAGES - 16 * 128,
	   "with the zero pages full main read %d holes: %d not zero, %llu pages allocated",
	   NPAGES, nonzero, (unsigned long long)(live_pages() - before));
	require(params_restore(saved, 1) == 0, "debug_zero_refs restored");
	orbit_area_destroy(area);
}

/* In a child, so that mlockall stays there: pages a default area took. */
static void locked_main(void)
{
	struct orbit_area *area;
	uint64_t before;
	struct orbit *ob;
	int p[2];
	long got = -1, *v;
	pid_t pid = fork_piped(p);

	if (pid == 0) {
		long r[2] = { -1, -1 };

		ob = orbit_create("zero-locked", sum_pages, NULL);
		before = live_pages();
		if (ob && mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
			area = orbit_area_create(PAGE, ob);
			r[0] = area ? (long)(live_pages() - before) : -2;
			v = area ? orbit_alloc(area, sizeof(long)) : NULL;
			if (v) {
				*v = 7;
				r[1] = *v;
			}
		}
		if (write(p[1], r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	require(pid > 0, "fork");
	{
		long r[2];

		if (read(p[0], r, sizeof(r)) == sizeof(r) && r[1] == 7)
			got = r[0];
	}
	close(p[0]);
	waitpid(pid, NULL, 0);
	ok(got >= 0 && got < 1024,
	   "under mlockall(MCL_FUTURE) a 4 KiB area (1 GiB mapped) took %ld pages, and works",
	   got);
}

static void fill_race(long rounds, int budget_s, unsigned int delay_us)
{
	double end = now_us() + budget_s * 1e6;
	long i, stale = 0, failed = 0, first = 0;
	struct fault_race fr = { 0 };

	require(fault_race_start(&fr, delay_us) == 0,
		"a one-page area and a thread faulting it in");
	for (i = 0; i < rounds && now_us() < end; i++) {
		if (one_page_discard(fr.fd, fr.id)) {
			failed++;
			continue;
		}
		*fr.r.page = i + 1;	/* the hole gets a page */
		madvise((void *)fr.r.page, PAGE, MADV_DONTNEED);
		if (*fr.r.page != i + 1 && !stale++)
			first = i;
	}
	require(fault_race_stop(&fr) == 0,
		"stop the thread, clear debug_fault_delay_us");
	ok(!stale && !failed,
	   "%ld holes written under %ld racing read faults (sleeping %u us before their PTE is set): %ld read zeros back (first in round %ld), %ld discards failed",
	   i, fr.r.reads, delay_us, stale, first, failed);
}

int main(void)
{
	struct orbit_module_stats start;

	require(orbit_module_stats(&start) == 0, "read module counters");
	/* The phases count pages: none of the last one's may go meanwhile. */
	reads_and_writes();
	rmw_after_read();
	require(counters_back_to(&start), "the first area's pages are freed");
	zero_pages_full();
	require(counters_back_to(&start), "the second area's pages are freed");
	locked_main();
	fill_race(ROUNDS, BUDGET_S, 0);
	fill_race(ROUNDS / 4, BUDGET_S / 2, FILL_DELAY_US);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
