/* terminal.c - raw mode and copying between the caller's terminal and the pty. */
#define _GNU_SOURCE
#include "runtime/terminal.h"
#include "lib/util.h"

#include <errno.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

void terminal_raw(struct sbx_terminal *t, int fd, bool forward)
{
	t->fd = -1;
	t->forward = forward;
	if (!isatty(fd) || tcgetattr(fd, &t->saved) < 0)
		return;
	struct termios raw = t->saved;
	cfmakeraw(&raw);
	/* Nothing reads the keys: the terminal itself must turn Ctrl-C into
	 * SIGINT for sbx to forward. */
	if (!forward)
		raw.c_lflag |= ISIG;
	/* Keep output processing: the sandbox's own tty does the translation. */
	if (tcsetattr(fd, TCSADRAIN, &raw) == 0)
		t->fd = fd;
}

void terminal_restore(struct sbx_terminal *t)
{
	/* TCSAFLUSH discards what was typed and not forwarded (and replies
	 * to the sandbox's queries, such as a cursor position): the caller's
	 * shell would read it as commands. */
	if (t->fd >= 0)
		tcsetattr(t->fd, t->forward ? TCSADRAIN : TCSAFLUSH, &t->saved);
	t->fd = -1;
}

void terminal_copy_size(int from, int pty)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(pty, TIOCSWINSZ, &ws);
}

int terminal_pump(int in, int out)
{
	char buf[16384];
	ssize_t n;
	do
		n = read(in, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	/* EIO from a pty master means every slave fd is closed. */
	if (n <= 0)
		return n == 0 || errno == EIO ? 0 : -1;
	if (write_all(out, buf, (size_t)n) < 0)
		return -1;
	return (int)n;
}

int terminal_pump_nonblock(int in, int out)
{
	struct pollfd p = {.fd = in, .events = POLLIN};
	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
		return 0;
	return terminal_pump(in, out);
}
