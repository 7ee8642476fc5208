#!/bin/sh
# Harness self-test only: passes when a setting holding spaces, a quote
# and a dollar sign reached the guest exactly as the host had it.
want="two words, it's \$HOME"
[ "${ORBIT_BENCH_SELFTEST-unset}" = "$want" ] && exit 0
echo "# ORBIT_BENCH_SELFTEST is '${ORBIT_BENCH_SELFTEST-unset}', want '$want'"
exit 1
