/* container.h - the sandbox side: from a fresh clone to the payload's exec.
 * process.c starts these in the new process; they report over the sync
 * socket (runtime/sync.h) and never return. */
#ifndef SBX_CONTAINER_H
#define SBX_CONTAINER_H

#include "runtime/config.h"
#include "runtime/seccomp.h"

/* The sandbox side (container.c): never returns. The seccomp program, if
 * any, arrives over sync_fd while the sandbox sets itself up. init_path is
 * sbx-init's, with --init. */
_Noreturn void container_main(const struct sbx_config *c, const char *init_path, int sync_fd);

_Noreturn void container_join_main(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                   int sync_fd);

#endif
