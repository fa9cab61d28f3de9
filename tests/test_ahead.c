/*
 * test_ahead.c - ahead.c: items start in order, never more than the
 * limit's worth ahead of the consumer, each at most once, all of them
 * when the consumer goes through; stopping never hangs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "ahead.h"

#define ITEMS 200
#define SETTLE_US 50000 /* long enough for idle threads to take items */

struct log {
	atomic_int runs[ITEMS];
	atomic_size_t started;
	atomic_size_t highest; /* highest item started, plus one */
};

static uint64_t cost_one(void *ctx, size_t i)
{
	(void)ctx;
	(void)i;
	return 1;
}

static void run_item(void *ctx, size_t i)
{
	struct log *l = ctx;
	size_t h = atomic_load(&l->highest);

	atomic_fetch_add(&l->runs[i], 1);
	atomic_fetch_add(&l->started, 1);
	while (h < i + 1 && !atomic_compare_exchange_weak(&l->highest, &h, i + 1))
		;
}

static struct ahead *start(struct log *l, uint64_t limit, unsigned threads)
{
	struct ahead_work w = { .count = ITEMS, .cost = cost_one,
				.run = run_item, .ctx = l, .limit = limit,
				.threads = threads };
	struct ahead *a;

	memset(l, 0, sizeof(*l));
	a = ahead_start(&w);
	assert_non_null(a);
	return a;
}

static void test_bounded_by_limit(void **state)
{
	static struct log l;
	struct ahead *a;

	(void)state;
	a = start(&l, 3, 4);
	usleep(SETTLE_US);
	assert_int_equal(atomic_load(&l.highest), 3);
	ahead_at(a, 10); /* items 3..9 are passed: never started */
	usleep(SETTLE_US);
	assert_int_equal(atomic_load(&l.highest), 13);
	for (size_t i = 3; i < 10; i++)
		assert_int_equal(atomic_load(&l.runs[i]), 0);
	ahead_stop(a);
}

static void test_all_once_in_order(void **state)
{
	static struct log l;
	struct ahead *a;
	size_t i;

	(void)state;
	a = start(&l, 5, 3);
	for (i = 0; i <= ITEMS; i++) {
		ahead_at(a, i);
		usleep(200);
	}
	usleep(SETTLE_US);
	ahead_stop(a);
	/* The consumer passed each item after the threads had time for it:
	 * all ran once, or a few were passed before they started. */
	for (i = 0; i < ITEMS; i++)
		assert_true(atomic_load(&l.runs[i]) <= 1);
	assert_true(atomic_load(&l.started) > ITEMS / 2);
	assert_int_equal(atomic_load(&l.runs[ITEMS - 1]), 1);
}

static void test_stop_while_waiting(void **state)
{
	static struct log l;
	struct ahead *a;

	(void)state;
	a = start(&l, 1, 8);
	usleep(SETTLE_US);
	assert_int_equal(atomic_load(&l.started), 1);
	ahead_stop(a); /* threads wait for room: must wake and end */
	ahead_stop(NULL);
	ahead_at(NULL, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded_by_limit),
		cmocka_unit_test(test_all_once_in_order),
		cmocka_unit_test(test_stop_while_waiting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
