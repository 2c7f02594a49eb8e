/* userns.c - id maps for the sandbox's user namespace. */
#define _GNU_SOURCE
#include "runtime/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sched.h>
#include <sys/wait.h>

int userns_subid_range(const char *file, uid_t uid, unsigned *start, unsigned *count,
                       struct sbx_error **err)
{
	_cleanup_free_ char *num = xasprintf("%u", uid), *name = NULL;
	(void)passwd_lookup(uid, &name, NULL);
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	if (f == NULL) {
		int e = errno;
		return sbx_error_setc(err, e,
		                      "cannot read \"%s\": %s; ask an administrator to add a "
		                      "range, e.g. 'usermod --add-subuids 100000-165535 "
		                      "--add-subgids 100000-165535 %s'",
		                      file, strerror(e), name ? name : num);
	}
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL;
		char *who = strtok_r(line, ":\n", &save);
		char *s = strtok_r(NULL, ":\n", &save);
		char *c = strtok_r(NULL, ":\n", &save);
		if (who == NULL || s == NULL || c == NULL)
			continue;
		if (strcmp(who, num) != 0 && !(name && strcmp(who, name) == 0))
			continue;
		uint64_t a, b;
		if (parse_u64(s, &a) < 0 || parse_u64(c, &b) < 0 || b == 0 || a > UINT32_MAX ||
		    b > UINT32_MAX)
			continue;
		*start = (unsigned)a;
		*count = (unsigned)b;
		return 0;
	}
	return sbx_error_setc(err, ENOENT,
	                      "no subordinate id range for \"%s\" in \"%s\"; ask an "
	                      "administrator to add one, e.g. 'usermod --add-subuids "
	                      "100000-165535 --add-subgids 100000-165535 %s'",
	                      name ? name : num, file, name ? name : num);
}

static int write_proc(pid_t pid, const char *file, const char *data, struct sbx_error **err)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", path);
	if (write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		return sbx_error_set(err, errno, "cannot write \"%s\" to \"%s\"", data, path);
	return 0;
}

static char *map_text(const struct sbx_idmap *m, size_t n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%u %u %u\n", m[i].container, m[i].host, m[i].size);
	fclose(f);
	return out;
}

/* newuidmap PID ID HOST SIZE...: the only setuid program sbx ever runs, and
 * only when subordinate ranges were asked for. */
static int run_helper(const char *helper, pid_t pid, const struct sbx_idmap *m, size_t n,
                      struct sbx_error **err)
{
	char **argv = NULL;
	strv_push(&argv, helper);
	strv_push_take(&argv, xasprintf("%d", (int)pid));
	for (size_t i = 0; i < n; i++) {
		strv_push_take(&argv, xasprintf("%u", m[i].container));
		strv_push_take(&argv, xasprintf("%u", m[i].host));
		strv_push_take(&argv, xasprintf("%u", m[i].size));
	}
	_cleanup_strv_ char **args = argv;
	pid_t child = fork();
	if (child < 0)
		return sbx_error_set(err, errno, "cannot fork for %s", helper);
	if (child == 0) {
		static const char *const dirs[] = {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"};
		for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
			char path[64];
			snprintf(path, sizeof(path), "%s%s", dirs[i], helper);
			execv(path, args);
		}
		_exit(127);
	}
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return sbx_error_set(err, errno, "waiting for %s", helper);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return sbx_error_set(err, ENOENT,
		                     "%s not found; install Debian's uidmap package, or drop "
		                     "--userns subid",
		                     helper);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sbx_error_set(err, EPERM,
		                     "%s failed (see its message above); check your ranges in "
		                     "/etc/subuid and /etc/subgid",
		                     helper);
	return 0;
}

static bool single_self(const struct sbx_idmap *m, size_t n, unsigned id)
{
	return n == 1 && m[0].host == id && m[0].size == 1;
}

size_t userns_subid_layout(unsigned id, bool subid, unsigned start, unsigned count,
                           struct sbx_idmap out[2])
{
	if (id == 0 && subid) {
		/* Plain root needs no helper: the first 64k ids, identity-mapped. */
		out[0] = (struct sbx_idmap){0, 0, 65536};
		return 1;
	}
	out[0] = (struct sbx_idmap){0, id, 1};
	if (!subid || count == 0)
		return 1;
	out[1] = (struct sbx_idmap){1, start, count};
	return 2;
}

int userns_write_maps(pid_t pid, const struct sbx_config *c, struct sbx_error **err)
{
	bool root = geteuid() == 0;
	if (root || single_self(c->uid_maps, c->n_uid_maps, geteuid())) {
		_cleanup_free_ char *t = map_text(c->uid_maps, c->n_uid_maps);
		if (write_proc(pid, "uid_map", t, err) < 0)
			return -1;
	} else if (run_helper("newuidmap", pid, c->uid_maps, c->n_uid_maps, err) < 0) {
		return -1;
	}
	if (root || single_self(c->gid_maps, c->n_gid_maps, getegid())) {
		/* An unprivileged gid_map needs setgroups denied (CVE-2014-8989). */
		if (!root && write_proc(pid, "setgroups", "deny", err) < 0)
			return -1;
		_cleanup_free_ char *t = map_text(c->gid_maps, c->n_gid_maps);
		if (write_proc(pid, "gid_map", t, err) < 0)
			return -1;
	} else if (run_helper("newgidmap", pid, c->gid_maps, c->n_gid_maps, err) < 0) {
		return -1;
	}
	return 0;
}

static long read_sysctl(const char *path)
{
	char buf[32];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

const char *userns_hint(int errnum)
{
	if (read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
		return "AppArmor restricts unprivileged user namespaces "
		       "(kernel.apparmor_restrict_unprivileged_userns=1); an administrator can "
		       "allow sbx with an AppArmor profile or set the sysctl to 0";
	if (read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0)
		return "unprivileged user namespaces are disabled; an administrator can run "
		       "'sysctl kernel.unprivileged_userns_clone=1'";
	if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0)
		return "user namespaces are disabled (user.max_user_namespaces=0); an "
		       "administrator can run 'sysctl user.max_user_namespaces=15000'";
	if (errnum == ENOSPC)
		return "the limit of user namespaces is reached (user.max_user_namespaces)";
	if (errnum == EPERM)
		return "user namespaces are not allowed here; run 'sbx doctor' for details "
		       "(inside a chroot or a container without user namespace support?)";
	return NULL;
}

/* An error crosses from a child to its parent as "CODE MESSAGE". */
static void error_send(int fd, const struct sbx_error *e)
{
	_cleanup_free_ char *msg = xasprintf("%d %s", e->code, e->msg ? e->msg : "failed");
	write_all(fd, msg, strlen(msg));
}

/* Reads what error_send wrote to fd, and closes it; returns -1 with it in
 * *err, or 0 when there was none. */
static int error_recv(int fd, struct sbx_error **err)
{
	char msg[1024];
	size_t n = read_string(fd, msg, sizeof(msg));
	close(fd);
	char *space = n > 0 ? strchr(msg, ' ') : NULL;
	if (space == NULL)
		return 0;
	*space = '\0';
	return sbx_error_setc(err, atoi(msg), "%s", space + 1);
}

int userns_run_mapped(const struct sbx_config *c, int (*fn)(void *arg, struct sbx_error **err),
                      void *arg, struct sbx_error **err)
{
	/* Without a config: the caller's own ids, which need no helper. */
	struct sbx_idmap uid = {0, (unsigned)geteuid(), 1}, gid = {0, (unsigned)getegid(), 1};
	struct sbx_config self = {
	    .uid_maps = &uid, .gid_maps = &gid, .n_uid_maps = 1, .n_gid_maps = 1};
	if (c == NULL)
		c = &self;
	int result[2];
	if (pipe2(result, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "pipe");
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(result[0]);
		close(result[1]);
		return sbx_error_set(err, e, "fork");
	}
	if (pid == 0) {
		close(result[0]);
		struct sbx_error *cerr = NULL;
		if (userns_enter_mapped(c, &cerr) == 0)
			fn(arg, &cerr);
		if (cerr)
			error_send(result[1], cerr);
		_exit(cerr ? 1 : 0);
	}
	close(result[1]);
	bool failed = error_recv(result[0], err) < 0;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (failed)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return sbx_error_set(err, 0, "the helper process was killed by signal %d",
		                     WTERMSIG(status));
	return sbx_error_setc(err, EPERM, "the helper process failed");
}

int userns_subids(uid_t uid, unsigned ids[4], struct sbx_error **err)
{
	if (userns_subid_range("/etc/subuid", uid, &ids[0], &ids[1], err) < 0)
		return -1;
	return userns_subid_range("/etc/subgid", uid, &ids[2], &ids[3], err);
}

int userns_enter_mapped(const struct sbx_config *c, struct sbx_error **err)
{
	int go[2], done[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "pipe");
	if (pipe2(done, O_CLOEXEC) < 0) {
		close(go[0]);
		close(go[1]);
		return sbx_error_set(err, errno, "pipe");
	}
	pid_t self = getpid();
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(go[0]);
		close(go[1]);
		close(done[0]);
		close(done[1]);
		return sbx_error_set(err, e, "cannot fork");
	}
	if (pid == 0) {
		/* Once the parent is in its namespace, write its maps from here,
		 * outside it. */
		close(go[1]);
		close(done[0]);
		char b;
		if (read(go[0], &b, 1) != 1)
			_exit(0);
		struct sbx_error *cerr = NULL;
		if (userns_write_maps(self, c, &cerr) == 0)
			_exit(0);
		error_send(done[1], cerr);
		_exit(1);
	}
	close(go[0]);
	close(done[1]);
	int ret = 0;
	if (unshare(CLONE_NEWUSER) < 0) {
		int e = errno;
		const char *hint = userns_hint(e);
		ret = sbx_error_set(err, e, "cannot create a user namespace%s%s", hint ? "; " : "",
		                    hint ? hint : "");
	} else if (write_all(go[1], "g", 1) < 0) {
		ret = sbx_error_set(err, errno, "cannot reach the process that writes the id maps");
	}
	close(go[1]);
	/* After an error of ours, the child's (if any) is dropped. */
	bool failed = error_recv(done[0], err) < 0;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret < 0 || failed)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sbx_error_setc(err, EPERM, "the process that writes the id maps failed");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return sbx_error_set(err, errno, "cannot become root in the user namespace");
	return 0;
}
