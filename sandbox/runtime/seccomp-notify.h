/* seccomp-notify.h - linux.seccomp's listenerPath: the notification fd of an
 * SCMP_ACT_NOTIFY filter goes to a seccomp agent, with the container's state. */
#ifndef SBX_SECCOMP_NOTIFY_H
#define SBX_SECCOMP_NOTIFY_H

#include "lib/util.h"

struct sbx_config;

/* In the sandbox's first process, before pivot_root (the host's paths and
 * /proc are still there), when the policy has a listenerPath: connects to
 * that unix socket and prepares the container process state (the runtime
 * spec's "seccomp" section: ociVersion, fds ["seccompFd"], pid, metadata
 * from listenerMetadata, and the state). Does nothing otherwise. */
int seccomp_notify_prepare(const struct sbx_config *c, struct sbx_error **err);
/* Once the filter is installed: sends the state with LISTENER (SCM_RIGHTS)
 * over the connection and closes both (only LISTENER without one prepared). */
int seccomp_notify_send(int listener, struct sbx_error **err);

#endif
