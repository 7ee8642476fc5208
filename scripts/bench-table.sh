#!/bin/sh
# bench-table.sh CSV: the benchmark rows of CSV (header first) as a
# markdown table, as make bench and make bench-apps print them.
awk -F, 'NR == 1 { print "| group | case | unit | orbit | baseline | baseline | ratio | target | verdict |";
		   print "|---|---|---|---:|---|---:|---:|---|---|"; next }
	 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$1"
