/* state.c - instance locks and live state under $XDG_RUNTIME_DIR/sbx. */
#define _GNU_SOURCE
#include "store/state.h"
#include "lib/json-text.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>

void state_free(struct sbx_state *s)
{
	if (s == NULL)
		return;
	free(s->status);
	free(s->started);
	free(s->finished);
	free(s->overlay);
	free(s);
}

/* The civil date of a day count since 1970-01-01 (Howard Hinnant's
 * days_from_civil, inverted), for state_format_utc. */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

void state_format_utc(time_t t, char out[32])
{
	/* Not gmtime_r and strftime: their first call loads the local time
	 * zone (/etc/localtime, seven system calls) that UTC never uses. */
	long long days = (long long)t / 86400, secs = (long long)t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	long long y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(y % 10000), m % 100u,
	         d % 100u, (unsigned)(secs / 3600) % 100u, (unsigned)(secs / 60 % 60) % 100u,
	         (unsigned)(secs % 60) % 100u);
}

void state_now(char out[32])
{
	state_format_utc(time(NULL), out);
}

void state_now_ns(char out[48])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char s[32];
	state_format_utc(ts.tv_sec, s);
	s[strlen(s) - 1] = '\0'; /* the Z goes after the nanoseconds */
	snprintf(out, 48, "%s.%09ldZ", s, ts.tv_nsec);
}

int state_dir(const char *name, bool create, char **out, struct sbx_error **err)
{
	_cleanup_free_ char *base = NULL;
	if (xdg_runtime_dir(&base, err) < 0)
		return -1;
	_cleanup_free_ char *dir = xasprintf("%s/%s", base, name);
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return sbx_error_set(err, errno, "cannot create \"%s\"", dir);
	*out = steal_ptr(dir);
	return 0;
}

static int open_lock(const char *instance_dir, int *fd, struct sbx_error **err)
{
	*fd = open(instance_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", instance_dir);
	return 0;
}

int state_lock(const char *instance_dir, bool wait, int *fd, struct sbx_error **err)
{
	_cleanup_close_ int lfd = -1;
	if (open_lock(instance_dir, &lfd, err) < 0)
		return -1;
	int r;
	do
		r = flock(lfd, LOCK_EX | (wait ? 0 : LOCK_NB));
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EWOULDBLOCK) {
		const char *name = strrchr(instance_dir, '/');
		return sbx_error_setc(err, EBUSY, "instance \"%s\" is running",
		                      name ? name + 1 : instance_dir);
	}
	if (r < 0)
		return sbx_error_set(err, errno, "cannot lock \"%s\"", instance_dir);
	*fd = steal_fd(lfd);
	return 0;
}

int state_is_running(const char *instance_dir, bool *running, struct sbx_error **err)
{
	_cleanup_close_ int lfd = -1;
	if (open_lock(instance_dir, &lfd, err) < 0)
		return -1;
	if (flock(lfd, LOCK_SH | LOCK_NB) == 0) {
		*running = false;
		return 0;
	}
	if (errno != EWOULDBLOCK)
		return sbx_error_set(err, errno, "cannot check the lock of \"%s\"", instance_dir);
	*running = true;
	return 0;
}

int state_write(const char *name, const struct sbx_state *s, struct sbx_error **err)
{
	_cleanup_free_ char *dir = NULL;
	if (state_dir(name, true, &dir, err) < 0)
		return -1;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", dir);
	if (state_write_at(dfd, s, err) < 0)
		return sbx_error_prefix(err, "\"%s\"", dir);
	return 0;
}

int state_write_at(int dfd, const struct sbx_state *s, struct sbx_error **err)
{
	json_t *j = json_pack("{s:s, s:I, s:I, s:I}", "status", s->status ? s->status : "stopped",
	                      "pid", (json_int_t)s->pid, "starttime", (json_int_t)s->starttime,
	                      "monitor", (json_int_t)s->monitor);
	if (s->has_exit)
		json_object_set_new(j, "exit_code", json_integer(s->exit_code));
	if (s->started)
		json_object_set_new(j, "started", json_string(s->started));
	if (s->finished)
		json_object_set_new(j, "finished", json_string(s->finished));
	if (s->overlay)
		json_object_set_new(j, "overlay", json_string(s->overlay));
	if (s->scratch_fd >= 0)
		json_object_set_new(j, "scratch_fd", json_integer(s->scratch_fd));
	size_t len = 0;
	_cleanup_free_ char *text = json_text(j, &len);
	json_decref(j);
	if (text == NULL)
		return sbx_error_set(err, ENOMEM, "cannot serialise the state");
	return write_file_atomic(dfd, "state.json", text, len, 0600, err);
}

static char *dup_string(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s ? xstrdup(s) : NULL;
}

int state_read(const char *name, struct sbx_state **out, struct sbx_error **err)
{
	_cleanup_free_ char *dir = NULL;
	if (state_dir(name, false, &dir, err) < 0)
		return -1;
	struct sbx_state *s = xcalloc(1, sizeof(*s));
	s->scratch_fd = -1;
	_cleanup_free_ char *path = xasprintf("%s/state.json", dir);
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	/* No state, or a half-written one from a crash: the instance is stopped. */
	if (j == NULL) {
		s->status = xstrdup("stopped");
		*out = s;
		return 0;
	}
	s->status = dup_string(j, "status");
	if (s->status == NULL)
		s->status = xstrdup("stopped");
	s->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	s->starttime = (unsigned long long)json_integer_value(json_object_get(j, "starttime"));
	s->monitor = (pid_t)json_integer_value(json_object_get(j, "monitor"));
	json_t *code = json_object_get(j, "exit_code");
	s->has_exit = json_is_integer(code);
	s->exit_code = (int)json_integer_value(code);
	s->started = dup_string(j, "started");
	s->finished = dup_string(j, "finished");
	s->overlay = dup_string(j, "overlay");
	json_t *fd = json_object_get(j, "scratch_fd");
	s->scratch_fd = json_is_integer(fd) ? (int)json_integer_value(fd) : -1;
	json_decref(j);
	*out = s;
	return 0;
}

int state_starttime(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: count fields after the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -EIO;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -EIO;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

int state_pidfd(const struct sbx_state *s, int *pidfd, struct sbx_error **err)
{
	if (s->pid <= 0)
		return sbx_error_setc(err, ESRCH, "no process is recorded for this instance");
	_cleanup_close_ int fd = pidfd_open(s->pid, 0);
	if (fd < 0)
		return sbx_error_setc(err, ESRCH, "the instance's process %d is gone", (int)s->pid);
	/* The pidfd pins the process; only then is comparing start times
	 * enough to know the pid was not reused. */
	unsigned long long st = 0;
	if (state_starttime(s->pid, &st) < 0 || st != s->starttime)
		return sbx_error_setc(err, ESRCH,
		                      "the instance's process %d is gone (the pid was reused)",
		                      (int)s->pid);
	*pidfd = steal_fd(fd);
	return 0;
}
