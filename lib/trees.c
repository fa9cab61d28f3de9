#include "trees.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ext4fs.h"
#include "extlinux.h"
#include "image.h"

/* Permissions of what goes on /boot: writable by root, as the NixOS
 * builder's copies are, so that nixos-rebuild can replace them. */
static const struct fst_policy boot_policy_base = {
	.file_mode = IMAGE_FILE_MODE,
	.exec_mode = IMAGE_DIR_MODE,
	.dir_mode = IMAGE_DIR_MODE,
	.symlink_mode = 0777,
};

/* ---- the inputs' normal forms ------------------------------------ */

/* The one place --store-root is spelled out: every host path and every
 * shown path follows from it, in the build and in verify. */
int trees_store_root(const char *given, char **out, struct mk_err *e)
{
	const char *root = given ? given : "/";
	size_t len = strlen(root);

	while (len > 1 && root[len - 1] == '/')
		len--;
	if (len == 0)
		return mk_fail(e, "--store-root must name a folder");
	*out = mk_strndup(root, len);
	return *out ? 0 : mk_fail(e, "out of memory");
}

int trees_time(int64_t source_date_epoch, int64_t *time, struct mk_err *e)
{
	if (source_date_epoch > EXT4FS_TIME_MAX)
		return mk_fail(e, "SOURCE_DATE_EPOCH %lld is after "
			       "2310-04-04 (%lld), the last time ext4 tools read "
			       "back as written", (long long)source_date_epoch,
			       (long long)EXT4FS_TIME_MAX);
	/* 0 would make libext2fs use the clock, so it counts as unset. */
	*time = source_date_epoch > 0 ? source_date_epoch
				      : IMAGE_UNSET_EPOCH_TIME;
	return 0;
}

static int is_host_root(const struct trees_input *in)
{
	return strcmp(in->store_root, "/") == 0;
}

char *trees_host_path(const char *store_root, const char *inside)
{
	return strcmp(store_root, "/") == 0 ? strdup(inside)
					    : mk_path_join(store_root, inside);
}

static char *host_path(const struct trees_input *in, const char *inside)
{
	return trees_host_path(in->store_root, inside);
}

int trees_check_paths(const struct trees_input *in, struct mk_err *e)
{
	struct stat st;
	size_t i;

	for (i = 0; i < in->closure->count; i++) {
		char *host = host_path(in, in->closure->paths[i]);
		int rc = host ? lstat(host, &st) : -1;
		int err = host ? errno : ENOMEM;

		free(host);
		if (rc != 0)
			return mk_fail(e, "%s: listed in %s but cannot be "
				       "read (%s)%s%s",
				       in->closure->paths[i], in->closure_file,
				       strerror(err),
				       is_host_root(in) ? "" :
				       " under --store-root ",
				       is_host_root(in) ? "" : in->store_root);
	}
	return 0;
}

/* ---- building ----------------------------------------------------- */

static struct fst_node *new_dir(const struct trees_input *in,
				struct fst_node *parent, const char *name,
				uint16_t mode, struct mk_err *e)
{
	struct fst_node *d = fst_new(name, FST_DIR, mode, in->time);

	if (!d) {
		mk_fail(e, "out of memory");
		return NULL;
	}
	if (parent && fst_add(parent, d, e)) {
		fst_free(d);
		return NULL;
	}
	return d;
}

static int add_inline_file(const struct trees_input *in,
			   struct fst_node *dir, const char *name,
			   uint16_t mode, const void *data, size_t len,
			   struct mk_err *e)
{
	struct fst_node *f = fst_new(name, FST_FILE, mode, in->time);

	if (!f)
		return mk_fail(e, "out of memory");
	f->data = data;
	f->size = len;
	if (fst_add(dir, f, e)) {
		fst_free(f);
		return -1;
	}
	return 0;
}

/* Reads `inside` (a path in the store) from --store-root into `dir`. */
static int add_scanned(const struct trees_input *in, struct fst_node *dir,
		       const char *inside, const char *name,
		       const struct fst_policy *policy, struct mk_err *e)
{
	char *host = host_path(in, inside);
	struct fst_node *n = NULL;
	int rc;

	if (!host)
		return mk_fail(e, "out of memory");
	rc = fst_scan(host, name, policy, &n, e);
	free(host);
	if (rc == 0 && fst_add(dir, n, e)) {
		fst_free(n);
		rc = -1;
	}
	return rc;
}

/* Errors name store paths as the closure does, not --store-root's. */
static size_t shown_skip(const struct trees_input *in)
{
	return is_host_root(in) ? 0 : strlen(in->store_root);
}

static int add_store_paths(struct trees *t, const struct trees_input *in,
			   struct fst_node *store, struct mk_err *e)
{
	const size_t prefix = strlen(NIX_STORE_DIR "/");
	size_t i;

	for (i = 0; i < in->closure->count; i++) {
		const char *path = in->closure->paths[i];

		if (in->reading)
			in->reading(in->ctx, path);
		if (add_scanned(in, store, path, path + prefix,
				&t->store_policy, e))
			return -1;
	}
	return 0;
}

int trees_root(struct trees *t, const struct trees_input *in,
	       struct mk_err *e)
{
	struct fst_node *root, *nix, *store;

	t->store_policy = fst_policy_nix_store;
	t->store_policy.shown_skip = shown_skip(in);
	root = t->root = new_dir(in, NULL, "", IMAGE_DIR_MODE, e);
	if (!root || !new_dir(in, root, "boot", IMAGE_DIR_MODE, e) ||
	    !(nix = new_dir(in, root, "nix", IMAGE_DIR_MODE, e)) ||
	    !(store = new_dir(in, nix, "store", IMAGE_NIX_STORE_MODE, e)))
		return -1;
	store->gid = IMAGE_NIX_BUILD_GID;
	if (add_store_paths(t, in, store, e))
		return -1;
	if (in->registration &&
	    add_inline_file(in, root, IMAGE_REGISTRATION_NAME,
			    fst_policy_nix_store.file_mode,
			    in->registration->data, in->registration->len, e))
		return -1;
	return fst_sort(root, e) || ext4fs_add_lost_found(root, in->time, e)
		       ? -1 : 0;
}

static int add_boot_file(struct trees *t, const struct trees_input *in,
			 struct fst_node *nixos, const char *store_path,
			 struct mk_err *e)
{
	char *name = extlinux_store_name(store_path);
	int rc;

	if (!name)
		return mk_fail(e, "out of memory");
	rc = add_scanned(in, nixos, store_path, name, &t->boot_policy, e);
	free(name);
	return rc;
}

int trees_boot(struct trees *t, const struct trees_input *in,
	       struct mk_err *e)
{
	const struct mk_toplevel *top = in->top;
	struct extlinux_entry en = {
		top->path, top->kernel, top->initrd, top->dtbs,
		in->dtb, top->kernel_params, in->timeout_seconds };
	struct fst_node *root, *ext, *nixos;

	/* /boot names each file after its store path: two the same would
	 * only say "two entries named ...". */
	if (strcmp(top->kernel, top->initrd) == 0)
		return mk_fail(e, "%s: its kernel and initrd are the same "
			       "file, %s", top->path, top->kernel);
	t->boot_policy = boot_policy_base;
	t->boot_policy.time = in->time;
	t->boot_policy.shown_skip = shown_skip(in);
	t->conf = extlinux_conf(&en);
	root = t->boot = new_dir(in, NULL, "", IMAGE_DIR_MODE, e);
	if (!t->conf || !root)
		return mk_fail(e, "out of memory");
	if (!(ext = new_dir(in, root, "extlinux", IMAGE_DIR_MODE, e)) ||
	    !(nixos = new_dir(in, root, EXTLINUX_KERNELS_DIR, IMAGE_DIR_MODE,
			      e)) ||
	    add_inline_file(in, ext, "extlinux.conf", IMAGE_FILE_MODE, t->conf,
			    strlen(t->conf), e) ||
	    add_boot_file(t, in, nixos, top->kernel, e) ||
	    add_boot_file(t, in, nixos, top->initrd, e) ||
	    (top->dtbs && add_boot_file(t, in, nixos, top->dtbs, e)))
		return -1;
	return fst_sort(root, e) || ext4fs_add_lost_found(root, in->time, e)
		       ? -1 : 0;
}

void trees_free(struct trees *t)
{
	fst_free(t->root);
	fst_free(t->boot);
	free(t->conf);
	t->root = t->boot = NULL;
	t->conf = NULL;
}
