/* diff.c - an instance's upper layer against its image: `sbx diff`, and
 * `sbx commit`, which saves the merged view as a new image.
 *
 * An instance's upper directory is the writable layer of a kernel overlay
 * mounted with userxattr: a deleted file is a 0/0 character device, a
 * directory that hides the image's is marked user.overlay.opaque="y". The
 * sandbox wrote it, so it is walked with *at() calls and no symlink is ever
 * followed, in it or in the image. */
#define _GNU_SOURCE
#include "store/layer.h"
#include "runtime/fsctx.h"
#include "runtime/overlay.h"
#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define MAX_DEPTH 400 /* directory nesting walked (2 fds a level) */

struct changes {
	struct layer_change *v;
	size_t n, cap;
};

static void change_add(struct changes *c, char kind, const char *rel)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n++] = (struct layer_change){.kind = kind, .path = xasprintf("/%s", rel)};
}

void layer_changes_free(struct layer_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].path);
	free(c);
}

/* Path order with '/' before every other byte: a directory, then what is
 * in it, then its siblings ("/a", "/a/b", "/a-b"). */
static int cmp_change(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)((const struct layer_change *)a)->path;
	const unsigned char *y = (const unsigned char *)((const struct layer_change *)b)->path;
	for (; *x && *x == *y; x++, y++)
		;
	int cx = *x == '/' ? 1 : *x == '\0' ? 0 : *x + 1;
	int cy = *y == '/' ? 1 : *y == '\0' ? 0 : *y + 1;
	return cx - cy;
}

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd)
{
	char v[4];
	ssize_t n = fgetxattr(dirfd, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

/* ufd: a directory of the upper layer; lfd: the same directory in the
 * image, or -1; hidden: the image's entries here are hidden (an opaque
 * directory, or inside one), so those missing from upper were deleted;
 * self: this directory's change, whose empty flag is set here. */
static int diff_dir(struct changes *c, int ufd, int lfd, const char *rel, bool hidden, size_t self,
                    unsigned depth, struct sbx_error **err)
{
	if (depth > MAX_DEPTH) {
		_cleanup_free_ char *q = str_escape(rel);
		return sbx_error_set(err, 0, "\"%s\" is nested too deeply", q);
	}
	_cleanup_strv_ char **names = NULL;
	_cleanup_free_ char *shown = xasprintf("/%s", rel);
	if (dir_list(ufd, shown, &names, err) < 0)
		return -1;
	if (self < c->n)
		c->v[self].empty = names[0] == NULL;
	for (size_t i = 0; names[i]; i++) {
		const char *name = names[i];
		_cleanup_free_ char *child = path_join(rel, name);
		struct stat ust, lst;
		if (fstatat(ufd, name, &ust, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* gone meanwhile (a running instance) */
			_cleanup_free_ char *q = str_escape(child);
			return sbx_error_set(err, errno, "cannot stat \"/%s\" in the upper layer",
			                     q);
		}
		bool in_lower = lfd >= 0 && fstatat(lfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0;
		if (is_whiteout(&ust)) {
			if (in_lower)
				change_add(c, 'D', child);
			continue;
		}
		change_add(c, in_lower ? 'C' : 'A', child);
		size_t added = c->n - 1;
		c->v[added].empty = S_ISREG(ust.st_mode) && ust.st_size == 0;
		if (!S_ISDIR(ust.st_mode))
			continue;
		_cleanup_close_ int cu =
		    openat(ufd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cu < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
				continue;
			_cleanup_free_ char *q = str_escape(child);
			return sbx_error_set(err, errno, "cannot open \"/%s\" in the upper layer",
			                     q);
		}
		_cleanup_close_ int cl = -1;
		if (in_lower && S_ISDIR(lst.st_mode)) {
			cl = openat(lfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cl < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP) {
				_cleanup_free_ char *q = str_escape(child);
				return sbx_error_set(err, errno, "cannot open \"/%s\" in the image",
				                     q);
			}
		}
		bool h = hidden || (cl >= 0 && is_opaque(cu));
		if (diff_dir(c, cu, cl, child, h, added, depth + 1, err) < 0)
			return -1;
	}
	if (!hidden || lfd < 0)
		return 0;
	_cleanup_strv_ char **lower = NULL;
	if (dir_list(lfd, shown, &lower, err) < 0)
		return sbx_error_prefix(err, "the image");
	for (size_t i = 0; lower[i]; i++)
		if (!strv_contains(names, lower[i])) {
			_cleanup_free_ char *child = path_join(rel, lower[i]);
			change_add(c, 'D', child);
		}
	return 0;
}

/* O_PATH fds of an upper layer (never through a symbolic link) and of its
 * image's root filesystem. */
static int open_layers(const char *upper, const char *lower, int *ufd, int *lfd,
                       struct sbx_error **err)
{
	*ufd = open(upper, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*ufd < 0)
		return sbx_error_set(err, errno, "cannot open the upper layer \"%s\"", upper);
	*lfd = open(lower, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*lfd < 0)
		return sbx_error_set(err, errno, "cannot open the image \"%s\"", lower);
	return 0;
}

struct diff_job {
	int ufd, lfd, outfd; /* O_PATH fds of the layers; a memfd for the changes */
};

/* In the mapped namespace: every change as KIND EMPTY PATH NUL. */
static int diff_mapped(void *arg, struct sbx_error **err)
{
	struct diff_job *j = arg;
	_cleanup_close_ int ufd = openat(j->ufd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ufd < 0)
		return sbx_error_set(err, errno, "cannot open the upper layer");
	_cleanup_close_ int lfd = openat(j->lfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return sbx_error_set(err, errno, "cannot open the image");
	struct changes c = {0};
	int r = diff_dir(&c, ufd, lfd, "", is_opaque(ufd), SIZE_MAX, 0, err);
	_cleanup_fclose_ FILE *f = r == 0 ? fdopen(dup(j->outfd), "w") : NULL;
	if (r == 0 && f == NULL)
		r = sbx_error_set(err, errno, "cannot write the changes");
	for (size_t i = 0; r == 0 && i < c.n; i++)
		fprintf(f, "%c%c%s%c", c.v[i].kind, c.v[i].empty ? '1' : '0', c.v[i].path, '\0');
	if (r == 0 && fflush(f) != 0)
		r = sbx_error_set(err, errno, "cannot write the changes");
	layer_changes_free(c.v, c.n);
	return r;
}

int layer_diff(const char *upper, const char *lower, const struct sbx_config *maps,
               struct layer_change **out, size_t *n, struct sbx_error **err)
{
	/* Opened here, where the caller's own rights reach a running --rm
	 * instance's memory upper layer through /proc; read in a child that
	 * is root of a namespace with the instance's id maps, so nothing the
	 * sandbox made unreadable (chmod 000, a subordinate owner) stops it. */
	_cleanup_close_ int ufd = -1, lfd = -1;
	if (open_layers(upper, lower, &ufd, &lfd, err) < 0)
		return -1;
	_cleanup_close_ int mfd = memfd_create("sbx-diff", MFD_CLOEXEC);
	if (mfd < 0)
		return sbx_error_set(err, errno, "cannot create a memory file");
	struct diff_job job = {ufd, lfd, mfd};
	if (userns_run_mapped(maps, diff_mapped, &job, err) < 0)
		return -1;
	off_t size = lseek(mfd, 0, SEEK_END);
	if (size < 0)
		return sbx_error_set(err, errno, "cannot read the changes");
	_cleanup_free_ char *buf = xmalloc((size_t)size + 1);
	if (pread(mfd, buf, (size_t)size, 0) != size)
		return sbx_error_set(err, EIO, "cannot read the changes");
	buf[size] = '\0';
	struct changes c = {0};
	for (char *p = buf; p < buf + size; p += strlen(p) + 1) {
		if (strlen(p) < 3)
			break;
		change_add(&c, p[0], p + 3); /* skips the path's own '/' */
		c.v[c.n - 1].empty = p[1] == '1';
	}
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), cmp_change);
	*out = c.v;
	*n = c.n;
	return 0;
}

int layer_instance_image(struct sbx_instance *inst, char **rootfs, char **image,
                         struct sbx_error **err)
{
	json_t *meta = NULL;
	if (instance_read_meta(inst, &meta, err) < 0)
		return sbx_error_prefix(err, "instance \"%s\" is damaged", inst->name);
	json_t *r = json_object_get(meta, "rootfs"), *i = json_object_get(meta, "image");
	const char *name = json_is_string(i) ? json_string_value(i) : "?";
	struct stat st;
	int ret = 0;
	if (!json_is_string(r))
		ret = sbx_error_set(err, 0,
		                    "instance \"%s\" is damaged: \"%s/instance.json\" names no "
		                    "image root filesystem; remove it with 'sbx rm %s'",
		                    inst->name, inst->dir, inst->name);
	else if (stat(json_string_value(r), &st) < 0 || !S_ISDIR(st.st_mode))
		ret = sbx_error_setc(err, ENOENT,
		                     "the image \"%s\" of instance \"%s\" is gone (no \"%s\"); "
		                     "remove the instance with 'sbx rm %s'",
		                     name, inst->name, json_string_value(r), inst->name);
	if (ret == 0) {
		*rootfs = xstrdup(json_string_value(r));
		if (image)
			*image = json_is_string(i) ? xstrdup(name) : NULL;
	}
	json_decref(meta);
	return ret;
}

/* ---- commit: the merged view, saved as an image ---- */

/* A read-only overlay: upper over lower, no upper directory of its own. */
static int mount_merged(const char *upper, const char *lower, const char *target,
                        struct sbx_error **err)
{
	_cleanup_close_ int ufd = -1, lfd = -1;
	if (open_layers(upper, lower, &ufd, &lfd, err) < 0)
		return -1;
	_cleanup_close_ int fsfd =
	    fsctx_open("overlay", err, "the kernel has no overlay filesystem");
	if (fsfd < 0)
		return -1;
	(void)fsctx_try(fsfd, FSCONFIG_SET_STRING, "source", "sbx-commit", 0);
	if (fsctx_try(fsfd, FSCONFIG_SET_FD, "lowerdir+", NULL, ufd) < 0 ||
	    fsctx_try(fsfd, FSCONFIG_SET_FD, "lowerdir+", NULL, lfd) < 0) {
		/* Before 6.7: one string, through /proc. */
		_cleanup_free_ char *s = xasprintf("/proc/self/fd/%d:/proc/self/fd/%d", ufd, lfd);
		if (fsctx_set(fsfd, FSCONFIG_SET_STRING, "lowerdir", s, 0, err,
		              "overlay refused the layers of \"%s\"", upper) < 0)
			return -1;
	}
	if (overlay_userns_options(fsfd, err) < 0 ||
	    fsctx_set(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0, err,
	              "cannot create the overlay of \"%s\"", upper) < 0)
		return -1;
	_cleanup_close_ int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC,
	                                  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mfd < 0)
		return sbx_error_set(err, errno, "cannot mount the overlay of \"%s\"", upper);
	if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "cannot attach the overlay on \"%s\"", target);
	return 0;
}

struct commit_job {
	const char *upper, *lower, *mountpoint, *name;
	const struct sbx_image *meta;
	const struct sbx_image_progress *progress;
};

/* Root of a namespace with the instance's id maps, so everything the
 * sandbox wrote is readable, in a mount namespace of its own. */
static int commit_mapped(void *arg, struct sbx_error **err)
{
	struct commit_job *j = arg;
	if (unshare(CLONE_NEWNS) < 0)
		return sbx_error_set(err, errno, "cannot create a mount namespace");
	if (mount_merged(j->upper, j->lower, j->mountpoint, err) < 0)
		return -1;
	return image_import_with(j->name, j->mountpoint, j->meta, j->progress, err);
}

int layer_commit(const char *upper, const char *lower, const struct sbx_config *maps,
                 const char *mountpoint, const char *name, const struct sbx_image *meta,
                 const struct sbx_image_progress *progress, struct sbx_error **err)
{
	struct commit_job j = {upper, lower, mountpoint, name, meta, progress};
	return userns_run_mapped(maps, commit_mapped, &j, err);
}
