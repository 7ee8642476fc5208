#!/bin/sh
# examples/quickstart.c (the README's example) runs and exits 0.
/tests/ex_quickstart | sed 's/^/    # /'
[ "$(/tests/ex_quickstart | tail -1)" = "after a restart: sum 1400" ] &&
	echo "    ok 1 - quickstart prints the expected sums and survives the crash"
echo "    1..1"
/tests/ex_quickstart > /dev/null
