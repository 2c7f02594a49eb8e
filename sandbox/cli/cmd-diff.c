/* cmd-diff.c - sbx diff: what an instance added, changed and deleted
 * against its image, like `docker diff`. */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "store/instance.h"
#include "store/layer.h"
#include "store/state.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>

static const struct sbx_option diff_options[] = {
    CMDLINE_OPTION_FORMAT("output format: text (the default) or json"),
    {0},
};

static int diff_option(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	if (val != CMDLINE_OPT_FORMAT)
		return -1;
	return cmdline_format(arg, ctx, err);
}

/* sbx itself creates the mount points of the config's mounts (say
 * /etc/resolv.conf, or a volume's target) in the upper layer. They are not
 * the sandbox's doing: an empty "A" entry for a mount destination is left
 * out, and so is a "C" directory that only changed to hold one. */
static bool is_mount_point(json_t *dests, const char *path)
{
	size_t i;
	json_t *d;
	json_array_foreach(dests, i, d) if (json_is_string(d) &&
	                                    strcmp(json_string_value(d), path) == 0) return true;
	return false;
}

/* A running --rm instance's upper layer is a tmpfs only its init holds:
 * read it through /proc/PID/fd. The pidfd pins the pid meanwhile. */
static int memory_upper(struct sbx_instance *inst, int *pidfd, struct sbx_error **err)
{
	bool running = false;
	_cleanup_state_ struct sbx_state *st = NULL;
	if (state_is_running(inst->dir, &running, err) < 0 ||
	    (running && state_read(inst->name, &st, err) < 0))
		return -1;
	if (!running || st->scratch_fd < 0)
		return sbx_error_setc(err, ENOENT,
		                      "instance \"%s\" ran with --rm and its changes, kept in "
		                      "memory, are gone; remove it with 'sbx rm %s'",
		                      inst->name, inst->name);
	if (state_pidfd(st, pidfd, err) < 0)
		return -1;
	free(inst->upper);
	/* "/." follows the magic link, which an O_NOFOLLOW open would refuse. */
	inst->upper = xasprintf("/proc/%d/fd/%d/.", (int)st->pid, st->scratch_fd);
	return 0;
}

static void drop_mount_points(struct sbx_instance *inst, struct layer_change *c, size_t *n)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", inst->dir);
	json_error_t je;
	json_t *config = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	json_t *dests = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(config, "mounts"), i, m)
	    json_array_append(dests, json_object_get(m, "destination"));
	json_decref(config);
	bool *drop = xcalloc(*n + 1, sizeof(bool));
	for (size_t k = 0; k < *n; k++)
		drop[k] = c[k].kind == 'A' && is_mount_point(dests, c[k].path) && c[k].empty;
	/* A directory added or changed only to hold dropped mount points. */
	for (size_t k = *n; k-- > 0;) {
		if (c[k].kind == 'D' || drop[k])
			continue;
		size_t len = strlen(c[k].path);
		bool any = false, kept = false;
		for (size_t j = 0; j < *n; j++) {
			if (j == k || strncmp(c[j].path, c[k].path, len) != 0 ||
			    c[j].path[len] != '/')
				continue;
			any = true;
			kept = kept || !drop[j];
		}
		drop[k] = any && !kept;
	}
	size_t w = 0;
	for (size_t k = 0; k < *n; k++) {
		if (drop[k]) {
			free(c[k].path);
			continue;
		}
		c[w++] = c[k];
	}
	*n = w;
	free(drop);
	json_decref(dests);
}

static int diff_main(const struct sbx_command *cmd, int argc, char **argv, struct sbx_error **err)
{
	enum cmdline_format format = CMDLINE_TEXT;
	int first = cmdline_parse(cmd, argc, argv, false, diff_option, &format, err);
	if (first < 0)
		return first;
	if (argc - first != 1)
		return cmdline_usage(err, argc - first < 1 ? "no instance given"
		                                           : "too many arguments, expected NAME");
	_cleanup_instance_ struct sbx_instance *inst = NULL;
	_cleanup_free_ char *lower = NULL;
	_cleanup_close_ int pidfd = -1;
	if (instance_open(argv[first], &inst, err) < 0 ||
	    (inst->ephemeral && memory_upper(inst, &pidfd, err) < 0) ||
	    layer_instance_image(inst, &lower, NULL, err) < 0)
		return -1;
	/* Read as root of the instance's own id maps: what the sandbox made
	 * unreadable, or gave to a subordinate id, is read too. */
	_cleanup_config_ struct sbx_config *config = NULL;
	_cleanup_error_ struct sbx_error *cerr = NULL;
	(void)instance_read_config(inst, &config, &cerr); /* else the caller's own ids */
	struct layer_change *c = NULL;
	size_t n = 0;
	if (layer_diff(inst->upper, lower, config, &c, &n, err) < 0)
		return -1;
	drop_mount_points(inst, c, &n);
	if (format == CMDLINE_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *path = json_string(c[i].path);
			if (path == NULL) { /* not UTF-8: JSON cannot hold it raw */
				_cleanup_free_ char *esc = str_escape_bare(c[i].path);
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
		/* The sandbox chose these names: escaped (str_escape_bare), nothing
		 * reaches the terminal raw and every change stays on one line. */
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *esc = str_escape_bare(c[i].path);
			printf("%c %s\n", c[i].kind, esc);
		}
	}
	layer_changes_free(c, n);
	if (fflush(stdout) != 0 || ferror(stdout))
		return sbx_error_set(err, errno, "cannot write the changes");
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
