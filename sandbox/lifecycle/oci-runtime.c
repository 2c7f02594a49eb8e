/* oci-runtime.c - sbx as an OCI runtime (see oci-runtime.h). */
#define _GNU_SOURCE
#include "lifecycle/oci-runtime.h"
#include "lib/fdpass.h"
#include "runtime/caps.h"
#include "runtime/config.h"
#include "runtime/nsjoin.h"
#include "runtime/process.h"
#include "store/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#define STATE_FILE  "state.json"
#define FIFO_FILE   "exec.fifo"
#define CONFIG_FILE "config.json"

/* Root of the initial user namespace, whose uid_map maps everything. */
static bool host_root(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/uid_map", "re");
	unsigned long long inside, outside, count;
	return f && fscanf(f, "%llu %llu %llu", &inside, &outside, &count) == 3 && inside == 0 &&
	       outside == 0 && count == 4294967295ULL;
}

int oci_default_root(char **out, struct sbx_error **err)
{
	/* Root of a user namespace (podman's rootless one) is a user. */
	if (geteuid() == 0 && host_root()) {
		*out = xstrdup("/run/sbx-oci");
		return 0;
	}
	/* Where podman, which passes no --root, expects a runtime's state. */
	const char *v = getenv("XDG_RUNTIME_DIR");
	if (v && v[0] == '/') {
		*out = path_join(v, "sbx-oci");
		return 0;
	}
	_cleanup_free_ char *run = NULL;
	if (xdg_runtime_dir(&run, err) < 0)
		return -1;
	*out = path_join(run, "oci");
	return 0;
}

/* runc's rule: letters, digits and _ + - . ; not "." or "..". */
static int check_id(const char *id, struct sbx_error **err)
{
	size_t n = strlen(id);
	bool ok = n > 0 && n <= 1024 && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = id[i];
		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		     (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' || ch == '-' || ch == '.';
	}
	if (!ok)
		return sbx_error_setc(
		    err, EINVAL,
		    "invalid container id \"%s\": use letters, digits and _ + - . "
		    "only",
		    id);
	return 0;
}

static void (*warn_fn)(const char *msg);

void oci_set_warn(void (*fn)(const char *msg))
{
	warn_fn = fn;
}

static void warn_error(struct sbx_error *e)
{
	if (warn_fn && e)
		warn_fn(e->msg);
	sbx_error_free(e);
}

/* ---- the kernel's view of a pid ---- */

/* The state letter and start time of pid, from /proc/PID/stat; -1 when it
 * is gone. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = read_string(fd, buf, sizeof(buf));
	if (n == 0)
		return -1;
	/* The command may hold spaces and parentheses: fields follow the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	/* Field 22 (starttime); p is at field 3. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -1;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

/* Is pid still the container's init (same start time), and not a zombie? */
static bool init_alive(pid_t pid, unsigned long long start)
{
	char st;
	unsigned long long s;
	if (pid <= 0 || proc_stat(pid, &st, &s) < 0)
		return false;
	return s == start && st != 'Z' && st != 'X' && st != 'x';
}

/* A pidfd for the container's init, checked after it is open (the pidfd
 * pins the pid, so it cannot be reused after the check). */
static int open_init(pid_t pid, unsigned long long start)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	if (!init_alive(pid, start)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

/* ---- the state directory ---- */

struct record {
	json_t *j; /* state.json */
	pid_t pid;
	unsigned long long start;
	int dirfd;
	char *dir;
};

static void record_clear(struct record *r)
{
	json_decref(r->j);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->dir);
}

static int record_open(const char *root, const char *id, struct record *r, struct sbx_error **err)
{
	*r = (struct record){.dirfd = -1};
	if (check_id(id, err) < 0)
		return -1;
	r->dir = path_join(root, id);
	r->dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->dirfd < 0) {
		if (errno == ENOENT)
			return sbx_error_setc(err, ENOENT, "container \"%s\" does not exist", id);
		return sbx_error_set(err, errno, "cannot open \"%s\"", r->dir);
	}
	_cleanup_close_ int fd = openat(r->dirfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	json_error_t je;
	if (fd >= 0)
		r->j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
	if (r->j == NULL) {
		if (fd < 0 && errno == ENOENT)
			return sbx_error_setc(err, ENOENT,
			                      "container \"%s\" is being created or its creation "
			                      "failed; 'delete --force %s' removes it",
			                      id, id);
		return sbx_error_set(err, fd < 0 ? errno : EINVAL, "cannot read \"%s/%s\"", r->dir,
		                     STATE_FILE);
	}
	r->pid = (pid_t)json_integer_value(json_object_get(r->j, "pid"));
	r->start = (unsigned long long)json_integer_value(json_object_get(r->j, "starttime"));
	return 0;
}

static const char *record_status(const struct record *r)
{
	if (!init_alive(r->pid, r->start))
		return "stopped";
	if (faccessat(r->dirfd, FIFO_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return "created";
	return "running";
}

/* The runtime-spec's state. */
static json_t *record_state(const struct record *r)
{
	const char *status = record_status(r);
	json_t *s = json_pack("{s:s, s:O, s:s, s:i, s:O}", "ociVersion", OCI_RUNTIME_SPEC_VERSION,
	                      "id", json_object_get(r->j, "id"), "status", status, "pid",
	                      strcmp(status, "stopped") == 0 ? 0 : (int)r->pid, "bundle",
	                      json_object_get(r->j, "bundle"));
	json_t *ann = json_object_get(r->j, "annotations");
	if (json_object_size(ann) > 0)
		json_object_set(s, "annotations", ann);
	return s;
}

/* ---- the bundle ---- */

/* Every range of this process's user namespace, mapped to itself. */
static json_t *identity_maps(const char *file)
{
	json_t *a = json_array();
	_cleanup_free_ char *path = xasprintf("/proc/self/%s", file);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	unsigned long long inside, outside, count;
	while (f && fscanf(f, "%llu %llu %llu", &inside, &outside, &count) == 3)
		json_array_append_new(a, json_pack("{s:I, s:I, s:I}", "containerID",
		                                   (json_int_t)inside, "hostID", (json_int_t)inside,
		                                   "size", (json_int_t)count));
	return a;
}

/* A mount of type "cgroup", as runc's and podman's configs have it: on a
 * cgroup v2 host with a cgroup namespace of the sandbox's own, cgroup2 is
 * mounted; otherwise (v1 cannot be mounted in a user namespace, nor v2
 * without its own cgroup namespace) the host's /sys/fs/cgroup is bound,
 * with the mount's options, as runc does rootless. */
static void adapt_cgroup_mounts(json_t *conf)
{
	bool own_ns = false;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(json_object_get(conf, "linux"), "namespaces"), i, e)
	{
		const char *t = json_string_value(json_object_get(e, "type"));
		own_ns |= t && strcmp(t, "cgroup") == 0 && !json_object_get(e, "path");
	}
	struct statfs sf;
	bool v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
	json_array_foreach(json_object_get(conf, "mounts"), i, e)
	{
		const char *t = json_string_value(json_object_get(e, "type"));
		if (t == NULL || strcmp(t, "cgroup") != 0)
			continue;
		if (v2 && own_ns) {
			json_object_set_new(e, "type", json_string("cgroup2"));
			json_object_set_new(e, "source", json_string("cgroup2"));
			continue;
		}
		json_object_set_new(e, "type", json_string("bind"));
		json_object_set_new(e, "source", json_string("/sys/fs/cgroup"));
		json_t *opts = json_object_get(e, "options");
		if (!json_is_array(opts)) {
			opts = json_array();
			json_object_set_new(e, "options", opts);
		}
		json_array_append_new(opts, json_string("rbind"));
	}
}

static bool json_contains_string(json_t *a, const char *s)
{
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) if (s && json_string_value(e) &&
	                                strcmp(json_string_value(e), s) == 0) return true;
	return false;
}

/* runc raises what it can of process.capabilities.ambient and skips the
 * rest (its default spec lists them with no inheritable set); sbx's runtime
 * refuses such a set, so they are dropped here. */
static void drop_unraisable_ambient(json_t *process)
{
	json_t *caps = json_object_get(process, "capabilities");
	json_t *amb = json_object_get(caps, "ambient");
	if (json_is_array(amb)) {
		json_t *inh = json_object_get(caps, "inheritable");
		json_t *perm = json_object_get(caps, "permitted");
		for (size_t k = json_array_size(amb); k-- > 0;)
			if (!json_contains_string(inh, json_string_value(json_array_get(amb, k))) ||
			    !json_contains_string(perm, json_string_value(json_array_get(amb, k))))
				json_array_remove(amb, k);
	}
}

/* The bundle's config, made runnable by sbx: the root's path made absolute,
 * a user namespace that maps the caller added when there is none and the
 * caller is not root (as crun does). */
static int load_bundle(const char *bundle, char **abs_bundle, json_t **out, struct sbx_error **err)
{
	char real[PATH_MAX];
	if (realpath(bundle, real) == NULL)
		return sbx_error_set(err, errno, "cannot use the bundle \"%s\"", bundle);
	_cleanup_free_ char *path = path_join(real, "config.json");
	json_t *j = NULL;
	if (access(path, F_OK) < 0)
		return sbx_error_setc(
		    err, errno, "the bundle \"%s\" has no config.json; 'sbx-oci spec' writes one",
		    bundle);
	if (config_load_file(path, &j, err) < 0)
		return -1;
	_cleanup_json_ json_t *conf = j;
	json_t *root = json_object_get(conf, "root");
	const char *rp = json_string_value(json_object_get(root, "path"));
	if (rp && rp[0] != '/') {
		_cleanup_free_ char *abs = path_join(real, rp);
		json_object_set_new(root, "path", json_string(abs));
	}
	drop_unraisable_ambient(json_object_get(conf, "process"));
	json_t *lin = json_object_get(conf, "linux");
	adapt_cgroup_mounts(conf);
	if (json_is_object(lin)) {
		json_t *nss = json_object_get(lin, "namespaces");
		bool has_user = false;
		size_t i;
		json_t *ns;
		json_array_foreach(nss, i, ns)
		{
			const char *t = json_string_value(json_object_get(ns, "type"));
			has_user |= t && strcmp(t, "user") == 0;
		}
		/* Namespaces joined by path that a user namespace other than
		 * the caller's owns (a pod's, made by sbx-oci for its infra
		 * container): that one is joined, as the caller would be in it
		 * with a runtime that adds none. */
		_cleanup_free_ char *owner = NULL;
		json_array_foreach(nss, i, ns)
		{
			const char *p = json_string_value(json_object_get(ns, "path"));
			if (!has_user && owner == NULL && p)
				owner = nsjoin_owner_path(p);
		}
		if (owner && !json_object_get(lin, "uidMappings") &&
		    !json_object_get(lin, "gidMappings")) {
			json_array_append_new(
			    nss, json_pack("{s:s, s:s}", "type", "user", "path", owner));
		} else if (!has_user && json_is_array(nss) &&
		           !json_object_get(lin, "uidMappings") &&
		           !json_object_get(lin, "gidMappings")) {
			json_array_append_new(nss, json_pack("{s:s}", "type", "user"));
			if (geteuid() != 0) {
				json_object_set_new(lin, "uidMappings",
				                    json_pack("[{s:i, s:i, s:i}]", "containerID", 0,
				                              "hostID", (int)geteuid(), "size", 1));
				json_object_set_new(lin, "gidMappings",
				                    json_pack("[{s:i, s:i, s:i}]", "containerID", 0,
				                              "hostID", (int)getegid(), "size", 1));
			} else {
				/* Root (of the host, or of podman's rootless user
				 * namespace): sbx's runtime always makes a user
				 * namespace; this one maps every id to itself. */
				json_object_set_new(lin, "uidMappings", identity_maps("uid_map"));
				json_object_set_new(lin, "gidMappings", identity_maps("gid_map"));
			}
		}
		/* linux.cgroupsPath and linux.resources go to runtime/cgroup.c:
		 * rootless without a delegated cgroup v2 subtree, it makes
		 * none and sbx carries on, as runc does rootless. */
	}
	*abs_bundle = xstrdup(real);
	*out = json_incref(conf);
	return 0;
}

/* The parsed config, checked for what sbx-oci cannot do yet. */
static int parse_bundle(json_t *conf, struct sbx_config **out, struct sbx_error **err)
{
	_cleanup_config_ struct sbx_config *c = NULL;
	if (config_parse(conf, &c, err) < 0)
		return sbx_error_prefix(err, "config.json");
	if (c->init)
		return sbx_error_setc(err, ENOTSUP,
		                      "config.json: annotations: " SBX_ANN_INIT
		                      " is not supported by sbx-oci");
	*out = steal_ptr(c);
	return 0;
}

/* The pty's master to the caller's --console-socket, as runc sends it. */
static int connect_console(const char *sock_path, int *out, struct sbx_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return sbx_error_set(err, ENAMETOOLONG, "--console-socket \"%s\": path too long",
		                     sock_path);
	strcpy(sa.sun_path, sock_path);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sbx_error_set(err, errno, "cannot connect to the console socket \"%s\"",
		                     sock_path);
	*out = steal_fd(s);
	return 0;
}

static int send_console_fd(int s, const char *sock_path, int pty, struct sbx_error **err)
{
	if (fdpass_send(s, "/dev/ptmx", 9, &pty, 1) < 0)
		return sbx_error_set(err, errno, "cannot send the terminal to \"%s\"", sock_path);
	return 0;
}

static int send_console(const char *sock_path, int pty, struct sbx_error **err)
{
	_cleanup_close_ int s = -1;
	if (connect_console(sock_path, &s, err) < 0)
		return -1;
	return send_console_fd(s, sock_path, pty, err);
}

/* The directory of a pid file, opened now (exec writes the file after it
 * entered the container's mount namespace), and the file's name in it. */
static int open_pid_dir(const char *path, int *dfd, const char **name, struct sbx_error **err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	*name = path;
	if (slash) {
		*slash = '\0';
		*name = path + (slash - dir) + 1;
		*dfd = open(slash == dir ? "/" : dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		*dfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (*dfd < 0)
		return sbx_error_set(err, errno, "cannot write the pid file \"%s\"", path);
	return 0;
}

static int write_pid_at(int dfd, const char *name, pid_t pid, struct sbx_error **err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (write_file_atomic(dfd, name, buf, (size_t)n, 0644, err) < 0)
		return sbx_error_prefix(err, "--pid-file");
	return 0;
}

static int write_pid_file(const char *path, pid_t pid, struct sbx_error **err)
{
	_cleanup_close_ int dfd = -1;
	const char *name;
	if (open_pid_dir(path, &dfd, &name, err) < 0)
		return -1;
	return write_pid_at(dfd, name, pid, err);
}

static int write_state(int dirfd, const char *id, const char *bundle, json_t *conf, pid_t pid,
                       json_t *cgroups, struct sbx_error **err)
{
	char st;
	unsigned long long start = 0;
	if (proc_stat(pid, &st, &start) < 0)
		return sbx_error_setc(err, ESRCH, "the container's init (pid %d) is gone",
		                      (int)pid);
	char created[48];
	state_now_ns(created);
	_cleanup_free_ char *owner = NULL;
	passwd_lookup(geteuid(), &owner, NULL);
	json_t *ann = json_object_get(conf, "annotations");
	_cleanup_json_ json_t *s = json_pack(
	    "{s:s, s:s, s:i, s:I, s:s, s:O, s:s, s:s, s:o}", "ociVersion", OCI_RUNTIME_SPEC_VERSION,
	    "id", id, "pid", (int)pid, "starttime", (json_int_t)start, "bundle", bundle, "rootfs",
	    json_object_get(json_object_get(conf, "root"), "path"), "created", created, "owner",
	    owner ? owner : "", "annotations", ann ? json_deep_copy(ann) : json_object());
	/* Hierarchy -> directory (runtime/cgroup.h), for pause, resume,
	 * update and delete; {} when sbx made none. */
	json_object_set(s, "cgroupPaths", cgroups);
	_cleanup_free_ char *text = json_dumps(s, JSON_COMPACT);
	/* The config as it was run, for exec: the bundle's copy may change
	 * once the container runs, this one only its owner writes. */
	_cleanup_free_ char *ctext = json_dumps(conf, JSON_COMPACT);
	if (write_file_atomic(dirfd, CONFIG_FILE, ctext, strlen(ctext), 0600, err) < 0)
		return -1;
	return write_file_atomic(dirfd, STATE_FILE, text, strlen(text), 0644, err);
}

/* A new state directory ROOT/ID, 0711 so that the payload's user (maybe a
 * subordinate id) reaches the fifo; ROOT is 0700, so no one else does. */
static int make_state_dir(const char *root, const char *id, char **dir, int *dirfd,
                          struct sbx_error **err)
{
	if (check_id(id, err) < 0 || mkdir_p(root, 0700, err) < 0)
		return -1;
	*dir = path_join(root, id);
	if (mkdir(*dir, 0711) < 0) {
		if (errno == EEXIST)
			return sbx_error_setc(err, EEXIST, "container \"%s\" already exists", id);
		return sbx_error_set(err, errno, "cannot create \"%s\"", *dir);
	}
	chmod(*dir, 0711);
	*dirfd = open(*dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*dirfd < 0) {
		sbx_error_set(err, errno, "cannot open \"%s\"", *dir);
		rmdir(*dir);
		return -1;
	}
	return 0;
}

static void remove_state_dir(const char *root, const char *id)
{
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct sbx_error *e = NULL;
	if (rfd >= 0)
		rm_rf_at(rfd, id, &e);
	sbx_error_free(e);
}

/* ---- hooks (runtime/hooks.h) ---- */

/* The state hooks read, as `state` prints it; pid is set once there is one. */
static json_t *hook_base(const char *id, const char *bundle, json_t *conf)
{
	json_t *s = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", OCI_RUNTIME_SPEC_VERSION,
	                      "id", id, "status", "creating", "pid", 0, "bundle", bundle);
	json_t *ann = json_object_get(conf, "annotations");
	if (json_object_size(ann) > 0)
		json_object_set(s, "annotations", ann);
	return s;
}

/* The hooks of the config a container was created with: its state
 * directory's copy, which only its owner writes. */
static int record_hooks(const struct record *r, struct sbx_hooks *out, struct sbx_error **err)
{
	*out = (struct sbx_hooks){0};
	_cleanup_close_ int fd = openat(r->dirfd, CONFIG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	json_error_t je;
	_cleanup_json_ json_t *conf = fd >= 0 ? json_loadfd(fd, JSON_REJECT_DUPLICATES, &je) : NULL;
	if (conf == NULL)
		return sbx_error_set(err, fd < 0 ? errno : EINVAL, "cannot read \"%s/%s\"", r->dir,
		                     CONFIG_FILE);
	if (hooks_parse(json_object_get(conf, "hooks"), out, err) < 0) {
		hooks_free(out);
		return -1;
	}
	return 0;
}

/* poststart, once the payload runs (runtime-spec lifecycle step 9): a
 * failure stops the container and fails the step. */
static int run_poststart(const struct sbx_hooks *h, json_t *base, struct sbx_error **err)
{
	if (h->n[SBX_HOOK_POSTSTART] == 0)
		return 0;
	_cleanup_free_ char *state = hooks_state(base, "running");
	struct sbx_hooks_where here = SBX_HOOKS_HERE;
	return hooks_run(h, SBX_HOOK_POSTSTART, state, &here, err);
}

/* poststop, once the container is gone (step 13): each runs, and a failure
 * is only a warning. */
static void run_poststop(const struct sbx_hooks *h, json_t *base)
{
	if (h->n[SBX_HOOK_POSTSTOP] == 0)
		return;
	_cleanup_json_ json_t *stopped = json_deep_copy(base);
	json_object_set_new(stopped, "pid", json_integer(0));
	_cleanup_free_ char *state = hooks_state(stopped, "stopped");
	struct sbx_hooks_where here = SBX_HOOKS_HERE;
	struct sbx_hooks one = {0};
	for (size_t i = 0; i < h->n[SBX_HOOK_POSTSTOP]; i++) {
		struct sbx_error *e = NULL;
		/* Each alone, so that one failing does not skip the next. */
		one.list[SBX_HOOK_POSTSTOP] = &h->list[SBX_HOOK_POSTSTOP][i];
		one.n[SBX_HOOK_POSTSTOP] = 1;
		if (hooks_run(&one, SBX_HOOK_POSTSTOP, state, &here, &e) < 0)
			warn_error(e);
	}
}

/* Is path (resolved) dir or below it? */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0' || n == 1);
}

/* A hook that runs outside the sandbox must be the config author's program:
 * none may lie where a payload writes (this container's, or an earlier one
 * on the same root filesystem): the root filesystem, or the source of a
 * writable bind mount. Checked on the paths as they resolve now, before any
 * payload ran. startContainer runs inside, as the payload's peer. */
static int check_hook_paths(const struct sbx_config *c, struct sbx_error **err)
{
	if (hooks_count(&c->hooks) == c->hooks.n[SBX_HOOK_START_CONTAINER])
		return 0;
	char **writable = NULL;
	char real[PATH_MAX];
	if (realpath(c->rootfs, real))
		strv_push(&writable, real);
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct sbx_mount *m = &c->mounts[i];
		if (m->kind == SBX_MOUNT_BIND && !(m->attr & MOUNT_ATTR_RDONLY) &&
		    realpath(m->source, real))
			strv_push(&writable, real);
	}
	_cleanup_strv_ char **dirs = writable;
	for (int k = 0; k < SBX_HOOK_KINDS; k++) {
		if (k == SBX_HOOK_START_CONTAINER)
			continue;
		for (size_t i = 0; i < c->hooks.n[k]; i++) {
			const char *path = c->hooks.list[k][i].path;
			if (realpath(path, real) == NULL)
				continue;
			for (size_t d = 0; dirs && dirs[d]; d++)
				if (below(real, dirs[d]))
					return sbx_error_setc(
					    err, EPERM,
					    "config.json: hooks.%s[%zu].path: \"%s\" is in \"%s\", "
					    "which the container can write; a hook that runs "
					    "outside it must be out of its reach",
					    hooks_kind_name((enum sbx_hook_kind)k), i, path,
					    dirs[d]);
		}
	}
	return 0;
}

/* ---- preserved fds ---- */

/* The fds passed on from 3: LISTEN fds (LISTEN_FDS), then PRESERVE
 * (--preserve-fds), each open, for the container or the process (WHO). */
static int fds_open(unsigned listen, unsigned preserve, const char *who, struct sbx_error **err)
{
	if (preserve > 4096)
		return sbx_error_setc(err, EINVAL, "--preserve-fds %u: too many fds", preserve);
	for (int fd = 3; fd < 3 + (int)(listen + preserve); fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return sbx_error_setc(
			    err, EBADF,
			    "%s: fd %d is not open; pass exactly the fds from 3 on "
			    "that the %s gets",
			    fd < 3 + (int)listen ? "LISTEN_FDS" : "--preserve-fds", fd, who);
	return 0;
}

/* --preserve-fds and LISTEN_FDS (systemd's socket activation, as crun
 * reads it): fds 3 to 3+N-1 pass to the payload, the LISTEN_FDS first.
 * Each must be open now, or sbx's own fds could take its number. */
static int preserved_fds(const struct oci_create_opts *o, struct sbx_config *c,
                         struct sbx_error **err)
{
	uint64_t listen = 0;
	const char *v = getenv("LISTEN_FDS");
	if (v && *v && (parse_u64(v, &listen) < 0 || listen > 4096))
		return sbx_error_setc(err, EINVAL, "LISTEN_FDS \"%s\" is not a number of fds", v);
	if (fds_open((unsigned)listen, o->preserve_fds, "container", err) < 0)
		return -1;
	c->preserve_fds = (int)listen + (int)o->preserve_fds;
	c->listen_fds = (int)listen;
	return 0;
}

enum mode { MODE_CREATE, MODE_RUN, MODE_RUN_DETACHED };

/* create, run and run -d: everything up to a created (or, run, started)
 * sandbox. The config is never freed once the sandbox exists: it runs on
 * this process's memory until its exec. */
static int setup(const struct oci_create_opts *o, enum mode mode, struct sbx_sandbox **out_ct,
                 int *code, struct sbx_error **err)
{
	*code = SBX_EXIT_FAILURE;
	_cleanup_free_ char *bundle = NULL, *dir = NULL;
	_cleanup_json_ json_t *conf = NULL;
	struct sbx_config *c = NULL;
	struct sbx_sandbox *ct = NULL;
	bool made = false;
	if (check_id(o->id, err) < 0 ||
	    load_bundle(o->bundle ? o->bundle : ".", &bundle, &conf, err) < 0 ||
	    parse_bundle(conf, &c, err) < 0)
		return -1;
	if (c->terminal && mode != MODE_RUN && o->console_socket == NULL) {
		config_free(c);
		return sbx_error_setc(err, EINVAL,
		                      "process.terminal is true but no --console-socket was given: "
		                      "the terminal would have no reader");
	}
	if (preserved_fds(o, c, err) < 0 || check_hook_paths(c, err) < 0) {
		config_free(c);
		return -1;
	}
	int dirfd = -1;
	if (make_state_dir(o->root, o->id, &dir, &dirfd, err) < 0) {
		config_free(c);
		return -1;
	}
	/* The cgroup, made and filled before the init is cloned into it;
	 * like the config, never freed once a sandbox runs on it. */
	_cleanup_free_ char *cg_path = NULL;
	_cleanup_json_ json_t *cg_paths = NULL;
	struct sbx_cgroup *cg = NULL;
	if (cgroup_path_resolve(c->cgroups_path, o->cgroup_driver, o->id, &cg_path, err) < 0 ||
	    (cg_path && cgroup_create(cg_path, &c->resources, &cg, err) < 0))
		goto fail;
	if (cg == NULL && c->resources.any)
		sbx_trace("linux.resources not enforced: no cgroup");
	c->cgroup = cg;
	cg_paths = cgroup_paths(cg);
	if (hooks_count(&c->hooks) > 0)
		c->hook_state = hook_base(o->id, bundle, conf);
	if (mode == MODE_CREATE) {
		if (mkfifoat(dirfd, FIFO_FILE, 0600) < 0 ||
		    fchmodat(dirfd, FIFO_FILE, 0622, 0) < 0) {
			sbx_error_set(err, errno, "cannot create \"%s/%s\"", dir, FIFO_FILE);
			goto fail;
		}
		c->start_fifo_dir = xstrdup(dir);
		c->start_fifo_dirfd = dirfd;
	}
	c->outlive_parent = mode != MODE_RUN;
	c->seccomp_early = true;
	c->state_id = o->id; /* read by the set-up, within process_create */
	c->state_bundle = bundle;
	/* From here on a failure tears down a container: poststop follows. */
	made = true;
	if (process_create(c, NULL, &ct, err) < 0)
		goto fail;
	if (ct->pty >= 0 && o->console_socket) {
		if (send_console(o->console_socket, ct->pty, err) < 0)
			goto fail_ct;
		close(ct->pty);
		ct->pty = -1;
	}
	if (write_state(dirfd, o->id, bundle, conf, ct->pid, cg_paths, err) < 0 ||
	    (o->pid_file && write_pid_file(o->pid_file, ct->pid, err) < 0))
		goto fail_ct;
	if (mode != MODE_CREATE) {
		int exit_code = 0;
		if (process_start(ct, NULL, &exit_code, err) < 0) {
			*code = exit_code;
			goto fail_ct;
		}
		if (run_poststart(&c->hooks, c->hook_state, err) < 0)
			goto fail_ct;
	}
	close(dirfd);
	*out_ct = ct;
	return 0;
fail_ct:
	process_destroy(ct);
fail:
	close(dirfd);
	remove_state_dir(o->root, o->id);
	/* The sandbox is gone: what sbx made of the cgroup goes too. */
	cgroup_abort(cg);
	if (made && c->hook_state)
		run_poststop(&c->hooks, c->hook_state);
	/* A config that no sandbox ran on may go. */
	if (ct == NULL) {
		c->cgroup = NULL;
		cgroup_free(cg);
		json_decref(c->hook_state);
		config_free(c);
	}
	return -1;
}

int oci_create(const struct oci_create_opts *o, struct sbx_error **err)
{
	struct sbx_sandbox *ct = NULL;
	int code;
	if (setup(o, MODE_CREATE, &ct, &code, err) < 0)
		return -1;
	process_release(ct);
	return 0;
}

int oci_run(const struct oci_create_opts *o, bool detach, int *status, struct sbx_error **err)
{
	struct sbx_sandbox *ct = NULL;
	*status = SBX_EXIT_FAILURE;
	if (setup(o, detach ? MODE_RUN_DETACHED : MODE_RUN, &ct, status, err) < 0)
		return -1;
	if (detach) {
		process_release(ct);
		*status = 0;
		return 0;
	}
	const struct sbx_cgroup *cg = ct->config->cgroup;
	const struct sbx_config *c = ct->config;
	int r = process_wait(ct, true, status, err);
	process_destroy(ct);
	if (cg) {
		_cleanup_json_ json_t *paths = cgroup_paths(cg);
		if (cgroup_destroy_paths(paths, r < 0 ? NULL : err) < 0)
			r = -1;
	}
	remove_state_dir(o->root, o->id);
	if (c->hook_state)
		run_poststop(&c->hooks, c->hook_state);
	return r;
}

int oci_start(const char *root, const char *id, struct sbx_error **err)
{
	_cleanup_(record_clear) struct record r;
	if (record_open(root, id, &r, err) < 0)
		return -1;
	/* One start at a time: the second finds the fifo gone. */
	if (flock(r.dirfd, LOCK_EX) < 0)
		return sbx_error_set(err, errno, "cannot lock \"%s\"", r.dir);
	const char *status = record_status(&r);
	if (strcmp(status, "created") != 0)
		return sbx_error_setc(err, EINVAL, "cannot start container \"%s\": it is %s", id,
		                      status);
	_cleanup_close_ int pidfd = open_init(r.pid, r.start);
	if (pidfd < 0)
		return sbx_error_setc(err, ESRCH, "cannot start container \"%s\": it is stopped",
		                      id);
	_cleanup_(hooks_free) struct sbx_hooks hooks = {0};
	if (record_hooks(&r, &hooks, err) < 0)
		return -1;
	_cleanup_close_ int fifo =
	    openat(r.dirfd, FIFO_FILE, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fifo < 0)
		return sbx_error_set(err, errno, "cannot open \"%s/%s\"", r.dir, FIFO_FILE);
	/* The init writes "0" once released and its startContainer hooks
	 * succeeded, or "E" and why one failed; its end closes when it execs
	 * (or exits). If it dies before it opened the fifo, its pidfd says so. */
	char buf[1024];
	size_t got = 0;
	for (;;) {
		struct pollfd p[2] = {{.fd = fifo, .events = POLLIN},
		                      {.fd = pidfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return sbx_error_set(err, errno, "poll");
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(fifo, buf + got, sizeof(buf) - 1 - got);
			if (n > 0)
				got += (size_t)n;
			if (n == 0 || got == sizeof(buf) - 1)
				break;
			continue;
		}
		if (p[1].revents & POLLIN)
			break;
	}
	buf[got] = '\0';
	if (got == 0)
		return sbx_error_setc(err, ESRCH, "container \"%s\" stopped before it was started",
		                      id);
	if (unlinkat(r.dirfd, FIFO_FILE, 0) < 0)
		return sbx_error_set(err, errno, "cannot remove \"%s/%s\"", r.dir, FIFO_FILE);
	if (buf[0] == 'E') {
		/* It exits: stopped once start returns. */
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		return sbx_error_setc(err, ECANCELED, "cannot start container \"%s\": %s", id,
		                      buf + 1);
	}
	_cleanup_json_ json_t *base = record_state(&r);
	if (run_poststart(&hooks, base, err) < 0) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		return sbx_error_prefix(err, "container \"%s\" was stopped", id);
	}
	return 0;
}

/* ---- exec ---- */

/* process.json may narrow the container's capabilities, never widen them:
 * every capability of each of its sets must be in the container's. */
static int check_caps_subset(json_t *want, json_t *have, struct sbx_error **err)
{
	static const char *const sets[] = {"bounding", "effective", "inheritable", "permitted",
	                                   "ambient"};
	if (want && !json_is_object(want))
		return sbx_error_setc(err, EINVAL, "--process: capabilities: not an object");
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		size_t k;
		json_t *cap;
		json_array_foreach(json_object_get(want, sets[i]), k, cap)
		{
			if (!json_contains_string(json_object_get(have, sets[i]),
			                          json_string_value(cap)))
				return sbx_error_setc(
				    err, EPERM,
				    "--process: capabilities.%s: %s is not in the "
				    "container's set; exec cannot add capabilities",
				    sets[i],
				    json_string_value(cap) ? json_string_value(cap)
				                           : "(not a string)");
		}
	}
	return 0;
}

/* KEY=VALUE replaces KEY in a JSON env array, or is appended. */
static void json_env_set(json_t *env, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e)
	{
		const char *s = json_string_value(e);
		if (s && strncmp(s, kv, klen) == 0 && s[klen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

/* The container's recorded config with the exec'd process in place of its
 * own: what process.json or the options say of args, env, cwd, user and
 * terminal; the capabilities narrowed only; no_new_privs kept once set.
 * Namespaces, seccomp, Landlock and the rest stay the container's. */
static int exec_config(const struct oci_exec_opts *o, int dirfd, const char *dir,
                       struct sbx_config **out, struct sbx_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, CONFIG_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	json_error_t je;
	_cleanup_json_ json_t *conf = fd >= 0 ? json_loadfd(fd, JSON_REJECT_DUPLICATES, &je) : NULL;
	if (conf == NULL)
		return sbx_error_set(err, fd < 0 ? errno : EINVAL, "cannot read \"%s/%s\"", dir,
		                     CONFIG_FILE);
	json_t *proc = json_object_get(conf, "process");
	if (!json_is_object(proc))
		return sbx_error_setc(err, EINVAL, "\"%s/%s\": no process", dir, CONFIG_FILE);
	bool nnp = json_is_true(json_object_get(proc, "noNewPrivileges")) || o->no_new_privs;
	if (o->process) {
		if (!json_is_object(o->process))
			return sbx_error_setc(err, EINVAL, "--process: not a JSON object");
		/* As the container's own were: what runc skips dropped first. */
		_cleanup_json_ json_t *want = json_deep_copy(o->process);
		drop_unraisable_ambient(want);
		if (check_caps_subset(json_object_get(want, "capabilities"),
		                      json_object_get(proc, "capabilities"), err) < 0)
			return -1;
		const char *key;
		json_t *v;
		json_object_foreach(want, key, v) json_object_set(proc, key, v);
	}
	if (o->args) {
		json_t *a = json_array();
		for (size_t i = 0; o->args[i]; i++)
			json_array_append_new(a, json_string(o->args[i]));
		json_object_set_new(proc, "args", a);
	}
	if (o->env) {
		json_t *env = json_object_get(proc, "env");
		if (!json_is_array(env)) {
			env = json_array();
			json_object_set_new(proc, "env", env);
		}
		for (size_t i = 0; o->env[i]; i++)
			json_env_set(env, o->env[i]);
	}
	if (o->cwd)
		json_object_set_new(proc, "cwd", json_string(o->cwd));
	if (o->user_set) {
		json_t *user = json_object_get(proc, "user");
		json_int_t gid = o->gid_set ? (json_int_t)o->gid
		                            : json_integer_value(json_object_get(user, "gid"));
		json_object_set_new(proc, "user",
		                    json_pack("{s:I, s:I}", "uid", (json_int_t)o->uid, "gid", gid));
	}
	if (!o->process || o->tty)
		json_object_set_new(proc, "terminal", json_boolean(o->tty));
	json_object_set_new(proc, "noNewPrivileges", json_boolean(nnp));
	drop_unraisable_ambient(proc);
	return parse_bundle(conf, out, err);
}

int oci_exec(const struct oci_exec_opts *o, int *status, struct sbx_error **err)
{
	*status = SBX_EXIT_FAILURE;
	/* Checked before this opens anything, which could take the number of
	 * one that is missing. */
	if (fds_open(0, o->preserve_fds, "process", err) < 0)
		return -1;
	_cleanup_(record_clear) struct record r;
	if (record_open(o->root, o->id, &r, err) < 0)
		return -1;
	if (strcmp(record_status(&r), "stopped") == 0)
		return sbx_error_setc(err, ESRCH, "cannot exec in container \"%s\": it is stopped",
		                      o->id);
	_cleanup_close_ int pidfd = open_init(r.pid, r.start);
	if (pidfd < 0)
		return sbx_error_setc(err, ESRCH, "cannot exec in container \"%s\": it is stopped",
		                      o->id);
	struct sbx_config *c = NULL;
	if (exec_config(o, r.dirfd, r.dir, &c, err) < 0)
		return -1;
	/* The agent would need the host's view of this process, which
	 * joining the container's namespaces loses. */
	if (json_object_get(c->seccomp, "listenerPath")) {
		config_free(c);
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.seccomp.listenerPath: not supported for exec yet (the "
		                      "seccomp agent gets the container's own process only)");
	}
	if (c->terminal && o->console_socket == NULL) {
		config_free(c);
		return sbx_error_setc(err, EINVAL,
		                      "process.terminal is true but no --console-socket was given: "
		                      "the terminal would have no reader");
	}
	c->outlive_parent = o->detach;
	c->seccomp_early = true;
	c->preserve_fds = (int)o->preserve_fds;
	/* Everything named by a host path is opened before this process
	 * enters the container's mount namespace. */
	_cleanup_close_ int console = -1, pid_dir = -1;
	const char *pid_name = NULL;
	if ((c->terminal && connect_console(o->console_socket, &console, err) < 0) ||
	    (o->pid_file && open_pid_dir(o->pid_file, &pid_dir, &pid_name, err) < 0)) {
		config_free(c);
		return -1;
	}
	/* The container's cgroups, opened before this process enters its
	 * mount namespace; the process joins them before it runs. */
	_cleanup_free_ int *cg_fds = NULL;
	size_t n_cg = 0;
	if (cgroup_procs_open(json_object_get(r.j, "cgroupPaths"), &cg_fds, &n_cg, err) < 0) {
		config_free(c);
		return -1;
	}
	struct sbx_sandbox *ct = NULL;
	int pe = process_exec(c, pidfd, &ct, err);
	if (pe == 0 && cgroup_procs_write(cg_fds, n_cg, ct->pid, err) < 0)
		pe = -2;
	for (size_t i = 0; i < n_cg; i++)
		close(cg_fds[i]);
	if (pe == -2)
		goto fail;
	if (pe < 0) {
		config_free(c);
		return -1;
	}
	/* From here on the config is the process's until its exec: not freed. */
	if (ct->pty >= 0) {
		if (send_console_fd(console, o->console_socket, ct->pty, err) < 0)
			goto fail;
		close(ct->pty);
		ct->pty = -1;
	}
	int code = 0;
	if (process_start(ct, NULL, &code, err) < 0) {
		*status = code ? code : SBX_EXIT_FAILURE;
		process_destroy(ct);
		return -1;
	}
	if (pid_name && write_pid_at(pid_dir, pid_name, ct->pid, err) < 0)
		goto fail;
	if (o->detach) {
		process_release(ct);
		*status = 0;
		return 0;
	}
	int ret = process_wait(ct, true, status, err);
	process_destroy(ct);
	return ret;
fail:
	process_destroy(ct);
	return -1;
}

int oci_state(const char *root, const char *id, json_t **out, struct sbx_error **err)
{
	_cleanup_(record_clear) struct record r;
	if (record_open(root, id, &r, err) < 0)
		return -1;
	*out = record_state(&r);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int oci_list(const char *root, json_t **out, struct sbx_error **err)
{
	json_t *list = json_array();
	_cleanup_close_ int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0) {
		if (errno == ENOENT) {
			*out = list;
			return 0;
		}
		json_decref(list);
		return sbx_error_set(err, errno, "cannot open \"%s\"", root);
	}
	_cleanup_strv_ char **names = NULL;
	if (dir_list(rfd, root, &names, err) < 0) {
		json_decref(list);
		return -1;
	}
	qsort(names, strv_length(names), sizeof(*names), compare_names);
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_(record_clear) struct record r;
		struct sbx_error *e = NULL;
		if (record_open(root, names[i], &r, &e) < 0) {
			sbx_error_free(e);
			continue;
		}
		json_t *s = record_state(&r);
		json_object_set(s, "rootfs", json_object_get(r.j, "rootfs"));
		json_object_set(s, "created", json_object_get(r.j, "created"));
		json_object_set(s, "owner", json_object_get(r.j, "owner"));
		json_array_append_new(list, s);
	}
	*out = list;
	return 0;
}

/* Every process in the pid namespace of the init behind pidfd. */
static int kill_all(pid_t init, int sig, struct sbx_error **err)
{
	char path[64];
	struct stat ns;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
	if (stat(path, &ns) < 0)
		return sbx_error_set(err, errno, "cannot read \"%s\"", path);
	struct stat self;
	if (stat("/proc/self/ns/pid", &self) == 0 && self.st_ino == ns.st_ino &&
	    self.st_dev == ns.st_dev)
		return sbx_error_setc(err, ENOTSUP,
		                      "kill --all: the container shares the host's pid namespace");
	_cleanup_dir_ DIR *d = opendir("/proc");
	if (d == NULL)
		return sbx_error_set(err, errno, "cannot read /proc");
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/pid", pid);
		struct stat st;
		if (stat(path, &st) < 0 || st.st_ino != ns.st_ino || st.st_dev != ns.st_dev)
			continue;
		int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (fd < 0)
			continue;
		/* Still in the namespace once pinned. */
		if (stat(path, &st) == 0 && st.st_ino == ns.st_ino)
			syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
		close(fd);
	}
	return 0;
}

int oci_ps(const char *root, const char *id, json_t **out, struct sbx_error **err)
{
	_cleanup_(record_clear) struct record r;
	if (record_open(root, id, &r, err) < 0)
		return -1;
	if (!init_alive(r.pid, r.start))
		return sbx_error_setc(err, ESRCH, "container \"%s\" is not running", id);
	json_t *pids = json_array();
	char path[64];
	struct stat ns, self;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)r.pid);
	bool own = stat(path, &ns) == 0 && stat("/proc/self/ns/pid", &self) == 0 &&
	           (self.st_ino != ns.st_ino || self.st_dev != ns.st_dev);
	_cleanup_dir_ DIR *d = own ? opendir("/proc") : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/pid", pid);
		struct stat st;
		if (stat(path, &st) == 0 && st.st_ino == ns.st_ino && st.st_dev == ns.st_dev)
			json_array_append_new(pids, json_integer(pid));
	}
	/* Sharing the host's pid namespace: its init is all sbx knows of. */
	if (!own)
		json_array_append_new(pids, json_integer(r.pid));
	*out = pids;
	return 0;
}

int oci_kill(const char *root, const char *id, int sig, bool all, struct sbx_error **err)
{
	_cleanup_(record_clear) struct record r;
	if (record_open(root, id, &r, err) < 0)
		return -1;
	_cleanup_close_ int pidfd = open_init(r.pid, r.start);
	if (pidfd < 0)
		return sbx_error_setc(err, ESRCH, "container \"%s\" is not running", id);
	if (all && kill_all(r.pid, sig, err) < 0)
		return -1;
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		return sbx_error_set(err, errno, "cannot signal container \"%s\"", id);
	return 0;
}

int oci_delete(const char *root, const char *id, bool force, struct sbx_error **err)
{
	_cleanup_(record_clear) struct record r;
	if (record_open(root, id, &r, err) < 0) {
		/* A creation that died before its state was written. */
		if (force && r.dirfd >= 0 && r.j == NULL) {
			sbx_error_free(*err);
			*err = NULL;
			remove_state_dir(root, id);
			return 0;
		}
		return -1;
	}
	const char *status = record_status(&r);
	if (strcmp(status, "stopped") != 0) {
		if (!force)
			return sbx_error_setc(err, EBUSY,
			                      "cannot delete container \"%s\" that is not stopped: "
			                      "%s; stop it first or use --force",
			                      id, status);
		_cleanup_close_ int pidfd = open_init(r.pid, r.start);
		/* A paused container is thawed first: SIGKILL waits for that. */
		json_t *paths = json_object_get(r.j, "cgroupPaths");
		struct sbx_error *terr = NULL;
		if (json_object_size(paths) > 0 && cgroup_live_freeze(paths, false, &terr) < 0)
			sbx_error_free(terr);
		if (pidfd >= 0) {
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			/* A pidfd turns readable when its process exits, child or not. */
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			while (poll(&p, 1, -1) < 0 && errno == EINTR)
				;
		}
	}
	/* What is left in its cgroup (a container without a pid namespace
	 * of its own, an exec'd process) is killed, as runc does. */
	if (cgroup_destroy_paths(json_object_get(r.j, "cgroupPaths"), err) < 0)
		return -1;
	/* The hooks are read before the state directory goes. */
	_cleanup_(hooks_free) struct sbx_hooks hooks = {0};
	struct sbx_error *herr = NULL;
	if (record_hooks(&r, &hooks, &herr) < 0)
		warn_error(herr);
	_cleanup_json_ json_t *base = record_state(&r);
	if (rm_rf_at(AT_FDCWD, r.dir, err) < 0)
		return -1;
	run_poststop(&hooks, base);
	return 0;
}

/* ---- pause, resume, update ---- */

/* The container's cgroup as state.json records it ("cgroupPaths", see
 * runtime/cgroup.h), or why it has none. */
static json_t *record_cgroup(const struct record *r, const char *without, struct sbx_error **err)
{
	json_t *paths = json_object_get(r->j, "cgroupPaths");
	if (json_is_object(paths) && json_object_size(paths) > 0)
		return paths;
	if (geteuid() == 0 && host_root())
		sbx_error_setc(err, ENOTSUP,
		               "the container has no cgroup of its own; %s; create it again "
		               "without --cgroup-manager disabled",
		               without);
	else
		sbx_error_setc(err, ENOTSUP,
		               "the container has no cgroup of its own; %s; rootless, sbx-oci "
		               "makes one only under a cgroup v2 subtree delegated to the "
		               "caller (create it from a systemd scope with Delegate=yes: "
		               "systemd-run --user --scope -p Delegate=yes sbx-oci create ...)",
		               without);
	return NULL;
}

int oci_pause(const char *root, const char *id, bool freeze, struct sbx_error **err)
{
	_cleanup_(record_clear) struct record r;
	if (record_open(root, id, &r, err) < 0)
		return -1;
	if (!init_alive(r.pid, r.start))
		return sbx_error_setc(err, ESRCH, "container \"%s\" is not running", id);
	json_t *paths = record_cgroup(
	    &r, freeze ? "nothing can freeze its processes" : "nothing froze its processes", err);
	if (paths == NULL || cgroup_live_freeze(paths, freeze, err) < 0)
		return -1;
	return 0;
}

int oci_update(const char *root, const char *id, const struct sbx_resources *res,
               struct sbx_error **err)
{
	_cleanup_(record_clear) struct record r;
	if (record_open(root, id, &r, err) < 0)
		return -1;
	if (!init_alive(r.pid, r.start))
		return sbx_error_setc(err, ESRCH, "container \"%s\" is not running", id);
	json_t *paths = record_cgroup(&r, "its limits cannot change", err);
	if (paths == NULL || cgroup_update(paths, res, err) < 0)
		return -1;
	return 0;
}

/* ---- spec and features ---- */

static const char default_spec[] =
    "{\"ociVersion\": \"" OCI_RUNTIME_SPEC_VERSION "\","
    " \"process\": {\"terminal\": true, \"user\": {\"uid\": 0, \"gid\": 0},"
    "  \"args\": [\"sh\"],"
    "  \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
    "           \"TERM=xterm\"],"
    "  \"cwd\": \"/\","
    "  \"capabilities\": {"
    "   \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
    "   \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
    "   \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"
    "   \"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]},"
    "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],"
    "  \"noNewPrivileges\": true},"
    " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
    " \"hostname\": \"sbx\","
    " \"mounts\": ["
    "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
    "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
    "   \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},"
    "  {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\","
    "   \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\","
    "                 \"mode=0620\"]},"
    "  {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\","
    "   \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},"
    "  {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\","
    "   \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
    "  {\"destination\": \"/sys\", \"type\": \"none\", \"source\": \"/sys\","
    "   \"options\": [\"rbind\", \"nosuid\", \"noexec\", \"nodev\", \"ro\"]}],"
    " \"linux\": {"
    "  \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"
    "                  {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}],"
    "  \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\","
    "   \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\","
    "   \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],"
    "  \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\","
    "   \"/proc/sysrq-trigger\"]}}";

json_t *oci_spec_default(bool rootless)
{
	json_t *j = json_loads(default_spec, 0, NULL);
	if (rootless) {
		json_t *lin = json_object_get(j, "linux");
		json_array_append_new(json_object_get(lin, "namespaces"),
		                      json_pack("{s:s}", "type", "user"));
		json_object_set_new(lin, "uidMappings",
		                    json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
		                              (int)geteuid(), "size", 1));
		json_object_set_new(lin, "gidMappings",
		                    json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
		                              (int)getegid(), "size", 1));
	}
	return j;
}

json_t *oci_features(void)
{
	json_t *caps = json_array();
	size_t n = 0;
	const char *const *names = caps_all_names(&n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(caps, json_string(names[i]));
	/* Rootless without a delegated v2 subtree: no cgroup, as runc. The
	 * systemd driver maps slice:prefix:name onto the same tree, with or
	 * without systemd. */
	bool v1, v2;
	cgroup_support(&v1, &v2);
	return json_pack(
	    "{s:s, s:s, s:[s,s,s,s,s,s], s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s], "
	    "s:{s:[s,s,s,s,s,s,s], s:o, s:{s:b, s:b, s:b, s:b}, s:{s:b}, s:{s:b}, s:{s:b}, "
	    "s:{s:b}}, s:{s:s, s:s, s:s}}",
	    "ociVersionMin", "1.0.0", "ociVersionMax", OCI_RUNTIME_SPEC_VERSION, "hooks",
	    "prestart", "createRuntime", "createContainer", "startContainer", "poststart",
	    "poststop", "mountOptions", "bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev",
	    "dev", "noexec", "exec", "strictatime", "noatime", "relatime", "nosymfollow",
	    "symfollow", "shared", "rshared", "slave", "rslave", "private", "rprivate",
	    "unbindable", "runbindable", "linux", "namespaces", "user", "mount", "pid", "ipc",
	    "uts", "cgroup", "network", "capabilities", caps, "cgroup", "v1", v1, "v2", v2,
	    "systemd", v1 || v2, "systemdUser", 0, "seccomp", "enabled", 1, "apparmor", "enabled",
	    0, "selinux", "enabled", 0, "intelRdt", "enabled", 0, "annotations",
	    "run.sbx.checkpoint", "unsupported", "run.sbx.restore", "unsupported", "run.sbx.events",
	    "unsupported");
}
