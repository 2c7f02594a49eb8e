/* cmd-instance.c - the instance commands: start, ps/list, stop, kill, rm,
 * inspect and logs, over the lifecycle library. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "lifecycle/lifecycle.h"
#include "profile/oci.h"
#include "store/state.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>

/* Parses options, then requires at least min operands. Returns the index of
 * the first operand, or <0 for the command to return. */
static int parse(const struct sbx_command *cmd, int argc, char **argv, sbx_option_fn fn, void *ctx,
                 int min, const char *what, struct sbx_error **err)
{
	int first = cmdline_parse(cmd, argc, argv, false, fn, ctx, err);
	if (first >= 0 && argc - first < min)
		return cmdline_usage(err, "%s", what);
	return first;
}

static int flag_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	*(bool *)ctx = true;
	return 0;
}

static const struct sbx_option no_options[] = {{NULL, 0, 0, NULL, NULL, NULL}};

/* ---- start ---- */

static const struct sbx_option start_options[] = {
    {"attach", 'a', no_argument, NULL, "stay attached: show the output and wait for the end", NULL},
    {"interactive", 'i', no_argument, NULL, "with -a and a terminal, send standard input", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct start_opts {
	bool attach, interactive;
};

static int start_option(void *ctx, int val, const char *arg, struct sbx_error **err)
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

static int start_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct start_opts o = {0};
	int first = parse(cmd, argc, argv, start_option, &o, 1, "no instance given", err);
	if (first < 0)
		return first;
	if (argc - first > 1)
		return cmdline_usage(err, "one instance at a time");
	struct lifecycle_opts opts = {.attach_stdin = o.interactive, .notify = lifecycle_say(cmd)};
	_cleanup_lifecycle_ struct lifecycle *lc = NULL;
	if (lifecycle_open(argv[first], &opts, &lc, err) < 0)
		return -1;
	int status;
	if (!o.attach) {
		if (lifecycle_detach(lc, NULL, NULL, &status, err) == 0)
			printf("%s\n", lifecycle_instance(lc)->name);
		return status;
	}
	if (lifecycle_create(lc, NULL, NULL, err) < 0)
		return -1;
	if (lifecycle_start(lc, &status, err) < 0)
		return status;
	lifecycle_wait(lc, &status, err);
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
    CMDLINE_OPTION_FORMAT("output format: text (a table, the default) or json"),
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct ps_opts {
	bool all, quiet;
	enum cmdline_format format;
};

static int ps_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct ps_opts *o = ctx;
	switch (val) {
	case 'a':
		o->all = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case CMDLINE_OPT_FORMAT:
		return cmdline_format(arg, &o->format, err);
	}
	return -1;
}

/* What ps knows of one instance. */
struct row {
	struct lifecycle_status st;
	char *status, *image, *profile, *created;
};

static void row_free(struct row *r)
{
	lifecycle_status_clear(&r->st);
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

static int load_row(struct sbx_instance *inst, struct row *r, struct sbx_error **err)
{
	if (lifecycle_state(inst->name, &r->st, err) < 0)
		return -1;
	json_t *meta = NULL;
	struct sbx_error *merr = NULL;
	if (instance_read_meta(inst, &meta, &merr) < 0)
		sbx_error_free(merr);
	r->image = meta_string(meta, "image");
	r->profile = meta_string(meta, "profile");
	r->created = meta_string(meta, "created");
	json_decref(meta);
	if (r->st.running)
		r->status = xstrdup("running");
	else if (r->st.has_exit)
		r->status = xasprintf("exited (%d)", r->st.exit_code);
	else
		r->status = xstrdup("stopped");
	return 0;
}

static void print_row(const char *name, const struct row *r)
{
	char pid[16] = "-";
	if (r->st.running)
		snprintf(pid, sizeof(pid), "%d", (int)r->st.pid);
	/* A directory given as the image is a path: escaped, like what
	 * instance.json says. */
	_cleanup_free_ char *image = str_escape_mem(r->image, strlen(r->image), ESCAPE_BARE, NULL);
	_cleanup_free_ char *profile =
	    str_escape_mem(r->profile, strlen(r->profile), ESCAPE_BARE, NULL);
	_cleanup_free_ char *created =
	    str_escape_mem(r->created, strlen(r->created), ESCAPE_BARE, NULL);
	printf("%-24s %-8s %-12s %-16s %-10s %s\n", name, pid, r->status, image, profile, created);
}

static json_t *row_json(const char *name, const struct row *r)
{
	json_t *j = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s}", "name", name, "status",
	                      r->st.running ? "running" : "stopped", "running", r->st.running,
	                      "image", r->image, "profile", r->profile, "created", r->created);
	json_object_set_new(j, "pid", r->st.running ? json_integer(r->st.pid) : json_null());
	json_object_set_new(j, "exit_code",
	                    r->st.has_exit ? json_integer(r->st.exit_code) : json_null());
	return j;
}

static int ps_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct ps_opts o = {0};
	int first = parse(cmd, argc, argv, ps_option, &o, 0, "", err);
	if (first < 0)
		return first;
	if (first < argc)
		return cmdline_usage(err, "unexpected argument \"%s\"", argv[first]);
	_cleanup_strv_ char **names = NULL;
	if (instance_list(&names, err) < 0)
		return -1;
	bool json = o.format == CMDLINE_JSON;
	json_t *out = json ? json_array() : NULL;
	if (!json && !o.quiet)
		printf("%-24s %-8s %-12s %-16s %-10s %s\n", "NAME", "PID", "STATUS", "IMAGE",
		       "PROFILE", "CREATED");
	for (size_t i = 0; names[i]; i++) {
		struct row r = {0};
		_cleanup_instance_ struct sbx_instance *inst = NULL;
		struct sbx_error *rerr = NULL;
		/* An instance removed while we list is not an error. */
		if (instance_open(names[i], &inst, &rerr) < 0 || load_row(inst, &r, &rerr) < 0) {
			sbx_error_free(rerr);
			row_free(&r);
			continue;
		}
		if (o.all || r.st.running) {
			if (json)
				json_array_append_new(out, row_json(names[i], &r));
			else if (o.quiet)
				printf("%s\n", names[i]);
			else
				print_row(names[i], &r);
		}
		row_free(&r);
	}
	if (json) {
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

static const struct sbx_option stop_options[] = {
    {"time", 't', required_argument, "SECONDS",
     "how long to wait after SIGTERM before SIGKILL (default 10)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int stop_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	uint64_t n;
	if (val != 't' || parse_u64(arg, &n) < 0 || n > 86400)
		return cmdline_usage(err, "--time \"%s\": a number of seconds is needed",
		                     arg ? arg : "");
	*(int *)ctx = (int)n;
	return 0;
}

static int stop_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	int timeout = 10, status = 0;
	int first = parse(cmd, argc, argv, stop_option, &timeout, 1, "no instance given", err);
	if (first < 0)
		return first;
	for (int i = first; i < argc; i++) {
		_cleanup_error_ struct sbx_error *e = NULL;
		if (lifecycle_stop(argv[i], timeout, &e) < 0) {
			cmdline_error(cmd, e);
			status = SBX_EXIT_FAILURE;
		} else if (sbx_verbose >= 0) {
			printf("%s\n", argv[i]);
		}
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

static int kill_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	int first = parse(cmd, argc, argv, NULL, NULL, 1, "no instance given", err);
	if (first < 0)
		return first;
	if (argc - first > 2)
		return cmdline_usage(err, "too many arguments");
	int sig = SIGTERM;
	if (argc - first == 2 && lifecycle_parse_signal(argv[first + 1], &sig) < 0)
		return sbx_error_setc(err, EINVAL, "unknown signal \"%s\"", argv[first + 1]);
	return lifecycle_kill(argv[first], sig, err);
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
    {"force", 'f', no_argument, NULL, "kill a running instance first; ignore missing ones", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* False only when name is a valid name and no instance has it. */
static bool instance_exists(const char *name)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	_cleanup_error_ struct sbx_error *e = NULL;
	return instance_open(name, &inst, &e) == 0 || e->code != ENOENT;
}

static int rm_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	bool force = false;
	int status = 0;
	int first = parse(cmd, argc, argv, flag_option, &force, 1, "no instance given", err);
	if (first < 0)
		return first;
	for (int i = first; i < argc; i++) {
		_cleanup_error_ struct sbx_error *e = NULL;
		if (force && !instance_exists(argv[i]))
			continue; /* as podman rm -f, and sbx image rm -f */
		if (lifecycle_delete(argv[i], force, &e) < 0) {
			cmdline_error(cmd, e);
			status = SBX_EXIT_FAILURE;
		} else if (sbx_verbose >= 0) {
			printf("%s\n", argv[i]);
		}
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

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int inspect_one(const char *name, json_t *all, struct sbx_error **err)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	struct row r = {0};
	if (instance_open(name, &inst, err) < 0 || load_row(inst, &r, err) < 0) {
		row_free(&r);
		return -1;
	}
	_cleanup_free_ char *cpath = xasprintf("%s/config.json", inst->dir);
	_cleanup_free_ char *log = xasprintf("%s/log", inst->dir);
	_cleanup_free_ char *npath = xasprintf("%s/network.json", inst->dir);
	_cleanup_free_ char *mpath = xasprintf("%s/instance.json", inst->dir);
	_cleanup_free_ char *sdir = NULL;
	state_dir(inst->name, false, &sdir, NULL);
	json_t *state = json_pack("{s:s, s:b}", "status", r.st.running ? "running" : "stopped",
	                          "running", r.st.running);
	json_object_set_new(state, "pid", r.st.running ? json_integer(r.st.pid) : json_null());
	json_object_set_new(state, "exit_code",
	                    r.st.has_exit ? json_integer(r.st.exit_code) : json_null());
	json_object_set_new(state, "started", str_or_null(r.st.started));
	json_object_set_new(state, "finished", str_or_null(r.st.finished));
	json_t *config = load_json(cpath);
	json_t *ann = json_object_get(config, "annotations");
	const char *backend = json_string_value(json_object_get(ann, SBX_ANN_BACKEND));
	const char *lower = json_string_value(json_object_get(ann, SBX_ANN_LOWER));
	json_t *overlay =
	    json_pack("{s:s?, s:s?, s:s?, s:s, s:s}", "lower", lower, "upper", inst->upper, "work",
	              inst->work, "scratch", inst->ephemeral ? "memory" : "disk", "requested",
	              backend ? backend : "none");
	json_object_set_new(overlay, "used", str_or_null(r.st.overlay));
	json_t *paths =
	    json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s}", "dir", inst->dir, "config", cpath,
	              "upper", inst->upper, "work", inst->work, "rootfs", inst->rootfs, "log", log);
	json_object_set_new(paths, "state", str_or_null(sdir));
	json_t *meta = load_json(mpath);
	json_t *network = load_json(npath);
	const char *mode = json_string_value(json_object_get(ann, SBX_ANN_NETWORK));
	/* network.json is written only with a helper. */
	if (network == NULL)
		network = json_pack("{s:s, s:n, s:n, s:[], s:n}", "mode", mode ? mode : "none",
		                    "helper", "helper_pid", "publish", "dns");
	json_t *j =
	    json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name", inst->name,
	              "image", r.image, "profile", r.profile, "created", r.created, "state", state,
	              "paths", paths, "overlay", overlay, "network", network, "metadata",
	              meta ? meta : json_null(), "config", config ? config : json_null());
	json_array_append_new(all, j);
	row_free(&r);
	return 0;
}

static int inspect_main(const struct sbx_command *cmd, int argc, char **argv,
                        struct sbx_error **err)
{
	int first = parse(cmd, argc, argv, NULL, NULL, 1, "no instance given", err);
	if (first < 0)
		return first;
	json_t *all = json_array();
	int status = 0;
	for (int i = first; i < argc; i++) {
		_cleanup_error_ struct sbx_error *e = NULL;
		if (inspect_one(argv[i], all, &e) < 0) {
			cmdline_error(cmd, e);
			status = SBX_EXIT_FAILURE;
		}
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

static int logs_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	bool follow = false;
	int first = parse(cmd, argc, argv, flag_option, &follow, 1, "no instance given", err);
	if (first < 0)
		return first;
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(argv[first], &inst, err) < 0)
		return -1;
	_cleanup_free_ char *path = xasprintf("%s/log", inst->dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		if (!follow)
			return 0;
	} else if (fd < 0) {
		return sbx_error_set(err, errno, "cannot open \"%s\"", path);
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
		struct sbx_error *serr = NULL;
		if (state_is_running(inst->dir, &running, &serr) < 0 || !running) {
			sbx_error_free(serr);
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
