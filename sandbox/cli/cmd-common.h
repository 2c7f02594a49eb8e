/* cmd-common.h - what the commands share: the profile-override options of
 * run and spec, what sbx says on stderr, the progress of imports. */
#ifndef SBX_CMD_COMMON_H
#define SBX_CMD_COMMON_H

#include "cli/cmdline.h"
#include "profile/profile.h"

enum {
	OPT_HOSTNAME = 256,
	OPT_NETWORK,
	OPT_READ_ONLY,
	OPT_TMPFS,
	OPT_CAP_ADD,
	OPT_CAP_DROP,
	OPT_SECCOMP,
	OPT_USER,
	OPT_USERNS,
	OPT_RM,
	OPT_SCRATCH,
	OPT_SCRATCH_SIZE,
	OPT_INIT,
	OPT_NAME,
	OPT_BUNDLE,
	OPT_OVERLAY,
	OPT_NO_INIT,
	OPT_PROFILE,
};

/* The option table entries for every profile override, in --help order. */
/* clang-format off */
#define SBX_PROFILE_OPTIONS                                                                        \
	{"profile", OPT_PROFILE, required_argument, "NAME", "use profile NAME (default: \"default\")",     \
	 SBX_COMPLETE_PROFILE},                                                                    \
		{"volume", 'v', required_argument, "SRC:DST[:ro|rw]",                              \
		 "bind host path SRC at DST (repeatable)", SBX_COMPLETE_VOLUME},                   \
		{"env", 'e', required_argument, "KEY[=VALUE]", "set an environment variable (KEY alone: sbx's value)",        \
		 NULL},                                                                            \
		{"workdir", 'w', required_argument, "DIR", "working directory in the sandbox",     \
		 NULL},                                                                            \
		{"hostname", OPT_HOSTNAME, required_argument, "NAME", "the sandbox's hostname",   \
		 NULL},                                                                            \
		{"network", OPT_NETWORK, required_argument, "MODE[:host-loopback]",                \
		 "none, host, pasta, slirp4netns or auto; MODE:host-loopback reaches the host's "  \
		 "127.0.0.1",                                                                      \
		 "none host pasta slirp4netns auto pasta:host-loopback slirp4netns:host-loopback " \
		 "auto:host-loopback"},                                                            \
		{"publish", 'p', required_argument, "[IP:]HOSTPORT:SANDBOXPORT[/tcp|udp]",         \
		 "publish a sandbox port on the host (repeatable; pasta, slirp4netns, auto)", NULL}, \
		{"read-only", OPT_READ_ONLY, no_argument, NULL, "make the root filesystem read-only", \
		 NULL},                                                                            \
		{"tmpfs", OPT_TMPFS, required_argument, "DST[:size=SIZE][,mode=MODE]",             \
		 "mount a tmpfs at DST (repeatable)", NULL},                                       \
		{"cap-add", OPT_CAP_ADD, required_argument, "CAP", "add a capability",             \
		 SBX_COMPLETE_CAPABILITY},                                                         \
		{"cap-drop", OPT_CAP_DROP, required_argument, "CAP",                               \
		 "drop a capability (ALL for every one)", SBX_COMPLETE_CAPABILITY},                \
		{"seccomp", OPT_SECCOMP, required_argument, "POLICY",                              \
		 "default, unconfined, or a JSON file with an OCI linux.seccomp object",          \
		 "default unconfined"},                                                            \
		{"user", OPT_USER, required_argument, "USER[:GROUP]",                              \
		 "run as this user of the image", NULL},                                           \
		{"userns", OPT_USERNS, required_argument, "MODE",                                  \
		 "single (you as root, no helper) or subid (adds /etc/subuid ranges)",            \
		 "single subid"},                                                                  \
		{"overlay", OPT_OVERLAY, required_argument, "BACKEND",                             \
		 "overlay backend for the root: auto, kernel or fuse", "auto kernel fuse"},        \
		{"init", OPT_INIT, no_argument, NULL,                                              \
		 "run sbx's minimal init as pid 1 (reaps zombies, forwards signals)", NULL},       \
		{"no-init", OPT_NO_INIT, no_argument, NULL,                                        \
		 "make the command itself pid 1 (it then ignores unhandled signals)", NULL}
/* clang-format on */

struct sbx_overrides {
	const char *profile;
	struct {
		int val;
		const char *arg;
	} * items;
	size_t n;
};

/* Records a profile option; returns 1 if val was one, 0 if not. */
int overrides_collect(struct sbx_overrides *o, int val, const char *arg);
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
