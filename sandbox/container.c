/* container.c - the sandbox side: from a fresh clone to the payload's exec.
 *
 * Runs as the first process of the new namespaces. Every failure is sent to
 * sbx over the sync socket as one message, and the process exits 125. */
#define _GNU_SOURCE
#include "caps.h"
#include "landlock.h"
#include "mount-lock.h"
#include "mount.h"
#include "net.h"
#include "overlay.h"
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

_Noreturn static void fail(int sync_fd, struct sbx_error *e, int code)
{
	sync_send(sync_fd, SBX_SYNC_ERROR, e ? e->code : 0, code, e ? e->msg : "set-up failed", -1);
	_exit(code);
}

/* Which overlay backend mounted the root, and why: told to sbx with CREATED. */
static char overlay_used[256];
/* An in-memory upper layer, kept open by init so that sbx diff can read it
 * through /proc/PID/fd: told to sbx with CREATED too. */
static int scratch_upper = -1;

static int setup_root(const struct sbx_config *c, int *rootfd, struct sbx_error **err)
{
	const char *root = c->rootfs;
	char scratch[3][4096];
	if (c->overlay_upper || c->overlay_scratch) {
		struct sbx_overlay_spec spec = {c->overlay_lower, c->overlay_upper, c->overlay_work,
		                                c->rootfs, c->overlay_volatile};
		if ((c->overlay_scratch && overlay_scratch(&spec, scratch, err) < 0) ||
		    overlay_mount(c->overlay_backend, &spec, overlay_used, sizeof(overlay_used),
		                  err) < 0)
			return -1;
		if (c->overlay_scratch)
			scratch_upper = open(spec.upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
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

static int setup_mounts(const struct sbx_config *c, int rootfd, struct sbx_error **err)
{
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct sbx_mount *m = &c->mounts[i];
		if (mount_apply(rootfd, m, err) < 0)
			return -1;
		if (strcmp(m->dest, "/dev") == 0 && m->kind == SBX_MOUNT_FS &&
		    strcmp(m->type, "tmpfs") == 0 && mount_setup_dev(rootfd, err) < 0)
			return -1;
	}
	sbx_trace("%zu mounts done", c->n_mounts);
	_cleanup_close_ int empty = -1;
	for (size_t i = 0; c->masked[i]; i++)
		if (mount_mask(rootfd, c->masked[i], &empty, err) < 0)
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

static int switch_user(const struct sbx_config *c, struct sbx_error **err)
{
	if (caps_drop_bounding(&c->caps, err) < 0)
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

static int make_pty(int sync_fd, int *slave, struct sbx_error **err)
{
	_cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return sbx_error_set(err, errno, "cannot open /dev/ptmx in the sandbox");
	if (unlockpt(master) < 0)
		return sbx_error_set(err, errno, "cannot unlock the pty");
	*slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return sbx_error_set(err, errno, "cannot open the pty's terminal");
	if (sync_send(sync_fd, SBX_SYNC_PTY, 0, 0, "", master) < 0)
		return sbx_error_set(err, errno, "cannot pass the pty to sbx");
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

/* execvpe() would search the caller's PATH; the payload's is in its env. */
_Noreturn static void exec_payload(const struct sbx_config *c, int sync_fd)
{
	const char *cmd = c->args[0];
	int err = ENOENT;
	if (strchr(cmd, '/')) {
		execve(cmd, c->args, c->env);
		err = errno;
	} else {
		const char *path = env_get(c->env, "PATH");
		if (path == NULL)
			path = "/usr/local/bin:/usr/bin:/bin";
		bool eacces = false;
		char buf[4096];
		for (const char *p = path;; p++) {
			const char *end = strchrnul(p, ':');
			int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), p, cmd);
			if (end > p && n > 0 && (size_t)n < sizeof(buf)) {
				execve(buf, c->args, c->env);
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
			sync_send(sync_fd, SBX_SYNC_EXEC_FAILED, ENOENT, SBX_EXIT_NOTFOUND, msg,
			          -1);
			_exit(SBX_EXIT_NOTFOUND);
		}
	}
	char msg[512];
	snprintf(msg, sizeof(msg), "cannot execute \"%s\": %s", cmd, strerror(err));
	int code = err == ENOENT ? SBX_EXIT_NOTFOUND : SBX_EXIT_CANNOT;
	sync_send(sync_fd, SBX_SYNC_EXEC_FAILED, err, code, msg, -1);
	_exit(code);
}

static void reset_signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* A minimal pid 1: forwards signals to the payload, reaps every zombie, and
 * exits with the payload's status, told to sbx first: sbx can then clean up
 * while the kernel tears the sandbox down. */
_Noreturn static void run_init(pid_t payload, int sync_fd)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(payload, sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t p = waitpid(-1, &status, WNOHANG);
			if (p <= 0)
				break;
			if (p != payload)
				continue;
			int code =
			    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
			sync_send(sync_fd, SBX_SYNC_EXITED, 0, code, "", -1);
			_exit(code);
		}
	}
}

/* The sandbox inherits every fd of sbx. Its init never execs, so anything
 * not closed here would live as long as the sandbox: the instance lock, a
 * detached run's report pipe, the caller's other files. */
static void close_inherited(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0U, 0);
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

/* Everything from the pty to exec, shared by a new sandbox and `sbx exec`:
 * the payload's user, capabilities, session, and the seccomp filter last. */
_Noreturn static void launch_payload(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                     int sync_fd, bool init)
{
	struct sbx_error *err = NULL;
	struct sbx_sync_msg msg;
	int pty_slave = -1;
	if (c->terminal && make_pty(sync_fd, &pty_slave, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	/* Read again after vfork returns in init. */
	volatile int slave = pty_slave;
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
	/* Only 0-2 (and the pty) reach the payload. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		sbx_error_set(&err, errno, "close_range");
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}

	if (sync_send(sync_fd, SBX_SYNC_CREATED, 0, scratch_upper, overlay_used, -1) < 0)
		_exit(SBX_EXIT_FAILURE);
	if (sync_recv(sync_fd, &msg, NULL) <= 0 || msg.type != SBX_SYNC_START)
		_exit(SBX_EXIT_FAILURE);
	die_with_parent(sync_fd);

	if (landlock_apply(c, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	/* The filter goes on last: everything before exec must still be allowed. */
	if (bpf && bpf->len && seccomp_install(bpf, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	sbx_trace("child: seccomp installed");
	if (init) {
		/* Blocked before the fork, so no SIGCHLD can slip past init. */
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		/* vfork: no page tables to copy and no copy-on-write faults; init
		 * waits until the payload's exec (or its failure). */
		pid_t payload = vfork();
		if (payload < 0) {
			sbx_error_set(&err, errno, "cannot fork the payload");
			fail(sync_fd, err, SBX_EXIT_FAILURE);
		}
		if (payload > 0) {
			if (slave >= 0)
				close(slave);
			/* vfork returned: the payload runs, or said why not (sbx
			 * reads that first) and exited. */
			sync_send(sync_fd, SBX_SYNC_STARTED, 0, 0, "", -1);
			run_init(payload, sync_fd);
		}
		die_with_parent(sync_fd);
	}
	if (enter_session(slave, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	reset_signals();
	exec_payload(c, sync_fd);
}

_Noreturn void container_main(const struct sbx_config *c, int sync_fd)
{
	struct sbx_error *err = NULL;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close_inherited(sync_fd);
	struct sbx_sync_msg msg;
	if (sync_recv(sync_fd, &msg, NULL) <= 0 || msg.type != SBX_SYNC_MAPS_DONE)
		_exit(SBX_EXIT_FAILURE);
	sbx_trace("child: maps written");

	int rootfd = -1;
	if (mount_make_rslave(&err) < 0 || setup_root(c, &rootfd, &err) < 0 ||
	    setup_mounts(c, rootfd, &err) < 0 || mount_pivot(rootfd, &err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	close(rootfd);
	sbx_trace("child: root pivoted");
	if (c->hostname && (c->clone_flags & CLONE_NEWUTS) &&
	    sethostname(c->hostname, strlen(c->hostname)) < 0) {
		sbx_error_set(&err, errno, "cannot set the hostname \"%s\"", c->hostname);
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	}
	if ((c->clone_flags & CLONE_NEWNET) && net_loopback_up(&err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	sbx_trace("child: loopback up");
	if (mount_lock(&err) < 0)
		fail(sync_fd, err, SBX_EXIT_FAILURE);
	process_unspread();
	/* sbx sent the program while we mounted; a broken channel means it is gone. */
	struct sbx_bpf bpf = {0};
	if (c->seccomp &&
	    (sync_recv(sync_fd, &msg, NULL) <= 0 || sync_recv_bpf(sync_fd, &msg, &bpf) < 0))
		_exit(SBX_EXIT_FAILURE);
	launch_payload(c, c->seccomp ? &bpf : NULL, sync_fd, c->init);
}

_Noreturn void container_join_main(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                   int sync_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close_inherited(sync_fd);
	launch_payload(c, bpf, sync_fd, false);
}
