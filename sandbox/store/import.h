/* import.h - what an image import shares (store-internal): the importer a
 * directory copy (copy.c) and archive extraction (extract.c) fill an image
 * root through, charging every entry and byte to the size limit and
 * watching the free space.
 *
 * Everything inside a source tree or an archive is hostile: names may hold
 * "..", escape sequences or absolute paths, symlinks may point anywhere and
 * later entries may try to write through earlier ones. So the image is built
 * only with *at() calls relative to directory fds we created ourselves, with
 * O_NOFOLLOW on every component, and nothing is ever written through a
 * symlink. Ownership, xattrs, setuid/setgid bits and device nodes are
 * dropped: rootless, they are meaningless or dangerous. */
#ifndef SBX_IMPORT_H
#define SBX_IMPORT_H

#include "store/image.h"

#include <sys/stat.h>

#define IMPORT_MAX_DEPTH 512 /* directory nesting, in an archive or a copied tree */
/* What an import is charged for an entry besides its data: about a block
 * and an inode, so a bomb of empty entries is capped too. */
#define IMPORT_ENTRY_COST (4 << 10)

struct walk_level;
struct fixup;

struct importer {
	const struct sbx_image_progress *progress;
	int rootfd;
	uint64_t size;  /* file content written */
	uint64_t total; /* source size for progress, 0 when unknown */
	size_t devices; /* device nodes skipped */
	dev_t tmp_dev;  /* the staging directory, never copied into itself */
	ino_t tmp_ino;
	void *links; /* copy.c: tsearch tree of the files with several links */
	/* extract.c: the directories down to the last parent walked to, as
	 * walk_path's components; fds on the deepest of them stay open. */
	char *walk_path;
	struct walk_level *levels;
	size_t n_levels, cap_levels;
	size_t fds_open, fd_budget;
	/* The size limit: bytes charged so far (file data and
	 * IMPORT_ENTRY_COST an entry), the limit, and when to look at the free
	 * space next. */
	uint64_t charged, max_size, next_space_check;
	struct fixup *fixups;
	size_t n_fixups;
	bool allow_empty; /* a layer may hold no entries */
	/* Layered imports: sees each entry first (struct sbx_image_layers). */
	int (*entry)(void *ctx, int rootfd, const char *path, struct sbx_error **err);
	void *entry_ctx;
	struct sbx_error **err;
};

/* The mode an image keeps: permissions without setuid and setgid. */
static inline mode_t import_safe_mode(mode_t mode)
{
	return mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID);
}

/* progress's info (or warn) callback, when there is one, with a message. */
void import_notify(const struct sbx_image_progress *p, bool warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void import_progress(const struct sbx_image_progress *p, uint64_t bytes, uint64_t total);
/* Skips a device node, naming it among the first few warnings. */
void import_skip_device(struct importer *im, const char *rel);
/* Counts bytes against the size limit, and looks at the free space now and
 * then. Fails with the error set once either runs out. */
int import_charge(struct importer *im, uint64_t bytes);
/* Copies file data, in the kernel when it can, charging what goes beyond
 * the prepaid bytes to the import when there is one (im NULL: none).
 * Returns 0, or -1 with errno set. */
int import_copy_data(int in, int out, struct importer *im, uint64_t prepaid);

#endif
