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

int cmdline_operands(int have, int want, const char *what, struct sbx_error **err)
{
	if (have == want)
		return 0;
	return cmdline_usage(err, have < want ? "missing %s" : "too many arguments, expected %s",
	                     what);
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

/* The long name typed in arg ("--volum=x" gives "volum"), or NULL. */
static char *typed_long_name(const char *arg)
{
	if (arg == NULL || strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
		return NULL;
	return xstrndup(arg + 2, strcspn(arg + 2, "="));
}

/* "unknown option '--volumes'", with "; did you mean '--volume'?" when an
 * option of longopts is close. */
static int unknown_long(const struct option *longopts, size_t n, const char *arg,
                        struct sbx_error **err)
{
	_cleanup_free_ char *typed = typed_long_name(arg);
	_cleanup_free_ const char **names = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		names[i] = longopts[i].name;
	const char *close = typed ? str_closest(typed, names, n) : NULL;
	if (close)
		return cmdline_usage(err, "unknown option '%s'; did you mean '--%s'?", arg, close);
	return cmdline_usage(err, "unknown option '%s'", arg);
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
	return cmdline_parse_as(cmd, NULL, NULL, argc, argv, stop_at_operand, fn, ctx, err);
}

int cmdline_parse_as(const struct sbx_command *cmd, const char *shown,
                     const struct sbx_command *const *subcommands, int argc, char **argv,
                     bool stop_at_operand, sbx_option_fn fn, void *ctx, struct sbx_error **err)
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
	int at = 1;     /* the element getopt looks at next, when it starts one */
	int index = -1; /* the long option it matched */
	while ((c = getopt_long(argc, argv, shortopts, longopts, &index)) != -1) {
		if (c == 1) {
			operands[n_operands++] = optarg;
			at = optind;
			continue;
		}
		/* getopt_long takes a unique prefix for the whole name: refuse
		 * it, as podman does, since a prefix can change meaning when an
		 * option is added. */
		if (index >= 0 && at < argc) {
			_cleanup_free_ char *typed = typed_long_name(argv[at]);
			if (typed && strcmp(typed, longopts[index].name) != 0)
				return cmdline_usage(err,
				                     "unknown option '--%s'; did you mean '--%s'?",
				                     typed, longopts[index].name);
		}
		index = -1;
		at = optind;
		if (c == 'h') {
			if (shown)
				cmdline_help_as(cmd, shown, subcommands, stdout);
			else
				cmdline_help(cmd, stdout);
			return CMDLINE_HELP;
		}
		if (c == '?') {
			if (optopt > 0 && optopt < 256)
				return cmdline_usage(err, "unknown option '-%c'", optopt);
			return unknown_long(longopts, n + 1, argv[optind - 1], err);
		}
		if (c == ':') {
			/* A long option is named as typed, though it has a short form. */
			const char *typed = argv[optind - 1];
			if (strncmp(typed, "--", 2) == 0)
				return cmdline_usage(err, "option '%.*s' needs an argument",
				                     (int)strcspn(typed, "="), typed);
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
	char name[64], shown[80];
	snprintf(shown, sizeof(shown), "sbx %s", cmdline_name(cmd, name, sizeof(name)));
	cmdline_help_as(cmd, shown, NULL, f);
}

void cmdline_help_as(const struct sbx_command *cmd, const char *shown,
                     const struct sbx_command *const *subcommands, FILE *f)
{
	fprintf(f, "Usage: %s %s\n\n%s\n", shown, cmd->args ? cmd->args : "", cmd->summary);
	if (subcommands) {
		fprintf(f, "\nCommands:\n");
		for (const struct sbx_command *const *s = subcommands; *s; s++)
			fprintf(f, "  %-10s  %s\n", (*s)->name, (*s)->summary);
	}
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
		else if (o->has_arg == optional_argument && o->arg && len > 0 &&
		         (size_t)len < sizeof(left))
			snprintf(left + len, sizeof(left) - (size_t)len, "[=%s]", o->arg);
		if (strlen(left) > 28)
			fprintf(f, "  %s\n  %-28s  %s\n", left, "", o->help);
		else
			fprintf(f, "  %-28s  %s\n", left, o->help);
	}
}

const struct sbx_command *cmdline_subcommand(const struct sbx_command *const *subcommands,
                                             const char *name)
{
	for (const struct sbx_command *const *s = subcommands; s && *s; s++)
		if (strcmp((*s)->name, name) == 0)
			return *s;
	return NULL;
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
