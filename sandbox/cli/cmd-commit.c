/* cmd-commit.c - sbx commit: save a stopped instance (its image with its
 * upper layer on top) as a new image. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "store/image.h"
#include "store/image-lock.h"
#include "store/instance.h"
#include "store/layer.h"
#include "store/state.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const struct sbx_option commit_options[] = {
    {"quiet", 'q', no_argument, NULL, "show neither progress nor warnings", NULL},
    OPTION_MAX_SIZE,
    {0},
};

/* The source image's defaults for run, when it is still the same image. */
static void copy_defaults(const char *image, const char *rootfs, struct sbx_image *with)
{
	if (image == NULL || strchr(image, '/'))
		return; /* a plain directory has none */
	_cleanup_image_ struct sbx_image *img = NULL;
	_cleanup_error_ struct sbx_error *e = NULL;
	if (image_open(image, &img, &e) < 0 || strcmp(img->rootfs, rootfs) != 0)
		return;
	with->cmd = steal_ptr(img->cmd);
	with->env = steal_ptr(img->env);
	with->workdir = steal_ptr(img->workdir);
	with->user = steal_ptr(img->user);
}

static int commit_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct import_opts o = {0};
	int first = cmdline_parse(cmd, argc, argv, false, option_import, &o, err);
	if (first < 0)
		return first;
	if (cmdline_operands(argc - first, 2, "NAME and IMAGE", err) < 0)
		return -1;
	const char *name = argv[first], *target = argv[first + 1];
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	if (instance_open(name, &inst, err) < 0 || instance_need_upper(inst, err) < 0)
		return -1;
	bool running = false;
	if (state_is_running(inst->dir, &running, err) < 0)
		return -1;
	if (running)
		return sbx_error_setc(
		    err, EBUSY, "instance \"%s\" is running; stop it first with 'sbx stop %s'",
		    name, name);
	/* The store is held shared from reading which image the instance is
	 * of until the merged tree is copied, so that a replace or a removal of
	 * that image waits (image-lock.h); the import gives it up before it
	 * locks the store exclusively to add the new image. No store: the
	 * instance is of a directory. */
	_cleanup_close_ int lock = image_lock_store(false, false, err);
	if (lock == -1)
		return -1;
	image_lock_yield_before_exclusive(lock);
	_cleanup_free_ char *rootfs = NULL, *image = NULL;
	_cleanup_config_ struct sbx_config *config = NULL;
	_cleanup_error_ struct sbx_error *cerr = NULL;
	if (layer_instance_image(inst, &rootfs, &image, err) < 0)
		return -1;
	(void)instance_read_config(inst, &config, &cerr); /* else the caller's own ids */
	/* Fail early, before any work; the import's rename decides. */
	_cleanup_image_ struct sbx_image *existing = NULL;
	_cleanup_error_ struct sbx_error *e = NULL;
	if (image_open(target, &existing, &e) == 0)
		return sbx_error_setc(
		    err, EEXIST,
		    "image \"%s\" already exists; remove it first with 'sbx image rm %s'", target,
		    target);
	if (e->code == EINVAL) {
		*err = steal_ptr(e);
		return -1;
	}
	/* The overlay goes on the instance's mount point, in a mount namespace
	 * of its own, so nobody else ever sees it. */
	struct stat st;
	if (lstat(inst->rootfs, &st) < 0 && mkdir(inst->rootfs, 0755) < 0)
		return sbx_error_set(err, errno, "cannot create \"%s\"", inst->rootfs);
	_cleanup_free_ char *source = xasprintf("instance %s", name);
	struct sbx_image with = {.source = source};
	copy_defaults(image, rootfs, &with);
	/* The copy runs in a child process, which draws the progress. */
	struct sbx_progress_ui ui;
	struct sbx_image_progress p;
	progress_ui_init(&ui, &p, "commit", "committing", target, o.quiet);
	p.max_size = o.max_size;
	int r = layer_commit(inst->upper, rootfs, config, inst->rootfs, target, &with, &p, err);
	image_lock_yield_before_exclusive(-1);
	progress_ui_done(&ui);
	strv_free(with.cmd);
	strv_free(with.env);
	free(with.workdir);
	free(with.user);
	if (r < 0)
		return -1;
	if (sbx_verbose > 0)
		fprintf(stderr, "sbx: commit: instance \"%s\" saved as image \"%s\"\n", name,
		        target);
	/* As podman commit prints the new image. */
	if (!o.quiet && sbx_verbose >= 0)
		printf("%s\n", target);
	return 0;
}

const struct sbx_command cmd_commit = {
    .name = "commit",
    .args = "[OPTIONS] NAME IMAGE",
    .summary = "Save a stopped instance (its image and what it changed) as a new image.",
    .options = commit_options,
    .positional = SBX_COMPLETE_INSTANCE,
    .main = commit_main,
    .usage_exit = SBX_EXIT_USAGE,
};
