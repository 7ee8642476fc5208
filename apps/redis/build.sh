#!/bin/bash
# Builds Redis from Debian's source package twice, under OUT:
#   OUT/stock  as Debian builds it (system jemalloc), untouched;
#   OUT/orbit  with the port: redis.edits applied, orbit_*.c added,
#              zmalloc over an orbit area, libuorbit linked in.
# Each tree keeps what the tests need (src/redis-*, tests/, runtest).
#
# usage: apps/redis/build.sh OUT        (from the top of the repository,
#                                       after `make lib`)
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
src=$top/build/apps/src/redis
jobs=$(nproc)

"$top/apps/fetch-source.sh" redis "$src" "$top/build/apps/cache"
mkdir -p "$out"
out=$(cd "$out" && pwd)
# A tree is rebuilt when what it is made of changed.
stamp() {	# stamp NAME
	{ cat "$src/.orbit-fetched"
	  [ "$1" = orbit ] && cat "$here"/* "$top"/apps/common/* "$top/build/lib/libuorbit.a" "$top/apps/edit.py"
	} 2>/dev/null | md5sum
}

build() {	# build NAME [make args]
	local name=$1 t=$out/$1
	shift
	[ "$(stamp "$name")" = "$(cat "$t.stamp" 2>/dev/null)" ] && return 0
	rm -rf "$t" && cp -a "$src" "$t"
	if [ "$name" = orbit ]; then
		cp "$here"/orbit_*.[ch] "$top"/apps/common/orbit_*.[ch] "$t/src/"
		python3 "$top/apps/edit.py" "$t" "$here/redis.edits"
	fi
	make -C "$t" -j"$jobs" BUILD_TLS=no USE_SYSTEMD=no "$@" > "$t.log" 2>&1 ||
		{ tail -40 "$t.log"; echo "redis ($name): build failed, see $t.log" >&2; return 1; }
	echo "redis ($name): built $(cd "$t" && ./src/redis-server --version | cut -d' ' -f1-3)"
	stamp "$name" > "$t.stamp"
}

build stock USE_SYSTEM_JEMALLOC=yes USE_JEMALLOC=yes
build orbit MALLOC=libc \
	ORBIT_CFLAGS="-DUSE_ORBIT_HEAP -DORBIT_APP=REDIS -I$top/libuorbit -I$top/build/include" \
	ORBIT_LIBS="$top/build/lib/libuorbit.a"
