/* escape - what a hostile payload tries against the processes of sbx it can
 * see in its pid namespace (tests/integration/user/init.bats).
 *
 *   escape scan MARKER|@FILE DEV INO
 *     For every other process: its environment and command line must not
 *     hold MARKER and its /proc/PID/exe must not be the file DEV:INO (sbx's
 *     binary). For pid 1 and every process whose binary is hidden from the
 *     payload (not its own): its fds 0-2 must not open but as /dev/null, and
 *     ptrace must fail. Prints each leak; exits 1 if there was one.
 *   escape inject PID
 *     Attaches to PID and makes it call prctl(PR_SET_PDEATHSIG, 0),
 *     kill(0, SIGALRM), ioctl(0, TIOCSTI), execve, prctl(PR_SET_DUMPABLE,
 *     1) and setns(-1, CLONE_NEWUSER): exits 2 if it cannot attach,
 *     1 if any call succeeded, 0 if all failed. x86_64 only.
 *   escape mem PID
 *     Opens /proc/PID/mem for writing and writes back 8 bytes of PID's
 *     first writable mapping, unchanged (what a payload with CAP_SYS_PTRACE needs to
 *     put code of its own into pid 1, past its seccomp filter): exits 1 if
 *     it could, 0 if not, saying which step failed. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static int leaks;

static void leak(const char *what, int pid, const char *detail)
{
	printf("LEAK %s pid %d%s%s\n", what, pid, detail ? ": " : "", detail ? detail : "");
	leaks++;
}

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	ssize_t r;
	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	close(fd);
	return (ssize_t)n;
}

static bool has_marker(const char *buf, size_t n, const char *marker)
{
	return memmem(buf, n, marker, strlen(marker)) != NULL;
}

/* A process whose binary the payload can see is its own (dumpable); sbx's
 * must not be. Attached anyway: pid 1 and those it cannot see. */
static bool hidden_exe(int pid)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return stat(path, &st) < 0 && errno == EACCES;
}

static void scan_one(int pid, const char *marker, dev_t dev, ino_t ino)
{
	static char buf[1 << 20];
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	ssize_t n = slurp(path, buf, sizeof(buf));
	if (n > 0 && has_marker(buf, (size_t)n, marker))
		leak("environment", pid, marker);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = slurp(path, buf, sizeof(buf));
	if (n > 0 && has_marker(buf, (size_t)n, marker))
		leak("command line", pid, marker);
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
		leak("exe is sbx's binary", pid, NULL);
	if (pid != 1 && !hidden_exe(pid))
		return;
	for (int fd = 0; fd < 3; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		int f = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (f >= 0) {
			char target[256] = "";
			snprintf(path, sizeof(path), "/proc/self/fd/%d", f);
			ssize_t t = readlink(path, target, sizeof(target) - 1);
			target[t > 0 ? t : 0] = '\0';
			if (strcmp(target, "/dev/null") != 0)
				leak("fd reopened", pid, target);
			close(f);
		}
	}
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
		/* It may have exec'd the payload's program in between. */
		if (pid == 1 || hidden_exe(pid))
			leak("ptrace attach", pid, NULL);
		ptrace(PTRACE_DETACH, pid, 0, 0);
	}
}

static int scan(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: escape scan MARKER DEV INO\n");
		return 2;
	}
	/* @FILE: the marker is in FILE, so that it is in no command line. */
	static char from_file[256];
	const char *marker = argv[2];
	if (marker[0] == '@') {
		ssize_t n = slurp(marker + 1, from_file, sizeof(from_file) - 1);
		if (n <= 0) {
			perror("escape: marker file");
			return 2;
		}
		from_file[n] = '\0';
		from_file[strcspn(from_file, "\n")] = '\0';
		marker = from_file;
	}
	dev_t dev = (dev_t)strtoull(argv[3], NULL, 0);
	ino_t ino = (ino_t)strtoull(argv[4], NULL, 0);
	DIR *d = opendir("/proc");
	if (d == NULL) {
		perror("escape: /proc");
		return 2;
	}
	int self = getpid(), seen = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		int pid = atoi(e->d_name);
		if (pid == self)
			continue;
		seen++;
		scan_one(pid, marker, dev, ino);
	}
	closedir(d);
	printf("scanned %d processes, %d leaks\n", seen, leaks);
	return leaks ? 1 : 0;
}

#ifdef __x86_64__
static long call(int pid, const struct user_regs_struct *saved, long nr, long a0, long a1, long a2)
{
	struct user_regs_struct r = *saved;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1;
	r.rdi = (unsigned long long)a0;
	r.rsi = (unsigned long long)a1;
	r.rdx = (unsigned long long)a2;
	r.rip = saved->rip - 2;
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) < 0 || ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0)
		return -1000;
	int st;
	if (waitpid(pid, &st, __WALL) < 0 || !WIFSTOPPED(st))
		return -1001;
	if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
		return -1002;
	return (long)r.rax;
}

static int inject(int pid)
{
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0) {
		printf("attach %d: %s\n", pid, strerror(errno));
		return 2;
	}
	int st;
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 || waitpid(pid, &st, __WALL) < 0) {
		printf("interrupt %d: %s\n", pid, strerror(errno));
		return 2;
	}
	struct user_regs_struct saved;
	if (ptrace(PTRACE_GETREGS, pid, 0, &saved) < 0) {
		printf("getregs: %s\n", strerror(errno));
		return 2;
	}
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, saved.rip - 2, 0);
	if ((word & 0xffff) != 0x050f) {
		printf("pid %d is not stopped after a syscall instruction\n", pid);
		return 2;
	}
	/* A page of the tracee's stack, far below its pointer, for TIOCSTI's byte. */
	unsigned long long scratch = (saved.rsp - 4096) & ~7ULL;
	ptrace(PTRACE_POKEDATA, pid, scratch, (void *)(long)'x');
	struct {
		const char *name;
		long nr, a0, a1, a2;
	} calls[] = {
	    {"prctl(PR_SET_PDEATHSIG, 0)", SYS_prctl, PR_SET_PDEATHSIG, 0, 0},
	    {"kill(0, SIGALRM)", SYS_kill, 0, SIGALRM, 0},
	    {"ioctl(0, TIOCSTI)", SYS_ioctl, 0, TIOCSTI, (long)scratch},
	    {"execve(\"/bin/sh\")", SYS_execve, 0, 0, 0},
	    {"prctl(PR_SET_DUMPABLE, 1)", SYS_prctl, PR_SET_DUMPABLE, 1, 0},
	    {"setns(-1, CLONE_NEWUSER)", SYS_setns, -1, CLONE_NEWUSER, 0},
	};
	int worked = 0;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		long r = call(pid, &saved, calls[i].nr, calls[i].a0, calls[i].a1, calls[i].a2);
		printf("%s = %ld%s%s\n", calls[i].name, r, r < 0 && r > -4096 ? " " : "",
		       r < 0 && r > -4096 ? strerror((int)-r) : "");
		if (r == 0)
			worked++;
	}
	ptrace(PTRACE_SETREGS, pid, 0, &saved);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return worked ? 1 : 0;
}
#else
static int inject(int pid)
{
	(void)pid;
	printf("inject: x86_64 only\n");
	return 3;
}
#endif

static int poke(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("open %s: %s\n", path, strerror(errno));
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	unsigned long start = 0;
	char line[512], perms[8];
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%*x %7s", &start, perms) == 2 && perms[1] == 'w';
	if (!found) {
		printf("read %s: %s\n", path, f ? "no writable mapping" : strerror(errno));
		return 0;
	}
	fclose(f);
	char word[8];
	if (pread(fd, word, sizeof(word), (off_t)start) != (ssize_t)sizeof(word)) {
		printf("read pid %d's memory: %s\n", pid, strerror(errno));
		return 0;
	}
	if (pwrite(fd, word, sizeof(word), (off_t)start) != (ssize_t)sizeof(word)) {
		printf("write pid %d's memory: %s\n", pid, strerror(errno));
		return 0;
	}
	printf("wrote 8 bytes of pid %d's memory\n", pid);
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "scan") == 0)
		return scan(argc, argv);
	if (argc == 3 && strcmp(argv[1], "inject") == 0)
		return inject(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "mem") == 0)
		return poke(atoi(argv[2]));
	fprintf(stderr, "usage: escape scan MARKER DEV INO | escape inject PID | escape mem PID\n");
	return 2;
}
