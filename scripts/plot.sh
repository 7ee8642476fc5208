#!/bin/bash
# plot.sh DIR TITLE: draws DIR/results.csv (scripts/bench.sh) as PNG plots:
#   create.png       creation time vs main's resident size, orbit vs fork
#   call-size.png    call latency vs snapshot size, orbit vs fork-per-call
#   incremental.png  an incremental snapshot vs a full one
# A plot whose rows are missing (ORBIT_BENCH_ONLY) is not drawn.
set -eu
dir=$1
title=$2
csv=$dir/results.csv
command -v gnuplot >/dev/null || scripts/deps.sh gnuplot-nox

# rows GROUP REGEX: "x orbit baseline" per row whose case matches REGEX,
# x being the case's first number.
rows() {
	awk -F, -v g="$1" -v re="$2" '$1 == g && $2 ~ re {
		match($2, /[0-9]+/); print substr($2, RSTART, RLENGTH), $4, $6 }' "$csv"
}

rows create '^main [0-9]+ MiB resident' > "$dir/create.dat"
rows call-size '^snapshot [0-9]+ KiB' > "$dir/call-size.dat"
awk -F, '$1 == "incremental" { printf "\"incremental\" %s\n\"full\" %s\n", $4, $6 }' \
	"$csv" > "$dir/incremental.dat"

plot() {	# NAME GNUPLOT-COMMANDS
	[ -s "$dir/$1.dat" ] || return 0
	gnuplot <<GP
set terminal pngcairo size 800,500 noenhanced
set output '$dir/$1.png'
set grid
set key top left
$2
GP
}

plot create "set title 'Creating an orbit vs fork ($title)'
set xlabel \"main's resident size (MiB)\"; set ylabel 'time (us)'
set logscale x 2; set logscale y
plot '$dir/create.dat' using 1:2 with linespoints title 'orbit_create', \
     '' using 1:3 with linespoints title 'fork'"
plot call-size "set title 'Call latency vs snapshot size ($title)'
set xlabel 'snapshot (every page written)'; set ylabel 'time (us)'
set logscale x 2; set logscale y; set format x '%.0b %BB'; set format y '%.0f'
plot '$dir/call-size.dat' using (\$1*1024):2 with linespoints title 'orbit call', \
     '' using (\$1*1024):3 with linespoints title 'fork per call'"
plot incremental "set title 'Incremental vs full snapshot ($title)'
set ylabel 'call time (us)'; set style fill solid 0.6; set boxwidth 0.5
set yrange [0:*]; unset key
plot '$dir/incremental.dat' using 0:2:xticlabels(1) with boxes"
