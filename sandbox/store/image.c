/* image.c - the image store: names, metadata, open, list, remove, and
 * resolving what `sbx run` is given. Imports are import.c's, the busybox
 * bootstrap is bootstrap.c's, and the store's directory on disk is
 * staging.c's. */
#define _GNU_SOURCE
#include "store/image.h"
#include "store/image-lock.h"
#include "store/instance.h"
#include "store/reference.h"
#include "store/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#define METADATA_FILE "image.json"
#define METADATA_MAX  (1 << 20)

char *image_ref_name(const char *ref)
{
	size_t n = strlen(ref);
	size_t t = strlen(IMAGE_DEFAULT_TAG);
	if (n > t + 1 && ref[n - t - 1] == ':' && strcmp(ref + n - t, IMAGE_DEFAULT_TAG) == 0)
		return xstrndup(ref, n - t - 1);
	return xstrdup(ref);
}

int image_check_name(const char *name, struct sbx_error **err)
{
	const char *why = NULL;
	const char *colon = name ? strrchr(name, ':') : NULL;
	if (colon && colon != name) {
		_cleanup_free_ char *q = str_escape(name);
		_cleanup_free_ char *bare = xstrndup(name, (size_t)(colon - name));
		_cleanup_free_ char *base = str_escape(bare);
		return sbx_error_setc(err, EINVAL,
		                      "invalid image name \"%s\": sbx knows one tag per name, "
		                      "\"latest\" (\"%s:latest\" is \"%s\"); for another, "
		                      "put the tag in the name without ':'",
		                      q, base, base);
	}
	if (name_validate(name, &why) < 0) {
		_cleanup_free_ char *q = str_escape(name ? name : "");
		return sbx_error_setc(err, EINVAL, "invalid image name \"%s\": %s", q, why);
	}
	return 0;
}

int image_store_dir(char **out, struct sbx_error **err)
{
	_cleanup_free_ char *data = NULL;
	if (xdg_data_dir(&data, err) < 0)
		return -1;
	*out = xasprintf("%s/images", data);
	return 0;
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
	if (img->locked)
		close(img->lockfd);
	free(img);
}

int image_take_lock(struct sbx_image *img)
{
	if (!img->locked)
		return -1;
	img->locked = false;
	return steal_fd(img->lockfd);
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

int image_open(const char *ref, struct sbx_image **out, struct sbx_error **err)
{
	_cleanup_free_ char *name = image_ref_name(ref);
	if (image_check_name(name, err) < 0)
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

/* img takes the lock lockfd holds. */
static void keep_lock(struct sbx_image *img, int lockfd)
{
	img->lockfd = lockfd;
	img->locked = true;
}

int image_open_shared(const char *ref, struct sbx_image **out, struct sbx_error **err)
{
	_cleanup_close_ int lock = image_lock_store(false, true, err);
	if (lock < 0 || image_open(ref, out, err) < 0)
		return -1;
	keep_lock(*out, steal_fd(lock));
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
	int fd = staging_store_open(false, &store, err);
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

/* An instance's overlay has the image as its lower layer: removing the
 * image would leave the instance unable to start. The first user, or NULL. */
static char *image_user(const char *image)
{
	_cleanup_strv_ char **names = NULL;
	struct sbx_error *e = NULL;
	if (instance_list(&names, &e) < 0) {
		sbx_error_free(e);
		return NULL;
	}
	for (size_t i = 0; names[i]; i++) {
		_cleanup_instance_ struct sbx_instance *inst = NULL;
		json_t *meta = NULL;
		if (instance_open(names[i], &inst, &e) < 0 ||
		    instance_read_meta(inst, &meta, &e) < 0) {
			sbx_error_free(e);
			e = NULL;
			continue;
		}
		const char *img = json_string_value(json_object_get(meta, "image"));
		bool match = img && strcmp(img, image) == 0;
		json_decref(meta);
		if (match)
			return xstrdup(names[i]);
	}
	return NULL;
}

int image_remove(const char *ref, struct sbx_error **err)
{
	_cleanup_free_ char *name = image_ref_name(ref);
	if (image_check_name(name, err) < 0)
		return -1;
	_cleanup_free_ char *store = NULL;
	_cleanup_close_ int storefd = staging_store_open(false, &store, err);
	if (storefd == -2)
		return sbx_error_setc(err, ENOENT, "image \"%s\" not found", name);
	if (storefd < 0)
		return -1;
	/* Held until the image is renamed away: an instance being made of it
	 * is recorded first, and then found below. */
	if (image_lock_fd(storefd, true, err) < 0)
		return sbx_error_prefix(err, "cannot remove image \"%s\"", name);
	_cleanup_free_ char *user = image_user(name);
	if (user)
		return sbx_error_setc(err, EBUSY,
		                      "image \"%s\" is the lower layer of instance \"%s\"; remove "
		                      "the instance first ('sbx rm %s') or keep the image",
		                      ref, user, user);
	struct stat st;
	if (fstatat(storefd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return sbx_error_setc(err, ENOENT, "image \"%s\" not found", name);
	/* Rename it away first, so nobody sees a half-removed image; the
	 * rename replaces the empty directory mkdtemp made. */
	_cleanup_free_ char *tmp = staging_mkdtemp(store, "rm", name, err);
	if (tmp == NULL)
		return -1;
	if (renameat(storefd, name, storefd, tmp) < 0) {
		int e = errno;
		unlinkat(storefd, tmp, AT_REMOVEDIR);
		if (e == ENOENT)
			return sbx_error_setc(err, ENOENT, "image \"%s\" not found", name);
		return sbx_error_set(err, e, "cannot remove image \"%s\"", name);
	}
	/* Out of sight now: removed without the lock. */
	(void)flock(storefd, LOCK_UN);
	staging_gc(storefd);
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

bool image_is_directory(const char *ref)
{
	if (ref[0] == '/' || str_startswith(ref, "./") || str_startswith(ref, "../") ||
	    strcmp(ref, ".") == 0 || strcmp(ref, "..") == 0)
		return true;
	struct stat st;
	return strchr(ref, '/') && stat(ref, &st) == 0;
}

static int resolve_directory(const char *image, struct sbx_image **out, struct sbx_error **err)
{
	_cleanup_free_ char *real = realpath(image, NULL);
	if (real == NULL)
		return sbx_error_set(err, errno, "cannot use \"%s\" as a root filesystem", image);
	struct stat st;
	if (stat(real, &st) < 0)
		return sbx_error_set(err, errno, "cannot use \"%s\" as a root filesystem", image);
	if (!S_ISDIR(st.st_mode))
		return sbx_error_set(err, ENOTDIR, "cannot use \"%s\" as a root filesystem", image);
	struct sbx_image *img = xcalloc(1, sizeof(*img));
	img->name = xstrdup(image);
	img->source = xstrdup(real);
	img->rootfs = steal_ptr(real);
	*out = img;
	return 0;
}

int image_find_source(const char *ref, struct sbx_image **out, struct sbx_error **err)
{
	_cleanup_free_ char *want = reference_normalize(ref);
	if (want == NULL)
		return sbx_error_setc(err, EINVAL, "\"%s\" is not an image reference", ref);
	struct sbx_image **imgs = NULL;
	size_t n = 0;
	if (image_list(&imgs, &n, err) < 0)
		return -1;
	int r = -1;
	for (size_t i = 0; i < n && r < 0; i++) {
		const char *src = imgs[i]->source;
		if (src == NULL || !str_startswith(src, "docker://") || imgs[i]->dir == NULL)
			continue;
		_cleanup_free_ char *have = reference_normalize(src);
		if (have && strcmp(have, want) == 0)
			r = image_open(imgs[i]->name, out, err);
	}
	image_list_free(imgs, n);
	if (r < 0 && (err == NULL || *err == NULL)) {
		_cleanup_free_ char *q = str_escape(ref);
		/* Another tag or a digest is pulled under a name of its own. */
		const char *base = strrchr(want, '/') + 1; /* the normal form has a host */
		const char *at = strchr(base, '@'), *tag = strchr(base, ':');
		if (at == NULL && strcmp(tag, ":" IMAGE_DEFAULT_TAG) == 0)
			return sbx_error_setc(err, ENOENT,
			                      "no image pulled from \"%s\" (%s); pull it with 'sbx "
			                      "pull %s' or run with --pull missing",
			                      q, want, q);
		if (at)
			return sbx_error_setc(
			    err, ENOENT,
			    "no image pulled from \"%s\" (%s); sbx keeps one image "
			    "per name: pull it with 'sbx pull --name NAME %s', then "
			    "run it by either name",
			    q, want, q);
		_cleanup_free_ char *name = xasprintf("%.*s-%s", (int)(tag - base), base, tag + 1);
		_cleanup_free_ char *qn = str_escape(name);
		return sbx_error_setc(err, ENOENT,
		                      "no image pulled from \"%s\" (%s); pull it with 'sbx pull "
		                      "%s' (stored as %s, sbx keeps one tag per name) or run with "
		                      "--pull missing",
		                      q, want, q, qn);
	}
	return r;
}

/* image_resolve's, for a stored image, with the store's lock held shared;
 * *bootstrap asks the caller to bootstrap busybox, without it. */
static int resolve_stored(const char *ref, bool auto_bootstrap,
                          const struct sbx_image_progress *progress, bool *bootstrap,
                          struct sbx_image **out, struct sbx_error **err)
{
	_cleanup_free_ char *normal = reference_normalize(ref);
	if (strchr(ref, '/')) {
		/* A registry reference, or a directory that is not there. */
		if (normal == NULL)
			return resolve_directory(ref, out, err);
		return image_find_source(ref, out, err);
	}
	/* A local image's name first, then what was pulled under it. */
	_cleanup_free_ char *image = image_ref_name(ref);
	_cleanup_error_ struct sbx_error *e = NULL;
	if (image_open(image, out, &e) == 0)
		return 0;
	if (e->code != ENOENT && e->code != EINVAL)
		return pass_error(err, &e);
	if (normal) {
		_cleanup_error_ struct sbx_error *fe = NULL;
		if (image_find_source(ref, out, &fe) == 0)
			return 0;
		if (fe->code != ENOENT)
			return pass_error(err, &fe);
		/* NAME:TAG: the pulled image is all it can be. */
		if (e->code == EINVAL)
			return pass_error(err, &fe);
	}
	if (!auto_bootstrap || e->code != ENOENT || strcmp(image, "busybox") != 0) {
		if (normal == NULL || e->code != ENOENT)
			return pass_error(err, &e);
		_cleanup_free_ char *q = str_escape(ref);
		return sbx_error_setc(err, ENOENT,
		                      "image \"%s\" not found; pull it with 'sbx pull %s' (%s) or "
		                      "run with --pull missing, or import one with 'sbx image "
		                      "import %s SOURCE'",
		                      image, q, normal, image);
	}
	*bootstrap = true;
	return 0;
}

int image_resolve(const char *ref, bool auto_bootstrap, const struct sbx_image_progress *progress,
                  struct sbx_image **out, struct sbx_error **err)
{
	if (image_is_directory(ref))
		return resolve_directory(ref, out, err);
	_cleanup_close_ int lock = image_lock_store(false, true, err);
	if (lock < 0)
		return -1;
	bool bootstrap = false;
	if (resolve_stored(ref, auto_bootstrap, progress, &bootstrap, out, err) < 0)
		return -1;
	if (!bootstrap) {
		/* A directory (a reference that is none) is no stored image. */
		if ((*out)->dir)
			keep_lock(*out, steal_fd(lock));
		return 0;
	}
	/* The bootstrap's commit takes the lock exclusively. */
	close(steal_fd(lock));
	if (progress && progress->info)
		progress->info(progress->ctx, "image \"busybox\" not found; creating it from the "
		                              "host's busybox (see 'sbx image bootstrap --help')");
	_cleanup_error_ struct sbx_error *be = NULL;
	/* Another sbx may be bootstrapping it at the same time: fine. */
	if (image_bootstrap_busybox("busybox", NULL, progress, &be) < 0 && be->code != EEXIST)
		return pass_error(err, &be);
	return image_open_shared("busybox", out, err);
}
