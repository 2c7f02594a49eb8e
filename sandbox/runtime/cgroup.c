/* cgroup.c - an OCI container's cgroup (see cgroup.h).
 *
 * The cgroup tree is the host's, written by root; the directories are
 * walked by fd with O_NOFOLLOW all the same, one name at a time, and no
 * path component may be "." or "..". */
#define _GNU_SOURCE
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_ROOT "/sys/fs/cgroup"
#define V2_KEY      "unified"

/* ---- linux.resources ---- */

static int get_int(json_t *o, const char *key, const char *path, long long *out,
                   struct sbx_error **err)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return sbx_error_setc(err, EINVAL, "%s.%s: expected an integer", path, key);
	*out = json_integer_value(v);
	return 0;
}

static int get_str(json_t *o, const char *key, const char *path, char **out, struct sbx_error **err)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return sbx_error_setc(err, EINVAL, "%s.%s: expected a string", path, key);
	const char *s = json_string_value(v);
	/* A value goes into one cgroup file, as one line. */
	if (strpbrk(s, "\n"))
		return sbx_error_setc(err, EINVAL, "%s.%s: \"%s\" is not one line", path, key, s);
	if (*s)
		*out = xstrdup(s);
	return 0;
}

/* Every key of o must be one of keys; the others are named. What sbx
 * knows of but cannot honour (realtime, kernel memory...) is named too. */
static int only_keys(json_t *o, const char *path, const char *const *keys, size_t n,
                     struct sbx_error **err)
{
	if (!json_is_object(o))
		return sbx_error_setc(err, EINVAL, "%s: expected an object", path);
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		bool ok = false;
		for (size_t i = 0; i < n && !ok; i++)
			ok = strcmp(key, keys[i]) == 0;
		if (!ok && !json_is_null(v))
			return sbx_error_setc(err, ENOTSUP, "%s.%s: not supported by sbx", path,
			                      key);
	}
	return 0;
}

static int parse_device_rule(json_t *e, size_t i, struct sbx_dev_rule *d, struct sbx_error **err)
{
	static const char *const keys[] = {"allow", "type", "major", "minor", "access"};
	_cleanup_free_ char *path = xasprintf("linux.resources.devices[%zu]", i);
	if (only_keys(e, path, keys, ARRAY_SIZE(keys), err) < 0)
		return -1;
	json_t *allow = json_object_get(e, "allow");
	if (!json_is_boolean(allow))
		return sbx_error_setc(err, EINVAL, "%s.allow: expected true or false", path);
	d->allow = json_is_true(allow);
	_cleanup_free_ char *type = NULL, *access = NULL;
	d->major = d->minor = -1;
	if (get_str(e, "type", path, &type, err) < 0 ||
	    get_str(e, "access", path, &access, err) < 0 ||
	    get_int(e, "major", path, &d->major, err) < 0 ||
	    get_int(e, "minor", path, &d->minor, err) < 0)
		return -1;
	d->type = type ? type[0] : 'a';
	if ((type && type[1]) || (d->type != 'a' && d->type != 'c' && d->type != 'b'))
		return sbx_error_setc(err, EINVAL, "%s.type: \"%s\" is not a, c or b", path, type);
	if (d->major < -1 || d->minor < -1)
		return sbx_error_setc(err, EINVAL, "%s: a device number is negative", path);
	const char *a = access ? access : "rwm";
	size_t k = 0;
	for (const char *p = a; *p; p++) {
		if (!strchr("rwm", *p) || memchr(d->access, *p, k) || k == 3)
			return sbx_error_setc(err, EINVAL, "%s.access: \"%s\" is not of r, w and m",
			                      path, a);
		d->access[k++] = *p;
	}
	if (k == 0)
		return sbx_error_setc(err, EINVAL, "%s.access: empty", path);
	return 0;
}

int cgroup_resources_parse(json_t *j, struct sbx_resources *r, struct sbx_error **err)
{
	*r = (struct sbx_resources){
	    .mem_limit = -1,
	    .mem_reservation = -1,
	    .mem_swap = -1,
	    .mem_swappiness = -1,
	    .pids_limit = -1,
	    .cpu_shares = -1,
	    .cpu_quota = -1,
	    .cpu_period = -1,
	    .blkio_weight = -1,
	};
	if (j == NULL)
		return 0;
	static const char *const top[] = {"memory",         "pids",    "cpu",    "blockIO",
	                                  "hugepageLimits", "devices", "unified"};
	if (only_keys(j, "linux.resources", top, ARRAY_SIZE(top), err) < 0)
		return -1;
	json_t *o;
	if ((o = json_object_get(j, "memory")) && !json_is_null(o)) {
		static const char *const keys[] = {
		    "limit",        "reservation",      "swap", "swappiness", "disableOOMKiller",
		    "useHierarchy", "checkBeforeUpdate"};
		const char *p = "linux.resources.memory";
		if (only_keys(o, p, keys, ARRAY_SIZE(keys), err) < 0 ||
		    get_int(o, "limit", p, &r->mem_limit, err) < 0 ||
		    get_int(o, "reservation", p, &r->mem_reservation, err) < 0 ||
		    get_int(o, "swap", p, &r->mem_swap, err) < 0 ||
		    get_int(o, "swappiness", p, &r->mem_swappiness, err) < 0)
			return -1;
		json_t *oom = json_object_get(o, "disableOOMKiller");
		r->mem_disable_oom = json_is_true(oom);
		if (r->mem_limit < -1 || r->mem_reservation < -1 || r->mem_swap < -1)
			return sbx_error_setc(err, EINVAL, "%s: a limit below -1", p);
		if (r->mem_swappiness > 100)
			return sbx_error_setc(err, EINVAL, "%s.swappiness: %lld is above 100", p,
			                      r->mem_swappiness);
		if (r->mem_swap > 0 && r->mem_limit > 0 && r->mem_swap < r->mem_limit)
			return sbx_error_setc(
			    err, EINVAL,
			    "%s.swap: %lld is below the limit (%lld): swap counts "
			    "memory and swap together",
			    p, r->mem_swap, r->mem_limit);
	}
	if ((o = json_object_get(j, "pids")) && !json_is_null(o)) {
		static const char *const keys[] = {"limit"};
		if (only_keys(o, "linux.resources.pids", keys, 1, err) < 0 ||
		    get_int(o, "limit", "linux.resources.pids", &r->pids_limit, err) < 0)
			return -1;
	}
	if ((o = json_object_get(j, "cpu")) && !json_is_null(o)) {
		static const char *const keys[] = {"shares", "quota", "period", "cpus", "mems"};
		const char *p = "linux.resources.cpu";
		/* realtime* and idle: refused by name, unless zero. */
		long long rt = 0, rtp = 0, idle = 0;
		if (get_int(o, "realtimeRuntime", p, &rt, err) < 0 ||
		    get_int(o, "realtimePeriod", p, &rtp, err) < 0 ||
		    get_int(o, "idle", p, &idle, err) < 0)
			return -1;
		_cleanup_json_ json_t *rest = json_deep_copy(o);
		if (rt == 0)
			json_object_del(rest, "realtimeRuntime");
		if (rtp == 0)
			json_object_del(rest, "realtimePeriod");
		if (idle == 0)
			json_object_del(rest, "idle");
		if (only_keys(rest, p, keys, ARRAY_SIZE(keys), err) < 0 ||
		    get_int(o, "shares", p, &r->cpu_shares, err) < 0 ||
		    get_int(o, "quota", p, &r->cpu_quota, err) < 0 ||
		    get_int(o, "period", p, &r->cpu_period, err) < 0 ||
		    get_str(o, "cpus", p, &r->cpus, err) < 0 ||
		    get_str(o, "mems", p, &r->mems, err) < 0)
			return -1;
		if (r->cpu_shares == 0)
			r->cpu_shares = -1;
		if (r->cpu_period == 0)
			r->cpu_period = -1;
		if (r->cpu_quota == 0)
			r->cpu_quota = -1;
		if (r->cpu_shares < -1 || r->cpu_quota < -1 || r->cpu_period < -1)
			return sbx_error_setc(err, EINVAL, "%s: a value below -1", p);
	}
	if ((o = json_object_get(j, "blockIO")) && !json_is_null(o)) {
		static const char *const keys[] = {"weight"};
		const char *p = "linux.resources.blockIO";
		if (only_keys(o, p, keys, 1, err) < 0 ||
		    get_int(o, "weight", p, &r->blkio_weight, err) < 0)
			return -1;
		if (r->blkio_weight == 0)
			r->blkio_weight = -1;
		if (r->blkio_weight != -1 && (r->blkio_weight < 10 || r->blkio_weight > 1000))
			return sbx_error_setc(err, EINVAL, "%s.weight: %lld is not from 10 to 1000",
			                      p, r->blkio_weight);
	}
	if ((o = json_object_get(j, "hugepageLimits")) && !json_is_null(o)) {
		if (!json_is_array(o))
			return sbx_error_setc(err, EINVAL,
			                      "linux.resources.hugepageLimits: expected an array");
		r->huge = xcalloc(json_array_size(o) + 1, sizeof(*r->huge));
		size_t i;
		json_t *e;
		json_array_foreach(o, i, e)
		{
			static const char *const keys[] = {"pageSize", "limit"};
			_cleanup_free_ char *p =
			    xasprintf("linux.resources.hugepageLimits[%zu]", i);
			char *size = NULL;
			long long limit = -2;
			if (only_keys(e, p, keys, 2, err) < 0 ||
			    get_str(e, "pageSize", p, &size, err) < 0)
				return -1;
			r->huge[r->n_huge].page_size = size;
			r->n_huge++;
			if (get_int(e, "limit", p, &limit, err) < 0)
				return -1;
			if (size == NULL || strpbrk(size, "/.") || limit < 0)
				return sbx_error_setc(
				    err, EINVAL, "%s: expected a pageSize (\"2MB\") and a limit",
				    p);
			r->huge[r->n_huge - 1].limit = limit;
		}
	}
	if ((o = json_object_get(j, "devices")) && !json_is_null(o)) {
		if (!json_is_array(o))
			return sbx_error_setc(err, EINVAL,
			                      "linux.resources.devices: expected an array");
		r->devices = xcalloc(json_array_size(o) + 1, sizeof(*r->devices));
		size_t i;
		json_t *e;
		json_array_foreach(o, i, e)
		{
			if (parse_device_rule(e, i, &r->devices[i], err) < 0)
				return -1;
			r->n_devices++;
		}
	}
	if ((o = json_object_get(j, "unified")) && !json_is_null(o)) {
		if (!json_is_object(o))
			return sbx_error_setc(err, EINVAL,
			                      "linux.resources.unified: expected an object");
		const char *key;
		json_t *v;
		json_object_foreach(o, key, v)
		{
			static const char *const own[] = {
			    "cgroup.procs", "cgroup.threads", "cgroup.subtree_control",
			    "cgroup.type",  "cgroup.kill",    "cgroup.freeze"};
			bool bad = !strchr(key, '.') || strchr(key, '/') || key[0] == '.';
			for (size_t k = 0; k < ARRAY_SIZE(own); k++)
				bad |= strcmp(key, own[k]) == 0;
			if (bad)
				return sbx_error_setc(
				    err, EINVAL,
				    "linux.resources.unified: \"%s\" is not a cgroup "
				    "interface file a config may set",
				    key);
			if (!json_is_string(v) || strchr(json_string_value(v), '\n'))
				return sbx_error_setc(
				    err, EINVAL,
				    "linux.resources.unified.%s: expected a string "
				    "of one line",
				    key);
		}
		if (json_object_size(o) > 0)
			r->unified = json_incref(o);
	}
	r->any = r->mem_limit != -1 || r->mem_reservation != -1 || r->mem_swap != -1 ||
	         r->mem_swappiness != -1 || r->mem_disable_oom || r->pids_limit != -1 ||
	         r->cpu_shares != -1 || r->cpu_quota != -1 || r->cpu_period != -1 || r->cpus ||
	         r->mems || r->blkio_weight != -1 || r->n_huge || r->n_devices || r->unified;
	return 0;
}

int cgroup_resources_parse_update(json_t *j, struct sbx_resources *r, struct sbx_error **err)
{
	/* What update may change, and where -1 goes (strings: no field). */
#define F(x) offsetof(struct sbx_resources, x)
	static const struct {
		const char *section, *key;
		size_t off;
	} known[] = {
	    {"memory", "limit", F(mem_limit)}, {"memory", "reservation", F(mem_reservation)},
	    {"memory", "swap", F(mem_swap)},   {"cpu", "shares", F(cpu_shares)},
	    {"cpu", "quota", F(cpu_quota)},    {"cpu", "period", F(cpu_period)},
	    {"cpu", "cpus", SIZE_MAX},         {"cpu", "mems", SIZE_MAX},
	    {"pids", "limit", F(pids_limit)},  {"blockIO", "weight", F(blkio_weight)},
	};
#undef F
	*r = (struct sbx_resources){0};
	if (!json_is_object(j))
		return sbx_error_setc(err, EINVAL, "resources: expected a JSON object");
	const char *sec;
	json_t *o;
	json_object_foreach(j, sec, o)
	{
		size_t s = 0;
		while (s < ARRAY_SIZE(known) && strcmp(known[s].section, sec) != 0)
			s++;
		if (s == ARRAY_SIZE(known))
			return sbx_error_setc(err, ENOTSUP, "resources: \"%s\" cannot be updated",
			                      sec);
		if (!json_is_object(o))
			return sbx_error_setc(err, EINVAL, "resources.%s: expected an object", sec);
		const char *key;
		json_t *v;
		json_object_foreach(o, key, v)
		{
			bool ok = false;
			for (size_t k = 0; k < ARRAY_SIZE(known); k++)
				ok |= strcmp(known[k].section, sec) == 0 &&
				      strcmp(known[k].key, key) == 0;
			if (!ok)
				return sbx_error_setc(
				    err, ENOTSUP, "resources.%s.%s cannot be updated", sec, key);
		}
	}
	if (cgroup_resources_parse(j, r, err) < 0)
		return -1;
	for (size_t k = 0; k < ARRAY_SIZE(known); k++) {
		json_t *v = json_object_get(json_object_get(j, known[k].section), known[k].key);
		if (known[k].off != SIZE_MAX && json_is_integer(v) && json_integer_value(v) == -1)
			*(long long *)((char *)r + known[k].off) = CGROUP_RESET;
	}
	r->any |= r->mem_limit == CGROUP_RESET || r->mem_reservation == CGROUP_RESET ||
	          r->mem_swap == CGROUP_RESET || r->cpu_shares == CGROUP_RESET ||
	          r->cpu_quota == CGROUP_RESET || r->cpu_period == CGROUP_RESET ||
	          r->pids_limit == CGROUP_RESET || r->blkio_weight == CGROUP_RESET;
	return 0;
}

void cgroup_resources_free(struct sbx_resources *r)
{
	free(r->cpus);
	free(r->mems);
	for (size_t i = 0; i < r->n_huge; i++)
		free(r->huge[i].page_size);
	free(r->huge);
	free(r->devices);
	json_decref(r->unified);
	*r = (struct sbx_resources){0};
}

/* ---- the path ---- */

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "". */
static int expand_slice(const char *slice, char **out, struct sbx_error **err)
{
	size_t n = strlen(slice);
	if (strcmp(slice, "-.slice") == 0 || strcmp(slice, "-") == 0) {
		*out = xstrdup("");
		return 0;
	}
	if (!str_endswith(slice, ".slice") || n == 6 || strchr(slice, '/') || strstr(slice, "--") ||
	    slice[0] == '-' || slice[n - 7] == '-')
		return sbx_error_setc(err, EINVAL,
		                      "linux.cgroupsPath: \"%s\" is not a systemd slice name "
		                      "(NAME.slice, dashes for nesting, no slashes)",
		                      slice);
	_cleanup_free_ char *base = xstrndup(slice, n - 6);
	char *path = xstrdup("");
	for (char *d = base;; d++) {
		if (*d == '-' || *d == '\0') {
			char *next = xasprintf("%s/%.*s.slice", path, (int)(d - base), base);
			free(path);
			path = next;
		}
		if (*d == '\0')
			break;
	}
	*out = path;
	return 0;
}

static bool is_host_root(void)
{
	if (geteuid() != 0)
		return false;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/uid_map", "re");
	unsigned long long inside, outside, count;
	return f && fscanf(f, "%llu %llu %llu", &inside, &outside, &count) == 3 && inside == 0 &&
	       outside == 0 && count == 4294967295ULL;
}

int cgroup_path_resolve(const char *cgroups_path, enum cgroup_driver driver, const char *id,
                        char **out, struct sbx_error **err)
{
	*out = NULL;
	if (driver == CGROUP_DRIVER_NONE)
		return 0;
	const char *p = cgroups_path && *cgroups_path ? cgroups_path : NULL;
	if (driver == CGROUP_DRIVER_FS) {
		*out = xstrdup(p ? p : id);
		return 0;
	}
	_cleanup_free_ char *dflt = xasprintf(":sbx:%s", id);
	if (p == NULL)
		p = dflt;
	const char *c1 = strchr(p, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL || strchr(c2 + 1, ':') || c2[1] == '\0' || strchr(c2 + 1, '/') ||
	    memchr(c1 + 1, '/', (size_t)(c2 - c1 - 1)))
		return sbx_error_setc(err, EINVAL,
		                      "linux.cgroupsPath: \"%s\" is not slice:prefix:name, which "
		                      "--systemd-cgroup needs",
		                      p);
	_cleanup_free_ char *slice = xstrndup(p, (size_t)(c1 - p));
	_cleanup_free_ char *prefix = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
	const char *name = c2 + 1;
	if (str_endswith(name, ".slice"))
		return expand_slice(name, out, err);
	if (*slice == '\0') {
		free(slice);
		slice = xstrdup(is_host_root() ? "system.slice" : "user.slice");
	}
	_cleanup_free_ char *sp = NULL;
	if (expand_slice(slice, &sp, err) < 0)
		return -1;
	*out = *prefix ? xasprintf("%s/%s-%s.scope", sp, prefix, name)
	               : xasprintf("%s/%s.scope", sp, name);
	return 0;
}

/* ---- the hierarchies ---- */

struct hier {
	char *key; /* "memory", "cpu,cpuacct", "name=systemd", or "unified" */
	char *mnt; /* its mount point */
	char *own; /* sbx's own cgroup in it, relative to mnt ("" at its root) */
	bool v2;
	char *dir;      /* the container's: mnt/path */
	char **created; /* directories made, outermost first */
};

struct sbx_cgroup {
	struct hier *h;
	size_t n;
};

static bool key_has(const char *key, const char *ctl)
{
	size_t n = strlen(ctl);
	for (const char *p = key; (p = strstr(p, ctl)); p += n)
		if ((p == key || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static void hier_free(struct hier *h)
{
	free(h->key);
	free(h->mnt);
	free(h->own);
	free(h->dir);
	strv_free(h->created);
}

void cgroup_free(struct sbx_cgroup *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->n; i++)
		hier_free(&cg->h[i]);
	free(cg->h);
	free(cg);
}

/* The mount of one hierarchy, from /proc/self/mountinfo: for v1 the last
 * mount of type cgroup whose options name ctl, for v2 the cgroup2 one;
 * *root is the cgroup it shows at its top. */
static bool find_mount(const char *ctl, bool v2, char **mnt, char **root)
{
	*mnt = *root = NULL;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		char r[4096], m[4096], fstype[64], opts[1024];
		char *sep = strstr(line, " - ");
		if (sep == NULL || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (strcmp(fstype, v2 ? "cgroup2" : "cgroup") != 0)
			continue;
		if (!v2 && !key_has(opts, ctl))
			continue;
		/* The last: a mount over another hides it. */
		free(*mnt);
		free(*root);
		*mnt = xstrdup(m);
		*root = xstrdup(r);
	}
	return *mnt != NULL;
}

/* Every hierarchy sbx's own process is in and can reach. */
static int hier_list(struct hier **out, size_t *n, struct sbx_error **err)
{
	*out = NULL;
	*n = 0;
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	if (f == NULL)
		return sbx_error_set(err, errno, "cannot read \"/proc/self/cgroup\"");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		const char *ctls = c1 + 1, *own = c2 + 1;
		bool v2 = *ctls == '\0';
		_cleanup_free_ char *first = xstrdup(ctls);
		char *comma = strchr(first, ',');
		if (comma)
			*comma = '\0';
		_cleanup_free_ char *mnt = NULL, *root = NULL;
		if (!find_mount(first, v2, &mnt, &root))
			continue;
		/* A mount that shows a part of the tree reaches sbx's cgroup
		 * only below its root. */
		size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(own, root, rl) != 0 || (own[rl] != '/' && own[rl] != '\0'))
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = (struct hier){
		    .key = xstrdup(v2 ? V2_KEY : ctls),
		    .mnt = steal_ptr(mnt),
		    .own = xstrdup(own + rl + (own[rl] == '/')),
		    .v2 = v2,
		    .created = xcalloc(1, sizeof(char *)),
		};
	}
	return 0;
}

static bool pure_v2(void)
{
	struct statfs sf;
	return statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* Rootless: the caller's own v2 cgroup, when it may move processes and
 * make cgroups there. */
static bool delegated(const struct hier *h)
{
	_cleanup_free_ char *dir = path_join(h->mnt, h->own);
	_cleanup_free_ char *procs = path_join(dir, "cgroup.procs");
	return access(dir, W_OK) == 0 && access(procs, W_OK) == 0;
}

void cgroup_support(bool *v1, bool *v2)
{
	*v1 = *v2 = false;
	bool root = is_host_root();
	if (!root && !pure_v2())
		return;
	struct hier *h = NULL;
	size_t n = 0;
	struct sbx_error *e = NULL;
	if (hier_list(&h, &n, &e) == 0) {
		for (size_t i = 0; i < n; i++) {
			*v1 |= root && !h[i].v2;
			*v2 |= h[i].v2 && (root || (n == 1 && delegated(&h[i])));
		}
	}
	for (size_t i = 0; i < n; i++)
		hier_free(&h[i]);
	free(h);
	sbx_error_free(e);
}

/* ---- writing ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

static int write_at(int dfd, const char *dir, const char *file, const char *value,
                    struct sbx_error **err)
{
	if (write_string_at(dfd, file, value, O_NOFOLLOW) < 0)
		return sbx_error_set(err, errno, "cannot write \"%s\" to \"%s/%s\"", value, dir,
		                     file);
	return 0;
}

static bool file_at(int dfd, const char *file)
{
	return faccessat(dfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* One setting: the key of linux.resources it comes from, for the message
 * when the controller that owns file is not there. */
static int set(int dfd, const char *dir, const char *what, const char *file, const char *value,
               struct sbx_error **err)
{
	if (!file_at(dfd, file))
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.resources.%s: \"%s/%s\" does not exist (its cgroup "
		                      "controller is not available there)",
		                      what, dir, file);
	if (write_at(dfd, dir, file, value, err) < 0)
		return sbx_error_prefix(err, "linux.resources.%s", what);
	return 0;
}

static int setll(int dfd, const char *dir, const char *what, const char *file, long long v,
                 struct sbx_error **err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	return set(dfd, dir, what, file, buf, err);
}

/* v, or reset for CGROUP_RESET (update's -1). */
static int setv(int dfd, const char *dir, const char *what, const char *file, long long v,
                const char *reset, struct sbx_error **err)
{
	if (v == CGROUP_RESET)
		return set(dfd, dir, what, file, reset, err);
	return setll(dfd, dir, what, file, v, err);
}

static char *rule_text(const struct sbx_dev_rule *d)
{
	if (d->type == 'a')
		return xasprintf("a *:* %.3s", d->access);
	char maj[24] = "*", min[24] = "*";
	if (d->major >= 0)
		snprintf(maj, sizeof(maj), "%lld", d->major);
	if (d->minor >= 0)
		snprintf(min, sizeof(min), "%lld", d->minor);
	return xasprintf("%c %s:%s %.3s", d->type, maj, min, d->access);
}

/* Without a device cgroup (cgroup v2, whose device control is a BPF
 * program sbx does not load, or rootless), sbx still has the user
 * namespace: no device node can be made, and the sandbox's /dev holds only
 * the devices sbx binds there (runtime/mount.c) and those the config
 * mounts. Allow rules then widen nothing, and a first rule that denies
 * everything is what runc's and containerd's lists start with; any other
 * deny rule would need a device cgroup, and is refused by name. */
static int check_devices_unenforced(const struct sbx_resources *r, struct sbx_error **err)
{
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct sbx_dev_rule *d = &r->devices[i];
		if (d->allow || (i == 0 && d->type == 'a' && strlen(d->access) == 3))
			continue;
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.resources.devices[%zu]: this deny rule needs a device "
		                      "cgroup, which sbx has only on cgroup v1 as root (on cgroup "
		                      "v2 it is a BPF program sbx does not load)",
		                      i);
	}
	return 0;
}

/* What runc always allows besides the config's rules: the devices every
 * container gets. */
static const char *const default_allow[] = {
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",   "c 1:9 rwm",
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
};

/* The controllers r needs (devices only when there is a device cgroup),
 * in the order of apply_v1's and apply_v2's done[], with the key of
 * linux.resources each is for. */
#define N_CTLS 7
static const char *const ctl_names[N_CTLS] = {"memory", "pids",    "cpu",    "cpuset",
                                              "blkio",  "hugetlb", "devices"};
static const char *const ctl_keys[N_CTLS] = {"memory",  "pids",           "cpu",    "cpu",
                                             "blockIO", "hugepageLimits", "devices"};
static void wanted(const struct sbx_resources *r, bool have_devices, bool *want)
{
	want[0] = r->mem_limit != -1 || r->mem_reservation != -1 || r->mem_swap != -1 ||
	          r->mem_swappiness != -1 || r->mem_disable_oom;
	want[1] = r->pids_limit != -1;
	want[2] = r->cpu_shares != -1 || r->cpu_quota != -1 || r->cpu_period != -1;
	want[3] = r->cpus || r->mems;
	want[4] = r->blkio_weight != -1;
	want[5] = r->n_huge > 0;
	want[6] = r->n_devices > 0 && have_devices;
}

static int apply_v1(const struct hier *h, int dfd, const struct sbx_resources *r, bool *done,
                    struct sbx_error **err)
{
	const char *d = h->dir;
	if (key_has(h->key, "memory")) {
		done[0] = true;
		if (r->mem_swap != -1 && !file_at(dfd, "memory.memsw.limit_in_bytes"))
			return sbx_error_setc(err, ENOTSUP,
			                      "linux.resources.memory.swap: swap accounting is "
			                      "off on this host (\"%s/"
			                      "memory.memsw.limit_in_bytes\" does not exist)",
			                      d);
		bool swap_set = false;
		if (r->mem_limit != -1) {
			_cleanup_error_ struct sbx_error *e = NULL;
			if (setv(dfd, d, "memory.limit", "memory.limit_in_bytes", r->mem_limit,
			         "-1", &e) < 0) {
				/* v1 keeps memory+swap at least memory: a limit
				 * raised past the swap's (update) goes after it. */
				if (r->mem_swap == -1) {
					*err = steal_ptr(e);
					return -1;
				}
				if (setv(dfd, d, "memory.swap", "memory.memsw.limit_in_bytes",
				         r->mem_swap, "-1", err) < 0 ||
				    setv(dfd, d, "memory.limit", "memory.limit_in_bytes",
				         r->mem_limit, "-1", err) < 0)
					return -1;
				swap_set = true;
			}
		}
		if ((r->mem_reservation != -1 &&
		     setv(dfd, d, "memory.reservation", "memory.soft_limit_in_bytes",
		          r->mem_reservation, "-1", err) < 0) ||
		    (r->mem_swap != -1 && !swap_set &&
		     setv(dfd, d, "memory.swap", "memory.memsw.limit_in_bytes", r->mem_swap, "-1",
		          err) < 0))
			return -1;
		if ((r->mem_swappiness != -1 &&
		     setll(dfd, d, "memory.swappiness", "memory.swappiness", r->mem_swappiness,
		           err) < 0) ||
		    (r->mem_disable_oom &&
		     set(dfd, d, "memory.disableOOMKiller", "memory.oom_control", "1", err) < 0))
			return -1;
	}
	if (key_has(h->key, "pids")) {
		done[1] = true;
		if (r->pids_limit != -1) {
			char buf[32] = "max";
			if (r->pids_limit > 0)
				snprintf(buf, sizeof(buf), "%lld", r->pids_limit);
			if (set(dfd, d, "pids.limit", "pids.max", buf, err) < 0)
				return -1;
		}
	}
	if (key_has(h->key, "cpu")) {
		done[2] = true;
		if ((r->cpu_shares != -1 &&
		     setv(dfd, d, "cpu.shares", "cpu.shares", r->cpu_shares, "1024", err) < 0) ||
		    (r->cpu_period != -1 && setv(dfd, d, "cpu.period", "cpu.cfs_period_us",
		                                 r->cpu_period, "100000", err) < 0) ||
		    (r->cpu_quota != -1 &&
		     setv(dfd, d, "cpu.quota", "cpu.cfs_quota_us", r->cpu_quota, "-1", err) < 0))
			return -1;
	}
	if (key_has(h->key, "cpuset")) {
		done[3] = true;
		if ((r->cpus && set(dfd, d, "cpu.cpus", "cpuset.cpus", r->cpus, err) < 0) ||
		    (r->mems && set(dfd, d, "cpu.mems", "cpuset.mems", r->mems, err) < 0))
			return -1;
	}
	if (key_has(h->key, "blkio")) {
		done[4] = true;
		bool bfq = !file_at(dfd, "blkio.weight");
		if (r->blkio_weight != -1)
			if (setv(dfd, d, "blockIO.weight",
			         bfq ? "blkio.bfq.weight" : "blkio.weight", r->blkio_weight,
			         bfq ? "100" : "500", err) < 0)
				return -1;
	}
	if (key_has(h->key, "hugetlb")) {
		done[5] = true;
		for (size_t i = 0; i < r->n_huge; i++) {
			_cleanup_free_ char *f =
			    xasprintf("hugetlb.%s.limit_in_bytes", r->huge[i].page_size);
			if (setll(dfd, d, "hugepageLimits", f, r->huge[i].limit, err) < 0)
				return -1;
		}
	}
	if (key_has(h->key, "devices") && r->n_devices > 0) {
		done[6] = true;
		for (size_t i = 0; i < r->n_devices; i++) {
			_cleanup_free_ char *t = rule_text(&r->devices[i]);
			const char *f = r->devices[i].allow ? "devices.allow" : "devices.deny";
			if (write_at(dfd, d, f, t, err) < 0)
				return sbx_error_prefix(err, "linux.resources.devices[%zu]", i);
		}
		for (size_t i = 0; i < ARRAY_SIZE(default_allow); i++)
			if (write_at(dfd, d, "devices.allow", default_allow[i], err) < 0)
				return sbx_error_prefix(err, "linux.resources.devices");
	}
	return 0;
}

static int apply_v2(const struct hier *h, int dfd, const struct sbx_resources *r, bool *done,
                    struct sbx_error **err)
{
	const char *d = h->dir;
	char buf[64];
	if (r->mem_limit != -1 || r->mem_reservation != -1 || r->mem_swap != -1 ||
	    r->mem_swappiness != -1 || r->mem_disable_oom) {
		done[0] = true;
		if (r->mem_swappiness != -1 || r->mem_disable_oom)
			return sbx_error_setc(err, ENOTSUP,
			                      "linux.resources.memory.%s: not supported "
			                      "on cgroup v2",
			                      r->mem_disable_oom ? "disableOOMKiller"
			                                         : "swappiness");
		if (r->mem_limit != -1) {
			snprintf(buf, sizeof(buf), r->mem_limit > 0 ? "%lld" : "max", r->mem_limit);
			if (set(dfd, d, "memory.limit", "memory.max", buf, err) < 0)
				return -1;
		}
		if (r->mem_reservation != -1 && setv(dfd, d, "memory.reservation", "memory.low",
		                                     r->mem_reservation, "max", err) < 0)
			return -1;
		if (r->mem_swap != -1) {
			/* v1's swap counts memory and swap; v2's swap alone. */
			if (r->mem_swap > 0 && r->mem_limit <= 0)
				return sbx_error_setc(
				    err, EINVAL,
				    "linux.resources.memory.swap: on cgroup v2 a swap "
				    "limit needs a memory limit");
			if (r->mem_swap > 0)
				snprintf(buf, sizeof(buf), "%lld", r->mem_swap - r->mem_limit);
			else
				snprintf(buf, sizeof(buf), "max");
			if (set(dfd, d, "memory.swap", "memory.swap.max", buf, err) < 0)
				return -1;
		}
	}
	if (r->pids_limit != -1) {
		done[1] = true;
		snprintf(buf, sizeof(buf), r->pids_limit > 0 ? "%lld" : "max", r->pids_limit);
		if (set(dfd, d, "pids.limit", "pids.max", buf, err) < 0)
			return -1;
	}
	if (r->cpu_shares != -1 || r->cpu_quota != -1 || r->cpu_period != -1) {
		done[2] = true;
		/* runc's mapping of shares (2..262144) onto weight (1..10000). */
		if (r->cpu_shares == CGROUP_RESET) {
			if (set(dfd, d, "cpu.shares", "cpu.weight", "100", err) < 0)
				return -1;
		} else if (r->cpu_shares != -1) {
			long long s = r->cpu_shares < 2        ? 2
			              : r->cpu_shares > 262144 ? 262144
			                                       : r->cpu_shares;
			if (setll(dfd, d, "cpu.shares", "cpu.weight", 1 + ((s - 2) * 9999) / 262142,
			          err) < 0)
				return -1;
		}
		if (r->cpu_quota != -1 || r->cpu_period != -1) {
			/* "QUOTA [PERIOD]": without a period the kernel keeps its
			 * own (100000 in a new cgroup); a period alone keeps the
			 * quota there is (a missing cpu.max: set() says so). */
			char quota[32] = "max";
			if (r->cpu_quota > 0) {
				snprintf(quota, sizeof(quota), "%lld", r->cpu_quota);
			} else if (r->cpu_quota == -1) {
				_cleanup_close_ int fd =
				    openat(dfd, "cpu.max", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
				if (fd >= 0 && read_string(fd, buf, sizeof(buf)) > 0)
					snprintf(quota, sizeof(quota), "%.*s",
					         (int)strcspn(buf, " \n"), buf);
			}
			if (r->cpu_period > 0)
				snprintf(buf, sizeof(buf), "%s %lld", quota, r->cpu_period);
			else
				snprintf(buf, sizeof(buf), "%s", quota);
			if (set(dfd, d, "cpu.quota", "cpu.max", buf, err) < 0)
				return -1;
		}
	}
	if (r->cpus || r->mems) {
		done[3] = true;
		if ((r->cpus && set(dfd, d, "cpu.cpus", "cpuset.cpus", r->cpus, err) < 0) ||
		    (r->mems && set(dfd, d, "cpu.mems", "cpuset.mems", r->mems, err) < 0))
			return -1;
	}
	if (r->blkio_weight != -1) {
		done[4] = true;
		if (file_at(dfd, "io.bfq.weight")) {
			if (setv(dfd, d, "blockIO.weight", "io.bfq.weight", r->blkio_weight, "100",
			         err) < 0)
				return -1;
		} else if (setv(dfd, d, "blockIO.weight", "io.weight",
		                r->blkio_weight == CGROUP_RESET
		                    ? CGROUP_RESET
		                    : 1 + (r->blkio_weight - 10) * 9999 / 990,
		                "100", err) < 0) {
			return -1;
		}
	}
	if (r->n_huge) {
		done[5] = true;
		for (size_t i = 0; i < r->n_huge; i++) {
			_cleanup_free_ char *f = xasprintf("hugetlb.%s.max", r->huge[i].page_size);
			if (setll(dfd, d, "hugepageLimits", f, r->huge[i].limit, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* The unified keys, on the v2 hierarchy (pure or hybrid). */
static int apply_unified(const struct hier *h, int dfd, const struct sbx_resources *r,
                         struct sbx_error **err)
{
	const char *key;
	json_t *v;
	json_object_foreach(r->unified, key, v)
	{
		_cleanup_free_ char *what = xasprintf("unified.%s", key);
		if (set(dfd, h->dir, what, key, json_string_value(v), err) < 0)
			return -1;
	}
	return 0;
}

/* ---- making it ---- */

/* A v1 cpuset cgroup starts with no cpus and no memory nodes, which no
 * process may join: it gets its parent's. */
static int cpuset_inherit(int parent, int dfd, const char *dir, struct sbx_error **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char mine[4096], theirs[4096];
		_cleanup_close_ int a = openat(dfd, files[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int b = openat(parent, files[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (a < 0 || b < 0)
			continue;
		if (read_string(a, mine, sizeof(mine)) > 1)
			continue;
		if (read_string(b, theirs, sizeof(theirs)) == 0)
			continue;
		if (write_at(dfd, dir, files[i], theirs, err) < 0)
			return -1;
	}
	return 0;
}

/* Lets a v2 cgroup's children use every controller it has; a cgroup with
 * processes of its own (not the root) refuses, and its children then have
 * fewer controllers: what needs one is refused when it is applied. */
static void enable_controllers(int dfd)
{
	char ctls[1024];
	_cleanup_close_ int fd = openat(dfd, "cgroup.controllers", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read_string(fd, ctls, sizeof(ctls)) == 0)
		return;
	char *save = NULL;
	for (char *t = strtok_r(ctls, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		_cleanup_free_ char *v = xasprintf("+%s", t);
		if (write_string_at(dfd, "cgroup.subtree_control", v, 0) < 0)
			sbx_trace("cgroup: cannot enable %s: %s", t, strerror(errno));
	}
}

/* path's components, checked: no empty result, no "." or "..". */
static int split_path(const char *path, char ***out, struct sbx_error **err)
{
	_cleanup_strv_ char **v = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *copy = xstrdup(path);
	char *save = NULL;
	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
			return sbx_error_setc(err, EINVAL,
			                      "linux.cgroupsPath: \"%s\" holds \"%s\"; give a path "
			                      "without . or .. components",
			                      path, t);
		strv_push(&v, t);
	}
	if (v[0] == NULL)
		return sbx_error_setc(err, EINVAL,
		                      "linux.cgroupsPath: \"%s\" names no cgroup of its own (the "
		                      "root)",
		                      path);
	*out = steal_ptr(v);
	return 0;
}

/* Walks from the mount down to the container's cgroup, making what is
 * missing; returns its fd. */
static int make_dirs(struct hier *h, char *const *base, char *const *comps, bool enable, int *out,
                     struct sbx_error **err)
{
	_cleanup_close_ int fd = open(h->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", h->mnt);
	_cleanup_free_ char *at = xstrdup(h->mnt);
	for (size_t i = 0; base[i]; i++) {
		int next = openat(fd, base[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		char *p = path_join(at, base[i]);
		free(at);
		at = p;
		if (next < 0)
			return sbx_error_set(err, errno, "cannot open \"%s\"", at);
		close(fd);
		fd = next;
	}
	for (size_t i = 0; comps[i]; i++) {
		if (enable)
			enable_controllers(fd);
		char *p = path_join(at, comps[i]);
		free(at);
		at = p;
		if (mkdirat(fd, comps[i], 0755) == 0)
			strv_push(&h->created, at);
		else if (errno != EEXIST)
			return sbx_error_set(err, errno, "cannot create the cgroup \"%s\"", at);
		int next = openat(fd, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			sbx_error_set(err, errno, "cannot open \"%s\"", at);
			return -1;
		}
		if (!h->v2 && key_has(h->key, "cpuset") && cpuset_inherit(fd, next, at, err) < 0) {
			close(next);
			return -1;
		}
		close(fd);
		fd = next;
	}
	h->dir = steal_ptr(at);
	*out = steal_fd(fd);
	return 0;
}

void cgroup_abort(struct sbx_cgroup *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		char **c = cg->h[i].created;
		size_t n = 0;
		while (c[n])
			n++;
		/* A process killed a moment ago may still hold it (EBUSY). */
		while (n-- > 0)
			for (int round = 0; rmdir(c[n]) < 0 && errno == EBUSY && round < 200;
			     round++)
				sleep_ms(10);
	}
}

int cgroup_create(const char *path, const struct sbx_resources *r, struct sbx_cgroup **out,
                  struct sbx_error **err)
{
	*out = NULL;
	bool root = is_host_root();
	if (!root && !pure_v2()) {
		sbx_trace("cgroup: rootless on a host without pure cgroup v2: none made");
		return check_devices_unenforced(r, err);
	}
	struct sbx_cgroup *cg = xcalloc(1, sizeof(*cg));
	if (hier_list(&cg->h, &cg->n, err) < 0) {
		cgroup_free(cg);
		return -1;
	}
	if (!root) {
		/* Only a delegated subtree, and only below the caller's own. */
		if (cg->n != 1 || !cg->h[0].v2 || !delegated(&cg->h[0]) || path[0] == '/') {
			sbx_trace("cgroup: no delegated cgroup v2 subtree for \"%s\": none made",
			          path);
			cgroup_free(cg);
			return check_devices_unenforced(r, err);
		}
	}
	if (cg->n == 0) {
		cgroup_free(cg);
		return sbx_error_setc(err, ENOENT,
		                      "linux.cgroupsPath: no cgroup hierarchy is mounted under "
		                      "\"" CGROUP_ROOT "\"");
	}
	_cleanup_strv_ char **comps = NULL;
	if (split_path(path, &comps, err) < 0) {
		cgroup_free(cg);
		return -1;
	}
	bool have_devices = false, have_v2 = false;
	for (size_t i = 0; i < cg->n; i++) {
		have_devices |= !cg->h[i].v2 && key_has(cg->h[i].key, "devices");
		have_v2 |= cg->h[i].v2;
	}
	if (!have_devices && check_devices_unenforced(r, err) < 0) {
		cgroup_free(cg);
		return -1;
	}
	if (r->unified && !have_v2) {
		cgroup_free(cg);
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.resources.unified: needs cgroup v2, which this host "
		                      "does not mount");
	}
	/* Applied once a hierarchy had the controller. */
	bool done[N_CTLS] = {0};
	for (size_t i = 0; i < cg->n; i++) {
		struct hier *h = &cg->h[i];
		_cleanup_strv_ char **base = xcalloc(1, sizeof(char *));
		if (path[0] != '/' && split_path(h->own, &base, err) < 0) {
			sbx_error_free(*err);
			*err = NULL;
			base = xcalloc(1, sizeof(char *));
		}
		_cleanup_close_ int dfd = -1;
		/* On a hybrid host the v2 hierarchy has no controllers to give. */
		if (make_dirs(h, base, comps, h->v2 && cg->n == 1, &dfd, err) < 0)
			goto fail;
		if (!h->v2 && apply_v1(h, dfd, r, done, err) < 0)
			goto fail;
		/* On a hybrid host the v2 hierarchy has no controllers: only the
		 * unified keys go there. */
		if (h->v2 && cg->n == 1 && apply_v2(h, dfd, r, done, err) < 0)
			goto fail;
		if (h->v2 && r->unified && apply_unified(h, dfd, r, err) < 0)
			goto fail;
	}
	bool want[N_CTLS];
	wanted(r, have_devices, want);
	for (size_t k = 0; k < N_CTLS; k++)
		if (want[k] && !done[k]) {
			sbx_error_setc(err, ENOTSUP,
			               "linux.resources.%s: this host has no %s cgroup controller "
			               "sbx can use",
			               ctl_keys[k], ctl_names[k]);
			goto fail;
		}
	*out = cg;
	return 0;
fail:
	cgroup_abort(cg);
	cgroup_free(cg);
	return -1;
}

/* ---- changing it ---- */

int cgroup_update(json_t *paths, const struct sbx_resources *r, struct sbx_error **err)
{
	if (!r->any)
		return sbx_error_setc(err, EINVAL, "nothing to update");
	struct hier *h = xcalloc(json_object_size(paths) + 1, sizeof(*h));
	size_t n = 0;
	bool v1 = false;
	const char *key;
	json_t *v;
	json_object_foreach(paths, key, v)
	{
		if (!json_is_string(v))
			continue;
		h[n] = (struct hier){
		    .key = xstrdup(key),
		    .dir = xstrdup(json_string_value(v)),
		    .v2 = strcmp(key, V2_KEY) == 0,
		};
		v1 |= !h[n].v2;
		n++;
	}
	int ret = -1;
	/* Every controller first, on v1: nothing half-written for a missing
	 * one. On v2 a missing one's file is missing, and set() says so. */
	bool want[N_CTLS], done[N_CTLS] = {0};
	wanted(r, v1, want);
	for (size_t k = 0; v1 && k < N_CTLS; k++) {
		bool have = false;
		for (size_t i = 0; i < n; i++)
			have |= !h[i].v2 && key_has(h[i].key, ctl_names[k]);
		if (want[k] && !have) {
			sbx_error_setc(err, ENOTSUP,
			               "linux.resources.%s: the container's cgroup has no %s "
			               "controller",
			               ctl_keys[k], ctl_names[k]);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		/* As cgroup_create: the limits go to v2 only on a pure v2 host. */
		if (h[i].v2 == v1)
			continue;
		_cleanup_close_ int dfd =
		    open(h[i].dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0) {
			sbx_error_set(err, errno, "cannot open the cgroup \"%s\"", h[i].dir);
			goto out;
		}
		if ((h[i].v2 ? apply_v2 : apply_v1)(&h[i], dfd, r, done, err) < 0)
			goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		hier_free(&h[i]);
	free(h);
	return ret;
}

static int enter_dir(const char *dir, pid_t pid, struct sbx_error **err)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return sbx_error_set(err, errno, "cannot open the cgroup \"%s\"", dir);
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (write_at(dfd, dir, "cgroup.procs", buf, err) < 0)
		return sbx_error_prefix(err, "cannot put pid %d in its cgroup", (int)pid);
	return 0;
}

int cgroup_enter(const struct sbx_cgroup *cg, pid_t pid, struct sbx_error **err)
{
	for (size_t i = 0; cg && i < cg->n; i++)
		if (enter_dir(cg->h[i].dir, pid, err) < 0)
			return -1;
	return 0;
}

json_t *cgroup_paths(const struct sbx_cgroup *cg)
{
	json_t *o = json_object();
	for (size_t i = 0; cg && i < cg->n; i++)
		json_object_set_new(o, cg->h[i].key, json_string(cg->h[i].dir));
	return o;
}

int cgroup_procs_open(json_t *paths, int **fds, size_t *n, struct sbx_error **err)
{
	*fds = xcalloc(json_object_size(paths) + 1, sizeof(int));
	*n = 0;
	const char *key;
	json_t *v;
	json_object_foreach(paths, key, v)
	{
		const char *dir = json_string_value(v);
		if (dir == NULL)
			continue;
		_cleanup_close_ int dfd =
		    open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int fd =
		    dfd < 0 ? -1 : openat(dfd, "cgroup.procs", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			sbx_error_set(err, errno, "cannot open the cgroup \"%s\"", dir);
			while (*n > 0)
				close((*fds)[--*n]);
			return -1;
		}
		(*fds)[(*n)++] = fd;
	}
	return 0;
}

int cgroup_procs_write(const int *fds, size_t n, pid_t pid, struct sbx_error **err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < n; i++)
		if (write_all(fds[i], buf, strlen(buf)) < 0)
			return sbx_error_set(
			    err, errno, "cannot put pid %d in the container's cgroup", (int)pid);
	return 0;
}

/* ---- removing it ---- */

/* Kills every process in dfd's cgroup until none is left; a frozen one is
 * thawed first, or SIGKILL would wait for ever. */
static void kill_all_in(int dfd)
{
	_cleanup_close_ int fz = openat(dfd, "freezer.state", O_WRONLY | O_CLOEXEC);
	if (fz >= 0 && write(fz, "THAWED", 6) < 0)
		sbx_trace("cgroup: cannot thaw: %s", strerror(errno));
	_cleanup_close_ int f2 = openat(dfd, "cgroup.freeze", O_WRONLY | O_CLOEXEC);
	if (f2 >= 0 && write(f2, "0", 1) < 0)
		sbx_trace("cgroup: cannot thaw: %s", strerror(errno));
	_cleanup_close_ int ck = openat(dfd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
	if (ck >= 0 && write(ck, "1", 1) < 0)
		sbx_trace("cgroup: cgroup.kill: %s", strerror(errno));
	for (int round = 0; round < 500; round++) {
		_cleanup_close_ int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
		_cleanup_fclose_ FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
		if (f == NULL)
			return;
		fd = -1;
		int pid, n = 0;
		while (fscanf(f, "%d", &pid) == 1) {
			kill(pid, SIGKILL);
			n++;
		}
		if (n == 0)
			return;
		sleep_ms(10);
	}
}

/* Removes dfd/name and every cgroup below it, killing what is in them. */
static int remove_tree(int dfd, const char *name, const char *path, struct sbx_error **err)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT
		           ? 0
		           : sbx_error_set(err, errno, "cannot open the cgroup \"%s\"", path);
	kill_all_in(fd);
	_cleanup_strv_ char **subs = NULL;
	{
		int dup_fd = dup(fd);
		DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
		subs = xcalloc(1, sizeof(char *));
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				strv_push(&subs, de->d_name);
		if (d)
			closedir(d);
		else if (dup_fd >= 0)
			close(dup_fd);
	}
	for (size_t i = 0; subs[i]; i++) {
		_cleanup_free_ char *p = path_join(path, subs[i]);
		if (remove_tree(fd, subs[i], p, err) < 0)
			return -1;
	}
	/* A process killed a moment ago may still hold it (EBUSY). */
	for (int round = 0;; round++) {
		if (unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || round == 500)
			return sbx_error_set(err, errno, "cannot remove the cgroup \"%s\"", path);
		kill_all_in(fd);
		sleep_ms(10);
	}
}

int cgroup_destroy_paths(json_t *paths, struct sbx_error **err)
{
	const char *key;
	json_t *v;
	int r = 0;
	json_object_foreach(paths, key, v)
	{
		const char *dir = json_string_value(v);
		if (dir == NULL || dir[0] != '/')
			continue;
		_cleanup_free_ char *parent = xstrdup(dir);
		char *slash = strrchr(parent, '/');
		*slash = '\0';
		_cleanup_close_ int pfd =
		    open(slash == parent ? "/" : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0) {
			if (errno == ENOENT)
				continue;
			r = sbx_error_set(err, errno, "cannot open \"%s\"", parent);
			continue;
		}
		struct sbx_error *e = NULL;
		if (remove_tree(pfd, slash + 1, dir, &e) < 0) {
			if (r == 0)
				r = sbx_error_setc(err, e->code, "%s", e->msg);
			sbx_error_free(e);
		}
	}
	return r;
}
