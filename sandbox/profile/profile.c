/* profile.c - sandbox profiles: INI files resolved into struct sbx_profile.
 *
 * Grammar. A profile is UTF-8 text of at most 1 MiB without NUL bytes. Each
 * line is blank, a comment (first non-blank character ';' or '#'), a
 * "[section]" header, or "key = value". There are no inline comments (a ';'
 * inside a value is part of it), no continuation lines and no quoting;
 * blanks around keys and values are dropped. Keys are case-sensitive.
 *
 *   [profile]     description = TEXT
 *                 inherit = NAME | FILE        parent profile, applied first
 *   [namespaces]  pid | ipc | uts | cgroup = BOOL
 *                 user = single | subid
 *   [network]     mode = none | host | pasta | slirp4netns | auto
 *                 host_loopback = BOOL
 *                 publish = [IP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]       (R)
 *   [filesystem]  rootfs = overlay | readonly
 *                 overlay = auto | kernel | fuse
 *                 volume = SRC:DST[:ro|rw]                            (R)
 *                 tmpfs = DST[:size=SIZE][,mode=OCTAL]                (R)
 *                 mask = /PATH                                        (R)
 *                 readonly = /PATH                                    (R)
 *   [process]     env = KEY=VALUE                                     (R)
 *                 workdir = /PATH
 *                 hostname = NAME
 *                 user = UID[:GID] | NAME[:GROUP]      (empty: root)
 *                 init = BOOL
 *   [security]    capabilities = default | none
 *                 cap_add = CAP[,CAP...]                              (R)
 *                 cap_drop = CAP[,CAP...] | ALL                       (R)
 *                 seccomp = default | unconfined | FILE.json
 *                 no_new_privileges = BOOL
 *                 restrict_suid_sgid = BOOL

 *                 landlock_fs_ro = /PATH                              (R)
 *                 landlock_fs_rw = /PATH                              (R)
 *                 landlock_tcp_bind = PORT[,PORT...] | none           (R)
 *                 landlock_tcp_connect = PORT[,PORT...] | none        (R)
 *   [limits]      as, core, cpu, data, fsize, locks, memlock, msgqueue, nice,
 *                 nofile, nproc, rss, rtprio, rttime, sigpending, stack
 *                     = N | SOFT:HARD | unlimited      (empty: not set)
 *                 memory = SIZE                        (empty: no limit)
 *                 scratch = SIZE                       (empty: the default)
 *                 pids = N                             (empty: no limit)
 *
 * (R) repeatable: each line appends; an empty value clears the list built so
 * far, inherited entries included. A volume or tmpfs at a destination that
 * is already mounted, an env KEY already set, or a publish of an inherited
 * host port, replaces the earlier one; two publish lines of one file (or
 * two --publish options) that take the same host port are an error.
 * Any other key may appear once per file; a child's value replaces its
 * parent's. A file's cap_drop lines apply before its cap_add lines (as in
 * Docker); dropping X also undoes an inherited add of X, ALL every one.
 * BOOL is true/false, yes/no, on/off or 1/0. SIZE is a number with an
 * optional K, M, G or T suffix (powers of 1024), which [limits] accepts for
 * as, core, data, fsize, memlock, msgqueue, rss and stack too.
 *
 * Paths: SRC is absolute or starts with ~ ($HOME is expanded); DST and the
 * other sandbox paths are absolute, without "..", and are normalised. Mounts
 * must not cover /, /proc, /sys or /dev. A ':' cannot appear in a volume
 * path. A relative seccomp FILE is relative to the profile's directory.
 *
 * inherit: a NAME is looked up like any profile (user, system, shipped); a
 * profile that inherits its own name gets the next one in that order, so
 * ~/.config/sbx/profiles/default.ini can extend the shipped default. A FILE
 * (with a '/' or ending in ".ini") is relative to the inheriting file. Loops
 * and chains deeper than 16 are errors.
 *
 * inih (Debian's libinih 55) splits the lines; everything it could get wrong
 * silently (long lines, indented lines, ';' in values, 49-byte section
 * names, broken lines after the first) is checked by a pre-scan here, which
 * also decides each line's section. Diagnostics are collected per file and
 * printed in line order. */
#define _GNU_SOURCE
#define INI_HANDLER_LINENO 1
#include "profile/profile.h"
#include "lib/libexec.h"
#include "runtime/caps.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#ifndef SBX_DATADIR
#define SBX_DATADIR "/usr/local/share/sbx"
#endif
#ifndef SBX_SYSCONFDIR
#define SBX_SYSCONFDIR "/etc/sbx"
#endif

#define PROFILE_MAX_SIZE  (1024 * 1024)
#define PROFILE_MAX_DEPTH 16
#define PROFILE_MAX_LIST  1024 /* entries in one list; keeps replacement checks cheap */
#define PROFILE_MAX_ERRS  100  /* diagnostics per file, like -fmax-errors */
#define INI_SECTION_MAX   49   /* inih cuts section names here */

/* ---- diagnostics ---- */

void diag_add(struct sbx_diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (line > 0)
		strv_push_take(&d->lines, xasprintf("%s:%d: error: %s", file, line, msg));
	else
		strv_push_take(&d->lines, xasprintf("%s: error: %s", file, msg));
	free(msg);
}

void diag_clear(struct sbx_diag *d)
{
	strv_free(d->lines);
	d->lines = NULL;
}

size_t diag_count(const struct sbx_diag *d)
{
	return strv_length(d->lines);
}

/* Whether s holds a control byte (tab aside): refused in values, which
 * messages show through str_display. */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

/* ---- the key table ---- */

enum section {
	SEC_PROFILE,
	SEC_NAMESPACES,
	SEC_NETWORK,
	SEC_FILESYSTEM,
	SEC_PROCESS,
	SEC_SECURITY,
	SEC_LIMITS,
	N_SECTIONS,
	SEC_UNSET = -1,   /* before the first header */
	SEC_INVALID = -2, /* after a header already reported */
};

static const char *const section_names[N_SECTIONS] = {
    "profile", "namespaces", "network", "filesystem", "process", "security", "limits",
};

enum key_id {
	K_DESCRIPTION,
	K_INHERIT,
	K_NS_PID,
	K_NS_IPC,
	K_NS_UTS,
	K_NS_CGROUP,
	K_USERNS,
	K_NET,
	K_HOST_LOOPBACK,
	K_PUBLISH,
	K_ROOTFS,
	K_OVERLAY,
	K_VOLUME,
	K_TMPFS,
	K_MASK,
	K_READONLY,
	K_ENV,
	K_WORKDIR,
	K_HOSTNAME,
	K_USER,
	K_INIT,
	K_CAPS,
	K_CAP_ADD,
	K_CAP_DROP,
	K_SECCOMP,
	K_NNP,
	K_RESTRICT_SUID_SGID,

	K_LANDLOCK_FS_RO,
	K_LANDLOCK_FS_RW,
	K_LANDLOCK_TCP_BIND,
	K_LANDLOCK_TCP_CONNECT,
	K_MEMORY,
	K_SCRATCH,
	K_PIDS,
	K_RLIMIT,
};

struct key_def {
	const char *name;
	signed char section;
	unsigned char id;
	bool repeatable;
	bool size;    /* [limits]: K/M/G suffixes */
	int resource; /* [limits]: RLIMIT_* */
};

static const struct key_def keys[] = {
    {"description", SEC_PROFILE, K_DESCRIPTION, false, false, 0},
    {"inherit", SEC_PROFILE, K_INHERIT, false, false, 0},
    {"pid", SEC_NAMESPACES, K_NS_PID, false, false, 0},
    {"ipc", SEC_NAMESPACES, K_NS_IPC, false, false, 0},
    {"uts", SEC_NAMESPACES, K_NS_UTS, false, false, 0},
    {"cgroup", SEC_NAMESPACES, K_NS_CGROUP, false, false, 0},
    {"user", SEC_NAMESPACES, K_USERNS, false, false, 0},
    {"mode", SEC_NETWORK, K_NET, false, false, 0},
    {"host_loopback", SEC_NETWORK, K_HOST_LOOPBACK, false, false, 0},
    {"publish", SEC_NETWORK, K_PUBLISH, true, false, 0},
    {"rootfs", SEC_FILESYSTEM, K_ROOTFS, false, false, 0},
    {"overlay", SEC_FILESYSTEM, K_OVERLAY, false, false, 0},
    {"volume", SEC_FILESYSTEM, K_VOLUME, true, false, 0},
    {"tmpfs", SEC_FILESYSTEM, K_TMPFS, true, false, 0},
    {"mask", SEC_FILESYSTEM, K_MASK, true, false, 0},
    {"readonly", SEC_FILESYSTEM, K_READONLY, true, false, 0},
    {"env", SEC_PROCESS, K_ENV, true, false, 0},
    {"workdir", SEC_PROCESS, K_WORKDIR, false, false, 0},
    {"hostname", SEC_PROCESS, K_HOSTNAME, false, false, 0},
    {"user", SEC_PROCESS, K_USER, false, false, 0},
    {"init", SEC_PROCESS, K_INIT, false, false, 0},
    {"capabilities", SEC_SECURITY, K_CAPS, false, false, 0},
    {"cap_add", SEC_SECURITY, K_CAP_ADD, true, false, 0},
    {"cap_drop", SEC_SECURITY, K_CAP_DROP, true, false, 0},
    {"seccomp", SEC_SECURITY, K_SECCOMP, false, false, 0},
    {"no_new_privileges", SEC_SECURITY, K_NNP, false, false, 0},
    {"restrict_suid_sgid", SEC_SECURITY, K_RESTRICT_SUID_SGID, false, false, 0},

    {"landlock_fs_ro", SEC_SECURITY, K_LANDLOCK_FS_RO, true, false, 0},
    {"landlock_fs_rw", SEC_SECURITY, K_LANDLOCK_FS_RW, true, false, 0},
    {"landlock_tcp_bind", SEC_SECURITY, K_LANDLOCK_TCP_BIND, true, false, 0},
    {"landlock_tcp_connect", SEC_SECURITY, K_LANDLOCK_TCP_CONNECT, true, false, 0},
    {"memory", SEC_LIMITS, K_MEMORY, false, false, 0},
    {"scratch", SEC_LIMITS, K_SCRATCH, false, false, 0},
    {"pids", SEC_LIMITS, K_PIDS, false, false, 0},
    {"as", SEC_LIMITS, K_RLIMIT, false, true, RLIMIT_AS},
    {"core", SEC_LIMITS, K_RLIMIT, false, true, RLIMIT_CORE},
    {"cpu", SEC_LIMITS, K_RLIMIT, false, false, RLIMIT_CPU},
    {"data", SEC_LIMITS, K_RLIMIT, false, true, RLIMIT_DATA},
    {"fsize", SEC_LIMITS, K_RLIMIT, false, true, RLIMIT_FSIZE},
    {"locks", SEC_LIMITS, K_RLIMIT, false, false, RLIMIT_LOCKS},
    {"memlock", SEC_LIMITS, K_RLIMIT, false, true, RLIMIT_MEMLOCK},
    {"msgqueue", SEC_LIMITS, K_RLIMIT, false, true, RLIMIT_MSGQUEUE},
    {"nice", SEC_LIMITS, K_RLIMIT, false, false, RLIMIT_NICE},
    {"nofile", SEC_LIMITS, K_RLIMIT, false, false, RLIMIT_NOFILE},
    {"nproc", SEC_LIMITS, K_RLIMIT, false, false, RLIMIT_NPROC},
    {"rss", SEC_LIMITS, K_RLIMIT, false, true, RLIMIT_RSS},
    {"rtprio", SEC_LIMITS, K_RLIMIT, false, false, RLIMIT_RTPRIO},
    {"rttime", SEC_LIMITS, K_RLIMIT, false, false, RLIMIT_RTTIME},
    {"sigpending", SEC_LIMITS, K_RLIMIT, false, false, RLIMIT_SIGPENDING},
    {"stack", SEC_LIMITS, K_RLIMIT, false, true, RLIMIT_STACK},
};

static const char *const userns_names[] = {"single", "subid"};
static const char *const overlay_names[] = {"auto", "kernel", "fuse"};
static const char *const rootfs_names[] = {"overlay", "readonly"};
static const char *const caps_names[] = {"default", "none"};

/* ---- profiles ---- */

void profile_init_defaults(struct sbx_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->ns_pid = p->ns_ipc = p->ns_uts = p->ns_cgroup = true;
	p->userns = SBX_USERNS_SINGLE;
	p->net = SBX_NET_NONE;
	p->rootfs = SBX_ROOTFS_OVERLAY;
	p->overlay = SBX_OVERLAY_AUTO;
	p->workdir = xstrdup("/");
	p->hostname = xstrdup("sbx");
	p->caps_base = SBX_CAPS_DEFAULT;
	p->seccomp = SBX_SECCOMP_DEFAULT;
	p->no_new_privileges = true;
	p->restrict_suid_sgid = true;
	/* As bwrap does: a payload as pid 1 would ignore SIGTERM, SIGINT and SIGPIPE. */
	p->init = true;
}

struct sbx_profile *profile_new(void)
{
	struct sbx_profile *p = xmalloc(sizeof(*p));
	profile_init_defaults(p);
	return p;
}

static void volumes_clear(struct sbx_profile *p)
{
	for (size_t i = 0; i < p->n_volumes; i++) {
		free(p->volumes[i].src);
		free(p->volumes[i].dst);
	}
	free(p->volumes);
	p->volumes = NULL;
	p->n_volumes = 0;
}

static void tmpfs_clear(struct sbx_profile *p)
{
	for (size_t i = 0; i < p->n_tmpfs; i++)
		free(p->tmpfs[i].dst);
	free(p->tmpfs);
	p->tmpfs = NULL;
	p->n_tmpfs = 0;
}

static void publish_clear(struct sbx_profile *p)
{
	for (size_t i = 0; i < p->n_publish; i++)
		free(p->publish[i].host_ip);
	free(p->publish);
	p->publish = NULL;
	p->n_publish = 0;
}

static void strv_clear(char ***v)
{
	strv_free(*v);
	*v = NULL;
}

void profile_free(struct sbx_profile *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->path);
	free(p->description);
	strv_free(p->chain);
	publish_clear(p);
	volumes_clear(p);
	tmpfs_clear(p);
	strv_free(p->masked);
	strv_free(p->readonly);
	strv_free(p->env);
	free(p->workdir);
	free(p->hostname);
	free(p->user);
	strv_free(p->cap_add);
	strv_free(p->cap_drop);
	free(p->seccomp_file);
	strv_free(p->landlock_fs_ro);
	strv_free(p->landlock_fs_rw);
	strv_free(p->landlock_tcp_bind);
	strv_free(p->landlock_tcp_connect);
	free(p->rlimits);
	free(p);
}

/* ---- value parsers ---- */

int profile_parse_userns(const char *s, enum sbx_userns_mode *out, char **why)
{
	int v;
	if (str_choice(s, userns_names, ARRAY_SIZE(userns_names), &v, why) < 0)
		return -1;
	*out = (enum sbx_userns_mode)v;
	return 0;
}

int profile_parse_overlay(const char *s, enum sbx_overlay_backend *out, char **why)
{
	int v;
	if (str_choice(s, overlay_names, ARRAY_SIZE(overlay_names), &v, why) < 0)
		return -1;
	*out = (enum sbx_overlay_backend)v;
	return 0;
}

const char *profile_overlay_name(enum sbx_overlay_backend b)
{
	return (size_t)b < ARRAY_SIZE(overlay_names) ? overlay_names[b] : "?";
}

/* Numbers and sizes with messages that say what was wrong. */
static int parse_number(const char *s, bool size, uint64_t *out, char **why)
{
	if (s[0] == '-') {
		why_set(why, "must not be negative");
		return -1;
	}
	int r = size ? parse_size(s, out) : parse_u64(s, out);
	if (r == -ERANGE) {
		why_set(why, "number too large");
		return -1;
	}
	if (r < 0) {
		if (size)
			why_set(why, "expected a size such as 512K, 64M or 2G");
		else
			why_set(why, "not a number");
		return -1;
	}
	return 0;
}

/* Absolute, normalised: no empty or "." components, no trailing '/'.
 * ".." is refused unless allowed (host paths). */
static char *path_normalize(const char *s, bool allow_dotdot, const char *what, char **why)
{
	if (s[0] == '\0')
		return why_set(why, "%s is empty", what);
	if (s[0] != '/')
		return why_set(why, "%s must be an absolute path", what);
	if (has_control(s) || strchr(s, '\t'))
		return why_set(why, "%s contains a control character", what);
	if (strlen(s) >= PATH_MAX)
		return why_set(why, "%s is longer than %d bytes", what, PATH_MAX - 1);
	char *out = xmalloc(strlen(s) + 2);
	size_t n = 0;
	const char *p = s;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t len = (size_t)(e - p);
		if (len == 0 || (len == 1 && p[0] == '.')) {
			p = e;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.' && !allow_dotdot) {
			free(out);
			return why_set(why, "%s must not contain \"..\"", what);
		}
		out[n++] = '/';
		memcpy(out + n, p, len);
		n += len;
		p = e;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return out;
}

static bool path_under(const char *path, const char *top)
{
	size_t n = strlen(top);
	return strncmp(path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* A mount destination: not over what sbx mounts itself. */
static char *mount_dst(const char *s, char **why)
{
	char *d = path_normalize(s, false, "the destination", why);
	if (d == NULL)
		return NULL;
	if (strcmp(d, "/") == 0) {
		free(d);
		return why_set(why, "cannot mount over \"/\"");
	}
	static const char *const reserved[] = {"/proc", "/sys", "/dev"};
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		if (path_under(d, reserved[i])) {
			free(d);
			return why_set(why,
			               "cannot mount over %s (sbx sets up /proc, /sys and /dev "
			               "itself)",
			               reserved[i]);
		}
	}
	return d;
}

/* cwd: make "./x" and "../x" sources absolute against it (command line); NULL
 * refuses relative sources (profiles, whose directory is no good base). */
static int parse_volume(const char *spec, const char *cwd, struct sbx_volume *out, char **why)
{
	memset(out, 0, sizeof(*out));
	size_t colons = str_count_char(spec, ':');
	if (colons == 0) {
		why_set(why, "expected SRC:DST[:ro|rw]");
		return -1;
	}
	if (colons > 2) {
		why_set(why, "too many ':'; a path containing ':' cannot be used in a volume");
		return -1;
	}
	_cleanup_free_ char *copy = xstrdup(spec);
	char *src = copy, *dst = strchr(copy, ':');
	*dst++ = '\0';
	char *opts = strchr(dst, ':');
	if (opts)
		*opts++ = '\0';
	if (src[0] == '\0') {
		why_set(why, "the source is empty");
		return -1;
	}
	if (dst[0] == '\0') {
		why_set(why, "the destination is empty");
		return -1;
	}
	bool ro = false, rw = false;
	if (opts) {
		if (opts[0] == '\0') {
			why_set(why, "empty option after ':' (expected ro or rw)");
			return -1;
		}
		if (opts[0] == ',' || str_endswith(opts, ",") || strstr(opts, ",,")) {
			why_set(why, "empty option (expected ro or rw)");
			return -1;
		}
		char *save = NULL;
		for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
			if (strcmp(o, "ro") == 0) {
				ro = true;
			} else if (strcmp(o, "rw") == 0) {
				rw = true;
			} else {
				_cleanup_free_ char *d = str_display(o);
				why_set(why, "unknown option \"%s\" (expected ro or rw)", d);
				return -1;
			}
		}
		if (ro && rw) {
			why_set(why, "only one of ro and rw may be given");
			return -1;
		}
	}
	_cleanup_free_ char *exp = expand_home(src);
	if (exp[0] != '/') {
		bool dotted = strcmp(exp, ".") == 0 || strcmp(exp, "..") == 0 ||
		              str_startswith(exp, "./") || str_startswith(exp, "../");
		if (cwd == NULL || !dotted) {
			why_set(why, cwd ? "the source must be an absolute path (or start with ~ "
			                   "or ./)"
			                 : "the source must be an absolute path (or start with ~)");
			return -1;
		}
		char *abs = xasprintf("%s/%s", cwd, exp);
		free(exp);
		exp = abs;
	}
	char *s = path_normalize(exp, true, "the source", why);
	if (s == NULL)
		return -1;
	char *d = mount_dst(dst, why);
	if (d == NULL) {
		free(s);
		return -1;
	}
	out->src = s;
	out->dst = d;
	out->ro = ro;
	return 0;
}

int profile_parse_volume(const char *spec, struct sbx_volume *out, char **why)
{
	return parse_volume(spec, NULL, out, why);
}

int profile_parse_tmpfs(const char *spec, struct sbx_tmpfs *out, char **why)
{
	memset(out, 0, sizeof(*out));
	out->mode = 01777;
	_cleanup_free_ char *copy = xstrdup(spec);
	char *opts = strchr(copy, ':');
	if (opts) {
		*opts++ = '\0';
		if (strchr(opts, ':')) {
			why_set(why, "too many ':'; expected DST[:size=SIZE][,mode=OCTAL]");
			return -1;
		}
		if (opts[0] == '\0' || opts[0] == ',' || str_endswith(opts, ",") ||
		    strstr(opts, ",,")) {
			why_set(why, "empty option (expected size=SIZE or mode=OCTAL)");
			return -1;
		}
		bool have_size = false, have_mode = false;
		char *save = NULL;
		for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
			_cleanup_free_ char *d = str_display(o);
			if (str_startswith(o, "size=")) {
				_cleanup_free_ char *nwhy = NULL;
				if (have_size) {
					why_set(why, "size given twice");
					return -1;
				}
				if (parse_number(o + 5, true, &out->size, &nwhy) < 0) {
					why_set(why, "%s: %s", d, nwhy);
					return -1;
				}
				have_size = true;
			} else if (str_startswith(o, "mode=")) {
				const char *m = o + 5;
				char *end = NULL;
				if (have_mode) {
					why_set(why, "mode given twice");
					return -1;
				}
				errno = 0;
				unsigned long v = strtoul(m, &end, 8);
				if (!isdigit((unsigned char)m[0]) || *end || errno || v > 07777) {
					why_set(why, "%s: expected an octal mode such as 1777", d);
					return -1;
				}
				out->mode = (uint32_t)v;
				have_mode = true;
			} else {
				why_set(why,
				        "unknown option \"%s\" (expected size=SIZE or mode=OCTAL)",
				        d);
				return -1;
			}
		}
	}
	out->dst = mount_dst(copy, why);
	return out->dst ? 0 : -1;
}

static bool env_key_valid(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

int profile_parse_env(const char *spec, char **out, char **why)
{
	const char *eq = strchr(spec, '=');
	if (eq == NULL) {
		why_set(why, "expected KEY=VALUE");
		return -1;
	}
	if (!env_key_valid(spec, (size_t)(eq - spec))) {
		_cleanup_free_ char *k = xstrndup(spec, (size_t)(eq - spec));
		_cleanup_free_ char *d = str_display(k);
		why_set(why, "\"%s\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)", d);
		return -1;
	}
	if (has_control(spec)) {
		why_set(why, "the value contains a control character");
		return -1;
	}
	*out = xstrdup(spec);
	return 0;
}

static int parse_hostname(const char *s, char **why)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64) {
		why_set(why, "a hostname has 1 to 64 characters");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '-' || c == '.')) {
			why_set(why, "a hostname may only contain letters, digits, '-' and '.'");
			return -1;
		}
	}
	if (s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.' || strstr(s, "..")) {
		why_set(why,
		        "a hostname must not start or end with '-' or '.', nor contain \"..\"");
		return -1;
	}
	return 0;
}

static bool id_part_valid(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return false;
	bool digits = true;
	for (size_t i = 0; i < n; i++)
		digits = digits && isdigit((unsigned char)s[i]);
	if (digits) {
		_cleanup_free_ char *t = xstrndup(s, n);
		uint64_t v;
		return parse_u64(t, &v) == 0 && v < UINT32_MAX;
	}
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '_' || c == '-' || c == '.' || (c == '$' && i + 1 == n)))
			return false;
	}
	return true;
}

static int parse_user(const char *s, char **why)
{
	const char *colon = strchr(s, ':');
	size_t n1 = colon ? (size_t)(colon - s) : strlen(s);
	if (!id_part_valid(s, n1) ||
	    (colon && (strchr(colon + 1, ':') || !id_part_valid(colon + 1, strlen(colon + 1))))) {
		why_set(why, "expected UID[:GID] or NAME[:GROUP]");
		return -1;
	}
	return 0;
}

/* "default", "unconfined" or a JSON file; base resolves relative paths. */
static int parse_seccomp(const char *s, const char *base, enum sbx_seccomp_mode *mode, char **file,
                         char **why)
{
	*file = NULL;
	if (strcmp(s, "default") == 0) {
		*mode = SBX_SECCOMP_DEFAULT;
		return 0;
	}
	if (strcmp(s, "unconfined") == 0) {
		*mode = SBX_SECCOMP_UNCONFINED;
		return 0;
	}
	/* A bare word is a typo far more often than a file name. */
	if (!strchr(s, '/') && !str_endswith(s, ".json") && strcmp(s, "~") != 0) {
		static const char *const words[] = {"default", "unconfined"};
		const char *close = str_closest(s, words, ARRAY_SIZE(words));
		if (close)
			why_set(why,
			        "expected default, unconfined or a path to a JSON file; did you "
			        "mean \"%s\"?",
			        close);
		else
			why_set(why, "expected default, unconfined or a path to a JSON file");
		return -1;
	}
	_cleanup_free_ char *exp = expand_home(s);
	if (exp[0] != '/') {
		char *abs = xasprintf("%s/%s", base ? base : ".", exp);
		free(exp);
		exp = abs;
	}
	char *path = path_normalize(exp, true, "the seccomp file", why);
	if (path == NULL)
		return -1;
	*mode = SBX_SECCOMP_FILE;
	*file = path;
	return 0;
}

static int parse_limit_value(const char *s, bool size, uint64_t *out, char **why)
{
	if (strcmp(s, "unlimited") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	return parse_number(s, size, out, why);
}

static int parse_rlimit(const char *s, bool size, uint64_t *soft, uint64_t *hard, char **why)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *colon = strchr(copy, ':');
	if (colon)
		*colon++ = '\0';
	if (parse_limit_value(copy, size, soft, why) < 0)
		return -1;
	if (colon == NULL) {
		*hard = *soft;
		return 0;
	}
	if (parse_limit_value(colon, size, hard, why) < 0)
		return -1;
	if (*soft > *hard) {
		why_set(why, "the soft limit is above the hard limit");
		return -1;
	}
	return 0;
}

/* ---- list updates shared by INI keys and options ---- */

static char *cwd_dup(void)
{
	char *c = get_current_dir_name();
	return c ? c : xstrdup("/");
}

static void remove_tmpfs_at(struct sbx_profile *p, const char *dst)
{
	for (size_t i = 0; i < p->n_tmpfs; i++) {
		if (strcmp(p->tmpfs[i].dst, dst) == 0) {
			free(p->tmpfs[i].dst);
			memmove(&p->tmpfs[i], &p->tmpfs[i + 1],
			        (p->n_tmpfs - i - 1) * sizeof(p->tmpfs[0]));
			p->n_tmpfs--;
			return;
		}
	}
}

static void remove_volume_at(struct sbx_profile *p, const char *dst)
{
	for (size_t i = 0; i < p->n_volumes; i++) {
		if (strcmp(p->volumes[i].dst, dst) == 0) {
			free(p->volumes[i].src);
			free(p->volumes[i].dst);
			memmove(&p->volumes[i], &p->volumes[i + 1],
			        (p->n_volumes - i - 1) * sizeof(p->volumes[0]));
			p->n_volumes--;
			return;
		}
	}
}

/* Takes v; a mount at the same destination is replaced. */
static int put_volume(struct sbx_profile *p, struct sbx_volume *v, char **why)
{
	remove_tmpfs_at(p, v->dst);
	for (size_t i = 0; i < p->n_volumes; i++) {
		if (strcmp(p->volumes[i].dst, v->dst) == 0) {
			free(p->volumes[i].src);
			free(p->volumes[i].dst);
			p->volumes[i] = *v;
			return 0;
		}
	}
	if (p->n_volumes >= PROFILE_MAX_LIST) {
		free(v->src);
		free(v->dst);
		why_set(why, "too many volumes (at most %d)", PROFILE_MAX_LIST);
		return -1;
	}
	p->volumes = xrealloc(p->volumes, (p->n_volumes + 1) * sizeof(*p->volumes));
	p->volumes[p->n_volumes++] = *v;
	return 0;
}

static int put_tmpfs(struct sbx_profile *p, struct sbx_tmpfs *t, char **why)
{
	remove_volume_at(p, t->dst);
	for (size_t i = 0; i < p->n_tmpfs; i++) {
		if (strcmp(p->tmpfs[i].dst, t->dst) == 0) {
			free(p->tmpfs[i].dst);
			p->tmpfs[i] = *t;
			return 0;
		}
	}
	if (p->n_tmpfs >= PROFILE_MAX_LIST) {
		free(t->dst);
		why_set(why, "too many tmpfs mounts (at most %d)", PROFILE_MAX_LIST);
		return -1;
	}
	p->tmpfs = xrealloc(p->tmpfs, (p->n_tmpfs + 1) * sizeof(*p->tmpfs));
	p->tmpfs[p->n_tmpfs++] = *t;
	return 0;
}

/* "[IP:]HOSTPORT:SANDBOXPORT/PROTO", IPv6 addresses in brackets. */
static char *publish_spec(const struct sbx_publish *x)
{
	bool v6 = x->host_ip && strchr(x->host_ip, ':');
	return xasprintf("%s%s%s%s%u:%u/%s", v6 ? "[" : "", x->host_ip ? x->host_ip : "",
	                 v6 ? "]" : "", x->host_ip ? ":" : "", x->host_port, x->sandbox_port,
	                 x->udp ? "udp" : "tcp");
}

/* Marks every published port as inherited, for the next file or the
 * command line. */
static void publish_inherit(struct sbx_profile *p)
{
	for (size_t i = 0; i < p->n_publish; i++)
		p->publish[i].line = 0;
}

/* pub->line says who sets it. A port of the same host address that was
 * inherited is replaced; one that the same file or another --publish took
 * is an error, since only one of them could bind it. Ports that overlap
 * across layers are left to profile_validate. */
static int put_publish(struct sbx_profile *p, struct sbx_publish *pub, char **why)
{
	for (size_t i = 0; i < p->n_publish; i++) {
		struct sbx_publish *o = &p->publish[i];
		if (o->line == 0 || !net_publish_overlap(o, pub))
			continue;
		const char *proto = pub->udp ? "udp" : "tcp";
		if (o->line > 0) {
			why_set(why, "host port %u/%s is already published at line %d",
			        pub->host_port, proto, o->line);
		} else {
			_cleanup_free_ char *spec = publish_spec(o);
			why_set(why,
			        "host port %u/%s is already published by --publish \"%s\"; choose "
			        "another host port",
			        pub->host_port, proto, spec);
		}
		free(pub->host_ip);
		return -1;
	}
	for (size_t i = 0; i < p->n_publish; i++) {
		struct sbx_publish *o = &p->publish[i];
		bool same_ip =
		    (o->host_ip == NULL && pub->host_ip == NULL) ||
		    (o->host_ip && pub->host_ip && strcmp(o->host_ip, pub->host_ip) == 0);
		if (same_ip && o->host_port == pub->host_port && o->udp == pub->udp) {
			free(o->host_ip);
			*o = *pub;
			return 0;
		}
	}
	if (p->n_publish >= PROFILE_MAX_LIST) {
		free(pub->host_ip);
		why_set(why, "too many published ports (at most %d)", PROFILE_MAX_LIST);
		return -1;
	}
	p->publish = xrealloc(p->publish, (p->n_publish + 1) * sizeof(*p->publish));
	p->publish[p->n_publish++] = *pub;
	return 0;
}

/* Takes kv ("KEY=VALUE"); the same KEY is replaced where it stands. */
static int put_env(struct sbx_profile *p, char *kv, char **why)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1;
	for (size_t i = 0; p->env && p->env[i]; i++) {
		if (strncmp(p->env[i], kv, klen) == 0) {
			free(p->env[i]);
			p->env[i] = kv;
			return 0;
		}
	}
	if (strv_length(p->env) >= PROFILE_MAX_LIST) {
		free(kv);
		why_set(why, "too many environment variables (at most %d)", PROFILE_MAX_LIST);
		return -1;
	}
	strv_push_take(&p->env, kv);
	return 0;
}

static int put_path(char ***list, char *path, const char *what, char **why)
{
	if (strv_contains(*list, path)) {
		free(path);
		return 0;
	}
	if (strv_length(*list) >= PROFILE_MAX_LIST) {
		free(path);
		why_set(why, "too many %s paths (at most %d)", what, PROFILE_MAX_LIST);
		return -1;
	}
	strv_push_take(list, path);
	return 0;
}

/* "none", or ports 1-65535 separated by commas, added to *list. */
static int put_ports(char ***list, const char *v, const char *what, char **why)
{
	if (strcmp(v, "none") == 0)
		return put_path(list, xstrdup("none"), what, why);
	_cleanup_free_ char *copy = xstrdup(v);
	char *save = NULL;
	for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		while (*s == ' ')
			s++;
		uint64_t port;
		if (parse_u64(s, &port) < 0 || port == 0 || port > 65535) {
			why_set(why,
			        "\"%s\" is not a TCP port (1-65535), and the value is not "
			        "\"none\"",
			        s);
			return -1;
		}
		if (put_path(list, xasprintf("%u", (unsigned)port), what, why) < 0)
			return -1;
	}
	return 0;
}

static void strv_remove(char **v, const char *s)
{
	size_t n = strv_length(v);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0) {
			free(v[i]);
			memmove(&v[i], &v[i + 1], (n - i) * sizeof(char *));
			return;
		}
	}
}

/* "CAP_NET_RAW" for "net_raw"; for the message about an unknown one. */
static char *cap_upper(const char *s)
{
	char *u = str_startswith(s, "CAP_") || str_startswith(s, "cap_") ? xstrdup(s)
	                                                                 : xasprintf("CAP_%s", s);
	for (char *c = u; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return u;
}

/* A comma-separated list of capabilities. Dropping X undoes an earlier add
 * of X (and ALL undoes all adds), so the last word along the chain wins
 * whatever order caps_resolve applies the lists in. */
static int put_caps(struct sbx_profile *p, const char *list, bool drop, char **why)
{
	_cleanup_free_ char *copy = xstrdup(list);
	_cleanup_strv_ char **names = NULL;
	char *save = NULL;
	if (copy[0] == ',' || str_endswith(copy, ",") || strstr(copy, ",,")) {
		why_set(why, "empty capability name in the list");
		return -1;
	}
	for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*c))
			c++;
		char *e = c + strlen(c);
		while (e > c && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*c == '\0') {
			why_set(why, "empty capability name in the list");
			return -1;
		}
		if (strcasecmp(c, "ALL") == 0) {
			if (!drop) {
				why_set(why,
				        "\"ALL\" can only be dropped; use capabilities = default "
				        "or none for the base set");
				return -1;
			}
			strv_push(&names, "ALL");
			continue;
		}
		const char *canon = caps_canonical(c);
		if (canon == NULL) {
			_cleanup_free_ char *u = cap_upper(c);
			_cleanup_free_ char *d = str_display(u);
			size_t n = 0;
			const char *const *all = caps_all_names(&n);
			const char *close = str_closest(u, all, n);
			if (close)
				why_set(why, "unknown capability \"%s\"; did you mean \"%s\"?", d,
				        close);
			else
				why_set(why, "unknown capability \"%s\"", d);
			return -1;
		}
		strv_push(&names, canon);
	}
	for (size_t i = 0; names && names[i]; i++) {
		const char *n = names[i];
		if (drop) {
			if (strcmp(n, "ALL") == 0)
				strv_clear(&p->cap_add);
			else
				strv_remove(p->cap_add, n);
			if (!strv_contains(p->cap_drop, n))
				strv_push(&p->cap_drop, n);
		} else {
			strv_remove(p->cap_drop, n);
			if (!strv_contains(p->cap_add, n))
				strv_push(&p->cap_add, n);
		}
	}
	return 0;
}

static void put_rlimit(struct sbx_profile *p, int resource, uint64_t soft, uint64_t hard)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		if (p->rlimits[i].resource == resource) {
			p->rlimits[i].soft = soft;
			p->rlimits[i].hard = hard;
			return;
		}
	}
	p->rlimits = xrealloc(p->rlimits, (p->n_rlimits + 1) * sizeof(*p->rlimits));
	p->rlimits[p->n_rlimits++] = (struct sbx_rlimit){resource, soft, hard};
}

static void drop_rlimit(struct sbx_profile *p, int resource)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		if (p->rlimits[i].resource == resource) {
			memmove(&p->rlimits[i], &p->rlimits[i + 1],
			        (p->n_rlimits - i - 1) * sizeof(p->rlimits[0]));
			p->n_rlimits--;
			return;
		}
	}
}

/* ---- command-line overrides ---- */

static int option_error(struct sbx_error **err, const char *opt, const char *spec, const char *why)
{
	_cleanup_free_ char *d = str_display(spec);
	return sbx_error_set(err, 0, "--%s \"%s\": %s", opt, d, why);
}

int profile_add_volume(struct sbx_profile *p, const char *spec, struct sbx_error **err)
{
	_cleanup_free_ char *cwd = cwd_dup();
	_cleanup_free_ char *why = NULL;
	struct sbx_volume v;
	if (parse_volume(spec, cwd, &v, &why) < 0 || put_volume(p, &v, &why) < 0)
		return option_error(err, "volume", spec, why);
	return 0;
}

int profile_add_tmpfs(struct sbx_profile *p, const char *spec, struct sbx_error **err)
{
	_cleanup_free_ char *why = NULL;
	struct sbx_tmpfs t;
	if (profile_parse_tmpfs(spec, &t, &why) < 0 || put_tmpfs(p, &t, &why) < 0)
		return option_error(err, "tmpfs", spec, why);
	return 0;
}

int profile_add_env(struct sbx_profile *p, const char *spec, struct sbx_error **err)
{
	_cleanup_free_ char *why = NULL;
	char *kv = NULL;
	if (profile_parse_env(spec, &kv, &why) < 0 || put_env(p, kv, &why) < 0)
		return option_error(err, "env", spec, why);
	return 0;
}

int profile_add_publish(struct sbx_profile *p, const char *spec, struct sbx_error **err)
{
	_cleanup_free_ char *why = NULL;
	struct sbx_publish pub;
	if (net_publish_parse(spec, &pub, &why) < 0)
		return option_error(err, "publish", spec, why);
	pub.line = -1;
	if (put_publish(p, &pub, &why) < 0)
		return option_error(err, "publish", spec, why);
	return 0;
}

int profile_add_cap(struct sbx_profile *p, const char *name, bool drop, struct sbx_error **err)
{
	_cleanup_free_ char *why = NULL;
	if (put_caps(p, name, drop, &why) < 0)
		return option_error(err, drop ? "cap-drop" : "cap-add", name, why);
	return 0;
}

int profile_set_seccomp(struct sbx_profile *p, const char *value, struct sbx_error **err)
{
	_cleanup_free_ char *cwd = cwd_dup();
	_cleanup_free_ char *why = NULL;
	enum sbx_seccomp_mode mode;
	char *file = NULL;
	if (parse_seccomp(value, cwd, &mode, &file, &why) < 0)
		return option_error(err, "seccomp", value, why);
	free(p->seccomp_file);
	p->seccomp = mode;
	p->seccomp_file = file;
	return 0;
}

int profile_set_workdir(struct sbx_profile *p, const char *value, struct sbx_error **err)
{
	_cleanup_free_ char *why = NULL;
	char *w = path_normalize(value, false, "the working directory", &why);
	if (w == NULL)
		return option_error(err, "workdir", value, why);
	free(p->workdir);
	p->workdir = w;
	return 0;
}

int profile_set_hostname(struct sbx_profile *p, const char *value, struct sbx_error **err)
{
	_cleanup_free_ char *why = NULL;
	if (parse_hostname(value, &why) < 0)
		return option_error(err, "hostname", value, why);
	free(p->hostname);
	p->hostname = xstrdup(value);
	return 0;
}

int profile_set_user(struct sbx_profile *p, const char *value, struct sbx_error **err)
{
	_cleanup_free_ char *why = NULL;
	if (parse_user(value, &why) < 0)
		return option_error(err, "user", value, why);
	free(p->user);
	p->user = xstrdup(value);
	return 0;
}

int profile_validate(const struct sbx_profile *p, struct sbx_error **err)
{
	if (p->n_publish > 0 && p->net == SBX_NET_NONE)
		return sbx_error_set(err, 0,
		                     "--publish needs a user-mode network (--network pasta, "
		                     "slirp4netns or auto); network \"none\" has no route from "
		                     "the host");
	if (p->n_publish > 0 && p->net == SBX_NET_HOST)
		return sbx_error_set(err, 0,
		                     "--publish needs a user-mode network (--network pasta, "
		                     "slirp4netns or auto); with network \"host\" the sandbox "
		                     "already uses the host's ports");
	for (size_t i = 0; i < p->n_publish; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct sbx_publish *a = &p->publish[j], *b = &p->publish[i];
			if (!net_publish_overlap(a, b))
				continue;
			_cleanup_free_ char *sa = publish_spec(a);
			_cleanup_free_ char *sb = publish_spec(b);
			return sbx_error_set(
			    err, 0,
			    "published ports \"%s\" and \"%s\" both take host port "
			    "%u/%s; choose another host port",
			    sa, sb, b->host_port, b->udp ? "udp" : "tcp");
		}
	}
	return 0;
}

/* ---- lookup ---- */

struct search_dir {
	char *path;
	enum sbx_profile_origin origin;
	char *refused; /* why a shipped directory beside the binary is not used */
};

/* The binary's checkout when it runs as DIR/build/sbx from a source tree. */
static char *source_tree_profiles(char **why)
{
	const char *self = libexec_self();
	if (self == NULL || !str_endswith(self, "/build/sbx"))
		return NULL;
	_cleanup_free_ char *src = libexec_self_relative("../sandbox", NULL);
	char *dir = libexec_self_relative("../profiles", why);
	_cleanup_free_ char *ini = dir ? xasprintf("%s/default.ini", dir) : NULL;
	struct stat st;
	if (dir == NULL || src == NULL || stat(ini, &st) < 0 || !S_ISREG(st.st_mode) ||
	    stat(src, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* The shipped profiles: $SBX_DATADIR's, else a checkout's, else those in
 * ../share/sbx beside the binary's bin (an install, wherever it was put),
 * else where sbx was built to be installed. */
static char *shipped_profiles(char **why)
{
	const char *data = getenv("SBX_DATADIR");
	if (data && *data)
		return xasprintf("%s/profiles", data);
	/* Found once: the binary does not move. */
	static char *found, *found_why;
	if (found) {
		*why = found_why ? xstrdup(found_why) : NULL;
		return xstrdup(found);
	}
	char *dir = source_tree_profiles(why);
	if (dir == NULL) {
		struct stat st;
		char *why_share = NULL;
		dir = libexec_self_relative("../share/sbx/profiles", &why_share);
		if (dir && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
			free(dir);
			dir = NULL;
		}
		if (why_share) {
			free(*why);
			*why = why_share;
		}
	}
	found = dir ? dir : xstrdup(SBX_DATADIR "/profiles");
	found_why = *why ? xstrdup(*why) : NULL;
	return xstrdup(found);
}

static size_t search_dirs(struct search_dir out[3])
{
	size_t n = 0;
	_cleanup_free_ char *cfg = NULL;
	struct sbx_error *e = NULL;
	if (xdg_config_dir(&cfg, &e) == 0)
		out[n++] =
		    (struct search_dir){xasprintf("%s/profiles", cfg), SBX_ORIGIN_USER, NULL};
	sbx_error_free(e);
	const char *sys = getenv("SBX_SYSCONFDIR");
	out[n++] = (struct search_dir){xasprintf("%s/profiles", sys && *sys ? sys : SBX_SYSCONFDIR),
	                               SBX_ORIGIN_SYSTEM, NULL};
	char *why = NULL;
	char *shipped = shipped_profiles(&why);
	out[n++] = (struct search_dir){shipped, SBX_ORIGIN_SHIPPED, why};
	return n;
}

static void search_dirs_free(struct search_dir *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].path);
		free(d[i].refused);
	}
}

static bool is_path_name(const char *name)
{
	return strchr(name, '/') || str_endswith(name, ".ini");
}

static bool regular_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The name shown in chains and headers: a path's file name without ".ini". */
static char *display_name(const char *name)
{
	const char *b = strrchr(name, '/');
	b = b ? b + 1 : name;
	size_t n = strlen(b);
	if (n > 4 && str_endswith(b, ".ini"))
		n -= 4;
	return xstrndup(b, n);
}

/* Identity for cycle detection. */
static char *file_id(const char *path)
{
	char *r = realpath(path, NULL);
	return r ? r : xstrdup(path);
}

static int not_found(const char *name, struct search_dir *dirs, size_t n, struct sbx_error **err)
{
	_cleanup_free_ char *list = NULL;
	const char *refused = NULL;
	for (size_t i = 0; i < n; i++) {
		char *l = xasprintf("%s%s%s", list ? list : "", list ? ", " : "", dirs[i].path);
		free(list);
		list = l;
		refused = dirs[i].refused ? dirs[i].refused : refused;
	}
	return sbx_error_setc(err, ENOENT,
	                      "profile \"%s\" not found; looked in %s (see 'sbx profile ls')%s%s",
	                      name, list ? list : "", refused ? "; " : "", refused ? refused : "");
}

/* skip_id: the file asking, when a profile inherits its own name ("default"
 * in ~/.config extending the shipped "default"): the search goes on past it. */
static int find_profile(const char *name, const char *skip_id, char **path,
                        enum sbx_profile_origin *origin, struct sbx_error **err)
{
	if (name == NULL)
		name = "default";
	if (is_path_name(name)) {
		struct stat st;
		if (stat(name, &st) < 0)
			return sbx_error_set(err, errno, "cannot open profile \"%s\"", name);
		if (!S_ISREG(st.st_mode))
			return sbx_error_setc(err, EINVAL, "profile \"%s\" is not a regular file",
			                      name);
		*path = xstrdup(name);
		*origin = SBX_ORIGIN_PATH;
		return 0;
	}
	const char *why = NULL;
	if (name_validate(name, &why) < 0) {
		_cleanup_free_ char *d = str_display(name);
		return sbx_error_setc(err, EINVAL, "invalid profile name \"%s\": %s", d, why);
	}
	struct search_dir dirs[3];
	size_t n = search_dirs(dirs);
	char *first = NULL;
	enum sbx_profile_origin first_origin = SBX_ORIGIN_USER;
	bool passed = false;
	for (size_t i = 0; i < n; i++) {
		char *cand = xasprintf("%s/%s.ini", dirs[i].path, name);
		if (!regular_file(cand)) {
			free(cand);
			continue;
		}
		if (skip_id) {
			_cleanup_free_ char *id = file_id(cand);
			if (strcmp(id, skip_id) == 0) {
				/* Whatever came before the asking file does not count. */
				free(first);
				first = NULL;
				passed = true;
				free(cand);
				continue;
			}
		}
		if (first == NULL) {
			first = cand;
			first_origin = dirs[i].origin;
			if (!skip_id || passed)
				break;
		} else {
			free(cand);
		}
	}
	if (first == NULL) {
		not_found(name, dirs, n, err);
		search_dirs_free(dirs, n);
		return -1;
	}
	search_dirs_free(dirs, n);
	*path = first;
	*origin = first_origin;
	return 0;
}

int profile_find(const char *name, char **path, enum sbx_profile_origin *origin,
                 struct sbx_error **err)
{
	return find_profile(name, NULL, path, origin, err);
}

size_t profile_shadowed(const char *name, char **path, struct sbx_profile_entry **hidden)
{
	*path = NULL;
	*hidden = NULL;
	const char *why = NULL;
	if (name == NULL || is_path_name(name) || name_validate(name, &why) < 0)
		return 0;
	struct search_dir dirs[3];
	size_t nd = search_dirs(dirs), n = 0;
	bool user = false;
	for (size_t i = 0; i < nd; i++) {
		char *cand = xasprintf("%s/%s.ini", dirs[i].path, name);
		if (!regular_file(cand)) {
			free(cand);
			continue;
		}
		if (*path == NULL) {
			*path = cand;
			user = dirs[i].origin == SBX_ORIGIN_USER;
			continue;
		}
		*hidden = xrealloc(*hidden, (n + 1) * sizeof(**hidden));
		(*hidden)[n++] =
		    (struct sbx_profile_entry){xstrdup(name), cand, dirs[i].origin, NULL};
	}
	search_dirs_free(dirs, nd);
	if (!user || n == 0) {
		free(*path);
		*path = NULL;
		profile_entries_free(*hidden, n);
		*hidden = NULL;
		return 0;
	}
	return n;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sbx_profile_entry *)a)->name,
	              ((const struct sbx_profile_entry *)b)->name);
}

int profile_list(struct sbx_profile_entry **out, size_t *n_out, struct sbx_error **err)
{
	struct search_dir dirs[3];
	size_t nd = search_dirs(dirs);
	struct sbx_profile_entry *e = NULL;
	size_t n = 0;
	for (size_t i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i].path);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			const char *why = NULL;
			if (!str_endswith(de->d_name, ".ini") || strlen(de->d_name) <= 4)
				continue;
			_cleanup_free_ char *name =
			    xstrndup(de->d_name, strlen(de->d_name) - strlen(".ini"));
			if (name_validate(name, &why) < 0)
				continue;
			char *path = xasprintf("%s/%s", dirs[i].path, de->d_name);
			if (!regular_file(path)) {
				free(path);
				continue;
			}
			size_t k = 0;
			while (k < n && strcmp(e[k].name, name) != 0)
				k++;
			if (k < n) {
				strv_push_take(&e[k].shadows, path);
				continue;
			}
			e = xrealloc(e, (n + 1) * sizeof(*e));
			e[n++] =
			    (struct sbx_profile_entry){steal_ptr(name), path, dirs[i].origin, NULL};
		}
		closedir(d);
	}
	search_dirs_free(dirs, nd);
	if (n > 1)
		qsort(e, n, sizeof(*e), entry_cmp);
	*out = e;
	*n_out = n;
	(void)err;
	return 0;
}

void profile_entries_free(struct sbx_profile_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].path);
		strv_free(e[i].shadows);
	}
	free(e);
}

/* ---- loading ---- */

/* Diagnostics are gathered per file in three passes (pre-scan, inih, apply),
 * each in line order, and sorted when the file is done. Keeping the first
 * PROFILE_MAX_ERRS of each pass is enough to print the first ones overall. */
enum pass { PASS_SCAN, PASS_INI, PASS_APPLY, N_PASSES };

struct pending {
	int line;
	size_t seq;
	char *msg;
};

enum { LINE_SKIP = 1, LINE_KV = 2, LINE_SEEN = 4 };

struct line_info {
	signed char section;
	unsigned char flags;
};

struct entry {
	const struct key_def *def;
	char *value;
	int line;
};

struct mount_seen {
	char *dst;
	int line;
};

struct file_ctx {
	const char *file;
	char *dir; /* absolute directory of the file, for relative paths */
	struct line_info *lines;
	size_t n_lines;
	struct pending *pend;
	size_t n_pend, cap_pend, seq;
	size_t per_pass[N_PASSES];
	bool dropped;
	enum pass pass;
	struct entry *ents;
	size_t n_ents, cap_ents;
	int first_line[ARRAY_SIZE(keys)];
	struct mount_seen *mounts;
	size_t n_mounts;
};

struct load_ctx {
	struct sbx_diag *diag;
	size_t depth;
	char *ids[PROFILE_MAX_DEPTH + 1];
	char *names[PROFILE_MAX_DEPTH + 1];
};

static bool pend_full(struct file_ctx *fc)
{
	if (fc->per_pass[fc->pass] < PROFILE_MAX_ERRS)
		return false;
	fc->dropped = true;
	return true;
}

static void pend_add(struct file_ctx *fc, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pend_add(struct file_ctx *fc, int line, const char *fmt, ...)
{
	if (pend_full(fc))
		return;
	if (fc->n_pend == fc->cap_pend) {
		fc->cap_pend = fc->cap_pend ? 2 * fc->cap_pend : 16;
		fc->pend = xrealloc(fc->pend, fc->cap_pend * sizeof(*fc->pend));
	}
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	fc->pend[fc->n_pend++] = (struct pending){line, fc->seq++, msg};
	fc->per_pass[fc->pass]++;
}

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void pend_flush(struct file_ctx *fc, struct sbx_diag *d)
{
	if (fc->n_pend > 1)
		qsort(fc->pend, fc->n_pend, sizeof(*fc->pend), pending_cmp);
	size_t shown = fc->n_pend < PROFILE_MAX_ERRS ? fc->n_pend : PROFILE_MAX_ERRS;
	for (size_t i = 0; i < shown; i++)
		diag_add(d, fc->file, fc->pend[i].line, "%s", fc->pend[i].msg);
	if (fc->n_pend > shown || fc->dropped)
		diag_add(d, fc->file, 0, "too many errors; stopped after %d", PROFILE_MAX_ERRS);
}

static void file_ctx_free(struct file_ctx *fc)
{
	for (size_t i = 0; i < fc->n_pend; i++)
		free(fc->pend[i].msg);
	free(fc->pend);
	for (size_t i = 0; i < fc->n_ents; i++)
		free(fc->ents[i].value);
	free(fc->ents);
	for (size_t i = 0; i < fc->n_mounts; i++)
		free(fc->mounts[i].dst);
	free(fc->mounts);
	free(fc->lines);
	free(fc->dir);
}

/* Bytes inih never sees: NUL and invalid UTF-8, line by line. */
static bool scan_bytes(struct file_ctx *fc, const char *text, size_t len)
{
	bool bad = false;
	int line = 1;
	for (size_t start = 0; start < len; line++) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		if (memchr(text + start, '\0', end - start)) {
			pend_add(fc, line, "NUL byte");
			bad = true;
		} else if (!utf8_valid(text + start, end - start)) {
			pend_add(fc, line, "invalid UTF-8");
			bad = true;
		}
		start = end + 1;
	}
	return bad;
}

static const char *expected_line = "expected \"[section]\" or \"key = value\"";

static int section_lookup(const char *s, size_t n)
{
	for (int i = 0; i < N_SECTIONS; i++)
		if (strlen(section_names[i]) == n && strncmp(section_names[i], s, n) == 0)
			return i;
	return -1;
}

/* Decides what each line is and which section it belongs to, reporting
 * what inih would skip or misread; the handler trusts this, not inih. */
static void scan_lines(struct file_ctx *fc, char *buf)
{
	size_t n = 1;
	for (const char *c = buf; *c; c++)
		n += *c == '\n';
	fc->lines = xcalloc(n, sizeof(*fc->lines));
	fc->n_lines = n;
	int sec = SEC_UNSET;
	char *p = buf;
	for (size_t i = 0; i < n; i++) {
		int line = (int)i + 1;
		char *nl = strchrnul(p, '\n');
		char *s = p, *e = nl;
		if (i == 0 && str_startswith(s, "\xef\xbb\xbf"))
			s += 3;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		struct line_info *li = &fc->lines[i];
		if (s == e || *s == ';' || *s == '#') {
			/* blank or comment */
		} else if (*s == '[') {
			char *rb = memchr(s + 1, ']', (size_t)(e - s - 1));
			if (rb == NULL) {
				pend_add(fc, line, "%s", expected_line);
				sec = SEC_INVALID;
			} else {
				size_t len = (size_t)(rb - s - 1);
				_cleanup_free_ char *name = xstrndup(s + 1, len);
				_cleanup_free_ char *d = str_display(name);
				sec = section_lookup(name, len);
				if (sec >= 0) {
					/* known */
				} else if (len > INI_SECTION_MAX) {
					pend_add(fc, line,
					         "section name \"[%s]\" is too long (at most %d "
					         "bytes)",
					         d, INI_SECTION_MAX);
					sec = SEC_INVALID;
				} else if (!pend_full(fc)) {
					const char *close =
					    str_closest(name, section_names, N_SECTIONS);
					if (close)
						pend_add(fc, line,
						         "unknown section \"[%s]\"; did you mean "
						         "\"[%s]\"?",
						         d, close);
					else
						pend_add(fc, line,
						         "unknown section \"[%s]\"; expected "
						         "[profile], [namespaces], [network], "
						         "[filesystem], [process], [security] or "
						         "[limits]",
						         d);
					sec = SEC_INVALID;
				} else {
					sec = SEC_INVALID;
				}
				if (rb + 1 != e)
					pend_add(fc, line, "unexpected text after \"[%s]\"", d);
			}
		} else {
			li->flags |= LINE_KV;
			char *eq = memchr(s, '=', (size_t)(e - s));
			char *ke = eq;
			while (eq && ke > s && isspace((unsigned char)ke[-1]))
				ke--;
			/* inih also splits at ':', so "a:b = c" would be misread. */
			if (eq == NULL || ke == s || memchr(s, ':', (size_t)(eq - s))) {
				pend_add(fc, line, "%s", expected_line);
				li->flags |= LINE_SKIP;
			} else if (sec == SEC_UNSET) {
				_cleanup_free_ char *k = xstrndup(s, (size_t)(ke - s));
				_cleanup_free_ char *d = str_display(k);
				pend_add(fc, line, "key \"%s\" before the first [section]", d);
				li->flags |= LINE_SKIP;
			}
		}
		li->section = (signed char)sec;
		p = *nl ? nl + 1 : nl;
	}
}

static const struct key_def *key_find(int section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].section == section && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static void unknown_key(struct file_ctx *fc, int line, int section, const char *name)
{
	if (pend_full(fc))
		return;
	_cleanup_free_ char *d = str_display(name);
	const char *sec = section_names[section];
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(keys[i].name, name) == 0) {
			pend_add(fc, line, "key \"%s\" belongs in [%s], not [%s]", d,
			         section_names[keys[i].section], sec);
			return;
		}
	}
	const char *here[ARRAY_SIZE(keys)], *all[ARRAY_SIZE(keys)];
	size_t nh = 0;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		all[i] = keys[i].name;
		if (keys[i].section == section)
			here[nh++] = keys[i].name;
	}
	const char *close = str_closest(name, here, nh);
	if (close) {
		pend_add(fc, line, "unknown key \"%s\" in [%s]; did you mean \"%s\"?", d, sec,
		         close);
		return;
	}
	close = str_closest(name, all, ARRAY_SIZE(keys));
	if (close) {
		const struct key_def *k = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(keys) && k == NULL; i++)
			if (keys[i].name == close)
				k = &keys[i];
		pend_add(fc, line, "unknown key \"%s\" in [%s]; did you mean \"%s\" in [%s]?", d,
		         sec, close, section_names[k->section]);
		return;
	}
	pend_add(fc, line, "unknown key \"%s\" in [%s]", d, sec);
}

static int on_ini_line(void *user, const char *section, const char *name, const char *value,
                       int lineno)
{
	struct file_ctx *fc = user;
	(void)section; /* cut at 49 bytes and wrong after a broken header: use ours */
	if (lineno < 1 || (size_t)lineno > fc->n_lines)
		return 1;
	struct line_info *li = &fc->lines[lineno - 1];
	li->flags |= LINE_SEEN;
	if ((li->flags & LINE_SKIP) || li->section < 0)
		return 1;
	if (has_control(name) || has_control(value)) {
		pend_add(fc, lineno, "control character in \"%s\"", name);
		return 1;
	}
	const struct key_def *k = key_find(li->section, name);
	if (k == NULL) {
		unknown_key(fc, lineno, li->section, name);
		return 1;
	}
	size_t idx = (size_t)(k - keys);
	if (!k->repeatable) {
		if (fc->first_line[idx]) {
			pend_add(fc, lineno, "\"%s\" set twice (first at line %d)", name,
			         fc->first_line[idx]);
			return 1;
		}
		fc->first_line[idx] = lineno;
	}
	if (fc->n_ents == fc->cap_ents) {
		fc->cap_ents = fc->cap_ents ? 2 * fc->cap_ents : 32;
		fc->ents = xrealloc(fc->ents, fc->cap_ents * sizeof(*fc->ents));
	}
	fc->ents[fc->n_ents++] = (struct entry){k, xstrdup(value), lineno};
	return 1;
}

static void bad_value(struct file_ctx *fc, const struct entry *e, const char *why)
{
	_cleanup_free_ char *d = str_display(e->value);
	pend_add(fc, e->line, "invalid %s \"%s\": %s", e->def->name, d, why);
}

/* A second mount at the same place in one file is a mistake, not an override. */
static bool mount_twice(struct file_ctx *fc, const struct entry *e, const char *dst)
{
	for (size_t i = 0; i < fc->n_mounts; i++) {
		if (strcmp(fc->mounts[i].dst, dst) == 0) {
			_cleanup_free_ char *d = str_display(dst);
			pend_add(fc, e->line, "a mount at \"%s\" is already set at line %d", d,
			         fc->mounts[i].line);
			return true;
		}
	}
	fc->mounts = xrealloc(fc->mounts, (fc->n_mounts + 1) * sizeof(*fc->mounts));
	fc->mounts[fc->n_mounts++] = (struct mount_seen){xstrdup(dst), e->line};
	return false;
}

static bool *ns_field(struct sbx_profile *p, int id)
{
	switch (id) {
	case K_NS_PID:
		return &p->ns_pid;
	case K_NS_IPC:
		return &p->ns_ipc;
	case K_NS_UTS:
		return &p->ns_uts;
	case K_NS_CGROUP:
		return &p->ns_cgroup;
	case K_INIT:
		return &p->init;
	case K_RESTRICT_SUID_SGID:
		return &p->restrict_suid_sgid;
	default:
		return &p->no_new_privileges;
	}
}

static void apply_entry(struct file_ctx *fc, struct sbx_profile *p, const struct entry *e)
{
	const char *v = e->value;
	_cleanup_free_ char *why = NULL;
	int en = 0;
	bool b;
	switch (e->def->id) {
	case K_DESCRIPTION:
		free(p->description);
		p->description = v[0] ? xstrdup(v) : NULL;
		return;
	case K_INHERIT:
		return; /* resolved before the other keys */
	case K_NS_PID:
	case K_NS_IPC:
	case K_NS_UTS:
	case K_NS_CGROUP:
	case K_INIT:
	case K_NNP:
	case K_RESTRICT_SUID_SGID:
		if (parse_bool(v, &b) < 0)
			return bad_value(fc, e, "expected true or false (or yes/no, on/off, 1/0)");
		*ns_field(p, e->def->id) = b;
		return;
	case K_USERNS:
		if (profile_parse_userns(v, &p->userns, &why) < 0)
			return bad_value(fc, e, why);
		return;
	case K_NET:
		if (net_mode_parse(v, &p->net, NULL, &why) < 0)
			return bad_value(fc, e, why);
		return;
	case K_HOST_LOOPBACK:
		if (parse_bool(v, &b) < 0)
			return bad_value(fc, e, "expected true or false (or yes/no, on/off, 1/0)");
		p->host_loopback = b;
		return;
	case K_ROOTFS:
		if (str_choice(v, rootfs_names, ARRAY_SIZE(rootfs_names), &en, &why) < 0)
			return bad_value(fc, e, why);
		p->rootfs = (enum sbx_rootfs_mode)en;
		return;
	case K_OVERLAY:
		if (profile_parse_overlay(v, &p->overlay, &why) < 0)
			return bad_value(fc, e, why);
		return;
	case K_CAPS:
		if (str_choice(v, caps_names, ARRAY_SIZE(caps_names), &en, &why) < 0)
			return bad_value(fc, e, why);
		p->caps_base = (enum sbx_caps_base)en;
		return;
	case K_PUBLISH: {
		struct sbx_publish pub;
		if (v[0] == '\0')
			return publish_clear(p);
		if (net_publish_parse(v, &pub, &why) < 0)
			return bad_value(fc, e, why);
		pub.line = e->line;
		if (put_publish(p, &pub, &why) < 0)
			return bad_value(fc, e, why);
		return;
	}
	case K_VOLUME: {
		struct sbx_volume vol;
		if (v[0] == '\0')
			return volumes_clear(p);
		if (parse_volume(v, NULL, &vol, &why) < 0)
			return bad_value(fc, e, why);
		if (mount_twice(fc, e, vol.dst)) {
			free(vol.src);
			free(vol.dst);
			return;
		}
		if (put_volume(p, &vol, &why) < 0)
			return bad_value(fc, e, why);
		return;
	}
	case K_TMPFS: {
		struct sbx_tmpfs t;
		if (v[0] == '\0')
			return tmpfs_clear(p);
		if (profile_parse_tmpfs(v, &t, &why) < 0)
			return bad_value(fc, e, why);
		if (mount_twice(fc, e, t.dst)) {
			free(t.dst);
			return;
		}
		if (put_tmpfs(p, &t, &why) < 0)
			return bad_value(fc, e, why);
		return;
	}
	case K_MASK:
	case K_READONLY: {
		char ***list = e->def->id == K_MASK ? &p->masked : &p->readonly;
		if (v[0] == '\0')
			return strv_clear(list);
		char *path = path_normalize(v, false, "the path", &why);
		if (path && strcmp(path, "/") == 0) {
			free(path);
			path = why_set(&why, "the path must not be \"/\"");
		}
		if (path == NULL || put_path(list, path, e->def->name, &why) < 0)
			return bad_value(fc, e, why);
		return;
	}
	case K_LANDLOCK_FS_RO:
	case K_LANDLOCK_FS_RW: {
		char ***list =
		    e->def->id == K_LANDLOCK_FS_RO ? &p->landlock_fs_ro : &p->landlock_fs_rw;
		if (v[0] == '\0')
			return strv_clear(list);
		char *path = path_normalize(v, false, "the path", &why);
		if (path == NULL || put_path(list, path, e->def->name, &why) < 0)
			return bad_value(fc, e, why);
		return;
	}
	case K_LANDLOCK_TCP_BIND:
	case K_LANDLOCK_TCP_CONNECT: {
		char ***list = e->def->id == K_LANDLOCK_TCP_BIND ? &p->landlock_tcp_bind
		                                                 : &p->landlock_tcp_connect;
		if (v[0] == '\0')
			return strv_clear(list);
		if (put_ports(list, v, e->def->name, &why) < 0)
			return bad_value(fc, e, why);
		return;
	}
	case K_ENV: {
		char *kv = NULL;
		if (v[0] == '\0')
			return strv_clear(&p->env);
		if (profile_parse_env(v, &kv, &why) < 0 || put_env(p, kv, &why) < 0)
			return bad_value(fc, e, why);
		return;
	}
	case K_WORKDIR: {
		char *w = path_normalize(v, false, "the working directory", &why);
		if (w == NULL)
			return bad_value(fc, e, why);
		free(p->workdir);
		p->workdir = w;
		return;
	}
	case K_HOSTNAME:
		if (parse_hostname(v, &why) < 0)
			return bad_value(fc, e, why);
		free(p->hostname);
		p->hostname = xstrdup(v);
		return;
	case K_USER:
		if (v[0] && parse_user(v, &why) < 0)
			return bad_value(fc, e, why);
		free(p->user);
		p->user = v[0] ? xstrdup(v) : NULL;
		return;
	case K_CAP_ADD:
	case K_CAP_DROP: {
		bool drop = e->def->id == K_CAP_DROP;
		if (v[0] == '\0')
			return strv_clear(drop ? &p->cap_drop : &p->cap_add);
		if (put_caps(p, v, drop, &why) < 0)
			return bad_value(fc, e, why);
		return;
	}
	case K_SECCOMP: {
		char *file = NULL;
		enum sbx_seccomp_mode mode;
		if (parse_seccomp(v, fc->dir, &mode, &file, &why) < 0)
			return bad_value(fc, e, why);
		free(p->seccomp_file);
		p->seccomp = mode;
		p->seccomp_file = file;
		return;
	}
	case K_MEMORY:
	case K_PIDS: {
		uint64_t n = 0;
		bool mem = e->def->id == K_MEMORY;
		if (v[0] && parse_number(v, mem, &n, &why) < 0)
			return bad_value(fc, e, why);
		if (v[0] && n == 0)
			return bad_value(fc, e,
			                 "must be greater than 0 (leave it empty for no limit)");
		if (!mem && n > INT64_MAX)
			return bad_value(fc, e, "number too large");
		if (mem)
			p->memory = n;
		else
			p->pids = (int64_t)n;
		return;
	}
	case K_SCRATCH: {
		uint64_t n = 0;
		if (v[0] && parse_number(v, true, &n, &why) < 0)
			return bad_value(fc, e, why);
		if (v[0] && n == 0)
			return bad_value(fc, e,
			                 "must be greater than 0 (leave it empty for the default)");
		p->scratch = n;
		return;
	}
	case K_RLIMIT: {
		uint64_t soft, hard;
		if (v[0] == '\0')
			return drop_rlimit(p, e->def->resource);
		if (parse_rlimit(v, e->def->size, &soft, &hard, &why) < 0)
			return bad_value(fc, e, why);
		put_rlimit(p, e->def->resource, soft, hard);
		return;
	}
	}
}

static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	_cleanup_free_ char *dir = slash ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
	if (dir[0] == '\0')
		return xstrdup("/");
	if (dir[0] == '/')
		return steal_ptr(dir);
	_cleanup_free_ char *cwd = cwd_dup();
	if (strcmp(dir, ".") == 0)
		return steal_ptr(cwd);
	return xasprintf("%s/%s", cwd, dir);
}

static void load_text(struct load_ctx *lc, const char *file, const char *text, size_t len,
                      struct sbx_profile *p);

/* Loads the parent named by "inherit" into p, before the file's own keys. */
static void load_parent(struct load_ctx *lc, struct file_ctx *fc, const struct entry *e,
                        struct sbx_profile *p)
{
	const char *name = e->value;
	_cleanup_free_ char *path = NULL;
	_cleanup_error_ struct sbx_error *err = NULL;
	enum sbx_profile_origin origin;
	if (name[0] == '\0') {
		pend_add(fc, e->line, "inherit needs a profile name or file");
		return;
	}
#ifdef SBX_FUZZING
	/* Fuzzers run as root: keep them off /proc/kmsg and friends. */
	if (name[0] == '/' || strstr(name, "..")) {
		pend_add(fc, e->line, "fuzzing: inherit by absolute path or \"..\" disabled");
		return;
	}
#endif
	if (is_path_name(name)) {
		/* Relative to the inheriting file, like #include "x". */
		const char *slash = strrchr(fc->file, '/');
		_cleanup_free_ char *rel =
		    name[0] == '/' || slash == NULL
		        ? xstrdup(name)
		        : xasprintf("%.*s/%s", (int)(slash - fc->file), fc->file, name);
		if (find_profile(rel, NULL, &path, &origin, &err) < 0) {
			pend_add(fc, e->line, "%s", err->msg);
			return;
		}
	} else if (find_profile(name, lc->ids[lc->depth - 1], &path, &origin, &err) < 0) {
		pend_add(fc, e->line, "%s", err->msg);
		return;
	}
	_cleanup_free_ char *id = file_id(path);
	_cleanup_free_ char *pname = display_name(name);
	for (size_t i = 0; i < lc->depth; i++) {
		if (strcmp(lc->ids[i], id) != 0)
			continue;
		_cleanup_free_ char *cycle = NULL;
		for (size_t k = i; k < lc->depth; k++) {
			char *c = xasprintf("%s%s -> ", cycle ? cycle : "", lc->names[k]);
			free(cycle);
			cycle = c;
		}
		pend_add(fc, e->line, "inheritance cycle: %s%s", cycle, pname);
		return;
	}
	if (lc->depth >= PROFILE_MAX_DEPTH) {
		pend_add(fc, e->line, "inheritance deeper than %d profiles", PROFILE_MAX_DEPTH);
		return;
	}
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (read_file(path, PROFILE_MAX_SIZE, &text, &len, &err) < 0) {
		if (err->code == EFBIG)
			diag_add(lc->diag, path, 0, "larger than 1 MiB");
		else
			pend_add(fc, e->line, "%s", err->msg);
		return;
	}
	lc->ids[lc->depth] = steal_ptr(id);
	lc->names[lc->depth] = xstrdup(pname);
	lc->depth++;
	load_text(lc, path, text, len, p);
	lc->depth--;
	free(lc->ids[lc->depth]);
	free(lc->names[lc->depth]);
	strv_push(&p->chain, pname);
}

static void load_text(struct load_ctx *lc, const char *file, const char *text, size_t len,
                      struct sbx_profile *p)
{
	struct file_ctx fc = {.file = file};
	fc.pass = PASS_SCAN;
	if (len > PROFILE_MAX_SIZE) {
		diag_add(lc->diag, file, 0, "larger than 1 MiB");
		return;
	}
	if (scan_bytes(&fc, text, len)) {
		pend_flush(&fc, lc->diag);
		file_ctx_free(&fc);
		return;
	}
	_cleanup_free_ char *buf = xstrndup(text, len);
	scan_lines(&fc, buf);

	/* Debian's inih has these as globals (libraries.md §2); set them every
	 * time so nobody else's settings leak in. */
	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_allow_inline_comments = false;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = PROFILE_MAX_SIZE + 2; /* no line can ever be split */
	fc.pass = PASS_INI;
	int r = ini_parse_string(buf, on_ini_line, &fc);
	if (r == -2)
		abort(); /* out of memory, like xmalloc */
	/* Anything inih skipped that the scan thought fine. */
	for (size_t i = 0; i < fc.n_lines; i++) {
		struct line_info *li = &fc.lines[i];
		if ((li->flags & (LINE_KV | LINE_SKIP | LINE_SEEN)) == LINE_KV && li->section >= 0)
			pend_add(&fc, (int)i + 1, "%s", expected_line);
	}

	fc.pass = PASS_APPLY;
	fc.dir = dir_of(file);
	for (size_t i = 0; i < fc.n_ents; i++)
		if (fc.ents[i].def->id == K_INHERIT)
			load_parent(lc, &fc, &fc.ents[i], p);
	publish_inherit(p);
	/* A file's drops go first, as Docker does: "cap_drop = ALL" clears what
	 * was inherited, not the cap_add lines next to it. */
	for (size_t i = 0; i < fc.n_ents && !fc.dropped; i++)
		if (fc.ents[i].def->id == K_CAP_DROP)
			apply_entry(&fc, p, &fc.ents[i]);
	for (size_t i = 0; i < fc.n_ents && !fc.dropped; i++)
		if (fc.ents[i].def->id != K_CAP_DROP)
			apply_entry(&fc, p, &fc.ents[i]);
	pend_flush(&fc, lc->diag);
	file_ctx_free(&fc);
}

static int load_top(const char *name, const char *path, const char *text, size_t len,
                    struct sbx_profile **out, struct sbx_diag *diag, struct sbx_error **err)
{
	struct sbx_diag local = {0};
	struct sbx_diag *d = diag ? diag : &local;
	size_t before = diag_count(d);
	struct load_ctx lc = {.diag = d};
	lc.ids[0] = file_id(path);
	lc.names[0] = display_name(name);
	lc.depth = 1;
	_cleanup_profile_ struct sbx_profile *p = profile_new();
	load_text(&lc, path, text, len, p);
	publish_inherit(p);
	free(lc.ids[0]);
	free(lc.names[0]);
	size_t n = diag_count(d) - before;
	diag_clear(&local);
	if (n > 0)
		return sbx_error_set(err, 0, "profile \"%s\" has %zu error%s", name, n,
		                     n == 1 ? "" : "s");
	p->name = xstrdup(name);
	p->path = xstrdup(path);
	*out = steal_ptr(p);
	return 0;
}

int profile_load(const char *name, struct sbx_profile **out, struct sbx_diag *diag,
                 struct sbx_error **err)
{
	if (name == NULL)
		name = "default";
	_cleanup_free_ char *path = NULL;
	enum sbx_profile_origin origin;
	if (profile_find(name, &path, &origin, err) < 0)
		return -1;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	_cleanup_error_ struct sbx_error *rerr = NULL;
	if (read_file(path, PROFILE_MAX_SIZE, &text, &len, &rerr) < 0) {
		if (rerr->code != EFBIG) {
			/* read_file's message names the file and the errno. */
			if (err && *err == NULL)
				*err = steal_ptr(rerr);
			return -1;
		}
		struct sbx_diag local = {0};
		diag_add(diag ? diag : &local, path, 0, "larger than 1 MiB");
		diag_clear(&local);
		return sbx_error_set(err, 0, "profile \"%s\" has 1 error", name);
	}
	return load_top(name, path, text, len, out, diag, err);
}

int profile_load_string(const char *file, const char *text, size_t len, struct sbx_profile **out,
                        struct sbx_diag *diag, struct sbx_error **err)
{
	return load_top(file, file, text, len, out, diag, err);
}

/* ---- dump ---- */

static void fmt_size(FILE *f, uint64_t v)
{
	static const char units[] = "TGMK";
	for (int i = 0; i < 4; i++) {
		unsigned shift = (unsigned)(40 - 10 * i);
		uint64_t unit = (uint64_t)1 << shift;
		if (v && v % unit == 0) {
			fprintf(f, "%llu%c", (unsigned long long)(v >> shift), units[i]);
			return;
		}
	}
	fprintf(f, "%llu", (unsigned long long)v);
}

static void fmt_limit(FILE *f, uint64_t v, bool size)
{
	if (v == UINT64_MAX)
		fputs("unlimited", f);
	else if (size)
		fmt_size(f, v);
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

static void dump_list(FILE *f, const char *key, char *const *v)
{
	if (v == NULL || v[0] == NULL)
		fprintf(f, "%s =\n", key);
	for (size_t i = 0; v && v[i]; i++)
		fprintf(f, "%s = %s\n", key, v[i]);
}

static const char *bool_word(bool b)
{
	return b ? "true" : "false";
}

void profile_dump(const struct sbx_profile *p, FILE *f)
{
	fprintf(f, "# profile %s", p->name ? p->name : "(defaults)");
	if (p->path)
		fprintf(f, " from %s", p->path);
	if (p->chain && p->chain[0]) {
		fputs(" (inherits: ", f);
		for (size_t i = 0; p->chain[i]; i++)
			fprintf(f, "%s%s", i ? ", " : "", p->chain[i]);
		fputc(')', f);
	}
	fputc('\n', f);

	fprintf(f, "[profile]\ndescription =%s%s\n", p->description ? " " : "",
	        p->description ? p->description : "");

	fprintf(f, "\n[namespaces]\npid = %s\nipc = %s\nuts = %s\ncgroup = %s\nuser = %s\n",
	        bool_word(p->ns_pid), bool_word(p->ns_ipc), bool_word(p->ns_uts),
	        bool_word(p->ns_cgroup),
	        (size_t)p->userns < ARRAY_SIZE(userns_names) ? userns_names[p->userns] : "?");

	fprintf(f, "\n[network]\nmode = %s\nhost_loopback = %s\n", net_mode_name(p->net),
	        bool_word(p->host_loopback));
	if (p->n_publish == 0)
		fputs("publish =\n", f);
	for (size_t i = 0; i < p->n_publish; i++) {
		_cleanup_free_ char *spec = publish_spec(&p->publish[i]);
		fprintf(f, "publish = %s\n", spec);
	}

	fprintf(f, "\n[filesystem]\nrootfs = %s\noverlay = %s\n",
	        (size_t)p->rootfs < ARRAY_SIZE(rootfs_names) ? rootfs_names[p->rootfs] : "?",
	        profile_overlay_name(p->overlay));
	if (p->n_volumes == 0)
		fputs("volume =\n", f);
	for (size_t i = 0; i < p->n_volumes; i++)
		fprintf(f, "volume = %s:%s:%s\n", p->volumes[i].src, p->volumes[i].dst,
		        p->volumes[i].ro ? "ro" : "rw");
	if (p->n_tmpfs == 0)
		fputs("tmpfs =\n", f);
	for (size_t i = 0; i < p->n_tmpfs; i++) {
		fprintf(f, "tmpfs = %s:", p->tmpfs[i].dst);
		if (p->tmpfs[i].size) {
			fputs("size=", f);
			fmt_size(f, p->tmpfs[i].size);
			fputc(',', f);
		}
		fprintf(f, "mode=%o\n", p->tmpfs[i].mode);
	}
	dump_list(f, "mask", p->masked);
	dump_list(f, "readonly", p->readonly);

	fputs("\n[process]\n", f);
	dump_list(f, "env", p->env);
	fprintf(f, "workdir = %s\nhostname = %s\nuser =%s%s\ninit = %s\n",
	        p->workdir ? p->workdir : "/", p->hostname ? p->hostname : "sbx",
	        p->user ? " " : "", p->user ? p->user : "", bool_word(p->init));

	fprintf(f, "\n[security]\ncapabilities = %s\n",
	        (size_t)p->caps_base < ARRAY_SIZE(caps_names) ? caps_names[p->caps_base] : "?");
	dump_list(f, "cap_add", p->cap_add);
	dump_list(f, "cap_drop", p->cap_drop);
	if (p->seccomp == SBX_SECCOMP_FILE)
		fprintf(f, "seccomp = %s\n", p->seccomp_file ? p->seccomp_file : "");
	else
		fprintf(f, "seccomp = %s\n",
		        p->seccomp == SBX_SECCOMP_UNCONFINED ? "unconfined" : "default");
	fprintf(f, "no_new_privileges = %s\n", bool_word(p->no_new_privileges));
	fprintf(f, "restrict_suid_sgid = %s\n", bool_word(p->restrict_suid_sgid));

	dump_list(f, "landlock_fs_ro", p->landlock_fs_ro);
	dump_list(f, "landlock_fs_rw", p->landlock_fs_rw);
	dump_list(f, "landlock_tcp_bind", p->landlock_tcp_bind);
	dump_list(f, "landlock_tcp_connect", p->landlock_tcp_connect);

	fputs("\n[limits]\nmemory =", f);
	if (p->memory) {
		fputc(' ', f);
		fmt_size(f, p->memory);
	}
	fputs("\nscratch =", f);
	if (p->scratch) {
		fputc(' ', f);
		fmt_size(f, p->scratch);
	}
	fputs("\npids =", f);
	if (p->pids > 0)
		fprintf(f, " %lld", (long long)p->pids);
	fputc('\n', f);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].id != K_RLIMIT)
			continue;
		const struct sbx_rlimit *r = NULL;
		for (size_t k = 0; k < p->n_rlimits && r == NULL; k++)
			if (p->rlimits[k].resource == keys[i].resource)
				r = &p->rlimits[k];
		fprintf(f, "%s =", keys[i].name);
		if (r) {
			fputc(' ', f);
			fmt_limit(f, r->soft, keys[i].size);
			if (r->hard != r->soft) {
				fputc(':', f);
				fmt_limit(f, r->hard, keys[i].size);
			}
		}
		fputc('\n', f);
	}
}
