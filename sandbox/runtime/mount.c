/* mount.c - fd-based mounts inside the sandbox's mount namespace. */
#define _GNU_SOURCE
#include "runtime/mount.h"
#include "runtime/fsctx.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

int mount_openat_in_root(int rootfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
	                       .resolve = resolve | RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	for (int tries = 0; tries < 16; tries++) {
		int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

/* Like runc's MkdirAllInRoot: missing components are created, and a symlink
 * whose target does not exist yet is followed (inside the root) and its
 * target created, so the image's layout keeps its meaning. Every lookup goes
 * through RESOLVE_IN_ROOT, so nothing outside the root is ever touched. */
static int walk_to_target(int rootfd, const char *dest, bool file, int *out, struct sbx_error **err)
{
	_cleanup_free_ char *path = xstrdup(dest);
	for (int hops = 0;; hops++) {
		if (hops > 40)
			return sbx_error_setc(err, ELOOP,
			                      "too many symlinks resolving \"%s\" in "
			                      "the sandbox",
			                      dest);
		/* The directory the next component is in; -1 for the root. */
		_cleanup_close_ int parent = -1;
		_cleanup_free_ char *cur = xstrdup("");
		char *p = path;
		bool restart = false;
		while (*p == '/')
			p++;
		while (*p) {
			size_t len = strcspn(p, "/");
			char *rest = p + len;
			while (*rest == '/')
				rest++;
			_cleanup_free_ char *comp = xstrndup(p, len);
			char *next = xasprintf("%s/%s", cur, comp);
			free(cur);
			cur = next;
			bool want_file = *rest == '\0' && file;
			int flags = O_PATH | (want_file ? 0 : O_DIRECTORY);
			int fd = mount_openat_in_root(rootfd, cur, flags, 0);
			if (fd == -ENOENT) {
				char target[4096];
				int dir = parent >= 0 ? parent : rootfd;
				ssize_t n = readlinkat(dir, comp, target, sizeof(target) - 1);
				if (n > 0) {
					/* A dangling symlink: resolve again through its target. */
					target[n] = '\0';
					char *slash = strrchr(cur, '/');
					*slash = '\0';
					char *np = target[0] == '/'
					               ? xasprintf("%s/%s", target, rest)
					               : xasprintf("%s/%s/%s", cur, target, rest);
					free(path);
					path = np;
					restart = true;
					break;
				}
				int r;
				if (want_file) {
					r = openat(dir, comp,
					           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					               O_CLOEXEC,
					           0644);
					if (r >= 0)
						close(r);
				} else {
					r = mkdirat(dir, comp, 0755);
				}
				if (r < 0 && errno != EEXIST)
					return sbx_error_set(
					    err, errno, "cannot create \"%s\" in the sandbox", cur);
				fd = mount_openat_in_root(rootfd, cur, flags, 0);
			}
			if (fd < 0)
				return sbx_error_set(err, -fd, "cannot open \"%s\" in the sandbox",
				                     cur);
			if (parent >= 0)
				close(parent);
			parent = fd;
			p = rest;
		}
		if (!restart) {
			if (parent < 0)
				parent = mount_openat_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
			if (parent < 0)
				return sbx_error_set(err, -parent,
				                     "cannot open the sandbox's root");
			*out = steal_fd(parent);
			return 0;
		}
	}
}

int mount_open_target(int rootfd, const char *dest, bool file, int *out, struct sbx_error **err)
{
	/* Most targets exist (/proc, /dev, /etc/hosts): one lookup, which
	 * resolves them exactly as the walk would. */
	int flags = O_PATH | (file ? 0 : O_DIRECTORY);
	int fd = mount_openat_in_root(rootfd, dest, flags, 0);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	/* A missing last component in a directory that is there (/dev/pts
	 * on a fresh /dev, /etc/resolv.conf): created in that directory's fd
	 * and opened there without following anything, where the walk would
	 * look every component up again. A name that exists after all (a
	 * dangling symlink) goes the walk's way. */
	const char *slash = strrchr(dest, '/');
	const char *base = slash ? slash + 1 : NULL;
	if (fd == -ENOENT && base && *base && strcmp(base, ".") != 0 && strcmp(base, "..") != 0) {
		_cleanup_free_ char *parent = xstrndup(dest, (size_t)(slash - dest));
		_cleanup_close_ int pfd =
		    mount_openat_in_root(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY, 0);
		int r = -1;
		if (pfd >= 0 && file) {
			r = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			           0644);
			if (r >= 0)
				close(r);
		} else if (pfd >= 0) {
			r = mkdirat(pfd, base, 0755);
		}
		if (r >= 0) {
			fd = mount_openat_in_root(pfd, base, flags | O_NOFOLLOW,
			                          RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
			if (fd >= 0) {
				*out = fd;
				return 0;
			}
		}
	}
	return walk_to_target(rootfd, dest, file, out, err);
}

int mount_make_rslave(struct sbx_error **err)
{
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return sbx_error_set(err, errno, "cannot make \"/\" a slave mount");
	return 0;
}

static int move_onto(int mfd, int target, const char *what, const char *dest,
                     struct sbx_error **err)
{
	if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "cannot mount %s on \"%s\"", what, dest);
	return 0;
}

int mount_make_fs(const struct sbx_mount *m, int *out, struct sbx_error **err)
{
	_cleanup_close_ int fsfd =
	    fsctx_open(m->type, err, "cannot create a %s filesystem for \"%s\"", m->type, m->dest);
	if (fsfd < 0)
		return -1;
	if (strcmp(m->type, "tmpfs") == 0 || strcmp(m->type, "proc") == 0 ||
	    strcmp(m->type, "devpts") == 0 || strcmp(m->type, "mqueue") == 0 ||
	    strcmp(m->type, "sysfs") == 0)
		(void)fsctx_try(fsfd, FSCONFIG_SET_STRING, "source", m->source, 0);
	for (size_t i = 0; m->fs_options[i]; i++) {
		_cleanup_free_ char *key = xstrdup(m->fs_options[i]);
		char *val = strchr(key, '=');
		if (val)
			*val++ = '\0';
		if (fsctx_set(fsfd, val ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, val, 0, err,
		              "%s on \"%s\": option \"%s\" refused", m->type, m->dest,
		              m->fs_options[i]) < 0)
			return -1;
	}
	if (fsctx_set(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0, err, "cannot create %s for \"%s\"",
	              m->type, m->dest) < 0)
		return -1;
	*out = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned int)m->attr);
	if (*out < 0)
		return sbx_error_set(err, errno, "cannot mount %s on \"%s\"", m->type, m->dest);
	return 0;
}

/* The MS_* flag of each mount attribute the legacy call can set. */
static const struct {
	unsigned long attr, flag;
} legacy_flags[] = {
    {MOUNT_ATTR_RDONLY, MS_RDONLY},
    {MOUNT_ATTR_NOSUID, MS_NOSUID},
    {MOUNT_ATTR_NODEV, MS_NODEV},
    {MOUNT_ATTR_NOEXEC, MS_NOEXEC},
    {MOUNT_ATTR_STRICTATIME, MS_STRICTATIME},
    {MOUNT_ATTR_NOATIME, MS_NOATIME},
};

/* One mount(2) onto the target's fd (/proc/self/fd/N: the kernel jumps to
 * what the fd holds, no path is resolved again), where fsopen, a fsconfig
 * per option, fsmount and move_mount take four or more calls and two fds.
 * For the kernel's own filesystems whose options fit mount(2)'s data
 * string. 0, or -1 with errno; the caller then goes the fsconfig way,
 * which names an option the kernel refused. */
static int mount_fs_onto_path(const char *path, const struct sbx_mount *m)
{
	static const char *const types[] = {"tmpfs", "proc", "devpts", "mqueue", "sysfs"};
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		known = known || strcmp(m->type, types[i]) == 0;
	unsigned long flags = 0, attr = m->attr;
	for (size_t i = 0; i < ARRAY_SIZE(legacy_flags); i++)
		if (attr & legacy_flags[i].attr) {
			flags |= legacy_flags[i].flag;
			attr &= ~legacy_flags[i].attr;
		}
	char data[1024];
	size_t len = 0;
	data[0] = '\0';
	for (size_t i = 0; known && m->fs_options[i]; i++) {
		const char *o = m->fs_options[i];
		size_t n = strlen(o);
		if (strchr(o, ',') || len + n + 2 > sizeof(data)) {
			known = false;
			break;
		}
		if (len)
			data[len++] = ',';
		memcpy(data + len, o, n + 1);
		len += n;
	}
	if (!known || attr) {
		errno = ENOTSUP;
		return -1;
	}
	return mount(m->source, path, m->type, flags, len ? data : NULL);
}

static int mount_fs_onto_fd(int target, const struct sbx_mount *m)
{
	char path[32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", target);
	return mount_fs_onto_path(path, m);
}

static int bind_tree(const char *source, bool recursive, unsigned long attr, int *out,
                     struct sbx_error **err);

static int mount_fs(int target, const struct sbx_mount *m, struct sbx_error **err)
{
	if (mount_fs_onto_fd(target, m) == 0)
		return 0;
	_cleanup_close_ int mfd = -1;
	/* sysfs takes the privileges of the network namespace's owner: in one
	 * joined by path (podman's, CNI's), the host's /sys is bound instead,
	 * read-only, as runc and crun do. */
	if (errno == EPERM && strcmp(m->type, "sysfs") == 0) {
		if (bind_tree("/sys", true, m->attr | MOUNT_ATTR_RDONLY, &mfd, err) < 0)
			return -1;
		return move_onto(mfd, target, "a bind of /sys", m->dest, err);
	}
	if (mount_make_fs(m, &mfd, err) < 0)
		return -1;
	return move_onto(mfd, target, m->type, m->dest, err);
}

static int bind_tree(const char *source, bool recursive, unsigned long attr, int *out,
                     struct sbx_error **err)
{
	_cleanup_close_ int tfd = open_tree(
	    AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (tfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\" for binding", source);
	if (attr) {
		struct mount_attr a = {.attr_set = attr};
		if (mount_setattr(tfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a,
		                  sizeof(a)) < 0)
			return sbx_error_set(err, errno, "cannot set mount flags on \"%s\"",
			                     source);
	}
	*out = steal_fd(tfd);
	return 0;
}

/* Mounts m on a new directory NAME of dirfd, when m->dest is DIR/NAME; 1
 * when it does not apply (m->dest is not there, or NAME exists), 0 when
 * mounted, -1 on error. */
bool mount_dest_in(const char *dest, const char *dir)
{
	size_t n = strlen(dir);
	if (strncmp(dest, dir, n) != 0 || dest[n] != '/')
		return false;
	const char *name = dest + n + 1;
	return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* m's file system, or its bind, onto the open target. */
static int mount_onto(int target, const struct sbx_mount *m, struct sbx_error **err)
{
	if (m->kind == SBX_MOUNT_FS)
		return mount_fs(target, m, err);
	_cleanup_close_ int tfd = -1;
	if (bind_tree(m->source, m->recursive, m->attr, &tfd, err) < 0)
		return -1;
	return move_onto(tfd, target, "a bind", m->dest, err);
}

static int apply_in_new_dir(int dirfd, const char *dir, const struct sbx_mount *m,
                            struct sbx_error **err)
{
	if (!mount_dest_in(m->dest, dir))
		return 1;
	const char *name = m->dest + strlen(dir) + 1;
	if (m->kind != SBX_MOUNT_FS) {
		struct stat st;
		if (stat(m->source, &st) < 0 || !S_ISDIR(st.st_mode))
			return 1;
	}
	if (mkdirat(dirfd, name, 0755) < 0)
		return 1;
	/* The directory just made in a fresh tmpfs only this process has
	 * written to: mounted onto by its path through dirfd, no fd of its
	 * own needed unless the fsconfig way has to name a refused option. */
	char path[64];
	if (m->kind == SBX_MOUNT_FS &&
	    (size_t)snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) <
	        sizeof(path) &&
	    mount_fs_onto_path(path, m) == 0)
		return 0;
	_cleanup_close_ int target = mount_openat_in_root(
	    dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW, RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV);
	if (target < 0)
		return sbx_error_set(err, -target, "cannot open \"%s\" in the sandbox", m->dest);
	return mount_onto(target, m, err);
}

int mount_apply_in(int rootfd, int dirfd, const char *dir, const struct sbx_mount *m,
                   struct sbx_error **err)
{
	int r = dirfd >= 0 ? apply_in_new_dir(dirfd, dir, m, err) : 1;
	return r <= 0 ? r : mount_apply(rootfd, m, err);
}

int mount_apply(int rootfd, const struct sbx_mount *m, struct sbx_error **err)
{
	bool file = false;
	if (m->kind == SBX_MOUNT_BIND) {
		struct stat st;
		if (stat(m->source, &st) < 0) {
			if (errno == ENOENT)
				return sbx_error_setc(err, ENOENT,
				                      "volume source \"%s\" does not exist; create "
				                      "it or fix the --volume option",
				                      m->source);
			return sbx_error_set(err, errno, "cannot stat volume source \"%s\"",
			                     m->source);
		}
		file = !S_ISDIR(st.st_mode);
	}
	_cleanup_close_ int target = -1;
	if (mount_open_target(rootfd, m->dest, file, &target, err) < 0)
		return -1;
	return mount_onto(target, m, err);
}

/* Host devices bound into the sandbox's /dev; a rootless sandbox cannot mknod. */
static const struct {
	const char *name;
	unsigned maj, min;
} devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
	const char *name, *target;
} dev_links[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

/* Host device nodes are trusted but verified: binding the wrong thing over
 * /dev/null would be a silent disaster. st: the node's, or NULL when it
 * could not be had. */
static int check_host_device(const char *path, const struct stat *st, unsigned maj, unsigned min,
                             struct sbx_error **err)
{
	if (st && S_ISCHR(st->st_mode) && major(st->st_rdev) == maj && minor(st->st_rdev) == min)
		return 0;
	return sbx_error_set(err, EINVAL, "host \"%s\" is not the expected device %u:%u", path, maj,
	                     min);
}

static int open_host_device(const char *name, unsigned maj, unsigned min, int *out,
                            struct sbx_error **err)
{
	_cleanup_free_ char *path = xasprintf("/dev/%s", name);
	_cleanup_close_ int tfd = -1;
	if (bind_tree(path, false, 0, &tfd, err) < 0)
		return -1;
	struct stat st;
	if (check_host_device(path, fstat(tfd, &st) == 0 ? &st : NULL, maj, min, err) < 0)
		return -1;
	*out = steal_fd(tfd);
	return 0;
}

int mount_setup_dev(int rootfd, int *out, struct sbx_error **err)
{
	int dfd = mount_openat_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0);
	if (dfd < 0)
		return sbx_error_set(err, -dfd, "cannot open /dev in the sandbox");
	_cleanup_close_ int devfd = dfd;
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		/* An empty file as the mount point, in the fresh tmpfs only
		 * this process has written to, so its path through the
		 * directory's fd is safe to mount onto; the host's node
		 * checked, and bound by path: 3 calls where fds take 6. */
		if (mknodat(devfd, devices[i].name, S_IFREG | 0666, 0) < 0)
			return sbx_error_set(err, errno, "cannot create \"/dev/%s\"",
			                     devices[i].name);
		_cleanup_free_ char *host = xasprintf("/dev/%s", devices[i].name);
		struct stat st;
		if (stat(host, &st) < 0)
			return sbx_error_set(err, errno, "cannot open \"%s\" for binding", host);
		if (check_host_device(host, &st, devices[i].maj, devices[i].min, err) < 0)
			return -1;
		char target[64];
		snprintf(target, sizeof(target), "/proc/self/fd/%d/%s", devfd, devices[i].name);
		if (mount(host, target, NULL, MS_BIND, NULL) < 0)
			return sbx_error_set(err, errno, "cannot mount a device on \"%s\"", host);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
		if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0 && errno != EEXIST)
			return sbx_error_set(err, errno, "cannot create \"/dev/%s\"",
			                     dev_links[i].name);
	*out = steal_fd(devfd);
	return 0;
}

/* Opens an existing path to mask or protect, refusing a symlink as the last
 * component. Returns 0, 1 when it does not exist, or -1. */
static int open_existing(int rootfd, const char *path, int *out, struct stat *st,
                         struct sbx_error **err)
{
	int fd = mount_openat_in_root(rootfd, path, O_PATH | O_NOFOLLOW, 0);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 1;
	if (fd < 0)
		return sbx_error_set(err, -fd, "cannot open \"%s\" in the sandbox", path);
	if (fstat(fd, st) < 0) {
		close(fd);
		return sbx_error_set(err, errno, "cannot stat \"%s\" in the sandbox", path);
	}
	if (S_ISLNK(st->st_mode)) {
		close(fd);
		return sbx_error_set(err, ELOOP, "refusing to cover \"%s\": it is a symlink", path);
	}
	*out = fd;
	return 0;
}

int mount_mask(int rootfd, const char *path, int *empty, int *null, struct sbx_error **err)
{
	struct stat st;
	_cleanup_close_ int target = -1;
	int r = open_existing(rootfd, path, &target, &st, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (S_ISDIR(st.st_mode)) {
		struct sbx_mount m = {.dest = (char *)path,
		                      .type = (char *)"tmpfs",
		                      .source = (char *)"tmpfs",
		                      .kind = SBX_MOUNT_FS,
		                      .attr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
		                              MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
		                      .fs_options = (char *[]){NULL}};
		/* One empty read-only tmpfs serves every masked directory: each
		 * superblock costs to make and to tear down. The first directory
		 * gets the mount itself, the others clones of it once it is
		 * attached: closing the fd of a mount still detached would
		 * unmount it, which waits for an RCU grace period. A kernel that
		 * cannot clone it gives each its own. */
		if (*empty < 0 && mount_fs_onto_fd(target, &m) == 0) {
			/* One mount(2), and its root, looked up again, for the
			 * next: 2 calls where the fsconfig way takes 6. */
			int fd = mount_openat_in_root(
			    rootfd, path, O_PATH | O_DIRECTORY | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
			if (fd >= 0)
				*empty = fd;
			return 0;
		}
		if (*empty < 0) {
			if (mount_make_fs(&m, empty, err) < 0)
				return -1;
			return move_onto(*empty, target, "an empty tmpfs", path, err);
		}
		/* Bound from the first one's root, by one mount(2) from fd to fd;
		 * a detached first one (the fsconfig way) is cloned instead. */
		char from[32], to[32];
		snprintf(from, sizeof(from), "/proc/self/fd/%d", *empty);
		snprintf(to, sizeof(to), "/proc/self/fd/%d", target);
		if (mount(from, to, NULL, MS_BIND, NULL) == 0)
			return 0;
		_cleanup_close_ int clone =
		    open_tree(*empty, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (clone < 0)
			return mount_fs(target, &m, err);
		return move_onto(clone, target, "an empty tmpfs", path, err);
	}
	/* The host's /dev/null, opened and verified once, bound by one
	 * mount(2) from its fd onto the target's: no path of either is
	 * resolved again. */
	if (*null < 0) {
		int fd = open("/dev/null", O_PATH | O_CLOEXEC);
		struct stat nst;
		if (fd >= 0 && check_host_device("/dev/null", fstat(fd, &nst) == 0 ? &nst : NULL, 1,
		                                 3, err) < 0) {
			close(fd);
			return -1;
		}
		*null = fd;
	}
	if (*null >= 0) {
		char from[32], to[32];
		snprintf(from, sizeof(from), "/proc/self/fd/%d", *null);
		snprintf(to, sizeof(to), "/proc/self/fd/%d", target);
		if (mount(from, to, NULL, MS_BIND, NULL) == 0)
			return 0;
	}
	_cleanup_close_ int tfd = -1;
	if (open_host_device("null", 1, 3, &tfd, err) < 0)
		return -1;
	return move_onto(tfd, target, "/dev/null", path, err);
}

int mount_readonly(int rootfd, const char *path, struct sbx_error **err)
{
	struct stat st;
	_cleanup_close_ int target = -1;
	int r = open_existing(rootfd, path, &target, &st, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	_cleanup_close_ int tfd = open_tree(
	    target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\" to make it read-only", path);
	struct mount_attr a = {.attr_set =
	                           MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	if (mount_setattr(tfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		return sbx_error_set(err, errno, "cannot make \"%s\" read-only", path);
	return move_onto(tfd, target, "a read-only bind", path, err);
}

int mount_bind_root(const char *dir, bool readonly, struct sbx_error **err)
{
	_cleanup_close_ int tfd = -1;
	if (bind_tree(dir, true, readonly ? MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV : 0, &tfd, err) <
	    0)
		return -1;
	if (move_mount(tfd, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "cannot bind the root \"%s\"", dir);
	return 0;
}

int mount_pivot(int rootfd, struct sbx_error **err)
{
	if (fchdir(rootfd) < 0)
		return sbx_error_set(err, errno, "cannot enter the new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_error_set(err, errno, "pivot_root failed");
	/* The old root now sits on top of the new one: detach it. */
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_error_set(err, errno, "cannot detach the old root");
	if (chdir("/") < 0)
		return sbx_error_set(err, errno, "cannot enter \"/\"");
	return 0;
}

int mount_set_propagation(const char *dest, unsigned long flags, struct sbx_error **err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return sbx_error_set(err, errno, "cannot open the sandbox's root");
	int fd = mount_openat_in_root(root, dest, O_PATH, 0);
	if (fd < 0)
		return sbx_error_set(err, -fd, "cannot open \"%s\" to set its propagation", dest);
	_cleanup_close_ int target = fd;
	struct mount_attr a = {.propagation = flags & ~(unsigned long)MS_REC};
	if (mount_setattr(target, "", AT_EMPTY_PATH | (flags & MS_REC ? AT_RECURSIVE : 0), &a,
	                  sizeof(a)) < 0)
		return sbx_error_set(err, errno, "cannot set the propagation of \"%s\"", dest);
	return 0;
}
