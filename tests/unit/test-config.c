/* test-config.c - config.json as the runtime reads it: a minimal config and
 * sbx's own defaults parse; every field sbx cannot honour is refused (fails
 * closed, never silently weakening the sandbox), each with its message. */
#define _GNU_SOURCE
#include "runtime/config.h"
#include "lib/util.h"
#include "tap.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>

#ifndef MOUNT_ATTR_RDONLY
#include <linux/mount.h>
#endif

static const char *const base_json =
    "{\"ociVersion\": \"1.0.2\","
    " \"root\": {\"path\": \"/images/x/rootfs\"},"
    " \"process\": {\"args\": [\"/bin/true\"], \"cwd\": \"/\"},"
    " \"linux\": {"
    "   \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
    "   \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
    "   \"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}]}}";

/* Sets the value at a dotted path of root to value (JSON text), creating
 * objects on the way, or removes it when value is NULL. */
static json_t *set_path(json_t *root, const char *path, const char *value)
{
	char *p = xstrdup(path), *save = NULL;
	json_t *obj = root;
	char *key = strtok_r(p, ".", &save);
	for (char *next; (next = strtok_r(NULL, ".", &save)) != NULL; key = next) {
		json_t *child = json_object_get(obj, key);
		if (child == NULL) {
			child = json_object();
			json_object_set_new(obj, key, child);
		}
		obj = child;
	}
	if (value == NULL) {
		json_object_del(obj, key);
	} else {
		json_error_t je;
		json_t *v = json_loads(value, JSON_DECODE_ANY, &je);
		if (v == NULL) {
			fprintf(stderr, "bad test JSON %s: %s\n", value, je.text);
			abort();
		}
		json_object_set_new(obj, key, v);
	}
	free(p);
	return root;
}

/* The base config, with one change (none when path is NULL). */
static json_t *with(const char *path, const char *value)
{
	json_t *root = json_loads(base_json, 0, NULL);
	if (root == NULL)
		abort();
	return path ? set_path(root, path, value) : root;
}

static json_t *with2(const char *path, const char *value, const char *path2, const char *value2)
{
	return set_path(with(path, value), path2, value2);
}

static void refused(json_t *j, int code, const char *want, const char *what)
{
	struct sbx_config *c = NULL;
	struct sbx_error *err = NULL;
	int r = config_parse(j, &c, &err);
	ok(r < 0 && c == NULL, "refused: %s", what);
	is_str(err ? err->msg : NULL, want, "%s: message", what);
	if (code >= 0)
		is_int(err ? err->code : -1, code, "%s: code", what);
	sbx_error_free(err);
	config_free(c);
	json_decref(j);
}

#define REFUSE(path, value, code, want) refused(with(path, value), code, want, path)

static void test_honoured(void)
{
	struct sbx_config *c = NULL;
	struct sbx_error *err = NULL;
	json_t *j = with2("process.user", "{\"uid\": 0, \"gid\": 0, \"umask\": 18}",
	                  "linux.rootfsPropagation", "\"rslave\"");
	set_path(j, "linux.resources", "{\"memory\": {\"limit\": 1024}, \"pids\": {\"limit\": 9}}");
	set_path(j, "process.consoleSize", "{\"height\": 24, \"width\": 80}");
	ok(config_parse(j, &c, &err) == 0, "umask, rslave, limits and consoleSize parse%s%s",
	   err ? ": " : "", err ? err->msg : "");
	ok(c && c->has_umask && c->umask == 022, "umask 022 is kept for the payload");
	ok(c && c->memory_limit == 1024 && c->pids_limit == 9, "memory and pids limits");
	config_free(c);
	c = NULL;
	json_decref(j);
	/* A user namespace joined by path needs no maps: it has its own. */
	j = with("linux.namespaces", "[{\"type\": \"user\", \"path\": \"/proc/1/ns/user\"}, "
	                             "{\"type\": \"network\", \"path\": \"/run/netns/x\"}, "
	                             "{\"type\": \"mount\"}]");
	json_object_del(json_object_get(j, "linux"), "uidMappings");
	json_object_del(json_object_get(j, "linux"), "gidMappings");
	ok(config_parse(j, &c, &err) == 0 && c && c->clone_flags == CLONE_NEWNS &&
	       c->join_flags == (CLONE_NEWUSER | CLONE_NEWNET) && c->n_ns_paths == 2 &&
	       strcmp(c->ns_paths[1].path, "/run/netns/x") == 0,
	   "namespaces by path are joined, the others created%s%s", err ? ": " : "",
	   err ? err->msg : "");
	config_free(c);
	c = NULL;
	json_decref(j);
	j = with(NULL, NULL);
	ok(config_parse(j, &c, &err) == 0 && c && !c->has_umask, "no umask: the caller's stays");
	config_free(c);
	json_decref(j);
	sbx_error_free(err);
}

static void test_minimal(void)
{
	struct sbx_config *c = NULL;
	struct sbx_error *err = NULL;
	json_t *j = with(NULL, NULL);
	ok(config_parse(j, &c, &err) == 0, "the minimal config parses");
	is_str(c->rootfs, "/images/x/rootfs", "root.path");
	ok(!c->root_readonly && c->hostname == NULL && !c->terminal, "defaults");
	is_str(c->args[0], "/bin/true", "args");
	ok(c->env && c->env[0] == NULL, "no environment");
	is_str(c->cwd, "/", "cwd");
	ok(c->uid == 0 && c->gid == 0 && c->n_groups == 0, "uid and gid 0");
	is_int(c->clone_flags, CLONE_NEWUSER | CLONE_NEWNS, "user and mount namespaces");
	ok(c->n_uid_maps == 1 && c->uid_maps[0].container == 0 && c->uid_maps[0].host == 1000 &&
	       c->uid_maps[0].size == 1,
	   "uid map");
	ok(c->n_mounts == 0 && c->seccomp == NULL && c->memory_limit == 0 && c->pids_limit == 0,
	   "no mounts, no seccomp, no limits");
	ok(c->net.mode == SBX_NET_HOST, "no network namespace: the host's network");
	ok(!c->overlay_scratch && c->overlay_lower == NULL && !c->init, "no overlay, no init");
	config_free(c);
	json_decref(j);

	/* The fields that are read, read right. */
	j = with2("process",
	          "{\"terminal\": true, \"args\": [\"sh\", \"-c\", \"x\"], \"cwd\": \"/w\","
	          " \"env\": [\"A=1\"], \"noNewPrivileges\": true,"
	          " \"user\": {\"uid\": 5, \"gid\": 6, \"additionalGids\": [7, 8]},"
	          " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": -1}],"
	          " \"capabilities\": {\"bounding\": [\"CAP_KILL\"]}}",
	          "mounts",
	          "[{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\","
	          "  \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},"
	          " {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"options\": [\"mode=755\","
	          "  \"size=64k\", \"strictatime\", \"rprivate\"]},"
	          " {\"destination\": \"/h\", \"type\": \"bind\", \"source\": \"/home/u\","
	          "  \"options\": [\"rbind\", \"ro\", \"rw\", \"nosuid\"]},"
	          " {\"destination\": \"/o\", \"source\": \"/opt\", \"options\": [\"bind\"]}]");
	ok(config_parse(j, &c, &err) == 0, "a fuller config parses");
	ok(c->terminal && c->no_new_privileges, "terminal, noNewPrivileges");
	ok(c->uid == 5 && c->gid == 6 && c->n_groups == 2 && c->groups[1] == 8, "user");
	ok(c->n_rlimits == 1 && c->rlimits[0].resource == RLIMIT_NOFILE &&
	       c->rlimits[0].soft == 1024 && c->rlimits[0].hard == (unsigned long long)-1,
	   "rlimits, -1 as infinity");
	ok(c->caps.bounding != 0 && c->caps.effective == 0, "capabilities");
	is_int(c->n_mounts, 4, "four mounts");
	ok(c->mounts[0].kind == SBX_MOUNT_FS &&
	       c->mounts[0].attr == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV),
	   "proc: a new filesystem, nosuid noexec nodev");
	ok(c->mounts[1].kind == SBX_MOUNT_FS && strcmp(c->mounts[1].source, "tmpfs") == 0 &&
	       strv_length(c->mounts[1].fs_options) == 2 &&
	       strcmp(c->mounts[1].fs_options[0], "mode=755") == 0 &&
	       c->mounts[1].attr == MOUNT_ATTR_STRICTATIME,
	   "tmpfs: source defaults to the type; filesystem options kept, propagation ignored");
	ok(c->mounts[2].kind == SBX_MOUNT_BIND && c->mounts[2].recursive &&
	       c->mounts[2].attr == MOUNT_ATTR_NOSUID,
	   "rbind; \"rw\" after \"ro\" clears it");
	ok(c->mounts[3].kind == SBX_MOUNT_BIND && !c->mounts[3].recursive &&
	       strcmp(c->mounts[3].type, "bind") == 0,
	   "no type: a bind");
	config_free(c);
	json_decref(j);

	/* A namespaced sysctl is kept for the sandbox to write. */
	j = with2("linux.sysctl", "{\"net.ipv4.ping_group_range\": \"0 0\"}", "linux.namespaces",
	          "[{\"type\": \"user\"}, {\"type\": \"mount\"}, {\"type\": \"network\"}]");
	ok(config_parse(j, &c, &err) == 0 && c->sysctl[0] &&
	       strcmp(c->sysctl[0], "net.ipv4.ping_group_range=0 0") == 0 && !c->sysctl[1],
	   "a net.* sysctl is kept as key=value");
	config_free(c);
	json_decref(j);

	/* Hooks are kept for sbx-oci to run (runtime/hooks.h). */
	j = with("hooks", "{\"poststop\": [{\"path\": \"/bin/true\", \"timeout\": 2}]}");
	ok(config_parse(j, &c, &err) == 0 && c->hooks.n[SBX_HOOK_POSTSTOP] == 1 &&
	       c->hooks.list[SBX_HOOK_POSTSTOP][0].timeout == 2,
	   "hooks are parsed");
	config_free(c);
	json_decref(j);

	/* Empty hooks, sysctl and devices ask for nothing. */
	j = with2("hooks", "{}", "linux.sysctl", "{}");
	ok(config_parse(j, &c, &err) == 0, "empty hooks and sysctl are fine");
	config_free(c);
	json_decref(j);
	j = with("linux.devices", "[]");
	ok(config_parse(j, &c, &err) == 0, "empty devices are fine");
	config_free(c);
	json_decref(j);

	/* Process attributes, personality, devices, propagation. */
	j = with2("process.oomScoreAdj", "500", "process.ioPriority",
	          "{\"class\": \"IOPRIO_CLASS_IDLE\", \"priority\": 3}");
	set_path(j, "process.scheduler", "{\"policy\": \"SCHED_BATCH\", \"nice\": 5}");
	set_path(j, "linux.personality", "{\"domain\": \"LINUX32\"}");
	set_path(j, "linux.rootfsPropagation", "\"rprivate\"");
	set_path(j, "linux.devices",
	         "[{\"path\": \"/dev/full\", \"type\": \"u\", \"major\": 1, \"minor\": 7, "
	         "\"fileMode\": 438}]");
	set_path(j, "mounts",
	         "[{\"destination\": \"/m\", \"type\": \"tmpfs\", \"options\": [\"rshared\", "
	         "\"nosymfollow\"]}]");
	ok(config_parse(j, &c, &err) == 0, "process attributes, devices, propagation parse%s%s",
	   err ? ": " : "", err ? err->msg : "");
	ok(c && c->attr.has_oom && c->attr.oom_score_adj == 500, "oomScoreAdj");
	ok(c && c->attr.has_ioprio && c->attr.ioprio == ((3 << 13) | 3), "ioPriority: class 3");
	ok(c && c->attr.has_sched && c->attr.sched.policy == 3 && c->attr.sched.nice == 5,
	   "scheduler: SCHED_BATCH, nice 5");
	ok(c && c->attr.has_personality && c->attr.personality == 0x0008, "personality LINUX32");
	ok(c && c->root_propagation == (MS_PRIVATE | MS_REC), "rootfsPropagation rprivate");
	ok(c && c->n_devices == 1 && c->devices[0].type == 'c' && c->devices[0].major == 1 &&
	       c->devices[0].minor == 7 && c->devices[0].has_mode && c->devices[0].mode == 0666 &&
	       !c->devices[0].has_uid,
	   "a device: 'u' read as 'c', its numbers and mode");
	ok(c && c->n_mounts == 1 && c->mounts[0].propagation == (MS_SHARED | MS_REC) &&
	       c->mounts[0].attr == MOUNT_ATTR_NOSYMFOLLOW,
	   "a mount: rshared, nosymfollow");
	config_free(c);
	json_decref(j);
	ok(err == NULL, "no error on the way");
}

static void test_refusals(void)
{
	/* What the runtime cannot do. */
	REFUSE("ociVersion", "\"2.0.0\"", ENOTSUP,
	       "ociVersion: \"2.0.0\" is not supported (1.x is): Operation not supported");
	REFUSE("ociVersion", "\"0.9\"", ENOTSUP,
	       "ociVersion: \"0.9\" is not supported (1.x is): Operation not supported");
	REFUSE("hooks", "{\"prestart\": [{\"path\": \"true\"}]}", EINVAL,
	       "hooks.prestart[0].path: \"true\" is not an absolute path");
	REFUSE("hooks", "{\"preStart\": []}", ENOTSUP, "hooks: unknown hook kind \"preStart\"");
	REFUSE("linux.namespaces",
	       "[{\"type\": \"user\"}, {\"type\": \"mount\", \"path\": \"/proc/1/ns/mnt\"}]",
	       ENOTSUP,
	       "linux.namespaces[1]: joining a mount namespace by path is not supported (sbx "
	       "builds the root in a mount namespace of its own): Operation not supported");
	REFUSE("linux.namespaces",
	       "[{\"type\": \"user\"}, {\"type\": \"mount\"}, {\"type\": \"user\", \"path\": "
	       "\"/proc/1/ns/user\"}]",
	       EINVAL, "linux.namespaces[2]: a second \"user\" namespace: Invalid argument");
	REFUSE("linux.namespaces",
	       "[{\"type\": \"user\"}, {\"type\": \"mount\"}, {\"type\": \"time\"}]", EINVAL,
	       "linux.namespaces[2]: unsupported namespace \"time\": Invalid argument");
	REFUSE(
	    "linux.namespaces", "[{\"type\": \"mount\"}]", ENOTSUP,
	    "linux.namespaces: sbx needs a user namespace; add {\"type\": \"user\"}: Operation not "
	    "supported");
	REFUSE(
	    "linux.namespaces", "[{\"type\": \"user\"}]", ENOTSUP,
	    "linux.namespaces: sbx needs a mount namespace; add {\"type\": \"mount\"}: Operation "
	    "not supported");
	REFUSE(
	    "linux.namespaces", NULL, ENOTSUP,
	    "linux.namespaces: sbx needs a user namespace; add {\"type\": \"user\"}: Operation not "
	    "supported");
	REFUSE("linux.uidMappings", NULL, EINVAL,
	       "linux.uidMappings/gidMappings: a user namespace needs both: Invalid argument");
	REFUSE("linux.gidMappings", "[]", EINVAL,
	       "linux.uidMappings/gidMappings: a user namespace needs both: Invalid argument");
	REFUSE("linux.sysctl", "{\"vm.swappiness\": \"1\"}", ENOTSUP,
	       "linux.sysctl: \"vm.swappiness\" is not supported (only net.*, kernel.shm*, "
	       "kernel.msg*, kernel.sem, fs.mqueue.*, kernel.hostname and kernel.domainname, which "
	       "a sandbox's namespaces own)");
	REFUSE("linux.sysctl", "{\"net.ipv4/../../x\": \"1\"}", ENOTSUP,
	       "linux.sysctl: \"net.ipv4/../../x\" is not supported (only net.*, kernel.shm*, "
	       "kernel.msg*, kernel.sem, fs.mqueue.*, kernel.hostname and kernel.domainname, which "
	       "a sandbox's namespaces own)");
	REFUSE(
	    "linux.sysctl", "{\"net.ipv4.ping_group_range\": \"0 0\"}", ENOTSUP,
	    "linux.sysctl: \"net.ipv4.ping_group_range\" would be the host's: it needs a network "
	    "namespace of the sandbox's own (add {\"type\": \"network\"} to linux.namespaces)");
	REFUSE("linux.sysctl", "{\"kernel.hostname\": \"h\"}", ENOTSUP,
	       "linux.sysctl: \"kernel.hostname\" would be the host's: it needs a UTS namespace of "
	       "the sandbox's own (add {\"type\": \"uts\"} to linux.namespaces)");
	REFUSE("linux.sysctl", "{\"kernel.hostnamex\": \"h\"}", ENOTSUP,
	       "linux.sysctl: \"kernel.hostnamex\" is not supported (only net.*, kernel.shm*, "
	       "kernel.msg*, kernel.sem, fs.mqueue.*, kernel.hostname and kernel.domainname, which "
	       "a sandbox's namespaces own)");
	REFUSE("linux.devices", "[{\"path\": \"/dev/x\", \"type\": \"x\"}]", EINVAL,
	       "linux.devices[0].type: \"x\" is not c, b, u or p");
	REFUSE("linux.devices", "[{\"path\": \"/dev/x\", \"type\": \"c\"}]", EINVAL,
	       "linux.devices[0]: a character device needs a major and a minor number");
	REFUSE("linux.devices", "[{\"path\": \"dev/x\", \"type\": \"p\"}]", EINVAL,
	       "linux.devices[0].path: \"dev/x\" is not an absolute path without \"..\"");
	REFUSE("process.rlimits",
	       "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1, \"hard\": 1}, {\"type\": "
	       "\"RLIMIT_NOFILE\", \"soft\": 2, \"hard\": 2}]",
	       EINVAL, "process.rlimits[1].type: \"RLIMIT_NOFILE\" is given twice");
	REFUSE(
	    "mounts",
	    "[{\"destination\": \"/m\", \"type\": \"bind\", \"source\": \"/s\", \"uidMappings\": "
	    "[{\"containerID\": 0, \"hostID\": 0, \"size\": 1}]}]",
	    ENOTSUP,
	    "mounts[0]: uidMappings/gidMappings (an idmapped mount) cannot be honoured: idmapping "
	    "a host filesystem needs CAP_SYS_ADMIN over it, which a sandbox in a user namespace "
	    "does not have");
	REFUSE(
	    "mounts",
	    "[{\"destination\": \"/m\", \"type\": \"bind\", \"source\": \"/s\", \"gidMappings\": "
	    "[]}]",
	    ENOTSUP,
	    "mounts[0]: uidMappings/gidMappings (an idmapped mount) cannot be honoured: idmapping "
	    "a host filesystem needs CAP_SYS_ADMIN over it, which a sandbox in a user namespace "
	    "does not have");
	/* A bind mount option sbx does not know could be a protection
	 * (rro, idmap, ...): refused, not dropped. */
	REFUSE("mounts", "[{\"destination\": \"/m\", \"source\": \"/s\", \"options\": [\"rro\"]}]",
	       EINVAL, "mounts[0].options: \"rro\" is not a bind mount option: Invalid argument");
	REFUSE("mounts",
	       "[{\"destination\": \"/m\", \"type\": \"tmpfs\", \"options\": [\"size=1k\", "
	       "\"bind\", \"idmap\"]}]",
	       ENOTSUP,
	       "mounts[0].options: \"idmap\" cannot be honoured: idmapping a host filesystem needs "
	       "CAP_SYS_ADMIN over it, which a sandbox in a user namespace does not have");

	/* What is malformed. */
	REFUSE("mounts", "[{\"destination\": \"rel\", \"type\": \"tmpfs\"}]", EINVAL,
	       "mounts[0].destination: \"rel\" is not an absolute path: Invalid argument");
	REFUSE("mounts", "[{\"destination\": \"/m\", \"type\": \"bind\", \"source\": \"rel\"}]",
	       EINVAL, "mounts[0].source: \"rel\" is not an absolute path: Invalid argument");
	REFUSE("mounts", "[{\"destination\": \"/m\", \"source\": \"/s\", \"options\": [5]}]",
	       EINVAL, "mounts[0].options[0]: expected a string: Invalid argument");
	REFUSE("process.cwd", "\"w\"", EINVAL,
	       "process.cwd: \"w\" is not an absolute path: Invalid argument");
	REFUSE("process.args", "[]", EINVAL, "process.args: no command given: Invalid argument");
	REFUSE("process.args", "[\"sh\", 1]", EINVAL,
	       "process.args[1]: expected a string: Invalid argument");
	REFUSE("process.env", "\"A=1\"", EINVAL,
	       "process.env: expected an array of strings: Invalid argument");
	REFUSE("process.rlimits", "[{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, \"hard\": 1}]",
	       EINVAL, "process.rlimits[0].type: unknown limit \"RLIMIT_BOGUS\": Invalid argument");
	REFUSE("process.user", "{\"uid\": -1, \"gid\": 0}", EINVAL,
	       "process.user: id out of range: Invalid argument");
	REFUSE("process.user", "{\"uid\": 0, \"gid\": 4294967295}", EINVAL,
	       "process.user: id out of range: Invalid argument");
	REFUSE("process.user", "{\"uid\": 0, \"gid\": 0, \"additionalGids\": [1, \"2\"]}", EINVAL,
	       "process.user.additionalGids[1]: bad gid: Invalid argument");
	REFUSE("linux.uidMappings", "[{\"containerID\": 0, \"hostID\": 1000, \"size\": 0}]", EINVAL,
	       "linux.uidMappings[0]: ids out of range: Invalid argument");
	REFUSE("linux.gidMappings", "[{\"containerID\": 0, \"hostID\": 4294967296, \"size\": 1}]",
	       EINVAL, "linux.gidMappings[0]: ids out of range: Invalid argument");

	/* What sbx cannot honour is refused by name, never dropped. */
	if (access("/sys/module/apparmor/parameters/enabled", F_OK) < 0)
		REFUSE("process.apparmorProfile", "\"docker-default\"", ENOTSUP,
		       "process.apparmorProfile: \"docker-default\" cannot be applied: AppArmor "
		       "is not enabled on this host");
	REFUSE("process.selinuxLabel", "\"system_u:system_r:container_t:s0\"", ENOTSUP,
	       "process.selinuxLabel: \"system_u:system_r:container_t:s0\" cannot be applied: sbx "
	       "does not apply SELinux labels");
	REFUSE("process.oomScoreAdj", "1001", EINVAL,
	       "process.oomScoreAdj: expected an integer from -1000 to 1000");
	REFUSE("process.ioPriority", "{\"class\": \"IOPRIO_CLASS_X\"}", EINVAL,
	       "process.ioPriority.class: unknown class \"IOPRIO_CLASS_X\" (IOPRIO_CLASS_RT, "
	       "IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)");
	REFUSE("process.ioPriority", "{\"class\": \"IOPRIO_CLASS_BE\", \"priority\": 8}", EINVAL,
	       "process.ioPriority.priority: 8 is not a level (0 to 7)");
	REFUSE("process.scheduler", "{\"policy\": \"SCHED_ISO\"}", ENOTSUP,
	       "process.scheduler.policy: \"SCHED_ISO\" is not supported (Linux has no such "
	       "policy)");
	REFUSE("process.scheduler", "{\"policy\": \"SCHED_BATCH\", \"flags\": [\"X\"]}", EINVAL,
	       "process.scheduler.flags[0]: unknown flag \"X\"");
	REFUSE("linux.personality", "{\"domain\": \"LINUX\", \"flags\": [\"ADDR_NO_RANDOMIZE\"]}",
	       ENOTSUP,
	       "linux.personality.flags: \"ADDR_NO_RANDOMIZE\" is not supported (the runtime spec "
	       "defines no flag)");
	REFUSE("linux.personality", "{\"domain\": \"BSD\"}", EINVAL,
	       "linux.personality.domain: unknown domain \"BSD\" (LINUX or LINUX32)");
	REFUSE("process.user", "{\"uid\": 0, \"gid\": 0, \"umask\": 512}", EINVAL,
	       "process.user.umask: 512 is not a mode (0 to 0777): Invalid argument");
	REFUSE("domainname", "\"example.org\"", ENOTSUP,
	       "domainname: \"example.org\" would be the host's: it needs a UTS namespace of the "
	       "sandbox's own (add {\"type\": \"uts\"} to linux.namespaces)");
	REFUSE("linux.cgroupsPath", "\"/sbx/x\"", ENOTSUP,
	       "linux.cgroupsPath: sbx does not manage cgroups yet: Operation not supported");
	REFUSE("linux.mountLabel", "\"system_u:object_r:container_file_t:s0\"", ENOTSUP,
	       "linux.mountLabel: sbx does not apply SELinux labels: Operation not supported");
	REFUSE("linux.rootfsPropagation", "\"shared\"", ENOTSUP,
	       "linux.rootfsPropagation: \"shared\" cannot be honoured: the container's mounts "
	       "cannot propagate to the host from a user namespace (the kernel makes the host's "
	       "mounts its slaves)");
	REFUSE("linux.resources", "{\"blockIO\": {\"weight\": 10}}", ENOTSUP,
	       "linux.resources: 1 object item(s) left unpacked: blockIO: Operation not supported");
	REFUSE("linux.resources", "{\"memory\": {\"limit\": \"1G\"}}", ENOTSUP,
	       "linux.resources: Expected integer, got string: Operation not supported");
	REFUSE("linux.resources", "{\"memory\": {\"limit\": 1024, \"swap\": 2048}}", ENOTSUP,
	       "linux.resources: 1 object item(s) left unpacked: swap: Operation not supported");
	REFUSE("annotations", "{\"run.sbx.landlock.fs_ro\": [\"/etc\"]}", EINVAL,
	       "annotations: \"run.sbx.landlock.fs_ro\" is not a string: Invalid argument");

	/* A seccomp policy sbx cannot enforce as written. */
	REFUSE("linux.seccomp", "{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", -1,
	       "linux.seccomp: defaultAction: SCMP_ACT_NOTIFY cannot be the default action (only a "
	       "rule's)");
	REFUSE("linux.seccomp",
	       "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerMetadata\": \"m\"}", -1,
	       "linux.seccomp: listenerMetadata: only valid with listenerPath");
	REFUSE(
	    "linux.seccomp",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": "
	    "[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
	    -1,
	    "linux.seccomp: flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is only meaningful with "
	    "SCMP_ACT_NOTIFY");
	REFUSE("linux.seccomp",
	       "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"], "
	       "\"action\": \"SCMP_ACT_NOTIFY\"}]}",
	       -1,
	       "linux.seccomp: listenerPath: SCMP_ACT_NOTIFY needs it: the unix socket its "
	       "notifications' fd is sent to");
	REFUSE("linux.seccomp", "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"bogus\": 1}", -1,
	       "linux.seccomp: unknown key \"bogus\"");

	/* sbx's own annotations. */
	REFUSE("annotations", "{\"run.sbx.overlay.scratch\": \"disk\"}", EINVAL,
	       "annotations: run.sbx.overlay.scratch \"disk\" is not \"tmpfs\": Invalid argument");
	REFUSE("annotations",
	       "{\"run.sbx.overlay.scratch\": \"tmpfs\", \"run.sbx.overlay.lower\": \"/l\", "
	       "\"run.sbx.overlay.scratch.size\": \"0\"}",
	       EINVAL,
	       "annotations: run.sbx.overlay.scratch.size \"0\" is not a size in bytes: Invalid "
	       "argument");
	REFUSE("annotations",
	       "{\"run.sbx.overlay.scratch\": \"tmpfs\", \"run.sbx.overlay.lower\": \"/l\", "
	       "\"run.sbx.overlay.scratch.size\": \"4M\"}",
	       EINVAL,
	       "annotations: run.sbx.overlay.scratch.size \"4M\" is not a size in bytes: Invalid "
	       "argument");
	REFUSE("annotations", "{\"run.sbx.overlay.upper\": \"/u\"}", EINVAL,
	       "annotations: an overlay needs lower, upper and work: Invalid argument");
	REFUSE("annotations",
	       "{\"run.sbx.overlay.scratch\": \"tmpfs\", \"run.sbx.overlay.lower\": \"/l\", "
	       "\"run.sbx.overlay.upper\": \"/u\", \"run.sbx.overlay.work\": \"/w\"}",
	       EINVAL,
	       "annotations: a scratch overlay needs lower and neither upper nor work: Invalid "
	       "argument");
	REFUSE("annotations", "{\"run.sbx.network\": \"pasta\"}", -1,
	       "annotations: network \"pasta\" needs a network namespace in linux.namespaces");

	/* Fields of the OCI spec sbx does not know are refused by name, not
	 * ignored: each could ask for something sbx would then not do. */
	static const struct {
		const char *path, *value, *want;
	} unknown[] = {
	    {"vm", "{\"hypervisor\": {\"path\": \"/bin/qemu\"}}",
	     "config: 1 object item(s) left unpacked: vm"},
	    {"windows", "{}", "config: 1 object item(s) left unpacked: windows"},
	    {"solaris", "{}", "config: 1 object item(s) left unpacked: solaris"},
	    {"root.mode", "\"0755\"", "config: 1 object item(s) left unpacked: mode"},
	    {"process.execCPUAffinity", "{\"initial\": \"0\"}",
	     "process: 1 object item(s) left unpacked: execCPUAffinity"},
	    {"process.user", "{\"uid\": 0, \"gid\": 0, \"shell\": \"/bin/sh\"}",
	     "process.user: 1 object item(s) left unpacked: shell"},
	    {"linux.intelRdt", "{\"closID\": \"x\"}",
	     "linux: 1 object item(s) left unpacked: intelRdt"},
	    {"linux.timeOffsets", "{\"monotonic\": {\"secs\": 1}}",
	     "linux: 1 object item(s) left unpacked: timeOffsets"},
	    {"linux.memoryPolicy", "{\"mode\": \"MPOL_BIND\"}",
	     "linux: 1 object item(s) left unpacked: memoryPolicy"},
	    {"linux.netDevices", "{\"eth1\": {}}",
	     "linux: 1 object item(s) left unpacked: netDevices"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		char *want = xasprintf("%s: Invalid argument", unknown[i].want);
		refused(with(unknown[i].path, unknown[i].value), EINVAL, want, unknown[i].path);
		free(want);
	}
}

int main(void)
{
	test_minimal();
	test_honoured();
	test_refusals();
	return done_testing();
}
