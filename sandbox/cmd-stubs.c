/* cmd-stubs.c - TEMPORARY: placeholders while the commands are written. */
#include "commands.h"
#include "util.h"

static int todo(const struct sbx_command *cmd, int argc, char **argv)
{
	fprintf(stderr, "sbx: %s: not implemented yet\n", cmd->name);
	return SBX_EXIT_FAILURE;
}

static const struct sbx_option none[] = {{0}};
#define STUB(var, grp, nm) const struct sbx_command var = {grp, nm, "", "todo", none, NULL, todo, 2}
STUB(cmd_run, NULL, "run");
STUB(cmd_spec, NULL, "spec");
STUB(cmd_profile_ls, "profile", "ls");
STUB(cmd_profile_show, "profile", "show");
STUB(cmd_profile_check, "profile", "check");
STUB(cmd_profile_path, "profile", "path");
STUB(cmd_image_ls, "image", "ls");
STUB(cmd_image_rm, "image", "rm");
STUB(cmd_image_import, "image", "import");
STUB(cmd_image_bootstrap, "image", "bootstrap");
