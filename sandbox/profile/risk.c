/* risk.c - settings that open the wall between the sandbox and the user's
 * account (issue 12 §6): sbx's own directories as volumes are refused, the
 * home directory, keys and settings are warned about, and `sbx profile
 * check` lists the protections a profile turns off. */
#define _GNU_SOURCE
#include "profile/risk.h"
#include "runtime/caps.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Deeper trees than this are not worth walking: the check gives up there,
 * as ancestors beyond it would only be /'s neighbours. */
#define MAX_DEPTH 256

struct node {
	dev_t dev;
	ino_t ino;
};

/* A file and its ancestors up to /, by device and inode. When the file does
 * not exist, the lineage of its nearest existing ancestor. */
struct lineage {
	struct node n[MAX_DEPTH];
	size_t len;
	bool exists;
	bool dir;
};

static bool node_in(const struct node *x, const struct lineage *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (l->n[i].dev == x->dev && l->n[i].ino == x->ino)
			return true;
	return false;
}

/* Walks ".." from an O_PATH directory fd (taken) until it stops moving. */
static void walk_up(int fd, struct lineage *l)
{
	while (fd >= 0 && l->len < MAX_DEPTH) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			break;
		if (l->len > 0 && l->n[l->len - 1].dev == st.st_dev &&
		    l->n[l->len - 1].ino == st.st_ino)
			break; /* / is its own parent */
		l->n[l->len++] = (struct node){st.st_dev, st.st_ino};
		int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
	}
	if (fd >= 0)
		close(fd);
}

/* The lineage of what path names, symlinks followed as the bind mount
 * follows them. */
static void lineage_of(const char *path, struct lineage *l)
{
	*l = (struct lineage){0};
	_cleanup_free_ char *p = xstrdup(path);
	int fd = open(p, O_PATH | O_CLOEXEC);
	l->exists = fd >= 0;
	/* Not there: the nearest ancestor that is, for "contains". */
	while (fd < 0) {
		char *slash = strrchr(p, '/');
		if (slash == NULL)
			return;
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
		fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 && strcmp(p, "/") == 0)
			return;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	l->dir = S_ISDIR(st.st_mode);
	if (l->dir) {
		walk_up(fd, l);
		return;
	}
	/* A file: itself, then the directory it was found in. */
	l->n[l->len++] = (struct node){st.st_dev, st.st_ino};
	char proc[64], real[PATH_MAX];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, real, sizeof(real) - 1);
	close(fd);
	if (n <= 0)
		return;
	real[n] = '\0';
	char *slash = strrchr(real, '/');
	if (slash == NULL)
		return;
	if (slash == real)
		slash[1] = '\0';
	else
		*slash = '\0';
	walk_up(open(real, O_PATH | O_DIRECTORY | O_CLOEXEC), l);
}

enum relation { REL_NONE, REL_IS, REL_CONTAINS, REL_INSIDE };

/* How the volume source src stands to the directory d. */
static enum relation relate(const struct lineage *src, const struct lineage *d)
{
	if (!src->exists || src->len == 0 || d->len == 0)
		return REL_NONE;
	if (d->exists && src->n[0].dev == d->n[0].dev && src->n[0].ino == d->n[0].ino)
		return REL_IS;
	if (src->dir && node_in(&src->n[0], d))
		return REL_CONTAINS;
	if (d->exists && node_in(&d->n[0], src))
		return REL_INSIDE;
	return REL_NONE;
}

struct place {
	char *path;
	const char *what;
	bool inside_too; /* a volume inside it is as bad */
	struct lineage l;
};

static void places_free(struct place *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].path);
}

/* sbx's own directories: what later sandboxes are made from. */
static size_t own_places(struct place out[4])
{
	static const struct {
		int (*get)(char **, struct sbx_error **);
		const char *what;
	} dirs[] = {
	    {xdg_data_dir, "data directory (images and instances)"},
	    {xdg_config_dir, "configuration directory (profiles)"},
	    {xdg_cache_dir, "cache (compiled seccomp filters)"},
	    {xdg_runtime_dir, "runtime directory (live instances)"},
	};
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char *path = NULL;
		struct sbx_error *e = NULL;
		if (dirs[i].get(&path, &e) < 0) {
			sbx_error_free(e);
			continue;
		}
		out[n] = (struct place){.path = path, .what = dirs[i].what};
		lineage_of(path, &out[n].l);
		n++;
	}
	return n;
}

/* The user's own places that a sandbox should rarely see. */
static size_t user_places(struct place out[6])
{
	size_t n = 0;
	_cleanup_free_ char *home = expand_home("~");
	const char *rt = getenv("XDG_RUNTIME_DIR");
	const char *cfg = getenv("XDG_CONFIG_HOME");
	out[n++] = (struct place){.path = xstrdup("/"), .what = "the host's root directory"};
	if (home[0] == '/') {
		out[n++] = (struct place){.path = xstrdup(home), .what = "your home directory"};
	}
	if (rt && rt[0] == '/')
		out[n++] = (struct place){
		    .path = xstrdup(rt),
		    .what = "your session's runtime directory (D-Bus and other sockets)"};
	if (cfg && cfg[0] == '/')
		out[n++] = (struct place){.path = xstrdup(cfg), .what = "your settings directory"};
	else if (home[0] == '/')
		out[n++] = (struct place){.path = xasprintf("%s/.config", home),
		                          .what = "your settings directory"};
	if (home[0] == '/') {
		out[n++] = (struct place){.path = xasprintf("%s/.ssh", home),
		                          .what = "your SSH keys and settings",
		                          .inside_too = true};
		out[n++] = (struct place){.path = xasprintf("%s/.gnupg", home),
		                          .what = "your GnuPG keys",
		                          .inside_too = true};
	}
	for (size_t i = 0; i < n; i++)
		lineage_of(out[i].path, &out[i].l);
	return n;
}

static const char *relation_verb(enum relation r)
{
	return r == REL_IS ? "is" : r == REL_CONTAINS ? "contains" : "is inside";
}

/* path as one word for a shell, in double quotes when it must be; control
 * characters escaped, as everywhere sbx prints. */
static char *shell_word(const char *path)
{
	_cleanup_free_ char *e = str_escape_bare(path);
	if (e[0] && strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	                      "_./:@%+,=-") == strlen(e))
		return steal_ptr(e);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		abort();
	fputc('"', f);
	for (const char *c = e; *c; c++) {
		if (strchr("$`\"\\", *c))
			fputc('\\', f);
		fputc(*c, f);
	}
	fputc('"', f);
	fclose(f);
	return out;
}

/* Under --userns subid the sandbox's ids from 1 are your subordinate ids:
 * it can give a writable volume's files to them and take their modes away,
 * and you can no longer read or remove them. Once, for every such volume. */
static void warn_subid_volumes(const struct sbx_profile *p, char ***warnings)
{
	if (p->userns != SBX_USERNS_SUBID || getuid() == 0)
		return;
	_cleanup_free_ char *list = NULL;
	size_t n = 0, len = 0;
	FILE *f = open_memstream(&list, &len);
	if (f == NULL)
		abort();
	const char *one = NULL;
	for (size_t v = 0; v < p->n_volumes; v++) {
		if (p->volumes[v].ro)
			continue;
		_cleanup_free_ char *q = str_escape(p->volumes[v].src);
		fprintf(f, "%s\"%s\"", n ? ", " : "", q);
		one = p->volumes[v].src;
		n++;
	}
	fclose(f);
	if (n == 0)
		return;
	_cleanup_free_ char *path = n == 1 ? shell_word(one) : xstrdup("PATH");
	strv_push_take(warnings,
	               xasprintf("with --userns subid, the sandbox can give the files in the "
	                         "writable volume%s %s to your subordinate ids, and you could "
	                         "then no longer read or remove them; 'sbx unshare chown -R "
	                         "0:0 %s' gives them back",
	                         n == 1 ? "" : "s", list, path));
}

int risk_check_volumes(const struct sbx_profile *p, char ***warnings, struct sbx_error **err)
{
	*warnings = NULL;
	if (p->n_volumes == 0)
		return 0;
	struct place own[4], user[6];
	size_t n_own = own_places(own), n_user = user_places(user);
	struct lineage *src = xmalloc(sizeof(*src));
	int ret = 0;
	for (size_t v = 0; v < p->n_volumes && ret == 0; v++) {
		const struct sbx_volume *vol = &p->volumes[v];
		lineage_of(vol->src, src);
		if (!src->exists)
			continue;
		for (size_t i = 0; i < n_own; i++) {
			enum relation r = relate(src, &own[i].l);
			if (r == REL_NONE)
				continue;
			ret =
			    sbx_error_set(err, 0,
			                  "the volume \"%s\" %s sbx's %s \"%s\", which no sandbox "
			                  "may reach: it could change what later sandboxes run "
			                  "with; mount another directory",
			                  vol->src, relation_verb(r), own[i].what, own[i].path);
			break;
		}
		if (ret < 0)
			break;
		for (size_t i = 0; i < n_user; i++) {
			enum relation r = relate(src, &user[i].l);
			if (r == REL_NONE || (r == REL_INSIDE && !user[i].inside_too))
				continue;
			strv_push_take(warnings,
			               xasprintf("the volume \"%s\" lets the sandbox %s %s \"%s\"; "
			                         "mount only what it needs%s",
			                         vol->src, vol->ro ? "read" : "read and change",
			                         user[i].what, user[i].path,
			                         vol->ro ? "" : ", or add :ro"));
			break;
		}
	}
	free(src);
	places_free(own, n_own);
	places_free(user, n_user);
	if (ret == 0)
		warn_subid_volumes(p, warnings);
	if (ret < 0) {
		strv_free(*warnings);
		*warnings = NULL;
	}
	return ret;
}

char **risk_profile_findings(const struct sbx_profile *p)
{
	char **out = NULL;
	if (p->seccomp == SBX_SECCOMP_UNCONFINED)
		strv_push(&out, "[security] seccomp = unconfined: no system call filter, so "
		                "restrict_suid_sgid has no effect either");
	if (!p->no_new_privileges)
		strv_push(&out, "[security] no_new_privileges = false: set-id and file-capability "
		                "programs in the sandbox gain privileges when run");
	if (!p->restrict_suid_sgid && p->seccomp != SBX_SECCOMP_UNCONFINED)
		strv_push(&out, "[security] restrict_suid_sgid = false: the sandbox can make "
		                "setuid files in volumes, which run as you for other local users");
	uint64_t mask = 0;
	if (caps_resolve(p->caps_base == SBX_CAPS_NONE, p->cap_drop, p->cap_add, &mask, NULL) ==
	    0) {
		uint64_t extra = mask & ~caps_default_mask();
		for (int c = 0; c < 64; c++) {
			if (!(extra & (UINT64_C(1) << c)))
				continue;
			const char *name = caps_name(c);
			strv_push_take(&out,
			               xasprintf("[security] cap_add: %s is not among Docker's "
			                         "default capabilities",
			                         name ? name : "?"));
		}
	}
	if (p->net == SBX_NET_HOST)
		strv_push(&out, "[network] mode = host: the sandbox shares the host's network, its "
		                "services on 127.0.0.1 and abstract sockets such as X11's");
	if (!p->ns_pid)
		strv_push(&out, "[namespaces] pid = false: the sandbox can see, signal and trace "
		                "your other processes");
	if (!p->ns_ipc)
		strv_push(&out,
		          "[namespaces] ipc = false: the sandbox shares System V IPC and POSIX "
		          "message queues with your other processes");
	_cleanup_error_ struct sbx_error *err = NULL;
	char **vol = NULL;
	if (risk_check_volumes(p, &vol, &err) < 0) {
		strv_push_take(&out, xasprintf("[filesystem] %s", err->msg));
	}
	for (size_t i = 0; vol && vol[i]; i++)
		strv_push_take(&out, xasprintf("[filesystem] %s", vol[i]));
	strv_free(vol);
	return out;
}
