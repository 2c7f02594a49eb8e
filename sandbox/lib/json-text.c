/* json-text.c - a JSON value as text, as json_dumps(j, JSON_INDENT(2)) writes
 * it, in a fraction of its time: json_dumps checks every object and array
 * for loops through a table keyed by its printed address (a snprintf and a
 * malloc each) and goes through a buffer a byte at a time; config.json, with
 * its seccomp policy, cost sbx 1.7M instructions a start that way. */
#define _GNU_SOURCE
#include "lib/json-text.h"

#include <stdio.h>
#include <string.h>

struct text {
	char *buf;
	size_t len, cap;
	bool too_deep;
	const struct json_text_stand_in *in;
};

/* Deeper than any JSON sbx writes: a loop, which json_dumps refuses too. */
#define MAX_DEPTH 2048

static void grow(struct text *t, size_t n)
{
	if (t->len + n + 1 <= t->cap)
		return;
	t->cap = (t->len + n + 1) * 2;
	t->buf = xrealloc(t->buf, t->cap);
}

static void put(struct text *t, const char *s, size_t n)
{
	grow(t, n);
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static void put_indent(struct text *t, size_t depth)
{
	grow(t, 1 + 2 * depth);
	t->buf[t->len++] = '\n';
	memset(t->buf + t->len, ' ', 2 * depth);
	t->len += 2 * depth;
}

/* jansson's escapes: " and \, the short forms of \b \f \n \r \t, \uXXXX (in
 * upper-case hex) for the other control characters; UTF-8 as it is. */
static void put_string(struct text *t, const char *s, size_t n)
{
	put(t, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(t, s + run, i - run);
		run = i + 1;
		char esc[8];
		switch (c) {
		case '"':
			put(t, "\\\"", 2);
			break;
		case '\\':
			put(t, "\\\\", 2);
			break;
		case '\b':
			put(t, "\\b", 2);
			break;
		case '\f':
			put(t, "\\f", 2);
			break;
		case '\n':
			put(t, "\\n", 2);
			break;
		case '\r':
			put(t, "\\r", 2);
			break;
		case '\t':
			put(t, "\\t", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			put(t, esc, 6);
		}
	}
	put(t, s + run, n - run);
	put(t, "\"", 1);
}

static void put_integer(struct text *t, json_int_t v)
{
	char d[24];
	size_t i = sizeof(d);
	unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		d[--i] = '-';
	put(t, d + i, sizeof(d) - i);
}

/* As jansson: 17 significant digits, ".0" when that reads as an integer,
 * and an exponent without "+" or leading zeros. */
static void put_real(struct text *t, double v)
{
	char d[64];
	int n = snprintf(d, sizeof(d), "%.17g", v);
	if (n <= 0 || (size_t)n >= sizeof(d) - 2)
		return put(t, "0.0", 3);
	if (strspn(d, "-0123456789") == (size_t)n) {
		memcpy(d + n, ".0", 3);
		n += 2;
	}
	char *e = strchr(d, 'e');
	if (e) {
		char *from = e + 1, *to = e + 1;
		if (*from == '-')
			*to++ = *from++;
		else if (*from == '+')
			from++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(d);
	}
	put(t, d, (size_t)n);
}

/* Text written at depth 0, moved to depth: each line break takes the
 * indent of where the value is. */
static void put_reindented(struct text *t, const char *s, size_t n, size_t depth)
{
	const char *end = s + n;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t run = nl ? (size_t)(nl - s) : (size_t)(end - s);
		put(t, s, run);
		if (nl == NULL)
			break;
		put_indent(t, depth);
		s = nl + 1;
	}
}

static void put_value(struct text *t, json_t *j, size_t depth)
{
	if (depth > MAX_DEPTH) {
		t->too_deep = true;
		return;
	}
	if (t->in && j == t->in->value)
		return put_reindented(t, t->in->text, t->in->len, depth);
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		if (json_object_size(j) == 0)
			return put(t, "{}", 2);
		put(t, "{", 1);
		const char *k;
		json_t *v;
		bool first = true;
		json_object_foreach(j, k, v)
		{
			if (!first)
				put(t, ",", 1);
			first = false;
			put_indent(t, depth + 1);
			put_string(t, k, strlen(k));
			put(t, ": ", 2);
			put_value(t, v, depth + 1);
		}
		put_indent(t, depth);
		put(t, "}", 1);
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		if (n == 0)
			return put(t, "[]", 2);
		put(t, "[", 1);
		for (size_t i = 0; i < n; i++) {
			if (i)
				put(t, ",", 1);
			put_indent(t, depth + 1);
			put_value(t, json_array_get(j, i), depth + 1);
		}
		put_indent(t, depth);
		put(t, "]", 1);
		break;
	}
	case JSON_STRING:
		put_string(t, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		put_integer(t, json_integer_value(j));
		break;
	case JSON_REAL:
		put_real(t, json_real_value(j));
		break;
	case JSON_TRUE:
		put(t, "true", 4);
		break;
	case JSON_FALSE:
		put(t, "false", 5);
		break;
	case JSON_NULL:
		put(t, "null", 4);
		break;
	}
}

char *json_text(json_t *j, size_t *len)
{
	return json_text_with(j, NULL, len);
}

char *json_text_with(json_t *j, const struct json_text_stand_in *in, size_t *len)
{
	struct text t = {.in = in};
	grow(&t, 4096 + (in ? in->len + in->len / 8 : 0));
	put_value(&t, j, 0);
	if (t.too_deep) {
		free(t.buf);
		return NULL;
	}
	t.buf[t.len] = '\0';
	if (len)
		*len = t.len;
	return t.buf;
}
