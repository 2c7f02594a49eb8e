/* overlay.c - kernel overlayfs, mounted from inside the user namespace. */
#define _GNU_SOURCE
#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>

static void fs_message(int fsfd, char *buf, size_t len)
{
	ssize_t n = read(fsfd, buf, len - 1);
	if (n <= 2) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

/* Layers go in as directory fds: no length limit, no escaping of ',' or ':'. */
static int set_layer(int fsfd, const char *key, const char *path, struct sbx_error **err)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open overlay %s \"%s\"", key, path);
	if (fsconfig(fsfd, FSCONFIG_SET_FD, key, NULL, fd) == 0)
		return 0;
	/* Kernels before 6.7 know neither "lowerdir+" nor fds: use the path. */
	const char *legacy = strcmp(key, "lowerdir+") == 0 ? "lowerdir" : key;
	_cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", fd);
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, legacy, proc, 0) == 0)
		return 0;
	char msg[256];
	int e = errno;
	fs_message(fsfd, msg, sizeof(msg));
	return sbx_error_set(err, e, "overlay refused %s \"%s\"%s%s", key, path,
			     msg[0] ? ": " : "", msg);
}

static int kernel_mount(const struct sbx_overlay_spec *s, struct sbx_error **err)
{
	_cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return sbx_error_set(err, errno, "the kernel has no overlay filesystem");
	fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "sbx", 0);
	if (set_layer(fsfd, "lowerdir+", s->lower, err) < 0 ||
	    set_layer(fsfd, "upperdir", s->upper, err) < 0 ||
	    set_layer(fsfd, "workdir", s->work, err) < 0)
		return -1;
	/* userxattr: trusted.* xattrs are out of reach in a user namespace. */
	static const char *const flags[][2] = {{"userxattr", NULL}, {"index", "off"},
					       {"xino", "off"}};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		int r = flags[i][1] ? fsconfig(fsfd, FSCONFIG_SET_STRING, flags[i][0],
					       flags[i][1], 0)
				    : fsconfig(fsfd, FSCONFIG_SET_FLAG, flags[i][0], NULL, 0);
		if (r < 0 && strcmp(flags[i][0], "userxattr") == 0)
			return sbx_error_set(err, errno,
					     "overlay option \"userxattr\" refused; the kernel is "
					     "too old for overlayfs in a user namespace (5.11+)");
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		char msg[256];
		int e = errno;
		fs_message(fsfd, msg, sizeof(msg));
		return sbx_error_set(err, e, "cannot create the overlay of \"%s\"%s%s", s->lower,
				     msg[0] ? ": " : "", msg);
	}
	_cleanup_close_ int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return sbx_error_set(err, errno, "cannot mount the overlay of \"%s\"", s->lower);
	if (move_mount(mfd, "", AT_FDCWD, s->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "cannot attach the overlay on \"%s\"", s->target);
	return 0;
}

const struct sbx_overlay_backend overlay_kernel = {"kernel", kernel_mount};

const struct sbx_overlay_backend *overlay_backend_get(const char *name)
{
	if (name == NULL || strcmp(name, "auto") == 0 || strcmp(name, "kernel") == 0)
		return &overlay_kernel;
	return NULL;
}

int overlay_mount(const char *backend, const struct sbx_overlay_spec *spec, const char **used,
		  struct sbx_error **err)
{
	const struct sbx_overlay_backend *b = overlay_backend_get(backend);
	if (b == NULL)
		return sbx_error_set(err, ENOTSUP,
				     "overlay backend \"%s\" is not available in this build",
				     backend);
	*used = b->name;
	return b->mount(spec, err);
}
