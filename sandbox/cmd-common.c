/* cmd-common.c - applying profile overrides from the command line. */
#define _GNU_SOURCE
#include "cmd-common.h"

#include <errno.h>
#include <string.h>

int overrides_collect(struct sbx_overrides *o, int val, const char *arg)
{
	switch (val) {
	case 'p':
		o->profile = arg;
		return 1;
	case 'v':
	case 'e':
	case 'w':
	case OPT_HOSTNAME:
	case OPT_NETWORK:
	case OPT_READ_ONLY:
	case OPT_TMPFS:
	case OPT_CAP_ADD:
	case OPT_CAP_DROP:
	case OPT_SECCOMP:
	case OPT_USER:
	case OPT_USERNS:
	case OPT_INIT:
	case OPT_NO_INIT:
	case OPT_PUBLISH:
	case OPT_OVERLAY:
		o->items = xrealloc(o->items, (o->n + 1) * sizeof(*o->items));
		o->items[o->n].val = val;
		o->items[o->n].arg = arg;
		o->n++;
		return 1;
	default:
		return 0;
	}
}

static void replace(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static int apply(struct sbx_profile *p, int val, const char *arg, struct sbx_error **err)
{
	_cleanup_free_ char *why = NULL;
	switch (val) {
	case 'v':
		return profile_add_volume(p, arg, err);
	case 'e':
		return profile_add_env(p, arg, err);
	case OPT_TMPFS:
		return profile_add_tmpfs(p, arg, err);
	case OPT_PUBLISH:
		return profile_add_publish(p, arg, err);
	case OPT_CAP_ADD:
	case OPT_CAP_DROP:
		return profile_add_cap(p, arg, val == OPT_CAP_DROP, err);
	case OPT_SECCOMP:
		return profile_set_seccomp(p, arg, err);
	case 'w':
		if (arg[0] != '/')
			return sbx_error_set(err, EINVAL,
					     "--workdir \"%s\": must be an absolute path", arg);
		replace(&p->workdir, arg);
		return 0;
	case OPT_HOSTNAME:
		replace(&p->hostname, arg);
		return 0;
	case OPT_USER:
		replace(&p->user, arg);
		return 0;
	case OPT_READ_ONLY:
		p->rootfs = SBX_ROOTFS_READONLY;
		return 0;
	case OPT_INIT:
	case OPT_NO_INIT:
		p->init = val == OPT_INIT;
		return 0;
	case OPT_NETWORK:
		if (profile_parse_net(arg, &p->net, &why) < 0)
			return sbx_error_set(err, EINVAL, "--network \"%s\": %s", arg, why);
		return 0;
	case OPT_USERNS:
		if (profile_parse_userns(arg, &p->userns, &why) < 0)
			return sbx_error_set(err, EINVAL, "--userns \"%s\": %s", arg, why);
		return 0;
	case OPT_OVERLAY:
		if (profile_parse_overlay(arg, &p->overlay, &why) < 0)
			return sbx_error_set(err, EINVAL, "--overlay \"%s\": %s", arg, why);
		return 0;
	}
	return 0;
}

int overrides_load(const struct sbx_overrides *o, const char *cmd, struct sbx_profile **out)
{
	_cleanup_error_ struct sbx_error *err = NULL;
	struct sbx_diag diag = {0};
	_cleanup_profile_ struct sbx_profile *p = NULL;
	if (profile_load(o->profile ? o->profile : "default", &p, &diag, &err) < 0) {
		for (size_t i = 0; diag.lines && diag.lines[i]; i++)
			fprintf(stderr, "%s\n", diag.lines[i]);
		diag_clear(&diag);
		sbx_error_print(err, cmd);
		return -1;
	}
	diag_clear(&diag);
	for (size_t i = 0; i < o->n; i++) {
		if (apply(p, o->items[i].val, o->items[i].arg, &err) < 0) {
			sbx_error_print(err, cmd);
			return -1;
		}
	}
	if (profile_validate(p, &err) < 0) {
		sbx_error_print(err, cmd);
		return -1;
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
