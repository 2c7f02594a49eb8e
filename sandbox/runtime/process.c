/* process.c - the sbx side of a sandbox: clone, maps, start, wait.
 *
 * The sandbox's set-up process is cloned with sbx's memory (CLONE_VM), as the
 * payload's process is cloned with its: a fork would copy sbx's page tables,
 * write-protect every page of sbx for the rest of its life and have both
 * sides fault them back one by one. Sharing memory has one rule: while a
 * process of the sandbox runs sbx's code, sbx itself waits in a system call
 * on the sync socket, so that the heap, stdio and errno are never used by two
 * at once. sbx does its own work before the set-up starts (MAPS_DONE) and
 * after it is done (CREATED); from CREATED to START the sandbox's side makes
 * system calls only (container.c's become_init), and from START sbx waits
 * until the payload has exec'd (STARTED, or EOF without sbx's init). */
#define _GNU_SOURCE
#include "runtime/process.h"
#include "runtime/container.h"
#include "runtime/sync.h"
#include "lib/fdpass.h"
#include "lib/libexec.h"
#include "runtime/net.h"
#include "runtime/nsjoin.h"
#include "runtime/overlay.h"
#include "runtime/terminal.h"
#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <linux/filter.h>

const int process_forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
const size_t process_n_forwarded_signals = ARRAY_SIZE(process_forwarded_signals);

static int status_of(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return si->si_status;
	return 128 + si->si_status;
}

/* Reaps the child if it already exited. */
static void reap(struct sbx_sandbox *ct, bool block)
{
	if (ct->exited || ct->pidfd < 0)
		return;
	siginfo_t si = {0};
	int r;
	do
		r = waitid(P_PIDFD, (id_t)ct->pidfd, &si, WEXITED | (block ? 0 : WNOHANG));
	while (r < 0 && errno == EINTR);
	if (r == 0 && si.si_pid != 0) {
		ct->exited = true;
		ct->status = status_of(&si);
	}
}

/* A failure the sandbox's side reported, as our error: sbx-init's text
 * lacks the errno's, which sbx adds. */
static int reported_error(const struct sbx_sync_msg *m, struct sbx_error **err)
{
	if (m->type == SBX_SYNC_INIT_FAILED)
		return sbx_error_set(err, m->errnum, "%s", m->text);
	return sbx_error_setc(err, m->errnum, "%s", m->text);
}

/* A set-up failure reported by the child, turned into our error. */
static int child_failed(struct sbx_sandbox *ct, const struct sbx_sync_msg *m,
                        struct sbx_error **err)
{
	reap(ct, true);
	return reported_error(m, err);
}

static int wait_created(struct sbx_sandbox *ct, struct sbx_error **err);

/* clone3 with a pidfd for the child, fork-like (no new stack). */
static long clone_pidfd(unsigned long long flags, int *pidfd)
{
	struct clone_args args = {
	    .flags = flags | CLONE_PIDFD,
	    .pidfd = (unsigned long long)(uintptr_t)pidfd,
	    .exit_signal = SIGCHLD,
	};
	return syscall(SYS_clone3, &args, sizeof(args));
}

/* Forwarded signals are blocked here and read from a signalfd later; the
 * child unblocks them right before exec. */
static struct sbx_sandbox *sandbox_new(const struct sbx_config *c, int sync_fd)
{
	struct sbx_sandbox *ct = xcalloc(1, sizeof(*ct));
	ct->config = c;
	ct->pidfd = -1;
	ct->pty = -1;
	ct->old_ns = -1;
	ct->scratch_fd = -1;
	ct->sync_fd = sync_fd;
	sigset_t mask;
	sigemptyset(&mask);
	for (size_t i = 0; i < process_n_forwarded_signals; i++)
		sigaddset(&mask, process_forwarded_signals[i]);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, &ct->saved_mask);
	return ct;
}

static int compile_policy(json_t *policy, struct sbx_bpf *bpf, struct sbx_error **err)
{
	_cleanup_free_ char *dir = seccomp_cache_dir();
	return seccomp_compile_cached(policy, dir, bpf, err);
}

/* The set-up process's stack: it runs on sbx's memory, so it needs one of
 * its own; pages it never touches cost nothing. Its top part is pid 1's;
 * below it, the clone that builds the sandbox while pid 1 execs sbx-init
 * has the rest (container_main). */
#define SETUP_STACK_SIZE (512 * 1024)
#define SETUP_STACK_PID1 (64 * 1024)
/* What they use (measured with mincore): the set-up alone 28 KiB; with
 * sbx-init started early, pid 1 20 KiB and the clone 16 KiB. */
#define SETUP_STACK_USED  (32 * 1024)
#define PID1_STACK_USED   (20 * 1024)
#define WORKER_STACK_USED (16 * 1024)

/* A stack whose sandbox is gone, for the next: unmapping it would flush the
 * TLB of every CPU the set-up ran on (an IPI each, costly in a VM), and sbx
 * usually exits right after. */
static char *spare_stack;

struct setup_args {
	const struct sbx_config *c;
	const char *init_path;
	const struct sbx_bpf *bpf;
	int sync_fd;
	void *worker_stack;
};

static int setup_main(void *arg)
{
	const struct setup_args *a = arg;
	container_main(a->c, a->init_path, a->bpf, a->sync_fd, a->worker_stack);
}

int process_create(const struct sbx_config *c, const struct sbx_create_hook *hook,
                   struct sbx_sandbox **out, struct sbx_error **err)
{
	_cleanup_free_ char *init_path = NULL;
	if (c->init && libexec_find(SBX_INIT_NAME, "sbx's init", &init_path, err) < 0)
		return -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return sbx_error_set(err, errno, "socketpair");
	struct sbx_sandbox *ct = sandbox_new(c, sv[0]);

	/* sbx's own work comes first: once the set-up runs, sbx waits. The
	 * program stays in ct for the payload's process, which reads it
	 * where it is. */
	if (c->seccomp) {
		if (compile_policy(c->seccomp, &ct->bpf, err) < 0) {
			close(sv[1]);
			process_destroy(ct);
			return -1;
		}
		sbx_trace("seccomp compiled (%zu instructions)", ct->bpf.len);
	}
	/* A guard page below the stack. */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *stack = steal_ptr(spare_stack);
	if (stack == NULL) {
		stack = mmap(NULL, SETUP_STACK_SIZE, PROT_NONE,
		             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
		if (stack != MAP_FAILED &&
		    mprotect(stack + page, SETUP_STACK_SIZE - page, PROT_READ | PROT_WRITE) < 0) {
			int e = errno;
			munmap(stack, SETUP_STACK_SIZE);
			errno = e;
			stack = MAP_FAILED;
		}
	}
	/* The parts in use, populated in one system call each rather than
	 * faulted in page by page. */
	if (stack != MAP_FAILED && !c->init) {
		madvise(stack + SETUP_STACK_SIZE - SETUP_STACK_USED, SETUP_STACK_USED,
		        MADV_POPULATE_WRITE);
	} else if (stack != MAP_FAILED) {
		madvise(stack + SETUP_STACK_SIZE - PID1_STACK_USED, PID1_STACK_USED,
		        MADV_POPULATE_WRITE);
		madvise(stack + SETUP_STACK_SIZE - SETUP_STACK_PID1 - WORKER_STACK_USED,
		        WORKER_STACK_USED, MADV_POPULATE_WRITE);
	}
	if (stack == MAP_FAILED) {
		sbx_error_set(err, errno, "cannot map a stack for the sandbox's set-up");
		close(sv[1]);
		process_destroy(ct);
		return -1;
	}
	ct->setup_stack = stack;
	/* The namespaces given by path, joined by sbx itself: the clone
	 * creates the others inside them. */
	if (nsjoin_enter(c, err) < 0) {
		close(sv[1]);
		process_destroy(ct);
		return -1;
	}
	struct setup_args args = {c, init_path, c->seccomp ? &ct->bpf : NULL, sv[1],
	                          stack + SETUP_STACK_SIZE - SETUP_STACK_PID1};
	int pidfd = -1;
	/* With a cgroup to join, the set-up makes its cgroup namespace once
	 * it is in it (container.c), so that the namespace is rooted there. */
	int ns_flags = c->clone_flags & ~(c->cgroup ? CLONE_NEWCGROUP : 0);
	int pid = clone(setup_main, stack + SETUP_STACK_SIZE,
	                ns_flags | CLONE_VM | CLONE_PIDFD | SIGCHLD, &args, &pidfd);
	int clone_errno = errno;
	close(sv[1]);
	if (pid < 0) {
		process_destroy(ct);
		const char *hint = userns_hint(clone_errno);
		return sbx_error_setc(
		    err, clone_errno, "cannot create the sandbox's namespaces: %s%s%s",
		    strerror(clone_errno), hint ? "; hint: " : "", hint ? hint : "");
	}
	ct->pid = (pid_t)pid;
	ct->pidfd = pidfd;
	/* sbx-init started early reports an exec failure before EXITED. */
	ct->exec_in_wait = c->exec_in_wait && container_init_early(c);
	sbx_trace("cloned pid %d", pid);
	/* Read by the sandbox's side only from its hooks on (MAPS_DONE). */
	if (c->hook_state)
		json_object_set_new(c->hook_state, "pid", json_integer(pid));

	if (cgroup_enter(c->cgroup, ct->pid, err) < 0 ||
	    ((c->clone_flags & CLONE_NEWUSER) && userns_write_maps(ct->pid, c, err) < 0)) {
		process_destroy(ct);
		return -1;
	}
	/* The helper needs the maps, and the sandbox a configured interface
	 * (and its /etc files) before it goes on. */
	if (net_start(&c->net, c->hostname, ct->pid, ct->pidfd, &ct->net, err) < 0) {
		process_destroy(ct);
		return -1;
	}
	if (sync_send(ct->sync_fd, SBX_SYNC_MAPS_DONE, 0, 0, "", -1) < 0) {
		sbx_error_set(err, errno, "cannot reach the sandbox");
		process_destroy(ct);
		return -1;
	}
	if (wait_created(ct, err) < 0) {
		process_destroy(ct);
		return -1;
	}
	sbx_trace("sandbox created");
	/* sbx's own files, written while the sandbox's init execs (from
	 * CREATED on, the sandbox's side makes system calls only), not before
	 * the clone, where the set-up waited for them. */
	if (hook && hook->fn(hook->ctx, err) < 0) {
		process_destroy(ct);
		return -1;
	}
	*out = ct;
	return 0;
}

/* The sandbox asked for fuse-overlayfs over its layers: sbx runs it
 * outside the sandbox and answers with the merged tree, or why not. */
static void serve_fuse(struct sbx_sandbox *ct)
{
	const struct sbx_config *c = ct->config;
	const char *const layers[3] = {c->overlay_lower, c->overlay_upper, c->overlay_work};
	struct sbx_error *e = NULL;
	int tree = -1;
	if (!layers[0] || !layers[1] || !layers[2])
		sbx_error_setc(&e, EPROTO, "the sandbox asked for fuse-overlayfs without layers");
	else if (overlay_fuse_serve(ct->pidfd, layers, &tree, &e) == 0)
		ct->fuse_daemon = true;
	sync_send(ct->sync_fd, SBX_SYNC_FUSE, e ? (e->code ? e->code : EIO) : 0, 0, e ? e->msg : "",
	          tree);
	if (tree >= 0)
		close(tree);
	sbx_error_free(e);
}

/* The sandbox's mounts are done and its root not pivoted yet: the OCI
 * hooks of create run now (prestart and createRuntime here, createContainer
 * in the sandbox's namespaces), and it goes on once they all succeeded. */
static int run_create_hooks(struct sbx_sandbox *ct, struct sbx_error **err)
{
	const struct sbx_config *c = ct->config;
	_cleanup_free_ char *state = hooks_state(c->hook_state, "creating");
	struct sbx_hooks_where here = SBX_HOOKS_HERE;
	struct sbx_hooks_where inside = {
	    .ns_pidfd = ct->pidfd,
	    .ns_flags =
	        c->clone_flags & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
	                          CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP),
	};
	if (hooks_run(&c->hooks, SBX_HOOK_PRESTART, state, &here, err) < 0 ||
	    hooks_run(&c->hooks, SBX_HOOK_CREATE_RUNTIME, state, &here, err) < 0 ||
	    hooks_run(&c->hooks, SBX_HOOK_CREATE_CONTAINER, state, &inside, err) < 0)
		return -1;
	if (sync_send(ct->sync_fd, SBX_SYNC_HOOKS, 0, 0, "", -1) < 0)
		return sbx_error_set(err, errno, "cannot reach the sandbox");
	return 0;
}

/* Waits for the child's CREATED, serving fuse-overlayfs and running the
 * OCI hooks of create on the way. */
static int wait_created(struct sbx_sandbox *ct, struct sbx_error **err)
{
	for (;;) {
		struct sbx_sync_msg m;
		int fds[2] = {-1, -1};
		size_t n = 0;
		int r = sync_recv_fds(ct->sync_fd, &m, fds, 2, &n);
		int fd = n > 0 ? fds[n - 1] : -1;
		if (r > 0 && m.type == SBX_SYNC_CREATED) {
			/* The old mount namespace, then with -t the pty's master. */
			bool pty = ct->config->terminal;
			if (n == 2 || (n == 1 && !pty)) {
				ct->old_ns = fds[0];
				if (n == 1)
					fd = -1;
			}
		} else if (n == 2) {
			close(fds[0]);
		}
		if (r > 0 && m.type == SBX_SYNC_FUSE) {
			if (fd >= 0)
				close(fd);
			serve_fuse(ct);
			continue;
		}
		if (r > 0 && m.type == SBX_SYNC_HOOKS && ct->config->hook_state) {
			if (fd >= 0)
				close(fd);
			if (run_create_hooks(ct, err) < 0)
				return -1;
			continue;
		}
		if (r <= 0) {
			reap(ct, true);
			return sbx_error_set(err, r < 0 ? errno : 0,
			                     "the sandbox died while being set up (status %d)",
			                     ct->status);
		}
		if (m.type == SBX_SYNC_CREATED) {
			/* With -t, the pty's master comes with it. */
			ct->pty = fd;
			snprintf(ct->overlay, sizeof(ct->overlay), "%.255s", m.text);
			ct->scratch_fd = m.exit_code;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		return child_failed(ct, &m, err);
	}
}

int process_exec(const struct sbx_config *c, int target_pidfd, struct sbx_sandbox **out,
                 struct sbx_error **err)
{
	struct sbx_bpf bpf = {0};
	if (c->seccomp && compile_policy(c->seccomp, &bpf, err) < 0)
		return -1;
	/* Non-dumpable before joining: the sandbox must not ptrace its way
	 * into a process that still holds host resources. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		seccomp_bpf_free(&bpf);
		return sbx_error_set(err, errno, "prctl(PR_SET_DUMPABLE)");
	}
	int flags = (c->clone_flags | c->join_flags) &
	            (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
	             CLONE_NEWNET | CLONE_NEWCGROUP);
	if (setns(target_pidfd, flags) < 0) {
		seccomp_bpf_free(&bpf);
		return sbx_error_set(err, errno, "cannot join the sandbox's namespaces");
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		seccomp_bpf_free(&bpf);
		return sbx_error_set(err, errno, "socketpair");
	}
	struct sbx_sandbox *ct = sandbox_new(c, sv[0]);
	int pidfd = -1;
	long pid = clone_pidfd(0, &pidfd);
	if (pid == 0) {
		close(sv[0]);
		container_join_main(c, &bpf, sv[1]);
	}
	int e = errno;
	close(sv[1]);
	seccomp_bpf_free(&bpf);
	if (pid < 0) {
		process_destroy(ct);
		return sbx_error_set(err, e, "cannot start a process in the sandbox");
	}
	ct->pid = (pid_t)pid;
	ct->pidfd = pidfd;
	if (wait_created(ct, err) < 0) {
		process_destroy(ct);
		return -1;
	}
	*out = ct;
	return 0;
}

int process_start(struct sbx_sandbox *ct, const struct sbx_create_hook *hook, int *exit_code,
                  struct sbx_error **err)
{
	*exit_code = 0;
	/* Before START: from then on the payload's process runs sbx's code in
	 * sbx's memory until its exec, and sbx waits. sbx's init execs
	 * meanwhile. */
	if (hook && hook->fn(hook->ctx, err) < 0)
		return -1;
	/* Refused when the sandbox's side is gone: it may have said why. */
	struct sbx_sync_msg m;
	if (sync_send(ct->sync_fd, SBX_SYNC_START, 0, 0, "", -1) < 0) {
		int e = errno;
		if (sync_recv(ct->sync_fd, &m, NULL) > 0 && m.type == SBX_SYNC_INIT_FAILED)
			return reported_error(&m, err);
		return sbx_error_set(err, e, "cannot start the sandbox");
	}
	ct->started = true;
	/* Its teardown's grace period passes while sbx-init and the payload
	 * exec on their side. */
	if (ct->old_ns >= 0) {
		close(ct->old_ns);
		ct->old_ns = -1;
	}
	/* Not confirmed: the wait hears of a failure (one hand-off less). */
	if (ct->exec_in_wait)
		return 0;
	/* The socket closes on exec (CLOEXEC): EOF means the payload runs as
	 * pid 1. sbx's init says so instead, and keeps the socket to tell how
	 * the payload ended. */
	int r = sync_recv(ct->sync_fd, &m, NULL);
	sbx_trace("payload started");
	if (r > 0 && m.type == SBX_SYNC_STARTED)
		return 0;
	close(ct->sync_fd);
	ct->sync_fd = -1;
	if (r <= 0)
		return 0;
	reap(ct, true);
	*exit_code = m.type == SBX_SYNC_EXEC_FAILED ? m.exit_code : SBX_EXIT_FAILURE;
	return reported_error(&m, err);
}

static int forward(struct sbx_sandbox *ct, int sig)
{
	if (syscall(SYS_pidfd_send_signal, ct->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

int process_wait(struct sbx_sandbox *ct, bool attach_stdin, int *status, struct sbx_error **err)
{
	sigset_t mask;
	sigemptyset(&mask);
	for (size_t i = 0; i < process_n_forwarded_signals; i++)
		sigaddset(&mask, process_forwarded_signals[i]);
	sigaddset(&mask, SIGWINCH);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return sbx_error_set(err, errno, "signalfd");
	_cleanup_(terminal_restorep) struct sbx_terminal term = {.fd = -1};
	bool proxy = ct->pty >= 0;
	bool in_open = proxy && attach_stdin;
	if (proxy) {
		terminal_raw(&term, STDIN_FILENO, in_open);
		terminal_copy_size(STDIN_FILENO, ct->pty);
	}
	/* sbx's init reports the payload's status on the sync socket before it
	 * exits; the pidfd turns readable once the sandbox is torn down. */
	bool listen = ct->sync_fd >= 0;
	while (!ct->exited && !(ct->reported && ct->return_early)) {
		struct pollfd p[5] = {{.fd = sfd, .events = POLLIN},
		                      {.fd = ct->pidfd, .events = POLLIN},
		                      {.fd = proxy ? ct->pty : -1, .events = POLLIN},
		                      {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN},
		                      {.fd = listen ? ct->sync_fd : -1, .events = POLLIN}};
		if (poll(p, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			return sbx_error_set(err, errno, "poll");
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH) {
					if (proxy)
						terminal_copy_size(STDIN_FILENO, ct->pty);
					continue;
				}
				forward(ct, (int)si.ssi_signo);
			}
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (terminal_pump(ct->pty, STDOUT_FILENO) <= 0)
				proxy = false;
		}
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (terminal_pump(STDIN_FILENO, ct->pty) <= 0)
				in_open = false;
		}
		if (p[4].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct sbx_sync_msg m;
			int r = sync_recv(ct->sync_fd, &m, NULL);
			if (r > 0 && m.type == SBX_SYNC_EXITED) {
				ct->reported = true;
				ct->status = m.exit_code;
				sbx_trace("payload exited with %d, said init", ct->status);
			} else if (r > 0 && ct->exec_in_wait) {
				/* The exec failed (or sbx-init could not lock itself
				 * down): as process_start says it when it waits. */
				reap(ct, true);
				ct->exec_failed = true;
				*status =
				    m.type == SBX_SYNC_EXEC_FAILED ? m.exit_code : SBX_EXIT_FAILURE;
				return reported_error(&m, err);
			}
			listen = false;
		}
		bool done = (p[1].revents & POLLIN) || (ct->reported && ct->return_early);
		/* Drain what the payload wrote before it exited. */
		while (done && proxy && terminal_pump_nonblock(ct->pty, STDOUT_FILENO) > 0)
			;
		if (p[1].revents & POLLIN) {
			int told = ct->status;
			reap(ct, true);
			/* init exits with the payload's status; a reported one
			 * stands even if init was killed after saying it. */
			if (ct->reported)
				ct->status = told;
		}
	}
	*status = ct->status;
	return 0;
}

/* fuse-overlayfs's daemon was reparented to sbx (overlay_fuse_serve made
 * it a subreaper) and exits once the sandbox's mount is gone, which it is
 * by now: wait for it a while, then kill what is left. */
static void reap_fuse_daemon(void)
{
	for (int i = 0; i < 300; i++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p < 0 && errno != EINTR)
			return;
		if (p == 0)
			usleep(10000);
	}
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)gettid());
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = fd >= 0 ? read_string(fd, buf, sizeof(buf)) : 0;
	buf[n < sizeof(buf) ? n : sizeof(buf) - 1] = '\0';
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0) {
			kill((pid_t)pid, SIGKILL);
			waitpid((pid_t)pid, NULL, 0);
		}
	}
}

/* What sbx holds of a sandbox, for process_destroy and process_release:
 * its network helper and its fds (pidfd, sync socket, pty, old mount ns). */
static void drop_handles(struct sbx_sandbox *ct)
{
	net_stop(ct->net);
	if (ct->pidfd >= 0)
		close(ct->pidfd);
	if (ct->sync_fd >= 0)
		close(ct->sync_fd);
	if (ct->pty >= 0)
		close(ct->pty);
	if (ct->old_ns >= 0)
		close(ct->old_ns);
}

void process_destroy(struct sbx_sandbox *ct)
{
	if (ct == NULL)
		return;
	/* A sandbox thrown away whose init told how the payload ended: init is
	 * on its way out, and the kernel tears the namespaces down (an RCU
	 * grace period for the mounts) without sbx waiting, as bwrap's does.
	 * sbx exits next, which would kill init anyway. With fuse-overlayfs,
	 * whose daemon sbx reaps once the mount is gone, it waits. */
	bool left = ct->reported && ct->return_early && !ct->exited && !ct->fuse_daemon;
	if (ct->pidfd >= 0 && !ct->exited && !left) {
		syscall(SYS_pidfd_send_signal, ct->pidfd, SIGKILL, NULL, 0);
		reap(ct, true);
	}
	if (ct->fuse_daemon)
		reap_fuse_daemon();
	drop_handles(ct);
	/* Reaped: with pid 1 gone, so is every process of its pid namespace,
	 * and none runs on this memory any more. Without a pid namespace the
	 * payload's process may still be on its way out: left to sbx's exit. */
	if ((ct->config->clone_flags & CLONE_NEWPID) && !left) {
		if (ct->setup_stack && spare_stack == NULL)
			spare_stack = ct->setup_stack;
		else if (ct->setup_stack)
			munmap(ct->setup_stack, SETUP_STACK_SIZE);
		seccomp_bpf_free(&ct->bpf);
	}
	sigprocmask(SIG_SETMASK, &ct->saved_mask, NULL);
	free(ct);
}

void process_release(struct sbx_sandbox *ct)
{
	if (ct == NULL)
		return;
	drop_handles(ct);
	sigprocmask(SIG_SETMASK, &ct->saved_mask, NULL);
	/* The stack and the seccomp program stay: the sandbox uses them. */
	free(ct);
}
