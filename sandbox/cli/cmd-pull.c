/* cmd-pull.c - sbx pull and sbx push (also sbx image pull|push): images
 * from and to a registry, through skopeo (store/registry.h). */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "store/reference.h"
#include "store/registry.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_TLS_VERIFY = 256,
	OPT_AUTHFILE,
};

static const struct sbx_option pull_options[] = {
    {"name", 'n', required_argument, "NAME",
     "name of the image (default: the reference's last path component)", NULL},
    {"tls-verify", OPT_TLS_VERIFY, optional_argument, NULL,
     "=false: plain HTTP and no certificate checks, for a local registry", NULL},
    {"authfile", OPT_AUTHFILE, required_argument, "PATH",
     "the registry credentials (default: skopeo's, $XDG_RUNTIME_DIR/containers/auth.json)",
     SBX_COMPLETE_FILE},
    {"quiet", 'q', no_argument, NULL, "show neither progress nor warnings", NULL},
    OPTION_MAX_SIZE,
    {0},
};

struct pull_opts {
	struct import_opts import;
	struct registry_opts pull;
};

static int pull_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct pull_opts *o = ctx;
	switch (val) {
	case 'n':
		o->pull.name = arg;
		return 0;
	case OPT_TLS_VERIFY:
		if (arg && parse_bool(arg, &o->pull.tls_verify) < 0)
			return cmdline_usage(
			    err, "invalid value '%s' for --tls-verify; use true or false", arg);
		if (arg == NULL)
			o->pull.tls_verify = true;
		return 0;
	case OPT_AUTHFILE:
		o->pull.authfile = arg;
		return 0;
	}
	return option_import(&o->import, val, arg, err);
}

int pull_image(const struct sbx_command *cmd, struct registry_opts *o, uint64_t max_size,
               char **stored, struct sbx_error **err)
{
	/* skopeo's progress goes where sbx's goes: stdout is for the name. */
	o->progress_fd = o->quiet ? -1 : STDERR_FILENO;
	char name[64];
	cmdline_name(cmd, name, sizeof(name));
	/* A short name is docker.io's: say so, as podman does. */
	_cleanup_free_ char *normal = reference_normalize(o->reference);
	if (normal && !o->quiet && !reference_has_host(o->reference)) {
		_cleanup_free_ char *q = str_escape(o->reference);
		fprintf(stderr, "sbx: %s: resolved \"%s\" to \"%s\"\n", name, q, normal);
	}
	struct sbx_progress_ui ui;
	struct sbx_image_progress p;
	_cleanup_free_ char *label = str_escape_bare(o->reference);
	progress_ui_init(&ui, &p, name, "importing", label, o->quiet);
	p.max_size = max_size;
	/* The image pulled from this reference before is updated, as podman
	 * updates its tag: instances made from it keep theirs (staging.h). */
	o->replace = true;
	int r = registry_pull(o, &p, progress_ui_layer, stored, err);
	progress_ui_done(&ui);
	return r;
}

int option_tls_verify(const char *arg, bool *insecure, struct sbx_error **err)
{
	bool v = true;
	if (arg && parse_bool(arg, &v) < 0)
		return cmdline_usage(err, "invalid value '%s' for --tls-verify; use true or false",
		                     arg);
	*insecure = !v;
	return 0;
}

/* Pulls image for --pull, then opens what was pulled. */
static int pull_then_open(const struct sbx_command *cmd, int policy, bool tls_verify,
                          const char *image, struct sbx_image **img, struct sbx_error **err)
{
	struct registry_opts ro = {
	    .reference = image, .tls_verify = tls_verify, .quiet = sbx_verbose < 0};
	_cleanup_free_ char *stored = NULL;
	if (pull_image(cmd, &ro, 0, &stored, err) < 0) {
		if (policy == SBX_PULL_ALWAYS && *err && (*err)->code == EEXIST)
			return sbx_error_prefix(err, "--pull always replaces only an image pulled "
			                             "from the same reference");
		return -1;
	}
	return image_open_shared(stored, img, err);
}

int pull_resolve(const struct sbx_command *cmd, int policy, bool tls_verify, const char *image,
                 const struct sbx_image_progress *progress, struct sbx_image **img,
                 struct sbx_error **err)
{
	if (policy == SBX_PULL_NEVER)
		return image_resolve(image, true, progress, img, err);
	_cleanup_free_ char *normal = reference_normalize(image);
	bool reference = normal != NULL && !image_is_directory(image);
	if (policy == SBX_PULL_ALWAYS && reference)
		return pull_then_open(cmd, policy, tls_verify, image, img, err);
	_cleanup_error_ struct sbx_error *e = NULL;
	if (image_resolve(image, false, progress, img, &e) == 0)
		return 0;
	if (!reference || e->code != ENOENT) {
		*err = steal_ptr(e);
		return -1;
	}
	return pull_then_open(cmd, policy, tls_verify, image, img, err);
}

static int pull_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct pull_opts o = {.pull.tls_verify = true, .pull.progress_fd = -1};
	int first = cmdline_parse(cmd, argc, argv, false, pull_option, &o, err);
	if (first < 0)
		return first;
	if (cmdline_operands(argc - first, 1, "REFERENCE", err) < 0)
		return -1;
	o.pull.reference = argv[first];
	o.pull.quiet = o.import.quiet || sbx_verbose < 0;
	_cleanup_free_ char *stored = NULL;
	if (pull_image(cmd, &o.pull, o.import.max_size, &stored, err) < 0)
		return -1;
	printf("%s\n", stored);
	if (fflush(stdout) != 0 || ferror(stdout))
		return sbx_error_set(err, errno, "cannot write the image's name");
	return 0;
}

#define PULL_ARGS    "[OPTIONS] REFERENCE"
#define PULL_SUMMARY "Pull an image from a registry, with skopeo."

const struct sbx_command cmd_pull = {
    NULL, "pull", PULL_ARGS, PULL_SUMMARY, pull_options, NULL, pull_main, SBX_EXIT_USAGE,
};

const struct sbx_command cmd_image_pull = {
    "image", "pull", PULL_ARGS, PULL_SUMMARY, pull_options, NULL, pull_main, SBX_EXIT_USAGE,
};

/* ---- sbx push ---- */

static const struct sbx_option push_options[] = {
    {"tls-verify", OPT_TLS_VERIFY, optional_argument, NULL,
     "=false: plain HTTP and no certificate checks, for a local registry", NULL},
    {"authfile", OPT_AUTHFILE, required_argument, "PATH",
     "the registry credentials (default: skopeo's, $XDG_RUNTIME_DIR/containers/auth.json)",
     SBX_COMPLETE_FILE},
    {"quiet", 'q', no_argument, NULL, "do not show skopeo's progress", NULL},
    {0},
};

static int push_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct pull_opts o = {.pull.tls_verify = true, .pull.progress_fd = -1};
	int first = cmdline_parse(cmd, argc, argv, false, pull_option, &o, err);
	if (first < 0)
		return first;
	if (cmdline_operands(argc - first, 2, "IMAGE and REFERENCE", err) < 0)
		return -1;
	o.pull.name = argv[first];
	o.pull.reference = argv[first + 1];
	o.pull.quiet = o.import.quiet || sbx_verbose < 0;
	o.pull.progress_fd = o.pull.quiet ? -1 : STDERR_FILENO;
	return registry_push(&o.pull, err);
}

#define PUSH_ARGS    "[OPTIONS] IMAGE REFERENCE"
#define PUSH_SUMMARY "Push an image to a registry, with skopeo."

const struct sbx_command cmd_push = {
    NULL,      "push",         PUSH_ARGS, PUSH_SUMMARY, push_options, SBX_COMPLETE_IMAGE,
    push_main, SBX_EXIT_USAGE,
};

const struct sbx_command cmd_image_push = {
    "image",   "push",         PUSH_ARGS, PUSH_SUMMARY, push_options, SBX_COMPLETE_IMAGE,
    push_main, SBX_EXIT_USAGE,
};
