/* test-path.c - path_find, the one $PATH search of `sbx run` (pasta,
 * slirp4netns) and `sbx doctor`: absolute entries only (relative and empty
 * ones skipped), executable regular files only, sbin in the default. */
#define _GNU_SOURCE
#include "tap.h"
#include "lib/util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static char *base;

static void make_file(const char *dir, const char *name, mode_t mode)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/%s", base, dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) < 0)
		abort();
	close(fd);
}

static void make_dir(const char *dir)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", base, dir);
	if (mkdir(path, 0755) < 0)
		abort();
}

/* path_find with $PATH set to path (NULL: unset). */
static char *find_with(const char *path, const char *name)
{
	if (path)
		setenv("PATH", path, 1);
	else
		unsetenv("PATH");
	return path_find(name);
}

static void test_path_find(void)
{
	make_dir("rel");
	make_dir("bin");
	make_dir("sbin");
	make_dir("other");
	make_file("rel", "tool", 0755);
	make_file("bin", "tool", 0755);
	make_file("sbin", "admin", 0755);
	make_file(".", "here", 0755);
	make_file("other", "tool", 0644); /* not executable */
	make_dir("other/dir");            /* a directory, not a program */
	if (chdir(base) < 0)
		abort();
	_cleanup_free_ char *bin = xasprintf("%s/bin", base);
	_cleanup_free_ char *sbin = xasprintf("%s/sbin", base);
	_cleanup_free_ char *other = xasprintf("%s/other", base);
	_cleanup_free_ char *want_tool = xasprintf("%s/bin/tool", base);
	_cleanup_free_ char *want_admin = xasprintf("%s/sbin/admin", base);

	_cleanup_free_ char *p1 = xasprintf("rel:%s", bin);
	_cleanup_free_ char *r1 = find_with(p1, "tool");
	is_str(r1, want_tool, "a relative entry is skipped, the absolute one after it found");

	_cleanup_free_ char *r2 = find_with("rel", "tool");
	is_str(r2, NULL, "only a relative entry: not found");

	_cleanup_free_ char *p3 = xasprintf(":%s", bin);
	_cleanup_free_ char *r3 = find_with(p3, "here");
	is_str(r3, NULL, "an empty entry (the current directory) is skipped, leading");
	_cleanup_free_ char *p4 = xasprintf("%s::%s", bin, sbin);
	_cleanup_free_ char *r4 = find_with(p4, "here");
	is_str(r4, NULL, "in the middle");
	_cleanup_free_ char *p5 = xasprintf("%s:", bin);
	_cleanup_free_ char *r5 = find_with(p5, "here");
	is_str(r5, NULL, "and trailing");
	_cleanup_free_ char *r6 = find_with(p4, "admin");
	is_str(r6, want_admin, "the entry after an empty one is searched");

	_cleanup_free_ char *p7 = xasprintf("%s:%s", other, bin);
	_cleanup_free_ char *r7 = find_with(p7, "tool");
	is_str(r7, want_tool, "a file that is not executable is passed over");
	_cleanup_free_ char *r8 = find_with(other, "dir");
	is_str(r8, NULL, "a directory is no program");

	_cleanup_free_ char *p9 = xasprintf("%s:%s", bin, sbin);
	_cleanup_free_ char *r9 = find_with(p9, "admin");
	is_str(r9, want_admin, "an sbin directory in $PATH is searched like any other");

	ok(strstr(":" PATH_DEFAULT ":", ":/usr/sbin:") && strstr(":" PATH_DEFAULT ":", ":/sbin:"),
	   "the default search path has the sbin directories");
	/* ldconfig (libc-bin, essential) lives in /sbin or /usr/sbin only. */
	_cleanup_free_ char *r10 = find_with(NULL, "ldconfig");
	ok(r10 && r10[0] == '/' && strstr(r10, "sbin/ldconfig"), "$PATH unset: found in sbin (%s)",
	   r10 ? r10 : "(null)");
	_cleanup_free_ char *r11 = find_with("", "ldconfig");
	is_str(r11, r10, "$PATH empty: the same");
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	base = xasprintf("%s/sbx-test-path-XXXXXX", tmp);
	if (mkdtemp(base) == NULL)
		abort();
	test_path_find();
	if (chdir("/") < 0)
		abort();
	_cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rm_rf_at(fd, strrchr(base, '/') + 1, NULL);
	free(base);
	return done_testing();
}
