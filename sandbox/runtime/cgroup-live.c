/* cgroup-live.c - pause, resume and update on a container's cgroup (see
 * cgroup-live.h). */
#define _GNU_SOURCE
#include "runtime/cgroup-live.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The directory of the record's hierarchy that has controller ctl
 * ("unified" for v2), or NULL. */
static const char *hier_dir(json_t *paths, const char *ctl)
{
	const char *key;
	json_t *v;
	json_object_foreach(paths, key, v)
	{
		if (!json_is_string(v))
			continue;
		size_t n = strlen(ctl);
		for (const char *p = key; *p;) {
			const char *end = strchrnul(p, ',');
			if ((size_t)(end - p) == n && strncmp(p, ctl, n) == 0)
				return json_string_value(v);
			p = *end ? end + 1 : end;
		}
	}
	return NULL;
}

static int write_at(const char *dir, const char *file, const char *value, struct sbx_error **err)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sbx_error_set(err, errno, "cannot open the cgroup \"%s\"", dir);
	if (write_string_at(dfd, file, value, O_NOFOLLOW) < 0)
		return sbx_error_set(err, errno, "cannot write \"%s\" to \"%s/%s\"", value, dir,
		                     file);
	return 0;
}

static int read_at(const char *dir, const char *file, char *buf, size_t size,
                   struct sbx_error **err)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd =
	    dfd < 0 ? -1 : openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot read \"%s/%s\"", dir, file);
	read_string(fd, buf, size);
	return 0;
}

static void nap(void)
{
	struct timespec t = {0, 1000000};
	nanosleep(&t, NULL);
}

int cgroup_live_freeze(json_t *paths, bool freeze, struct sbx_error **err)
{
	const char *dir;
	char buf[512];
	if ((dir = hier_dir(paths, "unified"))) {
		if (write_at(dir, "cgroup.freeze", freeze ? "1" : "0", err) < 0)
			return -1;
		/* cgroup.events says "frozen 1" once every process is. */
		for (int i = 0; i < 10000; i++) {
			if (read_at(dir, "cgroup.events", buf, sizeof(buf), err) < 0)
				return -1;
			if (strstr(buf, freeze ? "frozen 1" : "frozen 0"))
				return 0;
			nap();
		}
		return sbx_error_setc(err, EBUSY, "the cgroup \"%s\" did not %s", dir,
		                      freeze ? "freeze" : "thaw");
	}
	if ((dir = hier_dir(paths, "freezer"))) {
		const char *want = freeze ? "FROZEN" : "THAWED";
		/* FREEZING until every task is: written again, as runc does. */
		for (int i = 0; i < 10000; i++) {
			if (write_at(dir, "freezer.state", want, err) < 0 ||
			    read_at(dir, "freezer.state", buf, sizeof(buf), err) < 0)
				return -1;
			if (strncmp(buf, want, strlen(want)) == 0)
				return 0;
			nap();
		}
		return sbx_error_setc(err, EBUSY, "the cgroup \"%s\" did not %s", dir,
		                      freeze ? "freeze" : "thaw");
	}
	return sbx_error_setc(err, ENOENT, "the container's cgroup has no freezer");
}

void cgroup_live_resources_init(struct sbx_live_resources *r)
{
	*r = (struct sbx_live_resources){
	    .memory = SBX_UNSET,
	    .memory_swap = SBX_UNSET,
	    .memory_reservation = SBX_UNSET,
	    .pids = SBX_UNSET,
	    .cpu_shares = SBX_UNSET,
	    .cpu_quota = SBX_UNSET,
	    .cpu_period = SBX_UNSET,
	    .blkio_weight = SBX_UNSET,
	};
}

void cgroup_live_resources_free(struct sbx_live_resources *r)
{
	free(r->cpus);
	free(r->mems);
	r->cpus = r->mems = NULL;
}

static int take(json_t *o, const char *key, const char *what, long long *out,
                struct sbx_error **err)
{
	json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < -1)
		return sbx_error_setc(err, EINVAL, "%s.%s: expected a number (-1: no limit)", what,
		                      key);
	*out = json_integer_value(v);
	return 0;
}

int cgroup_live_parse(json_t *j, struct sbx_live_resources *r, struct sbx_error **err)
{
	static const struct {
		const char *section;
		const char *const keys[6];
	} known[] = {
	    {"memory", {"limit", "reservation", "swap"}},
	    {"cpu", {"shares", "quota", "period", "cpus", "mems"}},
	    {"pids", {"limit"}},
	    {"blockIO", {"weight"}},
	};
	if (!json_is_object(j))
		return sbx_error_setc(err, EINVAL, "resources: expected a JSON object");
	const char *sec;
	json_t *o;
	json_object_foreach(j, sec, o)
	{
		size_t s = 0;
		while (s < ARRAY_SIZE(known) && strcmp(known[s].section, sec) != 0)
			s++;
		if (s == ARRAY_SIZE(known))
			return sbx_error_setc(err, ENOTSUP, "resources: \"%s\" cannot be updated",
			                      sec);
		if (!json_is_object(o))
			return sbx_error_setc(err, EINVAL, "resources.%s: expected an object", sec);
		const char *key;
		json_t *v;
		json_object_foreach(o, key, v)
		{
			bool ok = false;
			for (size_t k = 0; known[s].keys[k]; k++)
				ok |= strcmp(known[s].keys[k], key) == 0;
			if (!ok)
				return sbx_error_setc(
				    err, ENOTSUP, "resources.%s.%s cannot be updated", sec, key);
		}
	}
	json_t *mem = json_object_get(j, "memory"), *cpu = json_object_get(j, "cpu");
	if (take(mem, "limit", "resources.memory", &r->memory, err) < 0 ||
	    take(mem, "reservation", "resources.memory", &r->memory_reservation, err) < 0 ||
	    take(mem, "swap", "resources.memory", &r->memory_swap, err) < 0 ||
	    take(cpu, "shares", "resources.cpu", &r->cpu_shares, err) < 0 ||
	    take(cpu, "quota", "resources.cpu", &r->cpu_quota, err) < 0 ||
	    take(cpu, "period", "resources.cpu", &r->cpu_period, err) < 0 ||
	    take(json_object_get(j, "pids"), "limit", "resources.pids", &r->pids, err) < 0 ||
	    take(json_object_get(j, "blockIO"), "weight", "resources.blockIO", &r->blkio_weight,
	         err) < 0)
		return -1;
	const char *const sets[2] = {"cpus", "mems"};
	char **dst[2] = {&r->cpus, &r->mems};
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(cpu, sets[i]);
		if (v == NULL)
			continue;
		if (!json_is_string(v))
			return sbx_error_setc(err, EINVAL, "resources.cpu.%s: expected a string",
			                      sets[i]);
		free(*dst[i]);
		*dst[i] = xstrdup(json_string_value(v));
	}
	return 0;
}

/* One file to write: in the v2 hierarchy, or v1's controller ctl. */
struct write {
	const char *ctl, *file;
	char value[64];
	const char *text; /* instead of value */
};

static void num(char *buf, size_t n, long long v, const char *unlimited)
{
	if (v < 0)
		snprintf(buf, n, "%s", unlimited);
	else
		snprintf(buf, n, "%lld", v);
}

int cgroup_live_update(json_t *paths, const struct sbx_live_resources *r, struct sbx_error **err)
{
	const char *v2 = hier_dir(paths, "unified");
	struct write w[12];
	size_t n = 0;
#define ADD(c, f) (w[n] = (struct write){.ctl = (c), .file = (f)}, &w[n++])
	struct write *x;
	if (v2) {
		if (r->memory != SBX_UNSET)
			num(ADD("memory", "memory.max")->value, 64, r->memory, "max");
		if (r->memory_reservation != SBX_UNSET)
			num(ADD("memory", "memory.low")->value, 64, r->memory_reservation, "max");
		/* runc's swap is memory and swap; v2's swap alone. */
		if (r->memory_swap != SBX_UNSET) {
			if (r->memory_swap >= 0 && (r->memory == SBX_UNSET || r->memory < 0))
				return sbx_error_setc(
				    err, EINVAL,
				    "a swap limit needs a memory limit (--memory) "
				    "on cgroup v2");
			num(ADD("memory", "memory.swap.max")->value, 64,
			    r->memory_swap < 0 ? -1 : r->memory_swap - r->memory, "max");
		}
		if (r->pids != SBX_UNSET)
			num(ADD("pids", "pids.max")->value, 64, r->pids, "max");
		if (r->cpu_shares != SBX_UNSET)
			num(ADD("cpu", "cpu.weight")->value, 64,
			    r->cpu_shares <= 0 ? 100 : 1 + ((r->cpu_shares - 2) * 9999) / 262142,
			    "100");
		if (r->cpu_quota != SBX_UNSET || r->cpu_period != SBX_UNSET) {
			x = ADD("cpu", "cpu.max");
			char q[32] = "max";
			if (r->cpu_quota == SBX_UNSET) {
				char cur[64] = "";
				if (read_at(v2, "cpu.max", cur, sizeof(cur), err) < 0)
					return -1;
				snprintf(q, sizeof(q), "%.*s", (int)strcspn(cur, " \n"), cur);
			} else if (r->cpu_quota >= 0) {
				snprintf(q, sizeof(q), "%lld", r->cpu_quota);
			}
			if (r->cpu_period != SBX_UNSET && r->cpu_period > 0)
				snprintf(x->value, 64, "%s %lld", q, r->cpu_period);
			else
				snprintf(x->value, 64, "%s", q);
		}
		if (r->blkio_weight != SBX_UNSET)
			num(ADD("io", "io.weight")->value, 64, r->blkio_weight, "100");
		if (r->cpus)
			ADD("cpuset", "cpuset.cpus")->text = r->cpus;
		if (r->mems)
			ADD("cpuset", "cpuset.mems")->text = r->mems;
	} else {
		if (r->memory != SBX_UNSET)
			num(ADD("memory", "memory.limit_in_bytes")->value, 64, r->memory, "-1");
		if (r->memory_swap != SBX_UNSET)
			num(ADD("memory", "memory.memsw.limit_in_bytes")->value, 64, r->memory_swap,
			    "-1");
		if (r->memory_reservation != SBX_UNSET)
			num(ADD("memory", "memory.soft_limit_in_bytes")->value, 64,
			    r->memory_reservation, "-1");
		if (r->pids != SBX_UNSET)
			num(ADD("pids", "pids.max")->value, 64, r->pids, "max");
		if (r->cpu_shares != SBX_UNSET)
			num(ADD("cpu", "cpu.shares")->value, 64, r->cpu_shares, "1024");
		if (r->cpu_period != SBX_UNSET)
			num(ADD("cpu", "cpu.cfs_period_us")->value, 64, r->cpu_period, "100000");
		if (r->cpu_quota != SBX_UNSET)
			num(ADD("cpu", "cpu.cfs_quota_us")->value, 64, r->cpu_quota, "-1");
		if (r->blkio_weight != SBX_UNSET)
			num(ADD("blkio", "blkio.weight")->value, 64, r->blkio_weight, "500");
		if (r->cpus)
			ADD("cpuset", "cpuset.cpus")->text = r->cpus;
		if (r->mems)
			ADD("cpuset", "cpuset.mems")->text = r->mems;
	}
#undef ADD
	if (n == 0)
		return sbx_error_setc(err, EINVAL, "nothing to update");
	/* Every controller first: nothing half-written for a missing one. */
	for (size_t i = 0; i < n; i++)
		if (!(v2 ? v2 : hier_dir(paths, w[i].ctl)))
			return sbx_error_setc(err, ENOTSUP,
			                      "the container's cgroup has no %s controller (%s)",
			                      w[i].ctl, w[i].file);
	for (size_t i = 0; i < n; i++) {
		const char *dir = v2 ? v2 : hier_dir(paths, w[i].ctl);
		const char *value = w[i].text ? w[i].text : w[i].value;
		struct sbx_error *e = NULL;
		if (write_at(dir, w[i].file, value, &e) == 0)
			continue;
		/* v1 wants memory+swap at least memory: a raised limit goes
		 * after its swap's. */
		if (!v2 && i + 1 < n && strcmp(w[i].file, "memory.limit_in_bytes") == 0 &&
		    strcmp(w[i + 1].file, "memory.memsw.limit_in_bytes") == 0 &&
		    write_at(dir, w[i + 1].file, w[i + 1].value, err) == 0 &&
		    write_at(dir, w[i].file, value, err) == 0) {
			sbx_error_free(e);
			i++;
			continue;
		}
		if (*err == NULL)
			*err = e;
		else
			sbx_error_free(e);
		return -1;
	}
	return 0;
}
