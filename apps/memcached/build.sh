#!/bin/bash
# Builds memcached from Debian's source package twice, under OUT:
#   OUT/stock  untouched;
#   OUT/orbit  with the port: memcached.edits applied, orbit_memcached.c
#              and the ports' heap added, libuorbit linked in.
# Each tree has memcached, memcached-debug and timedrun (its test suite
# runs memcached-debug) and t/.
#
# usage: apps/memcached/build.sh OUT    (from the top of the repository,
#                                       after `make lib`)
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
src=$top/build/apps/src/memcached
jobs=$(nproc)

"$top/apps/fetch-source.sh" memcached "$src" "$top/build/apps/cache"
mkdir -p "$out"
out=$(cd "$out" && pwd)
# A tree is rebuilt when what it is made of changed.
stamp() {	# stamp NAME
	{ cat "$src/.orbit-fetched"
	  [ "$1" = orbit ] && cat "$here"/* "$top"/apps/common/* "$top/build/lib/libuorbit.a" "$top/apps/edit.py"
	} 2>/dev/null | md5sum
}

build() {	# build NAME
	local name=$1 t=$out/$1 libs extra=
	[ "$(stamp "$name")" = "$(cat "$t.stamp" 2>/dev/null)" ] && return 0
	rm -rf "$t" && cp -a "$src" "$t"
	if [ "$name" = orbit ]; then
		cp "$here"/orbit_*.[ch] "$top"/apps/common/orbit_*.[ch] "$t/"
		python3 "$top/apps/edit.py" "$t" "$here/memcached.edits"
	fi
	(
		cd "$t"
		./configure -q > "$t.log" 2>&1
		if [ "$name" = orbit ]; then
			for f in orbit_memcached orbit_app_heap; do
				gcc -O2 -g -pthread -DHAVE_CONFIG_H -DORBIT_APP=MEMCACHED \
					-I. -I"$top/libuorbit" -I"$top/build/include" \
					-Wall -Werror -c -o $f.o $f.c
			done
			extra="$t/orbit_memcached.o $t/orbit_app_heap.o $top/build/lib/libuorbit.a"
		fi
		libs=$(sed -n 's/^LIBS = //p' Makefile)
		make timedrun &&
		make -j"$jobs" memcached memcached-debug LIBS="$libs $extra"
	) >> "$t.log" 2>&1 ||
		{ tail -40 "$t.log"; echo "memcached ($name): build failed, see $t.log" >&2; return 1; }
	echo "memcached ($name): built $("$t/memcached" -V)"
	stamp "$name" > "$t.stamp"
}

build stock
build orbit
