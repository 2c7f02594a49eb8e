/* fuzz-profile.c - profile text through the whole loader. Whatever loads
 * must dump to INI that loads back into the same profile. */
#define _GNU_SOURCE
#include "profile/profile.h"
#include "lib/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* "inherit = NAME" goes through the lookup: never into a real user's
	 * or the system's configuration. The checkout's shipped profiles are
	 * fine to read (the fuzzer runs from the top of it). */
	setenv("XDG_CONFIG_HOME", "/nonexistent/sbx-fuzz/config", 1);
	setenv("SBX_SYSCONFDIR", "/nonexistent/sbx-fuzz/etc", 1);
	setenv("HOME", "/home/fuzz", 1);
	char *cwd = get_current_dir_name();
	if (cwd && access("profiles/default.ini", R_OK) == 0)
		setenv("SBX_DATADIR", cwd, 1);
	else
		setenv("SBX_DATADIR", "/nonexistent/sbx-fuzz/share", 1);
	free(cwd);
	return 0;
}

static char *dump(const struct sbx_profile *p)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	if (f == NULL)
		abort();
	profile_dump(p, f);
	fclose(f);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_diag diag = {0};
	struct sbx_error *err = NULL;
	struct sbx_profile *p = NULL;
	if (profile_load_string("fuzz.ini", (const char *)data, size, &p, &diag, &err) < 0) {
		/* Failure always comes with diagnostics and a summary. */
		if (err == NULL || diag_count(&diag) == 0)
			abort();
		diag_clear(&diag);
		sbx_error_free(err);
		return 0;
	}
	if (diag_count(&diag) != 0 || err != NULL)
		abort();
	(void)profile_validate(p, &err);
	sbx_error_free(err);
	err = NULL;

	char *a = dump(p);
	struct sbx_profile *q = NULL;
	if (profile_load_string("dump.ini", a, strlen(a), &q, &diag, &err) < 0) {
		for (size_t i = 0; diag.lines && diag.lines[i]; i++)
			fprintf(stderr, "%s\n", diag.lines[i]);
		fprintf(stderr, "the dump does not load back:\n%s", a);
		abort();
	}
	char *b = dump(q);
	/* The first line names the file; the rest must match. */
	if (strcmp(strchr(a, '\n'), strchr(b, '\n')) != 0) {
		fprintf(stderr, "dump changed on reload:\n%s\n----\n%s", a, b);
		abort();
	}
	free(a);
	free(b);
	profile_free(p);
	profile_free(q);
	diag_clear(&diag);
	return 0;
}
