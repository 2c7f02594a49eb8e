/* cmd-doctor.c - sbx doctor: one line per check of the host, with a fix. */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "cli/doctor.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

static const struct sbx_option doctor_options[] = {
    CMDLINE_OPTION_FORMAT(
        "output format: text (the default) or json, an array of {check, status, message, fix}"),
    {"quiet", 'q', no_argument, NULL, "print only the checks that are not OK", NULL},
    {0},
};

struct doctor_opts {
	enum cmdline_format format;
	bool quiet;
};

static int doctor_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct doctor_opts *o = ctx;
	switch (val) {
	case 'q':
		o->quiet = true;
		return 0;
	case CMDLINE_OPT_FORMAT:
		return cmdline_format(arg, &o->format, err);
	}
	return -1;
}

/* Colour only on a terminal, and never with NO_COLOR set (no-color.org). */
static bool use_colour(void)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && nc[0])
		return false;
	const char *term = getenv("TERM");
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO);
}

static const char *colour_of(enum doctor_status s)
{
	switch (s) {
	case DOCTOR_OK:
		return "\033[32m";
	case DOCTOR_WARN:
		return "\033[33m";
	case DOCTOR_FAIL:
		return "\033[1;31m";
	}
	return "";
}

static void print_text(const struct doctor_result *r, size_t n, bool quiet)
{
	bool colour = use_colour();
	int width = 0;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(r[i].check) > width)
			width = (int)strlen(r[i].check);
	for (size_t i = 0; i < n; i++) {
		if (quiet && r[i].status == DOCTOR_OK)
			continue;
		const char *name = doctor_status_name(r[i].status);
		if (colour)
			printf("%s%s\033[0m%*s", colour_of(r[i].status), name,
			       (int)(6 - strlen(name)), "");
		else
			printf("%-6s", name);
		printf("%-*s  %s", width, r[i].check, r[i].message);
		if (r[i].fix)
			printf("  fix: %s", r[i].fix);
		putchar('\n');
	}
}

static void print_json(const struct doctor_result *r, size_t n, bool quiet)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		if (quiet && r[i].status == DOCTOR_OK)
			continue;
		char status[8];
		snprintf(status, sizeof(status), "%s", doctor_status_name(r[i].status));
		for (char *p = status; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "check", r[i].check,
		                                   "status", status, "message", r[i].message, "fix",
		                                   r[i].fix ? json_string(r[i].fix) : json_null()));
	}
	json_dumpf(a, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(a);
}

static int doctor_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct doctor_opts o = {0};
	int first = cmdline_parse(cmd, argc, argv, false, doctor_option, &o, err);
	if (first < 0)
		return first;
	if (first < argc)
		return cmdline_usage(err, "unexpected argument '%s'", argv[first]);
	fflush(stdout); /* the checks fork */
	struct doctor_result *r = NULL;
	size_t n = 0;
	doctor_run(&r, &n);
	bool failed = false;
	for (size_t i = 0; i < n; i++)
		failed = failed || r[i].status == DOCTOR_FAIL;
	if (o.format == CMDLINE_JSON)
		print_json(r, n, o.quiet);
	else
		print_text(r, n, o.quiet);
	doctor_results_free(r, n);
	if (fflush(stdout) != 0 || ferror(stdout))
		return sbx_error_set(err, errno, "cannot write the report");
	return failed ? 1 : 0;
}

const struct sbx_command cmd_doctor = {
    .name = "doctor",
    .args = "[OPTIONS]",
    .summary = "Check what this host gives sbx, and say how to fix what it lacks.",
    .options = doctor_options,
    .main = doctor_main,
    .usage_exit = SBX_EXIT_USAGE,
};
