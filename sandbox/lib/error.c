/* error.c - errors with context (see error.h). */
#define _GNU_SOURCE
#include "lib/error.h"
#include "lib/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sbx_error_setv(struct sbx_error **err, int errnum, const char *fmt, va_list ap)
{
	if (err == NULL || *err != NULL)
		return -1;
	char *msg = xvasprintf(fmt, ap);
	if (errnum > 0) {
		char *full = xasprintf("%s: %s", msg, strerror(errnum));
		free(msg);
		msg = full;
	}
	struct sbx_error *e = xcalloc(1, sizeof(*e));
	e->code = errnum;
	e->msg = msg;
	*err = e;
	return -1;
}

int sbx_error_set(struct sbx_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbx_error_setv(err, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int sbx_error_setcv(struct sbx_error **err, int code, const char *fmt, va_list ap)
{
	bool fresh = err != NULL && *err == NULL;
	sbx_error_setv(err, 0, fmt, ap);
	if (fresh)
		(*err)->code = code;
	return -1;
}

int sbx_error_setc(struct sbx_error **err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sbx_error_setcv(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int sbx_error_prefix(struct sbx_error **err, const char *fmt, ...)
{
	if (err == NULL || *err == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *prefix = xvasprintf(fmt, ap);
	va_end(ap);
	char *msg = xasprintf("%s: %s", prefix, (*err)->msg);
	free(prefix);
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

void sbx_error_free(struct sbx_error *e)
{
	if (e == NULL)
		return;
	free(e->msg);
	free(e);
}

void sbx_error_print(const struct sbx_error *e, const char *cmd)
{
	const char *msg = e ? e->msg : "unknown error";
	if (cmd)
		fprintf(stderr, "sbx: %s: %s\n", cmd, msg);
	else
		fprintf(stderr, "sbx: %s\n", msg);
}
