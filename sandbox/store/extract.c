/* extract.c - an image root extracted from a tar archive, read through the
 * sbx-unpack helper (archive.c). Entries are hostile: a name is normalized
 * and refused when it leaves the root, every directory on its way is
 * opened with O_NOFOLLOW from the root down (a symbolic link earlier in the
 * archive is never written through), later entries replace earlier ones,
 * and a hard link must point at an earlier entry (see import.h). */
#define _GNU_SOURCE
#include "store/extract.h"
#include "store/sbx-archive.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* Directory fds a walk keeps open, at most (and a quarter of the limit). */
#define WALK_FDS_MAX 256

static inline void archive_readp(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_readp)

/* A directory of the walk: walk_path[0..end) names it; fd is -1 once
 * closed to stay within the fd budget. */
struct walk_level {
	size_t end;
	int fd;
};

/* Directory modes and times are set last, deepest first, so a read-only
 * directory can still be filled and its mtime is not disturbed. */
struct fixup {
	char *path;
	size_t order;
	mode_t mode;
	struct timespec times[2];
};

/* Normalizes an entry path: drops "." and empty components; refuses
 * absolute paths and "..". "" is the image root. */
static int normalize(const char *path, char **out)
{
	if (path[0] == '/')
		return -1;
	char *res = xmalloc(strlen(path) + 1), *o = res;
	const char *p = path;
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			free(res);
			return -1;
		}
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (o != res)
				*o++ = '/';
			memcpy(o, p, len);
			o += len;
		}
		p = *end ? end + 1 : end;
	}
	*o = '\0';
	*out = res;
	return 0;
}

/* Forgets the directories walked to, from level n down. */
static void walk_truncate(struct importer *im, size_t n)
{
	while (im->n_levels > n) {
		struct walk_level *l = &im->levels[--im->n_levels];
		if (l->fd >= 0) {
			close(l->fd);
			im->fds_open--;
		}
	}
	if (im->walk_path)
		im->walk_path[n ? im->levels[n - 1].end : 0] = '\0';
}

static void cache_drop(struct importer *im)
{
	walk_truncate(im, 0);
	free(im->walk_path);
	free(im->levels);
	im->walk_path = NULL;
	im->levels = NULL;
	im->cap_levels = 0;
}

/* Adds the directory fd as the next level, named by dir[0..end); closes
 * the shallowest open level's fd when over the budget. */
static void walk_push(struct importer *im, const char *dir, size_t end, int fd)
{
	if (im->fd_budget == 0) {
		struct rlimit rl;
		rlim_t cur = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
		im->fd_budget = cur / 4 < WALK_FDS_MAX ? (size_t)(cur / 4) : WALK_FDS_MAX;
		if (im->fd_budget < 4)
			im->fd_budget = 4;
	}
	if (im->n_levels == im->cap_levels) {
		im->cap_levels = im->cap_levels ? im->cap_levels * 2 : 16;
		im->levels = xrealloc(im->levels, im->cap_levels * sizeof(*im->levels));
	}
	im->levels[im->n_levels++] = (struct walk_level){end, fd};
	im->fds_open++;
	/* Open fds are always the deepest levels: close the first one. */
	for (size_t i = 0; im->fds_open > im->fd_budget && i < im->n_levels; i++)
		if (im->levels[i].fd >= 0) {
			close(im->levels[i].fd);
			im->levels[i].fd = -1;
			im->fds_open--;
		}
	free(im->walk_path);
	im->walk_path = xstrndup(dir, end);
}

enum walk {
	WALK_CREATE,   /* create missing directories */
	WALK_EXISTING, /* -2 when missing */
	WALK_QUIET,    /* -2 when missing or not a directory */
};

static size_t count_levels(const char *path, size_t len)
{
	size_t n = len > 0;
	for (size_t i = 0; i < len; i++)
		n += path[i] == '/';
	return n;
}

/* Finds the directory holding path (normalized, not ""), one component at a
 * time with O_NOFOLLOW, from the deepest directory it shares with the last
 * walk: an archive lists a directory's entries together, so most walks
 * open nothing, and a deep tree costs a few opens a level, not one a level
 * for every entry. Returns a borrowed fd (valid until the next call) and
 * the last component, -2 as said above, -1 with an error. */
static int walk_parent(struct importer *im, const char *entry, const char *path, enum walk how,
                       int *out, const char **last)
{
	bool create = how == WALK_CREATE;
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		*out = im->rootfd;
		*last = path;
		return 0;
	}
	*last = slash + 1;
	size_t dlen = (size_t)(slash - path);
	if (count_levels(path, dlen) > IMPORT_MAX_DEPTH) {
		_cleanup_free_ char *qe = str_escape(entry);
		return sbx_error_set(im->err, 0,
		                     "entry \"%s\" is nested too deeply (more than %d levels)", qe,
		                     IMPORT_MAX_DEPTH);
	}
	/* The levels this walk shares with the last one. */
	size_t keep = 0;
	if (im->walk_path) {
		const char *w = im->walk_path;
		size_t same = 0;
		while (same < dlen && w[same] && w[same] == path[same])
			same++;
		while (keep < im->n_levels) {
			size_t end = im->levels[keep].end;
			if (end > same || (end < dlen && path[end] != '/'))
				break;
			keep++;
		}
		/* Its deepest fd was closed: walk again from the root. */
		if (keep > 0 && im->levels[keep - 1].fd < 0)
			keep = 0;
	}
	walk_truncate(im, keep);
	_cleanup_free_ char *dir = xstrndup(path, dlen);
	size_t pos = keep ? im->levels[keep - 1].end + 1 : 0;
	while (pos <= dlen) {
		char *p = dir + pos;
		char *end = strchrnul(p, '/');
		*end = '\0';
		int base = im->n_levels ? im->levels[im->n_levels - 1].fd : im->rootfd;
		int fd = openat(base, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			/* A parent the archive does not list: make it like tar does. */
			if (mkdirat(base, p, 0755) < 0 && errno != EEXIST)
				return sbx_error_set(im->err, errno, "cannot create \"%s\"", dir);
			fd = openat(base, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				(void)fchmod(fd, 0755);
		}
		if (fd < 0 && how == WALK_QUIET)
			return -2;
		if (fd < 0) {
			int e = errno;
			struct stat st;
			_cleanup_free_ char *qe = str_escape(entry), *qd = str_escape(dir);
			if (fstatat(base, p, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				if (S_ISLNK(st.st_mode))
					return sbx_error_set(im->err, 0,
					                     "entry \"%s\" goes through the "
					                     "symbolic link \"%s\"; refusing to "
					                     "write through it",
					                     qe, qd);
				if (!S_ISDIR(st.st_mode))
					return sbx_error_set(im->err, 0,
					                     "entry \"%s\" is beneath \"%s\", "
					                     "which is not a directory",
					                     qe, qd);
			}
			if (e == ENOENT && !create)
				return -2;
			return sbx_error_set(im->err, e, "cannot open \"%s\"", qd);
		}
		size_t e = (size_t)(end - dir);
		if (e < dlen)
			*end = '/';
		walk_push(im, path, e, fd);
		pos = e + 1;
	}
	*out = im->levels[im->n_levels - 1].fd;
	return 0;
}

/* Makes room for a new node: later archive entries replace earlier ones.
 * Returns 1 when a directory is there and want_dir is set. */
static int make_room(struct importer *im, int dfd, const char *last, const char *path,
                     bool want_dir)
{
	struct stat st;
	if (fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		_cleanup_free_ char *q = str_escape(path);
		return sbx_error_set(im->err, errno, "cannot stat \"%s\"", q);
	}
	if (S_ISDIR(st.st_mode)) {
		if (want_dir)
			return 1;
		/* dfd is the deepest directory walked to: none lives below. */
		if (rm_rf_at(dfd, last, im->err) < 0)
			return -1;
		return 2;
	}
	if (unlinkat(dfd, last, 0) < 0) {
		_cleanup_free_ char *q = str_escape(path);
		return sbx_error_set(im->err, errno, "cannot replace \"%s\"", q);
	}
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec times[2])
{
	if (archive_entry_mtime_is_set(e)) {
		times[1].tv_sec = archive_entry_mtime(e);
		times[1].tv_nsec = archive_entry_mtime_nsec(e);
	} else {
		times[1].tv_sec = 0;
		times[1].tv_nsec = UTIME_OMIT;
	}
	if (archive_entry_atime_is_set(e)) {
		times[0].tv_sec = archive_entry_atime(e);
		times[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		times[0] = times[1];
	}
}

static void add_fixup(struct importer *im, const char *path, mode_t mode,
                      const struct timespec times[2])
{
	im->fixups = xrealloc(im->fixups, (im->n_fixups + 1) * sizeof(*im->fixups));
	im->fixups[im->n_fixups] =
	    (struct fixup){xstrdup(path), im->n_fixups, mode, {times[0], times[1]}};
	im->n_fixups++;
}

static int cmp_fixup(const void *a, const void *b)
{
	const struct fixup *x = a, *y = b;
	int c = strcmp(y->path, x->path); /* descending: children first */
	if (c)
		return c;
	return x->order < y->order ? -1 : 1;
}

static int apply_fixups(struct importer *im)
{
	if (im->n_fixups > 1)
		qsort(im->fixups, im->n_fixups, sizeof(*im->fixups), cmp_fixup);
	for (size_t i = 0; i < im->n_fixups; i++) {
		const struct fixup *f = &im->fixups[i];
		_cleanup_close_ int fd = -1;
		if (f->path[0] == '\0') {
			fd = fcntl(im->rootfd, F_DUPFD_CLOEXEC, 3);
		} else {
			int dfd;
			const char *last;
			int r = walk_parent(im, f->path, f->path, WALK_QUIET, &dfd, &last);
			if (r == -1)
				return -1;
			if (r == 0)
				fd = openat(dfd, last,
				            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			continue; /* replaced by a later entry */
		if (fchmod(fd, f->mode) < 0 || futimens(fd, f->times) < 0) {
			_cleanup_free_ char *q = str_escape(f->path);
			return sbx_error_set(im->err, errno, "cannot set the mode of \"%s\"", q);
		}
	}
	return 0;
}

static int extract_file(struct importer *im, struct archive *a, struct archive_entry *e, int dfd,
                        const char *last, const char *path, const struct timespec times[2])
{
	_cleanup_free_ char *q = str_escape(path);
	_cleanup_close_ int fd = -1;
	for (int tries = 0; fd < 0; tries++) {
		fd = openat(dfd, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries > 0)
			return sbx_error_set(im->err, errno, "cannot create \"%s\"", q);
		int r = make_room(im, dfd, last, path, false);
		if (r < 0)
			return -1;
		if (r == 2 && walk_parent(im, path, path, WALK_CREATE, &dfd, &last) < 0)
			return -1;
	}
	/* IMPORT_ENTRY_COST paid for the first bytes; the rest as the file grows,
	 * holes included, before anything is written. */
	uint64_t paid = IMPORT_ENTRY_COST;
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return sbx_error_set(im->err, 0, "cannot read \"%s\": %s", q,
			                     archive_error_string(a));
		uint64_t end = (uint64_t)off + len;
		if (end > paid) {
			if (import_charge(im, end - paid) < 0)
				return -1;
			paid = end;
		}
		const char *p = buf;
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, (off_t)off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return sbx_error_set(im->err, errno, "cannot write \"%s\"", q);
			p += n;
			len -= (size_t)n;
			off += n;
		}
		import_progress(im->progress, (uint64_t)archive_filter_bytes(a, -1), im->total);
	}
	if (archive_entry_size_is_set(e)) {
		la_int64_t size = archive_entry_size(e);
		if (size > 0 && (uint64_t)size > paid &&
		    import_charge(im, (uint64_t)size - paid) < 0)
			return -1;
		/* Sparse files may end in a hole. */
		if (size > 0 && ftruncate(fd, (off_t)size) < 0)
			return sbx_error_set(im->err, errno, "cannot write \"%s\"", q);
		im->size += (uint64_t)(size > 0 ? size : 0);
	}
	if (fchmod(fd, import_safe_mode(archive_entry_perm(e))) < 0 || futimens(fd, times) < 0)
		return sbx_error_set(im->err, errno, "cannot set the mode of \"%s\"", q);
	return 0;
}

static int extract_hardlink(struct importer *im, const char *raw_target, const char *path)
{
	_cleanup_free_ char *target = NULL, *q = str_escape(path), *qt = str_escape(raw_target);
	if (normalize(raw_target, &target) < 0 || target[0] == '\0')
		return sbx_error_set(im->err, 0,
		                     "entry \"%s\" is a hard link to \"%s\", outside the image "
		                     "root",
		                     q, qt);
	if (strcmp(target, path) == 0)
		return 0;
	int tdfd, dfd;
	const char *tlast, *last;
	int r = walk_parent(im, path, target, WALK_EXISTING, &tdfd, &tlast);
	if (r == -2)
		return sbx_error_set(im->err, 0,
		                     "entry \"%s\" is a hard link to \"%s\", which is not earlier "
		                     "in the archive",
		                     q, qt);
	if (r < 0)
		return -1;
	_cleanup_close_ int tfd = fcntl(tdfd, F_DUPFD_CLOEXEC, 3);
	if (tfd < 0)
		return sbx_error_set(im->err, errno, "cannot link \"%s\"", q);
	struct stat st;
	if (fstatat(tfd, tlast, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sbx_error_set(im->err, 0,
		                     "entry \"%s\" is a hard link to \"%s\", which is not earlier "
		                     "in the archive",
		                     q, qt);
	if (S_ISDIR(st.st_mode))
		return sbx_error_set(im->err, 0,
		                     "entry \"%s\" is a hard link to the directory \"%s\"", q, qt);
	if (walk_parent(im, path, path, WALK_CREATE, &dfd, &last) < 0)
		return -1;
	r = make_room(im, dfd, last, path, false);
	if (r < 0)
		return -1;
	if (r == 2 && walk_parent(im, path, path, WALK_CREATE, &dfd, &last) < 0)
		return -1;
	if (linkat(tfd, tlast, dfd, last, 0) < 0)
		return sbx_error_set(im->err, errno, "cannot link \"%s\" to \"%s\"", q, qt);
	return 0;
}

static int extract_entry(struct importer *im, struct archive *a, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	if (raw == NULL)
		return sbx_error_set(im->err, 0, "an entry has no name");
	_cleanup_free_ char *path = NULL, *q = str_escape(raw);
	if (normalize(raw, &path) < 0)
		return sbx_error_set(im->err, 0, "entry \"%s\" escapes the image root", q);
	if (import_charge(im, IMPORT_ENTRY_COST) < 0)
		return -1;
	struct timespec times[2];
	entry_times(e, times);
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);

	if (path[0] == '\0') {
		if (hardlink || type != AE_IFDIR)
			return sbx_error_set(im->err, 0, "entry \"%s\" is not a directory", q);
		add_fixup(im, "", import_safe_mode(archive_entry_perm(e)), times);
		return 0;
	}
	if (im->entry) {
		int h = im->entry(im->entry_ctx, im->rootfd, path, im->err);
		if (h < 0)
			return -1;
		if (h > 0) {
			/* It may have removed the cached parent directory. */
			cache_drop(im);
			return 0;
		}
	}
	if (hardlink)
		return extract_hardlink(im, hardlink, path);
	if (type == AE_IFCHR || type == AE_IFBLK) {
		import_skip_device(im, path);
		return 0;
	}
	int dfd;
	const char *last;
	if (walk_parent(im, path, path, WALK_CREATE, &dfd, &last) < 0)
		return -1;
	_cleanup_free_ char *qp = str_escape(path);
	int r;
	switch (type) {
	case AE_IFREG:
		return extract_file(im, a, e, dfd, last, path, times);
	case AE_IFDIR:
		if (count_levels(path, strlen(path)) > IMPORT_MAX_DEPTH)
			return sbx_error_set(
			    im->err, 0, "entry \"%s\" is nested too deeply (more than %d levels)",
			    qp, IMPORT_MAX_DEPTH);
		r = make_room(im, dfd, last, path, true);
		if (r < 0)
			return -1;
		if (r == 2 && walk_parent(im, path, path, WALK_CREATE, &dfd, &last) < 0)
			return -1;
		if (r != 1 && mkdirat(dfd, last, 0700) < 0)
			return sbx_error_set(im->err, errno, "cannot create directory \"%s\"", qp);
		add_fixup(im, path, import_safe_mode(archive_entry_perm(e)), times);
		return 0;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (target == NULL || target[0] == '\0')
			return sbx_error_set(im->err, 0, "entry \"%s\" is an empty symbolic link",
			                     qp);
		r = make_room(im, dfd, last, path, false);
		if (r < 0)
			return -1;
		if (r == 2 && walk_parent(im, path, path, WALK_CREATE, &dfd, &last) < 0)
			return -1;
		/* Stored as is: the sandbox resolves it inside the image. */
		if (symlinkat(target, dfd, last) < 0)
			return sbx_error_set(im->err, errno, "cannot create symbolic link \"%s\"",
			                     qp);
		(void)utimensat(dfd, last, times, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFIFO:
		r = make_room(im, dfd, last, path, false);
		if (r < 0)
			return -1;
		if (r == 2 && walk_parent(im, path, path, WALK_CREATE, &dfd, &last) < 0)
			return -1;
		if (mkfifoat(dfd, last, 0600) < 0 ||
		    fchmodat(dfd, last, import_safe_mode(archive_entry_perm(e)), 0) < 0)
			return sbx_error_set(im->err, errno, "cannot create fifo \"%s\"", qp);
		(void)utimensat(dfd, last, times, AT_SYMLINK_NOFOLLOW);
		return 0;
	default:
		import_notify(im->progress, true, "skipping \"%s\", a %s", qp,
		              type == AE_IFSOCK ? "socket" : "special file");
		return 0;
	}
}

int extract_archive(struct importer *im, int fd)
{
	if (archive_load(im->err) < 0)
		return -1;
	_cleanup_archive_ struct archive *a = archive_read_new();
	if (a == NULL)
		abort();
	/* Which formats and filters are read is the helper's choice
	 * (sandbox/libexec/sbx-unpack.c): tar only, common compressions only. */
	if (archive_read_open_fd(a, fd, 64 << 10) != ARCHIVE_OK)
		return sbx_error_set(im->err, 0, "not a tar archive: %s", archive_error_string(a));
	size_t entries = 0;
	int ret = 0;
	for (;;) {
		struct archive_entry *e;
		/* ARCHIVE_WARN is e.g. a name not in the locale's charset: the
		 * raw bytes are kept, as Linux file names are bytes. */
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = sbx_error_set(
			    im->err, 0, "%s%s",
			    entries ? "" : "not a tar archive: ", archive_error_string(a));
			break;
		}
		entries++;
		if (extract_entry(im, a, e) < 0) {
			ret = -1;
			break;
		}
		import_progress(im->progress, (uint64_t)archive_filter_bytes(a, -1), im->total);
	}
	if (ret == 0 && entries == 0 && !im->allow_empty)
		ret = sbx_error_set(im->err, 0, "the archive is empty");
	cache_drop(im);
	return ret;
}

int extract_finish(struct importer *im, int ret)
{
	if (ret == 0)
		ret = apply_fixups(im);
	cache_drop(im);
	for (size_t i = 0; i < im->n_fixups; i++)
		free(im->fixups[i].path);
	free(im->fixups);
	im->fixups = NULL;
	im->n_fixups = 0;
	return ret;
}
