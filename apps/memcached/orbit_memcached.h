/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * orbit port of memcached: `lru_crawler metadump` from an orbit.  The hook
 * proto_text.c calls (memcached.edits puts it in place), and the
 * functions the edits add to slabs.c and assoc.c.
 */
#ifndef ORBIT_MEMCACHED_H
#define ORBIT_MEMCACHED_H

/* 1: the command is answered (the connection is the dump's until it ends). */
int orbit_metadump(conn *c, const char *spec);

/* slabs.c: slab pages come from the heap (not -L's chunk, not -e's file). */
bool orbit_slabs_in_heap(void);

/* assoc.c: the primary table, with expansion held off until release. */
void **orbit_assoc_hold(unsigned int *power);
void orbit_assoc_release(void);

#endif
