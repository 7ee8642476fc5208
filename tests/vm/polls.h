/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the early-wakeup tests (module parameter poll_us): the
 * module's poll counters, read raw (the library does not give them),
 * and an alarm to interrupt a poll (pin_to_cpu is in util.h).  Include
 * after _GNU_SOURCE.
 */
#ifndef ORBIT_TEST_POLLS_H
#define ORBIT_TEST_POLLS_H

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../uapi/orbit.h"

/* The module's counters polls and polls_missed; ~0 when unreadable. */
static inline void module_polls(unsigned long long *polled,
				unsigned long long *missed)
{
	struct orbit_stats st;
	int fd = open("/dev/orbit", O_RDONLY | O_CLOEXEC);

	memset(&st, 0, sizeof(st));
	if (fd < 0 || ioctl(fd, ORBIT_IOC_STATS, &st) < 0)
		st.polls = st.polls_missed = ~0ULL;
	if (fd >= 0)
		close(fd);
	*polled = st.polls;
	*missed = st.polls_missed;
}

/* SIGALRMs handled since alarm_in_ms() first armed one. */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

/*
 * One SIGALRM in ms milliseconds, handled without SA_RESTART (a poll it
 * interrupts ends with EINTR inside the library, which retries).
 */
static inline void alarm_in_ms(long ms)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { ms / 1000, ms % 1000 * 1000 } };

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

#endif
