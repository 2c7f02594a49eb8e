/* oci.c - a resolved profile becomes an OCI runtime-spec config.json.
 *
 * The same document runs under sbx's own runtime and under runc or crun;
 * sbx-only behaviour (the overlay root) travels in annotations. */
#define _GNU_SOURCE
#include "profile/oci.h"
#include "runtime/caps.h"
#include "runtime/net.h"
#include "runtime/seccomp.h"
#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

/* runc's `runc spec` defaults, plus podman's RAPL side-channel mask. */
static const char *const default_masked[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};
static const char *const default_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const struct {
	int resource;
	const char *name;
} rlimit_names[] = {
    {RLIMIT_AS, "RLIMIT_AS"},
    {RLIMIT_CORE, "RLIMIT_CORE"},
    {RLIMIT_CPU, "RLIMIT_CPU"},
    {RLIMIT_DATA, "RLIMIT_DATA"},
    {RLIMIT_FSIZE, "RLIMIT_FSIZE"},
    {RLIMIT_LOCKS, "RLIMIT_LOCKS"},
    {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"},
    {RLIMIT_NICE, "RLIMIT_NICE"},
    {RLIMIT_NOFILE, "RLIMIT_NOFILE"},
    {RLIMIT_NPROC, "RLIMIT_NPROC"},
    {RLIMIT_RSS, "RLIMIT_RSS"},
    {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
    {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
    {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
    {RLIMIT_STACK, "RLIMIT_STACK"},
};

static const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return NULL;
}

static json_t *strv_to_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *mapping(unsigned container, unsigned host, unsigned size)
{
	return json_pack("{s:I, s:I, s:I}", "containerID", (json_int_t)container, "hostID",
	                 (json_int_t)host, "size", (json_int_t)size);
}

static json_t *build_mappings(const struct sbx_oci_input *in, bool gid)
{
	json_t *a = json_array();
	unsigned id = gid ? in->gid : in->uid;
	unsigned sub = gid ? in->subgid : in->subuid;
	unsigned count = gid ? in->subgid_count : in->subuid_count;
	bool subid = in->profile->userns == SBX_USERNS_SUBID;
	/* The same maps as `sbx unshare`'s, from the same function. */
	struct sbx_idmap m[2];
	size_t n = userns_subid_layout(id, subid, sub, count, m);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, mapping(m[i].container, m[i].host, m[i].size));
	return a;
}

static json_t *ns(const char *type)
{
	return json_pack("{s:s}", "type", type);
}

static json_t *build_namespaces(const struct sbx_profile *p)
{
	json_t *a = json_array();
	json_array_append_new(a, ns("user"));
	json_array_append_new(a, ns("mount"));
	if (p->ns_pid)
		json_array_append_new(a, ns("pid"));
	if (p->ns_ipc)
		json_array_append_new(a, ns("ipc"));
	if (p->ns_uts)
		json_array_append_new(a, ns("uts"));
	if (p->ns_cgroup)
		json_array_append_new(a, ns("cgroup"));
	if (p->net != SBX_NET_HOST)
		json_array_append_new(a, ns("network"));
	return a;
}

static json_t *mnt(const char *dst, const char *type, const char *src, const char *const *opts)
{
	json_t *o = json_array();
	for (size_t i = 0; opts && opts[i]; i++)
		json_array_append_new(o, json_string(opts[i]));
	/* Set key by key: json_pack's format costs more than the mount. */
	json_t *m = json_object();
	json_object_set_new_nocheck(m, "destination", json_string(dst));
	json_object_set_new_nocheck(m, "type", json_string(type));
	json_object_set_new_nocheck(m, "source", json_string(src));
	json_object_set_new_nocheck(m, "options", o);
	return m;
}

static json_t *build_mounts(const struct sbx_oci_input *in)
{
	const struct sbx_profile *p = in->profile;
	json_t *a = json_array();
	json_array_append_new(
	    a, mnt("/proc", "proc", "proc", (const char *[]){"nosuid", "noexec", "nodev", NULL}));
	json_array_append_new(a, mnt("/dev", "tmpfs", "tmpfs",
	                             (const char *[]){"nosuid", "noexec", "strictatime", "mode=755",
	                                              "size=65536k", NULL}));
	/* No gid=5: tty is not mapped in a rootless sandbox. */
	json_array_append_new(a, mnt("/dev/pts", "devpts", "devpts",
	                             (const char *[]){"nosuid", "noexec", "newinstance",
	                                              "ptmxmode=0666", "mode=0620", NULL}));
	json_array_append_new(a, mnt("/dev/shm", "tmpfs", "shm",
	                             (const char *[]){"nosuid", "noexec", "nodev", "mode=1777",
	                                              "size=65536k", NULL}));
	json_array_append_new(a, mnt("/dev/mqueue", "mqueue", "mqueue",
	                             (const char *[]){"nosuid", "noexec", "nodev", NULL}));
	/* sysfs can only be mounted from a network namespace we own. */
	if (p->net == SBX_NET_HOST)
		json_array_append_new(
		    a, mnt("/sys", "bind", "/sys",
		           (const char *[]){"rbind", "nosuid", "noexec", "nodev", "ro", NULL}));
	else
		json_array_append_new(
		    a, mnt("/sys", "sysfs", "sysfs",
		           (const char *[]){"nosuid", "noexec", "nodev", "ro", NULL}));
	/* Generated per sandbox; the user's own tmpfs and volumes come later. */
	if (in->etc_dir) {
		const char *const ro[] = {"bind", "nosuid", "nodev", "noexec", "ro", NULL};
		_cleanup_free_ char *hosts = xasprintf("%s/%s", in->etc_dir, SBX_NET_HOSTS);
		_cleanup_free_ char *resolv = xasprintf("%s/%s", in->etc_dir, SBX_NET_RESOLV);
		json_array_append_new(a, mnt("/etc/hosts", "bind", hosts, ro));
		json_array_append_new(a, mnt("/etc/resolv.conf", "bind", resolv, ro));
	}
	for (size_t i = 0; i < p->n_tmpfs; i++) {
		const struct sbx_tmpfs *t = &p->tmpfs[i];
		_cleanup_free_ char *mode = xasprintf("mode=%o", t->mode);
		_cleanup_free_ char *size =
		    t->size ? xasprintf("size=%llu", (unsigned long long)t->size) : NULL;
		json_array_append_new(a,
		                      mnt(t->dst, "tmpfs", "tmpfs",
		                          (const char *[]){"nosuid", "nodev", mode, size, NULL}));
	}
	for (size_t i = 0; i < p->n_volumes; i++) {
		const struct sbx_volume *v = &p->volumes[i];
		json_array_append_new(a, mnt(v->dst, "bind", v->src,
		                             (const char *[]){"rbind", "nosuid", "nodev",
		                                              v->ro ? "ro" : "rw", NULL}));
	}
	return a;
}

static json_t *build_paths(const char *const *defaults, size_t n, char *const *extra)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(defaults[i]));
	for (size_t i = 0; extra && extra[i]; i++) {
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup = dup || strcmp(defaults[k], extra[i]) == 0;
		if (!dup)
			json_array_append_new(a, json_string(extra[i]));
	}
	return a;
}

/* Opens the image's passwd or group file. The file is untrusted: it is
 * opened inside the image root, so a symlink cannot point outside. */
static int open_image_file(const char *rootfs, const char *file, FILE **out)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, root, file, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	*out = fdopen(fd, "r");
	if (*out == NULL) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* Looks NAME up in the image's passwd or group file. */
static int lookup_id(const char *rootfs, const char *file, const char *name, unsigned *id,
                     unsigned *gid)
{
	FILE *f = NULL;
	int r = open_image_file(rootfs, file, &f);
	if (r < 0)
		return r;
	char line[1024];
	int ret = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *fname = strtok_r(line, ":", &save);
		char *pw = strtok_r(NULL, ":", &save);
		char *uid = strtok_r(NULL, ":", &save);
		char *g = strtok_r(NULL, ":", &save);
		(void)pw;
		if (fname == NULL || uid == NULL || strcmp(fname, name) != 0)
			continue;
		uint64_t v;
		if (parse_u64(uid, &v) < 0 || v > UINT32_MAX - 1)
			continue;
		*id = (unsigned)v;
		if (gid && g && parse_u64(g, &v) == 0 && v < UINT32_MAX)
			*gid = (unsigned)v;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static int resolve_user(const struct sbx_oci_input *in, unsigned *uid, unsigned *gid,
                        struct sbx_error **err)
{
	*uid = 0;
	*gid = 0;
	const char *spec = in->profile->user;
	if (spec == NULL || spec[0] == '\0')
		return 0;
	_cleanup_free_ char *u = xstrdup(spec);
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	uint64_t v;
	bool gid_from_passwd = false;
	if (parse_u64(u, &v) == 0) {
		if (v >= UINT32_MAX)
			return sbx_error_set(err, ERANGE, "--user \"%s\": uid out of range", spec);
		*uid = (unsigned)v;
	} else {
		int r = lookup_id(in->rootfs, "/etc/passwd", u, uid, gid);
		if (r < 0)
			return sbx_error_set(err, -r == ENOENT ? 0 : -r,
			                     "--user \"%s\": no user \"%s\" in the image's "
			                     "/etc/passwd",
			                     spec, u);
		gid_from_passwd = true;
	}
	if (g && parse_u64(g, &v) == 0) {
		if (v >= UINT32_MAX)
			return sbx_error_set(err, ERANGE, "--user \"%s\": gid out of range", spec);
		*gid = (unsigned)v;
	} else if (g) {
		int r = lookup_id(in->rootfs, "/etc/group", g, gid, NULL);
		if (r < 0)
			return sbx_error_set(err, -r == ENOENT ? 0 : -r,
			                     "--user \"%s\": no group \"%s\" in the image's "
			                     "/etc/group",
			                     spec, g);
	} else if (!gid_from_passwd) {
		*gid = *uid;
	}
	return 0;
}

static bool id_mapped(json_t *maps, unsigned id)
{
	size_t i;
	json_t *m;
	json_array_foreach(maps, i, m)
	{
		json_int_t c = json_integer_value(json_object_get(m, "containerID"));
		json_int_t s = json_integer_value(json_object_get(m, "size"));
		if ((json_int_t)id >= c && (json_int_t)id < c + s)
			return true;
	}
	return false;
}

/* How many ids the maps give. */
static json_int_t ids_mapped(json_t *maps)
{
	json_int_t n = 0;
	size_t i;
	json_t *m;
	json_array_foreach(maps, i, m) n += json_integer_value(json_object_get(m, "size"));
	return n;
}

/* The name of uid in the image's /etc/passwd, or NULL. */
static char *passwd_name(const char *rootfs, unsigned uid)
{
	FILE *f = NULL;
	if (open_image_file(rootfs, "/etc/passwd", &f) < 0)
		return NULL;
	char *line = NULL, *name = NULL;
	size_t cap = 0;
	while (name == NULL && getline(&line, &cap, f) > 0) {
		char *p = line;
		char *fname = strsep(&p, ":");
		(void)strsep(&p, ":");
		char *id = strsep(&p, ":");
		uint64_t v;
		if (fname && id && parse_u64(id, &v) == 0 && v == uid)
			name = xstrdup(fname);
	}
	free(line);
	fclose(f);
	return name;
}

static bool member_of(char *members, const char *name)
{
	char *save = NULL;
	for (char *m = strtok_r(members, ",\n", &save); m; m = strtok_r(NULL, ",\n", &save))
		if (strcmp(m, name) == 0)
			return true;
	return false;
}

/* The supplementary groups, as initgroups(3) would set them in the image:
 * the primary gid and every group of the image's /etc/group that lists the
 * user, those the maps cover. Without them the payload would keep sbx's
 * own groups, the caller's gid among them, which is 0 inside. */
static json_t *build_groups(const struct sbx_oci_input *in, unsigned uid, unsigned gid,
                            json_t *maps_g)
{
	json_t *groups = json_array();
	json_array_append_new(groups, json_integer(gid));
	const char *spec = in->profile->user;
	_cleanup_free_ char *name = NULL;
	uint64_t v;
	if (spec && spec[0])
		name = xstrndup(spec, strcspn(spec, ":"));
	if (name == NULL || parse_u64(name, &v) == 0) {
		free(name);
		name = passwd_name(in->rootfs, uid);
	}
	FILE *f = NULL;
	if (name == NULL || name[0] == '\0' || open_image_file(in->rootfs, "/etc/group", &f) < 0)
		return groups;
	char *line = NULL;
	size_t cap = 0;
	/* NGROUPS_MAX is 65536; an image listing more is cut short. */
	while (json_array_size(groups) < 1024 && getline(&line, &cap, f) > 0) {
		char *p = line;
		char *fields[4];
		for (int i = 0; i < 4; i++)
			fields[i] = strsep(&p, ":");
		if (fields[3] == NULL || parse_u64(fields[2], &v) < 0 || v >= UINT32_MAX ||
		    v == gid || !id_mapped(maps_g, (unsigned)v) || !member_of(fields[3], name))
			continue;
		bool seen = false;
		size_t i;
		json_t *g;
		json_array_foreach(groups, i, g) seen =
		    seen || json_integer_value(g) == (json_int_t)v;
		if (!seen)
			json_array_append_new(groups, json_integer((json_int_t)v));
	}
	free(line);
	fclose(f);
	return groups;
}

static bool env_has(json_t *env, const char *key)
{
	size_t n = strlen(key), i;
	json_t *e;
	json_array_foreach(env, i, e)
	{
		const char *s = json_string_value(e);
		if (strncmp(s, key, n) == 0 && s[n] == '=')
			return true;
	}
	return false;
}

/* Later settings win: a key set again replaces the earlier value in place. */
static void env_set(json_t *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e)
	{
		const char *s = json_string_value(e);
		if (strncmp(s, kv, n) == 0 && s[n] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

static json_t *build_env(const struct sbx_oci_input *in)
{
	json_t *env = json_array();
	env_set(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	for (size_t i = 0; in->image_env && in->image_env[i]; i++)
		env_set(env, in->image_env[i]);
	for (size_t i = 0; in->profile->env && in->profile->env[i]; i++)
		env_set(env, in->profile->env[i]);
	if (in->terminal && !env_has(env, "TERM")) {
		const char *term = getenv("TERM");
		_cleanup_free_ char *t = xasprintf("TERM=%s", term && *term ? term : "xterm");
		env_set(env, t);
	}
	if (!env_has(env, "HOME"))
		env_set(env, "HOME=/root");
	return env;
}

static int build_process(const struct sbx_oci_input *in, json_t *maps_u, json_t *maps_g,
                         json_t **out, struct sbx_error **err)
{
	const struct sbx_profile *p = in->profile;
	unsigned uid, gid;
	if (resolve_user(in, &uid, &gid, err) < 0)
		return -1;
	if (!id_mapped(maps_u, uid) || !id_mapped(maps_g, gid))
		return sbx_error_set(err, 0,
		                     "--user \"%s\": uid %u or gid %u is not mapped in the "
		                     "sandbox; only 0 is mapped by default, use --userns subid "
		                     "for more ids",
		                     p->user, uid, gid);
	uint64_t mask;
	if (caps_resolve(p->caps_base == SBX_CAPS_NONE, p->cap_drop, p->cap_add, &mask, err) < 0)
		return -1;
	json_t *caps =
	    json_pack("{s:o, s:o, s:o, s:o, s:o}", "bounding", caps_mask_to_json(mask), "effective",
	              caps_mask_to_json(mask), "permitted", caps_mask_to_json(mask), "inheritable",
	              json_array(), "ambient", json_array());
	json_t *args;
	if (p->entrypoint) {
		/* As podman: the entrypoint replaces the image's command, and the
		 * words after the image are its arguments. */
		args = strv_to_json(p->entrypoint);
		for (size_t i = 0; in->args && in->args[i]; i++)
			json_array_append_new(args, json_string(in->args[i]));
		/* --entrypoint "" without words: sbx's shell, as for an image
		 * without a command. */
		if (json_array_size(args) == 0)
			json_array_append_new(args, json_string("/bin/sh"));
	} else if (in->args && in->args[0])
		args = strv_to_json(in->args);
	else if (in->image_cmd && in->image_cmd[0])
		args = strv_to_json(in->image_cmd);
	else
		args = json_pack("[s]", "/bin/sh");
	const char *cwd = p->workdir;
	if ((cwd == NULL || strcmp(cwd, "/") == 0) && in->image_workdir && in->image_workdir[0])
		cwd = in->image_workdir;
	json_t *proc = json_pack(
	    "{s:b, s:{s:I, s:I}, s:o, s:o, s:s, s:o, s:b}", "terminal", in->terminal, "user", "uid",
	    (json_int_t)uid, "gid", (json_int_t)gid, "args", args, "env", build_env(in), "cwd",
	    cwd ? cwd : "/", "capabilities", caps, "noNewPrivileges", p->no_new_privileges);
	/* setgroups() works only where the maps came from newgidmap (or root):
	 * a single mapped gid means it is denied, and the one group is 0. */
	if (ids_mapped(maps_g) > 1)
		json_object_set_new(json_object_get(proc, "user"), "additionalGids",
		                    build_groups(in, uid, gid, maps_g));
	if (p->umask >= 0)
		json_object_set_new(json_object_get(proc, "user"), "umask", json_integer(p->umask));
	if (p->n_rlimits) {
		json_t *rl = json_array();
		for (size_t i = 0; i < p->n_rlimits; i++) {
			const char *name = rlimit_name(p->rlimits[i].resource);
			if (name == NULL)
				continue;
			/* OCI has no "unlimited": RLIM_INFINITY is all ones. */
			json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type", name, "hard",
			                                    (json_int_t)p->rlimits[i].hard, "soft",
			                                    (json_int_t)p->rlimits[i].soft));
		}
		json_object_set_new(proc, "rlimits", rl);
	}
	*out = proc;
	return 0;
}

static int build_seccomp(const struct sbx_oci_input *in, json_t **out, struct sbx_error **err)
{
	const struct sbx_profile *p = in->profile;
	*out = NULL;
	switch (p->seccomp) {
	case SBX_SECCOMP_UNCONFINED:
		return 0;
	case SBX_SECCOMP_FILE:
		if (seccomp_load_file(p->seccomp_file, out, err) < 0)
			return -1;
		break;
	case SBX_SECCOMP_DEFAULT:
	default:
		if (in->defer_seccomp) {
			*out = seccomp_default_deferred(p->restrict_suid_sgid);
			return 0;
		}
		*out = seccomp_default_json();
		break;
	}
	if (p->restrict_suid_sgid && seccomp_restrict_setid(*out, err) < 0) {
		if (p->seccomp == SBX_SECCOMP_FILE)
			sbx_error_prefix(err, "%s", p->seccomp_file);
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

uint64_t oci_scratch_default(void)
{
	uint64_t cap = 1ULL << 30;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	if (pages > 0 && page > 0 && (uint64_t)pages * (uint64_t)page / 4 < cap)
		cap = (uint64_t)pages * (uint64_t)page / 4;
	return cap;
}

/* The list joined by sep, leaving out "none"; NULL for an empty list. */
static char *join_list(char *const *v, const char *sep)
{
	if (v == NULL || v[0] == NULL)
		return NULL;
	char *out = xstrdup("");
	for (size_t i = 0; v[i]; i++) {
		if (strcmp(v[i], "none") == 0)
			continue;
		char *next = xasprintf("%s%s%s", out, out[0] ? sep : "", v[i]);
		free(out);
		out = next;
	}
	return out;
}

static void set_landlock(json_t *ann, const struct sbx_profile *p)
{
	const struct {
		const char *key;
		char *const *list;
		const char *sep;
	} t[] = {
	    {SBX_ANN_LANDLOCK_FS_RO, p->landlock_fs_ro, "\n"},
	    {SBX_ANN_LANDLOCK_FS_RW, p->landlock_fs_rw, "\n"},
	    {SBX_ANN_LANDLOCK_TCP_BIND, p->landlock_tcp_bind, ","},
	    {SBX_ANN_LANDLOCK_TCP_CONNECT, p->landlock_tcp_connect, ","},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		_cleanup_free_ char *v = join_list(t[i].list, t[i].sep);
		if (v)
			json_object_set_new(ann, t[i].key, json_string(v));
	}
}

int oci_build(const struct sbx_oci_input *in, json_t **out, struct sbx_error **err)
{
	const struct sbx_profile *p = in->profile;
	if (profile_validate(p, err) < 0)
		return -1;
	_cleanup_json_ json_t *uidmaps = build_mappings(in, false);
	_cleanup_json_ json_t *gidmaps = build_mappings(in, true);
	_cleanup_json_ json_t *process = NULL;
	if (build_process(in, uidmaps, gidmaps, &process, err) < 0)
		return -1;
	_cleanup_json_ json_t *seccomp = NULL;
	if (build_seccomp(in, &seccomp, err) < 0)
		return -1;

	json_t *linux_ = json_pack(
	    "{s:O, s:O, s:o, s:o, s:o}", "uidMappings", uidmaps, "gidMappings", gidmaps,
	    "namespaces", build_namespaces(p), "maskedPaths",
	    build_paths(default_masked, ARRAY_SIZE(default_masked), p->masked), "readonlyPaths",
	    build_paths(default_readonly, ARRAY_SIZE(default_readonly), p->readonly));
	if (seccomp)
		json_object_set(linux_, "seccomp", seccomp);
	if (p->memory || p->pids || p->millicpus) {
		json_t *res = json_object();
		/* --cpus N as docker and podman write it: N periods of 100 ms
		 * each 100 ms. */
		if (p->millicpus)
			json_object_set_new(res, "cpu",
			                    json_pack("{s:I, s:I}", "quota",
			                              (json_int_t)p->millicpus * 100, "period",
			                              (json_int_t)100000));
		if (p->memory)
			json_object_set_new(res, "memory",
			                    json_pack("{s:I}", "limit", (json_int_t)p->memory));
		if (p->pids)
			json_object_set_new(res, "pids",
			                    json_pack("{s:I}", "limit", (json_int_t)p->pids));
		json_object_set_new(linux_, "resources", res);
	}

	_cleanup_free_ char *net = net_mode_format(p->net, p->host_loopback);
	json_t *ann =
	    json_pack("{s:s, s:s, s:s, s:s}", SBX_ANN_PROFILE, p->name ? p->name : "default",
	              SBX_ANN_PROFILE_PATH, p->path ? p->path : "", SBX_ANN_NETWORK, net,
	              SBX_ANN_INIT, p->init ? "true" : "false");
	if (in->image)
		json_object_set_new(ann, SBX_ANN_IMAGE, json_string(in->image));
	bool overlay = in->upper != NULL || in->scratch;
	if (overlay) {
		json_object_set_new(ann, SBX_ANN_LOWER, json_string(in->rootfs));
		if (in->scratch) {
			json_object_set_new(ann, SBX_ANN_SCRATCH, json_string("tmpfs"));
			_cleanup_free_ char *size = xasprintf(
			    "%llu",
			    (unsigned long long)(p->scratch ? p->scratch : oci_scratch_default()));
			json_object_set_new(ann, SBX_ANN_SCRATCH_SIZE, json_string(size));
		} else {
			json_object_set_new(ann, SBX_ANN_UPPER, json_string(in->upper));
			json_object_set_new(ann, SBX_ANN_WORK, json_string(in->work));
		}
		json_object_set_new(ann, SBX_ANN_BACKEND,
		                    json_string(profile_overlay_name(p->overlay)));
		if (in->volatile_upper)
			json_object_set_new(ann, SBX_ANN_VOLATILE, json_string("true"));
	}
	_cleanup_free_ char *publish = net_publish_format(p->publish, p->n_publish);
	if (publish)
		json_object_set_new(ann, SBX_ANN_PUBLISH, json_string(publish));
	if (in->etc_dir)
		json_object_set_new(ann, SBX_ANN_NETWORK_DIR, json_string(in->etc_dir));
	set_landlock(ann, p);
	if (p->memory) {
		_cleanup_free_ char *m = xasprintf("%llu", (unsigned long long)p->memory);
		json_object_set_new(ann, SBX_ANN_MEMORY, json_string(m));
	}

	json_t *config =
	    json_pack("{s:s, s:{s:s, s:b}, s:O, s:s, s:o, s:o, s:o}", "ociVersion", SBX_OCI_VERSION,
	              "root", "path", overlay ? in->mountpoint : in->rootfs, "readonly",
	              p->rootfs == SBX_ROOTFS_READONLY, "process", process, "hostname",
	              p->hostname ? p->hostname : "sbx", "mounts", build_mounts(in), "linux",
	              linux_, "annotations", ann);
	if (config == NULL)
		return sbx_error_set(err, ENOMEM, "cannot build the OCI configuration");
	*out = config;
	return 0;
}
