/* cmd-oci.c - sbx-oci and `sbx oci`: runc's command line over
 * lifecycle/oci-runtime.c, so that podman, containerd and a user with a
 * bundle drive sbx as they drive runc. The global options and each command
 * are rows of sbx's tables (cmdline.h), which drive parsing, --help and
 * `sbx __complete`; as runc does, options come before the operands, global
 * ones before the command. Errors are printed here ("sbx-oci: CMD: ..."),
 * and written to --log. */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/oci-runtime.h"
#include "lib/util.h"
#include "store/state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct {
	const char *prog; /* "sbx-oci" or "sbx oci" */
	char *root;
	const char *log;
	int log_fd; /* opened once: exec leaves the host's mount namespace */
	bool log_json;
	const char *command;
	enum cgroup_driver cgroup_driver; /* --systemd-cgroup, --cgroup-manager */
} g;

#define OCI_USAGE 125

static void log_line(const char *level, const char *msg)
{
	if (g.log == NULL || g.log_fd < 0)
		return;
	int fd = g.log_fd;
	char t[48];
	state_now_ns(t);
	_cleanup_free_ char *line = NULL;
	if (g.log_json) {
		_cleanup_json_ json_t *j =
		    json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", t);
		_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
		line = xasprintf("%s\n", s);
	} else {
		line = xasprintf("time=\"%s\" level=%s msg=\"%s\"\n", t, level, msg);
	}
	write_all(fd, line, strlen(line));
}

/* The one way an error is shown: on stderr, and in --log. */
static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (g.command)
		fprintf(stderr, "%s: %s: %s\n", g.prog, g.command, msg);
	else
		fprintf(stderr, "%s: %s\n", g.prog, msg);
	log_line("error", msg);
	return code;
}

/* A warning (a failed poststop hook): the step goes on. */
static void warn(const char *msg)
{
	if (g.command)
		fprintf(stderr, "%s: %s: warning: %s\n", g.prog, g.command, msg);
	else
		fprintf(stderr, "%s: warning: %s\n", g.prog, msg);
	log_line("warning", msg);
}

static int fail_err(struct sbx_error *e)
{
	int r = fail(SBX_EXIT_FAILURE, "%s", e ? e->msg : "unknown error");
	sbx_error_free(e);
	return r;
}

/* The list of commands and the global options, from the tables. */
static void usage(FILE *f)
{
	cmdline_help_as(&cmd_oci, g.prog, oci_commands, f);
}

/* Parses cmd's options (its table) from argv[1..], up to the first operand.
 * Returns the first operand's index, 0 after --help printed the command's
 * help, or -(exit status) after an error: callers return -r for any
 * r <= 0. */
static int parse(const struct sbx_command *cmd, int argc, char **argv, sbx_option_fn fn, void *ctx)
{
	char shown[64];
	snprintf(shown, sizeof(shown), "%s %s", g.prog, cmd->name);
	struct sbx_error *e = NULL;
	int first = cmdline_parse_as(cmd, shown, NULL, argc, argv, true, fn, ctx, &e);
	if (first == CMDLINE_HELP)
		return 0;
	if (first < 0)
		return -fail_err(e);
	return first;
}

/* Exactly want operands from argv[first]; "ID" names them. */
static int operands(int argc, int first, int want, const char *what)
{
	if (argc - first < want)
		return -fail(OCI_USAGE, "missing %s", what);
	if (argc - first > want)
		return -fail(OCI_USAGE, "too many arguments, expected %s", what);
	return 0;
}

/* ---- create, run ---- */

struct create_args {
	struct oci_create_opts o;
	bool detach;
};

enum {
	OPT_PID_FILE = 256,
	OPT_CONSOLE,
	OPT_PRESERVE,
	OPT_NO_PIVOT,
	OPT_NO_KEYRING,
	OPT_NO_SUBREAPER,
};

static int create_opt(void *ctx, int c, const char *arg, struct sbx_error **err)
{
	struct create_args *a = ctx;
	switch (c) {
	case 'b':
		a->o.bundle = arg;
		break;
	case 'd':
		a->detach = true;
		break;
	case OPT_PID_FILE:
		a->o.pid_file = arg;
		break;
	case OPT_CONSOLE:
		a->o.console_socket = arg;
		break;
	case OPT_PRESERVE: {
		uint64_t n;
		if (parse_u64(arg, &n) < 0 || n > 4096)
			return cmdline_usage(err, "--preserve-fds '%s' is not a number of fds",
			                     arg);
		a->o.preserve_fds = (unsigned)n;
		break;
	}
	/* sbx always pivots the root, makes no session keyring and keeps no
	 * process of its own over the container: these change nothing. */
	case OPT_NO_PIVOT:
	case OPT_NO_KEYRING:
	case OPT_NO_SUBREAPER:
		break;
	}
	return 0;
}

/* run's options; create's are the same but the first, -d. */
static const struct sbx_option run_options[] = {
    {"detach", 'd', no_argument, NULL, "exit once the container runs, without waiting for it",
     NULL},
    {"bundle", 'b', required_argument, "DIR",
     "the bundle: config.json and the root (default: the current directory)", SBX_COMPLETE_DIR},
    {"pid-file", OPT_PID_FILE, required_argument, "FILE", "write the container's pid to FILE",
     SBX_COMPLETE_FILE},
    {"console-socket", OPT_CONSOLE, required_argument, "PATH",
     "send the terminal's fd to the unix socket PATH (process.terminal)", SBX_COMPLETE_FILE},
    {"preserve-fds", OPT_PRESERVE, required_argument, "N", "pass fds 3 to 3+N-1 on to the payload",
     NULL},
    {"no-pivot", OPT_NO_PIVOT, no_argument, NULL, "accepted; sbx always pivots the root", NULL},
    {"no-new-keyring", OPT_NO_KEYRING, no_argument, NULL, "accepted; sbx makes no session keyring",
     NULL},
    {"no-subreaper", OPT_NO_SUBREAPER, no_argument, NULL,
     "accepted; sbx keeps no process over the container", NULL},
    {0},
};
#define create_options (run_options + 1)

/* The log's fd, opened first, must not take the number of one the caller
 * passes on from 3 (then missing, which create and exec refuse): moved to
 * TOP or above. */
static void log_fd_above(long top)
{
	if (g.log_fd < 3 || g.log_fd >= top)
		return;
	int fd = fcntl(g.log_fd, F_DUPFD_CLOEXEC, (int)top);
	close(g.log_fd);
	g.log_fd = fd;
}

static int create_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	bool run = strcmp(cmd->name, "run") == 0;
	struct create_args a = {.o = {.root = g.root, .cgroup_driver = g.cgroup_driver}};
	int first = parse(cmd, argc, argv, create_opt, &a);
	if (first <= 0)
		return -first;
	if (operands(argc, first, 1, "a container ID") < 0)
		return OCI_USAGE;
	a.o.id = argv[first];
	const char *lfds = getenv("LISTEN_FDS");
	log_fd_above(3 + (long)a.o.preserve_fds + (lfds ? strtol(lfds, NULL, 10) : 0));
	struct sbx_error *e = NULL;
	if (!run) {
		if (oci_create(&a.o, &e) < 0)
			return fail_err(e);
		return 0;
	}
	int status = 0;
	if (oci_run(&a.o, a.detach, &status, &e) < 0) {
		fail_err(e);
		return status ? status : SBX_EXIT_FAILURE;
	}
	return status;
}

/* ---- exec ---- */

struct exec_args {
	struct oci_exec_opts o;
	const char *process_file;
	char **env;
};

enum {
	X_PROCESS = 256,
	X_PID_FILE,
	X_CONSOLE,
	X_CWD,
	X_NO_NEW_PRIVS,
	X_PRESERVE,
	/* runc's, which sbx-oci does not implement: refused by name. */
	X_CAP = 'c',
	X_GIDS = 'g',
	X_APPARMOR = 300,
	X_LABEL,
	X_CGROUP,
	X_IGNORE_PAUSED,
};

static const struct sbx_option exec_options[] = {
    {"process", 'p', required_argument, "FILE",
     "the process, as config.json's process (JSON), instead of COMMAND", SBX_COMPLETE_FILE},
    {"detach", 'd', no_argument, NULL, "do not wait for the process", NULL},
    {"tty", 't', no_argument, NULL, "give the process a terminal (needs --console-socket)", NULL},
    {"pid-file", X_PID_FILE, required_argument, "FILE", "write the process's pid to FILE",
     SBX_COMPLETE_FILE},
    {"console-socket", X_CONSOLE, required_argument, "PATH",
     "send the terminal's fd to the unix socket PATH", SBX_COMPLETE_FILE},
    {"cwd", X_CWD, required_argument, "DIR", "the working directory in the container", NULL},
    {"env", 'e', required_argument, "KEY=VALUE", "set an environment variable (repeatable)", NULL},
    {"user", 'u', required_argument, "UID[:GID]", "run as UID and GID (numbers)", NULL},
    {"no-new-privs", X_NO_NEW_PRIVS, no_argument, NULL, "set no_new_privs", NULL},
    {"preserve-fds", X_PRESERVE, required_argument, "N", "pass fds 3 to 3+N-1 on to the process",
     NULL},
    {"cap", X_CAP, required_argument, "CAP", "runc's; not supported by sbx-oci",
     SBX_COMPLETE_CAPABILITY},
    {"additional-gids", X_GIDS, required_argument, "GID", "runc's; not supported by sbx-oci", NULL},
    {"apparmor", X_APPARMOR, required_argument, "PROFILE", "runc's; not supported by sbx-oci",
     NULL},
    {"process-label", X_LABEL, required_argument, "LABEL", "runc's; not supported by sbx-oci",
     NULL},
    {"cgroup", X_CGROUP, required_argument, "PATH", "runc's; not supported by sbx-oci", NULL},
    {"ignore-paused", X_IGNORE_PAUSED, no_argument, NULL, "runc's; not supported by sbx-oci", NULL},
    {0},
};

static int exec_opt(void *ctx, int c, const char *arg, struct sbx_error **err)
{
	struct exec_args *a = ctx;
	switch (c) {
	case 'p':
		a->process_file = arg;
		break;
	case 'd':
		a->o.detach = true;
		break;
	case 't':
		a->o.tty = true;
		break;
	case X_PID_FILE:
		a->o.pid_file = arg;
		break;
	case X_CONSOLE:
		a->o.console_socket = arg;
		break;
	case X_CWD:
		if (arg[0] != '/')
			return cmdline_usage(err, "--cwd \"%s\": must be an absolute path", arg);
		a->o.cwd = arg;
		break;
	case 'e':
		if (strchr(arg, '=') == NULL || arg[0] == '=')
			return cmdline_usage(err, "--env \"%s\": expected KEY=VALUE", arg);
		strv_push(&a->env, arg);
		break;
	case 'u': {
		_cleanup_free_ char *u = xstrdup(arg);
		char *colon = strchr(u, ':');
		uint64_t uid, gid = 0;
		if (colon)
			*colon = '\0';
		if (parse_u64(u, &uid) < 0 || uid >= UINT32_MAX ||
		    (colon && (parse_u64(colon + 1, &gid) < 0 || gid >= UINT32_MAX)))
			return cmdline_usage(err, "--user \"%s\": expected UID[:GID] (numbers)",
			                     arg);
		a->o.user_set = true;
		a->o.uid = (unsigned)uid;
		a->o.gid_set = colon != NULL;
		a->o.gid = (unsigned)gid;
		break;
	}
	case X_NO_NEW_PRIVS:
		a->o.no_new_privs = true;
		break;
	case X_PRESERVE: {
		uint64_t n;
		if (parse_u64(arg, &n) < 0 || n > 4096)
			return cmdline_usage(err, "--preserve-fds '%s' is not a number of fds",
			                     arg);
		a->o.preserve_fds = (unsigned)n;
		break;
	}
	default:
		for (const struct sbx_option *o = exec_options; o->name; o++)
			if (o->val == c)
				return sbx_error_set(err, 0, "--%s: not supported by sbx-oci",
				                     o->name);
		break;
	}
	return 0;
}

static int exec_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct exec_args a = {.o = {.root = g.root}};
	_cleanup_json_ json_t *process = NULL;
	int first = parse(cmd, argc, argv, exec_opt, &a);
	int status = SBX_EXIT_FAILURE;
	if (first <= 0) {
		status = -first;
		goto out;
	}
	if (argc - first < 1) {
		status = fail(OCI_USAGE, "missing a container ID");
		goto out;
	}
	if (a.process_file && argc - first > 1) {
		status = fail(OCI_USAGE, "--process and a command exclude each other");
		goto out;
	}
	if (!a.process_file && argc - first < 2) {
		status = fail(OCI_USAGE, "missing a command, or --process FILE");
		goto out;
	}
	if (a.o.tty && a.o.console_socket == NULL) {
		status = fail(OCI_USAGE, "-t needs --console-socket: the terminal would have no "
		                         "reader");
		goto out;
	}
	if (a.process_file) {
		json_error_t je;
		process = json_load_file(a.process_file, JSON_REJECT_DUPLICATES, &je);
		if (process == NULL) {
			status = fail(SBX_EXIT_FAILURE, "cannot read --process \"%s\": %s",
			              a.process_file, je.text);
			goto out;
		}
	}
	a.o.id = argv[first];
	a.o.process = process;
	log_fd_above(3 + (long)a.o.preserve_fds);
	a.o.args = a.process_file ? NULL : argv + first + 1;
	a.o.env = a.env;
	struct sbx_error *e = NULL;
	if (oci_exec(&a.o, &status, &e) < 0)
		fail_err(e);
out:
	strv_free(a.env);
	return status;
}

/* ---- the by-ID commands ---- */

enum { F_ROOTLESS = 256 };

struct flags {
	bool all, force, quiet, rootless;
	bool json;
	const char *bundle;
};

static int flag_opt(void *ctx, int c, const char *arg, struct sbx_error **err)
{
	struct flags *f = ctx;
	switch (c) {
	case 'a':
		f->all = true;
		break;
	case 'f':
		if (arg == NULL) {
			f->force = true;
			break;
		}
		/* list's -f is --format */
		/* fallthrough */
	case 'F':
		if (strcmp(arg, "json") == 0)
			f->json = true;
		else if (strcmp(arg, "table") == 0)
			f->json = false;
		else
			return cmdline_usage(err, "unknown format '%s'; use 'table' or 'json'",
			                     arg);
		break;
	case 'q':
		f->quiet = true;
		break;
	case F_ROOTLESS:
		f->rootless = true;
		break;
	case 'b':
		f->bundle = arg;
		break;
	}
	return 0;
}

static int print_json(json_t *j)
{
	_cleanup_free_ char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	return 0;
}

/* start, state, kill, delete, pause and resume: a container's ID. */
static int id_main(const struct sbx_command *c, int argc, char **argv, struct sbx_error **err)
{
	const char *cmd = c->name;
	bool is_kill = strcmp(cmd, "kill") == 0, is_delete = strcmp(cmd, "delete") == 0;
	struct flags f = {0};
	int first = parse(c, argc, argv, flag_opt, &f);
	if (first <= 0)
		return -first;
	if (is_kill) {
		if (argc - first < 1)
			return fail(OCI_USAGE, "missing a container ID");
		if (argc - first > 2)
			return fail(OCI_USAGE, "too many arguments, expected ID [SIGNAL]");
	} else if (operands(argc, first, 1, "a container ID") < 0) {
		return OCI_USAGE;
	}
	const char *id = argv[first];
	struct sbx_error *e = NULL;
	if (strcmp(cmd, "state") == 0) {
		_cleanup_json_ json_t *s = NULL;
		if (oci_state(g.root, id, &s, &e) < 0)
			return fail_err(e);
		return print_json(s);
	}
	if (strcmp(cmd, "start") == 0)
		return oci_start(g.root, id, &e) < 0 ? fail_err(e) : 0;
	if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0)
		return oci_pause(g.root, id, cmd[0] == 'p', &e) < 0 ? fail_err(e) : 0;
	if (is_delete)
		return oci_delete(g.root, id, f.force, &e) < 0 ? fail_err(e) : 0;
	int sig = SIGTERM;
	if (argc - first == 2 && lifecycle_parse_signal(argv[first + 1], &sig) < 0)
		return fail(OCI_USAGE, "unknown signal '%s'", argv[first + 1]);
	return oci_kill(g.root, id, sig, f.all, &e) < 0 ? fail_err(e) : 0;
}

#define FORMAT_OPTION                                                                              \
	{                                                                                          \
		"format", 'f', required_argument, "FORMAT", "table (the default) or json",         \
		    "table json"                                                                   \
	}

static const struct sbx_option list_options[] = {
    {"quiet", 'q', no_argument, NULL, "print the IDs only", NULL},
    FORMAT_OPTION,
    {0},
};

static int list_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct flags f = {0};
	int first = parse(cmd, argc, argv, flag_opt, &f);
	if (first <= 0)
		return -first;
	if (operands(argc, first, 0, "no argument") < 0)
		return OCI_USAGE;
	_cleanup_json_ json_t *list = NULL;
	struct sbx_error *e = NULL;
	if (oci_list(g.root, &list, &e) < 0)
		return fail_err(e);
	size_t i;
	json_t *s;
	if (f.quiet) {
		json_array_foreach(list, i, s)
		    printf("%s\n", json_string_value(json_object_get(s, "id")));
		return 0;
	}
	if (f.json)
		return print_json(list);
	/* runc's columns, tab-aligned as its tabwriter does. */
	size_t w = 2;
	json_array_foreach(list, i, s)
	{
		size_t n = strlen(json_string_value(json_object_get(s, "id")));
		w = n > w ? n : w;
	}
	printf("%-*s   %-10s %-10s %-40s %-30s %s\n", (int)w, "ID", "PID", "STATUS", "BUNDLE",
	       "CREATED", "OWNER");
	json_array_foreach(list, i, s)
	{
		printf("%-*s   %-10lld %-10s %-40s %-30s %s\n", (int)w,
		       json_string_value(json_object_get(s, "id")),
		       (long long)json_integer_value(json_object_get(s, "pid")),
		       json_string_value(json_object_get(s, "status")),
		       json_string_value(json_object_get(s, "bundle")),
		       json_string_value(json_object_get(s, "created")),
		       json_string_value(json_object_get(s, "owner")));
	}
	return 0;
}

/* ps: runc's --format json is the pids; the table is PID and CMD. */
static const struct sbx_option ps_options[] = {FORMAT_OPTION, {0}};

static int ps_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct flags f = {0};
	int first = parse(cmd, argc, argv, flag_opt, &f);
	if (first <= 0)
		return -first;
	if (operands(argc, first, 1, "a container ID") < 0)
		return OCI_USAGE;
	_cleanup_json_ json_t *pids = NULL;
	struct sbx_error *e = NULL;
	if (oci_ps(g.root, argv[first], &pids, &e) < 0)
		return fail_err(e);
	if (f.json) {
		_cleanup_free_ char *s = json_dumps(pids, JSON_COMPACT);
		printf("%s\n", s);
		return 0;
	}
	printf("%-10s %s\n", "PID", "CMD");
	size_t i;
	json_t *p;
	json_array_foreach(pids, i, p)
	{
		char path[64], buf[4096];
		snprintf(path, sizeof(path), "/proc/%lld/cmdline",
		         (long long)json_integer_value(p));
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		size_t n = fd >= 0 ? read_string(fd, buf, sizeof(buf)) : 0;
		for (size_t k = 0; k + 1 < n; k++)
			if (buf[k] == '\0')
				buf[k] = ' ';
		_cleanup_free_ char *shown = str_escape(n ? buf : "?");
		printf("%-10lld %s\n", (long long)json_integer_value(p), shown);
	}
	return 0;
}

static const struct sbx_option spec_options[] = {
    {"rootless", F_ROOTLESS, no_argument, NULL,
     "a configuration for a user: a user namespace, no devices of the host's", NULL},
    {"bundle", 'b', required_argument, "DIR",
     "write DIR/config.json (default: the current directory)", SBX_COMPLETE_DIR},
    {0},
};

static int spec_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct flags f = {0};
	int first = parse(cmd, argc, argv, flag_opt, &f);
	if (first <= 0)
		return -first;
	if (operands(argc, first, 0, "no argument") < 0)
		return OCI_USAGE;
	const char *dir = f.bundle ? f.bundle : ".";
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(SBX_EXIT_FAILURE, "cannot open the bundle \"%s\": %s", dir,
		            strerror(errno));
	if (faccessat(dfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return fail(SBX_EXIT_FAILURE, "\"%s/config.json\" exists; remove it first", dir);
	_cleanup_json_ json_t *j = oci_spec_default(f.rootless);
	_cleanup_free_ char *s = json_dumps(j, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
	_cleanup_free_ char *text = xasprintf("%s\n", s);
	struct sbx_error *e = NULL;
	if (write_file_atomic(dfd, "config.json", text, strlen(text), 0644, &e) < 0)
		return fail_err(e);
	return 0;
}

/* ---- update ---- */

enum {
	U_RESOURCES = 'r',
	U_MEMORY = 256,
	U_MEMORY_SWAP,
	U_MEMORY_RESERVATION,
	U_PIDS,
	U_CPU_SHARES,
	U_CPU_QUOTA,
	U_CPU_PERIOD,
	U_CPUS,
	U_MEMS,
	U_BLKIO,
	U_REFUSED,
};

struct update_args {
	const char *resources;
	json_t *opts; /* the options, as linux.resources */
};

/* opts.section.key = v (a new reference). */
static void update_put(json_t *opts, const char *section, const char *key, json_t *v)
{
	json_t *o = json_object_get(opts, section);
	if (o == NULL)
		json_object_set_new(opts, section, o = json_object());
	json_object_set_new(o, key, v);
}

/* A number, a size with a k/m/g suffix for memory, or -1 for no limit. */
static int update_value(json_t *opts, const char *name, const char *arg, bool size,
                        const char *section, const char *key, struct sbx_error **err)
{
	uint64_t v;
	if (strcmp(arg, "-1") == 0) {
		update_put(opts, section, key, json_integer(-1));
		return 0;
	}
	if ((size ? parse_size(arg, &v) : parse_u64(arg, &v)) < 0 || v > (uint64_t)LLONG_MAX)
		return cmdline_usage(err, "--%s '%s' is not %s (-1: no limit)", name, arg,
		                     size ? "a size" : "a number");
	update_put(opts, section, key, json_integer((json_int_t)v));
	return 0;
}

static int update_opt(void *ctx, int c, const char *arg, struct sbx_error **err)
{
	struct update_args *a = ctx;
	json_t *o = a->opts;
	switch (c) {
	case U_RESOURCES:
		a->resources = arg;
		return 0;
	case U_MEMORY:
		return update_value(o, "memory", arg, true, "memory", "limit", err);
	case U_MEMORY_SWAP:
		return update_value(o, "memory-swap", arg, true, "memory", "swap", err);
	case U_MEMORY_RESERVATION:
		return update_value(o, "memory-reservation", arg, true, "memory", "reservation",
		                    err);
	case U_PIDS:
		return update_value(o, "pids-limit", arg, false, "pids", "limit", err);
	case U_CPU_SHARES:
		return update_value(o, "cpu-share", arg, false, "cpu", "shares", err);
	case U_CPU_QUOTA:
		return update_value(o, "cpu-quota", arg, false, "cpu", "quota", err);
	case U_CPU_PERIOD:
		return update_value(o, "cpu-period", arg, false, "cpu", "period", err);
	case U_BLKIO:
		return update_value(o, "blkio-weight", arg, false, "blockIO", "weight", err);
	case U_CPUS:
		update_put(o, "cpu", "cpus", json_string(arg));
		return 0;
	case U_MEMS:
		update_put(o, "cpu", "mems", json_string(arg));
		return 0;
	}
	return 0;
}

static const struct sbx_option update_options[] = {
    {"resources", U_RESOURCES, required_argument, "FILE",
     "the limits, as config.json's linux.resources (JSON); - reads stdin", SBX_COMPLETE_FILE},
    {"memory", U_MEMORY, required_argument, "SIZE", "memory.max (-1: no limit)", NULL},
    {"memory-swap", U_MEMORY_SWAP, required_argument, "SIZE", "memory and swap (-1: no limit)",
     NULL},
    {"memory-reservation", U_MEMORY_RESERVATION, required_argument, "SIZE", "memory.low (-1: none)",
     NULL},
    {"pids-limit", U_PIDS, required_argument, "N", "pids.max (-1: no limit)", NULL},
    {"cpu-share", U_CPU_SHARES, required_argument, "N", "CPU shares (cpu.weight on v2)", NULL},
    {"cpu-quota", U_CPU_QUOTA, required_argument, "N", "CPU time a period (microseconds)", NULL},
    {"cpu-period", U_CPU_PERIOD, required_argument, "N", "the period (microseconds)", NULL},
    {"cpuset-cpus", U_CPUS, required_argument, "LIST", "the CPUs allowed, as 0-3,6", NULL},
    {"cpuset-mems", U_MEMS, required_argument, "LIST", "the memory nodes allowed", NULL},
    {"blkio-weight", U_BLKIO, required_argument, "N", "block I/O weight (10 to 1000)", NULL},
    {0},
};

static int update_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	_cleanup_json_ json_t *given = json_object();
	struct update_args a = {.opts = given};
	struct sbx_resources r = {0};
	_cleanup_json_ json_t *j = json_incref(given);
	int status = SBX_EXIT_FAILURE;
	int first = parse(cmd, argc, argv, update_opt, &a);
	if (first <= 0) {
		status = -first;
		goto out;
	}
	if (operands(argc, first, 1, "a container ID") < 0) {
		status = OCI_USAGE;
		goto out;
	}
	struct sbx_error *e = NULL;
	if (a.resources) {
		json_error_t je;
		json_decref(j);
		j = strcmp(a.resources, "-") == 0
		        ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &je)
		        : json_load_file(a.resources, JSON_REJECT_DUPLICATES, &je);
		if (j == NULL) {
			status = fail(SBX_EXIT_FAILURE, "cannot read --resources \"%s\": %s",
			              a.resources, je.text);
			goto out;
		}
		/* The options given win over the file, as runc's do. */
		const char *sec;
		json_t *o;
		json_object_foreach(given, sec, o)
		{
			json_t *in = json_object_get(j, sec);
			if (json_is_object(in))
				json_object_update(in, o);
			else if (json_is_object(j) && in == NULL)
				json_object_set(j, sec, o);
		}
	}
	if (cgroup_resources_parse_update(j, &r, &e) < 0) {
		status = fail_err(e);
		goto out;
	}
	status = oci_update(g.root, argv[first], &r, &e) < 0 ? fail_err(e) : 0;
out:
	cgroup_resources_free(&r);
	return status;
}

static int features_main(const struct sbx_command *cmd, int argc, char **argv,
                         struct sbx_error **err)
{
	int first = parse(cmd, argc, argv, NULL, NULL);
	if (first <= 0)
		return -first;
	if (operands(argc, first, 0, "no argument") < 0)
		return OCI_USAGE;
	_cleanup_json_ json_t *j = oci_features();
	return print_json(j);
}

/* The by-ID commands' options. */
static const struct sbx_option kill_options[] = {
    {"all", 'a', no_argument, NULL, "signal every process of the container", NULL},
    {0},
};
static const struct sbx_option delete_options[] = {
    {"force", 'f', no_argument, NULL, "kill a running container first", NULL},
    {0},
};

/* runc's commands, in the order --help lists them. Each main returns the
 * exit status and has printed its errors (fail). */
static const struct sbx_command oci_create_cmd = {
    .name = "create",
    .args = "[OPTIONS] ID",
    .summary = "create a container from a bundle; start releases it",
    .options = create_options,
    .main = create_main,
};
static const struct sbx_command oci_start_cmd = {
    .name = "start",
    .args = "ID",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "start a created container",
    .main = id_main,
};
static const struct sbx_command oci_run_cmd = {
    .name = "run",
    .args = "[OPTIONS] ID",
    .summary = "create and start a container",
    .options = run_options,
    .main = create_main,
};
static const struct sbx_command oci_exec_cmd = {
    .name = "exec",
    .args = "[OPTIONS] ID [COMMAND [ARG...]]",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "run a process in a container: COMMAND, or --process",
    .options = exec_options,
    .main = exec_main,
};
static const struct sbx_command oci_state_cmd = {
    .name = "state",
    .args = "ID",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "print a container's state (JSON)",
    .main = id_main,
};
static const struct sbx_command oci_list_cmd = {
    .name = "list",
    .args = "[OPTIONS]",
    .summary = "list containers",
    .options = list_options,
    .main = list_main,
};
static const struct sbx_command oci_kill_cmd = {
    .name = "kill",
    .args = "[OPTIONS] ID [SIGNAL]",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "send a signal to a container's init (default SIGTERM)",
    .options = kill_options,
    .main = id_main,
};
static const struct sbx_command oci_ps_cmd = {
    .name = "ps",
    .args = "[OPTIONS] ID",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "list a container's processes",
    .options = ps_options,
    .main = ps_main,
};
static const struct sbx_command oci_delete_cmd = {
    .name = "delete",
    .args = "[OPTIONS] ID",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "delete a stopped container",
    .options = delete_options,
    .main = id_main,
};
static const struct sbx_command oci_pause_cmd = {
    .name = "pause",
    .args = "ID",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "freeze a container's processes (through its cgroup)",
    .main = id_main,
};
static const struct sbx_command oci_resume_cmd = {
    .name = "resume",
    .args = "ID",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "thaw them",
    .main = id_main,
};
static const struct sbx_command oci_update_cmd = {
    .name = "update",
    .args = "[OPTIONS] ID",
    .positional = SBX_COMPLETE_CONTAINER,
    .summary = "change a container's cgroup limits",
    .options = update_options,
    .main = update_main,
};
static const struct sbx_command oci_spec_cmd = {
    .name = "spec",
    .args = "[OPTIONS]",
    .summary = "write a default config.json",
    .options = spec_options,
    .main = spec_main,
};
static const struct sbx_command oci_features_cmd = {
    .name = "features",
    .args = "",
    .summary = "print what this runtime supports (JSON)",
    .main = features_main,
};

const struct sbx_command *const oci_commands[] = {
    &oci_create_cmd, &oci_start_cmd,  &oci_run_cmd,  &oci_exec_cmd,     &oci_state_cmd,
    &oci_list_cmd,   &oci_kill_cmd,   &oci_ps_cmd,   &oci_delete_cmd,   &oci_pause_cmd,
    &oci_resume_cmd, &oci_update_cmd, &oci_spec_cmd, &oci_features_cmd, NULL,
};

/* What runc has and sbx-oci does not do: refused by name. */
static const char *const missing[] = {"checkpoint", "restore", "events"};

enum {
	G_ROOT = 256,
	G_LOG,
	G_LOG_FORMAT,
	G_DEBUG,
	G_SYSTEMD,
	G_CGROUP_MANAGER,
	G_ROOTLESS,
	G_VERSION,
	G_CRIU,
};

/* The global options, before the command. */
static const struct sbx_option oci_options[] = {
    {"root", G_ROOT, required_argument, "DIR",
     "where state lives (default $XDG_RUNTIME_DIR/sbx-oci; /run/sbx-oci for root)",
     SBX_COMPLETE_DIR},
    {"log", G_LOG, required_argument, "FILE", "also write errors to FILE", SBX_COMPLETE_FILE},
    {"log-format", G_LOG_FORMAT, required_argument, "FORMAT", "text or json", "text json"},
    {"debug", G_DEBUG, no_argument, NULL, "trace what is being done", NULL},
    {"systemd-cgroup", G_SYSTEMD, no_argument, NULL,
     "cgroupsPath is slice:prefix:name (systemd's layout)", NULL},
    {"cgroup-manager", G_CGROUP_MANAGER, required_argument, "M",
     "cgroupfs, systemd (as --systemd-cgroup) or disabled", "cgroupfs systemd disabled"},
    {"rootless", G_ROOTLESS, optional_argument, "V", "accepted: true, false or auto", NULL},
    {"criu", G_CRIU, required_argument, "PATH", "accepted; sbx-oci does not checkpoint",
     SBX_COMPLETE_FILE},
    {"version", G_VERSION, no_argument, NULL, "show the version", NULL},
    {0},
};

struct global_args {
	const char *root;
	bool version;
};

static int global_opt(void *ctx, int c, const char *arg, struct sbx_error **err)
{
	struct global_args *a = ctx;
	switch (c) {
	case G_ROOT:
		a->root = arg;
		break;
	case G_LOG:
		g.log = arg;
		break;
	case G_LOG_FORMAT:
		if (strcmp(arg, "json") == 0)
			g.log_json = true;
		else if (strcmp(arg, "text") == 0)
			g.log_json = false;
		else
			return cmdline_usage(err, "unknown log format '%s'; use 'text' or 'json'",
			                     arg);
		break;
	case G_DEBUG:
		sbx_trace_enabled = 1;
		break;
	case G_CGROUP_MANAGER:
		if (strcmp(arg, "cgroupfs") == 0)
			g.cgroup_driver = CGROUP_DRIVER_FS;
		else if (strcmp(arg, "systemd") == 0)
			g.cgroup_driver = CGROUP_DRIVER_SYSTEMD;
		else if (strcmp(arg, "disabled") == 0)
			g.cgroup_driver = CGROUP_DRIVER_NONE;
		else
			return cmdline_usage(
			    err,
			    "unknown cgroup manager '%s'; use cgroupfs, systemd or "
			    "disabled",
			    arg);
		break;
	case G_ROOTLESS:
		if (arg && strcmp(arg, "true") != 0 && strcmp(arg, "false") != 0 &&
		    strcmp(arg, "auto") != 0)
			return cmdline_usage(err, "--rootless '%s': use true, false or auto", arg);
		break;
	case G_SYSTEMD:
		g.cgroup_driver = CGROUP_DRIVER_SYSTEMD;
		break;
	case G_CRIU:
		break;
	case G_VERSION:
		a->version = true;
		break;
	}
	return 0;
}

int oci_main(const char *prog, int argc, char **argv)
{
	g.prog = prog;
	g.log_fd = -1;
	struct global_args ga = {0};
	struct sbx_error *e = NULL;
	int first =
	    cmdline_parse_as(&cmd_oci, prog, oci_commands, argc, argv, true, global_opt, &ga, &e);
	if (first == CMDLINE_HELP)
		return 0;
	if (first < 0)
		return fail_err(e);
	if (ga.version) {
		printf("%s version %s\nspec: %s\n", "sbx-oci", SBX_VERSION,
		       OCI_RUNTIME_SPEC_VERSION);
		return 0;
	}
	if (g.log)
		g.log_fd = open(g.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	oci_set_warn(warn);
	if (first >= argc) {
		usage(stderr);
		return OCI_USAGE;
	}
	if (ga.root)
		g.root = xstrdup(ga.root);
	else if (oci_default_root(&g.root, &e) < 0)
		return fail_err(e);
	g.command = argv[first];
	const char *cmd = g.command;
	const struct sbx_command *c = cmdline_subcommand(oci_commands, cmd);
	if (c)
		return c->main(c, argc - first, argv + first, &e);
	for (size_t i = 0; i < ARRAY_SIZE(missing); i++)
		if (strcmp(cmd, missing[i]) == 0)
			return fail(SBX_EXIT_FAILURE,
			            "not supported by sbx-oci (features lists it as "
			            "run.sbx.%s: unsupported)",
			            cmd);
	g.command = NULL;
	return fail(OCI_USAGE, "unknown command '%s'; see '%s --help'", cmd, prog);
}

/* `sbx oci` in sbx's command table, for --help and the completions: main.c
 * hands `sbx oci ...` to oci_main before it parses sbx's own options. */
static int oci_command_main(const struct sbx_command *cmd, int argc, char **argv,
                            struct sbx_error **err)
{
	return oci_main("sbx oci", argc, argv);
}

const struct sbx_command cmd_oci = {
    .name = "oci",
    .args = "[OPTIONS] COMMAND [ARGS...]",
    .summary = "Speak runc's command line on OCI bundles (as sbx-oci).",
    .options = oci_options,
    .main = oci_command_main,
    .usage_exit = SBX_EXIT_FAILURE,
};
