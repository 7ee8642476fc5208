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
out=$1 pkg=redis
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../port.sh"

build() {	# build NAME [make args]
	local name=$1 t=$out/$1
	shift
	fresh "$name" && return 0
	prepare "$name" src
	make -C "$t" -j"$jobs" BUILD_TLS=no USE_SYSTEMD=no "$@" > "$t.log" 2>&1 ||
		{ tail -40 "$t.log"; echo "redis ($name): build failed, see $t.log" >&2; return 1; }
	echo "redis ($name): built $(cd "$t" && ./src/redis-server --version | cut -d' ' -f1-3)"
	built "$name"
}

build stock USE_SYSTEM_JEMALLOC=yes USE_JEMALLOC=yes
build orbit MALLOC=libc \
	ORBIT_CFLAGS="-DUSE_ORBIT_HEAP -DORBIT_APP=REDIS -I$top/libuorbit -I$top/build/include" \
	ORBIT_LIBS="$top/build/lib/libuorbit.a"
