/* userns.h - user namespace id maps, subordinate ranges and diagnosis. */
#ifndef SBX_USERNS_H
#define SBX_USERNS_H

#include "runtime/config.h"
#include "lib/util.h"

#include <sys/types.h>

/* Reads the caller's first range from /etc/subuid or /etc/subgid (by name
 * or by number). Returns 0, or -1 with a hint to add one. */
int userns_subid_range(const char *file, uid_t uid, unsigned *start, unsigned *count,
                       struct sbx_error **err);
/* Both ranges: subuid start and count, then subgid start and count. */
int userns_subids(uid_t uid, unsigned ids[4], struct sbx_error **err);
/* The maps --userns subid gives a sandbox, for one of the caller's ids
 * (uid or gid) and its subordinate range: the id as 0, the range from 1;
 * root's first 65536 ids as they are. Without subid, the id as 0 alone.
 * Returns how many of out's two entries it filled. */
size_t userns_subid_layout(unsigned id, bool subid, unsigned start, unsigned count,
                           struct sbx_idmap out[2]);
/* Writes the child's uid_map and gid_map: directly for the caller's own id
 * (or as root), through the setuid newuidmap/newgidmap only for ranges. */
int userns_write_maps(pid_t pid, const struct sbx_config *c, struct sbx_error **err);
/* Runs fn in a child process that is root in a new user namespace with the
 * config's id maps (NULL: the caller's own uid and gid only): it can then
 * read and remove files the sandbox left owned by subordinate ids or
 * unreadable, which the caller cannot touch directly. fn's error, code and
 * message, comes back. */
int userns_run_mapped(const struct sbx_config *c, int (*fn)(void *arg, struct sbx_error **err),
                      void *arg, struct sbx_error **err);
/* Makes the calling process root of a new user namespace with the config's
 * id maps, which a child process writes from outside (through newuidmap and
 * newgidmap for ranges), as util-linux's unshare --map-users does: what it
 * executes next runs there, e.g. `sbx unshare`'s command. */
int userns_enter_mapped(const struct sbx_config *c, struct sbx_error **err);
/* Why creating a user namespace failed with errnum, as a hint, or NULL. */
const char *userns_hint(int errnum);

#endif
