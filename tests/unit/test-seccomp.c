/* test-seccomp.c - the default policy, OCI policy files, compiling, and the
 * installed filter's behaviour in a child process. */
#define _GNU_SOURCE
#include "runtime/seccomp.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include <seccomp.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A classic-BPF interpreter, enough for libseccomp's output and our
 * prologue, so the program can be checked for other architectures and for
 * argument values a real call could not safely make. */
static uint32_t bpf_run(const struct sbx_bpf *b, const struct seccomp_data *d, int *bad)
{
	const struct sock_filter *f = b->insns;
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
	*bad = 0;
	for (size_t pc = 0; pc < b->len; pc++) {
		const struct sock_filter *i = &f[pc];
		uint32_t k = i->k, src = BPF_SRC(i->code) == BPF_X ? X : k;
		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			if (i->code == (BPF_LD | BPF_W | BPF_ABS) && k + 4 <= sizeof(*d) &&
			    k % 4 == 0)
				memcpy(&A, (const char *)d + k, 4);
			else if (BPF_MODE(i->code) == BPF_IMM)
				A = k;
			else if (BPF_MODE(i->code) == BPF_MEM && k < BPF_MEMWORDS)
				A = M[k];
			else
				goto fail;
			break;
		case BPF_LDX:
			if (BPF_MODE(i->code) == BPF_IMM)
				X = k;
			else if (BPF_MODE(i->code) == BPF_MEM && k < BPF_MEMWORDS)
				X = M[k];
			else
				goto fail;
			break;
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				goto fail;
			M[k] = BPF_CLASS(i->code) == BPF_ST ? A : X;
			break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_ADD:
				A += src;
				break;
			case BPF_SUB:
				A -= src;
				break;
			case BPF_MUL:
				A *= src;
				break;
			case BPF_OR:
				A |= src;
				break;
			case BPF_AND:
				A &= src;
				break;
			case BPF_XOR:
				A ^= src;
				break;
			case BPF_LSH:
				A = src < 32 ? A << src : 0;
				break;
			case BPF_RSH:
				A = src < 32 ? A >> src : 0;
				break;
			case BPF_NEG:
				A = -A;
				break;
			default:
				goto fail;
			}
			break;
		case BPF_JMP: {
			bool c;
			switch (BPF_OP(i->code)) {
			case BPF_JA:
				pc += k;
				continue;
			case BPF_JEQ:
				c = A == src;
				break;
			case BPF_JGT:
				c = A > src;
				break;
			case BPF_JGE:
				c = A >= src;
				break;
			case BPF_JSET:
				c = (A & src) != 0;
				break;
			default:
				goto fail;
			}
			pc += c ? i->jt : i->jf;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? A : k;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		default:
			goto fail;
		}
	}
fail:
	*bad = 1;
	return 0xdeadbeef;
}

static uint32_t eval(const struct sbx_bpf *b, uint32_t arch, int nr, uint64_t a0, uint64_t a1)
{
	struct seccomp_data d = {.nr = nr, .arch = arch, .args = {a0, a1}};
	int bad;
	uint32_t r = bpf_run(b, &d, &bad);
	return bad ? 0xdeadbeef : r;
}

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))

/* The names the policy allows unconditionally. */
static bool allows_unconditionally(json_t *pol, const char *name)
{
	size_t i, j;
	json_t *r, *n;
	json_array_foreach(json_object_get(pol, "syscalls"), i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "action")), "SCMP_ACT_ALLOW") !=
		        0 ||
		    json_object_get(r, "args"))
			continue;
		json_array_foreach(json_object_get(r, "names"), j,
		                   n) if (strcmp(json_string_value(n), name) == 0) return true;
	}
	return false;
}

static bool names_anywhere(json_t *pol, const char *name)
{
	size_t i, j;
	json_t *r, *n;
	json_array_foreach(json_object_get(pol, "syscalls"), i, r)
	{
		json_array_foreach(json_object_get(r, "names"), j,
		                   n) if (strcmp(json_string_value(n), name) == 0) return true;
	}
	return false;
}

static void test_default_json(void)
{
	_cleanup_(sbx_json_decrefp) json_t *pol = seccomp_default_json();
	_cleanup_error_ struct sbx_error *err = NULL;
	ok(pol != NULL, "seccomp_default_json returns an object");
	ok(seccomp_validate(pol, &err) == 0, "the default policy validates: %s",
	   err ? err->msg : "");
	is_str(json_string_value(json_object_get(pol, "defaultAction")), "SCMP_ACT_ERRNO",
	       "default action ERRNO");
	is_int(json_integer_value(json_object_get(pol, "defaultErrnoRet")), EPERM,
	       "default errno EPERM");
	json_t *arches = json_object_get(pol, "architectures");
	is_int(json_array_size(arches), 1, "only the native architecture");
#if defined(__x86_64__)
	is_str(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_X86_64", "x86_64");
#elif defined(__aarch64__)
	is_str(json_string_value(json_array_get(arches, 0)), "SCMP_ARCH_AARCH64", "aarch64");
#endif

	/* Every name is one libseccomp knows natively. */
	size_t i, j, unknown = 0, total = 0;
	json_t *r, *n;
	json_array_foreach(json_object_get(pol, "syscalls"), i, r)
	{
		json_array_foreach(json_object_get(r, "names"), j, n)
		{
			total++;
			if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE,
			                                      json_string_value(n)) < 0) {
				unknown++;
				printf("# not native: %s\n", json_string_value(n));
			}
		}
	}
	ok(unknown == 0, "all %zu names resolve for the native architecture", total);
	size_t n_allow = json_array_size(
	    json_object_get(json_array_get(json_object_get(pol, "syscalls"), 0), "names"));
	/* Docker's ~360 names include other architectures' syscalls. */
	ok(n_allow > 280, "about Docker's size of allowlist (%zu unconditional)", n_allow);

	static const char *const denied[] = {"acct",
	                                     "bpf",
	                                     "perf_event_open",
	                                     "kexec_load",
	                                     "kexec_file_load",
	                                     "init_module",
	                                     "finit_module",
	                                     "delete_module",
	                                     "create_module",
	                                     "iopl",
	                                     "ioperm",
	                                     "reboot",
	                                     "swapon",
	                                     "swapoff",
	                                     "syslog",
	                                     "settimeofday",
	                                     "stime",
	                                     "clock_settime",
	                                     "quotactl",
	                                     "quotactl_fd",
	                                     "lookup_dcookie",
	                                     "vhangup",
	                                     "nfsservctl",
	                                     "_sysctl",
	                                     "uselib",
	                                     "ustat",
	                                     "sysfs",
	                                     "vm86",
	                                     "vm86old",
	                                     "keyctl",
	                                     "add_key",
	                                     "request_key",
	                                     "mount",
	                                     "umount",
	                                     "umount2",
	                                     "pivot_root",
	                                     "setns",
	                                     "unshare",
	                                     "open_tree",
	                                     "move_mount",
	                                     "fsopen",
	                                     "fsconfig",
	                                     "fsmount",
	                                     "fspick",
	                                     "mount_setattr",
	                                     "kcmp",
	                                     "pidfd_getfd",
	                                     "process_madvise",
	                                     "open_by_handle_at",
	                                     "userfaultfd",
	                                     "io_uring_setup",
	                                     "io_uring_enter",
	                                     "io_uring_register",
	                                     "mbind",
	                                     "set_mempolicy",
	                                     "migrate_pages",
	                                     "move_pages",
	                                     "get_mempolicy",
	                                     "set_mempolicy_home_node",
	                                     "sethostname",
	                                     "setdomainname",
	                                     "fanotify_init",
	                                     "clone3"};
	size_t leaks = 0;
	for (i = 0; i < ARRAY_SIZE(denied); i++) {
		if (allows_unconditionally(pol, denied[i])) {
			leaks++;
			printf("# allowed: %s\n", denied[i]);
		}
	}
	ok(leaks == 0, "none of the %zu dangerous syscalls is allowed", ARRAY_SIZE(denied));
	ok(!names_anywhere(pol, "mount") && !names_anywhere(pol, "unshare") &&
	       !names_anywhere(pol, "keyctl"),
	   "mount, unshare and keyctl are not even named (default EPERM)");
	ok(allows_unconditionally(pol, "ptrace") && allows_unconditionally(pol, "chroot") &&
	       allows_unconditionally(pol, "name_to_handle_at") &&
	       allows_unconditionally(pol, "adjtimex"),
	   "ptrace, chroot, name_to_handle_at, adjtimex allowed (Docker's choices)");
	ok(!allows_unconditionally(pol, "socket") && !allows_unconditionally(pol, "ioctl") &&
	       !allows_unconditionally(pol, "personality") && !allows_unconditionally(pol, "clone"),
	   "socket, ioctl, personality, clone only with argument filters");

	/* Two calls give equal, independent objects. */
	_cleanup_(sbx_json_decrefp) json_t *again = seccomp_default_json();
	ok(json_equal(pol, again) && pol != again, "a new, equal object each call");
}

static void test_timing(void)
{
	const int rounds = 20;
	double t0 = now_ms();
	for (int i = 0; i < rounds; i++)
		json_decref(seccomp_default_json());
	double t_json = (now_ms() - t0) / rounds;

	_cleanup_(sbx_json_decrefp) json_t *pol = seccomp_default_json();
	double best = 1e9, sum = 0;
	size_t len = 0;
	for (int i = 0; i < rounds; i++) {
		struct sbx_bpf b = {0};
		_cleanup_error_ struct sbx_error *err = NULL;
		double t = now_ms();
		int r = seccomp_compile(pol, &b, &err);
		t = now_ms() - t;
		if (r < 0) {
			ok(0, "compile: %s", err->msg);
			return;
		}
		len = b.len;
		seccomp_bpf_free(&b);
		sum += t;
		if (t < best)
			best = t;
	}
	printf("# seccomp_default_json took %.3f ms\n", t_json);
	printf("# compile took %.3f ms (best %.3f ms; %zu instructions; ASan build)\n",
	       sum / rounds, best, len);
	ok(len > 0 && len < BPF_MAXINSNS, "the default policy compiles (%zu instructions)", len);
}

static void test_bpf_semantics(void)
{
	_cleanup_(sbx_json_decrefp) json_t *pol = seccomp_default_json();
	_cleanup_bpf_ struct sbx_bpf b = {0};
	_cleanup_error_ struct sbx_error *err = NULL;
	if (seccomp_compile(pol, &b, &err) < 0) {
		ok(0, "compile: %s", err->msg);
		return;
	}
	uint32_t arch = seccomp_arch_native();
	is_int(eval(&b, arch, SYS_getpid, 0, 0), SECCOMP_RET_ALLOW, "bpf: getpid allowed");
	is_int(eval(&b, arch, SYS_mount, 0, 0), RET_ERRNO(EPERM), "bpf: mount EPERM");
	is_int(eval(&b, arch, SYS_clone3, 0, 0), RET_ERRNO(ENOSYS), "bpf: clone3 ENOSYS");
	is_int(eval(&b, arch, 1000, 0, 0), RET_ERRNO(ENOSYS), "bpf: syscall 1000 ENOSYS");
	/* -1 (a tracer's "skip") has the x32 bit set, so libseccomp decides. */
	is_int(eval(&b, arch, -1, 0, 0), RET_ERRNO(EPERM), "bpf: syscall -1 EPERM");
	/* The policy's newest syscall bounds the ENOSYS range. */
	int max = -1;
	size_t i, j;
	json_t *r, *n;
	json_array_foreach(json_object_get(pol, "syscalls"), i, r)
	{
		json_array_foreach(json_object_get(r, "names"), j, n)
		{
			int nr = seccomp_syscall_resolve_name(json_string_value(n));
			if (nr > max)
				max = nr;
		}
	}
	_cleanup_free_ char *max_name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, max);
	printf("# newest syscall in the default policy: %d (%s)\n", max, max_name);
	ok(eval(&b, arch, max + 1, 0, 0) == RET_ERRNO(ENOSYS) &&
	       eval(&b, arch, max, 0, 0) != RET_ERRNO(ENOSYS),
	   "bpf: ENOSYS starts right after %d", max);
#ifdef SYS_kexec_file_load
	is_int(eval(&b, arch, SYS_kexec_file_load, 0, 0), RET_ERRNO(EPERM),
	       "bpf: a known, unlisted syscall is EPERM");
#endif

	/* ioctl: only the low 32 bits count, as in the kernel. */
	int wrong = 0;
	for (uint64_t hi = 0; hi < 4; hi++) {
		uint64_t high = hi == 0   ? 0
		                : hi == 1 ? (1ULL << 32)
		                : hi == 2 ? (0xffffULL << 40)
		                          : ~0ULL << 32;
		for (uint64_t cmd = 0x5300; cmd < 0x5500; cmd++) {
			uint32_t want = (cmd == TIOCSTI || cmd == TIOCLINUX) ? RET_ERRNO(EPERM)
			                                                     : SECCOMP_RET_ALLOW;
			if (eval(&b, arch, SYS_ioctl, 3, high | cmd) != want)
				wrong++;
		}
	}
	is_int(wrong, 0, "bpf: ioctl denies exactly TIOCSTI and TIOCLINUX, any upper bits");
	unsigned seed = 12345;
	wrong = 0;
	for (int k = 0; k < 20000; k++) {
		uint64_t v = (uint64_t)rand_r(&seed) << 40 ^ (uint64_t)rand_r(&seed) << 20 ^
		             (uint64_t)rand_r(&seed);
		uint32_t lo = (uint32_t)v;
		uint32_t want =
		    (lo == TIOCSTI || lo == TIOCLINUX) ? RET_ERRNO(EPERM) : SECCOMP_RET_ALLOW;
		if (eval(&b, arch, SYS_ioctl, 0, v) != want)
			wrong++;
	}
	is_int(wrong, 0, "bpf: 20000 random ioctl requests");

	is_int(eval(&b, arch, SYS_socket, AF_UNIX, 0), SECCOMP_RET_ALLOW, "bpf: AF_UNIX");
	is_int(eval(&b, arch, SYS_socket, 39, 0), SECCOMP_RET_ALLOW, "bpf: AF_NFC (39)");
	is_int(eval(&b, arch, SYS_socket, 44, 0), SECCOMP_RET_ALLOW, "bpf: AF_XDP (44)");
	is_int(eval(&b, arch, SYS_socket, AF_ALG, 0), RET_ERRNO(EPERM), "bpf: AF_ALG EPERM");
	is_int(eval(&b, arch, SYS_socket, AF_VSOCK, 0), RET_ERRNO(EPERM), "bpf: AF_VSOCK EPERM");
	is_int(eval(&b, arch, SYS_socket, (1ULL << 32) | AF_ALG, 0), RET_ERRNO(EPERM),
	       "bpf: AF_ALG with upper bits set is EPERM too");
	is_int(eval(&b, arch, SYS_socket, (1ULL << 32) | AF_VSOCK, 0), RET_ERRNO(EPERM),
	       "bpf: AF_VSOCK with upper bits set is EPERM too");
	is_int(eval(&b, arch, SYS_socket, 46, 0), RET_ERRNO(EPERM),
	       "bpf: families >= AF_MAX EPERM");
	is_int(eval(&b, arch, SYS_personality, 0xffffffff, 0), SECCOMP_RET_ALLOW,
	       "bpf: personality query");
	is_int(eval(&b, arch, SYS_personality, ADDR_NO_RANDOMIZE, 0), RET_ERRNO(EPERM),
	       "bpf: personality(ADDR_NO_RANDOMIZE) EPERM");
	is_int(eval(&b, arch, SYS_clone, SIGCHLD | CLONE_VM, 0), SECCOMP_RET_ALLOW,
	       "bpf: clone without namespace flags");
	is_int(eval(&b, arch, SYS_clone, SIGCHLD | CLONE_NEWNET, 0), RET_ERRNO(EPERM),
	       "bpf: clone(CLONE_NEWNET) EPERM");
#if defined(__x86_64__)
	/* Foreign architectures and x32 go to libseccomp's bad-arch action. */
	is_int(eval(&b, AUDIT_ARCH_I386, 20, 0, 0), SECCOMP_RET_KILL_THREAD,
	       "bpf: i386 syscalls are killed");
	is_int(eval(&b, arch, 0x40000000 | 39, 0, 0), SECCOMP_RET_KILL_THREAD,
	       "bpf: x32 syscalls are killed");
	is_int(eval(&b, arch, 0x40000000 | 2000, 0, 0), SECCOMP_RET_KILL_THREAD,
	       "bpf: x32 numbers skip the ENOSYS range check");
#endif
}

struct child_check {
	const char *what;
	int want_errno; /* 0: must succeed */
};

static const struct child_check child_checks[] = {
    {"getpid works", 0},
    {"unshare(CLONE_NEWUSER) is EPERM", EPERM},
    {"mount is EPERM", EPERM},
    {"keyctl is EPERM", EPERM},
    {"clone3 is ENOSYS", ENOSYS},
    {"ioctl(TIOCSTI) is EPERM", EPERM},
    {"ioctl(TIOCSTI | 1 << 32) is EPERM", EPERM},
    {"ioctl(TIOCLINUX) is EPERM", EPERM},
    {"ioctl(TCGETS) on a pty works", 0},
    {"ioctl(FIONREAD) is let through (EBADF on fd -1)", EBADF},
    {"socket(AF_ALG) is EPERM", EPERM},
    {"socket(AF_ALG | 1 << 32) is EPERM", EPERM},
    {"socket(AF_VSOCK) is EPERM", EPERM},
    {"socket(AF_UNIX) works", 0},
    {"personality(ADDR_NO_RANDOMIZE) is EPERM", EPERM},
    {"personality(0xffffffff) works", 0},
    {"syscall 1000 is ENOSYS", ENOSYS},
    {"clone(CLONE_NEWUSER) is EPERM", EPERM},
    {"fork works", 0},
    {"setns is EPERM (not EBADF)", EPERM},
    {"bpf is EPERM", EPERM},
    {"io_uring_setup is EPERM", EPERM},
    {"userfaultfd is EPERM", EPERM},
    {"open_tree is EPERM", EPERM},
    /* Docker's "> 40" would pass this: the kernel truncates to int. */
    {"socket(AF_VSOCK | 1 << 32) is EPERM", EPERM},
};

static int child_run(int i, int pty)
{
	char c = 'x';
	struct termios t;
	int v;
	long r = -1;
	switch (i) {
	case 0:
		r = getpid() > 0 ? 0 : -1;
		break;
	case 1:
		r = unshare(CLONE_NEWUSER);
		break;
	case 2:
		r = mount("none", "/", "tmpfs", 0, NULL);
		break;
	case 3:
		r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
		break;
	case 4:
		r = syscall(SYS_clone3, NULL, 0);
		break;
	case 5:
		r = ioctl(pty, TIOCSTI, &c);
		break;
	case 6:
		r = syscall(SYS_ioctl, pty, (unsigned long)TIOCSTI | (1UL << 32), &c);
		break;
	case 7:
		v = 0;
		r = ioctl(pty, TIOCLINUX, &v);
		break;
	case 8:
		r = pty < 0 ? (errno = ENOTTY, -1) : ioctl(pty, TCGETS, &t);
		break;
	case 9:
		r = ioctl(-1, FIONREAD, &v);
		break;
	case 10:
		r = socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		break;
	case 11:
		r = syscall(SYS_socket, (1UL << 32) | AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		break;
	case 12:
		r = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		break;
	case 13:
		r = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		break;
	case 14:
		r = syscall(SYS_personality, ADDR_NO_RANDOMIZE);
		break;
	case 15:
		r = syscall(SYS_personality, 0xffffffffUL);
		break;
	case 16:
		r = syscall(1000);
		break;
	case 17:
		r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (r == 0)
			_exit(0);
		break;
	case 18:
		r = fork();
		if (r == 0)
			_exit(0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
		break;
	case 19:
		r = syscall(SYS_setns, -1, 0);
		break;
	case 20:
		r = syscall(SYS_bpf, 0, NULL, 0);
		break;
	case 21:
		r = syscall(SYS_io_uring_setup, 1, NULL);
		break;
	case 22:
		r = syscall(SYS_userfaultfd, 0);
		break;
	case 23:
		r = syscall(SYS_open_tree, -1, "/", 0);
		break;
	case 24:
		r = syscall(SYS_socket, (1UL << 32) | AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		break;
	}
	return r < 0 ? errno : 0;
}

static void test_installed(void)
{
	_cleanup_(sbx_json_decrefp) json_t *pol = seccomp_default_json();
	_cleanup_bpf_ struct sbx_bpf b = {0};
	_cleanup_error_ struct sbx_error *err = NULL;
	if (seccomp_compile(pol, &b, &err) < 0) {
		ok(0, "compile: %s", err->msg);
		return;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		abort();
	int pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pty >= 0 && (grantpt(pty) < 0 || unlockpt(pty) < 0)) {
		close(pty);
		pty = -1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int res[ARRAY_SIZE(child_checks) + 1];
		struct sbx_error *e = NULL;
		res[0] = 0;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(&b, &e) < 0)
			res[0] = e ? e->code : errno;
		for (size_t i = 0; res[0] == 0 && i < ARRAY_SIZE(child_checks); i++)
			res[i + 1] = child_run((int)i, pty);
		if (write(fds[1], res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	int res[ARRAY_SIZE(child_checks) + 1];
	ssize_t n = read(fds[0], res, sizeof(res));
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (pty >= 0)
		close(pty);
	ok(n == (ssize_t)sizeof(res) && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "child ran (status %#x)", st);
	if (n != (ssize_t)sizeof(res))
		return;
	is_int(res[0], 0, "no_new_privs + seccomp_install");
	if (res[0] != 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(child_checks); i++) {
		if (i == 8 && pty < 0) {
			printf("ok %d - # SKIP no pty\n", ++tap_n);
			continue;
		}
		ok(res[i + 1] == child_checks[i].want_errno, "installed: %s (got %s)",
		   child_checks[i].what, res[i + 1] ? strerror(res[i + 1]) : "success");
	}
}

static const char *data_dir(void)
{
	const char *d = getenv("SBX_TEST_DATA");
	if (d)
		return d;
	struct stat st;
	if (stat("tests/data/seccomp", &st) == 0)
		return "tests/data/seccomp";
	return "../tests/data/seccomp";
}

static void test_fixtures(void)
{
	static const char *const good[] = {"good-minimal.json", "good-denylist.json",
	                                   "good-allowlist.json"};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", data_dir(), good[i]);
		_cleanup_(sbx_json_decrefp) json_t *pol = NULL;
		_cleanup_error_ struct sbx_error *err = NULL;
		_cleanup_bpf_ struct sbx_bpf b = {0};
		int r = seccomp_load_file(path, &pol, &err);
		ok(r == 0, "%s loads%s%s", good[i], err ? ": " : "", err ? err->msg : "");
		if (r == 0) {
			r = seccomp_compile(pol, &b, &err);
			ok(r == 0, "%s compiles%s%s", good[i], err ? ": " : "",
			   err ? err->msg : "");
		}
	}

	static const struct {
		const char *file, *msg;
	} bad[] = {
	    {"bad-syntax.json", ":3:11: '}' expected near '\"syscalls\"'"},
	    {"bad-duplicate.json", ":3:16: duplicate object key near '\"defaultAction\"'"},
	    {"bad-action.json",
	     ": syscalls[3].action: unknown action \"SCMP_ACT_ALOW\"; did you mean "
	     "\"SCMP_ACT_ALLOW\"?"},
	    {"bad-unknown-key.json",
	     ": unknown key \"defaultActon\"; did you mean \"defaultAction\"?"},
	    {"bad-syscall-key.json",
	     ": syscalls[0]: unknown key \"name\"; did you mean \"names\"?"},
	    {"bad-op.json",
	     ": syscalls[1].args[0].op: unknown operator \"SCMP_CMP_EQQ\"; did you mean "
	     "\"SCMP_CMP_EQ\"?"},
	    {"bad-index.json", ": syscalls[0].args[0].index: expected an integer from 0 to 5"},
	    {"bad-arch.json",
	     ": architectures[1]: unknown architecture \"SCMP_ARCH_X86-64\"; did you mean "
	     "\"SCMP_ARCH_X86_64\"?"},
	    {"bad-notify.json",
	     ": listenerPath: SCMP_ACT_NOTIFY needs it: the unix socket its notifications' fd is "
	     "sent to"},
	    {"bad-listener.json", ": listenerPath: expected the absolute path of a unix socket"},
	    {"bad-errnoret.json",
	     ": syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"},
	    {"bad-errno-range.json", ": defaultErrnoRet: expected an integer from 0 to 4095"},
	    {"bad-docker.json",
	     ": unknown key \"archMap\" (this looks like a Docker seccomp profile; sbx reads "
	     "OCI linux.seccomp objects)"},
	    {"bad-no-default.json", ": missing required key \"defaultAction\""},
	    {"bad-names-empty.json",
	     ": syscalls[0].names: expected a non-empty array of syscall names"},
	    {"bad-same-arg.json",
	     ": syscalls[0].args[1]: argument 0 is already compared in this rule; libseccomp "
	     "allows one comparison per argument (use separate syscalls entries, which are "
	     "ORed)"},
	    {"bad-flag.json",
	     ": flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_SPEC_ALOW\"; did you mean "
	     "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"?"},
	    {"bad-not-object.json", ": expected a JSON object (an OCI linux.seccomp object)"},
	    {"bad-value.json",
	     ": syscalls[0].args[0].value: expected an integer from 0 to 9223372036854775807"},
	    {"bad-huge-value.json", ":1:155: too big integer near '18446744073709551615'"},
	    {"bad-name-type.json", ": syscalls[0].names[1]: expected a syscall name"},
	    {"bad-arg-missing.json", ": syscalls[0].args[0]: missing required key \"op\""},
	    {"does-not-exist.json", ": No such file or directory"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", data_dir(), bad[i].file);
		_cleanup_(sbx_json_decrefp) json_t *pol = NULL;
		_cleanup_error_ struct sbx_error *err = NULL;
		int r = seccomp_load_file(path, &pol, &err);
		_cleanup_free_ char *want =
		    strcmp(bad[i].file, "does-not-exist.json") == 0
		        ? xasprintf("cannot open \"%s\"%s", path, bad[i].msg)
		        : xasprintf("%s%s", path, bad[i].msg);
		ok(r < 0 && pol == NULL, "%s is rejected", bad[i].file);
		is_str(err ? err->msg : NULL, want, "%s: error message", bad[i].file);
	}
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	if (j == NULL)
		printf("# bad test JSON: %s\n", e.text);
	return j;
}

static void test_compile_details(void)
{
	/* A permissive default gets no ENOSYS prologue; flags are carried. */
	_cleanup_(sbx_json_decrefp) json_t *deny = parse(
	    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
	    "\"SECCOMP_FILTER_FLAG_LOG\"],\"syscalls\":[{\"names\":[\"mount\"],\"action\":"
	    "\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}");
	_cleanup_bpf_ struct sbx_bpf b = {0};
	_cleanup_error_ struct sbx_error *err = NULL;
	ok(seccomp_compile(deny, &b, &err) == 0, "denylist compiles");
	uint32_t arch = seccomp_arch_native();
	is_int(b.flags, SECCOMP_FILTER_FLAG_SPEC_ALLOW | SECCOMP_FILTER_FLAG_LOG, "flags carried");
	is_int(eval(&b, arch, 1000, 0, 0), SECCOMP_RET_ALLOW, "ALLOW default: no ENOSYS stub");
	is_int(eval(&b, arch, SYS_mount, 0, 0), RET_ERRNO(EACCES), "errnoRet honoured");
	seccomp_bpf_free(&b);
	ok(b.insns == NULL && b.len == 0, "seccomp_bpf_free clears");

	/* A rule repeating the default action is skipped, not an error. */
	_cleanup_(sbx_json_decrefp) json_t *same =
	    parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
	          "\"action\":\"SCMP_ACT_ERRNO\"},{\"names\":[\"write\"],\"action\":"
	          "\"SCMP_ACT_ALLOW\"}]}");
	ok(seccomp_compile(same, &b, &err) == 0, "a rule with the default action is skipped");
	is_int(eval(&b, arch, SYS_write, 1, 0), SECCOMP_RET_ALLOW, "write allowed");
	is_int(eval(&b, arch, SYS_read, 1, 0), RET_ERRNO(EPERM), "read EPERM");
	is_int(eval(&b, arch, SYS_getpid, 1, 0), RET_ERRNO(ENOSYS),
	       "getpid (39) is above write (1), the newest named: ENOSYS");
	seccomp_bpf_free(&b);

	/* Without the native architecture, native calls hit the bad-arch action. */
	_cleanup_(sbx_json_decrefp) json_t *foreign =
	    parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_AARCH64\","
	          "\"SCMP_ARCH_X86\"],\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_"
	          "ALLOW\"}]}");
	ok(seccomp_compile(foreign, &b, &err) == 0, "a foreign-only policy compiles%s%s",
	   err ? ": " : "", err ? err->msg : "");
	uint32_t other = arch == SCMP_ARCH_X86_64 ? SCMP_ARCH_AARCH64 : SCMP_ARCH_X86_64;
	is_int(eval(&b, arch, 0, 0, 0), SECCOMP_RET_KILL_THREAD, "native calls killed");
	is_int(eval(&b, other, 63 /* aarch64 read */, 0, 0),
	       other == SCMP_ARCH_AARCH64 ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_THREAD,
	       "the listed architecture is filtered");
	seccomp_bpf_free(&b);

	/* An architecture of the other byte order cannot share a filter with the
	 * native one (libseccomp: EDOM): it is skipped, so what `profile check`
	 * accepts also runs. Found by fuzz-seccomp. */
	_cleanup_(sbx_json_decrefp) json_t *endian =
	    parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
	          "\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_MIPS\"],\"syscalls\":[{\"names\":[\"kexec_"
	          "load\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
	ok(seccomp_validate(endian, &err) == 0, "a big-endian architecture validates");
	ok(seccomp_compile(endian, &b, &err) == 0, "and compiles, skipped%s%s", err ? ": " : "",
	   err ? err->msg : "");
	seccomp_bpf_free(&b);

	/* Validation of in-memory objects. */
	sbx_error_free(err);
	err = NULL;
	_cleanup_(sbx_json_decrefp) json_t *typo = parse(
	    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"a\"],\"action\":"
	    "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\","
	    "\"valuetwo\":2}]}]}");
	ok(seccomp_validate(typo, &err) < 0, "unknown arg key rejected");
	is_str(err ? err->msg : NULL,
	       "syscalls[0].args[0]: unknown key \"valuetwo\"; did you mean \"valueTwo\"?",
	       "arg key error names the path");
	sbx_error_free(err);
	err = NULL;
	ok(seccomp_compile(typo, &b, &err) < 0 && b.insns == NULL, "compile validates too");
	sbx_error_free(err);
	err = NULL;
	_cleanup_(sbx_json_decrefp) json_t *defnotify =
	    parse("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}");
	ok(seccomp_validate(defnotify, &err) < 0, "NOTIFY default rejected");
	is_str(err ? err->msg : NULL,
	       "defaultAction: SCMP_ACT_NOTIFY cannot be the default action (only a rule's)",
	       "NOTIFY default message");
	sbx_error_free(err);
	err = NULL;
	_cleanup_(sbx_json_decrefp) json_t *unknown_only =
	    parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"nope_1\","
	          "\"nope_2\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
	ok(seccomp_compile(unknown_only, &b, &err) == 0, "unknown syscall names are ignored");
	is_int(eval(&b, arch, 0, 0, 0), RET_ERRNO(EPERM),
	       "and no ENOSYS range without a known name");
	seccomp_bpf_free(&b);
}

static void test_hash(void)
{
	_cleanup_(sbx_json_decrefp) json_t *a = seccomp_default_json();
	_cleanup_(sbx_json_decrefp) json_t *b =
	    parse("{\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\",\"names\":[\"read\"]}],"
	          "\"defaultAction\":\"SCMP_ACT_ERRNO\"}");
	_cleanup_(sbx_json_decrefp) json_t *c =
	    parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
	          "\"action\":\"SCMP_ACT_ALLOW\"}]}");
	_cleanup_(sbx_json_decrefp) json_t *d =
	    parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"reae\"],"
	          "\"action\":\"SCMP_ACT_ALLOW\"}]}");
	char ha[65], ha2[65], hb[65], hc[65], hd[65];
	ok(seccomp_policy_hash(a, ha) == 0 && seccomp_policy_hash(a, ha2) == 0 &&
	       seccomp_policy_hash(b, hb) == 0 && seccomp_policy_hash(c, hc) == 0 &&
	       seccomp_policy_hash(d, hd) == 0,
	   "hashes computed");
	is_int(strlen(ha), 64, "64 hex digits");
	ok(strspn(ha, "0123456789abcdef") == 64, "lower-case hex: %s", ha);
	is_str(ha, ha2, "stable");
	is_str(hb, hc, "independent of key order");
	ok(strcmp(hc, hd) != 0 && strcmp(ha, hb) != 0, "different policies differ");
}

/* The default policy inside a minimal config.json passes the OCI schema. */
static void test_oci_schema(void)
{
	const char *validator = "../shared/oci-runtime-spec/validate";
	if (access(validator, R_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) {
		printf("ok %d - # SKIP no OCI validator at %s\n", ++tap_n, validator);
		return;
	}
	_cleanup_(sbx_json_decrefp) json_t *cfg =
	    json_pack("{s:s, s:{s:s}, s:{s:o}}", "ociVersion", "1.2.0", "root", "path", "rootfs",
	              "linux", "seccomp", seccomp_default_json());
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	_cleanup_free_ char *path = xasprintf("%s/sbx-test-seccomp-XXXXXX", tmp);
	int fd = mkstemp(path);
	ok(fd >= 0 && json_dumpfd(cfg, fd, JSON_INDENT(1)) == 0, "config.json written");
	if (fd >= 0)
		close(fd);
	/* The validator prints its findings; stderr keeps them out of the TAP. */
	_cleanup_free_ char *cmd = xasprintf("/usr/bin/python3 %s %s >&2", validator, path);
	fflush(stdout);
	int st = system(cmd);
	ok(st == 0, "the default policy validates against the OCI runtime-spec schema");
	unlink(path);
}

static uint32_t eval4(const struct sbx_bpf *b, int nr, uint64_t a0, uint64_t a1, uint64_t a2,
                      uint64_t a3)
{
	struct seccomp_data d = {.nr = nr, .arch = seccomp_arch_native(), .args = {a0, a1, a2, a3}};
	int bad;
	uint32_t r = bpf_run(b, &d, &bad);
	return bad ? 0xdeadbeef : r;
}

/* restrict_suid_sgid: set-id modes are refused by every mode-setting call,
 * everything else still passes, under an allowlist and a denylist. */
static void test_restrict_setid(void)
{
	static const char *const srcs[] = {
	    NULL, /* the default policy */
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}",
	    "{\"defaultAction\": \"SCMP_ACT_LOG\", \"syscalls\": [{\"names\": [\"chmod\", "
	    "\"openat2\", \"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	};
	const uint64_t hi = 0xdead000000000000ULL; /* garbage above the int */
	const uint64_t creat = O_CREAT, tmp = O_TMPFILE & ~O_DIRECTORY;
	for (size_t s = 0; s < ARRAY_SIZE(srcs); s++) {
		_cleanup_(sbx_json_decrefp) json_t *pol =
		    srcs[s] ? json_loads(srcs[s], 0, NULL) : seccomp_default_json();
		_cleanup_error_ struct sbx_error *err = NULL;
		_cleanup_bpf_ struct sbx_bpf b = {0};
		if (seccomp_restrict_setid(pol, &err) < 0 || seccomp_compile(pol, &b, &err) < 0) {
			ok(0, "policy %zu: %s", s, err->msg);
			continue;
		}
		uint32_t allow = srcs[s] == NULL || s == 1 ? SECCOMP_RET_ALLOW : SECCOMP_RET_LOG;
		int wrong = 0;
		for (uint64_t m = 0; m < 010000; m += 01) {
			bool setid = m & 06000;
			uint32_t want = setid ? RET_ERRNO(EPERM) : SECCOMP_RET_ALLOW;
			uint32_t want_log = setid ? RET_ERRNO(EPERM) : allow;
			wrong +=
			    eval4(&b, SYS_chmod, 0, hi | m, 0, 0) != (s == 2 ? want : want_log);
			wrong += eval4(&b, SYS_fchmod, 3, m, 0, 0) != want_log;
			wrong += eval4(&b, SYS_fchmodat, 3, 0, hi | m, 0) != want_log;
			wrong += eval4(&b, SYS_mknodat, 3, 0, S_IFREG | m, 0) != want_log;
			wrong += eval4(&b, SYS_creat, 0, m, 0, 0) != want_log;
			wrong += eval4(&b, SYS_openat, 3, 0, O_WRONLY | creat, m) != want_log;
			wrong +=
			    eval4(&b, SYS_openat, 3, 0, O_RDWR | tmp | O_DIRECTORY, m) != want_log;
			/* Without O_CREAT or O_TMPFILE the mode register is garbage. */
			wrong += eval4(&b, SYS_openat, 3, 0, O_RDONLY, hi | m) != allow;
#ifdef SYS_fchmodat2
			wrong += eval4(&b, SYS_fchmodat2, 3, 0, m, 0) != want_log;
#endif
		}
		is_int(wrong, 0, "policy %zu: set-id modes EPERM by every call, others pass", s);
		is_int(eval4(&b, SYS_openat2, 3, 0, 0, 0), RET_ERRNO(ENOSYS),
		       "policy %zu: openat2 ENOSYS", s);
		uint32_t getpid = eval4(&b, SYS_getpid, 0, 0, 0, 0);
		ok(getpid == SECCOMP_RET_ALLOW, "policy %zu: getpid untouched", s);
	}

	/* A rule that compares the mode already cannot take the guard. */
	_cleanup_(sbx_json_decrefp) json_t *pol =
	    json_loads("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
	               "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"fchmod\"], "
	               "\"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 1, \"value\": "
	               "420, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	               0, NULL);
	_cleanup_error_ struct sbx_error *err = NULL;
	ok(seccomp_restrict_setid(pol, &err) < 0, "a rule comparing the mode is refused");
	is_str(err ? err->msg : "",
	       "syscalls[1]: already compares argument 1 of \"fchmod\", which restrict_suid_sgid "
	       "needs; allow the call without it, or set restrict_suid_sgid = false",
	       "... with a message that says what to do");
}

/* podman 4.3's default profile: four rules for socket, one repeated, whose
 * conditions clash with x86's socketcall (libseccomp says EEXIST). */
static void test_podman_socket_rules(void)
{
	_cleanup_(sbx_json_decrefp) json_t *pol =
	    parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\","
	          "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":["
	          "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":22,\"args\":["
	          "{\"index\":0,\"value\":16,\"op\":\"SCMP_CMP_EQ\"},{\"index\":2,\"value\":9,"
	          "\"op\":\"SCMP_CMP_EQ\"}]},"
	          "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,"
	          "\"value\":9,\"op\":\"SCMP_CMP_NE\"}]},"
	          "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
	          "\"value\":16,\"op\":\"SCMP_CMP_NE\"}]},"
	          "{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,"
	          "\"value\":9,\"op\":\"SCMP_CMP_NE\"}]}]}");
	_cleanup_bpf_ struct sbx_bpf b = {0};
	_cleanup_error_ struct sbx_error *err = NULL;
	ok(seccomp_compile(pol, &b, &err) == 0, "podman's socket rules compile%s%s",
	   err ? ": " : "", err ? err->msg : "");
	is_int(eval4(&b, SYS_socket, 16, 3, 9, 0), RET_ERRNO(EINVAL),
	       "socket(AF_NETLINK, ..., NETLINK_AUDIT) still EINVAL");
	is_int(eval4(&b, SYS_socket, 2, 1, 0, 0), SECCOMP_RET_ALLOW, "socket(AF_INET) allowed");
	is_int(eval4(&b, SYS_socket, 16, 3, 0, 0), SECCOMP_RET_ALLOW, "other netlink allowed");
}

int main(void)
{
	test_default_json();
	test_timing();
	test_bpf_semantics();
	test_installed();
	test_fixtures();
	test_compile_details();
	test_podman_socket_rules();
	test_hash();
	test_oci_schema();
	test_restrict_setid();
	return done_testing();
}
