/* error.h - errors with context, as crun's libcrun_error_t: a function that
 * can fail returns -1 and fills a struct sbx_error; the first error set is
 * the one reported, and callers up the stack only add context to it. */
#ifndef SBX_ERROR_H
#define SBX_ERROR_H

#include <stdarg.h>

/* An error with context, as crun does: errno (0 when none) plus a message. */
struct sbx_error {
	int code;
	char *msg;
};

/* Fills *err (when err is not NULL and *err is still unset) and returns -1:
 * the first error wins, and a later one changes neither its message nor its
 * code. errnum > 0 appends ": strerror(errnum)" to the message. */
int sbx_error_set(struct sbx_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sbx_error_setv(struct sbx_error **err, int errnum, const char *fmt, va_list ap);
/* The same, recording code as the errno (for callers to test) but leaving
 * the message as it is, for messages that already say what went wrong. */
int sbx_error_setc(struct sbx_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sbx_error_setcv(struct sbx_error **err, int code, const char *fmt, va_list ap);
/* Prefixes an existing error's message with "PREFIX: ". Returns -1. */
int sbx_error_prefix(struct sbx_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbx_error_free(struct sbx_error *e);
/* Prints "sbx: MESSAGE" (or "sbx: CMD: MESSAGE") to stderr. */
void sbx_error_print(const struct sbx_error *e, const char *cmd);

#endif
