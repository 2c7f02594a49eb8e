/* config.c - parse an OCI config.json into what the runtime needs.
 *
 * The config is trusted but parsed defensively: anything sbx cannot honour
 * fails closed instead of silently weakening the sandbox. */
#define _GNU_SOURCE
#include "runtime/config.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

static char **json_to_strv(json_t *a)
{
	char **v = xcalloc(json_array_size(a) + 1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) v[i] =
	    xstrdup(json_string_value(e) ? json_string_value(e) : "");
	return v;
}

static int strv_from(json_t *a, const char *path, char ***out, struct sbx_error **err)
{
	if (a == NULL) {
		*out = xcalloc(1, sizeof(char *));
		return 0;
	}
	if (!json_is_array(a))
		return sbx_error_set(err, EINVAL, "%s: expected an array of strings", path);
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) if (!json_is_string(e)) return sbx_error_set(
	    err, EINVAL, "%s[%zu]: expected a string", path, i);
	*out = json_to_strv(a);
	return 0;
}

static int parse_maps(json_t *a, const char *path, struct sbx_idmap **out, size_t *n,
                      struct sbx_error **err)
{
	*n = json_array_size(a);
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
	{
		json_int_t c, h, s;
		json_error_t je;
		if (json_unpack_ex(e, &je, JSON_STRICT, "{s:I, s:I, s:I}", "containerID", &c,
		                   "hostID", &h, "size", &s) < 0)
			return sbx_error_set(err, EINVAL, "%s[%zu]: %s", path, i, je.text);
		if (c < 0 || h < 0 || s <= 0 || c > UINT32_MAX || h > UINT32_MAX || s > UINT32_MAX)
			return sbx_error_set(err, EINVAL, "%s[%zu]: ids out of range", path, i);
		(*out)[i] = (struct sbx_idmap){(unsigned)c, (unsigned)h, (unsigned)s};
	}
	return 0;
}

static const struct {
	const char *name;
	int flag;
} ns_types[] = {
    {"user", CLONE_NEWUSER},   {"mount", CLONE_NEWNS}, {"pid", CLONE_NEWPID},
    {"ipc", CLONE_NEWIPC},     {"uts", CLONE_NEWUTS},  {"cgroup", CLONE_NEWCGROUP},
    {"network", CLONE_NEWNET},
};

const char *config_ns_name(int flag)
{
	for (size_t k = 0; k < ARRAY_SIZE(ns_types); k++)
		if (ns_types[k].flag == flag)
			return ns_types[k].name;
	return "unknown";
}

/* Each entry either creates a namespace (clone_flags) or joins one by path
 * (join_flags, ns_paths); a user namespace, made or joined, is needed. */
static int parse_namespaces(json_t *a, struct sbx_config *c, struct sbx_error **err)
{
	c->clone_flags = 0;
	c->ns_paths = xcalloc(json_array_size(a) + 1, sizeof(*c->ns_paths));
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
	{
		const char *type = NULL, *path = NULL;
		json_error_t je;
		if (json_unpack_ex(e, &je, JSON_STRICT, "{s:s, s?s}", "type", &type, "path",
		                   &path) < 0)
			return sbx_error_set(err, EINVAL, "linux.namespaces[%zu]: %s", i, je.text);
		int flag = 0;
		for (size_t k = 0; k < ARRAY_SIZE(ns_types); k++)
			if (strcmp(type, ns_types[k].name) == 0)
				flag = ns_types[k].flag;
		if (flag == 0)
			return sbx_error_set(err, EINVAL,
			                     "linux.namespaces[%zu]: unsupported namespace \"%s\"",
			                     i, type);
		if ((c->clone_flags | c->join_flags) & flag)
			return sbx_error_set(err, EINVAL,
			                     "linux.namespaces[%zu]: a second \"%s\" namespace", i,
			                     type);
		if (path == NULL) {
			c->clone_flags |= flag;
			continue;
		}
		if (flag == CLONE_NEWNS)
			return sbx_error_set(err, ENOTSUP,
			                     "linux.namespaces[%zu]: joining a mount namespace by "
			                     "path is not supported (sbx builds the root in a "
			                     "mount namespace of its own)",
			                     i);
		if (path[0] != '/')
			return sbx_error_set(err, EINVAL,
			                     "linux.namespaces[%zu].path: \"%s\" is not an "
			                     "absolute path",
			                     i, path);
		c->join_flags |= flag;
		c->ns_paths[c->n_ns_paths++] = (struct sbx_ns_path){flag, xstrdup(path)};
	}
	if (!((c->clone_flags | c->join_flags) & CLONE_NEWUSER))
		return sbx_error_set(err, ENOTSUP,
		                     "linux.namespaces: sbx needs a user namespace; add "
		                     "{\"type\": \"user\"}");
	if (!(c->clone_flags & CLONE_NEWNS))
		return sbx_error_set(err, ENOTSUP,
		                     "linux.namespaces: sbx needs a mount namespace; add "
		                     "{\"type\": \"mount\"}");
	return 0;
}

static const struct {
	const char *name;
	unsigned long attr; /* set */
	bool clear;         /* the option clears attr instead */
} mount_opts[] = {
    {"ro", MOUNT_ATTR_RDONLY, false},
    {"rw", MOUNT_ATTR_RDONLY, true},
    {"nosuid", MOUNT_ATTR_NOSUID, false},
    {"suid", MOUNT_ATTR_NOSUID, true},
    {"nodev", MOUNT_ATTR_NODEV, false},
    {"dev", MOUNT_ATTR_NODEV, true},
    {"noexec", MOUNT_ATTR_NOEXEC, false},
    {"exec", MOUNT_ATTR_NOEXEC, true},
    {"strictatime", MOUNT_ATTR_STRICTATIME, false},
    {"noatime", MOUNT_ATTR_NOATIME, false},
    {"relatime", 0, false},
    {"nosymfollow", MOUNT_ATTR_NOSYMFOLLOW, false},
    {"symfollow", MOUNT_ATTR_NOSYMFOLLOW, true},
};

/* Propagation, set on the mount once it is in place. The sandbox's mount
 * namespace, owned by its user namespace, has the host's mounts as slaves
 * (the kernel makes them so, and sbx makes "/" rslave), so a shared mount
 * here makes a peer group of the sandbox's own: nothing reaches the host. */
static const struct {
	const char *name;
	unsigned long flags;
} propagation_opts[] = {
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Options that are the kernel's defaults anyway. */
static const char *const ignored_opts[] = {"async", "atime", "diratime", "nodiratime"};

static int parse_mount(json_t *e, size_t i, struct sbx_mount *m, struct sbx_error **err)
{
	const char *dest = NULL, *type = NULL, *source = NULL;
	json_t *options = NULL, *uidm = NULL, *gidm = NULL;
	json_error_t je;
	if (json_unpack_ex(e, &je, JSON_STRICT, "{s:s, s?s, s?s, s?o, s?o, s?o}", "destination",
	                   &dest, "type", &type, "source", &source, "options", &options,
	                   "uidMappings", &uidm, "gidMappings", &gidm) < 0)
		return sbx_error_set(err, EINVAL, "mounts[%zu]: %s", i, je.text);
	/* MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN in the user namespace that owns
	 * the filesystem's superblock: the host's, for what a bundle binds. */
	if (uidm || gidm)
		return sbx_error_setc(err, ENOTSUP,
		                      "mounts[%zu]: uidMappings/gidMappings (an idmapped mount) "
		                      "cannot be honoured: idmapping a host filesystem needs "
		                      "CAP_SYS_ADMIN over it, which a sandbox in a user namespace "
		                      "does not have",
		                      i);
	if (dest[0] != '/')
		return sbx_error_set(err, EINVAL,
		                     "mounts[%zu].destination: \"%s\" is not an absolute path", i,
		                     dest);
	m->dest = xstrdup(dest);
	m->type = xstrdup(type ? type : "bind");
	m->source = xstrdup(source ? source : m->type);
	m->fs_options = xcalloc(1, sizeof(char *));
	bool bind = strcmp(m->type, "bind") == 0;
	size_t k;
	json_t *o;
	json_array_foreach(options, k, o)
	{
		const char *opt = json_string_value(o);
		if (opt == NULL)
			return sbx_error_set(err, EINVAL,
			                     "mounts[%zu].options[%zu]: expected a string", i, k);
		if (strcmp(opt, "bind") == 0 || strcmp(opt, "rbind") == 0) {
			bind = true;
			m->recursive = m->recursive || opt[0] == 'r';
			continue;
		}
		if (strcmp(opt, "idmap") == 0 || strcmp(opt, "ridmap") == 0)
			return sbx_error_setc(
			    err, ENOTSUP,
			    "mounts[%zu].options: \"%s\" cannot be honoured: "
			    "idmapping a host filesystem needs CAP_SYS_ADMIN over "
			    "it, which a sandbox in a user namespace does not have",
			    i, opt);
		bool known = false;
		for (size_t n = 0; n < ARRAY_SIZE(propagation_opts); n++) {
			if (strcmp(opt, propagation_opts[n].name) != 0)
				continue;
			known = true;
			m->propagation = propagation_opts[n].flags;
		}
		for (size_t n = 0; n < ARRAY_SIZE(mount_opts); n++) {
			if (strcmp(opt, mount_opts[n].name) != 0)
				continue;
			known = true;
			if (mount_opts[n].clear)
				m->attr &= ~mount_opts[n].attr;
			else
				m->attr |= mount_opts[n].attr;
		}
		for (size_t n = 0; n < ARRAY_SIZE(ignored_opts); n++)
			known = known || strcmp(opt, ignored_opts[n]) == 0;
		if (known)
			continue;
		if (bind)
			return sbx_error_set(
			    err, EINVAL, "mounts[%zu].options: \"%s\" is not a bind mount option",
			    i, opt);
		strv_push(&m->fs_options, opt);
	}
	m->kind = bind ? SBX_MOUNT_BIND : SBX_MOUNT_FS;
	if (bind && m->source[0] != '/')
		return sbx_error_set(err, EINVAL,
		                     "mounts[%zu].source: \"%s\" is not an absolute path", i,
		                     m->source);
	return 0;
}

static int rlimit_from_name(const char *name)
{
	static const struct {
		const char *name;
		int r;
	} t[] = {
	    {"RLIMIT_AS", RLIMIT_AS},
	    {"RLIMIT_CORE", RLIMIT_CORE},
	    {"RLIMIT_CPU", RLIMIT_CPU},
	    {"RLIMIT_DATA", RLIMIT_DATA},
	    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
	    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
	    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	    {"RLIMIT_NICE", RLIMIT_NICE},
	    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	    {"RLIMIT_NPROC", RLIMIT_NPROC},
	    {"RLIMIT_RSS", RLIMIT_RSS},
	    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	    {"RLIMIT_STACK", RLIMIT_STACK},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(name, t[i].name) == 0)
			return t[i].r;
	return -1;
}

static int parse_process(json_t *p, json_t *personality, struct sbx_config *c,
                         struct sbx_error **err)
{
	json_t *user = NULL, *args = NULL, *env = NULL, *caps = NULL, *rlimits = NULL;
	json_t *console = NULL, *oom = NULL, *ioprio = NULL, *sched = NULL;
	const char *cwd = NULL, *apparmor = NULL, *selinux = NULL;
	int terminal = 0, nnp = 0;
	json_error_t je;
	if (json_unpack_ex(p, &je, JSON_STRICT,
	                   "{s?b, s?o, s:o, s?o, s:s, s?o, s?o, s?b, s?s, s?s, s?o, s?o, s?o, s?o}",
	                   "terminal", &terminal, "user", &user, "args", &args, "env", &env, "cwd",
	                   &cwd, "capabilities", &caps, "rlimits", &rlimits, "noNewPrivileges",
	                   &nnp, "apparmorProfile", &apparmor, "selinuxLabel", &selinux,
	                   "oomScoreAdj", &oom, "consoleSize", &console, "ioPriority", &ioprio,
	                   "scheduler", &sched) < 0)
		return sbx_error_set(err, EINVAL, "process: %s", je.text);
	/* What sbx cannot honour is refused by name, never dropped (procattr.c):
	 * a profile or a label could be a protection. consoleSize is only the
	 * first size of a terminal, which sbx takes from the caller's. */
	if (procattr_parse(p, personality, &c->attr, err) < 0)
		return -1;
	c->terminal = terminal;
	c->no_new_privileges = nnp;
	if (cwd[0] != '/')
		return sbx_error_set(err, EINVAL, "process.cwd: \"%s\" is not an absolute path",
		                     cwd);
	c->cwd = xstrdup(cwd);
	if (strv_from(args, "process.args", &c->args, err) < 0 ||
	    strv_from(env, "process.env", &c->env, err) < 0)
		return -1;
	if (c->args[0] == NULL)
		return sbx_error_set(err, EINVAL, "process.args: no command given");
	if (user) {
		json_int_t uid = 0, gid = 0, umask = 0;
		json_t *groups = NULL;
		const char *username = NULL;
		if (json_unpack_ex(user, &je, JSON_STRICT, "{s:I, s:I, s?I, s?o, s?s}", "uid", &uid,
		                   "gid", &gid, "umask", &umask, "additionalGids", &groups,
		                   "username", &username) < 0)
			return sbx_error_set(err, EINVAL, "process.user: %s", je.text);
		if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
			return sbx_error_set(err, EINVAL, "process.user: id out of range");
		if (json_object_get(user, "umask")) {
			if (umask < 0 || umask > 0777)
				return sbx_error_set(
				    err, EINVAL,
				    "process.user.umask: %lld is not a mode (0 to 0777)",
				    (long long)umask);
			c->has_umask = true;
			c->umask = (mode_t)umask;
		}
		c->uid = (uid_t)uid;
		c->gid = (gid_t)gid;
		c->n_groups = json_array_size(groups);
		c->groups = xcalloc(c->n_groups + 1, sizeof(gid_t));
		size_t i;
		json_t *g;
		json_array_foreach(groups, i, g)
		{
			if (!json_is_integer(g) || json_integer_value(g) < 0 ||
			    json_integer_value(g) >= UINT32_MAX)
				return sbx_error_set(
				    err, EINVAL, "process.user.additionalGids[%zu]: bad gid", i);
			c->groups[i] = (gid_t)json_integer_value(g);
		}
	}
	if (caps_from_oci(caps, &c->caps, err) < 0)
		return -1;
	c->n_rlimits = json_array_size(rlimits);
	c->rlimits = xcalloc(c->n_rlimits + 1, sizeof(*c->rlimits));
	size_t i;
	json_t *r;
	json_array_foreach(rlimits, i, r)
	{
		const char *type;
		json_int_t soft, hard;
		if (json_unpack_ex(r, &je, JSON_STRICT, "{s:s, s:I, s:I}", "type", &type, "soft",
		                   &soft, "hard", &hard) < 0)
			return sbx_error_set(err, EINVAL, "process.rlimits[%zu]: %s", i, je.text);
		int res = rlimit_from_name(type);
		if (res < 0)
			return sbx_error_set(err, EINVAL,
			                     "process.rlimits[%zu].type: unknown limit \"%s\"", i,
			                     type);
		for (size_t k = 0; k < i; k++)
			if (c->rlimits[k].resource == res)
				return sbx_error_setc(
				    err, EINVAL, "process.rlimits[%zu].type: \"%s\" is given twice",
				    i, type);
		/* JSON integers are signed; -1 is how all ones (RLIM_INFINITY) round-trips. */
		c->rlimits[i] = (struct sbx_config_rlimit){res, (unsigned long long)soft,
		                                           (unsigned long long)hard};
	}
	return 0;
}

static const char *ann(json_t *a, const char *key)
{
	return json_string_value(json_object_get(a, key));
}

/* sbx's own annotations (run.sbx.*) are strings: another type would read
 * as absent and could drop a protection (Landlock rules). */
static int check_annotations(json_t *a, struct sbx_error **err)
{
	const char *key;
	json_t *v;
	if (a && !json_is_object(a))
		return sbx_error_set(err, EINVAL, "annotations: expected an object");
	json_object_foreach(a, key, v)
	{
		if (!json_is_string(v))
			return sbx_error_set(err, EINVAL, "annotations: \"%s\" is not a string",
			                     key);
	}
	return 0;
}

/* The sysctls of the namespaces a sandbox can have of its own. */
struct sysctl_key {
	const char *prefix;
	bool exact; /* the whole key, not a prefix */
	int ns;
	const char *ns_name, *ns_type;
};

static const struct sysctl_key sysctl_keys[] = {
    {"net.", false, CLONE_NEWNET, "network", "network"},
    {"kernel.shm", false, CLONE_NEWIPC, "IPC", "ipc"},
    {"kernel.msg", false, CLONE_NEWIPC, "IPC", "ipc"},
    {"kernel.sem", true, CLONE_NEWIPC, "IPC", "ipc"},
    {"fs.mqueue.", false, CLONE_NEWIPC, "IPC", "ipc"},
    {"kernel.hostname", true, CLONE_NEWUTS, "UTS", "uts"},
    {"kernel.domainname", true, CLONE_NEWUTS, "UTS", "uts"},
};

static const struct sysctl_key *sysctl_key_find(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(sysctl_keys); i++) {
		const struct sysctl_key *k = &sysctl_keys[i];
		if (k->exact ? str_startswith(key, k->prefix) &&
		                   (key[strlen(k->prefix)] == 0 || key[strlen(k->prefix)] == '=')
		             : str_startswith(key, k->prefix))
			return k;
	}
	return NULL;
}

/* linux.sysctl: only the keys of the namespaces a sandbox has of its own,
 * as runc allows (a key of another namespace would be the host's); written
 * under the sandbox's /proc/sys. */
static int parse_sysctl(json_t *o, struct sbx_config *c, struct sbx_error **err)
{
	const char *key;
	json_t *v;
	c->sysctl = xcalloc(1, sizeof(char *));
	if (o == NULL)
		return 0;
	if (!json_is_object(o))
		return sbx_error_set(err, EINVAL, "linux.sysctl: expected an object");
	json_object_foreach(o, key, v)
	{
		const struct sysctl_key *k = sysctl_key_find(key);
		if (k == NULL || strchr(key, '/') || strstr(key, "..") || str_endswith(key, "."))
			return sbx_error_setc(err, ENOTSUP,
			                      "linux.sysctl: \"%s\" is not supported (only net.*, "
			                      "kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, "
			                      "kernel.hostname and kernel.domainname, which a "
			                      "sandbox's namespaces own)",
			                      key);
		/* A namespace joined by path is the sandbox's too (podman's). */
		if (!((c->clone_flags | c->join_flags) & k->ns))
			return sbx_error_setc(
			    err, ENOTSUP,
			    "linux.sysctl: \"%s\" would be the host's: it needs a "
			    "%s namespace of the sandbox's own (add {\"type\": "
			    "\"%s\"} to linux.namespaces)",
			    key, k->ns_name, k->ns_type);
		if (!json_is_string(v))
			return sbx_error_set(err, EINVAL, "linux.sysctl: \"%s\": expected a string",
			                     key);
		/* The UTS namespace's files in /proc/sys belong to the host's root:
		 * the names are set with sethostname and setdomainname instead,
		 * after the config's own (runc writes sysctls last). */
		char **uts = strcmp(key, "kernel.hostname") == 0     ? &c->hostname
		             : strcmp(key, "kernel.domainname") == 0 ? &c->domainname
		                                                     : NULL;
		if (uts) {
			free(*uts);
			*uts = xstrdup(json_string_value(v));
			continue;
		}
		strv_push_take(&c->sysctl, xasprintf("%s=%s", key, json_string_value(v)));
	}
	return 0;
}

int config_sysctl_ns(const char *kv)
{
	const struct sysctl_key *k = sysctl_key_find(kv);
	return k ? k->ns : 0;
}

/* linux.rootfsPropagation, applied to the new root once pivoted, after sbx
 * made "/" rslave. "shared" means, for runc, that the container's mounts
 * reach the host's namespace: a mount namespace owned by a user namespace
 * never propagates to its parent's (the kernel made the host's mounts
 * slaves in it), so it is refused rather than made shared in name only. */
static int parse_root_propagation(const char *p, struct sbx_config *c, struct sbx_error **err)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} t[] = {
	    {"slave", 0},
	    {"rslave", 0},
	    {"private", MS_PRIVATE},
	    {"rprivate", MS_PRIVATE | MS_REC},
	    {"unbindable", MS_UNBINDABLE},
	    {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(p, t[i].name) == 0) {
			c->root_propagation = t[i].flags;
			return 0;
		}
	if (strcmp(p, "shared") == 0 || strcmp(p, "rshared") == 0)
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.rootfsPropagation: \"%s\" cannot be honoured: the "
		                      "container's mounts cannot propagate to the host from a "
		                      "user namespace (the kernel makes the host's mounts its "
		                      "slaves)",
		                      p);
	return sbx_error_setc(err, EINVAL,
	                      "linux.rootfsPropagation: unknown value \"%s\" (private, slave, "
	                      "unbindable or shared)",
	                      p);
}

static char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int parse(json_t *j, bool built, struct sbx_config **out, struct sbx_error **err)
{
	_cleanup_config_ struct sbx_config *c = xcalloc(1, sizeof(*c));
	const char *version = NULL, *hostname = NULL, *domainname = NULL, *rootpath = NULL;
	json_t *process = NULL, *mounts = NULL, *linux_ = NULL, *annotations = NULL;
	json_t *hooks = NULL;
	int readonly = 0;
	json_error_t je;
	if (json_unpack_ex(
	        j, &je, JSON_STRICT, "{s:s, s:{s:s, s?b}, s:o, s?s, s?s, s?o, s?o, s:o, s?o}",
	        "ociVersion", &version, "root", "path", &rootpath, "readonly", &readonly, "process",
	        &process, "hostname", &hostname, "domainname", &domainname, "mounts", &mounts,
	        "hooks", &hooks, "linux", &linux_, "annotations", &annotations) < 0)
		return sbx_error_set(err, EINVAL, "config: %s", je.text);
	if (!str_startswith(version, "1."))
		return sbx_error_set(err, ENOTSUP, "ociVersion: \"%s\" is not supported (1.x is)",
		                     version);
	if (hooks_parse(hooks, &c->hooks, err) < 0)
		return -1;
	c->rootfs = xstrdup(rootpath);
	c->root_readonly = readonly;
	c->hostname = xstrdup_or_null(hostname);
	c->domainname = domainname && *domainname ? xstrdup(domainname) : NULL;

	json_t *uidm = NULL, *gidm = NULL, *nss = NULL, *masked = NULL, *ro = NULL;
	json_t *seccomp = NULL, *resources = NULL, *sysctl = NULL, *devices = NULL;
	json_t *personality = NULL;
	const char *cgpath = NULL, *mountlabel = NULL, *propagation = NULL;
	if (json_unpack_ex(linux_, &je, JSON_STRICT,
	                   "{s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?s, s?s, s?s, s?o}",
	                   "uidMappings", &uidm, "gidMappings", &gidm, "namespaces", &nss,
	                   "maskedPaths", &masked, "readonlyPaths", &ro, "seccomp", &seccomp,
	                   "resources", &resources, "sysctl", &sysctl, "devices", &devices,
	                   "cgroupsPath", &cgpath, "mountLabel", &mountlabel, "rootfsPropagation",
	                   &propagation, "personality", &personality) < 0)
		return sbx_error_set(err, EINVAL, "linux: %s", je.text);
	if (parse_process(process, personality, c, err) < 0)
		return -1;
	if (parse_maps(uidm, "linux.uidMappings", &c->uid_maps, &c->n_uid_maps, err) < 0 ||
	    parse_maps(gidm, "linux.gidMappings", &c->gid_maps, &c->n_gid_maps, err) < 0 ||
	    parse_namespaces(nss, c, err) < 0)
		return -1;
	/* A joined user namespace has its maps already. */
	if ((c->clone_flags & CLONE_NEWUSER) && (c->n_uid_maps == 0 || c->n_gid_maps == 0))
		return sbx_error_set(err, EINVAL,
		                     "linux.uidMappings/gidMappings: a user namespace needs both");
	if (cgpath && *cgpath)
		return sbx_error_set(err, ENOTSUP,
		                     "linux.cgroupsPath: sbx does not manage cgroups yet");
	if (mountlabel && *mountlabel)
		return sbx_error_set(err, ENOTSUP,
		                     "linux.mountLabel: sbx does not apply SELinux labels");
	if (parse_root_propagation(propagation, c, err) < 0)
		return -1;
	if (c->domainname && !(c->clone_flags & CLONE_NEWUTS))
		return sbx_error_setc(err, ENOTSUP,
		                      "domainname: \"%s\" would be the host's: it needs a UTS "
		                      "namespace of the sandbox's own (add {\"type\": \"uts\"} "
		                      "to linux.namespaces)",
		                      c->domainname);
	if (parse_sysctl(sysctl, c, err) < 0)
		return -1;
	if (devices_parse(devices, &c->devices, &c->n_devices, err) < 0)
		return -1;
	if (strv_from(masked, "linux.maskedPaths", &c->masked, err) < 0 ||
	    strv_from(ro, "linux.readonlyPaths", &c->readonly, err) < 0)
		return -1;
	if (seccomp) {
		if (!built && seccomp_validate(seccomp, err) < 0)
			return sbx_error_prefix(err, "linux.seccomp");
		c->seccomp = json_incref(seccomp);
	}
	if (resources) {
		/* Only the limits sbx's profiles write (none enforced yet: sbx has
		 * no cgroup manager); every other resource is refused by name
		 * (jansson's strict unpack names the key). */
		json_int_t mem = 0, pids = 0, quota = 0, period = 0;
		if (json_unpack_ex(resources, &je, JSON_STRICT, "{s?{s:I}, s?{s:I}, s?{s?I, s?I}}",
		                   "memory", "limit", &mem, "pids", "limit", &pids, "cpu", "quota",
		                   &quota, "period", &period) < 0)
			return sbx_error_set(err, ENOTSUP, "linux.resources: %s", je.text);
		if (mem < 0 || pids < 0 || quota < 0 || period < 0)
			return sbx_error_set(err, EINVAL, "linux.resources: a limit is negative");
		c->memory_limit = (unsigned long long)mem;
		c->pids_limit = pids;
	}

	c->n_mounts = json_array_size(mounts);
	c->mounts = xcalloc(c->n_mounts + 1, sizeof(*c->mounts));
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m) if (parse_mount(m, i, &c->mounts[i], err) < 0) return -1;

	if (check_annotations(annotations, err) < 0)
		return -1;
	c->annotations = json_incref(annotations);
	c->overlay_lower = xstrdup_or_null(ann(annotations, SBX_ANN_LOWER));
	c->overlay_upper = xstrdup_or_null(ann(annotations, SBX_ANN_UPPER));
	c->overlay_work = xstrdup_or_null(ann(annotations, SBX_ANN_WORK));
	c->overlay_backend = xstrdup_or_null(ann(annotations, SBX_ANN_BACKEND));
	const char *vol = ann(annotations, SBX_ANN_VOLATILE);
	c->overlay_volatile = vol && strcmp(vol, "true") == 0;
	const char *scratch = ann(annotations, SBX_ANN_SCRATCH);
	if (scratch && strcmp(scratch, "tmpfs") != 0)
		return sbx_error_set(err, EINVAL,
		                     "annotations: " SBX_ANN_SCRATCH " \"%s\" is not \"tmpfs\"",
		                     scratch);
	c->overlay_scratch = scratch != NULL;
	const char *size = ann(annotations, SBX_ANN_SCRATCH_SIZE);
	uint64_t n = 0;
	if (size && (parse_u64(size, &n) < 0 || n == 0))
		return sbx_error_set(
		    err, EINVAL,
		    "annotations: " SBX_ANN_SCRATCH_SIZE " \"%s\" is not a size in bytes", size);
	c->overlay_scratch_size = n;
	const char *init = ann(annotations, SBX_ANN_INIT);
	c->init = init && strcmp(init, "true") == 0;
	if (c->init && json_object_get(c->seccomp, "listenerPath"))
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.seccomp.listenerPath: not supported with " SBX_ANN_INIT
		                      " (sbx's init would start the payload)");
	if (net_config_parse(ann(annotations, SBX_ANN_NETWORK), ann(annotations, SBX_ANN_PUBLISH),
	                     ann(annotations, SBX_ANN_NETWORK_DIR), c->clone_flags & CLONE_NEWNET,
	                     &c->net, err) < 0)
		return -1;
	if (landlock_parse(ann(annotations, SBX_ANN_LANDLOCK_FS_RO),
	                   ann(annotations, SBX_ANN_LANDLOCK_FS_RW),
	                   ann(annotations, SBX_ANN_LANDLOCK_TCP_BIND),
	                   ann(annotations, SBX_ANN_LANDLOCK_TCP_CONNECT), &c->landlock, err) < 0)
		return -1;
	if (c->overlay_upper && (!c->overlay_lower || !c->overlay_work))
		return sbx_error_set(err, EINVAL,
		                     "annotations: an overlay needs lower, upper and work");
	if (c->overlay_scratch && (!c->overlay_lower || c->overlay_upper || c->overlay_work))
		return sbx_error_set(err, EINVAL,
		                     "annotations: a scratch overlay needs lower and neither "
		                     "upper nor work");
	*out = steal_ptr(c);
	return 0;
}

int config_parse(json_t *j, struct sbx_config **out, struct sbx_error **err)
{
	return parse(j, false, out, err);
}

int config_parse_built(json_t *j, struct sbx_config **out, struct sbx_error **err)
{
	return parse(j, true, out, err);
}

void config_free(struct sbx_config *c)
{
	if (c == NULL)
		return;
	free(c->rootfs);
	free(c->hostname);
	free(c->domainname);
	procattr_free(&c->attr);
	devices_free(c->devices, c->n_devices);
	free(c->groups);
	strv_free(c->args);
	strv_free(c->env);
	free(c->cwd);
	free(c->rlimits);
	free(c->uid_maps);
	free(c->gid_maps);
	for (size_t i = 0; i < c->n_ns_paths; i++)
		free(c->ns_paths[i].path);
	free(c->ns_paths);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].dest);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		strv_free(c->mounts[i].fs_options);
	}
	free(c->mounts);
	strv_free(c->masked);
	strv_free(c->readonly);
	strv_free(c->sysctl);
	json_decref(c->seccomp);
	json_decref(c->annotations);
	free(c->overlay_lower);
	free(c->overlay_upper);
	free(c->overlay_work);
	free(c->overlay_backend);
	net_config_free(&c->net);
	landlock_free(&c->landlock);
	hooks_free(&c->hooks);
	free(c);
}

int config_load_file(const char *path, json_t **out, struct sbx_error **err)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return sbx_error_set(err, 0, "%s:%d:%d: %s", path, jerr.line, jerr.column,
		                     jerr.text);
	*out = j;
	return 0;
}
