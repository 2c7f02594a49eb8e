/* cmd-oci.c - sbx-oci and `sbx oci`: runc's command line over
 * lifecycle/oci-runtime.c, so that podman, containerd and a user with a
 * bundle drive sbx as they drive runc. Options are parsed as runc parses
 * them (global ones before the command), not with sbx's option tables. */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "lifecycle/lifecycle.h"
#include "lifecycle/oci-runtime.h"
#include "lib/util.h"
#include "store/state.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: %s [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n\n"
	        "sbx as an OCI runtime, with runc's command line.\n\n"
	        "Commands:\n"
	        "  create    create a container from a bundle; start releases it\n"
	        "  start     start a created container\n"
	        "  run       create and start a container\n"
	        "  exec      run a process in a container\n"
	        "  state     print a container's state (JSON)\n"
	        "  list      list containers\n"
	        "  kill      send a signal to a container's init\n"
	        "  ps        list a container's processes\n"
	        "  delete    delete a stopped container\n"
	        "  pause     freeze a container's processes (through its cgroup)\n"
	        "  resume    thaw them\n"
	        "  update    change a container's cgroup limits\n"
	        "  spec      write a default config.json\n"
	        "  features  print what this runtime supports (JSON)\n\n"
	        "Global options:\n"
	        "  --root DIR           where state lives (default $XDG_RUNTIME_DIR/sbx-oci,\n"
	        "                       /run/sbx-oci for root)\n"
	        "  --log FILE           also write errors to FILE\n"
	        "  --log-format FORMAT  text or json\n"
	        "  --debug              trace what is being done\n"
	        "  --systemd-cgroup     cgroupsPath is slice:prefix:name (systemd's layout)\n"
	        "  --cgroup-manager M   cgroupfs, systemd (as --systemd-cgroup) or disabled\n"
	        "  --rootless[=V]       accepted: true, false or auto\n"
	        "  --version            show the version\n"
	        "  -h, --help           show this help\n",
	        g.prog);
}

/* getopt_long over a command's options; "+" stops at the first operand.
 * Returns the first operand's index, 0 after --help printed the usage
 * line (g.command's, with args), or -(exit status): callers return -r
 * for any r <= 0. */
static int parse(int argc, char **argv, const char *args, const char *shortopts,
                 const struct option *longopts, int (*fn)(int c, const char *arg, void *ctx),
                 void *ctx)
{
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == ':')
			return -fail(OCI_USAGE, "option '%s' needs a value", argv[optind - 1]);
		if (c == '?')
			return -fail(OCI_USAGE, "unknown option '%s'", argv[optind - 1]);
		if (c == 'h') {
			printf("Usage: %s %s%s%s\n", g.prog, g.command, args[0] ? " " : "", args);
			return 0;
		}
		int r = fn(c, optarg, ctx);
		if (r < 0)
			return r;
	}
	return optind;
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

static int create_opt(int c, const char *arg, void *ctx)
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
			return -fail(OCI_USAGE, "--preserve-fds '%s' is not a number of fds", arg);
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

static int create_main(int argc, char **argv, bool run)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, OPT_PID_FILE},
	    {"console-socket", required_argument, NULL, OPT_CONSOLE},
	    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
	    {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
	    {"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},
	    {"detach", no_argument, NULL, 'd'},
	    {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct create_args a = {.o = {.root = g.root, .cgroup_driver = g.cgroup_driver}};
	int first = parse(
	    argc, argv,
	    run ? "[--bundle B] [--pid-file F] [--console-socket PATH] [--preserve-fds N] [-d] ID"
	        : "[--bundle B] [--pid-file F] [--console-socket PATH] [--preserve-fds N] "
	          "ID",
	    run ? "+:b:dh" : "+:b:h", opts, create_opt, &a);
	if (first <= 0)
		return -first;
	if (!run && a.detach)
		return fail(OCI_USAGE, "unknown option '--detach'");
	if (operands(argc, first, 1, "a container ID") < 0)
		return OCI_USAGE;
	a.o.id = argv[first];
	/* The log's fd, opened first, must not take the number of one the
	 * caller passes on (then missing, which create refuses). */
	const char *lfds = getenv("LISTEN_FDS");
	long top = 3 + (long)a.o.preserve_fds + (lfds ? strtol(lfds, NULL, 10) : 0);
	if (g.log_fd >= 3 && g.log_fd < top) {
		int fd = fcntl(g.log_fd, F_DUPFD_CLOEXEC, (int)top);
		close(g.log_fd);
		g.log_fd = fd;
	}
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
	X_REFUSED,
};

static int exec_opt(int c, const char *arg, void *ctx)
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
			return -fail(OCI_USAGE, "--cwd \"%s\": must be an absolute path", arg);
		a->o.cwd = arg;
		break;
	case 'e':
		if (strchr(arg, '=') == NULL || arg[0] == '=')
			return -fail(OCI_USAGE, "--env \"%s\": expected KEY=VALUE", arg);
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
			return -fail(OCI_USAGE, "--user \"%s\": expected UID[:GID] (numbers)", arg);
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
		if (parse_u64(arg, &n) < 0)
			return -fail(OCI_USAGE, "--preserve-fds '%s' is not a number", arg);
		if (n > 0)
			return -fail(SBX_EXIT_FAILURE, "--preserve-fds: not supported yet");
		break;
	}
	}
	return 0;
}

static int exec_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"process", required_argument, NULL, 'p'},
	    {"detach", no_argument, NULL, 'd'},
	    {"tty", no_argument, NULL, 't'},
	    {"pid-file", required_argument, NULL, X_PID_FILE},
	    {"console-socket", required_argument, NULL, X_CONSOLE},
	    {"cwd", required_argument, NULL, X_CWD},
	    {"env", required_argument, NULL, 'e'},
	    {"user", required_argument, NULL, 'u'},
	    {"no-new-privs", no_argument, NULL, X_NO_NEW_PRIVS},
	    {"preserve-fds", required_argument, NULL, X_PRESERVE},
	    /* runc's, which sbx-oci does not implement: refused by name. */
	    {"cap", required_argument, NULL, X_REFUSED},
	    {"additional-gids", required_argument, NULL, X_REFUSED},
	    {"apparmor", required_argument, NULL, X_REFUSED},
	    {"process-label", required_argument, NULL, X_REFUSED},
	    {"cgroup", required_argument, NULL, X_REFUSED},
	    {"ignore-paused", no_argument, NULL, X_REFUSED},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct exec_args a = {.o = {.root = g.root}};
	_cleanup_json_ json_t *process = NULL;
	/* runc's -c and -g are --cap and --additional-gids. */
	optind = 1;
	opterr = 0;
	int first;
	{
		int c, idx = -1;
		first = 0;
		while ((c = getopt_long(argc, argv, "+:p:dte:u:c:g:h", opts, &idx)) != -1) {
			if (c == ':') {
				first =
				    -fail(OCI_USAGE, "option '%s' needs a value", argv[optind - 1]);
				break;
			}
			if (c == '?') {
				first = -fail(OCI_USAGE, "unknown option '%s'", argv[optind - 1]);
				break;
			}
			if (c == 'h') {
				first = -2;
				break;
			}
			if (c == X_REFUSED || c == 'c' || c == 'g') {
				const char *name = c == 'c'   ? "cap"
				                   : c == 'g' ? "additional-gids"
				                              : opts[idx].name;
				first =
				    -fail(SBX_EXIT_FAILURE, "--%s: not supported by sbx-oci", name);
				break;
			}
			int r = exec_opt(c, optarg, &a);
			if (r < 0) {
				first = r;
				break;
			}
			idx = -1;
		}
		if (first == 0)
			first = optind;
	}
	int status = SBX_EXIT_FAILURE;
	if (first == -2) {
		printf(
		    "Usage: %s exec [--process F | ID COMMAND [ARG...]] [--detach] [--pid-file F]\n"
		    "       [-t --console-socket PATH] [--cwd DIR] [--env K=V]... "
		    "[--user UID[:GID]] ID [COMMAND [ARG...]]\n",
		    g.prog);
		status = 0;
		goto out;
	}
	if (first < 0) {
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

struct flags {
	bool all, force, quiet, rootless;
	bool json;
	const char *bundle;
};

static int flag_opt(int c, const char *arg, void *ctx)
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
			return -fail(OCI_USAGE, "unknown format '%s'; use 'table' or 'json'", arg);
		break;
	case 'q':
		f->quiet = true;
		break;
	case 'r':
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

static int id_main(int argc, char **argv)
{
	static const struct option none[] = {{"help", no_argument, NULL, 'h'}, {0}};
	static const struct option kill_opts[] = {
	    {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {0}};
	static const struct option delete_opts[] = {
	    {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
	const char *cmd = g.command;
	bool is_kill = strcmp(cmd, "kill") == 0, is_delete = strcmp(cmd, "delete") == 0;
	struct flags f = {0};
	int first = parse(argc, argv,
	                  is_kill     ? "[--all] ID [SIGNAL]"
	                  : is_delete ? "[--force] ID"
	                              : "ID",
	                  is_kill     ? "+:ah"
	                  : is_delete ? "+:fh"
	                              : "+:h",
	                  is_kill     ? kill_opts
	                  : is_delete ? delete_opts
	                              : none,
	                  flag_opt, &f);
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

static int list_main(int argc, char **argv)
{
	static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
	                                     {"format", required_argument, NULL, 'F'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	struct flags f = {0};
	/* runc's -f is --format here. */
	int first = parse(argc, argv, "[-q] [--format table|json]", "+:qF:f:h", opts, flag_opt, &f);
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
static int ps_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'}, {0}};
	struct flags f = {0};
	int first = parse(argc, argv, "[--format table|json] ID", "+:F:f:h", opts, flag_opt, &f);
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

static int spec_main(int argc, char **argv)
{
	static const struct option opts[] = {{"rootless", no_argument, NULL, 'r'},
	                                     {"bundle", required_argument, NULL, 'b'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	struct flags f = {0};
	int first = parse(argc, argv, "[--rootless] [--bundle B]", "+:b:h", opts, flag_opt, &f);
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
                        const char *section, const char *key)
{
	uint64_t v;
	if (strcmp(arg, "-1") == 0) {
		update_put(opts, section, key, json_integer(-1));
		return 0;
	}
	if ((size ? parse_size(arg, &v) : parse_u64(arg, &v)) < 0 || v > (uint64_t)LLONG_MAX)
		return -fail(OCI_USAGE, "--%s '%s' is not %s (-1: no limit)", name, arg,
		             size ? "a size" : "a number");
	update_put(opts, section, key, json_integer((json_int_t)v));
	return 0;
}

static int update_opt(int c, const char *arg, void *ctx)
{
	struct update_args *a = ctx;
	json_t *o = a->opts;
	switch (c) {
	case U_RESOURCES:
		a->resources = arg;
		return 0;
	case U_MEMORY:
		return update_value(o, "memory", arg, true, "memory", "limit");
	case U_MEMORY_SWAP:
		return update_value(o, "memory-swap", arg, true, "memory", "swap");
	case U_MEMORY_RESERVATION:
		return update_value(o, "memory-reservation", arg, true, "memory", "reservation");
	case U_PIDS:
		return update_value(o, "pids-limit", arg, false, "pids", "limit");
	case U_CPU_SHARES:
		return update_value(o, "cpu-share", arg, false, "cpu", "shares");
	case U_CPU_QUOTA:
		return update_value(o, "cpu-quota", arg, false, "cpu", "quota");
	case U_CPU_PERIOD:
		return update_value(o, "cpu-period", arg, false, "cpu", "period");
	case U_BLKIO:
		return update_value(o, "blkio-weight", arg, false, "blockIO", "weight");
	case U_CPUS:
		update_put(o, "cpu", "cpus", json_string(arg));
		return 0;
	case U_MEMS:
		update_put(o, "cpu", "mems", json_string(arg));
		return 0;
	}
	return 0;
}

static int update_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, U_RESOURCES},
	    {"memory", required_argument, NULL, U_MEMORY},
	    {"memory-swap", required_argument, NULL, U_MEMORY_SWAP},
	    {"memory-reservation", required_argument, NULL, U_MEMORY_RESERVATION},
	    {"pids-limit", required_argument, NULL, U_PIDS},
	    {"cpu-share", required_argument, NULL, U_CPU_SHARES},
	    {"cpu-quota", required_argument, NULL, U_CPU_QUOTA},
	    {"cpu-period", required_argument, NULL, U_CPU_PERIOD},
	    {"cpuset-cpus", required_argument, NULL, U_CPUS},
	    {"cpuset-mems", required_argument, NULL, U_MEMS},
	    {"blkio-weight", required_argument, NULL, U_BLKIO},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	_cleanup_json_ json_t *given = json_object();
	struct update_args a = {.opts = given};
	struct sbx_resources r = {0};
	_cleanup_json_ json_t *j = json_incref(given);
	int status = SBX_EXIT_FAILURE;
	int first = parse(argc, argv,
	                  "[--resources FILE|-] [--memory N] [--memory-swap N] "
	                  "[--memory-reservation N] [--pids-limit N] [--cpu-share N] "
	                  "[--cpu-quota N] [--cpu-period N] [--cpuset-cpus S] [--cpuset-mems S] "
	                  "[--blkio-weight N] ID",
	                  "+:r:h", opts, update_opt, &a);
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

static int features_main(int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	struct flags f = {0};
	int first = parse(argc, argv, "", "+:h", opts, flag_opt, &f);
	if (first <= 0)
		return -first;
	if (operands(argc, first, 0, "no argument") < 0)
		return OCI_USAGE;
	_cleanup_json_ json_t *j = oci_features();
	return print_json(j);
}

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

int oci_main(const char *prog, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, G_ROOT},
	    {"log", required_argument, NULL, G_LOG},
	    {"log-format", required_argument, NULL, G_LOG_FORMAT},
	    {"debug", no_argument, NULL, G_DEBUG},
	    {"systemd-cgroup", no_argument, NULL, G_SYSTEMD},
	    {"cgroup-manager", required_argument, NULL, G_CGROUP_MANAGER},
	    {"rootless", optional_argument, NULL, G_ROOTLESS},
	    {"criu", required_argument, NULL, G_CRIU},
	    {"version", no_argument, NULL, G_VERSION},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	g.prog = prog;
	g.log_fd = -1;
	const char *root = NULL;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case G_ROOT:
			root = optarg;
			break;
		case G_LOG:
			g.log = optarg;
			break;
		case G_LOG_FORMAT:
			if (strcmp(optarg, "json") == 0)
				g.log_json = true;
			else if (strcmp(optarg, "text") == 0)
				g.log_json = false;
			else
				return fail(OCI_USAGE,
				            "unknown log format '%s'; use 'text' or 'json'",
				            optarg);
			break;
		case G_DEBUG:
			sbx_trace_enabled = 1;
			break;
		case G_CGROUP_MANAGER:
			if (strcmp(optarg, "cgroupfs") == 0)
				g.cgroup_driver = CGROUP_DRIVER_FS;
			else if (strcmp(optarg, "systemd") == 0)
				g.cgroup_driver = CGROUP_DRIVER_SYSTEMD;
			else if (strcmp(optarg, "disabled") == 0)
				g.cgroup_driver = CGROUP_DRIVER_NONE;
			else
				return fail(OCI_USAGE,
				            "unknown cgroup manager '%s'; use cgroupfs, systemd or "
				            "disabled",
				            optarg);
			break;
		case G_ROOTLESS:
			if (optarg && strcmp(optarg, "true") != 0 && strcmp(optarg, "false") != 0 &&
			    strcmp(optarg, "auto") != 0)
				return fail(OCI_USAGE, "--rootless '%s': use true, false or auto",
				            optarg);
			break;
		case G_SYSTEMD:
			g.cgroup_driver = CGROUP_DRIVER_SYSTEMD;
			break;
		case G_CRIU:
			break;
		case G_VERSION:
			printf("%s version %s\nspec: %s\n", "sbx-oci", SBX_VERSION,
			       OCI_RUNTIME_SPEC_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return fail(OCI_USAGE, "option '%s' needs a value", argv[optind - 1]);
		default:
			return fail(OCI_USAGE, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (g.log)
		g.log_fd = open(g.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	oci_set_warn(warn);
	if (optind >= argc) {
		usage(stderr);
		return OCI_USAGE;
	}
	struct sbx_error *e = NULL;
	if (root)
		g.root = xstrdup(root);
	else if (oci_default_root(&g.root, &e) < 0)
		return fail_err(e);
	g.command = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	const char *cmd = g.command;
	if (strcmp(cmd, "create") == 0 || strcmp(cmd, "run") == 0)
		return create_main(sub_argc, sub_argv, strcmp(cmd, "run") == 0);
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "state") == 0 || strcmp(cmd, "kill") == 0 ||
	    strcmp(cmd, "delete") == 0 || strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0)
		return id_main(sub_argc, sub_argv);
	if (strcmp(cmd, "update") == 0)
		return update_main(sub_argc, sub_argv);
	if (strcmp(cmd, "exec") == 0)
		return exec_main(sub_argc, sub_argv);
	if (strcmp(cmd, "list") == 0)
		return list_main(sub_argc, sub_argv);
	if (strcmp(cmd, "ps") == 0)
		return ps_main(sub_argc, sub_argv);
	if (strcmp(cmd, "spec") == 0)
		return spec_main(sub_argc, sub_argv);
	if (strcmp(cmd, "features") == 0)
		return features_main(sub_argc, sub_argv);
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
 * hands `sbx oci ...` to oci_main before it parses sbx's own options. The
 * options are oci_main's global ones, as its --help lists them. */
static const struct sbx_option oci_options[] = {
    {"root", G_ROOT, required_argument, "DIR", "where state lives", SBX_COMPLETE_DIR},
    {"log", G_LOG, required_argument, "FILE", "also write errors to FILE", SBX_COMPLETE_FILE},
    {"log-format", G_LOG_FORMAT, required_argument, "FORMAT", "text or json", "text json"},
    {"debug", G_DEBUG, no_argument, NULL, "trace what is being done", NULL},
    {"systemd-cgroup", G_SYSTEMD, no_argument, NULL, "cgroupsPath is slice:prefix:name", NULL},
    {"cgroup-manager", G_CGROUP_MANAGER, required_argument, "M", "cgroupfs, systemd or disabled",
     "cgroupfs systemd disabled"},
    {"rootless", G_ROOTLESS, no_argument, NULL, "accepted", NULL},
    {"version", G_VERSION, no_argument, NULL, "show the version", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

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
    .positional = "create start run exec state list kill ps delete pause resume update spec "
                  "features",
    .main = oci_command_main,
    .usage_exit = SBX_EXIT_FAILURE,
};
