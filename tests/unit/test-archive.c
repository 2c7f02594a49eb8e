/* test-archive.c - libarchive's reading API over the sbx-unpack helper: the
 * real helper on archives made here with tar, and fake helpers that are
 * missing, die, or send garbage. */
#define _GNU_SOURCE
#include "store/sbx-archive.h"
#include "tap.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

static char *base, *real_dir;

static void spit(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write_all(fd, s, strlen(s)) < 0 || close(fd) < 0)
		abort();
}

static void run(const char *cmd)
{
	if (system(cmd) != 0) {
		printf("Bail out! %s failed\n", cmd);
		exit(1);
	}
}

/* A directory with a fake sbx-unpack script, for SBX_LIBEXECDIR. */
static char *fake(const char *name, const char *script)
{
	char *dir = xasprintf("%s/%s", base, name);
	if (mkdir(dir, 0755) < 0)
		abort();
	char *path = xasprintf("%s/sbx-unpack", dir);
	char *text = xasprintf("#!/bin/sh\n%s\n", script);
	spit(path, text, 0755);
	free(text);
	free(path);
	return dir;
}

static struct archive *open_with(const char *dir, const char *file, int *fd, int *r)
{
	setenv("SBX_LIBEXECDIR", dir, 1);
	struct sbx_error *e = NULL;
	if (archive_load(&e) < 0) {
		printf("# %s\n", e->msg);
		sbx_error_free(e);
		return NULL;
	}
	*fd = open(file, O_RDONLY | O_CLOEXEC);
	struct archive *a = archive_read_new();
	*r = archive_read_open_fd(a, *fd, 64 << 10);
	return a;
}

static void test_load(void)
{
	setenv("SBX_LIBEXECDIR", "/nonexistent", 1);
	struct sbx_error *e = NULL;
	is_int(archive_load(&e), -1, "a missing helper fails");
	is_str(e ? e->msg : NULL,
	       "cannot run the archive helper \"/nonexistent/sbx-unpack\": No such file or "
	       "directory; reinstall sbx ('make install' installs it in " SBX_LIBEXECDIR ")",
	       "and says how to get it");
	is_int(e ? e->code : 0, ENOENT, "as ENOENT");
	sbx_error_free(e);
}

/* Reads an entry's data back whole, as extract.c writes it. */
static char *slurp(struct archive *a, size_t *size, int *blocks)
{
	char *buf = xcalloc(1, 1);
	*size = 0;
	*blocks = 0;
	for (;;) {
		const void *p;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &p, &len, &off);
		if (r == ARCHIVE_EOF)
			return buf;
		if (r != ARCHIVE_OK) {
			free(buf);
			return NULL;
		}
		if ((size_t)off + len > *size) {
			buf = xrealloc(buf, (size_t)off + len + 1);
			memset(buf + *size, 0, (size_t)off + len + 1 - *size);
			*size = (size_t)off + len;
		}
		memcpy(buf + off, p, len);
		(*blocks)++;
	}
}

static void test_real(void)
{
	char *tree = xasprintf("%s/tree", base);
	char *cmd =
	    xasprintf("set -e; mkdir -p %s/d; cd %s; head -c 200000 /dev/urandom >big; "
	              "printf hi >d/small; ln -s ../big d/link; ln big hard; "
	              "printf x >\"$(printf 'n\\377me')\"; chmod 0751 d; "
	              "touch -d @1000000000 d/small; "
	              "tar -cz --no-recursion --owner=0 --group=0 -f %s/t.tgz big d d/small d/link "
	              "hard \"$(printf 'n\\377me')\"",
	              tree, tree, base);
	run(cmd);
	free(cmd);
	char *tgz = xasprintf("%s/t.tgz", base), *bigp = xasprintf("%s/big", tree);
	size_t big_len;
	char *big = NULL;
	struct sbx_error *e = NULL;
	if (read_file(bigp, 1 << 20, &big, &big_len, &e) < 0)
		abort();

	int fd, r;
	struct archive *a = open_with(real_dir, tgz, &fd, &r);
	ok(a != NULL, "the helper is found");
	if (a == NULL)
		return;
	is_int(r, ARCHIVE_OK, "opened");
	struct archive_entry *ent;
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "first header");
	is_str(archive_entry_pathname(ent), "big", "its name");
	is_int(archive_entry_filetype(ent), AE_IFREG, "a regular file");
	ok(archive_entry_size_is_set(ent) && archive_entry_size(ent) == 200000, "with its size");
	ok(archive_entry_symlink(ent) == NULL && archive_entry_hardlink(ent) == NULL,
	   "no link targets");
	size_t size;
	int blocks;
	char *data = slurp(a, &size, &blocks);
	ok(data && size == big_len && memcmp(data, big, size) == 0, "its data, whole");
	ok(blocks >= 4, "in blocks of at most 64 KiB (%d)", blocks);
	free(data);

	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "a directory");
	is_str(archive_entry_pathname(ent), "d/", "its name");
	is_int(archive_entry_filetype(ent), AE_IFDIR, "its type");
	is_int(archive_entry_perm(ent), 0751, "its mode");
	is_int(archive_entry_filetype(ent) | archive_entry_perm(ent), AE_IFDIR | 0751,
	       "type and mode apart");
	/* Its data not read: the next header skips it. */
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "d/small");
	is_str(archive_entry_pathname(ent), "d/small", "its name");
	ok(archive_entry_mtime_is_set(ent) && archive_entry_mtime(ent) == 1000000000 &&
	       archive_entry_mtime_nsec(ent) == 0,
	   "its mtime");
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "d/link, its data skipped");
	is_int(archive_entry_filetype(ent), AE_IFLNK, "a symbolic link");
	is_str(archive_entry_symlink(ent), "../big", "to ../big");
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "hard");
	is_str(archive_entry_hardlink(ent), "big", "a hard link to big");
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "a name that is not UTF-8");
	is_str(archive_entry_pathname(ent), "n\377me", "kept as bytes");
	data = slurp(a, &size, &blocks);
	ok(data && size == 1 && data[0] == 'x', "its data");
	free(data);
	is_int(archive_read_next_header(a, &ent), ARCHIVE_EOF, "the end");
	is_int(archive_read_next_header(a, &ent), ARCHIVE_EOF, "and again");
	struct stat st;
	stat(tgz, &st);
	ok(archive_filter_bytes(a, -1) > 0 && archive_filter_bytes(a, -1) <= st.st_size,
	   "bytes read so far, for progress: %lld of %lld", (long long)archive_filter_bytes(a, -1),
	   (long long)st.st_size);
	archive_read_free(a);
	ok(fcntl(fd, F_GETFD) >= 0, "the caller's fd stays open");
	close(fd);

	/* Freed in the middle, the helper is stopped. */
	a = open_with(real_dir, tgz, &fd, &r);
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "a header");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	archive_read_free(a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(t1.tv_sec - t0.tv_sec < 2, "freed at once, mid-archive");
	close(fd);

	char *txt = xasprintf("%s/text", base);
	spit(txt, "hello world\n", 0644);
	a = open_with(real_dir, txt, &fd, &r);
	is_int(r, ARCHIVE_FATAL, "a text file fails to open");
	is_str(archive_error_string(a), "Unrecognized archive format", "with libarchive's message");
	is_int(archive_read_next_header(a, &ent), ARCHIVE_FATAL, "and stays failed");
	archive_read_free(a);
	close(fd);

	spit(txt, "", 0644);
	a = open_with(real_dir, txt, &fd, &r);
	is_int(r, ARCHIVE_OK, "an empty file opens");
	is_int(archive_read_next_header(a, &ent), ARCHIVE_EOF, "with no entry");
	archive_read_free(a);
	close(fd);

	/* A sparse file comes as blocks at their offsets, holes left out. */
	char *sparse = xasprintf("%s/sparse.tar", base);
	cmd = xasprintf("set -e; cd %s; truncate -s 3000000 s; printf a | dd of=s bs=1 seek=100 "
	                "conv=notrunc status=none; printf b | dd of=s bs=1 seek=2000000 "
	                "conv=notrunc status=none; tar -cSf %s s",
	                base, sparse);
	run(cmd);
	free(cmd);
	a = open_with(real_dir, sparse, &fd, &r);
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "a sparse file");
	is_int(archive_entry_size(ent), 3000000, "its size");
	data = slurp(a, &size, &blocks);
	ok(data && size <= 3000000 && data[100] == 'a' && data[2000000] == 'b',
	   "its data at its offsets");
	ok(blocks < 10, "without the holes (%d blocks)", blocks);
	free(data);
	archive_read_free(a);
	close(fd);
	free(sparse);

	/* A malformed pax attribute is only a warning: the entry still comes. */
	char *warn = xasprintf("%s/warn.tar", base);
	cmd = xasprintf(
	    "python3 -c 'import io, sys, tarfile\n"
	    "b = io.BytesIO()\n"
	    "with tarfile.open(fileobj=b, mode=\"w\", format=tarfile.PAX_FORMAT) as t:\n"
	    "    i = tarfile.TarInfo(\"f\"); i.size = 5; i.pax_headers = {\"comment\": \"x\"}\n"
	    "    t.addfile(i, io.BytesIO(b\"hello\"))\n"
	    "sys.stdout.buffer.write(b.getvalue().replace(b\" comment=\", b\"_comment=\"))\n"
	    "' >%s",
	    warn);
	run(cmd);
	free(cmd);
	a = open_with(real_dir, warn, &fd, &r);
	is_int(archive_read_next_header(a, &ent), ARCHIVE_WARN, "a header with a warning");
	is_str(archive_error_string(a), "Ignoring malformed pax extended attributes",
	       "libarchive's message");
	is_str(archive_entry_pathname(ent), "f", "the entry");
	data = slurp(a, &size, &blocks);
	ok(data && size == 5 && memcmp(data, "hello", 5) == 0, "its data");
	free(data);
	is_int(archive_read_next_header(a, &ent), ARCHIVE_EOF, "the end");
	archive_read_free(a);
	close(fd);
	free(warn);

	/* Truncated in the middle of the big file's data. */
	char *trunc = xasprintf("%s/trunc.tar", base);
	cmd = xasprintf("set -e; head -c 200000 /dev/urandom >%s/f; tar -cf - -C %s f | "
	                "head -c 150000 >%s",
	                base, base, trunc);
	run(cmd);
	free(cmd);
	a = open_with(real_dir, trunc, &fd, &r);
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "a truncated archive's header");
	data = slurp(a, &size, &blocks);
	ok(data == NULL, "its data fails");
	ok(archive_error_string(a) && strstr(archive_error_string(a), "Truncated"),
	   "with libarchive's message: %s", archive_error_string(a));
	archive_read_free(a);
	close(fd);

	free(trunc);
	free(txt);
	free(big);
	free(bigp);
	free(tgz);
	free(tree);
}

static void test_broken_helpers(void)
{
	char *tgz = xasprintf("%s/t.tgz", base);
	char *real = xasprintf("%s/sbx-unpack", real_dir);
	struct archive_entry *ent;
	int fd, r;

	/* Helpers that fail at once: name, script, message (%s = their dir). */
	static const struct {
		const char *name, *script, *want, *what;
	} broken[] = {
	    {"exits", "exit 3", "the archive helper \"%s/sbx-unpack\" failed with exit status 3",
	     "a helper that exits at once"},
	    {"garbage", "echo 'this is no record, just text to fill it'; exec sleep 100",
	     "the archive helper \"%s/sbx-unpack\" sent a malformed record",
	     "a helper that sends garbage, then hangs"},
	    {"version",
	     "printf '\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0"
	     "\\377\\377\\377\\377\\10\\0\\0\\0usbx\\77\\0\\0\\0'",
	     "\"%s/sbx-unpack\" is not the archive helper of this version of sbx",
	     "a helper of another version"},
	};
	char *dir, *want;
	struct archive *a;
	for (size_t i = 0; i < ARRAY_SIZE(broken); i++) {
		dir = fake(broken[i].name, broken[i].script);
		a = open_with(dir, tgz, &fd, &r);
		is_int(r, ARCHIVE_FATAL, "%s", broken[i].what);
		want = xasprintf(broken[i].want, dir);
		is_str(archive_error_string(a), want, "says so");
		is_int(archive_read_next_header(a, &ent), ARCHIVE_FATAL, "and stays failed");
		free(want);
		archive_read_free(a);
		close(fd);
		free(dir);
	}

	char *script = xasprintf("%s | head -c 70000", real);
	dir = fake("truncated", script);
	free(script);
	a = open_with(dir, tgz, &fd, &r);
	is_int(r, ARCHIVE_OK, "a helper that stops mid-stream opens");
	is_int(archive_read_next_header(a, &ent), ARCHIVE_OK, "gives a header");
	const void *p;
	size_t len;
	la_int64_t off;
	while ((r = archive_read_data_block(a, &p, &len, &off)) == ARCHIVE_OK)
		;
	is_int(r, ARCHIVE_FATAL, "then fails");
	want = xasprintf("the archive helper \"%s/sbx-unpack\" stopped early", dir);
	is_str(archive_error_string(a), want, "says so");
	free(want);
	is_int(archive_read_next_header(a, &ent), ARCHIVE_FATAL, "and stays failed");
	archive_read_free(a);
	close(fd);
	free(dir);

	dir = fake("killed", "kill -9 $$");
	a = open_with(dir, tgz, &fd, &r);
	is_int(r, ARCHIVE_FATAL, "a helper killed by a signal");
	want =
	    xasprintf("the archive helper \"%s/sbx-unpack\" was killed by signal 9 (Killed)", dir);
	is_str(archive_error_string(a), want, "says so");
	free(want);
	archive_read_free(a);
	close(fd);
	free(dir);

	/* Only 0, 1 and 2 reach the helper, with SIGPIPE at its default. */
	char *fds = xasprintf("%s/fds.txt", base);
	script = xasprintf("ls /proc/self/fd >%s; grep SigIgn /proc/self/status >>%s", fds, fds);
	dir = fake("fds", script);
	free(script);
	int leak = dup2(STDERR_FILENO, 57);
	signal(SIGPIPE, SIG_IGN);
	a = open_with(dir, tgz, &fd, &r);
	signal(SIGPIPE, SIG_DFL);
	archive_read_free(a);
	close(fd);
	close(leak);
	char *got = NULL;
	size_t got_len;
	struct sbx_error *e = NULL;
	if (read_file(fds, 4096, &got, &got_len, &e) < 0)
		abort();
	ok(strstr(got, "57") == NULL, "no other fd is inherited");
	ok(strncmp(got, "0\n1\n2\n", 6) == 0, "the three standard ones are");
	/* SIGPIPE is signal 13, bit 12 of the mask. */
	char *mask = strstr(got, "SigIgn:");
	ok(mask && (strtoull(mask + 7, NULL, 16) & (1ULL << 12)) == 0, "SIGPIPE is not ignored");
	free(got);
	free(fds);
	free(dir);

	free(real);
	free(tgz);
}

int main(void)
{
	char tmpl[] = "/tmp/sbx-test-archive-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return 1;
	base = xstrdup(tmpl);
	const char *d = getenv("SBX_LIBEXECDIR");
	real_dir = xstrdup(d ? d : "build");

	test_load();
	test_real();
	test_broken_helpers();

	int at = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sbx_error *e = NULL;
	rm_rf_at(at, base + 1, &e);
	sbx_error_free(e);
	close(at);
	free(real_dir);
	free(base);
	return done_testing();
}
