/* oci.h - translate a resolved profile into an OCI runtime-spec config.json. */
#ifndef SBX_OCI_H
#define SBX_OCI_H

#include "profile.h"
#include "util.h"

#include <jansson.h>
#include <sys/types.h>

#define SBX_OCI_VERSION "1.0.2"

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

struct sbx_oci_input {
	const struct sbx_profile *profile;
	const char *rootfs;     /* root.path: the image's root, or "rootfs" in a bundle */
	const char *image;      /* image name for the annotation, may be NULL */
	char *const *args;      /* the command; NULL = image default, else /bin/sh */
	char *const *image_cmd; /* the image's default command, may be NULL */
	char *const *image_env; /* the image's environment, may be NULL */
	const char *image_workdir;
	bool terminal;
	/* Overlay layers; upper == NULL means no overlay (a bundle). The merged
	 * tree is mounted on mountpoint, which becomes root.path. */
	const char *upper, *work, *mountpoint;
	/* The upper layer dies with the run (--rm): skip the overlay's syncs. */
	bool volatile_upper;
	/* Upper and work in a tmpfs of the sandbox's own (--rm, memory scratch),
	 * attached on mountpoint (root.path): no upper or work path. */
	bool scratch;
	/* Where sbx writes hosts and resolv.conf (bound read-only over the
	 * image's) and network.json: the instance directory; NULL = none. */
	const char *etc_dir;
	uid_t uid; /* the caller, mapped to 0 */
	gid_t gid;
	/* Subordinate ranges for --userns subid (count 0 = none). */
	uid_t subuid;
	uid_t subuid_count;
	gid_t subgid;
	gid_t subgid_count;
};

/* The size of a --rm upper layer in memory without [limits] scratch: 1 GiB,
 * or a quarter of the RAM if that is less. tmpfs would take half of it, and
 * its pages count against no limit sbx can set without a delegated cgroup. */
uint64_t oci_scratch_default(void);

/* Builds the config. Fails (with a message naming the setting) on values the
 * runtime could not honour, e.g. a --user that the mapping does not cover. */
int oci_build(const struct sbx_oci_input *in, json_t **out, struct sbx_error **err);

/* Loads a config.json strictly (duplicate keys rejected, errors as
 * FILE:LINE:COL). */
int oci_load_file(const char *path, json_t **out, struct sbx_error **err);

#endif
