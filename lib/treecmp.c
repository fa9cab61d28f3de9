#include "treecmp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>
#include <ext2fs/ext2_ext_attr.h>
#include <ext2fs/ext2_fs.h>

#include "closure.h"
#include "e2fs.h"
#include "ext4fs.h"
#include "util.h"

#define CHUNK (1u << 20)          /* bytes compared at a time */
#define PERM_BITS 07777           /* i_mode without the file type */
#define LINKS_FIRST_SLOTS 1024    /* power of two */
#define LINKS_HASH 2654435761u    /* Knuth's multiplicative hash */

/* Inode flags that only say how data is laid out: the build's extent
 * trees (and hash-indexed directories); any other changes behaviour. */
#define LAYOUT_FLAGS (EXT4_EXTENTS_FL | EXT2_INDEX_FL | EXT4_HUGE_FILE_FL)
#define XATTR_NAME_SHOWN 256

/* Bytes of an inode as stored: the first 128 plus i_extra_isize. */
#define INODE_FIELDS(in) (EXT2_GOOD_OLD_INODE_SIZE + (in)->i_extra_isize)

/* A regular file's inode: its links count and the names found. */
struct link {
	ext2_ino_t ino;  /* 0: a free slot */
	uint32_t nlink;  /* i_links_count */
	uint32_t names;  /* entries that name it */
	char *path;      /* one of them, kept once there may be others */
};

/* An entry of an image directory. */
struct entry {
	char *name;
	size_t len;
	ext2_ino_t ino;
};

struct entries {
	struct entry *v;
	size_t n, cap;
	int out_of_memory;
};

struct cmp {
	ext2_filsys fs;
	const struct treecmp_fs *spec;
	struct mk_diffs *d;
	struct mk_err *e;
	char *img, *src;          /* CHUNK bytes each */
	char *ibuf;               /* one whole on-disk inode */
	unsigned isize;           /* its bytes */
	struct link *links;       /* open addressing, by inode */
	size_t nslots, nused;
	char *path;               /* of the node being compared */
	size_t path_len, path_cap;
};

/* ---- paths as shown ------------------------------------------------ */

static const char *shown(const struct cmp *c)
{
	return c->path_len ? c->path : "/";
}

/* Appends "/name"; the caller gives back *saved to path_pop. */
static int path_push(struct cmp *c, const char *name, size_t len,
		     size_t *saved)
{
	size_t need = c->path_len + 1 + len + 1;

	if (need > c->path_cap) {
		size_t cap = need * 2;
		char *p = realloc(c->path, cap);

		if (!p)
			return mk_fail(c->e, "out of memory");
		c->path = p;
		c->path_cap = cap;
	}
	*saved = c->path_len;
	c->path[c->path_len++] = '/';
	memcpy(c->path + c->path_len, name, len);
	c->path_len += len;
	c->path[c->path_len] = '\0';
	return 0;
}

/* The walk starts where the filesystem is mounted ("" for /). */
static int path_init(struct cmp *c, const char *mounted)
{
	c->path = strdup(mounted);
	c->path_len = strlen(mounted);
	c->path_cap = c->path_len + 1;
	return c->path ? 0 : -1;
}

static void path_pop(struct cmp *c, size_t saved)
{
	c->path_len = saved;
	c->path[saved] = '\0';
}

/* ---- links ---------------------------------------------------------- */

static struct link *link_slot(struct link *links, size_t nslots,
			      ext2_ino_t ino)
{
	size_t mask = nslots - 1, i = (size_t)(ino * LINKS_HASH) & mask;

	while (links[i].ino && links[i].ino != ino)
		i = (i + 1) & mask;
	return &links[i];
}

static int links_grow(struct cmp *c)
{
	size_t n = c->nslots ? c->nslots * 2 : LINKS_FIRST_SLOTS, i;
	struct link *v = calloc(n, sizeof(*v));

	if (!v)
		return mk_fail(c->e, "out of memory");
	for (i = 0; i < c->nslots; i++)
		if (c->links[i].ino)
			*link_slot(v, n, c->links[i].ino) = c->links[i];
	free(c->links);
	c->links = v;
	c->nslots = n;
	return 0;
}

/* One more name of a regular file's inode. */
static int note_link(struct cmp *c, ext2_ino_t ino, uint32_t nlink)
{
	struct link *l;

	if (c->nused * 2 >= c->nslots && links_grow(c))
		return -1;
	l = link_slot(c->links, c->nslots, ino);
	if (!l->ino) {
		*l = (struct link){ .ino = ino, .nlink = nlink };
		c->nused++;
	}
	l->names++;
	/* A name to show for an inode whose names may not match. */
	if (!l->path && (nlink != 1 || l->names > 1) &&
	    !(l->path = strdup(shown(c))))
		return mk_fail(c->e, "out of memory");
	return 0;
}

static int cmp_link_ino(const void *a, const void *b)
{
	const struct link *x = *(struct link *const *)a;
	const struct link *y = *(struct link *const *)b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Inodes whose names disagree with their links count, in inode order
 * (the build's walk order). */
static int report_links(struct cmp *c)
{
	struct link **bad = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; i < c->nslots; i++) {
		struct link *l = &c->links[i];

		if (!l->ino || (l->names == l->nlink &&
				l->names <= EXT4FS_LINK_MAX))
			continue;
		if (mk_grow(&bad, &cap, n, sizeof(*bad))) {
			free(bad);
			return mk_fail(c->e, "out of memory");
		}
		bad[n++] = l;
	}
	if (n > 1)
		qsort(bad, n, sizeof(*bad), cmp_link_ino);
	for (i = 0; i < n; i++) {
		if (bad[i]->names > EXT4FS_LINK_MAX)
			mk_diff(c->d, "%s: its inode has %u names, more than "
				"ext4's %u", bad[i]->path, bad[i]->names,
				EXT4FS_LINK_MAX);
		else
			mk_diff(c->d, "%s: links count %u, but its inode has "
				"%u names", bad[i]->path, bad[i]->nlink,
				bad[i]->names);
	}
	free(bad);
	return 0;
}

static void links_free(struct cmp *c)
{
	size_t i;

	for (i = 0; i < c->nslots; i++)
		free(c->links[i].path);
	free(c->links);
}

/* ---- metadata ------------------------------------------------------- */

static const char *kind_name(enum fst_kind k)
{
	return k == FST_DIR ? "directory"
	       : k == FST_FILE ? "regular file" : "symlink";
}

static int kind_matches(enum fst_kind k, uint16_t mode)
{
	return k == FST_DIR ? LINUX_S_ISDIR(mode)
	       : k == FST_FILE ? LINUX_S_ISREG(mode) : LINUX_S_ISLNK(mode);
}

static void compare_time(struct cmp *c, const char *field, uint32_t lo,
			 uint32_t extra, int64_t want)
{
	uint32_t want_lo, want_extra, ns = extra >> EXT4_EPOCH_BITS;
	char frac[16] = "";

	ext4fs_encode_time(want, &want_lo, &want_extra);
	if (lo == want_lo && extra == want_extra)
		return;
	if (ns)
		snprintf(frac, sizeof(frac), ".%09u", ns);
	mk_diff(c->d, "%s: %s %lld%s, expected %lld", shown(c), field,
		(long long)ext4fs_decode_time(lo, extra), frac,
		(long long)want);
}

/* The four times the build gives every inode; the *_extra fields only
 * where the inode has them (as the kernel reads it). */
static void compare_times(struct cmp *c, const struct ext2_inode_large *in,
			  int64_t want)
{
	unsigned size = INODE_FIELDS(in);
	int ext = inode_includes(size, i_crtime_extra);

	compare_time(c, "mtime", in->i_mtime,
		     inode_includes(size, i_mtime_extra) ? in->i_mtime_extra : 0,
		     want);
	compare_time(c, "atime", in->i_atime,
		     inode_includes(size, i_atime_extra) ? in->i_atime_extra : 0,
		     want);
	compare_time(c, "ctime", in->i_ctime,
		     inode_includes(size, i_ctime_extra) ? in->i_ctime_extra : 0,
		     want);
	if (ext)
		compare_time(c, "crtime", in->i_crtime, in->i_crtime_extra,
			     want);
	else
		mk_diff(c->d, "%s: no crtime (an inode of %u bytes), expected "
			"%lld", shown(c), size, (long long)want);
}

static int first_xattr(char *name, char *value, size_t value_len,
		       void *data)
{
	(void)value;
	(void)value_len;
	snprintf(data, XATTR_NAME_SHOWN, "%s", name);
	return XATTR_ABORT;
}

/* The build writes none: one (security.capability, an ACL) changes
 * what a program may do. */
static void compare_xattrs(struct cmp *c, ext2_ino_t ino)
{
	struct ext2_xattr_handle *h = NULL;
	char name[XATTR_NAME_SHOWN] = "";
	size_t count = 0;
	errcode_t err;

	err = ext2fs_xattrs_open(c->fs, ino, &h);
	if (err == EXT2_ET_MISSING_EA_FEATURE)
		return; /* then no inode can have any */
	/* It reads the whole on-disk inode itself: in-inode attributes lie
	 * past struct ext2_inode_large. */
	if (!err)
		err = ext2fs_xattrs_read(h);
	if (!err)
		err = ext2fs_xattrs_count(h, &count);
	if (!err && count)
		err = ext2fs_xattrs_iterate(h, first_xattr, name);
	if (h)
		ext2fs_xattrs_close(&h);
	if (err)
		mk_diff(c->d, "%s: extended attributes cannot be read: %s",
			shown(c), e2fs_message(err));
	else if (count)
		mk_diff(c->d, "%s: %zu extended attribute%s (%s), expected "
			"none", shown(c), count, count == 1 ? "" : "s", name);
}

/* Whether the inode read into c->ibuf has attributes in it or in a
 * block: only then are they listed (the build's never do). */
static int has_xattrs(const struct cmp *c, const struct ext2_inode_large *in)
{
	unsigned at = EXT2_GOOD_OLD_INODE_SIZE + in->i_extra_isize;
	uint32_t magic;

	if (ext2fs_file_acl_block(c->fs, (const struct ext2_inode *)in))
		return 1;
	if (c->isize <= EXT2_GOOD_OLD_INODE_SIZE ||
	    at + sizeof(magic) > c->isize)
		return 0;
	memcpy(&magic, c->ibuf + at, sizeof(magic));
	return ext2fs_le32_to_cpu(magic) == EXT2_EXT_ATTR_MAGIC;
}

static void compare_meta(struct cmp *c, const struct fst_node *n,
			 struct ext2_inode_large *in, ext2_ino_t ino)
{
	unsigned uid = inode_uid(*in), gid = inode_gid(*in);
	uint32_t flags = in->i_flags & ~LAYOUT_FLAGS;

	if ((in->i_mode & PERM_BITS) != n->mode)
		mk_diff(c->d, "%s: mode %04o, expected %04o", shown(c),
			in->i_mode & PERM_BITS, n->mode);
	if (uid != n->uid || gid != n->gid)
		mk_diff(c->d, "%s: owner %u:%u, expected %u:%u", shown(c), uid,
			gid, n->uid, n->gid);
	compare_times(c, in, n->time);
	if (flags)
		mk_diff(c->d, "%s: inode flags 0x%x, expected none of them "
			"(chattr's immutable, append-only and the like)",
			shown(c), flags);
	if (has_xattrs(c, in))
		compare_xattrs(c, ino);
}

/* ---- contents ------------------------------------------------------- */

static uint64_t first_difference(const char *a, const char *b, size_t n)
{
	size_t i = 0;

	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* Reads `want` bytes of the node's source at the current position into
 * c->src (or points at its in-memory data). */
static int read_source(struct cmp *c, const struct fst_node *n, int fd,
		       uint64_t pos, size_t want, const char **out)
{
	long got;

	if (n->data) {
		*out = (const char *)n->data + pos;
		return 0;
	}
	got = mk_read_full(fd, c->src, want);
	if (got < 0)
		return mk_fail_errno(c->e, errno, "%s: cannot read",
				     fst_shown(n));
	if ((size_t)got != want)
		return mk_fail(c->e, "%s: changed size while reading",
			       fst_shown(n));
	*out = c->src;
	return 0;
}

/* Every byte of the file against its source: directly, which costs the
 * same reads as hashing both and says where they part. */
static int compare_bytes(struct cmp *c, const struct fst_node *n,
			 ext2_ino_t ino, struct ext2_inode_large *in)
{
	ext2_file_t f;
	errcode_t err;
	uint64_t pos = 0;
	int fd = -1, rc = 0;

	err = ext2fs_file_open2(c->fs, ino, (struct ext2_inode *)in, 0, &f);
	if (err) {
		mk_diff(c->d, "%s: data cannot be read: %s", shown(c),
			e2fs_message(err));
		return 0;
	}
	if (!n->data && (fd = fst_open(n, c->e)) < 0) {
		ext2fs_file_close(f);
		return -1;
	}
	while (rc == 0 && pos < n->size) {
		size_t want = n->size - pos < CHUNK ? (size_t)(n->size - pos)
						    : CHUNK;
		unsigned int got = 0;
		const char *expect = NULL;

		err = ext2fs_file_read(f, c->img, (unsigned int)want, &got);
		if (err || got != want) {
			mk_diff(c->d, "%s: data cannot be read at byte %llu: %s",
				shown(c), (unsigned long long)(pos + got),
				err ? e2fs_message(err) : "short read");
			break;
		}
		rc = read_source(c, n, fd, pos, want, &expect);
		if (rc == 0 && memcmp(c->img, expect, want) != 0) {
			mk_diff(c->d, "%s: content differs (first at byte "
				"%llu)", shown(c), (unsigned long long)(pos +
				first_difference(c->img, expect, want)));
			break;
		}
		pos += want;
	}
	if (fd >= 0)
		close(fd);
	ext2fs_file_close(f);
	return rc;
}

static int compare_file(struct cmp *c, const struct fst_node *n,
			ext2_ino_t ino, struct ext2_inode_large *in)
{
	uint64_t size = EXT2_I_SIZE(in);

	if (note_link(c, ino, in->i_links_count))
		return -1;
	if (size != n->size) {
		mk_diff(c->d, "%s: size %llu, expected %llu", shown(c),
			(unsigned long long)size, (unsigned long long)n->size);
		return 0;
	}
	return compare_bytes(c, n, ino, in);
}

/* The target as stored: in i_block when short, else in a data block. */
static int read_target(struct cmp *c, ext2_ino_t ino,
		       struct ext2_inode_large *in, char *out, size_t size)
{
	ext2_file_t f;
	unsigned int got = 0;
	errcode_t err;

	if (ext2fs_is_fast_symlink((struct ext2_inode *)in)) {
		memcpy(out, in->i_block, size);
		return 0;
	}
	err = ext2fs_file_open2(c->fs, ino, (struct ext2_inode *)in, 0, &f);
	if (!err) {
		err = ext2fs_file_read(f, out, (unsigned int)size, &got);
		ext2fs_file_close(f);
	}
	if (err || got != size) {
		mk_diff(c->d, "%s: symlink target cannot be read: %s", shown(c),
			err ? e2fs_message(err) : "short read");
		return -1;
	}
	return 0;
}

static void compare_symlink(struct cmp *c, const struct fst_node *n,
			    ext2_ino_t ino, struct ext2_inode_large *in)
{
	uint64_t size = EXT2_I_SIZE(in);
	char target[EXT4FS_BLOCK_SIZE];

	if (in->i_links_count != 1)
		mk_diff(c->d, "%s: links count %u, expected 1", shown(c),
			in->i_links_count);
	if (size >= sizeof(target)) {
		mk_diff(c->d, "%s: symlink target of %llu bytes, expected "
			"'%s'", shown(c), (unsigned long long)size, n->target);
		return;
	}
	if (read_target(c, ino, in, target, (size_t)size))
		return;
	target[size] = '\0';
	if (size != strlen(n->target) || memcmp(target, n->target, size))
		mk_diff(c->d, "%s: symlink to '%s', expected '%s'", shown(c),
			target, n->target);
}

/* ---- directories ---------------------------------------------------- */

static int collect(ext2_ino_t dir, int entry, struct ext2_dir_entry *de,
		   int offset, int blocksize, char *buf, void *priv)
{
	struct entries *es = priv;
	size_t len = (size_t)ext2fs_dirent_name_len(de);
	struct entry *en;

	(void)dir;
	(void)offset;
	(void)blocksize;
	(void)buf;
	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE)
		return 0;
	if (mk_grow(&es->v, &es->cap, es->n, sizeof(*es->v))) {
		es->out_of_memory = 1;
		return DIRENT_ABORT;
	}
	en = &es->v[es->n];
	en->name = mk_strndup(de->name, len);
	if (!en->name) {
		es->out_of_memory = 1;
		return DIRENT_ABORT;
	}
	en->len = len;
	en->ino = de->inode;
	es->n++;
	return 0;
}

/* Byte order, as fst_sort's strcmp (names hold no NUL in the tree). */
static int name_order(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	return r ? r : (alen > blen) - (alen < blen);
}

static int cmp_entries(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return name_order(x->name, x->len, y->name, y->len);
}

static void entries_free(struct entries *es)
{
	size_t i;

	for (i = 0; i < es->n; i++)
		free(es->v[i].name);
	free(es->v);
}

/* An entry the tree does not have: named once, not walked into. */
static void report_extra(struct cmp *c)
{
	const char *store = NIX_STORE_DIR "/";

	if (strncmp(shown(c), store, strlen(store)) == 0)
		mk_diff(c->d, "%s: not in the closure", shown(c));
	else
		mk_diff(c->d, "%s: not written by mkr2simg", shown(c));
}

static int compare_node(struct cmp *c, struct fst_node *n, ext2_ino_t ino);

/* Walks the tree's and the image's entries, both in byte order. */
static int merge_entries(struct cmp *c, struct fst_node *dir,
			 const struct entries *es)
{
	size_t i = 0, j = 0, saved = 0;
	int rc = 0;

	while (rc == 0 && (i < dir->nkids || j < es->n)) {
		const struct fst_node *k = i < dir->nkids ? dir->kids[i] : NULL;
		const struct entry *en = j < es->n ? &es->v[j] : NULL;
		int order = !k ? 1 : !en ? -1
			  : name_order(k->name, strlen(k->name), en->name,
				       en->len);

		if (path_push(c, order > 0 ? en->name : k->name,
			      order > 0 ? en->len : strlen(k->name), &saved))
			return -1;
		if (order < 0)
			mk_diff(c->d, "%s: missing", shown(c));
		else if (order > 0)
			report_extra(c);
		else
			rc = compare_node(c, dir->kids[i], en->ino);
		path_pop(c, saved);
		i += order <= 0;
		j += order >= 0;
	}
	return rc;
}

static int compare_dir(struct cmp *c, struct fst_node *dir, ext2_ino_t ino)
{
	struct entries es = { NULL, 0, 0, 0 };
	errcode_t err;
	int rc = 0;

	if (fst_load(dir, c->e))
		return -1;
	err = ext2fs_dir_iterate2(c->fs, ino, 0, NULL, collect, &es);
	if (es.out_of_memory)
		rc = mk_fail(c->e, "out of memory");
	else if (err)
		mk_diff(c->d, "%s: directory cannot be read: %s", shown(c),
			e2fs_message(err));
	else {
		if (es.n > 1)
			qsort(es.v, es.n, sizeof(*es.v), cmp_entries);
		rc = merge_entries(c, dir, &es);
	}
	entries_free(&es);
	fst_unload(dir);
	return rc;
}

static int compare_node(struct cmp *c, struct fst_node *n, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	errcode_t err;

	err = ext2fs_read_inode_full(c->fs, ino, (struct ext2_inode *)c->ibuf,
				     c->isize);
	if (err) {
		mk_diff(c->d, "%s: inode %u cannot be read: %s", shown(c), ino,
			e2fs_message(err));
		return 0;
	}
	/* A copy: c->ibuf is the next inode's once the walk goes on. */
	memset(&in, 0, sizeof(in));
	memcpy(&in, c->ibuf, c->isize < sizeof(in) ? c->isize : sizeof(in));
	if (!kind_matches(n->kind, in.i_mode)) {
		mk_diff(c->d, "%s: %s, expected %s", shown(c),
			mk_file_kind(in.i_mode), kind_name(n->kind));
		return 0;
	}
	compare_meta(c, n, &in, ino);
	if (n->kind == FST_DIR)
		return compare_dir(c, n, ino);
	if (n->kind == FST_FILE)
		return compare_file(c, n, ino, &in);
	compare_symlink(c, n, ino, &in);
	return 0;
}

/* ---- the filesystem ------------------------------------------------- */

static void compare_super(struct cmp *c)
{
	struct ext2_super_block *sb = c->fs->super;
	char label[sizeof(sb->s_volume_name) + 1];
	uint64_t blocks = ext2fs_blocks_count(sb);
	/* The build makes it of whole blocks, all that fit the partition. */
	uint64_t want = c->spec->size / EXT4FS_BLOCK_SIZE;

	memcpy(label, sb->s_volume_name, sizeof(sb->s_volume_name));
	label[sizeof(sb->s_volume_name)] = '\0';
	if (strcmp(label, c->spec->label) != 0)
		mk_diff(c->d, "%s: volume label '%s', expected '%s'",
			c->spec->what, label, c->spec->label);
	if (c->fs->blocksize != EXT4FS_BLOCK_SIZE)
		mk_diff(c->d, "%s: blocks of %u bytes, expected %u",
			c->spec->what, c->fs->blocksize, EXT4FS_BLOCK_SIZE);
	else if (blocks != want)
		mk_diff(c->d, "%s: a filesystem of %llu blocks, expected %llu "
			"(all that fit the partition)", c->spec->what,
			(unsigned long long)blocks, (unsigned long long)want);
}

/* What the kernel would do differently from reading the blocks as
 * they are: replay a journal, process orphans, or see a damaged fs. */
static void compare_state(struct cmp *c)
{
	struct ext2_super_block *sb = c->fs->super;

	if (ext2fs_has_feature_journal_needs_recovery(sb))
		mk_diff(c->d, "%s: the journal needs recovery, which would "
			"change what the kernel reads", c->spec->what);
	if (!(sb->s_state & EXT2_VALID_FS) || (sb->s_state & EXT2_ERROR_FS))
		mk_diff(c->d, "%s: marked %s", c->spec->what,
			sb->s_state & EXT2_ERROR_FS ? "with errors"
						    : "not cleanly unmounted");
	if (sb->s_last_orphan)
		mk_diff(c->d, "%s: orphan inodes from inode %u, which the "
			"kernel would truncate or delete", c->spec->what,
			sb->s_last_orphan);
}

static int open_fs(struct cmp *c)
{
	errcode_t err = e2fs_open_ro(c->spec->image, c->spec->offset, 0,
				     &c->fs);

	if (err) {
		mk_diff(c->d, "%s: no ext4 filesystem can be read there: %s",
			c->spec->what, e2fs_message(err));
	}
	return err ? -1 : 0;
}

int treecmp_run(const struct treecmp_fs *spec, struct fst_node *tree,
		struct mk_diffs *diffs, struct mk_err *e)
{
	struct cmp c = { .spec = spec, .d = diffs, .e = e };
	int rc = 0;

	if (open_fs(&c))
		return 0;
	compare_super(&c);
	compare_state(&c);
	c.img = malloc(CHUNK);
	c.src = malloc(CHUNK);
	c.isize = EXT2_INODE_SIZE(c.fs->super);
	c.ibuf = malloc(c.isize);
	if (!c.img || !c.src || !c.ibuf || path_init(&c, spec->mounted))
		rc = mk_fail(e, "out of memory");
	if (rc == 0)
		rc = compare_node(&c, tree, EXT2_ROOT_INO);
	if (rc == 0)
		rc = report_links(&c);
	links_free(&c);
	free(c.path);
	free(c.img);
	free(c.src);
	free(c.ibuf);
	ext2fs_free(c.fs);
	return rc;
}
