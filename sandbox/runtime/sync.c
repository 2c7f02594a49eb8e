/* sync.c - messages between sbx and the sandbox's set-up over the sync
 * socket (libexec/sbx-sync.h), with passed fds. */
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
