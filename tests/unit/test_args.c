// SPDX-License-Identifier: LGPL-2.1-or-later
/* Host unit tests: call argument checks (ctx.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../libuorbit/internal.h"

static void valid_calls_pass(void **state)
{
	struct orbit_area *a[2] = { (struct orbit_area *)8, (struct orbit_area *)16 };
	char buf[16];

	(void)state;
	assert_int_equal(uo_check_call_args(0, NULL, NULL, 0, 64, 4), 0);
	assert_int_equal(uo_check_call_args(2, a, buf, sizeof(buf), 64, 4), 0);
	assert_int_equal(uo_check_call_args(0, NULL, buf, 64, 64, 4), 0);
}

static void invalid_calls_fail_with_einval(void **state)
{
	struct orbit_area *a[2] = { (struct orbit_area *)8, NULL };
	char buf[16];

	(void)state;
	assert_int_equal(uo_check_call_args(1, NULL, NULL, 0, 64, 4), EINVAL);
	assert_int_equal(uo_check_call_args(2, a, NULL, 0, 64, 4), EINVAL);
	assert_int_equal(uo_check_call_args(0, NULL, NULL, 4, 64, 4), EINVAL);
	assert_int_equal(uo_check_call_args(0, NULL, buf, 65, 64, 4), EINVAL);
	assert_int_equal(uo_check_call_args(5, a, buf, 1, 64, 4), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_calls_pass),
		cmocka_unit_test(invalid_calls_fail_with_einval),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
