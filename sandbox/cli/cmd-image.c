/* cmd-image.c - sbx image ls|rm|import|bootstrap. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "store/image.h"
#include "store/instance.h"
#include "store/layer.h"
#include "lib/util.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

enum {
	OPT_FORMAT = 256,
	OPT_BUSYBOX,
};

static int fail(const struct sbx_command *cmd, struct sbx_error *e)
{
	char name[64];
	sbx_error_print(e, cmdline_name(cmd, name, sizeof(name)));
	sbx_error_free(e);
	return SBX_EXIT_FAILURE;
}

/* ---- sbx image ls ---- */

static const struct sbx_option ls_options[] = {
    {"quiet", 'q', no_argument, NULL, "only print image names", NULL},
    {"format", OPT_FORMAT, required_argument, "FORMAT", "output format: table (default) or json",
     "table json"},
    {0},
};

struct ls_opts {
	const struct sbx_command *cmd;
	bool quiet;
	bool json;
};

static int ls_option(void *ctx, int val, const char *arg)
{
	struct ls_opts *o = ctx;
	switch (val) {
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_FORMAT:
		if (strcmp(arg, "table") == 0) {
			o->json = false;
			return 0;
		}
		if (strcmp(arg, "json") == 0) {
			o->json = true;
			return 0;
		}
		cmdline_usage_error(o->cmd, "unknown format '%s'; use 'table' or 'json'", arg);
		return -1;
	}
	return -1;
}

static json_t *strv_json(char *const *v)
{
	if (v == NULL)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *str_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int image_ls_main(const struct sbx_command *cmd, int argc, char **argv)
{
	struct ls_opts o = {.cmd = cmd};
	int first = cmdline_parse(cmd, argc, argv, false, ls_option, &o);
	if (first == -2)
		return 0;
	if (first < 0)
		return cmd->usage_exit;
	if (first < argc) {
		cmdline_usage_error(cmd, "unexpected argument '%s'", argv[first]);
		return cmd->usage_exit;
	}
	struct sbx_image **imgs = NULL;
	size_t n = 0;
	struct sbx_error *e = NULL;
	if (image_list(&imgs, &n, &e) < 0)
		return fail(cmd, e);
	if (o.json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			const struct sbx_image *img = imgs[i];
			json_array_append_new(
			    a, json_pack("{s:s, s:o, s:o, s:I, s:s, s:o, s:o, s:o, s:o}", "name",
			                 img->name, "source", str_json(img->source), "created",
			                 str_json(img->created), "size", (json_int_t)img->size,
			                 "rootfs", img->rootfs, "cmd", strv_json(img->cmd), "env",
			                 strv_json(img->env), "workdir", str_json(img->workdir),
			                 "user", str_json(img->user)));
		}
		json_dumpf(a, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(a);
	} else if (o.quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", imgs[i]->name);
	} else {
		/* image.json and the source's path are not sbx's to trust:
		 * nothing reaches the terminal raw. */
		char **created = xcalloc(n + 1, sizeof(char *));
		char **source = xcalloc(n + 1, sizeof(char *));
		int wname = 4, wcreated = 7;
		for (size_t i = 0; i < n; i++) {
			const struct sbx_image *img = imgs[i];
			const char *c = img->created ? img->created : "-";
			const char *s = img->created ? (img->source ? img->source : "-")
			                             : "(damaged; remove it with 'sbx image rm')";
			created[i] = str_escape_mem(c, strlen(c), ESCAPE_BARE, NULL);
			source[i] = str_escape_mem(s, strlen(s), ESCAPE_BARE, NULL);
			int l = (int)strlen(img->name);
			if (l > wname)
				wname = l;
			l = (int)strlen(created[i]);
			if (l > wcreated)
				wcreated = l;
		}
		printf("%-*s  %-*s  %10s  %s\n", wname, "NAME", wcreated, "CREATED", "SIZE",
		       "SOURCE");
		for (size_t i = 0; i < n; i++) {
			const struct sbx_image *img = imgs[i];
			char size[32] = "-";
			if (img->created)
				format_size(img->size, size, sizeof(size));
			printf("%-*s  %-*s  %10s  %s\n", wname, img->name, wcreated, created[i],
			       size, source[i]);
		}
		strv_free(created);
		strv_free(source);
	}
	image_list_free(imgs, n);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		e = NULL;
		sbx_error_set(&e, errno, "cannot write the list");
		return fail(cmd, e);
	}
	return 0;
}

const struct sbx_command cmd_image_ls = {
    "image",    "ls", "[OPTIONS]",   "List the stored images.",
    ls_options, NULL, image_ls_main, SBX_EXIT_USAGE,
};

/* ---- sbx image rm ---- */

static const struct sbx_option rm_options[] = {
    {"force", 'f', no_argument, NULL, "ignore images that do not exist", NULL},
    {0},
};

static int rm_option(void *ctx, int val, const char *arg)
{
	if (val != 'f')
		return -1;
	*(bool *)ctx = true;
	return 0;
}

/* An instance's overlay has the image as its lower layer: removing the
 * image would leave the instance unable to start. Returns the first user. */
static char *image_user(const char *image)
{
	_cleanup_strv_ char **names = NULL;
	struct sbx_error *e = NULL;
	if (instance_list(&names, &e) < 0) {
		sbx_error_free(e);
		return NULL;
	}
	for (size_t i = 0; names[i]; i++) {
		_cleanup_instance_ struct sbx_instance *inst = NULL;
		json_t *meta = NULL;
		if (instance_open(names[i], &inst, &e) < 0 ||
		    instance_read_meta(inst, &meta, &e) < 0) {
			sbx_error_free(e);
			e = NULL;
			continue;
		}
		const char *img = json_string_value(json_object_get(meta, "image"));
		bool match = img && strcmp(img, image) == 0;
		json_decref(meta);
		if (match)
			return xstrdup(names[i]);
	}
	return NULL;
}

static int image_rm_main(const struct sbx_command *cmd, int argc, char **argv)
{
	bool force = false;
	int first = cmdline_parse(cmd, argc, argv, false, rm_option, &force);
	if (first == -2)
		return 0;
	if (first < 0)
		return cmd->usage_exit;
	if (first >= argc) {
		cmdline_usage_error(cmd, "missing image name");
		return cmd->usage_exit;
	}
	int status = 0;
	for (int i = first; i < argc; i++) {
		struct sbx_error *e = NULL;
		_cleanup_free_ char *user = image_user(argv[i]);
		if (user) {
			sbx_error_setc(&e, EBUSY,
			               "image \"%s\" is the lower layer of instance \"%s\"; remove "
			               "the instance first ('sbx rm %s') or keep the image",
			               argv[i], user, user);
			status = fail(cmd, e);
			continue;
		}
		if (image_remove(argv[i], &e) == 0)
			continue;
		if (force && e->code == ENOENT) {
			sbx_error_free(e);
			continue;
		}
		status = fail(cmd, e);
	}
	return status;
}

const struct sbx_command cmd_image_rm = {
    "image",
    "rm",
    "[OPTIONS] NAME...",
    "Remove stored images.",
    rm_options,
    SBX_COMPLETE_IMAGE,
    image_rm_main,
    SBX_EXIT_USAGE,
};

/* ---- sbx image import ---- */

static const struct sbx_option import_options[] = {
    {"quiet", 'q', no_argument, NULL, "show neither progress nor warnings", NULL},
    OPTION_MAX_SIZE,
    {0},
};

static int image_import_main(const struct sbx_command *cmd, int argc, char **argv)
{
	struct import_opts o = {.cmd = cmd};
	int first = cmdline_parse(cmd, argc, argv, false, option_import, &o);
	if (first == -2)
		return 0;
	if (first < 0)
		return cmd->usage_exit;
	if (argc - first != 2) {
		cmdline_usage_error(
		    cmd, argc - first < 2 ? "missing %s" : "too many arguments, expected %s",
		    "NAME and SOURCE");
		return cmd->usage_exit;
	}
	const char *name = argv[first], *source = argv[first + 1];
	const char *base = strrchr(source, '/');
	base = base && base[1] ? base + 1 : source;
	/* File names reach the terminal escaped, like everything else. */
	_cleanup_free_ char *label = strcmp(source, "-") == 0
	                                 ? xstrdup("standard input")
	                                 : str_escape_mem(base, strlen(base), ESCAPE_BARE, NULL);
	struct sbx_progress_ui ui;
	struct sbx_image_progress p;
	progress_ui_init(&ui, &p, "image import", "importing", label, o.quiet);
	p.max_size = o.max_size;
	struct sbx_error *e = NULL;
	int r = layer_is_oci_layout(source)
	            ? layer_import_oci(name, source, &p, progress_ui_layer, &e)
	            : image_import(name, source, &p, &e);
	progress_ui_done(&ui);
	if (r < 0)
		return fail(cmd, e);
	return 0;
}

const struct sbx_command cmd_image_import = {
    "image",
    "import",
    "[OPTIONS] NAME SOURCE",
    "Import a directory, a tarball (.tar, .tar.gz, .tar.xz, .tar.zst; - for stdin) or an OCI "
    "image layout (DIR or DIR:REF) as an image.",
    import_options,
    NULL,
    image_import_main,
    SBX_EXIT_USAGE,
};

/* ---- sbx image bootstrap ---- */

static const struct sbx_option bootstrap_options[] = {
    {"name", 'n', required_argument, "NAME", "name of the image (default: busybox)", NULL},
    {"busybox", OPT_BUSYBOX, required_argument, "PATH",
     "static busybox binary to use (default: /bin/busybox or /usr/bin/busybox)", SBX_COMPLETE_FILE},
    {"quiet", 'q', no_argument, NULL, "only print errors", NULL},
    {0},
};

struct bootstrap_opts {
	const char *name;
	const char *busybox;
	bool quiet;
};

static int bootstrap_option(void *ctx, int val, const char *arg)
{
	struct bootstrap_opts *o = ctx;
	switch (val) {
	case 'n':
		o->name = arg;
		return 0;
	case OPT_BUSYBOX:
		o->busybox = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	}
	return -1;
}

static int image_bootstrap_main(const struct sbx_command *cmd, int argc, char **argv)
{
	struct bootstrap_opts o = {.name = "busybox"};
	int first = cmdline_parse(cmd, argc, argv, false, bootstrap_option, &o);
	if (first == -2)
		return 0;
	if (first < 0)
		return cmd->usage_exit;
	if (first >= argc) {
		cmdline_usage_error(cmd, "missing what to bootstrap; the only kind is 'busybox'");
		return cmd->usage_exit;
	}
	if (argc - first > 1) {
		cmdline_usage_error(cmd, "unexpected argument '%s'", argv[first + 1]);
		return cmd->usage_exit;
	}
	if (strcmp(argv[first], "busybox") != 0) {
		cmdline_usage_error(cmd, "unknown kind '%s'; the only kind is 'busybox'",
		                    argv[first]);
		return cmd->usage_exit;
	}
	struct sbx_progress_ui ui;
	struct sbx_image_progress p;
	progress_ui_init(&ui, &p, "image bootstrap", "importing", "busybox", o.quiet);
	struct sbx_error *e = NULL;
	int r = image_bootstrap_busybox(o.name, o.busybox, &p, &e);
	progress_ui_done(&ui);
	if (r < 0)
		return fail(cmd, e);
	return 0;
}

const struct sbx_command cmd_image_bootstrap = {
    "image",
    "bootstrap",
    "[OPTIONS] busybox",
    "Build a minimal image from the host's static busybox.",
    bootstrap_options,
    "busybox",
    image_bootstrap_main,
    SBX_EXIT_USAGE,
};
