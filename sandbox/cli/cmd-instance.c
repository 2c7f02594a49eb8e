/* cmd-instance.c - the instance lifecycle: start, ps/list, stop, kill, rm,
 * inspect and logs. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "profile/oci.h"
#include "store/state.h"
#include "runtime/config.h"
#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>

enum { OPT_FORMAT = 300, OPT_TIME };

static int print_error(const char *cmd, struct sbx_error *err)
{
	sbx_error_print(err, cmd);
	return SBX_EXIT_FAILURE;
}

/* Parses options, then requires at least min operands. Returns the index of
 * the first operand, or -1 with *status set. */
static int parse(const struct sbx_command *cmd, int argc, char **argv, sbx_option_fn fn, void *ctx,
                 int min, const char *what, int *status)
{
	int first = cmdline_parse(cmd, argc, argv, false, fn, ctx);
	if (first == -2) {
		*status = 0;
		return -1;
	}
	if (first < 0) {
		*status = cmd->usage_exit;
		return -1;
	}
	if (argc - first < min) {
		cmdline_usage_error(cmd, "%s", what);
		*status = cmd->usage_exit;
		return -1;
	}
	return first;
}

/* ---- start ---- */

static const struct sbx_option start_options[] = {
    {"attach", 'a', no_argument, NULL, "stay attached: show the output and wait for the end", NULL},
    {"interactive", 'i', no_argument, NULL, "with -a and a terminal, send standard input", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct start_opts {
	bool attach, interactive;
};

static int start_option(void *ctx, int val, const char *arg)
{
	struct start_opts *o = ctx;
	if (val == 'a')
		o->attach = true;
	else if (val == 'i')
		o->interactive = true;
	else
		return -1;
	return 0;
}

static int start_main(const struct sbx_command *cmd, int argc, char **argv)
{
	struct start_opts o = {0};
	int status;
	int first = parse(cmd, argc, argv, start_option, &o, 1, "no instance given", &status);
	if (first < 0)
		return status;
	if (argc - first > 1) {
		cmdline_usage_error(cmd, "one instance at a time");
		return cmd->usage_exit;
	}
	_cleanup_error_ struct sbx_error *err = NULL;
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(argv[first], &inst, &err) < 0)
		return print_error("start", err);

	int lockfd = -1;
	if (state_lock(inst->dir, false, &lockfd, &err) < 0) {
		if (err->code == EBUSY)
			sbx_error_prefix(&err, "cannot start");
		return print_error("start", err);
	}
	/* Left behind by a killed `run --rm`: its changes are gone. */
	if (inst->ephemeral) {
		close(lockfd);
		sbx_error_setc(&err, ENOTSUP,
		               "instance \"%s\" ran with --rm and its changes were in memory; "
		               "remove it with 'sbx rm %s'",
		               inst->name, inst->name);
		return print_error("start", err);
	}
	/* The config is sbx's own file, out of the sandbox's reach. */
	_cleanup_free_ char *path = xasprintf("%s/config.json", inst->dir);
	json_t *config = NULL;
	if (config_load_file(path, &config, &err) < 0) {
		close(lockfd);
		return print_error("start", err);
	}
	struct sbx_launch l = {.inst = inst,
	                       .config = config,
	                       .lockfd = lockfd,
	                       .detach = !o.attach,
	                       .attach_stdin = o.interactive,
	                       .keep_on_fail = true,
	                       .cmd = "start"};
	status = launch_instance(&l);
	json_decref(config);
	return status;
}

const struct sbx_command cmd_start = {
    .name = "start",
    .args = "[OPTIONS] NAME",
    .summary = "Run a stopped instance again, on its existing upper layer.",
    .options = start_options,
    .positional = SBX_COMPLETE_INSTANCE,
    .main = start_main,
    .usage_exit = SBX_EXIT_USAGE,
};

/* ---- ps / list ---- */

static const struct sbx_option ps_options[] = {
    {"all", 'a', no_argument, NULL, "also show stopped instances", NULL},
    {"quiet", 'q', no_argument, NULL, "only print names", NULL},
    {"format", OPT_FORMAT, required_argument, "FORMAT", "table (default) or json", "table json"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct ps_opts {
	bool all, quiet, json;
};

static int ps_option(void *ctx, int val, const char *arg)
{
	struct ps_opts *o = ctx;
	switch (val) {
	case 'a':
		o->all = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_FORMAT:
		if (strcmp(arg, "json") == 0 || strcmp(arg, "table") == 0) {
			o->json = arg[0] == 'j';
			return 0;
		}
		fprintf(stderr, "sbx ps: --format \"%s\": use table or json\n", arg);
		return -1;
	}
	return -1;
}

/* What ps knows of one instance. The lock decides running; state.json only
 * adds the pid and the exit code. */
struct row {
	char *name, *status, *image, *profile, *created;
	pid_t pid;
	bool running;
	int exit_code;
	bool has_exit;
};

static void row_free(struct row *r)
{
	free(r->name);
	free(r->status);
	free(r->image);
	free(r->profile);
	free(r->created);
}

static char *meta_string(json_t *meta, const char *key)
{
	const char *s = json_string_value(json_object_get(meta, key));
	return xstrdup(s ? s : "");
}

static int load_row(const char *name, struct row *r, struct sbx_error **err)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(name, &inst, err) < 0)
		return -1;
	r->name = xstrdup(name);
	if (state_is_running(inst->dir, &r->running, err) < 0)
		return -1;
	json_t *meta = NULL;
	struct sbx_error *merr = NULL;
	if (instance_read_meta(inst, &meta, &merr) < 0)
		sbx_error_free(merr);
	r->image = meta_string(meta, "image");
	r->profile = meta_string(meta, "profile");
	r->created = meta_string(meta, "created");
	json_decref(meta);
	_cleanup_state_ struct sbx_state *st = NULL;
	if (state_read(name, &st, err) < 0)
		return -1;
	r->has_exit = st->has_exit && !r->running;
	r->exit_code = st->exit_code;
	r->pid = r->running ? st->pid : 0;
	if (r->running)
		r->status = xstrdup("running");
	else if (r->has_exit)
		r->status = xasprintf("exited (%d)", r->exit_code);
	else
		r->status = xstrdup("stopped");
	return 0;
}

static int ps_main(const struct sbx_command *cmd, int argc, char **argv)
{
	struct ps_opts o = {0};
	int status;
	int first = parse(cmd, argc, argv, ps_option, &o, 0, "", &status);
	if (first < 0)
		return status;
	if (first < argc) {
		cmdline_usage_error(cmd, "unexpected argument \"%s\"", argv[first]);
		return cmd->usage_exit;
	}
	_cleanup_error_ struct sbx_error *err = NULL;
	_cleanup_strv_ char **names = NULL;
	if (instance_list(&names, &err) < 0)
		return print_error(cmd->name, err);
	json_t *out = o.json ? json_array() : NULL;
	if (!o.json && !o.quiet)
		printf("%-24s %-8s %-12s %-16s %-10s %s\n", "NAME", "PID", "STATUS", "IMAGE",
		       "PROFILE", "CREATED");
	for (size_t i = 0; names[i]; i++) {
		struct row r = {0};
		struct sbx_error *rerr = NULL;
		/* An instance removed while we list is not an error. */
		if (load_row(names[i], &r, &rerr) < 0) {
			sbx_error_free(rerr);
			row_free(&r);
			continue;
		}
		if (!o.all && !r.running) {
			row_free(&r);
			continue;
		}
		if (o.json) {
			json_t *j =
			    json_pack("{s:s, s:s, s:b, s:s, s:s, s:s}", "name", r.name, "status",
			              r.running ? "running" : "stopped", "running", r.running,
			              "image", r.image, "profile", r.profile, "created", r.created);
			json_object_set_new(j, "pid",
			                    r.running ? json_integer(r.pid) : json_null());
			json_object_set_new(j, "exit_code",
			                    r.has_exit ? json_integer(r.exit_code) : json_null());
			json_array_append_new(out, j);
		} else if (o.quiet) {
			printf("%s\n", r.name);
		} else {
			char pid[16] = "-";
			if (r.running)
				snprintf(pid, sizeof(pid), "%d", (int)r.pid);
			/* A directory given as the image is a path: escaped, like
			 * what instance.json says. */
			_cleanup_free_ char *image =
			    str_escape_mem(r.image, strlen(r.image), ESCAPE_BARE, NULL);
			_cleanup_free_ char *profile =
			    str_escape_mem(r.profile, strlen(r.profile), ESCAPE_BARE, NULL);
			_cleanup_free_ char *created =
			    str_escape_mem(r.created, strlen(r.created), ESCAPE_BARE, NULL);
			printf("%-24s %-8s %-12s %-16s %-10s %s\n", r.name, pid, r.status, image,
			       profile, created);
		}
		row_free(&r);
	}
	if (o.json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(out);
	}
	return 0;
}

const struct sbx_command cmd_ps = {
    .name = "ps",
    .args = "[OPTIONS]",
    .summary = "List running instances (all of them with -a).",
    .options = ps_options,
    .main = ps_main,
    .usage_exit = SBX_EXIT_USAGE,
};

const struct sbx_command cmd_list = {
    .name = "list",
    .args = "[OPTIONS]",
    .summary = "The same as ps.",
    .options = ps_options,
    .main = ps_main,
    .usage_exit = SBX_EXIT_USAGE,
};

/* ---- signals: stop and kill ---- */

static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM}, {"CONT", SIGCONT},
    {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH},
};

static int parse_signal(const char *s, int *sig)
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

/* A pidfd for a running instance, or -1 with *err when it is not running. */
static int running_pidfd(struct sbx_instance *inst, int *pidfd, struct sbx_error **err)
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
static void wait_unlocked(struct sbx_instance *inst)
{
	int fd = -1;
	struct sbx_error *err = NULL;
	if (state_lock(inst->dir, true, &fd, &err) == 0)
		close(fd);
	sbx_error_free(err);
}

static const struct sbx_option stop_options[] = {
    {"time", 't', required_argument, "SECONDS",
     "how long to wait after SIGTERM before SIGKILL (default 10)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int stop_option(void *ctx, int val, const char *arg)
{
	uint64_t n;
	if (val != 't' || parse_u64(arg, &n) < 0 || n > 86400) {
		fprintf(stderr, "sbx stop: --time \"%s\": a number of seconds is needed\n",
		        arg ? arg : "");
		return -1;
	}
	*(int *)ctx = (int)n;
	return 0;
}

static int stop_main(const struct sbx_command *cmd, int argc, char **argv)
{
	int timeout = 10, status;
	int first = parse(cmd, argc, argv, stop_option, &timeout, 1, "no instance given", &status);
	if (first < 0)
		return status;
	status = 0;
	for (int i = first; i < argc; i++) {
		_cleanup_error_ struct sbx_error *err = NULL;
		_cleanup_instance_ struct sbx_instance *inst = NULL;
		_cleanup_close_ int pidfd = -1;
		if (instance_open(argv[i], &inst, &err) < 0) {
			status = print_error("stop", err);
			continue;
		}
		if (running_pidfd(inst, &pidfd, &err) < 0) {
			/* Stopping what is stopped is done. */
			if (err->code != ESRCH)
				status = print_error("stop", err);
			else if (sbx_verbose >= 0)
				printf("%s\n", inst->name);
			continue;
		}
		send_signal(pidfd, SIGTERM);
		if (!wait_exit(pidfd, timeout * 1000)) {
			send_signal(pidfd, SIGKILL);
			wait_exit(pidfd, -1);
		}
		wait_unlocked(inst);
		if (sbx_verbose >= 0)
			printf("%s\n", inst->name);
	}
	return status;
}

const struct sbx_command cmd_stop = {
    .name = "stop",
    .args = "[OPTIONS] NAME...",
    .summary = "Stop running instances: SIGTERM, then SIGKILL after a timeout.",
    .options = stop_options,
    .positional = SBX_COMPLETE_RUNNING,
    .main = stop_main,
    .usage_exit = SBX_EXIT_USAGE,
};

static const struct sbx_option no_options[] = {{NULL, 0, 0, NULL, NULL, NULL}};

static int no_option(void *ctx, int val, const char *arg)
{
	return -1;
}

static int kill_main(const struct sbx_command *cmd, int argc, char **argv)
{
	int status;
	int first = parse(cmd, argc, argv, no_option, NULL, 1, "no instance given", &status);
	if (first < 0)
		return status;
	if (argc - first > 2) {
		cmdline_usage_error(cmd, "too many arguments");
		return cmd->usage_exit;
	}
	int sig = SIGTERM;
	if (argc - first == 2 && parse_signal(argv[first + 1], &sig) < 0) {
		fprintf(stderr, "sbx: kill: unknown signal \"%s\"\n", argv[first + 1]);
		return SBX_EXIT_FAILURE;
	}
	_cleanup_error_ struct sbx_error *err = NULL;
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	_cleanup_close_ int pidfd = -1;
	if (instance_open(argv[first], &inst, &err) < 0 || running_pidfd(inst, &pidfd, &err) < 0)
		return print_error("kill", err);
	if (send_signal(pidfd, sig) < 0) {
		sbx_error_set(&err, errno, "cannot signal instance \"%s\"", inst->name);
		return print_error("kill", err);
	}
	return 0;
}

const struct sbx_command cmd_kill = {
    .name = "kill",
    .args = "NAME [SIGNAL]",
    .summary = "Send a signal (default SIGTERM) to a running instance.",
    .options = no_options,
    .positional = SBX_COMPLETE_RUNNING,
    .main = kill_main,
    .usage_exit = SBX_EXIT_USAGE,
};

/* ---- rm ---- */

static const struct sbx_option rm_options[] = {
    {"force", 'f', no_argument, NULL, "kill a running instance first", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int flag_option(void *ctx, int val, const char *arg)
{
	*(bool *)ctx = true;
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

static int remove_one(const char *name, bool force, struct sbx_error **err)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(name, &inst, err) < 0)
		return -1;
	_cleanup_close_ int lockfd = -1;
	if (state_lock(inst->dir, false, &lockfd, err) < 0) {
		if ((*err)->code != EBUSY)
			return -1;
		if (!force) {
			sbx_error_free(*err);
			*err = NULL;
			return sbx_error_setc(err, EBUSY,
			                      "instance \"%s\" is running; stop it first with "
			                      "'sbx stop %s' or use 'sbx rm -f %s'",
			                      name, name, name);
		}
		sbx_error_free(*err);
		*err = NULL;
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
	_cleanup_free_ char *sdir = NULL;
	if (state_dir(name, false, &sdir, NULL) == 0) {
		_cleanup_free_ char *f = xasprintf("%s/state.json", sdir);
		unlink(f);
		rmdir(sdir);
	}
	return 0;
}

static int rm_main(const struct sbx_command *cmd, int argc, char **argv)
{
	bool force = false;
	int status;
	int first = parse(cmd, argc, argv, flag_option, &force, 1, "no instance given", &status);
	if (first < 0)
		return status;
	status = 0;
	for (int i = first; i < argc; i++) {
		_cleanup_error_ struct sbx_error *err = NULL;
		if (remove_one(argv[i], force, &err) < 0)
			status = print_error("rm", err);
		else if (sbx_verbose >= 0)
			printf("%s\n", argv[i]);
	}
	return status;
}

const struct sbx_command cmd_rm = {
    .name = "rm",
    .args = "[OPTIONS] NAME...",
    .summary = "Remove instances and their upper layers.",
    .options = rm_options,
    .positional = SBX_COMPLETE_INSTANCE,
    .main = rm_main,
    .usage_exit = SBX_EXIT_USAGE,
};

/* ---- inspect ---- */

static json_t *load_json(const char *path)
{
	json_error_t je;
	return json_load_file(path, JSON_REJECT_DUPLICATES, &je);
}

static int inspect_main(const struct sbx_command *cmd, int argc, char **argv)
{
	int status;
	int first = parse(cmd, argc, argv, no_option, NULL, 1, "no instance given", &status);
	if (first < 0)
		return status;
	json_t *all = json_array();
	status = 0;
	for (int i = first; i < argc; i++) {
		_cleanup_error_ struct sbx_error *err = NULL;
		_cleanup_instance_ struct sbx_instance *inst = NULL;
		struct row r = {0};
		if (instance_open(argv[i], &inst, &err) < 0 || load_row(argv[i], &r, &err) < 0) {
			row_free(&r);
			status = print_error("inspect", err);
			continue;
		}
		_cleanup_state_ struct sbx_state *st = NULL;
		if (state_read(inst->name, &st, &err) < 0) {
			row_free(&r);
			status = print_error("inspect", err);
			continue;
		}
		_cleanup_free_ char *cpath = xasprintf("%s/config.json", inst->dir);
		_cleanup_free_ char *log = xasprintf("%s/log", inst->dir);
		_cleanup_free_ char *npath = xasprintf("%s/network.json", inst->dir);
		_cleanup_free_ char *mpath = xasprintf("%s/instance.json", inst->dir);
		_cleanup_free_ char *sdir = NULL;
		state_dir(inst->name, false, &sdir, NULL);
		json_t *state = json_pack("{s:s, s:b}", "status", r.running ? "running" : "stopped",
		                          "running", r.running);
		json_object_set_new(state, "pid", r.running ? json_integer(st->pid) : json_null());
		json_object_set_new(state, "exit_code",
		                    r.has_exit ? json_integer(r.exit_code) : json_null());
		json_object_set_new(state, "started",
		                    st->started ? json_string(st->started) : json_null());
		json_object_set_new(state, "finished",
		                    st->finished ? json_string(st->finished) : json_null());
		json_t *config = load_json(cpath);
		json_t *ann = json_object_get(config, "annotations");
		const char *backend = json_string_value(json_object_get(ann, SBX_ANN_BACKEND));
		const char *lower = json_string_value(json_object_get(ann, SBX_ANN_LOWER));
		json_t *overlay =
		    json_pack("{s:s?, s:s?, s:s?, s:s, s:s}", "lower", lower, "upper", inst->upper,
		              "work", inst->work, "scratch", inst->ephemeral ? "memory" : "disk",
		              "requested", backend ? backend : "none");
		json_object_set_new(overlay, "used",
		                    st->overlay ? json_string(st->overlay) : json_null());
		json_t *paths = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s}", "dir", inst->dir,
		                          "config", cpath, "upper", inst->upper, "work", inst->work,
		                          "rootfs", inst->rootfs, "log", log);
		json_object_set_new(paths, "state", sdir ? json_string(sdir) : json_null());
		json_t *meta = load_json(mpath);
		json_t *network = load_json(npath);
		const char *mode = json_string_value(json_object_get(ann, SBX_ANN_NETWORK));
		/* network.json is written only with a helper. */
		if (network == NULL)
			network =
			    json_pack("{s:s, s:n, s:n, s:[], s:n}", "mode", mode ? mode : "none",
			              "helper", "helper_pid", "publish", "dns");
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
		                      inst->name, "image", r.image, "profile", r.profile, "created",
		                      r.created, "state", state, "paths", paths, "overlay", overlay,
		                      "network", network, "metadata", meta ? meta : json_null(),
		                      "config", config ? config : json_null());
		json_array_append_new(all, j);
		row_free(&r);
	}
	if (json_array_size(all) > 0) {
		json_t *out = argc - first == 1 ? json_array_get(all, 0) : all;
		json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(all);
	return status;
}

const struct sbx_command cmd_inspect = {
    .name = "inspect",
    .args = "NAME...",
    .summary = "Print an instance's config, paths and state as JSON.",
    .options = no_options,
    .positional = SBX_COMPLETE_INSTANCE,
    .main = inspect_main,
    .usage_exit = SBX_EXIT_USAGE,
};

/* ---- logs ---- */

static const struct sbx_option logs_options[] = {
    {"follow", 'f', no_argument, NULL, "keep printing new output until the instance stops", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* Where the log goes: byte for byte, or, on a terminal, escaped so that the
 * payload's escape sequences cannot drive it (newlines and tabs stay). A
 * character cut in two by a read waits in carry for its end. */
struct log_out {
	bool escape;
	char carry[4];
	size_t ncarry;
};

static int log_write(struct log_out *lo, const char *buf, size_t len, bool last)
{
	if (!lo->escape)
		return write_all(STDOUT_FILENO, buf, len);
	size_t used = len;
	_cleanup_free_ char *q = str_escape_mem(buf, len, ESCAPE_TEXT, last ? NULL : &used);
	lo->ncarry = len - used;
	if (lo->ncarry > sizeof(lo->carry))
		abort();
	memcpy(lo->carry, buf + used, lo->ncarry);
	return write_all(STDOUT_FILENO, q, strlen(q));
}

/* What is left of a character cut short, at the end. */
static void log_flush(struct log_out *lo)
{
	char tail[sizeof(lo->carry)];
	size_t n = lo->ncarry;
	memcpy(tail, lo->carry, n);
	lo->ncarry = 0;
	if (n > 0)
		(void)log_write(lo, tail, n, true);
}

static int copy_out(int fd, struct log_out *lo)
{
	char buf[65536 + sizeof(lo->carry)];
	for (;;) {
		size_t have = lo->ncarry;
		memcpy(buf, lo->carry, have);
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		if (log_write(lo, buf, have + (size_t)n, false) < 0)
			return -1;
	}
}

static int logs_main(const struct sbx_command *cmd, int argc, char **argv)
{
	bool follow = false;
	int status;
	int first = parse(cmd, argc, argv, flag_option, &follow, 1, "no instance given", &status);
	if (first < 0)
		return status;
	_cleanup_error_ struct sbx_error *err = NULL;
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(argv[first], &inst, &err) < 0)
		return print_error("logs", err);
	_cleanup_free_ char *path = xasprintf("%s/log", inst->dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		if (!follow)
			return 0;
	} else if (fd < 0) {
		sbx_error_set(&err, errno, "cannot open \"%s\"", path);
		return print_error("logs", err);
	}
	struct log_out lo = {.escape = isatty(STDOUT_FILENO)};
	if (fd >= 0 && copy_out(fd, &lo) < 0)
		return 0;
	if (!follow) {
		log_flush(&lo);
		return 0;
	}
	/* Follow: wake on writes, stop once nobody holds the instance lock. */
	_cleanup_close_ int ino = inotify_init1(IN_CLOEXEC);
	if (ino >= 0)
		inotify_add_watch(ino, inst->dir, IN_MODIFY | IN_CREATE);
	for (;;) {
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 && copy_out(fd, &lo) < 0)
			return 0;
		bool running = false;
		if (state_is_running(inst->dir, &running, &err) < 0 || !running) {
			if (fd >= 0)
				copy_out(fd, &lo);
			log_flush(&lo);
			return 0;
		}
		struct pollfd p = {.fd = ino, .events = POLLIN};
		if (poll(&p, 1, 500) > 0) {
			char buf[4096];
			if (read(ino, buf, sizeof(buf)) < 0 && errno != EAGAIN)
				break;
		}
	}
	log_flush(&lo);
	return 0;
}

const struct sbx_command cmd_logs = {
    .name = "logs",
    .args = "[OPTIONS] NAME",
    .summary = "Show the output of a detached instance.",
    .options = logs_options,
    .positional = SBX_COMPLETE_INSTANCE,
    .main = logs_main,
    .usage_exit = SBX_EXIT_USAGE,
};
