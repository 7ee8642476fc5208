#!/bin/bash
# Builds the self-test module tests/selftest/<NAME>mod against the kernel
# tree KDIR in OUT/<NAME>/ and copies orbit_selftest_<NAME>.ko to OUT/bin/;
# on failure prints the build's log and exits 1.
# usage: build-mod.sh KDIR NAME OUT
set -u
kdir=$1 name=$2 out=$(realpath -m "$3")
mkdir -p "$out/$name" "$out/bin"
cp "tests/selftest/${name}mod/"* "$out/$name/" || exit 1
make -s -C "$kdir" M="$out/$name" modules >"$out/$name.log" 2>&1 ||
	{ cat "$out/$name.log"; exit 1; }
cp "$out/$name/orbit_selftest_$name.ko" "$out/bin/"
