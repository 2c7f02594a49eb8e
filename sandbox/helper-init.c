/* helper-init.c - sbx-init: pid 1 of a sandbox started with --init.
 *
 * A separate static program, exec'd by sbx's set-up process once the
 * sandbox is built, so that nothing the payload can see in its pid namespace
 * is a copy of the host's sbx: no caller environment or command line, no
 * host fds, no writable link to sbx's binary through /proc/1/exe.
 *
 * Before it lets the payload exec, it locks itself down against a payload
 * that can ptrace it (one given CAP_SYS_PTRACE): non-dumpable, no
 * capabilities, no new privileges, the parent-death signal set, and a
 * seccomp filter of its own that allows only what the loop below uses, so
 * that a syscall injected into it (prctl(PR_SET_PDEATHSIG, 0) to outlive
 * sbx, an ioctl, an exec) fails. Its session and fds 0-2 (/dev/null) were set
 * by sbx before the exec.
 *
 * Then it forwards signals to the payload, reaps every zombie, tells sbx the
 * payload's status and exits with it. Not linked into sbx; see sbx-sync.h. */
#define _GNU_SOURCE
#include "sbx-sync.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_FAILURE_SBX 125

#if defined(__x86_64__)
#define INIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define INIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define INIT_ARCH AUDIT_ARCH_I386
#elif defined(__riscv) && __riscv_xlen == 64
#define INIT_ARCH AUDIT_ARCH_RISCV64
#elif defined(__s390x__)
#define INIT_ARCH AUDIT_ARCH_S390X
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define INIT_ARCH AUDIT_ARCH_PPC64LE
#else
#error "sbx-init: unknown architecture for its seccomp filter"
#endif

/* Everything the loop below calls, and nothing else. */
static const unsigned allowed[] = {
    SYS_read,
    SYS_write,
    SYS_close,
    SYS_sendmsg,
    SYS_sendto,
    SYS_rt_sigprocmask,
    SYS_rt_sigtimedwait,
#ifdef SYS_wait4
    SYS_wait4,
#endif
    SYS_waitid,
    SYS_exit,
    SYS_exit_group,
    SYS_rt_sigreturn,
    SYS_restart_syscall,
};

static int lock_down(void)
{
	enum { N = sizeof(allowed) / sizeof(allowed[0]) };
	struct sock_filter f[4 + N + 6];
	unsigned n = 0;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, INIT_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < N; i++)
		/* Match: jump over the remaining tests and the EPERM to ALLOW. */
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed[i],
		                                      (unsigned char)(N - i + 4), 0);
	/* kill only to one process (the payload): not to a group, not to -1. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kill, 0, 3);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80000000u, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};

	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct none[2] = {{0}};
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    syscall(SYS_capset, &h, none) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void tell(int fd, int type, int code)
{
	struct sbx_sync_msg m = {.type = type, .exit_code = code};
	while (send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static int number(const char *s)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : -1;
	return s && *s && *end == '\0' && v >= 0 && v < (1L << 30) ? (int)v : -1;
}

int main(int argc, char **argv)
{
	pid_t payload = argc == 5 ? number(argv[1]) : -1;
	int sync_fd = argc == 5 ? number(argv[2]) : -1;
	int go_fd = argc == 5 ? number(argv[3]) : -1;
	int exec_fd = argc == 5 ? number(argv[4]) : -1;
	if (payload <= 0 || sync_fd < 3 || go_fd < 3 || exec_fd < 3) {
		static const char usage[] = "sbx-init: pid 1 of an sbx sandbox, started by sbx "
		                            "run; not meant to be run by hand\n";
		if (write(STDERR_FILENO, usage, sizeof(usage) - 1) < 0)
			return 2;
		return 2;
	}

	/* The exec changed the capability sets, which clears the parent-death
	 * signal: set it again, then make sure sbx did not die before. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(EXIT_FAILURE_SBX);
	struct pollfd p = {.fd = sync_fd, .events = 0};
	if (poll(&p, 1, 0) != 0)
		_exit(EXIT_FAILURE_SBX);
	if (lock_down() < 0)
		_exit(EXIT_FAILURE_SBX);

	/* The payload may exec now; its exec closes exec_fd. A failure it
	 * reports to sbx itself, before this STARTED, on the same socket. */
	char go = 1;
	if (write(go_fd, &go, 1) != 1)
		_exit(EXIT_FAILURE_SBX);
	close(go_fd);
	char c;
	while (read(exec_fd, &c, 1) < 0 && errno == EINTR)
		;
	close(exec_fd);
	tell(sync_fd, SBX_SYNC_STARTED, 0);

	/* Every signal was blocked before the exec (the mask survives it), so
	 * none slipped past. */
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
			pid_t w = waitpid(-1, &status, WNOHANG);
			if (w <= 0)
				break;
			if (w != payload)
				continue;
			int code =
			    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
			tell(sync_fd, SBX_SYNC_EXITED, code);
			_exit(code);
		}
	}
}
