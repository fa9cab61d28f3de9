/*
 * parallel.h - running independent items of work on several threads,
 * with results that do not depend on how many or in what order.
 *
 * Owns: handing items 0..n-1 out to worker threads in increasing order,
 * and the one error reported: that of the lowest item that failed, as a
 * run on one thread would report it (items after a failed one are not
 * started).  Does not own what an item does: each item writes only its
 * own results, so every outcome is the same on any machine.  Used where
 * the work waits on the disk (reading many files of a cold store), so
 * the number of threads is about requests in flight, not cores.
 */
#ifndef MK_PARALLEL_H
#define MK_PARALLEL_H

#include <stddef.h>

#include "err.h"

/* Reads in flight while a cold store is read: enough to keep an SSD's or
 * a virtual disk's queue busy, few enough to stay cheap. */
#define MK_PARALLEL_IO_THREADS 8

/*
 * Calls fn(ctx, i, worker, e) for every i < n on up to `threads` threads
 * (worker < threads names the calling thread, for per-thread buffers;
 * `e` is that thread's).  fn returns 0, or -1 with `e` set.  Returns 0,
 * or -1 with `e` holding the message of the lowest failed item.
 */
int mk_parallel_for(size_t n, unsigned threads,
		    int (*fn)(void *ctx, size_t i, unsigned worker,
			      struct mk_err *e),
		    void *ctx, struct mk_err *e);

#endif
