// SPDX-License-Identifier: BSD-3-Clause
/*
 * orbit port of Redis: making the port's orbits and reporting their deaths.
 *
 * Each task has one orbit (struct orbit_port, a static object of the file
 * that owns the task), made by the first call that needs it and kept for
 * the life of the server; it restarts after every death.  Its deaths so
 * far are its restarts, plus one while it lies dead waiting for the next
 * call to restart it; each is logged once.
 */
#include "server.h"
#include "orbit_app.h"
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

unsigned int orbitPortCheck(struct orbit_port *p)
{
	struct orbit_status st;
	unsigned int deaths, n;
	char why[64];

	if (!p->ob || orbit_status(p->ob, &st))
		return 0;
	deaths = st.restarts + (st.state == ORBIT_STATUS_DEAD);
	n = deaths - p->deaths_seen;
	if (n) {
		serverLog(LL_WARNING, "orbit %s: the task %s; the orbit restarts "
			  "(%u restart%s so far); the server keeps serving",
			  p->name, orbit_app_death(p->ob, why, sizeof(why)),
			  st.restarts, st.restarts == 1 ? "" : "s");
		p->deaths_seen = deaths;
	}
	return n;
}
