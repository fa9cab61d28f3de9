#include "toplevel.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extlinux.h"
#include "util.h"

#define MAX_SYMLINK_HOPS 40 /* as Linux's ELOOP limit */

int toplevel_pick(const struct mk_closure *c, const char *requested,
		  char **out, struct mk_err *e)
{
	const char *found = NULL;
	size_t i, n = 0;

	if (requested) {
		if (!closure_contains(c, requested))
			return mk_fail(e, "--toplevel %s: not in the closure",
				       requested);
		found = requested;
	} else {
		for (i = 0; i < c->count; i++)
			if (strstr(c->paths[i] + strlen(NIX_STORE_DIR "/"),
				   TOPLEVEL_NAME_MARK)) {
				found = c->paths[i];
				n++;
			}
		if (n != 1)
			return mk_fail(e, "%s paths named *%s* in the closure; "
				       "pass --toplevel PATH",
				       n ? "several" : "no", TOPLEVEL_NAME_MARK);
	}
	*out = strdup(found);
	return *out ? 0 : mk_fail(e, "out of memory");
}

/* Appends component `name` (len bytes) to `cur`, a path of `*len`. */
static int push(char *cur, size_t *len, const char *name, size_t nlen)
{
	if (*len + 1 + nlen >= PATH_MAX)
		return -1;
	cur[(*len)++] = '/';
	memcpy(cur + *len, name, nlen);
	*len += nlen;
	cur[*len] = '\0';
	return 0;
}

static void pop(char *cur, size_t *len)
{
	while (*len > 0 && cur[*len - 1] != '/')
		(*len)--;
	if (*len > 0)
		(*len)--;
	cur[*len] = '\0';
}

/* `rest` becomes target + "/" + rest; absolute targets restart at "/". */
static int splice(char *rest, const char *target, char *cur, size_t *len)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s/%s", target, rest);

	if (n < 0 || n >= PATH_MAX)
		return -1;
	memcpy(rest, tmp, (size_t)n + 1);
	if (target[0] == '/') {
		*len = 0;
		cur[0] = '\0';
	}
	return 0;
}

int toplevel_resolve(const char *root, const char *path, char **out,
		     struct mk_err *e)
{
	char cur[PATH_MAX] = "", rest[PATH_MAX], host[PATH_MAX * 2];
	char target[PATH_MAX];
	size_t len = 0;
	int hops = 0;

	if (strlen(path) >= sizeof(rest))
		return mk_fail(e, "%s: path too long", path);
	strcpy(rest, path);
	while (rest[0] != '\0') {
		char *slash = strchr(rest, '/');
		size_t nlen = slash ? (size_t)(slash - rest) : strlen(rest);
		char name[NAME_MAX + 1];
		struct stat st;
		ssize_t tl;

		if (nlen > NAME_MAX)
			return mk_fail(e, "%s: name too long", path);
		memcpy(name, rest, nlen);
		name[nlen] = '\0';
		memmove(rest, slash ? slash + 1 : rest + nlen,
			strlen(slash ? slash + 1 : rest + nlen) + 1);
		if (nlen == 0 || strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			pop(cur, &len);
			continue;
		}
		if (push(cur, &len, name, nlen))
			return mk_fail(e, "%s: path too long", path);
		if (snprintf(host, sizeof(host), "%s%s",
			     strcmp(root, "/") ? root : "", cur) >=
		    (int)sizeof(host))
			return mk_fail(e, "%s: path too long", path);
		if (lstat(host, &st) != 0)
			return mk_fail_errno(e, errno, "%s", cur);
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++hops > MAX_SYMLINK_HOPS)
			return mk_fail(e, "%s: too many symlinks", path);
		tl = readlink(host, target, sizeof(target) - 1);
		if (tl < 0)
			return mk_fail_errno(e, errno, "%s", cur);
		target[tl] = '\0';
		pop(cur, &len);
		if (splice(rest, target, cur, &len))
			return mk_fail(e, "%s: path too long", path);
	}
	*out = strdup(len ? cur : "/");
	return *out ? 0 : mk_fail(e, "out of memory");
}

static char *host_path(const char *root, const char *inside)
{
	return strcmp(root, "/") == 0 ? strdup(inside)
				      : mk_path_join(root, inside);
}

/* Nonzero when `resolved` is a closure path or lies inside one. */
static int in_closure(const struct mk_closure *c, const char *resolved)
{
	const char *prefix = NIX_STORE_DIR "/", *name, *slash;
	char *top;
	int found;

	if (strncmp(resolved, prefix, strlen(prefix)) != 0)
		return 0;
	name = resolved + strlen(prefix);
	slash = strchr(name, '/');
	top = mk_strndup(resolved, slash ? (size_t)(slash - resolved)
					 : strlen(resolved));
	found = top && closure_contains(c, top);
	free(top);
	return found;
}

/* What the symlink `inside` (absolute, as seen inside `root`) says, in
 * `target` ("" when it is no symlink).  Its parent is resolved inside
 * the root first: "toplevel/dtbs/x.dtb" read on the host as is would
 * follow dtbs's absolute link on the host, not inside --store-root. */
static void link_target(const char *root, const char *inside, char *target,
			size_t size)
{
	const char *slash = strrchr(inside, '/');
	char *parent = mk_strndup(inside, (size_t)(slash - inside));
	char *resolved = NULL, *link = NULL, *host = NULL;
	struct mk_err ignored;
	ssize_t n;

	target[0] = '\0';
	if (parent && toplevel_resolve(root, parent, &resolved, &ignored) == 0 &&
	    (link = mk_path_join(resolved, slash + 1)) != NULL &&
	    (host = host_path(root, link)) != NULL &&
	    (n = readlink(host, target, size - 1)) > 0)
		target[n] = '\0';
	free(parent);
	free(resolved);
	free(link);
	free(host);
}

/* Fails unless toplevel/`entry`, resolved to `resolved`, stays inside
 * the closure; names the link and what it points to. */
static int confine(const char *root, const struct mk_closure *c,
		   const char *toplevel, const char *entry,
		   const char *resolved, struct mk_err *e)
{
	char *inside, target[PATH_MAX] = "";

	if (in_closure(c, resolved))
		return 0;
	inside = mk_path_join(toplevel, entry);
	if (inside)
		link_target(root, inside, target, sizeof(target));
	mk_fail(e, "%s -> %s: '%s' must resolve into a store path of the "
		"closure, not to %s", inside ? inside : entry,
		target[0] ? target : resolved, entry, resolved);
	free(inside);
	return -1;
}

/* Resolves toplevel/`entry` and checks its type (S_IFREG or S_IFDIR). */
static int resolve_entry(const char *root, const char *toplevel,
			 const char *entry, mode_t type, char **out,
			 struct mk_err *e)
{
	char *inside = mk_path_join(toplevel, entry), *host = NULL;
	struct stat st;
	struct mk_err why;
	int rc = -1;

	if (!inside)
		return mk_fail(e, "out of memory");
	if (toplevel_resolve(root, inside, out, &why)) {
		mk_fail(e, "%s: the toplevel has no usable '%s' (%s)", toplevel,
			entry, why.msg);
		goto done;
	}
	host = host_path(root, *out);
	if (!host || stat(host, &st) != 0 || (st.st_mode & S_IFMT) != type) {
		mk_fail(e, "%s: '%s' resolves to %s, which is not a %s",
			toplevel, entry, *out,
			type == S_IFDIR ? "directory" : "regular file");
		free(*out);
		*out = NULL;
		goto done;
	}
	rc = 0;
done:
	free(inside);
	free(host);
	return rc;
}

static int read_params(const char *root, const struct mk_closure *c,
		       const char *toplevel, char **out, struct mk_err *e)
{
	char *inside = NULL, *host = NULL;
	struct mk_buf b;
	int rc = resolve_entry(root, toplevel, "kernel-params", S_IFREG,
			       &inside, e);

	if (rc == 0)
		rc = confine(root, c, toplevel, "kernel-params", inside, e);

	if (rc == 0 && !(host = host_path(root, inside)))
		rc = mk_fail(e, "out of memory");
	if (rc == 0)
		rc = mk_read_all(host, &b, e);
	free(inside);
	free(host);
	if (rc)
		return -1;
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	if (memchr(b.data, '\n', b.len) || strlen(b.data) != b.len) {
		free(b.data);
		return mk_fail(e, "%s/kernel-params: must be one line",
			       toplevel);
	}
	*out = b.data;
	return 0;
}

const char *toplevel_dtb_problem(const char *dtb)
{
	const char *p = dtb;

	if (*dtb == '\0')
		return "empty";
	if (*dtb == '/')
		return "not a relative path";
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.'))
			return "has an empty or '.' component";
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "has a '..' component";
		p += n;
		if (*p == '/')
			p++;
	}
	return p[-1] == '/' ? "ends with '/'" : NULL;
}

static int check_dtb(const char *root, const struct mk_closure *c,
		     struct mk_toplevel *t, const char *dtb, struct mk_err *e)
{
	const char *problem = toplevel_dtb_problem(dtb);
	char *inside, *resolved = NULL;
	int rc;

	if (problem)
		return mk_fail(e, "--dtb %s: %s (it names a file under the "
			       "kernel's dtbs folder, e.g. %s)", dtb, problem,
			       EXTLINUX_DEFAULT_DTB);
	if (!t->dtbs)
		return mk_fail(e, "%s: no dtbs directory, so no device tree "
			       "'%s' (pass --dtb none to boot without FDT)",
			       t->path, dtb);
	inside = mk_path_join("dtbs", dtb);
	if (!inside)
		return mk_fail(e, "out of memory");
	rc = resolve_entry(root, t->path, inside, S_IFREG, &resolved, e);
	if (rc)
		mk_fail(e, "%s: device tree '%s' not found under dtbs",
			t->path, dtb);
	else
		rc = confine(root, c, t->path, inside, resolved, e);
	free(inside);
	free(resolved);
	return rc;
}

/* resolve_entry, then confine. */
static int load_entry(const char *root, const struct mk_closure *c,
		      const char *toplevel, const char *entry, mode_t type,
		      char **out, struct mk_err *e)
{
	if (resolve_entry(root, toplevel, entry, type, out, e))
		return -1;
	if (confine(root, c, toplevel, entry, *out, e) == 0)
		return 0;
	free(*out);
	*out = NULL;
	return -1;
}

int toplevel_load(const char *root, const struct mk_closure *c,
		  const char *toplevel, const char *dtb, struct mk_toplevel *t,
		  struct mk_err *e)
{
	char *init = NULL;
	struct mk_err ignored;
	int rc;

	memset(t, 0, sizeof(*t));
	t->path = strdup(toplevel);
	if (!t->path)
		return mk_fail(e, "out of memory");
	rc = load_entry(root, c, toplevel, "kernel", S_IFREG, &t->kernel, e);
	if (rc == 0)
		rc = load_entry(root, c, toplevel, "initrd", S_IFREG,
				&t->initrd, e);
	if (rc == 0)
		rc = load_entry(root, c, toplevel, "init", S_IFREG, &init, e);
	if (rc == 0)
		rc = read_params(root, c, toplevel, &t->kernel_params, e);
	/* dtbs is optional until a dtb is asked for, but wherever it
	 * leads must be in the closure: it is copied to /boot whole. */
	if (rc == 0 && resolve_entry(root, toplevel, "dtbs", S_IFDIR,
				     &t->dtbs, &ignored))
		t->dtbs = NULL;
	if (rc == 0 && t->dtbs)
		rc = confine(root, c, toplevel, "dtbs", t->dtbs, e);
	if (rc == 0 && strcmp(dtb, "none") != 0)
		rc = check_dtb(root, c, t, dtb, e);
	free(init);
	if (rc)
		toplevel_free(t);
	return rc;
}

void toplevel_free(struct mk_toplevel *t)
{
	free(t->path);
	free(t->kernel);
	free(t->initrd);
	free(t->dtbs);
	free(t->kernel_params);
	memset(t, 0, sizeof(*t));
}
