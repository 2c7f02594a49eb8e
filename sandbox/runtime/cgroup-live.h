/* cgroup-live.h - what sbx-oci does to a running container's cgroup:
 * freeze and thaw it (pause, resume). Its limits change (update) through
 * runtime/cgroup.h's cgroup_update, as they were applied at create.
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
#include <stdbool.h>

/* Freezes (freeze) or thaws every process of the record's cgroup: v2's
 * cgroup.freeze, else v1's freezer.state; returns once the kernel says it
 * is done. ENOENT when the record has neither. */
int cgroup_live_freeze(json_t *paths, bool freeze, struct sbx_error **err);

#endif
