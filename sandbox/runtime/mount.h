/* mount.h - mounts inside the sandbox, onto fds resolved within the root.
 *
 * Every destination is resolved relative to the root fd with
 * RESOLVE_IN_ROOT, so a symlink in the image can never point a mount or a
 * write outside the root. */
#ifndef SBX_MOUNT_H
#define SBX_MOUNT_H

#include "runtime/config.h"
#include "lib/util.h"

#include <stdbool.h>

/* openat2 within root, retrying on EAGAIN. Returns an fd or -errno. */
int mount_openat_in_root(int rootfd, const char *path, int flags, unsigned long long resolve);
/* Opens DEST inside the root, creating missing directories (and, when file is
 * set, an empty file as the last component). Returns an O_PATH fd. */
int mount_open_target(int rootfd, const char *dest, bool file, int *out, struct sbx_error **err);

/* Makes every mount a slave of the host, so nothing propagates back. */
int mount_make_rslave(struct sbx_error **err);
/* Applies one mount of the config. */
int mount_apply(int rootfd, const struct sbx_mount *m, struct sbx_error **err);
/* A new filesystem instance of m (type, source, fs_options, attr), as a
 * detached mount in *out; m->dest only names it in errors. */
int mount_make_fs(const struct sbx_mount *m, int *out, struct sbx_error **err);
/* Like mount_apply, but a mount on DIR/NAME, where dirfd is DIR's (an
 * O_PATH fd of a directory sbx made and filled itself, such as
 * mount_setup_dev's /dev), creates NAME in dirfd and mounts there: no
 * lookup from the root, which on a fresh /dev would fail first. Anything
 * else, or NAME there already, goes mount_apply's way; dirfd -1 too. */
/* dest is DIR/NAME: one more component, not "." or "..", no "//". */
bool mount_dest_in(const char *dest, const char *dir);
int mount_apply_in(int rootfd, int dirfd, const char *dir, const struct sbx_mount *m,
                   struct sbx_error **err);
/* Populates a fresh /dev: host devices bound in, and the usual symlinks.
 * *out: an O_PATH fd of it, for mount_apply_in. */
int mount_setup_dev(int rootfd, int *out, struct sbx_error **err);
/* Hides path: /dev/null over a file, an empty read-only tmpfs over a
 * directory. *empty keeps that tmpfs for the next directory, *null the
 * host's /dev/null, verified, for the next file (both start at -1; close
 * them when done). */
int mount_mask(int rootfd, const char *path, int *empty, int *null, struct sbx_error **err);
int mount_readonly(int rootfd, const char *path, struct sbx_error **err);
/* Binds dir onto itself (read-only if asked) so it can become the root. */
int mount_bind_root(const char *dir, bool readonly, struct sbx_error **err);
/* pivot_root into the root fd and detaches the old root. */
int mount_pivot(int rootfd, struct sbx_error **err);

/* After pivot_root: sets the propagation (MS_SHARED, MS_SLAVE, MS_PRIVATE or
 * MS_UNBINDABLE, with MS_REC for the tree) of the mount at DEST, resolved in
 * the root. */
int mount_set_propagation(const char *dest, unsigned long flags, struct sbx_error **err);

#endif
