/* fuzz-env-file.c - podman's --env-file format, read from a file as sbx run
 * reads it. Whatever the file holds: every line is taken or reported, the
 * variables taken are valid KEY=VALUE strings, and an error always comes
 * with at least one FILE:LINE diagnostic. */
#define _GNU_SOURCE
#include "lib/error.h"
#include "lib/util.h"
#include "profile/profile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sbx_setting *env_file;
static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* A KEY alone takes the caller's value: give it one to take. */
	setenv("FUZZ_FROM_CALLER", "caller value", 1);
	env_file = profile_setting_option("env-file");
	fd = memfd_create("env-file", MFD_CLOEXEC);
	if (env_file == NULL || fd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

static void check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "%s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct sbx_profile *p = profile_new();
	struct sbx_diag diag = {0};
	struct sbx_error *err = NULL;
	int r = profile_option(p, env_file, path, &diag, &err);
	if (r < 0) {
		check(err != NULL, "refused without an error");
		check(diag_count(&diag) > 0 || size > 1024 * 1024, "refused without a diagnostic");
		for (char **l = diag.lines; l && *l; l++)
			check(strncmp(*l, path, strlen(path)) == 0 && strstr(*l, ": error: "),
			      "a diagnostic not in the FILE:LINE: error: form");
	} else {
		check(err == NULL && diag_count(&diag) == 0, "taken with an error");
		for (char **e = p->env; e && *e; e++) {
			const char *eq = strchr(*e, '=');
			check(eq != NULL && eq != *e, "a variable without KEY=");
			check(strchr(*e, '\n') == NULL, "a variable across lines");
		}
	}
	sbx_error_free(err);
	diag_clear(&diag);
	profile_free(p);
	return 0;
}
