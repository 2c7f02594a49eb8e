/* test-fsctx.c - the one fs-context helper: the kernel's explanation of a
 * refusal lands in the error, after the caller's words and before strerror,
 * and a refusal tried and ignored leaves nothing for the next error. */
#define _GNU_SOURCE
#include "runtime/fsctx.h"
#include "tap.h"
#include "lib/util.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>

static void test_fsctx(void)
{
	struct sbx_error *e = NULL;
	is_int(fsctx_open("sbx-no-such-fs", &e, "no %s here", "sbx-no-such-fs"), -1,
	       "an unknown filesystem type fails");
	is_str(e ? e->msg : NULL, "no sbx-no-such-fs here: No such device",
	       "with the caller's words and strerror");
	sbx_error_free(e);

	e = NULL;
	int fd = fsctx_open("tmpfs", &e, "tmpfs");
	ok(fd >= 0, "a tmpfs context opens");
	if (fd < 0) {
		sbx_error_free(e);
		return;
	}
	is_int(fsctx_try(fd, FSCONFIG_SET_STRING, "sbx-bogus", "1", 0), -1,
	       "an unknown option, tried, fails");
	is_int(fsctx_set(fd, FSCONFIG_SET_STRING, "mode", "0700", 0, &e, "mode"), 0,
	       "a good option is set");
	ok(e == NULL, "without an error");
	is_int(fsctx_set(fd, FSCONFIG_SET_STRING, "size", "lots", 0, &e,
	                 "tmpfs option \"%s\" refused", "size=lots"),
	       -1, "a bad value fails");
	ok(e && e->code == EINVAL, "EINVAL");
	ok(e && strncmp(e->msg, "tmpfs option \"size=lots\" refused: e tmpfs: ", 42) == 0 &&
	       strstr(e->msg, "size") && str_endswith(e->msg, ": Invalid argument"),
	   "the kernel's words between the caller's and strerror: %s", e ? e->msg : "");
	ok(e && strstr(e->msg, "sbx-bogus") == NULL, "not the message of the option tried before");
	sbx_error_free(e);

	e = NULL;
	is_int(fsctx_set(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0, &e, "cannot create tmpfs"), 0,
	       "the tmpfs is created");
	int mfd = fsmount(fd, FSMOUNT_CLOEXEC, 0);
	ok(mfd >= 0, "and mounts");
	if (mfd >= 0)
		close(mfd);
	close(fd);
	sbx_error_free(e);
}

int main(void)
{
	/* fsopen needs CAP_SYS_ADMIN over a mount namespace: a user
	 * namespace of its own gives it that when the test is no root. */
	if (geteuid() != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
		printf("ok 1 - # SKIP no user namespace here (%s)\n", strerror(errno));
		printf("1..1\n");
		return 0;
	}
	test_fsctx();
	return done_testing();
}
