#include "parallel.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pool {
	pthread_mutex_t lock;
	size_t next;          /* next item to hand out */
	size_t n;
	size_t failed;        /* lowest failed item, or SIZE_MAX */
	struct mk_err first;  /* its message */
	int (*fn)(void *ctx, size_t i, unsigned worker, struct mk_err *e);
	void *ctx;
};

struct worker {
	struct pool *p;
	unsigned id;
	struct mk_err e;
};

/* The next item, or SIZE_MAX when none is left or an earlier one failed. */
static size_t take(struct pool *p)
{
	size_t i = SIZE_MAX;

	pthread_mutex_lock(&p->lock);
	if (p->next < p->n && p->next < p->failed)
		i = p->next++;
	pthread_mutex_unlock(&p->lock);
	return i;
}

static void record_failure(struct pool *p, size_t i, const struct mk_err *e)
{
	pthread_mutex_lock(&p->lock);
	if (i < p->failed) {
		p->failed = i;
		p->first = *e;
	}
	pthread_mutex_unlock(&p->lock);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	size_t i;

	while ((i = take(w->p)) != SIZE_MAX)
		if (w->p->fn(w->p->ctx, i, w->id, &w->e))
			record_failure(w->p, i, &w->e);
	return NULL;
}

int mk_parallel_for(size_t n, unsigned threads,
		    int (*fn)(void *ctx, size_t i, unsigned worker,
			      struct mk_err *e),
		    void *ctx, struct mk_err *e)
{
	struct pool p = { .n = n, .failed = SIZE_MAX, .fn = fn, .ctx = ctx };
	struct worker *w;
	pthread_t *tid;
	unsigned i, started = 1;

	if (threads == 0)
		threads = 1;
	if (threads > n)
		threads = n ? (unsigned)n : 1;
	w = calloc(threads, sizeof(*w));
	tid = calloc(threads, sizeof(*tid));
	if (!w || !tid) {
		free(w);
		free(tid);
		return mk_fail(e, "out of memory");
	}
	pthread_mutex_init(&p.lock, NULL);
	for (i = 0; i < threads; i++)
		w[i] = (struct worker){ .p = &p, .id = i };
	/* This thread is worker 0; a thread that cannot start is no loss. */
	for (i = 1; i < threads; i++)
		if (pthread_create(&tid[i], NULL, work, &w[i]) == 0)
			started = i + 1;
		else
			break;
	work(&w[0]);
	for (i = 1; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&p.lock);
	free(w);
	free(tid);
	if (p.failed == SIZE_MAX)
		return 0;
	*e = p.first;
	return -1;
}
