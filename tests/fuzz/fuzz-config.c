/* fuzz-config.c - config.json through the runtime's parser, as sbx run and
 * an OCI bundle's config reach it. A config that parses holds what the
 * runtime relies on without checking again; one that does not says why. */
#define _GNU_SOURCE
#include "runtime/config.h"
#include "runtime/seccomp.h"
#include "lib/util.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "config_parse accepted a config where %s\n", what);
		abort();
	}
}

static bool absolute(const char *p)
{
	return p && p[0] == '/';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As config_load_file reads it: duplicate keys are refused. */
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		return 0;
	struct sbx_config *c = NULL;
	struct sbx_error *err = NULL;
	if (config_parse(j, &c, &err) < 0) {
		if (err == NULL || err->msg == NULL || err->msg[0] == '\0' || c != NULL) {
			fprintf(stderr, "config_parse failed without a message\n");
			abort();
		}
		sbx_error_free(err);
		json_decref(j);
		return 0;
	}
	check(err == NULL, "an error was set");
	check(c->rootfs != NULL, "there is no root.path");
	check(c->args && c->args[0], "process.args is empty");
	check(absolute(c->cwd), "process.cwd is not absolute");
	check((c->clone_flags & (CLONE_NEWUSER | CLONE_NEWNS)) == (CLONE_NEWUSER | CLONE_NEWNS),
	      "there is no user or mount namespace");
	check(c->n_uid_maps > 0 && c->n_gid_maps > 0, "an id map is missing");
	for (size_t i = 0; i < c->n_uid_maps; i++)
		check(c->uid_maps[i].size > 0, "a uid map is empty");
	for (size_t i = 0; i < c->n_gid_maps; i++)
		check(c->gid_maps[i].size > 0, "a gid map is empty");
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct sbx_mount *m = &c->mounts[i];
		check(absolute(m->dest), "a mount destination is not absolute");
		check(m->type && m->source && m->fs_options, "a mount is incomplete");
		check(m->kind == SBX_MOUNT_FS || absolute(m->source),
		      "a bind mount's source is not absolute");
		check(m->kind == SBX_MOUNT_FS || m->fs_options[0] == NULL,
		      "a bind mount has filesystem options");
	}
	for (size_t i = 0; c->env && c->env[i]; i++)
		check(c->env[i] != NULL, "an environment entry is NULL");
	check(!c->overlay_scratch || (c->overlay_lower && !c->overlay_upper && !c->overlay_work),
	      "a scratch overlay has an upper or work directory, or no lower");
	check(!c->overlay_upper || (c->overlay_lower && c->overlay_work),
	      "an overlay lacks lower or work");
	/* The policy kept is one the runtime can compile: it was validated. */
	if (c->seccomp) {
		check(seccomp_validate(c->seccomp, &err) == 0,
		      "the seccomp policy does not validate");
	}
	config_free(c);
	json_decref(j);
	return 0;
}
