/* image.c - the image store: import from a directory or an archive,
 * bootstrap from the host's static busybox, list, open and remove.
 *
 * Everything inside a source tree or an archive is hostile: names may hold
 * "..", escape sequences or absolute paths, symlinks may point anywhere and
 * later entries may try to write through earlier ones. So the image is built
 * only with *at() calls relative to directory fds we created ourselves, with
 * O_NOFOLLOW on every component, and nothing is ever written through a
 * symlink. Ownership, xattrs, setuid/setgid bits and device nodes are
 * dropped: rootless, they are meaningless or dangerous. */
#define _GNU_SOURCE
#include "store/image.h"
#include "store/sbx-archive.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <search.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#define METADATA_FILE "image.json"
#define METADATA_MAX  (1 << 20)
/* Left-over staging directories older than this are garbage. */
#define STALE_SECONDS 60
#define MAX_DEPTH     512 /* directory nesting, in an archive or a copied tree */
#define MAX_WARNINGS  10
/* What an import is charged for an entry besides its data: about a block
 * and an inode, so a bomb of empty entries is capped too. */
#define ENTRY_COST (4 << 10)
/* Free space is looked at after every this many bytes charged. */
#define SPACE_CHECK_EVERY (16 << 20)
/* An import stops before the file system has less than this left free (or
 * a twentieth of the file system, when that is less). */
#define SPACE_RESERVE (256ULL << 20)
/* Directory fds a walk keeps open, at most (and a quarter of the limit). */
#define WALK_FDS_MAX 256

static const char *const busybox_paths[] = {"/bin/busybox", "/usr/bin/busybox"};

static inline void archive_readp(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_readp)

static void notify(const struct sbx_image_progress *p, bool warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void notify(const struct sbx_image_progress *p, bool warning, const char *fmt, ...)
{
	void (*fn)(void *, const char *) = p ? (warning ? p->warn : p->info) : NULL;
	if (fn == NULL)
		return;
	char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	fn(p->ctx, msg);
	free(msg);
}

static void report_progress(const struct sbx_image_progress *p, uint64_t bytes, uint64_t total)
{
	if (p && p->progress)
		p->progress(p->ctx, bytes, total);
}

static int check_name(const char *name, struct sbx_error **err)
{
	const char *why = NULL;
	if (name_validate(name, &why) < 0) {
		_cleanup_free_ char *q = str_escape(name ? name : "");
		return sbx_error_setc(err, EINVAL, "invalid image name \"%s\": %s", q, why);
	}
	return 0;
}

static char *now_rfc3339(void)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

int image_store_dir(char **out, struct sbx_error **err)
{
	_cleanup_free_ char *data = NULL;
	if (xdg_data_dir(&data, err) < 0)
		return -1;
	*out = xasprintf("%s/images", data);
	return 0;
}

/* Opens the store, creating it (0700: images may hold private files). */
static int store_open(bool create, char **path, struct sbx_error **err)
{
	_cleanup_free_ char *dir = NULL;
	if (image_store_dir(&dir, err) < 0)
		return -1;
	if (create && mkdir_p(dir, 0700, err) < 0)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return -2;
		return sbx_error_set(err, errno, "cannot open the image store \"%s\"", dir);
	}
	if (path)
		*path = steal_ptr(dir);
	return fd;
}

void image_free(struct sbx_image *img)
{
	if (img == NULL)
		return;
	free(img->name);
	free(img->dir);
	free(img->rootfs);
	free(img->source);
	free(img->created);
	strv_free(img->cmd);
	strv_free(img->env);
	free(img->workdir);
	free(img->user);
	free(img);
}

void image_list_free(struct sbx_image **imgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_free(imgs[i]);
	free(imgs);
}

/* ---- metadata ---- */

static json_t *strv_to_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int image_metadata_write(int dirfd, const struct sbx_image *img, struct sbx_error **err)
{
	_cleanup_json_ json_t *o = json_object();
	if (img->name)
		json_object_set_new(o, "name", json_string(img->name));
	if (img->source)
		json_object_set_new(o, "source", json_string(img->source));
	if (img->created)
		json_object_set_new(o, "created", json_string(img->created));
	json_object_set_new(o, "size", json_integer((json_int_t)img->size));
	if (img->cmd)
		json_object_set_new(o, "cmd", strv_to_json(img->cmd));
	if (img->env)
		json_object_set_new(o, "env", strv_to_json(img->env));
	if (img->workdir)
		json_object_set_new(o, "workdir", json_string(img->workdir));
	if (img->user)
		json_object_set_new(o, "user", json_string(img->user));
	_cleanup_free_ char *s = json_dumps(o, JSON_INDENT(2));
	if (s == NULL)
		return sbx_error_set(err, 0, "cannot encode the image metadata (invalid UTF-8?)");
	_cleanup_free_ char *data = xasprintf("%s\n", s);
	return write_file_atomic(dirfd, METADATA_FILE, data, strlen(data), 0644, err);
}

int image_json_string(json_t *o, const char *key, char **out, const char *where,
                      struct sbx_error **err)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return sbx_error_set(err, 0, "%s: \"%s\" must be a string", where, key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

int image_json_strv(json_t *o, const char *key, char ***out, const char *where,
                    struct sbx_error **err)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return sbx_error_set(err, 0, "%s: \"%s\" must be an array of strings", where, key);
	char **strv = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			strv_free(strv);
			return sbx_error_set(err, 0, "%s: \"%s\" must be an array of strings",
			                     where, key);
		}
		strv_push(&strv, json_string_value(e));
	}
	*out = strv;
	return 0;
}

int image_metadata_read(const char *path, struct sbx_image **out, struct sbx_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	if (read_file(path, METADATA_MAX, &buf, &len, err) < 0)
		return -1;
	json_error_t jerr;
	_cleanup_json_ json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return sbx_error_set(err, 0, "\"%s\": invalid JSON at line %d: %s", path, jerr.line,
		                     jerr.text);
	if (!json_is_object(o))
		return sbx_error_set(err, 0, "\"%s\": not a JSON object", path);
	_cleanup_image_ struct sbx_image *img = xcalloc(1, sizeof(*img));
	_cleanup_free_ char *where = xasprintf("\"%s\"", path);
	if (image_json_string(o, "name", &img->name, where, err) < 0 ||
	    image_json_string(o, "source", &img->source, where, err) < 0 ||
	    image_json_string(o, "created", &img->created, where, err) < 0 ||
	    image_json_strv(o, "cmd", &img->cmd, where, err) < 0 ||
	    image_json_strv(o, "env", &img->env, where, err) < 0 ||
	    image_json_string(o, "workdir", &img->workdir, where, err) < 0 ||
	    image_json_string(o, "user", &img->user, where, err) < 0)
		return -1;
	json_t *size = json_object_get(o, "size");
	if (size && !json_is_null(size)) {
		if (!json_is_integer(size) || json_integer_value(size) < 0)
			return sbx_error_set(
			    err, 0, "\"%s\": \"size\" must be a non-negative integer", path);
		img->size = (uint64_t)json_integer_value(size);
	}
	*out = steal_ptr(img);
	return 0;
}

/* ---- open, list, remove, resolve ---- */

static int not_found(struct sbx_error **err, const char *name)
{
	return sbx_error_setc(
	    err, ENOENT,
	    "image \"%s\" not found; import one with 'sbx image import %s SOURCE' "
	    "or see 'sbx image ls'",
	    name, name);
}

int image_open(const char *name, struct sbx_image **out, struct sbx_error **err)
{
	if (check_name(name, err) < 0)
		return -1;
	_cleanup_free_ char *store = NULL;
	if (image_store_dir(&store, err) < 0)
		return -1;
	_cleanup_free_ char *dir = xasprintf("%s/%s", store, name);
	struct stat st;
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT)
			return not_found(err, name);
		return sbx_error_set(err, errno, "cannot open image \"%s\"", dir);
	}
	if (!S_ISDIR(st.st_mode))
		return not_found(err, name);
	_cleanup_free_ char *meta = xasprintf("%s/%s", dir, METADATA_FILE);
	_cleanup_image_ struct sbx_image *img = NULL;
	if (image_metadata_read(meta, &img, err) < 0)
		return sbx_error_prefix(
		    err, "image \"%s\" is damaged (remove it with 'sbx image rm %s')", name, name);
	free(img->name);
	img->name = xstrdup(name);
	img->dir = steal_ptr(dir);
	img->rootfs = xasprintf("%s/rootfs", img->dir);
	if (lstat(img->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return sbx_error_set(
		    err, 0,
		    "image \"%s\" is damaged: \"%s\" is not a directory; remove it "
		    "with 'sbx image rm %s'",
		    name, img->rootfs, name);
	*out = steal_ptr(img);
	return 0;
}

static int cmp_images(const void *a, const void *b)
{
	const struct sbx_image *x = *(struct sbx_image *const *)a;
	const struct sbx_image *y = *(struct sbx_image *const *)b;
	return strcmp(x->name, y->name);
}

int image_list(struct sbx_image ***out, size_t *n, struct sbx_error **err)
{
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *store = NULL;
	int fd = store_open(false, &store, err);
	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return sbx_error_set(err, errno, "cannot read \"%s\"", store);
	}
	struct sbx_image **imgs = NULL;
	size_t count = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		const char *why;
		struct stat st;
		/* Dot names are staging and removal directories. */
		if (name_validate(de->d_name, &why) < 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			errno = 0;
			continue;
		}
		struct sbx_image *img = NULL;
		_cleanup_error_ struct sbx_error *e = NULL;
		if (image_open(de->d_name, &img, &e) < 0) {
			img = xcalloc(1, sizeof(*img));
			img->name = xstrdup(de->d_name);
			img->dir = xasprintf("%s/%s", store, de->d_name);
			img->rootfs = xasprintf("%s/rootfs", img->dir);
		}
		imgs = xrealloc(imgs, (count + 1) * sizeof(*imgs));
		imgs[count++] = img;
		errno = 0;
	}
	if (errno != 0) {
		int e = errno;
		image_list_free(imgs, count);
		return sbx_error_set(err, e, "cannot read \"%s\"", store);
	}
	if (count > 1)
		qsort(imgs, count, sizeof(*imgs), cmp_images);
	*out = imgs;
	*n = count;
	return 0;
}

/* Creates images/.PREFIX-NAME-XXXXXX; returns its name. */
static char *make_temp_dir(const char *store, const char *prefix, const char *name,
                           struct sbx_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/.%s-%s-XXXXXX", store, prefix, name);
	if (mkdtemp(path) == NULL) {
		sbx_error_set(err, errno, "cannot create a directory in \"%s\"", store);
		return NULL;
	}
	return xstrdup(strrchr(path, '/') + 1);
}

/* Removes staging directories a killed import or rm left behind. Holding
 * the flock marks one in use; the age check covers the moment between
 * mkdtemp and flock. */
static void store_gc(int storefd)
{
	int fd = openat(storefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!str_startswith(de->d_name, ".tmp-") && !str_startswith(de->d_name, ".rm-"))
			continue;
		_cleanup_close_ int t =
		    openat(storefd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (t < 0 || fstat(t, &st) < 0)
			continue;
		time_t changed = st.st_mtime > st.st_ctime ? st.st_mtime : st.st_ctime;
		if (now - changed < STALE_SECONDS || flock(t, LOCK_EX | LOCK_NB) < 0)
			continue;
		rm_rf_at(storefd, de->d_name, NULL);
	}
}

int image_remove(const char *name, struct sbx_error **err)
{
	if (check_name(name, err) < 0)
		return -1;
	_cleanup_free_ char *store = NULL;
	_cleanup_close_ int storefd = store_open(false, &store, err);
	if (storefd == -2)
		return sbx_error_setc(err, ENOENT, "image \"%s\" not found", name);
	if (storefd < 0)
		return -1;
	struct stat st;
	if (fstatat(storefd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return sbx_error_setc(err, ENOENT, "image \"%s\" not found", name);
	store_gc(storefd);
	/* Rename it away first, so nobody sees a half-removed image; the
	 * rename replaces the empty directory mkdtemp made. */
	_cleanup_free_ char *tmp = make_temp_dir(store, "rm", name, err);
	if (tmp == NULL)
		return -1;
	if (renameat(storefd, name, storefd, tmp) < 0) {
		int e = errno;
		unlinkat(storefd, tmp, AT_REMOVEDIR);
		if (e == ENOENT)
			return sbx_error_setc(err, ENOENT, "image \"%s\" not found", name);
		return sbx_error_set(err, e, "cannot remove image \"%s\"", name);
	}
	_cleanup_close_ int t =
	    openat(storefd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t >= 0)
		(void)flock(t, LOCK_EX | LOCK_NB);
	if (rm_rf_at(storefd, tmp, err) < 0)
		return sbx_error_prefix(err, "cannot remove image \"%s\" (now \"%s/%s\")", name,
		                        store, tmp);
	return 0;
}

/* Hands a held error to the caller. */
static int pass_error(struct sbx_error **err, struct sbx_error **held)
{
	if (err && *err == NULL)
		*err = steal_ptr(*held);
	return -1;
}

int image_resolve(const char *image, bool auto_bootstrap, const struct sbx_image_progress *progress,
                  struct sbx_image **out, struct sbx_error **err)
{
	if (strchr(image, '/')) {
		_cleanup_free_ char *real = realpath(image, NULL);
		if (real == NULL)
			return sbx_error_set(err, errno, "cannot use \"%s\" as a root filesystem",
			                     image);
		struct stat st;
		if (stat(real, &st) < 0)
			return sbx_error_set(err, errno, "cannot use \"%s\" as a root filesystem",
			                     image);
		if (!S_ISDIR(st.st_mode))
			return sbx_error_set(err, ENOTDIR, "cannot use \"%s\" as a root filesystem",
			                     image);
		struct sbx_image *img = xcalloc(1, sizeof(*img));
		img->name = xstrdup(image);
		img->source = xstrdup(real);
		img->rootfs = steal_ptr(real);
		*out = img;
		return 0;
	}
	_cleanup_error_ struct sbx_error *e = NULL;
	if (image_open(image, out, &e) == 0)
		return 0;
	if (!auto_bootstrap || e->code != ENOENT || strcmp(image, "busybox") != 0)
		return pass_error(err, &e);
	notify(progress, false,
	       "image \"busybox\" not found; creating it from the host's busybox (see 'sbx image "
	       "bootstrap --help')");
	_cleanup_error_ struct sbx_error *be = NULL;
	/* Another sbx may be bootstrapping it at the same time: fine. */
	if (image_bootstrap_busybox("busybox", NULL, progress, &be) < 0 && be->code != EEXIST)
		return pass_error(err, &be);
	return image_open(image, out, err);
}

/* ---- staging: build in images/.tmp-NAME-XXXXXX, then rename ---- */

struct staging {
	char *store;
	int storefd;
	char *tmp; /* set until committed */
	int tmpfd;
	int rootfd;
};

static void staging_end(struct staging *s)
{
	if (s->tmp && s->storefd >= 0)
		rm_rf_at(s->storefd, s->tmp, NULL);
	if (s->rootfd >= 0)
		close(s->rootfd);
	if (s->tmpfd >= 0)
		close(s->tmpfd);
	if (s->storefd >= 0)
		close(s->storefd);
	free(s->tmp);
	free(s->store);
	*s = (struct staging){.storefd = -1, .tmpfd = -1, .rootfd = -1};
}

static int exists_error(struct sbx_error **err, const char *name)
{
	return sbx_error_setc(err, EEXIST,
	                      "image \"%s\" already exists; remove it first with 'sbx image rm %s'",
	                      name, name);
}

static int staging_begin(struct staging *s, const char *name, struct sbx_error **err)
{
	*s = (struct staging){.storefd = -1, .tmpfd = -1, .rootfd = -1};
	s->storefd = store_open(true, &s->store, err);
	if (s->storefd < 0)
		return -1;
	store_gc(s->storefd);
	/* Fail early rather than after a long import; the rename decides. */
	struct stat st;
	if (fstatat(s->storefd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return exists_error(err, name);
	s->tmp = make_temp_dir(s->store, "tmp", name, err);
	if (s->tmp == NULL)
		return -1;
	s->tmpfd = openat(s->storefd, s->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->tmpfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s/%s\"", s->store, s->tmp);
	if (flock(s->tmpfd, LOCK_EX) < 0)
		return sbx_error_set(err, errno, "cannot lock \"%s/%s\"", s->store, s->tmp);
	if (mkdirat(s->tmpfd, "rootfs", 0755) < 0 || fchmodat(s->tmpfd, "rootfs", 0755, 0) < 0)
		return sbx_error_set(err, errno, "cannot create \"%s/%s/rootfs\"", s->store,
		                     s->tmp);
	s->rootfd = openat(s->tmpfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->rootfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s/%s/rootfs\"", s->store, s->tmp);
	return 0;
}

static int staging_commit(struct staging *s, const char *name, const struct sbx_image *meta,
                          struct sbx_error **err)
{
	if (image_metadata_write(s->tmpfd, meta, err) < 0)
		return -1;
	int r = renameat2(s->storefd, s->tmp, s->storefd, name, RENAME_NOREPLACE);
	if (r < 0 && (errno == EINVAL || errno == ENOSYS))
		/* No RENAME_NOREPLACE here: a non-empty target still fails. */
		r = renameat(s->storefd, s->tmp, s->storefd, name);
	if (r < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			return exists_error(err, name);
		return sbx_error_set(err, errno, "cannot rename \"%s/%s\" to \"%s\"", s->store,
		                     s->tmp, name);
	}
	free(s->tmp);
	s->tmp = NULL;
	return 0;
}

/* ---- shared by directory copy and archive extraction ---- */

struct importer {
	const struct sbx_image_progress *progress;
	int rootfd;
	uint64_t size;  /* file content written */
	uint64_t total; /* source size for progress, 0 when unknown */
	size_t devices; /* device nodes skipped */
	dev_t tmp_dev;  /* the staging directory, never copied into itself */
	ino_t tmp_ino;
	void *links; /* directory copy: tsearch tree of struct link */
	/* archive: the directories down to the last parent walked to, as
	 * walk_path's components; fds on the deepest of them stay open. */
	char *walk_path;
	struct walk_level *levels;
	size_t n_levels, cap_levels;
	size_t fds_open, fd_budget;
	/* The size limit: bytes charged so far (file data and ENTRY_COST an
	 * entry), the limit, and when to look at the free space next. */
	uint64_t charged, max_size, next_space_check;
	struct fixup *fixups;
	size_t n_fixups;
	bool allow_empty; /* a layer may hold no entries */
	/* Layered imports: sees each entry first (struct sbx_image_layers). */
	int (*entry)(void *ctx, int rootfd, const char *path, struct sbx_error **err);
	void *entry_ctx;
	struct sbx_error **err;
};

/* A directory of the walk: walk_path[0..end) names it; fd is -1 once
 * closed to stay within the fd budget. */
struct walk_level {
	size_t end;
	int fd;
};

struct link {
	dev_t dev;
	ino_t ino;
	char *rel;
};

/* Directory modes and times are set last, deepest first, so a read-only
 * directory can still be filled and its mtime is not disturbed. */
struct fixup {
	char *path;
	size_t order;
	mode_t mode;
	struct timespec times[2];
};

static mode_t safe_mode(mode_t mode)
{
	return mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID);
}

static void skip_device(struct importer *im, const char *rel)
{
	im->devices++;
	if (im->devices <= MAX_WARNINGS) {
		_cleanup_free_ char *q = str_escape(rel);
		notify(im->progress, true, "skipping device node \"%s\"", q);
	}
}

static void finish_warnings(struct importer *im)
{
	if (im->devices > MAX_WARNINGS)
		notify(im->progress, true, "skipped %zu device nodes in all (%zu not listed)",
		       im->devices, im->devices - MAX_WARNINGS);
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

/* Counts bytes against the size limit, and looks at the free space now and
 * then. Fails with the error set once either runs out. */
static int charge(struct importer *im, uint64_t bytes)
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

/* Copies file data, in the kernel when it can, charging what goes beyond
 * the prepaid bytes to the import when there is one (the busybox bootstrap
 * has none). */
static int copy_data(int in, int out, struct importer *im, uint64_t prepaid)
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
			if (charge(im, copied - prepaid) < 0) {
				errno = EFBIG;
				return -1;
			}
			prepaid = copied;
		}
		if (counter) {
			*counter += (uint64_t)n;
			report_progress(p, *counter, total);
		}
	}
}

/* ---- directory copy ---- */

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
	if (charge(im, ENTRY_COST) < 0)
		return -1;

	if (S_ISDIR(mode)) {
		if (dev == im->tmp_dev && stx.stx_ino == im->tmp_ino)
			return 0; /* importing a tree that holds the image store */
		if (depth >= MAX_DEPTH)
			return sbx_error_set(err, 0,
			                     "\"%s\" is nested too deeply (more than %d levels)", q,
			                     MAX_DEPTH);
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
			notify(im->progress, true, "skipping the contents of \"%s\", a mount point",
			       q);
		} else {
			_cleanup_close_ int s =
			    openat(srcfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0)
				return sbx_error_set(err, errno, "cannot open directory \"%s\"", q);
			if (copy_tree(im, s, d, rel, dev, depth + 1) < 0)
				return -1;
		}
		if (fchmod(d, safe_mode(mode)) < 0 || futimens(d, times) < 0)
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
		if (charge(im, stx.stx_size) < 0)
			return -1;
		if (copy_data(s, d, im, stx.stx_size) < 0)
			return sbx_error_set(err, errno, "cannot copy \"%s\"", q);
		if (fchmod(d, safe_mode(mode)) < 0 || futimens(d, times) < 0)
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
		    fchmodat(dstfd, name, safe_mode(mode), AT_SYMLINK_NOFOLLOW) < 0)
			return sbx_error_set(err, errno, "cannot create fifo \"%s\"", q);
		(void)utimensat(dstfd, name, times, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		skip_device(im, rel);
		return 0;
	}
	notify(im->progress, true, "skipping \"%s\", a %s", q,
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

static int import_dir(struct importer *im, int srcfd)
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
	if (fchmod(im->rootfd, safe_mode(st.st_mode)) < 0 || futimens(im->rootfd, times) < 0)
		return sbx_error_set(im->err, errno, "cannot set the mode of the image root");
	return 0;
}

/* ---- archive extraction ---- */

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
	if (count_levels(path, dlen) > MAX_DEPTH) {
		_cleanup_free_ char *qe = str_escape(entry);
		return sbx_error_set(im->err, 0,
		                     "entry \"%s\" is nested too deeply (more than %d levels)", qe,
		                     MAX_DEPTH);
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
	/* ENTRY_COST paid for the first bytes; the rest as the file grows,
	 * holes included, before anything is written. */
	uint64_t paid = ENTRY_COST;
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
			if (charge(im, end - paid) < 0)
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
		report_progress(im->progress, (uint64_t)archive_filter_bytes(a, -1), im->total);
	}
	if (archive_entry_size_is_set(e)) {
		la_int64_t size = archive_entry_size(e);
		if (size > 0 && (uint64_t)size > paid && charge(im, (uint64_t)size - paid) < 0)
			return -1;
		/* Sparse files may end in a hole. */
		if (size > 0 && ftruncate(fd, (off_t)size) < 0)
			return sbx_error_set(im->err, errno, "cannot write \"%s\"", q);
		im->size += (uint64_t)(size > 0 ? size : 0);
	}
	if (fchmod(fd, safe_mode(archive_entry_perm(e))) < 0 || futimens(fd, times) < 0)
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
	if (charge(im, ENTRY_COST) < 0)
		return -1;
	struct timespec times[2];
	entry_times(e, times);
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);

	if (path[0] == '\0') {
		if (hardlink || type != AE_IFDIR)
			return sbx_error_set(im->err, 0, "entry \"%s\" is not a directory", q);
		add_fixup(im, "", safe_mode(archive_entry_perm(e)), times);
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
		skip_device(im, path);
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
		if (count_levels(path, strlen(path)) > MAX_DEPTH)
			return sbx_error_set(
			    im->err, 0, "entry \"%s\" is nested too deeply (more than %d levels)",
			    qp, MAX_DEPTH);
		r = make_room(im, dfd, last, path, true);
		if (r < 0)
			return -1;
		if (r == 2 && walk_parent(im, path, path, WALK_CREATE, &dfd, &last) < 0)
			return -1;
		if (r != 1 && mkdirat(dfd, last, 0700) < 0)
			return sbx_error_set(im->err, errno, "cannot create directory \"%s\"", qp);
		add_fixup(im, path, safe_mode(archive_entry_perm(e)), times);
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
		    fchmodat(dfd, last, safe_mode(archive_entry_perm(e)), 0) < 0)
			return sbx_error_set(im->err, errno, "cannot create fifo \"%s\"", qp);
		(void)utimensat(dfd, last, times, AT_SYMLINK_NOFOLLOW);
		return 0;
	default:
		notify(im->progress, true, "skipping \"%s\", a %s", qp,
		       type == AE_IFSOCK ? "socket" : "special file");
		return 0;
	}
}

static int import_archive(struct importer *im, int fd)
{
	if (archive_load(im->err) < 0)
		return -1;
	_cleanup_archive_ struct archive *a = archive_read_new();
	if (a == NULL)
		abort();
	/* Which formats and filters are read is the helper's choice
	 * (helper-unpack.c): tar only, common compressions only. */
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
		report_progress(im->progress, (uint64_t)archive_filter_bytes(a, -1), im->total);
	}
	if (ret == 0 && entries == 0 && !im->allow_empty)
		ret = sbx_error_set(im->err, 0, "the archive is empty");
	cache_drop(im);
	return ret;
}

/* Directory modes last, after every archive (a layered import has many). */
static int import_finish(struct importer *im, int ret)
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
	int r = S_ISDIR(st->st_mode) ? import_dir(&im, src)
	                             : import_finish(&im, import_archive(&im, src));
	finish_warnings(&im);
	if (r < 0 && strcmp(source, "-") == 0)
		return sbx_error_prefix(err, "standard input");
	if (r < 0) {
		_cleanup_free_ char *q = str_escape(source);
		return sbx_error_prefix(err, "\"%s\"", q);
	}
	report_progress(progress, im.total ? im.total : im.size, im.total);
	_cleanup_free_ char *created = now_rfc3339();
	_cleanup_free_ char *real = strcmp(source, "-") ? realpath(source, NULL) : NULL;
	struct sbx_image meta = {
	    .name = (char *)name,
	    .source = real                  ? real
	              : strcmp(source, "-") ? (char *)source
	                                    : (char *)"(stdin)",
	    .created = created,
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

int image_import_with(const char *name, const char *source, const struct sbx_image *with,
                      const struct sbx_image_progress *progress, struct sbx_error **err)
{
	if (check_name(name, err) < 0)
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
		r = import_archive(&im, fd);
		close(fd);
		if (l->close && l->close(l->ctx, i, r < 0, err) < 0)
			r = -1;
		if (r == 0)
			report_progress(progress, size, size);
	}
	r = import_finish(&im, r);
	finish_warnings(&im);
	if (r < 0)
		return -1;
	_cleanup_free_ char *created = now_rfc3339();
	struct sbx_image meta = *with;
	meta.name = (char *)name;
	meta.created = created;
	meta.size = im.size;
	return staging_commit(s, name, &meta, err);
}

int image_import_layers(const char *name, const struct sbx_image_layers *layers,
                        const struct sbx_image *meta, const struct sbx_image_progress *progress,
                        struct sbx_error **err)
{
	if (check_name(name, err) < 0)
		return -1;
	struct staging s;
	int r = staging_begin(&s, name, err);
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
		r = import_dir(&im, src);
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

/* ---- busybox bootstrap ---- */

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static uint64_t get_uint(const unsigned char *p, size_t size, bool big)
{
	uint64_t v = 0;
	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
	return v;
}

int image_elf_is_static(int fd, const char *path, struct sbx_error **err)
{
	unsigned char h[64];
	memset(h, 0, sizeof(h));
	if (pread_full(fd, h, EI_NIDENT + 4, 0) < 0 || memcmp(h, ELFMAG, SELFMAG) != 0 ||
	    (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64) ||
	    (h[EI_DATA] != ELFDATA2LSB && h[EI_DATA] != ELFDATA2MSB))
		return sbx_error_set(err, 0, "\"%s\" is not an ELF executable", path);
	bool is64 = h[EI_CLASS] == ELFCLASS64, big = h[EI_DATA] == ELFDATA2MSB;
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	if (pread_full(fd, h, ehsize, 0) < 0)
		return sbx_error_set(err, 0, "\"%s\" is not an ELF executable", path);
	uint64_t type = get_uint(h + 16, 2, big);
	uint64_t phoff = is64 ? get_uint(h + 32, 8, big) : get_uint(h + 28, 4, big);
	uint64_t phentsize = get_uint(h + (is64 ? 54 : 42), 2, big);
	uint64_t phnum = get_uint(h + (is64 ? 56 : 44), 2, big);
	size_t min_phent = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if ((type != ET_EXEC && type != ET_DYN) || phnum == 0 || phnum >= PN_XNUM ||
	    phentsize < min_phent || phentsize > 1024 || phoff > (uint64_t)INT64_MAX / 2)
		return sbx_error_set(err, 0, "\"%s\" is not an ELF executable", path);
	for (uint64_t i = 0; i < phnum; i++) {
		unsigned char t[4];
		if (pread_full(fd, t, 4, (off_t)(phoff + i * phentsize)) < 0)
			return sbx_error_set(err, 0, "\"%s\" is a truncated ELF file", path);
		if (get_uint(t, 4, big) == PT_INTERP)
			return 0;
	}
	return 1;
}

/* Runs the verified binary itself (through its fd, so it is the file that
 * was checked) for its applet list. */
static int busybox_list(int bbfd, const char *path, char **out, struct sbx_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "cannot create a pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	char exe[64];
	snprintf(exe, sizeof(exe), "/proc/self/fd/%d", bbfd);
	char *argv[] = {(char *)"busybox", (char *)"--list-full", NULL};
	char *envp[] = {NULL};
	pid_t pid;
	int r = posix_spawn(&pid, exe, &fa, NULL, argv, envp);
	if (r == ENOENT) /* no /proc */
		r = posix_spawn(&pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		return sbx_error_set(err, r, "cannot run \"%s\"", path);
	}
	size_t cap = 16 << 10, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= (1 << 20))
				break;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(p[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sbx_error_set(err, errno, "cannot wait for \"%s\"", path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sbx_error_set(err, 0, "\"%s --list-full\" failed; is it busybox?", path);
	*out = steal_ptr(buf);
	return 0;
}

struct bb_dir {
	const char *path;
	mode_t mode;
	const char *link; /* applet link target from here, NULL: no applets */
};

static const struct bb_dir bb_dirs[] = {
    {"bin", 0755, "busybox"},
    {"sbin", 0755, "../bin/busybox"},
    {"usr", 0755, NULL},
    {"usr/bin", 0755, "../../bin/busybox"},
    {"usr/sbin", 0755, "../../bin/busybox"},
    {"etc", 0755, NULL},
    {"tmp", 01777, NULL},
    {"root", 0700, NULL},
    {"proc", 0555, NULL},
    {"sys", 0555, NULL},
    {"dev", 0755, NULL},
    {"home", 0755, NULL},
    {"var", 0755, NULL},
    {"var/tmp", 01777, NULL},
    {"run", 0755, NULL},
};

static const struct {
	const char *name, *content;
} bb_etc[] = {
    {"passwd", "root:x:0:0:root:/root:/bin/sh\n"
               "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
    {"group", "root:x:0:\nnogroup:x:65534:\n"},
    {"hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
    {"shells", "/bin/sh\n/bin/ash\n"},
    {"nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"},
};

static int write_new_file(int dirfd, const char *name, const char *data, mode_t mode,
                          struct sbx_error **err)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot create \"%s\"", name);
	int r = write_all(fd, data, strlen(data));
	if (r < 0)
		return sbx_error_set(err, -r, "cannot write \"%s\"", name);
	if (fchmod(fd, mode) < 0)
		return sbx_error_set(err, errno, "cannot chmod \"%s\"", name);
	return 0;
}

static int bootstrap_fill(int rootfd, int bbfd, const char *path, struct sbx_error **err)
{
	int dirfds[ARRAY_SIZE(bb_dirs)];
	char *list = NULL;
	int ret = -1;
	for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++)
		dirfds[i] = -1;
	for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++) {
		const struct bb_dir *d = &bb_dirs[i];
		/* Explicit chmod: the umask must not decide the image's modes. */
		if (mkdirat(rootfd, d->path, 0700) < 0 ||
		    fchmodat(rootfd, d->path, d->mode, 0) < 0) {
			sbx_error_set(err, errno, "cannot create \"%s\"", d->path);
			goto out;
		}
		if (d->link || strcmp(d->path, "etc") == 0) {
			dirfds[i] = openat(rootfd, d->path,
			                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (dirfds[i] < 0) {
				sbx_error_set(err, errno, "cannot open \"%s\"", d->path);
				goto out;
			}
		}
	}
	{
		_cleanup_close_ int out =
		    openat(dirfds[0], "busybox",
		           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755);
		if (out < 0 || lseek(bbfd, 0, SEEK_SET) < 0 || copy_data(bbfd, out, NULL, 0) < 0 ||
		    fchmod(out, 0755) < 0) {
			sbx_error_set(err, errno, "cannot copy \"%s\" into the image", path);
			goto out;
		}
	}
	if (busybox_list(bbfd, path, &list, err) < 0)
		goto out;
	for (char *line = list, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *slash = strrchr(line, '/');
		if (slash == NULL)
			continue;
		*slash = '\0';
		const char *applet = slash + 1;
		if (applet[0] == '\0' || strcmp(applet, ".") == 0 || strcmp(applet, "..") == 0)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++) {
			if (bb_dirs[i].link == NULL || strcmp(bb_dirs[i].path, line) != 0)
				continue;
			if (i == 0 && strcmp(applet, "busybox") == 0)
				break;
			if (symlinkat(bb_dirs[i].link, dirfds[i], applet) < 0 && errno != EEXIST) {
				sbx_error_set(err, errno, "cannot create \"%s/%s\"", line, applet);
				goto out;
			}
			break;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++) {
		if (strcmp(bb_dirs[i].path, "etc") != 0)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(bb_etc); k++)
			if (write_new_file(dirfds[i], bb_etc[k].name, bb_etc[k].content, 0644,
			                   err) < 0)
				goto out;
	}
	ret = 0;
out:
	free(list);
	for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++)
		if (dirfds[i] >= 0)
			close(dirfds[i]);
	return ret;
}

static int bootstrap_staged(struct staging *s, const char *name, int bbfd, const char *path,
                            uint64_t size, struct sbx_error **err)
{
	if (bootstrap_fill(s->rootfd, bbfd, path, err) < 0)
		return -1;
	_cleanup_free_ char *created = now_rfc3339();
	_cleanup_free_ char *source = xasprintf("bootstrap %s", path);
	char *cmd[] = {(char *)"/bin/sh", NULL};
	char *env[] = {(char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	               NULL};
	struct sbx_image meta = {
	    .name = (char *)name,
	    .source = source,
	    .created = created,
	    .size = size,
	    .cmd = cmd,
	    .env = env,
	};
	return staging_commit(s, name, &meta, err);
}

int image_bootstrap_busybox(const char *name, const char *busybox_path,
                            const struct sbx_image_progress *progress, struct sbx_error **err)
{
	if (check_name(name, err) < 0)
		return -1;
	_cleanup_close_ int bbfd = -1;
	const char *path = busybox_path;
	if (path) {
		bbfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (bbfd < 0)
			return sbx_error_set(err, errno, "cannot open \"%s\"", path);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(busybox_paths) && bbfd < 0; i++) {
			path = busybox_paths[i];
			bbfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		}
		if (bbfd < 0)
			return sbx_error_setc(err, ENOENT,
			                      "no busybox binary found; install it with 'apt-get "
			                      "install busybox-static' (as root)");
	}
	struct stat st;
	if (fstat(bbfd, &st) < 0)
		return sbx_error_set(err, errno, "cannot stat \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return sbx_error_set(err, 0, "\"%s\" is not a regular file", path);
	int r = image_elf_is_static(bbfd, path, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return sbx_error_set(err, 0,
		                     "\"%s\" is not statically linked; install Debian's "
		                     "busybox-static",
		                     path);

	struct staging s;
	int r2 = staging_begin(&s, name, err);
	if (r2 == 0)
		r2 = bootstrap_staged(&s, name, bbfd, path, (uint64_t)st.st_size, err);
	staging_end(&s);
	(void)progress;
	return r2;
}
