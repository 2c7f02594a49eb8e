/* cmd-diff.c - sbx diff: what an instance added, changed and deleted
 * against its image, like `docker diff`. */
#define _GNU_SOURCE
#include "commands.h"
#include "instance.h"
#include "layer.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

enum { OPT_FORMAT = 256 };

static const struct sbx_option diff_options[] = {
    {"format", OPT_FORMAT, required_argument, "FORMAT", "output format: text (default) or json",
     "text json"},
    {0},
};

struct diff_opts {
	const struct sbx_command *cmd;
	bool json;
};

static int diff_option(void *ctx, int val, const char *arg)
{
	struct diff_opts *o = ctx;
	if (val != OPT_FORMAT)
		return -1;
	if (strcmp(arg, "text") == 0 || strcmp(arg, "json") == 0) {
		o->json = strcmp(arg, "json") == 0;
		return 0;
	}
	cmdline_usage_error(o->cmd, "unknown format '%s'; use 'text' or 'json'", arg);
	return -1;
}

/* The sandbox chose these names: control bytes, backslashes and bytes that
 * are not UTF-8 are written as \xNN, so nothing reaches the terminal raw
 * and every change stays on one line. */
static char *escape(const char *s)
{
	size_t len = strlen(s);
	bool utf8 = utf8_valid(s, len);
	char *out = xmalloc(len * 4 + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool c1 = *p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
		if (*p < 0x20 || *p == 0x7f || *p == '\\' || (*p >= 0x80 && !utf8) || c1) {
			o += sprintf(o, "\\x%02x", *p);
			if (c1) {
				p++;
				o += sprintf(o, "\\x%02x", *p);
			}
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

static int fail(const struct sbx_command *cmd, struct sbx_error *e)
{
	sbx_error_print(e, cmd->name);
	sbx_error_free(e);
	return SBX_EXIT_FAILURE;
}

static int diff_main(const struct sbx_command *cmd, int argc, char **argv)
{
	struct diff_opts o = {.cmd = cmd};
	int first = cmdline_parse(cmd, argc, argv, false, diff_option, &o);
	if (first == -2)
		return 0;
	if (first < 0)
		return cmd->usage_exit;
	if (argc - first != 1) {
		cmdline_usage_error(cmd, argc - first < 1 ? "no instance given"
		                                          : "too many arguments, expected NAME");
		return cmd->usage_exit;
	}
	struct sbx_error *e = NULL;
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	_cleanup_free_ char *lower = NULL;
	if (instance_open(argv[first], &inst, &e) < 0 ||
	    layer_instance_image(inst, &lower, NULL, &e) < 0)
		return fail(cmd, e);
	struct layer_change *c = NULL;
	size_t n = 0;
	if (layer_diff(inst->upper, lower, &c, &n, &e) < 0)
		return fail(cmd, e);
	if (o.json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *path = json_string(c[i].path);
			if (path == NULL) { /* not UTF-8: JSON cannot hold it raw */
				_cleanup_free_ char *esc = escape(c[i].path);
				path = json_string(esc);
			}
			char kind[2] = {c[i].kind, '\0'};
			json_array_append_new(a,
			                      json_pack("{s:o, s:s}", "path", path, "kind", kind));
		}
		json_dumpf(a, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(a);
	} else {
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *esc = escape(c[i].path);
			printf("%c %s\n", c[i].kind, esc);
		}
	}
	layer_changes_free(c, n);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		e = NULL;
		sbx_error_set(&e, errno, "cannot write the changes");
		return fail(cmd, e);
	}
	return 0;
}

const struct sbx_command cmd_diff = {
    .name = "diff",
    .args = "[OPTIONS] NAME",
    .summary = "List what an instance added, changed and deleted against its image.",
    .options = diff_options,
    .positional = SBX_COMPLETE_INSTANCE,
    .main = diff_main,
    .usage_exit = SBX_EXIT_USAGE,
};
