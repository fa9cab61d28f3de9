/*
 * ahead.h - background threads that work ahead of a consumer.
 *
 * Owns: handing items 0..n-1 in order to a few threads that run at most
 * a bounded cost ahead of where the consumer says it is, and stopping
 * them.  Used to make a cold disk busy before the single-threaded walk
 * and writer need its data: items only warm caches (read a store path's
 * metadata, ask for a file's data), so whatever they do or fail to do
 * changes nothing but the speed.  Does not own what an item does.
 */
#ifndef MK_AHEAD_H
#define MK_AHEAD_H

#include <stddef.h>
#include <stdint.h>

struct ahead;

struct ahead_work {
	size_t count;                           /* items 0..count-1 */
	uint64_t (*cost)(void *ctx, size_t i);  /* counts against `limit` */
	void (*run)(void *ctx, size_t i);       /* may run on any thread */
	void *ctx;
	uint64_t limit;   /* cost of items at or after the consumer's, at
			     most (one item always may run) */
	unsigned threads;
};

/* Starts the threads; NULL when none could start (nothing runs ahead,
 * which changes only the speed).  `w` is copied. */
struct ahead *ahead_start(const struct ahead_work *w);

/* The consumer is at item `index`: items before it no longer count
 * against the limit, and are not started any more. */
void ahead_at(struct ahead *a, size_t index);

/* Stops (waiting for running items) and frees; NULL is fine. */
void ahead_stop(struct ahead *a);

#endif
