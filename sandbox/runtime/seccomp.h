/* seccomp.h - the default syscall policy and loading OCI linux.seccomp objects. */
#ifndef SBX_SECCOMP_H
#define SBX_SECCOMP_H

#include "lib/util.h"

#include <jansson.h>
#include <stddef.h>

/* The default policy as an OCI linux.seccomp object, modelled on Docker's
 * default allowlist but decided for a payload that is root in its own user
 * namespace (no mount/unshare/setns/bpf/keyctl..., clone without namespace
 * flags, clone3 -> ENOSYS, personality and socket argument filters, TIOCSTI
 * and TIOCLINUX ioctls denied). Only the native architecture, and only
 * syscall names libseccomp knows for it. New reference each call. */
json_t *seccomp_default_json(void);

/* Reads a file holding an OCI linux.seccomp object and checks it with
 * seccomp_validate(). Syntax errors read "PATH:LINE:COL: TEXT", others
 * "PATH: JSON.PATH: TEXT". Numbers above INT64_MAX cannot be represented. */
int seccomp_load_file(const char *path, json_t **out, struct sbx_error **err);
/* Checks an OCI linux.seccomp object strictly: unknown keys, actions,
 * architectures, flags and operators are errors, and so are SCMP_ACT_NOTIFY
 * without a listenerPath (runtime/seccomp-notify.c sends the listener there),
 * WAIT_KILLABLE_RECV without SCMP_ACT_NOTIFY, and two comparisons of one
 * argument in one rule (runc would silently OR them). Syscall names unknown
 * to libseccomp are ignored, as OCI says. The error names the JSON path. */
int seccomp_validate(json_t *obj, struct sbx_error **err);

/* Refuses set-id files, as systemd's RestrictSUIDSGID= does: in a policy
 * already valid (seccomp_default_json's, or one seccomp_load_file checked;
 * it is not checked again on every start), chmod, fchmod, fchmodat, fchmodat2, mknod, mknodat,
 * creat, and open and openat creating a file, fail with EPERM when the mode has S_ISUID or S_ISGID;
 * openat2, whose mode seccomp cannot see, fails with ENOSYS (libc falls back to openat). Rewrites
 * the policy in place; fails when a rule already compares an argument it needs. */
int seccomp_restrict_setid(json_t *policy, struct sbx_error **err);

/* The built-in policy (seccomp_default_json, rewritten by
 * seccomp_restrict_setid when restrict_setid), not built yet: an empty
 * object that stands for it where sbx itself made the config and reads it
 * back. seccomp_compile_cached takes it (its key needs no build: sbx's
 * build ID names it), and seccomp_config_resolve puts the policy itself in
 * its place before the config is written or shown. New reference; the
 * last one made stands for the policy while it is left empty. */
json_t *seccomp_default_deferred(bool restrict_setid);
/* obj, or the built policy when obj is seccomp_default_deferred's: a new
 * reference, NULL with err set when it cannot be built. */
json_t *seccomp_resolve(json_t *obj, struct sbx_error **err);
/* Replaces a deferred linux.seccomp of the OCI config with the policy it
 * stands for; a config without one is left as it is. */
int seccomp_config_resolve(json_t *config, struct sbx_error **err);
/* The OCI config as json_text writes it, with a deferred linux.seccomp
 * written as the policy it stands for, whose text comes from (and goes to)
 * cache_dir (NULL: no cache). NULL with err set on failure. */
char *seccomp_config_text(json_t *config, const char *cache_dir, size_t *len,
                          struct sbx_error **err);
/* Where compiled programs and policy texts are cached ($XDG_CACHE_HOME/
 * sbx/seccomp), NULL when there is no cache directory. */
char *seccomp_cache_dir(void);

/* A compiled BPF program, ready for seccomp(2). */
struct sbx_bpf {
	void *insns;        /* struct sock_filter[] */
	size_t len;         /* number of instructions */
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* from the policy's "flags" */
};
void seccomp_bpf_free(struct sbx_bpf *b);
/* seccomp_compile through a cache of compiled programs in cache_dir, keyed
 * by seccomp_policy_hash (which covers libseccomp's version and the arch).
 * Compiling costs more than a millisecond; reading the cache, microseconds.
 * The built-in policy's program is stored under its content's key as well,
 * and found there by a new build before compiling. */
int seccomp_compile_cached(json_t *obj, const char *cache_dir, struct sbx_bpf *out,
                           struct sbx_error **err);
static inline void seccomp_bpf_freep(struct sbx_bpf *b)
{
	seccomp_bpf_free(b);
}
#define _cleanup_bpf_ _cleanup_(seccomp_bpf_freep)

/* Compiles an OCI linux.seccomp object with libseccomp (validating it
 * first). Syscalls above the policy's newest known number get ENOSYS rather
 * than the default action, so libc fallbacks keep working (native
 * architecture only, and not when the default action is ALLOW or LOG). */
int seccomp_compile(json_t *obj, struct sbx_bpf *out, struct sbx_error **err);
/* Installs a compiled program in the calling thread (needs no_new_privs or
 * CAP_SYS_ADMIN). Async-signal-safe apart from error reporting. Returns the
 * notification listener's fd for a policy with SCMP_ACT_NOTIFY (flag
 * SECCOMP_FILTER_FLAG_NEW_LISTENER), otherwise 0; -1 on failure. */
int seccomp_install(const struct sbx_bpf *b, struct sbx_error **err);

/* The SHA-256 (64 hex digits) of the policy in canonical form plus what the
 * compiled program depends on (libseccomp version, native architecture,
 * compiler revision): the key, and file name, of its compiled program in
 * the cache. No policy, however chosen, can take another's cache entry.
 * The policy the last seccomp_default_json returned, unchanged or rewritten
 * by seccomp_restrict_setid, is named instead by sbx's build ID (which every
 * change to sbx changes) and that rewrite: its key costs no hash of its
 * content. Change that object only through seccomp_restrict_setid. */
int seccomp_policy_hash(json_t *obj, char out[65]);

#endif
