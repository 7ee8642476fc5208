// SPDX-License-Identifier: BSD-3-Clause
/*
 * orbit port of Redis: making the port's orbits and reporting their deaths.
 *
 * Each task has one orbit (struct orbit_port, a static object of the file
 * that owns the task), made by the first call that needs it and kept for
 * the life of the server; it restarts after every death.  Deaths are found
 * by comparing the restart count the module reports with the last one
 * seen, and each is logged once.
 */
#include "server.h"
#include "orbit_app_heap.h"
#include "orbit_redis.h"

struct orbit *orbitPortGet(struct orbit_port *p)
{
	struct orbit_attr attr;
	const char *env;
	char name[32];

	if (p->ob || p->tried)
		return p->ob;
	p->tried = 1;
	if (orbit_app_off())
		return NULL;
	if (!orbit_app_area()) {
		serverLog(LL_WARNING, "orbit %s: no orbits (%s): the task runs "
			  "the stock way", p->name, orbit_app_heap_error());
		return NULL;
	}
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	env = getenv(p->timeout_env);
	attr.timeout_ns = (env ? strtoull(env, NULL, 10) : p->timeout_ms) * 1000000ULL;
	snprintf(name, sizeof(name), "redis-%s", p->name);
	p->ob = orbit_create_ex(name, p->entry, p->init, &attr);
	if (!p->ob)
		serverLog(LL_WARNING, "orbit %s: orbit_create: %s: the task runs "
			  "the stock way", p->name, strerror(errno));
	else
		serverLog(LL_NOTICE, "orbit %s: the task runs in orbit %s",
			  p->name, name);
	return p->ob;
}

const char *orbitPortDeath(struct orbit_port *p, char *buf, size_t len)
{
	struct orbit_status st;

	if (!p->ob || orbit_status(p->ob, &st)) {
		snprintf(buf, len, "failed");
		return buf;
	}
	switch (st.last_death) {
	case ORBIT_DIED_SIGNAL:
		snprintf(buf, len, "crashed (signal %d)", st.last_death_code);
		break;
	case ORBIT_DIED_TIMEOUT:
		snprintf(buf, len, "hung (killed after its timeout)");
		break;
	case ORBIT_DIED_OOM:
		snprintf(buf, len, "ran out of memory");
		break;
	case ORBIT_DIED_EXIT:
		snprintf(buf, len, "exited (status %d)", st.last_death_code);
		break;
	default:
		snprintf(buf, len, "died (%d)", (int)st.last_death);
	}
	return buf;
}

unsigned int orbitPortCheck(struct orbit_port *p)
{
	struct orbit_status st;
	unsigned int n;
	char why[64];

	if (!p->ob || orbit_status(p->ob, &st))
		return 0;
	n = st.restarts - p->restarts_seen;
	if (!n && st.state == ORBIT_STATUS_DEAD && st.last_death != ORBIT_DIED_NEVER &&
	    p->restarts_seen == st.restarts && st.will_restart)
		n = 1;	/* dead now, restarted by the next call */
	if (n) {
		serverLog(LL_WARNING, "orbit %s: the task %s; the orbit restarts "
			  "(%u restart%s so far); the server keeps serving",
			  p->name, orbitPortDeath(p, why, sizeof(why)),
			  st.restarts, st.restarts == 1 ? "" : "s");
		p->restarts_seen = st.restarts + (st.state == ORBIT_STATUS_DEAD);
	}
	return n;
}
