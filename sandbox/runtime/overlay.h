/* overlay.h - the writable root: an overlay of the image and an upper layer.
 *
 * Backends sit behind one small interface so that fuse-overlayfs can slot in
 * beside the kernel's overlayfs. */
#ifndef SBX_OVERLAY_H
#define SBX_OVERLAY_H

#include "lib/util.h"

/* How the sandbox gets a fuse-overlayfs mount: fn asks sbx, which knows the
 * layers from the config, and returns the merged tree as a detached mount in
 * *tree (see overlay_fuse_serve). */
struct sbx_fuse_request {
	int (*fn)(void *ctx, int *tree, struct sbx_error **err);
	void *ctx;
};

struct sbx_overlay_spec {
	const char *lower, *upper, *work;
	const char *target;                  /* where the merged tree is mounted */
	bool volatile_upper;                 /* no syncs: the upper layer is thrown away */
	unsigned long long scratch_size;     /* overlay_scratch's tmpfs, bytes; 0 = kernel's */
	const struct sbx_fuse_request *fuse; /* NULL: no fuse-overlayfs */
	bool in_memory;                      /* upper and work are in a tmpfs of the sandbox */
};

/* Whether the running kernel can keep an overlay's upper layer in a tmpfs
 * from inside a user namespace: overlayfs then stores its whiteouts and
 * opaque directories in user.* xattrs, which tmpfs has since Linux 6.6. */
bool overlay_scratch_supported(void);

/* Scratch for an overlay whose upper layer lives in memory: a fresh tmpfs
 * of the sandbox's own, attached on spec->target, with upper/, work/ and
 * root/ in it; spec then points at them, root/ as the new target. The
 * paths live in paths[3]. */
int overlay_scratch(struct sbx_overlay_spec *spec, char paths[3][4096], struct sbx_error **err);

/* The options every overlay sbx mounts in a user namespace needs, on an
 * overlay context (fsctx.h): userxattr (refused: the kernel is too old),
 * and index and xino off where the kernel knows them. */
int overlay_userns_options(int fsfd, struct sbx_error **err);

struct sbx_overlay_driver {
	const char *name;
	/* Runs in the sandbox's user and mount namespace. */
	int (*mount)(const struct sbx_overlay_spec *spec, struct sbx_error **err);
};

extern const struct sbx_overlay_driver overlay_kernel;
extern const struct sbx_overlay_driver overlay_fuse;

/* sbx's side of fuse-overlayfs: runs it over the layers (lower, upper and
 * work: sbx's own directories, not the payload's) in the user
 * namespace of the sandbox behind userns_pidfd, but in a mount namespace of
 * its own and in the host's pid namespace, out of the payload's reach; the
 * merged tree comes back as a detached mount in *tree. The daemon exits
 * once the sandbox's copy of the mount is gone. */
int overlay_fuse_serve(int userns_pidfd, const char *const layers[3], int *tree,
                       struct sbx_error **err);

/* The backend for a name from the config ("auto", "kernel", "fuse"). */
const struct sbx_overlay_driver *overlay_backend_get(const char *name);
/* Mounts with the named backend, falling back from the kernel to fuse as
 * "auto" allows; *used says which backend mounted it, and why. */
int overlay_mount(const char *backend, const struct sbx_overlay_spec *spec, char *used,
                  size_t used_len, struct sbx_error **err);

#endif
