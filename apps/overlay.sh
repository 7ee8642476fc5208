#!/bin/bash
# The guest's part of the application ports: the built trees under /apps,
# the interpreters their own test suites need (tclsh for Redis, perl for
# memcached) and every shared library the programs load, copied from this
# machine.  tests/vm/run-vm.sh lays it over the guest's root (-r).
#
# usage: apps/overlay.sh OUT        (after apps/*/build.sh)
set -eu
out=$1
top=$(cd "$(dirname "$0")/.." && pwd)
b=$top/build/apps
rm -rf "$out"
mkdir -p "$out/apps" "$out/usr/bin" "$out/bin" "$out/etc"
out=$(cd "$out" && pwd)
# The test suites connect to "localhost".
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' > "$out/etc/hosts"

libs() {	# the shared libraries (and loader) of each program
	ldd "$@" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^\t\(\/[^ ]*\) (.*/\1/p' | sort -u
}
tree() {	# tree DIR: a directory at its own path
	mkdir -p "$out$(dirname "$1")" && cp -a "$1" "$out$(dirname "$1")/"
}
add() {		# add FILE...: files at their own paths, with their libraries
	local f
	for f in "$@" $(libs "$@"); do
		cp -L --parents "$f" "$out"
	done
}

# Redis: each build's programs and the test suite.
for t in stock orbit; do
	d=$b/redis/$t
	[ -x "$d/src/redis-server" ] || { echo "overlay: $d is not built" >&2; exit 1; }
	mkdir -p "$out/apps/redis/$t/src"
	cp -a "$d/src/redis-server" "$d/src/redis-cli" "$d/src/redis-benchmark" \
		"$d/src/redis-check-rdb" "$d/src/redis-check-aof" "$out/apps/redis/$t/src/"
	add "$d/src/redis-server" "$d/src/redis-benchmark"
done
cp -a "$b/redis/orbit/tests" "$b/redis/orbit/runtest" "$out/apps/redis/orbit/"
rm -rf "$out/apps/redis/orbit/tests/tmp"/*
add /usr/bin/tclsh8.6 /usr/bin/getconf
ln -sf tclsh8.6 "$out/usr/bin/tclsh"
tree /usr/share/tcltk/tcl8.6
ln -sf /bin/busybox "$out/usr/bin/env"

# memcached, when built: its programs and test suite, and perl.
if [ -x "$b/memcached/orbit/memcached" ]; then
	for t in stock orbit; do
		d=$b/memcached/$t
		mkdir -p "$out/apps/memcached/$t"
		cp -a "$d/memcached" "$d/memcached-debug" "$out/apps/memcached/$t/"
		add "$d/memcached" "$d/memcached-debug"
	done
	cp -a "$b/memcached/orbit/t" "$out/apps/memcached/orbit/"
	[ -x "$b/memcached/orbit/timedrun" ] && cp -a "$b/memcached/orbit/timedrun" "$out/apps/memcached/orbit/"
	add /usr/bin/perl /usr/bin/memcslap /usr/bin/memcaslap
	cp /usr/bin/prove "$out/usr/bin/"
	for d in /usr/share/perl/5.* /usr/lib/x86_64-linux-gnu/perl/5.* /usr/lib/x86_64-linux-gnu/perl-base /usr/share/perl5; do
		[ -d "$d" ] && tree "$d"
	done
fi
find "$out/apps" -type f -name "redis-*" -o -type f -name memcached | xargs -r strip 2>/dev/null || true
du -sh "$out" | sed 's/^/overlay: /'
