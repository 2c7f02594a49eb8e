/* process.h - the sandbox's life: create, start, wait.
 *
 * create sets everything up and leaves the sandbox's first process waiting
 * just before exec; start releases it. `sbx run` is create + start + wait,
 * and runc's command line maps onto the same steps later. */
#ifndef SBX_PROCESS_H
#define SBX_PROCESS_H

#include "runtime/config.h"
#include "runtime/seccomp.h"
#include "lib/util.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct sbx_sandbox {
	const struct sbx_config *config;
	pid_t pid;
	int pidfd;
	int sync_fd;
	int pty;    /* master, or -1 */
	int old_ns; /* the set-up's unlocked mount namespace, dropped at start, or -1 */
	bool started;
	bool exited;         /* reaped */
	bool reported;       /* the init told the payload's status; not reaped yet */
	bool return_early;   /* process_wait may return once reported */
	bool exec_in_wait;   /* started unconfirmed: an exec failure comes to process_wait */
	bool exec_failed;    /* process_wait: the payload could not be executed */
	int status;          /* exit status once exited, as sbx run reports it */
	char overlay[256];   /* the overlay backend used, from the sandbox */
	int scratch_fd;      /* init's fd of an in-memory upper layer, or -1 */
	struct sbx_net *net; /* its network helper and files (net.c), or NULL */
	bool fuse_daemon;    /* sbx started fuse-overlayfs for it (overlay_fuse_serve) */
	sigset_t saved_mask;
	struct sbx_bpf bpf; /* the payload's seccomp program, read by its process */
	void *setup_stack;  /* the set-up process's stack (it shares sbx's memory) */
};

/* Signals sbx forwards to the payload. */
extern const int process_forwarded_signals[];
extern const size_t process_n_forwarded_signals;

/* Work of sbx's for a new sandbox, done once its set-up is done (CREATED):
 * the set-up runs in sbx's memory (process.c), and sbx waits meanwhile;
 * from CREATED on the sandbox's side makes system calls only, and its init
 * execs while the hook runs. */
struct sbx_create_hook {
	int (*fn)(void *ctx, struct sbx_error **err);
	void *ctx;
};

/* Creates the sandbox and waits until its first process is ready to exec.
 * The config must outlive the container; hook may be NULL. */
int process_create(const struct sbx_config *c, const struct sbx_create_hook *hook,
                   struct sbx_sandbox **out, struct sbx_error **err);
/* Joins the running sandbox behind target_pidfd (its first process) with
 * the config's namespaces and prepares c's process there, waiting before
 * exec like process_create; then use process_start and process_wait. The
 * calling process itself enters the sandbox's namespaces. */
int process_exec(const struct sbx_config *c, int target_pidfd, struct sbx_sandbox **out,
                 struct sbx_error **err);
/* Releases the sandbox. *exit_code is 126 or 127 (and -1 returned) when the
 * command could not be executed. hook, if any, runs first, while sbx's init
 * execs. */
int process_start(struct sbx_sandbox *ct, const struct sbx_create_hook *hook, int *exit_code,
                  struct sbx_error **err);
/* Forwards signals and, with a terminal, proxies it until the payload
 * exits. Returns its status: the exit code, or 128+N for signal N; -1 with
 * exec_failed, *status 126 or 127 (125 for sbx's init), when a start left
 * unconfirmed (config.exec_in_wait) turned out to fail. With
 * return_early it may return once sbx's init has told the status, while the
 * kernel still tears the sandbox down: process_destroy then waits for that. */
int process_wait(struct sbx_sandbox *ct, bool attach_stdin, int *status, struct sbx_error **err);
/* Lets go of a created or started sandbox without killing it (OCI runtime
 * mode, config.outlive_parent): closes sbx's ends and frees the handle. Its
 * processes still run on this process's memory until their exec, so the
 * caller frees nothing the sandbox reads (the config) and exits soon. */
void process_release(struct sbx_sandbox *ct);
/* Kills what is left and frees. */
void process_destroy(struct sbx_sandbox *ct);
static inline void process_destroyp(struct sbx_sandbox **ct)
{
	process_destroy(*ct);
}
#define _cleanup_sandbox_ _cleanup_(process_destroyp)

#endif
