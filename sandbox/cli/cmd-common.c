/* cmd-common.c - what the commands share: profile overrides from the
 * command line, what sbx says on stderr, the progress of imports. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "profile/risk.h"
#include "runtime/userns.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

void overrides_options(struct sbx_option *out, size_t cap, const struct sbx_option *own)
{
	size_t n = 0, count = 0;
	const struct sbx_setting *t = profile_settings(&count);
	/* No short form: -p is --publish, as in podman. */
	out[n++] = (struct sbx_option){"profile",
	                               OPT_PROFILE,
	                               required_argument,
	                               "NAME",
	                               "use profile NAME (default: \"default\")",
	                               SBX_COMPLETE_PROFILE};
	for (size_t i = 0; i < count; i++) {
		const struct sbx_setting *s = &t[i];
		if (s->option == NULL)
			continue;
		if (n + 1 >= cap)
			abort();
		out[n++] =
		    (struct sbx_option){s->option,
		                        s->short_opt ? s->short_opt : OVERRIDE_OPT_BASE + (int)i,
		                        s->fixed ? no_argument : required_argument,
		                        s->metavar,
		                        s->doc,
		                        s->complete ? s->complete : s->choices};
	}
	for (size_t i = 0; own && own[i].name; i++) {
		if (n + 1 >= cap)
			abort();
		out[n++] = own[i];
	}
	out[n] = (struct sbx_option){0};
}

static const struct sbx_setting *setting_of(int val)
{
	size_t count = 0;
	const struct sbx_setting *t = profile_settings(&count);
	for (size_t i = 0; i < count; i++) {
		if (t[i].option == NULL)
			continue;
		if (t[i].short_opt ? t[i].short_opt == val : OVERRIDE_OPT_BASE + (int)i == val)
			return &t[i];
	}
	return NULL;
}

int overrides_collect(struct sbx_overrides *o, int val, const char *arg, struct sbx_error **err)
{
	if (val == OPT_PROFILE) {
		o->profile = arg;
		return 1;
	}
	const struct sbx_setting *s = setting_of(val);
	if (s == NULL)
		return 0;
	_cleanup_free_ char *why = NULL;
	if (profile_option_check(s, arg, &why) < 0) {
		_cleanup_free_ char *d = str_display(arg);
		return cmdline_usage(err, "--%s \"%s\": %s", s->option, d, why);
	}
	o->items = xrealloc(o->items, (o->n + 1) * sizeof(*o->items));
	o->items[o->n].setting = s;
	o->items[o->n].arg = arg;
	o->n++;
	return 1;
}

int overrides_env_from_caller(const char *arg, char **out, struct sbx_error **err)
{
	*out = NULL;
	if (strchr(arg, '=') != NULL)
		return 0;
	bool valid = isalpha((unsigned char)arg[0]) || arg[0] == '_';
	for (const char *s = arg; *s && valid; s++)
		valid = isalnum((unsigned char)*s) || *s == '_';
	if (!valid) {
		_cleanup_free_ char *d = str_display(arg);
		return cmdline_usage(err, "--env \"%s\": expected KEY=VALUE or KEY", d);
	}
	const char *v = getenv(arg);
	if (v != NULL)
		*out = xasprintf("%s=%s", arg, v);
	return 0;
}

/* An option's value; an --env-file's lines are reported as FILE:LINE. */
static int apply(struct sbx_profile *p, const struct sbx_setting *s, const char *arg,
                 struct sbx_error **err)
{
	struct sbx_diag diag = {0};
	int r = profile_option(p, s, arg, &diag, err);
	for (size_t i = 0; diag.lines && diag.lines[i]; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	diag_clear(&diag);
	return r;
}

/* When an option applies: the rest in command-line order, then, as Docker
 * does, every --cap-drop before any --cap-add, so "--cap-drop ALL --cap-add
 * X" and its reverse both keep X. */
static int apply_pass(const struct sbx_setting *s)
{
	return (s->flags & SBX_SETTING_DROP) ? 1 : (s->flags & SBX_SETTING_ADD) ? 2 : 0;
}

static const char *origin_word(enum sbx_profile_origin o)
{
	return o == SBX_ORIGIN_SYSTEM ? "system" : "shipped";
}

/* A profile of the user's that hides a system or shipped one of the same
 * name (a payload given ~/.config could have planted it): said once per
 * name, for the profile and those it inherits by name. */
static void say_shadowed(const struct sbx_profile *p)
{
	_cleanup_strv_ char **names = NULL;
	strv_push(&names, p->name ? p->name : "default");
	for (size_t i = 0; p->chain && p->chain[i]; i++)
		if (!strv_contains(names, p->chain[i]))
			strv_push(&names, p->chain[i]);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *path = NULL;
		struct sbx_profile_entry *hidden = NULL;
		size_t n = profile_shadowed(names[i], &path, &hidden);
		if (n == 0)
			continue;
		fprintf(stderr,
		        "sbx: warning: profile \"%s\" is your own \"%s\", which shadows the ",
		        names[i], path);
		for (size_t k = 0; k < n; k++)
			fprintf(stderr, "%s%s \"%s\"",
			        k == 0       ? ""
			        : k + 1 == n ? " and the "
			                     : ", the ",
			        origin_word(hidden[k].origin), hidden[k].path);
		fputc('\n', stderr);
		profile_entries_free(hidden, n);
	}
}

int overrides_load(const struct sbx_overrides *o, struct sbx_profile **out, struct sbx_error **err)
{
	struct sbx_diag diag = {0};
	_cleanup_profile_ struct sbx_profile *p = NULL;
	int r = profile_load(o->profile ? o->profile : "default", &p, &diag, err);
	for (size_t i = 0; r < 0 && diag.lines && diag.lines[i]; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	diag_clear(&diag);
	if (r < 0)
		return -1;
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < o->n; i++)
			if (apply_pass(o->items[i].setting) == pass &&
			    apply(p, o->items[i].setting, o->items[i].arg, err) < 0)
				return -1;
	_cleanup_strv_ char **warnings = NULL;
	if (profile_validate(p, err) < 0 || risk_check_volumes(p, &warnings, err) < 0)
		return -1;
	if (sbx_verbose >= 0) {
		say_shadowed(p);
		for (size_t i = 0; warnings && warnings[i]; i++)
			fprintf(stderr, "sbx: warning: %s\n", warnings[i]);
	}
	*out = steal_ptr(p);
	return 0;
}

void overrides_free(struct sbx_overrides *o)
{
	free(o->items);
	o->items = NULL;
	o->n = 0;
}

int overrides_subids(const struct sbx_profile *p, struct sbx_oci_input *in, struct sbx_error **err)
{
	if (p->userns != SBX_USERNS_SUBID || getuid() == 0)
		return 0;
	unsigned ids[4];
	if (userns_subids(getuid(), ids, err) < 0)
		return sbx_error_prefix(err, "--userns subid");
	in->subuid = ids[0];
	in->subuid_count = ids[1];
	in->subgid = ids[2];
	in->subgid_count = ids[3];
	return 0;
}

struct sbx_oci_input overrides_oci_input(const struct sbx_profile *p, const struct sbx_image *img,
                                         char *const *args, bool terminal)
{
	return (struct sbx_oci_input){
	    .profile = p,
	    .rootfs = img->rootfs,
	    .image = img->name,
	    .args = args,
	    .image_cmd = img->cmd,
	    .image_env = img->env,
	    .image_workdir = img->workdir,
	    .terminal = terminal,
	    .uid = getuid(),
	    .gid = getgid(),
	};
}

/* ---- what sbx says besides errors ---- */

static void lifecycle_info(void *ctx, const char *msg)
{
	if (sbx_verbose > 0)
		fprintf(stderr, "sbx: %s\n", msg);
}

static void lifecycle_error(void *ctx, const struct sbx_error *err)
{
	cmdline_error(ctx, err);
}

struct lifecycle_notify lifecycle_say(const struct sbx_command *cmd)
{
	return (struct lifecycle_notify){lifecycle_info, lifecycle_error, (void *)cmd};
}

void say_info(void *ctx, const char *msg)
{
	if (sbx_verbose >= 0)
		fprintf(stderr, "sbx: %s\n", msg);
}

void say_warn(void *ctx, const char *msg)
{
	fprintf(stderr, "sbx: warning: %s\n", msg);
}

/* ---- progress of imports and commits ---- */

static void ui_clear(struct sbx_progress_ui *ui)
{
	if (ui->shown)
		fputs("\r\033[K", stderr);
	ui->shown = false;
}

static void ui_info(void *ctx, const char *msg)
{
	struct sbx_progress_ui *ui = ctx;
	if (ui->quiet)
		return;
	ui_clear(ui);
	fprintf(stderr, "sbx: %s\n", msg);
}

static void ui_warn(void *ctx, const char *msg)
{
	struct sbx_progress_ui *ui = ctx;
	if (ui->quiet)
		return;
	ui_clear(ui);
	fprintf(stderr, "sbx: %s: warning: %s\n", ui->cmd, msg);
}

static void ui_progress(void *ctx, uint64_t bytes, uint64_t total)
{
	struct sbx_progress_ui *ui = ctx;
	if (ui->quiet || !ui->tty)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms =
	    (now.tv_sec - ui->last.tv_sec) * 1000LL + (now.tv_nsec - ui->last.tv_nsec) / 1000000;
	if (ui->shown && ms < 100)
		return;
	ui->last = now;
	char done[32], all[32];
	format_size(bytes, done, sizeof(done));
	if (total) {
		format_size(total, all, sizeof(all));
		fprintf(stderr, "\r\033[K%s %s: %s%s / %s", ui->verb, ui->label, ui->layer, done,
		        all);
	} else {
		fprintf(stderr, "\r\033[K%s %s: %s%s", ui->verb, ui->label, ui->layer, done);
	}
	fflush(stderr);
	ui->shown = true;
}

void progress_ui_layer(void *ctx, size_t index, size_t count, const char *digest, uint64_t size)
{
	struct sbx_progress_ui *ui = ctx;
	snprintf(ui->layer, sizeof(ui->layer), "layer %zu/%zu: ", index + 1, count);
	ui->last = (struct timespec){0}; /* show the new layer at once */
}

void progress_ui_init(struct sbx_progress_ui *ui, struct sbx_image_progress *p, const char *cmd,
                      const char *verb, const char *label, bool quiet)
{
	*ui = (struct sbx_progress_ui){
	    .cmd = cmd, .verb = verb, .label = label, .quiet = quiet || sbx_verbose < 0};
	ui->tty = isatty(STDERR_FILENO);
	*p = (struct sbx_image_progress){ui_info, ui_warn, ui_progress, ui, 0, false};
}

void progress_ui_done(struct sbx_progress_ui *ui)
{
	/* Always, when the line may be there: the drawing may have been done
	 * by a child process (commit's copy), whose record of it is gone. */
	if (ui->tty && !ui->quiet)
		fputs("\r\033[K", stderr);
	ui->shown = false;
}

void format_size(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

int option_import(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct import_opts *o = ctx;
	switch (val) {
	case 'q':
		o->quiet = true;
		return 0;
	case OPT_MAX_SIZE:
		if (parse_size(arg, &o->max_size) == 0 && o->max_size > 0)
			return 0;
		return cmdline_usage(err, "invalid size '%s' for --max-size; use e.g. 500M or 20G",
		                     arg);
	}
	return -1;
}
