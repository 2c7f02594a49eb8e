/* settings.c - the settings table: every profile key and command-line
 * option (see settings.h and profile.h), the parsers of their values, the
 * functions that set them in struct sbx_profile and print them back, and
 * the command-line overrides. profile.c loads the INI files through it. */
#define _GNU_SOURCE
#include "profile/settings.h"
#include "lib/libexec.h"
#include "runtime/caps.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static const char *const userns_names[] = {"single", "subid"};
static const char *const overlay_names[] = {"auto", "kernel", "fuse"};

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

/* Absolute, normalised: no empty or "." components, no trailing '/', and
 * not ending in a space. ".." is refused unless allowed (host paths). */
static char *path_normalize(const char *s, bool allow_dotdot, const char *what, char **why)
{
	if (s[0] == '\0')
		return why_set(why, "%s is empty", what);
	if (s[0] != '/')
		return why_set(why, "%s must be an absolute path", what);
	if (profile_has_control(s) || strchr(s, '\t'))
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
	/* An INI value loses its trailing blanks, so a profile could not keep
	 * such a path ("/a /" is "/a "): refused, wherever it came from. */
	if (out[n - 1] == ' ') {
		free(out);
		return why_set(why, "%s ends with a space, which a profile cannot keep", what);
	}
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
	if (profile_has_control(spec)) {
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

char *settings_cwd(void)
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
			free(p->volumes[i].origin);
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
			free(p->volumes[i].origin);
			p->volumes[i] = *v;
			return 0;
		}
	}
	if (p->n_volumes >= PROFILE_MAX_LIST) {
		free(v->src);
		free(v->dst);
		free(v->origin);
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
void settings_publish_inherit(struct sbx_profile *p)
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
				profile_strv_clear(&p->cap_add);
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

/* ---- the settings table: set and dump ----
 *
 * A set function parses a value into the profile: 0, or -1 with *why, or -2
 * when it reported the problem itself (a mount given twice in one file, the
 * lines of an --env-file). c->fc is the profile file being applied, NULL
 * for a command-line option; only a file's empty value clears a list or
 * unsets a key. */

#define FIELD(p, s, type)  ((type *)((char *)(p) + (s)->offset))
#define CFIELD(p, s, type) ((type const *)((const char *)(p) + (s)->offset))

static bool empty_in_file(const struct set_ctx *c, const char *v)
{
	return c->fc != NULL && v[0] == '\0';
}

static const char *const bool_words[] = {"true", "false", "yes", "no", "on", "off", "1", "0"};

static int set_bool(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                    struct set_ctx *c, char **why)
{
	bool b;
	if (parse_bool(v, &b) == 0) {
		*FIELD(p, s, bool) = b;
		return 0;
	}
	/* Words this short get two edits, so that "treu" finds "true". */
	const char *close = NULL;
	size_t best = 3;
	for (size_t i = 0; i < ARRAY_SIZE(bool_words) && strlen(v) > 1; i++) {
		size_t d = str_distance(v, bool_words[i]);
		if (d < best && d < strlen(bool_words[i])) {
			best = d;
			close = bool_words[i];
		}
	}
	if (close)
		why_set(why,
		        "expected true or false (or yes/no, on/off, 1/0); did you mean \"%s\"?",
		        close);
	else
		why_set(why, "expected true or false (or yes/no, on/off, 1/0)");
	return -1;
}

static const char *bool_word(bool b)
{
	return b ? "true" : "false";
}

static void dump_bool(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	fprintf(f, "%s = %s\n", s->key, bool_word(*CFIELD(p, s, bool)));
}

/* The words of s->choices; returns how many (at most 8). */
static size_t choice_words(const struct sbx_setting *s, char *buf, size_t len, const char *w[8])
{
	snprintf(buf, len, "%s", s->choices);
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	return n;
}

/* The enum fields set_enum writes through an int. */
_Static_assert(sizeof(enum sbx_userns_mode) == sizeof(int) &&
                   sizeof(enum sbx_rootfs_mode) == sizeof(int) &&
                   sizeof(enum sbx_overlay_backend) == sizeof(int) &&
                   sizeof(enum sbx_caps_base) == sizeof(int) &&
                   sizeof(enum sbx_pull) == sizeof(int),
               "an enum field is not an int");

/* An enum field: the index of the word in s->choices. */
static int set_enum(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                    struct set_ctx *c, char **why)
{
	char buf[128];
	const char *w[8];
	size_t n = choice_words(s, buf, sizeof(buf), w);
	int i;
	if (str_choice(v, w, n, &i, why) < 0)
		return -1;
	*FIELD(p, s, int) = i;
	return 0;
}

static void dump_enum(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	char buf[128];
	const char *w[8];
	size_t n = choice_words(s, buf, sizeof(buf), w);
	int i = *CFIELD(p, s, int);
	fprintf(f, "%s = %s\n", s->key, i >= 0 && (size_t)i < n ? w[i] : "?");
}

/* podman's --pull words, but "newer": sbx keeps no manifest digest to
 * compare with the registry's. */
static int set_pull(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                    struct set_ctx *c, char **why)
{
	if (strcmp(v, "newer") == 0) {
		why_set(why, "sbx keeps no manifest digest to compare with the registry's; use "
		             "missing or always");
		return -1;
	}
	return set_enum(p, s, v, c, why);
}

static int set_inherit(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                       struct set_ctx *c, char **why)
{
	return 0; /* resolved before the other keys */
}

/* A string that an empty value unsets (description, user). */
static int set_text(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                    struct set_ctx *c, char **why)
{
	char **field = FIELD(p, s, char *);
	free(*field);
	*field = v[0] ? xstrdup(v) : NULL;
	return 0;
}

static void dump_text(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	const char *v = *CFIELD(p, s, char *);
	fprintf(f, "%s =%s%s\n", s->key, v ? " " : "", v ? v : "");
}

static void dump_strv(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	char *const *v = *CFIELD(p, s, char **);
	if (v == NULL || v[0] == NULL)
		fprintf(f, "%s =\n", s->key);
	for (size_t i = 0; v && v[i]; i++)
		fprintf(f, "%s = %s\n", s->key, v[i]);
}

static int set_net_mode(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                        struct set_ctx *c, char **why)
{
	return net_mode_parse(v, &p->net, NULL, why);
}

static void dump_net_mode(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	fprintf(f, "%s = %s\n", s->key, net_mode_name(p->net));
}

/* --network: the mode and its options together; a plain mode turns
 * host-loopback off. */
static int set_network(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                       struct set_ctx *c, char **why)
{
	return net_mode_parse(v, &p->net, &p->host_loopback, why);
}

static int set_publish(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                       struct set_ctx *c, char **why)
{
	struct sbx_publish pub;
	if (empty_in_file(c, v)) {
		profile_clear_publish(p);
		return 0;
	}
	if (net_publish_parse(v, &pub, why) < 0)
		return -1;
	pub.line = c->line;
	return put_publish(p, &pub, why);
}

static void dump_publish(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	if (p->n_publish == 0)
		fprintf(f, "%s =\n", s->key);
	for (size_t i = 0; i < p->n_publish; i++) {
		_cleanup_free_ char *spec = publish_spec(&p->publish[i]);
		fprintf(f, "%s = %s\n", s->key, spec);
	}
}

static int set_volume(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                      struct set_ctx *c, char **why)
{
	struct sbx_volume vol;
	if (empty_in_file(c, v)) {
		profile_clear_volumes(p);
		return 0;
	}
	/* ./x sources only on the command line: a profile's directory is no
	 * good base. */
	if (parse_volume(v, c->fc ? NULL : c->base, &vol, why) < 0)
		return -1;
	if (c->fc && profile_mount_twice(c->fc, c->line, vol.dst)) {
		free(vol.src);
		free(vol.dst);
		return -2;
	}
	if (c->fc)
		vol.origin = xasprintf("%s:%d", profile_file_name(c->fc), c->line);
	return put_volume(p, &vol, why);
}

static void dump_volume(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	if (p->n_volumes == 0)
		fprintf(f, "%s =\n", s->key);
	for (size_t i = 0; i < p->n_volumes; i++)
		fprintf(f, "%s = %s:%s:%s\n", s->key, p->volumes[i].src, p->volumes[i].dst,
		        p->volumes[i].ro ? "ro" : "rw");
}

static int set_tmpfs(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                     struct set_ctx *c, char **why)
{
	struct sbx_tmpfs t;
	if (empty_in_file(c, v)) {
		profile_clear_tmpfs(p);
		return 0;
	}
	if (profile_parse_tmpfs(v, &t, why) < 0)
		return -1;
	if (c->fc && profile_mount_twice(c->fc, c->line, t.dst)) {
		free(t.dst);
		return -2;
	}
	return put_tmpfs(p, &t, why);
}

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

static void dump_tmpfs(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	if (p->n_tmpfs == 0)
		fprintf(f, "%s =\n", s->key);
	for (size_t i = 0; i < p->n_tmpfs; i++) {
		fprintf(f, "%s = %s:", s->key, p->tmpfs[i].dst);
		if (p->tmpfs[i].size) {
			fputs("size=", f);
			fmt_size(f, p->tmpfs[i].size);
			fputc(',', f);
		}
		fprintf(f, "mode=%o\n", p->tmpfs[i].mode);
	}
}

/* A list of sandbox paths; arg 1: "/" refused (mask, readonly). */
static int set_path_list(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                         struct set_ctx *c, char **why)
{
	char ***list = FIELD(p, s, char **);
	if (empty_in_file(c, v)) {
		profile_strv_clear(list);
		return 0;
	}
	char *path = path_normalize(v, false, "the path", why);
	if (path && s->arg && strcmp(path, "/") == 0) {
		free(path);
		path = why_set(why, "the path must not be \"/\"");
	}
	if (path == NULL)
		return -1;
	return put_path(list, path, s->key, why);
}

static int set_ports(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                     struct set_ctx *c, char **why)
{
	char ***list = FIELD(p, s, char **);
	if (empty_in_file(c, v)) {
		profile_strv_clear(list);
		return 0;
	}
	return put_ports(list, v, s->key, why);
}

/* KEY=VALUE; on the command line KEY alone takes the caller's value, and
 * is skipped when the caller has none, as in podman. */
static int set_env(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                   struct set_ctx *c, char **why)
{
	char *kv = NULL;
	if (empty_in_file(c, v)) {
		profile_strv_clear(&p->env);
		return 0;
	}
	_cleanup_free_ char *from_caller = NULL;
	if (c->fc == NULL && strchr(v, '=') == NULL && env_key_valid(v, strlen(v))) {
		const char *val = getenv(v);
		if (val == NULL)
			return 0;
		v = from_caller = xasprintf("%s=%s", v, val);
	}
	if (profile_parse_env(v, &kv, why) < 0)
		return -1;
	return put_env(p, kv, why);
}

#define ENV_FILE_MAX (1024 * 1024)

/* podman's --env-file: KEY=VALUE lines taken as they are, KEY alone for the
 * caller's value, '#' comments and blank lines. Every bad line is reported
 * as FILE:LINE: error: ... */
static int set_env_file(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                        struct set_ctx *c, char **why)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	_cleanup_error_ struct sbx_error *err = NULL;
	if (v[0] == '\0') {
		why_set(why, "expected a file name");
		return -1;
	}
	if (read_file(v, ENV_FILE_MAX, &text, &len, &err) < 0) {
		why_set(why, "%s", err->code == EFBIG ? "larger than 1 MiB" : err->msg);
		return -1;
	}
	_cleanup_free_ char *disp = str_display(v);
	size_t errors = 0;
	int line = 1;
	for (size_t start = 0; start < len; line++) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		_cleanup_free_ char *l = xstrndup(text + start, end - start);
		bool nul = memchr(text + start, '\0', end - start) != NULL;
		start = end + 1;
		size_t n = strlen(l);
		if (n && l[n - 1] == '\r')
			l[--n] = '\0';
		char *t = l + strspn(l, " \t");
		if (!nul && (*t == '\0' || *t == '#'))
			continue;
		_cleanup_free_ char *lwhy = NULL;
		if (nul) {
			why_set(&lwhy, "NUL byte");
		} else if (strchr(t, '=') == NULL && !env_key_valid(t, strlen(t))) {
			_cleanup_free_ char *d = str_display(t);
			why_set(&lwhy,
			        "\"%s\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)", d);
		} else {
			struct set_ctx lc = *c;
			lc.fc = NULL;
			if (set_env(p, s, t, &lc, &lwhy) == 0)
				continue;
		}
		diag_add(c->diag, disp, line, "%s", lwhy);
		errors++;
	}
	return errors ? -2 : 0;
}

static int set_workdir(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                       struct set_ctx *c, char **why)
{
	char *w = path_normalize(v, false, "the working directory", why);
	if (w == NULL)
		return -1;
	free(p->workdir);
	p->workdir = w;
	return 0;
}

static int set_hostname(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                        struct set_ctx *c, char **why)
{
	if (parse_hostname(v, why) < 0)
		return -1;
	free(p->hostname);
	p->hostname = xstrdup(v);
	return 0;
}

static void dump_string(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	fprintf(f, "%s = %s\n", s->key, *CFIELD(p, s, char *));
}

/* Empty in a profile: root. */
static int set_user(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                    struct set_ctx *c, char **why)
{
	if (!empty_in_file(c, v) && parse_user(v, why) < 0)
		return -1;
	return set_text(p, s, v, c, why);
}

/* An octal mode of at most 0777 (an int field, -1 = not set), as umask(1)
 * takes it. */
static int set_octal(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                     struct set_ctx *c, char **why)
{
	int *field = FIELD(p, s, int);
	if (empty_in_file(c, v)) {
		*field = -1;
		return 0;
	}
	size_t n = strlen(v);
	bool octal = n > 0 && n <= 4 && strspn(v, "01234567") == n;
	unsigned long m = octal ? strtoul(v, NULL, 8) : 0;
	if (!octal || m > 0777) {
		why_set(why, "expected an octal mode from 0000 to 0777, such as 0022 or 0077");
		return -1;
	}
	*field = (int)m;
	return 0;
}

static void dump_octal(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	int v = *CFIELD(p, s, int);
	if (v < 0)
		fprintf(f, "%s =\n", s->key);
	else
		fprintf(f, "%s = %04o\n", s->key, (unsigned)v);
}

/* One program, or, as podman takes it, a JSON array of the program and
 * its first arguments: ["/bin/sh","-c"]; "" (or [""]) clears the image's
 * command, leaving an empty list. */
static int set_entrypoint(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                          struct set_ctx *c, char **why)
{
	_cleanup_strv_ char **words = NULL;
	if (v[0] == '[') {
		json_error_t je;
		json_t *a = json_loads(v, JSON_DECODE_ANY, &je);
		size_t i;
		json_t *w;
		bool strings = json_is_array(a);
		json_array_foreach(a, i, w)
		{
			strings = strings && json_is_string(w);
			if (strings)
				strv_push(&words, json_string_value(w));
		}
		json_decref(a);
		if (a == NULL) {
			why_set(why, "not a JSON array of strings: %s", je.text);
			return -1;
		}
		if (!strings) {
			why_set(why, "not a JSON array of strings");
			return -1;
		}
	} else {
		strv_push(&words, v);
	}
	if (words && words[0][0] == '\0' && words[1] == NULL) {
		/* "" or [""]: as podman, no entrypoint and not the image's
		 * command either; the words after the image are the command. */
		strv_free(p->entrypoint);
		p->entrypoint = xcalloc(1, sizeof(char *));
		return 0;
	}
	if (words == NULL || words[0][0] == '\0') {
		why_set(why, "expected a command");
		return -1;
	}
	for (size_t i = 0; words[i]; i++) {
		if (profile_has_control(words[i])) {
			why_set(why, "the command contains a control character");
			return -1;
		}
	}
	strv_free(p->entrypoint);
	p->entrypoint = steal_ptr(words);
	return 0;
}

static int set_caps(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                    struct set_ctx *c, char **why)
{
	bool drop = s->flags & SBX_SETTING_DROP;
	if (empty_in_file(c, v)) {
		profile_strv_clear(drop ? &p->cap_drop : &p->cap_add);
		return 0;
	}
	return put_caps(p, v, drop, why);
}

static int set_seccomp(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                       struct set_ctx *c, char **why)
{
	char *file = NULL;
	enum sbx_seccomp_mode mode;
	if (parse_seccomp(v, c->base, &mode, &file, why) < 0)
		return -1;
	free(p->seccomp_file);
	p->seccomp = mode;
	p->seccomp_file = file;
	return 0;
}

static void dump_seccomp(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	if (p->seccomp == SBX_SECCOMP_FILE)
		fprintf(f, "%s = %s\n", s->key, p->seccomp_file ? p->seccomp_file : "");
	else
		fprintf(f, "%s = %s\n", s->key,
		        p->seccomp == SBX_SECCOMP_UNCONFINED ? "unconfined" : "default");
}

/* memory, pids: a number above 0; empty in a profile: no limit. */
static int set_limit(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                     struct set_ctx *c, char **why)
{
	uint64_t n = 0;
	bool mem = s->flags & SBX_SETTING_SIZE;
	if (!empty_in_file(c, v) && parse_number(v, mem, &n, why) < 0)
		return -1;
	if (!empty_in_file(c, v) && n == 0) {
		why_set(why, c->fc ? "must be greater than 0 (leave it empty for no limit)"
		                   : "must be greater than 0");
		return -1;
	}
	if (!mem && n > INT64_MAX) {
		why_set(why, "number too large");
		return -1;
	}
	if (mem)
		p->memory = n;
	else
		p->pids = (int64_t)n;
	return 0;
}

static void dump_size(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	uint64_t v = *CFIELD(p, s, uint64_t);
	fprintf(f, "%s =", s->key);
	if (v) {
		fputc(' ', f);
		fmt_size(f, v);
	}
	fputc('\n', f);
}

static void dump_pids(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	fprintf(f, "%s =", s->key);
	if (p->pids > 0)
		fprintf(f, " %lld", (long long)p->pids);
	fputc('\n', f);
}

static int set_scratch(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                       struct set_ctx *c, char **why)
{
	uint64_t n = 0;
	if (v[0] && parse_number(v, true, &n, why) < 0)
		return -1;
	if (v[0] && n == 0) {
		why_set(why, "must be greater than 0 (leave it empty for the default)");
		return -1;
	}
	p->scratch = n;
	return 0;
}

/* CPUs as a decimal with up to three places, e.g. 1.5; at most 1024. */
static int set_cpus(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                    struct set_ctx *c, char **why)
{
	if (empty_in_file(c, v)) {
		p->millicpus = 0;
		return 0;
	}
	size_t whole = strspn(v, "0123456789");
	const char *frac = v + whole;
	size_t places = 0;
	if (*frac == '.') {
		places = strspn(frac + 1, "0123456789");
		frac++;
	}
	bool ok = whole + (places ? places + 1 : (v[whole] == '.' ? 1 : 0)) == strlen(v) &&
	          (whole > 0 || places > 0) && whole <= 4 && places <= 3;
	uint64_t milli = 0;
	for (size_t i = 0; ok && i < whole; i++)
		milli = milli * 10 + (uint64_t)(v[i] - '0');
	milli *= 1000;
	for (size_t i = 0, scale = 100; ok && i < places; i++, scale /= 10)
		milli += (uint64_t)(frac[i] - '0') * scale;
	if (!ok || milli == 0 || milli > 1024000) {
		why_set(why, "expected a number of CPUs above 0, such as 0.5 or 2 (at most three "
		             "decimal places)");
		return -1;
	}
	p->millicpus = (uint32_t)milli;
	return 0;
}

static void dump_cpus(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	fprintf(f, "%s =", s->key);
	if (p->millicpus) {
		fprintf(f, " %u", p->millicpus / 1000);
		unsigned frac = p->millicpus % 1000;
		if (frac) {
			char digits[8];
			snprintf(digits, sizeof(digits), "%03u", frac);
			for (size_t n = strlen(digits); n > 0 && digits[n - 1] == '0'; n--)
				digits[n - 1] = '\0';
			fprintf(f, ".%s", digits);
		}
	}
	fputc('\n', f);
}

static int set_rlimit(struct sbx_profile *p, const struct sbx_setting *s, const char *v,
                      struct set_ctx *c, char **why)
{
	uint64_t soft, hard;
	if (v[0] == '\0') {
		drop_rlimit(p, s->arg);
		return 0;
	}
	if (parse_rlimit(v, s->flags & SBX_SETTING_SIZE, &soft, &hard, why) < 0)
		return -1;
	put_rlimit(p, s->arg, soft, hard);
	return 0;
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

static void dump_rlimit(const struct sbx_profile *p, const struct sbx_setting *s, FILE *f)
{
	const struct sbx_rlimit *r = NULL;
	bool size = s->flags & SBX_SETTING_SIZE;
	for (size_t k = 0; k < p->n_rlimits && r == NULL; k++)
		if (p->rlimits[k].resource == s->arg)
			r = &p->rlimits[k];
	fprintf(f, "%s =", s->key);
	if (r) {
		fputc(' ', f);
		fmt_limit(f, r->soft, size);
		if (r->hard != r->soft) {
			fputc(':', f);
			fmt_limit(f, r->hard, size);
		}
	}
	fputc('\n', f);
}

#define OFF(field) offsetof(struct sbx_profile, field)
#define R          SBX_SETTING_REPEATABLE
#define BOOL_WORDS "true false"
/* A key only, of a generic type. */
#define KEY(sec, key, meta, choices, doc, flags, set, dump, off)                                   \
	{                                                                                          \
		sec, key, NULL, 0, meta, choices, NULL, NULL, doc, flags, set, dump, off, 0        \
	}
#define RLIM(key, res, flags)                                                                      \
	{                                                                                          \
		"limits", key, NULL, 0, "N|SOFT:HARD|unlimited", NULL, NULL, NULL,                 \
		    "the RLIMIT_" #res " resource limit", flags, set_rlimit, dump_rlimit, 0,       \
		    RLIMIT_##res                                                                   \
	}

/* clang-format off */
static const struct sbx_setting settings[] = {
    KEY("profile", "description", "TEXT", NULL, "what the profile is for", 0, set_text,
        dump_text, OFF(description)),
    {"profile", "inherit", NULL, 0, "NAME|FILE", NULL, NULL, NULL,
     "the parent profile, applied first", SBX_SETTING_INHERIT, set_inherit, NULL, 0, 0},
    {"profile", "pull", "pull", 0, "POLICY", "never missing always", NULL, NULL,
     "pull the image from its registry first: never, missing or always", 0, set_pull,
     dump_enum, OFF(pull), 0},

    KEY("namespaces", "pid", "BOOL", BOOL_WORDS, "a new pid namespace", 0, set_bool, dump_bool,
        OFF(ns_pid)),
    KEY("namespaces", "ipc", "BOOL", BOOL_WORDS, "a new IPC namespace", 0, set_bool, dump_bool,
        OFF(ns_ipc)),
    KEY("namespaces", "uts", "BOOL", BOOL_WORDS, "a new UTS namespace", 0, set_bool, dump_bool,
        OFF(ns_uts)),
    KEY("namespaces", "cgroup", "BOOL", BOOL_WORDS, "a new cgroup namespace", 0, set_bool,
        dump_bool, OFF(ns_cgroup)),
    {"namespaces", "user", "userns", 0, "MODE", "single subid", NULL, NULL,
     "single (you as root, no helper) or subid (adds /etc/subuid ranges)", 0, set_enum,
     dump_enum, OFF(userns), 0},

    {"network", "mode", NULL, 0, "MODE", "none host pasta slirp4netns auto", NULL, NULL,
     "the network: none, host, pasta, slirp4netns or auto", 0, set_net_mode, dump_net_mode, 0, 0},
    KEY("network", "host_loopback", "BOOL", BOOL_WORDS,
        "with pasta or slirp4netns, reach the host's 127.0.0.1", 0, set_bool, dump_bool,
        OFF(host_loopback)),
    {"network", NULL, "network", 0, "MODE[:host-loopback]", "none host pasta slirp4netns auto",
     "none host pasta slirp4netns auto pasta:host-loopback slirp4netns:host-loopback "
     "auto:host-loopback", NULL,
     "none, host, pasta, slirp4netns or auto; MODE:host-loopback reaches the host's 127.0.0.1",
     0, set_network, NULL, 0, 0},
    {"network", "publish", "publish", 'p', "[IP:]HOSTPORT:SANDBOXPORT[/tcp|/udp]", NULL, NULL,
     NULL, "publish a sandbox port on the host (repeatable; pasta, slirp4netns, auto)", R,
     set_publish, dump_publish, 0, 0},

    {"filesystem", "rootfs", NULL, 0, "MODE", "overlay readonly", NULL, NULL,
     "a writable overlay, or read-only", 0, set_enum, dump_enum, OFF(rootfs), 0},
    {"filesystem", NULL, "read-only", 0, NULL, "overlay readonly", NULL, "readonly",
     "make the root filesystem read-only", 0, set_enum, NULL, OFF(rootfs), 0},
    {"filesystem", "overlay", "overlay", 0, "BACKEND", "auto kernel fuse", NULL, NULL,
     "overlay backend for the root: auto, kernel or fuse", 0, set_enum, dump_enum,
     OFF(overlay), 0},
    {"filesystem", "volume", "volume", 'v', "SRC:DST[:ro|rw]", NULL, "volume",
     NULL, "bind host path SRC at DST (repeatable)", R, set_volume, dump_volume, 0, 0},
    {"filesystem", "tmpfs", "tmpfs", 0, "DST[:size=SIZE][,mode=MODE]", NULL, NULL, NULL,
     "mount a tmpfs at DST (repeatable)", R, set_tmpfs, dump_tmpfs, 0, 0},
    {"filesystem", "mask", NULL, 0, "PATH", NULL, NULL, NULL, "hide PATH in the sandbox", R,
     set_path_list, dump_strv, OFF(masked), 1},
    {"filesystem", "readonly", NULL, 0, "PATH", NULL, NULL, NULL,
     "make PATH read-only in the sandbox", R, set_path_list, dump_strv, OFF(readonly), 1},

    {"process", "env", "env", 'e', "KEY[=VALUE]", NULL, NULL, NULL,
     "set an environment variable (KEY alone: sbx's value)", R, set_env, dump_strv, OFF(env), 0},
    {"process", NULL, "env-file", 0, "FILE", NULL, "file", NULL,
     "read KEY=VALUE lines from FILE, as --env does (repeatable)", 0, set_env_file, NULL, 0, 0},
    {"process", "workdir", "workdir", 'w', "DIR", NULL, NULL, NULL,
     "working directory in the sandbox", 0, set_workdir, dump_string, OFF(workdir), 0},
    {"process", "hostname", "hostname", 0, "NAME", NULL, NULL, NULL, "the sandbox's hostname", 0,
     set_hostname, dump_string, OFF(hostname), 0},
    {"process", "user", "user", 'u', "USER[:GROUP]", NULL, NULL, NULL,
     "run as this user of the image", 0, set_user, dump_text, OFF(user), 0},
    {"process", "init", NULL, 0, "BOOL", BOOL_WORDS, NULL, NULL,
     "run sbx's minimal init as pid 1", 0, set_bool, dump_bool, OFF(init), 0},
    {"process", NULL, "init", 0, NULL, NULL, NULL, "true",
     "run sbx's minimal init as pid 1 (reaps zombies, forwards signals)", 0, set_bool, NULL,
     OFF(init), 0},
    {"process", NULL, "no-init", 0, NULL, NULL, NULL, "false",
     "make the command itself pid 1 (it then ignores unhandled signals)", 0, set_bool, NULL,
     OFF(init), 0},
    {"process", "umask", "umask", 0, "MODE", NULL, NULL, NULL,
     "the command's umask, in octal (default: sbx's own)", 0, set_octal, dump_octal, OFF(umask),
     0},
    {"process", NULL, "entrypoint", 0, "CMD", NULL, NULL, NULL,
     "run CMD (a program, or a JSON array: [\"/bin/sh\",\"-c\"]) with the command's words "
     "as its arguments, instead of the image's command",
     0,
     set_entrypoint, NULL, 0, 0},

    {"security", "capabilities", NULL, 0, "BASE", "default none", NULL, NULL,
     "the capabilities to start from: default or none", 0, set_enum, dump_enum,
     OFF(caps_base), 0},
    {"security", "cap_add", "cap-add", 0, "CAP", NULL, "capability", NULL,
     "add a capability", R | SBX_SETTING_ADD, set_caps, dump_strv, OFF(cap_add), 0},
    {"security", "cap_drop", "cap-drop", 0, "CAP", NULL, "capability", NULL,
     "drop a capability (ALL for every one)", R | SBX_SETTING_DROP, set_caps, dump_strv,
     OFF(cap_drop), 0},
    {"security", "seccomp", "seccomp", 0, "POLICY", NULL, "default unconfined", NULL,
     "default, unconfined, or a JSON file with an OCI linux.seccomp object", 0, set_seccomp,
     dump_seccomp, 0, 0},
    KEY("security", "no_new_privileges", "BOOL", BOOL_WORDS,
        "no privileges gained through execve", 0, set_bool, dump_bool, OFF(no_new_privileges)),
    KEY("security", "restrict_suid_sgid", "BOOL", BOOL_WORDS, "no set-id files made", 0,
        set_bool, dump_bool, OFF(restrict_suid_sgid)),
    {"security", "landlock_fs_ro", NULL, 0, "PATH", NULL, NULL, NULL,
     "Landlock: PATH may be read", R, set_path_list, dump_strv, OFF(landlock_fs_ro), 0},
    {"security", "landlock_fs_rw", NULL, 0, "PATH", NULL, NULL, NULL,
     "Landlock: PATH may be read and written", R, set_path_list, dump_strv, OFF(landlock_fs_rw),
     0},
    KEY("security", "landlock_tcp_bind", "PORT[,PORT...]|none", NULL,
        "Landlock: TCP ports that may be bound", R, set_ports, dump_strv,
        OFF(landlock_tcp_bind)),
    KEY("security", "landlock_tcp_connect", "PORT[,PORT...]|none", NULL,
        "Landlock: TCP ports that may be connected to", R, set_ports, dump_strv,
        OFF(landlock_tcp_connect)),

    {"limits", "memory", "memory", 0, "SIZE", NULL, NULL, NULL,
     "memory limit (recorded in the config; sbx run does not enforce it)", SBX_SETTING_SIZE,
     set_limit, dump_size, OFF(memory), 0},
    KEY("limits", "scratch", "SIZE", NULL, "the most a --rm upper layer in memory may hold", 0,
        set_scratch, dump_size, OFF(scratch)),
    {"limits", "pids", "pids-limit", 0, "N", NULL, NULL, NULL,
     "process limit (recorded in the config; sbx run does not enforce it)", 0, set_limit,
     dump_pids, 0, 0},
    {"limits", "cpus", "cpus", 0, "N.N", NULL, NULL, NULL,
     "CPU limit (recorded in the config; sbx run does not enforce it)", 0, set_cpus, dump_cpus,
     0, 0},
    RLIM("as", AS, SBX_SETTING_SIZE),
    RLIM("core", CORE, SBX_SETTING_SIZE),
    RLIM("cpu", CPU, 0),
    RLIM("data", DATA, SBX_SETTING_SIZE),
    RLIM("fsize", FSIZE, SBX_SETTING_SIZE),
    RLIM("locks", LOCKS, 0),
    RLIM("memlock", MEMLOCK, SBX_SETTING_SIZE),
    RLIM("msgqueue", MSGQUEUE, SBX_SETTING_SIZE),
    RLIM("nice", NICE, 0),
    RLIM("nofile", NOFILE, 0),
    RLIM("nproc", NPROC, 0),
    RLIM("rss", RSS, SBX_SETTING_SIZE),
    RLIM("rtprio", RTPRIO, 0),
    RLIM("rttime", RTTIME, 0),
    RLIM("sigpending", SIGPENDING, 0),
    RLIM("stack", STACK, SBX_SETTING_SIZE),
};
/* clang-format on */

#define N_SETTINGS ARRAY_SIZE(settings)
_Static_assert(N_SETTINGS <= SETTINGS_MAX, "raise SETTINGS_MAX in settings.h");

const struct sbx_setting *profile_settings(size_t *n)
{
	*n = N_SETTINGS;
	return settings;
}

const struct sbx_setting *profile_setting_option(const char *option)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (settings[i].option && strcmp(settings[i].option, option) == 0)
			return &settings[i];
	return NULL;
}

/* ---- command-line overrides ---- */

static int option_error(struct sbx_error **err, const char *opt, const char *spec, const char *why)
{
	_cleanup_free_ char *d = str_display(spec);
	return sbx_error_set(err, 0, "--%s \"%s\": %s", opt, d, why);
}

int profile_option_check(const struct sbx_setting *s, const char *value, char **why)
{
	if (s->set == set_env && value && strchr(value, '=') == NULL &&
	    !env_key_valid(value, strlen(value))) {
		why_set(why, "expected KEY=VALUE or KEY");
		return -1;
	}
	return 0;
}

int profile_option(struct sbx_profile *p, const struct sbx_setting *s, const char *value,
                   struct sbx_diag *diag, struct sbx_error **err)
{
	_cleanup_free_ char *cwd = settings_cwd();
	_cleanup_free_ char *why = NULL;
	struct sbx_diag local = {0};
	struct set_ctx c = {NULL, -1, cwd, diag ? diag : &local};
	const char *v = s->fixed ? s->fixed : value;
	size_t before = diag_count(c.diag);
	int r = s->set(p, s, v, &c, &why);
	size_t n = diag_count(c.diag) - before;
	diag_clear(&local);
	if (r == 0)
		return 0;
	if (r == -2) {
		_cleanup_free_ char *d = str_display(v);
		return sbx_error_set(err, 0, "--%s \"%s\" has %zu error%s", s->option, d, n,
		                     n == 1 ? "" : "s");
	}
	return option_error(err, s->option, v, why ? why : "invalid value");
}

static int set_option(struct sbx_profile *p, const char *option, const char *value,
                      struct sbx_error **err)
{
	return profile_option(p, profile_setting_option(option), value, NULL, err);
}

int profile_add_volume(struct sbx_profile *p, const char *spec, struct sbx_error **err)
{
	return set_option(p, "volume", spec, err);
}

int profile_add_tmpfs(struct sbx_profile *p, const char *spec, struct sbx_error **err)
{
	return set_option(p, "tmpfs", spec, err);
}

int profile_add_env(struct sbx_profile *p, const char *spec, struct sbx_error **err)
{
	return set_option(p, "env", spec, err);
}

int profile_add_publish(struct sbx_profile *p, const char *spec, struct sbx_error **err)
{
	return set_option(p, "publish", spec, err);
}

int profile_add_cap(struct sbx_profile *p, const char *name, bool drop, struct sbx_error **err)
{
	return set_option(p, drop ? "cap-drop" : "cap-add", name, err);
}

int profile_set_seccomp(struct sbx_profile *p, const char *value, struct sbx_error **err)
{
	return set_option(p, "seccomp", value, err);
}

int profile_set_workdir(struct sbx_profile *p, const char *value, struct sbx_error **err)
{
	return set_option(p, "workdir", value, err);
}

int profile_set_hostname(struct sbx_profile *p, const char *value, struct sbx_error **err)
{
	return set_option(p, "hostname", value, err);
}

int profile_set_user(struct sbx_profile *p, const char *value, struct sbx_error **err)
{
	return set_option(p, "user", value, err);
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
