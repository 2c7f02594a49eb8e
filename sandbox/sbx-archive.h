/* sbx-archive.h - libarchive, loaded on first use.
 *
 * libarchive drags in about a dozen libraries (xml2, icu, every compressor);
 * loading them costs every `sbx run` milliseconds, yet only image imports need
 * them. Include this instead of <archive.h>: the names below resolve through
 * a table that archive_load() fills with dlopen/dlsym. */
#ifndef SBX_ARCHIVE_H
#define SBX_ARCHIVE_H

#include "util.h"

#include <archive.h>
#include <archive_entry.h>

struct sbx_archive_api {
	__typeof__(archive_entry_perm) *entry_perm;
	__typeof__(archive_error_string) *error_string;
	__typeof__(archive_filter_bytes) *filter_bytes;
	__typeof__(archive_read_support_format_tar) *read_support_format_tar;
	__typeof__(archive_read_support_format_empty) *read_support_format_empty;
	__typeof__(archive_read_support_filter_zstd) *read_support_filter_zstd;
	__typeof__(archive_read_support_filter_xz) *read_support_filter_xz;
	__typeof__(archive_read_support_filter_lzma) *read_support_filter_lzma;
	__typeof__(archive_read_support_filter_lz4) *read_support_filter_lz4;
	__typeof__(archive_read_support_filter_gzip) *read_support_filter_gzip;
	__typeof__(archive_read_support_filter_compress) *read_support_filter_compress;
	__typeof__(archive_read_support_filter_bzip2) *read_support_filter_bzip2;
	__typeof__(archive_read_open_fd) *read_open_fd;
	__typeof__(archive_read_next_header) *read_next_header;
	__typeof__(archive_read_new) *read_new;
	__typeof__(archive_read_free) *read_free;
	__typeof__(archive_read_data_block) *read_data_block;
	__typeof__(archive_entry_symlink) *entry_symlink;
	__typeof__(archive_entry_size_is_set) *entry_size_is_set;
	__typeof__(archive_entry_size) *entry_size;
	__typeof__(archive_entry_pathname) *entry_pathname;
	__typeof__(archive_entry_mtime_nsec) *entry_mtime_nsec;
	__typeof__(archive_entry_mtime_is_set) *entry_mtime_is_set;
	__typeof__(archive_entry_mtime) *entry_mtime;
	__typeof__(archive_entry_hardlink) *entry_hardlink;
	__typeof__(archive_entry_filetype) *entry_filetype;
	__typeof__(archive_entry_atime_nsec) *entry_atime_nsec;
	__typeof__(archive_entry_atime_is_set) *entry_atime_is_set;
	__typeof__(archive_entry_atime) *entry_atime;
};

extern struct sbx_archive_api sbx_archive;

/* Loads libarchive once; fails with a hint when it is not installed. */
int archive_load(struct sbx_error **err);

#ifndef SBX_ARCHIVE_NO_MACROS
#define archive_entry_perm(...)                (sbx_archive.entry_perm(__VA_ARGS__))
#define archive_error_string(...)              (sbx_archive.error_string(__VA_ARGS__))
#define archive_filter_bytes(...)              (sbx_archive.filter_bytes(__VA_ARGS__))
#define archive_read_support_format_tar(...)   (sbx_archive.read_support_format_tar(__VA_ARGS__))
#define archive_read_support_format_empty(...) (sbx_archive.read_support_format_empty(__VA_ARGS__))
#define archive_read_support_filter_zstd(...)  (sbx_archive.read_support_filter_zstd(__VA_ARGS__))
#define archive_read_support_filter_xz(...)    (sbx_archive.read_support_filter_xz(__VA_ARGS__))
#define archive_read_support_filter_lzma(...)  (sbx_archive.read_support_filter_lzma(__VA_ARGS__))
#define archive_read_support_filter_lz4(...)   (sbx_archive.read_support_filter_lz4(__VA_ARGS__))
#define archive_read_support_filter_gzip(...)  (sbx_archive.read_support_filter_gzip(__VA_ARGS__))
#define archive_read_support_filter_compress(...)                                                  \
	(sbx_archive.read_support_filter_compress(__VA_ARGS__))
#define archive_read_support_filter_bzip2(...) (sbx_archive.read_support_filter_bzip2(__VA_ARGS__))
#define archive_read_open_fd(...)              (sbx_archive.read_open_fd(__VA_ARGS__))
#define archive_read_next_header(...)          (sbx_archive.read_next_header(__VA_ARGS__))
#define archive_read_new(...)                  (sbx_archive.read_new(__VA_ARGS__))
#define archive_read_free(...)                 (sbx_archive.read_free(__VA_ARGS__))
#define archive_read_data_block(...)           (sbx_archive.read_data_block(__VA_ARGS__))
#define archive_entry_symlink(...)             (sbx_archive.entry_symlink(__VA_ARGS__))
#define archive_entry_size_is_set(...)         (sbx_archive.entry_size_is_set(__VA_ARGS__))
#define archive_entry_size(...)                (sbx_archive.entry_size(__VA_ARGS__))
#define archive_entry_pathname(...)            (sbx_archive.entry_pathname(__VA_ARGS__))
#define archive_entry_mtime_nsec(...)          (sbx_archive.entry_mtime_nsec(__VA_ARGS__))
#define archive_entry_mtime_is_set(...)        (sbx_archive.entry_mtime_is_set(__VA_ARGS__))
#define archive_entry_mtime(...)               (sbx_archive.entry_mtime(__VA_ARGS__))
#define archive_entry_hardlink(...)            (sbx_archive.entry_hardlink(__VA_ARGS__))
#define archive_entry_filetype(...)            (sbx_archive.entry_filetype(__VA_ARGS__))
#define archive_entry_atime_nsec(...)          (sbx_archive.entry_atime_nsec(__VA_ARGS__))
#define archive_entry_atime_is_set(...)        (sbx_archive.entry_atime_is_set(__VA_ARGS__))
#define archive_entry_atime(...)               (sbx_archive.entry_atime(__VA_ARGS__))
#endif

#endif
