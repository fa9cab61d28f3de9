#include "filelist.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define PATHS_FIRST_CAP (1u << 16)

static int keep_path(struct filelist *l, const char *path, uint64_t *at)
{
	size_t len = strlen(path) + 1;

	while (l->paths_cap - l->paths_len < len) {
		size_t cap = l->paths_cap ? l->paths_cap * 2 : PATHS_FIRST_CAP;
		char *p = realloc(l->paths, cap);

		if (!p)
			return -1;
		l->paths = p;
		l->paths_cap = cap;
	}
	memcpy(l->paths + l->paths_len, path, len);
	*at = l->paths_len;
	l->paths_len += len;
	return 0;
}

int filelist_note(struct filelist *l, const struct fst_node *n,
		  struct mk_err *e)
{
	struct filelist_entry f = { FILELIST_NO_PATH, n->size, 0 };

	if (n->kind != FST_FILE)
		return 0;
	if (n->src && n->policy)
		f.shown_skip = (uint32_t)n->policy->shown_skip;
	if (mk_grow(&l->files, &l->cap, l->count, sizeof(*l->files)) ||
	    (n->src && keep_path(l, n->src, &f.path)))
		return mk_fail(e, "out of memory");
	l->files[l->count++] = f;
	l->bytes += f.size;
	return 0;
}

const char *filelist_path(const struct filelist *l, size_t i)
{
	return l->files[i].path == FILELIST_NO_PATH ? NULL
						    : l->paths + l->files[i].path;
}

const char *filelist_shown(const struct filelist *l, size_t i)
{
	const char *p = filelist_path(l, i);
	size_t skip = l->files[i].shown_skip;

	return p && strlen(p) > skip ? p + skip : p;
}

void filelist_read_ahead(const struct filelist *l, size_t i)
{
	const char *path = filelist_path(l, i);
	struct stat st;
	int fd;

	if (!path || l->files[i].size == 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		posix_fadvise(fd, 0, (off_t)l->files[i].size,
			      POSIX_FADV_WILLNEED);
	close(fd);
}

void filelist_free(struct filelist *l)
{
	free(l->files);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}
