/* cmd-run.c - sbx run: create + start + wait. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "runtime/config.h"
#include "store/image.h"
#include "store/instance.h"
#include "runtime/net.h"
#include "profile/oci.h"
#include "runtime/overlay.h"
#include "runtime/process.h"
#include "store/state.h"
#include "runtime/userns.h"

#include <errno.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

static const struct sbx_option run_options_own[] = {
    {"name", OPT_NAME, required_argument, "NAME", "name the instance (default: generated)", NULL},
    {"rm", OPT_RM, no_argument, NULL, "remove the instance and its upper layer on exit", NULL},
    {"scratch", OPT_SCRATCH, required_argument, "WHERE",
     "with --rm, keep the upper layer in memory (default) or on disk", "memory disk"},
    {"scratch-size", OPT_SCRATCH_SIZE, required_argument, "SIZE",
     "the most the upper layer in memory may hold (default: 1G, or a quarter of the RAM)", NULL},
    {"tty", 't', no_argument, NULL, "allocate a terminal for the sandbox", NULL},
    {"interactive", 'i', no_argument, NULL, "with -t, send standard input to the sandbox", NULL},
    {"detach", 'd', no_argument, NULL,
     "run in the background; output goes to the log ('sbx logs NAME')", NULL},
    OPTION_PULL_TLS_VERIFY,
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* The profile's settings first, from their table (cmd-common.h). */
static struct sbx_option run_options[128];

__attribute__((constructor)) static void run_options_init(void)
{
	overrides_options(run_options, ARRAY_SIZE(run_options), run_options_own);
}

struct run_opts {
	struct sbx_overrides ov;
	const char *name;
	const char *scratch;   /* "memory" or "disk"; NULL = memory */
	uint64_t scratch_size; /* 0 = the profile's */
	bool rm, tty, interactive, detach;
	bool tls_insecure;
};

static int run_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct run_opts *o = ctx;
	int r = overrides_collect(&o->ov, val, arg, err);
	if (r != 0)
		return r > 0 ? 0 : -1;
	switch (val) {
	case OPT_NAME:
		o->name = arg;
		return 0;
	case OPT_RM:
		o->rm = true;
		return 0;
	case OPT_SCRATCH:
		if (strcmp(arg, "memory") != 0 && strcmp(arg, "disk") != 0)
			return cmdline_usage(err, "--scratch \"%s\": expected memory or disk", arg);
		o->scratch = arg;
		return 0;
	case OPT_SCRATCH_SIZE:
		if (parse_size(arg, &o->scratch_size) < 0 || o->scratch_size == 0)
			return cmdline_usage(err,
			                     "--scratch-size \"%s\": expected a size such as 512K, "
			                     "64M or 2G",
			                     arg);
		return 0;
	case 't':
		o->tty = true;
		return 0;
	case 'i':
		o->interactive = true;
		return 0;
	case 'd':
		o->detach = true;
		return 0;
	case OPT_TLS_VERIFY_RUN:
		return option_tls_verify(arg, &o->tls_insecure, err);
	}
	return -1;
}

static json_t *instance_meta(const struct sbx_instance *inst, const struct sbx_image *img,
                             const struct sbx_profile *p, json_t *config)
{
	char created[32];
	state_now(created);
	json_t *args = json_object_get(json_object_get(config, "process"), "args");
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "name", inst->name, "image", img->name,
	                 "rootfs", img->rootfs, "profile", p->name ? p->name : "", "created",
	                 created, "command", args);
}

/* Warnings about what the sandbox cannot do here, before it starts. */
static void preflight(const struct sbx_profile *p, const struct sbx_image *img)
{
	/* Said every time: sbx has no cgroup manager yet, even where a cgroup v2
	 * subtree is delegated (runc and crun enforce them from the config). */
	if (p->memory || p->pids || p->millicpus)
		fprintf(stderr, "sbx: warning: sbx does not enforce memory, pids and cpus limits "
		                "yet; they are recorded in the config, for runc and crun (rlimits "
		                "still apply)\n");
	struct stat st;
	if (p->userns == SBX_USERNS_SINGLE && getuid() != 0 && stat(img->rootfs, &st) == 0 &&
	    st.st_uid != getuid())
		fprintf(stderr,
		        "sbx: warning: the image \"%s\" is owned by uid %u, which is not "
		        "mapped in the sandbox: changing its files will fail with "
		        "EOVERFLOW; re-import the image as yourself or use --userns subid\n",
		        img->name, st.st_uid);
	_cleanup_free_ char *lost = landlock_shortfall(
	    landlock_abi(), p->landlock_fs_ro || p->landlock_fs_rw,
	    p->landlock_tcp_bind || p->landlock_tcp_connect, p->net == SBX_NET_HOST);
	if (lost)
		fprintf(stderr, "sbx: warning: %s\n", lost);
}

/* create + start + wait, here. */
static int run_attached(struct lifecycle *lc, json_t *config, json_t *meta, int *status,
                        struct sbx_error **err)
{
	*status = SBX_EXIT_FAILURE;
	if (lifecycle_create(lc, config, meta, err) < 0 || lifecycle_start(lc, status, err) < 0)
		return -1;
	return lifecycle_wait(lc, status, err);
}

/* A volume of the profile whose source is missing, named by its file and
 * line before anything is created (one from --volume fails where it is
 * mounted, naming the option). */
static int check_profile_volumes(const struct sbx_profile *p, struct sbx_error **err)
{
	for (size_t i = 0; i < p->n_volumes; i++) {
		const struct sbx_volume *v = &p->volumes[i];
		struct stat st;
		if (v->origin == NULL || stat(v->src, &st) == 0 || errno != ENOENT)
			continue;
		_cleanup_free_ char *q = str_escape(v->src);
		return sbx_error_setc(err, ENOENT,
		                      "%s: volume source \"%s\" does not exist; create it or fix "
		                      "the volume line",
		                      v->origin, q);
	}
	return 0;
}

/* Runs the payload; returns its status, or 125/126/127 for sbx's own
 * failures, with *err. */
static int run(const struct sbx_command *cmd, struct run_opts *o, const char *image, char **args,
               struct sbx_error **err)
{
	_cleanup_profile_ struct sbx_profile *p = NULL;
	if (overrides_load(&o->ov, &p, err) < 0)
		return -1;
	if (o->scratch_size)
		p->scratch = o->scratch_size;
	if (check_profile_volumes(p, err) < 0)
		return -1;
	struct sbx_image_progress progress = {.info = say_info, .warn = say_warn};
	_cleanup_image_ struct sbx_image *img = NULL;
	if (pull_resolve(cmd, p->pull, !o->tls_insecure, image, &progress, &img, err) < 0)
		return -1;
	sbx_trace("image resolved: %s", img->rootfs);
	if (sbx_verbose >= 0)
		preflight(p, img);
	/* Before anything is created: a missing helper or an unusable
	 * /dev/net/tun fails here, and auto becomes what it picked. */
	enum sbx_net_mode net;
	if (net_resolve(p->net, &net, err) < 0)
		return -1;
	if (p->net == SBX_NET_AUTO && sbx_verbose >= 0)
		fprintf(stderr, "sbx: network: using %s\n", net_mode_name(net));
	p->net = net;

	struct sbx_oci_input in = overrides_oci_input(p, img, args, o->tty);
	if (overrides_subids(p, &in, err) < 0)
		return -1;

	/* --rm keeps its upper layer in a tmpfs of the sandbox's own, as
	 * bwrap --tmp-overlay and ch-run --write-fake do: nothing to create on
	 * disk, nothing to remove. */
	bool ephemeral = o->rm && (o->scratch == NULL || strcmp(o->scratch, "memory") == 0);
	/* fuse-overlayfs runs outside the sandbox, where its tmpfs is out of
	 * reach. */
	if (ephemeral && p->overlay == SBX_OVERLAY_FUSE) {
		if (o->scratch)
			return sbx_error_setc(err, EINVAL,
			                      "--scratch memory cannot be used with --overlay fuse "
			                      "(fuse-overlayfs runs outside the sandbox, away from "
			                      "its memory); use --scratch disk");
		ephemeral = false;
	}
	if (ephemeral && !overlay_scratch_supported()) {
		if (o->scratch)
			return sbx_error_setc(err, ENOTSUP,
			                      "--scratch memory needs Linux 6.6 or later (user "
			                      "xattrs on tmpfs, for the overlay's whiteouts); use "
			                      "--scratch disk");
		sbx_trace("no user xattrs on tmpfs: --rm keeps its upper layer on disk");
		ephemeral = false;
	}
	struct lifecycle_opts opts = {.rm = o->rm,
	                              .attach_stdin = o->interactive,
	                              .exec_in_wait = !o->detach,
	                              .notify = lifecycle_say(cmd)};
	_cleanup_lifecycle_ struct lifecycle *lc = NULL;
	if (lifecycle_new(o->name, ephemeral, &opts, &lc, err) < 0)
		return -1;
	/* The image's lock goes once the instance is recorded (image-lock.h). */
	lifecycle_hold(lc, image_take_lock(img));
	const struct sbx_instance *inst = lifecycle_instance(lc);
	/* A read-only root is an overlay too, made read-only once the mount
	 * points exist, so the image itself is never touched. */
	in.upper = inst->upper;
	in.volatile_upper = o->rm && !ephemeral;
	in.scratch = ephemeral;
	in.work = inst->work;
	in.mountpoint = inst->rootfs;
	in.etc_dir = inst->dir;
	in.defer_seccomp = true;

	json_t *config = NULL;
	if (oci_build(&in, &config, err) < 0) {
		json_decref(config);
		return -1;
	}
	sbx_trace("config ready");
	json_t *meta = instance_meta(inst, img, p, config);
	int status, r;
	if (o->detach) {
		r = lifecycle_detach(lc, config, meta, &status, err);
		if (r == 0)
			printf("%s\n", inst->name);
	} else {
		r = run_attached(lc, config, meta, &status, err);
	}
	if (r == 0 && !o->rm && !o->detach && sbx_verbose > 0)
		fprintf(stderr, "sbx: instance \"%s\" kept in \"%s\"\n", inst->name, inst->dir);
	lifecycle_free(steal_ptr(lc));
	json_decref(meta);
	json_decref(config);
	return status;
}

static int run_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct run_opts o = {0};
	int first = cmdline_parse(cmd, argc, argv, true, run_option, &o, err);
	int status;
	if (first < 0)
		status = first;
	else if (first >= argc)
		status = cmdline_usage(err, "no image given");
	else if (o.scratch && !o.rm)
		status = cmdline_usage(err, "--scratch needs --rm: a kept instance's upper layer "
		                            "is always on disk");
	else if (o.scratch_size && (!o.rm || (o.scratch && strcmp(o.scratch, "disk") == 0)))
		status =
		    cmdline_usage(err, "--scratch-size needs --rm with the upper layer in memory");
	else {
		char **args = first + 1 < argc ? argv + first + 1 : NULL;
		/* A bare `sbx run IMAGE` at a terminal is an interactive shell. */
		if (args == NULL && !o.tty && !o.detach && isatty(STDIN_FILENO) &&
		    isatty(STDOUT_FILENO)) {
			o.tty = true;
			o.interactive = true;
		}
		status = run(cmd, &o, argv[first], args, err);
	}
	overrides_free(&o.ov);
	return status;
}

const struct sbx_command cmd_run = {
    .name = "run",
    .args = "[OPTIONS] IMAGE [COMMAND [ARG...]]",
    .summary = "Run a command in a new sandbox (a shell when no command is given).",
    .options = run_options,
    .positional = SBX_COMPLETE_IMAGE,
    .main = run_main,
    .usage_exit = SBX_EXIT_FAILURE,
};
