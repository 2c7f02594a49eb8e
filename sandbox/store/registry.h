/* registry.h - images pulled from a registry, and pushed to one. sbx has no
 * registry client of its own: Debian's skopeo copies the image into an OCI
 * image layout in a private staging directory of the image store, and the
 * layout import (layer.h) makes the image from it, as for `sbx image
 * import`; a push goes the other way, from a layout layer_export_oci
 * writes.
 *
 * What a registry sends is hostile like any layout: skopeo only fetches and
 * checks digests; every blob is checked again and extracted by the layout
 * import. skopeo runs as the caller, with a minimal environment, and its
 * temporary files stay in the staging directory, which is removed whether
 * the pull succeeds or not. */
#ifndef SBX_REGISTRY_H
#define SBX_REGISTRY_H

#include "store/layer.h"

/* What to pull or push, and how. */
struct registry_opts {
	const char *reference; /* as the user typed it: see registry_reference */
	const char *name;      /* pull: the stored name (NULL: registry_reference's);
	                        * push: the image to push */
	const char *authfile;  /* skopeo's --authfile; NULL: skopeo's default */
	bool tls_verify;       /* false: plain HTTP, no certificate checks */
	bool quiet;            /* skopeo's own progress off */
	int progress_fd;       /* where skopeo's progress goes; -1: nowhere */
	bool replace;          /* pull: replace the image pulled from the same
	                        * reference before (staging.h), as podman does */
};

/* The skopeo source a reference means (*source, "docker://" and the
 * reference's normal form, reference.h) and the stored name it gets
 * (*name): its last path component without the tag,
 * "localhost:5000/library/busybox:latest" is busybox; with a tag other
 * than "latest", the tag after a '-' (sbx keeps one tag per name):
 * "docker.io/library/alpine:3.19" is alpine-3.19. A reference is
 * "docker://REF" or [HOST[:PORT]/]PATH[:TAG|@DIGEST], where a first
 * component with a '.' or a ':' or "localhost" is the registry, else it is
 * docker.io, as docker's and podman's ("alpine" is
 * docker.io/library/alpine:latest). A digest needs an explicit name, as
 * does a path component that is no valid image name. Errors (EINVAL) say what to write
 * instead. */
int registry_reference(const char *reference, const char *name, char **source, char **stored,
                       struct sbx_error **err);

/* Pulls o->reference as an image: fails early (EEXIST) when the name is
 * taken and (ENOENT) when skopeo is not installed; skopeo's failure (an
 * unreachable registry, an unknown image or tag) comes with skopeo's
 * reason. *name gets the stored name. Atomic like image_import. */
int registry_pull(const struct registry_opts *o, const struct sbx_image_progress *progress,
                  layer_progress_fn on_layer, char **name, struct sbx_error **err);

/* Pushes image o->name to o->reference (the same forms as a pull's, any
 * tag, but with its registry: a push to docker.io is not guessed): tar(1) makes one layer of its
 * root filesystem, owned by root, in a staging directory of the store, layer_export_oci a layout
 * around it, and skopeo copies that to the registry. The staging directory is removed whether the
 * push succeeds or not. */
int registry_push(const struct registry_opts *o, struct sbx_error **err);

#endif
