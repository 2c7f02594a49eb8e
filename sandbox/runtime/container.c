/* container.c - the sandbox side: from a fresh clone to the payload's exec.
 *
 * Runs as the first process of the new namespaces, in sbx's memory (see
 * process.c for the rule that keeps that safe). Every failure is sent to sbx
 * over the sync socket as one message, and the process exits 125. */
#define _GNU_SOURCE
#include "runtime/caps.h"
#include "runtime/devices.h"
#include "runtime/landlock.h"
#include "runtime/mount-lock.h"
#include "runtime/mount.h"
#include "runtime/net.h"
#include "runtime/overlay.h"
#include "runtime/procattr.h"
#include "runtime/seccomp-notify.h"
#include "runtime/container.h"
#include "runtime/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

/* OCI runtime mode, once created: nobody may read the sync socket any more
 * (sbx-oci create has exited), so a failure also goes to stderr. */
static bool fail_to_stderr;

_Noreturn static void fail(int sync_fd, struct sbx_error *e, int code)
{
	if (fail_to_stderr) {
		char line[600];
		int n = snprintf(line, sizeof(line), "sbx-oci: %s\n", e ? e->msg : "set-up failed");
		if (n > 0)
			(void)!write(STDERR_FILENO, line,
			             (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	sync_send(sync_fd, SBX_SYNC_ERROR, e ? e->code : 0, code, e ? e->msg : "set-up failed", -1);
	_exit(code);
}

/* Which overlay backend mounted the root, and why: told to sbx with CREATED. */
static char overlay_used[256];
/* An in-memory upper layer, kept open by init so that sbx diff can read it
 * through /proc/PID/fd: told to sbx with CREATED too. */
static int scratch_upper = -1;

/* fuse-overlayfs, run by sbx outside the sandbox (overlay_fuse_serve). */
static int ask_fuse(void *ctx, int *tree, struct sbx_error **err)
{
	int sync_fd = *(const int *)ctx;
	if (sync_send(sync_fd, SBX_SYNC_FUSE, 0, 0, "", -1) < 0)
		return sbx_error_set(err, errno, "cannot ask sbx for fuse-overlayfs");
	for (;;) {
		struct sbx_sync_msg m;
		size_t n = 0;
		int fd = -1;
		if (sync_recv_fds(sync_fd, &m, &fd, 1, &n) <= 0)
			_exit(SBX_EXIT_FAILURE);
		if (m.type != SBX_SYNC_FUSE || m.errnum != 0 || n == 0) {
			if (n > 0)
				close(fd);
			return sbx_error_setc(err, m.errnum ? m.errnum : EPROTO, "%s",
			                      m.text[0] ? m.text : "no answer from sbx for fuse");
		}
		*tree = fd;
		return 0;
	}
}

static struct sbx_overlay_spec overlay_spec(const struct sbx_config *c,
                                            const struct sbx_fuse_request *fuse)
{
	return (struct sbx_overlay_spec){.lower = c->overlay_lower,
	                                 .upper = c->overlay_upper,
	                                 .work = c->overlay_work,
	                                 .target = c->rootfs,
	                                 .volatile_upper = c->overlay_volatile,
	                                 .scratch_size = c->overlay_scratch_size,
	                                 .fuse = fuse,
	                                 .in_memory = c->overlay_scratch};
}

/* The in-memory upper layer's tmpfs (--rm), with its upper/ and work/
 * (their paths in PATHS): made by the set-up, or by pid 1 before it starts
 * sbx-init early, which then keeps upper/ open (scratch_upper). */
static bool scratch_made;

static int make_scratch(const struct sbx_config *c, char paths[3][4096], struct sbx_error **err)
{
	struct sbx_overlay_spec spec = overlay_spec(c, NULL);
	if (overlay_scratch(&spec, paths, err) < 0)
		return -1;
	scratch_upper = open(spec.upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
	scratch_made = true;
	return 0;
}

static int setup_root(const struct sbx_config *c, int sync_fd, char scratch_paths[3][4096],
                      int *rootfd, struct sbx_error **err)
{
	const char *root = c->rootfs;
	if (c->overlay_upper || c->overlay_scratch) {
		struct sbx_fuse_request fuse = {ask_fuse, &sync_fd};
		struct sbx_overlay_spec spec = overlay_spec(c, &fuse);
		if (c->overlay_scratch && !scratch_made && make_scratch(c, scratch_paths, err) < 0)
			return -1;
		if (c->overlay_scratch) {
			spec.upper = scratch_paths[0];
			spec.work = scratch_paths[1];
			spec.target = scratch_paths[2];
		}
		if (overlay_mount(c->overlay_backend, &spec, overlay_used, sizeof(overlay_used),
		                  err) < 0)
			return -1;
		root = spec.target;
		sbx_trace("overlay mounted: %s", overlay_used);
	} else if (mount_bind_root(c->rootfs, false, err) < 0) {
		return -1;
	}
	*rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*rootfd < 0)
		return sbx_error_set(err, errno, "cannot open the root \"%s\"", c->rootfs);
	return 0;
}

/* OCI hooks of create (hooks.h): sbx runs them once the mounts are done,
 * before the root is pivoted, and answers when they all succeeded; when
 * one fails, it kills the sandbox instead. */
static int wait_create_hooks(const struct sbx_config *c, int sync_fd, struct sbx_error **err)
{
	if (c->hook_state == NULL || c->hooks.n[SBX_HOOK_PRESTART] +
	                                     c->hooks.n[SBX_HOOK_CREATE_RUNTIME] +
	                                     c->hooks.n[SBX_HOOK_CREATE_CONTAINER] ==
	                                 0)
		return 0;
	struct sbx_sync_msg m;
	if (sync_send(sync_fd, SBX_SYNC_HOOKS, 0, 0, "", -1) < 0)
		return sbx_error_set(err, errno, "cannot ask sbx to run the hooks");
	if (sync_recv(sync_fd, &m, NULL) <= 0 || m.type != SBX_SYNC_HOOKS)
		_exit(SBX_EXIT_FAILURE);
	return 0;
}

/* startContainer hooks (hooks.h), in the sandbox: run by the payload's
 * own process once started, before its exec, their paths resolved in the
 * sandbox and no host environment passed. */
static int run_start_hooks(const struct sbx_config *c, struct sbx_error **err)
{
	if (c->hook_state == NULL || c->hooks.n[SBX_HOOK_START_CONTAINER] == 0)
		return 0;
	_cleanup_free_ char *state = hooks_state(c->hook_state, "created");
	struct sbx_hooks_where w = {.ns_pidfd = -1, .clean_env = true};
	return hooks_run(&c->hooks, SBX_HOOK_START_CONTAINER, state, &w, err);
}

/* linux.sysctl, through the sandbox's own /proc (mounted by now), as its
 * namespaces see it; those of a namespace joined by path sbx wrote when it
 * joined it (nsjoin.c). */
static int write_sysctls(const struct sbx_config *c, int rootfd, struct sbx_error **err)
{
	for (size_t i = 0; c->sysctl && c->sysctl[i]; i++) {
		const char *kv = c->sysctl[i], *eq = strchr(kv, '=');
		if (c->join_flags & config_sysctl_ns(kv))
			continue;
		char path[512];
		int n = snprintf(path, sizeof(path), "proc/sys/%.*s", (int)(eq - kv), kv);
		if (n < 0 || (size_t)n >= sizeof(path))
			return sbx_error_setc(err, ENAMETOOLONG, "sysctl key too long");
		for (char *p = path + 9; *p; p++)
			if (*p == '.')
				*p = '/';
		int fd = openat(rootfd, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || write(fd, eq + 1, strlen(eq + 1)) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return sbx_error_set(err, e, "cannot set the sysctl \"%.*s\" (/%s)",
			                     (int)(eq - kv), kv, path);
		}
		close(fd);
	}
	return 0;
}

static int setup_mounts(const struct sbx_config *c, int rootfd, struct sbx_error **err)
{
	/* The fresh /dev sbx filled, while the mounts that follow go in it. */
	_cleanup_close_ int devfd = -1;
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct sbx_mount *m = &c->mounts[i];
		if (devfd >= 0 && !mount_dest_in(m->dest, "/dev")) {
			close(devfd);
			devfd = -1;
		}
		if (mount_apply_in(rootfd, devfd, "/dev", m, err) < 0)
			return -1;
		if (strcmp(m->dest, "/dev") == 0 && m->kind == SBX_MOUNT_FS &&
		    strcmp(m->type, "tmpfs") == 0) {
			if (devfd >= 0)
				close(devfd);
			devfd = -1;
			if (mount_setup_dev(rootfd, &devfd, err) < 0)
				return -1;
		}
	}
	sbx_trace("%zu mounts done", c->n_mounts);
	if (devices_create(rootfd, c->devices, c->n_devices, err) < 0)
		return -1;
	/* Before readonlyPaths, which usually holds /proc/sys. */
	if (write_sysctls(c, rootfd, err) < 0)
		return -1;
	_cleanup_close_ int empty = -1, null = -1;
	for (size_t i = 0; c->masked[i]; i++)
		if (mount_mask(rootfd, c->masked[i], &empty, &null, err) < 0)
			return -1;
	for (size_t i = 0; c->readonly[i]; i++)
		if (mount_readonly(rootfd, c->readonly[i], err) < 0)
			return -1;
	/* Last, so mount points could still be created; volumes and tmpfs
	 * mounts below keep their own flags. */
	if (c->root_readonly) {
		struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
		if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
			return sbx_error_set(err, errno, "cannot make the root read-only");
	}
	return 0;
}

/* The mounts' propagation flags and linux.rootfsPropagation, in the
 * namespace mount_lock made (a copy would have turned shared mounts into
 * slaves). */
static int set_propagation(const struct sbx_config *c, struct sbx_error **err)
{
	for (size_t i = 0; i < c->n_mounts; i++)
		if (c->mounts[i].propagation &&
		    mount_set_propagation(c->mounts[i].dest, c->mounts[i].propagation, err) < 0)
			return -1;
	if (c->root_propagation && mount_set_propagation("/", c->root_propagation, err) < 0)
		return -1;
	return 0;
}

static int set_rlimits(const struct sbx_config *c, struct sbx_error **err)
{
	for (size_t i = 0; i < c->n_rlimits; i++) {
		struct rlimit rl = {(rlim_t)c->rlimits[i].soft, (rlim_t)c->rlimits[i].hard};
		if (setrlimit((__rlimit_resource_t)c->rlimits[i].resource, &rl) < 0)
			return sbx_error_set(
			    err, errno, "cannot set resource limit %d to %llu:%llu",
			    c->rlimits[i].resource, c->rlimits[i].soft, c->rlimits[i].hard);
	}
	return 0;
}

/* The bounding set as read_dispositions() found it, when it did. */
static bool bounding_known;
static uint64_t bounding_held;

static int switch_user(const struct sbx_config *c, struct sbx_error **err)
{
	if ((bounding_known ? caps_drop_bounding_held(&c->caps, bounding_held, err)
	                    : caps_drop_bounding(&c->caps, err)) < 0)
		return -1;
	if (c->uid != 0 || c->gid != 0 || c->n_groups > 0) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return sbx_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
		/* setgroups is denied in a single-id user namespace. */
		if (c->n_groups > 0 && setgroups(c->n_groups, c->groups) < 0)
			return sbx_error_set(err, errno,
			                     "cannot set supplementary groups (they need "
			                     "--userns subid)");
		if (setresgid(c->gid, c->gid, c->gid) < 0)
			return sbx_error_set(err, errno, "cannot switch to gid %u", c->gid);
		if (setresuid(c->uid, c->uid, c->uid) < 0)
			return sbx_error_set(err, errno, "cannot switch to uid %u", c->uid);
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return sbx_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
	}
	return caps_apply(&c->caps, err);
}

/* The master goes to sbx with CREATED. */
static int make_pty(int *master, int *slave, struct sbx_error **err)
{
	_cleanup_close_ int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return sbx_error_set(err, errno, "cannot open /dev/ptmx in the sandbox");
	if (unlockpt(m) < 0)
		return sbx_error_set(err, errno, "cannot unlock the pty");
	*slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return sbx_error_set(err, errno, "cannot open the pty's terminal");
	*master = steal_fd(m);
	return 0;
}

/* The payload's own session: it cannot reach the caller's terminal
 * (TIOCSTI) and, with -t, gets the pty as its controlling terminal. */
static int enter_session(int slave, struct sbx_error **err)
{
	if (setsid() < 0)
		return sbx_error_set(err, errno, "setsid");
	if (slave < 0)
		return 0;
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return sbx_error_set(err, errno, "cannot make the pty the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return sbx_error_set(err, errno, "dup2");
	if (slave > 2)
		close(slave);
	return 0;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* Started from a fifo (OCI runtime mode), nobody reads the sync socket any
 * more: an exec failure goes to the payload's stderr, as runc's does. */
static void oci_report(const struct sbx_config *c, const char *msg)
{
	if (c->start_fifo_dir) {
		char line[600];
		int n = snprintf(line, sizeof(line), "sbx-oci: %s\n", msg);
		if (n > 0)
			(void)!write(STDERR_FILENO, line,
			             (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
}

/* With socket activation (LISTEN_FDS), the payload's env says how many
 * fds it got and that they are its own: LISTEN_PID is its pid as it sees
 * it (1 in a pid namespace of its own). */
static char **payload_env(const struct sbx_config *c)
{
	if (c->listen_fds <= 0)
		return c->env;
	char **env = xcalloc(strv_length(c->env) + 3, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; c->env[i]; i++)
		if (!str_startswith(c->env[i], "LISTEN_FDS=") &&
		    !str_startswith(c->env[i], "LISTEN_PID="))
			env[n++] = c->env[i];
	env[n++] = xasprintf("LISTEN_FDS=%d", c->listen_fds);
	env[n++] = xasprintf("LISTEN_PID=%d", (int)getpid());
	return env;
}

/* execvpe() would search the caller's PATH; the payload's is in its env. */
_Noreturn static void exec_payload(const struct sbx_config *c, int sync_fd)
{
	const char *cmd = c->args[0];
	char **envp = payload_env(c);
	int err = ENOENT;
	if (c->has_umask)
		umask(c->umask);
	if (strchr(cmd, '/')) {
		execve(cmd, c->args, envp);
		err = errno;
	} else {
		const char *path = env_get(envp, "PATH");
		if (path == NULL)
			path = "/usr/local/bin:/usr/bin:/bin";
		bool eacces = false;
		char buf[4096];
		for (const char *p = path;; p++) {
			const char *end = strchrnul(p, ':');
			int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), p, cmd);
			if (end > p && n > 0 && (size_t)n < sizeof(buf)) {
				execve(buf, c->args, envp);
				if (errno == EACCES)
					eacces = true;
				else if (errno != ENOENT && errno != ENOTDIR)
					err = errno;
			}
			if (*end == '\0')
				break;
			p = end;
		}
		if (eacces && err == ENOENT)
			err = EACCES;
		if (err == ENOENT) {
			char msg[512];
			snprintf(msg, sizeof(msg), "\"%s\": executable file not found in $PATH",
			         cmd);
			oci_report(c, msg);
			sync_send(sync_fd, SBX_SYNC_EXEC_FAILED, ENOENT, SBX_EXIT_NOTFOUND, msg,
			          -1);
			_exit(SBX_EXIT_NOTFOUND);
		}
	}
	char msg[512];
	snprintf(msg, sizeof(msg), "cannot execute \"%s\": %s", cmd, strerror(err));
	oci_report(c, msg);
	int code = err == ENOENT ? SBX_EXIT_NOTFOUND : SBX_EXIT_CANNOT;
	sync_send(sync_fd, SBX_SYNC_EXEC_FAILED, err, code, msg, -1);
	_exit(code);
}

/* The signals whose disposition is not the default (bit N-1 for signal N):
 * all of them until read_dispositions() knew better. */
static uint64_t changed_signals = UINT64_MAX;

/* Reads the ignored and caught signals from /proc/self/status, three system
 * calls where asking sigaction about each signal would take 64 (and the
 * bounding set, where reading back each kept capability would take 14). Done in the
 * set-up process while the host's /proc is still there; the payload's
 * process, its clone, has the same dispositions. */
static void read_dispositions(void)
{
	char buf[2048];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	uint64_t mask = 0;
	static const char *const keys[] = {"\nSigIgn:\t", "\nSigCgt:\t"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *p = strstr(buf, keys[i]);
		char *end;
		if (p == NULL)
			return;
		p += strlen(keys[i]);
		unsigned long long v = strtoull(p, &end, 16);
		if (end == p || *end != '\n')
			return;
		mask |= v;
	}
	changed_signals = mask;
	/* The bounding set, from the same read: caps_drop_bounding_held. */
	const char *p = strstr(buf, "\nCapBnd:\t");
	if (p) {
		char *end;
		p += strlen("\nCapBnd:\t");
		unsigned long long v = strtoull(p, &end, 16);
		if (end != p && *end == '\n') {
			bounding_held = v;
			bounding_known = true;
		}
	}
}

/* exec resets a caught signal to its default, but keeps an ignored one
 * ignored: the payload gets every signal's default. */
static void reset_signals(void)
{
	/* A SIGPIPE of sbx's own writes (a closed --debug pipe), pending while
	 * signals were blocked: ignoring it discards it. */
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigaction(SIGPIPE, &ign, NULL);
	struct sigaction sa = {.sa_handler = SIG_DFL};
	for (int s = 1; s < NSIG; s++)
		if (s == SIGPIPE || (s <= 64 && (changed_signals & (UINT64_C(1) << (s - 1)))))
			sigaction(s, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* sbx-init, opened before pivot_root: exec'd by fd, it need not be in the
 * sandbox. */
static int init_fd = -1;

static void keep_on_exec(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFD, 0);
}

/* The rest of the payload's way to exec: its own Landlock rules under
 * sbx-init, the seccomp filter last, its session, the default signals. */
_Noreturn static void finish_payload(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                     int sync_fd, int slave, bool under_init, bool filtered)
{
	struct sbx_error *err = NULL;
	if (under_init && landlock_apply(c, LANDLOCK_RULES, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	/* The filter goes on last: everything before exec must still be allowed. */
	int listener = -1;
	if (!filtered && bpf && bpf->len && (listener = seccomp_install(bpf, &err)) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	if (listener > 0 && seccomp_notify_send(listener, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	sbx_trace("child: seccomp installed");
	if (enter_session(slave, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	reset_signals();
	exec_payload(c, sync_fd);
}

/* What the payload's process needs once sbx-init let it go. */
static struct {
	const struct sbx_config *c;
	const struct sbx_bpf *bpf;
	int sync_fd, slave, go, go_write;
	bool early_filter; /* install it while pid 1 execs sbx-init */
	struct sock_fprog prog;
	int locked;  /* sbx-init started early: told when the mounts are locked */
	bool walled; /* the payload's Landlock layer keeps it from sbx-init */
} handoff = {.go_write = -1, .locked = -1};
/* sbx-init was started at the set-up's start (start_init_early). */
static bool handoff_early;
static char payload_stack[65536] SBX_UNPOPULATED __attribute__((aligned(4096)));
/* The part of it the payload's process uses, populated before the clone. */
#define PAYLOAD_STACK_USED (16 * 1024)

/* The payload's process, cloned with pid 1's memory (CLONE_VM: no page
 * tables to copy), which is sbx's. pid 1 replaces it with sbx-init's by its
 * exec, and sbx waits from START on, so until sbx-init's go byte and sbx's
 * START this process makes system calls only; then the memory is its own. */
static int payload_go(void *arg)
{
	(void)arg;
	if (handoff.go_write >= 0)
		syscall(SYS_close, handoff.go_write);
	/* Without Landlock rules, which must come before it, the filter goes
	 * on at once: a system call on a program prepared by pid 1. */
	long filtered = -1;
	int filter_errno = 0;
	if (handoff.early_filter) {
		filtered = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, handoff.bpf->flags,
		                   &handoff.prog);
		filter_errno = filtered < 0 ? errno : 0;
	}
	char b;
	long r;
	do
		r = syscall(SYS_read, handoff.go, &b, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		_exit(SBX_EXIT_FAILURE);
	/* sbx's START comes here, not through sbx-init: one hand-off less
	 * on the way to exec. Until it came, sbx may run its own code in
	 * this memory: a system call into the stack. read, not recv: a
	 * policy that denies sockets must not stop the payload here. */
	struct sbx_sync_msg start;
	do
		r = syscall(SYS_read, handoff.sync_fd, &start, sizeof(start));
	while (r < 0 && errno == EINTR);
	if (r != (long)sizeof(start) || start.type != SBX_SYNC_START)
		_exit(SBX_EXIT_FAILURE);
	close(handoff.go);
	if (handoff.early_filter && filtered < 0) {
		struct sbx_error *err = NULL;
		sbx_error_set(&err, filter_errno, "cannot install the seccomp filter");
		fail(handoff.sync_fd, err, SBX_EXIT_FAILURE);
	}
	finish_payload(handoff.c, handoff.bpf, handoff.sync_fd, handoff.slave, true, filtered == 0);
}

static void prepare_handoff(const struct sbx_config *c, const struct sbx_bpf *bpf, int sync_fd,
                            int slave)
{
	handoff.c = c;
	handoff.bpf = bpf;
	handoff.sync_fd = sync_fd;
	handoff.slave = slave;
	handoff.early_filter = bpf && bpf->len && !landlock_has_rules(&c->landlock);
	if (handoff.early_filter)
		handoff.prog = (struct sock_fprog){.len = (unsigned short)bpf->len,
		                                   .filter = (struct sock_filter *)bpf->insns};
}

/* A failure after CREATED, while sbx runs its own code in the memory this
 * process shares: the message is made on the stack, nothing allocated. */
_Noreturn static void fail_now(int sync_fd, int errnum, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: %s", what, strerrordesc_np(errnum));
	sync_send(sync_fd, SBX_SYNC_ERROR, errnum, SBX_EXIT_FAILURE, msg, -1);
	_exit(SBX_EXIT_FAILURE);
}

/* Splits the set-up process in two. The payload's process waits in
 * payload_go until sbx-init said it is locked down. The parent, pid 1,
 * replaces itself with sbx-init: in a session of its own, fds 0-2 on the
 * sandbox's /dev/null, no environment. This runs after CREATED, when sbx
 * runs too: system calls only, on the stack. */
_Noreturn static void become_init(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                  int sync_fd, int slave)
{
	int go[2], ex[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0)
		fail_now(sync_fd, errno, "cannot create a pipe for the sandbox's init");
	/* Blocked before the clone, so no SIGCHLD can slip past init; the
	 * payload's process unblocks them before its exec. */
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	prepare_handoff(c, bpf, sync_fd, slave);
	handoff.go = go[0];
	handoff.go_write = go[1];
	madvise(payload_stack + sizeof(payload_stack) - PAYLOAD_STACK_USED, PAYLOAD_STACK_USED,
	        MADV_POPULATE_WRITE);
	pid_t payload =
	    clone(payload_go, payload_stack + sizeof(payload_stack), CLONE_VM | SIGCHLD, NULL);
	if (payload < 0)
		fail_now(sync_fd, errno, "cannot start the payload's process");
	close(go[0]);
	close(ex[1]);
	if (slave >= 0)
		close(slave);
	if (setsid() < 0)
		fail_now(sync_fd, errno, "setsid");
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3; fd++)
		if (null < 0 || dup2(null, fd) < 0)
			close(fd);
	keep_on_exec(sync_fd);
	keep_on_exec(go[1]);
	keep_on_exec(ex[0]);
	keep_on_exec(scratch_upper);
	char args[4][16];
	snprintf(args[0], sizeof(args[0]), "%d", (int)payload);
	snprintf(args[1], sizeof(args[1]), "%d", sync_fd);
	snprintf(args[2], sizeof(args[2]), "%d", go[1]);
	snprintf(args[3], sizeof(args[3]), "%d", ex[0]);
	char *argv[] = {(char *)SBX_INIT_NAME, args[0], args[1], args[2], args[3], NULL};
	char *envp[] = {NULL};
	syscall(SYS_execveat, init_fd, "", argv, envp, AT_EMPTY_PATH);
	/* The payload's process sees the pipe close and exits. */
	fail_now(sync_fd, errno, "cannot execute sbx's init");
}

/* The sandbox inherits every fd of sbx: none may reach it (the instance
 * lock, a detached run's report pipe, the caller's other files) but those
 * from 3 to first-1, which the caller passes on (--preserve-fds), and a and
 * b (-1: none), sbx's own. */
static void close_inherited(unsigned first, int a, int b)
{
	int keep[2] = {a < b ? a : b, a < b ? b : a};
	unsigned lo = first;
	for (size_t i = 0; i < 2; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < lo)
			continue;
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
}

/* Parent death must kill the sandbox; the flag is cleared by credential
 * changes, so it is set again once they are done, and the parent checked. */
static void die_with_parent(int sync_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	struct pollfd p = {.fd = sync_fd, .events = 0};
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
		_exit(SBX_EXIT_FAILURE);
}

/* OCI runtime mode: blocks until `sbx-oci start` opens DIR/exec.fifo to
 * read (runc's exec fifo), runs the startContainer hooks and tells start
 * how they went: "0", or "E" and why they failed. The fifo stays open until
 * the exec closes it, which tells start that the payload runs. The
 * directory was opened before the root was pivoted; the fifo is made
 * writable to the payload's user, which may be a subordinate id, in a
 * directory only its owner reaches on the host. */
static void wait_start_fifo(const struct sbx_config *c, int sync_fd)
{
	struct sbx_error *err = NULL;
	int fd;
	do
		fd = openat(c->start_fifo_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		sbx_error_set(&err, errno, "cannot wait for start on \"%s/exec.fifo\"",
		              c->start_fifo_dir);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	close(c->start_fifo_dirfd);
	if (run_start_hooks(c, &err) < 0) {
		char line[600];
		int n = snprintf(line, sizeof(line), "E%s", err->msg);
		(void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	if (write(fd, "0", 1) != 1) {
		sbx_error_set(&err, errno, "cannot wait for start on \"%s/exec.fifo\"",
		              c->start_fifo_dir);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
}

/* Everything from the pty to exec, shared by a new sandbox and `sbx exec`:
 * the payload's user, capabilities, session, and the seccomp filter last. */
_Noreturn static void launch_payload(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                     int sync_fd, bool init, bool joining)
{
	struct sbx_error *err = NULL;
	struct sbx_sync_msg msg;
	int master = -1, slave = -1;
	if (c->terminal && make_pty(&master, &slave, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	/* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN, which
	 * the payload's user may not keep: runc's order, the filter first. */
	if (procattr_apply_late(&c->attr, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	bool filtered = false;
	if (c->seccomp_early && !c->no_new_privileges && !init && bpf && bpf->len) {
		int listener = seccomp_install(bpf, &err);
		if (listener < 0 || (listener > 0 && seccomp_notify_send(listener, &err) < 0))
			fail(sync_fd, err, SBX_EXIT_FAILURE);
		filtered = true;
	}
	/* Until it has joined (or said why not), this process keeps its ids:
	 * the kernel lets init join by pidfd only a process it could read. */
	char joined;
	if (handoff_early && read(handoff.locked, &joined, 1) != 1)
		_exit(SBX_EXIT_FAILURE);
	/* Before its ids change, while it still holds CAP_SYS_ADMIN. */
	if (handoff_early && handoff.walled && landlock_wall(&err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	if (set_rlimits(c, &err) < 0 || switch_user(c, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	if (chdir(c->cwd) < 0) {
		sbx_error_set(&err, errno, "cannot enter the working directory \"%s\"", c->cwd);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	char cwd[8];
	if (getcwd(cwd, sizeof(cwd)) == NULL && errno != ERANGE) {
		sbx_error_set(&err, errno, "the working directory \"%s\" is not reachable", c->cwd);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	if (c->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		sbx_error_set(&err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	/* Only 0-2 (and the pty) reach the payload, and the fds the caller
	 * passes on. */
	if (close_range(3 + (unsigned)c->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		sbx_error_set(&err, errno, "close_range");
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	for (int fd = 3; fd < 3 + c->preserve_fds; fd++)
		if (fcntl(fd, F_SETFD, 0) < 0) {
			sbx_error_set(&err, errno, "--preserve-fds: fd %d", fd);
			fail(sync_fd, err, SBX_EXIT_FAILURE);
		}

	/* sbx-init shares the payload's scopes (so the payload may signal it)
	 * but not its file rules, which would forbid its exec. */
	if (!handoff_early && landlock_apply(c,
	                                     joining ? LANDLOCK_JOIN
	                                     : init  ? LANDLOCK_SCOPES
	                                             : LANDLOCK_ALL,
	                                     &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	/* mount_lock's child has died by now: its zombie must not be seen. */
	mount_lock_reap();
	/* The mount namespace left unlocked goes to sbx, which drops it while
	 * it waits for the payload's start (process_start). The pty's master
	 * comes last. */
	int pass[2], n_pass = 0;
	int old_ns = mount_lock_take_old();
	if (old_ns >= 0)
		pass[n_pass++] = old_ns;
	if (master >= 0)
		pass[n_pass++] = master;
	if (sync_send_fds(sync_fd, SBX_SYNC_CREATED, 0, scratch_upper, overlay_used, pass,
	                  (size_t)n_pass) < 0)
		_exit(SBX_EXIT_FAILURE);
	if (master >= 0)
		close(master);
	if (old_ns >= 0)
		close(old_ns);
	/* sbx-init, started early, locks itself down while sbx records the
	 * sandbox; this process is the payload's, and waits for its go. */
	if (handoff_early) {
		close(handoff.locked);
		prepare_handoff(c, bpf, sync_fd, slave);
		payload_go(NULL);
	}
	/* sbx-init execs while sbx records the sandbox; the payload waits for
	 * START itself. */
	if (init)
		become_init(c, bpf, sync_fd, slave);
	/* OCI create with a terminal: the caller's stdio is let go before
	 * the wait for start, the pty in its place, as runc's init does
	 * (containerd's shim reads create's output until every writer has
	 * closed it). */
	for (int fd = 0; c->start_fifo_dir && slave >= 0 && fd < 3; fd++)
		if (dup2(slave, fd) < 0) {
			sbx_error_set(&err, errno, "dup2");
			fail(sync_fd, err, SBX_EXIT_FAILURE);
		}
	fail_to_stderr = c->start_fifo_dir != NULL;
	if (c->start_fifo_dir) {
		wait_start_fifo(c, sync_fd);
	} else {
		if (sync_recv(sync_fd, &msg, NULL) <= 0 || msg.type != SBX_SYNC_START)
			_exit(SBX_EXIT_FAILURE);
		if (run_start_hooks(c, &err) < 0)
			fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	if (!c->outlive_parent)
		die_with_parent(sync_fd);
	finish_payload(c, bpf, sync_fd, slave, false, filtered);
}

/* The sandbox's mounts, its root, its names and loopback, its mount lock,
 * then the payload: done by the set-up process, or with sbx-init started
 * early by the clone of pid 1 that becomes the payload. */
_Noreturn static void build(const struct sbx_config *c, const struct sbx_bpf *bpf, int sync_fd,
                            char scratch[3][4096])
{
	struct sbx_error *err = NULL;
	int rootfd = -1;
	if (setup_root(c, sync_fd, scratch, &rootfd, &err) < 0 ||
	    setup_mounts(c, rootfd, &err) < 0 || wait_create_hooks(c, sync_fd, &err) < 0 ||
	    mount_pivot(rootfd, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	close(rootfd);
	sbx_trace("child: root pivoted");
	if (mount_lock(&err) < 0 || set_propagation(c, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	/* sbx-init, started early, joins this mount namespace now, while the
	 * names and the loopback are set: by this process's pidfd, which
	 * needs it still the sandbox's root (launch_payload waits for it). */
	if (handoff_early && write(handoff.locked, "", 1) != 1)
		_exit(SBX_EXIT_FAILURE);
	if (c->hostname && (c->clone_flags & CLONE_NEWUTS) &&
	    sethostname(c->hostname, strlen(c->hostname)) < 0) {
		sbx_error_set(&err, errno, "cannot set the hostname \"%s\"", c->hostname);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0) {
		sbx_error_set(&err, errno, "cannot set the domain name \"%s\"", c->domainname);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	if ((c->clone_flags & CLONE_NEWNET) && net_loopback_up(&err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	sbx_trace("child: loopback up");
	launch_payload(c, bpf, sync_fd, c->init, false);
}

/* What the clone of pid 1 that builds the sandbox starts with. */
static struct {
	const struct sbx_config *c;
	const struct sbx_bpf *bpf;
	int sync_fd;
	char (*scratch)[4096];
	int close[3]; /* pid 1's ends of the pipes */
} worker;

static int worker_main(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < ARRAY_SIZE(worker.close); i++)
		if (worker.close[i] >= 0)
			close(worker.close[i]);
	/* Its parent is pid 1: sbx-init, which sbx's death kills. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	build(worker.c, worker.bpf, worker.sync_fd, worker.scratch);
}

/* Whether sbx-init starts at once (start_init_early), once it is opened:
 * for sbx run's sandboxes. Those of OCI runtime mode (a start fifo, hooks, no parent
 * death), the process attributes sbx-init would not share and a user
 * namespace joined by path (pid 1 changed its ids, so init could not join
 * by pidfd) keep the order of become_init. */
bool container_init_early(const struct sbx_config *c)
{
	return c->init && (c->clone_flags & CLONE_NEWPID) && !(c->join_flags & CLONE_NEWUSER) &&
	       !c->start_fifo_dir && !c->hook_state && !c->outlive_parent && !c->attr.has_ioprio &&
	       !c->attr.has_sched && !c->attr.has_personality;
}

/* sbx-init's exec (and its page faults) takes about as long as the mounts
 * do, so pid 1 starts it at once, and a clone of pid 1 (pid 2) builds the
 * sandbox and becomes the payload. Before the clone, pid 1 makes what it
 * must hold or share: the --rm scratch layer (sbx diff reads it through
 * init's fd), the Landlock scopes (the payload's domain nests in them, so
 * it may signal init) and the blocked signals (none slips past init).
 * sbx-init waits until the mounts are locked, joins the locked mount
 * namespace (pivot_root moved its root too, but it would still hold a
 * namespace whose mounts the payload could undo), tells the set-up, takes
 * the payload's ids and locks itself down, then lets the payload go. From
 * the clone on, pid 1 makes system calls only (its clone runs sbx's code in
 * sbx's memory); WORKER_STACK is the clone's stack. */
static void start_init_early(const struct sbx_config *c, const struct sbx_bpf *bpf, int sync_fd,
                             char scratch[3][4096], void *worker_stack)
{
	struct sbx_error *err = NULL;
	if ((c->overlay_scratch && make_scratch(c, scratch, &err) < 0) ||
	    landlock_apply(c, LANDLOCK_SCOPES, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	/* The exec pipe only when sbx waits for STARTED. */
	int go[2], ex[2] = {-1, -1}, locked[2];
	if (pipe2(go, O_CLOEXEC) < 0 || (!c->exec_in_wait && pipe2(ex, O_CLOEXEC) < 0) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, locked) < 0) {
		sbx_error_set(&err, errno, "cannot create a pipe for the sandbox's init");
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	worker.c = c;
	worker.bpf = bpf;
	worker.sync_fd = sync_fd;
	worker.scratch = scratch;
	worker.close[0] = go[1];
	worker.close[1] = ex[0];
	worker.close[2] = locked[0];
	handoff.go = go[0];
	handoff.go_write = -1;
	handoff.locked = locked[1];
	/* A kernel with Landlock's scopes walls the payload off from sbx-init
	 * (landlock_wall); sbx-init then needs no seccomp filter of its own. */
	handoff.walled = landlock_can_wall();
	pid_t payload = clone(worker_main, worker_stack, CLONE_VM | SIGCHLD, NULL);
	if (payload < 0) {
		sbx_error_set(&err, errno, "cannot start the sandbox's set-up");
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	close(go[0]);
	if (ex[1] >= 0)
		close(ex[1]);
	close(locked[1]);
	setsid();
	/* No fd of the host: not the caller's stdio, not the fds passed on
	 * (the payload's clone holds those); init opens none. With sbx's
	 * stdio closed, its own fds may be among these numbers. close_range,
	 * not close: a number not open is no error, and errno is shared. */
	const int keep[] = {sync_fd, scratch_upper, init_fd, go[1], ex[0], locked[0]};
	for (int fd = 0, from = -1; fd <= 3 + c->preserve_fds; fd++) {
		bool kept = fd == 3 + c->preserve_fds;
		for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
			kept = kept || fd == keep[i];
		/* Each run of numbers to close, in one call. */
		if (!kept && from < 0)
			from = fd;
		if (kept && from >= 0) {
			close_range((unsigned)from, (unsigned)fd - 1, 0);
			from = -1;
		}
	}
	keep_on_exec(sync_fd);
	keep_on_exec(go[1]);
	keep_on_exec(ex[0]);
	keep_on_exec(locked[0]);
	keep_on_exec(scratch_upper);
	char args[8][16];
	int flags =
	    (handoff.walled ? SBX_INIT_WALLED : 0) | (c->exec_in_wait ? SBX_INIT_NO_STARTED : 0);
	int nums[8] = {(int)payload, sync_fd,     go[1],       ex[0],
	               locked[0],    (int)c->uid, (int)c->gid, flags};
	char *argv[10] = {(char *)SBX_INIT_NAME};
	for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
		snprintf(args[i], sizeof(args[i]), "%d", nums[i]);
		argv[i + 1] = args[i];
	}
	char *envp[] = {NULL};
	syscall(SYS_execveat, init_fd, "", argv, envp, AT_EMPTY_PATH);
	int e = errno;
	/* The clone runs sbx's code: it stops at its next hand-off with init,
	 * which it finds closed, and is waited for before this says why. */
	close(locked[0]);
	while (waitpid(payload, NULL, __WALL) < 0 && errno == EINTR)
		;
	fail_now(sync_fd, e, "cannot execute sbx's init");
}

_Noreturn void container_main(const struct sbx_config *c, const char *init_path,
                              const struct sbx_bpf *bpf, int sync_fd, void *worker_stack)
{
	struct sbx_error *err = NULL;
	/* This memory is sbx's, which may have set up a sandbox before. */
	handoff_early = false;
	scratch_made = false;
	scratch_upper = -1;
	init_fd = -1;
	if (!c->outlive_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close_inherited(3 + (unsigned)c->preserve_fds, sync_fd,
	                c->start_fifo_dir ? c->start_fifo_dirfd : -1);
	struct sbx_sync_msg msg;
	if (sync_recv(sync_fd, &msg, NULL) <= 0 || msg.type != SBX_SYNC_MAPS_DONE)
		_exit(SBX_EXIT_FAILURE);
	sbx_trace("child: maps written");
	if (c->cgroup && (c->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
		sbx_error_set(&err, errno, "cannot create the cgroup namespace");
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	/* In a user namespace joined by path, as its root (runc does so): the
	 * caller's ids may be another user there, or none. */
	if ((c->join_flags & CLONE_NEWUSER) &&
	    (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)) {
		sbx_error_set(&err, errno,
		              "cannot become root in the joined user namespace (it must map "
		              "uid and gid 0)");
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	if (procattr_apply_early(&c->attr, &err) < 0 || seccomp_notify_prepare(c, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	read_dispositions();
	if (init_path && (init_fd = open(init_path, O_PATH | O_CLOEXEC)) < 0) {
		sbx_error_set(&err, errno, "cannot open sbx's init \"%s\"", init_path);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	if (mount_make_rslave(&err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	/* Paths of the scratch layer, on this stack, which outlives pid 1's
	 * part: its clone reads them after sbx-init's exec too. */
	char scratch[3][4096];
	if (init_fd >= 0 && container_init_early(c)) {
		handoff_early = true;
		start_init_early(c, bpf, sync_fd, scratch, worker_stack);
	}
	build(c, bpf, sync_fd, scratch);
}

_Noreturn void container_join_main(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                   int sync_fd)
{
	if (!c->outlive_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* The fds passed on (sbx-oci exec --preserve-fds) are below sync_fd:
	 * they were open before it was made. */
	close_inherited(3 + (unsigned)c->preserve_fds, sync_fd, -1);
	struct sbx_error *err = NULL;
	if (procattr_apply_early(&c->attr, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	launch_payload(c, bpf, sync_fd, false, true);
}
