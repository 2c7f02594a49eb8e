/* elf.c - whether an executable is statically linked: its ELF program
 * headers (32 or 64 bits, either byte order) have no PT_INTERP. */
#include "lib/elf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static uint64_t get_uint(const unsigned char *p, size_t size, bool big)
{
	uint64_t v = 0;
	for (size_t i = 0; i < size; i++)
		v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
	return v;
}

int elf_is_static(int fd, const char *path, struct sbx_error **err)
{
	unsigned char h[64];
	memset(h, 0, sizeof(h));
	if (pread_full(fd, h, EI_NIDENT + 4, 0) < 0 || memcmp(h, ELFMAG, SELFMAG) != 0 ||
	    (h[EI_CLASS] != ELFCLASS32 && h[EI_CLASS] != ELFCLASS64) ||
	    (h[EI_DATA] != ELFDATA2LSB && h[EI_DATA] != ELFDATA2MSB))
		return sbx_error_set(err, 0, "\"%s\" is not an ELF executable", path);
	bool is64 = h[EI_CLASS] == ELFCLASS64, big = h[EI_DATA] == ELFDATA2MSB;
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	if (pread_full(fd, h, ehsize, 0) < 0)
		return sbx_error_set(err, 0, "\"%s\" is not an ELF executable", path);
	uint64_t type = get_uint(h + 16, 2, big);
	uint64_t phoff = is64 ? get_uint(h + 32, 8, big) : get_uint(h + 28, 4, big);
	uint64_t phentsize = get_uint(h + (is64 ? 54 : 42), 2, big);
	uint64_t phnum = get_uint(h + (is64 ? 56 : 44), 2, big);
	size_t min_phent = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if ((type != ET_EXEC && type != ET_DYN) || phnum == 0 || phnum >= PN_XNUM ||
	    phentsize < min_phent || phentsize > 1024 || phoff > (uint64_t)INT64_MAX / 2)
		return sbx_error_set(err, 0, "\"%s\" is not an ELF executable", path);
	for (uint64_t i = 0; i < phnum; i++) {
		unsigned char t[4];
		if (pread_full(fd, t, 4, (off_t)(phoff + i * phentsize)) < 0)
			return sbx_error_set(err, 0, "\"%s\" is a truncated ELF file", path);
		if (get_uint(t, 4, big) == PT_INTERP)
			return 0;
	}
	return 1;
}
