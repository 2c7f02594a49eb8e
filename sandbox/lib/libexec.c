/* libexec.c - finding sbx's helper programs and data beside its binary. */
#define _GNU_SOURCE
#include "lib/libexec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SBX_LIBEXECDIR
#define SBX_LIBEXECDIR "/usr/local/libexec/sbx"
#endif

static char *self_path;
static int self_errno;
/* Who could replace the binary: the owners of it and of every directory
 * above it. */
static uid_t *self_owners;
static size_t n_self_owners;
static bool self_owners_read;

static void add_owner(uid_t uid)
{
	for (size_t i = 0; i < n_self_owners; i++)
		if (self_owners[i] == uid)
			return;
	self_owners = xrealloc(self_owners, (n_self_owners + 1) * sizeof(*self_owners));
	self_owners[n_self_owners++] = uid;
}

/* Read once: every lookup in this process then agrees on what "beside the
 * binary" is. */
const char *libexec_self(void)
{
	if (self_path == NULL && self_errno == 0) {
		char buf[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf));
		if (n <= 0 || (size_t)n >= sizeof(buf) || buf[0] != '/') {
			self_errno = n < 0 ? errno : ENAMETOOLONG;
		} else {
			buf[n] = '\0';
			self_path = xstrdup(buf);
		}
	}
	errno = self_errno;
	return self_path;
}

/* The owners of the binary and of every directory above it, read when a
 * file owned by neither root nor the caller asks for them (an install owned
 * by root, or a build tree of the caller's, never does). */
static void read_self_owners(void)
{
	if (self_owners_read || self_path == NULL)
		return;
	self_owners_read = true;
	struct stat st;
	if (stat("/proc/self/exe", &st) == 0)
		add_owner(st.st_uid);
	_cleanup_free_ char *buf = xstrdup(self_path);
	for (char *slash = strrchr(buf, '/'); slash; slash = strrchr(buf, '/')) {
		*slash = '\0';
		if (stat(buf[0] ? buf : "/", &st) == 0)
			add_owner(st.st_uid);
	}
}

/* Who may own what sbx takes from beside its binary: root, the caller, and
 * whoever could have replaced the binary itself. (In a user namespace that
 * does not map root, root's files show as the overflow uid, as do other
 * unmapped users': / then makes that uid trusted, for want of a way to
 * tell them apart.) */
static bool trusted_owner(uid_t uid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	read_self_owners();
	for (size_t i = 0; i < n_self_owners; i++)
		if (self_owners[i] == uid)
			return true;
	return false;
}

/* Writable by a group other than root's or the caller's own (a private
 * group, where the umask is 002), or by anyone. */
static bool writable_by_others(const struct stat *st)
{
	return (st->st_mode & S_IWOTH) ||
	       ((st->st_mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != getegid());
}

/* Why PATH (canonical) could be replaced by someone who could not have
 * replaced the binary, or NULL when it cannot. The directories it shares
 * with the binary's path are the binary's own risk; below them, each
 * directory and PATH itself must belong to a trusted owner, and none but a
 * sticky directory be writable by others (the sticky bit keeps them from
 * renaming what a trusted owner made). */
static char *untrusted(const char *path)
{
	size_t common = 0, i = 0;
	for (; path[i] && path[i] == self_path[i]; i++)
		if (path[i] == '/')
			common = i;
	if (path[i] == '\0' && self_path[i] == '/')
		return NULL;
	_cleanup_free_ char *p = xstrdup(path);
	for (char *end = p + common + 1;; end++) {
		bool last = *end == '\0';
		if (*end != '/' && !last)
			continue;
		*end = '\0';
		struct stat st;
		if (stat(p, &st) < 0)
			return xasprintf("\"%s\": %s", p, strerror(errno));
		if (!trusted_owner(st.st_uid))
			return xasprintf("\"%s\" belongs to uid %u", p, (unsigned)st.st_uid);
		if (writable_by_others(&st) && (last || !(st.st_mode & S_ISVTX)))
			return xasprintf("\"%s\" is writable by %s", p,
			                 (st.st_mode & S_IWOTH) ? "others" : "its group");
		if (last)
			return NULL;
		*end = '/';
	}
}

char *libexec_self_relative(const char *rel, char **why)
{
	if (why)
		*why = NULL;
	const char *self = libexec_self();
	if (self == NULL)
		return NULL;
	/* /proc/self/exe is canonical: ".." is its parent, lexically. */
	_cleanup_free_ char *dir = xstrndup(self, (size_t)(strrchr(self, '/') - self));
	while (str_startswith(rel, "../") || strcmp(rel, "..") == 0) {
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		rel += rel[2] ? 3 : 2;
	}
	_cleanup_free_ char *lexical = xasprintf("%s/%s", dir, rel);
	/* dir is canonical: a plain name in it that is no symlink is too, one
	 * lstat where realpath reads every component as a link. */
	_cleanup_free_ char *path = NULL;
	struct stat st;
	if (strchr(rel, '/') == NULL && strcmp(rel, ".") != 0 && strcmp(rel, "..") != 0 &&
	    rel[0] != '\0') {
		if (lstat(lexical, &st) < 0)
			return NULL;
		if (!S_ISLNK(st.st_mode))
			path = xstrdup(lexical);
	}
	if (path == NULL)
		path = realpath(lexical, NULL);
	if (path == NULL)
		return NULL;
	char *reason = untrusted(path);
	if (reason) {
		if (why)
			*why = xasprintf("\"%s\" is not used: %s", lexical, reason);
		free(reason);
		return NULL;
	}
	return steal_ptr(path);
}

char *libexec_dir(void)
{
	char *dir = libexec_self_relative("../libexec/sbx", NULL);
	return dir ? dir : xstrdup(SBX_LIBEXECDIR);
}

/* PATH when it is there to run, else NULL; frees it either way. */
static char *runnable(char *path)
{
	if (path && access(path, X_OK) == 0)
		return path;
	free(path);
	return NULL;
}

int libexec_find(const char *name, const char *what, char **out, struct sbx_error **err)
{
	char *path = NULL;
	_cleanup_free_ char *why = NULL, *dir = NULL;
	const char *env = getenv("SBX_LIBEXECDIR");
	int e = ENOENT;
	if (env && env[0]) {
		if ((path = runnable(xasprintf("%s/%s", env, name)))) {
			*out = path;
			return 0;
		}
		path = xasprintf("%s/%s", env, name);
	} else {
		/* Beside the binary (a build tree), then in the libexec
		 * directory beside its bin (an install, wherever it was put),
		 * then where sbx was built to be installed. */
		_cleanup_free_ char *rel = xasprintf("../libexec/sbx/%s", name);
		_cleanup_free_ char *why_rel = NULL;
		if ((path = runnable(libexec_self_relative(name, &why))) ||
		    (path = runnable(libexec_self_relative(rel, &why_rel))) ||
		    (path = runnable(xasprintf("%s/%s", SBX_LIBEXECDIR, name)))) {
			*out = path;
			return 0;
		}
		if (why_rel) {
			free(why);
			why = steal_ptr(why_rel);
		}
		/* Named in the error: the fallback, when something was refused
		 * before it, else where 'make install' puts it. */
		dir = libexec_dir();
		path = xasprintf("%s/%s", why ? SBX_LIBEXECDIR : dir, name);
	}
	if (access(path, X_OK) < 0)
		e = errno;
	if (dir == NULL)
		dir = libexec_dir();
	if (why)
		sbx_error_setc(err, e, "cannot run %s \"%s\": %s; %s", what, path, strerror(e),
		               why);
	else
		sbx_error_setc(err, e,
		               "cannot run %s \"%s\": %s; reinstall sbx ('make install' installs "
		               "it in %s)",
		               what, path, strerror(e), dir);
	free(path);
	return -1;
}
