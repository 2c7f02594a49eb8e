/* layer.h - layers: OCI image layouts imported as images (layers applied in
 * order, with whiteouts and opaque directories: oci-layout.c) and images
 * written as one (oci-export.c), and an instance's overlay upper layer
 * against its image: `sbx diff` and `sbx commit` (diff.c).
 *
 * Everything read here is hostile: a layout may come from anywhere and an
 * upper layer is written by the sandbox. Nothing is ever followed through a
 * symbolic link, and layer contents go through the image store's safe
 * extraction. */
#ifndef SBX_LAYER_H
#define SBX_LAYER_H

#include "runtime/config.h"
#include "store/image.h"
#include "store/instance.h"
#include "lib/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether source names an OCI image layout: a directory holding an
 * "oci-layout" file, maybe followed by ":REF" (as in skopeo's oci:DIR:REF). */
bool layer_is_oci_layout(const char *source);

/* Called as each layer starts: index counts from 0; the import's progress
 * callback then counts that layer's bytes. */
typedef void (*layer_progress_fn)(void *ctx, size_t index, size_t count, const char *digest,
                                  uint64_t size);

/* Imports the image of an OCI image layout as name. With several images in
 * the layout, source's ":REF" picks the one whose
 * org.opencontainers.image.ref.name is REF; several platforms resolve to
 * this machine's. Blobs are verified (size and sha256) before use. The
 * config's Entrypoint + Cmd, Env, WorkingDir and User become the image's
 * defaults. Atomic like image_import. on_layer gets progress->ctx. */
int layer_import_oci(const char *name, const char *source,
                     const struct sbx_image_progress *progress, layer_progress_fn on_layer,
                     struct sbx_error **err);

/* The same for the layout in directory dir (taken as it is, never as
 * "DIR:REF"), with origin (e.g. "docker://HOST/PATH") as the image's
 * source and in errors: a layout sbx had skopeo write. */
int layer_import_oci_from(const char *name, const char *dir, const char *origin,
                          const struct sbx_image_progress *progress, layer_progress_fn on_layer,
                          struct sbx_error **err);

/* This machine's architecture in OCI's words (GOARCH): "amd64", "arm64"... */
const char *layer_oci_arch(void);

/* Writes img as an OCI image layout into dirfd, an empty directory, for
 * `sbx push`: layer, a tarball of its root filesystem in dirfd, becomes
 * its only layer (moved into the blobs); img's cmd, env, workdir and user
 * its config's defaults, for linux and this machine's architecture. */
int layer_export_oci(int dirfd, const char *layer, const struct sbx_image *img,
                     struct sbx_error **err);

/* One difference between an upper layer and its lower: kind is 'A'
 * (added), 'C' (changed) or 'D' (deleted); path is absolute, raw bytes;
 * empty: an empty regular file or directory in the upper layer. */
struct layer_change {
	char kind;
	bool empty;
	char *path;
};

/* What the overlay upper directory adds, changes and deletes on top of
 * lower, whiteouts and opaque directories (user.overlay.opaque) included,
 * sorted by path with a directory before its contents. Read by fd as root
 * of a user namespace with maps' id maps (NULL: the caller's own ids), so
 * that what the sandbox made unreadable is read too. */
int layer_diff(const char *upper, const char *lower, const struct sbx_config *maps,
               struct layer_change **out, size_t *n, struct sbx_error **err);
void layer_changes_free(struct layer_change *c, size_t n);

/* The image an instance was created from, as its instance.json records it:
 * the root filesystem (which must still exist) and the image name (image
 * may be NULL). */
int layer_instance_image(struct sbx_instance *inst, char **rootfs, char **image,
                         struct sbx_error **err);

/* Saves the merged view of upper on lower as the new image name: a child
 * process in its own user namespace (with maps' id maps, NULL: the caller's
 * own ids; the caller as root) and mount namespace mounts a read-only
 * overlay of both on mountpoint, an empty directory, and imports it with
 * meta's source, cmd, env, workdir and user. */
int layer_commit(const char *upper, const char *lower, const struct sbx_config *maps,
                 const char *mountpoint, const char *name, const struct sbx_image *meta,
                 const struct sbx_image_progress *progress, struct sbx_error **err);

#endif
