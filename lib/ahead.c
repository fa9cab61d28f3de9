#include "ahead.h"

#include <pthread.h>
#include <stdlib.h>

#define AHEAD_MAX_THREADS 16

struct ahead {
	struct ahead_work w;
	pthread_mutex_t lock;
	pthread_cond_t moved;   /* the consumer moved on, or stop */
	size_t at;              /* the consumer's item */
	size_t next;            /* the next item to start */
	uint64_t ahead;         /* cost of started items in [at, next) */
	unsigned waiting;       /* threads waiting for room */
	int stop;
	pthread_t thread[AHEAD_MAX_THREADS];
	unsigned nthreads;
};

/* The next item to run, once there is room; SIZE_MAX to end. */
static size_t take(struct ahead *a, uint64_t *cost)
{
	size_t i = SIZE_MAX;

	pthread_mutex_lock(&a->lock);
	while (!a->stop && a->next < a->w.count && a->ahead > 0 &&
	       a->ahead + a->w.cost(a->w.ctx, a->next) > a->w.limit) {
		a->waiting++;
		pthread_cond_wait(&a->moved, &a->lock);
		a->waiting--;
	}
	if (!a->stop && a->next < a->w.count) {
		i = a->next++;
		*cost = a->w.cost(a->w.ctx, i);
		a->ahead += *cost;
	}
	pthread_mutex_unlock(&a->lock);
	return i;
}

static void *work(void *arg)
{
	struct ahead *a = arg;
	uint64_t cost;
	size_t i;

	while ((i = take(a, &cost)) != SIZE_MAX)
		a->w.run(a->w.ctx, i);
	return NULL;
}

struct ahead *ahead_start(const struct ahead_work *w)
{
	struct ahead *a = calloc(1, sizeof(*a));
	unsigned i, n = w->threads ? w->threads : 1;

	if (!a)
		return NULL;
	a->w = *w;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->moved, NULL);
	if (n > AHEAD_MAX_THREADS)
		n = AHEAD_MAX_THREADS;
	for (i = 0; i < n; i++) {
		if (pthread_create(&a->thread[i], NULL, work, a) != 0)
			break;
		a->nthreads++;
	}
	if (a->nthreads == 0) {
		ahead_stop(a);
		return NULL;
	}
	return a;
}

void ahead_at(struct ahead *a, size_t index)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	for (; a->at < index; a->at++)
		if (a->at < a->next)
			a->ahead -= a->w.cost(a->w.ctx, a->at);
	/* A consumer ahead of the threads: nothing behind it is needed. */
	if (a->next < a->at)
		a->next = a->at;
	/* Waiting threads are woken once a quarter of the room is free, not
	 * for every item the consumer passes: a thread switch per file
	 * costs more than a warm store's reads. */
	if (a->waiting && (a->ahead == 0 || a->next >= a->w.count ||
			   a->ahead + a->w.cost(a->w.ctx, a->next) <=
				   a->w.limit - a->w.limit / 4))
		pthread_cond_broadcast(&a->moved);
	pthread_mutex_unlock(&a->lock);
}

void ahead_stop(struct ahead *a)
{
	unsigned i;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = 1;
	pthread_cond_broadcast(&a->moved);
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < a->nthreads; i++)
		pthread_join(a->thread[i], NULL);
	pthread_cond_destroy(&a->moved);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
