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
	ok(seccomp_compile_cached(other, dir, &c, &err) == 0 && count_entries() == 2,
	   "another entry");
	seccomp_bpf_free(&c);
	_cleanup_json_ json_t *again = seccomp_default_json();
	char key3[65];
	ok(seccomp_policy_hash(again, key3) == 0 && strcmp(key, key3) == 0,
	   "the same policy, the same key");
	seccomp_bpf_free(&b);
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
	_cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rm_rf_at(fd, strrchr(top, '/') + 1, NULL);
	free(dir);
	return done_testing();
}
