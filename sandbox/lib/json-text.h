/* json-text.h - a JSON value as text, fast. */
#ifndef SBX_JSON_TEXT_H
#define SBX_JSON_TEXT_H

#include "lib/util.h"

#include <jansson.h>

/* j as json_dumps(j, JSON_INDENT(2)) writes it, byte for byte (keys in
 * their order in the object), NUL-terminated; *len (if len) its length.
 * NULL when j nests deeper than 2048 (a loop). Free with free(). */
char *json_text(json_t *j, size_t *len);

#endif
