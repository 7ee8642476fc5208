#!/bin/sh
# unport.sh SRC DST: SRC with every allocation in an area turned back into
# the C library's (orbit_alloc(area, n) -> malloc(n), orbit_calloc ->
# calloc, orbit_realloc -> realloc, orbit_free(area, p) -> free(p)): the
# program as it was before its port, for orbit-analyze to find and fix.
set -e
sed -E 's/orbit_alloc\([^,]+, /malloc(/g; s/orbit_calloc\([^,]+, /calloc(/g;
	s/orbit_realloc\([^,]+, /realloc(/g; s/orbit_free\([^,]+, /free(/g' "$1" > "$2"
