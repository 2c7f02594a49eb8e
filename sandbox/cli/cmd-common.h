/* cmd-common.h - what the commands share: the profile-override options of
 * run and spec, what sbx says on stderr, the progress of imports. */
#ifndef SBX_CMD_COMMON_H
#define SBX_CMD_COMMON_H

#include "cli/cmdline.h"
#include "profile/profile.h"

enum {
	OPT_RM = 256,
	OPT_SCRATCH,
	OPT_SCRATCH_SIZE,
	OPT_NAME,
	OPT_BUNDLE,
	OPT_PROFILE,
	OPT_TLS_VERIFY_RUN,
};

/* run's and spec's --tls-verify, for what --pull fetches. */
#define OPTION_PULL_TLS_VERIFY                                                                     \
	{                                                                                          \
		"tls-verify", OPT_TLS_VERIFY_RUN, optional_argument, NULL,                         \
		    "=false: --pull over plain HTTP without certificate checks, for a local "      \
		    "registry",                                                                    \
		    NULL                                                                           \
	}

/* The option code of a setting without a short form: this plus its index
 * in the settings table (profile.h). */
#define OVERRIDE_OPT_BASE 0x4000

/* The options of a command that takes profile overrides (run, spec):
 * --profile, the option of every setting of the table in its order, then
 * own; out is terminated by an entry with name NULL. Aborts when cap is too
 * small. */
void overrides_options(struct sbx_option *out, size_t cap, const struct sbx_option *own);

struct sbx_overrides {
	const char *profile;
	struct {
		const struct sbx_setting *setting;
		const char *arg;
	} * items;
	size_t n;
};

/* Records a profile option: 1 if val was one, 0 if not, -1 with a usage
 * error for a value refused before any profile is read (-e 1BAD). */
int overrides_collect(struct sbx_overrides *o, int val, const char *arg, struct sbx_error **err);
/* -e KEY without '=', as podman has it: *out = "KEY=VALUE" with the
 * caller's value, or NULL when the caller has no KEY (the option is then
 * skipped); *out = NULL too for an arg that has '=' (use arg as it is).
 * -1 with a usage error for a KEY that is no variable name. */
int overrides_env_from_caller(const char *arg, char **out, struct sbx_error **err);
/* Loads the profile and applies the options in command-line order. The
 * profile's diagnostics (FILE:LINE: ...) and warnings are printed here. */
int overrides_load(const struct sbx_overrides *o, struct sbx_profile **out, struct sbx_error **err);
void overrides_free(struct sbx_overrides *o);

#include "lifecycle/lifecycle.h"
#include "store/image.h"
#include "profile/oci.h"

#include <jansson.h>
#include <time.h>

/* The OCI input for profile p over image img, run by the caller. */
struct sbx_oci_input overrides_oci_input(const struct sbx_profile *p, const struct sbx_image *img,
                                         char *const *args, bool terminal);

/* Fills in the caller's subordinate ranges for --userns subid (not for
 * root, which needs none). */
int overrides_subids(const struct sbx_profile *p, struct sbx_oci_input *in, struct sbx_error **err);

/* What the lifecycle library has to say, said on stderr for cmd: its
 * details with -v, a detached monitor's late errors as errors of cmd. */
struct lifecycle_notify lifecycle_say(const struct sbx_command *cmd);

/* The image store's messages while an image is resolved or copied:
 * "sbx: MESSAGE" (not with -q) and "sbx: warning: MESSAGE". */
void say_info(void *ctx, const char *msg);
void say_warn(void *ctx, const char *msg);

/* Progress and messages of an image import or commit on stderr: a single
 * updating line on a terminal, at most every 100 ms, as "VERB LABEL: SIZE";
 * nothing but warnings when piped; nothing at all with quiet. */
struct sbx_progress_ui {
	const char *cmd;   /* for warnings: "sbx: CMD: warning: ..." */
	const char *verb;  /* "importing", "committing" */
	const char *label; /* what is being made */
	bool quiet;
	bool tty;
	bool shown;
	struct timespec last;
	char layer[48]; /* "layer 2/3: " during an OCI layout import */
};

void progress_ui_init(struct sbx_progress_ui *ui, struct sbx_image_progress *p, const char *cmd,
                      const char *verb, const char *label, bool quiet);
/* The per-layer callback of layer_import_oci. */
void progress_ui_layer(void *ctx, size_t index, size_t count, const char *digest, uint64_t size);
/* Clears the progress line. */
void progress_ui_done(struct sbx_progress_ui *ui);

/* "1.5 MiB" */
void format_size(uint64_t n, char *buf, size_t len);

/* -q/--quiet and --max-size of the commands that make an image from a
 * source (image import, commit): option_import takes a struct import_opts. */
#define OPT_MAX_SIZE 0x1000
#define OPTION_MAX_SIZE                                                                            \
	{                                                                                          \
		"max-size", OPT_MAX_SIZE, required_argument, "SIZE",                               \
		    "stop when the image grows beyond SIZE (e.g. 500M, 20G; default 8G)", NULL     \
	}
struct import_opts {
	bool quiet;
	uint64_t max_size; /* 0: the default */
};
int option_import(void *ctx, int val, const char *arg, struct sbx_error **err);

#endif
