#!/bin/sh
# Harness self-test only: passes itself but plants a lock-order inversion
# in the kernel, which a kernel with lockdep must report.
insmod /tests/orbit_selftest_lock.ko && rmmod orbit_selftest_lock
