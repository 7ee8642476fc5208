/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * After the system headers, in the sources whose memory tasks read.
 * ORBIT_APP_HEAP_NO_REDIRECT turns it off: orbit-analyze reads the ported
 * sources with the stock allocators (tests/analyze/run.py).
 */
#ifndef ORBIT_APP_HEAP_NO_REDIRECT
#include "orbit_app_heap.h"
#define malloc(size) orbit_app_malloc(size)
#define calloc(count, size) orbit_app_calloc(count, size)
#define realloc(ptr, size) orbit_app_realloc(ptr, size)
#define free(ptr) orbit_app_free(ptr)
#endif
