/* nsjoin.h - linux.namespaces entries with a path: the namespaces a
 * sandbox joins instead of creating them (podman's and CNI's network
 * namespace, a pod's ipc and uts, a user namespace made beforehand). */
#ifndef SBX_NSJOIN_H
#define SBX_NSJOIN_H

#include "runtime/config.h"
#include "lib/util.h"

/* Opens each of c->ns_paths (O_CLOEXEC), checks with NS_GET_NSTYPE that it
 * is a namespace of its entry's type, and joins them with setns: the user
 * namespace first, except the namespaces it does not own, which come
 * before it. The calling process itself moves; a clone after this creates
 * the sandbox's other namespaces inside the joined ones (a new pid
 * namespace, or the joined one's, holds its children). Mount namespaces
 * are never joined (config.c refuses them). */
int nsjoin_enter(const struct sbx_config *c, struct sbx_error **err);

/* The user namespace that owns the namespace file path (/proc/PID/ns/X),
 * as /proc/PID/ns/user, when it is not the caller's own; NULL otherwise
 * (or when path names no process). A pod's members join the user namespace
 * of the pod's infra container this way: its ipc and uts namespaces belong
 * to it, and a user namespace of their own could not mount their mqueue. */
char *nsjoin_owner_path(const char *path);

#endif
