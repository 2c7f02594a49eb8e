/* image.h - the image store: root filesystems kept under
 * $XDG_DATA_HOME/sbx/images/NAME/{rootfs,image.json}. Image contents are
 * hostile; they are only interpreted here, while importing. */
#ifndef SBX_IMAGE_H
#define SBX_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#include <jansson.h>

struct sbx_image {
	char *name;    /* the stored name, or the path given for a directory */
	char *dir;     /* images/NAME, NULL for a plain directory */
	char *rootfs;  /* absolute path of the root filesystem */
	char *source;  /* where it came from; NULL when unknown */
	char *created; /* RFC 3339 UTC; NULL when unknown */
	uint64_t size; /* bytes of file content, 0 when unknown */
	/* Defaults for run, all optional. */
	char **cmd;
	char **env;
	char *workdir;
	char *user;
	/* From image_resolve and image_open_shared: the image store's lock,
	 * held shared (image-lock.h) until image_take_lock hands it on or
	 * image_free closes it. */
	bool locked;
	int lockfd;
};

void image_free(struct sbx_image *img);
static inline void image_freep(struct sbx_image **img)
{
	image_free(*img);
}
#define _cleanup_image_ _cleanup_(image_freep)
void image_list_free(struct sbx_image **imgs, size_t n);

/* The size limit of an import, unless the caller sets another. */
#define IMAGE_MAX_SIZE_DEFAULT (8ULL << 30)

/* Callbacks for the caller to show what happens; any may be NULL. The
 * library prints nothing itself. */
struct sbx_image_progress {
	void (*info)(void *ctx, const char *msg); /* e.g. "creating image ..." */
	void (*warn)(void *ctx, const char *msg); /* e.g. skipped device nodes */
	/* bytes of the source consumed so far; total is 0 when unknown. */
	void (*progress)(void *ctx, uint64_t bytes, uint64_t total);
	void *ctx;
	/* The size limit of an import: file sizes (holes included) plus 4 KiB
	 * an entry. 0 is IMAGE_MAX_SIZE_DEFAULT. */
	uint64_t max_size;
	/* image_import_layers: replace an image of the same name (staging.h
	 * says how instances that use it keep it). */
	bool replace;
};

/* Errors from these functions carry a code callers may test: ENOENT for an
 * image that is not there, EEXIST for a name that is taken, EINVAL for a bad
 * name. */

/* The only tag sbx knows: NAME:latest is NAME, as podman's default tag. */
#define IMAGE_DEFAULT_TAG "latest"
/* The stored name an image reference means: ref without a ":latest"
 * suffix. Every function here that takes an image name calls it. */
char *image_ref_name(const char *ref);

/* 0 when name is a valid image name, else -1 with *err set (EINVAL); a
 * name with another tag (NAME:TAG) is refused, saying so. */
int image_check_name(const char *name, struct sbx_error **err);

/* $XDG_DATA_HOME/sbx/images (not created). */
int image_store_dir(char **out, struct sbx_error **err);

int image_open(const char *name, struct sbx_image **out, struct sbx_error **err);
/* The same, for making an instance of it: opened with the store's lock held
 * shared (waiting while an image is added, replaced or removed), which the
 * image keeps (locked). */
int image_open_shared(const char *name, struct sbx_image **out, struct sbx_error **err);
/* The held lock's fd, for the caller to close once the instance is
 * recorded; -1 when img holds none. */
int image_take_lock(struct sbx_image *img);

/* For `sbx run/spec IMAGE`: a directory (IMAGE starts with '/', "./" or
 * "../", or has a '/' and exists) is a root filesystem, used as is; a
 * name without '/' is a stored image, or else the image pulled from that
 * reference (image_find_source: "alpine" is docker.io/library/alpine); any
 * other registry reference is the image pulled from it. A missing
 * "busybox" is bootstrapped last when auto_bootstrap is set
 * (progress->info says so). A stored image comes with the store's lock held
 * shared, as image_open_shared's. */
/* Whether image_resolve takes IMAGE as a directory: it starts with '/',
 * "./" or "../" (or is "." or ".."), or it has a '/' and exists. */
bool image_is_directory(const char *image);
int image_resolve(const char *image, bool auto_bootstrap, const struct sbx_image_progress *progress,
                  struct sbx_image **out, struct sbx_error **err);

/* The stored image pulled from ref (a registry reference, reference.h): the
 * first by name whose recorded source ("docker://...") has the same normal
 * form. ENOENT when none, with the fix (sbx pull, --pull missing) in the
 * message; EINVAL when ref is no reference. */
int image_find_source(const char *ref, struct sbx_image **out, struct sbx_error **err);

/* All stored images, sorted by name. An image whose metadata cannot be read
 * is listed with only name, dir and rootfs set. */
int image_list(struct sbx_image ***out, size_t *n, struct sbx_error **err);

/* Removes an image no instance uses: EBUSY, naming the instance, for one
 * whose lower layer it is. Waits while an instance is being made. */
int image_remove(const char *name, struct sbx_error **err);

/* SOURCE is a directory (copied) or a tar archive, maybe compressed with
 * gzip, bzip2, xz, lzma, zstd, lz4 or compress; "-" is standard input. Atomic: the image appears
 * complete or not at all. Setuid/setgid bits, owners, xattrs and device nodes are dropped.
 * Imports stop (EFBIG) beyond progress->max_size, or (ENOSPC) when the file system
 * of the store has less than min(256 MiB, 5%) left, and nest at most 512
 * directories deep. */
int image_import(const char *name, const char *source, const struct sbx_image_progress *progress,
                 struct sbx_error **err);
/* The same, recording with's source (when set), cmd, env, workdir and user. */
int image_import_with(const char *name, const char *source, const struct sbx_image *with,
                      const struct sbx_image_progress *progress, struct sbx_error **err);

/* A layered import (OCI image layers, see layer.h): archives extracted one
 * after another onto the same root, as safely as image_import's. */
struct sbx_image_layers {
	size_t n;
	/* Opens layer i for reading: returns an fd (closed by the importer) and
	 * its size for progress, or -1 with *err set. */
	int (*open)(void *ctx, size_t i, uint64_t *size, struct sbx_error **err);
	/* After layer i, failed or not; may refuse it (-1 with *err set) or add
	 * context to the error of a failed one. May be NULL. */
	int (*close)(void *ctx, size_t i, bool failed, struct sbx_error **err);
	/* Sees the normalized path of each entry (never "", "..", absolute)
	 * before it is extracted, and the root it goes into: 0 extracts it,
	 * 1 drops it (handled, e.g. a whiteout), -1 fails with *err set. */
	int (*entry)(void *ctx, int rootfd, const char *path, struct sbx_error **err);
	void *ctx;
};
/* Builds image name from the layers, atomically like image_import; meta
 * gives source, cmd, env, workdir and user. */
int image_import_layers(const char *name, const struct sbx_image_layers *layers,
                        const struct sbx_image *meta, const struct sbx_image_progress *progress,
                        struct sbx_error **err);

/* Copies an image's root filesystem to dst, which must not exist yet (for
 * `sbx spec --bundle`); on failure dst is removed again. */
int image_copy_rootfs(const struct sbx_image *img, const char *dst,
                      const struct sbx_image_progress *progress, struct sbx_error **err);

/* Builds a minimal image from a static busybox binary; busybox_path NULL
 * searches /bin/busybox and /usr/bin/busybox. */
int image_bootstrap_busybox(const char *name, const char *busybox_path,
                            const struct sbx_image_progress *progress, struct sbx_error **err);

/* Optional members of a JSON object: absent or null leaves *out alone;
 * another type is an error "WHERE: "KEY" must be ...". */
int image_json_string(json_t *o, const char *key, char **out, const char *where,
                      struct sbx_error **err);
int image_json_strv(json_t *o, const char *key, char ***out, const char *where,
                    struct sbx_error **err);

/* Metadata file image.json in dirfd (written atomically), and reading one. */
int image_metadata_write(int dirfd, const struct sbx_image *img, struct sbx_error **err);
int image_metadata_read(const char *path, struct sbx_image **out, struct sbx_error **err);

#endif
