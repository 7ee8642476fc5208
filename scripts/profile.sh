#!/bin/bash
# make profile: boots the stock 6.1 kernel (ORBIT_PROFILE_KERNEL=6.12:
# the 6.12 one; THP off, memory debugging off) and profiles the module's
# snapshot, install and fault paths with ftrace's function_graph tracer
# while orbit_bench's call-size group runs, or ORBIT_PROFILE_CMD (an
# example, say) traces ORBIT_PROFILE_FUNCS: see bench/profile.sh.
# Output: logs/profile/profile.txt.
set -u
cd "$(dirname "$0")/.." || exit 2
series=${ORBIT_PROFILE_KERNEL:-6.1}
k=$(scripts/kernels.sh | awk -v s="$series." 'index($0, s) == 1' | head -n 1)
[ -n "$k" ] || { echo "profile: no test kernel of series $series" >&2; exit 2; }
out=logs/profile
mkdir -p "$out" build/profilebin
cp build/bench/orbit_bench build/profilebin/t_bench
cp build/vmtests/leakcheck build/vmtests/ex_* build/profilebin/
install -m 755 bench/profile.sh build/profilebin/t_profile
tests/vm/run-vm.sh -k "$k" -m "build/$k/orbit.ko" -b build/profilebin -l "$out" \
	-t t_profile -M 6144 -T 1200 -D | grep -v '^  ok'
rc=${PIPESTATUS[0]}
sed -n 's/^    # //p' "$out/results.log" > "$out/profile.txt"
cat "$out/profile.txt"
echo "# profile: $out/profile.txt"
exit "$rc"
