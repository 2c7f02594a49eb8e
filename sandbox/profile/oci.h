/* oci.h - translate a resolved profile into an OCI runtime-spec config.json. */
#ifndef SBX_OCI_H
#define SBX_OCI_H

#include "profile/profile.h"
#include "lib/util.h"
#include "runtime/config.h"

#include <jansson.h>
#include <sys/types.h>

#define SBX_OCI_VERSION "1.0.2"

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
	/* The default seccomp policy as seccomp_default_deferred's stand-in,
	 * for a config sbx runs itself: it is built only when its program is
	 * not cached, or when the config is written (seccomp_config_resolve). */
	bool defer_seccomp;
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

#endif
