/* test-state.c - live state under $XDG_RUNTIME_DIR/sbx: the instance lock
 * (held = running), state.json written and read back, what a missing or
 * damaged state reads as, and pidfds that refuse a reused pid. */
#define _GNU_SOURCE
#include "store/state.h"
#include "lib/util.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *base, *runtime;

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (f == NULL || fputs(text, f) < 0)
		abort();
	fclose(f);
}

static void test_dir(void)
{
	struct sbx_error *err = NULL;
	char *dir = NULL;
	ok(state_dir("box", false, &dir, &err) == 0, "state_dir without create");
	char *want = xasprintf("%s/sbx/box", runtime);
	is_str(dir, want, "it is $XDG_RUNTIME_DIR/sbx/NAME");
	struct stat st;
	ok(stat(dir, &st) < 0 && errno == ENOENT, "not created");
	free(dir);
	ok(state_dir("box", true, &dir, &err) == 0, "state_dir with create");
	ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
	   "created, mode 0700");
	free(dir);
	ok(state_dir("box", true, &dir, &err) == 0, "again: an existing directory is fine");
	free(dir);
	free(want);
}

static void test_read_write(void)
{
	struct sbx_error *err = NULL;
	struct sbx_state *s = NULL;

	/* No state: stopped, nothing else. */
	ok(state_read("never", &s, &err) == 0, "missing state reads");
	is_str(s->status, "stopped", "as stopped");
	ok(s->pid == 0 && s->monitor == 0 && !s->has_exit && s->started == NULL &&
	       s->finished == NULL && s->overlay == NULL && s->scratch_fd == -1,
	   "with nothing else set");
	state_free(s);

	struct sbx_state w = {
	    .status = (char *)"running",
	    .pid = 4242,
	    .starttime = 123456789012ULL,
	    .monitor = 4241,
	    .exit_code = 0,
	    .has_exit = false,
	    .started = (char *)"2024-01-02T03:04:05Z",
	    .overlay = (char *)"kernel (userxattr)",
	    .scratch_fd = 7,
	};
	ok(state_write("box", &w, &err) == 0, "state_write");
	char *path = xasprintf("%s/sbx/box/state.json", runtime);
	struct stat st;
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "state.json is mode 0600");
	ok(state_read("box", &s, &err) == 0, "read back");
	is_str(s->status, "running", "status");
	is_int(s->pid, 4242, "pid");
	ok(s->starttime == 123456789012ULL, "starttime");
	is_int(s->monitor, 4241, "monitor");
	ok(!s->has_exit, "no exit code yet");
	is_str(s->started, "2024-01-02T03:04:05Z", "started");
	is_str(s->finished, NULL, "not finished");
	is_str(s->overlay, "kernel (userxattr)", "overlay");
	is_int(s->scratch_fd, 7, "scratch_fd");
	state_free(s);

	/* Stopped, with an exit code of 0 (which must still count as one). */
	w.status = (char *)"stopped";
	w.has_exit = true;
	w.exit_code = 0;
	w.finished = (char *)"2024-01-02T03:04:06Z";
	w.scratch_fd = -1;
	w.overlay = NULL;
	ok(state_write("box", &w, &err) == 0, "rewritten");
	ok(state_read("box", &s, &err) == 0, "read back");
	is_str(s->status, "stopped", "stopped");
	ok(s->has_exit && s->exit_code == 0, "exit code 0 is an exit code");
	is_str(s->finished, "2024-01-02T03:04:06Z", "finished");
	is_str(s->overlay, NULL, "no overlay");
	is_int(s->scratch_fd, -1, "no scratch fd");
	state_free(s);
	w.exit_code = 137;
	ok(state_write("box", &w, &err) == 0 && state_read("box", &s, &err) == 0 &&
	       s->exit_code == 137,
	   "exit code 137");
	state_free(s);

	/* A state of no status reads as stopped. */
	w.status = NULL;
	ok(state_write("box", &w, &err) == 0 && state_read("box", &s, &err) == 0, "no status");
	is_str(s->status, "stopped", "written as stopped");
	state_free(s);

	/* Damaged state (a crash mid-write, a hand edit) is a stopped instance,
	 * never an error or a guess. */
	static const char *const damaged[] = {
	    "",
	    "{\"status\": \"running\", \"pid\": 42",
	    "[1, 2]",
	    "{\"status\": \"running\", \"status\": \"stopped\"}",
	    "\x01\x02garbage",
	};
	for (size_t i = 0; i < ARRAY_SIZE(damaged); i++) {
		spit(path, damaged[i]);
		s = NULL;
		ok(state_read("box", &s, &err) == 0 && s && strcmp(s->status, "stopped") == 0 &&
		       s->pid == 0 && !s->has_exit,
		   "damaged state %zu reads as stopped", i);
		state_free(s);
	}
	/* Wrong types are ignored field by field. */
	spit(path, "{\"status\": 3, \"pid\": \"42\", \"exit_code\": \"1\", \"started\": 5, "
	           "\"scratch_fd\": \"3\"}");
	ok(state_read("box", &s, &err) == 0, "wrong types read");
	ok(strcmp(s->status, "stopped") == 0 && s->pid == 0 && !s->has_exit && s->started == NULL &&
	       s->scratch_fd == -1,
	   "as if absent");
	state_free(s);
	ok(err == NULL, "no error was set on the way");
	free(path);
	state_free(NULL);
}

static void test_lock(void)
{
	struct sbx_error *err = NULL;
	char *dir = xasprintf("%s/inst-a", base);
	mkdir(dir, 0700);

	bool running = true;
	ok(state_is_running(dir, &running, &err) == 0 && !running, "unlocked: not running");
	int fd = -1;
	ok(state_lock(dir, false, &fd, &err) == 0 && fd >= 0, "lock taken");
	ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the lock fd is close-on-exec");
	ok(state_is_running(dir, &running, &err) == 0 && running, "locked: running");

	int fd2 = -1;
	ok(state_lock(dir, false, &fd2, &err) < 0 && fd2 == -1, "a second lock fails at once");
	ok(err && err->code == EBUSY, "with EBUSY");
	is_str(err ? err->msg : NULL, "instance \"inst-a\" is running", "message names it");
	sbx_error_free(err);
	err = NULL;

	/* Another process sees it too, and the kernel drops the lock when the
	 * holder dies, even by SIGKILL. */
	pid_t child = fork();
	if (child == 0) {
		int cfd = -1;
		struct sbx_error *cerr = NULL;
		close(fd);
		/* The parent's fd was inherited: closing this copy keeps the
		 * open file description (and its lock) alive in the parent. */
		if (state_lock(dir, true, &cfd, &cerr) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	usleep(1000);
	close(fd); /* now the child gets it, then dies */
	int status;
	waitpid(child, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "a child waited for the lock, took it, and was killed");
	ok(state_is_running(dir, &running, &err) == 0 && !running, "its death released the lock");
	ok(state_lock(dir, false, &fd, &err) == 0, "the lock is free again");
	close(fd);

	/* Errors: no directory, a symlink to one, a file. */
	char *missing = xasprintf("%s/missing", base);
	ok(state_lock(missing, false, &fd, &err) < 0 && err && err->code == ENOENT,
	   "a missing directory: ENOENT");
	char *want = xasprintf("cannot open \"%s\": No such file or directory", missing);
	is_str(err ? err->msg : NULL, want, "message");
	sbx_error_free(err);
	err = NULL;
	free(want);
	ok(state_is_running(missing, &running, &err) < 0 && err && err->code == ENOENT,
	   "is_running on a missing directory: ENOENT");
	sbx_error_free(err);
	err = NULL;
	char *link = xasprintf("%s/link", base);
	if (symlink(dir, link) < 0)
		abort();
	ok(state_lock(link, false, &fd, &err) < 0, "a symlink to an instance is not followed");
	sbx_error_free(err);
	err = NULL;
	free(link);
	free(missing);
	free(dir);
}

static void test_pidfd(void)
{
	struct sbx_error *err = NULL;
	unsigned long long st = 0;
	ok(state_starttime(getpid(), &st) == 0 && st > 0, "our own start time");
	is_int(state_starttime(0, &st), -ENOENT, "pid 0 has no /proc entry");

	struct sbx_state s = {.pid = 0};
	int pfd = -1;
	ok(state_pidfd(&s, &pfd, &err) < 0 && err && err->code == ESRCH, "no pid: ESRCH");
	is_str(err ? err->msg : NULL, "no process is recorded for this instance", "message");
	sbx_error_free(err);
	err = NULL;

	/* A live process with its recorded start time: a pidfd. */
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	s.pid = child;
	ok(state_starttime(child, &s.starttime) == 0, "the child's start time");
	ok(state_pidfd(&s, &pfd, &err) == 0 && pfd >= 0, "a pidfd for it");
	ok(fcntl(pfd, F_GETFD) & FD_CLOEXEC, "close-on-exec");
	close(pfd);
	/* The same pid with another start time is another process. */
	s.starttime++;
	pfd = -1;
	ok(state_pidfd(&s, &pfd, &err) < 0 && pfd == -1 && err && err->code == ESRCH,
	   "another start time: refused");
	char *want = xasprintf("the instance's process %d is gone (the pid was reused)", child);
	is_str(err ? err->msg : NULL, want, "message");
	free(want);
	sbx_error_free(err);
	err = NULL;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	s.starttime--;
	ok(state_pidfd(&s, &pfd, &err) < 0 && err && err->code == ESRCH, "a reaped process: gone");
	want = xasprintf("the instance's process %d is gone", child);
	is_str(err ? err->msg : NULL, want, "message");
	free(want);
	sbx_error_free(err);
}

static void test_now(void)
{
	char now[32];
	state_now(now);
	regex_t re;
	regcomp(&re, "^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$",
	        REG_EXTENDED | REG_NOSUB);
	ok(regexec(&re, now, 0, NULL, 0) == 0, "state_now is RFC 3339 in UTC: %s", now);
	regfree(&re);
	/* The hand-made calendar agrees with gmtime_r and strftime: the
	 * epoch, leap days, centuries, 2038, and a pseudo-random spread. */
	static const time_t fixed[] = {0,          59,         86399,      86400,       951782400,
	                               951868799,  951868800,  978307199,  1709164800,  2147483647,
	                               2147483648, 4102444800, 4107542399, 253402300799};
	int bad = 0;
	unsigned long long x = 88172645463325252ULL;
	for (size_t i = 0; i < ARRAY_SIZE(fixed) + 2000; i++) {
		time_t t;
		if (i < ARRAY_SIZE(fixed)) {
			t = fixed[i];
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			t = (time_t)(x % 253402300800ULL);
		}
		char got[32], want[32];
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		state_format_utc(t, got);
		if (strcmp(got, want) != 0 && bad++ < 3)
			printf("# %lld: got %s, want %s\n", (long long)t, got, want);
	}
	ok(bad == 0, "state_format_utc matches gmtime_r and strftime (%d differ)", bad);

	/* With nanoseconds: the same seconds (read either side of a clock
	 * tick, so once more if they differ), then nine digits and the Z. */
	char ns[48], before[32], after[32];
	for (int tries = 0; tries < 3; tries++) {
		state_now(before);
		state_now_ns(ns);
		state_now(after);
		if (strcmp(before, after) == 0)
			break;
	}
	size_t sec = strlen(before) - 1;
	bool digits = strlen(ns) == sec + 11 && ns[sec] == '.' && ns[sec + 10] == 'Z';
	for (size_t i = sec + 1; digits && i < sec + 10; i++)
		digits = ns[i] >= '0' && ns[i] <= '9';
	ok(strncmp(ns, before, sec) == 0 && digits, "state_now_ns: %s, seconds as state_now's %s",
	   ns, before);
}

static void rm_tree(const char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", path);
	if (system(cmd) != 0)
		abort();
	free(cmd);
}

int main(void)
{
	char tmpl[] = "/tmp/sbx-test-state-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return 1;
	base = xstrdup(tmpl);
	runtime = xasprintf("%s/run", base);
	mkdir(runtime, 0700);
	setenv("XDG_RUNTIME_DIR", runtime, 1);

	test_dir();
	test_read_write();
	test_lock();
	test_pidfd();
	test_now();

	rm_tree(base);
	free(runtime);
	free(base);
	return done_testing();
}
