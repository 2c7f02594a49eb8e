/* libexec.c - finding sbx's helper programs. */
#define _GNU_SOURCE
#include "lib/libexec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SBX_LIBEXECDIR
#define SBX_LIBEXECDIR "/usr/local/libexec/sbx"
#endif

/* Looked for at each use: cheap, and the environment may have changed. */
int libexec_find(const char *name, const char *what, char **out, struct sbx_error **err)
{
	char *path = NULL;
	const char *dir = getenv("SBX_LIBEXECDIR");
	if (dir && dir[0]) {
		path = xasprintf("%s/%s", dir, name);
	} else {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		char *slash = n > 0 ? memrchr(self, '/', (size_t)n) : NULL;
		if (slash) {
			*slash = '\0';
			path = xasprintf("%s/%s", self, name);
			if (access(path, X_OK) == 0) {
				*out = path;
				return 0;
			}
			free(path);
			path = NULL;
		}
		if (path == NULL)
			path = xasprintf("%s/%s", SBX_LIBEXECDIR, name);
	}
	if (access(path, X_OK) < 0) {
		int e = errno;
		sbx_error_setc(err, e,
		               "cannot run %s \"%s\": %s; reinstall sbx ('make install' "
		               "installs it in %s)",
		               what, path, strerror(e), SBX_LIBEXECDIR);
		free(path);
		return -1;
	}
	*out = path;
	return 0;
}
