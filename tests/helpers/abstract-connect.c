/* abstract-connect - connects to the abstract unix socket "@NAME" given as
 * argv[1] and writes argv[2] to it. Exits 0 when it connected and wrote,
 * 1 when refused (the error is printed). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path) - 1) {
		fprintf(stderr, "usage: abstract-connect NAME MESSAGE\n");
		return 2;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(argv[1]);
	memcpy(sa.sun_path + 1, argv[1], n);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa,
	                      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0) {
		fprintf(stderr, "abstract-connect: %s\n", strerror(errno));
		return 1;
	}
	if (write(fd, argv[2], strlen(argv[2])) < 0) {
		fprintf(stderr, "abstract-connect: write: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
