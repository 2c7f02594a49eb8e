/* sbx-unpack.c - sbx-unpack: reads a tar archive on standard input with
 * libarchive and writes its entries to standard output as the records of
 * sbx-unpack.h, for sbx to extract (sandbox/archive.c).
 *
 * sbx is a static executable and cannot load libarchive, whose dozen
 * libraries would slow every `sbx run` anyway; only imports start this
 * helper. It also keeps libarchive's parsing of hostile archives out of sbx's
 * own address space. Not linked into sbx. */
#define _GNU_SOURCE
#include "libexec/sbx-unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char usage[] =
    "Usage: sbx-unpack < ARCHIVE\n"
    "Reads a tar archive (gzip, bzip2, xz, lzma, zstd, lz4 or compress\n"
    "compressed, or not) and writes its entries as binary records for sbx's\n"
    "image import, which runs it. Not meant to be run by hand.\n";

static struct {
	char *p;
	size_t len, cap;
	size_t body; /* where the current record's body starts */
} out;

static void put(const void *p, size_t n)
{
	if (n == 0)
		return;
	if (out.len + n > out.cap) {
		size_t cap = out.cap ? out.cap : 4096;
		while (cap < out.len + n)
			cap *= 2;
		out.p = realloc(out.p, cap);
		if (out.p == NULL)
			abort();
		out.cap = cap;
	}
	memcpy(out.p + out.len, p, n);
	out.len += n;
}

/* Starts a record: msg is libarchive's error string as it stands now. */
static void begin(struct archive *a, enum sbx_unpack_type type, int code, const char *msg)
{
	size_t n = msg ? strnlen(msg, SBX_UNPACK_STRING_MAX) : 0;
	struct sbx_unpack_rec rec = {
	    .type = type,
	    .code = code,
	    .filter_bytes = a ? archive_filter_bytes(a, -1) : 0,
	    .msg_len = msg ? (int32_t)n : -1,
	};
	out.len = 0;
	put(&rec, sizeof(rec));
	put(msg, n);
	out.body = out.len;
}

/* One write per record, so sbx never waits on half of one. */
static void finish(void)
{
	struct sbx_unpack_rec rec;
	memcpy(&rec, out.p, sizeof(rec));
	rec.body_len = (uint32_t)(out.len - out.body);
	memcpy(out.p, &rec, sizeof(rec));
	const char *p = out.p;
	size_t len = out.len;
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		/* sbx is gone: nobody is left to tell. */
		if (n <= 0)
			_exit(1);
		p += n;
		len -= (size_t)n;
	}
}

static void send_status(struct archive *a, enum sbx_unpack_type type, int code)
{
	begin(a, type, code, archive_error_string(a));
	finish();
}

static void send_error(struct archive *a, int code)
{
	send_status(a, SBX_UNPACK_ERROR, code);
	if (code == ARCHIVE_FATAL)
		exit(1);
}

/* No limit in libarchive, but sbx needs one against a broken helper. */
static int32_t string_len(struct archive *a, const char *s)
{
	if (s == NULL)
		return -1;
	size_t n = strlen(s);
	if (n <= SBX_UNPACK_STRING_MAX)
		return (int32_t)n;
	begin(a, SBX_UNPACK_ERROR, ARCHIVE_FATAL, "an entry name is longer than 1 MiB");
	finish();
	exit(1);
}

static void send_header(struct archive *a, struct archive_entry *e, int code)
{
	const char *path = archive_entry_pathname(e);
	const char *symlink = archive_entry_symlink(e);
	const char *hardlink = archive_entry_hardlink(e);
	struct sbx_unpack_header h = {
	    .size = archive_entry_size(e),
	    .mtime = archive_entry_mtime(e),
	    .mtime_nsec = archive_entry_mtime_nsec(e),
	    .atime = archive_entry_atime(e),
	    .atime_nsec = archive_entry_atime_nsec(e),
	    .filetype = archive_entry_filetype(e),
	    .perm = archive_entry_perm(e),
	    .flags = (archive_entry_size_is_set(e) ? SBX_UNPACK_SIZE_SET : 0) |
	             (archive_entry_mtime_is_set(e) ? SBX_UNPACK_MTIME_SET : 0) |
	             (archive_entry_atime_is_set(e) ? SBX_UNPACK_ATIME_SET : 0),
	    .pathname_len = string_len(a, path),
	    .symlink_len = string_len(a, symlink),
	    .hardlink_len = string_len(a, hardlink),
	};
	begin(a, SBX_UNPACK_HEADER, code, archive_error_string(a));
	put(&h, sizeof(h));
	if (path)
		put(path, (size_t)h.pathname_len);
	if (symlink)
		put(symlink, (size_t)h.symlink_len);
	if (hardlink)
		put(hardlink, (size_t)h.hardlink_len);
	finish();
}

/* Every entry's data, even when sbx skips it: the stream stays in order. */
static void send_data(struct archive *a)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF) {
			send_status(a, SBX_UNPACK_ENTRY_END, r);
			return;
		}
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			send_error(a, r);
			return;
		}
		const char *p = buf;
		/* A sparse file may end in an empty block: it is sent too. */
		do {
			size_t n = len < SBX_UNPACK_DATA_MAX ? len : SBX_UNPACK_DATA_MAX;
			struct sbx_unpack_data d = {.offset = off};
			begin(a, SBX_UNPACK_DATA, r, archive_error_string(a));
			put(&d, sizeof(d));
			put(p, n);
			finish();
			p += n;
			len -= n;
			off += (la_int64_t)n;
		} while (len > 0);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("sbx-unpack %s (%s)\n", SBX_VERSION, archive_version_details());
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 1 || isatty(STDOUT_FILENO)) {
		fputs(usage, stderr);
		return 2;
	}
	/* It parses hostile input for sbx and for nobody else: no privileges
	 * to gain, nothing of sbx's but the archive and the pipe, and no life
	 * after sbx. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		perror("sbx-unpack: prctl");
		return 1;
	}
	closefrom(3);

	struct sbx_unpack_hello hello = {.magic = SBX_UNPACK_MAGIC, .version = SBX_UNPACK_VERSION};
	begin(NULL, SBX_UNPACK_HELLO, ARCHIVE_OK, NULL);
	put(&hello, sizeof(hello));
	finish();

	struct archive *a = archive_read_new();
	if (a == NULL)
		abort();
	/* The set extract.c asked libarchive for; format_all would take mtree,
	 * whose "archives" name host files for libarchive to open. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	int r = archive_read_open_fd(a, STDIN_FILENO, 64 << 10);
	if (r != ARCHIVE_OK) {
		send_status(a, SBX_UNPACK_ERROR, r);
		return 1;
	}
	send_status(a, SBX_UNPACK_OPENED, r);
	for (;;) {
		struct archive_entry *e;
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			/* Past ARCHIVE_FAILED or ARCHIVE_RETRY libarchive can
			 * go on, so the helper does too: sbx decides. */
			send_error(a, r);
			continue;
		}
		send_header(a, e, r);
		send_data(a);
	}
	send_status(a, SBX_UNPACK_ARCHIVE_END, ARCHIVE_EOF);
	archive_read_free(a);
	return 0;
}
