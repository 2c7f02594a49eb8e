/* settings.h - between the settings table (settings.c: every key and
 * option, their parsers, set and dump functions) and the profile loader
 * (profile.c), inside the profile layer. The table itself is reached
 * through profile.h (profile_settings, profile_setting_option,
 * profile_option). */
#ifndef SBX_PROFILE_SETTINGS_H
#define SBX_PROFILE_SETTINGS_H

#include "profile/profile.h"

#include <stdbool.h>

#define PROFILE_MAX_LIST 1024 /* entries in one list; keeps replacement checks cheap */
/* At least the table's length (settings.c checks it): the loader's arrays. */
#define SETTINGS_MAX 128

/* Where a set function's value comes from (settings.c says more). */
struct file_ctx; /* profile.c's */
struct set_ctx {
	struct file_ctx *fc;   /* NULL: a command-line option */
	int line;              /* the file's line, -1 for an option */
	const char *base;      /* the directory relative paths start from */
	struct sbx_diag *diag; /* an --env-file's own diagnostics */
};

/* From profile.c, for the set functions. */
const char *profile_file_name(const struct file_ctx *fc);
/* A second mount at the same place in one file is a mistake, not an
 * override: reported against fc, and true. */
bool profile_mount_twice(struct file_ctx *fc, int line, const char *dst);
/* Whether s holds a control byte (tab aside): refused in values, which
 * messages show through str_display. */
bool profile_has_control(const char *s);
void profile_clear_volumes(struct sbx_profile *p);
void profile_clear_tmpfs(struct sbx_profile *p);
void profile_clear_publish(struct sbx_profile *p);
void profile_strv_clear(char ***v);

/* From settings.c, for the loader. */
/* The current directory, or "/". */
char *settings_cwd(void);
/* Marks every published port as inherited, for the next file or the
 * command line. */
void settings_publish_inherit(struct sbx_profile *p);

#endif
