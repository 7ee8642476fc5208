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
out=$1 pkg=memcached
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../port.sh"

build() {	# build NAME
	local name=$1 t=$out/$1 libs extra=
	fresh "$name" && return 0
	prepare "$name" .
	(
		cd "$t"
		./configure -q > "$t.log" 2>&1
		if [ "$name" = orbit ]; then
			for f in orbit_memcached orbit_app_heap orbit_app; do
				gcc -O2 -g -pthread -DHAVE_CONFIG_H -DORBIT_APP=MEMCACHED \
					-I. -I"$top/libuorbit" -I"$top/build/include" \
					-Wall -Werror -c -o $f.o $f.c
			done
			extra="$t/orbit_memcached.o $t/orbit_app_heap.o $t/orbit_app.o $top/build/lib/libuorbit.a"
		fi
		libs=$(sed -n 's/^LIBS = //p' Makefile)
		make timedrun &&
		make -j"$jobs" memcached memcached-debug LIBS="$libs $extra"
	) >> "$t.log" 2>&1 ||
		{ tail -40 "$t.log"; echo "memcached ($name): build failed, see $t.log" >&2; return 1; }
	echo "memcached ($name): built $("$t/memcached" -V)"
	built "$name"
}

build stock
build orbit
