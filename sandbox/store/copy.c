/* copy.c - an image root copied from a directory tree: by fd, never through
 * a symbolic link, hard links kept, mount points not crossed (see import.h). */
#define _GNU_SOURCE
#include "store/copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct link {
	dev_t dev;
	ino_t ino;
	char *rel;
};

static int cmp_link(const void *a, const void *b)
{
	const struct link *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

static void free_link(void *p)
{
	struct link *l = p;
	free(l->rel);
	free(l);
}

static int copy_tree(struct importer *im, int srcfd, int dstfd, const char *rel, dev_t dev,
                     unsigned depth);

static int copy_entry(struct importer *im, int srcfd, int dstfd, const char *name, const char *rel,
                      dev_t parent_dev, unsigned depth)
{
	struct sbx_error **err = im->err;
	struct statx stx;
	if (statx(srcfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &stx) <
	    0) {
		_cleanup_free_ char *q = str_escape(rel);
		return sbx_error_set(err, errno, "cannot stat \"%s\"", q);
	}
	mode_t mode = stx.stx_mode;
	dev_t dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	struct timespec times[2] = {{stx.stx_atime.tv_sec, stx.stx_atime.tv_nsec},
	                            {stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec}};
	_cleanup_free_ char *q = str_escape(rel);
	if (import_charge(im, IMPORT_ENTRY_COST) < 0)
		return -1;

	if (S_ISDIR(mode)) {
		if (dev == im->tmp_dev && stx.stx_ino == im->tmp_ino)
			return 0; /* importing a tree that holds the image store */
		if (depth >= IMPORT_MAX_DEPTH)
			return sbx_error_set(err, 0,
			                     "\"%s\" is nested too deeply (more than %d levels)", q,
			                     IMPORT_MAX_DEPTH);
		if (mkdirat(dstfd, name, 0700) < 0)
			return sbx_error_set(err, errno, "cannot create directory \"%s\"", q);
		_cleanup_close_ int d =
		    openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0)
			return sbx_error_set(err, errno, "cannot open directory \"%s\"", q);
		bool mount_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		                      ? (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0
		                      : dev != parent_dev;
		if (mount_root) {
			import_notify(im->progress, true,
			              "skipping the contents of \"%s\", a mount point", q);
		} else {
			_cleanup_close_ int s =
			    openat(srcfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0)
				return sbx_error_set(err, errno, "cannot open directory \"%s\"", q);
			if (copy_tree(im, s, d, rel, dev, depth + 1) < 0)
				return -1;
		}
		if (fchmod(d, import_safe_mode(mode)) < 0 || futimens(d, times) < 0)
			return sbx_error_set(err, errno, "cannot set the mode of \"%s\"", q);
		return 0;
	}
	if (S_ISREG(mode)) {
		struct link key = {dev, stx.stx_ino, NULL};
		if (stx.stx_nlink > 1) {
			struct link **found = tfind(&key, &im->links, cmp_link);
			if (found) {
				if (linkat(im->rootfd, (*found)->rel, dstfd, name, 0) < 0)
					return sbx_error_set(err, errno, "cannot link \"%s\"", q);
				return 0;
			}
		}
		_cleanup_close_ int s =
		    openat(srcfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (s < 0)
			return sbx_error_set(err, errno, "cannot open \"%s\"", q);
		struct stat st;
		if (fstat(s, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino != stx.stx_ino)
			return sbx_error_set(err, 0, "\"%s\" changed while it was copied", q);
		_cleanup_close_ int d =
		    openat(dstfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d < 0)
			return sbx_error_set(err, errno, "cannot create \"%s\"", q);
		/* Its size first: a sparse file must not be filled in. */
		if (import_charge(im, stx.stx_size) < 0)
			return -1;
		if (import_copy_data(s, d, im, stx.stx_size) < 0)
			return sbx_error_set(err, errno, "cannot copy \"%s\"", q);
		if (fchmod(d, import_safe_mode(mode)) < 0 || futimens(d, times) < 0)
			return sbx_error_set(err, errno, "cannot set the mode of \"%s\"", q);
		if (stx.stx_nlink > 1) {
			struct link *l = xmalloc(sizeof(*l));
			*l = (struct link){dev, stx.stx_ino, xstrdup(rel)};
			if (tsearch(l, &im->links, cmp_link) == NULL)
				abort();
		}
		return 0;
	}
	if (S_ISLNK(mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(srcfd, name, target, sizeof(target));
		if (n < 0)
			return sbx_error_set(err, errno, "cannot read symbolic link \"%s\"", q);
		if ((size_t)n >= sizeof(target))
			return sbx_error_set(err, ENAMETOOLONG, "cannot read symbolic link \"%s\"",
			                     q);
		target[n] = '\0';
		if (symlinkat(target, dstfd, name) < 0)
			return sbx_error_set(err, errno, "cannot create symbolic link \"%s\"", q);
		(void)utimensat(dstfd, name, times, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (S_ISFIFO(mode)) {
		if (mkfifoat(dstfd, name, 0600) < 0 ||
		    fchmodat(dstfd, name, import_safe_mode(mode), AT_SYMLINK_NOFOLLOW) < 0)
			return sbx_error_set(err, errno, "cannot create fifo \"%s\"", q);
		(void)utimensat(dstfd, name, times, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		import_skip_device(im, rel);
		return 0;
	}
	import_notify(im->progress, true, "skipping \"%s\", a %s", q,
	              S_ISSOCK(mode) ? "socket" : "special file");
	return 0;
}

static int copy_tree(struct importer *im, int srcfd, int dstfd, const char *rel, dev_t dev,
                     unsigned depth)
{
	/* A fresh open: the directory offset of srcfd stays untouched. */
	int fd = openat(srcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		_cleanup_free_ char *q = str_escape(rel[0] ? rel : ".");
		return sbx_error_set(im->err, errno, "cannot read directory \"%s\"", q);
	}
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return sbx_error_set(im->err, errno, "cannot read directory");
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *child =
		    rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		if (copy_entry(im, srcfd, dstfd, de->d_name, child, dev, depth) < 0)
			return -1;
		errno = 0;
	}
	if (errno != 0) {
		_cleanup_free_ char *q = str_escape(rel[0] ? rel : ".");
		return sbx_error_set(im->err, errno, "cannot read directory \"%s\"", q);
	}
	return 0;
}

int copy_dir(struct importer *im, int srcfd)
{
	struct stat st;
	if (fstat(srcfd, &st) < 0)
		return sbx_error_set(im->err, errno, "cannot stat");
	int r = copy_tree(im, srcfd, im->rootfd, "", st.st_dev, 0);
	tdestroy(im->links, free_link);
	im->links = NULL;
	if (r < 0)
		return -1;
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	if (fchmod(im->rootfd, import_safe_mode(st.st_mode)) < 0 || futimens(im->rootfd, times) < 0)
		return sbx_error_set(im->err, errno, "cannot set the mode of the image root");
	return 0;
}
