/* test-json-text.c - json_text writes what json_dumps(j, JSON_INDENT(2))
 * writes, byte for byte: the default seccomp policy, escapes, numbers and
 * empty containers; and refuses a loop. json_text_with writes a stand-in's
 * text, re-indented, where its value is. */
#define _GNU_SOURCE
#include "lib/json-text.h"
#include "runtime/seccomp.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void same(json_t *j, const char *what)
{
	_cleanup_free_ char *want = json_dumps(j, JSON_INDENT(2));
	size_t len = 0;
	_cleanup_free_ char *got = json_text(j, &len);
	ok(want && got && strcmp(want, got) == 0 && len == strlen(want), "%s", what);
	if (want && got && strcmp(want, got) != 0)
		printf("# want %s\n# got  %s\n", want, got);
}

int main(void)
{
	_cleanup_json_ json_t *pol = seccomp_default_json();
	same(pol, "the default seccomp policy");

	_cleanup_json_ json_t *s = json_object();
	json_object_set_new(s, "plain", json_string("abc"));
	json_object_set_new(s, "escapes", json_string("q\" b\\ \b\f\n\r\t / \x7f"));
	json_object_set_new(s, "utf-8", json_string("\u00e9 \u00fc \u2603 \U0001d11e"));
	json_object_set_new(s, "nul", json_stringn("a\0b", 3));
	json_object_set_new(s, "empty array", json_array());
	json_object_set_new(s, "empty object", json_object());
	json_object_set_new(s, "mixed", json_pack("[{}, [], n, b, b]", 1, 0));
	json_object_set_new(s, "min", json_integer(INT64_MIN));
	json_object_set_new(s, "max", json_integer(INT64_MAX));
	json_object_set_new(s, "zero", json_integer(0));
	json_object_set_new(s, "neg", json_integer(-42));
	json_object_set_new(s, "control", json_string("\x01\x1f"));
	json_object_set_new(s, "key \"quoted\"\n", json_integer(1));
	same(s, "escapes, numbers and empty containers");

	_cleanup_json_ json_t *r =
	    json_pack("[f, f, f, f, f, f]", 1.0, 0.5, -2.25, 1e300, 3e-7, -1e100);
	same(r, "reals");

	_cleanup_json_ json_t *e = json_pack("[s, {s:s}]", "", "", "");
	same(e, "empty strings and keys");

	/* A loop: two arrays that hold each other. */
	json_t *a = json_array(), *b = json_array();
	json_array_append(a, b);
	json_array_append(b, a);
	char *text = json_text(a, NULL);
	ok(text == NULL, "a loop is refused");
	free(text);
	json_array_clear(b);
	json_decref(b);
	json_decref(a);

	/* A stand-in: its text goes where the value is, indented to its
	 * depth, as if the value itself were there. */
	_cleanup_json_ json_t *inner = json_pack("{s:[i,{s:s}],s:{}}", "a", 1, "b", "c", "d");
	_cleanup_json_ json_t *holder = json_object();
	_cleanup_json_ json_t *whole =
	    json_pack("{s:s,s:{s:O,s:[O]}}", "x", "y", "deep", "v", holder, "list", holder);
	_cleanup_free_ char *inner_text = json_text(inner, NULL);
	struct json_text_stand_in in = {holder, inner_text, strlen(inner_text)};
	size_t len = 0;
	_cleanup_free_ char *got = json_text_with(whole, &in, &len);
	json_object_set(json_object_get(whole, "deep"), "v", inner);
	json_array_set(json_object_get(json_object_get(whole, "deep"), "list"), 0, inner);
	_cleanup_free_ char *want = json_dumps(whole, JSON_INDENT(2));
	ok(got && want && strcmp(got, want) == 0 && len == strlen(want),
	   "a stand-in's text is written where it stands, at its depth");
	if (got && want && strcmp(got, want) != 0)
		printf("# want %s\n# got  %s\n", want, got);
	return done_testing();
}
