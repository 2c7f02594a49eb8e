/* cmd-spec.c - sbx spec: print the OCI config, or write a whole bundle. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "store/image.h"
#include "profile/oci.h"
#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

static const struct sbx_option spec_options_own[] = {
    {"bundle", OPT_BUNDLE, required_argument, "DIR",
     "write DIR/config.json and DIR/rootfs (a copy of the image) for runc or crun",
     SBX_COMPLETE_DIR},
    {"tty", 't', no_argument, NULL, "set process.terminal", NULL},
    OPTION_PULL_TLS_VERIFY,
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* The profile's settings first, from their table (cmd-common.h). */
static struct sbx_option spec_options[128];

__attribute__((constructor)) static void spec_options_init(void)
{
	overrides_options(spec_options, ARRAY_SIZE(spec_options), spec_options_own);
}

struct spec_opts {
	struct sbx_overrides ov;
	const char *bundle;
	bool tty;
	bool tls_insecure;
};

static int spec_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct spec_opts *o = ctx;
	int r = overrides_collect(&o->ov, val, arg, err);
	if (r != 0)
		return r > 0 ? 0 : -1;
	if (val == OPT_BUNDLE)
		o->bundle = arg;
	else if (val == 't')
		o->tty = true;
	else if (val == OPT_TLS_VERIFY_RUN)
		return option_tls_verify(arg, &o->tls_insecure, err);
	else
		return -1;
	return 0;
}

static int spec(const struct sbx_command *cmd, struct spec_opts *o, const char *image, char **args,
                struct sbx_error **err)
{
	_cleanup_profile_ struct sbx_profile *p = NULL;
	if (overrides_load(&o->ov, &p, err) < 0)
		return -1;
	struct sbx_image_progress progress = {.info = say_info, .warn = say_warn};
	_cleanup_image_ struct sbx_image *img = NULL;
	if (pull_resolve(cmd, p->pull, !o->tls_insecure, image, &progress, &img, err) < 0)
		return -1;
	struct sbx_oci_input in = overrides_oci_input(p, img, args, o->tty);
	if (overrides_subids(p, &in, err) < 0)
		return -1;
	json_t *config = NULL;
	if (o->bundle == NULL) {
		if (oci_build(&in, &config, err) < 0)
			return -1;
		json_dumpf(config, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(config);
		return 0;
	}
	/* A bundle is self-contained: its config names the copied "rootfs". */
	_cleanup_free_ char *lower = xstrdup(img->rootfs);
	in.rootfs = "rootfs";
	int r = oci_build(&in, &config, err);
	if (r == 0) {
		json_t *ann = json_object_get(config, "annotations");
		json_object_set_new(ann, SBX_ANN_IMAGE, json_string(img->name));
	}
	if (r == 0 && mkdir(o->bundle, 0700) < 0 && errno != EEXIST)
		r = sbx_error_set(err, errno, "cannot create bundle directory \"%s\"", o->bundle);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", o->bundle);
	bool copied = false;
	if (r == 0) {
		r = image_copy_rootfs(img, rootfs, &progress, err);
		copied = r == 0;
	}
	if (r == 0) {
		_cleanup_close_ int dfd = open(o->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		_cleanup_free_ char *text = json_dumps(config, JSON_INDENT(2));
		if (dfd < 0)
			r = sbx_error_set(err, errno, "cannot open \"%s\"", o->bundle);
		else
			r = write_file_atomic(dfd, "config.json", text, strlen(text), 0644, err);
	}
	json_decref(config);
	if (r < 0) {
		if (copied) {
			_cleanup_close_ int dfd =
			    open(o->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0)
				rm_rf_at(dfd, "rootfs", NULL);
		}
		return -1;
	}
	if (sbx_verbose >= 0)
		fprintf(stderr,
		        "sbx: bundle written to \"%s\"; run it with 'cd %s && runc run ID'\n",
		        o->bundle, o->bundle);
	return 0;
}

static int spec_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct spec_opts o = {0};
	int first = cmdline_parse(cmd, argc, argv, true, spec_option, &o, err);
	int status;
	if (first < 0)
		status = first;
	else if (first >= argc)
		status = cmdline_usage(err, "no image given");
	else
		status =
		    spec(cmd, &o, argv[first], first + 1 < argc ? argv + first + 1 : NULL, err);
	overrides_free(&o.ov);
	return status;
}

const struct sbx_command cmd_spec = {
    .name = "spec",
    .args = "[OPTIONS] IMAGE [COMMAND [ARG...]]",
    .summary = "Print the OCI config.json for a sandbox, or write a bundle with --bundle.",
    .options = spec_options,
    .positional = SBX_COMPLETE_IMAGE,
    .main = spec_main,
    .usage_exit = SBX_EXIT_USAGE,
};
