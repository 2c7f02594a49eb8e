/* terminal.h - the caller's terminal in raw mode, and the pty proxy. */
#ifndef SBX_TERMINAL_H
#define SBX_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

struct sbx_terminal {
	int fd; /* -1 when nothing to restore */
	struct termios saved;
	bool forward; /* what is typed goes to the sandbox */
};

/* Raw mode on fd if it is a terminal; restored by terminal_restore. Without
 * forward, nothing reads what is typed: Ctrl-C and Ctrl-\ still signal sbx
 * (which forwards the signal), and the rest is discarded on restore, so
 * that the caller's shell does not run it. */
void terminal_raw(struct sbx_terminal *t, int fd, bool forward);
void terminal_restore(struct sbx_terminal *t);
static inline void terminal_restorep(struct sbx_terminal *t)
{
	terminal_restore(t);
}
/* Copies the window size of from (a terminal) to the pty master. */
void terminal_copy_size(int from, int pty);
/* Copies one chunk from in to out. Returns bytes copied, 0 on EOF, -1 on error. */
int terminal_pump(int in, int out);
/* The same without blocking on in; 0 when nothing is left. */
int terminal_pump_nonblock(int in, int out);

#endif
