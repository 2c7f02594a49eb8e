/* cmd-exec.c - sbx exec: run a command inside a running instance
 * (lifecycle_exec: the policy is the instance's recorded config, and the
 * target is pinned with a pidfd so a reused pid is never joined). */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "lifecycle/lifecycle.h"

#include <errno.h>
#include <string.h>

static const struct sbx_option exec_options[] = {
    {"tty", 't', no_argument, NULL, "allocate a terminal", NULL},
    {"interactive", 'i', no_argument, NULL, "with -t, send standard input", NULL},
    {"env", 'e', required_argument, "KEY[=VALUE]",
     "set an environment variable (KEY alone: sbx's value)", NULL},
    {"workdir", 'w', required_argument, "DIR", "working directory in the sandbox", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct exec_opts {
	bool tty, interactive;
	char **env;
	char *workdir;
};

static int exec_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct exec_opts *o = ctx;
	switch (val) {
	case 't':
		o->tty = true;
		return 0;
	case 'i':
		o->interactive = true;
		return 0;
	case 'e': {
		_cleanup_free_ char *kv = NULL;
		if (overrides_env_from_caller(arg, &kv, err) < 0)
			return -1;
		if (kv == NULL && strchr(arg, '=') == NULL)
			return 0; /* not set here: not set there, as podman */
		if ((kv ? kv : arg)[0] == '=')
			return cmdline_usage(err, "--env \"%s\": expected KEY=VALUE", arg);
		strv_push(&o->env, kv ? kv : arg);
		return 0;
	}
	case 'w':
		if (arg[0] != '/')
			return cmdline_usage(err, "--workdir \"%s\": must be an absolute path",
			                     arg);
		free(o->workdir);
		o->workdir = xstrdup(arg);
		return 0;
	}
	return -1;
}

static int exec_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct exec_opts o = {0};
	int first = cmdline_parse(cmd, argc, argv, true, exec_option, &o, err);
	int status = first;
	if (first >= 0 && argc - first < 2)
		status = cmdline_usage(err, "an instance and a command are needed");
	if (first >= 0 && argc - first >= 2) {
		_cleanup_free_ char *name = xstrdup(argv[first]);
		_cleanup_strv_ char **args = strv_copy(argv + first + 1);
		/* What the sandbox may see of this process: argv is not used
		 * below (strv_push copied the --env values). */
		cmdline_scrub("sbx exec");
		struct lifecycle_exec x = {.args = args,
		                           .env = o.env,
		                           .cwd = o.workdir,
		                           .terminal = o.tty,
		                           .attach_stdin = o.interactive};
		lifecycle_exec(name, &x, &status, err);
	}
	strv_free(o.env);
	free(o.workdir);
	return status;
}
const struct sbx_command cmd_exec = {
    .name = "exec",
    .args = "[OPTIONS] NAME COMMAND [ARG...]",
    .summary = "Run a command in a running instance.",
    .options = exec_options,
    .positional = SBX_COMPLETE_RUNNING,
    .main = exec_main,
    .usage_exit = SBX_EXIT_FAILURE,
};
