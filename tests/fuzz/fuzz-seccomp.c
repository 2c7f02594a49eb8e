/* fuzz-seccomp.c - an OCI linux.seccomp object (a --seccomp file, or a
 * config's linux.seccomp) through validation, the set-id restriction, the
 * cache key and libseccomp. What validates either compiles or fails with a
 * message; what restrict_setid makes of it still validates; the cache key
 * depends on the policy, not on how its JSON was written.
 *
 * SBX_FUZZ_STRICT=1 also aborts when a validated policy does not compile:
 * a policy that `sbx profile check` accepts but `sbx run` refuses. */
#define _GNU_SOURCE
#include "runtime/seccomp.h"
#include "lib/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool strict;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *s = getenv("SBX_FUZZ_STRICT");
	strict = s && strcmp(s, "1") == 0;
	return 0;
}

static void fail(const char *what, json_t *policy, const struct sbx_error *err)
{
	char *text = json_dumps(policy, JSON_COMPACT);
	fprintf(stderr, "%s: %s\npolicy: %s\n", what, err && err->msg ? err->msg : "(no message)",
	        text ? text : "?");
	free(text);
	abort();
}

/* Compiles policy; a failure must say why. */
static void compile(json_t *policy, const char *what)
{
	struct sbx_bpf b = {0};
	struct sbx_error *err = NULL;
	if (seccomp_compile(policy, &b, &err) < 0) {
		if (err == NULL || err->msg == NULL || err->msg[0] == '\0')
			fail("seccomp_compile failed without a message", policy, err);
		if (strict)
			fail(what, policy, err);
		sbx_error_free(err);
		return;
	}
	if (b.insns == NULL || b.len == 0 || b.len > 0xffff)
		fail("seccomp_compile made no usable program", policy, NULL);
	seccomp_bpf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As seccomp_load_file reads it. */
	json_error_t je;
	json_t *policy = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (policy == NULL)
		return 0;
	struct sbx_error *err = NULL;
	if (seccomp_validate(policy, &err) < 0) {
		if (err == NULL || err->msg == NULL || err->msg[0] == '\0')
			fail("seccomp_validate failed without a message", policy, err);
		sbx_error_free(err);
		/* What does not validate does not compile either. */
		struct sbx_bpf b = {0};
		err = NULL;
		if (seccomp_compile(policy, &b, &err) == 0)
			fail("seccomp_compile took a policy seccomp_validate refused", policy,
			     NULL);
		sbx_error_free(err);
		json_decref(policy);
		return 0;
	}

	/* The cache key: the same for the same policy written otherwise. */
	char h1[65], h2[65];
	char *text = json_dumps(policy, JSON_INDENT(3) | JSON_SORT_KEYS);
	json_t *again = text ? json_loads(text, 0, NULL) : NULL;
	if (again == NULL || seccomp_policy_hash(policy, h1) < 0 ||
	    seccomp_policy_hash(again, h2) < 0 || strcmp(h1, h2) != 0)
		fail("the policy hash depends on the JSON's layout", policy, NULL);
	free(text);
	json_decref(again);

	compile(policy, "a validated policy does not compile");

	/* restrict_suid_sgid = true, as a profile's policy file gets it. */
	json_t *copy = json_deep_copy(policy);
	if (seccomp_restrict_setid(copy, &err) == 0) {
		if (seccomp_validate(copy, &err) < 0)
			fail("restrict_setid made a policy that does not validate", copy, err);
		char h3[65];
		if (seccomp_policy_hash(copy, h3) < 0)
			fail("no hash for the restricted policy", copy, NULL);
		compile(copy, "a restricted policy does not compile");
	} else {
		if (err == NULL || err->msg == NULL || err->msg[0] == '\0')
			fail("seccomp_restrict_setid failed without a message", copy, err);
		sbx_error_free(err);
	}
	json_decref(copy);
	json_decref(policy);
	return 0;
}
