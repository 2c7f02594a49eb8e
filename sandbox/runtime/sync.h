/* sync.h - messages between sbx and the sandbox's set-up, over the sync
 * socket: the protocol (libexec/sbx-sync.h), with passed fds. */
#ifndef SBX_RUNTIME_SYNC_H
#define SBX_RUNTIME_SYNC_H

#include "libexec/sbx-sync.h"
#include "runtime/seccomp.h"

#include <stddef.h>

/* Message helpers shared by both sides: one message, with pass_fd or up to
 * FDPASS_MAX fds. The receivers return 1 with a message, 0 at EOF, -1. */
int sync_send(int fd, int type, int errnum, int exit_code, const char *text, int pass_fd);
int sync_send_fds(int fd, int type, int errnum, int exit_code, const char *text, const int *fds,
                  size_t nfds);
int sync_recv(int fd, struct sbx_sync_msg *m, int *passed_fd);
int sync_recv_fds(int fd, struct sbx_sync_msg *m, int *fds, size_t max, size_t *nfds);

#endif
