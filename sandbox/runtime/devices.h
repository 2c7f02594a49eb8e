/* devices.h - linux.devices: the host's device nodes in the sandbox. */
#ifndef SBX_DEVICES_H
#define SBX_DEVICES_H

#include "lib/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct sbx_device {
	char *path;
	char type; /* 'c', 'b' or 'p' ('u' is read as 'c') */
	unsigned major, minor;
	bool has_mode, has_uid, has_gid;
	mode_t mode; /* permission bits of fileMode */
	uid_t uid;   /* as the container sees it */
	gid_t gid;
};

/* Reads linux.devices (an array, or NULL). */
int devices_parse(json_t *a, struct sbx_device **out, size_t *n, struct sbx_error **err);
void devices_free(struct sbx_device *d, size_t n);

/* Puts each device at its path under the root (resolved in it, by fd):
 * a fifo is made; a character or block device, which a user namespace
 * cannot mknod, is the host's node at the same path, bound onto a new
 * file, and refused when the host has none, or one of another type or
 * number, mode or owner (a bind keeps the host's, and chmod through it
 * would change the host's node). Owners compare as the sandbox's user
 * namespace sees them. */
int devices_create(int rootfd, const struct sbx_device *d, size_t n, struct sbx_error **err);

#endif
