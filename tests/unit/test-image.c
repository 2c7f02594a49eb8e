/* test-image.c - the image store: names, ELF check, metadata, import from a
 * directory and from archives (made here with libarchive's writer),
 * hostile archives, busybox bootstrap, list, remove and resolve, and an
 * image replaced under instances that use it. */
#define _GNU_SOURCE
#include "store/image.h"
#include "store/instance.h"
#include "store/staging.h"
#include "lib/elf.h"
#include "tap.h"
#include "lib/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

static char *base; /* the test's temp directory */
static char *store;

/* ---- helpers ---- */

struct msgs {
	char **warn;
	char **info;
	int progress_calls;
};

static void on_warn(void *ctx, const char *m)
{
	strv_push(&((struct msgs *)ctx)->warn, m);
}

static void on_info(void *ctx, const char *m)
{
	strv_push(&((struct msgs *)ctx)->info, m);
}

static void on_progress(void *ctx, uint64_t bytes, uint64_t total)
{
	((struct msgs *)ctx)->progress_calls++;
}

static void msgs_reset(struct msgs *m)
{
	strv_free(m->warn);
	strv_free(m->info);
	*m = (struct msgs){0};
}

static struct msgs msgs;
static const struct sbx_image_progress progress = {on_info, on_warn, on_progress, &msgs, 0, false};

/* Names in the store, space separated, dot names included. */
static char *store_names(void)
{
	DIR *d = opendir(store);
	if (d == NULL)
		return xstrdup("");
	char **names = NULL;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strv_push(&names, de->d_name);
	closedir(d);
	size_t n = strv_length(names);
	for (size_t i = 0; i + 1 < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	char *out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *o = xasprintf("%s%s%s", out, i ? " " : "", names[i]);
		free(out);
		out = o;
	}
	strv_free(names);
	return out;
}

static char *path_in(const char *img, const char *rel)
{
	return xasprintf("%s/%s/rootfs/%s", store, img, rel);
}

static char *slurp(const char *path)
{
	char *s = NULL;
	struct sbx_error *e = NULL;
	if (read_file(path, 1 << 20, &s, NULL, &e) < 0) {
		sbx_error_free(e);
		return NULL;
	}
	return s;
}

static void spit(const char *path, const char *data)
{
	FILE *f = fopen(path, "we");
	if (f == NULL)
		abort();
	fputs(data, f);
	fclose(f);
}

static char *readlink_str(const char *path)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return (mode_t)-1;
	return st.st_mode;
}

/* Archive entries for the libarchive writer. */
struct tent {
	const char *path;
	char type;        /* f file, d dir, l symlink, h hard link, c char device, p fifo */
	const char *data; /* content or link target */
	mode_t mode;
	time_t mtime;
};

static void write_archive(const char *path, const struct tent *ents, size_t n, bool gzip)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct tent *t = &ents[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, t->path);
		archive_entry_set_mtime(e, t->mtime ? t->mtime : 1000000000, 0);
		archive_entry_set_perm(e, t->mode ? t->mode : (t->type == 'd' ? 0755 : 0644));
		size_t size = 0;
		switch (t->type) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			size = strlen(t->data);
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, t->data);
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, t->data);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdev(e, makedev(1, 3));
			break;
		case 'p':
			archive_entry_set_filetype(e, AE_IFIFO);
			break;
		}
		archive_entry_set_size(e, (la_int64_t)size);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			abort();
		if (size)
			archive_write_data(a, t->data, size);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

/* Imports and returns the error message (NULL on success). */
static char *import_msg(const char *name, const char *src, int *code)
{
	struct sbx_error *e = NULL;
	msgs_reset(&msgs);
	if (image_import(name, src, &progress, &e) == 0)
		return NULL;
	char *m = xstrdup(e->msg);
	if (code)
		*code = e->code;
	sbx_error_free(e);
	return m;
}

static char *archive_import_msg(const char *name, const struct tent *ents, size_t n)
{
	char *path = xasprintf("%s/%s.tar", base, name);
	write_archive(path, ents, n, false);
	char *m = import_msg(name, path, NULL);
	free(path);
	return m;
}

/* ---- tests ---- */

static void test_names(void)
{
	static const struct {
		const char *name, *msg;
	} cases[] = {
	    {"..x", "invalid image name \"..x\": a name must not start with '-' or '.'"},
	    {"-x", "invalid image name \"-x\": a name must not start with '-' or '.'"},
	    {"", "invalid image name \"\": the name is empty"},
	    {"a/b",
	     "invalid image name \"a/b\": a name may only contain letters, digits and \"_-.+@\""},
	    {"a..b", "invalid image name \"a..b\": a name must not contain \"..\""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int code = 0;
		char *m = import_msg(cases[i].name, "/nonexistent", &code);
		is_str(m, cases[i].msg, "import refuses the name \"%s\"", cases[i].name);
		is_int(code, EINVAL, "with code EINVAL");
		free(m);
	}
	struct sbx_image *img = NULL;
	struct sbx_error *e = NULL;
	ok(image_open("../x", &img, &e) < 0 && e && strstr(e->msg, "invalid image name"),
	   "image_open validates the name too");
	sbx_error_free(e);
	e = NULL;
	ok(image_remove("x/../../y", &e) < 0 && e && strstr(e->msg, "invalid image name"),
	   "image_remove validates the name too");
	sbx_error_free(e);
}

/* A minimal ELF header plus program headers in a memfd. */
static int fake_elf(bool is64, bool big, const uint32_t *types, size_t n, bool truncate)
{
	unsigned char buf[512];
	memset(buf, 0, sizeof(buf));
	memcpy(buf, ELFMAG, SELFMAG);
	buf[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	buf[EI_DATA] = big ? ELFDATA2MSB : ELFDATA2LSB;
	buf[EI_VERSION] = EV_CURRENT;
#define PUT(off, val, size)                                                                        \
	for (size_t _i = 0; _i < (size); _i++)                                                     \
		buf[(off) + (big ? (size)-1 - _i : _i)] =                                          \
		    (unsigned char)((uint64_t)(val) >> (8 * _i));
	size_t phoff = is64 ? 64 : 52, phent = is64 ? 56 : 32;
	PUT(16, ET_EXEC, 2);
	if (is64) {
		PUT(32, phoff, 8);
		PUT(54, phent, 2);
		PUT(56, n, 2);
	} else {
		PUT(28, phoff, 4);
		PUT(42, phent, 2);
		PUT(44, n, 2);
	}
	for (size_t i = 0; i < n; i++)
		PUT(phoff + i * phent, types[i], 4);
#undef PUT
	int fd = memfd_create("elf", MFD_CLOEXEC);
	size_t len = truncate ? phoff + 2 : phoff + n * phent;
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		abort();
	return fd;
}

static void test_elf(void)
{
	struct sbx_error *e = NULL;
	int fd = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		is_int(elf_is_static(fd, "/bin/busybox", &e), 1, "busybox-static is static");
		close(fd);
	} else {
		ok(1, "# SKIP no /bin/busybox");
	}
	fd = open("/bin/ls", O_RDONLY | O_CLOEXEC);
	is_int(elf_is_static(fd, "/bin/ls", &e), 0, "/bin/ls is dynamic");
	close(fd);
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	is_int(elf_is_static(fd, "/etc/passwd", &e), -1, "/etc/passwd is no ELF file");
	is_str(e ? e->msg : NULL, "\"/etc/passwd\" is not an ELF executable", "with a message");
	sbx_error_free(e);
	e = NULL;
	close(fd);

	uint32_t load_interp[] = {PT_LOAD, PT_INTERP}, load[] = {PT_LOAD, PT_LOAD, PT_GNU_STACK};
	fd = fake_elf(true, false, load_interp, 2, false);
	is_int(elf_is_static(fd, "x", &e), 0, "64-bit LE with PT_INTERP: dynamic");
	close(fd);
	fd = fake_elf(true, false, load, 3, false);
	is_int(elf_is_static(fd, "x", &e), 1, "64-bit LE without PT_INTERP: static");
	close(fd);
	fd = fake_elf(false, true, load_interp, 2, false);
	is_int(elf_is_static(fd, "x", &e), 0, "32-bit BE with PT_INTERP: dynamic");
	close(fd);
	fd = fake_elf(false, true, load, 3, false);
	is_int(elf_is_static(fd, "x", &e), 1, "32-bit BE without PT_INTERP: static");
	close(fd);
	fd = fake_elf(true, false, load_interp, 2, true);
	is_int(elf_is_static(fd, "x", &e), -1, "truncated program headers: error");
	is_str(e ? e->msg : NULL, "\"x\" is a truncated ELF file", "with a message");
	sbx_error_free(e);
	e = NULL;
	close(fd);
	fd = fake_elf(true, false, load, 0, false);
	is_int(elf_is_static(fd, "x", &e), -1, "no program headers: error");
	sbx_error_free(e);
	close(fd);
}

static void test_metadata(void)
{
	char *dir = xasprintf("%s/meta", base);
	mkdir(dir, 0700);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *cmd[] = {(char *)"/bin/sh", (char *)"-c", (char *)"echo \"hi\"", NULL};
	char *env[] = {(char *)"PATH=/bin", (char *)"LANG=C.UTF-8", NULL};
	struct sbx_image in = {
	    .name = (char *)"meta",
	    .source = (char *)"/src/caf\xc3\xa9",
	    .created = (char *)"2024-01-02T03:04:05Z",
	    .size = 1234567890123ULL,
	    .cmd = cmd,
	    .env = env,
	    .workdir = (char *)"/root",
	    .user = (char *)"1000:1000",
	};
	struct sbx_error *e = NULL;
	is_int(image_metadata_write(dfd, &in, &e), 0, "metadata written");
	char *path = xasprintf("%s/image.json", dir);
	struct sbx_image *out = NULL;
	is_int(image_metadata_read(path, &out, &e), 0, "metadata read back");
	if (out) {
		is_str(out->name, "meta", "name round trip");
		is_str(out->source, in.source, "source round trip");
		is_str(out->created, in.created, "created round trip");
		ok(out->size == in.size, "size round trip");
		ok(strv_length(out->cmd) == 3 && strcmp(out->cmd[2], cmd[2]) == 0,
		   "cmd round trip");
		ok(strv_length(out->env) == 2 && strcmp(out->env[1], env[1]) == 0,
		   "env round trip");
		is_str(out->workdir, "/root", "workdir round trip");
		is_str(out->user, "1000:1000", "user round trip");
	}
	image_free(out);
	out = NULL;

	spit(path, "{\"cmd\": \"/bin/sh\"}");
	ok(image_metadata_read(path, &out, &e) < 0 && e &&
	       str_endswith(e->msg, "\"cmd\" must be an array of strings"),
	   "a string cmd is refused");
	sbx_error_free(e);
	e = NULL;
	spit(path, "{\"size\": -1}");
	ok(image_metadata_read(path, &out, &e) < 0 && e &&
	       str_endswith(e->msg, "\"size\" must be a non-negative integer"),
	   "a negative size is refused");
	sbx_error_free(e);
	e = NULL;
	spit(path, "{\"name\": \"a\", \"name\": \"b\"}");
	ok(image_metadata_read(path, &out, &e) < 0 && e && strstr(e->msg, "invalid JSON"),
	   "duplicate keys are refused");
	sbx_error_free(e);
	e = NULL;
	spit(path, "{\"future\": {\"x\": 1}}");
	ok(image_metadata_read(path, &out, &e) == 0, "unknown keys are ignored");
	image_free(out);
	close(dfd);
	free(path);
	free(dir);
}

static void test_import_dir(void)
{
	char *src = xasprintf("%s/src", base);
	char *p;
	mkdir(src, 0755);
#define IN(rel) (free(p), p = xasprintf("%s/%s", src, rel))
	p = NULL;
	spit(IN("file"), "hello\n");
	chmod(p, 04755);
	struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
	utimensat(AT_FDCWD, p, old, 0);
	char *f = xstrdup(p);
	ok(link(f, IN("hardlink")) == 0, "set-up: hard link");
	free(f);
	ok(symlink("/etc/passwd", IN("abs")) == 0 && symlink("../file", IN("rel-dangling")) == 0,
	   "set-up: symlinks");
	mkfifo(IN("fifo"), 0640);
	mkdir(IN("ro"), 0755);
	spit(IN("ro/inner"), "x");
	chmod(IN("ro"), 0555);
	spit(IN("caf\xc3\xa9"), "utf8");
#undef IN
	free(p);

	char *m = import_msg("dir", src, NULL);
	is_str(m, NULL, "a directory is imported");
	free(m);
	char *got = store_names();
	is_str(got, "dir", "the store holds just the new image");
	free(got);

	char *q = path_in("dir", "file");
	char *content = slurp(q);
	is_str(content, "hello\n", "file content copied");
	free(content);
	is_int(mode_of(q) & 07777, 0755, "setuid bit dropped, the rest kept");
	struct stat st, st2;
	lstat(q, &st);
	is_int(st.st_mtime, 1000000000, "mtime kept");
	free(q);
	q = path_in("dir", "hardlink");
	lstat(q, &st2);
	ok(st.st_ino == st2.st_ino && st2.st_nlink == 2, "hard link kept");
	free(q);
	q = path_in("dir", "abs");
	char *l = readlink_str(q);
	is_str(l, "/etc/passwd", "absolute symlink copied as is");
	free(l);
	free(q);
	q = path_in("dir", "rel-dangling");
	l = readlink_str(q);
	is_str(l, "../file", "relative symlink copied as is");
	free(l);
	free(q);
	q = path_in("dir", "fifo");
	ok(S_ISFIFO(mode_of(q)) && (mode_of(q) & 0777) == 0640, "fifo created");
	free(q);
	q = path_in("dir", "ro");
	is_int(mode_of(q) & 07777, 0555, "read-only directory mode kept");
	free(q);
	q = path_in("dir", "ro/inner");
	ok(S_ISREG(mode_of(q)), "and filled");
	free(q);
	q = path_in("dir", "caf\xc3\xa9");
	ok(S_ISREG(mode_of(q)), "UTF-8 name kept");
	free(q);

	struct sbx_image *img = NULL;
	struct sbx_error *e = NULL;
	is_int(image_open("dir", &img, &e), 0, "imported image opens");
	if (img) {
		is_str(img->source, src, "source recorded");
		ok(img->created && strlen(img->created) == 20 && img->created[10] == 'T' &&
		       img->created[19] == 'Z',
		   "created is RFC 3339 UTC: %s", img->created);
		is_int(img->size, 6 + 1 + 4, "size counts file content once per inode");
		ok(img->cmd == NULL && img->env == NULL, "no run defaults for an import");
		char *want = xasprintf("%s/dir/rootfs", store);
		is_str(img->rootfs, want, "rootfs path");
		free(want);
	}
	image_free(img);

	int code = 0;
	m = import_msg("dir", src, &code);
	is_str(m, "image \"dir\" already exists; remove it first with 'sbx image rm dir'",
	       "importing over an existing image fails");
	is_int(code, EEXIST, "with code EEXIST");
	free(m);
	got = store_names();
	is_str(got, "dir", "and leaves nothing behind");
	free(got);

	/* A tree holding the store itself must not copy itself forever. */
	m = import_msg("self", base, NULL);
	is_str(m, NULL, "a tree holding the image store imports");
	free(m);
	q = xasprintf("%s/self/rootfs/data/sbx/images", store);
	DIR *d = opendir(q);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	is_int(n, 1, "with the store as it was, without the image being built");
	free(q);
	e = NULL;
	image_remove("self", &e);
	sbx_error_free(e);
	free(src);
}

static void test_import_archive(void)
{
	static const struct tent ents[] = {
	    {"./", 'd', NULL, 0755, 0},
	    {"./etc/", 'd', NULL, 0755, 0},
	    {"./etc/passwd", 'f', "first\n", 0644, 0},
	    {"./bin/busybox", 'f', "#!binary", 04755, 0},
	    {"./bin/sh", 'l', "busybox", 0777, 0},
	    {"./bin/hl", 'h', "bin/busybox", 0, 0},
	    {"./ro/", 'd', NULL, 0555, 1234567890},
	    {"./ro/x", 'f', "x", 0400, 0},
	    {"./dev/null", 'c', NULL, 0666, 0},
	    {"./p", 'p', NULL, 0600, 0},
	    {"./etc/passwd", 'f', "second\n", 0640, 0}, /* later entries win */
	    {"deep/er/file", 'f', "implicit parents", 0644, 0},
	    {"./lnk", 'l', "/etc", 0777, 0},
	    {"./lnk", 'd', NULL, 0755, 0}, /* a directory replaces the symlink */
	    {"./lnk/inside", 'f', "safe", 0644, 0},
	};
	char *path = xasprintf("%s/ok.tar.gz", base);
	write_archive(path, ents, ARRAY_SIZE(ents), true);
	char *m = import_msg("tar", path, NULL);
	is_str(m, NULL, "a gzip'd tarball is imported");
	free(m);
	free(path);
	ok(msgs.progress_calls > 0, "progress was reported");
	is_int(strv_length(msgs.warn), 1, "one warning");
	is_str(msgs.warn ? msgs.warn[0] : NULL, "skipping device node \"dev/null\"",
	       "for the device node");

	char *q = path_in("tar", "etc/passwd");
	char *c = slurp(q);
	is_str(c, "second\n", "a later entry replaced an earlier one");
	is_int(mode_of(q) & 07777, 0640, "with its mode");
	free(c);
	free(q);
	q = path_in("tar", "bin/busybox");
	is_int(mode_of(q) & 07777, 0755, "setuid dropped");
	struct stat a, b;
	lstat(q, &a);
	free(q);
	q = path_in("tar", "bin/hl");
	lstat(q, &b);
	ok(a.st_ino == b.st_ino, "hard link within the image");
	free(q);
	q = path_in("tar", "bin/sh");
	char *l = readlink_str(q);
	is_str(l, "busybox", "symlink");
	free(l);
	free(q);
	q = path_in("tar", "ro");
	is_int(mode_of(q) & 07777, 0555, "read-only directory mode applied last");
	lstat(q, &a);
	is_int(a.st_mtime, 1234567890, "directory mtime applied last");
	free(q);
	q = path_in("tar", "dev/null");
	ok(mode_of(q) == (mode_t)-1, "no device node");
	free(q);
	q = path_in("tar", "p");
	ok(S_ISFIFO(mode_of(q)), "fifo");
	free(q);
	q = path_in("tar", "deep/er/file");
	ok(S_ISREG(mode_of(q)), "missing parents created");
	free(q);
	q = path_in("tar", "lnk/inside");
	ok(S_ISREG(mode_of(q)), "a directory entry replaced a symlink before writing into it");
	free(q);
	q = path_in("tar", "");
	is_int(mode_of(q) & 07777, 0755, "root mode from \"./\"");
	free(q);
	struct sbx_image *img = NULL;
	struct sbx_error *e = NULL;
	image_open("tar", &img, &e);
	/* Replaced entries count too: size is what was written. */
	ok(img && img->size == 6 + 7 + 8 + 1 + 16 + 4, "size counts regular file content");
	image_free(img);
}

static void test_copy_rootfs(void)
{
	struct sbx_image *img = NULL;
	struct sbx_error *e = NULL;
	image_open("tar", &img, &e);
	char *bundle = xasprintf("%s/bundle", base);
	mkdir(bundle, 0700);
	char *dst = xasprintf("%s/rootfs", bundle);
	is_int(image_copy_rootfs(img, dst, NULL, &e), 0, "rootfs copied for a bundle");
	char *p = xasprintf("%s/etc/passwd", dst);
	char *c = slurp(p);
	is_str(c, "second\n", "with the files");
	free(c);
	free(p);
	p = xasprintf("%s/ro", dst);
	is_int(mode_of(p) & 07777, 0555, "and the modes");
	free(p);
	is_int(image_copy_rootfs(img, dst, NULL, &e), -1, "copying onto an existing rootfs fails");
	char *want = xasprintf("\"%s\" already exists; remove it first", dst);
	is_str(e ? e->msg : NULL, want, "with a message");
	free(want);
	sbx_error_free(e);
	e = NULL;
	int at = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rm_rf_at(at, dst + 1, NULL);
	free(img->rootfs);
	img->rootfs = xasprintf("%s/nonexistent", base);
	is_int(image_copy_rootfs(img, dst, NULL, &e), -1, "a missing source fails");
	ok(access(dst, F_OK) < 0, "and creates nothing");
	sbx_error_free(e);
	rm_rf_at(at, bundle + 1, NULL);
	close(at);
	image_free(img);
	free(dst);
	free(bundle);
}

static void test_hostile_archives(void)
{
	char *before = store_names();
	char *outside = xasprintf("%s/pwned", base);
	char *abs_entry = xasprintf("%s/pwned", base);
	struct {
		const char *name;
		struct tent ents[3];
		size_t n;
		const char *msg;
	} cases[] = {
	    {"absolute",
	     {{"ok", 'f', "x", 0, 0}, {abs_entry, 'f', "x", 0, 0}},
	     2,
	     NULL /* below */},
	    {"dotdot",
	     {{"ok", 'f', "x", 0, 0}, {"../../pwned", 'f', "x", 0, 0}},
	     2,
	     "entry \"../../pwned\" escapes the image root"},
	    {"inner-dotdot",
	     {{"a/../../pwned", 'f', "x", 0, 0}},
	     1,
	     "entry \"a/../../pwned\" escapes the image root"},
	    {"symlink",
	     {{"link", 'l', base, 0, 0}, {"link/pwned", 'f', "x", 0, 0}},
	     2,
	     "entry \"link/pwned\" goes through the symbolic link \"link\"; refusing to write "
	     "through it"},
	    {"symlink-dir",
	     {{"link", 'l', base, 0, 0}, {"link/sub/", 'd', NULL, 0, 0}},
	     2,
	     "entry \"link/sub\" goes through the symbolic link \"link\"; refusing to write "
	     "through it"},
	    {"hardlink-out",
	     {{"h", 'h', "../../../../etc/passwd", 0, 0}},
	     1,
	     "entry \"h\" is a hard link to \"../../../../etc/passwd\", outside the image root"},
	    {"hardlink-abs",
	     {{"h", 'h', "/etc/passwd", 0, 0}},
	     1,
	     "entry \"h\" is a hard link to \"/etc/passwd\", outside the image root"},
	    {"hardlink-via-symlink",
	     {{"link", 'l', "/etc", 0, 0}, {"h", 'h', "link/passwd", 0, 0}},
	     2,
	     "entry \"h\" goes through the symbolic link \"link\"; refusing to write through "
	     "it"},
	    {"hardlink-missing",
	     {{"h", 'h', "nothere", 0, 0}},
	     1,
	     "entry \"h\" is a hard link to \"nothere\", which is not earlier in the archive"},
	    {"file-parent",
	     {{"f", 'f', "x", 0, 0}, {"f/x", 'f', "x", 0, 0}},
	     2,
	     "entry \"f/x\" is beneath \"f\", which is not a directory"},
	    {"escapes",
	     {{"../\x1b]0;owned\x07", 'f', "x", 0, 0}},
	     1,
	     "entry \"../\\x1b]0;owned\\x07\" escapes the image root"},
	};
	char *abs_msg = xasprintf("entry \"%s\" escapes the image root", abs_entry);
	cases[0].msg = abs_msg;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *m = archive_import_msg(cases[i].name, cases[i].ents, cases[i].n);
		char *want = xasprintf("\"%s/%s.tar\": %s", base, cases[i].name, cases[i].msg);
		is_str(m, want, "hostile archive \"%s\" refused", cases[i].name);
		free(want);
		free(m);
		char *now = store_names();
		is_str(now, before, "nothing left in the store");
		free(now);
		ok(access(outside, F_OK) < 0, "nothing written outside");
	}
	free(abs_msg);
	free(abs_entry);
	free(outside);
	free(before);
}

static void test_devices(void)
{
	struct tent ents[13];
	char *names[12];
	for (int i = 0; i < 12; i++) {
		names[i] = xasprintf("dev/d%02d", i);
		ents[i] = (struct tent){names[i], 'c', NULL, 0600, 0};
	}
	ents[12] = (struct tent){"ok", 'f', "x", 0644, 0};
	char *m = archive_import_msg("devs", ents, 13);
	is_str(m, NULL, "device nodes are skipped, not fatal");
	free(m);
	is_int(strv_length(msgs.warn), 11, "ten warnings and a summary");
	is_str(msgs.warn ? msgs.warn[0] : NULL, "skipping device node \"dev/d00\"", "first");
	is_str(strv_length(msgs.warn) == 11 ? msgs.warn[10] : NULL,
	       "skipped 12 device nodes in all (2 not listed)", "summary");
	for (int i = 0; i < 12; i++)
		free(names[i]);
}

static void test_bad_sources(void)
{
	char *m = import_msg("x", "/nonexistent", NULL);
	is_str(m, "cannot open \"/nonexistent\": No such file or directory", "missing source");
	free(m);
	char *txt = xasprintf("%s/text.txt", base);
	spit(txt, "hello world\n");
	m = import_msg("x", txt, NULL);
	char *want = xasprintf("\"%s\": not a tar archive: Unrecognized archive format", txt);
	is_str(m, want, "a text file is no archive");
	free(m);
	/* libarchive's mtree format would open the host files it names. */
	spit(txt, "#mtree\n./stolen type=file contents=/etc/passwd\n");
	m = import_msg("x", txt, NULL);
	is_str(m, want, "an mtree file is no archive either");
	free(want);
	free(m);
	spit(txt, "");
	m = import_msg("x", txt, NULL);
	want = xasprintf("\"%s\": the archive is empty", txt);
	is_str(m, want, "an empty file is refused");
	free(want);
	free(m);
	free(txt);
	m = import_msg("x", "/dev/null", NULL);
	is_str(m, "\"/dev/null\" is neither a directory nor an archive file", "a device");
	free(m);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_bootstrap(void)
{
	if (access("/bin/busybox", X_OK) < 0) {
		ok(1, "# SKIP no /bin/busybox");
		return;
	}
	struct sbx_error *e = NULL;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(image_bootstrap_busybox("bb", NULL, &progress, &e), 0, "busybox bootstrapped");
	printf("# bootstrap took %.1f ms (ASan build)\n", ms_since(&t0));
	if (e)
		printf("# %s\n", e->msg);
	sbx_error_free(e);
	e = NULL;
	char *q = path_in("bb", "bin/busybox");
	ok(S_ISREG(mode_of(q)) && (mode_of(q) & 07777) == 0755, "bin/busybox 0755");
	free(q);
	static const struct {
		const char *path, *target;
	} links[] = {
	    {"bin/sh", "busybox"},
	    {"usr/bin/env", "../../bin/busybox"},
	    {"sbin/ifconfig", "../bin/busybox"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		q = path_in("bb", links[i].path);
		char *l = readlink_str(q);
		is_str(l, links[i].target, "%s links to %s", links[i].path, links[i].target);
		free(l);
		free(q);
	}
	q = path_in("bb", "tmp");
	is_int(mode_of(q) & 07777, 01777, "tmp is 1777");
	free(q);
	q = path_in("bb", "root");
	is_int(mode_of(q) & 07777, 0700, "root is 0700");
	free(q);
	q = path_in("bb", "etc/passwd");
	char *c = slurp(q);
	ok(c && str_startswith(c, "root:x:0:0:root:/root:/bin/sh\n"), "etc/passwd has root");
	free(c);
	free(q);
	struct sbx_image *img = NULL;
	image_open("bb", &img, &e);
	ok(img && strv_length(img->cmd) == 1 && strcmp(img->cmd[0], "/bin/sh") == 0,
	   "cmd is /bin/sh");
	ok(img && img->source && strstr(img->source, "busybox"), "source names busybox");
	image_free(img);

	is_int(image_bootstrap_busybox("bb", NULL, NULL, &e), -1, "bootstrapping twice fails");
	is_str(e ? e->msg : NULL,
	       "image \"bb\" already exists; remove it first with 'sbx image rm bb'",
	       "with the exists message");
	sbx_error_free(e);
	e = NULL;
	is_int(image_bootstrap_busybox("dyn", "/bin/ls", NULL, &e), -1, "a dynamic binary fails");
	is_str(e ? e->msg : NULL,
	       "\"/bin/ls\" is not statically linked; install Debian's busybox-static",
	       "with a hint");
	sbx_error_free(e);
	e = NULL;
	is_int(image_bootstrap_busybox("none", "/nonexistent/busybox", NULL, &e), -1,
	       "a missing binary fails");
	is_str(e ? e->msg : NULL, "cannot open \"/nonexistent/busybox\": No such file or directory",
	       "with the path");
	sbx_error_free(e);
}

static void test_list_remove_resolve(void)
{
	struct sbx_image **imgs = NULL;
	size_t n = 0;
	struct sbx_error *e = NULL;
	is_int(image_list(&imgs, &n, &e), 0, "list");
	char *names = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		char *s = xasprintf("%s%s%s", names, i ? " " : "", imgs[i]->name);
		free(names);
		names = s;
	}
	is_str(names, "bb devs dir tar", "sorted, staging directories hidden");
	free(names);
	image_list_free(imgs, n);

	is_int(image_remove("dir", &e), 0, "remove");
	char *got = store_names();
	is_str(got, "bb devs tar", "removed, nothing left");
	free(got);
	int r = image_remove("dir", &e);
	ok(r < 0 && e && e->code == ENOENT, "removing again: ENOENT");
	is_str(e ? e->msg : NULL, "image \"dir\" not found", "with a message");
	sbx_error_free(e);
	e = NULL;

	struct sbx_image *img = NULL;
	r = image_open("nope", &img, &e);
	ok(r < 0 && e && e->code == ENOENT, "open missing: ENOENT");
	is_str(e ? e->msg : NULL,
	       "image \"nope\" not found; import one with 'sbx image import nope SOURCE' or see "
	       "'sbx image ls'",
	       "with a hint");
	sbx_error_free(e);
	e = NULL;

	char *rel = xasprintf("%s/tar/rootfs/./etc/..", store);
	is_int(image_resolve(rel, false, NULL, &img, &e), 0, "a path resolves to a directory");
	char *want = xasprintf("%s/tar/rootfs", store);
	is_str(img ? img->rootfs : NULL, want, "rootfs is the real path");
	ok(img && img->dir == NULL && img->cmd == NULL, "no store dir, no defaults");
	free(want);
	free(rel);
	image_free(img);
	img = NULL;
	r = image_resolve("./nonexistent", false, NULL, &img, &e);
	is_str(e ? e->msg : NULL,
	       "cannot use \"./nonexistent\" as a root filesystem: No such file or directory",
	       "a missing directory");
	sbx_error_free(e);
	e = NULL;
	is_int(image_resolve("tar", true, NULL, &img, &e), 0, "a name resolves to a stored image");
	is_str(img ? img->name : NULL, "tar", "by name");
	image_free(img);
	img = NULL;

	/* Auto bootstrap, in a fresh store. */
	char *data2 = xasprintf("%s/data2", base);
	setenv("XDG_DATA_HOME", data2, 1);
	r = image_resolve("busybox", false, &progress, &img, &e);
	ok(r < 0 && e && e->code == ENOENT, "busybox missing without auto_bootstrap");
	sbx_error_free(e);
	e = NULL;
	msgs_reset(&msgs);
	if (access("/bin/busybox", X_OK) == 0) {
		is_int(image_resolve("busybox", true, &progress, &img, &e), 0,
		       "busybox bootstrapped on demand");
		ok(img && img->cmd && strcmp(img->cmd[0], "/bin/sh") == 0, "and opened");
		ok(msgs.info && strstr(msgs.info[0], "image \"busybox\" not found; creating it"),
		   "info says so: %s", msgs.info ? msgs.info[0] : "(none)");
		image_free(img);
		img = NULL;
	}
	r = image_resolve("alpine", true, &progress, &img, &e);
	ok(r < 0 && e && e->code == ENOENT, "only busybox is bootstrapped");
	sbx_error_free(e);
	char *data = xasprintf("%s/data", base);
	setenv("XDG_DATA_HOME", data, 1);
	free(data);
	free(data2);
}

/* The one escaper of names and output for the terminal (util.c). */
static void test_escape(void)
{
	static const struct {
		const char *in;
		enum str_escape_mode mode;
		const char *want;
	} cases[] = {
	    {"plain caf\xc3\xa9", ESCAPE_QUOTED, "plain caf\xc3\xa9"},
	    {"a\"b\\c", ESCAPE_QUOTED, "a\\\"b\\\\c"},
	    {"a\"b\\c", ESCAPE_BARE, "a\"b\\x5cc"},
	    {"a\"b\\c", ESCAPE_TEXT, "a\"b\\c"},
	    {"\x1b]0;t\x07\x7f", ESCAPE_BARE, "\\x1b]0;t\\x07\\x7f"},
	    /* C1 as UTF-8 (U+009B, CSI), and bytes that are no UTF-8. */
	    {"\xc2\x9b\xc2\xa0", ESCAPE_BARE, "\\xc2\\x9b\xc2\xa0"},
	    {"\xe9t\xc3\xa9\xff", ESCAPE_QUOTED, "\\xe9t\xc3\xa9\\xff"},
	    {"\xc0\xaf\xed\xa0\x80", ESCAPE_BARE, "\\xc0\\xaf\\xed\\xa0\\x80"},
	    {"l1\n\tl2\r\nl3\rx\b", ESCAPE_TEXT, "l1\n\tl2\r\nl3\\x0dx\\x08"},
	    {"l1\n\t", ESCAPE_BARE, "l1\\x0a\\x09"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = str_escape_mem(cases[i].in, strlen(cases[i].in), cases[i].mode, NULL);
		is_str(got, cases[i].want, "escape case %zu", i);
		free(got);
	}
	/* A stream: a character or "\r\n" cut by a read waits for its end. */
	size_t used = 0;
	char *got = str_escape_mem("ab\xe2\x82", 4, ESCAPE_TEXT, &used);
	is_str(got, "ab", "an incomplete character is left for the next chunk");
	is_int((int)used, 2, "two bytes used");
	free(got);
	got = str_escape_mem("\xe2\x82\xac\r", 4, ESCAPE_TEXT, &used);
	is_str(got, "\xe2\x82\xac", "completed by the next chunk; a final \\r waits");
	is_int((int)used, 3, "three bytes used");
	free(got);
	got = str_escape_mem("x\0y", 3, ESCAPE_TEXT, NULL);
	is_str(got, "x\\x00y", "NUL bytes are escaped");
	free(got);
}

/* An image name whose root holds the file "v" with text. */
static int stage(const char *name, const char *text, bool replace, struct sbx_error **err)
{
	struct staging s;
	int r = staging_begin_for(&s, name, replace, err);
	if (r == 0) {
		int fd = openat(s.rootfd, "v", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		r = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
		if (fd >= 0)
			close(fd);
		struct sbx_image meta = {0};
		if (r == 0)
			r = staging_commit(&s, name, &meta, err);
	}
	staging_end(&s);
	return r;
}

/* An instance whose lower layer is image's root (its config.json and
 * instance.json as sbx run writes the fields that name it). */
static struct sbx_instance *instance_on(const char *name, const char *image)
{
	struct sbx_error *err = NULL;
	struct sbx_instance *inst = NULL;
	if (instance_create(name, false, &inst, &err) < 0)
		abort();
	char *rootfs = xasprintf("%s/%s/rootfs", store, image);
	json_t *config = json_pack("{s:{s:s}, s:{s:s}}", "root", "path", inst->rootfs,
	                           "annotations", SBX_ANN_LOWER, rootfs);
	json_t *meta = json_pack("{s:s, s:s}", "image", image, "rootfs", rootfs);
	if (instance_write_config(inst, config, &err) < 0 ||
	    instance_write_meta(inst, meta, &err) < 0)
		abort();
	json_decref(config);
	json_decref(meta);
	free(rootfs);
	return inst;
}

static void test_replace(void)
{
	struct sbx_error *err = NULL;
	ok(stage("rep", "v1", false, &err) == 0, "replace: v1 made");
	ok(stage("rep", "v2", false, &err) < 0 && err && err->code == EEXIST,
	   "without replace, the name is taken (EEXIST)");
	sbx_error_free(steal_ptr(err));
	ok(stage("rep", "v2", true, &err) == 0, "replace: v2 takes the name");
	char *p = path_in("rep", "v"), *got = slurp(p);
	is_str(got, "v2", "the name has v2");
	free(got);
	got = store_names();
	ok(strstr(got, "rep@") == NULL && strstr(got, ".tmp-") == NULL,
	   "unused, v1 is gone, and no staging directory is left: %s", got);
	free(got);

	struct sbx_instance *user = instance_on("user", "rep");
	struct sbx_instance *other = instance_on("other", "rep2");
	ok(stage("rep", "v3", true, &err) == 0, "replace: v3 takes the name under an instance");
	got = slurp(p);
	is_str(got, "v3", "the name has v3");
	free(got);
	got = store_names();
	char *at = strstr(got, " rep@");
	ok(at && strcspn(at + 1, " ") == strlen("rep@20261206T075600Z") &&
	       strstr(at + 1, " rep@") == NULL && strstr(got, ".tmp-") == NULL,
	   "v2 is kept as rep@TIME, once: %s", got);
	char *kept = at ? xstrndup(at + 1, strcspn(at + 1, " ")) : xstrdup("none");
	free(got);
	char *kp = path_in(kept, "v");
	got = slurp(kp);
	is_str(got, "v2", "the kept image is v2");
	free(got);
	free(kp);
	struct sbx_image *img = NULL;
	ok(image_open(kept, &img, &err) == 0, "the kept image opens by its name");
	image_free(img);

	json_t *meta = NULL, *config = NULL;
	char *cpath = xasprintf("%s/config.json", user->dir);
	ok(instance_read_meta(user, &meta, &err) == 0 &&
	       config_load_file(cpath, &config, &err) == 0,
	   "the instance's files read back");
	char *want = xasprintf("%s/%s/rootfs", store, kept);
	is_str(json_string_value(
	           json_object_get(json_object_get(config, "annotations"), SBX_ANN_LOWER)),
	       want, "its lower layer is the kept image");
	is_str(json_string_value(json_object_get(json_object_get(config, "root"), "path")),
	       user->rootfs, "its root is its own");
	is_str(json_string_value(json_object_get(meta, "image")), kept, "instance.json names it");
	is_str(json_string_value(json_object_get(meta, "rootfs")), want, "and its root");
	json_decref(meta);
	json_decref(config);
	free(cpath);
	cpath = xasprintf("%s/config.json", other->dir);
	ok(config_load_file(cpath, &config, &err) == 0, "the other instance's config reads back");
	char *other_root = xasprintf("%s/rep2/rootfs", store);
	is_str(json_string_value(
	           json_object_get(json_object_get(config, "annotations"), SBX_ANN_LOWER)),
	       other_root, "an instance of another image is left alone");
	json_decref(config);
	free(other_root);
	free(cpath);
	free(want);

	ok(instance_remove(user, &err) == 0 && instance_remove(other, &err) == 0 &&
	       image_remove(kept, &err) == 0 && image_remove("rep", &err) == 0,
	   "clean-up");
	instance_free(user);
	instance_free(other);
	free(kept);
	free(p);
}

int main(void)
{
	char tmpl[] = "/tmp/sbx-test-image-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return 1;
	base = xstrdup(tmpl);
	char *data = xasprintf("%s/data", base);
	setenv("XDG_DATA_HOME", data, 1);
	char *run = xasprintf("%s/run", base);
	mkdir(run, 0700);
	setenv("XDG_RUNTIME_DIR", run, 1);
	free(run);
	store = xasprintf("%s/sbx/images", data);
	free(data);

	test_escape();
	test_names();
	test_elf();
	test_metadata();
	test_import_dir();
	test_import_archive();
	test_copy_rootfs();
	test_hostile_archives();
	test_devices();
	test_bad_sources();
	test_bootstrap();
	test_list_remove_resolve();
	test_replace();

	int at = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sbx_error *e = NULL;
	rm_rf_at(at, base + 1, &e);
	sbx_error_free(e);
	close(at);
	msgs_reset(&msgs);
	free(store);
	free(base);
	return done_testing();
}
