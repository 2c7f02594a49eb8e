/* console-recv SOCKET - the receiving end of an OCI runtime's
 * --console-socket: listens on SOCKET, takes one terminal master passed
 * with SCM_RIGHTS, and copies what the container writes on it to stdout
 * until the container's side closes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0)
		return perror("console-recv: listen"), 1;
	int s = accept(ls, NULL, NULL);
	if (s < 0)
		return perror("console-recv: accept"), 1;
	char buf[256], ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	if (recvmsg(s, &mh, 0) < 0)
		return perror("console-recv: recvmsg"), 1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c == NULL || c->cmsg_type != SCM_RIGHTS)
		return fprintf(stderr, "console-recv: no fd\n"), 1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}
