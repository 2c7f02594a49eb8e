/* profile.h - sandbox profiles: INI files resolved into one settings struct.
 *
 * The same struct carries the command-line overrides, so oci.c has a single
 * input. Lists append along the inheritance chain; an empty value for a
 * repeatable key clears what was inherited. */
#ifndef SBX_PROFILE_H
#define SBX_PROFILE_H

#include "lib/util.h"
#include "runtime/netspec.h"

#include <stdbool.h>
#include <stdint.h>

enum sbx_rootfs_mode {
	SBX_ROOTFS_OVERLAY = 0, /* writable overlay, upper in the instance dir */
	SBX_ROOTFS_READONLY,    /* the image itself, read-only */
};

enum sbx_overlay_backend {
	SBX_OVERLAY_AUTO = 0,
	SBX_OVERLAY_KERNEL,
	SBX_OVERLAY_FUSE,
};

enum sbx_userns_mode {
	SBX_USERNS_SINGLE = 0, /* the caller as one id, no helper */
	SBX_USERNS_SUBID,      /* plus /etc/subuid ranges via newuidmap */
};

enum sbx_caps_base {
	SBX_CAPS_DEFAULT = 0, /* Docker's default set */
	SBX_CAPS_NONE,
};

enum sbx_seccomp_mode {
	SBX_SECCOMP_DEFAULT = 0,
	SBX_SECCOMP_UNCONFINED,
	SBX_SECCOMP_FILE, /* a JSON file holding an OCI linux.seccomp object */
};

/* [profile] pull: whether run and spec pull the image from its registry. */
enum sbx_pull {
	SBX_PULL_NEVER, /* the default: only what is stored */
	SBX_PULL_MISSING,
	SBX_PULL_ALWAYS,
};

struct sbx_volume {
	char *src; /* absolute host path, ~ and $HOME expanded */
	char *dst; /* absolute path in the sandbox */
	bool ro;
	char *origin; /* "FILE:LINE" of the profile line that set it; NULL: an option */
};

struct sbx_tmpfs {
	char *dst;
	uint64_t size; /* bytes, 0 = kernel default */
	uint32_t mode; /* 01777 unless given */
};

/* A resource limit; RLIMIT_* from <sys/resource.h>. */
struct sbx_rlimit {
	int resource;
	uint64_t soft, hard; /* UINT64_MAX = unlimited */
};

/* Where a setting came from, for diagnostics ("first at line N"). */
struct sbx_profile {
	char *name;         /* as asked for, e.g. "default" */
	char *path;         /* the file it was read from */
	char *description;  /* may be NULL */
	enum sbx_pull pull; /* pull the image from its registry first */
	char **chain;       /* names of the profiles inherited, outermost first */

	/* [namespaces] */
	bool ns_pid, ns_ipc, ns_uts, ns_cgroup;
	enum sbx_userns_mode userns;

	/* [network] */
	enum sbx_net_mode net;
	bool host_loopback; /* pasta, slirp4netns: the host's 127.0.0.1 through the gateway */
	struct sbx_publish *publish;
	size_t n_publish;

	/* [filesystem] */
	enum sbx_rootfs_mode rootfs;
	enum sbx_overlay_backend overlay;
	struct sbx_volume *volumes;
	size_t n_volumes;
	struct sbx_tmpfs *tmpfs;
	size_t n_tmpfs;
	char **masked;   /* extra masked paths */
	char **readonly; /* extra read-only paths */

	/* [process] */
	char **env; /* KEY=VALUE */
	char *workdir;
	char *hostname;
	char *user;        /* "UID[:GID]" or "NAME[:GROUP]", resolved against the image */
	bool init;         /* run sbx's minimal init as pid 1 */
	int umask;         /* process.user.umask, -1 = not set: sbx's own is kept */
	char **entrypoint; /* --entrypoint: the command's head (a program, maybe with
	                    * arguments), replacing the image's; empty for "" */

	/* [security] */
	enum sbx_caps_base caps_base;
	char **cap_add;  /* canonical "CAP_X" names */
	char **cap_drop; /* "CAP_X", or "ALL" */
	enum sbx_seccomp_mode seccomp;
	char *seccomp_file;
	bool no_new_privileges;
	bool restrict_suid_sgid; /* no set-id files (seccomp rules) */

	/* Landlock: sandbox paths, and TCP ports as decimal strings ("none":
	 * the list is handled but allows no port). */
	char **landlock_fs_ro, **landlock_fs_rw;
	char **landlock_tcp_bind, **landlock_tcp_connect;

	/* [limits] */
	struct sbx_rlimit *rlimits;
	size_t n_rlimits;
	uint64_t memory;    /* bytes, 0 = none */
	uint64_t scratch;   /* bytes of a --rm upper layer in memory, 0 = the default */
	int64_t pids;       /* 0 = none */
	uint32_t millicpus; /* --cpus 1.5 = 1500, 0 = none */
};

/* Diagnostics in the GNU form "FILE:LINE: error: MESSAGE", all of them. */
struct sbx_diag {
	char **lines;
};
void diag_add(struct sbx_diag *d, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_clear(struct sbx_diag *d);
size_t diag_count(const struct sbx_diag *d);

/* Where a profile comes from. */
enum sbx_profile_origin {
	SBX_ORIGIN_USER = 0, /* $XDG_CONFIG_HOME/sbx/profiles */
	SBX_ORIGIN_SYSTEM,   /* /etc/sbx/profiles ($SBX_SYSCONFDIR/profiles) */
	SBX_ORIGIN_SHIPPED,  /* $(PREFIX)/share/sbx/profiles ($SBX_DATADIR/profiles) */
	SBX_ORIGIN_PATH,     /* given as a path */
};

struct sbx_profile_entry {
	char *name;
	char *path;
	enum sbx_profile_origin origin;
	char **shadows; /* paths of same-named profiles it hides */
};

/* The built-in defaults, before any file is read. */
void profile_init_defaults(struct sbx_profile *p);
/* A heap-allocated profile holding the defaults; profile_free() frees it. */
struct sbx_profile *profile_new(void);
void profile_free(struct sbx_profile *p);
static inline void profile_freep(struct sbx_profile **p)
{
	profile_free(*p);
}
#define _cleanup_profile_ _cleanup_(profile_freep)

/* Finds NAME (or a path if it contains '/'). */
int profile_find(const char *name, char **path, enum sbx_profile_origin *origin,
                 struct sbx_error **err);
/* When NAME (not a path) resolves to a user profile that hides same-named
 * system or shipped ones: its path in *path and the hidden ones in *hidden
 * (free with profile_entries_free); returns how many are hidden, 0 if none. */
size_t profile_shadowed(const char *name, char **path, struct sbx_profile_entry **hidden);
/* Loads and resolves a profile with its inheritance chain. Syntax and value
 * problems go to *diag (all of them) and the call returns -1 with *err set to
 * a summary; lookup and I/O failures only set *err. */
int profile_load(const char *name, struct sbx_profile **out, struct sbx_diag *diag,
                 struct sbx_error **err);
/* Parses one profile from a string, as if read from FILE (for tests and fuzzing);
 * inheritance is resolved through profile_find. */
int profile_load_string(const char *file, const char *text, size_t len, struct sbx_profile **out,
                        struct sbx_diag *diag, struct sbx_error **err);
/* All profiles visible to the user, sorted by name. */
int profile_list(struct sbx_profile_entry **out, size_t *n, struct sbx_error **err);
void profile_entries_free(struct sbx_profile_entry *e, size_t n);
/* Writes the resolved profile back as INI (for `sbx profile show`). */
void profile_dump(const struct sbx_profile *p, FILE *f);

/* ---- the settings table ----
 *
 * Every setting is one entry: where it lives in a profile (section and key),
 * its command-line option, the words it takes, a line of documentation, and
 * the functions that parse it into struct sbx_profile and print it back. The
 * INI loader, `sbx profile show`, the options of run and spec (parsing,
 * --help, completion) and the docs test all read this table. An entry has a
 * key, an option, or both. */
struct set_ctx; /* where a value comes from: a profile line or an option */
struct sbx_setting;
typedef int (*sbx_setting_set_fn)(struct sbx_profile *p, const struct sbx_setting *s,
                                  const char *value, struct set_ctx *c, char **why);
typedef void (*sbx_setting_dump_fn)(const struct sbx_profile *p, const struct sbx_setting *s,
                                    FILE *f);

enum {
	SBX_SETTING_REPEATABLE = 1, /* each line appends; an empty one clears */
	SBX_SETTING_SIZE = 2,       /* [limits]: K/M/G suffixes */
	SBX_SETTING_INHERIT = 4,    /* [profile] inherit: resolved before the rest */
	SBX_SETTING_DROP = 8,       /* cap_drop: applies before the adds, as in Docker */
	SBX_SETTING_ADD = 16,       /* cap_add: applies after the drops */
};

struct sbx_setting {
	const char *section;  /* "process" */
	const char *key;      /* NULL: a command-line option only */
	const char *option;   /* long option without "--"; NULL: a profile key only */
	int short_opt;        /* 'v', or 0 */
	const char *metavar;  /* the value, as --help and the man pages show it */
	const char *choices;  /* the words an enum takes, space-separated; NULL */
	const char *complete; /* what the option's value completes to (cmdline.h kinds) */
	const char *fixed;    /* the option takes no value and sets the key to this */
	const char *doc;      /* one line, for --help and the completions */
	unsigned flags;       /* SBX_SETTING_* */
	sbx_setting_set_fn set;
	sbx_setting_dump_fn dump; /* NULL: not printed (inherit, options only) */
	size_t offset;            /* the field of struct sbx_profile, for generic types */
	int arg;                  /* RLIMIT_* for the rlimits */
};

/* The table, in the order profile show prints it. */
const struct sbx_setting *profile_settings(size_t *n);
/* The entry of a long option ("volume"), or NULL. */
const struct sbx_setting *profile_setting_option(const char *option);
/* Applies a command-line option's value (s->fixed for an option without
 * one). A --env-file's diagnostics (FILE:LINE: error: ...) go to *diag;
 * *err names the option. */
int profile_option(struct sbx_profile *p, const struct sbx_setting *s, const char *value,
                   struct sbx_diag *diag, struct sbx_error **err);
/* A check of an option's value that needs no profile (usage errors at
 * parse time): 0, or -1 with *why. */
int profile_option_check(const struct sbx_setting *s, const char *value, char **why);

/* Value parsers shared by INI keys and command-line options. Each returns 0,
 * or -1 with a message in *why (allocated). */
int profile_parse_volume(const char *spec, struct sbx_volume *out, char **why);
int profile_parse_tmpfs(const char *spec, struct sbx_tmpfs *out, char **why);
int profile_parse_env(const char *spec, char **out, char **why);
int profile_parse_userns(const char *s, enum sbx_userns_mode *out, char **why);
int profile_parse_overlay(const char *s, enum sbx_overlay_backend *out, char **why);
const char *profile_overlay_name(enum sbx_overlay_backend b);

/* Command-line overrides, applied on top of a loaded profile. Each returns 0
 * or -1 with *err naming the option. */
int profile_add_volume(struct sbx_profile *p, const char *spec, struct sbx_error **err);
int profile_add_tmpfs(struct sbx_profile *p, const char *spec, struct sbx_error **err);
int profile_add_env(struct sbx_profile *p, const char *spec, struct sbx_error **err);
int profile_add_publish(struct sbx_profile *p, const char *spec, struct sbx_error **err);
int profile_add_cap(struct sbx_profile *p, const char *name, bool drop, struct sbx_error **err);
int profile_set_seccomp(struct sbx_profile *p, const char *value, struct sbx_error **err);
/* The same checks as the [process] keys: an absolute path without "..", an
 * RFC 1123-like name of at most 64 bytes, UID[:GID] or NAME[:GROUP]. */
int profile_set_workdir(struct sbx_profile *p, const char *value, struct sbx_error **err);
int profile_set_hostname(struct sbx_profile *p, const char *value, struct sbx_error **err);
int profile_set_user(struct sbx_profile *p, const char *value, struct sbx_error **err);
/* Final checks across settings (e.g. --publish with network none). */
int profile_validate(const struct sbx_profile *p, struct sbx_error **err);

#endif
