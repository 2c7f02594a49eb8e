/* cgroup.h - the cgroup of an OCI container: linux.cgroupsPath made on
 * cgroup v2 and on every v1 hierarchy the host mounts, linux.resources
 * applied to it, the container's init put in it before it runs, and the
 * whole removed on delete.
 *
 * As root, every hierarchy is used. Rootless, only a v2 subtree the caller
 * was delegated (its own cgroup's cgroup.procs writable, on a pure v2
 * host); otherwise nothing, as runc does rootless.
 *
 * A made cgroup is recorded as a JSON object from hierarchy to directory:
 * the v1 ones keyed by their controllers as /proc/self/cgroup names them
 * ("memory", "cpu,cpuacct", "name=systemd"), the v2 one by "unified"; e.g.
 * {"freezer": "/sys/fs/cgroup/freezer/default/c1", "unified":
 * "/sys/fs/cgroup/unified/default/c1"}. sbx-oci keeps it in its state.json
 * as "cgroupPaths". */
#ifndef SBX_CGROUP_H
#define SBX_CGROUP_H

#include "lib/util.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/* One rule of linux.resources.devices. */
struct sbx_dev_rule {
	bool allow;
	char type;              /* 'a', 'c' or 'b' */
	long long major, minor; /* -1 = any */
	char access[4];         /* of "rwm" */
};

/* linux.resources, checked. Unset values are -1 (or NULL, 0 entries). */
struct sbx_resources {
	bool any; /* something to apply */
	long long mem_limit, mem_reservation, mem_swap, mem_swappiness;
	bool mem_disable_oom;
	long long pids_limit;
	long long cpu_shares, cpu_quota, cpu_period;
	char *cpus, *mems;
	long long blkio_weight;
	struct {
		char *page_size;
		long long limit;
	} * huge;
	size_t n_huge;
	struct sbx_dev_rule *devices;
	size_t n_devices;
	json_t *unified; /* file -> value, or NULL */
};

/* Checks linux.resources (NULL: none); errors name the key. */
int cgroup_resources_parse(json_t *j, struct sbx_resources *out, struct sbx_error **err);

/* A value -1 given to update: no limit (memory, swap, pids, quota), or the
 * kernel's default where "no limit" means nothing (shares, period, weight).
 * A new cgroup starts so, and create leaves -1 unset. */
#define CGROUP_RESET LLONG_MIN
/* The same for runc update --resources (and its options): only the limits
 * a running container's cgroup can change (memory.limit, .reservation,
 * .swap; cpu.shares, .quota, .period, .cpus, .mems; pids.limit;
 * blockIO.weight), anything else refused by name; -1 is CGROUP_RESET. */
int cgroup_resources_parse_update(json_t *j, struct sbx_resources *out, struct sbx_error **err);
void cgroup_resources_free(struct sbx_resources *r);

enum cgroup_driver {
	CGROUP_DRIVER_FS,      /* cgroupsPath is a path */
	CGROUP_DRIVER_SYSTEMD, /* slice:prefix:name, as systemd would lay it out */
	CGROUP_DRIVER_NONE,    /* --cgroup-manager disabled */
};

/* The cgroup path for a container: cgroupsPath (or, empty, the id, or with
 * systemd ":sbx:ID"), absolute or relative to sbx's own cgroup. With
 * systemd, "slice:prefix:name" becomes slice's nested .slice directories
 * and prefix-name.scope, as runc's systemd driver names them. */
int cgroup_path_resolve(const char *cgroups_path, enum cgroup_driver driver, const char *id,
                        char **out, struct sbx_error **err);

struct sbx_cgroup;

/* Makes the cgroup (every hierarchy) and applies r. *out is NULL, and 0
 * returned, when the caller has no cgroup to make one in (rootless without
 * a delegated v2 subtree): resources are then not enforced. Anything it
 * made is removed again on failure. */
int cgroup_create(const char *path, const struct sbx_resources *r, struct sbx_cgroup **out,
                  struct sbx_error **err);
/* Moves pid into every hierarchy of cg. */
int cgroup_enter(const struct sbx_cgroup *cg, pid_t pid, struct sbx_error **err);
/* The record (see above); a new reference. */
json_t *cgroup_paths(const struct sbx_cgroup *cg);
/* Removes the directories cgroup_create made (a failed create). */
void cgroup_abort(struct sbx_cgroup *cg);
void cgroup_free(struct sbx_cgroup *cg);

/* The cgroup.procs files of a record, opened (exec opens them before it
 * enters the container's mount namespace), and pid moved in through them. */
int cgroup_procs_open(json_t *paths, int **fds, size_t *n, struct sbx_error **err);
int cgroup_procs_write(const int *fds, size_t n, pid_t pid, struct sbx_error **err);
/* Writes r (cgroup_resources_parse_update's) to the cgroups of a record
 * (update), as cgroup_create applies it: to the v1 hierarchy of each
 * controller, or to v2 where the record has no v1 one. A limit whose
 * controller the record lacks is refused by name before anything is
 * written. */
int cgroup_update(json_t *paths, const struct sbx_resources *r, struct sbx_error **err);
/* Kills every process left in the cgroups of a record and removes their
 * directories (delete). */
int cgroup_destroy_paths(json_t *paths, struct sbx_error **err);

/* Which cgroup versions the caller can make cgroups in: as root, those
 * mounted; rootless, v2 only where it was delegated a subtree. */
void cgroup_support(bool *v1, bool *v2);

#endif
