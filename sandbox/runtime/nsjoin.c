/* nsjoin.c - the namespaces a config names by path, joined by the process
 * that then clones the sandbox (see nsjoin.h). */
#define _GNU_SOURCE
#include "runtime/nsjoin.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens ns_paths[i] and checks that it is a namespace of its type. */
static int open_ns(const struct sbx_config *c, size_t i, int *out, struct sbx_error **err)
{
	const struct sbx_ns_path *p = &c->ns_paths[i];
	const char *want = config_ns_name(p->type);
	_cleanup_close_ int fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open the %s namespace \"%s\"", want,
		                     p->path);
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		return sbx_error_setc(err, errno == ENOTTY ? EINVAL : errno,
		                      "\"%s\" is not a namespace (a %s namespace is a file like "
		                      "/proc/PID/ns/%s)",
		                      p->path, want, strcmp(want, "network") == 0 ? "net" : want);
	if (type != p->type)
		return sbx_error_setc(err, EINVAL,
		                      "\"%s\" is not a namespace of type \"%s\" (it is of type "
		                      "\"%s\")",
		                      p->path, want, config_ns_name(type));
	*out = steal_fd(fd);
	return 0;
}

static int join(const struct sbx_config *c, size_t i, int fd, struct sbx_error **err)
{
	const struct sbx_ns_path *p = &c->ns_paths[i];
	if (setns(fd, p->type) == 0)
		return 0;
	int e = errno;
	if (e == EPERM)
		return sbx_error_setc(err, e,
		                      "cannot join the %s namespace \"%s\": %s (sbx has no "
		                      "privileges in the user namespace that owns it)",
		                      config_ns_name(p->type), p->path, strerror(e));
	return sbx_error_set(err, e, "cannot join the %s namespace \"%s\"", config_ns_name(p->type),
	                     p->path);
}

/* Is the namespace behind fd owned by the user namespace behind user? */
static bool owned_by(int fd, const struct stat *user)
{
	_cleanup_close_ int owner = ioctl(fd, NS_GET_USERNS);
	struct stat st;
	return owner >= 0 && fstat(owner, &st) == 0 && st.st_ino == user->st_ino &&
	       st.st_dev == user->st_dev;
}

/* linux.sysctl's keys of the joined namespaces: the sandbox, in a user
 * namespace of its own, may not write them (podman's network namespace
 * belongs to podman's user namespace); sbx may, once it joined them.
 * /proc/sys/net and the ipc keys show the caller's namespaces. */
static int write_sysctls(const struct sbx_config *c, struct sbx_error **err)
{
	for (size_t i = 0; c->sysctl && c->sysctl[i]; i++) {
		const char *kv = c->sysctl[i], *eq = strchr(kv, '=');
		if (!(c->join_flags & config_sysctl_ns(kv)))
			continue;
		_cleanup_free_ char *path = xasprintf("/proc/sys/%.*s", (int)(eq - kv), kv);
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		_cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || write(fd, eq + 1, strlen(eq + 1)) < 0)
			return sbx_error_set(err, errno, "cannot set the sysctl \"%.*s\" (%s)",
			                     (int)(eq - kv), kv, path);
	}
	return 0;
}

int nsjoin_enter(const struct sbx_config *c, struct sbx_error **err)
{
	if (c->n_ns_paths == 0)
		return 0;
	int fds[8];
	size_t n = 0, user = SIZE_MAX;
	int ret = 0;
	/* All opened first, as the caller may (a joined user namespace may
	 * not see /proc/PID/ns of the caller's processes). */
	for (; n < c->n_ns_paths && n < ARRAY_SIZE(fds); n++) {
		if (open_ns(c, n, &fds[n], err) < 0) {
			ret = sbx_error_prefix(err, "linux.namespaces");
			goto out;
		}
		if (c->ns_paths[n].type == CLONE_NEWUSER)
			user = n;
	}
	/* The namespaces the joined user namespace owns come after it (its
	 * root may join them); the others before, while the caller's own
	 * privileges still count (crun's order). */
	struct stat us;
	bool have_user = user != SIZE_MAX && fstat(fds[user], &us) == 0;
	for (int pass = 0; pass < 3 && ret == 0; pass++)
		for (size_t i = 0; i < n && ret == 0; i++) {
			bool is_user = i == user;
			bool after = have_user && !is_user && owned_by(fds[i], &us);
			if ((pass == 0 && !is_user && !after) || (pass == 1 && is_user) ||
			    (pass == 2 && after))
				ret = join(c, i, fds[i], err);
		}
	if (ret == 0)
		ret = write_sysctls(c, err);
	/* The same for the hostname, as runc sets it in a joined uts
	 * namespace. */
	if (ret == 0 && c->hostname && (c->join_flags & CLONE_NEWUTS) &&
	    sethostname(c->hostname, strlen(c->hostname)) < 0)
		ret = sbx_error_set(err, errno,
		                    "cannot set the hostname \"%s\" in the joined uts namespace",
		                    c->hostname);
out:
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return ret;
}

char *nsjoin_owner_path(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int owner = fd >= 0 ? ioctl(fd, NS_GET_USERNS) : -1;
	struct stat own, self, cand;
	if (owner < 0 || fstat(owner, &own) < 0 || stat("/proc/self/ns/user", &self) < 0 ||
	    (own.st_ino == self.st_ino && own.st_dev == self.st_dev))
		return NULL;
	int pid = 0, n = 0;
	if (sscanf(path, "/proc/%d/ns/%*[a-z_]%n", &pid, &n) != 1 || n == 0 || path[n] != '\0' ||
	    pid <= 0)
		return NULL;
	char *user = xasprintf("/proc/%d/ns/user", pid);
	if (stat(user, &cand) < 0 || cand.st_ino != own.st_ino || cand.st_dev != own.st_dev) {
		free(user);
		return NULL;
	}
	return user;
}
