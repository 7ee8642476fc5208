#!/bin/sh
# Harness self-test only: passes itself but makes the kernel WARN.
insmod /tests/orbit_selftest_warn.ko && rmmod orbit_selftest_warn
