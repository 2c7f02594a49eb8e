/* risk.h - settings that open the wall between the sandbox and the user's
 * account: volumes of sbx's own state (refused), of the home directory, keys
 * or settings (warned about), and profile keys that turn protections off. */
#ifndef SBX_RISK_H
#define SBX_RISK_H

#include "profile/profile.h"
#include "lib/util.h"

/* Refuses a volume whose source is, contains or lies inside one of sbx's own
 * directories (data, configuration, cache, runtime): the sandbox could
 * rewrite what later sandboxes run with. Sources and directories are
 * compared by device and inode, the source's ancestors included, so
 * symlinks and bind mounts do not hide them. Otherwise returns 0 and, in
 * *warnings (a strv, NULL when none), one line per volume that gives the
 * sandbox the host's root, the home directory, SSH or GnuPG keys, the
 * settings directory or the session's runtime directory. Sources that do
 * not exist are left to the mount, which reports them. */
int risk_check_volumes(const struct sbx_profile *p, char ***warnings, struct sbx_error **err);

/* What a resolved profile turns off, one sentence each ("seccomp =
 * unconfined: ..."), volumes included; NULL when nothing. */
char **risk_profile_findings(const struct sbx_profile *p);

#endif
