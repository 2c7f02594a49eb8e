/* oci-runtime.h - sbx as an OCI runtime: runc's verbs on bundles that sbx did
 * not make (sbx-oci, cli/cmd-oci.c).
 *
 * A container is a directory ROOT/ID (ROOT is --root: $XDG_RUNTIME_DIR/sbx-oci
 * or /run/sbx-oci) holding state.json (what `state` needs besides the status)
 * and, from create to start, exec.fifo. Nothing holds a lock while it runs:
 * unlike `sbx run`, the caller owns the container's life. The status is
 * read from the kernel each time: "created" while its init lives and the
 * fifo is there, "running" while it lives after that, "stopped" once the
 * recorded pid is gone, a zombie, or another process (its start time
 * differs).
 *
 * create clones the sandbox as `sbx run` does (runtime/process.c), with two
 * differences set in its config: no parent-death signal, and the init
 * blocks opening exec.fifo for writing instead of waiting on the sync
 * socket. create then exits: the init is orphaned, and a subreaper (conmon,
 * the containerd shim) inherits it and reaps its exit status. start opens
 * the fifo for reading, which releases the init. */
#ifndef SBX_OCI_RUNTIME_H
#define SBX_OCI_RUNTIME_H

#include "lib/util.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup-live.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* The runtime-spec version sbx implements, as `--version` and `state` say. */
#define OCI_RUNTIME_SPEC_VERSION "1.0.2"

struct oci_create_opts {
	const char *root; /* --root */
	const char *id;
	const char *bundle;               /* the bundle's directory (absolute or relative) */
	const char *pid_file;             /* or NULL */
	const char *console_socket;       /* or NULL */
	unsigned preserve_fds;            /* --preserve-fds: fds 3 to 3+N-1 pass to the payload */
	enum cgroup_driver cgroup_driver; /* --systemd-cgroup, --cgroup-manager */
};

/* Where warnings go (a failed poststop hook): set by the caller; none
 * by default. */
void oci_set_warn(void (*fn)(const char *msg));

/* The default --root of the calling user. */
int oci_default_root(char **out, struct sbx_error **err);

/* create: sets the container up and leaves its init blocked until start.
 * Returns 0 in the process that called it; the container outlives it.
 * The prestart, createRuntime and createContainer hooks run before the
 * root is pivoted; when one fails, the container is torn down (poststop
 * hooks run) and nothing is left in root. With LISTEN_FDS in the
 * environment, that many fds from 3 on pass to the payload too, before
 * the preserved ones, and its env says so (socket activation). */
int oci_create(const struct oci_create_opts *o, struct sbx_error **err);
/* start: releases a created container's init, which runs the
 * startContainer hooks before its exec; returns once it exec'd, after the
 * poststart hooks. A failing hook stops the container and fails start. */
int oci_start(const char *root, const char *id, struct sbx_error **err);
/* run: create + start. Detached, returns once the payload runs (*status 0);
 * else waits, forwarding signals, deletes the container and sets *status
 * to the payload's (128+N for signal N; 126 or 127 when it could not be
 * executed, with -1 and *err). */
int oci_run(const struct oci_create_opts *o, bool detach, int *status, struct sbx_error **err);

struct oci_exec_opts {
	const char *root;
	const char *id;
	json_t *process;        /* --process: a process.json, or NULL */
	char *const *args;      /* the command, or NULL (with process) */
	char *const *env;       /* KEY=VALUE, each replacing KEY */
	const char *cwd;        /* or NULL */
	bool user_set, gid_set; /* --user UID[:GID] */
	unsigned uid, gid;
	bool tty;                   /* -t: process.terminal */
	bool no_new_privs;          /* --no-new-privs */
	const char *console_socket; /* or NULL */
	const char *pid_file;       /* or NULL */
	bool detach;
	unsigned preserve_fds; /* --preserve-fds: fds 3 to 3+N-1 pass on */
};
/* exec: runs a process in a created or running container, with its
 * recorded config's namespaces, seccomp, Landlock and user namespace;
 * process.json may narrow its capabilities, never widen them. Detached,
 * returns once the process runs (*status 0), which a subreaper (conmon)
 * inherits; else waits and sets *status as run does (126 or 127 when it
 * could not be executed, with -1 and *err). */
int oci_exec(const struct oci_exec_opts *o, int *status, struct sbx_error **err);

/* The runtime-spec state of one container, or ENOENT. */
int oci_state(const char *root, const char *id, json_t **out, struct sbx_error **err);
/* Every container's state, with "created" (RFC 3339) and "owner" added,
 * sorted by id. */
int oci_list(const char *root, json_t **out, struct sbx_error **err);
/* The host pids of the container's processes (every process of its pid
 * namespace), as a JSON array; a stopped container is refused (ESRCH). */
int oci_ps(const char *root, const char *id, json_t **out, struct sbx_error **err);
/* Sends sig to the container's init; with all, to every process of its pid
 * namespace. A stopped container is refused (ESRCH). */
int oci_kill(const char *root, const char *id, int sig, bool all, struct sbx_error **err);
/* Removes a stopped container; force kills a live one first. Then the
 * poststop hooks run: a failing one is a warning. */
int oci_delete(const char *root, const char *id, bool force, struct sbx_error **err);

/* pause (freeze) and resume (thaw): every process of the container, through
 * its cgroup's freezer. A container without a cgroup of its own (rootless
 * without a delegated cgroup v2 subtree) is refused, saying so. */
int oci_pause(const char *root, const char *id, bool freeze, struct sbx_error **err);
/* update: new limits for the container's cgroup (the same refusal). */
int oci_update(const char *root, const char *id, const struct sbx_resources *r,
               struct sbx_error **err);

/* `spec`: runc's default config.json for a rootfs/ beside it. */
json_t *oci_spec_default(bool rootless);
/* `features`: what this runtime supports (runtime-spec features.md). */
json_t *oci_features(void);

#endif
