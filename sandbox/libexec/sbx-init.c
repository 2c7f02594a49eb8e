/* sbx-init.c - sbx-init: pid 1 of a sandbox started with --init.
 *
 * A separate static program, exec'd by sbx's set-up process (as the set-up
 * starts, or once the sandbox is built; see sbx-sync.h), so that nothing the
 * payload can see in its pid namespace is a copy of the host's sbx: no
 * caller environment or command line, no host fds, no link to sbx's binary
 * through /proc/1/exe.
 *
 * Before it lets the payload exec, it locks itself down against a payload
 * that can ptrace it (one given CAP_SYS_PTRACE): non-dumpable, no
 * capabilities, no new privileges, the parent-death signal set. Where the
 * kernel has Landlock's scopes, the payload's process puts itself in a
 * Landlock layer of its own (WALLED, sbx-sync.h), and Landlock keeps it
 * from attaching to this process, its memory and its fds whatever its
 * capabilities. Elsewhere a seccomp filter of its own allows only what the
 * loop below uses, so that a syscall injected into it
 * (prctl(PR_SET_PDEATHSIG, 0) to outlive sbx, kill(0, ...) to reach sbx's
 * process group, an ioctl, an exec) fails. (The kernel's compilation of a
 * filter costs a start 3% here.)
 * Its session and fds 0-2 (closed, or /dev/null) were set by sbx before
 * the exec.
 *
 * Then it forwards signals to the payload, reaps every zombie, tells sbx the
 * payload's status and exits with it.
 *
 * Freestanding (no libc, raw system calls): its exec is on every sandbox's
 * start-up path, and a static libc's start-up code costs more than all of
 * this. Not linked into sbx; see sbx-sync.h for the command line. */
#include "libexec/sbx-sync.h"

#include <asm/unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/filter.h>
#include <linux/poll.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/signal.h>
#include <linux/socket.h>
#include <linux/time_types.h>
#include <stddef.h>

#define EXIT_SBX_FAILURE 125
#define MSG_NOSIGNAL_    0x4000
#define WNOHANG_         1
#define CLONE_NEWNS_     0x00020000

#if defined(__x86_64__)
#define INIT_ARCH AUDIT_ARCH_X86_64
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret;
}
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "	xor %rbp, %rbp\n"
        "	mov %rsp, %rdi\n"
        "	and $-16, %rsp\n"
        "	call init_main\n"
        "	hlt\n");
#elif defined(__aarch64__)
#define INIT_ARCH AUDIT_ARCH_AARCH64
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
	                 : "+r"(x0)
	                 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
	                 : "memory");
	return x0;
}
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "	mov x29, #0\n"
        "	mov x30, #0\n"
        "	mov x0, sp\n"
        "	bl init_main\n"
        "	brk #0\n");
#elif defined(__riscv) && __riscv_xlen == 64
#define INIT_ARCH AUDIT_ARCH_RISCV64
static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long a7 __asm__("a7") = n;
	register long a0 __asm__("a0") = a;
	register long a1 __asm__("a1") = b;
	register long a2 __asm__("a2") = c;
	register long a3 __asm__("a3") = d;
	register long a4 __asm__("a4") = e;
	register long a5 __asm__("a5") = f;
	__asm__ volatile("ecall"
	                 : "+r"(a0)
	                 : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5)
	                 : "memory");
	return a0;
}
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "	mv a0, sp\n"
        "	call init_main\n"
        "	ebreak\n");
#else
#error "sbx-init: no system-call glue for this architecture"
#endif

#define sys0(n)                sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a)             sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b)          sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c)       sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d)    sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The compiler may call these for structure copies and initialisers. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *s, int c, size_t n)
{
	volatile unsigned char *p = s;
	while (n--)
		*p++ = (unsigned char)c;
	return s;
}
void *memcpy(void *d, const void *s, size_t n)
{
	volatile unsigned char *o = d;
	const unsigned char *i = s;
	while (n--)
		*o++ = *i++;
	return d;
}

_Noreturn static void leave(int code)
{
	for (;;)
		sys1(__NR_exit_group, code);
}

/* Everything the loop below calls, and nothing else; kill has a rule. */
static const unsigned allowed[] = {
    __NR_read,           __NR_write,           __NR_close,           __NR_sendto,
    __NR_rt_sigprocmask, __NR_rt_sigtimedwait, __NR_wait4,           __NR_exit,
    __NR_exit_group,     __NR_rt_sigreturn,    __NR_restart_syscall,
};
#define N_ALLOWED (sizeof(allowed) / sizeof(allowed[0]))

/* Returns 0, or -errno. */
static long lock_down(int walled)
{
	struct sock_filter f[4 + N_ALLOWED + 6];
	unsigned n = 0;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, INIT_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < N_ALLOWED; i++)
		/* A match jumps over the other tests and the kill rule to ALLOW. */
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed[i],
		                                      (unsigned char)(N_ALLOWED - i + 4), 0);
	/* kill only to one process (the payload): not to a group, not to -1. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_kill, 0, 3);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                      offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80000000u, 0, 1);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};

	/* Empty permitted and inheritable sets empty the ambient one too (the
	 * kernel keeps ambient within both). */
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct none[2] = {{0}};
	long r;
	if ((r = sys2(__NR_prctl, PR_SET_DUMPABLE, 0)) < 0 ||
	    (r = sys2(__NR_capset, &h, none)) < 0 ||
	    (r = sys2(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1)) < 0)
		return r;
	return walled ? 0 : sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void send_msg(int fd, const struct sbx_sync_msg *m)
{
	while (sys6(__NR_sendto, fd, (long)m, sizeof(*m), MSG_NOSIGNAL_, 0, 0) == -EINTR)
		;
}

/* The payload's process, and init's ends of the hand-offs with it. */
static int payload_pid = -1, go_fd = -1, locked_fd = -1;

/* Why init's set-up failed, to sbx (which adds the errno's text), then out.
 * The payload's process may still run sbx's code in sbx's memory, and may
 * fail the same way (a user it cannot switch to) and say so better: init's
 * ends closed, it stops at its next hand-off, and is waited for first. */
_Noreturn static void fail(int sync_fd, const char *what, long err)
{
	if (locked_fd >= 0)
		sys1(__NR_close, locked_fd);
	sys1(__NR_close, go_fd);
	int status;
	while (sys4(__NR_wait4, payload_pid, &status, 0, 0) == -EINTR)
		;
	struct sbx_sync_msg m = {.type = SBX_SYNC_INIT_FAILED,
	                         .errnum = err < 0 ? (int)-err : 0,
	                         .exit_code = EXIT_SBX_FAILURE};
	for (size_t i = 0; what[i] && i < sizeof(m.text) - 1; i++)
		m.text[i] = what[i];
	send_msg(sync_fd, &m);
	leave(EXIT_SBX_FAILURE);
}

/* Started early, as the set-up's root: once the payload's process said the
 * mounts are locked (a byte on LOCKED, EOF if it failed), joins its locked
 * mount namespace by its pidfd, which sets root and cwd to the sandbox's
 * root and leaves the namespace whose mounts are not locked; answers on
 * LOCKED (the process keeps its ids until then: the kernel lets a pidfd's
 * namespaces be joined only by who could read the process), then takes the
 * payload's ids. */
static void become_payload_user(int sync_fd, int uid, int gid)
{
	char c;
	long r;
	while ((r = sys3(__NR_read, locked_fd, &c, 1)) == -EINTR)
		;
	/* EOF: the set-up failed, and said why itself. */
	if (r != 1)
		leave(EXIT_SBX_FAILURE);
	long pidfd = sys2(__NR_pidfd_open, payload_pid, 0);
	if (pidfd < 0)
		fail(sync_fd, "sbx's init: cannot open the payload's process", pidfd);
	if ((r = sys2(__NR_setns, pidfd, CLONE_NEWNS_)) < 0)
		fail(sync_fd, "sbx's init: cannot join the sandbox's mount namespace", r);
	sys1(__NR_close, pidfd);
	/* The set-up may now take the payload's ids. */
	if ((r = sys3(__NR_write, locked_fd, &c, 1)) != 1)
		fail(sync_fd, "sbx's init: cannot answer the set-up", r);
	sys1(__NR_close, locked_fd);
	locked_fd = -1;
	/* Denied in a single-id user namespace, where there are none to drop. */
	sys2(__NR_setgroups, 0, 0);
	if ((r = sys3(__NR_setresgid, gid, gid, gid)) < 0)
		fail(sync_fd, "sbx's init: cannot switch to the payload's group", r);
	if ((r = sys3(__NR_setresuid, uid, uid, uid)) < 0)
		fail(sync_fd, "sbx's init: cannot switch to the payload's user", r);
}

static void tell(int fd, int type, int code)
{
	struct sbx_sync_msg m = {.type = type, .exit_code = code};
	send_msg(fd, &m);
}

static int number(const char *s)
{
	long v = 0;
	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (1L << 30))
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < (1L << 30) ? (int)v : -1;
}

__attribute__((used)) _Noreturn void init_main(long *sp);

_Noreturn void init_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	int early = argc == 9;
	payload_pid = argc == 5 || early ? number(argv[1]) : -1;
	int sync_fd = argc == 5 || early ? number(argv[2]) : -1;
	go_fd = argc == 5 || early ? number(argv[3]) : -1;
	int exec_fd = argc == 5 || early ? number(argv[4]) : -1;
	locked_fd = early ? number(argv[5]) : -1;
	int uid = early ? number(argv[6]) : -1;
	int gid = early ? number(argv[7]) : -1;
	int flags = early ? number(argv[8]) : 0;
	int started = !(flags & SBX_INIT_NO_STARTED);
	if (payload_pid <= 0 || sync_fd < 3 || go_fd < 3 ||
	    (started ? exec_fd < 3 : exec_fd != -1) ||
	    (early && (locked_fd < 3 || uid < 0 || gid < 0 || flags < 0 ||
	               (flags & ~(SBX_INIT_WALLED | SBX_INIT_NO_STARTED))))) {
		static const char usage[] = "sbx-init: pid 1 of an sbx sandbox, started by sbx "
		                            "run; not meant to be run by hand\n";
		sys3(__NR_write, 2, usage, sizeof(usage) - 1);
		leave(2);
	}

	/* The exec may have changed the capability sets, which clears the
	 * parent-death signal: set it again. */
	long r;
	if ((r = sys2(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL)) < 0)
		fail(sync_fd, "sbx's init: cannot set its parent-death signal", r);
	if (early)
		become_payload_user(sync_fd, uid, gid);
	/* A change of ids cleared it again; then make sure sbx did not die
	 * before. */
	if ((r = sys2(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL)) < 0)
		fail(sync_fd, "sbx's init: cannot set its parent-death signal", r);
	struct pollfd p = {.fd = sync_fd, .events = 0};
	struct __kernel_timespec zero = {0, 0};
	if (sys5(__NR_ppoll, &p, 1, &zero, 0, 0) != 0)
		leave(EXIT_SBX_FAILURE);
	if ((r = lock_down(flags & SBX_INIT_WALLED)) < 0)
		fail(sync_fd, "sbx's init: cannot lock itself down", r);

	/* The payload may exec once sbx's START came too (to the payload's
	 * process itself; this exec overlapped sbx's work); its exec closes
	 * exec_fd. A failure it reports to sbx itself, before this STARTED (or
	 * its EXITED, when sbx waits for no STARTED), on the same socket. */
	char go = 1;
	if (sys3(__NR_write, go_fd, &go, 1) != 1)
		leave(EXIT_SBX_FAILURE);
	sys1(__NR_close, go_fd);
	if (started) {
		char c;
		while (sys3(__NR_read, exec_fd, &c, 1) == -EINTR)
			;
		sys1(__NR_close, exec_fd);
		tell(sync_fd, SBX_SYNC_STARTED, 0);
	}

	/* Every signal was blocked before the exec (the mask survives it), so
	 * none slipped past. */
	unsigned long all = ~0UL;
	sys4(__NR_rt_sigprocmask, SIG_BLOCK, &all, 0, sizeof(all));
	for (;;) {
		unsigned char info[128]; /* siginfo_t: si_signo first */
		long sig = sys4(__NR_rt_sigtimedwait, &all, info, 0, sizeof(all));
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			sys2(__NR_kill, payload_pid, sig);
			continue;
		}
		for (;;) {
			int status = 0;
			long w = sys4(__NR_wait4, -1, &status, WNOHANG_, 0);
			if (w <= 0)
				break;
			if (w != payload_pid)
				continue;
			int termsig = status & 0x7f;
			int code = termsig ? 128 + termsig : (status >> 8) & 0xff;
			tell(sync_fd, SBX_SYNC_EXITED, code);
			leave(code);
		}
	}
}
