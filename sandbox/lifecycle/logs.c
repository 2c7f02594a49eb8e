/* logs.c - the capture process that writes a detached instance's log and
 * its index of times, and what reads them back: the index and the times
 * --since and --until are given. */
#define _GNU_SOURCE
#include "lifecycle/logs.h"
#include "lib/util.h"
#include "store/state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
/* A new record at most this often: the index stays small however the
 * payload writes, and a time is right to this much. */
#define RECORD_EVERY_NS 1000000LL

/* ---- capture ---- */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Copies the pipe to the log until every writer is gone, or, once stop
 * says so, until the pipe is empty: a process that kept the pipe open
 * after the payload ended cannot keep the instance running. A record goes
 * to the index before the bytes it times, so a reader never sees bytes
 * whose record is still to come. A log that cannot be written (a full
 * disk) loses bytes, never blocks the payload. */
static void capture(int in, int stop, int logfd, int idxfd)
{
	int64_t last = 0;
	bool draining = false, any = false;
	char buf[65536];
	for (;;) {
		if (!draining) {
			struct pollfd p[2] = {{.fd = in, .events = POLLIN},
			                      {.fd = stop, .events = POLLIN}};
			if (poll(p, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				return;
			}
			if (p[1].revents) {
				draining = true;
				if (fcntl(in, F_SETFL, O_NONBLOCK) < 0)
					return;
			} else if (p[0].revents == 0) {
				continue;
			}
		}
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		int64_t now = now_ns();
		if (!any || now - last >= RECORD_EVERY_NS) {
			off_t end = lseek(logfd, 0, SEEK_END);
			struct logs_record r = {.off = end < 0 ? 0 : (uint64_t)end,
			                        .ns = any && now < last ? last : now};
			(void)write_all(idxfd, &r, sizeof(r));
			last = r.ns;
			any = true;
		}
		(void)write_all(logfd, buf, (size_t)n);
	}
}

static int open_append(const char *dir, const char *name, struct sbx_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open the log \"%s\"", path);
	return fd;
}

/* In the capture process: fds[] become 3, 4, ... and nothing else stays
 * open but /dev/null on 0, 1 and 2. */
static void keep_only(int *fds, int n)
{
	int tmp[8];
	for (int i = 0; i < n; i++) {
		tmp[i] = fds[i] < 0 ? -1 : fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
		if (fds[i] >= 0 && tmp[i] < 0)
			_exit(1);
	}
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(1);
	for (int i = 0; i < n; i++) {
		if (tmp[i] >= 0 && dup2(tmp[i], 3 + i) < 0)
			_exit(1);
		fds[i] = tmp[i] < 0 ? -1 : 3 + i;
	}
	close_range(3 + (unsigned)n, ~0U, 0);
}

int logs_capture_spawn(const char *instance_dir, int keep_fd, int *out, int *stop, pid_t *pid,
                       struct sbx_error **err)
{
	_cleanup_close_ int logfd = open_append(instance_dir, "log", err);
	if (logfd < 0)
		return -1;
	_cleanup_close_ int idxfd = open_append(instance_dir, "log.idx", err);
	if (idxfd < 0)
		return -1;
	int data[2], st[2];
	if (pipe2(data, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "cannot create a pipe");
	if (pipe2(st, O_CLOEXEC) < 0) {
		int e = errno;
		close(data[0]);
		close(data[1]);
		return sbx_error_set(err, e, "cannot create a pipe");
	}
	/* Room for bursts, so that the payload seldom waits on the log. */
	(void)fcntl(data[0], F_SETPIPE_SZ, 1 << 20);
	pid_t p = fork();
	if (p < 0) {
		int e = errno;
		close(data[0]);
		close(data[1]);
		close(st[0]);
		close(st[1]);
		return sbx_error_set(err, e, "cannot fork");
	}
	if (p == 0) {
		setsid();
		int fds[] = {data[0], st[0], logfd, idxfd, keep_fd};
		keep_only(fds, ARRAY_SIZE(fds));
		capture(fds[0], fds[1], fds[2], fds[3]);
		_exit(0);
	}
	close(data[0]);
	close(st[0]);
	*out = data[1];
	*stop = st[1];
	*pid = p;
	return 0;
}

/* ---- times ---- */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* ".123" at *s: nanoseconds (digits past the ninth are dropped). */
static const char *fraction(const char *s, int64_t *ns, bool need_digit)
{
	*ns = 0;
	if (*s != '.')
		return s;
	s++;
	int64_t scale = NS_PER_S / 10;
	const char *start = s;
	for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
		*ns += (*s - '0') * scale;
	return need_digit && s == start ? NULL : s;
}

/* YYYY-MM-DD[THH:MM:SS[.F]][Z|+HH:MM|-HH:MM]: Go's RFC3339(Nano),
 * 2006-01-02T15:04:05(.999999999), 2006-01-02Z07:00 and 2006-01-02. */
static bool parse_date(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (strlen(s) < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d))
		return false;
	s += 10;
	int64_t frac = 0;
	if (*s == 'T') {
		if (strlen(s) < 9 || !digits(s + 1, 2, &h) || s[3] != ':' ||
		    !digits(s + 4, 2, &mi) || s[6] != ':' || !digits(s + 7, 2, &sec))
			return false;
		s = fraction(s + 9, &frac, true);
		if (s == NULL)
			return false;
	}
	int64_t zone = 0;
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int zh, zm;
		if (strlen(s) < 6 || !digits(s + 1, 2, &zh) || s[3] != ':' ||
		    !digits(s + 4, 2, &zm) || zh > 23 || zm > 59)
			return false;
		zone = (*s == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
		s += 6;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return false;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = sec};
	time_t t = timegm(&tm);
	if (tm.tm_mday != d || tm.tm_mon != mo - 1) /* 2024-02-30 */
		return false;
	*out = ((int64_t)t - zone) * NS_PER_S + frac;
	return true;
}

/* 1714564800 or 1714564800.25. */
static bool parse_unix(const char *s, int64_t *out)
{
	int64_t sec = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (sec > (INT64_MAX / NS_PER_S - 9) / 10)
			return false;
		sec = sec * 10 + (*p - '0');
	}
	if (p == s)
		return false;
	int64_t frac;
	p = fraction(p, &frac, false);
	if (*p)
		return false;
	*out = sec * NS_PER_S + frac;
	return true;
}

/* Go's time.ParseDuration: [+-] then NUMBER[.F]UNIT..., or "0". */
static bool parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
	    {"ns", 1},       {"us", 1000},    {"\u00b5s", 1000},    {"\u03bcs", 1000},
	    {"ms", 1000000}, {"s", NS_PER_S}, {"m", 60 * NS_PER_S}, {"h", 3600 * NS_PER_S}};
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return true;
	}
	if (*s == '\0')
		return false;
	int64_t total = 0;
	while (*s) {
		int64_t whole = 0;
		const char *start = s;
		for (; *s >= '0' && *s <= '9'; s++)
			if (__builtin_mul_overflow(whole, 10, &whole) ||
			    __builtin_add_overflow(whole, *s - '0', &whole))
				return false;
		bool had_whole = s != start;
		int64_t frac = 0, scale = 1;
		if (*s == '.') {
			const char *f = ++s;
			for (; *s >= '0' && *s <= '9'; s++)
				if (scale < NS_PER_S * 10) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
			if (s == f && !had_whole)
				return false;
		} else if (!had_whole) {
			return false;
		}
		size_t len = 0;
		int64_t unit = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].name);
			if (strncmp(s, units[i].name, l) == 0 && l > len) {
				len = l;
				unit = units[i].ns;
			}
		}
		if (unit == 0)
			return false;
		s += len;
		int64_t v;
		if (__builtin_mul_overflow(whole, unit, &v) ||
		    __builtin_add_overflow(
		        v, (int64_t)((double)frac * (double)unit / (double)scale), &v) ||
		    __builtin_add_overflow(total, v, &total))
			return false;
	}
	*out = sign * total;
	return true;
}

int logs_parse_time(const char *s, int64_t now_ns_, bool since, int64_t *out)
{
	int64_t d;
	if (parse_date(s, out) || parse_unix(s, out))
		return 0;
	if (!parse_duration(s, &d))
		return -1;
	if (since ? __builtin_sub_overflow(now_ns_, d, out)
	          : __builtin_add_overflow(now_ns_, d, out))
		return -1;
	return 0;
}

void logs_format_time(int64_t ns, char out[48])
{
	int64_t sec = ns / NS_PER_S, rest = ns % NS_PER_S;
	if (rest < 0) {
		sec--;
		rest += NS_PER_S;
	}
	/* As podman's logs -t (Go's RFC3339Nano): local time, the fraction
	 * without its trailing zeros (none at all on a whole second), and the
	 * offset as Z or +hh:mm. */
	time_t t = (time_t)sec;
	struct tm tm;
	if (localtime_r(&t, &tm) == NULL) {
		snprintf(out, 48, "%lld", (long long)sec);
		return;
	}
	size_t n = strftime(out, 48, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest) {
		char frac[16];
		snprintf(frac, sizeof(frac), ".%09lld", (long long)rest);
		for (size_t e = strlen(frac); frac[e - 1] == '0'; e--)
			frac[e - 1] = '\0';
		n += (size_t)snprintf(out + n, 48 - n, "%s", frac);
	}
	long off = tm.tm_gmtoff;
	if (off == 0) {
		snprintf(out + n, 48 - n, "Z");
	} else {
		char sign = off < 0 ? '-' : '+';
		off = off < 0 ? -off : off;
		snprintf(out + n, 48 - n, "%c%02ld:%02ld", sign, off / 3600, off / 60 % 60);
	}
}

/* ---- the index ---- */

#define NONE UINT64_MAX

static void refresh(struct logs_index *idx)
{
	struct stat st;
	if (idx->fd >= 0 && fstat(idx->fd, &st) == 0)
		idx->count = (uint64_t)st.st_size / sizeof(struct logs_record);
}

static bool record(struct logs_index *idx, uint64_t i, struct logs_record *r)
{
	if (i >= idx->count)
		refresh(idx);
	if (i >= idx->count)
		return false;
	return pread(idx->fd, r, sizeof(*r), (off_t)(i * sizeof(*r))) == (ssize_t)sizeof(*r);
}

int logs_index_open(const char *instance_dir, struct logs_index *idx, struct sbx_error **err)
{
	*idx = (struct logs_index){.fd = -1, .at = NONE};
	_cleanup_free_ char *path = xasprintf("%s/log.idx", instance_dir);
	idx->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (idx->fd < 0 && errno != ENOENT)
		return sbx_error_set(err, errno, "cannot open \"%s\"", path);
	refresh(idx);
	return 0;
}

void logs_index_close(struct logs_index *idx)
{
	if (idx->fd >= 0)
		close(idx->fd);
	idx->fd = -1;
}

void logs_index_seek(struct logs_index *idx, uint64_t off)
{
	refresh(idx);
	/* The last record at or before off. */
	uint64_t lo = 0, hi = idx->count;
	struct logs_record r;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (record(idx, mid, &r) && r.off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	idx->at = NONE;
	if (lo > 0 && record(idx, lo - 1, &idx->cur))
		idx->at = lo - 1;
}

int64_t logs_index_time(struct logs_index *idx, uint64_t off)
{
	if (idx->fd < 0)
		return 0;
	struct logs_record next;
	for (;;) {
		uint64_t i = idx->at == NONE ? 0 : idx->at + 1;
		if (!record(idx, i, &next) || next.off > off)
			break;
		idx->at = i;
		idx->cur = next;
	}
	return idx->at == NONE ? 0 : idx->cur.ns;
}

uint64_t logs_index_find(struct logs_index *idx, int64_t ns)
{
	refresh(idx);
	uint64_t lo = 0, hi = idx->count;
	struct logs_record r;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (record(idx, mid, &r) && r.ns < ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return record(idx, lo, &r) ? r.off : NONE;
}
