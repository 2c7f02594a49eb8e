/* fuzz-reference.c - image references as sbx pull and sbx run read them.
 * What normalizes is a fixed point (its normal form normalizes to itself),
 * names its registry, and holds no byte a reference may not hold; then
 * registry_reference, which pull uses, takes the same input without a
 * crash, and what it stores is a valid image name. */
#define _GNU_SOURCE
#include "lib/error.h"
#include "store/reference.h"
#include "store/registry.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what, const char *ref)
{
	if (!cond) {
		fprintf(stderr, "%s: \"%s\"\n", what, ref);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ref = strndup((const char *)data, size);
	if (ref == NULL)
		abort();
	char *norm = reference_normalize(ref);
	if (norm) {
		check(reference_has_host(norm), "the normal form names no registry", norm);
		for (const char *c = norm; *c; c++)
			check(*c > ' ' && *c < 0x7f, "a control, blank or non-ASCII byte", norm);
		check(strncmp(norm, "docker://", 9) != 0, "the normal form keeps docker://", norm);
		char *again = reference_normalize(norm);
		check(again != NULL && strcmp(again, norm) == 0, "not a fixed point", norm);
		free(again);
	}
	char *source = NULL, *stored = NULL;
	struct sbx_error *err = NULL;
	if (registry_reference(ref, NULL, &source, &stored, &err) == 0) {
		check(source && strncmp(source, "docker://", 9) == 0, "a source without docker://",
		      ref);
		check(stored && stored[0] && !strchr(stored, '/') && !strchr(stored, ':'),
		      "a stored name with a path or a tag", ref);
	} else {
		check(err != NULL && err->msg != NULL, "refused without a message", ref);
	}
	sbx_error_free(err);
	free(source);
	free(stored);
	free(norm);
	free(ref);
	return 0;
}
