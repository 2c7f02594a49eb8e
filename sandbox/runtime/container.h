/* container.h - the sandbox side: from a fresh clone to the payload's exec.
 * process.c starts these in the new process; they report over the sync
 * socket (runtime/sync.h) and never return. */
#ifndef SBX_CONTAINER_H
#define SBX_CONTAINER_H

#include "runtime/config.h"
#include "runtime/seccomp.h"

/* Whether pid 1 is sbx-init started as the set-up starts (and not once it
 * is done): c->init, for sbx run's sandboxes (container.c). */
bool container_init_early(const struct sbx_config *c);

/* The sandbox side (container.c): never returns. It runs in sbx's memory
 * and reads c, init_path (sbx-init's, with --init) and bpf (the payload's
 * seccomp program, or NULL) where they are. WORKER_STACK is the top of a
 * stack for the clone that builds the sandbox while pid 1 execs sbx-init. */
_Noreturn void container_main(const struct sbx_config *c, const char *init_path,
                              const struct sbx_bpf *bpf, int sync_fd, void *worker_stack);

_Noreturn void container_join_main(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                   int sync_fd);

#endif
