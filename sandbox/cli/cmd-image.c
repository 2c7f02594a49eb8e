/* cmd-image.c - sbx image ls|rm|import|bootstrap. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "store/image.h"
#include "store/layer.h"
#include "lib/util.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

enum {
	OPT_BUSYBOX = 256,
};

/* ---- sbx image ls ---- */

static const struct sbx_option ls_options[] = {
    {"quiet", 'q', no_argument, NULL, "only print image names", NULL},
    CMDLINE_OPTION_FORMAT("text (a table, the default), json, or a template: '{{.Name}}'"),
    {0},
};

struct ls_opts {
	bool quiet;
	const char *format;
};

static int ls_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct ls_opts *o = ctx;
	switch (val) {
	case 'q':
		o->quiet = true;
		return 0;
	case CMDLINE_OPT_FORMAT:
		o->format = arg;
		return 0;
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

#define IMG(src) ((const struct sbx_image *)(src))
static json_t *img_name(const void *src)
{
	return json_string(IMG(src)->name);
}
static json_t *img_created(const void *src)
{
	return str_json(IMG(src)->created);
}
static json_t *img_size(const void *src)
{
	return json_integer((json_int_t)IMG(src)->size);
}
static json_t *img_source(const void *src)
{
	return str_json(IMG(src)->source);
}
static json_t *img_rootfs(const void *src)
{
	return json_string(IMG(src)->rootfs);
}
static json_t *img_cmd(const void *src)
{
	return strv_json(IMG(src)->cmd);
}
static json_t *img_env(const void *src)
{
	return strv_json(IMG(src)->env);
}
static json_t *img_workdir(const void *src)
{
	return str_json(IMG(src)->workdir);
}
static json_t *img_user(const void *src)
{
	return str_json(IMG(src)->user);
}
#undef IMG

/* An image without image.json has no creation time: it is damaged. */
static bool row_damaged(json_t *row)
{
	return json_is_null(json_object_get(row, "created"));
}

static char *img_size_text(json_t *row)
{
	char size[32] = "-";
	if (!row_damaged(row))
		format_size((uint64_t)json_integer_value(json_object_get(row, "size")), size,
		            sizeof(size));
	return xstrdup(size);
}

static char *img_source_text(json_t *row)
{
	const char *s = json_string_value(json_object_get(row, "source"));
	if (row_damaged(row))
		return xstrdup("(damaged; remove it with 'sbx image rm')");
	return xstrdup(s ? s : "-");
}

/* image ls's fields: the table's columns, the JSON keys and the template
 * fields, in one place; sbx-image(1) lists them. */
static const struct format_field image_fields[] = {
    {"Name", "name", "NAME", img_name, NULL, 0},
    {"Created", "created", "CREATED", img_created, NULL, 0},
    {"Size", "size", "SIZE", img_size, img_size_text, 0},
    {"Source", "source", "SOURCE", img_source, img_source_text, 0},
    {"Rootfs", "rootfs", NULL, img_rootfs, NULL, 0},
    {"Cmd", "cmd", NULL, img_cmd, NULL, 0},
    {"Env", "env", NULL, img_env, NULL, 0},
    {"Workdir", "workdir", NULL, img_workdir, NULL, 0},
    {"User", "user", NULL, img_user, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};

static int image_ls_main(const struct sbx_command *cmd, int argc, char **argv,
                         struct sbx_error **err)
{
	struct ls_opts o = {0};
	int first = cmdline_parse(cmd, argc, argv, false, ls_option, &o, err);
	if (first < 0)
		return first;
	if (first < argc)
		return cmdline_usage(err, "unexpected argument '%s'", argv[first]);
	_cleanup_format_ struct format *fmt = NULL;
	if (format_parse(o.format, image_fields, &fmt, err) < 0)
		return -1;
	struct sbx_image **imgs = NULL;
	size_t n = 0;
	if (image_list(&imgs, &n, err) < 0)
		return -1;
	_cleanup_free_ char *text = NULL;
	int r = 0;
	if (o.quiet) { /* as podman's, whatever --format says */
		for (size_t i = 0; i < n; i++)
			printf("%s\n", imgs[i]->name);
	} else {
		/* image.json and the source's path are not sbx's to trust: the
		 * text forms are escaped, nothing reaches the terminal raw. */
		_cleanup_json_ json_t *rows = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(rows, format_object(image_fields, imgs[i]));
		r = format_render(fmt, rows, true, &text, err);
		if (r == 0)
			fputs(text, stdout);
	}
	image_list_free(imgs, n);
	if (r < 0)
		return -1;
	if (fflush(stdout) != 0 || ferror(stdout))
		return sbx_error_set(err, errno, "cannot write the list");
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

static int rm_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	if (val != 'f')
		return -1;
	*(bool *)ctx = true;
	return 0;
}

/* *removed is false for a missing image that force ignored. */
static int image_rm_one(const char *name, bool force, bool *removed, struct sbx_error **err)
{
	if (image_remove(name, err) == 0) {
		*removed = true;
		return 0;
	}
	if (force && (*err)->code == ENOENT) {
		sbx_error_free(steal_ptr(*err));
		return 0;
	}
	return -1;
}

static int image_rm_main(const struct sbx_command *cmd, int argc, char **argv,
                         struct sbx_error **err)
{
	bool force = false;
	int first = cmdline_parse(cmd, argc, argv, false, rm_option, &force, err);
	if (first < 0)
		return first;
	if (first >= argc)
		return cmdline_usage(err, "missing image name");
	int status = 0;
	for (int i = first; i < argc; i++) {
		_cleanup_error_ struct sbx_error *e = NULL;
		bool removed = false;
		if (image_rm_one(argv[i], force, &removed, &e) < 0) {
			cmdline_error(cmd, e);
			status = SBX_EXIT_FAILURE;
		} else if (removed && sbx_verbose >= 0) {
			printf("%s\n", argv[i]);
			fflush(stdout); /* in order with the errors */
		}
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

static int image_import_main(const struct sbx_command *cmd, int argc, char **argv,
                             struct sbx_error **err)
{
	struct import_opts o = {0};
	int first = cmdline_parse(cmd, argc, argv, false, option_import, &o, err);
	if (first < 0)
		return first;
	if (cmdline_operands(argc - first, 2, "NAME and SOURCE", err) < 0)
		return -1;
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
	int r = layer_is_oci_layout(source)
	            ? layer_import_oci(name, source, &p, progress_ui_layer, err)
	            : image_import(name, source, &p, err);
	progress_ui_done(&ui);
	if (r == 0 && !o.quiet && sbx_verbose >= 0)
		printf("%s\n", name);
	return r;
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

static int bootstrap_option(void *ctx, int val, const char *arg, struct sbx_error **err)
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

static int image_bootstrap_main(const struct sbx_command *cmd, int argc, char **argv,
                                struct sbx_error **err)
{
	struct bootstrap_opts o = {.name = "busybox"};
	int first = cmdline_parse(cmd, argc, argv, false, bootstrap_option, &o, err);
	if (first < 0)
		return first;
	if (first >= argc)
		return cmdline_usage(err, "missing what to bootstrap; the only kind is 'busybox'");
	if (argc - first > 1)
		return cmdline_usage(err, "unexpected argument '%s'", argv[first + 1]);
	if (strcmp(argv[first], "busybox") != 0)
		return cmdline_usage(err, "unknown kind '%s'; the only kind is 'busybox'",
		                     argv[first]);
	struct sbx_progress_ui ui;
	struct sbx_image_progress p;
	progress_ui_init(&ui, &p, "image bootstrap", "importing", "busybox", o.quiet);
	int r = image_bootstrap_busybox(o.name, o.busybox, &p, err);
	progress_ui_done(&ui);
	return r;
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
