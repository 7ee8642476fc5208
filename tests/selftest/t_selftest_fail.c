// SPDX-License-Identifier: GPL-2.0
/* Harness self-test only: a guest test with a failing check. */
#include "../vm/tap.h"

int main(void)
{
	ok(1, "a passing check");
	ok(0, "a deliberately failing check");
	return tap_done();
}
