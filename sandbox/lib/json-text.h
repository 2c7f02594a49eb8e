/* json-text.h - a JSON value as text, fast. */
#ifndef SBX_JSON_TEXT_H
#define SBX_JSON_TEXT_H

#include "lib/util.h"

#include <jansson.h>

/* j as json_dumps(j, JSON_INDENT(2)) writes it, byte for byte (keys in
 * their order in the object), NUL-terminated; *len (if len) its length.
 * NULL when j nests deeper than 2048 (a loop). Free with free(). */
char *json_text(json_t *j, size_t *len);

/* A value and its text, as json_text wrote it (at depth 0): json_text_with
 * writes the text where the value is, indented to its place, without
 * walking the value. */
struct json_text_stand_in {
	const json_t *value;
	const char *text;
	size_t len;
};
char *json_text_with(json_t *j, const struct json_text_stand_in *in, size_t *len);

#endif
