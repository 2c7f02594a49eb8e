/* copy.h - an image root copied from a directory tree (store-internal). */
#ifndef SBX_COPY_H
#define SBX_COPY_H

#include "store/import.h"

/* Copies the tree at srcfd into im->rootfd: directories, regular files
 * (hard links kept), symbolic links as they are and fifos; device nodes,
 * sockets and the contents of mount points are skipped with a warning. */
int copy_dir(struct importer *im, int srcfd);

#endif
