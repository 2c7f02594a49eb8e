/* cmd-instance.c - the instance commands: start, ps/list, stop, kill, rm,
 * inspect and logs, over the lifecycle library. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/logs.h"
#include "profile/oci.h"
#include "store/state.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

enum {
	OPT_FILTER = 256,
	OPT_NO_TRUNC,
	OPT_SINCE,
	OPT_TAIL,
	OPT_UNTIL,
};

static const struct sbx_option ps_options[] = {
    {"all", 'a', no_argument, NULL, "also show exited instances", NULL},
    {"quiet", 'q', no_argument, NULL, "only print names", NULL},
    {"filter", OPT_FILTER, required_argument, "KEY=VALUE",
     "only instances whose name matches (name=REGEX) or in a state (status=running|exited)",
     "name= status=running status=exited"},
    {"no-trunc", OPT_NO_TRUNC, no_argument, NULL, "do not cut long commands in the table", NULL},
    CMDLINE_OPTION_FORMAT("text (a table, the default), json, or a template: '{{.Name}}'"),
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* What --filter keeps: a name that matches one of the name= expressions,
 * and one of the status= states; different keys must all match. */
struct ps_filter {
	regex_t *names;
	size_t n_names;
	bool status_set, running, exited;
};

struct ps_opts {
	bool all, quiet, no_trunc;
	const char *format;
	struct ps_filter filter;
};

static void ps_filter_clear(struct ps_filter *f)
{
	for (size_t i = 0; i < f->n_names; i++)
		regfree(&f->names[i]);
	free(f->names);
}

static const char *const filter_keys[] = {"name", "status"};
static const char *const filter_states[] = {"running", "exited"};

static int filter_option(struct ps_filter *f, const char *arg, struct sbx_error **err)
{
	_cleanup_free_ char *shown = str_escape(arg);
	const char *eq = strchr(arg, '=');
	if (eq == NULL)
		return cmdline_usage(err,
		                     "--filter \"%s\": expected KEY=VALUE, name=REGEX or "
		                     "status=running|exited",
		                     shown);
	_cleanup_free_ char *key = xstrndup(arg, (size_t)(eq - arg));
	const char *value = eq + 1;
	if (strcmp(key, "name") != 0 && strcmp(key, "status") != 0) {
		_cleanup_free_ char *k = str_escape(key);
		const char *close = format_closest(key, filter_keys, ARRAY_SIZE(filter_keys));
		if (close)
			return cmdline_usage(
			    err,
			    "--filter: unknown key \"%s\"; did you mean \"%s\"? The "
			    "keys are name and status",
			    k, close);
		return cmdline_usage(
		    err, "--filter: unknown key \"%s\"; the keys are name and status", k);
	}
	if (strcmp(key, "status") == 0) {
		bool running = strcmp(value, "running") == 0;
		if (!running && strcmp(value, "exited") != 0) {
			_cleanup_free_ char *v = str_escape(value);
			const char *close =
			    format_closest(value, filter_states, ARRAY_SIZE(filter_states));
			if (close)
				return cmdline_usage(err,
				                     "--filter status=\"%s\": expected running or "
				                     "exited; did you mean \"%s\"?",
				                     v, close);
			return cmdline_usage(
			    err,
			    "--filter status=\"%s\": expected running or exited (a "
			    "stopped instance has exited)",
			    v);
		}
		f->status_set = true;
		if (running)
			f->running = true;
		else
			f->exited = true;
		return 0;
	}
	regex_t re;
	int r = regcomp(&re, value, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		char msg[256];
		regerror(r, &re, msg, sizeof(msg));
		_cleanup_free_ char *v = str_escape(value);
		return cmdline_usage(err, "--filter name=\"%s\": not a regular expression: %s", v,
		                     msg);
	}
	f->names = xrealloc(f->names, (f->n_names + 1) * sizeof(*f->names));
	f->names[f->n_names++] = re;
	return 0;
}

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
	case OPT_NO_TRUNC:
		o->no_trunc = true;
		return 0;
	case OPT_FILTER:
		return filter_option(&o->filter, arg, err);
	case CMDLINE_OPT_FORMAT:
		o->format = arg;
		return 0;
	}
	return -1;
}

/* What ps knows of one instance. */
struct row {
	const char *name;
	struct lifecycle_status st;
	char *image, *profile, *created;
	json_t *command; /* the payload's argv, or NULL */
	json_t *ports;   /* "[IP:]HOSTPORT->PORT/PROTO" strings */
};

static void row_free(struct row *r)
{
	lifecycle_status_clear(&r->st);
	free(r->image);
	free(r->profile);
	free(r->created);
	json_decref(r->command);
	json_decref(r->ports);
}

static char *meta_string(json_t *meta, const char *key)
{
	const char *s = json_string_value(json_object_get(meta, key));
	return xstrdup(s ? s : "");
}

/* The published ports, as podman shows them: "8080:80/tcp" is
 * "8080->80/tcp". Only a network helper publishes, and it leaves them in
 * network.json, which is small (config.json, with its seccomp policy, took
 * ps five times as long to read). */
static json_t *row_ports(struct sbx_instance *inst)
{
	json_t *ports = json_array();
	_cleanup_free_ char *path = xasprintf("%s/network.json", inst->dir);
	json_error_t je;
	_cleanup_json_ json_t *net = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	size_t i;
	json_t *spec;
	json_array_foreach(json_object_get(net, "publish"), i, spec)
	{
		if (!json_is_string(spec))
			continue;
		_cleanup_free_ char *one = xstrdup(json_string_value(spec));
		char *colon = strrchr(one, ':');
		if (colon) {
			*colon = '\0';
			json_array_append_new(ports, json_sprintf("%s->%s", one, colon + 1));
		}
	}
	return ports;
}

static int load_row(struct sbx_instance *inst, struct row *r, struct sbx_error **err)
{
	r->name = inst->name;
	if (lifecycle_state(inst->name, &r->st, err) < 0)
		return -1;
	json_t *meta = NULL;
	struct sbx_error *merr = NULL;
	if (instance_read_meta(inst, &meta, &merr) < 0)
		sbx_error_free(merr);
	r->image = meta_string(meta, "image");
	r->profile = meta_string(meta, "profile");
	r->created = meta_string(meta, "created");
	r->command = json_incref(json_object_get(meta, "command"));
	json_decref(meta);
	r->ports = row_ports(inst);
	return 0;
}

/* podman's states: an instance runs or has exited. */
static const char *row_state(const struct row *r)
{
	return r->st.running ? "running" : "exited";
}

static json_t *ps_name(const void *src)
{
	return json_string(((const struct row *)src)->name);
}
static json_t *ps_image(const void *src)
{
	return json_string(((const struct row *)src)->image);
}
static json_t *ps_command(const void *src)
{
	return json_incref(((const struct row *)src)->command);
}
static json_t *ps_created(const void *src)
{
	return json_string(((const struct row *)src)->created);
}
static json_t *ps_status(const void *src)
{
	return json_string(row_state(src));
}
static json_t *ps_ports(const void *src)
{
	return json_incref(((const struct row *)src)->ports);
}
static json_t *ps_profile(const void *src)
{
	return json_string(((const struct row *)src)->profile);
}
static json_t *ps_pid(const void *src)
{
	const struct row *r = src;
	return r->st.running ? json_integer(r->st.pid) : json_null();
}
static json_t *ps_running(const void *src)
{
	return json_boolean(((const struct row *)src)->st.running);
}
static json_t *ps_exit_code(const void *src)
{
	const struct row *r = src;
	return r->st.has_exit ? json_integer(r->st.exit_code) : json_null();
}
static json_t *ps_started(const void *src)
{
	const char *s = ((const struct row *)src)->st.started;
	return s ? json_string(s) : json_null();
}
static json_t *ps_finished(const void *src)
{
	const char *s = ((const struct row *)src)->st.finished;
	return s ? json_string(s) : json_null();
}

/* "exited (143)": the state, with how it ended when that is known. */
static char *ps_status_text(json_t *row)
{
	const char *state = json_string_value(json_object_get(row, "status"));
	json_t *code = json_object_get(row, "exit_code");
	if (state && strcmp(state, "exited") == 0 && json_is_integer(code))
		return xasprintf("exited (%lld)", (long long)json_integer_value(code));
	return xstrdup(state ? state : "-");
}

static char *ps_ports_text(json_t *row)
{
	char *out = xstrdup("");
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(row, "ports"), i, p)
	{
		char *next = xasprintf("%s%s%s", out, i ? ", " : "", json_string_value(p));
		free(out);
		out = next;
	}
	return out;
}

/* ps's fields: the table's columns (podman's order, NAME first in place of
 * its ID), the JSON keys and the template fields, in one place.
 * sbx-instance(1) lists them; tests/integration/user/docs.bats compares. */
static const struct format_field ps_fields[] = {
    {"Name", "name", "NAME", ps_name, NULL, 0},
    {"Image", "image", "IMAGE", ps_image, NULL, 0},
    {"Command", "command", "COMMAND", ps_command, NULL, 24},
    {"Created", "created", "CREATED", ps_created, NULL, 0},
    {"Status", "status", "STATUS", ps_status, ps_status_text, 0},
    {"Ports", "ports", "PORTS", ps_ports, ps_ports_text, 0},
    {"Profile", "profile", "PROFILE", ps_profile, NULL, 0},
    {"Pid", "pid", "PID", ps_pid, NULL, 0},
    {"State", "state", NULL, ps_status, NULL, 0},
    {"Running", "running", NULL, ps_running, NULL, 0},
    {"ExitCode", "exit_code", NULL, ps_exit_code, NULL, 0},
    {"Started", "started", NULL, ps_started, NULL, 0},
    {"Finished", "finished", NULL, ps_finished, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};

static bool ps_keep(const struct ps_opts *o, const struct row *r)
{
	const struct ps_filter *f = &o->filter;
	if (f->status_set ? !(r->st.running ? f->running : f->exited) : !(o->all || r->st.running))
		return false;
	if (f->n_names == 0)
		return true;
	for (size_t i = 0; i < f->n_names; i++)
		if (regexec(&f->names[i], r->name, 0, NULL, 0) == 0)
			return true;
	return false;
}

static int print_text(const char *text, struct sbx_error **err)
{
	fputs(text, stdout);
	if (fflush(stdout) != 0 || ferror(stdout))
		return sbx_error_set(err, errno, "cannot write the list");
	return 0;
}

static int ps_run(const struct sbx_command *cmd, struct ps_opts *o, int argc, char **argv,
                  struct sbx_error **err)
{
	int first = parse(cmd, argc, argv, ps_option, o, 0, "", err);
	if (first < 0)
		return first;
	if (first < argc)
		return cmdline_usage(err, "unexpected argument \"%s\"", argv[first]);
	_cleanup_format_ struct format *fmt = NULL;
	if (format_parse(o->format, ps_fields, &fmt, err) < 0)
		return -1;
	_cleanup_strv_ char **names = NULL;
	if (instance_list(&names, err) < 0)
		return -1;
	_cleanup_json_ json_t *rows = json_array();
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
		if (ps_keep(o, &r)) {
			if (o->quiet) /* as podman's, whatever --format says */
				printf("%s\n", names[i]);
			else
				json_array_append_new(rows, format_object(ps_fields, &r));
		}
		row_free(&r);
	}
	if (o->quiet)
		return print_text("", err);
	_cleanup_free_ char *text = NULL;
	if (format_render(fmt, rows, !o->no_trunc, &text, err) < 0)
		return -1;
	return print_text(text, err);
}

static int ps_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct ps_opts o = {0};
	int r = ps_run(cmd, &o, argc, argv, err);
	ps_filter_clear(&o.filter);
	return r;
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

static const struct sbx_option kill_options[] = {
    {"signal", 's', required_argument, "SIGNAL",
     "the signal to send: a number or a name, TERM or SIGTERM (default)", SBX_COMPLETE_SIGNAL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int kill_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	*(const char **)ctx = arg;
	return 0;
}

/* kill -s SIGNAL NAME... as podman has it, or kill NAME [SIGNAL] as sbx
 * had it first. Prints each name signalled. */
static int kill_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	const char *signame = NULL;
	int first = parse(cmd, argc, argv, kill_option, &signame, 1, "no instance given", err);
	if (first < 0)
		return first;
	int last = argc;
	if (signame == NULL && argc - first == 2)
		signame = argv[--last];
	else if (signame == NULL && argc - first > 2)
		return cmdline_usage(err, "too many arguments; to signal several instances, give "
		                          "the signal with -s");
	int sig = SIGTERM;
	if (signame && lifecycle_parse_signal(signame, &sig) < 0) {
		_cleanup_free_ char *shown = str_escape(signame);
		return sbx_error_setc(err, EINVAL, "unknown signal \"%s\"", shown);
	}
	if (last - first == 1) {
		if (lifecycle_kill(argv[first], sig, err) < 0)
			return -1;
		if (sbx_verbose >= 0)
			printf("%s\n", argv[first]);
		return 0;
	}
	int status = 0;
	for (int i = first; i < last; i++) {
		_cleanup_error_ struct sbx_error *e = NULL;
		if (lifecycle_kill(argv[i], sig, &e) < 0) {
			cmdline_error(cmd, e);
			status = SBX_EXIT_FAILURE;
		} else if (sbx_verbose >= 0) {
			printf("%s\n", argv[i]);
			fflush(stdout); /* in order with the errors */
		}
	}
	return status;
}

const struct sbx_command cmd_kill = {
    .name = "kill",
    .args = "NAME [SIGNAL] | -s SIGNAL NAME...",
    .summary = "Send a signal (default SIGTERM) to running instances.",
    .options = kill_options,
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

/* What inspect shows of one instance, put together before the fields take
 * it apart again. */
struct inspected {
	struct row r;
	json_t *state, *paths, *overlay, *network, *meta, *config;
};

static json_t *in_name(const void *src)
{
	return json_string(((const struct inspected *)src)->r.name);
}
static json_t *in_image(const void *src)
{
	return json_string(((const struct inspected *)src)->r.image);
}
static json_t *in_profile(const void *src)
{
	return json_string(((const struct inspected *)src)->r.profile);
}
static json_t *in_created(const void *src)
{
	return json_string(((const struct inspected *)src)->r.created);
}
static json_t *in_state(const void *src)
{
	return json_incref(((const struct inspected *)src)->state);
}
static json_t *in_paths(const void *src)
{
	return json_incref(((const struct inspected *)src)->paths);
}
static json_t *in_overlay(const void *src)
{
	return json_incref(((const struct inspected *)src)->overlay);
}
static json_t *in_network(const void *src)
{
	return json_incref(((const struct inspected *)src)->network);
}
static json_t *in_meta(const void *src)
{
	return json_incref(((const struct inspected *)src)->meta);
}
static json_t *in_config(const void *src)
{
	return json_incref(((const struct inspected *)src)->config);
}

/* inspect's fields: its JSON's keys, and a template's {{.State.Pid}}. */
static const struct format_field inspect_fields[] = {
    {"Name", "name", NULL, in_name, NULL, 0},
    {"Image", "image", NULL, in_image, NULL, 0},
    {"Profile", "profile", NULL, in_profile, NULL, 0},
    {"Created", "created", NULL, in_created, NULL, 0},
    {"State", "state", NULL, in_state, NULL, 0},
    {"Paths", "paths", NULL, in_paths, NULL, 0},
    {"Overlay", "overlay", NULL, in_overlay, NULL, 0},
    {"Network", "network", NULL, in_network, NULL, 0},
    {"Metadata", "metadata", NULL, in_meta, NULL, 0},
    {"Config", "config", NULL, in_config, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};

static int inspect_one(const char *name, json_t *all, struct sbx_error **err)
{
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	struct inspected in = {0};
	struct row *r = &in.r;
	if (instance_open(name, &inst, err) < 0 || load_row(inst, r, err) < 0) {
		row_free(r);
		return -1;
	}
	_cleanup_free_ char *cpath = xasprintf("%s/config.json", inst->dir);
	_cleanup_free_ char *log = xasprintf("%s/log", inst->dir);
	_cleanup_free_ char *npath = xasprintf("%s/network.json", inst->dir);
	_cleanup_free_ char *mpath = xasprintf("%s/instance.json", inst->dir);
	_cleanup_free_ char *sdir = NULL;
	state_dir(inst->name, false, &sdir, NULL);
	json_t *state = json_pack("{s:s, s:b}", "status", row_state(r), "running", r->st.running);
	json_object_set_new(state, "pid", r->st.running ? json_integer(r->st.pid) : json_null());
	json_object_set_new(state, "exit_code",
	                    r->st.has_exit ? json_integer(r->st.exit_code) : json_null());
	json_object_set_new(state, "started", str_or_null(r->st.started));
	json_object_set_new(state, "finished", str_or_null(r->st.finished));
	json_t *config = load_json(cpath);
	json_t *ann = json_object_get(config, "annotations");
	const char *backend = json_string_value(json_object_get(ann, SBX_ANN_BACKEND));
	const char *lower = json_string_value(json_object_get(ann, SBX_ANN_LOWER));
	json_t *overlay =
	    json_pack("{s:s?, s:s?, s:s?, s:s, s:s}", "lower", lower, "upper", inst->upper, "work",
	              inst->work, "scratch", inst->ephemeral ? "memory" : "disk", "requested",
	              backend ? backend : "none");
	json_object_set_new(overlay, "used", str_or_null(r->st.overlay));
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
	in.state = state;
	in.paths = paths;
	in.overlay = overlay;
	in.network = network;
	in.meta = meta;
	in.config = config;
	json_array_append_new(all, format_object(inspect_fields, &in));
	json_decref(state);
	json_decref(paths);
	json_decref(overlay);
	json_decref(network);
	json_decref(meta);
	json_decref(config);
	row_free(r);
	return 0;
}

static const struct sbx_option inspect_options[] = {
    {"format", 'f', required_argument, "FORMAT",
     "json (the default), or a template: '{{.State.Pid}}'", "json"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int inspect_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	*(const char **)ctx = arg;
	return 0;
}

static int inspect_main(const struct sbx_command *cmd, int argc, char **argv,
                        struct sbx_error **err)
{
	const char *format = NULL;
	int first = parse(cmd, argc, argv, inspect_option, &format, 1, "no instance given", err);
	if (first < 0)
		return first;
	_cleanup_format_ struct format *fmt = NULL;
	if (format_parse(format ? format : "json", inspect_fields, &fmt, err) < 0)
		return -1;
	if (format_kind(fmt) == FORMAT_TABLE)
		return cmdline_usage(err, "--format: inspect prints json or a template, not a "
		                          "table");
	_cleanup_json_ json_t *all = json_array();
	int status = 0;
	for (int i = first; i < argc; i++) {
		_cleanup_error_ struct sbx_error *e = NULL;
		if (inspect_one(argv[i], all, &e) < 0) {
			cmdline_error(cmd, e);
			status = SBX_EXIT_FAILURE;
		}
	}
	if (json_array_size(all) == 0)
		return status;
	_cleanup_free_ char *text = NULL;
	if (format_kind(fmt) == FORMAT_JSON) {
		json_t *out = argc - first == 1 ? json_array_get(all, 0) : all;
		char *s = json_dumps(out, JSON_INDENT(2));
		text = xasprintf("%s\n", s ? s : "null");
		free(s);
	} else if (format_render(fmt, all, false, &text, err) < 0) {
		return -1;
	}
	if (print_text(text, err) < 0)
		return -1;
	return status;
}

const struct sbx_command cmd_inspect = {
    .name = "inspect",
    .args = "[OPTIONS] NAME...",
    .summary = "Print an instance's config, paths and state as JSON, or with a template.",
    .options = inspect_options,
    .positional = SBX_COMPLETE_INSTANCE,
    .main = inspect_main,
    .usage_exit = SBX_EXIT_USAGE,
};

/* ---- logs ---- */

static const struct sbx_option logs_options[] = {
    {"follow", 'f', no_argument, NULL, "keep printing new output until the instance stops", NULL},
    {"tail", OPT_TAIL, required_argument, "N", "only the last N lines (-1, the default: all)",
     NULL},
    {"since", OPT_SINCE, required_argument, "TIME",
     "only lines written at or after TIME (RFC 3339, Unix time or a duration before now)", NULL},
    {"until", OPT_UNTIL, required_argument, "TIME",
     "only lines written at or before TIME (RFC 3339, Unix time or a duration from now)", NULL},
    {"timestamps", 't', no_argument, NULL, "start each line with the time it was written", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct logs_opts {
	bool follow;
	bool timestamps;
	bool tail_set;
	uint64_t tail;
	bool has_since, has_until;
	int64_t since, until;
};

static int logs_time(const char *opt, const char *arg, bool since, int64_t *out,
                     struct sbx_error **err)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (logs_parse_time(arg, (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec, since, out) == 0)
		return 0;
	_cleanup_free_ char *shown = str_escape(arg);
	return cmdline_usage(err,
	                     "--%s \"%s\": not a time: give an RFC 3339 time "
	                     "(2024-05-01T12:00:00Z), a Unix time (1714564800) or a "
	                     "duration (10m, 1h30m)",
	                     opt, shown);
}

static int logs_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct logs_opts *o = ctx;
	switch (val) {
	case 'f':
		o->follow = true;
		return 0;
	case 't':
		o->timestamps = true;
		return 0;
	case OPT_TAIL:
		if (strcmp(arg, "-1") == 0) {
			o->tail_set = false;
			return 0;
		}
		if (parse_u64(arg, &o->tail) < 0) {
			_cleanup_free_ char *shown = str_escape(arg);
			return cmdline_usage(err, "--tail \"%s\": a number of lines is needed",
			                     shown);
		}
		o->tail_set = true;
		return 0;
	case OPT_SINCE:
		o->has_since = true;
		return logs_time("since", arg, true, &o->since, err);
	case OPT_UNTIL:
		o->has_until = true;
		return logs_time("until", arg, false, &o->until, err);
	}
	return -1;
}

/* Where the last n lines of fd start: after the nth newline from the end,
 * not counting one that ends the file. */
static int tail_start(int fd, uint64_t n, uint64_t *out, struct sbx_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_error_set(err, errno, "cannot read the log");
	off_t end = st.st_size, at = end, from = 0;
	uint64_t seen = 0;
	char buf[65536];
	if (n == 0)
		from = end;
	while (n > 0 && at > 0 && from == 0) {
		size_t len = at < (off_t)sizeof(buf) ? (size_t)at : sizeof(buf);
		ssize_t got = pread(fd, buf, len, at - (off_t)len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)len)
			return sbx_error_set(err, got < 0 ? errno : EIO, "cannot read the log");
		at -= (off_t)len;
		for (size_t i = len; i-- > 0;) {
			if (buf[i] == '\n' && at + (off_t)i != end - 1 && ++seen == n) {
				from = at + (off_t)i + 1;
				break;
			}
		}
	}
	*out = (uint64_t)from;
	return 0;
}

/* Where the log goes, through a buffer: byte for byte, or, on a terminal,
 * escaped so that the payload's escape sequences cannot drive it (newlines
 * and tabs stay). A character cut in two at the buffer's end waits there
 * for its end. */
struct log_out {
	bool escape;
	size_t len;
	char buf[65536];
};

static int out_flush(struct log_out *lo, bool last)
{
	if (lo->len == 0)
		return 0;
	if (!lo->escape) {
		size_t len = lo->len;
		lo->len = 0;
		return write_all(STDOUT_FILENO, lo->buf, len);
	}
	size_t used = lo->len;
	_cleanup_free_ char *q = str_escape_mem(lo->buf, lo->len, ESCAPE_TEXT, last ? NULL : &used);
	memmove(lo->buf, lo->buf + used, lo->len - used);
	lo->len -= used;
	if (lo->len >= 4)
		abort();
	return write_all(STDOUT_FILENO, q, strlen(q));
}

static int out_put(struct log_out *lo, const char *p, size_t n)
{
	while (n > 0) {
		if (lo->len == sizeof(lo->buf) && out_flush(lo, false) < 0)
			return -1;
		size_t room = sizeof(lo->buf) - lo->len, take = n < room ? n : room;
		memcpy(lo->buf + lo->len, p, take);
		lo->len += take;
		p += take;
		n -= take;
	}
	return 0;
}

/* The log read from `at` on, line by line when a line's time matters
 * (--since, --until, -t): its time is that of log.idx's record for its
 * first byte. */
struct log_view {
	struct log_out out;
	struct logs_index idx;
	const struct logs_opts *o;
	uint64_t at;     /* the next byte to read */
	bool line_start; /* at starts a line */
	bool show;       /* the line at is in is shown */
	bool done;       /* a line after --until came: nothing more */
};

/* Prints what the log has from v->at on; -1 when stdout is gone. */
static int log_stream(int fd, struct log_view *v)
{
	const struct logs_opts *o = v->o;
	bool by_line = o->timestamps || o->has_since || o->has_until;
	char buf[65536];
	while (!v->done) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)v->at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (size_t i = 0; i < (size_t)n;) {
			if (!by_line) {
				if (out_put(&v->out, buf, (size_t)n) < 0)
					return -1;
				break;
			}
			if (v->line_start) {
				int64_t t = logs_index_time(&v->idx, v->at + i);
				if (o->has_until && t > o->until) {
					v->done = true;
					break;
				}
				v->show = !o->has_since || t >= o->since;
				v->line_start = false;
				if (v->show && o->timestamps) {
					char ts[48];
					logs_format_time(t, ts);
					strcat(ts, " ");
					if (out_put(&v->out, ts, strlen(ts)) < 0)
						return -1;
				}
			}
			char *nl = memchr(buf + i, '\n', (size_t)n - i);
			size_t end = nl ? (size_t)(nl - buf) + 1 : (size_t)n;
			if (v->show && out_put(&v->out, buf + i, end - i) < 0)
				return -1;
			v->line_start = nl != NULL;
			i = end;
		}
		v->at += (uint64_t)n;
		if (out_flush(&v->out, false) < 0)
			return -1;
	}
	return 0;
}

/* Where to start: at the last N lines for --tail, at the first record
 * written at or after --since, whichever comes later. */
static int log_start(int fd, struct log_view *v, struct sbx_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_error_set(err, errno, "cannot read the log");
	uint64_t at = 0;
	if (v->o->tail_set && tail_start(fd, v->o->tail, &at, err) < 0)
		return -1;
	if (v->o->has_since) {
		/* Bytes past the size taken before the search are filtered
		 * line by line as they are read. */
		uint64_t found = logs_index_find(&v->idx, v->o->since);
		if (found > (uint64_t)st.st_size)
			found = (uint64_t)st.st_size;
		if (found > at)
			at = found;
	}
	char before = '\n';
	if (at > 0 && pread(fd, &before, 1, (off_t)at - 1) != 1)
		return sbx_error_set(err, errno ? errno : EIO, "cannot read the log");
	v->at = at;
	/* In the middle of a line: it started before --since. */
	v->line_start = before == '\n';
	v->show = v->line_start;
	logs_index_seek(&v->idx, at);
	return 0;
}

static bool past_until(const struct logs_opts *o)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return o->has_until && (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec > o->until;
}

static int logs_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct logs_opts o = {0};
	int first = parse(cmd, argc, argv, logs_option, &o, 1, "no instance given", err);
	if (first < 0)
		return first;
	if (argc - first > 1)
		return cmdline_usage(err, "one instance at a time");
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(argv[first], &inst, err) < 0)
		return -1;
	_cleanup_free_ char *path = xasprintf("%s/log", inst->dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	/* A detached run makes the log before the instance starts. */
	if (fd < 0 && errno == ENOENT)
		return sbx_error_setc(
		    err, ENOENT,
		    "instance \"%s\" has no log: only detached instances (sbx run "
		    "-d, sbx start) are logged; a foreground one's output went to "
		    "its terminal",
		    inst->name);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", path);
	_cleanup_free_ struct log_view *v = xcalloc(1, sizeof(*v));
	v->o = &o;
	v->out.escape = isatty(STDOUT_FILENO);
	if (logs_index_open(inst->dir, &v->idx, err) < 0)
		return -1;
	int r = 0;
	if (log_start(fd, v, err) < 0)
		r = -1;
	else if (log_stream(fd, v) == 0 && o.follow) {
		/* Follow: wake on writes; stop once nobody holds the instance
		 * lock (the capture process holds it until the log has every
		 * byte), or once --until is past. */
		_cleanup_close_ int ino = inotify_init1(IN_CLOEXEC);
		if (ino >= 0)
			inotify_add_watch(ino, inst->dir, IN_MODIFY | IN_CREATE);
		while (!v->done) {
			bool running = false;
			struct sbx_error *serr = NULL;
			bool end = state_is_running(inst->dir, &running, &serr) < 0 || !running ||
			           past_until(&o);
			sbx_error_free(serr);
			if (log_stream(fd, v) < 0 || end)
				break;
			struct pollfd p = {.fd = ino, .events = POLLIN};
			if (poll(&p, 1, 500) > 0) {
				char buf[4096];
				if (read(ino, buf, sizeof(buf)) < 0 && errno != EAGAIN)
					break;
			}
		}
	}
	(void)out_flush(&v->out, true);
	logs_index_close(&v->idx);
	return r;
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
