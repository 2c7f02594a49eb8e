/* seccomp.c - the default syscall policy, OCI linux.seccomp parsing, and
 * compiling with libseccomp plus runc's ENOSYS prologue. */
#define _GNU_SOURCE
#include "runtime/seccomp.h"
#include "lib/json-text.h"
#include "lib/sha256.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* Bumped whenever the compiled output changes for the same policy, so cached
 * programs (seccomp_policy_hash) are not reused across such changes. */
#define COMPILER_REVISION 2

/* ------------------------------------------------------------------------ */
/* The default policy */

/* Docker's unconditional allowlist (moby/profiles seccomp/default.json), plus
 * its ptrace/process_vm_* (kernel >= 4.8) and arch-specific entries, plus
 * chroot (our default capabilities include CAP_SYS_CHROOT). Docker's
 * capability-conditional entries (mount, unshare, setns, bpf, keyctl...) stay
 * out: the payload is root in its own user namespace, so capability checks do
 * not protect those interfaces. Names libseccomp does not know for the native
 * architecture are dropped at run time. */
static const char *const default_allow[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "chroot", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
    "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
    "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom",
    "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
    "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
    "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32",
    "lgetxattr", "link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr",
    "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
    "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
    "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
    "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
    "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd",
    "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
    "_newselect", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
    "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
    "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "process_vm_readv",
    "process_vm_writev", "pselect6", "pselect6_time64", "ptrace", "pwrite64", "pwritev", "pwritev2",
    "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename",
    "renameat", "renameat2", "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
    "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
    "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
    "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
    "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "setxattrat", "shmat",
    "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
    "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
    "statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo",
    "tee", "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
    "write", "writev",
    /* Architecture-specific (Docker "includes.arches"). */
    "arch_prctl", "modify_ldt", "sync_file_range2", "swapcontext", "arm_fadvise64_64",
    "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls", "s390_pci_mmio_read",
    "s390_pci_mmio_write", "s390_runtime_instr", "riscv_flush_icache"};

/* personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26 with
 * each, and the query 0xffffffff; not ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC... */
static const uint64_t default_personality[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* socket(2) families allowed: all below AF_ALG (38), AF_NFC (39), and AF_MAX-1
 * at most above AF_VSOCK (40). Docker writes "> 40" with SCMP_CMP_GT, but the
 * comparison is on 64 bits while the kernel takes an int, so 38 | 1 << 32
 * would pass as AF_ALG; "<" and "==" cannot be fooled that way. */
static const uint64_t default_socket_eq[] = {39, 41, 42, 43, 44, 45};

/* ioctl(2) requests denied: terminal input injection (TIOCSTI) and the
 * console's TIOCLINUX. */
static const uint32_t denied_ioctls[] = {TIOCSTI, TIOCLINUX};

#define CLONE_NS_FLAGS                                                                             \
	0x7E020000ULL /* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET                 \
	               */

static json_t *jstr(const char *s)
{
	return json_string_nocheck(s);
}

static json_t *arg_json(unsigned index, uint64_t value, uint64_t two, const char *op)
{
	json_t *a = json_object();
	json_object_set_new_nocheck(a, "index", json_integer(index));
	json_object_set_new_nocheck(a, "value", json_integer((json_int_t)value));
	if (two)
		json_object_set_new_nocheck(a, "valueTwo", json_integer((json_int_t)two));
	json_object_set_new_nocheck(a, "op", jstr(op));
	return a;
}

static void add_rule(json_t *syscalls, const char *name, const char *action, int errno_ret,
                     json_t *arg)
{
	json_t *r = json_object();
	json_t *names = json_array();
	json_array_append_new(names, jstr(name));
	json_object_set_new_nocheck(r, "names", names);
	json_object_set_new_nocheck(r, "action", jstr(action));
	if (errno_ret >= 0)
		json_object_set_new_nocheck(r, "errnoRet", json_integer(errno_ret));
	if (arg) {
		json_t *args = json_array();
		json_array_append_new(args, arg);
		json_object_set_new_nocheck(r, "args", args);
	}
	json_array_append_new(syscalls, r);
}

/* OCI allow rules cannot say "not equal under a mask", and libseccomp drops
 * a conditional ERRNO rule when the same syscall also has an unconditional
 * ALLOW (and SCMP_CMP_NE compares all 64 bits: TIOCSTI | 1 << 32 would pass,
 * CVE-2019-10063). So the complement of the denied requests is spelled out
 * with 32-bit masked comparisons: a request is allowed when it differs from
 * all denied ones in a bit they share, or when it is one of the other values
 * that agree with them on those bits. */
static void add_ioctl_rules(json_t *syscalls)
{
	uint32_t first = denied_ioctls[0], varying = 0;
	for (size_t i = 1; i < ARRAY_SIZE(denied_ioctls); i++)
		varying |= denied_ioctls[i] ^ first;
	for (unsigned bit = 0; bit < 32; bit++) {
		uint32_t m = UINT32_C(1) << bit;
		if (varying & m)
			continue;
		add_rule(syscalls, "ioctl", "SCMP_ACT_ALLOW", -1,
		         arg_json(1, m, ~first & m, "SCMP_CMP_MASKED_EQ"));
	}
	/* Enumerate the values that only differ in the varying bits. */
	uint32_t sub = 0;
	do {
		uint32_t v = (first & ~varying) | sub;
		bool denied = false;
		for (size_t i = 0; i < ARRAY_SIZE(denied_ioctls); i++)
			denied |= v == denied_ioctls[i];
		if (!denied)
			add_rule(syscalls, "ioctl", "SCMP_ACT_ALLOW", -1,
			         arg_json(1, 0xffffffff, v, "SCMP_CMP_MASKED_EQ"));
		sub = (sub - varying) & varying;
	} while (sub != 0);
}

/* The OCI name of an architecture and libseccomp's name for it. */
static const struct {
	const char *oci, *scmp;
} arch_names[] = {
    {"SCMP_ARCH_X86", "x86"},
    {"SCMP_ARCH_X86_64", "x86_64"},
    {"SCMP_ARCH_X32", "x32"},
    {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "aarch64"},
    {"SCMP_ARCH_LOONGARCH64", "loongarch64"},
    {"SCMP_ARCH_M68K", "m68k"},
    {"SCMP_ARCH_MIPS", "mips"},
    {"SCMP_ARCH_MIPS64", "mips64"},
    {"SCMP_ARCH_MIPS64N32", "mips64n32"},
    {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
    {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_PPC64", "ppc64"},
    {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_S390X", "s390x"},
    {"SCMP_ARCH_SH", "sh"},
    {"SCMP_ARCH_SHEB", "sheb"},
    {"SCMP_ARCH_PARISC", "parisc"},
    {"SCMP_ARCH_PARISC64", "parisc64"},
    {"SCMP_ARCH_RISCV64", "riscv64"},
};

static const char *native_arch_oci(void)
{
	uint32_t native = seccomp_arch_native();
	for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
		if (seccomp_arch_resolve_name(arch_names[i].scmp) == native)
			return arch_names[i].oci;
	return NULL;
}

/* The policy the last seccomp_default_json made, while it is as made (or as
 * seccomp_restrict_setid rewrote it once): sbx's own code built it, so sbx's
 * build ID names it, and its cache key needs no hash of its ~20 KB
 * (seccomp_policy_hash). A reference is held, so that its address cannot
 * come back as another policy's; the sizes catch a change made otherwise. */
static struct {
	json_t *obj;
	bool restricted;
	size_t n_keys, n_rules;
} builtin;

static void builtin_sizes(json_t *o, size_t *n_keys, size_t *n_rules)
{
	*n_keys = json_object_size(o);
	*n_rules = json_array_size(json_object_get(o, "syscalls"));
}

static void builtin_set(json_t *o)
{
	json_decref(builtin.obj);
	builtin.obj = o ? json_incref(o) : NULL;
	builtin.restricted = false;
	if (o)
		builtin_sizes(o, &builtin.n_keys, &builtin.n_rules);
}

json_t *seccomp_default_json(void)
{
	json_t *o = json_object();
	json_object_set_new_nocheck(o, "defaultAction", jstr("SCMP_ACT_ERRNO"));
	json_object_set_new_nocheck(o, "defaultErrnoRet", json_integer(EPERM));
	const char *arch = native_arch_oci();
	if (arch) {
		json_t *arches = json_array();
		json_array_append_new(arches, jstr(arch));
		json_object_set_new_nocheck(o, "architectures", arches);
	}

	json_t *syscalls = json_array();
	json_t *allow = json_object();
	json_t *names = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(default_allow); i++)
		if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, default_allow[i]) >= 0)
			json_array_append_new(names, jstr(default_allow[i]));
	json_object_set_new_nocheck(allow, "names", names);
	json_object_set_new_nocheck(allow, "action", jstr("SCMP_ACT_ALLOW"));
	json_array_append_new(syscalls, allow);

	add_rule(syscalls, "socket", "SCMP_ACT_ALLOW", -1, arg_json(0, 38, 0, "SCMP_CMP_LT"));
	for (size_t i = 0; i < ARRAY_SIZE(default_socket_eq); i++)
		add_rule(syscalls, "socket", "SCMP_ACT_ALLOW", -1,
		         arg_json(0, default_socket_eq[i], 0, "SCMP_CMP_EQ"));
	for (size_t i = 0; i < ARRAY_SIZE(default_personality); i++)
		add_rule(syscalls, "personality", "SCMP_ACT_ALLOW", -1,
		         arg_json(0, default_personality[i], 0, "SCMP_CMP_EQ"));
#if defined(__s390__) || defined(__s390x__)
	unsigned clone_flags_arg = 1; /* s390 swaps clone's first two arguments */
#else
	unsigned clone_flags_arg = 0;
#endif
	add_rule(syscalls, "clone", "SCMP_ACT_ALLOW", -1,
	         arg_json(clone_flags_arg, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ"));
	/* clone3 passes its flags in memory, out of seccomp's reach: ENOSYS
	 * makes libc fall back to clone, which is filtered. */
	add_rule(syscalls, "clone3", "SCMP_ACT_ERRNO", ENOSYS, NULL);
	add_ioctl_rules(syscalls);
	json_object_set_new_nocheck(o, "syscalls", syscalls);
	builtin_set(o);
	return o;
}

/* ------------------------------------------------------------------------ */
/* Parsing and validation */

static const struct {
	const char *name;
	uint32_t action; /* base action; ERRNO and TRACE take errnoRet */
} action_names[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} op_names[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	unsigned int flag;
} flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

static const char *const top_keys[] = {"defaultAction", "defaultErrnoRet", "architectures",
                                       "flags",         "listenerPath",    "listenerMetadata",
                                       "syscalls"};
static const char *const syscall_keys[] = {"names", "action", "errnoRet", "args"};
static const char *const arg_keys[] = {"index", "value", "valueTwo", "op"};

#define MAX_ARCHES 8

struct rule {
	json_t *names; /* borrowed from the policy object */
	uint32_t action;
	unsigned n_args;
	struct scmp_arg_cmp args[6];
};

struct policy {
	uint32_t def_action;
	bool permissive; /* ALLOW or LOG: no ENOSYS prologue */
	uint32_t arches[MAX_ARCHES];
	size_t n_arches;
	bool has_arches;
	bool has_notify; /* an SCMP_ACT_NOTIFY: the filter gets a listener */
	unsigned int flags;
	struct rule *rules;
	size_t n_rules;
};

static void policy_free(struct policy *p)
{
	free(p->rules);
	p->rules = NULL;
}

/* "PATH: MESSAGE", or just the message at the top level. */
static int perr(struct sbx_error **err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(struct sbx_error **err, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	/* No errno: the message says it all. */
	if (path && *path)
		return sbx_error_set(err, 0, "%s: %s", path, msg);
	return sbx_error_set(err, 0, "%s", msg);
}

/* Candidates are the first member of each table row. */
#define CLOSEST(word, table)                                                                       \
	({                                                                                         \
		const char *_c[ARRAY_SIZE(table)];                                                 \
		for (size_t _i = 0; _i < ARRAY_SIZE(table); _i++)                                  \
			_c[_i] = *(const char *const *)&(table)[_i];                               \
		str_closest((word), _c, ARRAY_SIZE(table));                                        \
	})

static int unknown_value(struct sbx_error **err, const char *path, const char *what,
                         const char *word, const char *best)
{
	if (best)
		return perr(err, path, "unknown %s \"%s\"; did you mean \"%s\"?", what, word, best);
	return perr(err, path, "unknown %s \"%s\"", what, word);
}

static int check_keys(json_t *obj, const char *path, const char *const *keys, size_t n,
                      struct sbx_error **err)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		bool known = false;
		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(key, keys[i]) == 0;
		if (known)
			continue;
		/* Docker's own profile format is not OCI's. */
		if (strcmp(key, "archMap") == 0 || strcmp(key, "includes") == 0 ||
		    strcmp(key, "excludes") == 0)
			return perr(err, path,
			            "unknown key \"%s\" (this looks like a Docker seccomp profile; "
			            "sbx reads OCI linux.seccomp objects)",
			            key);
		const char *best = str_closest(key, keys, n);
		if (best)
			return perr(err, path, "unknown key \"%s\"; did you mean \"%s\"?", key,
			            best);
		return perr(err, path, "unknown key \"%s\"", key);
	}
	return 0;
}

static int get_uint(json_t *v, const char *path, uint64_t max, uint64_t *out,
                    struct sbx_error **err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return perr(err, path, "expected an integer from 0 to %llu",
		            (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* An optional array: absent and null mean empty. */
static int get_array(json_t *obj, const char *key, const char *path, json_t **out,
                     struct sbx_error **err)
{
	json_t *v = json_object_get(obj, key);
	if (v && !json_is_null(v) && !json_is_array(v))
		return perr(err, path, "expected an array");
	*out = json_is_array(v) ? v : NULL;
	return 0;
}

/* An action with its errnoRet (a member of obj), as libseccomp's value. */
static int parse_action(json_t *obj, const char *akey, const char *ekey, const char *path,
                        uint32_t *out, struct sbx_error **err)
{
	char where[96];
	snprintf(where, sizeof(where), "%s%s%s", path, *path ? "." : "", akey);
	json_t *a = json_object_get(obj, akey);
	if (a == NULL)
		return perr(err, path, "missing required key \"%s\"", akey);
	if (!json_is_string(a))
		return perr(err, where, "expected a string");
	const char *name = json_string_value(a);
	size_t i;
	for (i = 0; i < ARRAY_SIZE(action_names); i++)
		if (strcmp(name, action_names[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(action_names))
		return unknown_value(err, where, "action", name, CLOSEST(name, action_names));
	uint32_t act = action_names[i].action;

	snprintf(where, sizeof(where), "%s%s%s", path, *path ? "." : "", ekey);
	json_t *e = json_object_get(obj, ekey);
	uint64_t ret = EPERM;
	if (e && act == SCMP_ACT_ERRNO(0)) {
		/* The kernel caps errno values at MAX_ERRNO. */
		if (get_uint(e, where, 4095, &ret, err) < 0)
			return -1;
	} else if (e && act == SCMP_ACT_TRACE(0)) {
		if (get_uint(e, where, 0xffff, &ret, err) < 0)
			return -1;
	} else if (e) {
		return perr(err, where, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
	}
	if (act == SCMP_ACT_ERRNO(0))
		act = SCMP_ACT_ERRNO((uint16_t)ret);
	else if (act == SCMP_ACT_TRACE(0))
		act = SCMP_ACT_TRACE((uint16_t)ret);
	*out = act;
	return 0;
}

static int parse_arg(json_t *a, const char *path, struct scmp_arg_cmp *out, unsigned *seen,
                     struct sbx_error **err)
{
	char where[128];
	if (!json_is_object(a))
		return perr(err, path, "expected an object");
	if (check_keys(a, path, arg_keys, ARRAY_SIZE(arg_keys), err) < 0)
		return -1;
	const char *req[] = {"index", "value", "op"};
	for (size_t i = 0; i < ARRAY_SIZE(req); i++)
		if (json_object_get(a, req[i]) == NULL)
			return perr(err, path, "missing required key \"%s\"", req[i]);

	uint64_t index, value, two = 0;
	snprintf(where, sizeof(where), "%s.index", path);
	if (get_uint(json_object_get(a, "index"), where, 5, &index, err) < 0)
		return -1;
	snprintf(where, sizeof(where), "%s.value", path);
	if (get_uint(json_object_get(a, "value"), where, INT64_MAX, &value, err) < 0)
		return -1;
	json_t *t = json_object_get(a, "valueTwo");
	snprintf(where, sizeof(where), "%s.valueTwo", path);
	if (t && get_uint(t, where, INT64_MAX, &two, err) < 0)
		return -1;
	json_t *op = json_object_get(a, "op");
	snprintf(where, sizeof(where), "%s.op", path);
	if (!json_is_string(op))
		return perr(err, where, "expected a string");
	const char *name = json_string_value(op);
	size_t i;
	for (i = 0; i < ARRAY_SIZE(op_names); i++)
		if (strcmp(name, op_names[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(op_names))
		return unknown_value(err, where, "operator", name, CLOSEST(name, op_names));
	/* libseccomp takes one comparison per argument and rule; runc then
	 * splits the rule into ORed ones, which silently widens an AND. */
	if (*seen & (1u << index))
		return perr(err, path,
		            "argument %u is already compared in this rule; libseccomp allows "
		            "one comparison per argument (use separate syscalls entries, which "
		            "are ORed)",
		            (unsigned)index);
	*seen |= 1u << index;
	/* OCI: for MASKED_EQ, value is the mask and valueTwo the expected value. */
	*out = (struct scmp_arg_cmp){
	    .arg = (unsigned)index, .op = op_names[i].op, .datum_a = value, .datum_b = two};
	return 0;
}

static int parse_rule(json_t *s, const char *path, struct rule *r, struct sbx_error **err)
{
	char where[96];
	if (!json_is_object(s))
		return perr(err, path, "expected an object");
	if (check_keys(s, path, syscall_keys, ARRAY_SIZE(syscall_keys), err) < 0)
		return -1;
	json_t *names = json_object_get(s, "names");
	snprintf(where, sizeof(where), "%s.names", path);
	if (names == NULL)
		return perr(err, path, "missing required key \"names\"");
	if (!json_is_array(names) || json_array_size(names) == 0)
		return perr(err, where, "expected a non-empty array of syscall names");
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) == 0) {
			snprintf(where, sizeof(where), "%s.names[%zu]", path, i);
			return perr(err, where, "expected a syscall name");
		}
	}
	r->names = names;
	if (parse_action(s, "action", "errnoRet", path, &r->action, err) < 0)
		return -1;

	json_t *args = NULL;
	snprintf(where, sizeof(where), "%s.args", path);
	if (get_array(s, "args", where, &args, err) < 0)
		return -1;
	if (json_array_size(args) > 6)
		return perr(err, where, "at most 6 comparisons (one per argument)");
	unsigned seen = 0;
	r->n_args = 0;
	json_array_foreach(args, i, v)
	{
		snprintf(where, sizeof(where), "%s.args[%zu]", path, i);
		if (parse_arg(v, where, &r->args[r->n_args++], &seen, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_policy(json_t *obj, struct policy *p, struct sbx_error **err)
{
	*p = (struct policy){0};
	if (!json_is_object(obj))
		return perr(err, NULL, "expected a JSON object (an OCI linux.seccomp object)");
	if (check_keys(obj, NULL, top_keys, ARRAY_SIZE(top_keys), err) < 0)
		return -1;
	json_t *lp = json_object_get(obj, "listenerPath");
	json_t *lm = json_object_get(obj, "listenerMetadata");
	if (lp && (!json_is_string(lp) || json_string_value(lp)[0] != '/'))
		return perr(err, "listenerPath", "expected the absolute path of a unix socket");
	if (lm && !json_is_string(lm))
		return perr(err, "listenerMetadata", "expected a string");
	if (lm && !lp)
		return perr(err, "listenerMetadata", "only valid with listenerPath");
	if (parse_action(obj, "defaultAction", "defaultErrnoRet", "", &p->def_action, err) < 0)
		return -1;
	/* As runc: libseccomp takes no notifying default, and the exec itself
	 * would wait for the agent. */
	if (p->def_action == SCMP_ACT_NOTIFY)
		return perr(err, "defaultAction",
		            "SCMP_ACT_NOTIFY cannot be the default action (only a rule's)");
	p->permissive = p->def_action == SCMP_ACT_ALLOW || p->def_action == SCMP_ACT_LOG;

	char where[64];
	json_t *arr = NULL, *v;
	size_t i;
	if (get_array(obj, "architectures", "architectures", &arr, err) < 0)
		return -1;
	p->has_arches = arr && json_array_size(arr) > 0;
	json_array_foreach(arr, i, v)
	{
		snprintf(where, sizeof(where), "architectures[%zu]", i);
		if (!json_is_string(v))
			return perr(err, where, "expected a string");
		const char *name = json_string_value(v);
		size_t k;
		for (k = 0; k < ARRAY_SIZE(arch_names); k++)
			if (strcmp(name, arch_names[k].oci) == 0)
				break;
		if (k == ARRAY_SIZE(arch_names))
			return unknown_value(err, where, "architecture", name,
			                     CLOSEST(name, arch_names));
		/* Architectures this libseccomp does not know cannot be running
		 * here; leaving them out keeps their syscalls at the bad-arch
		 * action (kill). */
		uint32_t token = seccomp_arch_resolve_name(arch_names[k].scmp);
		if (token == 0)
			continue;
		bool dup = false;
		for (size_t j = 0; j < p->n_arches; j++)
			dup |= p->arches[j] == token;
		if (!dup && p->n_arches < MAX_ARCHES)
			p->arches[p->n_arches++] = token;
	}

	if (get_array(obj, "flags", "flags", &arr, err) < 0)
		return -1;
	json_array_foreach(arr, i, v)
	{
		snprintf(where, sizeof(where), "flags[%zu]", i);
		if (!json_is_string(v))
			return perr(err, where, "expected a string");
		const char *name = json_string_value(v);
		size_t k;
		for (k = 0; k < ARRAY_SIZE(flag_names); k++)
			if (strcmp(name, flag_names[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(flag_names))
			return unknown_value(err, where, "flag", name, CLOSEST(name, flag_names));
		p->flags |= flag_names[k].flag;
	}

	if (get_array(obj, "syscalls", "syscalls", &arr, err) < 0)
		return -1;
	p->rules = xcalloc(json_array_size(arr) + 1, sizeof(struct rule));
	json_array_foreach(arr, i, v)
	{
		snprintf(where, sizeof(where), "syscalls[%zu]", i);
		if (parse_rule(v, where, &p->rules[p->n_rules++], err) < 0) {
			policy_free(p);
			return -1;
		}
		p->has_notify |= p->rules[p->n_rules - 1].action == SCMP_ACT_NOTIFY;
	}
	/* The listener's fd goes to listenerPath (runtime/seccomp-notify.c):
	 * without one, a notified call would wait for nobody. */
	const char *why = NULL, *key = NULL;
	if (p->has_notify && !lp)
		key = "listenerPath", why = "SCMP_ACT_NOTIFY needs it: the unix socket its "
		                            "notifications' fd is sent to";
	else if ((p->flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) && !p->has_notify)
		key = "flags", why = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is only meaningful "
		                     "with SCMP_ACT_NOTIFY";
	else if ((p->flags & SECCOMP_FILTER_FLAG_TSYNC) && p->has_notify)
		key = "flags", why = "SECCOMP_FILTER_FLAG_TSYNC cannot be combined with "
		                     "SCMP_ACT_NOTIFY's listener";
	if (why) {
		policy_free(p);
		return perr(err, key, "%s", why);
	}
	return 0;
}

int seccomp_validate(json_t *obj, struct sbx_error **err)
{
	struct policy p;
	if (parse_policy(obj, &p, err) < 0)
		return -1;
	policy_free(&p);
	return 0;
}

int seccomp_load_file(const char *path, json_t **out, struct sbx_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (read_file(path, 4 << 20, &text, &len, err) < 0)
		return -1;
	json_error_t jerr;
	_cleanup_(sbx_json_decrefp) json_t *obj =
	    json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL)
		return sbx_error_set(err, 0, "%s:%d:%d: %s", path, jerr.line, jerr.column,
		                     jerr.text);
	if (seccomp_validate(obj, err) < 0)
		return sbx_error_prefix(err, "%s", path);
	*out = steal_ptr(obj);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Setuid and setgid files */

/* The calls that can give a file S_ISUID or S_ISGID, with the index of their
 * mode argument and, for open, of the flags that make it create a file (the
 * mode register is garbage otherwise). As systemd's RestrictSUIDSGID=. A
 * name libseccomp does not know (fchmodat2 before 2.5.5, unless the
 * distribution added it; Debian's 2.5.4 has it) is dropped when compiling:
 * under a denying default the call then fails (EPERM, or ENOSYS when it is
 * newer than every syscall the policy names); under an allowing one (a
 * policy file) it would pass unguarded, which needs a libseccomp that
 * knows it. */
static const struct {
	const char *name;
	unsigned mode_arg;
	int flags_arg; /* -1: the call always uses its mode */
} setid_calls[] = {
    {"chmod", 1, -1},     {"fchmod", 1, -1}, {"fchmodat", 2, -1},
    {"fchmodat2", 2, -1}, {"mknod", 1, -1},  {"mknodat", 2, -1},
    {"creat", 1, -1},     {"open", 2, 1},    {"openat", 3, 2},
};

#define SETID_BITS   ((uint64_t)(S_ISUID | S_ISGID))
#define CREATE_FLAGS ((uint64_t)(O_CREAT | (O_TMPFILE & ~O_DIRECTORY)))

static bool action_permits(json_t *rule_or_policy, const char *key)
{
	const char *a = json_string_value(json_object_get(rule_or_policy, key));
	return a && (strcmp(a, "SCMP_ACT_ALLOW") == 0 || strcmp(a, "SCMP_ACT_LOG") == 0);
}

static int setid_call(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(setid_calls); i++)
		if (strcmp(name, setid_calls[i].name) == 0)
			return (int)i;
	return -1;
}

static bool compares_arg(json_t *rule, unsigned index)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(rule, "args"), i, a)
	{
		if (json_integer_value(json_object_get(a, "index")) == (json_int_t)index)
			return true;
	}
	return false;
}

/* A copy of rule for name alone, with one more comparison ANDed in. */
static json_t *rule_with(json_t *rule, const char *name, json_t *arg)
{
	/* The rule is copied but for its names (it has some: they are what
	 * the caller walks): the default's allow rule lists about 370, and a
	 * deep copy of them per set-id call was half of the userland work of
	 * a start. */
	json_t *r = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(rule, key, v)
	{
		json_object_set_new_nocheck(
		    r, key, strcmp(key, "names") == 0 ? json_pack("[s]", name) : json_deep_copy(v));
	}
	json_t *args = json_object_get(r, "args");
	if (!json_is_array(args)) {
		args = json_array();
		json_object_set_new_nocheck(r, "args", args);
	}
	json_array_append_new(args, arg);
	return r;
}

static int restrict_setid(json_t *policy, struct sbx_error **err)
{
	json_t *syscalls = json_object_get(policy, "syscalls");
	if (!json_is_array(syscalls)) {
		syscalls = json_array();
		json_object_set_new_nocheck(policy, "syscalls", syscalls);
	}
	_cleanup_(sbx_json_decrefp) json_t *added = json_array();
	/* Rules that allow a call outright lose it; it comes back only where
	 * it creates no set-id file (OR of the copies: no set-id bit in the
	 * mode, or, for open, no file created). A conditional allow next to
	 * an unconditional one would be dropped by libseccomp, and an allow
	 * rule cannot say "not under a mask". openat2 passes its mode in
	 * memory, out of seccomp's reach: ENOSYS, and libc falls back to
	 * openat, as under systemd. */
	for (size_t i = 0; i < json_array_size(syscalls);) {
		json_t *r = json_array_get(syscalls, i);
		json_t *names = json_object_get(r, "names");
		bool permits = action_permits(r, "action");
		for (size_t k = 0; k < json_array_size(names);) {
			const char *name = json_string_value(json_array_get(names, k));
			int t = setid_call(name);
			if (strcmp(name, "openat2") == 0) {
				json_array_remove(names, k);
				continue;
			}
			if (t < 0 || !permits) {
				k++;
				continue;
			}
			unsigned idx[2] = {setid_calls[t].mode_arg,
			                   (unsigned)setid_calls[t].flags_arg};
			size_t n_idx = setid_calls[t].flags_arg < 0 ? 1 : 2;
			for (size_t g = 0; g < n_idx; g++) {
				if (compares_arg(r, idx[g]))
					return perr(
					    err, NULL,
					    "syscalls[%zu]: already compares argument %u of "
					    "\"%s\", which restrict_suid_sgid needs; allow the "
					    "call without it, or set restrict_suid_sgid = false",
					    i, idx[g], name);
				uint64_t mask = g == 0 ? SETID_BITS : CREATE_FLAGS;
				json_array_append_new(
				    added,
				    rule_with(r, name,
				              arg_json(idx[g], mask, 0, "SCMP_CMP_MASKED_EQ")));
			}
			json_array_remove(names, k);
		}
		if (json_array_size(names) == 0)
			json_array_remove(syscalls, i);
		else
			i++;
	}
	/* Under an allowing default, the set-id cases are denied explicitly:
	 * one rule per bit (and per creating flag), as masks can only test
	 * for all of their bits. */
	if (action_permits(policy, "defaultAction")) {
		for (size_t t = 0; t < ARRAY_SIZE(setid_calls); t++) {
			for (uint64_t bit = S_ISGID; bit <= S_ISUID; bit <<= 1) {
				if (setid_calls[t].flags_arg < 0) {
					add_rule(added, setid_calls[t].name, "SCMP_ACT_ERRNO",
					         EPERM,
					         arg_json(setid_calls[t].mode_arg, bit, bit,
					                  "SCMP_CMP_MASKED_EQ"));
					continue;
				}
				for (uint64_t fl = 1; fl; fl <<= 1) {
					if (!(CREATE_FLAGS & fl))
						continue;
					add_rule(added, setid_calls[t].name, "SCMP_ACT_ERRNO",
					         EPERM,
					         arg_json(setid_calls[t].mode_arg, bit, bit,
					                  "SCMP_CMP_MASKED_EQ"));
					json_t *last =
					    json_array_get(added, json_array_size(added) - 1);
					json_array_append_new(
					    json_object_get(last, "args"),
					    arg_json((unsigned)setid_calls[t].flags_arg, fl, fl,
					             "SCMP_CMP_MASKED_EQ"));
				}
			}
		}
	}
	add_rule(added, "openat2", "SCMP_ACT_ERRNO", ENOSYS, NULL);
	json_array_extend(syscalls, added);
	return 0;
}

int seccomp_restrict_setid(json_t *policy, struct sbx_error **err)
{
	bool was_builtin = policy != NULL && policy == builtin.obj && !builtin.restricted;
	int r = restrict_setid(policy, err);
	if (policy != NULL && policy == builtin.obj) {
		if (r < 0 || !was_builtin) {
			builtin_set(NULL);
		} else {
			builtin.restricted = true;
			builtin_sizes(policy, &builtin.n_keys, &builtin.n_rules);
		}
	}
	return r;
}

/* The built-in policy, not built yet (seccomp_default_deferred). A
 * reference is held, so that its address cannot come back as another
 * object's; it stands for the policy while it is empty. built is the
 * policy once something needed it. */
static struct {
	json_t *obj, *built;
	bool restricted;
} deferred;

json_t *seccomp_default_deferred(bool restrict_setid)
{
	json_decref(deferred.obj);
	json_decref(deferred.built);
	deferred.obj = json_object();
	deferred.built = NULL;
	deferred.restricted = restrict_setid;
	return json_incref(deferred.obj);
}

static bool is_deferred(json_t *obj)
{
	return obj != NULL && obj == deferred.obj && json_object_size(obj) == 0;
}

json_t *seccomp_resolve(json_t *obj, struct sbx_error **err)
{
	if (!is_deferred(obj))
		return json_incref(obj);
	if (deferred.built == NULL) {
		json_t *p = seccomp_default_json();
		if (deferred.restricted && seccomp_restrict_setid(p, err) < 0) {
			json_decref(p);
			return NULL;
		}
		deferred.built = p;
	}
	return json_incref(deferred.built);
}

int seccomp_config_resolve(json_t *config, struct sbx_error **err)
{
	json_t *linux_ = json_object_get(config, "linux");
	json_t *obj = json_object_get(linux_, "seccomp");
	if (!is_deferred(obj))
		return 0;
	json_t *p = seccomp_resolve(obj, err);
	if (p == NULL)
		return -1;
	json_object_set_new(linux_, "seccomp", p);
	return 0;
}

/* A cached policy text: NULL when absent or not one json_text wrote. */
static char *read_cached_text(int dfd, const char *name, size_t *len)
{
	char *buf = NULL;
	if (read_file_at(dfd, name, O_NOFOLLOW, 1 << 20, &buf, len, NULL) < 0)
		return NULL;
	if (*len < 2 || buf[0] != '{' || buf[*len - 1] != '}') {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The text of the policy obj stands for, cached beside its program under
 * the same key (for the built-in policy, sbx's build ID): config.json then
 * costs a copy, not a build of the policy and a walk of it. */
static char *policy_text(json_t *obj, const char *cache_dir, size_t *len, struct sbx_error **err)
{
	char hash[65];
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int dfd = -1;
	if (cache_dir && seccomp_policy_hash(obj, hash) == 0) {
		name = xasprintf("%s.json", hash);
		dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char *text = dfd >= 0 ? read_cached_text(dfd, name, len) : NULL;
		if (text)
			return text;
	}
	_cleanup_json_ json_t *p = seccomp_resolve(obj, err);
	if (p == NULL)
		return NULL;
	char *text = json_text(p, len);
	if (text == NULL) {
		sbx_error_set(err, ELOOP, "the seccomp policy nests too deep");
		return NULL;
	}
	/* A cache that cannot be written is only slower. */
	if (name && dfd < 0 && mkdir_p(cache_dir, 0700, NULL) == 0)
		dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (name && dfd >= 0)
		write_file_atomic(dfd, name, text, *len, 0600, NULL);
	return text;
}

char *seccomp_config_text(json_t *config, const char *cache_dir, size_t *len,
                          struct sbx_error **err)
{
	json_t *obj = json_object_get(json_object_get(config, "linux"), "seccomp");
	struct json_text_stand_in in = {obj, NULL, 0};
	_cleanup_free_ char *policy = NULL;
	if (is_deferred(obj)) {
		policy = policy_text(obj, cache_dir, &in.len, err);
		if (policy == NULL)
			return NULL;
		in.text = policy;
	}
	char *text = json_text_with(config, in.text ? &in : NULL, len);
	if (text == NULL)
		sbx_error_set(err, ELOOP, "the config nests too deep");
	return text;
}

char *seccomp_cache_dir(void)
{
	_cleanup_free_ char *cache = NULL;
	return xdg_cache_dir(&cache, NULL) == 0 ? xasprintf("%s/seccomp", cache) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Compiling */

static void ctx_releasep(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}

/* Exports the program: libseccomp 2.5 only writes it to a file descriptor. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **insns, size_t *len,
                      struct sbx_error **err)
{
	_cleanup_close_ int fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "memfd_create");
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return sbx_error_set(err, -r, "cannot export the seccomp program");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_error_set(err, errno, "fstat");
	size_t size = (size_t)st.st_size;
	if (size == 0 || size % sizeof(struct sock_filter) != 0)
		return sbx_error_set(err, EINVAL, "libseccomp exported %zu bytes of BPF", size);
	_cleanup_free_ char *buf = xmalloc(size);
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sbx_error_set(err, n < 0 ? errno : EIO, "cannot read the BPF back");
		got += (size_t)n;
	}
	*insns = (struct sock_filter *)steal_ptr(buf);
	*len = size / sizeof(struct sock_filter);
	return 0;
}

/* runc's patchbpf idea: native syscalls above the newest one the policy
 * names get ENOSYS before libseccomp's program runs, so a new kernel's
 * syscalls look absent (libc falls back) instead of failing with EPERM. All
 * jumps are relative and the prologue comes first, so the program's own
 * jumps stay valid. */
static size_t enosys_prologue(struct sock_filter *out, uint32_t native, uint32_t max_nr)
{
	size_t n = 0, to_prog[2], n_jumps = 0;
	out[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                        offsetof(struct seccomp_data, arch));
	to_prog[n_jumps++] = n;
	out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native, 0, 0);
	out[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	                                        offsetof(struct seccomp_data, nr));
	if (native == SCMP_ARCH_X86_64) {
		/* x32 syscalls share the arch value; libseccomp handles them. */
		to_prog[n_jumps++] = n;
		out[n++] =
		    (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40000000, 0, 0);
	}
	out[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, max_nr, 0, 1);
	out[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	/* Patch the jumps to the program's first instruction (offsets < 8). */
	out[to_prog[0]].jf = (uint8_t)(n - to_prog[0] - 1);
	if (n_jumps > 1)
		out[to_prog[1]].jt = (uint8_t)(n - to_prog[1] - 1);
	return n;
}

/* One syscall name of one rule, to be added to the filter. */
struct add {
	int nr;
	size_t rule, seq;
	const char *name;
};

/* Whether adds[i] has the same syscall, action and conditions as an earlier
 * one. */
static bool repeats_earlier(const struct policy *p, const struct add *adds, size_t i)
{
	const struct rule *a = &p->rules[adds[i].rule];
	for (size_t j = 0; j < i; j++) {
		const struct rule *b = &p->rules[adds[j].rule];
		if (adds[j].nr == adds[i].nr && b->action == a->action && b->n_args == a->n_args &&
		    memcmp(b->args, a->args, a->n_args * sizeof(a->args[0])) == 0)
			return true;
	}
	return false;
}

static int add_cmp(const void *a, const void *b)
{
	const struct add *x = a, *y = b;
	if (x->nr != y->nr)
		return x->nr > y->nr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int seccomp_compile(json_t *obj, struct sbx_bpf *out, struct sbx_error **err)
{
	_cleanup_json_ json_t *built = seccomp_resolve(obj, err);
	if (built == NULL)
		return -1;
	obj = built;
	struct policy p;
	if (parse_policy(obj, &p, err) < 0)
		return -1;
	int ret = -1;
	_cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(p.def_action);
	struct sock_filter *prog = NULL;
	size_t prog_len = 0;
	struct add *adds = NULL;
	if (ctx == NULL) {
		/* libseccomp checks the default action against the kernel's API. */
		sbx_error_set(err, 0, "libseccomp cannot create a filter with this defaultAction");
		goto out;
	}
	int r;
	/* The caller sets no_new_privs itself. Optimisation level 2 (binary
	 * tree): it takes longer to build, but the program is cached, and the
	 * kernel loads a tree faster: since 5.11 it runs the filter once per
	 * syscall number to cache constant verdicts, and a linear filter makes
	 * that quadratic (0.32 ms per start here, 0.25 ms with the tree). */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		sbx_error_set(err, -r, "cannot set libseccomp attributes");
		goto out;
	}

	uint32_t native = seccomp_arch_native();
	bool native_in = !p.has_arches;
	for (size_t i = 0; i < p.n_arches; i++) {
		if (p.arches[i] == native) {
			native_in = true;
			continue;
		}
		r = seccomp_arch_add(ctx, p.arches[i]);
		/* EDOM: the other byte order (MIPS, PowerPC big-endian), which no
		 * process here can run; skipped, as unknown ones are. */
		if (r < 0 && r != -EEXIST && r != -EDOM) {
			sbx_error_set(err, -r, "cannot add architecture %#x", p.arches[i]);
			goto out;
		}
	}
	if (!native_in) {
		if (p.n_arches == 0) {
			sbx_error_set(err, 0,
			              "architectures: none of them is supported by libseccomp");
			goto out;
		}
		r = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
		if (r < 0) {
			sbx_error_set(err, -r, "cannot remove the native architecture");
			goto out;
		}
	}

	/* Resolve every name once; unknown ones are ignored, as OCI says. */
	size_t n_adds = 0, cap = 0;
	for (size_t i = 0; i < p.n_rules; i++)
		cap += json_array_size(p.rules[i].names);
	adds = xcalloc(cap + 1, sizeof(*adds));
	int max_nr = -1;
	for (size_t i = 0; i < p.n_rules; i++) {
		size_t k;
		json_t *v;
		json_array_foreach(p.rules[i].names, k, v)
		{
			const char *name = json_string_value(v);
			/* Native number, or a negative pseudo number for syscalls of
			 * other architectures only. */
			int nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR)
				continue;
			if (nr > max_nr)
				max_nr = nr;
			/* libseccomp refuses rules that repeat the default action. */
			if (p.rules[i].action == p.def_action)
				continue;
			adds[n_adds] =
			    (struct add){.nr = nr, .rule = i, .seq = n_adds, .name = name};
			n_adds++;
		}
	}
	/* libseccomp keeps syscalls in a sorted list: adding the highest numbers
	 * first makes each insertion O(1). Rules for one syscall keep their
	 * order, which libseccomp's conflict handling depends on. */
	qsort(adds, n_adds, sizeof(*adds), add_cmp);
	for (size_t i = 0; i < n_adds; i++) {
		struct rule *rl = &p.rules[adds[i].rule];
		r = seccomp_rule_add_array(ctx, rl->action, adds[i].nr, rl->n_args, rl->args);
		/* EEXIST: libseccomp finds the rule covered by an earlier one
		 * for this syscall (podman's default profile repeats one for
		 * socket, and its conditions clash with socketcall on x86).
		 * Skipping an ALLOW can only make the filter stricter; any
		 * other action is refused as before. */
		if (r == -EEXIST && (rl->action == SCMP_ACT_ALLOW || repeats_earlier(&p, adds, i)))
			continue;
		if (r < 0) {
			sbx_error_set(err, -r, "syscalls[%zu]: cannot add a rule for \"%s\"",
			              adds[i].rule, adds[i].name);
			goto out;
		}
	}

	if (export_bpf(ctx, &prog, &prog_len, err) < 0)
		goto out;

	struct sock_filter pro[8];
	size_t pro_len = 0;
	if (!p.permissive && native_in && max_nr >= 0)
		pro_len = enosys_prologue(pro, native, (uint32_t)max_nr);
	if (prog_len + pro_len > BPF_MAXINSNS) {
		sbx_error_set(err, E2BIG,
		              "the seccomp program has %zu instructions, more than the kernel's "
		              "limit of %d",
		              prog_len + pro_len, BPF_MAXINSNS);
		goto out;
	}
	struct sock_filter *all = xmalloc((prog_len + pro_len) * sizeof(*all));
	memcpy(all, pro, pro_len * sizeof(*all));
	memcpy(all + pro_len, prog, prog_len * sizeof(*all));
	out->insns = all;
	out->len = prog_len + pro_len;
	out->flags = p.flags | (p.has_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
	ret = 0;
out:
	free(adds);
	free(prog);
	policy_free(&p);
	return ret;
}

int seccomp_install(const struct sbx_bpf *b, struct sbx_error **err)
{
	if (b == NULL || b->insns == NULL || b->len == 0 || b->len > BPF_MAXINSNS)
		return sbx_error_set(err, EINVAL, "no seccomp program to install");
	struct sock_fprog prog = {.len = (unsigned short)b->len,
	                          .filter = (struct sock_filter *)b->insns};
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, b->flags, &prog);
	if (r >= 0)
		return (int)r; /* the listener's fd, with SECCOMP_FILTER_FLAG_NEW_LISTENER */
	int e = errno;
	/* Kernels before 3.17 only have the prctl, which takes no flags. */
	if (e == ENOSYS && b->flags == 0 &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
		return 0;
	if (e == EACCES)
		return sbx_error_set(err, e,
		                     "cannot install the seccomp filter (no_new_privs is not set)");
	return sbx_error_set(err, e, "cannot install the seccomp filter");
}

void seccomp_bpf_free(struct sbx_bpf *b)
{
	if (b == NULL)
		return;
	free(b->insns);
	b->insns = NULL;
	b->len = 0;
	b->flags = 0;
}

/* ------------------------------------------------------------------------ */
/* Policy hash */

struct canon {
	char *buf;
	size_t len, cap;
};

static void canon_put(struct canon *c, const void *p, size_t n)
{
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2 + 256;
		c->buf = xrealloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

/* A length or count, 7 bits a byte, low bits first (LEB128): prefix-free,
 * and one byte for nearly everything a policy holds. */
static void canon_len(struct canon *c, uint64_t n)
{
	unsigned char b[10];
	size_t i = 0;
	do {
		b[i] = (unsigned char)(n & 0x7f);
		n >>= 7;
		if (n)
			b[i] |= 0x80;
		i++;
	} while (n);
	canon_put(c, b, i);
}

static void canon_tag(struct canon *c, char tag, const void *p, size_t n)
{
	canon_put(c, &tag, 1);
	canon_len(c, n);
	canon_put(c, p, n);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A canonical, unambiguous form of a JSON value: tagged and length-prefixed,
 * object keys sorted, about as long as the JSON text. Much cheaper than json_dumps, which formats,
 * escapes and checks for loops (a snprintf per object) along the way. */
static void canon_value(struct canon *c, json_t *j)
{
	char num[64];
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(j), i = 0;
		const char **keys = xcalloc(n + 1, sizeof(*keys));
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		canon_put(c, "{", 1);
		canon_len(c, n);
		for (i = 0; i < n; i++) {
			canon_tag(c, 'k', keys[i], strlen(keys[i]));
			canon_value(c, json_object_get(j, keys[i]));
		}
		free(keys);
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j), i;
		json_t *v;
		canon_put(c, "[", 1);
		canon_len(c, n);
		json_array_foreach(j, i, v) canon_value(c, v);
		break;
	}
	case JSON_STRING:
		canon_tag(c, 's', json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		canon_tag(c, 'i', num, strlen(num));
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(j));
		canon_tag(c, 'r', num, strlen(num));
		break;
	case JSON_TRUE:
		canon_tag(c, 't', "", 0);
		break;
	case JSON_FALSE:
		canon_tag(c, 'f', "", 0);
		break;
	case JSON_NULL:
		canon_tag(c, 'n', "", 0);
		break;
	}
}

/* The GNU build ID of sbx's own executable (the first object
 * dl_iterate_phdr reports), as hex; NULL when it was linked without one. */
struct build_id {
	char hex[2 * 64 + 1];
};

static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
	struct build_id *id = data;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr),
		           *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof(*n);
			const unsigned char *desc =
			    (const unsigned char *)name + ((n->n_namesz + 3) & ~3u);
			p = (const char *)desc + ((n->n_descsz + 3) & ~3u);
			if (p > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && n->n_descsz >= 8 && n->n_descsz <= 64) {
				for (size_t k = 0; k < n->n_descsz; k++)
					snprintf(id->hex + 2 * k, 3, "%02x", desc[k]);
				return 1;
			}
		}
	}
	return 1; /* only the executable itself */
}

static const char *own_build_id(void)
{
	static struct build_id id;
	static bool looked;
	if (!looked) {
		looked = true;
		dl_iterate_phdr(find_build_id, &id);
	}
	return id.hex[0] ? id.hex : NULL;
}

/* The key of obj; by its content, even when it is the built-in policy,
 * unless by_id. */
static int policy_hash(json_t *obj, bool by_id, char out[65])
{
	if (obj == NULL)
		return -1;
	const struct scmp_version *ver = seccomp_version();
	_cleanup_free_ char *head = xasprintf(
	    "sbx-seccomp/%d libseccomp/%u.%u.%u arch/%#x", COMPILER_REVISION, ver ? ver->major : 0,
	    ver ? ver->minor : 0, ver ? ver->micro : 0, seccomp_arch_native());
	/* The built-in policy, unchanged: named by what made it. The head
	 * then goes on with a space where a policy's canonical form follows
	 * a newline, so no policy's input can be this one's. */
	size_t n_keys, n_rules;
	const char *id = own_build_id();
	if (by_id && is_deferred(obj) && id) {
		_cleanup_free_ char *in =
		    xasprintf("%s builtin/%s restrict/%d\n", head, id, deferred.restricted);
		sha256_hex(in, strlen(in), out);
		return 0;
	}
	if (is_deferred(obj)) {
		_cleanup_json_ json_t *p = seccomp_resolve(obj, NULL);
		return p ? policy_hash(p, false, out) : -1;
	}
	if (by_id && obj == builtin.obj && id) {
		builtin_sizes(obj, &n_keys, &n_rules);
		if (n_keys == builtin.n_keys && n_rules == builtin.n_rules) {
			_cleanup_free_ char *in =
			    xasprintf("%s builtin/%s restrict/%d\n", head, id, builtin.restricted);
			sha256_hex(in, strlen(in), out);
			return 0;
		}
	}
	struct canon c = {0};
	canon_put(&c, head, strlen(head));
	canon_put(&c, "\n", 1);
	canon_value(&c, obj);
	sha256_hex(c.buf, c.len, out);
	free(c.buf);
	return 0;
}

int seccomp_policy_hash(json_t *obj, char out[65])
{
	return policy_hash(obj, true, out);
}

/* Cache file: magic, flags, instruction count, then the instructions. */
struct bpf_cache_header {
	char magic[8];
	uint32_t flags;
	uint32_t len;
};

static const char bpf_cache_magic[8] = "SBXBPF1";

static int read_cached(const char *path, struct sbx_bpf *out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	struct bpf_cache_header h;
	if (read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, bpf_cache_magic, sizeof(h.magic)) != 0 || h.len == 0 ||
	    h.len > BPF_MAXINSNS)
		return -1;
	size_t bytes = (size_t)h.len * sizeof(struct sock_filter);
	void *insns = xmalloc(bytes);
	ssize_t n = read(fd, insns, bytes);
	char extra;
	if (n != (ssize_t)bytes || read(fd, &extra, 1) != 0) {
		free(insns);
		return -1;
	}
	out->insns = insns;
	out->len = h.len;
	out->flags = h.flags;
	return 0;
}

/* Stores the program under key; a cache that cannot be written is only
 * slower, never an error. */
static void write_cached(const char *cache_dir, const char *key, const struct sbx_bpf *b)
{
	if (mkdir_p(cache_dir, 0700, NULL) < 0)
		return;
	_cleanup_close_ int dfd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	size_t bytes = b->len * sizeof(struct sock_filter);
	struct bpf_cache_header h = {.flags = b->flags, .len = (uint32_t)b->len};
	memcpy(h.magic, bpf_cache_magic, sizeof(h.magic));
	_cleanup_free_ char *buf = xmalloc(sizeof(h) + bytes);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), b->insns, bytes);
	_cleanup_free_ char *name = xasprintf("%s.bpf", key);
	write_file_atomic(dfd, name, buf, sizeof(h) + bytes, 0600, NULL);
}

int seccomp_compile_cached(json_t *obj, const char *cache_dir, struct sbx_bpf *out,
                           struct sbx_error **err)
{
	char hash[65];
	if (cache_dir == NULL || seccomp_policy_hash(obj, hash) < 0)
		return seccomp_compile(obj, out, err);
	_cleanup_free_ char *path = xasprintf("%s/%s.bpf", cache_dir, hash);
	if (read_cached(path, out) == 0)
		return 0;
	_cleanup_json_ json_t *built = seccomp_resolve(obj, err);
	if (built == NULL)
		return -1;
	obj = built;
	/* The built-in policy of a new build (its key names the build): the
	 * same content compiled before (by an older build, or for sbx exec,
	 * which reads it back from config.json) is under its content's key,
	 * and stays there for those. */
	char content[65];
	bool by_id = policy_hash(obj, false, content) == 0 && strcmp(content, hash) != 0;
	if (by_id) {
		_cleanup_free_ char *cpath = xasprintf("%s/%s.bpf", cache_dir, content);
		if (read_cached(cpath, out) == 0) {
			write_cached(cache_dir, hash, out);
			return 0;
		}
	}
	if (seccomp_compile(obj, out, err) < 0)
		return -1;
	write_cached(cache_dir, hash, out);
	if (by_id)
		write_cached(cache_dir, content, out);
	return 0;
}
