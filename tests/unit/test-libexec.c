/* test-libexec.c - finding files relative to the running binary (this test,
 * in build/unit/), and refusing those someone else could have put there. */
#define _GNU_SOURCE
#include "lib/libexec.h"
#include "tap.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static char *dir; /* build/unit, where this binary is */

static void spit(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || close(fd) < 0)
		abort();
	if (chmod(path, mode) < 0)
		abort();
}

static void test_self(void)
{
	const char *self = libexec_self();
	ok(self && self[0] == '/' && str_endswith(self, "/unit/test-libexec"),
	   "the binary, absolute: %s", self ? self : "(null)");
	is_str(libexec_self(), self, "the same string every time");
	dir = xstrndup(self, (size_t)(strrchr(self, '/') - self));

	char *why = (char *)"stale"; /* overwritten, not freed */
	_cleanup_free_ char *me = libexec_self_relative("test-libexec", &why);
	is_str(me, self, "a file beside the binary");
	is_str(why, NULL, "and no reason");
	_cleanup_free_ char *top = xstrndup(dir, (size_t)(strrchr(dir, '/') - dir));
	*strrchr(top, '/') = '\0';
	_cleanup_free_ char *want = xasprintf("%s/Makefile", top);
	_cleanup_free_ char *mk = libexec_self_relative("../../Makefile", &why);
	is_str(mk, want, "each leading ../ goes one directory up");
	_cleanup_free_ char *up = libexec_self_relative("..", &why);
	*strrchr(want, '/') = '\0';
	_cleanup_free_ char *build = xasprintf("%s/build", want);
	is_str(up, build, "\"..\" alone");
	_cleanup_free_ char *none = libexec_self_relative("../no-such-dir/x", &why);
	is_str(none, NULL, "a missing file: NULL");
	is_str(why, NULL, "with no reason to give");
}

static void test_trust(void)
{
	_cleanup_free_ char *name = xasprintf("libexec-test.%d", (int)getpid());
	_cleanup_free_ char *d = xasprintf("%s/%s", dir, name);
	_cleanup_free_ char *f = xasprintf("%s/f", d);
	_cleanup_free_ char *rel = xasprintf("%s/f", name);
	if (mkdir(d, 0700) < 0) {
		printf("Bail out! mkdir %s: %s\n", d, strerror(errno));
		exit(1);
	}
	spit(f, 0644);
	char *why = NULL, *p = NULL;

	p = libexec_self_relative(rel, &why);
	is_str(p, f, "a file of yours in a directory of yours");
	free(p);

	chmod(d, 0777);
	p = libexec_self_relative(rel, &why);
	is_str(p, NULL, "a directory anyone can write to: refused");
	_cleanup_free_ char *want =
	    xasprintf("\"%s\" is not used: \"%s\" is writable by others", f, d);
	is_str(why, want, "with the reason");
	free(why);

	chmod(d, 01777);
	p = libexec_self_relative(rel, &why);
	is_str(p, f, "sticky, as /tmp: your own file in it is used");
	free(p);
	p = libexec_self_relative(name, &why);
	is_str(p, NULL, "but not the sticky directory itself");
	free(p);
	free(why);

	chmod(d, 0755);
	chmod(f, 0666);
	p = libexec_self_relative(rel, &why);
	is_str(p, NULL, "a file anyone can write to: refused");
	free(want);
	want = xasprintf("\"%s\" is not used: \"%s\" is writable by others", f, f);
	is_str(why, want, "with the reason");
	free(why);
	chmod(f, 0644);

	/* As root (make check in CI), a directory of another user's. */
	if (geteuid() == 0 && chown(d, 65534, 65534) == 0) {
		p = libexec_self_relative(rel, &why);
		is_str(p, NULL, "another user's directory: refused");
		free(want);
		want = xasprintf("\"%s\" is not used: \"%s\" belongs to uid 65534", f, d);
		is_str(why, want, "with the reason");
		free(why);
		if (chown(d, 0, 0) < 0)
			abort();
	} else {
		printf("ok %d # skip another user's directory needs root\n", ++tap_n);
	}

	/* libexec_find passes over a helper it refuses, and says so. */
	_cleanup_free_ char *helper = xasprintf("sbx-test-helper.%d", (int)getpid());
	_cleanup_free_ char *hpath = xasprintf("%s/%s", dir, helper);
	spit(hpath, 0755);
	unsetenv("SBX_LIBEXECDIR");
	struct sbx_error *e = NULL;
	p = NULL;
	is_int(libexec_find(helper, "the test helper", &p, &e), 0, "a helper beside the binary");
	is_str(p, hpath, "is found there");
	free(p);
	chmod(hpath, 0777);
	p = NULL;
	is_int(libexec_find(helper, "the test helper", &p, &e), -1, "one anyone can write to");
	_cleanup_free_ char *dflt = libexec_dir();
	free(want);
	want = xasprintf("cannot run the test helper \"%s/%s\": No such file or directory; \"%s\" "
	                 "is not used: \"%s\" is writable by others",
	                 dflt, helper, hpath, hpath);
	is_str(e ? e->msg : NULL, want, "is not, and the error says why");
	sbx_error_free(e);
	unlink(hpath);
	unlink(f);
	rmdir(d);
}

int main(void)
{
	test_self();
	test_trust();
	free(dir);
	return done_testing();
}
