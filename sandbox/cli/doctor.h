/* doctor.h - checks of what the host gives sbx, for `sbx doctor`. Each check
 * looks at the settings and, where it can, actually tries the thing (a user
 * namespace, an overlay mount, opening a device) in a throw-away child. */
#ifndef SBX_DOCTOR_H
#define SBX_DOCTOR_H

#include <stddef.h>

enum doctor_status {
	DOCTOR_OK = 0,
	DOCTOR_WARN, /* a feature sbx can do without, or with a fallback */
	DOCTOR_FAIL, /* sbx run cannot work as configured */
};

struct doctor_result {
	const char *check; /* short name, e.g. "userns" */
	enum doctor_status status;
	char *message; /* what was found */
	char *fix;     /* what to do about it; NULL when nothing needs doing */
};

/* Runs every check, in the order they are shown. */
void doctor_run(struct doctor_result **out, size_t *n);
void doctor_results_free(struct doctor_result *r, size_t n);
/* "OK", "WARN" or "FAIL". */
const char *doctor_status_name(enum doctor_status s);
/* The names of every check, in order, NULL-terminated. */
extern const char *const doctor_checks[];

#endif
