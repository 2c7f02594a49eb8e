/* setid - tries to give a file a set-id mode with one system call, or reads
 * a file as whoever runs it.
 *
 *   setid CALL PATH MODE   CALL: chmod fchmod fchmodat fchmodat2 mknod mknodat
 *                          creat open openat openat2 tmpfile; MODE is octal.
 *                          Prints "ok" or the errno's name; exits 0 or 1.
 *   setid cat PATH         prints "euid N" and then the file.
 *
 * Raw system calls, so libc cannot pick another one behind the test's back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static const char *errname(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EACCES:
		return "EACCES";
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	case EINVAL:
		return "EINVAL";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EROFS:
		return "EROFS";
	}
	static char buf[32];
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

static int cat(const char *path)
{
	printf("euid %u\n", (unsigned)geteuid());
	fflush(stdout);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("cat: %s\n", strerror(errno));
		return 1;
	}
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "cat") == 0)
		return cat(argv[2]);
	if (argc != 4) {
		fprintf(stderr, "usage: setid CALL PATH MODE | setid cat PATH\n");
		return 2;
	}
	const char *call = argv[1], *path = argv[2];
	mode_t mode = (mode_t)strtoul(argv[3], NULL, 8);
	long r;
	int fd;
	if (strcmp(call, "chmod") == 0) {
		r = syscall(SYS_chmod, path, mode);
	} else if (strcmp(call, "fchmod") == 0) {
		fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
		r = fd < 0 ? fd : syscall(SYS_fchmod, fd, mode);
	} else if (strcmp(call, "fchmodat") == 0) {
		r = syscall(SYS_fchmodat, AT_FDCWD, path, mode);
	} else if (strcmp(call, "fchmodat2") == 0) {
		r = syscall(SYS_fchmodat2, AT_FDCWD, path, mode, 0);
	} else if (strcmp(call, "mknod") == 0) {
		r = syscall(SYS_mknod, path, S_IFREG | mode, 0);
	} else if (strcmp(call, "mknodat") == 0) {
		r = syscall(SYS_mknodat, AT_FDCWD, path, S_IFREG | mode, 0);
	} else if (strcmp(call, "creat") == 0) {
		r = syscall(SYS_creat, path, mode);
	} else if (strcmp(call, "open") == 0) {
		r = syscall(SYS_open, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	} else if (strcmp(call, "openat") == 0) {
		r = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		            mode);
	} else if (strcmp(call, "openat2") == 0) {
		struct open_how how = {.flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		                       .mode = mode};
		r = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	} else if (strcmp(call, "tmpfile") == 0) {
		/* An unnamed file in the directory PATH, then linked as PATH/tmpfile. */
		fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_TMPFILE | O_WRONLY | O_CLOEXEC,
		                  mode);
		r = fd;
		if (fd >= 0) {
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			char *dst = NULL;
			if (asprintf(&dst, "%s/tmpfile", path) < 0)
				return 2;
			r = linkat(AT_FDCWD, proc, AT_FDCWD, dst, AT_SYMLINK_FOLLOW);
		}
	} else {
		fprintf(stderr, "setid: unknown call \"%s\"\n", call);
		return 2;
	}
	if (r < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}
