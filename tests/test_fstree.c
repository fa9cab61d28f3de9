/*
 * test_fstree.c - fstree.c on source trees built in a temp directory.
 *
 * A scanned tree gets the store's canonical metadata whatever the
 * source says: regular files 0444, or 0555 with any execute bit, and
 * directories 0555, every time 1 (fst_policy_nix_store); symlinks are
 * never followed and keep their target byte for byte.  A scanned
 * directory's entries are read only by fst_load, in byte order (strcmp),
 * and freed by fst_unload; a walk is a directory then its entries, depth
 * first, loading each directory on the way in and unloading it on the
 * way out, so only the directories on the current path are in memory.
 * Directories made by hand are never loaded nor unloaded.  Anything but
 * a file, directory or symlink is an error naming it, as is a directory
 * that cannot be read, each without policy->shown_skip leading bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fstree.h"

#define NAME "0123456789abcdfghijklmnpqrsvwxyz-src"
#define LONG_TARGET_LEN 4095 /* PATH_MAX - 1: the longest Linux allows */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct expect {
	const char *path; /* relative to the scanned root; "" is the root */
	enum fst_kind kind;
	uint16_t mode;
	size_t nkids;     /* FST_DIR: entries */
};

/* Every node, in walk order, with its canonical mode. */
static const struct expect walk_order[] = {
	{ "", FST_DIR, 0555, 19 },
	{ "B", FST_FILE, 0444, 0 },
	{ "Z", FST_FILE, 0555, 0 },
	{ "_", FST_FILE, 0444, 0 },
	{ "a", FST_FILE, 0555, 0 },
	{ "a-b", FST_FILE, 0444, 0 },
	{ "a.b", FST_FILE, 0444, 0 },
	{ "ab", FST_FILE, 0444, 0 },
	{ "abs", FST_SYMLINK, 0777, 0 },
	{ "b", FST_FILE, 0444, 0 },
	{ "d0500", FST_DIR, 0555, 1 },
	{ "d0500/f", FST_FILE, 0444, 0 },
	{ "empty", FST_DIR, 0555, 0 },
	{ "link", FST_SYMLINK, 0777, 0 },
	{ "long", FST_SYMLINK, 0777, 0 },
	{ "s", FST_FILE, 0555, 0 },
	{ "sub", FST_DIR, 0555, 3 },
	{ "sub/link", FST_SYMLINK, 0777, 0 },
	{ "sub/y", FST_DIR, 0555, 1 },
	{ "sub/y/deep", FST_FILE, 0444, 0 },
	{ "sub/z", FST_FILE, 0444, 0 },
	{ "weird", FST_SYMLINK, 0777, 0 },
	{ "x-g", FST_FILE, 0555, 0 },
	{ "x-o", FST_FILE, 0555, 0 },
	{ "\xc3\xa9", FST_FILE, 0444, 0 },
};

static char long_target[LONG_TARGET_LEN + 1];

static void make_long_target(void)
{
	for (size_t i = 0; i < LONG_TARGET_LEN; i++)
		long_target[i] = (i % 8 == 7) ? '/' : (char)('a' + i % 7);
	long_target[LONG_TARGET_LEN] = '\0';
}

/* Created in an order unlike byte order, with assorted source modes. */
static void make_source(struct tmptree *t)
{
	tmptree_mkdir(t, "src", 0700);
	tmptree_file(t, "src/x-o", "o", 0641);  /* other exec */
	tmptree_file(t, "src/b", "bee", 0600);
	tmptree_mkdir(t, "src/sub", 0700);
	tmptree_file(t, "src/sub/z", "zed", 0600);
	tmptree_mkdir(t, "src/sub/y", 0711);
	tmptree_file(t, "src/sub/y/deep", "", 0400);
	tmptree_symlink(t, "src/sub/link", "../some/where");
	tmptree_file(t, "src/a", "ay", 0711);
	tmptree_file(t, "src/\xc3\xa9", "e acute", 0644);
	tmptree_file(t, "src/Z", "zz", 0744);   /* owner exec only */
	tmptree_file(t, "src/B", "B", 0664);
	tmptree_file(t, "src/_", "_", 0666);
	tmptree_file(t, "src/ab", "ab", 0644);
	tmptree_file(t, "src/a.b", "a.b", 0644);
	tmptree_file(t, "src/a-b", "a-b", 0644);
	tmptree_file(t, "src/x-g", "g", 0654);  /* group exec */
	tmptree_file(t, "src/s", "suid", 04755);
	tmptree_symlink(t, "src/abs", "/nix/store/aaaa-foo/bin/sh");
	tmptree_symlink(t, "src/link", "../some/where");
	tmptree_symlink(t, "src/weird", "dir//x/./../ y ");
	make_long_target();
	tmptree_symlink(t, "src/long", long_target);
	tmptree_mkdir(t, "src/empty", 0755);
	tmptree_mkdir(t, "src/d0500", 0700);
	tmptree_file(t, "src/d0500/f", "f", 0000);
	assert_int_equal(chmod(tmptree_path(t, "src/d0500"), 0500), 0);
}

static int source_setup(void **state)
{
	if (tmptree_setup(state) != 0)
		return -1;
	make_source(*state);
	return 0;
}

/* The store policy, with errors naming paths inside the temp dir. */
static struct fst_policy skip_policy(const struct tmptree *t)
{
	struct fst_policy p = fst_policy_nix_store;

	p.shown_skip = strlen(t->root);
	return p;
}

static struct fst_node *scan_with(struct tmptree *t, const char *rel,
				  const struct fst_policy *policy)
{
	struct fst_node *root = NULL;
	struct mk_err e = { "" };
	char src[PATH_MAX];

	snprintf(src, sizeof(src), "%s", tmptree_path(t, rel));
	if (fst_scan(src, NAME, policy, &root, &e) != 0)
		fail_msg("fst_scan: %s", e.msg);
	assert_non_null(root);
	return root;
}

static struct fst_node *scan_ok(struct tmptree *t, const char *rel)
{
	return scan_with(t, rel, &fst_policy_nix_store);
}

/* Loads every directory under `n`, so that lookup() can see it all. */
static struct fst_node *load_all(struct fst_node *n)
{
	struct mk_err e = { "" };

	if (n->kind != FST_DIR)
		return n;
	if (fst_load(n, &e) != 0)
		fail_msg("fst_load: %s", e.msg);
	for (size_t i = 0; i < n->nkids; i++)
		load_all(n->kids[i]);
	return n;
}

static struct fst_node *scan_loaded(struct tmptree *t, const char *rel)
{
	return load_all(scan_ok(t, rel));
}

/* `msg` is one line naming `n1` and `n2` (when set), never `absent`. */
static void expect_msg(const char *msg, const char *n1, const char *n2,
		       const char *absent)
{
	if (strstr(msg, n1) == NULL || (n2 && strstr(msg, n2) == NULL))
		fail_msg("message \"%s\" does not name \"%s\" and \"%s\"",
			 msg, n1, n2 ? n2 : "");
	if (absent && strstr(msg, absent) != NULL)
		fail_msg("message \"%s\" names \"%s\"", msg, absent);
	assert_null(strchr(msg, '\n'));
}

static void expect_scan_fail(struct tmptree *t, const char *rel,
			     const struct fst_policy *policy, const char *n1,
			     const char *n2, const char *absent)
{
	struct fst_node *root = NULL;
	struct mk_err e = { "" };
	char src[PATH_MAX];

	snprintf(src, sizeof(src), "%s", tmptree_path(t, rel));
	assert_int_equal(fst_scan(src, NAME, policy, &root, &e), -1);
	assert_null(root);
	expect_msg(e.msg, n1, n2, absent);
}

/* Follows "a/b/c" down from `root` by fst_child. */
static struct fst_node *lookup(struct fst_node *root, const char *path)
{
	char buf[256], *save = NULL;
	struct fst_node *n = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *c = strtok_r(buf, "/", &save); c && n;
	     c = strtok_r(NULL, "/", &save)) {
		assert_int_equal(n->kind, FST_DIR);
		n = fst_child(n, c);
	}
	if (n == NULL)
		fail_msg("no node at \"%s\"", path);
	return n;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void check_sorted_kids(const struct fst_node *n)
{
	for (size_t i = 1; n->kind == FST_DIR && i < n->nkids; i++)
		if (strcmp(n->kids[i - 1]->name, n->kids[i]->name) >= 0)
			fail_msg("%s: \"%s\" before \"%s\"", n->name,
				 n->kids[i - 1]->name, n->kids[i]->name);
}

/* A host directory with no entries in memory. */
static void expect_unloaded(const struct fst_node *n)
{
	assert_int_equal(n->kind, FST_DIR);
	assert_int_equal(n->loaded, 0);
	assert_null(n->kids);
	assert_int_equal(n->nkids, 0);
}

/* ---- metadata ---- */

static void test_canonical_metadata(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_loaded(t, "src");

	assert_string_equal(root->name, NAME);
	for (size_t i = 0; i < ARRAY_LEN(walk_order); i++) {
		const struct expect *x = &walk_order[i];
		struct fst_node *n = lookup(root, x->path);

		if (n->kind != x->kind || n->mode != x->mode)
			fail_msg("%s: kind %d mode %o, want kind %d mode %o",
				 x->path, n->kind, n->mode, x->kind, x->mode);
		assert_int_equal(n->time, 1);
		assert_int_equal(n->uid, 0);
		assert_int_equal(n->gid, 0);
		assert_int_equal(n->ino, 0);
		assert_int_equal(n->prealloc_blocks, 0);
		assert_ptr_equal(n->policy, &fst_policy_nix_store);
		assert_non_null(n->src);
	}
	fst_free(root);
}

static void test_files(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_loaded(t, "src");
	struct fst_node *n;

	n = lookup(root, "b");
	assert_int_equal(n->size, 3);
	assert_string_equal(n->src, tmptree_path(t, "src/b"));
	assert_null(n->data);
	n = lookup(root, "sub/z");
	assert_int_equal(n->size, 3);
	assert_string_equal(n->src, tmptree_path(t, "src/sub/z"));
	n = lookup(root, "sub/y/deep");
	assert_int_equal(n->size, 0);
	n = lookup(root, "\xc3\xa9");
	assert_int_equal(n->size, 7);
	assert_string_equal(lookup(root, "sub/y")->src,
			    tmptree_path(t, "src/sub/y"));
	fst_free(root);
}

static void test_symlink_targets_verbatim(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_loaded(t, "src");
	struct mk_err e = { "" };

	assert_string_equal(lookup(root, "link")->target, "../some/where");
	assert_string_equal(lookup(root, "sub/link")->target,
			    "../some/where");
	assert_string_equal(lookup(root, "abs")->target,
			    "/nix/store/aaaa-foo/bin/sh");
	assert_string_equal(lookup(root, "weird")->target, "dir//x/./../ y ");
	assert_int_equal(strlen(lookup(root, "long")->target),
			 LONG_TARGET_LEN);
	assert_string_equal(lookup(root, "long")->target, long_target);
	/* Not followed, not even by fst_load. */
	assert_int_equal(fst_load(lookup(root, "link"), &e), 0);
	assert_int_equal(lookup(root, "link")->nkids, 0);
	assert_null(lookup(root, "link")->kids);
	fst_free(root);
}

/* A symlink to a directory is a symlink, even at the top. */
static void test_top_level_kinds(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *n;

	tmptree_symlink(t, "to-dir", "src/sub");
	n = scan_loaded(t, "to-dir");
	assert_int_equal(n->kind, FST_SYMLINK);
	assert_string_equal(n->target, "src/sub");
	assert_string_equal(n->name, NAME);
	fst_free(n);
	n = scan_loaded(t, "src/a");
	assert_int_equal(n->kind, FST_FILE);
	assert_int_equal(n->mode, 0555);
	assert_int_equal(n->size, 2);
	assert_string_equal(n->name, NAME);
	fst_free(n);
	n = scan_ok(t, "src/empty");
	expect_unloaded(n);
	load_all(n);
	assert_int_equal(n->kind, FST_DIR);
	assert_int_equal(n->loaded, 1);
	assert_int_equal(n->nkids, 0);
	fst_free(n);
}

static void test_other_policy(void **state)
{
	static const struct fst_policy p = { 0640, 0750, 0711, 0777, 42, 0 };
	struct tmptree *t = *state;
	struct fst_node *root = NULL;
	struct mk_err e = { "" };
	char src[PATH_MAX];

	snprintf(src, sizeof(src), "%s", tmptree_path(t, "src"));
	assert_int_equal(fst_scan(src, "", &p, &root, &e), 0);
	load_all(root);
	assert_string_equal(root->name, "");
	assert_int_equal(root->mode, 0711);
	assert_int_equal(lookup(root, "b")->mode, 0640);
	assert_int_equal(lookup(root, "x-o")->mode, 0750);
	assert_int_equal(lookup(root, "sub/y")->mode, 0711);
	assert_int_equal(lookup(root, "sub/y")->time, 42);
	/* Entries are read with their directory's policy. */
	assert_ptr_equal(lookup(root, "sub/y/deep")->policy, &p);
	fst_free(root);
}

/* ---- loading ---- */

static void test_lazy_load(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct fst_node **kids;
	struct mk_err e = { "" };

	expect_unloaded(root); /* fst_scan reads no entries */
	assert_int_equal(fst_load(root, &e), 0);
	assert_int_equal(root->loaded, 1);
	assert_int_equal(root->nkids, 19);
	check_sorted_kids(root);
	/* One level only: the entries' own entries wait for fst_load. */
	expect_unloaded(fst_child(root, "sub"));
	expect_unloaded(fst_child(root, "empty"));
	assert_int_equal(fst_child(root, "b")->size, 3);
	/* Loading again keeps what is there. */
	kids = root->kids;
	assert_int_equal(fst_load(root, &e), 0);
	assert_ptr_equal(root->kids, kids);
	assert_int_equal(root->nkids, 19);
	assert_int_equal(fst_load(fst_child(root, "sub"), &e), 0);
	assert_int_equal(fst_child(root, "sub")->nkids, 3);
	/* Unloading frees the entries, the subtree with them (ASan would
	 * see a leak otherwise), and a second unload does nothing. */
	fst_unload(root);
	expect_unloaded(root);
	fst_unload(root);
	expect_unloaded(root);
	/* What was unloaded loads again, the same. */
	assert_int_equal(fst_load(root, &e), 0);
	assert_int_equal(root->nkids, 19);
	assert_string_equal(root->kids[0]->name, "B");
	assert_string_equal(root->kids[18]->name, "\xc3\xa9");
	/* A file or symlink node has nothing to load or unload. */
	fst_unload(fst_child(root, "b"));
	assert_int_equal(fst_child(root, "b")->size, 3);
	fst_unload(fst_child(root, "link"));
	assert_string_equal(fst_child(root, "link")->target, "../some/where");
	fst_free(root); /* frees a loaded tree too */
}

/* Entries the host adds or removes after fst_scan count at fst_load. */
static void test_load_reads_at_load_time(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src/sub");
	struct mk_err e = { "" };

	tmptree_file(t, "src/sub/a-new", "new", 0644);
	tmptree_unlink(t, "src/sub/z");
	assert_int_equal(fst_load(root, &e), 0);
	assert_int_equal(root->nkids, 3);
	assert_string_equal(root->kids[0]->name, "a-new");
	assert_string_equal(root->kids[1]->name, "link");
	assert_string_equal(root->kids[2]->name, "y");
	fst_free(root);
}

static void test_load_dir_gone(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy p = skip_policy(t);
	struct fst_node *root = scan_with(t, "src/sub/y", &p);
	struct mk_err e = { "" };

	tmptree_unlink(t, "src/sub/y/deep");
	assert_int_equal(rmdir(tmptree_path(t, "src/sub/y")), 0);
	assert_int_equal(fst_load(root, &e), -1);
	expect_msg(e.msg, "/src/sub/y", strerror(ENOENT), t->root);
	expect_unloaded(root);
	fst_free(root);
}

/* ---- building trees by hand ---- */

static struct fst_node *node(const char *name, enum fst_kind kind)
{
	struct fst_node *n = fst_new(name, kind, 0555, 1);

	assert_non_null(n);
	return n;
}

/* Directories made by hand keep their entries through load and unload. */
static void test_in_memory_never_unloaded(void **state)
{
	struct fst_node *root = node("", FST_DIR);
	struct fst_node *sub = node("sub", FST_DIR);
	struct mk_err e = { "" };

	(void)state;
	assert_int_equal(fst_add(root, node("f", FST_FILE), &e), 0);
	assert_int_equal(fst_add(root, sub, &e), 0);
	assert_int_equal(fst_add(sub, node("g", FST_FILE), &e), 0);
	assert_int_equal(fst_sort(root, &e), 0);
	assert_int_equal(fst_load(root, &e), 0);
	assert_int_equal(root->nkids, 2);
	fst_unload(root);
	fst_unload(sub);
	assert_int_equal(root->nkids, 2);
	assert_ptr_equal(fst_child(root, "sub"), sub);
	assert_int_equal(sub->nkids, 1);
	assert_string_equal(sub->kids[0]->name, "g");
	fst_free(root);
}

/* ---- order ---- */

static void check_sorted(const struct fst_node *n)
{
	check_sorted_kids(n);
	for (size_t i = 0; n->kind == FST_DIR && i < n->nkids; i++)
		check_sorted(n->kids[i]);
}

static void test_entries_in_byte_order(void **state)
{
	static const char *const top[] = {
		"B", "Z", "_", "a", "a-b", "a.b", "ab", "abs", "b", "d0500",
		"empty", "link", "long", "s", "sub", "weird", "x-g", "x-o",
		"\xc3\xa9",
	};
	struct tmptree *t = *state;
	struct fst_node *root = scan_loaded(t, "src");

	assert_int_equal(root->nkids, ARRAY_LEN(top));
	for (size_t i = 0; i < ARRAY_LEN(top); i++)
		assert_string_equal(root->kids[i]->name, top[i]);
	check_sorted(root);
	fst_free(root);
}

/* What a walk showed of one node, kept: the node is freed later. */
struct seen {
	char path[64];    /* host path without the walked root's */
	char name[64];
	enum fst_kind kind;
	uint16_t mode;
	int loaded;
	size_t nkids;
};

struct walk_log {
	struct seen seen[64];
	size_t n;
	size_t stop_after;
	char base[256];          /* host path of the walked root */
	struct fst_node *root;
	struct tmptree *t;
	const char *rm_on;       /* walk_rm_dir: path that triggers */
};

/* `n`'s path below the walked root ("" for the root); a node made by
 * hand, without a host path, by its name. */
static const char *rel_path(const struct walk_log *log,
			    const struct fst_node *n)
{
	size_t len = strlen(log->base);

	if (!n->src)
		return n->name;
	if (strncmp(n->src, log->base, len) != 0)
		fail_msg("%s is not below %s", n->src, log->base);
	return n->src[len] == '/' ? n->src + len + 1 : n->src + len;
}

/* An empty log of a walk from `base` (copied: tmptree_path reuses its
 * buffer). */
static void log_init(struct walk_log *log, const char *base)
{
	size_t len = strlen(base);

	memset(log, 0, sizeof(*log));
	assert_true(len < sizeof(log->base));
	memcpy(log->base, base, len + 1);
}

static int log_node(struct fst_node *n, void *ctx)
{
	struct walk_log *log = ctx;
	struct seen *s;

	assert_true(log->n < ARRAY_LEN(log->seen));
	s = &log->seen[log->n++];
	snprintf(s->path, sizeof(s->path), "%s", rel_path(log, n));
	snprintf(s->name, sizeof(s->name), "%s", n->name);
	s->kind = n->kind;
	s->mode = n->mode;
	s->loaded = n->loaded;
	s->nkids = n->nkids;
	check_sorted_kids(n);
	return log->n == log->stop_after ? 7 : 0;
}

static int walk_ok(struct fst_node *root, struct walk_log *log)
{
	struct mk_err e = { "" };
	int rc = fst_walk(root, log_node, log, &e);

	if (rc < 0)
		fail_msg("fst_walk: %s", e.msg);
	return rc;
}

static void expect_seen(const struct walk_log *log, size_t i,
			const struct expect *x)
{
	const struct seen *s = &log->seen[i];

	if (strcmp(s->path, x->path) != 0)
		fail_msg("walk step %zu: \"%s\", want \"%s\"", i, s->path,
			 x->path);
	assert_string_equal(s->name, *x->path ? base_name(x->path) : NAME);
	assert_int_equal(s->kind, x->kind);
	assert_int_equal(s->mode, x->mode);
	/* A directory is loaded when the walk calls on it. */
	assert_int_equal(s->loaded, x->kind == FST_DIR);
	assert_int_equal(s->nkids, x->nkids);
}

static void test_walk_order(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct walk_log log;

	log_init(&log, tmptree_path(t, "src"));
	assert_int_equal(walk_ok(root, &log), 0);
	assert_int_equal(log.n, ARRAY_LEN(walk_order));
	for (size_t i = 0; i < log.n; i++)
		expect_seen(&log, i, &walk_order[i]);
	/* Every directory is unloaded again on the way out. */
	expect_unloaded(root);
	/* ... so a second walk reads it all again, the same. */
	log.n = 0;
	assert_int_equal(walk_ok(root, &log), 0);
	assert_int_equal(log.n, ARRAY_LEN(walk_order));
	for (size_t i = 0; i < log.n; i++)
		expect_seen(&log, i, &walk_order[i]);
	expect_unloaded(root);
	fst_free(root);
}

/* Directories loaded under `n`: those the walk is inside. */
static size_t count_loaded(const struct fst_node *n)
{
	size_t count;

	if (n->kind != FST_DIR || !n->loaded)
		return 0;
	count = 1;
	for (size_t i = 0; i < n->nkids; i++)
		count += count_loaded(n->kids[i]);
	return count;
}

/* Memory follows the current path: when the walk calls on a node, the
 * loaded directories are exactly those from the root down to it. */
static int check_path_loaded(struct fst_node *n, void *ctx)
{
	struct walk_log *log = ctx;
	const char *path = rel_path(log, n);
	size_t want = 1; /* the root */

	for (const char *c = path; *c; c++)
		want += *c == '/';
	if (*path && n->kind == FST_DIR)
		want++;
	if (count_loaded(log->root) != want)
		fail_msg("at \"%s\": %zu directories loaded, want %zu", path,
			 count_loaded(log->root), want);
	log->n++;
	return 0;
}

static void test_walk_unloads_behind(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct walk_log log;
	struct mk_err e = { "" };

	log_init(&log, tmptree_path(t, "src"));
	log.root = root;
	assert_int_equal(fst_walk(root, check_path_loaded, &log, &e), 0);
	assert_int_equal(log.n, ARRAY_LEN(walk_order));
	expect_unloaded(root);
	fst_free(root);
}

static void test_walk_stops(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct walk_log log;

	log_init(&log, tmptree_path(t, "src"));
	log.stop_after = 18;
	assert_int_equal(walk_ok(root, &log), 7);
	assert_int_equal(log.n, 18);
	for (size_t i = 0; i < log.n; i++)
		expect_seen(&log, i, &walk_order[i]);
	assert_string_equal(log.seen[17].path, "sub/link");
	expect_unloaded(root); /* unloaded on the way out, even so */
	/* Stopping at the root itself. */
	log_init(&log, tmptree_path(t, "src"));
	log.stop_after = 1;
	assert_int_equal(walk_ok(root, &log), 7);
	assert_int_equal(log.n, 1);
	expect_unloaded(root);
	fst_free(root);
}

/* A walk over a single file is one call. */
static void test_walk_file(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *n = scan_ok(t, "src/b");
	struct walk_log log;

	log_init(&log, tmptree_path(t, "src/b"));
	assert_int_equal(walk_ok(n, &log), 0);
	assert_int_equal(log.n, 1);
	assert_string_equal(log.seen[0].path, "");
	assert_int_equal(log.seen[0].kind, FST_FILE);
	fst_free(n);
}

/* A skeleton made by hand around a scanned directory, as an image's
 * root is: the skeleton stays, the scanned part is unloaded again. */
static void test_walk_mixed_tree(void **state)
{
	static const char *const names[] = { "", "nix", "store", NAME, "B",
					     "Z" };
	struct tmptree *t = *state;
	struct fst_node *root = node("", FST_DIR);
	struct fst_node *nix = node("nix", FST_DIR);
	struct fst_node *store = node("store", FST_DIR);
	struct fst_node *src = scan_ok(t, "src");
	struct walk_log log;
	struct mk_err e = { "" };

	log_init(&log, tmptree_path(t, "src"));
	log.stop_after = ARRAY_LEN(names);
	assert_int_equal(fst_add(root, nix, &e), 0);
	assert_int_equal(fst_add(nix, store, &e), 0);
	assert_int_equal(fst_add(store, src, &e), 0);
	assert_int_equal(fst_sort(root, &e), 0);
	expect_unloaded(src); /* fst_sort does not load */
	assert_int_equal(walk_ok(root, &log), 7);
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const char *want = i == 3 ? "" : names[i];
		assert_string_equal(log.seen[i].path, want);
	}
	log.n = 0;
	log.stop_after = 0;
	assert_int_equal(walk_ok(root, &log), 0);
	assert_int_equal(log.n, 3 + ARRAY_LEN(walk_order));
	for (size_t i = 0; i < ARRAY_LEN(walk_order); i++)
		expect_seen(&log, 3 + i, &walk_order[i]);
	assert_int_equal(root->nkids, 1);
	assert_ptr_equal(fst_child(root, "nix"), nix);
	assert_ptr_equal(fst_child(nix, "store"), store);
	assert_ptr_equal(fst_child(store, NAME), src);
	expect_unloaded(src);
	fst_free(root);
}

/* Takes a directory away from under the walk once it has been scanned
 * (as an entry of its parent) but before it is loaded. */
static int walk_rm_dir(struct fst_node *n, void *ctx)
{
	struct walk_log *log = ctx;

	log_node(n, ctx);
	if (strcmp(rel_path(log, n), log->rm_on) == 0) {
		tmptree_unlink(log->t, "src/sub/y/deep");
		assert_int_equal(rmdir(tmptree_path(log->t, "src/sub/y")), 0);
	}
	return 0;
}

static void test_walk_dir_gone(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy p = skip_policy(t);
	struct fst_node *root = scan_with(t, "src", &p);
	struct walk_log log;
	struct mk_err e = { "" };

	log_init(&log, tmptree_path(t, "src"));
	log.t = t;
	log.rm_on = "sub";
	assert_int_equal(fst_walk(root, walk_rm_dir, &log, &e), -1);
	expect_msg(e.msg, "/src/sub/y", strerror(ENOENT), t->root);
	/* Everything before sub/y was seen, nothing after it. */
	assert_int_equal(log.n, 18);
	assert_string_equal(log.seen[17].path, "sub/link");
	expect_unloaded(root);
	fst_free(root);
}

/* A walk whose root cannot be read calls nothing. */
static void test_walk_root_gone(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy p = skip_policy(t);
	struct fst_node *root = scan_with(t, "src/sub/y", &p);
	struct walk_log log;
	struct mk_err e = { "" };

	log_init(&log, "");
	tmptree_unlink(t, "src/sub/y/deep");
	assert_int_equal(rmdir(tmptree_path(t, "src/sub/y")), 0);
	assert_int_equal(fst_walk(root, log_node, &log, &e), -1);
	expect_msg(e.msg, "/src/sub/y", strerror(ENOENT), t->root);
	assert_int_equal(log.n, 0);
	fst_free(root);
}

/* ---- errors ---- */

/* Inside a directory a fifo is found when the directory is loaded. */
static void test_fifo(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy p = skip_policy(t);
	struct fst_node *root;
	struct walk_log log;
	struct mk_err e = { "" };
	char full[PATH_MAX];

	log_init(&log, tmptree_path(t, "src"));
	assert_int_equal(mkfifo(tmptree_path(t, "src/sub/y/pipe"), 0644), 0);
	snprintf(full, sizeof(full), "%s", tmptree_path(t, "src/sub/y/pipe"));
	root = scan_with(t, "src", &p);
	assert_int_equal(fst_walk(root, log_node, &log, &e), -1);
	expect_msg(e.msg, "/src/sub/y/pipe", "fifo", t->root);
	assert_string_equal(log.seen[log.n - 1].path, "sub/link");
	expect_unloaded(root);
	fst_free(root);
	root = scan_ok(t, "src/sub/y");
	assert_int_equal(fst_load(root, &e), -1);
	expect_msg(e.msg, full, "fifo", NULL); /* shown_skip 0: all of it */
	expect_unloaded(root);
	fst_free(root);
	expect_scan_fail(t, "src/sub/y/pipe", &p, "/src/sub/y/pipe", "fifo",
			 t->root);
	expect_scan_fail(t, "src/sub/y/pipe", &fst_policy_nix_store, full,
			 "fifo", NULL);
}

static void test_socket(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy p = skip_policy(t);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct fst_node *root;
	struct mk_err e = { "" };
	const char *path = tmptree_path(t, "src/sock");

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	root = scan_with(t, "src", &p);
	assert_int_equal(fst_load(root, &e), -1);
	expect_msg(e.msg, "/src/sock", "socket", t->root);
	expect_unloaded(root);
	fst_free(root);
	expect_scan_fail(t, "src/sock", &p, "/src/sock", "socket", t->root);
}

static void test_missing(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy p = skip_policy(t);
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s", tmptree_path(t, "nothing"));
	expect_scan_fail(t, "nothing", &p, "/nothing", strerror(ENOENT),
			 t->root);
	expect_scan_fail(t, "nothing", &fst_policy_nix_store, full,
			 strerror(ENOENT), NULL);
}

/* fdopendir failing must not leak the descriptor it was given. */
static int fail_fdopendir;
DIR *__real_fdopendir(int fd);
DIR *__wrap_fdopendir(int fd);
DIR *__wrap_fdopendir(int fd)
{
	if (fail_fdopendir) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_fdopendir(fd);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_load_failure_closes_fds(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src/sub");
	struct mk_err e = { "" };
	int before = open_fds();

	fail_fdopendir = 1;
	assert_int_equal(fst_load(root, &e), -1);
	fail_fdopendir = 0;
	assert_non_null(strstr(e.msg, "cannot read directory"));
	assert_int_equal(open_fds(), before);
	assert_int_equal(root->dir_fd, -1);
	fst_free(root);
}

/* A file that turns into a fifo after it was scanned is refused when it
 * is opened, at once: opening a fifo must not wait for a writer. */
static void test_open_refuses_fifo_now(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy p = skip_policy(t);
	struct fst_node *n = scan_with(t, "src/b", &p);
	struct mk_err e = { "" };

	assert_int_equal(n->kind, FST_FILE);
	tmptree_unlink(t, "src/b");
	assert_int_equal(mkfifo(tmptree_path(t, "src/b"), 0644), 0);
	assert_int_equal(fst_open(n, &e), -1);
	/* Named as every other message names it: without the prefix. */
	assert_string_equal(e.msg, "/src/b: is now a fifo, not the regular "
				   "file it was (it changed while being read)");
	fst_free(n);
}

/* shown_skip cuts the message's path only, never what is read. */
static void test_shown_skip(void **state)
{
	struct tmptree *t = *state;
	struct fst_policy p = skip_policy(t);
	struct fst_node *root = load_all(scan_with(t, "src", &p));
	struct mk_err e = { "" };

	assert_string_equal(root->src, tmptree_path(t, "src"));
	assert_string_equal(lookup(root, "sub/z")->src,
			    tmptree_path(t, "src/sub/z"));
	assert_ptr_equal(lookup(root, "sub/z")->policy, &p);
	fst_free(root);
	/* Cut elsewhere: a message shows what follows. */
	p.shown_skip = strlen(t->root) + strlen("/src");
	root = scan_with(t, "src/sub/y", &p);
	tmptree_unlink(t, "src/sub/y/deep");
	assert_int_equal(rmdir(tmptree_path(t, "src/sub/y")), 0);
	assert_int_equal(fst_load(root, &e), -1);
	assert_int_equal(strncmp(e.msg, "/sub/y:", 7), 0);
	fst_free(root);
}

static void test_sort_by_hand(void **state)
{
	static const char *const names[] = { "zz", "a", "\xff", "A", "aa",
					     "-", "z" };
	static const char *const sorted[] = { "-", "A", "a", "aa", "z", "zz",
					      "\xff" };
	struct fst_node *root = node("", FST_DIR);
	struct mk_err e = { "" };

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		assert_int_equal(fst_add(root, node(names[i], FST_FILE), &e), 0);
	assert_int_equal(fst_sort(root, &e), 0);
	assert_int_equal(root->nkids, ARRAY_LEN(sorted));
	for (size_t i = 0; i < ARRAY_LEN(sorted); i++)
		assert_string_equal(root->kids[i]->name, sorted[i]);
	assert_null(fst_child(root, "b"));
	assert_ptr_equal(fst_child(root, "aa"), root->kids[3]);
	fst_free(root);
}

static void test_sort_rejects_duplicates(void **state)
{
	struct fst_node *root = node("", FST_DIR);
	struct fst_node *sub = node("sub", FST_DIR);
	struct mk_err e = { "" };

	(void)state;
	assert_int_equal(fst_add(root, sub, &e), 0);
	assert_int_equal(fst_add(sub, node("x", FST_FILE), &e), 0);
	assert_int_equal(fst_add(sub, node("y", FST_FILE), &e), 0);
	assert_int_equal(fst_add(sub, node("x", FST_SYMLINK), &e), 0);
	assert_int_equal(fst_sort(root, &e), -1);
	assert_non_null(strstr(e.msg, "'x'"));
	fst_free(root);
}

/* Many entries: fst_add grows, fst_sort orders them all. */
static void test_many_entries(void **state)
{
	struct fst_node *root = node("", FST_DIR);
	struct mk_err e = { "" };
	char name[16];

	(void)state;
	for (int i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "f%04d", (i * 7919) % 1000);
		assert_int_equal(fst_add(root, node(name, FST_FILE), &e), 0);
	}
	assert_int_equal(fst_sort(root, &e), 0);
	assert_int_equal(root->nkids, 1000);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "f%04d", i);
		assert_string_equal(root->kids[i]->name, name);
	}
	fst_free(root);
}

/* A walk over a tree made by hand: same order, nothing freed. */
static void test_walk_by_hand(void **state)
{
	static const char *const order[] = { "", "a", "b", "c", "d", "e" };
	struct fst_node *root = node("", FST_DIR);
	struct fst_node *b = node("b", FST_DIR), *d = node("d", FST_DIR);
	struct walk_log log;
	struct mk_err e = { "" };

	(void)state;
	log_init(&log, "");
	assert_int_equal(fst_add(root, node("e", FST_FILE), &e), 0);
	assert_int_equal(fst_add(root, d, &e), 0);
	assert_int_equal(fst_add(root, b, &e), 0);
	assert_int_equal(fst_add(root, node("a", FST_SYMLINK), &e), 0);
	assert_int_equal(fst_add(b, node("c", FST_FILE), &e), 0);
	assert_int_equal(fst_sort(root, &e), 0);
	assert_int_equal(walk_ok(root, &log), 0);
	assert_int_equal(log.n, ARRAY_LEN(order));
	for (size_t i = 0; i < log.n; i++)
		assert_string_equal(log.seen[i].path, order[i]);
	assert_int_equal(root->nkids, 4);
	assert_int_equal(b->nkids, 1);
	assert_int_equal(d->nkids, 0);
	fst_free(root);
}

#define SRC_TEST(f) cmocka_unit_test_setup_teardown(f, source_setup, \
						    tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		SRC_TEST(test_canonical_metadata),
		SRC_TEST(test_files),
		SRC_TEST(test_symlink_targets_verbatim),
		SRC_TEST(test_top_level_kinds),
		SRC_TEST(test_other_policy),
		SRC_TEST(test_lazy_load),
		SRC_TEST(test_load_reads_at_load_time),
		SRC_TEST(test_load_dir_gone),
		SRC_TEST(test_entries_in_byte_order),
		SRC_TEST(test_walk_order),
		SRC_TEST(test_walk_unloads_behind),
		SRC_TEST(test_walk_stops),
		SRC_TEST(test_walk_file),
		SRC_TEST(test_walk_mixed_tree),
		SRC_TEST(test_walk_dir_gone),
		SRC_TEST(test_walk_root_gone),
		SRC_TEST(test_fifo),
		SRC_TEST(test_socket),
		SRC_TEST(test_missing),
		SRC_TEST(test_shown_skip),
		SRC_TEST(test_load_failure_closes_fds),
		SRC_TEST(test_open_refuses_fifo_now),
		cmocka_unit_test(test_in_memory_never_unloaded),
		cmocka_unit_test(test_sort_by_hand),
		cmocka_unit_test(test_sort_rejects_duplicates),
		cmocka_unit_test(test_many_entries),
		cmocka_unit_test(test_walk_by_hand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
