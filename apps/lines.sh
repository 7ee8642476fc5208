#!/bin/bash
# Porting effort per task, as apps/README.md reports it: lines the edit
# lists insert into upstream files (and upstream lines they replace), and
# code lines of the port's own files (not blank, not comment-only).
# usage: apps/lines.sh
cd "$(dirname "$0")"
code() {	# code FILE...: lines that are neither blank nor comment-only
	cat "$@" | sed -e 's://.*$::' | awk '
		/\/\*/ { c = 1 } { line = $0 }
		c { if (line ~ /\*\//) { c = 0; sub(/.*\*\//, "", line) } else next }
		line ~ /[^ \t]/ { n++ } END { print n + 0 }'
}
edits() {	# edits EDITS FILE...: inserted lines, replaced lines
	awk -v files="$2" '
		/^----$/ { on = 0; next } /^## / { next }
		/^FILE / { f = $2; on = index(" " files " ", " " f " ") > 0; mode = ""; next }
		on && mode == "" { mode = $1; if (mode == "replace") rep++; next }
		on { ins++ }
		END { printf "%d %d\n", ins, rep }' "$1"
}
row() {		# row TASK EDITS "UPSTREAM FILES" OWN-FILES...
	local task=$1 e=$2 files=$3
	shift 3
	read -r ins rep < <(edits "$e" "$files")
	printf '| %s | %d (%d upstream lines replaced) | %d | %s |\n' "$task" "$ins" "$rep" \
		"$(code "$@")" "$(echo "$@" | xargs -n1 basename | tr '\n' ' ' | sed 's/ $//')"
}
echo "| task | lines inserted into upstream files | port's own code lines | port's files |"
echo "|---|---:|---:|---|"
row "Redis slow log" redis/redis.edits "src/slowlog.c" redis/orbit_slowlog.c redis/orbit_redis.c redis/orbit_redis.h common/orbit_app.c common/orbit_app.h
row "Redis BGSAVE" redis/redis.edits "src/zmalloc.h src/zmalloc.c src/rdb.c src/server.c src/Makefile" \
	redis/orbit_bgsave.c redis/orbit_zmalloc.c common/orbit_app.c common/orbit_app.h common/orbit_app_heap.c common/orbit_app_heap.h common/orbit_app_heap_redirect.h
row "memcached metadump" memcached/memcached.edits "slabs.c assoc.c proto_text.c" \
	memcached/orbit_memcached.c memcached/orbit_memcached.h common/orbit_app.c common/orbit_app.h common/orbit_app_heap.c common/orbit_app_heap.h common/orbit_app_heap_redirect.h
