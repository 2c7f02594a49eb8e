/* procattr.h - process attributes of an OCI config that are no mount and no
 * credential: process.oomScoreAdj, ioPriority, scheduler, apparmorProfile,
 * selinuxLabel and linux.personality. */
#ifndef SBX_PROCATTR_H
#define SBX_PROCATTR_H

#include "lib/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct sbx_procattr {
	bool has_oom;
	int oom_score_adj;
	bool has_personality;
	unsigned long personality;
	bool has_ioprio;
	int ioprio; /* IOPRIO_PRIO_VALUE(class, level) */
	bool has_sched;
	struct {
		uint32_t policy, priority;
		int32_t nice;
		uint64_t flags, runtime, deadline, period;
	} sched;
	char *apparmor; /* the profile to exec under; NULL for none */
};

/* Reads process.oomScoreAdj, ioPriority, scheduler, apparmorProfile,
 * selinuxLabel (of PROCESS) and linux.personality (PERSONALITY, may be
 * NULL). What the host cannot do is refused by name: an AppArmor profile
 * where AppArmor is not enabled, any SELinux label. */
int procattr_parse(json_t *process, json_t *personality, struct sbx_procattr *out,
                   struct sbx_error **err);
void procattr_free(struct sbx_procattr *a);

/* In the sandbox's first process, while the host's /proc is still there:
 * oom_score_adj, which its children and the payload inherit. */
int procattr_apply_early(const struct sbx_procattr *a, struct sbx_error **err);
/* Just before the payload's exec (system calls only, no allocation): the
 * I/O priority, the scheduler, the personality and the AppArmor profile
 * of the next exec, which must not slow or change sbx's own set-up. */
int procattr_apply_late(const struct sbx_procattr *a, struct sbx_error **err);

#endif
