/* fdpass.h - one datagram with file descriptors over a unix socket. */
#ifndef SBX_FDPASS_H
#define SBX_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX 4

/* Sends len bytes and nfds (at most FDPASS_MAX) descriptors; retries on
 * EINTR, never raises SIGPIPE. Returns 0 or -1 with errno. */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);
/* Receives one datagram into buf; the descriptors that came with it, marked
 * close-on-exec, go to fds (up to max; any beyond are closed) and their count
 * to *nfds. Returns the bytes received (0 at EOF) or -1 with errno. An
 * ECONNRESET (the peer exited with data unread) is retried once: what it
 * sent first is still queued. */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t max, size_t *nfds);

#endif
