/* format.h - the --format of ps, inspect and image ls: "text" (the default
 * table), "json", or a template, a small subset of Go's as podman takes it:
 * {{.Field}}, {{.Field.Sub}}, {{json .}}, {{json .Field}}, the escapes \t,
 * \n and \\, and a "table " prefix for a header line and aligned columns. */
#ifndef SBX_FORMAT_H
#define SBX_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct sbx_error;

/* One field of a command's rows. A template's {{.Name}}, the JSON key and
 * the default table's column come from one entry, so they cannot drift. A
 * command's table ends with an entry whose name is NULL. */
struct format_field {
	const char *name;    /* in a template: {{.Name}} */
	const char *key;     /* in JSON */
	const char *heading; /* its column in the default table; NULL: not one */
	/* The value of the field for what the command lists (its own type). */
	json_t *(*get)(const void *src);
	/* The text of the field in row, when not the plain form of its value
	 * (a string as it is, a number in decimal, null as "-", an array's
	 * items joined with spaces, an object as JSON). NULL: the plain form. */
	char *(*text)(json_t *row);
	/* In the default table, the text is cut to this many characters, unless
	 * the command's --no-trunc; 0: never. */
	unsigned trunc;
};

enum format_kind { FORMAT_TABLE, FORMAT_JSON, FORMAT_TEMPLATE };

struct format;

/* arg is "text" or "table" (the default table), "json", or a template whose
 * fields must be in fields (a usage error, with the fields, otherwise). */
int format_parse(const char *arg, const struct format_field *fields, struct format **out,
                 struct sbx_error **err);
enum format_kind format_kind(const struct format *f);
void format_free(struct format *f);
static inline void format_freep(struct format **f)
{
	format_free(*f);
}
#define _cleanup_format_ __attribute__((cleanup(format_freep)))

/* The object of one item: every field's key with what its get says. */
json_t *format_object(const struct format_field *fields, const void *src);

/* Renders rows (objects made by format_object) as text: a table in columns
 * two spaces apart, with a header line, or one template a row. Strings are
 * escaped for the terminal (str_escape_mem's ESCAPE_BARE); JSON is ASCII.
 * -1 with *err when a template's .Field.Sub is not in a row. */
int format_render(const struct format *f, json_t *rows, bool trunc, char **out,
                  struct sbx_error **err);

/* The name of names[0..n) closest to word, when one is close enough to be
 * a typo of it (a swap of two letters is), else NULL. */
const char *format_closest(const char *word, const char *const *names, size_t n);

/* The fields as the man pages list them: ".Name, .Image, ...". */
char *format_field_list(const struct format_field *fields);

#endif
