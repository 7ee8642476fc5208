/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * orbit port of memcached: `lru_crawler metadump` from an orbit.  The hook
 * proto_text.c calls (memcached.edits puts it in place), and the two
 * functions the edit adds to assoc.c.
 */
#ifndef ORBIT_MEMCACHED_H
#define ORBIT_MEMCACHED_H

/* 1: the command is answered (the connection is the dump's until it ends). */
int orbit_metadump(conn *c, const char *spec);

/* assoc.c: the primary table, with expansion held off until release. */
void **orbit_assoc_hold(unsigned int *power);
void orbit_assoc_release(void);

#endif
