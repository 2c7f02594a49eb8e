/* instance.h - per-instance directories: the overlay's upper layer and the
 * exact config the instance runs with, under $XDG_DATA_HOME/sbx/instances. */
#ifndef SBX_INSTANCE_H
#define SBX_INSTANCE_H

#include "runtime/config.h"
#include "lib/util.h"

#include <jansson.h>
#include <stdbool.h>

struct sbx_instance {
	char *name;
	char *dir;    /* .../instances/NAME, or $XDG_RUNTIME_DIR/sbx/NAME if ephemeral */
	char *upper;  /* DIR/upper; NULL if ephemeral */
	char *work;   /* DIR/work; NULL if ephemeral */
	char *rootfs; /* DIR/rootfs: where the merged tree is mounted (DIR/scratch: the
	               * mount point of an ephemeral instance's scratch tmpfs) */
	int dirfd;
	/* From instance_create: the instance lock (see state.h), held from
	 * before the directory has its name; -1 otherwise. */
	int lockfd;
	/* `run --rm` with scratch in memory: nothing on disk but the live state
	 * directory, which is the instance directory too (it holds instance.json). */
	bool ephemeral;
};

/* [A-Za-z0-9][A-Za-z0-9_.-]*, at most 63 characters. */
int instance_name_validate(const char *name, const char **why);
/* A docker-like adjective_surname, e.g. "goofy_davinci". */
char *instance_generate_name(void);
/* Creates the instance directory, locked; an existing name is an error,
 * but an ephemeral instance that nobody runs (a crash's leftover) is
 * removed to free its name. With name NULL a free generated name is used.
 * An ephemeral instance lives in the runtime directory only. */
int instance_create(const char *name, bool ephemeral, struct sbx_instance **out,
                    struct sbx_error **err);
/* An O_PATH fd of the instance directory, opened once and kept in dirfd
 * (closed with the instance); -1 with *err. */
int instance_dirfd(struct sbx_instance *inst, struct sbx_error **err);
int instance_write_config(struct sbx_instance *inst, json_t *config, struct sbx_error **err);
/* config.json as text already made (seccomp_config_text). */
int instance_write_config_text(struct sbx_instance *inst, const char *text, size_t len,
                               struct sbx_error **err);
int instance_write_meta(struct sbx_instance *inst, json_t *meta, struct sbx_error **err);
/* Opens an existing instance; ENOENT with a hint when there is none. */
int instance_open(const char *name, struct sbx_instance **out, struct sbx_error **err);
/* Names of every instance (kept and ephemeral), sorted. */
int instance_list(char ***names, struct sbx_error **err);
/* instance.json, as written by sbx run. */
int instance_read_meta(struct sbx_instance *inst, json_t **out, struct sbx_error **err);
/* config.json, as written by sbx run: the sandbox's id maps, for one. */
int instance_read_config(struct sbx_instance *inst, struct sbx_config **out,
                         struct sbx_error **err);
/* Fails (ENOTSUP, with the way out) for an ephemeral instance, whose upper
 * layer is in memory and goes with it. */
int instance_need_upper(const struct sbx_instance *inst, struct sbx_error **err);
/* Points every instance whose image root is from_rootfs (its lower
 * layer, or its root without an overlay) at to_rootfs, image to_name,
 * in its config.json and instance.json; *n counts them. For an image that
 * is renamed (staging.h): an instance's lower layer never changes. */
int instance_rebase(const char *from_rootfs, const char *from_name, const char *to_name,
                    const char *to_rootfs, size_t *n, struct sbx_error **err);
/* Removes the instance directory and everything in it. */
int instance_remove(struct sbx_instance *inst, struct sbx_error **err);
void instance_free(struct sbx_instance *inst);
static inline void instance_freep(struct sbx_instance **i)
{
	instance_free(*i);
}
#define _cleanup_instance_ _cleanup_(instance_freep)

#endif
