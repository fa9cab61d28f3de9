/*
 * test_parallel.c - parallel.c: every item runs exactly once whatever
 * the number of threads, each worker number is one thread's at a time,
 * and the error reported is the lowest failed item's, as on one thread,
 * however the threads interleave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parallel.h"

#define ITEMS 1000
#define MAX_THREADS 16

struct count {
	atomic_int runs[ITEMS];
	atomic_int busy[MAX_THREADS]; /* items a worker number runs now */
	atomic_int overlap;           /* a worker number ran two at once */
	size_t fail_a, fail_b;        /* items that fail (or ITEMS) */
};

static int item(void *ctx, size_t i, unsigned worker, struct mk_err *e)
{
	struct count *c = ctx;

	if (atomic_fetch_add(&c->busy[worker], 1) != 0)
		atomic_store(&c->overlap, 1);
	atomic_fetch_add(&c->runs[i], 1);
	/* The later failure comes first in time: the earlier must win. */
	if (i == c->fail_b) {
		atomic_fetch_sub(&c->busy[worker], 1);
		return mk_fail(e, "item %zu failed", i);
	}
	if (i == c->fail_a) {
		usleep(20000);
		atomic_fetch_sub(&c->busy[worker], 1);
		return mk_fail(e, "item %zu failed", i);
	}
	atomic_fetch_sub(&c->busy[worker], 1);
	return 0;
}

static void run_all(size_t n, unsigned threads)
{
	static struct count c;
	struct mk_err e;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.fail_a = c.fail_b = ITEMS;
	assert_int_equal(mk_parallel_for(n, threads, item, &c, &e), 0);
	for (i = 0; i < ITEMS; i++)
		assert_int_equal(atomic_load(&c.runs[i]), i < n ? 1 : 0);
	assert_int_equal(atomic_load(&c.overlap), 0);
}

static void test_every_item_once(void **state)
{
	(void)state;
	run_all(ITEMS, 1);
	run_all(ITEMS, 2);
	run_all(ITEMS, MK_PARALLEL_IO_THREADS);
	run_all(ITEMS, MAX_THREADS);
	run_all(3, MAX_THREADS); /* more threads than items */
	run_all(0, 4);
	run_all(1, 0); /* 0 threads means one */
}

static void test_lowest_failure_reported(void **state)
{
	static struct count c;
	struct mk_err e;
	unsigned threads;
	size_t i;

	(void)state;
	for (threads = 1; threads <= MAX_THREADS; threads *= 2) {
		memset(&c, 0, sizeof(c));
		c.fail_a = 5;
		c.fail_b = 7;
		assert_int_equal(mk_parallel_for(ITEMS, threads, item, &c, &e),
				 -1);
		assert_string_equal(e.msg, "item 5 failed");
		/* Every item before the failure ran; none far after it. */
		for (i = 0; i < 5; i++)
			assert_int_equal(atomic_load(&c.runs[i]), 1);
		for (i = 5 + threads + 2; i < ITEMS; i++)
			assert_int_equal(atomic_load(&c.runs[i]), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_item_once),
		cmocka_unit_test(test_lowest_failure_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
