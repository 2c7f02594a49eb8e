/* sbx-unpack.h - the record stream sbx-unpack writes and archive.c reads.
 *
 * Both ends are built from the same tree for the same machine, so fields are
 * in native byte order; the hello record catches a helper from another build.
 * Every record is a struct sbx_unpack_rec, then msg_len bytes of
 * archive_error_string() as libarchive had it after that step, then body_len
 * bytes of body. */
#ifndef SBX_UNPACK_H
#define SBX_UNPACK_H

#include <stdint.h>

#define SBX_UNPACK_MAGIC   0x78627375u /* "usbx" */
#define SBX_UNPACK_VERSION 1u
/* Data is cut into blocks of at most this; names and messages are shorter. */
#define SBX_UNPACK_DATA_MAX   (64u << 10)
#define SBX_UNPACK_STRING_MAX (1u << 20)

enum sbx_unpack_type {
	SBX_UNPACK_HELLO = 1,   /* body: magic and version, before anything else */
	SBX_UNPACK_OPENED,      /* code: archive_read_open_fd's, when ARCHIVE_OK */
	SBX_UNPACK_HEADER,      /* code: ARCHIVE_OK or ARCHIVE_WARN; body: an entry */
	SBX_UNPACK_DATA,        /* code: ARCHIVE_OK or ARCHIVE_WARN; body: offset, bytes */
	SBX_UNPACK_ENTRY_END,   /* the entry's data is done */
	SBX_UNPACK_ARCHIVE_END, /* archive_read_next_header returned ARCHIVE_EOF */
	SBX_UNPACK_ERROR,       /* code: any other return code of any step */
};

struct sbx_unpack_rec {
	uint32_t type;
	int32_t code;
	int64_t filter_bytes; /* archive_filter_bytes(a, -1): read so far, for progress */
	int32_t msg_len;      /* -1: no error string */
	uint32_t body_len;
};

struct sbx_unpack_hello {
	uint32_t magic;
	uint32_t version;
};

#define SBX_UNPACK_SIZE_SET  1u
#define SBX_UNPACK_MTIME_SET 2u
#define SBX_UNPACK_ATIME_SET 4u

/* Then the pathname, symlink and hardlink bytes, without NULs. */
struct sbx_unpack_header {
	int64_t size;
	int64_t mtime;
	int64_t mtime_nsec;
	int64_t atime;
	int64_t atime_nsec;
	uint32_t filetype;
	uint32_t perm;
	uint32_t flags;
	int32_t pathname_len; /* -1: NULL */
	int32_t symlink_len;
	int32_t hardlink_len;
};

/* Then the bytes. */
struct sbx_unpack_data {
	int64_t offset;
};

#endif
