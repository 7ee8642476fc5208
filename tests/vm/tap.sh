# Sourced by the guest's shell tests: TAP lines for one test file.
n=0 fail=0
check() {	# check DESCRIPTION COMMAND...
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then echo "    ok $n - $desc"; else echo "    not ok $n - $desc"; fail=1; fi
}
finish() {
	echo "    1..$n"
	exit $fail
}
# field FILE KEY: KEY's value on FILE's RESULT line
field() {
	sed -n "s/^RESULT .* $2=\([^ ]*\).*/\1/p" "$1"
}
# show FILE: a program's output as TAP comments
show() {
	sed 's/^/    # /' "$@"
}
# run NAME ARGS...: runs $EX ARGS, output in /tmp/NAME.out (shown), status in rc
run() {
	name=$1
	shift
	$EX "$@" > /tmp/$name.out 2>&1
	rc=$?
	show /tmp/$name.out
}
