/* fuzz-format.c - the --format template parser and renderer: whatever the
 * template, parsing either fails with a message or gives a format whose
 * output over a row is NUL-free text, escaped: no control character but
 * the template's own text reaches the terminal. */
#define _GNU_SOURCE
#include "cli/format.h"
#include "lib/error.h"
#include "lib/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *f_name(const void *src)
{
	return json_string("n\033]0;x\a");
}
static json_t *f_list(const void *src)
{
	return json_pack("[s, i, n, {s:s}]", "a\tb", 7, "k", "\302\233");
}
static json_t *f_state(const void *src)
{
	return json_pack("{s:s, s:i, s:{s:b}}", "status", "exited", "exit_code", 143, "inner",
	                 "deep", 1);
}
static json_t *f_null(const void *src)
{
	return NULL;
}
static char *f_text(json_t *row)
{
	return xstrdup("text\033[2J");
}

static const struct format_field fields[] = {
    {"Name", "name", "NAME", f_name, NULL, 0},  {"List", "list", "LIST", f_list, NULL, 5},
    {"State", "state", NULL, f_state, NULL, 0}, {"Null", "null", "NULL", f_null, f_text, 1},
    {NULL, NULL, NULL, NULL, NULL, 0},
};

static void check(bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "%s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct format *f = NULL;
	struct sbx_error *err = NULL;
	if (format_parse(s, fields, &f, &err) < 0) {
		check(f == NULL && err && err->msg && *err->msg, "a refusal without a message");
		sbx_error_free(err);
		free(s);
		return 0;
	}
	json_t *rows = json_array();
	json_array_append_new(rows, format_object(fields, NULL));
	json_array_append_new(rows, format_object(fields, NULL));
	char *out = NULL;
	if (format_render(f, rows, size & 1, &out, &err) < 0) {
		check(out == NULL && err && err->msg, "a render error without a message");
	} else {
		check(out != NULL, "no output");
		/* Control characters come only from the template's own text. */
		for (const char *c = out; *c; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t' && *c != '\n')
				check(memchr(s, *c, strlen(s)) != NULL,
				      "a control character from a value");
		/* Plain json is exact, as it always was: a C1 control stays
		 * UTF-8 there; {{json}} in a template is ASCII. */
		check(format_kind(f) == FORMAT_JSON || strstr(out, "\302\233") == NULL ||
		          memmem(s, strlen(s), "\302\233", 2),
		      "a C1 control from a value");
	}
	free(out);
	sbx_error_free(err);
	json_decref(rows);
	format_free(f);
	free(s);
	return 0;
}
