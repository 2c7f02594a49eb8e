/* cmdline.c - getopt_long driven by the option tables. */
#define _GNU_SOURCE
#include "cli/cmdline.h"
#include "lib/util.h"

#include <stdarg.h>
#include <string.h>

int sbx_verbose = 0;

static const struct sbx_option help_option = {
    "help", 'h', no_argument, NULL, "show this help and exit", NULL};

const char *cmdline_name(const struct sbx_command *cmd, char *buf, size_t len)
{
	if (cmd->group)
		snprintf(buf, len, "%s %s", cmd->group, cmd->name);
	else
		snprintf(buf, len, "%s", cmd->name);
	return buf;
}

/* The code of a usage error: no errno has it. */
#define USAGE_CODE (-1)

int cmdline_usage(struct sbx_error **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbx_error_setcv(err, USAGE_CODE, fmt, ap);
	va_end(ap);
	return -1;
}

void cmdline_error(const struct sbx_command *cmd, const struct sbx_error *err)
{
	char name[64];
	cmdline_name(cmd, name, sizeof(name));
	fprintf(stderr, "sbx: %s: %s\n", name, err ? err->msg : "unknown error");
	if (err && err->code == USAGE_CODE)
		fprintf(stderr, "Try 'sbx %s --help' for more information.\n", name);
}

int cmdline_status(const struct sbx_command *cmd, int r, const struct sbx_error *err)
{
	if (r == CMDLINE_HELP)
		return 0;
	if (r >= 0)
		return r;
	return err && err->code == USAGE_CODE ? cmd->usage_exit : SBX_EXIT_FAILURE;
}

int cmdline_format(const char *arg, enum cmdline_format *out, struct sbx_error **err)
{
	if (strcmp(arg, "text") == 0 || strcmp(arg, "table") == 0)
		*out = CMDLINE_TEXT;
	else if (strcmp(arg, "json") == 0)
		*out = CMDLINE_JSON;
	else
		return cmdline_usage(err, "unknown format '%s'; use 'text' or 'json'", arg);
	return 0;
}

static size_t count_options(const struct sbx_option *o)
{
	size_t n = 0;
	while (o && o[n].name)
		n++;
	return n;
}

int cmdline_parse(const struct sbx_command *cmd, int argc, char **argv, bool stop_at_operand,
                  sbx_option_fn fn, void *ctx, struct sbx_error **err)
{
	size_t n = count_options(cmd->options);
	_cleanup_free_ struct option *longopts = xcalloc(n + 2, sizeof(struct option));
	char shortopts[256];
	size_t s = 0;
	shortopts[s++] = stop_at_operand ? '+' : '-';
	shortopts[s++] = ':';
	for (size_t i = 0; i <= n; i++) {
		const struct sbx_option *o = i < n ? &cmd->options[i] : &help_option;
		longopts[i] = (struct option){o->name, o->has_arg, NULL, o->val};
		if (o->val > 0 && o->val < 256 && s + 3 < sizeof(shortopts)) {
			shortopts[s++] = (char)o->val;
			if (o->has_arg == required_argument)
				shortopts[s++] = ':';
		}
	}
	shortopts[s] = '\0';
	/* With '-', getopt returns operands as option 1, in order; collect them
	 * by permuting argv ourselves so "sbx rm a -f b" works. */
	_cleanup_free_ char **operands = xcalloc((size_t)argc + 1, sizeof(char *));
	size_t n_operands = 0;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 1) {
			operands[n_operands++] = optarg;
			continue;
		}
		if (c == 'h') {
			cmdline_help(cmd, stdout);
			return CMDLINE_HELP;
		}
		if (c == '?') {
			if (optopt > 0 && optopt < 256)
				return cmdline_usage(err, "unknown option '-%c'", optopt);
			return cmdline_usage(err, "unknown option '%s'", argv[optind - 1]);
		}
		if (c == ':') {
			if (optopt > 0 && optopt < 256)
				return cmdline_usage(err, "option '-%c' needs an argument", optopt);
			return cmdline_usage(err, "option '%s' needs an argument",
			                     argv[optind - 1]);
		}
		if (fn == NULL || fn(ctx, c, optarg, err) < 0)
			return cmdline_usage(err, "option '%s' is not handled", argv[optind - 1]);
	}
	if (stop_at_operand)
		return optind;
	/* Put the collected operands, then any after "--", at the end of argv. */
	size_t rest = (size_t)(argc - optind);
	int first = argc - (int)(n_operands + rest);
	_cleanup_free_ char **tail = xcalloc(n_operands + rest + 1, sizeof(char *));
	memcpy(tail, operands, n_operands * sizeof(char *));
	memcpy(tail + n_operands, argv + optind, rest * sizeof(char *));
	memcpy(argv + first, tail, (n_operands + rest) * sizeof(char *));
	return first;
}

void cmdline_help(const struct sbx_command *cmd, FILE *f)
{
	char name[64];
	cmdline_name(cmd, name, sizeof(name));
	fprintf(f, "Usage: sbx %s %s\n\n%s\n", name, cmd->args ? cmd->args : "", cmd->summary);
	size_t n = count_options(cmd->options);
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; i <= n; i++) {
		const struct sbx_option *o = i < n ? &cmd->options[i] : &help_option;
		char left[96];
		int len;
		if (o->val > 0 && o->val < 256)
			len = snprintf(left, sizeof(left), "-%c, --%s", o->val, o->name);
		else
			len = snprintf(left, sizeof(left), "    --%s", o->name);
		if (o->has_arg == required_argument && len > 0 && (size_t)len < sizeof(left))
			snprintf(left + len, sizeof(left) - (size_t)len, " %s",
			         o->arg ? o->arg : "ARG");
		if (strlen(left) > 28)
			fprintf(f, "  %s\n  %-28s  %s\n", left, "", o->help);
		else
			fprintf(f, "  %-28s  %s\n", left, o->help);
	}
}

/* sbx's command line as the kernel shows it in /proc/PID/cmdline. */
static char *cmdline_start, *cmdline_end;

void cmdline_record(int argc, char **argv)
{
	cmdline_start = argv[0];
	cmdline_end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
}

void cmdline_scrub(const char *shown)
{
	if (cmdline_start == NULL)
		return;
	size_t cap = (size_t)(cmdline_end - cmdline_start);
	memset(cmdline_start, 0, cap);
	if (cap > 1)
		memcpy(cmdline_start, shown, strnlen(shown, cap - 1));
}
