/* extract.h - an image root extracted from tar archives (store-internal). */
#ifndef SBX_EXTRACT_H
#define SBX_EXTRACT_H

#include "store/import.h"

/* Extracts the archive read from fd (tar, maybe compressed) into
 * im->rootfd; a layered import calls it once a layer. An empty archive is
 * an error unless im->allow_empty. */
int extract_archive(struct importer *im, int fd);
/* Sets the directory modes and times, deepest first, after the last
 * archive, when ret (what the extraction returned) is 0; frees what the
 * extraction kept. Returns ret, or -1 when the modes could not be set. */
int extract_finish(struct importer *im, int ret);

#endif
