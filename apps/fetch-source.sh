#!/bin/bash
# Unpacks a Debian source package (the upstream tarball with Debian's
# patches applied) into DIR, through a private apt configuration: a deb-src
# line for bookworm and its security updates, kept under CACHE.  The
# machine's own apt sources are never read or changed.  A package already
# unpacked at DIR is left alone.
#
# usage: apps/fetch-source.sh PACKAGE DIR CACHE
set -eu
pkg=$1 dir=$2 cache=$3
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
[ -f "$dir/.orbit-fetched" ] && exit 0
command -v dpkg-source >/dev/null || { echo "fetch-source: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }
mkdir -p "$cache/lists/partial" "$cache/archives" "$cache/parts" "$cache/apt/archives/partial"
key=/usr/share/keyrings/debian-archive-keyring.gpg
{
	echo "deb-src [signed-by=$key] http://deb.debian.org/debian bookworm main"
	echo "deb-src [signed-by=$key] http://deb.debian.org/debian bookworm-updates main"
	echo "deb-src [signed-by=$key] http://deb.debian.org/debian-security bookworm-security main"
} > "$cache/sources.list"
apt=(apt-get -q -o "Dir::Etc::SourceList=$cache/sources.list"
     -o "Dir::Etc::SourceParts=$cache/parts" -o "Dir::State::Lists=$cache/lists"
     -o "Dir::Cache=$cache/apt" -o APT::Sandbox::User=root)
# Refresh the index at most once a day.
if [ -z "$(find "$cache/lists" -maxdepth 1 -name '*Sources*' -mtime -1 2>/dev/null)" ]; then
	"${apt[@]}" update >"$cache/update.log" 2>&1 ||
		{ cat "$cache/update.log" >&2; exit 1; }
fi
(cd "$cache/archives" && "${apt[@]}" source --download-only "$pkg") >"$cache/$pkg.log" 2>&1 ||
	{ cat "$cache/$pkg.log" >&2; exit 1; }
dsc=$(ls -t "$cache/archives/${pkg}"_*.dsc | head -n 1)
rm -rf "$dir" "$dir.tmp"
mkdir -p "$(dirname "$dir")"
dpkg-source --no-check -x "$dsc" "$dir.tmp" >>"$cache/$pkg.log" 2>&1 ||
	{ cat "$cache/$pkg.log" >&2; exit 1; }
basename "$dsc" .dsc > "$dir.tmp/.orbit-fetched"
mv "$dir.tmp" "$dir"
