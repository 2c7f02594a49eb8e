/* fsctx.c - filesystem contexts with the kernel's explanations (see fsctx.h). */
#define _GNU_SOURCE
#include "runtime/fsctx.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>

/* The context's log holds a few messages ("e ", "w " or "i " and the text);
 * reading takes them out. The last error, about the call that just failed
 * (else the last message), goes in buf ("" when there is none); the rest,
 * older, are dropped. */
static void last_message(int fsfd, char *buf, size_t len)
{
	buf[0] = '\0';
	bool error = false;
	char m[512];
	for (int i = 0; i < 32; i++) {
		ssize_t n = read(fsfd, m, sizeof(m) - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break; /* ENODATA: no more */
		if (n <= 2)
			continue;
		m[n] = '\0';
		if (m[n - 1] == '\n')
			m[n - 1] = '\0';
		if (error && m[0] != 'e')
			continue;
		error = m[0] == 'e';
		snprintf(buf, len, "%s", m);
	}
}

int fsctx_open(const char *type, struct sbx_error **err, const char *fmt, ...)
{
	int fd = fsopen(type, FSOPEN_CLOEXEC);
	if (fd >= 0)
		return fd;
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	sbx_error_setv(err, e, fmt, ap);
	va_end(ap);
	return -1;
}

int fsctx_try(int fsfd, unsigned int cmd, const char *key, const void *value, int aux)
{
	if (fsconfig(fsfd, cmd, key, value, aux) == 0)
		return 0;
	int e = errno;
	char msg[512];
	last_message(fsfd, msg, sizeof(msg));
	errno = e;
	return -1;
}

int fsctx_set(int fsfd, unsigned int cmd, const char *key, const void *value, int aux,
              struct sbx_error **err, const char *fmt, ...)
{
	if (fsconfig(fsfd, cmd, key, value, aux) == 0)
		return 0;
	int e = errno;
	char msg[512];
	last_message(fsfd, msg, sizeof(msg));
	va_list ap;
	va_start(ap, fmt);
	char *what = xvasprintf(fmt, ap);
	va_end(ap);
	sbx_error_set(err, e, "%s%s%s", what, msg[0] ? ": " : "", msg);
	free(what);
	return -1;
}
