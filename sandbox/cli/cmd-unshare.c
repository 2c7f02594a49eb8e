/* cmd-unshare.c - sbx unshare: run a command as root of the user namespace
 * that `--userns subid` sandboxes get (you as 0, your /etc/subuid and
 * /etc/subgid ranges from 1), as `podman unshare` does.
 *
 * A sandbox with a writable volume can chown files there to subordinate ids
 * and take their modes away; you cannot read, change or remove them any
 * more, but root of that namespace can: `sbx unshare chown -R 0:0 PATH`
 * gives them back. It is your own tool, not a sandbox: the command keeps
 * your environment, files and capabilities over your own ids; sbx becomes
 * the command, so its status, signals and terminal are the command's. */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "runtime/config.h"
#include "runtime/userns.h"
#include "lib/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct sbx_option unshare_options[] = {{NULL, 0, 0, NULL, NULL, NULL}};

/* The caller's maps under --userns subid; root needs no ranges. */
static int caller_maps(struct sbx_idmap u[2], size_t *nu, struct sbx_idmap g[2], size_t *ng,
                       struct sbx_error **err)
{
	unsigned ids[4] = {0, 0, 0, 0};
	if (getuid() != 0 && userns_subids(getuid(), ids, err) < 0)
		return -1;
	*nu = userns_subid_layout(getuid(), true, ids[0], ids[1], u);
	*ng = userns_subid_layout(getgid(), true, ids[2], ids[3], g);
	return 0;
}

static int cannot_exec(const char *cmd, int e, struct sbx_error **err)
{
	if (e == ENOENT && strchr(cmd, '/') == NULL)
		sbx_error_setc(err, e, "\"%s\": executable file not found in $PATH", cmd);
	else
		sbx_error_set(err, e, "cannot execute \"%s\"", cmd);
	return e == ENOENT ? SBX_EXIT_NOTFOUND : SBX_EXIT_CANNOT;
}

static int unshare_main(const struct sbx_command *cmd, int argc, char **argv,
                        struct sbx_error **err)
{
	int first = cmdline_parse(cmd, argc, argv, true, NULL, NULL, err);
	if (first < 0)
		return first;
	const char *shell = getenv("SHELL");
	char *sh[] = {(char *)(shell && shell[0] ? shell : "/bin/sh"), NULL};
	char **args = first < argc ? argv + first : sh;
	struct sbx_idmap u[2], g[2];
	struct sbx_config c = {.uid_maps = u, .gid_maps = g};
	if (caller_maps(u, &c.n_uid_maps, g, &c.n_gid_maps, err) < 0 ||
	    userns_enter_mapped(&c, err) < 0)
		return -1;
	if (setenv("SBX_UNSHARE", "1", 1) < 0)
		return sbx_error_set(err, errno, "cannot set SBX_UNSHARE");
	execvp(args[0], args);
	return cannot_exec(args[0], errno, err);
}

const struct sbx_command cmd_unshare = {
    .name = "unshare",
    .args = "[COMMAND [ARG...]]",
    .summary = "Run a command as root of your --userns subid user namespace.",
    .options = unshare_options,
    .positional = SBX_COMPLETE_HOST_COMMAND,
    .main = unshare_main,
    .usage_exit = SBX_EXIT_FAILURE,
};
