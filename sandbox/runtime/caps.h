/* caps.h - capability names, the default set, and applying OCI capability sets. */
#ifndef SBX_CAPS_H
#define SBX_CAPS_H

#include "lib/util.h"

#include <jansson.h>
#include <stdint.h>

/* Accepts "CAP_NET_RAW", "net_raw", "NET_RAW" (any case). Returns 0 and the
 * number, or -1 for an unknown name. */
int caps_from_name(const char *name, int *cap);
/* "CAP_NET_RAW"; NULL when unknown. */
const char *caps_name(int cap);
/* The canonical name for a user-given one, or NULL. */
const char *caps_canonical(const char *name);
/* Every known capability name, for completion and "did you mean". */
const char *const *caps_all_names(size_t *n);

/* Docker's default set (CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW,
 * SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL,
 * AUDIT_WRITE), as a bitmask. */
uint64_t caps_default_mask(void);

/* A base set (Docker's default, or none) with the NULL-terminated cap_drop
 * and cap_add lists (names, or "ALL") applied, as a bitmask. */
int caps_resolve(bool from_none, char *const *cap_drop, char *const *cap_add, uint64_t *mask,
                 struct sbx_error **err);
/* A JSON array of names for a mask, in capability number order. */
json_t *caps_mask_to_json(uint64_t mask);

/* The five sets of an OCI process.capabilities object. */
struct sbx_capsets {
	uint64_t bounding, effective, permitted, inheritable, ambient;
};
/* Reads an OCI capabilities object (NULL = all empty); unknown names fail. */
int caps_from_oci(json_t *obj, struct sbx_capsets *out, struct sbx_error **err);

/* Runtime, in the sandbox, in this order around the switch to the payload's
 * user: caps_drop_bounding() while still uid 0, then setgroups/setresgid/
 * setresuid with PR_SET_KEEPCAPS, then caps_apply() which sets effective,
 * permitted, inheritable and ambient exactly and verifies with capget. */
int caps_drop_bounding(const struct sbx_capsets *c, struct sbx_error **err);
/* The same, given the bounding set before (/proc/self/status's CapBnd), so
 * that the capabilities kept need not be read back one by one. */
int caps_drop_bounding_held(const struct sbx_capsets *c, uint64_t held, struct sbx_error **err);
int caps_apply(const struct sbx_capsets *c, struct sbx_error **err);

#endif
