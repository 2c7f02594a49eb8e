/* profile.c - sandbox profiles: INI files resolved into struct sbx_profile.
 *
 * Every key and command-line option is one entry of the settings table
 * (settings.c); this grammar is its summary.
 *
 * Grammar. A profile is UTF-8 text of at most 1 MiB without NUL bytes. Each
 * line is blank, a comment (first non-blank character ';' or '#'), a
 * "[section]" header, or "key = value". There are no inline comments (a ';'
 * inside a value is part of it), no continuation lines and no quoting;
 * blanks around keys and values are dropped. Keys are case-sensitive.
 *
 *   [profile]     description = TEXT
 *                 inherit = NAME | FILE        parent profile, applied first
 *                 pull = never | missing | always
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
 *                 umask = OCTAL                        (empty: sbx's own)
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
 *                 cpus = N.N                           (empty: no limit)
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
#include "profile/settings.h"
#include "lib/libexec.h"
#include "runtime/caps.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
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
#define PROFILE_MAX_ERRS  100 /* diagnostics per file, like -fmax-errors */
#define INI_SECTION_MAX   49  /* inih cuts section names here */

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
bool profile_has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	return false;
}

/* ---- sections (the keys are in the settings table, settings.c) ---- */

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
	p->umask = -1;
}

struct sbx_profile *profile_new(void)
{
	struct sbx_profile *p = xmalloc(sizeof(*p));
	profile_init_defaults(p);
	return p;
}

void profile_clear_volumes(struct sbx_profile *p)
{
	for (size_t i = 0; i < p->n_volumes; i++) {
		free(p->volumes[i].src);
		free(p->volumes[i].dst);
		free(p->volumes[i].origin);
	}
	free(p->volumes);
	p->volumes = NULL;
	p->n_volumes = 0;
}

void profile_clear_tmpfs(struct sbx_profile *p)
{
	for (size_t i = 0; i < p->n_tmpfs; i++)
		free(p->tmpfs[i].dst);
	free(p->tmpfs);
	p->tmpfs = NULL;
	p->n_tmpfs = 0;
}

void profile_clear_publish(struct sbx_profile *p)
{
	for (size_t i = 0; i < p->n_publish; i++)
		free(p->publish[i].host_ip);
	free(p->publish);
	p->publish = NULL;
	p->n_publish = 0;
}

void profile_strv_clear(char ***v)
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
	profile_clear_publish(p);
	profile_clear_volumes(p);
	profile_clear_tmpfs(p);
	strv_free(p->masked);
	strv_free(p->readonly);
	strv_free(p->env);
	free(p->workdir);
	free(p->hostname);
	free(p->user);
	strv_free(p->entrypoint);
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

/* The profile names in dirs closest to name ("defualt": "default"), or NULL. */
static char *closest_name(const char *name, struct search_dir *dirs, size_t n)
{
	_cleanup_strv_ char **names = NULL;
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		DIR *d = opendir(dirs[i].path);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			size_t len = strlen(de->d_name);
			if (len > 4 && str_endswith(de->d_name, ".ini")) {
				_cleanup_free_ char *b = xstrndup(de->d_name, len - 4);
				strv_push(&names, b);
				count++;
			}
		}
		closedir(d);
	}
	const char *best = str_closest(name, (const char *const *)names, count);
	return best ? xstrdup(best) : NULL;
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
	_cleanup_free_ char *close = closest_name(name, dirs, n);
	_cleanup_free_ char *mean = close ? xasprintf("; did you mean \"%s\"?", close) : NULL;
	return sbx_error_setc(
	    err, ENOENT, "profile \"%s\" not found; looked in %s (see 'sbx profile ls')%s%s%s",
	    name, list ? list : "", refused ? "; " : "", refused ? refused : "", mean ? mean : "");
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
		/* The user's directory comes first: without a file of the
		 * name there, nothing is shadowed, and the rest goes unread. */
		if (*path == NULL && dirs[i].origin != SBX_ORIGIN_USER)
			break;
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
	const struct sbx_setting *def;
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
	int first_line[SETTINGS_MAX];
	struct mount_seen *mounts;
	size_t n_mounts;
};

const char *profile_file_name(const struct file_ctx *fc)
{
	return fc->file;
}

struct load_ctx {
	struct sbx_diag *diag;
	size_t depth;
	/* ids[0], the top file's realpath (a readlink per component), is
	 * resolved only when that file inherits: from top_path. */
	const char *top_path;
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

static int section_of(const struct sbx_setting *k)
{
	return section_lookup(k->section, strlen(k->section));
}

static const struct sbx_setting *key_find(int section, const char *name)
{
	size_t n_settings;
	const struct sbx_setting *settings = profile_settings(&n_settings);
	for (size_t i = 0; i < n_settings; i++)
		if (settings[i].key && strcmp(settings[i].key, name) == 0 &&
		    section_of(&settings[i]) == section)
			return &settings[i];
	return NULL;
}

static void unknown_key(struct file_ctx *fc, int line, int section, const char *name)
{
	if (pend_full(fc))
		return;
	_cleanup_free_ char *d = str_display(name);
	const char *sec = section_names[section];
	size_t n_settings;
	const struct sbx_setting *settings = profile_settings(&n_settings);
	for (size_t i = 0; i < n_settings; i++) {
		if (settings[i].key && strcmp(settings[i].key, name) == 0) {
			pend_add(fc, line, "key \"%s\" belongs in [%s], not [%s]", d,
			         settings[i].section, sec);
			return;
		}
	}
	const char *here[SETTINGS_MAX], *all[SETTINGS_MAX];
	const struct sbx_setting *of[SETTINGS_MAX];
	size_t nh = 0, na = 0;
	for (size_t i = 0; i < n_settings; i++) {
		if (settings[i].key == NULL)
			continue;
		of[na] = &settings[i];
		all[na++] = settings[i].key;
		if (section_of(&settings[i]) == section)
			here[nh++] = settings[i].key;
	}
	const char *close = str_closest(name, here, nh);
	if (close) {
		pend_add(fc, line, "unknown key \"%s\" in [%s]; did you mean \"%s\"?", d, sec,
		         close);
		return;
	}
	close = str_closest(name, all, na);
	if (close) {
		const struct sbx_setting *k = NULL;
		for (size_t i = 0; i < na && k == NULL; i++)
			if (all[i] == close)
				k = of[i];
		pend_add(fc, line, "unknown key \"%s\" in [%s]; did you mean \"%s\" in [%s]?", d,
		         sec, close, k->section);
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
	if (profile_has_control(name) || profile_has_control(value)) {
		pend_add(fc, lineno, "control character in \"%s\"", name);
		return 1;
	}
	const struct sbx_setting *k = key_find(li->section, name);
	if (k == NULL) {
		unknown_key(fc, lineno, li->section, name);
		return 1;
	}
	size_t n_settings;
	size_t idx = (size_t)(k - profile_settings(&n_settings));
	if (!(k->flags & SBX_SETTING_REPEATABLE)) {
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
	pend_add(fc, e->line, "invalid %s \"%s\": %s", e->def->key, d, why);
}

/* A second mount at the same place in one file is a mistake, not an override. */
bool profile_mount_twice(struct file_ctx *fc, int line, const char *dst)
{
	for (size_t i = 0; i < fc->n_mounts; i++) {
		if (strcmp(fc->mounts[i].dst, dst) == 0) {
			_cleanup_free_ char *d = str_display(dst);
			pend_add(fc, line, "a mount at \"%s\" is already set at line %d", d,
			         fc->mounts[i].line);
			return true;
		}
	}
	fc->mounts = xrealloc(fc->mounts, (fc->n_mounts + 1) * sizeof(*fc->mounts));
	fc->mounts[fc->n_mounts++] = (struct mount_seen){xstrdup(dst), line};
	return false;
}

static void apply_entry(struct file_ctx *fc, struct sbx_profile *p, const struct entry *e)
{
	_cleanup_free_ char *why = NULL;
	struct set_ctx c = {fc, e->line, fc->dir, NULL};
	if (e->def->set(p, e->def, e->value, &c, &why) == -1)
		bad_value(fc, e, why ? why : "invalid value");
}

static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	_cleanup_free_ char *dir = slash ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
	if (dir[0] == '\0')
		return xstrdup("/");
	if (dir[0] == '/')
		return steal_ptr(dir);
	_cleanup_free_ char *cwd = settings_cwd();
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
	if (lc->ids[0] == NULL)
		lc->ids[0] = file_id(lc->top_path);
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
		if (fc.ents[i].def->flags & SBX_SETTING_INHERIT)
			load_parent(lc, &fc, &fc.ents[i], p);
	settings_publish_inherit(p);
	/* A file's drops go first, as Docker does: "cap_drop = ALL" clears what
	 * was inherited, not the cap_add lines next to it. */
	for (size_t i = 0; i < fc.n_ents && !fc.dropped; i++)
		if (fc.ents[i].def->flags & SBX_SETTING_DROP)
			apply_entry(&fc, p, &fc.ents[i]);
	for (size_t i = 0; i < fc.n_ents && !fc.dropped; i++)
		if (!(fc.ents[i].def->flags & SBX_SETTING_DROP))
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
	lc.top_path = path;
	lc.names[0] = display_name(name);
	lc.depth = 1;
	_cleanup_profile_ struct sbx_profile *p = profile_new();
	load_text(&lc, path, text, len, p);
	settings_publish_inherit(p);
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
	const char *section = NULL;
	size_t n_settings;
	const struct sbx_setting *settings = profile_settings(&n_settings);
	for (size_t i = 0; i < n_settings; i++) {
		const struct sbx_setting *s = &settings[i];
		if (s->key == NULL || s->dump == NULL)
			continue;
		if (section == NULL || strcmp(section, s->section) != 0)
			fprintf(f, "%s[%s]\n", section ? "\n" : "", s->section);
		section = s->section;
		s->dump(p, s, f);
	}
}
