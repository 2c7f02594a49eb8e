/* cmd-exec.c - sbx exec: run a command inside a running instance.
 *
 * The policy (namespaces, user, capabilities, seccomp) comes from the
 * instance's config.json in sbx's own data directory, which the sandbox
 * cannot reach; the target is pinned with a pidfd so a reused pid is never
 * joined. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "runtime/config.h"
#include "profile/oci.h"
#include "runtime/process.h"
#include "store/state.h"

#include <errno.h>
#include <string.h>

static const struct sbx_option exec_options[] = {
    {"tty", 't', no_argument, NULL, "allocate a terminal", NULL},
    {"interactive", 'i', no_argument, NULL, "with -t, send standard input", NULL},
    {"env", 'e', required_argument, "KEY=VALUE", "set an environment variable", NULL},
    {"workdir", 'w', required_argument, "DIR", "working directory in the sandbox", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct exec_opts {
	bool tty, interactive;
	char **env;
	const char *workdir;
};

static int exec_option(void *ctx, int val, const char *arg)
{
	struct exec_opts *o = ctx;
	switch (val) {
	case 't':
		o->tty = true;
		return 0;
	case 'i':
		o->interactive = true;
		return 0;
	case 'e':
		if (strchr(arg, '=') == NULL || arg[0] == '=') {
			fprintf(stderr, "sbx: exec: --env \"%s\": expected KEY=VALUE\n", arg);
			return -1;
		}
		strv_push(&o->env, arg);
		return 0;
	case 'w':
		if (arg[0] != '/') {
			fprintf(stderr, "sbx: exec: --workdir \"%s\": must be an absolute path\n",
			        arg);
			return -1;
		}
		o->workdir = arg;
		return 0;
	}
	return -1;
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

static int do_exec(struct exec_opts *o, const char *name, char **args)
{
	_cleanup_error_ struct sbx_error *err = NULL;
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(name, &inst, &err) < 0) {
		sbx_error_print(err, "exec");
		return SBX_EXIT_FAILURE;
	}
	bool running = false;
	if (state_is_running(inst->dir, &running, &err) < 0 || !running) {
		if (err == NULL)
			sbx_error_setc(
			    &err, ESRCH,
			    "instance \"%s\" is not running; start it with 'sbx start %s'", name,
			    name);
		sbx_error_print(err, "exec");
		return SBX_EXIT_FAILURE;
	}
	_cleanup_state_ struct sbx_state *st = NULL;
	_cleanup_close_ int pidfd = -1;
	if (state_read(name, &st, &err) < 0 || state_pidfd(st, &pidfd, &err) < 0) {
		sbx_error_print(err, "exec");
		return SBX_EXIT_FAILURE;
	}
	_cleanup_free_ char *path = xasprintf("%s/config.json", inst->dir);
	json_t *j = NULL;
	_cleanup_config_ struct sbx_config *c = NULL;
	int r = config_load_file(path, &j, &err);
	if (r == 0)
		r = config_parse(j, &c, &err);
	json_decref(j);
	if (r < 0) {
		sbx_error_print(err, "exec");
		return SBX_EXIT_FAILURE;
	}
	strv_free(c->args);
	c->args = strv_copy(args);
	for (size_t i = 0; o->env && o->env[i]; i++)
		env_override(&c->env, o->env[i]);
	if (o->workdir) {
		free(c->cwd);
		c->cwd = xstrdup(o->workdir);
	}
	c->terminal = o->tty;
	/* What the sandbox may see of this process: argv is not used below. */
	cmdline_scrub("sbx exec");
	_cleanup_sandbox_ struct sbx_sandbox *ct = NULL;
	int code = 0, status = SBX_EXIT_FAILURE;
	rlimit_nofile_restore();
	if (process_exec(c, pidfd, &ct, &err) < 0 || process_start(ct, NULL, &code, &err) < 0) {
		sbx_error_print(err, "exec");
		return code ? code : SBX_EXIT_FAILURE;
	}
	if (process_wait(ct, o->interactive, &status, &err) < 0) {
		sbx_error_print(err, "exec");
		return SBX_EXIT_FAILURE;
	}
	return status;
}

static int exec_main(const struct sbx_command *cmd, int argc, char **argv)
{
	struct exec_opts o = {0};
	int first = cmdline_parse(cmd, argc, argv, true, exec_option, &o);
	int status;
	if (first == -2)
		status = 0;
	else if (first < 0)
		status = SBX_EXIT_FAILURE;
	else if (argc - first < 2) {
		cmdline_usage_error(cmd, "an instance and a command are needed");
		status = SBX_EXIT_FAILURE;
	} else {
		status = do_exec(&o, argv[first], argv + first + 1);
	}
	strv_free(o.env);
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
