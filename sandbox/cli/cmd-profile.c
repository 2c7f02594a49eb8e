/* cmd-profile.c - sbx profile ls | show | check | path. */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "profile/profile.h"
#include "profile/risk.h"
#include "lib/util.h"

#include <string.h>

static const char *origin_name(enum sbx_profile_origin o)
{
	switch (o) {
	case SBX_ORIGIN_USER:
		return "user";
	case SBX_ORIGIN_SYSTEM:
		return "system";
	case SBX_ORIGIN_SHIPPED:
		return "shipped";
	case SBX_ORIGIN_PATH:
		return "path";
	}
	return "?";
}

static void print_diag(struct sbx_diag *d)
{
	for (size_t i = 0; d->lines && d->lines[i]; i++)
		fprintf(stderr, "%s\n", d->lines[i]);
	diag_clear(d);
}

struct flags {
	bool quiet;
};

static int on_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct flags *f = ctx;
	(void)arg;
	if (val == 'q')
		f->quiet = true;
	return 0;
}

/* Parses options; returns the first operand's index, or <0 for the
 * command to return. */
static int parse(const struct sbx_command *cmd, int argc, char **argv, struct flags *f, int min,
                 int max, struct sbx_error **err)
{
	int first = cmdline_parse(cmd, argc, argv, false, on_option, f, err);
	if (first < 0)
		return first;
	int n = argc - first;
	if (n < min || (max >= 0 && n > max))
		return cmdline_usage(err, n < min ? "missing profile name" : "too many arguments");
	return first;
}

static int ls_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct flags f = {0};
	int first = parse(cmd, argc, argv, &f, 0, 0, err);
	if (first < 0)
		return first;
	struct sbx_profile_entry *e = NULL;
	size_t n = 0;
	if (profile_list(&e, &n, err) < 0)
		return -1;
	int w = 4;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(e[i].name) > w)
			w = (int)strlen(e[i].name);
	if (!f.quiet)
		printf("%-*s  %-7s  %s\n", w, "NAME", "ORIGIN", "PATH");
	for (size_t i = 0; i < n; i++) {
		if (f.quiet) {
			printf("%s\n", e[i].name);
			continue;
		}
		printf("%-*s  %-7s  %s", w, e[i].name, origin_name(e[i].origin), e[i].path);
		for (size_t k = 0; e[i].shadows && e[i].shadows[k]; k++)
			printf("%s%s", k ? ", " : " (shadows ", e[i].shadows[k]);
		printf("%s\n", e[i].shadows && e[i].shadows[0] ? ")" : "");
	}
	profile_entries_free(e, n);
	return 0;
}

static int show_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct flags f = {0};
	int first = parse(cmd, argc, argv, &f, 0, 1, err);
	if (first < 0)
		return first;
	const char *name = first < argc ? argv[first] : "default";
	_cleanup_profile_ struct sbx_profile *p = NULL;
	struct sbx_diag diag = {0};
	if (profile_load(name, &p, &diag, err) < 0) {
		print_diag(&diag);
		return -1;
	}
	profile_dump(p, stdout);
	return 0;
}

/* Lints one profile; all its diagnostics go to stderr. */
static bool check_one(const struct sbx_command *cmd, const char *name, bool quiet)
{
	_cleanup_error_ struct sbx_error *err = NULL;
	_cleanup_profile_ struct sbx_profile *p = NULL;
	struct sbx_diag diag = {0};
	if (profile_load(name, &p, &diag, &err) < 0) {
		if (diag_count(&diag) == 0)
			cmdline_error(cmd, err);
		print_diag(&diag);
		return false;
	}
	if (profile_validate(p, &err) < 0) {
		fprintf(stderr, "%s: error: %s\n", p->path, err->msg);
		return false;
	}
	/* Valid, but worth a second look: what the profile turns off. */
	_cleanup_strv_ char **findings = risk_profile_findings(p);
	for (size_t i = 0; findings && findings[i]; i++)
		fprintf(stderr, "%s: warning: %s\n", p->path, findings[i]);
	_cleanup_free_ char *path = NULL;
	struct sbx_profile_entry *hidden = NULL;
	size_t n = profile_shadowed(name, &path, &hidden);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s: warning: [profile] it shadows the %s profile \"%s\"\n", path,
		        origin_name(hidden[i].origin), hidden[i].path);
	profile_entries_free(hidden, n);
	if (!quiet)
		printf("%s: ok\n", name);
	return true;
}

static int check_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct flags f = {0};
	int first = parse(cmd, argc, argv, &f, 1, -1, err);
	if (first < 0)
		return first;
	bool ok = true;
	for (int i = first; i < argc; i++)
		ok = check_one(cmd, argv[i], f.quiet) && ok;
	return ok ? 0 : 1;
}

static int path_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	struct flags f = {0};
	int first = parse(cmd, argc, argv, &f, 1, 1, err);
	if (first < 0)
		return first;
	_cleanup_free_ char *path = NULL;
	enum sbx_profile_origin origin;
	if (profile_find(argv[first], &path, &origin, err) < 0)
		return -1;
	printf("%s\n", path);
	return 0;
}

static const struct sbx_option ls_options[] = {
    {"quiet", 'q', no_argument, NULL, "print only the names", NULL},
    {0},
};

static const struct sbx_option no_options[] = {{0}};

static const struct sbx_option check_options[] = {
    {"quiet", 'q', no_argument, NULL, "print nothing for profiles that are fine", NULL},
    {0},
};

const struct sbx_command cmd_profile_ls = {
    "profile",  "ls", "[OPTIONS]", "List the profiles sbx finds (user, then system, then shipped).",
    ls_options, NULL, ls_main,     SBX_EXIT_USAGE,
};

const struct sbx_command cmd_profile_show = {
    "profile",     "show",
    "[NAME|FILE]", "Print a profile resolved with its inherited settings, as INI.",
    no_options,    SBX_COMPLETE_PROFILE,
    show_main,     SBX_EXIT_USAGE,
};

const struct sbx_command cmd_profile_check = {
    "profile",
    "check",
    "[OPTIONS] NAME|FILE...",
    "Report every problem in profiles; exit 1 if there is one.",
    check_options,
    SBX_COMPLETE_PROFILE,
    check_main,
    SBX_EXIT_USAGE,
};

const struct sbx_command cmd_profile_path = {
    "profile",  "path",
    "NAME",     "Print the file a profile name resolves to.",
    no_options, SBX_COMPLETE_PROFILE,
    path_main,  SBX_EXIT_USAGE,
};
