/* cmd-complete.c - sbx __complete: the candidates for the word being completed,
 * one per line, for the scripts in completions/ (bash, zsh, fish).
 *
 * Everything comes from the command table and each command's option table,
 * the same data that drives getopt and --help, so completion cannot drift
 * from what sbx accepts. Values come from the completion kind of the option
 * or operand (cmdline.h). Paths and the host's programs are left to the
 * shell: the kinds "file", "dir" and "volume" print the marker line __files__
 * or __dirs__, "host-command" (sbx unshare) __commands__.
 *
 * Usage: sbx __complete -- WORD... where the WORDs are the command line after
 * "sbx" up to and including the word under the cursor (possibly empty). Bash
 * splits "--opt=value" into "--opt" "=" "value"; both forms are understood. */
#define _GNU_SOURCE
#include "runtime/caps.h"
#include "cli/commands.h"
#include "lifecycle/oci-runtime.h"
#include "store/image.h"
#include "profile/profile.h"
#include "store/state.h"
#include "lib/util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* main.c defines the table. Weak references here let the unit tests and
 * fuzzers, which link every module but main.c, link too; there the table is
 * empty. */
#pragma weak sbx_commands
#pragma weak sbx_n_commands

static size_t n_commands(void)
{
	return &sbx_n_commands ? sbx_n_commands : 0;
}

#define MARK_FILES "__files__"
#define MARK_DIRS  "__dirs__"
#define MARK_CMDS  "__commands__"

static const char *const global_options[] = {"--quiet", "--verbose", "--debug", "--help",
                                             "--version"};

/* Candidates are collected, then printed sorted and without duplicates.
 * With --describe (zsh, fish), an option or a command is followed by a tab
 * and its line of help. */
struct cands {
	char **v;
	const char *cur;    /* what the user typed so far */
	const char *prefix; /* printed before each candidate, e.g. "--network=" */
	bool describe;
};

static void add_described(struct cands *c, const char *word, const char *desc)
{
	if (!str_startswith(word, c->cur))
		return;
	if (c->describe && desc && *desc)
		strv_push_take(&c->v, xasprintf("%s%s\t%s", c->prefix, word, desc));
	else
		strv_push_take(&c->v, xasprintf("%s%s", c->prefix, word));
}

static void add(struct cands *c, const char *word)
{
	add_described(c, word, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_cands(struct cands *c)
{
	size_t n = strv_length(c->v);
	if (n)
		qsort(c->v, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(c->v[i], c->v[i - 1]) != 0)
			printf("%s\n", c->v[i]);
	strv_free(c->v);
	c->v = NULL;
}

static bool hidden(const struct sbx_command *cmd)
{
	return str_startswith(cmd->name, "__");
}

static bool is_group(const char *word)
{
	for (size_t i = 0; i < n_commands(); i++)
		if (sbx_commands[i]->group && strcmp(sbx_commands[i]->group, word) == 0)
			return true;
	return false;
}

static const struct sbx_command *find_command(const char *group, const char *name)
{
	for (size_t i = 0; i < n_commands(); i++) {
		const struct sbx_command *c = sbx_commands[i];
		if (hidden(c) || strcmp(c->name, name) != 0)
			continue;
		if ((group == NULL && c->group == NULL) ||
		    (group && c->group && strcmp(group, c->group) == 0))
			return c;
	}
	return NULL;
}

/* Top-level commands and groups. */
static void add_command_words(struct cands *c, bool with_help)
{
	for (size_t i = 0; i < n_commands(); i++) {
		const struct sbx_command *cmd = sbx_commands[i];
		if (!hidden(cmd))
			add_described(c, cmd->group ? cmd->group : cmd->name,
			              cmd->group ? NULL : cmd->summary);
	}
	if (with_help)
		add_described(c, "help", "show the help of a command");
}

static void add_subcommands(struct cands *c, const char *group)
{
	for (size_t i = 0; i < n_commands(); i++) {
		const struct sbx_command *cmd = sbx_commands[i];
		if (cmd->group && strcmp(cmd->group, group) == 0 && !hidden(cmd))
			add_described(c, cmd->name, cmd->summary);
	}
}

/* Exact long name, else a unique abbreviation, as getopt_long accepts. */
static const struct sbx_option *find_long(const struct sbx_command *cmd, const char *name,
                                          size_t len)
{
	const struct sbx_option *found = NULL;
	size_t matches = 0;
	for (const struct sbx_option *o = cmd->options; o && o->name; o++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (o->name[len] == '\0')
			return o;
		found = o;
		matches++;
	}
	return matches == 1 ? found : NULL;
}

static const struct sbx_option *find_short(const struct sbx_command *cmd, char letter)
{
	for (const struct sbx_option *o = cmd->options; o && o->name; o++)
		if (o->val > 0 && o->val < 256 && o->val == (unsigned char)letter)
			return o;
	return NULL;
}

/* A name with an optional prefix ("SIG", "CAP_"): "SIGTERM" when the user
 * started typing the prefix, else the bare "TERM"; lower case when the user
 * typed lower case, as sbx accepts both. */
static void add_prefixed(struct cands *c, const char *prefix, const char *bare)
{
	size_t plen = strlen(prefix), clen = strlen(c->cur);
	bool lower = c->cur[0] && islower((unsigned char)c->cur[0]);
	bool with = strncasecmp(c->cur, prefix, clen < plen ? clen : plen) == 0;
	_cleanup_free_ char *word = xasprintf("%s%s", with ? prefix : "", bare);
	for (char *p = word; lower && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	add(c, word);
}

static void add_profiles(struct cands *c)
{
	struct sbx_profile_entry *e = NULL;
	size_t n = 0;
	struct sbx_error *err = NULL;
	if (profile_list(&e, &n, &err) < 0) {
		sbx_error_free(err);
		return;
	}
	for (size_t i = 0; i < n; i++)
		add(c, e[i].name);
	profile_entries_free(e, n);
}

static void add_images(struct cands *c)
{
	struct sbx_image **imgs = NULL;
	size_t n = 0;
	struct sbx_error *err = NULL;
	if (image_list(&imgs, &n, &err) < 0) {
		sbx_error_free(err);
		return;
	}
	for (size_t i = 0; i < n; i++)
		add(c, imgs[i]->name);
	image_list_free(imgs, n);
}

/* Instance directories under $XDG_DATA_HOME/sbx/instances; with running,
 * only those whose lock is held (state.h), as `sbx ps` shows them. */
static void add_instances(struct cands *c, bool running)
{
	_cleanup_free_ char *data = NULL;
	struct sbx_error *err = NULL;
	if (xdg_data_dir(&data, &err) < 0) {
		sbx_error_free(err);
		return;
	}
	_cleanup_free_ char *dir = xasprintf("%s/instances", data);
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' || !str_startswith(de->d_name, c->cur))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (running) {
			_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
			bool is = false;
			if (state_is_running(path, &is, &err) < 0) {
				sbx_error_free(err);
				err = NULL;
			}
			if (!is)
				continue;
		}
		add(c, de->d_name);
	}
	closedir(d);
}

/* What `sbx kill` and `sbx stop` accept (besides numbers). */
static const char *const signal_names[] = {
    "HUP",  "INT",  "QUIT", "KILL", "USR1", "USR2",  "PIPE",
    "ALRM", "TERM", "CONT", "STOP", "TSTP", "WINCH",
};

static void add_signals(struct cands *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
		add_prefixed(c, "SIG", signal_names[i]);
}

static void add_capabilities(struct cands *c, bool drop)
{
	size_t n = 0;
	const char *const *names = caps_all_names(&n);
	for (size_t i = 0; i < n; i++)
		add_prefixed(c, "CAP_", names[i] + (str_startswith(names[i], "CAP_") ? 4 : 0));
	if (drop)
		add_prefixed(c, "", "ALL");
}

/* sbx oci's --root, when the words before its command gave one. */
static const char *oci_root;

/* The IDs of the containers under sbx oci's root (oci_list: those whose
 * record reads). */
static void add_containers(struct cands *c)
{
	_cleanup_free_ char *root = oci_root ? xstrdup(oci_root) : NULL;
	struct sbx_error *err = NULL;
	_cleanup_json_ json_t *list = NULL;
	if ((root == NULL && oci_default_root(&root, &err) < 0) ||
	    oci_list(root, &list, &err) < 0) {
		sbx_error_free(err);
		return;
	}
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		const char *id = json_string_value(json_object_get(e, "id"));
		if (id && str_startswith(id, c->cur))
			add(c, id);
	}
}

/* Values for an option argument or an operand of the given kind. */
static void add_kind(struct cands *c, const char *kind, const struct sbx_option *opt)
{
	if (kind == NULL)
		return;
	if (strcmp(kind, SBX_COMPLETE_PROFILE) == 0)
		add_profiles(c);
	else if (strcmp(kind, SBX_COMPLETE_IMAGE) == 0)
		add_images(c);
	else if (strcmp(kind, SBX_COMPLETE_INSTANCE) == 0)
		add_instances(c, false);
	else if (strcmp(kind, SBX_COMPLETE_RUNNING) == 0)
		add_instances(c, true);
	else if (strcmp(kind, SBX_COMPLETE_SIGNAL) == 0)
		add_signals(c);
	else if (strcmp(kind, SBX_COMPLETE_CONTAINER) == 0)
		add_containers(c);
	else if (strcmp(kind, SBX_COMPLETE_CAPABILITY) == 0)
		add_capabilities(c, opt && str_endswith(opt->name, "-drop"));
	else if (strcmp(kind, SBX_COMPLETE_FILE) == 0)
		strv_push(&c->v, MARK_FILES);
	else if (strcmp(kind, SBX_COMPLETE_DIR) == 0)
		strv_push(&c->v, MARK_DIRS);
	else if (strcmp(kind, SBX_COMPLETE_HOST_COMMAND) == 0)
		strv_push(&c->v, MARK_CMDS);
	else if (strcmp(kind, SBX_COMPLETE_VOLUME) == 0) {
		/* Only the host side, SRC, is a path here. */
		if (strchr(c->cur, ':') == NULL)
			strv_push(&c->v, MARK_FILES);
	} else {
		/* A fixed list of words. */
		_cleanup_free_ char *words = xstrdup(kind);
		char *save = NULL;
		for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
			add(c, w);
	}
}

/* The kind of operand i (from 0). The command's positional kind is the
 * first operand's, and every operand's when the usage line repeats the first
 * ("NAME..."); a later operand named like a kind, such as "[SIGNAL]" in
 * "NAME [SIGNAL]", completes as that kind. */
static const char *operand_kind(const struct sbx_command *cmd, int i)
{
	static const char *const named[] = {SBX_COMPLETE_SIGNAL, SBX_COMPLETE_IMAGE,
	                                    SBX_COMPLETE_PROFILE, SBX_COMPLETE_FILE,
	                                    SBX_COMPLETE_DIR};
	_cleanup_free_ char *args = xstrdup(cmd->args ? cmd->args : "");
	char *save = NULL;
	int k = 0;
	for (char *t = strtok_r(args, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (strcmp(t, "[OPTIONS]") == 0)
			continue;
		bool repeats = strstr(t, "...") != NULL;
		if (k == 0 && (i == 0 || repeats))
			return cmd->positional;
		if (k == i) {
			t += strspn(t, "[");
			t[strcspn(t, "].")] = '\0';
			for (size_t n = 0; n < ARRAY_SIZE(named); n++)
				if (strcasecmp(t, named[n]) == 0)
					return named[n];
			return NULL;
		}
		k++;
	}
	return NULL;
}

/* Commands that run a COMMAND stop parsing options at their first operand:
 * everything after it belongs to the payload. */
static bool stops_at_operand(const struct sbx_command *cmd)
{
	return cmd->args && strstr(cmd->args, "COMMAND") != NULL;
}

/* subs: the commands cmd's first operand names (sbx oci's), or NULL. */
static void complete_command(struct cands *c, const struct sbx_command *cmd,
                             const struct sbx_command *const *subs, char **w, int n)
{
	bool options = true;
	int operands = 0;
	for (int k = 0; k < n - 1; k++) {
		const char *a = w[k];
		if (options && strcmp(a, "--") == 0) {
			options = false;
			continue;
		}
		if (!options || a[0] != '-' || a[1] == '\0') {
			if (subs) {
				/* The rest is the named command's. */
				const struct sbx_command *sub = cmdline_subcommand(subs, a);
				if (sub)
					complete_command(c, sub, NULL, w + k + 1, n - k - 1);
				return;
			}
			operands++;
			if (stops_at_operand(cmd)) {
				/* The payload's own words; a host command's are paths. */
				if (cmd->positional &&
				    strcmp(cmd->positional, SBX_COMPLETE_HOST_COMMAND) == 0)
					strv_push(&c->v, MARK_FILES);
				return;
			}
			continue;
		}
		const struct sbx_option *o = NULL;
		if (a[1] == '-') {
			if (strchr(a, '=') == NULL)
				o = find_long(cmd, a + 2, strlen(a + 2));
		} else {
			/* A cluster such as -it or -pstrict: an option with an
			 * argument takes the rest of the word, or the next one. */
			for (const char *s = a + 1; *s; s++) {
				const struct sbx_option *so = find_short(cmd, *s);
				if (so && so->has_arg == required_argument) {
					o = s[1] == '\0' ? so : NULL;
					break;
				}
			}
		}
		if (cmd == &cmd_oci && str_startswith(a, "--root="))
			oci_root = a + strlen("--root=");
		if (o == NULL || o->has_arg != required_argument)
			continue;
		if (cmd == &cmd_oci && strcmp(o->name, "root") == 0 && k + 1 < n - 1)
			oci_root =
			    strcmp(w[k + 1], "=") == 0 && k + 2 < n - 1 ? w[k + 2] : w[k + 1];
		/* The option's value is the next word; bash's word splitting at
		 * '=' may put an "=" word in between. */
		if (a[1] == '-' && k + 1 < n - 1 && strcmp(w[k + 1], "=") == 0)
			k++;
		if (k + 1 == n - 1) {
			if (strcmp(w[k + 1], "=") == 0)
				c->cur = "";
			add_kind(c, o->complete, o);
			return;
		}
		k++;
	}
	const char *cur = c->cur;
	if (options && cur[0] == '-') {
		const char *eq = strchr(cur, '=');
		if (cur[1] == '-' && eq) {
			const struct sbx_option *o =
			    find_long(cmd, cur + 2, (size_t)(eq - cur - 2));
			if (o && o->has_arg == required_argument) {
				_cleanup_free_ char *prefix = xasprintf("--%s=", o->name);
				c->prefix = prefix;
				c->cur = eq + 1;
				add_kind(c, o->complete, o);
				print_cands(c);
				c->prefix = "";
			}
			return;
		}
		for (const struct sbx_option *o = cmd->options; o && o->name; o++) {
			_cleanup_free_ char *word = xasprintf("--%s", o->name);
			add_described(c, word, o->help);
		}
		add_described(c, "--help", "show this help and exit");
		return;
	}
	if (subs) {
		for (const struct sbx_command *const *s = subs; *s; s++)
			add_described(c, (*s)->name, (*s)->summary);
		return;
	}
	add_kind(c, operand_kind(cmd, operands), NULL);
}

static void complete(struct cands *c, char **w, int n)
{
	c->cur = w[n - 1];
	int i = 0;
	/* Global options (none takes an argument). */
	while (i < n - 1 && w[i][0] == '-')
		i++;
	if (i == n - 1) {
		if (c->cur[0] == '-') {
			for (size_t k = 0; k < ARRAY_SIZE(global_options); k++)
				add(c, global_options[k]);
		} else {
			add_command_words(c, true);
		}
		return;
	}
	const char *first = w[i++];
	if (strcmp(first, "help") == 0) {
		if (i == n - 1)
			add_command_words(c, false);
		else if (i + 1 == n - 1 && is_group(w[i]))
			add_subcommands(c, w[i]);
		return;
	}
	const struct sbx_command *cmd;
	if (is_group(first)) {
		if (i == n - 1) {
			add_subcommands(c, first);
			return;
		}
		cmd = find_command(first, w[i++]);
	} else {
		cmd = find_command(NULL, first);
	}
	if (cmd)
		complete_command(c, cmd, cmd == &cmd_oci ? oci_commands : NULL, w + i, n - i);
}

/* The settings table, one tab-separated line per entry: section, key,
 * option, short option, metavariable, choices, the option's completion and
 * its line of help ("-" for none). For the docs tests, which compare the
 * man pages with it. */
static void print_settings(void)
{
	size_t n = 0;
	const struct sbx_setting *t = profile_settings(&n);
	for (size_t i = 0; i < n; i++) {
		const struct sbx_setting *s = &t[i];
		char shortopt[3] = "-";
		if (s->short_opt)
			snprintf(shortopt, sizeof(shortopt), "-%c", s->short_opt);
		printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s->section, s->key ? s->key : "-",
		       s->option ? s->option : "-", shortopt, s->metavar ? s->metavar : "-",
		       s->choices ? s->choices : "-", s->complete ? s->complete : "-", s->doc);
	}
}

static int complete_main(const struct sbx_command *cmd, int argc, char **argv,
                         struct sbx_error **err)
{
	int first = 1;
	bool describe = false;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		cmdline_help(cmd, stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--settings") == 0) {
		print_settings();
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--describe") == 0) {
		describe = true;
		first = 2;
	}
	if (argc > first && strcmp(argv[first], "--") == 0)
		first++;
	struct cands c = {.cur = "", .prefix = "", .describe = describe};
	char *empty[] = {(char *)"", NULL};
	if (first < argc)
		complete(&c, argv + first, argc - first);
	else
		complete(&c, empty, 1);
	print_cands(&c);
	return 0;
}

static const struct sbx_option complete_options[] = {{0}};

const struct sbx_command cmd_complete = {
    .name = "__complete",
    .args = "[--describe] -- [WORD...]",
    .summary = "print completion candidates for the last WORD (used by the shell completions)",
    .options = complete_options,
    .main = complete_main,
    .usage_exit = SBX_EXIT_USAGE,
};
