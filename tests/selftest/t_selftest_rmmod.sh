#!/bin/sh
# Unloads orbit.ko and exits 0 (check-harness.sh): the harness must fail
# this test for it, and the tests after it, not let them run without the
# module or stop the guest short of its results.
rmmod orbit
