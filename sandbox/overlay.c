/* overlay.c - kernel overlayfs, mounted from inside the user namespace. */
#define _GNU_SOURCE
#include "overlay.h"
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

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
	return sbx_error_set(err, e, "overlay refused %s \"%s\"%s%s", key, path, msg[0] ? ": " : "",
	                     msg);
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
	static const char *const flags[][2] = {
	    {"userxattr", NULL}, {"index", "off"}, {"xino", "off"}};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		int r = flags[i][1]
		            ? fsconfig(fsfd, FSCONFIG_SET_STRING, flags[i][0], flags[i][1], 0)
		            : fsconfig(fsfd, FSCONFIG_SET_FLAG, flags[i][0], NULL, 0);
		if (r < 0 && strcmp(flags[i][0], "userxattr") == 0)
			return sbx_error_set(err, errno,
			                     "overlay option \"userxattr\" refused; the kernel is "
			                     "too old for overlayfs in a user namespace (5.11+)");
	}
	/* Best effort: kernels before 5.10 lack it and simply sync. */
	if (s->volatile_upper)
		fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0);
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

const struct sbx_overlay_driver overlay_kernel = {"kernel", kernel_mount};

/* The layers go to fuse-overlayfs as /proc/self/fd/N of fds it inherits, so
 * no path needs escaping for its option string. */
static int open_inherited(const char *path, const char *what, int *fd, struct sbx_error **err)
{
	*fd = open(path, O_PATH | O_DIRECTORY);
	if (*fd < 0)
		return sbx_error_set(err, errno, "cannot open overlay %s \"%s\"", what, path);
	return 0;
}

/* fuse-overlayfs daemonizes once the mount is in place, so waiting for the
 * first process is waiting for the mount. The daemon lives in the sandbox's
 * pid namespace and dies with it. */
static int fuse_mount(const struct sbx_overlay_spec *s, struct sbx_error **err)
{
	int lower = -1, upper = -1, work = -1;
	if (open_inherited(s->lower, "lower", &lower, err) < 0 ||
	    open_inherited(s->upper, "upper", &upper, err) < 0 ||
	    open_inherited(s->work, "work", &work, err) < 0) {
		if (lower >= 0)
			close(lower);
		if (upper >= 0)
			close(upper);
		return -1;
	}
	_cleanup_free_ char *opts = xasprintf("lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,"
	                                      "workdir=/proc/self/fd/%d",
	                                      lower, upper, work);
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return sbx_error_set(err, errno, "cannot fork fuse-overlayfs");
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], STDERR_FILENO);
		execlp("fuse-overlayfs", "fuse-overlayfs", "-o", opts, s->target, (char *)NULL);
		dprintf(STDERR_FILENO, "exec: %s", strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	close(lower);
	close(upper);
	close(work);
	char msg[512];
	size_t n = read_string(pipefd[0], msg, sizeof(msg));
	close(pipefd[0]);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return sbx_error_setc(
		    err, ENOENT, "fuse-overlayfs not found (%s); install Debian's fuse-overlayfs",
		    msg);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sbx_error_setc(err, EIO,
		                      "fuse-overlayfs could not mount the overlay of \"%s\"%s%s",
		                      s->lower, n ? ": " : "", msg);
	return 0;
}

const struct sbx_overlay_driver overlay_fuse = {"fuse", fuse_mount};

bool overlay_scratch_supported(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 6);
}

int overlay_scratch(struct sbx_overlay_spec *spec, char paths[3][4096], struct sbx_error **err)
{
	struct stat st;
	if (stat(spec->lower, &st) < 0)
		return sbx_error_set(err, errno, "cannot stat overlay lower \"%s\"", spec->lower);
	char size[32];
	snprintf(size, sizeof(size), "size=%llu", spec->scratch_size);
	struct sbx_mount m = {
	    .dest = (char *)"the scratch tmpfs",
	    .type = (char *)"tmpfs",
	    .source = (char *)"tmpfs",
	    .kind = SBX_MOUNT_FS,
	    .fs_options = (char *[]){(char *)"mode=0700", spec->scratch_size ? size : NULL, NULL}};
	_cleanup_close_ int mfd = -1;
	if (mount_make_fs(&m, &mfd, err) < 0)
		return -1;
	static const char *const names[] = {"upper", "work", "root"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		/* upper/ is the merged root's own inode: give it the image root's mode. */
		mode_t mode = i == 0 ? (st.st_mode & 07777) : 0700;
		if (mkdirat(mfd, names[i], mode) < 0 ||
		    (i == 0 && fchmodat(mfd, names[i], mode, 0) < 0))
			return sbx_error_set(err, errno,
			                     "cannot create \"%s\" in the scratch tmpfs", names[i]);
		snprintf(paths[i], 4096, "%s/%s", spec->target, names[i]);
	}
	if (move_mount(mfd, "", AT_FDCWD, spec->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "cannot attach the scratch tmpfs on \"%s\"",
		                     spec->target);
	spec->upper = paths[0];
	spec->work = paths[1];
	spec->target = paths[2];
	return 0;
}

const struct sbx_overlay_driver *overlay_backend_get(const char *name)
{
	if (name == NULL || strcmp(name, "auto") == 0 || strcmp(name, "kernel") == 0)
		return &overlay_kernel;
	if (strcmp(name, "fuse") == 0)
		return &overlay_fuse;
	return NULL;
}

int overlay_mount(const char *backend, const struct sbx_overlay_spec *spec, char *used,
                  size_t used_len, struct sbx_error **err)
{
	const struct sbx_overlay_driver *b = overlay_backend_get(backend);
	if (b == NULL)
		return sbx_error_set(err, ENOTSUP, "unknown overlay backend \"%s\"", backend);
	if (b->mount(spec, err) == 0) {
		snprintf(used, used_len, "%s", b->name);
		return 0;
	}
	/* auto: the kernel refused (an old kernel, an odd filesystem), so try
	 * fuse-overlayfs and say why. */
	if (backend && strcmp(backend, "auto") != 0)
		return -1;
	struct sbx_error *fuse_err = NULL;
	if (overlay_fuse.mount(spec, &fuse_err) < 0) {
		sbx_error_prefix(err, "kernel overlay failed and so did fuse-overlayfs (%s)",
		                 fuse_err->msg);
		sbx_error_free(fuse_err);
		return -1;
	}
	snprintf(used, used_len, "fuse (the kernel overlay failed: %s)", (*err)->msg);
	sbx_error_free(*err);
	*err = NULL;
	return 0;
}
