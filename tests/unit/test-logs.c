/* test-logs.c - the times --since and --until take (podman's forms), their
 * RFC 3339 output, and the index of a log read back: a line's time is its
 * record's, the search finds the first record at or after a time. */
#define _GNU_SOURCE
#include "lifecycle/logs.h"
#include "lib/util.h"
#include "tap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S 1000000000LL

static int64_t parsed(const char *s, bool since)
{
	int64_t t = -42;
	if (logs_parse_time(s, 1000 * S, since, &t) < 0)
		return -1;
	return t;
}

static void test_parse(void)
{
	/* 2024-05-01T12:00:00Z is 1714564800. */
	ok(parsed("2024-05-01T12:00:00Z", true) == 1714564800 * S, "RFC 3339");
	ok(parsed("2024-05-01T12:00:00.25Z", true) == 1714564800 * S + S / 4, "with a fraction");
	ok(parsed("2024-05-01T12:00:00.123456789123Z", true) == 1714564800 * S + 123456789,
	   "digits past nanoseconds dropped");
	ok(parsed("2024-05-01T14:30:00+02:30", true) == 1714564800 * S, "an offset east");
	ok(parsed("2024-05-01T09:00:00-03:00", true) == 1714564800 * S, "an offset west");
	ok(parsed("2024-05-01T12:00:00", true) == 1714564800 * S, "no zone: UTC");
	ok(parsed("2024-05-01", true) == 1714521600 * S, "a date");
	ok(parsed("2024-05-01+01:00", true) == (1714521600 - 3600) * S, "a date with a zone");
	ok(parsed("1714564800", true) == 1714564800 * S, "a Unix time");
	ok(parsed("1714564800.5", true) == 1714564800 * S + S / 2, "a Unix time with a fraction");
	ok(parsed("10m", true) == 400 * S, "a duration counts back for --since");
	ok(parsed("10m", false) == 1600 * S, "and forward for --until, as podman's");
	ok(parsed("1h30m", true) == (1000 - 5400) * S, "1h30m");
	ok(parsed("1.5s", true) == 1000 * S - 3 * S / 2, "1.5s");
	ok(parsed("-2s", true) == 1002 * S, "a negative duration");
	ok(parsed("300ms", true) == 1000 * S - 300000000, "ms");
	ok(parsed("7us", true) == 1000 * S - 7000, "us");
	ok(parsed("7\u00b5s", true) == 1000 * S - 7000, "\u00b5s");
	ok(parsed("9ns", true) == 1000 * S - 9, "ns");
	ok(parsed(".5s", true) == 1000 * S - S / 2, ".5s");
	const char *bad[] = {"",
	                     "bogus",
	                     "10",
	                     "10x",
	                     "m",
	                     "2024-13-01",
	                     "2024-02-30",
	                     "2024-05-01T25:00:00Z",
	                     "2024-05-01T12:00Z",
	                     "2024-05-01T12:00:00.Z",
	                     "1714564800.5.1",
	                     "1.2.3s",
	                     "99999999999999999999h",
	                     "2024-05-01T12:00:00+2:00",
	                     "2024-05-01 12:00:00",
	                     "-",
	                     "s"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t t;
		/* "10" is a Unix time, not a duration. */
		if (strcmp(bad[i], "10") == 0) {
			ok(logs_parse_time(bad[i], 0, true, &t) == 0 && t == 10 * S,
			   "10: a Unix time");
			continue;
		}
		ok(logs_parse_time(bad[i], 0, true, &t) < 0, "refused: \"%s\"", bad[i]);
	}
}

static void test_format(void)
{
	char out[48];
	/* As podman's logs -t: local time, Go's RFC3339Nano. */
	setenv("TZ", "UTC0", 1);
	tzset();
	logs_format_time(1714564800 * S + 5, out);
	is_str(out, "2024-05-01T12:00:00.000000005Z", "UTC: Z, nanoseconds");
	logs_format_time(1714564800 * S + 120000000, out);
	is_str(out, "2024-05-01T12:00:00.12Z", "the fraction without trailing zeros");
	logs_format_time(0, out);
	is_str(out, "1970-01-01T00:00:00Z", "the epoch: a whole second has no fraction");
	setenv("TZ", "IST-5:30", 1);
	tzset();
	logs_format_time(1714564800 * S + 123456789, out);
	is_str(out, "2024-05-01T17:30:00.123456789+05:30", "east of UTC: local time, +hh:mm");
	setenv("TZ", "BRT3", 1);
	tzset();
	logs_format_time(1714564800 * S + 500000000, out);
	is_str(out, "2024-05-01T09:00:00.5-03:00", "west of UTC: -hh:mm");
	unsetenv("TZ");
	tzset();
}

static void test_index(void)
{
	char tmpl[] = "/tmp/sbx-test-logs-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		abort();
	struct sbx_error *err = NULL;
	struct logs_index idx;
	ok(logs_index_open(tmpl, &idx, &err) == 0, "no index: opened");
	ok(logs_index_time(&idx, 5) == 0, "no index: every time is 0");
	ok(logs_index_find(&idx, 1) == UINT64_MAX, "no index: no record");
	logs_index_close(&idx);

	char *path = xasprintf("%s/log.idx", tmpl);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	struct logs_record r[] = {{10, 100}, {20, 200}, {35, 300}};
	ok(write(fd, r, sizeof(r)) == (ssize_t)sizeof(r), "index written");
	ok(logs_index_open(tmpl, &idx, &err) == 0, "opened");
	ok(logs_index_time(&idx, 0) == 0, "before the first record: 0");
	ok(logs_index_time(&idx, 10) == 100, "at a record");
	ok(logs_index_time(&idx, 19) == 100, "under it");
	ok(logs_index_time(&idx, 36) == 300, "under the last");
	ok(logs_index_find(&idx, 150) == 20, "find: the first record at or after");
	ok(logs_index_find(&idx, 200) == 20, "find: at");
	ok(logs_index_find(&idx, 301) == UINT64_MAX, "find: none after");
	logs_index_seek(&idx, 25);
	ok(logs_index_time(&idx, 25) == 200, "seek back");
	/* A record appended while it is read (logs -f), and half of one. */
	struct logs_record more = {50, 400};
	ok(write(fd, &more, sizeof(more)) == (ssize_t)sizeof(more) && write(fd, &more, 7) == 7,
	   "appended");
	ok(logs_index_time(&idx, 60) == 400, "a new record is read");
	ok(logs_index_find(&idx, 401) == UINT64_MAX, "a torn record is not");
	logs_index_close(&idx);
	close(fd);
	unlink(path);
	rmdir(tmpl);
	free(path);
}

int main(void)
{
	test_parse();
	test_format();
	test_index();
	return done_testing();
}
