/* archive.c - load libarchive lazily (see sbx-archive.h). */
#define _GNU_SOURCE
#define SBX_ARCHIVE_NO_MACROS
#include "sbx-archive.h"

#include <dlfcn.h>
#include <errno.h>

struct sbx_archive_api sbx_archive;

int archive_load(struct sbx_error **err)
{
	static bool loaded;
	if (loaded)
		return 0;
	void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return sbx_error_setc(err, ENOENT,
		                      "cannot load libarchive (%s); install Debian's libarchive13",
		                      dlerror());
	*(void **)&sbx_archive.entry_perm = dlsym(h, "archive_entry_perm");
	*(void **)&sbx_archive.error_string = dlsym(h, "archive_error_string");
	*(void **)&sbx_archive.filter_bytes = dlsym(h, "archive_filter_bytes");
	*(void **)&sbx_archive.read_support_format_tar =
	    dlsym(h, "archive_read_support_format_tar");
	*(void **)&sbx_archive.read_support_format_empty =
	    dlsym(h, "archive_read_support_format_empty");
	*(void **)&sbx_archive.read_support_filter_zstd =
	    dlsym(h, "archive_read_support_filter_zstd");
	*(void **)&sbx_archive.read_support_filter_xz = dlsym(h, "archive_read_support_filter_xz");
	*(void **)&sbx_archive.read_support_filter_lzma =
	    dlsym(h, "archive_read_support_filter_lzma");
	*(void **)&sbx_archive.read_support_filter_lz4 =
	    dlsym(h, "archive_read_support_filter_lz4");
	*(void **)&sbx_archive.read_support_filter_gzip =
	    dlsym(h, "archive_read_support_filter_gzip");
	*(void **)&sbx_archive.read_support_filter_compress =
	    dlsym(h, "archive_read_support_filter_compress");
	*(void **)&sbx_archive.read_support_filter_bzip2 =
	    dlsym(h, "archive_read_support_filter_bzip2");
	*(void **)&sbx_archive.read_open_fd = dlsym(h, "archive_read_open_fd");
	*(void **)&sbx_archive.read_next_header = dlsym(h, "archive_read_next_header");
	*(void **)&sbx_archive.read_new = dlsym(h, "archive_read_new");
	*(void **)&sbx_archive.read_free = dlsym(h, "archive_read_free");
	*(void **)&sbx_archive.read_data_block = dlsym(h, "archive_read_data_block");
	*(void **)&sbx_archive.entry_symlink = dlsym(h, "archive_entry_symlink");
	*(void **)&sbx_archive.entry_size_is_set = dlsym(h, "archive_entry_size_is_set");
	*(void **)&sbx_archive.entry_size = dlsym(h, "archive_entry_size");
	*(void **)&sbx_archive.entry_pathname = dlsym(h, "archive_entry_pathname");
	*(void **)&sbx_archive.entry_mtime_nsec = dlsym(h, "archive_entry_mtime_nsec");
	*(void **)&sbx_archive.entry_mtime_is_set = dlsym(h, "archive_entry_mtime_is_set");
	*(void **)&sbx_archive.entry_mtime = dlsym(h, "archive_entry_mtime");
	*(void **)&sbx_archive.entry_hardlink = dlsym(h, "archive_entry_hardlink");
	*(void **)&sbx_archive.entry_filetype = dlsym(h, "archive_entry_filetype");
	*(void **)&sbx_archive.entry_atime_nsec = dlsym(h, "archive_entry_atime_nsec");
	*(void **)&sbx_archive.entry_atime_is_set = dlsym(h, "archive_entry_atime_is_set");
	*(void **)&sbx_archive.entry_atime = dlsym(h, "archive_entry_atime");
	void *const *p = (void *const *)&sbx_archive;
	for (size_t i = 0; i < sizeof(sbx_archive) / sizeof(void *); i++)
		if (p[i] == NULL)
			return sbx_error_setc(err, ENOENT,
			                      "libarchive lacks a function sbx needs; upgrade it");
	loaded = true;
	return 0;
}
