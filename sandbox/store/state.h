/* state.h - live state of instances: who runs them, and the lock that says so.
 *
 * The process that runs an instance (sbx run, or the monitor of a detached
 * one) holds an exclusive flock on the instance directory for the whole run.
 * The kernel drops it when that process dies, even by SIGKILL, so "locked"
 * is the truth about "running", and pid files can never lie about it. */
#ifndef SBX_STATE_H
#define SBX_STATE_H

#include "lib/util.h"

#include <stdbool.h>
#include <sys/types.h>

struct sbx_state {
	char *status;                 /* "running" or "stopped" */
	pid_t pid;                    /* the sandbox's first process, on the host */
	unsigned long long starttime; /* its start time, from /proc/PID/stat */
	pid_t monitor;                /* the sbx process holding the lock */
	int exit_code;                /* valid when has_exit */
	bool has_exit;
	char *started, *finished; /* RFC 3339, may be NULL */
	char *overlay;            /* backend used, and why */
	int scratch_fd;           /* >= 0: the in-memory upper layer, as an fd of pid */
};

void state_free(struct sbx_state *s);
static inline void state_freep(struct sbx_state **s)
{
	state_free(*s);
}
#define _cleanup_state_ _cleanup_(state_freep)

/* $XDG_RUNTIME_DIR/sbx/NAME (created, 0700). */
int state_dir(const char *name, bool create, char **out, struct sbx_error **err);
/* Takes the instance lock (exclusive). Without wait, a held lock fails with
 * code EBUSY and a message saying the instance is running. */
int state_lock(const char *instance_dir, bool wait, int *fd, struct sbx_error **err);
/* Whether some process holds the instance lock right now. */
int state_is_running(const char *instance_dir, bool *running, struct sbx_error **err);
int state_write(const char *name, const struct sbx_state *s, struct sbx_error **err);
/* state_write into the state directory's fd (an ephemeral instance's own,
 * instance_dirfd), with no lookup of it. */
int state_write_at(int dfd, const struct sbx_state *s, struct sbx_error **err);
/* Missing state is not an error: *out is a "stopped" state then. */
int state_read(const char *name, struct sbx_state **out, struct sbx_error **err);
/* A pidfd for the recorded pid, only if it is still the same process. */
int state_pidfd(const struct sbx_state *s, int *pidfd, struct sbx_error **err);
/* Field 22 of /proc/PID/stat. */
int state_starttime(pid_t pid, unsigned long long *out);
void state_now(char out[32]);
/* The same with nanoseconds, RFC 3339 as runc's logs and the OCI state
 * have it: 2026-12-06T06:15:09.123456789Z. */
void state_now_ns(char out[48]);
/* T as "YYYY-MM-DDTHH:MM:SSZ" (years 0-9999), without the time zone. */
void state_format_utc(time_t t, char out[32]);

#endif
