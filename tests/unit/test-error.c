/* test-error.c - errors with context: the first error set wins, message
 * and code, through the library's helpers and the modules that use them. */
#define _GNU_SOURCE
#include "lib/error.h"
#include "profile/profile.h"
#include "store/image.h"
#include "tap.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>

static void test_set(void)
{
	struct sbx_error *e = NULL;
	is_int(sbx_error_set(&e, ENOENT, "no \"%s\"", "x"), -1, "set returns -1");
	ok(e && e->code == ENOENT, "the errno is the code");
	is_str(e ? e->msg : NULL, "no \"x\": No such file or directory", "strerror appended");
	sbx_error_free(e);

	e = NULL;
	is_int(sbx_error_set(&e, 0, "plain"), -1, "set without errno");
	ok(e && e->code == 0, "code 0");
	is_str(e ? e->msg : NULL, "plain", "nothing appended");
	sbx_error_free(e);

	is_int(sbx_error_set(NULL, EIO, "nowhere"), -1, "a NULL err is allowed");
	is_int(sbx_error_setc(NULL, EIO, "nowhere"), -1, "for setc too");
	is_int(sbx_error_prefix(NULL, "ctx"), -1, "and prefix");
}

static void test_setc(void)
{
	struct sbx_error *e = NULL;
	is_int(sbx_error_setc(&e, EEXIST, "taken"), -1, "setc returns -1");
	ok(e && e->code == EEXIST, "the code is recorded");
	is_str(e ? e->msg : NULL, "taken", "no strerror text");
	sbx_error_free(e);
}

static void test_first_wins(void)
{
	struct sbx_error *e = NULL;
	sbx_error_set(&e, EIO, "first");
	sbx_error_set(&e, ENOENT, "second");
	ok(e && e->code == EIO, "set after set: the first code stays");
	is_str(e ? e->msg : NULL, "first: Input/output error", "and its message");

	sbx_error_setc(&e, EINVAL, "third");
	ok(e && e->code == EIO, "setc after set: the first code stays");
	is_str(e ? e->msg : NULL, "first: Input/output error", "and its message");
	sbx_error_free(e);

	e = NULL;
	sbx_error_setc(&e, ENOENT, "missing");
	sbx_error_setc(&e, EINVAL, "invalid");
	ok(e && e->code == ENOENT, "setc after setc: the first code stays");
	is_str(e ? e->msg : NULL, "missing", "and its message");

	sbx_error_prefix(&e, "image \"%s\"", "x");
	ok(e && e->code == ENOENT, "a prefix keeps the code");
	is_str(e ? e->msg : NULL, "image \"x\": missing", "and adds context");
	sbx_error_free(e);
}

/* The modules' coded errors go through the same helper: an error already
 * set is neither replaced nor recoded (profile.c's own helper used to
 * overwrite the code). */
static void test_modules(void)
{
	struct sbx_error *e = NULL;
	char *path = NULL;
	enum sbx_profile_origin origin;
	sbx_error_set(&e, 0, "earlier");
	e->code = EIO;
	is_int(profile_find("-bad", &path, &origin, &e), -1, "an invalid profile name fails");
	ok(e && e->code == EIO, "profile_find keeps the code of the error already set (got %d)",
	   e ? e->code : 0);
	is_str(e ? e->msg : NULL, "earlier", "and its message");
	sbx_error_free(e);

	e = NULL;
	is_int(profile_find("-bad", &path, &origin, &e), -1, "alone, it fails");
	ok(e && e->code == EINVAL, "with EINVAL");
	ok(e && strstr(e->msg, "invalid profile name"), "saying why: %s", e ? e->msg : "");
	sbx_error_free(e);
	free(path);

	e = NULL;
	struct sbx_image *img = NULL;
	sbx_error_setc(&e, EIO, "earlier");
	is_int(image_open("-bad", &img, &e), -1, "an invalid image name fails");
	ok(e && e->code == EIO, "image_open keeps the code of the error already set");
	is_str(e ? e->msg : NULL, "earlier", "and its message");
	sbx_error_free(e);
}

int main(void)
{
	test_set();
	test_setc();
	test_first_wins();
	test_modules();
	return done_testing();
}
