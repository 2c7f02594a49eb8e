/* process.h - the sandbox's life: create, start, wait.
 *
 * create sets everything up and leaves the sandbox's first process waiting
 * just before exec; start releases it. `sbx run` is create + start + wait,
 * and runc's command line maps onto the same steps later. */
#ifndef SBX_PROCESS_H
#define SBX_PROCESS_H

#include "config.h"
#include "sbx-sync.h"
#include "seccomp.h"
#include "util.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct sbx_container {
	const struct sbx_config *config;
	pid_t pid;
	int pidfd;
	int sync_fd;
	int pty; /* master, or -1 */
	bool started;
	bool exited;         /* reaped */
	bool reported;       /* the init told the payload's status; not reaped yet */
	bool return_early;   /* process_wait may return once reported */
	int status;          /* exit status once exited, as sbx run reports it */
	char overlay[256];   /* the overlay backend used, from the sandbox */
	int scratch_fd;      /* init's fd of an in-memory upper layer, or -1 */
	struct sbx_net *net; /* its network helper and files (net.c), or NULL */
	bool fuse_daemon;    /* sbx started fuse-overlayfs for it (overlay_fuse_serve) */
	sigset_t saved_mask;
};

/* Signals sbx forwards to the payload. */
extern const int process_forwarded_signals[];
extern const size_t process_n_forwarded_signals;

/* Work for sbx while the sandbox sets itself up (the two run in parallel):
 * called once the sandbox's maps are written and it went on. */
struct sbx_create_hook {
	int (*fn)(void *ctx, struct sbx_error **err);
	void *ctx;
};

/* Creates the sandbox and waits until its first process is ready to exec.
 * The config must outlive the container; hook may be NULL. */
int process_create(const struct sbx_config *c, const struct sbx_create_hook *hook,
                   struct sbx_container **out, struct sbx_error **err);
/* Joins the running sandbox behind target_pidfd (its first process) with
 * the config's namespaces and prepares c's process there, waiting before
 * exec like process_create; then use process_start and process_wait. The
 * calling process itself enters the sandbox's namespaces. */
int process_exec(const struct sbx_config *c, int target_pidfd, struct sbx_container **out,
                 struct sbx_error **err);
/* Releases the sandbox. *exit_code is 126 or 127 (and -1 returned) when the
 * command could not be executed. hook, if any, runs while it starts. */
int process_start(struct sbx_container *ct, const struct sbx_create_hook *hook, int *exit_code,
                  struct sbx_error **err);
/* Forwards signals and, with a terminal, proxies it until the payload
 * exits. Returns its status: the exit code, or 128+N for signal N. With
 * return_early it may return once sbx's init has told the status, while the
 * kernel still tears the sandbox down: process_destroy then waits for that. */
int process_wait(struct sbx_container *ct, bool attach_stdin, int *status, struct sbx_error **err);
/* Kills what is left and frees. */
void process_destroy(struct sbx_container *ct);
static inline void process_destroyp(struct sbx_container **ct)
{
	process_destroy(*ct);
}
#define _cleanup_container_ _cleanup_(process_destroyp)

/* The sandbox side (container.c): never returns. The seccomp program, if
 * any, arrives over sync_fd while the sandbox sets itself up. init_path is
 * sbx-init's, with --init. */
_Noreturn void container_main(const struct sbx_config *c, const char *init_path, int sync_fd);

_Noreturn void container_join_main(const struct sbx_config *c, const struct sbx_bpf *bpf,
                                   int sync_fd);

/* The sandbox side, once set up: back on sbx's CPUs (process_create ran
 * the set-up on another one than sbx's). */
void process_unspread(void);

/* The seccomp program over the sync socket (SBX_SYNC_SECCOMP). */
int sync_send_bpf(int fd, const struct sbx_bpf *bpf);
int sync_recv_bpf(int fd, const struct sbx_sync_msg *m, struct sbx_bpf *bpf);

/* Message helpers shared by both sides: one message, with pass_fd or up to
 * FDPASS_MAX fds. The receivers return 1 with a message, 0 at EOF, -1. */
int sync_send(int fd, int type, int errnum, int exit_code, const char *text, int pass_fd);
int sync_send_fds(int fd, int type, int errnum, int exit_code, const char *text, const int *fds,
                  size_t nfds);
int sync_recv(int fd, struct sbx_sync_msg *m, int *passed_fd);
int sync_recv_fds(int fd, struct sbx_sync_msg *m, int *fds, size_t max, size_t *nfds);

#endif
