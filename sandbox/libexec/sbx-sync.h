/* sbx-sync.h - the messages on the socket between sbx and the sandbox's
 * first process, and between sbx and its init (sbx-init.c).
 *
 * Both ends are built from the same tree, so the layout is native. */
#ifndef SBX_SYNC_H
#define SBX_SYNC_H

enum sbx_sync_type {
	SBX_SYNC_MAPS_DONE = 1, /* parent: uid/gid maps are written */
	SBX_SYNC_CREATED,       /* child: set up, waiting for start; with -t, the pty master */
	SBX_SYNC_START,         /* parent: go */
	SBX_SYNC_ERROR,         /* child: set-up failed */
	SBX_SYNC_EXEC_FAILED,   /* child: the command could not be executed */
	SBX_SYNC_STARTED,       /* init: the payload's exec succeeded */
	SBX_SYNC_EXITED,        /* init: the payload ended; exit_code = its status */
	SBX_SYNC_FUSE,          /* child: mount the overlay; parent: the tree, or errnum */
	SBX_SYNC_HOOKS,         /* child: mounts done, run create's OCI hooks; parent: done */
	SBX_SYNC_INIT_FAILED,   /* init: its set-up failed; errnum, and text without strerror */
};

struct sbx_sync_msg {
	int type;
	int errnum;
	int exit_code;
	char text[1536];
};

/* sbx-init's command line: sbx-init PAYLOAD-PID SYNC-FD GO-FD EXEC-FD
 * [LOCKED-FD UID GID FLAGS] (numbers only: nothing of the host). Without
 * the last four it is exec'd once the sandbox said CREATED, as the payload's
 * user. With them it is exec'd as the set-up starts, as the sandbox's root,
 * while the payload's process builds the sandbox; that process writes one
 * byte to LOCKED-FD (a socket) once the mounts are locked, sbx-init joins
 * its mount namespace and answers with one byte, the process goes on to
 * take the payload's ids, and sbx-init takes UID and GID. FLAGS holds
 * SBX_INIT_WALLED when the payload's process puts itself in a Landlock layer
 * of its own before it takes them, which keeps it and its children from
 * sbx-init (landlock.h): sbx-init then installs no seccomp filter; and
 * SBX_INIT_NO_STARTED when sbx does not wait for the payload's exec (sbx
 * run, attached: an exec failure comes to its wait, from the payload's
 * process, before EXITED), and EXEC-FD is then -1. Either way it writes one byte to GO-FD once it
 * is locked down (INIT_FAILED on SYNC-FD if it could not be). The payload's process waits for that
 * byte and for sbx's START on SYNC-FD before it execs, and closes EXEC-FD (close-on-exec) when it
 * does; then sbx-init says STARTED on SYNC-FD (unless SBX_INIT_NO_STARTED), and EXITED with the
 * payload's status. */
#define SBX_INIT_NAME       "sbx-init"
#define SBX_INIT_WALLED     1
#define SBX_INIT_NO_STARTED 2

#endif
