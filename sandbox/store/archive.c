/* archive.c - libarchive's reading API over the sbx-unpack helper (see
 * sbx-archive.h and sbx-unpack.h).
 *
 * The helper's output is checked like any other input: a helper that dies or
 * sends garbage is an ARCHIVE_FATAL with a message, and is killed. */
#define _GNU_SOURCE
#include "store/sbx-archive.h"
#include "lib/libexec.h"
#include "libexec/sbx-unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define HELPER "sbx-unpack"

struct archive_entry {
	struct sbx_unpack_header h;
	char *pathname, *symlink, *hardlink;
};

struct archive {
	pid_t pid; /* the helper, until reaped */
	int fd;    /* its output */
	bool dead; /* after ARCHIVE_FATAL, which every call then returns */
	bool eof;
	bool in_entry; /* data records may follow */
	int64_t filter_bytes;
	char *msg; /* archive_error_string() */
	int64_t data_end;
	struct archive_entry entry;
	/* The record read last, still to be taken when pending. */
	bool pending;
	struct sbx_unpack_rec rec;
	char *rec_msg;
	char *body;
	size_t body_cap;
};

/* Looked for at each import: cheap, and the environment may have changed. */
static char *helper_path;

int archive_load(struct sbx_error **err)
{
	char *path = NULL;
	if (libexec_find(HELPER, "the archive helper", &path, err) < 0)
		return -1;
	free(helper_path);
	helper_path = path;
	return 0;
}

static void set_msg(struct archive *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(struct archive *a, const char *fmt, ...)
{
	free(a->msg);
	va_list ap;
	va_start(ap, fmt);
	a->msg = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Reaps the helper, killing it unless it exits within grace_ms. Returns its
 * wait status, or -1 when there is none. */
static int helper_stop(struct archive *a, int grace_ms)
{
	int status = -1;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->pid <= 0)
		return -1;
	/* A pidfd turns readable when the helper exits: no polling loop. */
	if (grace_ms > 0) {
		_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, a->pid, 0);
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		while (pfd >= 0 && poll(&p, 1, grace_ms) < 0 && errno == EINTR)
			;
	}
	pid_t r = waitpid(a->pid, &status, WNOHANG);
	if (r == a->pid || (r < 0 && errno != EINTR)) {
		a->pid = -1;
		return r < 0 ? -1 : status;
	}
	/* Not reaped yet, so the pid is still the helper's. */
	kill(a->pid, SIGKILL);
	while (waitpid(a->pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	a->pid = -1;
	return status;
}

static int fatal(struct archive *a)
{
	helper_stop(a, 0);
	a->dead = true;
	a->pending = false;
	a->in_entry = false;
	return ARCHIVE_FATAL;
}

static int malformed(struct archive *a)
{
	set_msg(a, "the archive helper \"%s\" sent a malformed record", helper_path);
	return fatal(a);
}

/* The helper stopped writing in the middle of the stream. */
static int helper_died(struct archive *a, int errnum)
{
	/* It closed its output, so it is exiting: wait to say why. */
	int status = helper_stop(a, errnum ? 0 : 1000);
	if (errnum)
		set_msg(a, "cannot read from the archive helper \"%s\": %s", helper_path,
		        strerror(errnum));
	else if (status != -1 && WIFSIGNALED(status))
		set_msg(a, "the archive helper \"%s\" was killed by signal %d (%s)", helper_path,
		        WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0)
		set_msg(a, "the archive helper \"%s\" failed with exit status %d", helper_path,
		        WEXITSTATUS(status));
	else
		set_msg(a, "the archive helper \"%s\" stopped early", helper_path);
	return fatal(a);
}

/* 0 when len bytes were read, else an errno, or -1 at end of file. */
static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static size_t body_max(uint32_t type)
{
	switch (type) {
	case SBX_UNPACK_HELLO:
		return sizeof(struct sbx_unpack_hello);
	case SBX_UNPACK_HEADER:
		return sizeof(struct sbx_unpack_header) + 3 * (size_t)SBX_UNPACK_STRING_MAX;
	case SBX_UNPACK_DATA:
		return sizeof(struct sbx_unpack_data) + SBX_UNPACK_DATA_MAX;
	default:
		return 0;
	}
}

/* Reads the next record unless one is pending. ARCHIVE_OK or ARCHIVE_FATAL. */
static int peek(struct archive *a)
{
	if (a->dead)
		return ARCHIVE_FATAL;
	if (a->pending)
		return ARCHIVE_OK;
	struct sbx_unpack_rec *rec = &a->rec;
	int r = read_full(a->fd, rec, sizeof(*rec));
	if (r != 0)
		return helper_died(a, r > 0 ? r : 0);
	if (rec->type < SBX_UNPACK_HELLO || rec->type > SBX_UNPACK_ERROR || rec->msg_len < -1 ||
	    rec->msg_len > (int32_t)SBX_UNPACK_STRING_MAX || rec->body_len > body_max(rec->type))
		return malformed(a);
	free(a->rec_msg);
	a->rec_msg = NULL;
	if (rec->msg_len >= 0) {
		a->rec_msg = xmalloc((size_t)rec->msg_len + 1);
		a->rec_msg[rec->msg_len] = '\0';
		r = read_full(a->fd, a->rec_msg, (size_t)rec->msg_len);
		if (r != 0)
			return helper_died(a, r > 0 ? r : 0);
	}
	if (rec->body_len > a->body_cap) {
		a->body = xrealloc(a->body, rec->body_len);
		a->body_cap = rec->body_len;
	}
	r = read_full(a->fd, a->body, rec->body_len);
	if (r != 0)
		return helper_died(a, r > 0 ? r : 0);
	a->pending = true;
	return ARCHIVE_OK;
}

/* Takes the pending record: its error string and count become current. */
static void take(struct archive *a)
{
	free(a->msg);
	a->msg = steal_ptr(a->rec_msg);
	a->filter_bytes = a->rec.filter_bytes;
	a->pending = false;
}

/* Any other step's return code, which libarchive's caller sees as is. */
static int take_error(struct archive *a)
{
	int code = a->rec.code;
	if (code >= ARCHIVE_OK || a->rec.body_len != 0)
		return malformed(a);
	take(a);
	a->in_entry = false;
	if (code == ARCHIVE_FATAL)
		return fatal(a);
	return code;
}

struct archive *sbx_archive_read_new(void)
{
	struct archive *a = xcalloc(1, sizeof(*a));
	a->pid = -1;
	a->fd = -1;
	return a;
}

static int spawn(struct archive *a, int fd)
{
	if (helper_path == NULL) {
		set_msg(a, "the archive helper was not looked for");
		return -1;
	}
	int p[2] = {-1, -1}, in = -1, out = -1;
	int e = 0;
	/* At 3 or above, so the dup2s below neither clash nor keep O_CLOEXEC. */
	if (pipe2(p, O_CLOEXEC) < 0 || (in = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    (out = fcntl(p[1], F_DUPFD_CLOEXEC, 3)) < 0)
		e = errno;
	if (p[1] >= 0)
		close(p[1]);
	/* Room for many records: fewer switches between helper and sbx. Best
	 * effort, as pipe-max-size and the per-user pipe budget limit it. */
	if (e == 0)
		(void)fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	if (e == 0) {
		posix_spawn_file_actions_init(&fa);
		posix_spawnattr_init(&attr);
		sigset_t none, all;
		sigemptyset(&none);
		sigfillset(&all);
		/* Default dispositions: an ignored SIGPIPE would be inherited. */
		if (posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO) != 0 ||
		    posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO) != 0 ||
		    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0 ||
		    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
		    posix_spawnattr_setsigdefault(&attr, &all) != 0 ||
		    posix_spawnattr_setflags(&attr,
		                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0)
			abort();
		char *argv[] = {HELPER, NULL};
		e = posix_spawn(&a->pid, helper_path, &fa, &attr, argv, environ);
		if (e != 0)
			a->pid = -1;
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (e != 0) {
		if (p[0] >= 0)
			close(p[0]);
		_cleanup_free_ char *dir = libexec_dir();
		set_msg(a,
		        "cannot run the archive helper \"%s\": %s; reinstall sbx ('make install' "
		        "installs it in %s)",
		        helper_path, strerror(e), dir);
		return -1;
	}
	a->fd = p[0];
	return 0;
}

int sbx_archive_read_open_fd(struct archive *a, int fd, size_t block_size)
{
	if (a->dead)
		return ARCHIVE_FATAL;
	if (a->pid > 0 || a->fd >= 0) {
		set_msg(a, "the archive is already open");
		return fatal(a);
	}
	if (spawn(a, fd) < 0)
		return fatal(a);
	struct sbx_unpack_hello hello;
	if (peek(a) != ARCHIVE_OK)
		return ARCHIVE_FATAL;
	if (a->rec.type != SBX_UNPACK_HELLO || a->rec.body_len != sizeof(hello))
		return malformed(a);
	memcpy(&hello, a->body, sizeof(hello));
	if (hello.magic != SBX_UNPACK_MAGIC || hello.version != SBX_UNPACK_VERSION) {
		set_msg(a, "\"%s\" is not the archive helper of this version of sbx", helper_path);
		return fatal(a);
	}
	take(a);
	if (peek(a) != ARCHIVE_OK)
		return ARCHIVE_FATAL;
	if (a->rec.type == SBX_UNPACK_ERROR) {
		int r = take_error(a);
		/* The helper has given up on this archive. */
		fatal(a);
		return r;
	}
	if (a->rec.type != SBX_UNPACK_OPENED || a->rec.body_len != 0)
		return malformed(a);
	int r = a->rec.code;
	take(a);
	return r;
}

static void entry_clear(struct archive_entry *e)
{
	free(e->pathname);
	free(e->symlink);
	free(e->hardlink);
	memset(e, 0, sizeof(*e));
}

/* One of the header's strings, at *pos in the body. */
static int entry_string(struct archive *a, int32_t len, size_t *pos, char **out)
{
	if (len == -1)
		return 0;
	if (len < 0 || (size_t)len > a->rec.body_len - *pos)
		return -1;
	const char *s = a->body + *pos;
	if (memchr(s, '\0', (size_t)len))
		return -1;
	*out = xstrndup(s, (size_t)len);
	*pos += (size_t)len;
	return 0;
}

static int take_header(struct archive *a)
{
	struct archive_entry *e = &a->entry;
	int code = a->rec.code;
	if ((code != ARCHIVE_OK && code != ARCHIVE_WARN) || a->rec.body_len < sizeof(e->h))
		return malformed(a);
	memcpy(&e->h, a->body, sizeof(e->h));
	size_t pos = sizeof(e->h);
	if (entry_string(a, e->h.pathname_len, &pos, &e->pathname) < 0 ||
	    entry_string(a, e->h.symlink_len, &pos, &e->symlink) < 0 ||
	    entry_string(a, e->h.hardlink_len, &pos, &e->hardlink) < 0 || pos != a->rec.body_len)
		return malformed(a);
	take(a);
	a->in_entry = true;
	a->data_end = 0;
	return code;
}

int sbx_archive_read_next_header(struct archive *a, struct archive_entry **e)
{
	entry_clear(&a->entry);
	/* Never a dangling entry, whatever the caller does after an error. */
	*e = &a->entry;
	if (a->fd < 0 && !a->dead) {
		set_msg(a, "the archive is not open");
		return fatal(a);
	}
	for (;;) {
		if (a->eof)
			return ARCHIVE_EOF;
		if (peek(a) != ARCHIVE_OK)
			return ARCHIVE_FATAL;
		switch (a->rec.type) {
		case SBX_UNPACK_DATA:
		case SBX_UNPACK_ENTRY_END:
			/* The rest of an entry the caller did not read. */
			if (!a->in_entry)
				return malformed(a);
			a->in_entry = a->rec.type == SBX_UNPACK_DATA;
			take(a);
			continue;
		case SBX_UNPACK_HEADER:
			if (a->in_entry)
				return malformed(a);
			return take_header(a);
		case SBX_UNPACK_ARCHIVE_END:
			if (a->in_entry || a->rec.code != ARCHIVE_EOF || a->rec.body_len != 0)
				return malformed(a);
			take(a);
			a->eof = true;
			return ARCHIVE_EOF;
		case SBX_UNPACK_ERROR:
			return take_error(a);
		default:
			return malformed(a);
		}
	}
}

int sbx_archive_read_data_block(struct archive *a, const void **buf, size_t *len,
                                la_int64_t *offset)
{
	*buf = NULL;
	*len = 0;
	*offset = a->data_end;
	if (a->dead)
		return ARCHIVE_FATAL;
	if (!a->in_entry)
		return ARCHIVE_EOF;
	if (peek(a) != ARCHIVE_OK)
		return ARCHIVE_FATAL;
	switch (a->rec.type) {
	case SBX_UNPACK_DATA: {
		struct sbx_unpack_data d;
		int code = a->rec.code;
		if ((code != ARCHIVE_OK && code != ARCHIVE_WARN) || a->rec.body_len < sizeof(d))
			return malformed(a);
		memcpy(&d, a->body, sizeof(d));
		size_t n = a->rec.body_len - sizeof(d);
		if (d.offset < 0 || d.offset > INT64_MAX - (int64_t)n)
			return malformed(a);
		take(a);
		*buf = a->body + sizeof(d);
		*len = n;
		*offset = d.offset;
		a->data_end = d.offset + (int64_t)n;
		return code;
	}
	case SBX_UNPACK_ENTRY_END:
		if (a->rec.code != ARCHIVE_EOF || a->rec.body_len != 0)
			return malformed(a);
		take(a);
		a->in_entry = false;
		return ARCHIVE_EOF;
	case SBX_UNPACK_ERROR:
		return take_error(a);
	default:
		return malformed(a);
	}
}

int sbx_archive_read_free(struct archive *a)
{
	if (a == NULL)
		return ARCHIVE_OK;
	helper_stop(a, 0);
	entry_clear(&a->entry);
	free(a->msg);
	free(a->rec_msg);
	free(a->body);
	free(a);
	return ARCHIVE_OK;
}

const char *sbx_archive_error_string(struct archive *a)
{
	return a->msg;
}

la_int64_t sbx_archive_filter_bytes(struct archive *a, int n)
{
	return a->filter_bytes;
}

mode_t sbx_archive_entry_filetype(struct archive_entry *e)
{
	return (mode_t)e->h.filetype & AE_IFMT;
}

mode_t sbx_archive_entry_perm(struct archive_entry *e)
{
	return (mode_t)e->h.perm & ~(mode_t)AE_IFMT;
}

la_int64_t sbx_archive_entry_size(struct archive_entry *e)
{
	return e->h.size;
}

int sbx_archive_entry_size_is_set(struct archive_entry *e)
{
	return (e->h.flags & SBX_UNPACK_SIZE_SET) != 0;
}

time_t sbx_archive_entry_mtime(struct archive_entry *e)
{
	return (time_t)e->h.mtime;
}

long sbx_archive_entry_mtime_nsec(struct archive_entry *e)
{
	return (long)e->h.mtime_nsec;
}

int sbx_archive_entry_mtime_is_set(struct archive_entry *e)
{
	return (e->h.flags & SBX_UNPACK_MTIME_SET) != 0;
}

time_t sbx_archive_entry_atime(struct archive_entry *e)
{
	return (time_t)e->h.atime;
}

long sbx_archive_entry_atime_nsec(struct archive_entry *e)
{
	return (long)e->h.atime_nsec;
}

int sbx_archive_entry_atime_is_set(struct archive_entry *e)
{
	return (e->h.flags & SBX_UNPACK_ATIME_SET) != 0;
}

const char *sbx_archive_entry_pathname(struct archive_entry *e)
{
	return e->pathname;
}

const char *sbx_archive_entry_symlink(struct archive_entry *e)
{
	return e->symlink;
}

const char *sbx_archive_entry_hardlink(struct archive_entry *e)
{
	return e->hardlink;
}
