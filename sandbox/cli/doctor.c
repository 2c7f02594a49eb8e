/* doctor.c - what the host gives sbx, checked and explained.
 *
 * Settings are read where they exist, but the answer comes from trying: a
 * forked child creates a user namespace, or mounts an overlay inside one,
 * and reports the first step that failed over a pipe. The children only
 * change their own namespaces, so nothing is left behind but a temporary
 * directory, which is removed. */
#define _GNU_SOURCE
#include "cli/doctor.h"
#include "lib/libexec.h"
#include "libexec/sbx-sync.h"

#include "runtime/landlock.h"
#include "runtime/userns.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#define MIN_FREE (1024ULL * 1024 * 1024) /* below this, disk is a warning */

const char *const doctor_checks[] = {
    "userns", "uidmap",  "subids",   "overlay",     "fuse", "network", "tun", "registry",
    "cgroup", "seccomp", "landlock", "runtime-dir", "disk", "binary",  NULL,
};

enum {
	C_USERNS,
	C_UIDMAP,
	C_SUBIDS,
	C_OVERLAY,
	C_FUSE,
	C_NETWORK,
	C_TUN,
	C_REGISTRY,
	C_CGROUP,
	C_SECCOMP,
	C_LANDLOCK,
	C_RUNTIME,
	C_DISK,
	C_BINARY,
	C_COUNT,
};

const char *doctor_status_name(enum doctor_status s)
{
	switch (s) {
	case DOCTOR_OK:
		return "OK";
	case DOCTOR_WARN:
		return "WARN";
	case DOCTOR_FAIL:
		return "FAIL";
	}
	return "?";
}

static void report(struct doctor_result *r, enum doctor_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(struct doctor_result *r, enum doctor_status s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(r->message);
	if (vasprintf(&r->message, fmt, ap) < 0)
		abort();
	va_end(ap);
	r->status = s;
}

static void suggest(struct doctor_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void suggest(struct doctor_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(r->fix);
	if (vasprintf(&r->fix, fmt, ap) < 0)
		abort();
	va_end(ap);
}

/* A sysctl as a number; false when the file does not exist or is not one.
 * One read(2): numeric sysctls return nothing at a non-zero offset, so
 * read_file(), which starts with a one-byte buffer for procfs, would only
 * see the first digit. */
static bool read_sysctl(const char *path, long long *v)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[64];
	ssize_t n;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *end = NULL;
	errno = 0;
	*v = strtoll(buf, &end, 10);
	return errno == 0 && end != buf;
}

static bool has_file_caps(const char *path)
{
	return getxattr(path, "security.capability", NULL, 0) > 0;
}

/* ---- probes in a forked child ---- */

/* Returns 0, or the number of the step that failed with errno set. */
typedef int (*probe_fn)(void *arg);

/* Runs fn in a child; returns its result and the child's errno. A child
 * that dies reports step -1. */
static int probe(probe_fn fn, void *arg, int *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		*err = errno;
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		*err = errno;
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		int res[2];
		errno = 0;
		res[0] = fn(arg);
		res[1] = errno;
		(void)!write(p[1], res, sizeof(res));
		_exit(0);
	}
	close(p[1]);
	int res[2];
	ssize_t n;
	do
		n = read(p[0], res, sizeof(res));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(res)) {
		*err = EIO;
		return -1;
	}
	*err = res[1];
	return res[0];
}

enum { STEP_UNSHARE = 1, STEP_SETGROUPS, STEP_UID_MAP, STEP_GID_MAP, STEP_PRIVATE };

static const char *const userns_steps[] = {
    NULL,
    "unshare(CLONE_NEWUSER|CLONE_NEWNS)",
    "writing /proc/self/setgroups",
    "writing /proc/self/uid_map",
    "writing /proc/self/gid_map",
    "making / private",
};

/* A user and mount namespace with the caller as root, as sbx makes one. */
static int enter_userns(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return STEP_UNSHARE;
	if (write_string_at(AT_FDCWD, "/proc/self/setgroups", "deny", 0) < 0 && errno != ENOENT)
		return STEP_SETGROUPS;
	char map[64];
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (write_string_at(AT_FDCWD, "/proc/self/uid_map", map, 0) < 0)
		return STEP_UID_MAP;
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if (write_string_at(AT_FDCWD, "/proc/self/gid_map", map, 0) < 0)
		return STEP_GID_MAP;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return STEP_PRIVATE;
	return 0;
}

static int userns_child(void *arg)
{
	(void)arg;
	return enter_userns();
}

enum { STEP_CHDIR = STEP_PRIVATE + 1, STEP_MOUNT, STEP_CREATE, STEP_DELETE, STEP_UPPER };

static const char *const overlay_steps[] = {
    "chdir to the test directory",
    "mounting overlay with userxattr",
    "creating a file in the overlay",
    "deleting a lower file in the overlay",
    "finding the new file in the upper directory",
};

/* In dir (holding l/file, u, w and m): mount, write, delete, look. */
static int overlay_child(void *arg)
{
	const char *dir = arg;
	int r = enter_userns();
	if (r)
		return r;
	if (chdir(dir) < 0)
		return STEP_CHDIR;
	/* Relative layer paths: no escaping of ',' or ':' in dir needed. */
	if (mount("overlay", "m", "overlay", 0, "lowerdir=l,upperdir=u,workdir=w,userxattr") < 0)
		return STEP_MOUNT;
	int fd = open("m/new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return STEP_CREATE;
	close(fd);
	if (unlink("m/file") < 0)
		return STEP_DELETE;
	struct stat st;
	if (stat("u/new", &st) < 0)
		return STEP_UPPER;
	return 0;
}

static const char *step_name(int step)
{
	if (step > 0 && step < (int)ARRAY_SIZE(userns_steps))
		return userns_steps[step];
	if (step >= STEP_CHDIR && step <= STEP_UPPER)
		return overlay_steps[step - STEP_CHDIR];
	return "the test child";
}

/* ---- the checks ---- */

static void check_userns(struct doctor_result *r)
{
	long long max = -1, clone = -1, apparmor = -1;
	bool has_max = read_sysctl("/proc/sys/user/max_user_namespaces", &max);
	bool has_clone = read_sysctl("/proc/sys/kernel/unprivileged_userns_clone", &clone);
	bool has_aa =
	    read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &apparmor);
	int err = 0;
	int step = probe(userns_child, NULL, &err);
	const char *who = getuid() == 0 ? "user namespaces" : "unprivileged user namespaces";
	if (step == 0) {
		if (has_max)
			report(r, DOCTOR_OK, "%s work (user.max_user_namespaces=%lld)", who, max);
		else
			report(r, DOCTOR_OK, "%s work", who);
		return;
	}
	if (has_max && max == 0) {
		report(r, DOCTOR_FAIL, "%s are disabled (user.max_user_namespaces=0)", who);
		suggest(r, "sysctl -w user.max_user_namespaces=15000");
	} else if (has_clone && clone == 0 && getuid() != 0) {
		report(r, DOCTOR_FAIL, "%s are disabled (kernel.unprivileged_userns_clone=0)", who);
		suggest(r, "sysctl -w kernel.unprivileged_userns_clone=1");
	} else if (has_aa && apparmor == 1 && getuid() != 0) {
		report(r, DOCTOR_FAIL,
		       "AppArmor restricts %s (kernel.apparmor_restrict_unprivileged_userns=1): "
		       "%s failed: %s",
		       who, step_name(step), strerror(err));
		suggest(r, "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give sbx "
		           "an AppArmor profile that allows 'userns,'");
	} else {
		report(r, DOCTOR_FAIL, "cannot create a user namespace: %s failed: %s",
		       step_name(step), strerror(err));
		suggest(r, "use a kernel with CONFIG_USER_NS=y, outside a container or seccomp "
		           "policy that forbids unshare(2)");
	}
}

static void check_uidmap(struct doctor_result *r)
{
	_cleanup_free_ char *u = path_find("newuidmap");
	_cleanup_free_ char *g = path_find("newgidmap");
	if (u == NULL || g == NULL) {
		report(r, DOCTOR_WARN, "%s not found; only --userns subid needs it",
		       u == NULL && g == NULL ? "newuidmap and newgidmap"
		       : u                    ? "newgidmap"
		                              : "newuidmap");
		suggest(r, "apt-get install uidmap");
		return;
	}
	const char *paths[] = {u, g};
	bool caps = false;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && st.st_uid == 0 && (st.st_mode & S_ISUID))
			continue;
		if (has_file_caps(paths[i])) {
			caps = true;
			continue;
		}
		report(r, DOCTOR_WARN,
		       "%s is neither setuid root nor has file capabilities; --userns subid "
		       "cannot map subordinate ids",
		       paths[i]);
		suggest(r, "apt-get install --reinstall uidmap");
		return;
	}
	report(r, DOCTOR_OK, "%s and %s are installed (%s)", u, g,
	       caps ? "with file capabilities" : "setuid root");
}

static void check_subids(struct doctor_result *r)
{
	_cleanup_free_ char *who = NULL;
	if (passwd_lookup(getuid(), &who, NULL) < 0)
		who = xasprintf("%u", (unsigned)getuid());
	unsigned us = 0, un = 0, gs = 0, gn = 0;
	struct sbx_error *e1 = NULL, *e2 = NULL;
	bool hu = userns_subid_range("/etc/subuid", getuid(), &us, &un, &e1) == 0;
	bool hg = userns_subid_range("/etc/subgid", getuid(), &gs, &gn, &e2) == 0;
	sbx_error_free(e1);
	sbx_error_free(e2);
	if (hu && hg) {
		report(r, DOCTOR_OK, "%s has %u subordinate uids (from %u) and %u gids (from %u)",
		       who, un, us, gn, gs);
		return;
	}
	report(r, DOCTOR_WARN, "no range for %s in %s; only --userns subid needs one", who,
	       !hu && !hg ? "/etc/subuid and /etc/subgid"
	       : hu       ? "/etc/subgid"
	                  : "/etc/subuid");
	suggest(r, "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s", who);
}

/* The data directory, or the closest existing directory above it. */
static char *existing_data_dir(void)
{
	_cleanup_free_ char *dir = NULL;
	struct sbx_error *err = NULL;
	if (xdg_data_dir(&dir, &err) < 0) {
		sbx_error_free(err);
		return NULL;
	}
	char *p = steal_ptr(dir);
	for (;;) {
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return p;
		char *slash = strrchr(p, '/');
		if (slash == NULL || slash == p) {
			free(p);
			return xstrdup("/");
		}
		*slash = '\0';
	}
}

/* Returns 0 when the kernel overlay works, else fills *msg and *fix. */
static int try_overlay(char **msg, char **fix)
{
	_cleanup_free_ char *base = existing_data_dir();
	if (base == NULL || access(base, W_OK) < 0) {
		*msg = xasprintf("cannot test the kernel overlay: no writable data directory (%s)",
		                 base ? base : "$XDG_DATA_HOME and $HOME unset");
		*fix = xstrdup("set XDG_DATA_HOME to a directory of yours");
		return -1;
	}
	_cleanup_free_ char *dir = xasprintf("%s/.sbx-doctor-XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		*msg =
		    xasprintf("cannot test the kernel overlay: cannot create a directory in %s: %s",
		              base, strerror(errno));
		*fix = xstrdup("set XDG_DATA_HOME to a directory of yours");
		return -1;
	}
	int r = -1;
	int fd = -1;
	_cleanup_free_ char *file = xasprintf("%s/l/file", dir);
	const char *const subdirs[] = {"l", "u", "w", "m"};
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, subdirs[i]);
		if (mkdir(p, 0700) < 0) {
			*msg = xasprintf("cannot test the kernel overlay: mkdir %s: %s", p,
			                 strerror(errno));
			*fix = xstrdup("set XDG_DATA_HOME to a directory of yours");
			goto out;
		}
	}
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*msg = xasprintf("cannot test the kernel overlay: cannot create %s: %s", file,
		                 strerror(errno));
		*fix = xstrdup("set XDG_DATA_HOME to a directory of yours");
		goto out;
	}
	close(fd);
	int err = 0;
	int step = probe(overlay_child, dir, &err);
	if (step == 0) {
		r = 0;
		goto out;
	}
	if (step == STEP_CHDIR)
		*msg = xasprintf("cannot test the kernel overlay: %s cannot be reached from a user "
		                 "namespace: %s",
		                 base, strerror(err));
	else
		*msg = xasprintf("kernel overlayfs in a user namespace does not work here: %s "
		                 "failed: %s",
		                 step_name(step), strerror(err));
	if (step < 0)
		*fix = xstrdup("run it again; the test child died, which is a bug in sbx");
	else if (step < STEP_CHDIR)
		*fix = xstrdup("see the userns check");
	else if (step == STEP_CHDIR)
		/* sbx's own instances under it could not be reached either. */
		*fix = xstrdup("set XDG_DATA_HOME to a directory you own");
	else if (step == STEP_MOUNT)
		*fix = xstrdup("use Linux 5.11 or later, where overlayfs mounts in a user "
		               "namespace with userxattr");
	else
		*fix = xasprintf("set XDG_DATA_HOME to a local file system (ext4, xfs, btrfs) "
		                 "with user extended attributes, not the one of %s",
		                 base);
out:
	rm_rf_at(AT_FDCWD, dir, NULL);
	return r;
}

struct fuse_state {
	bool usable;
};

static void check_fuse(struct doctor_result *r, struct fuse_state *fs)
{
	_cleanup_free_ char *bin = path_find("fuse-overlayfs");
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	int e = errno;
	if (fd >= 0)
		close(fd);
	fs->usable = bin && fd >= 0;
	if (fs->usable) {
		report(r, DOCTOR_OK, "%s is installed and /dev/fuse is usable", bin);
		return;
	}
	_cleanup_free_ char *dev = NULL;
	struct stat st;
	if (fd >= 0)
		dev = xstrdup("");
	else if (e == ENOENT)
		dev = xstrdup("/dev/fuse does not exist");
	else if (stat("/dev/fuse", &st) == 0)
		dev = xasprintf("/dev/fuse is not usable (%s; mode %04o, owner uid %u)",
		                strerror(e), st.st_mode & 07777, st.st_uid);
	else
		dev = xasprintf("/dev/fuse is not usable (%s)", strerror(e));
	const char *dev_fix = e == ENOENT ? "modprobe fuse"
	                                  : "chmod 0666 /dev/fuse (udev does this on a stock "
	                                    "system)";
	if (bin == NULL && fd < 0) {
		report(r, DOCTOR_WARN,
		       "fuse-overlayfs is not installed and %s; overlay = fuse needs both", dev);
		suggest(r, "apt-get install fuse-overlayfs; %s", dev_fix);
	} else if (bin == NULL) {
		report(r, DOCTOR_WARN, "fuse-overlayfs is not installed; overlay = fuse needs it");
		suggest(r, "apt-get install fuse-overlayfs");
	} else {
		report(r, DOCTOR_WARN, "%s; overlay = fuse needs it", dev);
		suggest(r, "%s", dev_fix);
	}
}

static void check_overlay(struct doctor_result *r, const struct fuse_state *fs)
{
	_cleanup_free_ char *msg = NULL, *fix = NULL;
	if (try_overlay(&msg, &fix) == 0) {
		report(r, DOCTOR_OK, "kernel overlayfs works in a user namespace (userxattr)");
		return;
	}
	if (fs->usable)
		report(r, DOCTOR_WARN, "%s; fuse-overlayfs stands in (slower)", msg);
	else
		report(r, DOCTOR_FAIL,
		       "%s, and fuse-overlayfs cannot stand in (see the fuse check)", msg);
	r->fix = steal_ptr(fix);
}

static void check_network(struct doctor_result *r)
{
	_cleanup_free_ char *pasta = path_find("pasta");
	_cleanup_free_ char *slirp = path_find("slirp4netns");
	if (pasta && slirp)
		report(r, DOCTOR_OK, "%s and %s are installed", pasta, slirp);
	else if (pasta || slirp)
		report(r, DOCTOR_OK, "%s is installed", pasta ? pasta : slirp);
	else {
		report(r, DOCTOR_WARN,
		       "neither pasta nor slirp4netns is installed; network modes "
		       "pasta, slirp4netns and auto need one");
		suggest(r, "apt-get install passt");
	}
}

static void check_registry(struct doctor_result *r)
{
	_cleanup_free_ char *skopeo = path_find("skopeo");
	if (skopeo) {
		report(r, DOCTOR_OK, "%s is installed", skopeo);
		return;
	}
	report(r, DOCTOR_WARN,
	       "skopeo is not installed; sbx pull, sbx push and run --pull need it");
	suggest(r, "apt-get install skopeo");
}

static void check_tun(struct doctor_result *r)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		report(r, DOCTOR_OK, "/dev/net/tun is usable");
		return;
	}
	int e = errno;
	struct stat st;
	if (e == ENOENT) {
		report(r, DOCTOR_WARN,
		       "/dev/net/tun does not exist; network modes pasta, "
		       "slirp4netns and auto need it");
		suggest(r, "modprobe tun");
	} else if (stat("/dev/net/tun", &st) == 0) {
		report(r, DOCTOR_WARN,
		       "/dev/net/tun is not usable (%s; mode %04o, owner uid %u); network modes "
		       "pasta, slirp4netns and auto need it",
		       strerror(e), st.st_mode & 07777, st.st_uid);
		suggest(r, "chmod 0666 /dev/net/tun (udev does this on a stock system)");
	} else {
		report(r, DOCTOR_WARN,
		       "/dev/net/tun is not usable (%s); network modes pasta, slirp4netns and "
		       "auto need it",
		       strerror(e));
		suggest(r, "chmod 0666 /dev/net/tun (udev does this on a stock system)");
	}
}

static void check_cgroup(struct doctor_result *r)
{
	struct statfs sfs;
	if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		report(r, DOCTOR_WARN,
		       "/sys/fs/cgroup is not cgroup v2 (a v1 or hybrid layout); "
		       "memory and pids limits fall back to rlimits");
		suggest(r, "boot with systemd.unified_cgroup_hierarchy=1");
		return;
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct sbx_error *err = NULL;
	_cleanup_free_ char *group = NULL;
	if (read_file("/proc/self/cgroup", 64 * 1024, &text, &len, &err) == 0) {
		for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			if (str_startswith(line, "0::"))
				group = xstrdup(line + 3);
	}
	sbx_error_free(err);
	if (group == NULL) {
		report(r, DOCTOR_WARN,
		       "cannot find this process's cgroup v2 group; memory and "
		       "pids limits fall back to rlimits");
		suggest(r, "run sbx in a delegated cgroup, e.g. under 'systemd-run --user --scope "
		           "-p Delegate=yes'");
		return;
	}
	_cleanup_free_ char *dir = xasprintf("/sys/fs/cgroup%s", group);
	if (access(dir, W_OK) < 0) {
		report(r, DOCTOR_WARN,
		       "cgroup v2, but your cgroup %s is not delegated to you; memory and pids "
		       "limits fall back to rlimits",
		       group);
		suggest(r, "run sbx in a delegated cgroup, e.g. under 'systemd-run --user --scope "
		           "-p Delegate=yes'");
		return;
	}
	_cleanup_free_ char *path = xasprintf("%s/cgroup.controllers", dir);
	_cleanup_free_ char *ctl = NULL;
	err = NULL;
	if (read_file(path, 4096, &ctl, &len, &err) < 0) {
		sbx_error_free(err);
		ctl = xstrdup("");
	}
	ctl[strcspn(ctl, "\n")] = '\0';
	_cleanup_free_ char *padded = xasprintf(" %s ", ctl);
	bool mem = strstr(padded, " memory ") != NULL, pids = strstr(padded, " pids ") != NULL;
	if (mem && pids) {
		report(r, DOCTOR_OK,
		       "cgroup v2 group %s is delegated (controllers: %s); sbx itself does not "
		       "enforce memory and pids limits yet",
		       group, ctl);
		return;
	}
	report(r, DOCTOR_WARN,
	       "cgroup v2 group %s is delegated, but without the %s controller%s; those limits "
	       "fall back to rlimits",
	       group,
	       !mem && !pids ? "memory and pids"
	       : mem         ? "pids"
	                     : "memory",
	       !mem && !pids ? "s" : "");
	suggest(r, "delegate them: 'systemctl edit user@.service' with [Service] "
	           "Delegate=memory pids");
}

static void check_seccomp(struct doctor_result *r)
{
	int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	if (mode < 0) {
		report(r, DOCTOR_FAIL,
		       "the kernel has no seccomp support (%s); the default "
		       "profile's syscall filter cannot be loaded",
		       strerror(errno));
		suggest(r, "use a kernel with CONFIG_SECCOMP_FILTER=y, or run with --seccomp "
		           "unconfined");
		return;
	}
	_cleanup_free_ char *actions = NULL;
	size_t len = 0;
	struct sbx_error *err = NULL;
	if (read_file("/proc/sys/kernel/seccomp/actions_avail", 4096, &actions, &len, &err) < 0) {
		sbx_error_free(err);
		actions = NULL;
	} else {
		actions[strcspn(actions, "\n")] = '\0';
	}
	_cleanup_free_ char *padded = xasprintf(" %s ", actions ? actions : "");
	if (actions && strstr(padded, " errno ") == NULL) {
		report(r, DOCTOR_FAIL, "seccomp filters cannot return errors (actions: %s)",
		       actions);
		suggest(r, "use a newer kernel, or run with --seccomp unconfined");
		return;
	}
	report(r, DOCTOR_OK, "seccomp filters are available (actions: %s)%s",
	       actions ? actions : "unknown",
	       mode == 2 ? "; sbx already runs under a filter, which stays in force" : "");
}

static void check_landlock(struct doctor_result *r)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	int e = errno;
	if (abi > 0 && (abi = landlock_abi()) == 0) { /* as sbx run sees it */
		report(r, DOCTOR_WARN, "Landlock is turned off by SBX_LANDLOCK_ABI_MAX");
		suggest(r, "unset SBX_LANDLOCK_ABI_MAX");
		return;
	}
	if (abi >= LANDLOCK_ABI_SCOPE) {
		report(r, DOCTOR_OK, "Landlock ABI %ld", abi);
		return;
	}
	if (abi > 0) {
		report(
		    r, DOCTOR_WARN,
		    "Landlock ABI %ld: no scoping of signals and abstract unix sockets (ABI 6)%s; "
		    "with --network host the sandbox reaches the host's abstract sockets (session "
		    "bus, X11)",
		    abi, abi < LANDLOCK_ABI_NET ? ", no TCP rules (ABI 4)" : "");
		suggest(r, "use Linux 6.12 or later");
		return;
	}
	errno = e;
	if (errno == EOPNOTSUPP) {
		report(r, DOCTOR_WARN, "Landlock is built in but disabled; sbx works without it");
		suggest(r, "add landlock to the lsm= kernel parameter");
	} else {
		report(r, DOCTOR_WARN, "Landlock is not available (%s); sbx works without it",
		       strerror(errno));
		suggest(r, "use Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK=y");
	}
}

static void check_runtime_dir(struct doctor_result *r)
{
	const char *v = getenv("XDG_RUNTIME_DIR");
	_cleanup_free_ char *fallback = NULL;
	if (xdg_runtime_fallback_dir(&fallback, NULL) < 0)
		fallback = xstrdup("$XDG_CACHE_HOME/sbx/run");
	if (v == NULL || v[0] != '/') {
		report(r, DOCTOR_WARN, "XDG_RUNTIME_DIR is not set; live state goes to %s",
		       fallback);
		suggest(r, "log in through pam_systemd, or export XDG_RUNTIME_DIR=DIR for a "
		           "directory of yours with mode 0700");
		return;
	}
	struct stat st;
	if (lstat(v, &st) < 0) {
		report(r, DOCTOR_WARN, "XDG_RUNTIME_DIR=%s: %s; live state goes to %s", v,
		       strerror(errno), fallback);
		suggest(r, "mkdir -m 700 %s", v);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		report(r, DOCTOR_WARN,
		       "XDG_RUNTIME_DIR=%s is not a directory; live state goes to %s", v, fallback);
		suggest(r, "export XDG_RUNTIME_DIR=DIR for a directory of yours with mode 0700");
		return;
	}
	if (st.st_uid != geteuid()) {
		report(r, DOCTOR_WARN, "XDG_RUNTIME_DIR=%s is owned by uid %u, not by you (uid %u)",
		       v, st.st_uid, (unsigned)geteuid());
		suggest(r, "export XDG_RUNTIME_DIR=DIR for a directory of yours with mode 0700");
		return;
	}
	if (st.st_mode & 0077) {
		report(r, DOCTOR_WARN, "XDG_RUNTIME_DIR=%s has mode %04o, not 0700", v,
		       st.st_mode & 07777);
		suggest(r, "chmod 700 %s", v);
		return;
	}
	report(r, DOCTOR_OK, "XDG_RUNTIME_DIR=%s is yours, mode 0700", v);
}

static void check_disk(struct doctor_result *r)
{
	_cleanup_free_ char *dir = existing_data_dir();
	struct statvfs sv;
	if (dir == NULL || statvfs(dir, &sv) < 0) {
		report(r, DOCTOR_WARN, "cannot tell the free space under %s: %s",
		       dir ? dir : "$XDG_DATA_HOME", strerror(errno));
		suggest(r, "set HOME or XDG_DATA_HOME to a directory of yours");
		return;
	}
	unsigned long long avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	double gib = (double)avail / (1024.0 * 1024 * 1024);
	if (avail < MIN_FREE) {
		report(r, DOCTOR_WARN, "only %.0f MiB free under %s", gib * 1024, dir);
		suggest(r, "free some space, or set XDG_DATA_HOME to a larger file system");
		return;
	}
	report(r, DOCTOR_OK, "%.1f GiB free under %s", gib, dir);
}

/* Can the caller write st's file (path names it)? For root, only what is
 * writable by others counts: root can write anything. */
static bool writable_by_caller(const char *path, const struct stat *st)
{
	if (geteuid() == 0)
		return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
	return st->st_uid == geteuid() || access(path, W_OK) == 0;
}

/* The first of path and the directories above it that lets the caller
 * replace path, or NULL. A sticky directory protects what others own. */
static char *replaceable_by_caller(const char *path)
{
	_cleanup_free_ char *p = realpath(path, NULL);
	if (p == NULL)
		return NULL;
	struct stat st, below;
	if (stat(p, &st) < 0)
		return NULL;
	if (writable_by_caller(p, &st))
		return steal_ptr(p);
	below = st;
	for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
		*slash = '\0';
		const char *dir = p[0] ? p : "/";
		if (stat(dir, &st) < 0)
			return NULL;
		bool sticky =
		    (st.st_mode & S_ISVTX) &&
		    (geteuid() == 0 || (below.st_uid != geteuid() && st.st_uid != geteuid()));
		if (!sticky && writable_by_caller(dir, &st))
			return xstrdup(dir);
		if (p[0] == '\0')
			break;
		below = st;
	}
	return NULL;
}

static void check_binary(struct doctor_result *r)
{
	/* The path the helper lookups start from. */
	const char *path = libexec_self();
	if (path == NULL) {
		report(r, DOCTOR_WARN, "cannot find the sbx binary: /proc/self/exe: %s",
		       strerror(errno));
		suggest(r, "mount /proc");
		return;
	}
	struct stat st;
	if (stat("/proc/self/exe", &st) < 0) {
		report(r, DOCTOR_WARN, "cannot stat %s: %s", path, strerror(errno));
		return;
	}
	if (st.st_mode & (S_ISUID | S_ISGID)) {
		report(r, DOCTOR_FAIL, "%s is %s; sbx must not be installed with set-id bits", path,
		       (st.st_mode & S_ISUID) && (st.st_mode & S_ISGID) ? "setuid and setgid"
		       : (st.st_mode & S_ISUID)                         ? "setuid"
		                                                        : "setgid");
		suggest(r, "chmod u-s,g-s %s", path);
		return;
	}
	if (getxattr("/proc/self/exe", "security.capability", NULL, 0) > 0) {
		report(r, DOCTOR_FAIL,
		       "%s has file capabilities; sbx must be installed without them", path);
		suggest(r, "setcap -r %s", path);
		return;
	}
	_cleanup_free_ char *init = NULL, *unpack = NULL, *via = NULL;
	const char *files[] = {
	    path, libexec_find(SBX_INIT_NAME, "sbx's init", &init, NULL) == 0 ? init : NULL,
	    libexec_find("sbx-unpack", "the archive helper", &unpack, NULL) == 0 ? unpack : NULL};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if (files[i] == NULL || (via = replaceable_by_caller(files[i])) == NULL)
			continue;
		report(r, DOCTOR_WARN,
		       "%s can be replaced by you (\"%s\" is writable by you): a payload that "
		       "got out could plant a program that your next sbx command runs",
		       files[i], via);
		suggest(r, "install sbx as root, e.g. 'sudo make install'");
		return;
	}
	report(r, DOCTOR_OK, "%s has no set-id bits and no file capabilities", path);
}

void doctor_run(struct doctor_result **out, size_t *n)
{
	struct doctor_result *r = xcalloc(C_COUNT, sizeof(*r));
	for (size_t i = 0; i < C_COUNT; i++)
		r[i].check = doctor_checks[i];
	struct fuse_state fs = {0};
	check_userns(&r[C_USERNS]);
	check_uidmap(&r[C_UIDMAP]);
	check_subids(&r[C_SUBIDS]);
	check_fuse(&r[C_FUSE], &fs);
	check_overlay(&r[C_OVERLAY], &fs);
	check_network(&r[C_NETWORK]);
	check_tun(&r[C_TUN]);
	check_registry(&r[C_REGISTRY]);
	check_cgroup(&r[C_CGROUP]);
	check_seccomp(&r[C_SECCOMP]);
	check_landlock(&r[C_LANDLOCK]);
	check_runtime_dir(&r[C_RUNTIME]);
	check_disk(&r[C_DISK]);
	check_binary(&r[C_BINARY]);
	*out = r;
	*n = C_COUNT;
}

void doctor_results_free(struct doctor_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].message);
		free(r[i].fix);
	}
	free(r);
}
