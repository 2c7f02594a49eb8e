/* cgroup-live.c - pause and resume on a container's cgroup (see
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
