/* lifecycle.h - a container's life: create, start, wait, and, by name from
 * any process, state, kill, stop and delete. `sbx run` is new + create +
 * start + wait; `sbx start NAME` is open + the same; `run -d` and `start`
 * hand create, start and wait to a detached monitor. Nothing here prints or
 * exits: every failure comes back as a struct sbx_error for the caller (the
 * command line) to print once.
 *
 * Who owns what. A container is an instance of the store (store/instance.h:
 * its directory, upper layer and config.json) plus its live state
 * (store/state.h: $XDG_RUNTIME_DIR/sbx/NAME/state.json and the instance
 * lock). The process that runs a container holds the instance lock for the
 * whole run, so "locked" is "running", and the kernel drops the lock when
 * that process dies, however it dies. Everything a second process needs is
 * therefore found by name: lifecycle_state, lifecycle_kill, lifecycle_stop,
 * lifecycle_delete and lifecycle_exec take a name, never a handle, and work
 * from any process of the same user.
 *
 * A handle (struct lifecycle) is the lock holder's view: the instance, its
 * lock and, once created, the sandbox. create, start and wait act on it, in
 * the process that made it (start writes to the sandbox's sync socket,
 * which only the creating process holds). The OCI runtime mode (`sbx-oci
 * create ID` then `start ID` from another process) needs the created
 * sandbox to outlive the process that created it: it will keep the lock
 * in a monitor, as lifecycle_detach does, and release the blocked init
 * through a fifo in the state directory, so that `start` becomes a by-name
 * call like the others. Nothing below assumes that one process creates,
 * starts and waits: only that the lock holder creates. */
#ifndef SBX_LIFECYCLE_H
#define SBX_LIFECYCLE_H

#include "store/instance.h"
#include "lib/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* What the library has to say besides errors; every callback may be NULL. */
struct lifecycle_notify {
	/* Verbose detail for a curious user, e.g. "overlay: kernel (...)". */
	void (*info)(void *ctx, const char *msg);
	/* An error that has no caller to return to: a detached monitor's,
	 * after the payload started (its stderr is the instance's log). */
	void (*error)(void *ctx, const struct sbx_error *err);
	void *ctx;
};

struct lifecycle_opts {
	bool rm;           /* delete the instance when it ends (sbx run --rm) */
	bool attach_stdin; /* wait: with a terminal, forward standard input */
	bool exec_in_wait; /* the caller waits at once (sbx run, attached): start does not
	                    * wait for the payload's exec, and wait reports its failure */
	struct lifecycle_notify notify;
};

/* A container held by this process: opaque. */
struct lifecycle;

/* A new instance, NAME or a free generated name, locked and empty. Its
 * upper layer is in memory (ephemeral) or on disk. If nothing ever started
 * in it, lifecycle_free removes it again. */
int lifecycle_new(const char *name, bool ephemeral, const struct lifecycle_opts *opts,
                  struct lifecycle **out, struct sbx_error **err);
/* A stored instance that is not running, locked, with the config.json it
 * was created with: `sbx start NAME`. Fails with EBUSY when it runs, and
 * with ENOTSUP when it ran with --rm in memory (its changes are gone). It
 * is kept when it fails to start. */
int lifecycle_open(const char *name, const struct lifecycle_opts *opts, struct lifecycle **out,
                   struct sbx_error **err);
/* The instance behind the handle: its name and paths, for building its
 * config. */
const struct sbx_instance *lifecycle_instance(const struct lifecycle *lc);

/* fd (-1: none) is closed by lifecycle_create once the instance is recorded
 * (config.json, instance.json), in the process that creates it (a detached
 * run's monitor), or when the handle goes: for the image store's lock,
 * held shared while an instance of an image is made (store/image-lock.h),
 * and not while the payload runs. */
void lifecycle_hold(struct lifecycle *lc, int fd);

/* Sets the sandbox up and leaves its first process waiting just before
 * exec. config is the OCI config to run (kept by the caller until
 * lifecycle_free), or NULL for the stored one (lifecycle_open); with meta
 * (instance.json) both are recorded in the instance while the sandbox sets
 * itself up, and config is then trusted as sbx's own (config_parse_built). */
int lifecycle_create(struct lifecycle *lc, json_t *config, json_t *meta, struct sbx_error **err);
/* Releases the created sandbox and records it as running (state.json:
 * pid, start time). When the command cannot be executed, *exit_code is 126
 * or 127 (125 for anything else) and -1 is returned. */
int lifecycle_start(struct lifecycle *lc, int *exit_code, struct sbx_error **err);
/* Waits for the payload, forwarding signals and proxying the terminal,
 * and records how it ended. *status is its exit code, or 128+N for signal
 * N; with opts.rm the instance is deleted (while the kernel still tears an
 * in-memory one down). On error *status is 125. */
int lifecycle_wait(struct lifecycle *lc, int *status, struct sbx_error **err);
/* create + start + wait in a monitor: a child in its own session whose
 * output is the instance's log, which takes over the lock. Returns 0 once
 * the payload runs; -1 with the monitor's error and *exit_code (125, 126 or
 * 127) when it did not start. The handle keeps no lock afterwards. */
int lifecycle_detach(struct lifecycle *lc, json_t *config, json_t *meta, int *exit_code,
                     struct sbx_error **err);
/* Lets go of the handle: deletes the instance if opts.rm was given or a
 * new one never started, kills whatever is left of its sandbox, drops the
 * lock. */
void lifecycle_free(struct lifecycle *lc);
static inline void lifecycle_freep(struct lifecycle **lc)
{
	lifecycle_free(*lc);
}
#define _cleanup_lifecycle_ _cleanup_(lifecycle_freep)

/* ---- by name, from any process ---- */

struct lifecycle_status {
	bool running;   /* someone holds the instance lock */
	pid_t pid;      /* running: the sandbox's first process on the host; else 0 */
	bool has_exit;  /* stopped after a run: exit_code says how it ended */
	int exit_code;  /* the payload's status, or 128+N for signal N */
	char *started;  /* RFC 3339, or NULL */
	char *finished; /* RFC 3339, or NULL */
	char *overlay;  /* the overlay backend used and why, or NULL */
};
void lifecycle_status_clear(struct lifecycle_status *s);

/* The instance's state: the lock decides running; state.json adds the rest. */
int lifecycle_state(const char *name, struct lifecycle_status *out, struct sbx_error **err);
/* Sends sig to the sandbox's first process, pinned by a pidfd so that a
 * reused pid is never signalled. ESRCH when it is not running. */
int lifecycle_kill(const char *name, int sig, struct sbx_error **err);
/* SIGTERM, then SIGKILL after timeout seconds; returns once the runner let
 * go of the lock, so the recorded state is final. A stopped instance is
 * stopped already: 0. */
int lifecycle_stop(const char *name, int timeout, struct sbx_error **err);
/* Removes the instance and its state. A running one is refused (EBUSY)
 * unless force, which kills it first and waits for its runner. Files the
 * sandbox left to subordinate ids are removed as root of its id maps. */
int lifecycle_delete(const char *name, bool force, struct sbx_error **err);

/* A process to run in a running container (sbx exec): NULL fields keep
 * what the container's config says. */
struct lifecycle_exec {
	char *const *args;
	char *const *env; /* KEY=VALUE, each replacing the config's KEY */
	const char *cwd;
	bool terminal;
	bool attach_stdin;
};
/* Runs x in the running container NAME, with the namespaces, user,
 * capabilities and seccomp of its recorded config, and waits for it.
 * The calling process enters the container's namespaces. *status as for
 * lifecycle_wait (126 or 127 when it could not be executed). */
int lifecycle_exec(const char *name, const struct lifecycle_exec *x, int *status,
                   struct sbx_error **err);

/* "TERM", "SIGTERM", "sigterm" or "15". */
int lifecycle_parse_signal(const char *s, int *sig);

#endif
