/* commands.h - every command sbx knows; each lives in its cmd-*.c file. */
#ifndef SBX_COMMANDS_H
#define SBX_COMMANDS_H

#include "cli/cmdline.h"

#include <stdint.h>

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
extern const struct sbx_command cmd_image_pull;
extern const struct sbx_command cmd_pull;
extern const struct sbx_command cmd_image_push;
extern const struct sbx_command cmd_push;
extern const struct sbx_command cmd_start;
extern const struct sbx_command cmd_ps;
extern const struct sbx_command cmd_list;
extern const struct sbx_command cmd_stop;
extern const struct sbx_command cmd_kill;
extern const struct sbx_command cmd_rm;
extern const struct sbx_command cmd_exec;
extern const struct sbx_command cmd_inspect;
extern const struct sbx_command cmd_logs;
extern const struct sbx_command cmd_diff;
extern const struct sbx_command cmd_commit;
extern const struct sbx_command cmd_unshare;
extern const struct sbx_command cmd_doctor;
extern const struct sbx_command cmd_oci;
extern const struct sbx_command cmd_complete;

/* Pulls o->reference as `sbx pull` does (cmd-pull.c), saying what a short
 * name resolved to and showing progress on stderr unless o->quiet; *stored
 * gets the image's name. */
struct registry_opts;
int pull_image(const struct sbx_command *cmd, struct registry_opts *o, uint64_t max_size,
               char **stored, struct sbx_error **err);

/* The image run and spec take (image_resolve), pulled first as policy (an
 * enum sbx_pull, the profile's pull) says: never looks only in the store,
 * where a missing busybox is bootstrapped; missing pulls a registry
 * reference the store lacks; always pulls it first, refusing to replace a
 * stored image. A directory is never pulled. */
struct sbx_image;
struct sbx_image_progress;
int pull_resolve(const struct sbx_command *cmd, int policy, bool tls_verify, const char *image,
                 const struct sbx_image_progress *progress, struct sbx_image **img,
                 struct sbx_error **err);
/* --tls-verify[=BOOL] of run and spec: *insecure is set by =false. */
int option_tls_verify(const char *arg, bool *insecure, struct sbx_error **err);

/* sbx-oci and `sbx oci` (cmd-oci.c): runc's command line; prog is how
 * errors name the program. Returns the exit status. */
int oci_main(const char *prog, int argc, char **argv);
/* Its commands (runc's), NULL-terminated: `sbx oci --help` lists them and
 * `sbx __complete -- oci COMMAND ...` goes on with the one named. */
extern const struct sbx_command *const oci_commands[];

/* The table main.c dispatches on, for `sbx __complete`. */
extern const struct sbx_command *const *const sbx_commands;
extern const size_t sbx_n_commands;

#endif
