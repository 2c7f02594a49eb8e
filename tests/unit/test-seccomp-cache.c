/* test-seccomp-cache.c - the cache of compiled seccomp programs: one file a
 * policy, named by the policy's SHA-256 key (seccomp_policy_hash), read
 * back by that name; a damaged entry is compiled and written again. */
#define _GNU_SOURCE
#include "runtime/seccomp.h"
#include "tap.h"
#include "lib/util.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/stat.h>

static char *dir;

/* The cache file's header, as seccomp.c writes it. */
struct header {
	char magic[8];
	uint32_t flags;
	uint32_t len;
};

static off_t size_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static size_t count_entries(void)
{
	_cleanup_dir_ DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += str_endswith(de->d_name, ".bpf");
	return n;
}

static void test_cache(void)
{
	_cleanup_json_ json_t *pol = seccomp_default_json();
	char key[65];
	ok(seccomp_policy_hash(pol, key) == 0 && strlen(key) == 64 &&
	       strspn(key, "0123456789abcdef") == 64,
	   "the key: 64 hex digits of SHA-256");
	_cleanup_free_ char *file = xasprintf("%s/%s.bpf", dir, key);
	struct sbx_error *err = NULL;
	struct sbx_bpf b = {0};
	ok(seccomp_compile_cached(pol, dir, &b, &err) == 0 && b.len > 1, "compiled");
	is_int(size_of(file), (off_t)(sizeof(struct header) + b.len * sizeof(struct sock_filter)),
	       "and cached under its key");

	/* What the file holds is what a policy with that key gets. */
	struct {
		struct header h;
		struct sock_filter f;
	} one = {{"SBXBPF1", b.flags, 1}, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	int fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ok(fd >= 0 && write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one), "entry replaced");
	if (fd >= 0)
		close(fd);
	struct sbx_bpf c = {0};
	ok(seccomp_compile_cached(pol, dir, &c, &err) == 0 && c.len == 1,
	   "the entry named by the key is read back");
	seccomp_bpf_free(&c);

	/* A damaged entry is compiled again and replaced. */
	ok(truncate(file, 10) == 0, "entry truncated");
	ok(seccomp_compile_cached(pol, dir, &c, &err) == 0 && c.len == b.len &&
	       memcmp(c.insns, b.insns, b.len * sizeof(struct sock_filter)) == 0,
	   "a damaged entry is compiled again");
	is_int(size_of(file), (off_t)(sizeof(struct header) + b.len * sizeof(struct sock_filter)),
	       "and written again");
	seccomp_bpf_free(&c);

	/* Another policy, another key and entry; the same policy built again,
	 * the same key. */
	_cleanup_json_ json_t *other =
	    json_loads("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
	               "\"action\":\"SCMP_ACT_ALLOW\"}]}",
	               0, NULL);
	char key2[65];
	ok(seccomp_policy_hash(other, key2) == 0 && strcmp(key, key2) != 0, "another key");
	/* The built-in policy's program is under its content's key too. */
	ok(seccomp_compile_cached(other, dir, &c, &err) == 0 && count_entries() == 3,
	   "another entry");
	seccomp_bpf_free(&c);
	_cleanup_json_ json_t *again = seccomp_default_json();
	char key3[65];
	ok(seccomp_policy_hash(again, key3) == 0 && strcmp(key, key3) == 0,
	   "the same policy, the same key");
	seccomp_bpf_free(&b);

	/* A new build: no entry under the built-in key, the program found
	 * under the content's key (as sbx exec keys it) and stored under the
	 * built-in key, not compiled again. */
	_cleanup_json_ json_t *fresh = seccomp_default_json();
	_cleanup_json_ json_t *copy = json_deep_copy(fresh);
	char k_id[65], k_content[65];
	ok(seccomp_policy_hash(fresh, k_id) == 0 && seccomp_policy_hash(copy, k_content) == 0 &&
	       strcmp(k_id, k_content) != 0,
	   "the built-in key and the content's key");
	_cleanup_free_ char *f_id = xasprintf("%s/%s.bpf", dir, k_id);
	_cleanup_free_ char *f_content = xasprintf("%s/%s.bpf", dir, k_content);
	unlink(f_id);
	fd = open(f_content, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok(fd >= 0 && write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one),
	   "a one-instruction program under the content's key");
	if (fd >= 0)
		close(fd);
	ok(seccomp_compile_cached(fresh, dir, &c, &err) == 0 && c.len == 1,
	   "a new build finds it under the content's key");
	is_int(size_of(f_id), (off_t)sizeof(one), "and stores it under its own");
	seccomp_bpf_free(&c);
	sbx_error_free(err);
}

/* The built-in policy is keyed by sbx's build ID, not by its content: the
 * same policy in another object, or the built-in one changed, restricted or
 * not, each has a key of its own. */
static void test_builtin_key(void)
{
	_cleanup_json_ json_t *pol = seccomp_default_json();
	_cleanup_json_ json_t *copy = json_deep_copy(pol);
	char key[65], again[65], copied[65];
	ok(seccomp_policy_hash(pol, key) == 0 && seccomp_policy_hash(pol, again) == 0 &&
	       strcmp(key, again) == 0,
	   "the built-in policy's key is stable");
	ok(seccomp_policy_hash(copy, copied) == 0 && strcmp(key, copied) != 0,
	   "a copy of it is keyed by its content");

	/* Changed behind seccomp.c's back: keyed by content, so it cannot
	 * take the built-in policy's entry. */
	_cleanup_json_ json_t *changed = seccomp_default_json();
	json_t *rule = json_pack("{s:[s], s:s}", "names", "mount", "action", "SCMP_ACT_ALLOW");
	json_array_append_new(json_object_get(changed, "syscalls"), rule);
	json_t *ccopy = json_deep_copy(changed);
	char k_changed[65], k_ccopy[65];
	ok(seccomp_policy_hash(changed, k_changed) == 0 &&
	       seccomp_policy_hash(ccopy, k_ccopy) == 0 && strcmp(k_changed, k_ccopy) == 0 &&
	       strcmp(k_changed, key) != 0,
	   "a changed built-in policy is keyed by its content");
	json_decref(ccopy);

	/* Restricted: another key, and a program that denies set-id files. */
	_cleanup_json_ json_t *r = seccomp_default_json();
	char k_plain[65], k_restricted[65], k_rcopy[65];
	struct sbx_error *err = NULL;
	ok(seccomp_policy_hash(r, k_plain) == 0 && seccomp_restrict_setid(r, &err) == 0 &&
	       seccomp_policy_hash(r, k_restricted) == 0 && strcmp(k_plain, k_restricted) != 0,
	   "restricting the built-in policy changes its key");
	_cleanup_json_ json_t *rcopy = json_deep_copy(r);
	ok(seccomp_policy_hash(rcopy, k_rcopy) == 0 && strcmp(k_rcopy, k_restricted) != 0,
	   "a copy of the restricted one is keyed by its content");
	struct sbx_bpf a = {0}, b = {0};
	ok(seccomp_compile_cached(r, dir, &a, &err) == 0 && seccomp_compile(rcopy, &b, &err) == 0 &&
	       a.len == b.len && memcmp(a.insns, b.insns, a.len * sizeof(struct sock_filter)) == 0,
	   "its cached program is the one its content compiles to");
	seccomp_bpf_free(&a);
	seccomp_bpf_free(&b);
	/* Restricted again (refused half-way: it compares the arguments by
	 * now), it is no built-in policy any more. */
	char k_twice[65];
	sbx_error_free(err);
	err = NULL;
	(void)seccomp_restrict_setid(r, &err);
	ok(seccomp_policy_hash(r, k_twice) == 0 && strcmp(k_twice, k_restricted) != 0,
	   "restricted again: keyed by its content");
	sbx_error_free(err);
}

/* The built-in policy deferred (what sbx run puts in its config): keyed as
 * the policy it stands for, compiled to its program, and replaced by it,
 * restricted or not, when the config is written; a stand-in given a key
 * stands for nothing. */
static void test_deferred(void)
{
	for (int restricted = 0; restricted <= 1; restricted++) {
		struct sbx_error *err = NULL;
		_cleanup_json_ json_t *want = seccomp_default_json();
		if (restricted && seccomp_restrict_setid(want, &err) < 0)
			abort();
		char k_want[65], k_def[65];
		ok(seccomp_policy_hash(want, k_want) == 0, "the built policy's key");
		_cleanup_json_ json_t *def = seccomp_default_deferred(restricted);
		ok(json_object_size(def) == 0 && seccomp_policy_hash(def, k_def) == 0 &&
		       strcmp(k_want, k_def) == 0,
		   "deferred (restricted %d): the key of the policy it stands for", restricted);
		struct sbx_bpf a = {0}, b = {0};
		_cleanup_json_ json_t *wcopy = json_deep_copy(want);
		ok(seccomp_compile(def, &a, &err) == 0 && seccomp_compile(wcopy, &b, &err) == 0 &&
		       a.len == b.len &&
		       memcmp(a.insns, b.insns, a.len * sizeof(struct sock_filter)) == 0,
		   "deferred: compiles to the policy's program");
		seccomp_bpf_free(&a);
		seccomp_bpf_free(&b);
		_cleanup_free_ char *f = xasprintf("%s/%s.bpf", dir, k_def);
		unlink(f);
		ok(seccomp_compile_cached(def, dir, &a, &err) == 0 && size_of(f) > 0,
		   "deferred: compiled through the cache under its key");
		seccomp_bpf_free(&a);
		json_t *config = json_pack("{s:{s:O}}", "linux", "seccomp", def);
		ok(seccomp_config_resolve(config, &err) == 0 &&
		       json_equal(json_object_get(json_object_get(config, "linux"), "seccomp"),
		                  wcopy),
		   "deferred: the config gets the policy itself");
		json_decref(config);
		sbx_error_free(err);
	}
	/* Given a key, the stand-in is no policy of sbx's: empty of rules. */
	_cleanup_json_ json_t *def = seccomp_default_deferred(false);
	json_object_set_new(def, "defaultAction", json_string("SCMP_ACT_ALLOW"));
	json_t *config = json_pack("{s:{s:O}}", "linux", "seccomp", def);
	struct sbx_error *err = NULL;
	ok(seccomp_config_resolve(config, &err) == 0 &&
	       json_object_get(json_object_get(config, "linux"), "seccomp") == def,
	   "a stand-in changed is left as it is");
	char k[65];
	_cleanup_json_ json_t *copy = json_deep_copy(def);
	char kc[65];
	ok(seccomp_policy_hash(def, k) == 0 && seccomp_policy_hash(copy, kc) == 0 &&
	       strcmp(k, kc) == 0,
	   "and keyed by its content");
	json_decref(config);
	sbx_error_free(err);
}

/* config.json's text with a deferred policy: the policy in full, byte for
 * byte what resolving it first would write; its text cached beside the
 * program, read back from there, and made again when damaged. */
static void test_config_text(void)
{
	struct sbx_error *err = NULL;
	_cleanup_json_ json_t *def = seccomp_default_deferred(true);
	_cleanup_json_ json_t *config =
	    json_pack("{s:s,s:{s:O,s:s}}", "ociVersion", "1.0.2", "linux", "seccomp", def,
	              "rootfsPropagation", "rprivate");
	_cleanup_json_ json_t *resolved = json_deep_copy(config);
	json_object_set_new(json_object_get(resolved, "linux"), "seccomp",
	                    seccomp_resolve(def, &err));
	_cleanup_free_ char *want = json_dumps(resolved, JSON_INDENT(2));
	char key[65];
	ok(seccomp_policy_hash(def, key) == 0, "the stand-in's key");
	_cleanup_free_ char *cached = xasprintf("%s/%s.json", dir, key);
	unlink(cached);
	size_t len = 0;
	_cleanup_free_ char *first = seccomp_config_text(config, dir, &len, &err);
	ok(first && want && strcmp(first, want) == 0 && len == strlen(want),
	   "config text: the policy in full, as if resolved");
	ok(size_of(cached) > 0, "config text: the policy's text cached under its key");
	/* Read back: a cached text is used as it is. */
	_cleanup_free_ char *marked = NULL;
	size_t mlen = 0;
	ok(read_file(cached, 1 << 20, &marked, &mlen, NULL) == 0, "cached text read");
	marked[1] = ' ';
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *name = xasprintf("%s.json", key);
	ok(write_file_atomic(dfd, name, marked, mlen, 0600, NULL) == 0, "cached text changed");
	_cleanup_free_ char *second = seccomp_config_text(config, dir, &len, &err);
	ok(second && strstr(second, "\"seccomp\": { ") != NULL, "config text: read from the cache");
	/* Damaged: not what json_text writes; made again. */
	ok(write_file_atomic(dfd, name, "{\"x\"", 5, 0600, NULL) == 0, "cached text damaged");
	_cleanup_free_ char *third = seccomp_config_text(config, dir, &len, &err);
	ok(third && strcmp(third, want) == 0 && size_of(cached) > 5,
	   "config text: a damaged cache entry is made again");
	/* No cache directory: made each time. */
	_cleanup_free_ char *fourth = seccomp_config_text(config, NULL, &len, &err);
	ok(fourth && strcmp(fourth, want) == 0, "config text: without a cache");
	/* A config without a stand-in is written as it is. */
	_cleanup_free_ char *plain = seccomp_config_text(resolved, dir, &len, &err);
	ok(plain && strcmp(plain, want) == 0, "config text: a policy given in full");
	sbx_error_free(err);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	_cleanup_free_ char *top = xasprintf("%s/sbx-test-bpf-XXXXXX", tmp);
	if (mkdtemp(top) == NULL)
		abort();
	dir = xasprintf("%s/seccomp", top);
	test_cache();
	test_builtin_key();
	test_deferred();
	test_config_text();
	_cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rm_rf_at(fd, strrchr(top, '/') + 1, NULL);
	free(dir);
	return done_testing();
}
