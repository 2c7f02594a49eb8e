/* oci-export.c - an image written as an OCI image layout, for `sbx push`:
 * one uncompressed layer (the root filesystem as a tarball, which the
 * caller makes), a config with the image's defaults, a manifest and the
 * index. skopeo compresses the layer for the registry. */
#define _GNU_SOURCE
#include "store/layer.h"
#include "lib/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MT_LAYER    "application/vnd.oci.image.layer.v1.tar"
#define MT_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Writes data as blobs/sha256/HEX; *desc gets its descriptor. */
static int blob_write(int blobs, const char *media_type, const char *data, json_t **desc,
                      struct sbx_error **err)
{
	char hex[65];
	size_t len = strlen(data);
	sha256_hex(data, len, hex);
	if (write_file_atomic(blobs, hex, data, len, 0644, err) < 0)
		return -1;
	*desc = json_pack("{s:s, s:s+, s:I}", "mediaType", media_type, "digest", "sha256:", hex,
	                  "size", (json_int_t)len);
	return 0;
}

/* Dumps j as a blob (compact, as digests want it stable). */
static int json_blob(int blobs, const char *media_type, json_t *j, json_t **desc,
                     struct sbx_error **err)
{
	_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (s == NULL)
		return sbx_error_set(err, 0, "cannot encode the image's %s (invalid UTF-8?)",
		                     media_type);
	return blob_write(blobs, media_type, s, desc, err);
}

/* Hashes the layer tarball and moves it to blobs/sha256/HEX. */
static int layer_blob(int dirfd, const char *layer, int blobs, json_t **desc, char hex[65],
                      struct sbx_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, layer, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open the layer \"%s\"", layer);
	struct sha256 c;
	sha256_init(&c);
	_cleanup_free_ char *buf = xmalloc(256 << 10);
	uint64_t size = 0;
	for (;;) {
		ssize_t n = read(fd, buf, 256 << 10);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sbx_error_set(err, errno, "cannot read the layer \"%s\"", layer);
		if (n == 0)
			break;
		sha256_update(&c, buf, (size_t)n);
		size += (uint64_t)n;
	}
	sha256_final(&c, hex);
	if (renameat(dirfd, layer, blobs, hex) < 0)
		return sbx_error_set(err, errno, "cannot move the layer \"%s\"", layer);
	*desc = json_pack("{s:s, s:s+, s:I}", "mediaType", MT_LAYER, "digest", "sha256:", hex,
	                  "size", (json_int_t)size);
	return 0;
}

int layer_export_oci(int dirfd, const char *layer, const struct sbx_image *img,
                     struct sbx_error **err)
{
	if (mkdirat(dirfd, "blobs", 0755) < 0 || mkdirat(dirfd, "blobs/sha256", 0755) < 0)
		return sbx_error_set(err, errno, "cannot create the layout's \"blobs/sha256\"");
	_cleanup_close_ int blobs =
	    openat(dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (blobs < 0)
		return sbx_error_set(err, errno, "cannot open the layout's \"blobs/sha256\"");
	char diff_id[65];
	_cleanup_json_ json_t *layer_desc = NULL, *config_desc = NULL, *manifest_desc = NULL;
	if (layer_blob(dirfd, layer, blobs, &layer_desc, diff_id, err) < 0)
		return -1;
	json_t *defaults = json_object();
	if (img->cmd)
		json_object_set_new(defaults, "Cmd", strv_json(img->cmd));
	if (img->env)
		json_object_set_new(defaults, "Env", strv_json(img->env));
	if (img->workdir)
		json_object_set_new(defaults, "WorkingDir", json_string(img->workdir));
	if (img->user)
		json_object_set_new(defaults, "User", json_string(img->user));
	_cleanup_json_ json_t *config = json_pack(
	    "{s:s, s:s, s:o, s:{s:s, s:[s+]}}", "os", "linux", "architecture", layer_oci_arch(),
	    "config", defaults, "rootfs", "type", "layers", "diff_ids", "sha256:", diff_id);
	if (img->created)
		json_object_set_new(config, "created", json_string(img->created));
	if (json_blob(blobs, MT_CONFIG, config, &config_desc, err) < 0)
		return -1;
	_cleanup_json_ json_t *manifest =
	    json_pack("{s:i, s:s, s:O, s:[O]}", "schemaVersion", 2, "mediaType", MT_MANIFEST,
	              "config", config_desc, "layers", layer_desc);
	if (json_blob(blobs, MT_MANIFEST, manifest, &manifest_desc, err) < 0)
		return -1;
	_cleanup_json_ json_t *index =
	    json_pack("{s:i, s:[O]}", "schemaVersion", 2, "manifests", manifest_desc);
	_cleanup_free_ char *s = json_dumps(index, JSON_COMPACT);
	const char *marker = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if (write_file_atomic(dirfd, "index.json", s, strlen(s), 0644, err) < 0 ||
	    write_file_atomic(dirfd, "oci-layout", marker, strlen(marker), 0644, err) < 0)
		return -1;
	return 0;
}
