/* libexec.h - where sbx's helper programs (sbx-init, sbx-unpack) and its
 * shipped data are: found from the running binary, so that an install
 * works from any PREFIX, and moved whole, without a rebuild. */
#ifndef SBX_LIBEXEC_H
#define SBX_LIBEXEC_H

#include "lib/util.h"

/* The running binary's path, read from /proc/self/exe once per process, or
 * NULL (errno set) when /proc is not mounted. */
const char *libexec_self(void);

/* REL taken from the running binary's directory, each leading "../" going
 * one directory up ("../share/sbx" of /opt/sbx/bin/sbx is
 * /opt/sbx/share/sbx), as a canonical path, when it exists and no one but
 * root, the caller and the binary's owner can replace it or a directory
 * above it: these lookups decide what runs as pid 1 of every sandbox.
 * NULL otherwise; then *WHY (when WHY is not NULL) says why a path that
 * exists is not used, or is NULL. */
char *libexec_self_relative(const char *rel, char **why);

/* The directory 'make install' put this binary's helpers in: ../libexec/sbx
 * from it, else the one sbx was built for (SBX_LIBEXECDIR). */
char *libexec_dir(void);

/* The path of helper NAME: in $SBX_LIBEXECDIR if set, else beside the sbx
 * binary (a build tree), else in ../libexec/sbx from it, else in the
 * libexec directory sbx was built for. Fails when it is not executable,
 * with an error that names it WHAT and says how to fix it. */
int libexec_find(const char *name, const char *what, char **path, struct sbx_error **err);

#endif
