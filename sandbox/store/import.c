/* import.c - image imports: from a directory (copy.c) or a tar archive
 * (extract.c), from OCI layers one after another, and a copy of an image's
 * root filesystem; and what they share, the size limit and the free space
 * they leave (see import.h). */
#define _GNU_SOURCE
#include "store/import.h"
#include "store/copy.h"
#include "store/extract.h"
#include "store/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define MAX_WARNINGS 10
/* Free space is looked at after every this many bytes charged. */
#define SPACE_CHECK_EVERY (16 << 20)
/* An import stops before the file system has less than this left free (or
 * a twentieth of the file system, when that is less). */
#define SPACE_RESERVE (256ULL << 20)

void import_notify(const struct sbx_image_progress *p, bool warning, const char *fmt, ...)
{
	void (*fn)(void *, const char *) = p ? (warning ? p->warn : p->info) : NULL;
	if (fn == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	fn(p->ctx, msg);
	free(msg);
}

void import_progress(const struct sbx_image_progress *p, uint64_t bytes, uint64_t total)
{
	if (p && p->progress)
		p->progress(p->ctx, bytes, total);
}

void import_skip_device(struct importer *im, const char *rel)
{
	im->devices++;
	if (im->devices <= MAX_WARNINGS) {
		_cleanup_free_ char *q = str_escape(rel);
		import_notify(im->progress, true, "skipping device node \"%s\"", q);
	}
}

static void finish_warnings(struct importer *im)
{
	if (im->devices > MAX_WARNINGS)
		import_notify(im->progress, true,
		              "skipped %zu device nodes in all (%zu not listed)", im->devices,
		              im->devices - MAX_WARNINGS);
}

/* A size for a message in its largest unit: "10 MiB", "2.5 GiB". */
static void size_text(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	uint64_t unit = 1;
	while (u + 1 < ARRAY_SIZE(units) && n / unit >= 1024) {
		unit *= 1024;
		u++;
	}
	if (n % unit == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(n / unit), units[u]);
	else
		snprintf(buf, len, "%.1f %s", (double)n / (double)unit, units[u]);
}

/* Fails once the file system of rootfd gets too full to go on, and says
 * when to look next. */
static int check_space(struct importer *im)
{
	struct statvfs vfs;
	if (fstatvfs(im->rootfd, &vfs) < 0)
		return 0; /* the writes will tell */
	uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	uint64_t reserve = (uint64_t)vfs.f_blocks * vfs.f_frsize / 20;
	if (reserve > SPACE_RESERVE)
		reserve = SPACE_RESERVE;
	/* Look again before half the reserve can be gone. */
	uint64_t every = reserve / 2 < SPACE_CHECK_EVERY ? reserve / 2 : SPACE_CHECK_EVERY;
	im->next_space_check = im->charged + (every > (64 << 10) ? every : (64 << 10));
	if (avail >= reserve)
		return 0;
	char left[32], keep[32];
	size_text(avail, left, sizeof(left));
	size_text(reserve, keep, sizeof(keep));
	return sbx_error_setc(
	    im->err, ENOSPC,
	    "the file system is nearly full (%s left, less than the %s that imports "
	    "leave free); free some space and try again",
	    left, keep);
}

int import_charge(struct importer *im, uint64_t bytes)
{
	uint64_t max = im->max_size ? im->max_size : IMAGE_MAX_SIZE_DEFAULT;
	im->charged = bytes > UINT64_MAX - im->charged ? UINT64_MAX : im->charged + bytes;
	if (im->charged > max) {
		char limit[32];
		size_text(max, limit, sizeof(limit));
		return sbx_error_setc(
		    im->err, EFBIG,
		    "the image is larger than the size limit of %s; allow more with "
		    "--max-size SIZE",
		    limit);
	}
	if (im->charged < im->next_space_check)
		return 0;
	return check_space(im);
}

int import_copy_data(int in, int out, struct importer *im, uint64_t prepaid)
{
	uint64_t copied = 0;
	const struct sbx_image_progress *p = im ? im->progress : NULL;
	uint64_t *counter = im ? &im->size : NULL;
	uint64_t total = im ? im->total : 0;
	bool kernel = true;
	_cleanup_free_ char *buf = NULL;
	for (;;) {
		ssize_t n;
		if (kernel) {
			n = copy_file_range(in, NULL, out, NULL, 8 << 20, 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			              errno == EOPNOTSUPP || errno == EPERM || errno == EBADF)) {
				kernel = false;
				continue;
			}
		} else {
			if (buf == NULL)
				buf = xmalloc(256 << 10);
			n = read(in, buf, 256 << 10);
			if (n > 0) {
				int r = write_all(out, buf, (size_t)n);
				if (r < 0) {
					errno = -r;
					return -1;
				}
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		copied += (uint64_t)n;
		if (im && copied > prepaid) {
			if (import_charge(im, copied - prepaid) < 0) {
				errno = EFBIG;
				return -1;
			}
			prepaid = copied;
		}
		if (counter) {
			*counter += (uint64_t)n;
			import_progress(p, *counter, total);
		}
	}
}

static int import_staged(struct staging *s, const char *name, const char *source, int src,
                         const struct stat *st, const struct sbx_image *with,
                         const struct sbx_image_progress *progress, struct sbx_error **err)
{
	struct stat tst;
	if (fstat(s->tmpfd, &tst) < 0)
		return sbx_error_set(err, errno, "cannot stat \"%s/%s\"", s->store, s->tmp);
	struct importer im = {
	    .progress = progress,
	    .rootfd = s->rootfd,
	    .total = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0,
	    .max_size = progress ? progress->max_size : 0,
	    .tmp_dev = tst.st_dev,
	    .tmp_ino = tst.st_ino,
	    .err = err,
	};
	int r = S_ISDIR(st->st_mode) ? copy_dir(&im, src)
	                             : extract_finish(&im, extract_archive(&im, src));
	finish_warnings(&im);
	if (r < 0 && strcmp(source, "-") == 0)
		return sbx_error_prefix(err, "standard input");
	if (r < 0) {
		_cleanup_free_ char *q = str_escape(source);
		return sbx_error_prefix(err, "\"%s\"", q);
	}
	import_progress(progress, im.total ? im.total : im.size, im.total);
	_cleanup_free_ char *real = strcmp(source, "-") ? realpath(source, NULL) : NULL;
	struct sbx_image meta = {
	    .source = real                  ? real
	              : strcmp(source, "-") ? (char *)source
	                                    : (char *)"(stdin)",
	    .size = im.size,
	};
	if (with) {
		meta.source = with->source ? with->source : meta.source;
		meta.cmd = with->cmd;
		meta.env = with->env;
		meta.workdir = with->workdir;
		meta.user = with->user;
	}
	return staging_commit(s, name, &meta, err);
}

int image_import(const char *name, const char *source, const struct sbx_image_progress *progress,
                 struct sbx_error **err)
{
	return image_import_with(name, source, NULL, progress, err);
}

int image_import_with(const char *ref, const char *source, const struct sbx_image *with,
                      const struct sbx_image_progress *progress, struct sbx_error **err)
{
	_cleanup_free_ char *name = image_ref_name(ref);
	if (image_check_name(name, err) < 0)
		return -1;
	bool from_stdin = strcmp(source, "-") == 0;
	_cleanup_free_ char *q = str_escape(source);
	_cleanup_close_ int src = -1;
	if (from_stdin) {
		if (isatty(STDIN_FILENO))
			return sbx_error_set(
			    err, 0,
			    "refusing to read an archive from a terminal; pipe one "
			    "in or name a file");
		src = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	} else {
		/* O_NONBLOCK: a fifo must not hang the open. */
		src = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (src < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", q);
	struct stat st;
	if (fstat(src, &st) < 0)
		return sbx_error_set(err, errno, "cannot stat \"%s\"", q);
	if (from_stdin && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		return sbx_error_set(err, 0, "standard input is neither a pipe nor a file");
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISDIR(st.st_mode))
		return sbx_error_set(err, 0, "\"%s\" is neither a directory nor an archive file",
		                     q);
	if (S_ISFIFO(st.st_mode) && fcntl(src, F_SETFL, fcntl(src, F_GETFL) & ~O_NONBLOCK) < 0)
		return sbx_error_set(err, errno, "cannot read \"%s\"", q);
	struct staging s;
	int r = staging_begin(&s, name, err);
	if (r == 0)
		r = import_staged(&s, name, source, src, &st, with, progress, err);
	staging_end(&s);
	return r;
}

static int layers_staged(struct staging *s, const char *name, const struct sbx_image_layers *l,
                         const struct sbx_image *with, const struct sbx_image_progress *progress,
                         struct sbx_error **err)
{
	struct importer im = {
	    .progress = progress,
	    .rootfd = s->rootfd,
	    .max_size = progress ? progress->max_size : 0,
	    .allow_empty = true,
	    .entry = l->entry,
	    .entry_ctx = l->ctx,
	    .err = err,
	};
	int r = 0;
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		uint64_t size = 0;
		int fd = l->open(l->ctx, i, &size, err);
		if (fd < 0) {
			r = -1;
			break;
		}
		im.total = size;
		r = extract_archive(&im, fd);
		close(fd);
		if (l->close && l->close(l->ctx, i, r < 0, err) < 0)
			r = -1;
		if (r == 0)
			import_progress(progress, size, size);
	}
	r = extract_finish(&im, r);
	finish_warnings(&im);
	if (r < 0)
		return -1;
	struct sbx_image meta = *with;
	meta.size = im.size;
	return staging_commit(s, name, &meta, err);
}

int image_import_layers(const char *ref, const struct sbx_image_layers *layers,
                        const struct sbx_image *meta, const struct sbx_image_progress *progress,
                        struct sbx_error **err)
{
	_cleanup_free_ char *name = image_ref_name(ref);
	if (image_check_name(name, err) < 0)
		return -1;
	struct staging s;
	int r = staging_begin_for(&s, name, progress && progress->replace, err);
	if (r == 0)
		r = layers_staged(&s, name, layers, meta, progress, err);
	staging_end(&s);
	return r;
}

int image_copy_rootfs(const struct sbx_image *img, const char *dst,
                      const struct sbx_image_progress *progress, struct sbx_error **err)
{
	_cleanup_close_ int src = open(img->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (src < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", img->rootfs);
	if (mkdir(dst, 0700) < 0) {
		if (errno == EEXIST)
			return sbx_error_setc(err, EEXIST, "\"%s\" already exists; remove it first",
			                      dst);
		return sbx_error_set(err, errno, "cannot create \"%s\"", dst);
	}
	_cleanup_close_ int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int r = dfd < 0 || fstat(dfd, &st) < 0
	            ? sbx_error_set(err, errno, "cannot open \"%s\"", dst)
	            : 0;
	if (r == 0) {
		struct importer im = {
		    .progress = progress,
		    .rootfd = dfd,
		    .tmp_dev = st.st_dev,
		    .tmp_ino = st.st_ino,
		    .max_size = UINT64_MAX, /* an image already; free space still counts */
		    .err = err,
		};
		r = copy_dir(&im, src);
		finish_warnings(&im);
		if (r < 0)
			sbx_error_prefix(err, "cannot copy \"%s\" to \"%s\"", img->rootfs, dst);
	}
	if (r < 0) {
		/* Remove what was made, through the parent, without following. */
		_cleanup_free_ char *parent = xstrdup(dst);
		char *slash = strrchr(parent, '/');
		const char *name = dst;
		if (slash && slash[1]) {
			*slash = '\0';
			name = slash + 1;
		} else {
			strcpy(parent, ".");
		}
		_cleanup_close_ int pfd =
		    open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd >= 0)
			rm_rf_at(pfd, name, NULL);
		return -1;
	}
	return 0;
}
