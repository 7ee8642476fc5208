# Sourced by each port's build.sh (after setting pkg and here): fetches
# the source package and gives the helpers a build needs.
#   top, src  the repository and the unpacked source package
#   out       the absolute output directory (made)
#   jobs      parallel make jobs
#   fresh NAME        true when OUT/NAME is built from what it is made of
#   prepare NAME      OUT/NAME as a fresh copy of the source; for "orbit"
#                     with the port's files, common/, and its edits applied
#   built NAME        records what OUT/NAME was built from
top=$(cd "$here/../.." && pwd)
src=$top/build/apps/src/$pkg
jobs=$(nproc)
"$top/apps/fetch-source.sh" "$pkg" "$src" "$top/build/apps/cache"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# What a tree is made of: the source package, and for the port its own
# files, the common ones, the edit tool and libuorbit.
stamp() {
	{ cat "$src/.orbit-fetched"
	  [ "$1" = orbit ] && cat "$here"/* "$top"/apps/common/* "$top/apps/port.sh" \
		"$top/build/lib/libuorbit.a" "$top/apps/edit.py"
	} 2>/dev/null | md5sum
}
fresh() { [ "$(stamp "$1")" = "$(cat "$out/$1.stamp" 2>/dev/null)" ]; }
built() { stamp "$1" > "$out/$1.stamp"; }
prepare() {	# prepare NAME DIR-IN-TREE-FOR-THE-PORT'S-FILES
	local t=$out/$1
	rm -rf "$t" && cp -a "$src" "$t"
	if [ "$1" = orbit ]; then
		cp "$here"/orbit_*.[ch] "$top"/apps/common/orbit_*.[ch] "$t/$2"
		python3 "$top/apps/edit.py" "$t" "$here/$pkg.edits"
	fi
}
