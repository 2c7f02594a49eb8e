/* mount-lock.h - lock the sandbox's mounts against its own capabilities. */
#ifndef SBX_MOUNT_LOCK_H
#define SBX_MOUNT_LOCK_H

#include "lib/util.h"

/* Moves the caller into a copy of its mount namespace owned by a nested,
 * empty user namespace. The kernel marks every copied mount locked: no
 * process can unmount it to reveal what it hides, move it, or clear its
 * read-only, nosuid, nodev or noexec flags, whatever its capabilities.
 * The caller stays in its user namespace, so the payload keeps its
 * capabilities over the sandbox's network, uts, ipc and pid namespaces.
 * Call once, after the last mount and pivot_root. */
int mount_lock(struct sbx_error **err);
/* The mount namespace mount_lock left, held open (or -1): dropping its last
 * reference unmounts its whole tree and waits for an RCU grace period, which
 * whoever takes this fd does when it has the time. */
int mount_lock_take_old(void);
/* Reaps the short-lived child mount_lock killed: call later, before anything
 * of the payload runs. Does nothing without one. */
void mount_lock_reap(void);

#endif
