/*
 * test_dedup.c - dedup.c (with fstree.c) on source trees in a temp dir.
 *
 * As `nix-store --optimise` would: non-empty regular files with the same
 * bytes and the same (canonical) mode share one inode, owned by the
 * first of them in walk order; every other member points at that owner
 * (never at another member), the owner's nlink counts them all, and the
 * stats count the links and the bytes and blocks they did not store.
 * Empty files never link; files that only share a size, and
 * files whose bytes are in memory rather than on the host, are left
 * alone.  Only files that share size and mode with another are read.
 *
 * Files are named by index (the regular files in walk order, empty ones
 * too, so a file that turns empty between walks is the one blamed),
 * so each test walks the tree as the image does: dedup_note on every
 * node, noting each indexed file's path, then dedup_resolve, then
 * dedup_owner by index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tmptree.h"

#include <errno.h>

#include "dedup.h"
#include "fstree.h"
#include "util.h"

#define BIG (300u * 1024u) /* more than one comparison chunk */
#define LINK_MAX_EXT4 65000u /* EXT4FS_LINK_MAX, as the image uses it */
#define BLOCK 4096u
#define MAX_FILES 64

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* What a file of `size` bytes costs: its 4 KiB blocks. */
static uint64_t blocks_of(uint64_t size)
{
	return (size + BLOCK - 1) / BLOCK;
}

/* One dedup run over a tree: the indexed files' paths, then answers. */
struct run {
	struct dedup *d;
	struct filelist files;   /* what the survey keeps for dedup */
	char base[PATH_MAX];     /* host path of the root */
	char *paths[MAX_FILES];  /* index -> path below the root */
	uint64_t sizes[MAX_FILES]; /* index -> size */
	size_t n;
	struct dedup_stats st;
	struct mk_err e;
};

static struct fst_node *scan_ok(struct tmptree *t, const char *rel)
{
	struct fst_node *root = NULL;
	struct mk_err e = { "" };
	char src[PATH_MAX];

	snprintf(src, sizeof(src), "%s", tmptree_path(t, rel));
	if (fst_scan(src, "", &fst_policy_nix_store, &root, &e) != 0)
		fail_msg("fst_scan: %s", e.msg);
	return root;
}

/* A node's path below the scanned root; one made by hand (no host
 * path), or a scanned one from elsewhere, by its name. */
static const char *rel_path(const struct run *r, const struct fst_node *n)
{
	size_t len = strlen(r->base);

	if (!n->src || len == 0 || strncmp(n->src, r->base, len) != 0)
		return n->name;
	return n->src[len] == '/' ? n->src + len + 1 : n->src + len;
}

static int note(struct fst_node *n, void *ctx)
{
	struct run *r = ctx;

	if (dedup_note(r->d, n, &r->e) != 0 ||
	    filelist_note(&r->files, n, &r->e) != 0)
		return -1;
	if (n->kind == FST_FILE) {
		assert_true(r->n < MAX_FILES);
		r->paths[r->n] = strdup(rel_path(r, n));
		assert_non_null(r->paths[r->n]);
		r->sizes[r->n] = n->size;
		r->n++;
	}
	return 0;
}

/* The first walk: every node noted, in walk order.  `base` is the host
 * path the tree was scanned from ("" when made by hand). */
static void first_walk_max(struct run *r, struct fst_node *root,
			   const char *base, uint32_t max_links)
{
	memset(r, 0, sizeof(*r));
	assert_true(strlen(base) < sizeof(r->base));
	memcpy(r->base, base, strlen(base) + 1);
	r->d = dedup_new(max_links);
	assert_non_null(r->d);
	if (fst_walk(root, note, r, &r->e) != 0)
		fail_msg("first walk: %s", r->e.msg);
}

static void first_walk(struct run *r, struct fst_node *root,
		       const char *base)
{
	first_walk_max(r, root, base, LINK_MAX_EXT4);
}

static void resolve_ok(struct run *r)
{
	memset(&r->st, 0xA5, sizeof(r->st));
	if (dedup_resolve(r->d, &r->files, blocks_of, &r->st, &r->e) != 0)
		fail_msg("dedup_resolve: %s", r->e.msg);
}

/* Scans `rel`, walks it, resolves. */
static struct fst_node *dedup_ok(struct tmptree *t, const char *rel,
				 struct run *r)
{
	struct fst_node *root = scan_ok(t, rel);

	first_walk(r, root, tmptree_path(t, rel));
	resolve_ok(r);
	return root;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->paths[i]);
	dedup_free(r->d);
	filelist_free(&r->files);
	r->d = NULL;
	r->n = 0;
}

static int find_index(const struct run *r, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->paths[i], path) == 0)
			return (int)i;
	return -1;
}

static uint64_t index_of(const struct run *r, const char *path)
{
	int i = find_index(r, path);

	if (i < 0)
		fail_msg("%s is not an indexed file", path);
	return (uint64_t)i;
}

/* `path` owns its inode, which has `nlink` links (1: not shared). */
static void expect_owner(const struct run *r, const char *path,
			 uint32_t nlink)
{
	uint64_t i = index_of(r, path);
	uint32_t nl = 0xdeadbeef;
	uint64_t owner = dedup_owner(r->d, i, r->sizes[i], &nl);

	if (owner != i)
		fail_msg("%s is linked to %s, not an owner", path,
			 owner < r->n ? r->paths[owner] : "?");
	if (nl != nlink)
		fail_msg("%s: nlink %u, want %u", path, nl, nlink);
}

/* `path` is a link to `owner`'s inode (nlink 0: the owner counts). */
static void expect_link(const struct run *r, const char *path,
			const char *owner)
{
	uint64_t i = index_of(r, path);
	uint32_t nl = 0xdeadbeef;
	uint64_t o = dedup_owner(r->d, i, r->sizes[i], &nl);

	if (o != index_of(r, owner))
		fail_msg("%s: linked to %s, want %s", path,
			 o == i ? "itself" : o < r->n ? r->paths[o] : "?",
			 owner);
	assert_int_equal(nl, 0);
}

static void expect_not_indexed(const struct run *r, const char *path)
{
	if (find_index(r, path) >= 0)
		fail_msg("%s is indexed", path);
}

static void expect_paths(const struct run *r, const char *const *want,
			 size_t n)
{
	for (size_t i = 0; i < n && i < r->n; i++)
		if (strcmp(r->paths[i], want[i]) != 0)
			fail_msg("file %zu is %s, want %s", i, r->paths[i],
				 want[i]);
	assert_int_equal(r->n, n);
}

static void big_file(struct tmptree *t, const char *rel, uint8_t last,
		     mode_t mode)
{
	uint8_t *data = malloc(BIG);

	assert_non_null(data);
	for (size_t i = 0; i < BIG; i++)
		data[i] = (uint8_t)(i * 31 + i / 1000);
	data[BIG - 1] = last;
	tmptree_file_n(t, rel, data, BIG, mode);
	free(data);
}

/* Regular files in walk order (d and e are empty). */
static const char *const src_files[] = {
	"a/x", "a/y", "b", "big1", "big2", "big3", "c", "d", "e", "f", "g/h",
	"z",
};

/*
 * Walk order: a, a/x, a/y, b, big1, big2, big3, c, d, e, f, g, g/h, z.
 * Files are created in another order so that creation order cannot
 * pass for walk order.
 */
static void make_source(struct tmptree *t)
{
	tmptree_mkdir(t, "src", 0755);
	tmptree_mkdir(t, "src/g", 0755);
	tmptree_file(t, "src/z", "hello", 0600);     /* last in walk order */
	tmptree_file(t, "src/g/h", "hello", 0644);
	tmptree_file(t, "src/f", "hellp", 0644);     /* same size only */
	tmptree_file(t, "src/e", "", 0644);          /* empty */
	tmptree_file(t, "src/d", "", 0644);          /* empty */
	tmptree_file(t, "src/c", "hello", 0700);     /* same as b */
	big_file(t, "src/big3", 1, 0444);            /* differs at the end */
	big_file(t, "src/big2", 0, 0444);
	big_file(t, "src/big1", 0, 0444);
	tmptree_file(t, "src/b", "hello", 0755);     /* exec: not a/x */
	tmptree_mkdir(t, "src/a", 0755);
	tmptree_file(t, "src/a/y", "hello", 0644);
	tmptree_file(t, "src/a/x", "hello", 0444);   /* first "hello" */
}

static int source_setup(void **state)
{
	if (tmptree_setup(state) != 0)
		return -1;
	make_source(*state);
	return 0;
}

static void test_groups(void **state)
{
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root = dedup_ok(t, "src", &r);

	expect_paths(&r, src_files, ARRAY_LEN(src_files));
	expect_owner(&r, "a/x", 4);
	expect_link(&r, "a/y", "a/x");
	expect_link(&r, "g/h", "a/x"); /* the first, not a/y */
	expect_link(&r, "z", "a/x");
	expect_owner(&r, "b", 2);      /* exec bit: its own group */
	expect_link(&r, "c", "b");
	expect_owner(&r, "big1", 2);
	expect_link(&r, "big2", "big1");
	expect_owner(&r, "big3", 1);   /* same size, one byte differs */
	expect_owner(&r, "d", 1);      /* empty files never link */
	expect_owner(&r, "e", 1);
	expect_owner(&r, "f", 1);      /* same size, other bytes */
	assert_int_equal(r.st.links, 5);
	assert_int_equal(r.st.saved_bytes, 5 + 5 + 5 + 5 + BIG);
	assert_int_equal(r.st.saved_blocks, 1 + 1 + 1 + 1 + BIG / BLOCK);
	assert_int_equal(root->loaded, 0); /* the walk unloaded it again */
	run_free(&r);
	fst_free(root);
}

/* Directories and symlinks are never indexed, so never linked. */
static void test_only_files(void **state)
{
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root;

	tmptree_symlink(t, "src/l1", "hello");
	tmptree_symlink(t, "src/l2", "hello");
	root = dedup_ok(t, "src", &r);
	/* The same files, and z after the symlinks still has index 11. */
	expect_paths(&r, src_files, ARRAY_LEN(src_files));
	expect_not_indexed(&r, "l1");
	expect_not_indexed(&r, "l2");
	expect_not_indexed(&r, "a");
	expect_not_indexed(&r, "");
	expect_link(&r, "z", "a/x");
	assert_int_equal(r.st.links, 5);
	run_free(&r);
	fst_free(root);
}

/* The same tree twice gives the same links. */
static void test_deterministic(void **state)
{
	struct tmptree *t = *state;
	struct run r1, r2;
	struct fst_node *t1 = dedup_ok(t, "src", &r1);
	struct fst_node *t2 = dedup_ok(t, "src", &r2);

	assert_memory_equal(&r1.st, &r2.st, sizeof(r1.st));
	assert_int_equal(r1.n, r2.n);
	for (size_t i = 0; i < r1.n; i++) {
		uint32_t n1, n2;
		assert_string_equal(r1.paths[i], r2.paths[i]);
		assert_int_equal(dedup_owner(r1.d, i, r1.sizes[i], &n1),
				 dedup_owner(r2.d, i, r2.sizes[i], &n2));
		/* A file that is not the one noted is reported as such. */
		assert_true(dedup_owner(r1.d, i, r1.sizes[i] + 1, &n1) ==
			    DEDUP_CHANGED);
		assert_int_equal(n1, n2);
	}
	run_free(&r1);
	run_free(&r2);
	/* And a second run over one tree (walks leave it as they found it). */
	first_walk(&r2, t1, tmptree_path(t, "src"));
	resolve_ok(&r2);
	assert_int_equal(r2.st.links, 5);
	expect_link(&r2, "g/h", "a/x");
	run_free(&r2);
	fst_free(t1);
	fst_free(t2);
}

static void test_nothing_to_share(void **state)
{
	static const char *const files[] = { "e1", "e2", "one", "two" };
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root;

	tmptree_mkdir(t, "other", 0755);
	tmptree_file(t, "other/one", "1", 0644);
	tmptree_file(t, "other/two", "2", 0644);
	tmptree_file(t, "other/e1", "", 0644);
	tmptree_file(t, "other/e2", "", 0644);
	tmptree_mkdir(t, "other/dir", 0755);
	root = dedup_ok(t, "other", &r);
	assert_int_equal(r.st.links, 0);
	assert_int_equal(r.st.saved_bytes, 0);
	assert_int_equal(r.st.saved_blocks, 0);
	expect_paths(&r, files, ARRAY_LEN(files));
	expect_owner(&r, "one", 1);
	expect_owner(&r, "two", 1);
	expect_owner(&r, "e1", 1); /* two empty files: never linked */
	expect_owner(&r, "e2", 1);
	run_free(&r);
	fst_free(root);
}

/* A single file, and an empty directory, are trees too. */
static void test_degenerate_trees(void **state)
{
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root;

	root = dedup_ok(t, "src/a/x", &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.paths[0], "");
	expect_owner(&r, "", 1);
	assert_int_equal(r.st.links, 0);
	run_free(&r);
	fst_free(root);
	tmptree_mkdir(t, "void", 0755);
	root = dedup_ok(t, "void", &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.st.links, 0);
	assert_int_equal(r.st.saved_bytes, 0);
	assert_int_equal(r.st.saved_blocks, 0);
	run_free(&r);
	fst_free(root);
}

/* Adds the host file or directory `rel` to `dir` as `name`. */
static void add_scanned(struct tmptree *t, struct fst_node *dir,
			const char *rel, const char *name)
{
	struct fst_node *n = scan_ok(t, rel);
	struct mk_err e = { "" };

	free(n->name);
	n->name = strdup(name);
	assert_non_null(n->name);
	assert_int_equal(fst_add(dir, n, &e), 0);
}

static struct fst_node *new_root(void)
{
	struct fst_node *root = fst_new("", FST_DIR, 0755, 1);

	assert_non_null(root);
	return root;
}

static void sort_ok(struct fst_node *root)
{
	struct mk_err e = { "" };

	if (fst_sort(root, &e) != 0)
		fail_msg("fst_sort: %s", e.msg);
}

/* Three "hello" files hanging from a directory made by hand, as store
 * paths that are single files do, so that a later walk still has their
 * nodes whatever happens on the host: x, then y (src/g/h), then z. */
static struct fst_node *hello_root(struct tmptree *t, struct run *r)
{
	static const char *const files[] = { "x", "y", "z" };
	struct fst_node *root = new_root();

	add_scanned(t, root, "src/a/x", "x");
	add_scanned(t, root, "src/g/h", "y");
	add_scanned(t, root, "src/z", "z");
	sort_ok(root);
	first_walk(r, root, "");
	expect_paths(r, files, ARRAY_LEN(files));
	return root;
}

/* Resolving fails with one line naming host file `rel`, gone. */
static void expect_resolve_gone(struct tmptree *t, struct run *r,
				const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", tmptree_path(t, rel));
	assert_int_equal(dedup_resolve(r->d, &r->files, blocks_of, &r->st, &r->e),
			 -1);
	if (strstr(r->e.msg, path) == NULL ||
	    strstr(r->e.msg, strerror(ENOENT)) == NULL)
		fail_msg("message \"%s\" does not name %s", r->e.msg, path);
	assert_null(strchr(r->e.msg, '\n'));
}

/* A candidate that vanished after the first walk is an error naming
 * it... */
static void test_vanished_file(void **state)
{
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root = hello_root(t, &r);

	tmptree_unlink(t, "src/g/h");
	expect_resolve_gone(t, &r, "src/g/h");
	run_free(&r);
	fst_free(root);
}

/* A file that became empty after the first walk is the one the writer's
 * question blames, not the file after it (empty files have indexes too,
 * so nothing shifts); dedup does not read it, as it shares no size. */
static void test_emptied_file_named(void **state)
{
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root;
	uint32_t nlink;
	int fd;

	tmptree_mkdir(t, "ch", 0755);
	tmptree_file(t, "ch/a", "will be emptied", 0644);
	tmptree_file(t, "ch/b", "hello", 0644);
	tmptree_file(t, "ch/c", "hello", 0644);
	root = scan_ok(t, "ch");
	first_walk(&r, root, tmptree_path(t, "ch"));
	fd = open(tmptree_path(t, "ch/a"), O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	close(fd);
	resolve_ok(&r);
	assert_int_equal(dedup_owner(r.d, 0, 0, &nlink), DEDUP_CHANGED);
	assert_int_equal(dedup_owner(r.d, 1, 5, &nlink), 1);
	assert_int_equal(nlink, 2);
	assert_int_equal(dedup_owner(r.d, 2, 5, &nlink), 1);
	run_free(&r);
	fst_free(root);
}

/* ... the first of its group as well. */
static void test_vanished_owner(void **state)
{
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root = hello_root(t, &r);

	tmptree_unlink(t, "src/a/x");
	expect_resolve_gone(t, &r, "src/a/x");
	run_free(&r);
	fst_free(root);
}

/* A directory the second walk must read but cannot is an error too. */
static void test_vanished_dir(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = scan_ok(t, "src");
	struct run r;
	char path[PATH_MAX], gone[PATH_MAX];

	first_walk(&r, root, tmptree_path(t, "src"));
	snprintf(path, sizeof(path), "%s", tmptree_path(t, "src"));
	snprintf(gone, sizeof(gone), "%s", tmptree_path(t, "gone"));
	assert_int_equal(rename(path, gone), 0);
	expect_resolve_gone(t, &r, "src");
	run_free(&r);
	fst_free(root);
}

/* Many copies: every one links straight to the first. */
static void test_many_copies(void **state)
{
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root;
	char name[32];

	tmptree_mkdir(t, "many", 0755);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "many/f%02d", 49 - i);
		tmptree_file(t, name, i % 2 ? "same-odd" : "same-eve", 0644);
	}
	root = dedup_ok(t, "many", &r);
	assert_int_equal(r.n, 50);
	/* Even-numbered files hold one text, odd-numbered the other. */
	expect_owner(&r, "f00", 25);
	expect_owner(&r, "f01", 25);
	for (int i = 2; i < 50; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		assert_int_equal(index_of(&r, name), i);
		expect_link(&r, name, i % 2 ? "f01" : "f00");
	}
	assert_int_equal(r.st.links, 48);
	assert_int_equal(r.st.saved_bytes, 48 * 8);
	assert_int_equal(r.st.saved_blocks, 48);
	run_free(&r);
	fst_free(root);
}

static void add_inline(struct fst_node *dir, const char *name,
		       const char *text)
{
	struct fst_node *n = fst_new(name, FST_FILE, 0444, 1);
	struct mk_err e = { "" };

	assert_non_null(n);
	n->data = text;
	n->size = strlen(text);
	assert_int_equal(fst_add(dir, n, &e), 0);
}

/* Files from memory count for the index but never share an inode, not
 * with each other nor with a host file of the same bytes and mode. */
static void test_inline_never_linked(void **state)
{
	static const char *const files[] = { "a", "b", "empty", "i1", "i2",
					     "i3", "z" };
	struct tmptree *t = *state;
	struct fst_node *root = new_root();
	struct run r;

	add_inline(root, "i1", "hello");
	add_inline(root, "i2", "hello");
	add_inline(root, "i3", "hello");
	add_inline(root, "empty", "");
	add_scanned(t, root, "src/a/y", "a");
	add_scanned(t, root, "src/g/h", "b");
	add_scanned(t, root, "src/z", "z");
	sort_ok(root);
	first_walk(&r, root, "");
	resolve_ok(&r);
	expect_paths(&r, files, ARRAY_LEN(files));
	expect_owner(&r, "empty", 1);
	expect_owner(&r, "a", 3);
	expect_link(&r, "b", "a");
	expect_owner(&r, "i1", 1);
	expect_owner(&r, "i2", 1);
	expect_owner(&r, "i3", 1);
	expect_link(&r, "z", "a"); /* past the inline files, to the first */
	assert_int_equal(r.st.links, 2);
	assert_int_equal(r.st.saved_bytes, 10);
	assert_int_equal(r.st.saved_blocks, 2);
	run_free(&r);
	fst_free(root);
}

/* Without two files of one size and mode nothing is read: the files
 * may be gone by then.  (They hang from a directory made by hand, so
 * that their going changes no directory the second walk lists.) */
static void test_no_candidates_reads_nothing(void **state)
{
	static const char *const files[] = { "1", "1x", "22", "333",
					     "empty1", "empty2" };
	struct tmptree *t = *state;
	struct fst_node *root = new_root();
	struct run r;
	char rel[32];

	tmptree_mkdir(t, "lone", 0755);
	tmptree_file(t, "lone/1", "1", 0644);
	tmptree_file(t, "lone/1x", "1", 0755); /* same bytes, exec */
	tmptree_file(t, "lone/22", "22", 0644);
	tmptree_file(t, "lone/333", "333", 0644);
	tmptree_file(t, "lone/empty1", "", 0644);
	tmptree_file(t, "lone/empty2", "", 0644);
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		snprintf(rel, sizeof(rel), "lone/%s", files[i]);
		add_scanned(t, root, rel, files[i]);
	}
	sort_ok(root);
	first_walk(&r, root, "");
	expect_paths(&r, files, ARRAY_LEN(files));
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		snprintf(rel, sizeof(rel), "lone/%s", files[i]);
		tmptree_unlink(t, rel);
	}
	resolve_ok(&r);
	assert_int_equal(r.st.links, 0);
	assert_int_equal(r.st.saved_bytes, 0);
	assert_int_equal(r.st.saved_blocks, 0);
	for (size_t i = 0; i < ARRAY_LEN(files); i++)
		expect_owner(&r, files[i], 1);
	run_free(&r);
	fst_free(root);
}

/* With candidates, only they are read: the other files may be gone. */
static void test_only_candidates_read(void **state)
{
	struct tmptree *t = *state;
	struct fst_node *root = new_root();
	struct run r;

	add_scanned(t, root, "src/a/x", "a");   /* "hello" 0444 */
	add_scanned(t, root, "src/a/y", "b");   /* "hello" 0444 */
	add_scanned(t, root, "src/b", "c");     /* "hello" 0555: alone */
	add_scanned(t, root, "src/big3", "d");  /* alone in its size */
	sort_ok(root);
	first_walk(&r, root, "");
	tmptree_unlink(t, "src/b");
	tmptree_unlink(t, "src/big3");
	resolve_ok(&r);
	expect_owner(&r, "a", 2);
	expect_link(&r, "b", "a");
	expect_owner(&r, "c", 1);
	expect_owner(&r, "d", 1);
	assert_int_equal(r.st.links, 1);
	run_free(&r);
	fst_free(root);
}

/* An inode holds at most max_links names: identical file number
 * max_links (counting from 0) starts a new inode, and so on. */
static void test_link_cap(void **state)
{
	struct tmptree *t = *state;
	struct run r;
	struct fst_node *root;
	char name[32];

	tmptree_mkdir(t, "cap", 0755);
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "cap/f%d", i);
		tmptree_file(t, name, "same", 0644);
	}
	root = scan_ok(t, "cap");
	first_walk_max(&r, root, tmptree_path(t, "cap"), 3);
	resolve_ok(&r);
	expect_owner(&r, "f0", 3);
	expect_link(&r, "f1", "f0");
	expect_link(&r, "f2", "f0");
	expect_owner(&r, "f3", 3);
	expect_link(&r, "f4", "f3");
	expect_link(&r, "f5", "f3");
	expect_owner(&r, "f6", 1);
	assert_int_equal(r.st.links, 4);
	run_free(&r);
	fst_free(root);
}

/* ---- at ext4's limit, with the real cap ---- */

#define CAP_FILES 65536u

struct bulk {
	struct dedup *d;
	struct mk_err e;
	struct filelist files;
};

static int bulk_note(struct fst_node *n, void *ctx)
{
	struct bulk *b = ctx;

	return dedup_note(b->d, n, &b->e) ||
			       filelist_note(&b->files, n, &b->e)
		       ? -1 : 0;
}

static int cap_setup(void **state)
{
	struct tmptree *t;
	char name[32];

	if (tmptree_setup(state) != 0)
		return -1;
	t = *state;
	tmptree_mkdir(t, "cap", 0755);
	for (unsigned i = 0; i < CAP_FILES; i++) {
		snprintf(name, sizeof(name), "cap/f%05u", i);
		tmptree_file(t, name, "x", 0644);
	}
	return 0;
}

/* The first `n` identical files of cap/, deduplicated with the ext4 cap:
 * file i shares the inode of file i / LINK_MAX_EXT4 * LINK_MAX_EXT4, whose
 * link count is what is left of the group, at most the cap. */
static void expect_capped(struct tmptree *t, unsigned n)
{
	struct fst_node *root = new_root();
	struct bulk b = { .d = dedup_new(LINK_MAX_EXT4) };
	struct dedup_stats st;
	char rel[32];
	unsigned i;

	assert_non_null(b.d);
	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "cap/f%05u", i);
		add_scanned(t, root, rel, rel + 4);
	}
	sort_ok(root);
	if (fst_walk(root, bulk_note, &b, &b.e) != 0 ||
	    dedup_resolve(b.d, &b.files, blocks_of, &st, &b.e) != 0)
		fail_msg("%u files: %s", n, b.e.msg);
	for (i = 0; i < n; i++) {
		uint64_t owner = i / LINK_MAX_EXT4 * LINK_MAX_EXT4;
		uint32_t nlink = 7, want = n - owner < LINK_MAX_EXT4 ?
						   (uint32_t)(n - owner) :
						   LINK_MAX_EXT4;
		uint64_t got = dedup_owner(b.d, i, 1, &nlink);

		if (got != owner || nlink != (i == owner ? want : 0))
			fail_msg("%u files: file %u -> owner %llu nlink %u, "
				 "want %llu nlink %u", n, i,
				 (unsigned long long)got, nlink,
				 (unsigned long long)owner,
				 i == owner ? want : 0);
	}
	assert_int_equal(st.links, n - mk_div_ceil(n, LINK_MAX_EXT4));
	dedup_free(b.d);
	filelist_free(&b.files);
	fst_free(root);
}

static void test_cap_at_ext4_limit(void **state)
{
	static const unsigned counts[] = { 64999, 65000, 65001, 65535,
					   65536 };

	for (size_t k = 0; k < ARRAY_LEN(counts); k++)
		expect_capped(*state, counts[k]);
}

/* ---- linear work ---- */

/* Bytes this process has read so far (read(2) and pread(2)). */
static uint64_t bytes_read(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	unsigned long long v = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "rchar: %llu", &v), 1);
	fclose(f);
	return v;
}

/* Many files of one size that share their first and last 4 KiB but
 * differ in the middle: each is read a bounded number of times, not
 * once per other file (that was quadratic: 4,000 files took 131 s). */
#define NEAR_FILES 300u
#define NEAR_SIZE (64u * 1024u)
static void test_near_identical_linear(void **state)
{
	struct tmptree *t = *state;
	char *buf = calloc(1, NEAR_SIZE), name[32];
	struct bulk b = { .d = dedup_new(LINK_MAX_EXT4) };
	struct dedup_stats st;
	struct fst_node *root;
	uint64_t before, used;

	assert_non_null(buf);
	assert_non_null(b.d);
	tmptree_mkdir(t, "near", 0755);
	for (unsigned i = 0; i < NEAR_FILES; i++) {
		unsigned v = i % (NEAR_FILES / 2); /* every content twice */

		memcpy(buf + NEAR_SIZE / 2, &v, sizeof(v));
		snprintf(name, sizeof(name), "near/f%03u", i);
		tmptree_file_n(t, name, buf, NEAR_SIZE, 0644);
	}
	root = scan_ok(t, "near");
	if (fst_walk(root, bulk_note, &b, &b.e) != 0)
		fail_msg("first walk: %s", b.e.msg);
	before = bytes_read();
	if (dedup_resolve(b.d, &b.files, blocks_of, &st, &b.e) != 0)
		fail_msg("dedup_resolve: %s", b.e.msg);
	used = bytes_read() - before;
	assert_int_equal(st.links, NEAR_FILES / 2);
	if (used > 3ull * NEAR_FILES * NEAR_SIZE)
		fail_msg("dedup read %llu bytes of %u files of %u bytes",
			 (unsigned long long)used, NEAR_FILES, NEAR_SIZE);
	free(buf);
	dedup_free(b.d);
	filelist_free(&b.files);
	fst_free(root);
}

#define SRC_TEST(f) cmocka_unit_test_setup_teardown(f, source_setup, \
						    tmptree_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		SRC_TEST(test_groups),
		SRC_TEST(test_only_files),
		SRC_TEST(test_deterministic),
		SRC_TEST(test_nothing_to_share),
		SRC_TEST(test_degenerate_trees),
		SRC_TEST(test_vanished_file),
		SRC_TEST(test_vanished_owner),
		SRC_TEST(test_emptied_file_named),
		SRC_TEST(test_vanished_dir),
		SRC_TEST(test_many_copies),
		SRC_TEST(test_inline_never_linked),
		SRC_TEST(test_no_candidates_reads_nothing),
		SRC_TEST(test_only_candidates_read),
		SRC_TEST(test_link_cap),
		SRC_TEST(test_near_identical_linear),
		cmocka_unit_test_setup_teardown(test_cap_at_ext4_limit,
						cap_setup, tmptree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
