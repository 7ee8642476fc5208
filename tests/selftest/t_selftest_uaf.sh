#!/bin/sh
# Harness self-test only: passes itself but plants a use-after-free in
# the kernel, which the guest's memory debugging must report.
insmod /tests/orbit_selftest_uaf.ko && rmmod orbit_selftest_uaf
