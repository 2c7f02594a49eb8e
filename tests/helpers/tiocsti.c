/* tiocsti - tries to push a command into the terminal on fd 0, the attack
 * that a sandbox without its own session allows. Exits 0 when it worked,
 * 1 when refused (the error is printed), 2 when fd 0 is not a terminal. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	if (!isatty(0)) {
		fprintf(stderr, "tiocsti: fd 0 is not a terminal\n");
		return 2;
	}
	const char *cmd = "echo INJECTED\n";
	for (const char *p = cmd; *p; p++) {
		if (ioctl(0, TIOCSTI, p) < 0) {
			fprintf(stderr, "tiocsti: %s\n", strerror(errno));
			return 1;
		}
	}
	return 0;
}
