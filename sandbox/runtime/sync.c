/* sync.c - messages between sbx and the sandbox's set-up over the sync
 * socket (libexec/sbx-sync.h), with passed fds and the seccomp program. */
#define _GNU_SOURCE
#include "runtime/sync.h"
#include "lib/fdpass.h"

#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int sync_send_fds(int fd, int type, int errnum, int exit_code, const char *text, const int *fds,
                  size_t nfds)
{
	struct sbx_sync_msg m = {.type = type, .errnum = errnum, .exit_code = exit_code};
	snprintf(m.text, sizeof(m.text), "%s", text ? text : "");
	return fdpass_send(fd, &m, sizeof(m), fds, nfds);
}

int sync_send(int fd, int type, int errnum, int exit_code, const char *text, int pass_fd)
{
	return sync_send_fds(fd, type, errnum, exit_code, text, &pass_fd, pass_fd >= 0 ? 1 : 0);
}

int sync_recv_fds(int fd, struct sbx_sync_msg *m, int *fds, size_t max, size_t *nfds)
{
	ssize_t r = fdpass_recv(fd, m, sizeof(*m), fds, max, nfds);
	if (r <= 0)
		return (int)r;
	if ((size_t)r != sizeof(*m)) {
		for (size_t i = 0; nfds && i < *nfds; i++)
			close(fds[i]);
		errno = EPROTO;
		return -1;
	}
	m->text[sizeof(m->text) - 1] = '\0';
	return 1;
}

/* Returns 1 with a message, 0 on EOF, -1 on error. */
int sync_recv(int fd, struct sbx_sync_msg *m, int *passed_fd)
{
	size_t n = 0;
	int r = sync_recv_fds(fd, m, passed_fd, passed_fd ? 1 : 0, &n);
	if (passed_fd && n == 0)
		*passed_fd = -1;
	return r;
}

int sync_send_bpf(int fd, const struct sbx_bpf *bpf)
{
	size_t bytes = bpf->len * sizeof(struct sock_filter);
	if (sync_send(fd, SBX_SYNC_SECCOMP, (int)bpf->flags, (int)bytes, "", -1) < 0)
		return -1;
	ssize_t r;
	do
		r = send(fd, bpf->insns, bytes, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)bytes ? 0 : -1;
}

int sync_recv_bpf(int fd, const struct sbx_sync_msg *m, struct sbx_bpf *bpf)
{
	size_t bytes = (size_t)m->exit_code;
	if (m->type != SBX_SYNC_SECCOMP || bytes == 0 || bytes % sizeof(struct sock_filter) ||
	    bytes > BPF_MAXINSNS * sizeof(struct sock_filter)) {
		errno = EPROTO;
		return -1;
	}
	bpf->insns = xmalloc(bytes);
	ssize_t r;
	do
		r = recv(fd, bpf->insns, bytes, 0);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)bytes) {
		errno = r < 0 ? errno : EPROTO;
		return -1;
	}
	bpf->len = bytes / sizeof(struct sock_filter);
	bpf->flags = (unsigned)m->errnum;
	return 0;
}
