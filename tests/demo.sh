#!/bin/bash
# make demo: boots Debian's stock 6.1 cloud kernel in QEMU, loads orbit.ko
# and runs the key-value server demo (tests/demo/t_demo.sh), printing what
# happened.
set -u
cd "$(dirname "$0")/.."
k=$(scripts/kernels.sh | head -n 1)
bin=build/demobin
rm -rf "$bin" && mkdir -p "$bin"
cp build/vmtests/ex_kvserver build/vmtests/ex_snapshot build/vmtests/orbitctl build/vmtests/leakcheck tests/demo/t_demo.sh "$bin/"
tests/vm/run-vm.sh -k "$k" -m "build/$k/orbit.ko" -b "$bin" -l logs/demo -t t_demo.sh -D |
	sed -n 's/^      # //p; /passed,/p'
