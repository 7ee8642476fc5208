#!/bin/bash
# `make demo`: boots the stock 6.1 kernel, loads orbit.ko and runs the demo.
set -u
cd "$(dirname "$0")/.."
k=$(scripts/kernels.sh | head -n 1)
tests/vm/run-vm.sh -k "$k" -m "build/$k/orbit.ko" -b build/vmtests -l logs/demo -t "t_smoke"
