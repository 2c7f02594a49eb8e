/* limit.c - the limit program of `make bench` (issue 15): the kernel work of
 * `sbx run --rm IMAGE CMD` with the default profile, and nothing else.
 *
 * Usage: limit [-S] [-N] PLAN [COMMAND [ARG...]]
 *   -S  no seccomp filter
 *   -N  no network namespace (the plan's "-net" lines replace its "+net" ones)
 *
 * PLAN is a line-based digest of `sbx spec IMAGE` written by
 * tests/bench/limit-plan, so that this program follows the default profile:
 * its mounts, masked and read-only paths, capabilities, hostname and sbx's
 * own cached seccomp program. Every line is a keyword and its fields, split
 * on single spaces (env and arg take the rest of the line); a line may start
 * with "+net " (only with a network namespace) or "-net " (only without).
 *
 * What it does: clone into the plan's namespaces; the parent writes setgroups
 * "deny" and single-id maps and releases the child through a pipe; the child
 * makes / rslave, mounts a tmpfs holding upper, work and the overlay's mount
 * point, the overlay over the image, the plan's mounts (/dev with bound host
 * nodes and its links), the masked paths (an empty read-only tmpfs, bound
 * again for every further directory, or the host's /dev/null) and the
 * read-only paths (a bind and a remount), does pivot_root(".", ".") and a
 * detached unmount, sets the hostname, brings lo up, cuts the bounding set,
 * sets the capabilities and no-new-privileges, loads the seccomp program and
 * execs the command as pid 1. The parent waits and returns its status.
 *
 * Plain mount(2) on path strings, no checks of what the kernel did: the floor
 * for this work, not a way to build a sandbox (a hostile image could aim
 * these paths elsewhere through symlinks). Errors: "limit: ...", exit 125. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX 64

struct mnt {
	char *type, *source, *dest, *opts;
};

static struct {
	char *rootfs, *scratch, *scratch_opts, *overlay_opts, *hostname, *seccomp, *cwd;
	int ns;
	long uid_in, gid_in;
	uint64_t bounding, effective, permitted, inheritable;
	bool nnp;
	struct mnt mounts[MAX];
	char *masks[MAX], *ro[MAX], *ro_opts[MAX], *env[MAX + 1], *args[MAX + 1];
	size_t n_mounts, n_masks, n_ro, n_env, n_args;
} plan = {.uid_in = -1, .gid_in = -1, .cwd = "/"};

_Noreturn __attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	int e = errno;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "limit: %s: %s\n", msg, strerror(e));
	_exit(125);
}

static char *field(char **p)
{
	char *f = *p;
	if (f == NULL || *f == '\0') {
		errno = EINVAL;
		die("plan: a line has too few fields");
	}
	char *sp = strchr(f, ' ');
	*p = sp ? sp + 1 : NULL;
	if (sp)
		*sp = '\0';
	return f;
}

static void push(char **arr, size_t *n, char *v)
{
	if (*n >= MAX) {
		errno = E2BIG;
		die("plan: more than %d entries of a kind", MAX);
	}
	arr[(*n)++] = v;
}

static const struct {
	const char *name;
	int flag;
} namespaces[] = {
    {"user", CLONE_NEWUSER},   {"mount", CLONE_NEWNS}, {"pid", CLONE_NEWPID},
    {"ipc", CLONE_NEWIPC},     {"uts", CLONE_NEWUTS},  {"cgroup", CLONE_NEWCGROUP},
    {"network", CLONE_NEWNET},
};

static void read_plan(const char *path, bool net)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot open the plan \"%s\"", path);
	static char buf[65536];
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		die("cannot read the plan \"%s\"", path);
	if (len == sizeof(buf) - 1) {
		errno = EFBIG;
		die("the plan \"%s\" is over %zu bytes", path, sizeof(buf) - 2);
	}
	close(fd);
	buf[len] = '\0';
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "+net ", 5) == 0 || strncmp(line, "-net ", 5) == 0) {
			if ((line[0] == '+') != net)
				continue;
			line += 5;
		}
		if (*line == '#' || *line == '\0')
			continue;
		char *p = line, *key = field(&p);
		if (strcmp(key, "rootfs") == 0) {
			plan.rootfs = field(&p);
		} else if (strcmp(key, "scratch") == 0) {
			plan.scratch = field(&p);
			plan.scratch_opts = field(&p);
		} else if (strcmp(key, "overlay") == 0) {
			plan.overlay_opts = field(&p);
		} else if (strcmp(key, "ns") == 0) {
			char *name = field(&p);
			size_t i = 0;
			while (i < sizeof(namespaces) / sizeof(namespaces[0]) &&
			       strcmp(namespaces[i].name, name) != 0)
				i++;
			if (i == sizeof(namespaces) / sizeof(namespaces[0])) {
				errno = EINVAL;
				die("plan: unknown namespace \"%s\"", name);
			}
			plan.ns |= namespaces[i].flag;
		} else if (strcmp(key, "uidmap") == 0) {
			plan.uid_in = strtol(field(&p), NULL, 10);
		} else if (strcmp(key, "gidmap") == 0) {
			plan.gid_in = strtol(field(&p), NULL, 10);
		} else if (strcmp(key, "hostname") == 0) {
			plan.hostname = field(&p);
		} else if (strcmp(key, "mount") == 0) {
			if (plan.n_mounts >= MAX) {
				errno = E2BIG;
				die("plan: more than %d mounts", MAX);
			}
			struct mnt *m = &plan.mounts[plan.n_mounts++];
			m->type = field(&p);
			m->source = field(&p);
			m->dest = field(&p);
			m->opts = field(&p);
		} else if (strcmp(key, "mask") == 0) {
			push(plan.masks, &plan.n_masks, field(&p));
		} else if (strcmp(key, "ro") == 0) {
			push(plan.ro, &plan.n_ro, field(&p));
			plan.ro_opts[plan.n_ro - 1] = field(&p);
		} else if (strcmp(key, "caps") == 0) {
			plan.bounding = strtoull(field(&p), NULL, 16);
			plan.effective = strtoull(field(&p), NULL, 16);
			plan.permitted = strtoull(field(&p), NULL, 16);
			plan.inheritable = strtoull(field(&p), NULL, 16);
		} else if (strcmp(key, "nnp") == 0) {
			plan.nnp = true;
		} else if (strcmp(key, "seccomp") == 0) {
			plan.seccomp = field(&p);
		} else if (strcmp(key, "cwd") == 0) {
			plan.cwd = field(&p);
		} else if (strcmp(key, "env") == 0) {
			push(plan.env, &plan.n_env, p ? p : "");
		} else if (strcmp(key, "arg") == 0) {
			push(plan.args, &plan.n_args, p ? p : "");
		} else {
			errno = EINVAL;
			die("plan: unknown keyword \"%s\"", key);
		}
	}
	if (!plan.rootfs || !plan.scratch || !plan.overlay_opts || plan.uid_in < 0 ||
	    plan.gid_in < 0 || !(plan.ns & CLONE_NEWUSER) || !(plan.ns & CLONE_NEWNS)) {
		errno = EINVAL;
		die("plan \"%s\": rootfs, scratch, overlay, uidmap, gidmap, ns user and ns "
		    "mount are required",
		    path);
	}
}

/* Mount options: flag words become MS_* flags, the rest the data string. */
static const struct {
	const char *name;
	unsigned long flag;
} mount_flags[] = {
    {"ro", MS_RDONLY},           {"nosuid", MS_NOSUID},           {"nodev", MS_NODEV},
    {"noexec", MS_NOEXEC},       {"strictatime", MS_STRICTATIME}, {"relatime", MS_RELATIME},
    {"noatime", MS_NOATIME},     {"nodiratime", MS_NODIRATIME},   {"bind", MS_BIND},
    {"rbind", MS_BIND | MS_REC},
};

static unsigned long split_opts(const char *opts, char *data, size_t size)
{
	unsigned long flags = 0;
	data[0] = '\0';
	if (strcmp(opts, "-") == 0)
		return 0;
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", opts);
	for (char *save = NULL, *w = strtok_r(copy, ",", &save); w;
	     w = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < sizeof(mount_flags) / sizeof(mount_flags[0]) &&
		       strcmp(mount_flags[i].name, w) != 0)
			i++;
		if (i < sizeof(mount_flags) / sizeof(mount_flags[0])) {
			flags |= mount_flags[i].flag;
		} else {
			size_t l = strlen(data);
			snprintf(data + l, size - l, "%s%s", l ? "," : "", w);
		}
	}
	return flags;
}

static void do_mount(const char *root, const struct mnt *m)
{
	char target[4096], data[1024];
	snprintf(target, sizeof(target), "%s%s", root, m->dest);
	unsigned long flags = split_opts(m->opts, data, sizeof(data));
	bool bind = strcmp(m->type, "bind") == 0;
	const char *type = bind ? NULL : m->type;
	flags |= bind ? MS_BIND : 0;
	for (int tries = 0;; tries++) {
		if (mount(m->source, target, type, bind ? flags & (MS_BIND | MS_REC) : flags,
		          data[0] ? data : NULL) == 0)
			break;
		if (errno != ENOENT || tries > 0)
			die("cannot mount %s on \"%s\"", m->type, m->dest);
		if (mkdir(target, 0755) < 0)
			die("cannot create \"%s\"", m->dest);
	}
	if (!bind || !(flags & ~(MS_BIND | MS_REC)))
		return;
	/* A bind takes its flags from a remount, which reaches one mount;
	 * mount_setattr reaches every mount of a recursive bind. */
	if (flags & MS_REC) {
		struct mount_attr a = {.attr_set = (flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) |
		                                   (flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
		                                   (flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) |
		                                   (flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0)};
		if (syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &a, sizeof(a)) < 0)
			die("cannot set the flags of \"%s\"", m->dest);
	} else if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0) {
		die("cannot remount \"%s\"", m->dest);
	}
}

/* Files under /dev: the host's nodes are bound (a user namespace cannot
 * mknod), the rest are links; the plan lists them as mounts of type "dev"
 * and "link". */
static void dev_entry(const char *root, const struct mnt *m)
{
	char target[4096];
	snprintf(target, sizeof(target), "%s%s", root, m->dest);
	if (strcmp(m->type, "link") == 0) {
		if (symlink(m->source, target) < 0)
			die("cannot create the link \"%s\"", m->dest);
		return;
	}
	int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		die("cannot create \"%s\"", m->dest);
	close(fd);
	if (mount(m->source, target, NULL, MS_BIND, NULL) < 0)
		die("cannot bind \"%s\" on \"%s\"", m->source, m->dest);
}

static void mask(const char *root, const char *path, char *first_dir, size_t size)
{
	char target[4096];
	snprintf(target, sizeof(target), "%s%s", root, path);
	struct stat st;
	if (lstat(target, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return;
		die("cannot stat \"%s\"", path);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0)
			die("cannot mask \"%s\"", path);
		return;
	}
	/* One empty read-only tmpfs, bound again on every further directory. */
	if (first_dir[0]) {
		if (mount(first_dir, target, NULL, MS_BIND, NULL) < 0)
			die("cannot mask \"%s\"", path);
		return;
	}
	if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die("cannot mask \"%s\"", path);
	snprintf(first_dir, size, "%s", target);
}

static void readonly(const char *root, const char *path, const char *opts)
{
	char target[4096], data[1024];
	snprintf(target, sizeof(target), "%s%s", root, path);
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return;
		die("cannot bind \"%s\"", path);
	}
	unsigned long flags = split_opts(opts, data, sizeof(data));
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
		die("cannot make \"%s\" read-only", path);
}

static void write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("cannot write \"%s\"", path);
	close(fd);
}

struct bpf_file_header { /* sbx's cache file: magic, flags, length, program */
	char magic[8];
	uint32_t flags;
	uint32_t len;
};

static void read_bpf(const char *path, struct sock_fprog *prog, unsigned *flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot open the seccomp program \"%s\"", path);
	static struct sock_filter insns[BPF_MAXINSNS];
	struct bpf_file_header h;
	errno = EINVAL;
	if (read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) || memcmp(h.magic, "SBXBPF1", 8) != 0 ||
	    h.len == 0 || h.len > BPF_MAXINSNS ||
	    read(fd, insns, h.len * sizeof(insns[0])) != (ssize_t)(h.len * sizeof(insns[0])))
		die("\"%s\" is not a seccomp program cached by sbx", path);
	close(fd);
	*prog = (struct sock_fprog){.len = (unsigned short)h.len, .filter = insns};
	*flags = h.flags;
}

_Noreturn static void child(int gate, char **argv, const struct sock_fprog *prog,
                            unsigned prog_flags)
{
	/* One byte once the maps are written; end of file if the parent died. */
	char b;
	ssize_t n;
	while ((n = read(gate, &b, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		_exit(125);
	close(gate);

	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		die("cannot make / a slave mount");
	char data[1024], upper[4096], work[4096], root[4096], overlay[3 * 4096 + 1024];
	unsigned long flags = split_opts(plan.scratch_opts, data, sizeof(data));
	if (mount("tmpfs", plan.scratch, "tmpfs", flags, data[0] ? data : NULL) < 0)
		die("cannot mount the scratch tmpfs on \"%s\"", plan.scratch);
	snprintf(upper, sizeof(upper), "%s/upper", plan.scratch);
	snprintf(work, sizeof(work), "%s/work", plan.scratch);
	snprintf(root, sizeof(root), "%s/root", plan.scratch);
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(root, 0700) < 0)
		die("cannot create upper, work and root in \"%s\"", plan.scratch);
	snprintf(overlay, sizeof(overlay), "lowerdir=%s,upperdir=%s,workdir=%s,%s", plan.rootfs,
	         upper, work, plan.overlay_opts);
	if (mount("overlay", root, "overlay", 0, overlay) < 0)
		die("cannot mount the overlay of \"%s\"", plan.rootfs);

	for (size_t i = 0; i < plan.n_mounts; i++) {
		const struct mnt *m = &plan.mounts[i];
		if (strcmp(m->type, "dev") == 0 || strcmp(m->type, "link") == 0)
			dev_entry(root, m);
		else
			do_mount(root, m);
	}
	char first_dir[4096] = "";
	for (size_t i = 0; i < plan.n_masks; i++)
		mask(root, plan.masks[i], first_dir, sizeof(first_dir));
	for (size_t i = 0; i < plan.n_ro; i++)
		readonly(root, plan.ro[i], plan.ro_opts[i]);

	if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir(plan.cwd) < 0)
		die("cannot pivot to \"%s\"", root);
	if (plan.hostname && (plan.ns & CLONE_NEWUTS) &&
	    sethostname(plan.hostname, strlen(plan.hostname)) < 0)
		die("cannot set the hostname");
	if (plan.ns & CLONE_NEWNET) {
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr = {.ifr_name = "lo", .ifr_flags = IFF_UP};
		if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			die("cannot bring lo up");
		close(s);
	}

	for (unsigned long cap = 0; cap < 64; cap++)
		if (!(plan.bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL) /* past the kernel's last capability */
				break;
			die("cannot drop capability %lu from the bounding set", cap);
		}
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct caps[2] = {
	    {(uint32_t)plan.effective, (uint32_t)plan.permitted, (uint32_t)plan.inheritable},
	    {(uint32_t)(plan.effective >> 32), (uint32_t)(plan.permitted >> 32),
	     (uint32_t)(plan.inheritable >> 32)}};
	if (syscall(SYS_capset, &hdr, caps) < 0)
		die("capset");
	if (plan.nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("prctl(PR_SET_NO_NEW_PRIVS)");
	if (prog && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog_flags, prog) < 0)
		die("cannot load the seccomp program");
	execve(argv[0], argv, plan.env);
	die("cannot execute \"%s\"", argv[0]);
}

int main(int argc, char **argv)
{
	bool no_seccomp = false, no_net = false;
	int opt;
	while ((opt = getopt(argc, argv, "+SN")) != -1) {
		if (opt == 'S') {
			no_seccomp = true;
		} else if (opt == 'N') {
			no_net = true;
		} else {
			dprintf(STDERR_FILENO, "usage: limit [-S] [-N] PLAN [COMMAND [ARG...]]\n");
			return 125;
		}
	}
	if (optind >= argc) {
		dprintf(STDERR_FILENO, "usage: limit [-S] [-N] PLAN [COMMAND [ARG...]]\n");
		return 125;
	}
	read_plan(argv[optind], !no_net);
	char **cmd = argv + optind + 1;
	if (*cmd == NULL) {
		cmd = plan.args;
		if (*cmd == NULL) {
			errno = EINVAL;
			die("no command, and none in the plan");
		}
	}
	struct sock_fprog prog;
	unsigned prog_flags = 0;
	if (!no_seccomp && plan.seccomp)
		read_bpf(plan.seccomp, &prog, &prog_flags);

	int gate[2];
	if (pipe2(gate, O_CLOEXEC) < 0)
		die("pipe2");
	pid_t pid =
	    (pid_t)syscall(SYS_clone, (unsigned long)plan.ns | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		die("cannot clone into the namespaces");
	if (pid == 0) {
		close(gate[1]);
		child(gate[0], cmd, no_seccomp || !plan.seccomp ? NULL : &prog, prog_flags);
	}
	close(gate[0]);
	char map[64];
	write_file(pid, "setgroups", "deny");
	snprintf(map, sizeof(map), "%ld %u 1", plan.uid_in, (unsigned)getuid());
	write_file(pid, "uid_map", map);
	snprintf(map, sizeof(map), "%ld %u 1", plan.gid_in, (unsigned)getgid());
	write_file(pid, "gid_map", map);
	if (write(gate[1], "g", 1) != 1)
		die("cannot release the child");
	close(gate[1]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
