// SPDX-License-Identifier: LGPL-2.1-or-later
/* Host unit tests: update encoding, validation and apply (update.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../libuorbit/update.h"

static int op_calls;
static long op_seen;

static long op_record(void *arg)
{
	op_calls++;
	op_seen = *(long *)arg;
	return 0;
}

static void entries_iterate_in_push_order(void **state)
{
	struct orbit_update *u = orbit_update_create();
	const struct orbit_update_entry *e;
	long target = 0, val = 7, oparg = 99;

	(void)state;
	assert_int_equal(orbit_update_add_data(u, "hello", 5), 0);
	assert_int_equal(orbit_update_add_modify(u, &target, &val, sizeof(val)), 0);
	assert_int_equal(orbit_update_add_operation(u, op_record, &oparg), 0);

	e = orbit_update_first(u);
	assert_int_equal(e->type, ORBIT_UPDATE_DATA);
	assert_int_equal(e->len, 5);
	assert_memory_equal(e->data, "hello", 5);
	e = orbit_update_next(u, e);
	assert_int_equal(e->type, ORBIT_UPDATE_MODIFY);
	assert_ptr_equal((void *)(uintptr_t)e->addr, &target);
	e = orbit_update_next(u, e);
	assert_int_equal(e->type, ORBIT_UPDATE_OPERATION);
	assert_ptr_equal(orbit_update_operation_arg(e), &oparg);
	assert_null(orbit_update_next(u, e));
	assert_int_equal(uo_update_validate(u->buf, u->len), 0);
	orbit_update_free(u);
}

static void bad_arguments_are_rejected(void **state)
{
	struct orbit_update *u = orbit_update_create();
	long x;

	(void)state;
	assert_int_equal(orbit_update_add_data(NULL, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(orbit_update_add_data(u, NULL, 4), -1);
	assert_int_equal(orbit_update_add_modify(u, NULL, &x, sizeof(x)), -1);
	assert_int_equal(orbit_update_add_modify(u, &x, &x, 0), -1);
	assert_int_equal(orbit_update_add_operation(u, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(orbit_update_add_data(u, &x, UO_UPDATE_MAX + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_null(orbit_update_first(u));
	orbit_update_free(u);
}

static void corrupt_buffers_fail_validation(void **state)
{
	struct orbit_update *u = orbit_update_create();
	struct orbit_update_entry *e;
	unsigned char *copy;

	(void)state;
	assert_int_equal(orbit_update_add_data(u, "abcdefgh", 8), 0);
	copy = malloc(u->len);
	memcpy(copy, u->buf, u->len);
	/* Truncated. */
	assert_int_equal(uo_update_validate(copy, u->len - 1), -1);
	assert_int_equal(errno, EBADMSG);
	/* Length that runs past the end. */
	e = (struct orbit_update_entry *)copy;
	e->len = 1 << 20;
	assert_int_equal(uo_update_validate(copy, u->len), -1);
	/* Unknown type. */
	e->len = 8;
	e->type = 77;
	assert_int_equal(uo_update_validate(copy, u->len), -1);
	e->type = ORBIT_UPDATE_DATA;
	assert_int_equal(uo_update_validate(copy, u->len), 0);
	free(copy);
	orbit_update_free(u);
}

static int reject_second_modify(const struct orbit_update_entry *e, void *ctx)
{
	int *n = ctx;

	if (e->type == ORBIT_UPDATE_MODIFY && ++*n == 2)
		return EFAULT;
	return 0;
}

static void apply_is_all_or_nothing(void **state)
{
	struct orbit_update *u = orbit_update_create();
	long a = 1, b = 2, va = 10, vb = 20, oparg = 5;
	int n = 0;

	(void)state;
	op_calls = 0;
	orbit_update_add_modify(u, &a, &va, sizeof(va));
	orbit_update_add_operation(u, op_record, &oparg);
	orbit_update_add_modify(u, &b, &vb, sizeof(vb));
	assert_int_equal(uo_update_apply(u, reject_second_modify, &n), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(op_calls, 0);

	assert_int_equal(uo_update_apply(u, NULL, NULL), 0);
	assert_int_equal(a, 10);
	assert_int_equal(b, 20);
	assert_int_equal(op_calls, 1);
	assert_int_equal(op_seen, 5);
	orbit_update_free(u);
}

static void wrap_takes_validated_buffers(void **state)
{
	struct orbit_update *u = orbit_update_create(), *w;
	unsigned char *copy;

	(void)state;
	orbit_update_add_data(u, "xyz", 3);
	copy = malloc(u->len);
	memcpy(copy, u->buf, u->len);
	w = uo_update_wrap(copy, u->len);
	assert_non_null(w);
	assert_memory_equal(orbit_update_first(w)->data, "xyz", 3);
	orbit_update_free(w);
	copy = malloc(8);
	memset(copy, 0xff, 8);
	assert_null(uo_update_wrap(copy, 8));
	free(copy);
	orbit_update_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_iterate_in_push_order),
		cmocka_unit_test(bad_arguments_are_rejected),
		cmocka_unit_test(corrupt_buffers_fail_validation),
		cmocka_unit_test(apply_is_all_or_nothing),
		cmocka_unit_test(wrap_takes_validated_buffers),
	};

	return cmocka_run_group_tests_name("update", tests, NULL, NULL);
}
