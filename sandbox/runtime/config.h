/* config.h - the runtime's view of an OCI config.json, parsed once. */
#ifndef SBX_CONFIG_H
#define SBX_CONFIG_H

#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/devices.h"
#include "runtime/hooks.h"
#include "runtime/landlock.h"
#include "runtime/net.h"
#include "runtime/procattr.h"
#include "runtime/seccomp.h"
#include "lib/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* Annotations sbx's own runtime reads; other runtimes ignore them. */
#define SBX_ANN_PROFILE      "run.sbx.profile"
#define SBX_ANN_PROFILE_PATH "run.sbx.profile.path"
#define SBX_ANN_IMAGE        "run.sbx.image"
#define SBX_ANN_LOWER        "run.sbx.overlay.lower"
#define SBX_ANN_UPPER        "run.sbx.overlay.upper"
#define SBX_ANN_WORK         "run.sbx.overlay.work"
#define SBX_ANN_BACKEND      "run.sbx.overlay.backend"
#define SBX_ANN_VOLATILE     "run.sbx.overlay.volatile"
#define SBX_ANN_SCRATCH      "run.sbx.overlay.scratch"      /* "tmpfs": upper in memory */
#define SBX_ANN_SCRATCH_SIZE "run.sbx.overlay.scratch.size" /* its size in bytes */
#define SBX_ANN_NETWORK      "run.sbx.network"
#define SBX_ANN_PUBLISH      "run.sbx.network.publish" /* specs, comma-separated */
#define SBX_ANN_NETWORK_DIR  "run.sbx.network.dir"     /* hosts, resolv.conf, network.json */
#define SBX_ANN_INIT         "run.sbx.init"
#define SBX_ANN_MEMORY       "run.sbx.limits.memory"
#define SBX_ANN_PIDS         "run.sbx.limits.pids"
/* Landlock rules: paths one per line, ports comma-separated; a tcp key
 * present with no port allows none. */
#define SBX_ANN_LANDLOCK_FS_RO       "run.sbx.landlock.fs_ro"
#define SBX_ANN_LANDLOCK_FS_RW       "run.sbx.landlock.fs_rw"
#define SBX_ANN_LANDLOCK_TCP_BIND    "run.sbx.landlock.tcp_bind"
#define SBX_ANN_LANDLOCK_TCP_CONNECT "run.sbx.landlock.tcp_connect"

struct sbx_idmap {
	unsigned container, host, size;
};

enum sbx_mount_kind {
	SBX_MOUNT_FS,   /* a new filesystem instance (proc, tmpfs, ...) */
	SBX_MOUNT_BIND, /* a bind of a host path */
};

struct sbx_mount {
	char *dest;
	char *type;
	char *source;
	enum sbx_mount_kind kind;
	bool recursive;            /* rbind */
	unsigned long attr;        /* MOUNT_ATTR_* to set */
	char **fs_options;         /* key[=value] handed to fsconfig */
	unsigned long propagation; /* MS_SHARED, MS_SLAVE, ... (| MS_REC); 0 = as made */
};

/* A namespace joined by path (linux.namespaces[].path). */
struct sbx_ns_path {
	int type; /* CLONE_NEW* */
	char *path;
};

struct sbx_config_rlimit {
	int resource;
	unsigned long long soft, hard;
};

struct sbx_config {
	char *rootfs;
	bool root_readonly;
	char *hostname;
	char *domainname;

	/* process */
	bool terminal;
	bool has_umask; /* process.user.umask given: set before exec */
	mode_t umask;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	char **args;
	char **env;
	char *cwd;
	struct sbx_capsets caps;
	bool no_new_privileges;
	struct sbx_config_rlimit *rlimits;
	size_t n_rlimits;
	struct sbx_procattr attr; /* oomScoreAdj, ioPriority, scheduler, personality, ... */

	/* linux */
	int clone_flags; /* CLONE_NEW*: the namespaces the sandbox creates */
	int join_flags;  /* CLONE_NEW*: those it joins by path (ns_paths) instead */
	struct sbx_ns_path *ns_paths;
	size_t n_ns_paths;
	struct sbx_idmap *uid_maps, *gid_maps;
	size_t n_uid_maps, n_gid_maps;
	struct sbx_mount *mounts;
	size_t n_mounts;
	char **masked;
	char **readonly;
	char **sysctl; /* "key=value" (linux.sysctl), namespaced keys only */
	struct sbx_device *devices;
	size_t n_devices;
	unsigned long root_propagation; /* linux.rootfsPropagation beyond rslave; 0 = none */
	json_t *seccomp;                /* NULL = unconfined */
	json_t *annotations;            /* the config's, for a seccomp agent; NULL = none */
	unsigned long long memory_limit;
	long long pids_limit;
	char *cgroups_path;             /* linux.cgroupsPath, or NULL */
	struct sbx_resources resources; /* linux.resources, checked */

	/* sbx annotations */
	char *overlay_lower, *overlay_upper, *overlay_work, *overlay_backend;
	bool overlay_volatile;
	bool overlay_scratch;                    /* upper and work in a tmpfs of the sandbox */
	unsigned long long overlay_scratch_size; /* its size in bytes; 0 = the kernel's */
	bool init;
	struct sbx_net_config net; /* mode, published ports, where its files go */
	struct sbx_landlock landlock;

	/* config.json "hooks": only sbx-oci runs them (with hook_state) */
	struct sbx_hooks hooks;

	/* OCI runtime mode (lifecycle/oci-runtime.c), set by the caller after
	 * parsing, never read from config.json; owned by the caller. */
	const char *start_fifo_dir; /* wait for `start` on DIR/exec.fifo, not on START */
	int start_fifo_dirfd;       /* that directory, open (with start_fifo_dir only) */
	bool outlive_parent;        /* no parent-death signal: the caller, a subreaper, owns it */
	bool exec_in_wait;          /* the caller waits at once: the payload's exec is not
	                             * confirmed at start, and its failure comes to the wait */
	bool seccomp_early;         /* without no_new_privs, filter before switching user (runc) */
	const char *state_id;       /* the container's id and bundle, for a seccomp agent (read
	                             * before CREATED only) */
	const char *state_bundle;
	json_t *hook_state; /* the state hooks read; process_create sets its pid */
	int preserve_fds;   /* fds 3 to 3+N-1 pass to the payload (--preserve-fds) */
	int listen_fds;     /* of which the first N are LISTEN_FDS (socket activation) */
	/* The cgroup its init joins before its set-up runs (process.c); with
	 * a cgroup namespace, that is made after, so that it is rooted there. */
	const struct sbx_cgroup *cgroup;
};

/* Parses and checks a config; errors name the JSON path. */
int config_parse(json_t *j, struct sbx_config **out, struct sbx_error **err);
/* The same for a config sbx built this moment from a checked profile: its
 * seccomp policy's syscall names are not looked up again (libseccomp does
 * when it compiles the policy). */
int config_parse_built(json_t *j, struct sbx_config **out, struct sbx_error **err);
void config_free(struct sbx_config *c);
/* "network" for CLONE_NEWNET, as linux.namespaces names the types. */
const char *config_ns_name(int flag);
/* The namespace a linux.sysctl entry ("key=value") belongs to: CLONE_NEWNET
 * or CLONE_NEWIPC. */
int config_sysctl_ns(const char *kv);
static inline void config_freep(struct sbx_config **c)
{
	config_free(*c);
}
#define _cleanup_config_ _cleanup_(config_freep)

/* Reads a JSON document (a config.json, state), refusing duplicate keys;
 * errors say FILE:LINE:COLUMN. */
int config_load_file(const char *path, json_t **out, struct sbx_error **err);

#endif
