#include "readahead.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct readahead {
	const struct filelist *l;
	uint64_t limit;     /* bytes ahead of the writer at most */
	pthread_mutex_t lock;
	pthread_cond_t moved; /* the writer moved on, or stop */
	size_t at;          /* the writer's file */
	size_t next;        /* the next file to read ahead */
	uint64_t ahead;     /* bytes of files in [at, next) */
	int stop;
	pthread_t thread;
};

/* Never waits on a fifo nor follows a symlink that replaced a file. */
static void hint(const char *path, uint64_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		posix_fadvise(fd, 0, (off_t)size, POSIX_FADV_WILLNEED);
	close(fd);
}

/* The next file to read ahead, once there is room; SIZE_MAX to end. */
static size_t wait_for_room(struct readahead *ra)
{
	size_t i = SIZE_MAX;

	pthread_mutex_lock(&ra->lock);
	while (!ra->stop && ra->next < ra->l->count && ra->ahead > 0 &&
	       ra->ahead + ra->l->files[ra->next].size > ra->limit)
		pthread_cond_wait(&ra->moved, &ra->lock);
	if (!ra->stop && ra->next < ra->l->count) {
		i = ra->next++;
		ra->ahead += ra->l->files[i].size;
	}
	pthread_mutex_unlock(&ra->lock);
	return i;
}

static void *run(void *arg)
{
	struct readahead *ra = arg;
	size_t i;

	while ((i = wait_for_room(ra)) != SIZE_MAX) {
		const char *path = filelist_path(ra->l, i);

		if (path && ra->l->files[i].size)
			hint(path, ra->l->files[i].size);
	}
	return NULL;
}

struct readahead *readahead_start(const struct filelist *l,
				  uint64_t bytes_ahead)
{
	struct readahead *ra = calloc(1, sizeof(*ra));

	if (!ra)
		return NULL;
	ra->l = l;
	ra->limit = bytes_ahead;
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->moved, NULL);
	if (pthread_create(&ra->thread, NULL, run, ra) != 0) {
		pthread_cond_destroy(&ra->moved);
		pthread_mutex_destroy(&ra->lock);
		free(ra);
		return NULL;
	}
	return ra;
}

void readahead_at(struct readahead *ra, size_t index)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	for (; ra->at < index; ra->at++)
		if (ra->at < ra->next)
			ra->ahead -= ra->l->files[ra->at].size;
	/* A writer ahead of the reader: nothing behind it is needed. */
	if (ra->next < ra->at)
		ra->next = ra->at;
	pthread_cond_signal(&ra->moved);
	pthread_mutex_unlock(&ra->lock);
}

void readahead_stop(struct readahead *ra)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = 1;
	pthread_cond_signal(&ra->moved);
	pthread_mutex_unlock(&ra->lock);
	pthread_join(ra->thread, NULL);
	pthread_cond_destroy(&ra->moved);
	pthread_mutex_destroy(&ra->lock);
	free(ra);
}
