/* logs.h - a detached instance's log, with the time of every line.
 *
 * INSTANCE/log holds the payload's output byte for byte, as `sbx logs`
 * prints it. A capture process forked by the monitor sits between the
 * payload and that file: it reads the payload's stdout and stderr from a
 * pipe and appends what it read to the log, and, before the bytes,
 * appends a record (offset, time) to INSTANCE/log.idx. Records are fixed
 * size and written at most once a millisecond, so the index stays small
 * whatever the payload writes, with or without newlines; a line's time is
 * that of the record its first byte falls under: the time it was read,
 * to the millisecond. Nothing here prints or exits. */
#ifndef SBX_LIFECYCLE_LOGS_H
#define SBX_LIFECYCLE_LOGS_H

#include "lib/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One record of log.idx: from byte `off` of the log on, the bytes were
 * read at `ns` (nanoseconds since the epoch, UTC) or later. */
struct logs_record {
	uint64_t off;
	int64_t ns;
};

/* Starts the capture process for the log and log.idx in instance_dir (both
 * opened for appending, created 0600). keep_fd (the instance lock) stays
 * open in it, so that the instance counts as running until every byte is
 * in the log; every other descriptor is closed in it. Returns the pipe's write end in
 * *out (to become the payload's stdout and stderr) and *stop: close it
 * once the payload is gone, and the capture process copies what is left in
 * the pipe and exits; then reap *pid. */
int logs_capture_spawn(const char *instance_dir, int keep_fd, int *out, int *stop, pid_t *pid,
                       struct sbx_error **err);

/* s as a time, the way podman reads --since and --until: RFC 3339
 * (2024-05-01T12:00:00Z, with a fraction and an offset if wanted), the
 * same without a zone or only a date (UTC), a Unix time (1714564800 or
 * 1714564800.25) or a Go duration (10m, 1h30m, 1.5s, -2h; units h m s ms
 * us ns) counted back from now_ns for since and forward for until. */
int logs_parse_time(const char *s, int64_t now_ns, bool since, int64_t *out);

/* The time as podman's logs -t prints it: RFC 3339 in the local time zone,
 * nanoseconds without their trailing zeros: 2026-12-06T07:15:09.12345+01:00,
 * 2026-12-06T06:15:09Z in UTC. */
void logs_format_time(int64_t ns, char out[48]);

/* A reader of log.idx, moving forward through it. The file may grow while
 * it is read (logs -f): new records are read when asked for. A log written
 * before log.idx existed, or bytes before its first record, have time 0. */
struct logs_index {
	int fd;         /* -1: no index, every time is 0 */
	uint64_t count; /* records in the file when last looked */
	uint64_t at;    /* the record the cursor is on; count = none yet */
	struct logs_record cur;
};

int logs_index_open(const char *instance_dir, struct logs_index *idx, struct sbx_error **err);
void logs_index_close(struct logs_index *idx);
/* The time of byte off, moving the cursor forward to it (off must not go
 * back between calls, except after logs_index_seek). */
int64_t logs_index_time(struct logs_index *idx, uint64_t off);
/* The cursor on the record byte off falls under. */
void logs_index_seek(struct logs_index *idx, uint64_t off);
/* The offset of the first record written at or after ns, or UINT64_MAX. */
uint64_t logs_index_find(struct logs_index *idx, int64_t ns);

#endif
