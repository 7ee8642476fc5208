/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SIGBUS where a test expects it, and nowhere else: a write past
 * max_user_bytes inside sigbus_touch(), or a read of a page with a memory
 * error inside sigbus_read(), returns to it; any other
 * SIGBUS (one the library or the module should have spared the program)
 * makes the process say where (the instruction, for addr2line) and exit
 * with status 40.  Define _GNU_SOURCE before any include (REG_RIP).
 */
#ifndef SIGBUS_H
#define SIGBUS_H

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf sigbus_jb;
static volatile int sigbus_expected;
static volatile int sigbus_code;	/* the last expected one's si_code */

static inline void sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	greg_t ip = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	char msg[128];
	int n;

	if (sigbus_expected) {
		sigbus_code = si->si_code;
		siglongjmp(sigbus_jb, 1);
	}
	n = snprintf(msg, sizeof(msg),
		     "# SIGBUS not expected: pid %d addr %p ip %llx\n",
		     getpid(), si->si_addr, (unsigned long long)ip);
	if (write(2, msg, n) < 0)
		_exit(41);
	_exit(40);
}

/* Installs the handler (inherited across fork). */
static inline void sigbus_catch(void)
{
	struct sigaction sa = { .sa_sigaction = sigbus_handler,
				.sa_flags = SA_SIGINFO };

	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Writes v into the first byte of pages [from, want) of p until a SIGBUS:
 * the page it stopped at (want if none came).  sigbus_catch() first.
 */
static inline long sigbus_touch(volatile char *p, long from, long want,
				int v)
{
	static volatile long done;

	done = from;
	if (sigsetjmp(sigbus_jb, 1)) {
		sigbus_expected = 0;
		return done;
	}
	sigbus_expected = 1;
	for (; done < want; done++)
		p[done * 4096] = v;
	sigbus_expected = 0;
	return done;
}

/*
 * Reads *p into *val: 0, or the si_code of the SIGBUS that came instead.
 * sigbus_catch() first.
 */
static inline int sigbus_read(volatile char *p, long *val)
{
	if (sigsetjmp(sigbus_jb, 1)) {
		sigbus_expected = 0;
		return sigbus_code;
	}
	sigbus_expected = 1;
	*val = *p;
	sigbus_expected = 0;
	return 0;
}

#endif /* SIGBUS_H */
