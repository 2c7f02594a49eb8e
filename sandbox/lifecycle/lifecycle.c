/* lifecycle.c - create, start, wait and the detached monitor, on a handle
 * that holds the instance lock; state, kill, stop, delete and exec by name. */
#define _GNU_SOURCE
#include "lifecycle/lifecycle.h"
#include "lifecycle/logs.h"
#include "runtime/config.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/userns.h"
#include "store/image-lock.h"
#include "store/state.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

struct lifecycle {
	struct sbx_instance *inst;
	struct lifecycle_opts opts;
	int lockfd;        /* the instance lock, or -1 once handed to a monitor */
	bool keep_on_fail; /* a stored instance stays when nothing could start */
	json_t *stored;    /* lifecycle_open's config.json */
	json_t *config;    /* what lifecycle_create runs (the caller's or stored) */
	json_t *meta;      /* instance.json to record, or NULL */
	struct sbx_config *cfg;
	struct sbx_sandbox *ct;
	struct sbx_state st; /* what state.json says while it runs and after */
	char started_at[32], finished_at[32];
	bool started;  /* the payload was released */
	bool cleaned;  /* cleanup ran: the instance is gone if it had to go */
	int report_fd; /* in a monitor: where "0" or "CODE MESSAGE" goes, or -1 */
	int hold_fd;   /* lifecycle_hold's, or -1 */
};

static void info(const struct lifecycle *lc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void info(const struct lifecycle *lc, const char *fmt, ...)
{
	if (lc->opts.notify.info == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	lc->opts.notify.info(lc->opts.notify.ctx, msg);
}

/* $XDG_RUNTIME_DIR/sbx/NAME, the live state of a kept instance. (An
 * ephemeral instance's directory was its state directory.) */
static void forget_state(const char *name)
{
	_cleanup_free_ char *sdir = NULL;
	if (state_dir(name, false, &sdir, NULL) < 0)
		return;
	_cleanup_free_ char *f = xasprintf("%s/state.json", sdir);
	unlink(f);
	rmdir(sdir);
}

static struct lifecycle *handle(struct sbx_instance *inst, const struct lifecycle_opts *opts,
                                int lockfd)
{
	struct lifecycle *lc = xcalloc(1, sizeof(*lc));
	lc->inst = inst;
	lc->opts = opts ? *opts : (struct lifecycle_opts){0};
	lc->lockfd = lockfd;
	lc->report_fd = -1;
	lc->hold_fd = -1;
	lc->st.scratch_fd = -1;
	return lc;
}

int lifecycle_new(const char *name, bool ephemeral, const struct lifecycle_opts *opts,
                  struct lifecycle **out, struct sbx_error **err)
{
	struct sbx_instance *inst = NULL;
	if (instance_create(name, ephemeral, &inst, err) < 0)
		return -1;
	/* The instance lock, held since before the directory had its name. */
	int lockfd = steal_fd(inst->lockfd);
	*out = handle(inst, opts, lockfd);
	sbx_trace("instance %s created", inst->name);
	return 0;
}

int lifecycle_open(const char *name, const struct lifecycle_opts *opts, struct lifecycle **out,
                   struct sbx_error **err)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(name, &inst, err) < 0)
		return -1;
	_cleanup_close_ int lockfd = -1;
	if (state_lock(inst->dir, false, &lockfd, err) < 0) {
		if ((*err)->code == EBUSY)
			sbx_error_prefix(err, "cannot start");
		return -1;
	}
	/* Left behind by a killed `run --rm`: its changes are gone. */
	if (inst->ephemeral)
		return sbx_error_setc(err, ENOTSUP,
		                      "instance \"%s\" ran with --rm and its changes were in "
		                      "memory; remove it with 'sbx rm %s'",
		                      inst->name, inst->name);
	/* The image store's lock, shared until the sandbox is created: a pull
	 * that replaces the instance's image points its config.json at the
	 * old image's new name while no instance starts (image-lock.h). */
	_cleanup_close_ int image_lock = image_lock_store(false, false, err);
	if (image_lock == -1)
		return -1;
	/* The config is sbx's own file, out of the sandbox's reach. */
	_cleanup_free_ char *path = xasprintf("%s/config.json", inst->dir);
	json_t *config = NULL;
	if (config_load_file(path, &config, err) < 0)
		return -1;
	struct lifecycle *lc = handle(steal_ptr(inst), opts, steal_fd(lockfd));
	if (image_lock >= 0)
		lc->hold_fd = steal_fd(image_lock);
	lc->keep_on_fail = true;
	lc->stored = config;
	*out = lc;
	return 0;
}

const struct sbx_instance *lifecycle_instance(const struct lifecycle *lc)
{
	return lc->inst;
}

void lifecycle_hold(struct lifecycle *lc, int fd)
{
	if (lc->hold_fd >= 0)
		close(lc->hold_fd);
	lc->hold_fd = fd;
}

static void release_hold(struct lifecycle *lc)
{
	if (lc->hold_fd >= 0)
		close(lc->hold_fd);
	lc->hold_fd = -1;
}

/* Removes what has to go once the payload ended or never started: an
 * instance run with rm, or a new one that nothing ran in. */
static void cleanup(struct lifecycle *lc)
{
	if (lc->cleaned)
		return;
	lc->cleaned = true;
	if (lc->opts.rm || (!lc->started && !lc->keep_on_fail)) {
		_cleanup_error_ struct sbx_error *err = NULL;
		if (instance_remove(lc->inst, &err) < 0 && lc->opts.notify.error)
			lc->opts.notify.error(lc->opts.notify.ctx, err);
		if (!lc->inst->ephemeral)
			forget_state(lc->inst->name);
	}
	if (lc->lockfd >= 0)
		close(lc->lockfd);
	lc->lockfd = -1;
	release_hold(lc);
	sbx_trace("cleaned up");
}

/* A new instance's files, written while its sandbox's init execs. */
static int record_instance(void *ctx, struct sbx_error **err)
{
	struct lifecycle *lc = ctx;
	/* The policy the run compiled from its cache, written out in full,
	 * its text from the same cache. */
	_cleanup_free_ char *cache = seccomp_cache_dir();
	size_t len = 0;
	_cleanup_free_ char *text = seccomp_config_text(lc->config, cache, &len, err);
	if (text == NULL || instance_write_config_text(lc->inst, text, len, err) < 0 ||
	    instance_write_meta(lc->inst, lc->meta, err) < 0)
		return -1;
	sbx_trace("instance recorded");
	return 0;
}

int lifecycle_create(struct lifecycle *lc, json_t *config, json_t *meta, struct sbx_error **err)
{
	if (lc->ct || lc->cleaned)
		return sbx_error_setc(err, EINVAL, "instance \"%s\" was created already",
		                      lc->inst->name);
	lc->config = config ? config : lc->stored;
	lc->meta = meta;
	if (lc->config == NULL)
		return sbx_error_setc(err, EINVAL, "instance \"%s\" has no config to run",
		                      lc->inst->name);
	rlimit_nofile_restore();
	struct sbx_create_hook hook = {record_instance, lc};
	int r = meta ? config_parse_built(lc->config, &lc->cfg, err)
	             : config_parse(lc->config, &lc->cfg, err);
	if (r < 0)
		return -1;
	lc->cfg->exec_in_wait = lc->opts.exec_in_wait;
	/* Profiles have none: a config with hooks was edited by hand. */
	if (hooks_count(&lc->cfg->hooks) > 0)
		return sbx_error_setc(err, ENOTSUP,
		                      "config.json: hooks: sbx run does not run OCI hooks; "
		                      "run the bundle with sbx-oci");
	r = process_create(lc->cfg, meta ? &hook : NULL, &lc->ct, err);
	/* The instance is recorded (or nothing was made). */
	release_hold(lc);
	if (r < 0)
		return -1;
	lc->st.status = (char *)"running";
	lc->st.monitor = getpid();
	lc->st.pid = lc->ct->pid;
	lc->st.scratch_fd = lc->ct->scratch_fd;
	if (lc->ct->overlay[0]) {
		lc->st.overlay = lc->ct->overlay;
		info(lc, "overlay: %s", lc->ct->overlay);
	}
	return 0;
}

/* The live state, written while the sandbox starts: ps finds the pid once
 * sbx run -d returns, and before the payload can do much. */
static int record_state(void *ctx, struct sbx_error **err)
{
	struct lifecycle *lc = ctx;
	state_starttime(lc->st.pid, &lc->st.starttime);
	/* An ephemeral instance's directory is its state directory. */
	if (lc->inst->ephemeral) {
		int dfd = instance_dirfd(lc->inst, err);
		return dfd < 0 ? -1 : state_write_at(dfd, &lc->st, err);
	}
	return state_write(lc->inst->name, &lc->st, err);
}

/* How it ended; an instance that goes away keeps no record of it. */
static void record_end(struct lifecycle *lc, int status)
{
	process_destroy(steal_ptr(lc->ct));
	lc->st.status = (char *)"stopped";
	lc->st.has_exit = true;
	lc->st.exit_code = status;
	state_now(lc->finished_at);
	lc->st.finished = lc->finished_at;
	struct sbx_error *serr = NULL;
	if (lc->st.pid > 0 && !lc->opts.rm && state_write(lc->inst->name, &lc->st, &serr) < 0)
		sbx_error_free(serr);
}

int lifecycle_start(struct lifecycle *lc, int *exit_code, struct sbx_error **err)
{
	*exit_code = SBX_EXIT_FAILURE;
	if (lc->ct == NULL || lc->started)
		return sbx_error_setc(err, EINVAL, "instance \"%s\" is not created",
		                      lc->inst->name);
	state_now(lc->started_at);
	lc->st.started = lc->started_at;
	struct sbx_create_hook hook = {record_state, lc};
	int code = 0;
	if (process_start(lc->ct, &hook, &code, err) < 0) {
		*exit_code = code ? code : SBX_EXIT_FAILURE;
		record_end(lc, *exit_code);
		return -1;
	}
	lc->started = true;
	/* In memory and thrown away: sbx removes its files while the kernel
	 * tears the sandbox down, and waits for both. */
	lc->ct->return_early = lc->opts.rm && lc->inst->ephemeral;
	*exit_code = 0;
	return 0;
}

int lifecycle_wait(struct lifecycle *lc, int *status, struct sbx_error **err)
{
	*status = SBX_EXIT_FAILURE;
	if (lc->ct == NULL || !lc->started)
		return sbx_error_setc(err, EINVAL, "instance \"%s\" is not started",
		                      lc->inst->name);
	int r = process_wait(lc->ct, lc->opts.attach_stdin, status, err);
	/* An exec that failed: nothing ran, as when start says so. */
	if (r < 0 && lc->ct->exec_failed)
		lc->started = false;
	else if (r < 0)
		*status = SBX_EXIT_FAILURE;
	sbx_trace("payload exited with %d", *status);
	if (lc->ct->reported && !lc->ct->exited)
		cleanup(lc);
	record_end(lc, *status);
	cleanup(lc);
	return r;
}

/* The monitor's report to the process that detached it, sent once. */
static void report(struct lifecycle *lc, int code, const struct sbx_error *err)
{
	if (lc->report_fd < 0)
		return;
	_cleanup_free_ char *msg =
	    code == 0 ? xstrdup("0") : xasprintf("%d %s", code, err ? err->msg : "failed");
	write_all(lc->report_fd, msg, strlen(msg));
	close(lc->report_fd);
	lc->report_fd = -1;
}

static int monitor(struct lifecycle *lc, json_t *config, json_t *meta)
{
	_cleanup_error_ struct sbx_error *err = NULL;
	int code = SBX_EXIT_FAILURE, status;
	if (lifecycle_create(lc, config, meta, &err) < 0 || lifecycle_start(lc, &code, &err) < 0) {
		/* Nothing is left behind by the time the caller hears. */
		cleanup(lc);
		report(lc, code, err);
		return code;
	}
	report(lc, 0, NULL);
	if (lifecycle_wait(lc, &status, &err) < 0 && lc->opts.notify.error)
		lc->opts.notify.error(lc->opts.notify.ctx, err);
	return status;
}

int lifecycle_detach(struct lifecycle *lc, json_t *config, json_t *meta, int *exit_code,
                     struct sbx_error **err)
{
	*exit_code = SBX_EXIT_FAILURE;
	rlimit_nofile_restore();
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "cannot create a pipe");
	_cleanup_close_ int rfd = pipefd[0], wfd = pipefd[1];
	_cleanup_close_ int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0)
		return sbx_error_set(err, errno, "cannot open \"/dev/null\"");
	/* The monitor's and the payload's output go through a capture process
	 * that times it (lifecycle/logs.h). It is the monitor's sibling, not
	 * its child, so nothing the monitor reaps is it; it holds the lock
	 * until the monitor is gone and the pipe is empty. */
	fflush(NULL);
	_cleanup_close_ int logfd = -1, stopfd = -1;
	pid_t capture;
	if (logs_capture_spawn(lc->inst->dir, lc->lockfd, &logfd, &stopfd, &capture, err) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return sbx_error_set(err, errno, "cannot fork");
	if (pid == 0) {
		close(rfd);
		setsid();
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		close(nullfd);
		close(logfd);
		lc->report_fd = wfd;
		/* stopfd stays open here, until the monitor is gone. */
		_exit(monitor(lc, config, meta));
	}
	/* The monitor holds the lock and owns the instance now, and closes
	 * the held fd once it created the sandbox. */
	close(steal_fd(wfd));
	release_hold(lc);
	close(lc->lockfd);
	lc->lockfd = -1;
	lc->cleaned = true;
	char buf[2048];
	size_t n = read_string(rfd, buf, sizeof(buf));
	if (n == 1 && buf[0] == '0') {
		*exit_code = 0;
		return 0;
	}
	if (n == 0)
		return sbx_error_setc(err, ECHILD, "the monitor died before the sandbox started");
	char *msg = buf;
	int code = (int)strtol(buf, &msg, 10);
	while (*msg == ' ')
		msg++;
	*exit_code = code ? code : SBX_EXIT_FAILURE;
	return sbx_error_setc(err, 0, "%s", msg);
}

void lifecycle_free(struct lifecycle *lc)
{
	if (lc == NULL)
		return;
	if (lc->ct)
		record_end(lc, SBX_EXIT_FAILURE);
	cleanup(lc);
	release_hold(lc);
	config_free(lc->cfg);
	json_decref(lc->stored);
	instance_free(lc->inst);
	free(lc);
}

/* ---- by name ---- */

void lifecycle_status_clear(struct lifecycle_status *s)
{
	free(s->started);
	free(s->finished);
	free(s->overlay);
	*s = (struct lifecycle_status){0};
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int lifecycle_state(const char *name, struct lifecycle_status *out, struct sbx_error **err)
{
	*out = (struct lifecycle_status){0};
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	_cleanup_state_ struct sbx_state *st = NULL;
	if (instance_open(name, &inst, err) < 0 ||
	    state_is_running(inst->dir, &out->running, err) < 0 || state_read(name, &st, err) < 0)
		return -1;
	out->has_exit = st->has_exit && !out->running;
	out->exit_code = st->exit_code;
	out->pid = out->running ? st->pid : 0;
	out->started = dup_or_null(st->started);
	out->finished = dup_or_null(st->finished);
	out->overlay = dup_or_null(st->overlay);
	return 0;
}

/* A pidfd for a running instance, or -1 with *err (ESRCH when it is not
 * running). */
static int running_pidfd(const struct sbx_instance *inst, int *pidfd, struct sbx_error **err)
{
	bool running;
	if (state_is_running(inst->dir, &running, err) < 0)
		return -1;
	if (!running)
		return sbx_error_setc(err, ESRCH, "instance \"%s\" is not running", inst->name);
	_cleanup_state_ struct sbx_state *st = NULL;
	if (state_read(inst->name, &st, err) < 0)
		return -1;
	if (state_pidfd(st, pidfd, err) < 0)
		return sbx_error_prefix(err, "instance \"%s\"", inst->name);
	return 0;
}

static int send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Waits for the process behind pidfd to exit, up to ms (-1 = forever). */
static bool wait_exit(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/* Blocks until the runner let go of the lock: then the state is final. */
static void wait_unlocked(const struct sbx_instance *inst)
{
	int fd = -1;
	struct sbx_error *err = NULL;
	if (state_lock(inst->dir, true, &fd, &err) == 0)
		close(fd);
	sbx_error_free(err);
}

int lifecycle_kill(const char *name, int sig, struct sbx_error **err)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	_cleanup_close_ int pidfd = -1;
	if (instance_open(name, &inst, err) < 0 || running_pidfd(inst, &pidfd, err) < 0)
		return -1;
	if (send_signal(pidfd, sig) < 0)
		return sbx_error_set(err, errno, "cannot signal instance \"%s\"", inst->name);
	return 0;
}

int lifecycle_stop(const char *name, int timeout, struct sbx_error **err)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	_cleanup_close_ int pidfd = -1;
	if (instance_open(name, &inst, err) < 0)
		return -1;
	struct sbx_error *perr = NULL;
	if (running_pidfd(inst, &pidfd, &perr) < 0) {
		/* Stopping what is stopped is done. */
		if (perr->code == ESRCH) {
			sbx_error_free(perr);
			return 0;
		}
		*err = perr;
		return -1;
	}
	send_signal(pidfd, SIGTERM);
	if (!wait_exit(pidfd, timeout * 1000)) {
		send_signal(pidfd, SIGKILL);
		wait_exit(pidfd, -1);
	}
	wait_unlocked(inst);
	return 0;
}

static int remove_in_userns(void *arg, struct sbx_error **err)
{
	return instance_remove(arg, err);
}

/* Files created under --userns subid belong to subordinate ids: the caller
 * cannot remove them, but root of a namespace with the same maps can. */
static int remove_instance(struct sbx_instance *inst, struct sbx_error **err)
{
	if (instance_remove(inst, err) == 0)
		return 0;
	_cleanup_free_ char *path = xasprintf("%s/config.json", inst->dir);
	json_t *j = NULL;
	_cleanup_config_ struct sbx_config *c = NULL;
	struct sbx_error *cerr = NULL;
	if (config_load_file(path, &j, &cerr) < 0 || config_parse(j, &c, &cerr) < 0 ||
	    (c->n_uid_maps < 2 && c->n_gid_maps < 2)) {
		json_decref(j);
		sbx_error_free(cerr);
		return -1;
	}
	json_decref(j);
	sbx_error_free(*err);
	*err = NULL;
	return userns_run_mapped(c, remove_in_userns, inst, err);
}

int lifecycle_delete(const char *name, bool force, struct sbx_error **err)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(name, &inst, err) < 0)
		return -1;
	_cleanup_close_ int lockfd = -1;
	struct sbx_error *lerr = NULL;
	if (state_lock(inst->dir, false, &lockfd, &lerr) < 0) {
		if (lerr->code != EBUSY) {
			*err = lerr;
			return -1;
		}
		sbx_error_free(lerr);
		if (!force)
			return sbx_error_setc(err, EBUSY,
			                      "instance \"%s\" is running; stop it first with "
			                      "'sbx stop %s' or use 'sbx rm -f %s'",
			                      name, name, name);
		_cleanup_close_ int pidfd = -1;
		struct sbx_error *perr = NULL;
		if (running_pidfd(inst, &pidfd, &perr) == 0) {
			send_signal(pidfd, SIGKILL);
			wait_exit(pidfd, -1);
		}
		sbx_error_free(perr);
		if (state_lock(inst->dir, true, &lockfd, err) < 0)
			return -1;
	}
	if (remove_instance(inst, err) < 0)
		return -1;
	forget_state(name);
	return 0;
}

static void env_override(char ***env, const char *kv)
{
	size_t n = (size_t)(strchr(kv, '=') - kv);
	for (size_t i = 0; (*env)[i]; i++) {
		if (strncmp((*env)[i], kv, n) == 0 && (*env)[i][n] == '=') {
			free((*env)[i]);
			(*env)[i] = xstrdup(kv);
			return;
		}
	}
	strv_push(env, kv);
}

int lifecycle_exec(const char *name, const struct lifecycle_exec *x, int *status,
                   struct sbx_error **err)
{
	*status = SBX_EXIT_FAILURE;
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(name, &inst, err) < 0)
		return -1;
	bool running = false;
	if (state_is_running(inst->dir, &running, err) < 0)
		return -1;
	if (!running)
		return sbx_error_setc(
		    err, ESRCH, "instance \"%s\" is not running; start it with 'sbx start %s'",
		    name, name);
	_cleanup_state_ struct sbx_state *st = NULL;
	_cleanup_close_ int pidfd = -1;
	if (state_read(name, &st, err) < 0 || state_pidfd(st, &pidfd, err) < 0)
		return -1;
	/* The policy is the instance's config.json, in sbx's own data
	 * directory, out of the sandbox's reach. */
	_cleanup_config_ struct sbx_config *c = NULL;
	if (instance_read_config(inst, &c, err) < 0)
		return -1;
	if (x->args) {
		strv_free(c->args);
		c->args = strv_copy(x->args);
	}
	for (size_t i = 0; x->env && x->env[i]; i++)
		env_override(&c->env, x->env[i]);
	if (x->cwd) {
		free(c->cwd);
		c->cwd = xstrdup(x->cwd);
	}
	c->terminal = x->terminal;
	_cleanup_sandbox_ struct sbx_sandbox *ct = NULL;
	int code = 0;
	rlimit_nofile_restore();
	if (process_exec(c, pidfd, &ct, err) < 0 || process_start(ct, NULL, &code, err) < 0) {
		*status = code ? code : SBX_EXIT_FAILURE;
		return -1;
	}
	if (process_wait(ct, x->attach_stdin, status, err) < 0) {
		*status = SBX_EXIT_FAILURE;
		return -1;
	}
	return 0;
}

/* What `sbx kill` accepts besides numbers (cli/cmd-complete.c offers the
 * same names). */
static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM}, {"CONT", SIGCONT},
    {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH},
};

int lifecycle_parse_signal(const char *s, int *sig)
{
	uint64_t n;
	if (parse_u64(s, &n) == 0) {
		if (n == 0 || n >= (uint64_t)NSIG)
			return -1;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
		if (strcasecmp(s, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
	}
	return -1;
}
