/* procattr.c - process.oomScoreAdj, ioPriority, scheduler, apparmorProfile,
 * selinuxLabel and linux.personality: parsed on the host, applied in the
 * sandbox (see procattr.h for when). */
#define _GNU_SOURCE
#include "runtime/procattr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

static const struct {
	const char *name;
	int class;
} ioprio_classes[] = {
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
};

static const struct {
	const char *name;
	int policy; /* -1: not a policy of Linux */
} sched_policies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
    {"SCHED_ISO", -1},  {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

static const struct {
	const char *name;
	uint64_t flag;
} sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

/* The kernel's struct sched_attr (sched_setattr(2)); glibc has no wrapper. */
struct sched_attr_v1 {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

static bool apparmor_enabled(void)
{
	char c = 0;
	int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool y = read(fd, &c, 1) == 1 && c == 'Y';
	close(fd);
	return y;
}

static int parse_ioprio(json_t *o, struct sbx_procattr *a, struct sbx_error **err)
{
	const char *class = NULL;
	json_int_t prio = 0;
	json_error_t je;
	if (json_unpack_ex(o, &je, JSON_STRICT, "{s:s, s?I}", "class", &class, "priority", &prio) <
	    0)
		return sbx_error_set(err, EINVAL, "process.ioPriority: %s", je.text);
	size_t k;
	for (k = 0; k < ARRAY_SIZE(ioprio_classes); k++)
		if (strcmp(class, ioprio_classes[k].name) == 0)
			break;
	if (k == ARRAY_SIZE(ioprio_classes))
		return sbx_error_setc(err, EINVAL,
		                      "process.ioPriority.class: unknown class \"%s\" "
		                      "(IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)",
		                      class);
	if (prio < 0 || prio > 7)
		return sbx_error_setc(err, EINVAL,
		                      "process.ioPriority.priority: %lld is not a level (0 to 7)",
		                      (long long)prio);
	a->has_ioprio = true;
	a->ioprio = (ioprio_classes[k].class << IOPRIO_CLASS_SHIFT) | (int)prio;
	return 0;
}

static int parse_sched(json_t *o, struct sbx_procattr *a, struct sbx_error **err)
{
	const char *policy = NULL;
	json_int_t nice = 0, prio = 0, runtime = 0, deadline = 0, period = 0;
	json_t *flags = NULL;
	json_error_t je;
	if (json_unpack_ex(o, &je, JSON_STRICT, "{s:s, s?I, s?I, s?o, s?I, s?I, s?I}", "policy",
	                   &policy, "nice", &nice, "priority", &prio, "flags", &flags, "runtime",
	                   &runtime, "deadline", &deadline, "period", &period) < 0)
		return sbx_error_set(err, EINVAL, "process.scheduler: %s", je.text);
	size_t k;
	for (k = 0; k < ARRAY_SIZE(sched_policies); k++)
		if (strcmp(policy, sched_policies[k].name) == 0)
			break;
	if (k == ARRAY_SIZE(sched_policies))
		return sbx_error_setc(err, EINVAL,
		                      "process.scheduler.policy: unknown policy \"%s\"", policy);
	if (sched_policies[k].policy < 0)
		return sbx_error_setc(err, ENOTSUP,
		                      "process.scheduler.policy: \"%s\" is not supported (Linux "
		                      "has no such policy)",
		                      policy);
	if (nice < -20 || nice > 19)
		return sbx_error_setc(
		    err, EINVAL, "process.scheduler.nice: %lld is not a nice value (-20 to 19)",
		    (long long)nice);
	if (prio < 0 || prio > 99 || runtime < 0 || deadline < 0 || period < 0)
		return sbx_error_setc(err, EINVAL, "process.scheduler: a value is out of range");
	uint64_t fl = 0;
	size_t i;
	json_t *f;
	if (flags && !json_is_array(flags))
		return sbx_error_setc(err, EINVAL, "process.scheduler.flags: expected an array");
	json_array_foreach(flags, i, f)
	{
		const char *name = json_string_value(f);
		size_t n;
		for (n = 0; name && n < ARRAY_SIZE(sched_flags); n++)
			if (strcmp(name, sched_flags[n].name) == 0)
				break;
		if (name == NULL || n == ARRAY_SIZE(sched_flags))
			return sbx_error_setc(err, EINVAL,
			                      "process.scheduler.flags[%zu]: unknown flag \"%s\"",
			                      i, name ? name : "");
		fl |= sched_flags[n].flag;
	}
	a->has_sched = true;
	a->sched.policy = (uint32_t)sched_policies[k].policy;
	a->sched.nice = (int32_t)nice;
	a->sched.priority = (uint32_t)prio;
	a->sched.flags = fl;
	a->sched.runtime = (uint64_t)runtime;
	a->sched.deadline = (uint64_t)deadline;
	a->sched.period = (uint64_t)period;
	return 0;
}

static int parse_personality(json_t *o, struct sbx_procattr *a, struct sbx_error **err)
{
	const char *domain = NULL;
	json_t *flags = NULL;
	json_error_t je;
	if (json_unpack_ex(o, &je, JSON_STRICT, "{s?s, s?o}", "domain", &domain, "flags", &flags) <
	    0)
		return sbx_error_set(err, EINVAL, "linux.personality: %s", je.text);
	/* The spec defines no flag yet: one would be refused by name. */
	if (json_array_size(flags) > 0 || (flags && !json_is_array(flags))) {
		const char *name = json_string_value(json_array_get(flags, 0));
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.personality.flags: \"%s\" is not supported (the "
		                      "runtime spec defines no flag)",
		                      name ? name : "");
	}
	if (domain == NULL || strcmp(domain, "LINUX") == 0)
		a->personality = PER_LINUX;
	else if (strcmp(domain, "LINUX32") == 0)
		a->personality = PER_LINUX32;
	else
		return sbx_error_setc(err, EINVAL,
		                      "linux.personality.domain: unknown domain \"%s\" (LINUX or "
		                      "LINUX32)",
		                      domain);
	a->has_personality = true;
	return 0;
}

int procattr_parse(json_t *process, json_t *personality, struct sbx_procattr *out,
                   struct sbx_error **err)
{
	json_t *v;
	const char *apparmor = json_string_value(json_object_get(process, "apparmorProfile"));
	const char *selinux = json_string_value(json_object_get(process, "selinuxLabel"));
	/* A profile or a label could be a protection: never dropped. */
	if (apparmor && *apparmor) {
		if (!apparmor_enabled())
			return sbx_error_setc(err, ENOTSUP,
			                      "process.apparmorProfile: \"%s\" cannot be applied: "
			                      "AppArmor is not enabled on this host",
			                      apparmor);
		out->apparmor = xstrdup(apparmor);
	}
	if (selinux && *selinux)
		return sbx_error_setc(err, ENOTSUP,
		                      "process.selinuxLabel: \"%s\" cannot be applied: sbx does "
		                      "not apply SELinux labels",
		                      selinux);
	if ((v = json_object_get(process, "oomScoreAdj"))) {
		json_int_t n = json_integer_value(v);
		if (!json_is_integer(v) || n < -1000 || n > 1000)
			return sbx_error_setc(err, EINVAL,
			                      "process.oomScoreAdj: expected an integer from -1000 "
			                      "to 1000");
		out->has_oom = true;
		out->oom_score_adj = (int)n;
	}
	if ((v = json_object_get(process, "ioPriority")) && parse_ioprio(v, out, err) < 0)
		return -1;
	if ((v = json_object_get(process, "scheduler")) && parse_sched(v, out, err) < 0)
		return -1;
	if (personality && parse_personality(personality, out, err) < 0)
		return -1;
	return 0;
}

void procattr_free(struct sbx_procattr *a)
{
	free(a->apparmor);
	a->apparmor = NULL;
}

static int read_int(const char *path, int *out)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*out = atoi(buf);
	return 0;
}

int procattr_apply_early(const struct sbx_procattr *a, struct sbx_error **err)
{
	if (a->has_oom) {
		char buf[16];
		snprintf(buf, sizeof(buf), "%d", a->oom_score_adj);
		if (write_string_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, 0) < 0) {
			int e = errno, cur = 0;
			if (e == EACCES && read_int("/proc/self/oom_score_adj", &cur) == 0)
				return sbx_error_set(
				    err, e,
				    "process.oomScoreAdj: cannot lower the OOM score adjustment "
				    "to %d (it is %d): that needs CAP_SYS_RESOURCE on the host",
				    a->oom_score_adj, cur);
			return sbx_error_set(err, e, "process.oomScoreAdj: cannot set it to %d",
			                     a->oom_score_adj);
		}
	}
	if (a->apparmor) {
		_cleanup_free_ char *cmd = xasprintf("exec %s", a->apparmor);
		if (write_string_at(AT_FDCWD, "/proc/self/attr/apparmor/exec", cmd, 0) < 0 &&
		    write_string_at(AT_FDCWD, "/proc/self/attr/exec", cmd, 0) < 0)
			return sbx_error_set(err, errno,
			                     "process.apparmorProfile: cannot apply \"%s\"",
			                     a->apparmor);
	}
	return 0;
}

int procattr_apply_late(const struct sbx_procattr *a, struct sbx_error **err)
{
	if (a->has_ioprio && syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, a->ioprio) < 0) {
		int e = errno;
		return sbx_error_set(err, e, "process.ioPriority: cannot set class %d level %d%s",
		                     a->ioprio >> IOPRIO_CLASS_SHIFT, a->ioprio & 7,
		                     e == EPERM ? " (the real-time class needs CAP_SYS_ADMIN "
		                                  "on the host)"
		                                : "");
	}
	if (a->has_sched) {
		struct sched_attr_v1 sa = {.size = sizeof(sa),
		                           .sched_policy = a->sched.policy,
		                           .sched_flags = a->sched.flags,
		                           .sched_nice = a->sched.nice,
		                           .sched_priority = a->sched.priority,
		                           .sched_runtime = a->sched.runtime,
		                           .sched_deadline = a->sched.deadline,
		                           .sched_period = a->sched.period};
		if (syscall(SYS_sched_setattr, 0, &sa, 0) < 0) {
			int e = errno;
			return sbx_error_set(
			    err, e,
			    "process.scheduler: cannot set policy %u (nice %d, priority %u)%s",
			    a->sched.policy, a->sched.nice, a->sched.priority,
			    e == EPERM
			        ? ": a real-time policy, a deadline or a lower nice value "
			          "needs CAP_SYS_NICE on the host or RLIMIT_RTPRIO/RLIMIT_NICE"
			        : "");
		}
	}
	if (a->has_personality && personality(a->personality) < 0)
		return sbx_error_set(err, errno, "linux.personality: cannot set 0x%lx",
		                     a->personality);
	return 0;
}
