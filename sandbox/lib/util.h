/* util.h - cleanup helpers, allocation, string vectors, strings and small file helpers. */
#ifndef SBX_UTIL_H
#define SBX_UTIL_H

#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/error.h"

#define SBX_EXIT_FAILURE  125 /* sbx itself failed */
#define SBX_EXIT_CANNOT   126 /* command cannot be executed */
#define SBX_EXIT_NOTFOUND 127 /* command not found */
#define SBX_EXIT_USAGE    125 /* misuse: as podman, the same as a failure */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* x86-64: zeroed memory that sbx's entry point does not populate (the
 * large-data section, after .bss): stacks only some starts use. */
#if defined(__x86_64__)
#define SBX_UNPOPULATED __attribute__((section(".lbss")))
#else
#define SBX_UNPOPULATED
#endif

/* Cleanup helpers. */
static inline void sbx_freep(void *p)
{
	free(*(void **)p);
}
static inline void sbx_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void sbx_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void sbx_error_freep(struct sbx_error **e)
{
	sbx_error_free(*e);
}
static inline void sbx_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
static inline void sbx_json_decrefp(json_t **j)
{
	json_decref(*j);
}
void sbx_strv_freep(char ***v);

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(sbx_freep)
#define _cleanup_close_  _cleanup_(sbx_closep)
#define _cleanup_fclose_ _cleanup_(sbx_fclosep)
#define _cleanup_strv_   _cleanup_(sbx_strv_freep)
#define _cleanup_error_  _cleanup_(sbx_error_freep)
#define _cleanup_dir_    _cleanup_(sbx_closedirp)
#define _cleanup_json_   _cleanup_(sbx_json_decrefp)

/* Takes ownership away from a cleanup variable. */
#define steal_ptr(p)                                                                               \
	({                                                                                         \
		__typeof__(p) _tmp = (p);                                                          \
		(p) = NULL;                                                                        \
		_tmp;                                                                              \
	})
#define steal_fd(fd)                                                                               \
	({                                                                                         \
		int _tmp = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_tmp;                                                                              \
	})

/* Allocation that cannot fail (aborts on OOM, like git's xmalloc). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* NULL-terminated string vectors. */
size_t strv_length(char *const *v);
void strv_free(char **v);
/* Appends a copy of s; *v may be NULL. */
void strv_push(char ***v, const char *s);
/* Appends s itself (takes ownership). */
void strv_push_take(char ***v, char *s);
char **strv_copy(char *const *v);
bool strv_contains(char *const *v, const char *s);

bool str_startswith(const char *s, const char *prefix);
bool str_endswith(const char *s, const char *suffix);
/* Edit distance counting a swap of neighbours as one, ignoring case, for
 * "did you mean". */
size_t str_distance(const char *a, const char *b);
/* The closest candidate within a small distance, or NULL. */
const char *str_closest(const char *word, const char *const *candidates, size_t n);
/* The same with the largest distance that still counts as a typo. */
const char *str_closest_within(const char *word, const char *const *candidates, size_t n,
                               size_t limit);

/* Strict number parsing: no junk, no overflow, no sign unless allowed. */
int parse_u64(const char *s, uint64_t *out);
/* Sizes with an optional K/M/G/T suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *out);
int parse_bool(const char *s, bool *out);

/* Reads a whole regular file (at most max bytes, O_CLOEXEC). */
int read_file(const char *path, size_t max, char **out, size_t *len, struct sbx_error **err);
/* The same, path relative to dirfd, opened with flags added (O_NOFOLLOW). */
int read_file_at(int dirfd, const char *path, int flags, size_t max, char **out, size_t *len,
                 struct sbx_error **err);
/* Writes data to path atomically: temp file in the same directory + rename. */
int write_file_atomic(int dirfd, const char *name, const char *data, size_t len, mode_t mode,
                      struct sbx_error **err);
int write_all(int fd, const void *buf, size_t len);
/* Opens path (relative to dirfd, or absolute) O_WRONLY|O_CLOEXEC|flags (e.g.
 * O_NOFOLLOW), writes s whole and closes it: for the one-line files of
 * /proc and cgroupfs. Returns 0, or -errno with errno set. */
int write_string_at(int dirfd, const char *path, const char *s, int flags);
/* Reads fd until EOF (or size - 1 bytes) into buf, NUL-terminated; for the
 * short messages a child sends back through a pipe. Returns the length. */
size_t read_string(int fd, char *buf, size_t size);
/* mkdir -p with the given mode for created components. */
int mkdir_p(const char *path, mode_t mode, struct sbx_error **err);
/* Removes a tree without following symlinks or crossing mounts, fixing
 * permissions the sandbox may have taken away. */
int rm_rf_at(int dirfd, const char *name, struct sbx_error **err);

/* The names in the directory dirfd (no "." or ".."), read before anything
 * in it changes; what names it in errors. */
int dir_list(int dirfd, const char *what, char ***out, struct sbx_error **err);
/* "DIR/NAME", or NAME when dir is "". */
char *path_join(const char *dir, const char *name);

/* The search path when $PATH is unset or empty, sbin included. */
#define PATH_DEFAULT "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* The first executable regular file called name (a file name, no '/') in
 * $PATH's directories, or PATH_DEFAULT's; NULL when there is none. Only
 * absolute entries count: a relative one, and the empty one (the current
 * directory to a shell), are skipped, so a helper is never found through
 * the directory sbx was started in. `sbx doctor` and `sbx run` both ask
 * this, so they agree whether a helper is installed. */
char *path_find(const char *name);

/* sbx's own walks may hold many fds: raise the soft RLIMIT_NOFILE to the
 * hard limit at start, as systemd does, and give the caller's soft limit
 * back before starting a sandbox, whose payload (and the helpers it runs)
 * must get the limit it always got unless its profile sets one. */
void rlimit_nofile_raise(void);
void rlimit_nofile_restore(void);

/* XDG directories, with sbx appended: $XDG_DATA_HOME/sbx,
 * $XDG_CONFIG_HOME/sbx, and the runtime dir (verified, with a safe fallback). */
int xdg_data_dir(char **out, struct sbx_error **err);
int xdg_config_dir(char **out, struct sbx_error **err);
int xdg_cache_dir(char **out, struct sbx_error **err);
int xdg_runtime_dir(char **out, struct sbx_error **err);
/* Where the runtime directory goes without $XDG_RUNTIME_DIR:
 * $XDG_CACHE_HOME/sbx/run (~/.cache/sbx/run). Not created. */
int xdg_runtime_fallback_dir(char **out, struct sbx_error **err);

/* The user name and home directory of uid (either out may be NULL) from
 * /etc/passwd, else from `getent passwd UID` for users of LDAP or sssd: sbx
 * is static and cannot load glibc's NSS modules. Returns 0, or -1 when uid
 * has no entry. */
int passwd_lookup(uid_t uid, char **name, char **home);

/* Expands a leading "~" or "~/" and "$HOME"/"${HOME}" anywhere. */
char *expand_home(const char *s);

/* A name for a profile or an image: no "..", not empty, no leading '-' or
 * '.', no '/', printable. Returns 0 when valid, else -1 with *why set. */
int name_validate(const char *name, const char **why);

bool utf8_valid(const char *s, size_t len);
/* Names from hostile images and layers, and what the sandbox prints, end up
 * on the user's terminal. The one escaper for them: control bytes (C0, DEL,
 * UTF-8 encoded C1) and bytes that are not part of valid UTF-8 become \xNN,
 * so no escape sequence reaches the terminal; valid UTF-8 stays as it is. */
enum str_escape_mode {
	ESCAPE_QUOTED, /* a value inside double quotes in a message: \" and \\ too */
	ESCAPE_BARE,   /* a name in a list or table: \ as \x5c, one line, unambiguous */
	ESCAPE_TEXT,   /* lines of text (logs): \n, \t, "\r\n" and \ as they are */
};
/* Escapes len bytes of s (which may hold NULs). With used set, s is one
 * chunk of a stream: an incomplete UTF-8 character (or "\r") at its end is
 * left for the next chunk and *used says how much was consumed. */
char *str_escape_mem(const char *s, size_t len, enum str_escape_mode mode, size_t *used);
/* str_escape_mem(s, strlen(s), ESCAPE_QUOTED, NULL). */
char *str_escape(const char *s);
/* str_escape_mem(s, strlen(s), ESCAPE_BARE, NULL). */
char *str_escape_bare(const char *s);

/* Debug tracing (--debug): "sbx: [  1.234 ms] MESSAGE" on stderr, timed from
 * the start of the process. Like git's GIT_TRACE, it is diagnostics, not
 * user output. */
extern int sbx_trace_enabled;
void sbx_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s quoted and escaped for a message (str_escape), cut at
 * STR_DISPLAY_MAX bytes (on a character boundary) with "..." after. */
#define STR_DISPLAY_MAX 72
char *str_display(const char *s);
/* Sets *why (allocated) for the value parsers that explain a refusal in a
 * string; returns NULL. */
char *why_set(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Which of names[0..n) s is, in *out; else -1 with *why listing them and,
 * when one is close, "did you mean". */
int str_choice(const char *s, const char *const *names, size_t n, int *out, char **why);

size_t str_count_char(const char *s, char c);

#endif
