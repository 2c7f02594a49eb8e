/* sbx-archive.h - the part of libarchive's reading API that extract.c uses,
 * served by the sbx-unpack helper.
 *
 * sbx is a static executable, so it cannot load libarchive, and linking
 * libarchive's dozen libraries in would cost every `sbx run` for what only
 * imports need. Imports run the helper instead (sandbox/libexec/sbx-unpack.c): it
 * reads the archive with libarchive and streams the entries back. Include
 * this instead of <archive.h>: the macros below send libarchive's names to
 * archive.c, and only libarchive's types and constants are used. */
#ifndef SBX_ARCHIVE_H
#define SBX_ARCHIVE_H

#include "lib/util.h"

#include <archive.h>
#include <archive_entry.h>

/* Finds the helper with libexec_find(): $SBX_LIBEXECDIR, else next to the sbx
 * executable (a build tree), else its ../libexec/sbx, else SBX_LIBEXECDIR.
 * Fails with a hint when it is missing. */
int archive_load(struct sbx_error **err);

struct archive *sbx_archive_read_new(void);
/* Starts the helper with fd, which stays the caller's, as its input. */
int sbx_archive_read_open_fd(struct archive *a, int fd, size_t block_size);
int sbx_archive_read_next_header(struct archive *a, struct archive_entry **e);
int sbx_archive_read_data_block(struct archive *a, const void **buf, size_t *len,
                                la_int64_t *offset);
/* Stops the helper. */
int sbx_archive_read_free(struct archive *a);
const char *sbx_archive_error_string(struct archive *a);
/* The compressed bytes read so far, whatever n is. */
la_int64_t sbx_archive_filter_bytes(struct archive *a, int n);

mode_t sbx_archive_entry_filetype(struct archive_entry *e);
mode_t sbx_archive_entry_perm(struct archive_entry *e);
la_int64_t sbx_archive_entry_size(struct archive_entry *e);
int sbx_archive_entry_size_is_set(struct archive_entry *e);
time_t sbx_archive_entry_mtime(struct archive_entry *e);
long sbx_archive_entry_mtime_nsec(struct archive_entry *e);
int sbx_archive_entry_mtime_is_set(struct archive_entry *e);
time_t sbx_archive_entry_atime(struct archive_entry *e);
long sbx_archive_entry_atime_nsec(struct archive_entry *e);
int sbx_archive_entry_atime_is_set(struct archive_entry *e);
const char *sbx_archive_entry_pathname(struct archive_entry *e);
const char *sbx_archive_entry_symlink(struct archive_entry *e);
const char *sbx_archive_entry_hardlink(struct archive_entry *e);

#define archive_read_new           sbx_archive_read_new
#define archive_read_open_fd       sbx_archive_read_open_fd
#define archive_read_next_header   sbx_archive_read_next_header
#define archive_read_data_block    sbx_archive_read_data_block
#define archive_read_free          sbx_archive_read_free
#define archive_error_string       sbx_archive_error_string
#define archive_filter_bytes       sbx_archive_filter_bytes
#define archive_entry_filetype     sbx_archive_entry_filetype
#define archive_entry_perm         sbx_archive_entry_perm
#define archive_entry_size         sbx_archive_entry_size
#define archive_entry_size_is_set  sbx_archive_entry_size_is_set
#define archive_entry_mtime        sbx_archive_entry_mtime
#define archive_entry_mtime_nsec   sbx_archive_entry_mtime_nsec
#define archive_entry_mtime_is_set sbx_archive_entry_mtime_is_set
#define archive_entry_atime        sbx_archive_entry_atime
#define archive_entry_atime_nsec   sbx_archive_entry_atime_nsec
#define archive_entry_atime_is_set sbx_archive_entry_atime_is_set
#define archive_entry_pathname     sbx_archive_entry_pathname
#define archive_entry_symlink      sbx_archive_entry_symlink
#define archive_entry_hardlink     sbx_archive_entry_hardlink

#endif
