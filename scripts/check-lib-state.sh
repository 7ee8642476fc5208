#!/bin/sh
# Fails when an object of libuorbit other than state.o has data or bss:
# the fresh-globals copy (libuorbit/globals.c) relies on all of the
# library's mutable state being in state.o (see libuorbit/state.h).
# .data.rel.ro is read-only once relocated (RELRO): never copied.
# usage: check-lib-state.sh OBJECT...
rc=0
for o in "$@"; do
	case $(basename "$o") in state.o) continue ;; esac
	bad=$(size -A "$o" | awk '$1 ~ /^\.(data|bss)/ && $1 !~ /^\.data\.rel\.ro/ && $2 > 0 { printf " %s(%d)", $1, $2 }')
	if [ -n "$bad" ]; then
		echo "$o: mutable state outside libuorbit/state.c:$bad" >&2
		rc=1
	fi
done
exit $rc
