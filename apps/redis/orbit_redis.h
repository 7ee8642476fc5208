/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * orbit port of Redis: the hooks the edited Redis sources call (apply.sh
 * puts each call in place), and what the port's files share.
 */
#ifndef ORBIT_REDIS_H
#define ORBIT_REDIS_H

#include <orbit.h>

/* slowlog.c: slowlogPushEntryIfNeeded() and slowlogCommand() start with these. */
int orbitSlowlogPush(client *c, robj **argv, int argc, long long duration);
int orbitSlowlogCommand(client *c);

/*
 * rdb.c: rdbSaveBackground(), killRDBChild();
 * server.c: checkChildrenDone(), redisFork().
 */
int orbitBgsaveEnabled(void);
int orbitRdbSaveBackground(int req, char *filename, rdbSaveInfo *rsi);
int orbitCheckChildrenDone(void);
int orbitKillSave(void);
int orbitForkRefused(int purpose);

/* One orbit of the port, made on first use (orbit_redis.c). */
struct orbit_port {
	const char *name;		/* "slowlog", "bgsave" */
	orbit_entry entry;
	void *(*init)(void);
	const char *timeout_env;	/* milliseconds per call; 0: none */
	unsigned long long timeout_ms;	/* the default */
	struct orbit *ob;
	unsigned int deaths_seen;	/* logged by orbitPortCheck() */
	int tried;
};

/* The port's orbit, or NULL (logged once): then the task runs the stock way. */
struct orbit *orbitPortGet(struct orbit_port *p);
/* Logs each death of the orbit since the last look; returns how many. */
unsigned int orbitPortCheck(struct orbit_port *p);

#endif
