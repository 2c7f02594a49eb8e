/* elf.h - the ELF check of an executable the busybox bootstrap copies. */
#ifndef SBX_ELF_H
#define SBX_ELF_H

#include "lib/util.h"

/* 1 when the ELF file at fd has no PT_INTERP (static), 0 when it has one,
 * -1 with *err set when it is no ELF executable; path is for messages. */
int elf_is_static(int fd, const char *path, struct sbx_error **err);

#endif
