/* libexec.h - where sbx's helper programs (sbx-init, sbx-unpack) are. */
#ifndef SBX_LIBEXEC_H
#define SBX_LIBEXEC_H

#include "lib/util.h"

/* The path of helper NAME: in $SBX_LIBEXECDIR if set, else beside the sbx
 * binary (a build tree), else in the libexec directory sbx was built for.
 * Fails when it is not executable, with an error that names it WHAT and
 * says how to fix it. */
int libexec_find(const char *name, const char *what, char **path, struct sbx_error **err);

#endif
