/* oci-layout.c - OCI image layouts imported as images.
 *
 * An OCI image layout (what `skopeo copy ... oci:DIR` and umoci write) is
 * DIR/oci-layout, DIR/index.json and content-addressed DIR/blobs/ALG/HEX.
 * The index names manifests (maybe through nested indexes, one per
 * platform); a manifest names a config and layers; layers are tarballs
 * applied in order, where ".wh.NAME" deletes NAME from the layers below and
 * ".wh..wh..opq" empties its directory of what the layers below put there.
 * Every blob is checked against its size and sha256 before it is used; the
 * tarballs go through the image store's safe extraction (extract.c). */
#define _GNU_SOURCE
#include "store/layer.h"
#include "lib/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <search.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define JSON_MAX        (4 << 20) /* index, manifest or config */
#define MAX_LAYERS      4096
#define MAX_INDEX_DEPTH 4
#define MAX_DEPTH       400 /* directory nesting pruned under an opaque marker */
#define REF_ANNOTATION  "org.opencontainers.image.ref.name"

/* ---- small helpers ---- */

/* Opens a directory strictly beneath dirfd: no symlink, no "..", no mount
 * crossing. "" is dirfd itself. -2 when it is missing or not a directory. */
static int open_beneath(int dirfd, const char *path, struct sbx_error **err)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
	    .resolve =
	        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path[0] ? path : ".", &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
		return -2;
	_cleanup_free_ char *q = str_escape(path);
	return sbx_error_set(err, errno, "cannot open \"%s\"", q);
}

/* ---- OCI image layout: reading ---- */

static const char *const manifest_types[] = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
};
static const char *const index_types[] = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
};
static const char *const config_types[] = {
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
};
static const char *const layer_types[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};

static bool one_of(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

#define IS(s, list) one_of((s), (list), ARRAY_SIZE(list))

/* This machine in OCI's words (GOARCH). */
static const char *native_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__i386__)
	return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

const char *layer_oci_arch(void)
{
	return native_arch();
}

struct desc {
	char *media_type;
	char *digest; /* "sha256:" and 64 lowercase hex digits */
	uint64_t size;
	char *ref; /* org.opencontainers.image.ref.name, or NULL */
	char *os, *arch, *variant;
};

static void desc_clear(struct desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->ref);
	free(d->os);
	free(d->arch);
	free(d->variant);
	*d = (struct desc){0};
}

static bool valid_digest(const char *d)
{
	if (!str_startswith(d, "sha256:") || strlen(d) != 7 + 64)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static int parse_desc(json_t *j, const char *where, struct desc *d, struct sbx_error **err)
{
	*d = (struct desc){0};
	if (!json_is_object(j))
		return sbx_error_set(err, 0, "%s: not a descriptor (a JSON object)", where);
	if (image_json_string(j, "mediaType", &d->media_type, where, err) < 0 ||
	    image_json_string(j, "digest", &d->digest, where, err) < 0)
		goto fail;
	if (d->media_type == NULL) {
		sbx_error_set(err, 0, "%s: \"mediaType\" is missing", where);
		goto fail;
	}
	if (d->digest == NULL) {
		sbx_error_set(err, 0, "%s: \"digest\" is missing", where);
		goto fail;
	}
	if (!valid_digest(d->digest)) {
		_cleanup_free_ char *q = str_escape(d->digest);
		const char *colon = strchr(d->digest, ':');
		if (colon && !str_startswith(d->digest, "sha256:")) {
			_cleanup_free_ char *alg = xstrndup(d->digest, (size_t)(colon - d->digest));
			_cleanup_free_ char *qa = str_escape(alg);
			sbx_error_set(err, 0,
			              "%s: digest \"%s\" uses the algorithm \"%s\"; only sha256 is "
			              "supported",
			              where, q, qa);
		} else {
			sbx_error_set(err, 0,
			              "%s: invalid digest \"%s\"; expected \"sha256:\" and 64 "
			              "lowercase hex digits",
			              where, q);
		}
		goto fail;
	}
	json_t *size = json_object_get(j, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		sbx_error_set(err, 0, "%s: \"size\" must be a non-negative integer", where);
		goto fail;
	}
	d->size = (uint64_t)json_integer_value(size);
	json_t *ann = json_object_get(j, "annotations");
	if (ann && !json_is_null(ann)) {
		if (!json_is_object(ann)) {
			sbx_error_set(err, 0, "%s: \"annotations\" must be an object", where);
			goto fail;
		}
		if (image_json_string(ann, REF_ANNOTATION, &d->ref, where, err) < 0)
			goto fail;
	}
	json_t *plat = json_object_get(j, "platform");
	if (plat && !json_is_null(plat)) {
		if (!json_is_object(plat)) {
			sbx_error_set(err, 0, "%s: \"platform\" must be an object", where);
			goto fail;
		}
		if (image_json_string(plat, "os", &d->os, where, err) < 0 ||
		    image_json_string(plat, "architecture", &d->arch, where, err) < 0 ||
		    image_json_string(plat, "variant", &d->variant, where, err) < 0)
			goto fail;
	}
	return 0;
fail:
	desc_clear(d);
	return -1;
}

struct oci {
	const char *path; /* the layout directory */
	char *qpath;      /* the same, quoted for messages */
	int dirfd;
	struct desc *layers;
	size_t n_layers;
	/* The layer being extracted: a second fd on it and how it was when
	 * verified, to notice a change behind our back. */
	int cur_fd;
	struct stat cur_st;
	void *seen; /* tsearch tree of the paths this layer has put down */
	const struct sbx_image_progress *progress;
	layer_progress_fn on_layer;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void seen_clear(struct oci *o)
{
	tdestroy(o->seen, free);
	o->seen = NULL;
}

static bool seen_has(struct oci *o, const char *path)
{
	return tfind(path, &o->seen, cmp_str) != NULL;
}

/* Records path and its parents: a directory this layer writes into stays
 * when an opaque marker empties an ancestor. */
static void seen_add(struct oci *o, const char *path)
{
	char *p = xstrdup(path);
	for (;;) {
		char **slot = tsearch(p, &o->seen, cmp_str);
		if (slot == NULL)
			abort();
		if (*slot != p) { /* present, and so are its parents */
			free(p);
			return;
		}
		char *slash = strrchr(p, '/');
		if (slash == NULL)
			return;
		p = xstrndup(p, (size_t)(slash - p));
	}
}

static void sha_short(const char *digest, char out[20])
{
	snprintf(out, 20, "%.19s", digest);
}

/* Opens blob d by its digest, inside the layout only, and checks its size
 * and sha256; the fd is at offset 0 again. */
static int blob_open(struct oci *o, const struct desc *d, struct stat *st, struct sbx_error **err)
{
	_cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", d->digest + 7);
	struct open_how how = {
	    .flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, o->dirfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOENT)
		return sbx_error_set(err, 0, "blob \"%s\" is missing (no \"%s\")", d->digest, rel);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open blob \"%s\"", rel);
	if (fstat(fd, st) < 0)
		return sbx_error_set(err, errno, "cannot stat blob \"%s\"", rel);
	if (!S_ISREG(st->st_mode))
		return sbx_error_set(err, 0, "blob \"%s\" is not a regular file", rel);
	if ((uint64_t)st->st_size != d->size)
		return sbx_error_set(
		    err, 0, "blob \"%s\" has %llu bytes, but its descriptor says %llu", d->digest,
		    (unsigned long long)st->st_size, (unsigned long long)d->size);
	struct sha256 c;
	sha256_init(&c);
	_cleanup_free_ char *buf = xmalloc(256 << 10);
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, 256 << 10);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sbx_error_set(err, errno, "cannot read blob \"%s\"", rel);
		if (n == 0)
			break;
		sha256_update(&c, buf, (size_t)n);
		total += (uint64_t)n;
	}
	char hex[65];
	sha256_final(&c, hex);
	if (total != d->size)
		return sbx_error_set(err, 0, "blob \"%s\" changed while it was read", d->digest);
	if (strcmp(hex, d->digest + 7) != 0)
		return sbx_error_set(err, 0,
		                     "blob \"%s\" does not match its digest (its content is "
		                     "sha256:%s); the layout is damaged",
		                     d->digest, hex);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sbx_error_set(err, errno, "cannot read blob \"%s\"", rel);
	return steal_fd(fd);
}

static json_t *parse_json(const char *buf, size_t len, const char *what, struct sbx_error **err)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		sbx_error_set(err, 0, "%s: invalid JSON at line %d, column %d: %s", what, je.line,
		              je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		sbx_error_set(err, 0, "%s: not a JSON object", what);
		return NULL;
	}
	return j;
}

/* A verified JSON blob (index, manifest or config). */
static json_t *blob_json(struct oci *o, const struct desc *d, const char *what,
                         struct sbx_error **err)
{
	if (d->size > JSON_MAX) {
		sbx_error_set(err, 0, "%s \"%s\" is too large (%llu bytes)", what, d->digest,
		              (unsigned long long)d->size);
		return NULL;
	}
	struct stat st;
	_cleanup_close_ int fd = blob_open(o, d, &st, err);
	if (fd < 0)
		return NULL;
	_cleanup_free_ char *buf = xmalloc(d->size + 1);
	size_t len = 0;
	while (len < d->size) {
		ssize_t n = read(fd, buf + len, d->size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sbx_error_set(err, n < 0 ? errno : 0, "cannot read %s \"%s\"", what,
			              d->digest);
			return NULL;
		}
		len += (size_t)n;
	}
	/* What is parsed is what was hashed. */
	char hex[65];
	sha256_hex(buf, len, hex);
	if (strcmp(hex, d->digest + 7) != 0) {
		sbx_error_set(err, 0, "blob \"%s\" changed while it was read", d->digest);
		return NULL;
	}
	_cleanup_free_ char *label = xasprintf("%s \"%s\"", what, d->digest);
	return parse_json(buf, len, label, err);
}

/* A small JSON file of the layout itself (not a blob). */
static json_t *layout_json(struct oci *o, const char *file, struct sbx_error **err)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, o->dirfd, file, &how, sizeof(how));
	if (fd < 0) {
		sbx_error_set(err, errno, "cannot open \"%s\"", file);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sbx_error_set(err, 0, "\"%s\" is not a regular file", file);
		return NULL;
	}
	size_t cap = JSON_MAX + 1, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sbx_error_set(err, errno, "cannot read \"%s\"", file);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			sbx_error_set(err, 0, "\"%s\" is too large", file);
			return NULL;
		}
	}
	return parse_json(buf, len, file, err);
}

static int check_schema(json_t *j, const char *what, struct sbx_error **err)
{
	json_t *v = json_object_get(j, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return sbx_error_set(err, 0, "%s: \"schemaVersion\" must be 2", what);
	return 0;
}

static bool platform_native(const struct desc *d)
{
	return d->os && d->arch && strcmp(d->os, "linux") == 0 &&
	       strcmp(d->arch, native_arch()) == 0;
}

static char *platform_name(const struct desc *d)
{
	if (d->os == NULL && d->arch == NULL)
		return xstrdup("(no platform)");
	return xasprintf("%s/%s%s%s", d->os ? d->os : "?", d->arch ? d->arch : "?",
	                 d->variant ? "/" : "", d->variant ? d->variant : "");
}

/* "a", "b", "c" */
static char *quoted_list(char *const *v)
{
	char *out = xstrdup("");
	for (size_t i = 0; v && v[i]; i++) {
		_cleanup_free_ char *q = str_escape(v[i]);
		char *t = xasprintf("%s%s\"%s\"", out, i ? ", " : "", q);
		free(out);
		out = t;
	}
	return out;
}

/* Picks one image manifest or index from an index's "manifests". */
static int pick(struct oci *o, json_t *index, const char *what, const char *ref, struct desc *out,
                struct sbx_error **err)
{
	json_t *list = json_object_get(index, "manifests");
	if (!json_is_array(list))
		return sbx_error_set(err, 0, "%s: \"manifests\" must be an array", what);
	size_t n = json_array_size(list), count = 0;
	struct desc *all = xcalloc(n ? n : 1, sizeof(*all));
	int ret = -1;
	char **refs = NULL, **platforms = NULL;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *where = xasprintf("%s: manifests[%zu]", what, i);
		struct desc d;
		if (parse_desc(json_array_get(list, i), where, &d, err) < 0)
			goto out;
		/* Other artifacts (signatures, attestations...) are not images. */
		bool wanted = IS(d.media_type, manifest_types) || IS(d.media_type, index_types);
		if (wanted && ref && (d.ref == NULL || strcmp(d.ref, ref) != 0)) {
			if (d.ref && !strv_contains(refs, d.ref))
				strv_push(&refs, d.ref);
			wanted = false;
		}
		if (!wanted) {
			desc_clear(&d);
			continue;
		}
		if (d.ref && !strv_contains(refs, d.ref))
			strv_push(&refs, d.ref);
		all[count++] = d;
	}
	if (count == 0 && ref) {
		_cleanup_free_ char *qr = str_escape(ref);
		_cleanup_free_ char *have = quoted_list(refs);
		if (refs == NULL)
			sbx_error_set(err, 0, "%s has no image named \"%s\" (none has a name)",
			              what, qr);
		else
			sbx_error_set(err, 0, "%s has no image named \"%s\" (it has %s)", what, qr,
			              have);
		goto out;
	}
	if (count == 0) {
		sbx_error_set(err, 0, "%s lists no image manifest", what);
		goto out;
	}
	size_t chosen = count;
	if (count == 1) {
		chosen = 0;
	} else if (ref == NULL && strv_length(refs) > 1) {
		_cleanup_free_ char *have = quoted_list(refs);
		_cleanup_free_ char *qp = str_escape(o->path);
		sbx_error_set(err, 0, "%s lists several images (%s); choose one as \"%s:REF\"",
		              what, have, qp);
		goto out;
	} else {
		for (size_t i = 0; i < count && chosen == count; i++)
			if (platform_native(&all[i]))
				chosen = i;
		for (size_t i = 0; i < count && chosen == count; i++)
			if (all[i].os == NULL && all[i].arch == NULL)
				chosen = i;
	}
	if (chosen == count) {
		for (size_t i = 0; i < count; i++)
			strv_push_take(&platforms, platform_name(&all[i]));
		_cleanup_free_ char *have = quoted_list(platforms);
		sbx_error_set(err, 0, "%s has no image for linux/%s, only for %s", what,
		              native_arch(), have);
		goto out;
	}
	*out = all[chosen];
	all[chosen] = (struct desc){0};
	ret = 0;
out:
	for (size_t i = 0; i < count; i++)
		desc_clear(&all[i]);
	free(all);
	strv_free(refs);
	strv_free(platforms);
	return ret;
}

/* Follows the index (and nested indexes) to one image manifest. */
static json_t *find_manifest(struct oci *o, const char *ref, struct desc *md,
                             struct sbx_error **err)
{
	_cleanup_json_ json_t *index = layout_json(o, "index.json", err);
	if (index == NULL || check_schema(index, "index.json", err) < 0)
		return NULL;
	_cleanup_free_ char *what = xstrdup("index.json");
	for (int depth = 0;; depth++) {
		struct desc d;
		if (pick(o, index, what, depth == 0 ? ref : NULL, &d, err) < 0)
			return NULL;
		bool is_index = IS(d.media_type, index_types);
		json_t *j = blob_json(o, &d, is_index ? "index" : "manifest", err);
		if (j == NULL) {
			desc_clear(&d);
			return NULL;
		}
		json_decref(index);
		index = j;
		free(what);
		what = xasprintf("%s \"%s\"", is_index ? "index" : "manifest", d.digest);
		if (!is_index) {
			*md = d;
			if (check_schema(index, what, err) < 0) {
				desc_clear(md);
				return NULL;
			}
			json_t *mt = json_object_get(index, "mediaType");
			if (mt && (!json_is_string(mt) ||
			           strcmp(json_string_value(mt), md->media_type) != 0)) {
				sbx_error_set(err, 0,
				              "%s: its \"mediaType\" is not \"%s\", as its "
				              "descriptor says",
				              what, md->media_type);
				desc_clear(md);
				return NULL;
			}
			return steal_ptr(index);
		}
		desc_clear(&d);
		if (check_schema(index, what, err) < 0)
			return NULL;
		if (depth + 1 >= MAX_INDEX_DEPTH) {
			sbx_error_set(err, 0, "%s: indexes are nested too deeply", what);
			return NULL;
		}
	}
}

/* The config's defaults for run: Entrypoint + Cmd, Env, WorkingDir, User. */
static int read_config(struct oci *o, const struct desc *cd, struct sbx_image *meta,
                       struct sbx_error **err)
{
	_cleanup_json_ json_t *cfg = blob_json(o, cd, "config", err);
	if (cfg == NULL)
		return -1;
	_cleanup_free_ char *what = xasprintf("config \"%s\"", cd->digest);
	_cleanup_free_ char *os = NULL, *arch = NULL;
	if (image_json_string(cfg, "os", &os, what, err) < 0 ||
	    image_json_string(cfg, "architecture", &arch, what, err) < 0)
		return -1;
	if ((os && strcmp(os, "linux") != 0) || (arch && strcmp(arch, native_arch()) != 0)) {
		_cleanup_free_ char *qo = str_escape(os ? os : "?"),
		                    *qa = str_escape(arch ? arch : "?");
		char *msg = xasprintf("the image is for %s/%s, not linux/%s; its programs may "
		                      "not run here",
		                      qo, qa, native_arch());
		if (o->progress && o->progress->warn)
			o->progress->warn(o->progress->ctx, msg);
		free(msg);
	}
	json_t *c = json_object_get(cfg, "config");
	if (c == NULL || json_is_null(c))
		return 0;
	if (!json_is_object(c))
		return sbx_error_set(err, 0, "%s: \"config\" must be an object", what);
	_cleanup_free_ char *where = xasprintf("%s: config", what);
	_cleanup_strv_ char **entry = NULL, **cmd = NULL;
	if (image_json_strv(c, "Entrypoint", &entry, where, err) < 0 ||
	    image_json_strv(c, "Cmd", &cmd, where, err) < 0 ||
	    image_json_strv(c, "Env", &meta->env, where, err) < 0 ||
	    image_json_string(c, "WorkingDir", &meta->workdir, where, err) < 0 ||
	    image_json_string(c, "User", &meta->user, where, err) < 0)
		return -1;
	for (size_t i = 0; entry && entry[i]; i++)
		strv_push(&meta->cmd, entry[i]);
	for (size_t i = 0; cmd && cmd[i]; i++)
		strv_push(&meta->cmd, cmd[i]);
	if (meta->workdir && meta->workdir[0] == '\0') {
		free(meta->workdir);
		meta->workdir = NULL;
	}
	if (meta->user && meta->user[0] == '\0') {
		free(meta->user);
		meta->user = NULL;
	}
	return 0;
}

/* ---- OCI layers: whiteouts and opaque directories ---- */

/* Removes everything under dirfd this layer did not put down. */
static int prune(struct oci *o, int dirfd, const char *rel, unsigned depth, struct sbx_error **err)
{
	if (depth > MAX_DEPTH) {
		_cleanup_free_ char *q = str_escape(rel);
		return sbx_error_set(err, 0, "\"%s\" is nested too deeply", q);
	}
	_cleanup_strv_ char **names = NULL;
	if (dir_list(dirfd, rel[0] ? rel : "/", &names, err) < 0)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *child = path_join(rel, names[i]);
		if (!seen_has(o, child)) {
			if (rm_rf_at(dirfd, names[i], err) < 0)
				return -1;
			continue;
		}
		int fd = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* not a directory: this layer's, kept */
		int r = prune(o, fd, child, depth + 1, err);
		close(fd);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Sees every entry of a layer before extract.c extracts it. */
static int oci_entry(void *ctx, int rootfd, const char *path, struct sbx_error **err)
{
	struct oci *o = ctx;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!str_startswith(base, ".wh.")) {
		seen_add(o, path);
		return 0;
	}
	_cleanup_free_ char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
	const char *name = base + 4;
	_cleanup_free_ char *target = path_join(dir, name);
	bool opaque = strcmp(base, ".wh..wh..opq") == 0;
	if (!opaque && str_startswith(name, ".wh."))
		return 1; /* other aufs metadata (.wh..wh.plnk...): nothing for us */
	if (!opaque && (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)) {
		_cleanup_free_ char *q = str_escape(path);
		return sbx_error_set(err, 0, "entry \"%s\" is not a valid whiteout", q);
	}
	/* Whiteouts only hide what lower layers made; what this layer made
	 * stays, so a whiteout of it only hides the lower contents. */
	if (opaque || seen_has(o, target)) {
		const char *which = opaque ? dir : target;
		_cleanup_close_ int fd = open_beneath(rootfd, which, err);
		if (fd == -1)
			return -1;
		if (fd >= 0 && prune(o, fd, which, 0, err) < 0)
			return -1;
		return 1;
	}
	_cleanup_close_ int dfd = open_beneath(rootfd, dir, err);
	if (dfd == -1)
		return -1;
	if (dfd >= 0 && rm_rf_at(dfd, name, err) < 0) {
		_cleanup_free_ char *q = str_escape(path);
		return sbx_error_prefix(err, "whiteout \"%s\"", q);
	}
	return 1;
}

static int oci_open(void *ctx, size_t i, uint64_t *size, struct sbx_error **err)
{
	struct oci *o = ctx;
	const struct desc *d = &o->layers[i];
	if (o->on_layer && o->progress)
		o->on_layer(o->progress->ctx, i, o->n_layers, d->digest, d->size);
	int fd = blob_open(o, d, &o->cur_st, err);
	if (fd < 0) {
		char s[20];
		sha_short(d->digest, s);
		return sbx_error_prefix(err, "\"%s\": layer %zu of %zu (%s)", o->qpath, i + 1,
		                        o->n_layers, s);
	}
	o->cur_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (o->cur_fd < 0) {
		close(fd);
		return sbx_error_set(err, errno, "cannot duplicate a file descriptor");
	}
	*size = d->size;
	return fd;
}

static int oci_close(void *ctx, size_t i, bool failed, struct sbx_error **err)
{
	struct oci *o = ctx;
	const struct desc *d = &o->layers[i];
	seen_clear(o);
	struct stat st;
	bool changed =
	    o->cur_fd >= 0 && (fstat(o->cur_fd, &st) < 0 || st.st_size != o->cur_st.st_size ||
	                       st.st_mtim.tv_sec != o->cur_st.st_mtim.tv_sec ||
	                       st.st_mtim.tv_nsec != o->cur_st.st_mtim.tv_nsec ||
	                       st.st_ctim.tv_sec != o->cur_st.st_ctim.tv_sec ||
	                       st.st_ctim.tv_nsec != o->cur_st.st_ctim.tv_nsec);
	if (o->cur_fd >= 0)
		close(o->cur_fd);
	o->cur_fd = -1;
	char s[20];
	sha_short(d->digest, s);
	if (changed) {
		if (err && *err) {
			sbx_error_free(*err);
			*err = NULL;
		}
		return sbx_error_set(err, 0, "\"%s\": blob \"%s\" changed while it was extracted",
		                     o->qpath, d->digest);
	}
	if (failed)
		return sbx_error_prefix(err, "\"%s\": layer %zu of %zu (%s)", o->qpath, i + 1,
		                        o->n_layers, s);
	return 0;
}

/* "DIR" or "DIR:REF" -> the layout directory and the ref (NULL). */
static bool split_source(const char *source, char **dir, char **ref)
{
	struct stat st;
	_cleanup_free_ char *marker = xasprintf("%s/oci-layout", source);
	if (stat(source, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (stat(marker, &st) < 0 || !S_ISREG(st.st_mode))
			return false;
		*dir = xstrdup(source);
		*ref = NULL;
		return true;
	}
	const char *colon = strrchr(source, ':');
	if (colon == NULL || colon == source || colon[1] == '\0' || strchr(colon, '/'))
		return false;
	_cleanup_free_ char *d = xstrndup(source, (size_t)(colon - source));
	free(marker);
	marker = xasprintf("%s/oci-layout", d);
	if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode) || stat(marker, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return false;
	*dir = steal_ptr(d);
	*ref = xstrdup(colon + 1);
	return true;
}

bool layer_is_oci_layout(const char *source)
{
	_cleanup_free_ char *dir = NULL, *ref = NULL;
	return split_source(source, &dir, &ref);
}

/* Reads the layout down to the layers: meta gets the config's defaults. */
static int read_layout(struct oci *o, const char *ref, struct sbx_image *meta,
                       struct sbx_error **err)
{
	_cleanup_json_ json_t *layout = layout_json(o, "oci-layout", err);
	if (layout == NULL)
		return -1;
	json_t *v = json_object_get(layout, "imageLayoutVersion");
	if (!json_is_string(v))
		return sbx_error_set(err, 0, "oci-layout: \"imageLayoutVersion\" is missing");
	if (!str_startswith(json_string_value(v), "1.")) {
		_cleanup_free_ char *q = str_escape(json_string_value(v));
		return sbx_error_set(err, 0,
		                     "oci-layout: unsupported \"imageLayoutVersion\" \"%s\"; "
		                     "only 1.x is known",
		                     q);
	}
	struct desc md = {0};
	_cleanup_json_ json_t *manifest = find_manifest(o, ref, &md, err);
	if (manifest == NULL)
		return -1;
	_cleanup_free_ char *what = xasprintf("manifest \"%s\"", md.digest);
	desc_clear(&md);
	struct desc cd;
	_cleanup_free_ char *cwhere = xasprintf("%s: config", what);
	if (parse_desc(json_object_get(manifest, "config"), cwhere, &cd, err) < 0)
		return -1;
	int r = 0;
	if (!IS(cd.media_type, config_types)) {
		_cleanup_free_ char *q = str_escape(cd.media_type);
		r = sbx_error_set(err, 0, "%s: unsupported media type \"%s\"", cwhere, q);
	}
	if (r == 0)
		r = read_config(o, &cd, meta, err);
	desc_clear(&cd);
	if (r < 0)
		return -1;
	json_t *layers = json_object_get(manifest, "layers");
	if (!json_is_array(layers))
		return sbx_error_set(err, 0, "%s: \"layers\" must be an array", what);
	size_t n = json_array_size(layers);
	if (n > MAX_LAYERS)
		return sbx_error_set(err, 0, "%s: too many layers (%zu)", what, n);
	o->layers = xcalloc(n ? n : 1, sizeof(*o->layers));
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *where = xasprintf("%s: layers[%zu]", what, i);
		if (parse_desc(json_array_get(layers, i), where, &o->layers[i], err) < 0)
			return -1;
		o->n_layers = i + 1;
		if (!IS(o->layers[i].media_type, layer_types)) {
			_cleanup_free_ char *q = str_escape(o->layers[i].media_type);
			return sbx_error_set(err, 0, "%s: unsupported media type \"%s\"", where, q);
		}
	}
	return 0;
}

/* origin, when set, is where the layout came from: errors name it and the
 * image records it as its source. */
static int import_layout(struct oci *o, const char *name, const char *ref, const char *origin,
                         struct sbx_error **err)
{
	_cleanup_image_ struct sbx_image *meta = xcalloc(1, sizeof(*meta));
	if (read_layout(o, ref, meta, err) < 0)
		return sbx_error_prefix(err, "\"%s\"", o->qpath);
	_cleanup_free_ char *real = origin ? NULL : realpath(o->path, NULL);
	meta->source =
	    origin ? xstrdup(origin)
	           : xasprintf("oci:%s%s%s", real ? real : o->path, ref ? ":" : "", ref ? ref : "");
	struct sbx_image_layers l = {
	    .n = o->n_layers,
	    .open = oci_open,
	    .close = oci_close,
	    .entry = oci_entry,
	    .ctx = o,
	};
	return image_import_layers(name, &l, meta, o->progress, err);
}

static int import_dir(const char *name, const char *dir, const char *ref, const char *origin,
                      const struct sbx_image_progress *progress, layer_progress_fn on_layer,
                      struct sbx_error **err)
{
	struct oci o = {
	    .path = dir,
	    .qpath = str_escape(origin ? origin : dir), /* messages name the origin */
	    .dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
	    .cur_fd = -1,
	    .progress = progress,
	    .on_layer = on_layer,
	};
	if (o.dirfd < 0) {
		int e = errno;
		sbx_error_set(err, e, "cannot open \"%s\"", o.qpath);
		free(o.qpath);
		return -1;
	}
	int r = import_layout(&o, name, ref, origin, err);
	for (size_t i = 0; i < o.n_layers; i++)
		desc_clear(&o.layers[i]);
	free(o.layers);
	seen_clear(&o);
	if (o.cur_fd >= 0)
		close(o.cur_fd);
	close(o.dirfd);
	free(o.qpath);
	return r;
}

int layer_import_oci(const char *name, const char *source,
                     const struct sbx_image_progress *progress, layer_progress_fn on_layer,
                     struct sbx_error **err)
{
	_cleanup_free_ char *dir = NULL, *ref = NULL;
	if (!split_source(source, &dir, &ref)) {
		_cleanup_free_ char *q = str_escape(source);
		return sbx_error_set(err, 0,
		                     "\"%s\" is not an OCI image layout (no \"oci-layout\")", q);
	}
	return import_dir(name, dir, ref, NULL, progress, on_layer, err);
}

int layer_import_oci_from(const char *name, const char *dir, const char *origin,
                          const struct sbx_image_progress *progress, layer_progress_fn on_layer,
                          struct sbx_error **err)
{
	return import_dir(name, dir, NULL, origin, progress, on_layer, err);
}
