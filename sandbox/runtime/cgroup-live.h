/* cgroup-live.h - what sbx-oci does to a running container's cgroup:
 * freeze and thaw it (pause, resume), change its limits (update).
 *
 * The container's cgroup is a record, as sbx-oci's state.json keeps it
 * ("cgroupPaths"): a JSON object from hierarchy to directory, the v1 ones
 * keyed by their controllers as /proc/self/cgroup names them ("memory",
 * "cpu,cpuacct"), the v2 one by "unified". The directories are sbx-oci's
 * own record, out of the payload's reach. */
#ifndef SBX_CGROUP_LIVE_H
#define SBX_CGROUP_LIVE_H

#include "lib/util.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

/* Freezes (freeze) or thaws every process of the record's cgroup: v2's
 * cgroup.freeze, else v1's freezer.state; returns once the kernel says it
 * is done. ENOENT when the record has neither. */
int cgroup_live_freeze(json_t *paths, bool freeze, struct sbx_error **err);

/* runc update's limits; SBX_UNSET where not given, -1 for no limit. */
#define SBX_UNSET LLONG_MIN
struct sbx_live_resources {
	long long memory, memory_swap, memory_reservation;
	long long pids;
	long long cpu_shares, cpu_quota, cpu_period;
	long long blkio_weight;
	char *cpus, *mems; /* or NULL */
};
void cgroup_live_resources_init(struct sbx_live_resources *r);
void cgroup_live_resources_free(struct sbx_live_resources *r);
/* linux.resources as runc update --resources reads it (memory.limit,
 * .reservation, .swap; cpu.shares, .quota, .period, .cpus, .mems;
 * pids.limit; blockIO.weight), over what r holds; anything else is refused
 * by name. */
int cgroup_live_parse(json_t *j, struct sbx_live_resources *r, struct sbx_error **err);
/* Writes what r sets to the record's cgroup (v2 when it has one, else the
 * v1 controller of each); a limit whose controller is missing is refused
 * by name, before anything is written. */
int cgroup_live_update(json_t *paths, const struct sbx_live_resources *r, struct sbx_error **err);

#endif
