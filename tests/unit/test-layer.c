/* test-layer.c - OCI image layout import
 * (layers made here with libarchive's writer: whiteouts, opaque
 * directories, config defaults, index selection, bad blobs), diff of an
 * upper layer made by hand, and commit. */
#define _GNU_SOURCE
#include "store/layer.h"
#include "lib/sha256.h"
#include "tap.h"
#include "lib/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static char *base;

/* ---- helpers ---- */

static char *sha_hex(const void *data, size_t len)
{
	char hex[65];
	sha256_hex(data, len, hex);
	return xstrdup(hex);
}

static void spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");
	if (f == NULL || fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
}

static char *slurp(const char *path)
{
	char *s = NULL;
	struct sbx_error *e = NULL;
	if (read_file(path, 1 << 20, &s, NULL, &e) < 0) {
		sbx_error_free(e);
		return NULL;
	}
	return s;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void rm_tree(const char *path)
{
	int at = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sbx_error *e = NULL;
	rm_rf_at(at, path + 1, &e);
	sbx_error_free(e);
	close(at);
}

/* Entries: f file, d dir, l symlink, h hard link. */
struct tent {
	const char *path;
	char type;
	const char *data;
};

static char *make_tar(const struct tent *ents, size_t n, const char *filter, size_t *len)
{
	size_t cap = 1 << 20;
	char *buf = xmalloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (filter && strcmp(filter, "gzip") == 0)
		archive_write_add_filter_gzip(a);
	if (filter && strcmp(filter, "zstd") == 0)
		archive_write_add_filter_zstd(a);
	if (archive_write_open_memory(a, buf, cap, len) != ARCHIVE_OK)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct tent *t = &ents[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, t->path);
		archive_entry_set_mtime(e, 1000000000, 0);
		archive_entry_set_perm(e, t->type == 'd' ? 0755 : 0644);
		size_t size = 0;
		if (t->type == 'f') {
			archive_entry_set_filetype(e, AE_IFREG);
			size = t->data ? strlen(t->data) : 0;
		} else if (t->type == 'd') {
			archive_entry_set_filetype(e, AE_IFDIR);
		} else if (t->type == 'l') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, t->data);
		} else if (t->type == 'h') {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, t->data);
		}
		archive_entry_set_size(e, (la_int64_t)size);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			abort();
		if (size)
			archive_write_data(a, t->data, size);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return buf;
}

/* Writes a blob; returns its descriptor. */
static json_t *blob(const char *layout, const char *media, const void *data, size_t len)
{
	char *hex = sha_hex(data, len);
	char *dir = xasprintf("%s/blobs/sha256", layout);
	struct sbx_error *e = NULL;
	if (mkdir_p(dir, 0755, &e) < 0)
		abort();
	char *path = xasprintf("%s/%s", dir, hex);
	spit(path, data, len);
	json_t *d = json_pack("{s:s, s:s+, s:I}", "mediaType", media, "digest", "sha256:", hex,
	                      "size", (json_int_t)len);
	free(path);
	free(dir);
	free(hex);
	return d;
}

static json_t *blob_json(const char *layout, const char *media, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_t *d = blob(layout, media, s, strlen(s));
	free(s);
	json_decref(j);
	return d;
}

struct lspec {
	const struct tent *ents;
	size_t n;
	const char *filter;
};

#define LAYER(f, ...)                                                                              \
	{                                                                                          \
		(const struct tent[]){__VA_ARGS__},                                                \
		    sizeof((const struct tent[]){__VA_ARGS__}) / sizeof(struct tent), f            \
	}

/* A manifest descriptor for an image with these layers and config. */
static json_t *image(const char *layout, const struct lspec *layers, size_t n, json_t *config)
{
	json_t *ls = json_array();
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		char *tar = make_tar(layers[i].ents, layers[i].n, layers[i].filter, &len);
		const char *media = layers[i].filter == NULL
		                        ? "application/vnd.oci.image.layer.v1.tar"
		                    : strcmp(layers[i].filter, "gzip") == 0
		                        ? "application/vnd.oci.image.layer.v1.tar+gzip"
		                        : "application/vnd.oci.image.layer.v1.tar+zstd";
		json_array_append_new(ls, blob(layout, media, tar, len));
		free(tar);
	}
	if (config == NULL)
		config = json_pack("{s:s, s:s}", "architecture", "amd64", "os", "linux");
	json_t *cd = blob_json(layout, "application/vnd.oci.image.config.v1+json", config);
	json_t *m =
	    json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
	              "application/vnd.oci.image.manifest.v1+json", "config", cd, "layers", ls);
	return blob_json(layout, "application/vnd.oci.image.manifest.v1+json", m);
}

static void write_index(const char *layout, json_t *manifests)
{
	json_t *idx = json_pack("{s:i, s:o}", "schemaVersion", 2, "manifests", manifests);
	char *s = json_dumps(idx, JSON_COMPACT);
	char *p = xasprintf("%s/index.json", layout);
	spit(p, s, strlen(s));
	free(p);
	free(s);
	json_decref(idx);
	p = xasprintf("%s/oci-layout", layout);
	spit(p, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	free(p);
}

static char *new_layout(const char *name)
{
	char *dir = xasprintf("%s/%s", base, name);
	rm_tree(dir);
	if (mkdir(dir, 0755) < 0)
		abort();
	return dir;
}

static char *root_of(const char *img, const char *rel)
{
	return xasprintf("%s/data/sbx/images/%s/rootfs/%s", base, img, rel);
}

static char *file_in(const char *img, const char *rel)
{
	char *p = root_of(img, rel);
	char *s = slurp(p);
	free(p);
	return s;
}

static bool exists_in(const char *img, const char *rel)
{
	char *p = root_of(img, rel);
	bool r = exists(p);
	free(p);
	return r;
}

static char *import_error(const char *name, const char *source)
{
	struct sbx_error *e = NULL;
	if (layer_import_oci(name, source, NULL, NULL, &e) == 0)
		return xstrdup("(succeeded)");
	char *msg = xstrdup(e->msg);
	sbx_error_free(e);
	return msg;
}

/* ---- OCI import ---- */

static void test_layers(void)
{
	char *l = new_layout("layers");
	const struct lspec layers[] = {
	    LAYER("gzip", {"a/x", 'f', "ax"}, {"a/y", 'f', "ay"}, {"d/k", 'f', "k"},
	          {"q/old", 'f', "o"}, {"q/sub/old2", 'f', "o2"}, {"r/s", 'f', "s"},
	          {"keep", 'f', "keep"}, {"top", 'f', "top"}),
	    /* Whiteouts hide the lower layers only; an opaque marker after this
	     * layer's own entries keeps them, and the directories they are in. */
	    LAYER(NULL, {"a/.wh.x", 'f', NULL}, {"d/new", 'f', "n"}, {".wh.d", 'f', NULL},
	          {"q/sub/new", 'f', "qn"}, {"q/.wh..wh..opq", 'f', NULL},
	          {"r/.wh..wh.plnk", 'f', NULL}, {"link", 'h', "keep"}),
	    LAYER("zstd", ),
	    LAYER("zstd", {".wh..wh..opq", 'f', NULL}, {"only", 'f', "only"}),
	};
	json_t *cfg =
	    json_pack("{s:s, s:s, s:{s:[s], s:[s, s], s:[s, s], s:s, s:s}}", "architecture",
	              "amd64", "os", "linux", "config", "Entrypoint", "/entry", "Cmd", "a", "b c",
	              "Env", "A=1", "B=2", "WorkingDir", "/work", "User", "1000:1000");
	write_index(l, json_pack("[o]", image(l, layers, 3, cfg)));
	struct sbx_error *e = NULL;
	ok(layer_is_oci_layout(l), "a layout is recognised");
	int r = layer_import_oci("layered", l, NULL, NULL, &e);
	ok(r == 0, "three layers import%s%s", e ? ": " : "", e ? e->msg : "");
	sbx_error_free(e);
	e = NULL;
	ok(!exists_in("layered", "a/x"), "a whiteout removes a lower file");
	char *s = file_in("layered", "a/y");
	is_str(s, "ay", "its sibling stays");
	free(s);
	ok(!exists_in("layered", "d/k") && exists_in("layered", "d/new"),
	   "a whiteout of a directory this layer wrote into hides only the lower contents");
	ok(!exists_in("layered", "q/old") && !exists_in("layered", "q/sub/old2"),
	   "an opaque marker removes the lower contents, deeply");
	s = file_in("layered", "q/sub/new");
	is_str(s, "qn", "an opaque marker after the layer's own entry keeps it");
	free(s);
	ok(exists_in("layered", "r/s") && !exists_in("layered", "r/.wh..wh.plnk"),
	   "aufs metadata is dropped");
	struct stat a, b;
	char *p1 = root_of("layered", "link"), *p2 = root_of("layered", "keep");
	ok(stat(p1, &a) == 0 && stat(p2, &b) == 0 && a.st_ino == b.st_ino,
	   "a hard link to a lower layer's file");
	free(p1);
	free(p2);
	char *meta = xasprintf("%s/data/sbx/images/layered/image.json", base);
	struct sbx_image *img = NULL;
	ok(image_metadata_read(meta, &img, &e) == 0, "metadata written");
	char *cmd =
	    img && img->cmd ? xasprintf("%s|%s|%s", img->cmd[0], img->cmd[1], img->cmd[2]) : NULL;
	is_str(cmd, "/entry|a|b c", "cmd is Entrypoint + Cmd");
	is_int(img ? strv_length(img->env) : 0, 2, "Env kept");
	is_str(img ? img->workdir : NULL, "/work", "WorkingDir kept");
	is_str(img ? img->user : NULL, "1000:1000", "User kept");
	char *src = img ? xasprintf("oci:%s", l) : NULL;
	is_str(img ? img->source : NULL, src, "source names the layout");
	free(src);
	free(cmd);
	image_free(img);
	free(meta);

	/* A root opaque marker: only the layer's own entries are left. */
	char *l2 = new_layout("rootopq");
	write_index(l2, json_pack("[o]", image(l2, layers, 4, NULL)));
	r = layer_import_oci("rootopq", l2, NULL, NULL, &e);
	ok(r == 0, "a layer with a root opaque marker imports");
	sbx_error_free(e);
	e = NULL;
	ok(exists_in("rootopq", "only") && !exists_in("rootopq", "keep") &&
	       !exists_in("rootopq", "a"),
	   "a root opaque marker empties the image of the lower layers");
	/* No layers at all. */
	char *l3 = new_layout("nolayers");
	write_index(l3, json_pack("[o]", image(l3, NULL, 0, NULL)));
	r = layer_import_oci("empty", l3, NULL, NULL, &e);
	ok(r == 0, "an image without layers imports (an empty root)");
	sbx_error_free(e);
	e = NULL;
	char *msg = import_error("empty", l3);
	is_str(msg, "image \"empty\" already exists; remove it first with 'sbx image rm empty'",
	       "an existing name is refused without the layout in front");
	free(msg);
	msg = import_error("..x", l3);
	is_str(msg, "invalid image name \"..x\": a name must not start with '-' or '.'",
	       "an invalid name is refused");
	free(msg);
	free(l);
	free(l2);
	free(l3);
}

/* Replaces a descriptor field of manifests[0] (or of its first layer). */
static void tamper_index(const char *layout, const char *key, json_t *value)
{
	char *p = xasprintf("%s/index.json", layout);
	json_t *idx = json_load_file(p, 0, NULL);
	json_object_set_new(json_array_get(json_object_get(idx, "manifests"), 0), key, value);
	char *s = json_dumps(idx, JSON_COMPACT);
	spit(p, s, strlen(s));
	free(s);
	json_decref(idx);
	free(p);
}

static void test_bad_layouts(void)
{
	const struct lspec one[] = {LAYER("gzip", {"f", 'f', "x"})};
	char *l = new_layout("bad");
	json_t *d = image(l, one, 1, NULL);
	char *digest = xstrdup(json_string_value(json_object_get(d, "digest")));
	write_index(l, json_pack("[o]", d));
	char *q = xasprintf("\"%s\": ", l);

	tamper_index(l, "digest", json_string("sha512:abcd"));
	char *msg = import_error("x", l);
	char *want = xasprintf("%sindex.json: manifests[0]: digest \"sha512:abcd\" uses the "
	                       "algorithm \"sha512\"; only sha256 is supported",
	                       q);
	is_str(msg, want, "other digest algorithms are refused");
	free(msg);
	free(want);
	tamper_index(l, "digest", json_string("sha256:ABC"));
	msg = import_error("x", l);
	ok(strstr(msg, "invalid digest \"sha256:ABC\"") != NULL, "a malformed digest is refused");
	free(msg);
	tamper_index(l, "digest", json_string(digest));
	tamper_index(l, "size", json_integer(3));
	msg = import_error("x", l);
	ok(strstr(msg, "but its descriptor says 3") != NULL, "a wrong size is refused: %s", msg);
	free(msg);
	json_int_t size = json_integer_value(json_object_get(d, "size"));
	tamper_index(l, "size", json_string("12"));
	msg = import_error("x", l);
	want = xasprintf("%sindex.json: manifests[0]: \"size\" must be a non-negative integer", q);
	is_str(msg, want, "a size that is no integer is refused");
	free(msg);
	free(want);
	tamper_index(l, "size", json_integer(size));
	tamper_index(l, "mediaType", json_string("application/vnd.example+json"));
	msg = import_error("x", l);
	want = xasprintf("%sindex.json lists no image manifest", q);
	is_str(msg, want, "artifacts that are no images are not picked");
	free(msg);
	free(want);

	/* A manifest whose own mediaType disagrees, and unknown layer types. */
	char *l2 = new_layout("bad2");
	json_t *cd = blob_json(l2, "application/vnd.oci.image.config.v1+json", json_object());
	json_t *layer = blob(l2, "application/x-custom", "x", 1);
	json_t *m = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType",
	                      "application/vnd.oci.image.index.v1+json", "config", json_copy(cd),
	                      "layers", json_copy(layer));
	write_index(
	    l2, json_pack("[o]", blob_json(l2, "application/vnd.oci.image.manifest.v1+json", m)));
	msg = import_error("x", l2);
	ok(strstr(msg, "its \"mediaType\" is not \"application/vnd.oci.image.manifest.v1+json\"") !=
	       NULL,
	   "a manifest must be what its descriptor says: %s", msg);
	free(msg);
	m = json_pack("{s:i, s:o, s:[o]}", "schemaVersion", 2, "config", cd, "layers", layer);
	write_index(
	    l2, json_pack("[o]", blob_json(l2, "application/vnd.oci.image.manifest.v1+json", m)));
	msg = import_error("x", l2);
	ok(strstr(msg, "layers[0]: unsupported media type \"application/x-custom\"") != NULL,
	   "an unknown layer type is refused: %s", msg);
	free(msg);
	m = json_pack("{s:i, s:[]}", "schemaVersion", 1, "layers");
	write_index(
	    l2, json_pack("[o]", blob_json(l2, "application/vnd.oci.image.manifest.v1+json", m)));
	msg = import_error("x", l2);
	ok(strstr(msg, "\"schemaVersion\" must be 2") != NULL, "schema version 1 is refused");
	free(msg);

	/* A layer that is not a tarball; nothing is left in the store. */
	char *l3 = new_layout("bad3");
	cd = blob_json(l3, "application/vnd.oci.image.config.v1+json", json_object());
	layer = blob(l3, "application/vnd.oci.image.layer.v1.tar+gzip", "not a tar", 9);
	char *ld = xstrdup(json_string_value(json_object_get(layer, "digest")));
	m = json_pack("{s:i, s:o, s:[o]}", "schemaVersion", 2, "config", cd, "layers", layer);
	write_index(
	    l3, json_pack("[o]", blob_json(l3, "application/vnd.oci.image.manifest.v1+json", m)));
	msg = import_error("x", l3);
	want = xasprintf("\"%s\": layer 1 of 1 (%.19s): not a tar archive: Unrecognized archive "
	                 "format",
	                 l3, ld);
	is_str(msg, want, "a layer that is no tarball");
	free(msg);
	free(want);
	free(ld);
	char *store = xasprintf("%s/data/sbx/images", base);
	DIR *dir = opendir(store);
	size_t left = 0;
	struct dirent *de;
	while (dir && (de = readdir(dir)) != NULL)
		left += de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (dir)
		closedir(dir);
	is_int(left, 0, "no staging directory is left behind");
	free(store);

	/* Not a layout, a missing index, a nested index loop. */
	msg = import_error("x", base);
	ok(strstr(msg, "is not an OCI image layout") != NULL, "a plain directory is no layout");
	free(msg);
	char *idx = xasprintf("%s/index.json", l3);
	unlink(idx);
	msg = import_error("x", l3);
	want = xasprintf("\"%s\": cannot open \"index.json\": No such file or directory", l3);
	is_str(msg, want, "a missing index.json");
	free(msg);
	free(want);
	free(idx);
	free(q);
	free(digest);
	free(l);
	free(l2);
	free(l3);
}

static void test_selection(void)
{
	const struct lspec v1[] = {LAYER(NULL, {"v", 'f', "1"})};
	const struct lspec v2[] = {LAYER(NULL, {"v", 'f', "2"})};
	char *l = new_layout("refs");
	json_t *a = image(l, v1, 1, NULL), *b = image(l, v2, 1, NULL);
	json_object_set_new(a, "annotations",
	                    json_pack("{s:s}", "org.opencontainers.image.ref.name", "one"));
	json_object_set_new(b, "annotations",
	                    json_pack("{s:s}", "org.opencontainers.image.ref.name", "two"));
	write_index(l, json_pack("[o, o]", a, b));
	char *src = xasprintf("%s:two", l);
	ok(layer_is_oci_layout(src), "DIR:REF is recognised");
	struct sbx_error *e = NULL;
	ok(layer_import_oci("two", src, NULL, NULL, &e) == 0, "DIR:REF picks by ref name");
	sbx_error_free(e);
	e = NULL;
	char *s = file_in("two", "v");
	is_str(s, "2", "the right one");
	free(s);
	free(src);
	src = xasprintf("%s:three", l);
	char *msg = import_error("three", src);
	ok(strstr(msg, "index.json has no image named \"three\" (it has \"one\", \"two\")") != NULL,
	   "an unknown ref lists the known ones: %s", msg);
	free(msg);
	free(src);

	/* Platforms, through a nested index; the first native one wins. */
	char *l2 = new_layout("platforms");
	json_t *arm = image(l2, v1, 1, NULL), *x86 = image(l2, v2, 1, NULL);
	json_object_set_new(arm, "platform",
	                    json_pack("{s:s, s:s}", "os", "linux", "architecture", "arm64"));
	json_object_set_new(x86, "platform",
	                    json_pack("{s:s, s:s}", "os", "linux", "architecture", "amd64"));
	json_t *nested =
	    blob_json(l2, "application/vnd.oci.image.index.v1+json",
	              json_pack("{s:i, s:[o, o]}", "schemaVersion", 2, "manifests", arm, x86));
	write_index(l2, json_pack("[o]", nested));
#if defined(__x86_64__)
	ok(layer_import_oci("native", l2, NULL, NULL, &e) == 0, "a nested index is followed");
	sbx_error_free(e);
	e = NULL;
	s = file_in("native", "v");
	is_str(s, "2", "the linux/amd64 manifest is picked");
	free(s);
#endif
	free(l);
	free(l2);
}

/* ---- diff ---- */

static void mk(const char *root, const char *rel, char type, const char *data)
{
	char *p = xasprintf("%s/%s", root, rel);
	int r = 0;
	if (type == 'd')
		r = mkdir(p, 0755);
	else if (type == 'f')
		spit(p, data, strlen(data));
	else if (type == 'l')
		r = symlink(data, p);
	else if (type == 'w')
		r = mknod(p, S_IFCHR | 0, makedev(0, 0));
	else if (type == 'o')
		r = setxattr(p, "user.overlay.opaque", "y", 1, 0);
	if (r < 0) {
		printf("# cannot make %s: %s\n", p, strerror(errno));
		abort();
	}
	free(p);
}

static char *changes_text(struct layer_change *c, size_t n)
{
	char *out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%c %s\n", out, c[i].kind, c[i].path);
		free(out);
		out = t;
	}
	return out;
}

static void test_diff(void)
{
	char *lower = xasprintf("%s/lower", base), *upper = xasprintf("%s/upper", base);
	mkdir(lower, 0755);
	mkdir(upper, 0755);
	static const struct {
		const char *rel;
		char type;
		const char *data;
	} low[] =
	    {
	        {"a", 'd', NULL},        {"a/x", 'f', "x"},      {"a/y", 'f', "y"},
	        {"b", 'f', "b"},         {"c", 'd', NULL},       {"c/c1", 'f', "1"},
	        {"c/c2", 'd', NULL},     {"c/c2/c21", 'f', "1"}, {"c/c3", 'd', NULL},
	        {"e", 'd', NULL},        {"e/e1", 'f', "1"},     {"f", 'd', NULL},
	        {"f/f1", 'f', "1"},      {"f-g", 'f', "fg"},     {"s", 'l', "/etc"},
	        {"untouched", 'f', "u"},
	    },
	  up[] = {
	      {"a", 'd', NULL},    {"a/x", 'f', "changed"}, {"a/z", 'f', "new"},
	      {"b", 'w', NULL},    {"c", 'd', NULL},        {"c", 'o', NULL},
	      {"c/c2", 'd', NULL}, {"c/c3", 'w', NULL},     {"e", 'f', "now a file"},
	      {"f", 'd', NULL},    {"f/f2", 'f', "2"},      {"f-g", 'w', NULL},
	      {"n", 'd', NULL},    {"n/l", 'l', "/"},       {"s", 'd', NULL},
	      {"s/in", 'f', "x"},  {"ghost", 'w', NULL},
	  };
	for (size_t i = 0; i < ARRAY_SIZE(low); i++)
		mk(lower, low[i].rel, low[i].type, low[i].data);
	for (size_t i = 0; i < ARRAY_SIZE(up); i++)
		mk(upper, up[i].rel, up[i].type, up[i].data);
	struct layer_change *c = NULL;
	size_t n = 0;
	struct sbx_error *e = NULL;
	int r = layer_diff(upper, lower, NULL, &c, &n, &e);
	ok(r == 0, "diff runs%s%s", e ? ": " : "", e ? e->msg : "");
	sbx_error_free(e);
	e = NULL;
	char *text = changes_text(c, n);
	is_str(text,
	       "C /a\nC /a/x\nA /a/z\nD /b\n"
	       "C /c\nD /c/c1\nC /c/c2\nD /c/c2/c21\nD /c/c3\n"
	       "C /e\nC /f\nA /f/f2\nD /f-g\nA /n\nA /n/l\nC /s\nA /s/in\n",
	       "whiteouts, opaque directories (deeply), type changes, sorted by path");
	free(text);
	layer_changes_free(c, n);
	/* An upper symlink to "/" was not walked: nothing of the host shows. */
	r = layer_diff("/nonexistent", lower, NULL, &c, &n, &e);
	ok(r < 0 && e && strstr(e->msg, "cannot open the upper layer \"/nonexistent\"") != NULL,
	   "a missing upper layer is an error");
	sbx_error_free(e);
	free(lower);
	free(upper);
}

/* ---- commit ---- */

static void test_commit(void)
{
	char *lower = xasprintf("%s/lower", base), *upper = xasprintf("%s/upper", base);
	char *mnt = xasprintf("%s/mnt", base);
	mkdir(mnt, 0755);
	/* The kernel never leaves a whiteout in a directory of one layer only
	 * (overlayfs refuses mknod 0/0 too), and lists one there as is. */
	char *c3 = xasprintf("%s/c/c3", upper);
	unlink(c3);
	free(c3);
	/* Unreadable to anyone but a capable owner. */
	mk(upper, "secret", 'f', "s");
	char *secret = xasprintf("%s/secret", upper);
	chmod(secret, 0);
	char *cmd[] = {(char *)"/bin/sh", NULL};
	struct sbx_image meta = {.source = (char *)"instance test", .cmd = cmd};
	struct sbx_error *e = NULL;
	int r = layer_commit(upper, lower, NULL, mnt, "committed", &meta, NULL, &e);
	if (r < 0 && e && strstr(e->msg, "user namespace")) {
		printf("# skipping commit: %s\n", e->msg);
		sbx_error_free(e);
		goto out;
	}
	ok(r == 0, "commit%s%s", e ? ": " : "", e ? e->msg : "");
	sbx_error_free(e);
	e = NULL;
	char *s = file_in("committed", "a/x");
	is_str(s, "changed", "the upper layer wins");
	free(s);
	s = file_in("committed", "a/y");
	is_str(s, "y", "the image shows through");
	free(s);
	ok(!exists_in("committed", "b") && !exists_in("committed", "c/c1") &&
	       !exists_in("committed", "c/c2/c21") && exists_in("committed", "c/c2"),
	   "whiteouts and opaque directories are honoured");
	s = file_in("committed", "e");
	is_str(s, "now a file", "a type change");
	free(s);
	char *p = root_of("committed", "secret");
	struct stat st;
	ok(lstat(p, &st) == 0 && (st.st_mode & 07777) == 0, "an unreadable file is copied, mode 0");
	free(p);
	ok(exists(mnt) && !exists_in("committed", "ghost"), "nothing is left mounted or made up");
	char *meta_path = xasprintf("%s/data/sbx/images/committed/image.json", base);
	struct sbx_image *img = NULL;
	ok(image_metadata_read(meta_path, &img, &e) == 0 && img->source &&
	       strcmp(img->source, "instance test") == 0 && img->cmd &&
	       strcmp(img->cmd[0], "/bin/sh") == 0,
	   "metadata from the caller");
	image_free(img);
	sbx_error_free(e);
	e = NULL;
	free(meta_path);
	r = layer_commit(upper, lower, NULL, mnt, "committed", &meta, NULL, &e);
	ok(r < 0 && e && e->code == EEXIST && strstr(e->msg, "already exists"),
	   "an existing image: the error and its code come back from the child");
	sbx_error_free(e);
out:
	free(secret);
	free(mnt);
	free(lower);
	free(upper);
}

int main(void)
{
	char tmpl[] = "/tmp/sbx-test-layer-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return 1;
	base = xstrdup(tmpl);
	char *data = xasprintf("%s/data", base);
	setenv("XDG_DATA_HOME", data, 1);
	free(data);

	test_layers();
	test_bad_layouts();
	test_selection();
	test_diff();
	test_commit();

	rm_tree(base);
	free(base);
	return done_testing();
}
