/* commands.h - every command sbx knows; each lives in its cmd-*.c file. */
#ifndef SBX_COMMANDS_H
#define SBX_COMMANDS_H

#include "cmdline.h"

extern const struct sbx_command cmd_run;
extern const struct sbx_command cmd_spec;
extern const struct sbx_command cmd_profile_ls;
extern const struct sbx_command cmd_profile_show;
extern const struct sbx_command cmd_profile_check;
extern const struct sbx_command cmd_profile_path;
extern const struct sbx_command cmd_image_ls;
extern const struct sbx_command cmd_image_rm;
extern const struct sbx_command cmd_image_import;
extern const struct sbx_command cmd_image_bootstrap;

#endif
