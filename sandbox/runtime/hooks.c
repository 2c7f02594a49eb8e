/* hooks.c - OCI hooks: parsed from config.json, run with the state on stdin
 * (see hooks.h).
 *
 * A hook's process is cloned fork-like (clone3, no shared memory) and
 * makes system calls only until its exec: the runner also runs inside the
 * sandbox (startContainer), in a process that shares sbx's memory. */
#define _GNU_SOURCE
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *const kind_names[SBX_HOOK_KINDS] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *hooks_kind_name(enum sbx_hook_kind k)
{
	return k < SBX_HOOK_KINDS ? kind_names[k] : "?";
}

static int strings(json_t *a, const char *kind, size_t i, const char *key, char ***out,
                   struct sbx_error **err)
{
	if (!json_is_array(a))
		return sbx_error_setc(err, EINVAL, "hooks.%s[%zu].%s: expected an array of strings",
		                      kind, i, key);
	char **v = xcalloc(json_array_size(a) + 1, sizeof(char *));
	size_t k;
	json_t *e;
	json_array_foreach(a, k, e)
	{
		if (!json_is_string(e)) {
			strv_free(v);
			return sbx_error_setc(err, EINVAL,
			                      "hooks.%s[%zu].%s[%zu]: expected a string", kind, i,
			                      key, k);
		}
		v[k] = xstrdup(json_string_value(e));
	}
	*out = v;
	return 0;
}

static int parse_one(json_t *e, const char *kind, size_t i, struct sbx_hook *h,
                     struct sbx_error **err)
{
	const char *path = NULL;
	json_t *args = NULL, *env = NULL;
	json_int_t timeout = 0;
	json_error_t je;
	if (json_unpack_ex(e, &je, JSON_STRICT, "{s:s, s?o, s?o, s?I}", "path", &path, "args",
	                   &args, "env", &env, "timeout", &timeout) < 0)
		return sbx_error_setc(err, EINVAL, "hooks.%s[%zu]: %s", kind, i, je.text);
	if (path[0] != '/')
		return sbx_error_setc(err, EINVAL,
		                      "hooks.%s[%zu].path: \"%s\" is not an absolute path", kind, i,
		                      path);
	if (json_object_get(e, "timeout") && (timeout <= 0 || timeout > INT_MAX / 1000))
		return sbx_error_setc(err, EINVAL,
		                      "hooks.%s[%zu].timeout: %lld is not a number of seconds "
		                      "greater than zero",
		                      kind, i, (long long)timeout);
	h->path = xstrdup(path);
	h->timeout = (unsigned)timeout;
	if (args && strings(args, kind, i, "args", &h->args, err) < 0)
		return -1;
	if (args == NULL)
		h->args = xcalloc(1, sizeof(char *));
	if (env && strings(env, kind, i, "env", &h->env, err) < 0)
		return -1;
	return 0;
}

int hooks_parse(json_t *j, struct sbx_hooks *out, struct sbx_error **err)
{
	*out = (struct sbx_hooks){0};
	if (j == NULL)
		return 0;
	if (!json_is_object(j))
		return sbx_error_setc(err, EINVAL, "hooks: expected an object");
	const char *key;
	json_t *a;
	json_object_foreach(j, key, a)
	{
		int k = -1;
		for (int n = 0; n < SBX_HOOK_KINDS; n++)
			if (strcmp(key, kind_names[n]) == 0)
				k = n;
		/* An unknown kind could be a step the author relies on. */
		if (k < 0)
			return sbx_error_setc(err, ENOTSUP, "hooks: unknown hook kind \"%s\"", key);
		if (!json_is_array(a))
			return sbx_error_setc(err, EINVAL, "hooks.%s: expected an array", key);
		out->n[k] = json_array_size(a);
		out->list[k] = xcalloc(out->n[k] + 1, sizeof(struct sbx_hook));
		size_t i;
		json_t *e;
		json_array_foreach(a, i, e)
		{
			if (parse_one(e, key, i, &out->list[k][i], err) < 0)
				return -1;
		}
	}
	return 0;
}

void hooks_free(struct sbx_hooks *h)
{
	for (int k = 0; k < SBX_HOOK_KINDS; k++) {
		for (size_t i = 0; i < h->n[k]; i++) {
			free(h->list[k][i].path);
			strv_free(h->list[k][i].args);
			strv_free(h->list[k][i].env);
		}
		free(h->list[k]);
		h->list[k] = NULL;
		h->n[k] = 0;
	}
}

size_t hooks_count(const struct sbx_hooks *h)
{
	size_t n = 0;
	for (int k = 0; k < SBX_HOOK_KINDS; k++)
		n += h->n[k];
	return n;
}

char *hooks_state(json_t *base, const char *status)
{
	_cleanup_json_ json_t *s = json_deep_copy(base);
	json_object_set_new(s, "status", json_string(status));
	return json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* fork-like: a copy of this process's memory, and a pidfd for it. */
static long spawn(int *pidfd)
{
	struct clone_args a = {
	    .flags = pidfd ? CLONE_PIDFD : 0,
	    .pidfd = (unsigned long long)(uintptr_t)pidfd,
	    .exit_signal = SIGCHLD,
	};
	return syscall(SYS_clone3, &a, sizeof(a));
}

_Noreturn static void child_fail(int report)
{
	int e = errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

/* The hook's process: system calls only. In a pid namespace joined by
 * setns, only children are inside: one more process execs the hook, and
 * this one waits for it, dying as it died. */
_Noreturn static void child(const char *path, char *const *argv, char *const *envp, int state_fd,
                            int exe, const struct sbx_hooks_where *w, int report)
{
	/* Nothing of the runtime's but the state and the report pipe, and
	 * none of its blocked signals (sbx blocks those it forwards). */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(state_fd, STDIN_FILENO) < 0)
		child_fail(report);
	if (w->ns_pidfd >= 0) {
		if (setns(w->ns_pidfd, w->ns_flags) < 0)
			child_fail(report);
		/* Its own, with the same path (a script's interpreter opens
		 * /dev/fd/N). */
		if (fcntl(exe, F_SETFD, 0) < 0)
			child_fail(report);
		if (w->ns_flags & CLONE_NEWPID) {
			long pid = spawn(NULL);
			if (pid < 0)
				child_fail(report);
			if (pid > 0) {
				close(report);
				int st;
				while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR)
					;
				if (WIFSIGNALED(st)) {
					signal(WTERMSIG(st), SIG_DFL);
					kill(getpid(), WTERMSIG(st));
				}
				_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 127);
			}
			/* Gone with the process that waits for it. */
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		}
		syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
		child_fail(report);
	}
	execve(path, argv, envp);
	child_fail(report);
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int run_one(const struct sbx_hook *h, const char *kind, size_t i, int state_fd,
                   const struct sbx_hooks_where *w, struct sbx_error **err)
{
	char *default_argv[] = {h->path, NULL};
	char *empty[] = {NULL};
	char *const *argv = h->args && h->args[0] ? h->args : default_argv;
	char *const *envp = h->env ? h->env : w->clean_env ? empty : environ;
	_cleanup_close_ int exe = -1;
	/* Resolved here, before the process enters the container. */
	if (w->ns_pidfd >= 0 && (exe = open(h->path, O_PATH | O_CLOEXEC)) < 0)
		return sbx_error_set(err, errno, "%s hook %zu: cannot execute \"%s\"", kind, i,
		                     h->path);
	int rep[2];
	if (pipe2(rep, O_CLOEXEC | O_NONBLOCK) < 0)
		return sbx_error_set(err, errno, "pipe");
	if (lseek(state_fd, 0, SEEK_SET) < 0) {
		close(rep[0]);
		close(rep[1]);
		return sbx_error_set(err, errno, "cannot rewind the state for the hooks");
	}
	int pidfd = -1;
	long pid = spawn(&pidfd);
	if (pid == 0)
		child(h->path, argv, envp, state_fd, exe, w, rep[1]);
	int spawn_errno = errno;
	close(rep[1]);
	if (pid < 0) {
		close(rep[0]);
		return sbx_error_set(err, spawn_errno, "%s hook %zu: cannot start \"%s\"", kind, i,
		                     h->path);
	}
	bool timed_out = false;
	long long end = h->timeout ? now_ms() + (long long)h->timeout * 1000 : 0;
	for (;;) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		long long left = end ? end - now_ms() : -1;
		int r = poll(&p, 1, end ? (left > 0 ? (int)left : 0) : -1);
		if (r > 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || r < 0) {
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			timed_out = r == 0;
			break;
		}
	}
	siginfo_t si = {0};
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(pidfd);
	int e = 0;
	bool exec_failed = read(rep[0], &e, sizeof(e)) == (ssize_t)sizeof(e);
	close(rep[0]);
	if (timed_out)
		return sbx_error_setc(err, ETIMEDOUT,
		                      "%s hook %zu (\"%s\") did not finish within its timeout of "
		                      "%us and was killed",
		                      kind, i, h->path, h->timeout);
	if (exec_failed)
		return sbx_error_set(err, e, "%s hook %zu: cannot execute \"%s\"", kind, i,
		                     h->path);
	if (si.si_code == CLD_EXITED && si.si_status == 0)
		return 0;
	if (si.si_code == CLD_EXITED)
		return sbx_error_setc(err, ECANCELED, "%s hook %zu (\"%s\") failed: exit status %d",
		                      kind, i, h->path, si.si_status);
	return sbx_error_setc(err, ECANCELED, "%s hook %zu (\"%s\") was killed by signal %d (%s)",
	                      kind, i, h->path, si.si_status, strsignal(si.si_status));
}

int hooks_run(const struct sbx_hooks *h, enum sbx_hook_kind k, const char *state,
              const struct sbx_hooks_where *where, struct sbx_error **err)
{
	if (h == NULL || h->n[k] == 0)
		return 0;
	/* A file, not a pipe: a hook that reads nothing cannot block us. */
	_cleanup_close_ int fd = memfd_create("oci-state", MFD_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot hold the state for the %s hooks",
		                     kind_names[k]);
	if (write_all(fd, state, strlen(state)) < 0)
		return sbx_error_set(err, errno, "cannot hold the state for the %s hooks",
		                     kind_names[k]);
	sbx_trace("running %zu %s hook(s)", h->n[k], kind_names[k]);
	for (size_t i = 0; i < h->n[k]; i++)
		if (run_one(&h->list[k][i], kind_names[k], i, fd, where, err) < 0)
			return -1;
	return 0;
}
