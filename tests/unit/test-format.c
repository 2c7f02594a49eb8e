/* test-format.c - --format templates: the default table and its columns
 * sized from the content, "table" templates with a header, plain templates
 * a line a row, \t \n \\ escapes, {{json}}, nested fields, values escaped for
 * the terminal, cut columns, and the refusals with their messages. */
#define _GNU_SOURCE
#include "cli/format.h"
#include "lib/error.h"
#include "lib/util.h"
#include "tap.h"

struct item {
	const char *name;
	int code;
	bool has_code;
	const char *cmd;
};

static json_t *t_name(const void *src)
{
	return json_string(((const struct item *)src)->name);
}
static json_t *t_code(const void *src)
{
	const struct item *i = src;
	return i->has_code ? json_integer(i->code) : json_null();
}
static json_t *t_cmd(const void *src)
{
	return json_pack("[s, s]", "sh", ((const struct item *)src)->cmd);
}
static json_t *t_state(const void *src)
{
	return json_pack("{s:i, s:s}", "exit_code", ((const struct item *)src)->code, "status",
	                 "exited");
}
static char *t_code_text(json_t *row)
{
	json_t *c = json_object_get(row, "exit_code");
	return json_is_integer(c) ? xasprintf("(%lld)", (long long)json_integer_value(c))
	                          : xstrdup("none");
}

static const struct format_field fields[] = {
    {"Name", "name", "NAME", t_name, NULL, 0},
    {"Code", "exit_code", "CODE", t_code, t_code_text, 0},
    {"Command", "command", "COMMAND", t_cmd, NULL, 10},
    {"State", "state", NULL, t_state, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};

static json_t *rows(void)
{
	static const struct item items[] = {
	    {"a", 3, true, "exit 3"},
	    {"a-much-longer-name", 0, false, "sleep 1000000"},
	    {"esc\033[2J", 1, true, "x"},
	};
	json_t *r = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(items); i++)
		json_array_append_new(r, format_object(fields, &items[i]));
	return r;
}

/* The text of arg over rows(), or the error's message. */
static char *render(const char *arg, bool trunc)
{
	struct format *f = NULL;
	struct sbx_error *err = NULL;
	char *out = NULL;
	json_t *r = rows();
	if (format_parse(arg, fields, &f, &err) < 0 || format_render(f, r, trunc, &out, &err) < 0)
		out = xasprintf("error: %s", err->msg);
	json_decref(r);
	format_free(f);
	sbx_error_free(err);
	return out;
}

static void check(const char *arg, bool trunc, const char *want, const char *what)
{
	char *got = render(arg, trunc);
	is_str(got, want, "%s", what);
	free(got);
}

int main(void)
{
	check(NULL, true,
	      "NAME                CODE  COMMAND\n"
	      "a                   (3)   sh exit 3\n"
	      "a-much-longer-name  none  sh slee...\n"
	      "esc\\x1b[2J          (1)   sh x\n",
	      "default table: columns as wide as their longest cell, cut where the table says");
	check("table", false,
	      "NAME                CODE  COMMAND\n"
	      "a                   (3)   sh exit 3\n"
	      "a-much-longer-name  none  sh sleep 1000000\n"
	      "esc\\x1b[2J          (1)   sh x\n",
	      "\"table\" is the default table; without trunc nothing is cut");
	char *text = render("text", true), *deflt = render(NULL, true);
	is_str(text, deflt, "\"text\" is the default table");
	free(text);
	free(deflt);
	check("{{.Name}}", true, "a\na-much-longer-name\nesc\\x1b[2J\n",
	      "a template: a line a row, values escaped");
	check("{{.Name}}:{{.Code}}\\t{{ .State.ExitCode }}\\n", true,
	      "a:(3)\t3\na-much-longer-name:none\t0\nesc\\x1b[2J:(1)\t1\n",
	      "\\t and \\n, a nested field in CamelCase, spaces in the action");
	check("table {{.Name}}\\t{{.State.Status}}", true,
	      "NAME                STATE.STATUS\n"
	      "a                   exited\n"
	      "a-much-longer-name  exited\n"
	      "esc\\x1b[2J          exited\n",
	      "a table template: headings, aligned columns");
	check("{{json .Command}} {{json .Code}}", true,
	      "[\"sh\",\"exit 3\"] 3\n[\"sh\",\"sleep 1000000\"] null\n[\"sh\",\"x\"] 1\n",
	      "{{json .Field}}");
	check("{{json .}}", true,
	      "{\"name\":\"a\",\"exit_code\":3,\"command\":[\"sh\",\"exit 3\"],\"state\":{"
	      "\"exit_code\":3,\"status\":\"exited\"}}\n"
	      "{\"name\":\"a-much-longer-name\",\"exit_code\":null,\"command\":[\"sh\",\"sleep "
	      "1000000\"],\"state\":{\"exit_code\":0,\"status\":\"exited\"}}\n"
	      "{\"name\":\"esc\\u001B[2J\",\"exit_code\":1,\"command\":[\"sh\",\"x\"],\"state\":{"
	      "\"exit_code\":1,\"status\":\"exited\"}}\n",
	      "{{json .}}: the row, one line, control characters in JSON's escapes");
	check("{{.State}}", true,
	      "{\"exit_code\":3,\"status\":\"exited\"}\n{\"exit_code\":0,\"status\":\"exited\"}\n"
	      "{\"exit_code\":1,\"status\":\"exited\"}\n",
	      "an object's plain form is JSON");
	check("a\\\\t}}{{.Name}}", true, "a\\t}}a\na\\t}}a-much-longer-name\na\\t}}esc\\x1b[2J\n",
	      "\\\\ is a backslash; a lone }} is text");

	check("{{.Nmae}}", true,
	      "error: --format: unknown field \".Nmae\"; did you mean \".Name\"? The fields are "
	      ".Name, .Code, .Command, .State",
	      "an unknown field: did you mean, and the fields");
	check("{{.name}}", true,
	      "error: --format: unknown field \".name\"; did you mean \".Name\"? The fields are "
	      ".Name, .Code, .Command, .State",
	      "fields are case-sensitive, as in Go");
	check("{{.Zzzzzzz}}", true,
	      "error: --format: unknown field \".Zzzzzzz\"; the fields are .Name, .Code, .Command, "
	      ".State",
	      "an unknown field with nothing close");
	check("{{.State.Nope}}", true, "error: --format: .State has no field \"Nope\"",
	      "a nested field that is not there");
	check("{{.Name.Sub}}", true, "error: --format: .Name has no field \"Sub\"",
	      "a field of a string");
	check("{{.Name", true, "error: --format: \"{{\" without its \"}}\"", "an unclosed action");
	check("{{upper .Name}}", true,
	      "error: --format: unsupported template action \"{{upper .Name}}\"; sbx knows "
	      "{{.Field}}, {{.Field.Sub}}, {{json .}} and {{json .Field}}",
	      "a function sbx does not have");
	check("{{.}}", true,
	      "error: --format: unsupported template action \"{{.}}\"; sbx knows {{.Field}}, "
	      "{{.Field.Sub}}, {{json .}} and {{json .Field}}",
	      "{{.}} is not in the subset");
	check("{{}}", true,
	      "error: --format: unsupported template action \"{{}}\"; sbx knows {{.Field}}, "
	      "{{.Field.Sub}}, {{json .}} and {{json .Field}}",
	      "an empty action");
	check("{{.Na\033me}}", true,
	      "error: --format: unsupported template action \"{{.Na\\x1bme}}\"; sbx knows "
	      "{{.Field}}, {{.Field.Sub}}, {{json .}} and {{json .Field}}",
	      "the action is escaped in the message");
	check("yaml", true,
	      "error: unknown format 'yaml'; use 'text', 'json' or a template such as '{{.Name}}'",
	      "neither a format nor a template");

	/* json is the command's to print; format_render gives it indented. */
	char *json = render("json", true);
	json_error_t je;
	json_t *back = json_loads(json, 0, &je);
	ok(json_is_array(back) && json_array_size(back) == 3, "json: the rows as an array");
	ok(json_equal(json_object_get(json_array_get(back, 1), "exit_code"), json_null()),
	   "json: null stays null");
	json_decref(back);
	free(json);

	char *list = format_field_list(fields);
	is_str(list, ".Name, .Code, .Command, .State", "the field list, for the man pages");
	free(list);

	static const char *const names[] = {"name", "status"};
	is_str(format_closest("nmae", names, 2), "name", "closest: a swap");
	is_str(format_closest("stat", names, 2), "status", "closest: two letters short");
	is_str(format_closest("xyz", names, 2), NULL, "closest: nothing");
	return done_testing();
}
