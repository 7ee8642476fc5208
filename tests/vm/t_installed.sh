#!/bin/sh
# The installed tree works: a program built with
# `pkg-config --cflags --libs uorbit` against `make install DESTDIR=...`
# (dynamically linked to libuorbit.so.0) runs, and the installed
# orbitctl answers.
set -e
echo "    # $(ls -l /usr/lib/libuorbit.so.0 2>&1)"
/usr/bin/orbit-quickstart | sed 's/^/    # /'
echo "    ok 1 - orbit-quickstart built with pkg-config runs"
/usr/sbin/orbitctl stats > /dev/null
echo "    ok 2 - installed orbitctl answers"
echo "    1..2"
