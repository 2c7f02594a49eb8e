/* overlay.c - the overlay root: kernel overlayfs, mounted from inside the
 * user namespace, or fuse-overlayfs, run by sbx outside the sandbox. */
#define _GNU_SOURCE
#include "runtime/overlay.h"
#include "lib/fdpass.h"
#include "runtime/fsctx.h"
#include "runtime/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

/* Layers go in as directory fds: no length limit, no escaping of ',' or ':'. */
static int set_layer(int fsfd, const char *key, const char *path, struct sbx_error **err)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open overlay %s \"%s\"", key, path);
	if (fsctx_try(fsfd, FSCONFIG_SET_FD, key, NULL, fd) == 0)
		return 0;
	/* Kernels before 6.7 know neither "lowerdir+" nor fds: use the path. */
	const char *legacy = strcmp(key, "lowerdir+") == 0 ? "lowerdir" : key;
	_cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", fd);
	return fsctx_set(fsfd, FSCONFIG_SET_STRING, legacy, proc, 0, err,
	                 "overlay refused %s \"%s\"", key, path);
}

int overlay_userns_options(int fsfd, struct sbx_error **err)
{
	/* userxattr: trusted.* xattrs are out of reach in a user namespace. */
	if (fsctx_set(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0, err,
	              "overlay option \"userxattr\" refused; the kernel is too old for overlayfs "
	              "in a user namespace (5.11+)") < 0)
		return -1;
	(void)fsctx_try(fsfd, FSCONFIG_SET_STRING, "index", "off", 0);
	(void)fsctx_try(fsfd, FSCONFIG_SET_STRING, "xino", "off", 0);
	return 0;
}

/* One mount(2), the layers as /proc/self/fd/N of fds opened here (no
 * escaping of ',' or ':', no length limit), where the fsconfig way takes a
 * dozen calls more. 0, or -1 when the kernel refused it: the fsconfig way
 * then says which option it refused. */
static int kernel_mount_at_once(const struct sbx_overlay_spec *s)
{
	const char *paths[3] = {s->lower, s->upper, s->work};
	int fds[3] = {-1, -1, -1}, r = -1;
	for (size_t i = 0; i < 3; i++) {
		fds[i] = open(paths[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fds[i] < 0)
			goto out;
	}
	char data[256];
	snprintf(data, sizeof(data),
	         "lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d,"
	         "userxattr,index=off,xino=off%s",
	         fds[0], fds[1], fds[2], s->volatile_upper ? ",volatile" : "");
	r = mount("sbx", s->target, "overlay", 0, data);
out:
	for (size_t i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int kernel_mount(const struct sbx_overlay_spec *s, struct sbx_error **err)
{
	if (kernel_mount_at_once(s) == 0)
		return 0;
	_cleanup_close_ int fsfd =
	    fsctx_open("overlay", err, "the kernel has no overlay filesystem");
	if (fsfd < 0)
		return -1;
	(void)fsctx_try(fsfd, FSCONFIG_SET_STRING, "source", "sbx", 0);
	if (set_layer(fsfd, "lowerdir+", s->lower, err) < 0 ||
	    set_layer(fsfd, "upperdir", s->upper, err) < 0 ||
	    set_layer(fsfd, "workdir", s->work, err) < 0)
		return -1;
	if (overlay_userns_options(fsfd, err) < 0)
		return -1;
	/* Best effort: kernels before 5.10 lack it and simply sync. */
	if (s->volatile_upper)
		(void)fsctx_try(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0);
	if (fsctx_set(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0, err,
	              "cannot create the overlay of \"%s\"", s->lower) < 0)
		return -1;
	_cleanup_close_ int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return sbx_error_set(err, errno, "cannot mount the overlay of \"%s\"", s->lower);
	if (move_mount(mfd, "", AT_FDCWD, s->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "cannot attach the overlay on \"%s\"", s->target);
	return 0;
}

const struct sbx_overlay_driver overlay_kernel = {"kernel", kernel_mount};

/* fuse-overlayfs must not run in the sandbox: in its pid namespace a payload
 * could ptrace it and reach the host directories it holds open, and after
 * pivot_root its own lookups would land on its own mount. So the sandbox
 * hands its layers to sbx (spec->fuse), which starts the daemon outside
 * (overlay_fuse_serve), and gets back the merged tree as a detached mount. */
static int fuse_mount(const struct sbx_overlay_spec *s, struct sbx_error **err)
{
	if (s->fuse == NULL)
		return sbx_error_setc(err, ENOTSUP, "fuse-overlayfs cannot be used here");
	if (s->in_memory)
		return sbx_error_setc(err, ENOTSUP,
		                      "fuse-overlayfs cannot use an upper layer in the sandbox's "
		                      "memory; use --scratch disk");
	_cleanup_close_ int tree = -1;
	if (s->fuse->fn(s->fuse->ctx, &tree, err) < 0)
		return -1;
	if (move_mount(tree, "", AT_FDCWD, s->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "cannot attach fuse-overlayfs's tree on \"%s\"",
		                     s->target);
	return 0;
}

/* In the daemon's own process (a child of sbx): joins the sandbox's user
 * namespace, makes a mount namespace of its own, runs fuse-overlayfs over
 * the layers (opened there: it needs paths it can resolve) on a directory
 * of a private tmpfs, then detaches
 * the merged tree and sends it to sbx on sock. The daemon stays in that
 * mount namespace and the host's pid namespace, which no payload sees; it
 * exits when the last copy of the mount, the sandbox's, goes away. */
_Noreturn static void fuse_daemon_main(int userns_pidfd, const char *const paths[3], int sock)
{
	int layers[3];
	struct sbx_error *err = NULL;
	char msg[512] = "";
	int tree = -1;
	/* Never freed: this process only ever _exits. */
	char *target = NULL, *opts = NULL;
	int pipefd[2];
	pid_t pid;
	size_t n;
	int status = 0;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (setns(userns_pidfd, CLONE_NEWUSER) < 0 || unshare(CLONE_NEWNS) < 0) {
		sbx_error_set(&err, errno,
		              "cannot enter the sandbox's user namespace for fuse-overlayfs");
		goto fail;
	}
	/* The private tmpfs for the mount point covers a directory that holds
	 * no layer: fuse-overlayfs resolves them again by path. */
	static const char *const places[] = {"/tmp", "/dev/shm", "/run",
	                                     "/mnt", "/var/tmp", "/sys"};
	const char *place = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(places) && place == NULL; i++) {
		size_t len = strlen(places[i]);
		struct stat st;
		place = stat(places[i], &st) == 0 && S_ISDIR(st.st_mode) ? places[i] : NULL;
		for (size_t j = 0; j < 3 && place; j++)
			if (strncmp(paths[j], places[i], len) == 0 && paths[j][len] == '/')
				place = NULL;
	}
	if (place == NULL) {
		sbx_error_setc(&err, ENOENT, "no place for fuse-overlayfs's mount point");
		goto fail;
	}
	target = xasprintf("%s/root", place);
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
	    mount("sbx-fuse", place, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0 ||
	    mkdir(target, 0700) < 0) {
		sbx_error_set(&err, errno, "cannot prepare a mount point for fuse-overlayfs");
		goto fail;
	}
	static const char *const what[3] = {"lower", "upper", "work"};
	for (size_t i = 0; i < 3; i++) {
		layers[i] = open(paths[i], O_PATH | O_DIRECTORY);
		if (layers[i] < 0) {
			sbx_error_set(&err, errno, "cannot open overlay %s \"%s\"", what[i],
			              paths[i]);
			goto fail;
		}
	}
	opts = xasprintf("lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,"
	                 "workdir=/proc/self/fd/%d",
	                 layers[0], layers[1], layers[2]);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		sbx_error_set(&err, errno, "pipe");
		goto fail;
	}
	/* fuse-overlayfs daemonizes once the mount is in place, so waiting
	 * for the first process is waiting for the mount. */
	pid = fork();
	if (pid < 0) {
		sbx_error_set(&err, errno, "cannot fork fuse-overlayfs");
		goto fail;
	}
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], STDERR_FILENO);
		execlp("fuse-overlayfs", "fuse-overlayfs", "-o", opts, target, (char *)NULL);
		dprintf(STDERR_FILENO, "exec: %s", strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	n = read_string(pipefd[0], msg, sizeof(msg));
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		sbx_error_setc(&err, ENOENT,
		               "fuse-overlayfs not found (%s); install Debian's fuse-overlayfs",
		               msg);
		goto fail;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		sbx_error_setc(&err, EIO, "fuse-overlayfs could not mount the overlay%s%s",
		               n ? ": " : "", msg);
		goto fail;
	}
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, target, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0) {
		sbx_error_set(&err, errno, "cannot take fuse-overlayfs's mount");
		umount2(target, MNT_DETACH);
		goto fail;
	}
	/* Only the sandbox's copy may keep the daemon alive. */
	umount2(target, MNT_DETACH);
	int zero = 0;
	_exit(fdpass_send(sock, &zero, sizeof(zero), &tree, 1) == 0 ? 0 : 1);
fail:;
	char buf[sizeof(int) + 1024];
	int code = err ? err->code : EIO;
	memcpy(buf, &code, sizeof(int));
	int len = snprintf(buf + sizeof(int), sizeof(buf) - sizeof(int), "%s",
	                   err ? err->msg : "fuse-overlayfs failed");
	size_t total = sizeof(int) + (size_t)(len < 0 ? 0 : len);
	if (total > sizeof(buf))
		total = sizeof(buf);
	fdpass_send(sock, buf, total, NULL, 0);
	_exit(1);
}

int overlay_fuse_serve(int userns_pidfd, const char *const layers[3], int *tree,
                       struct sbx_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return sbx_error_set(err, errno, "socketpair");
	/* The daemon, orphaned when it daemonizes, comes back to sbx, which
	 * reaps it once the sandbox is gone (process_destroy). */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return sbx_error_set(err, e, "cannot fork for fuse-overlayfs");
	}
	if (pid == 0) {
		close(sv[0]);
		fuse_daemon_main(userns_pidfd, layers, sv[1]);
	}
	close(sv[1]);
	char buf[sizeof(int) + 1024 + 1];
	size_t nfds = 0;
	*tree = -1;
	ssize_t n = fdpass_recv(sv[0], buf, sizeof(buf) - 1, tree, 1, &nfds);
	int e = errno;
	close(sv[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n >= (ssize_t)sizeof(int) && nfds == 1)
		return 0;
	if (nfds == 1) {
		close(*tree);
		*tree = -1;
	}
	if (n < (ssize_t)sizeof(int))
		return sbx_error_set(err, n < 0 ? e : EIO, "fuse-overlayfs's helper died");
	buf[n] = '\0';
	int code;
	memcpy(&code, buf, sizeof(int));
	return sbx_error_setc(err, code, "%s", buf + sizeof(int));
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
	/* One mount(2) on the mount point (sbx's own, in the instance
	 * directory), then its root opened: the fsconfig way below, which
	 * names a refused option, takes six calls more. */
	char data[64];
	snprintf(data, sizeof(data), "mode=0700%s%s", spec->scratch_size ? "," : "",
	         spec->scratch_size ? size : "");
	_cleanup_close_ int mfd = -1;
	bool attached = false;
	if (mount("tmpfs", spec->target, "tmpfs", 0, data) == 0) {
		attached = true;
		mfd = open(spec->target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (mfd < 0)
			return sbx_error_set(err, errno, "cannot open the scratch tmpfs on \"%s\"",
			                     spec->target);
	} else {
		struct sbx_mount m = {
		    .dest = (char *)"the scratch tmpfs",
		    .type = (char *)"tmpfs",
		    .source = (char *)"tmpfs",
		    .kind = SBX_MOUNT_FS,
		    .fs_options =
		        (char *[]){(char *)"mode=0700", spec->scratch_size ? size : NULL, NULL}};
		if (mount_make_fs(&m, &mfd, err) < 0)
			return -1;
	}
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
	if (!attached && move_mount(mfd, "", AT_FDCWD, spec->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
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
