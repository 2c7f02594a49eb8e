/* format.c - --format templates: parsed once against a command's field
 * table, so an unknown field is refused before anything is listed, then
 * rendered for each row. */
#define _GNU_SOURCE
#include "cli/format.h"
#include "cli/cmdline.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

enum part_kind { PART_TEXT, PART_FIELD, PART_JSON_ROW, PART_JSON_FIELD };

struct part {
	enum part_kind kind;
	char *text;                       /* PART_TEXT: the literal, escapes done */
	const struct format_field *field; /* PART_FIELD, PART_JSON_FIELD */
	char **sub;                       /* .Field.Sub.More: "Sub", "More" */
	char *label;                      /* ".Field.Sub", for messages and headings */
};

struct format {
	enum format_kind kind;
	bool header;     /* a table: the header line, and aligned columns */
	bool is_default; /* the default table, where fields may be cut */
	struct part *parts;
	size_t n_parts;
	const struct format_field *fields;
};

static size_t count_fields(const struct format_field *fields)
{
	size_t n = 0;
	while (fields[n].name)
		n++;
	return n;
}

static void part_free(struct part *p)
{
	free(p->text);
	strv_free(p->sub);
	free(p->label);
}

void format_free(struct format *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n_parts; i++)
		part_free(&f->parts[i]);
	free(f->parts);
	free(f);
}

enum format_kind format_kind(const struct format *f)
{
	return f->kind;
}

static struct part *add_part(struct format *f, enum part_kind kind)
{
	f->parts = xrealloc(f->parts, (f->n_parts + 1) * sizeof(*f->parts));
	struct part *p = &f->parts[f->n_parts++];
	*p = (struct part){.kind = kind};
	return p;
}

char *format_field_list(const struct format_field *fields)
{
	char *out = xstrdup("");
	for (size_t i = 0; fields[i].name; i++) {
		char *next = xasprintf("%s%s.%s", out, i ? ", " : "", fields[i].name);
		free(out);
		out = next;
	}
	return out;
}

/* Literal text, with \t, \n and \\ as tab, newline and backslash. */
static void add_text(struct format *f, const char *s, size_t len)
{
	if (len == 0)
		return;
	char *t = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && strchr("tn\\", s[i + 1])) {
			i++;
			t[o++] = s[i] == 't' ? '\t' : s[i] == 'n' ? '\n' : '\\';
		} else {
			t[o++] = s[i];
		}
	}
	t[o] = '\0';
	add_part(f, PART_TEXT)->text = t;
}

static bool ident_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || (!first && isdigit((unsigned char)c));
}

/* ".Name.Sub" into its words, or NULL when it is not such a path. */
static char **split_path(const char *s)
{
	char **words = NULL;
	if (*s != '.')
		return NULL;
	while (*s == '.') {
		s++;
		size_t n = 0;
		while (s[n] && ident_char(s[n], n == 0))
			n++;
		if (n == 0) {
			strv_free(words);
			return NULL;
		}
		strv_push_take(&words, xstrndup(s, n));
		s += n;
	}
	if (*s) {
		strv_free(words);
		return NULL;
	}
	return words;
}

const char *format_closest(const char *word, const char *const *names, size_t n)
{
	/* Looser than str_closest's for short words: a swap of two letters
	 * (distance 2) in a four-letter field name is still a typo. */
	size_t len = strlen(word);
	return str_closest_within(word, names, n, len < 3 ? 1 : len / 3 > 2 ? len / 3 : 2);
}

static int unknown_field(const struct format_field *fields, const char *name,
                         struct sbx_error **err)
{
	size_t n = count_fields(fields);
	_cleanup_free_ const char **names = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		names[i] = fields[i].name;
	_cleanup_free_ char *list = format_field_list(fields);
	_cleanup_free_ char *shown = str_escape(name);
	const char *close = format_closest(name, names, n);
	if (close)
		return cmdline_usage(err,
		                     "--format: unknown field \".%s\"; did you mean \".%s\"? The "
		                     "fields are %s",
		                     shown, close, list);
	return cmdline_usage(err, "--format: unknown field \".%s\"; the fields are %s", shown,
	                     list);
}

/* podman's spelling of a field sbx names otherwise: podman's ps has .Names
 * (a container may have several), sbx's one name is .Name. */
static const struct {
	const char *alias, *name;
} field_aliases[] = {{"Names", "Name"}};

/* The field called name in fields, or by one of podman's spellings of it. */
static const struct format_field *find_field(const struct format_field *fields, const char *name)
{
	for (size_t i = 0; fields[i].name; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	for (size_t a = 0; a < ARRAY_SIZE(field_aliases); a++)
		if (strcmp(field_aliases[a].alias, name) == 0)
			return find_field(fields, field_aliases[a].name);
	return NULL;
}

/* One {{action}}: .Field[.Sub...], json . or json .Field. */
static int add_action(struct format *f, const char *s, size_t len, struct sbx_error **err)
{
	_cleanup_free_ char *a = xstrndup(s, len);
	char *start = a, *end = a + strlen(a);
	while (*start == ' ' || *start == '\t')
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	bool json = false;
	const char *path = start;
	if (strncmp(start, "json", 4) == 0 && (start[4] == ' ' || start[4] == '\t')) {
		json = true;
		path = start + 5;
		while (*path == ' ' || *path == '\t')
			path++;
	}
	if (json && strcmp(path, ".") == 0) {
		add_part(f, PART_JSON_ROW)->label = xstrdup("json");
		return 0;
	}
	_cleanup_strv_ char **words = split_path(path);
	if (words == NULL) {
		_cleanup_free_ char *shown = str_escape(start);
		return cmdline_usage(err,
		                     "--format: unsupported template action \"{{%s}}\"; sbx knows "
		                     "{{.Field}}, {{.Field.Sub}}, {{json .}} and {{json .Field}}",
		                     shown);
	}
	const struct format_field *field = find_field(f->fields, words[0]);
	if (field == NULL)
		return unknown_field(f->fields, words[0], err);
	struct part *p = add_part(f, json ? PART_JSON_FIELD : PART_FIELD);
	p->field = field;
	p->label = xstrdup(path);
	p->sub = strv_copy(words + 1);
	return 0;
}

static int parse_template(struct format *f, const char *s, struct sbx_error **err)
{
	for (;;) {
		const char *open = strstr(s, "{{");
		if (open == NULL) {
			add_text(f, s, strlen(s));
			return 0;
		}
		add_text(f, s, (size_t)(open - s));
		const char *close = strstr(open + 2, "}}");
		if (close == NULL)
			return cmdline_usage(err, "--format: \"{{\" without its \"}}\"");
		if (add_action(f, open + 2, (size_t)(close - open - 2), err) < 0)
			return -1;
		s = close + 2;
	}
}

static void default_table(struct format *f)
{
	f->kind = FORMAT_TABLE;
	f->header = true;
	f->is_default = true;
	bool first = true;
	for (size_t i = 0; f->fields[i].name; i++) {
		if (f->fields[i].heading == NULL)
			continue;
		if (!first)
			add_part(f, PART_TEXT)->text = xstrdup("\t");
		first = false;
		struct part *p = add_part(f, PART_FIELD);
		p->field = &f->fields[i];
		p->label = xasprintf(".%s", f->fields[i].name);
	}
}

int format_parse(const char *arg, const struct format_field *fields, struct format **out,
                 struct sbx_error **err)
{
	*out = NULL;
	struct format *f = xcalloc(1, sizeof(*f));
	f->fields = fields;
	int r = 0;
	if (arg == NULL || strcmp(arg, "text") == 0 || strcmp(arg, "table") == 0) {
		default_table(f);
	} else if (strcmp(arg, "json") == 0) {
		f->kind = FORMAT_JSON;
	} else if (strncmp(arg, "table", 5) == 0 && (arg[5] == ' ' || arg[5] == '\t')) {
		const char *t = arg + 5;
		while (*t == ' ' || *t == '\t')
			t++;
		f->kind = FORMAT_TEMPLATE;
		f->header = true;
		if (*t == '\0')
			default_table(f);
		else
			r = parse_template(f, t, err);
	} else if (strstr(arg, "{{")) {
		f->kind = FORMAT_TEMPLATE;
		r = parse_template(f, arg, err);
	} else {
		_cleanup_free_ char *shown = str_escape_bare(arg);
		r = cmdline_usage(err,
		                  "unknown format '%s'; use 'text', 'json' or a template such as "
		                  "'{{.%s}}'",
		                  shown, fields[0].name);
	}
	if (r < 0) {
		format_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

json_t *format_object(const struct format_field *fields, const void *src)
{
	json_t *o = json_object();
	for (size_t i = 0; fields[i].name; i++) {
		json_t *v = fields[i].get(src);
		json_object_set_new(o, fields[i].key, v ? v : json_null());
	}
	return o;
}

/* ---- rendering ---- */

/* "exit_code" as a template names it: "ExitCode". */
static char *camel(const char *key)
{
	char *out = xmalloc(strlen(key) + 1);
	size_t o = 0;
	bool up = true;
	for (const char *k = key; *k; k++) {
		if (*k == '_') {
			up = true;
			continue;
		}
		out[o++] = up ? (char)toupper((unsigned char)*k) : *k;
		up = false;
	}
	out[o] = '\0';
	return out;
}

static json_t *object_field(json_t *o, const char *word)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		_cleanup_free_ char *c = camel(key);
		if (strcmp(key, word) == 0 || strcmp(c, word) == 0)
			return v;
	}
	return NULL;
}

static int resolve(const struct part *p, json_t *row, json_t **out, struct sbx_error **err)
{
	json_t *v = json_object_get(row, p->field->key);
	_cleanup_free_ char *at = xasprintf(".%s", p->field->name);
	for (size_t i = 0; p->sub && p->sub[i]; i++) {
		json_t *next = json_is_object(v) ? object_field(v, p->sub[i]) : NULL;
		if (next == NULL) {
			_cleanup_free_ char *word = str_escape(p->sub[i]);
			return sbx_error_setc(err, EINVAL, "--format: %s has no field \"%s\"", at,
			                      word);
		}
		char *longer = xasprintf("%s.%s", at, p->sub[i]);
		free(at);
		at = longer;
		v = next;
	}
	*out = v;
	return 0;
}

static char *json_text(json_t *v)
{
	if (v == NULL)
		return xstrdup("null");
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	return s ? s : xstrdup("null");
}

/* The plain text of a value, unescaped. */
static char *plain_text(json_t *v)
{
	if (v == NULL)
		return xstrdup("-");
	switch (json_typeof(v)) {
	case JSON_STRING:
		return xstrndup(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return xasprintf("%lld", (long long)json_integer_value(v));
	case JSON_REAL:
		return xasprintf("%g", json_real_value(v));
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	case JSON_ARRAY: {
		char *out = xstrdup("");
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item)
		{
			_cleanup_free_ char *one = plain_text(item);
			char *next = xasprintf("%s%s%s", out, i ? " " : "", one);
			free(out);
			out = next;
		}
		return out;
	}
	case JSON_OBJECT:
		return json_text(v);
	case JSON_NULL:
		break;
	}
	return xstrdup("-");
}

/* Cuts s (valid UTF-8, as escaped) to max characters, "..." last. */
static void cut(char *s, unsigned max)
{
	size_t chars = 0, i = 0;
	size_t keep = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == (max > 3 ? max - 3 : 0))
			keep = i;
		chars++;
	}
	if (chars <= max)
		return;
	memcpy(s + keep, "...", 4);
}

static int render_part(const struct format *f, const struct part *p, json_t *row, bool trunc,
                       char **out, struct sbx_error **err)
{
	if (p->kind == PART_TEXT) {
		*out = xstrdup(p->text);
		return 0;
	}
	if (p->kind == PART_JSON_ROW) {
		*out = json_text(row);
		return 0;
	}
	json_t *v = NULL;
	if (resolve(p, row, &v, err) < 0)
		return -1;
	if (p->kind == PART_JSON_FIELD) {
		*out = json_text(v);
		return 0;
	}
	_cleanup_free_ char *raw = p->sub == NULL || p->sub[0] == NULL
	                               ? (p->field->text ? p->field->text(row) : plain_text(v))
	                               : plain_text(v);
	char *s = str_escape_mem(raw, strlen(raw), ESCAPE_BARE, NULL);
	if (f->is_default && trunc && p->field->trunc)
		cut(s, p->field->trunc);
	*out = s;
	return 0;
}

static char *heading(const struct part *p)
{
	if (p->kind == PART_TEXT)
		return xstrdup(p->text);
	if (p->kind == PART_FIELD && (p->sub == NULL || p->sub[0] == NULL) && p->field->heading)
		return xstrdup(p->field->heading);
	const char *l = p->label[0] == '.' ? p->label + 1 : p->label;
	char *h = xstrdup(l);
	for (char *c = h; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return h;
}

/* Text that grows; its size doubles, so appending stays linear. */
struct text {
	char *s;
	size_t len, cap;
};

static void append_mem(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->s = xrealloc(t->s, t->cap);
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void append(struct text *t, const char *s)
{
	append_mem(t, s, strlen(s));
}

static void append_spaces(struct text *t, size_t n)
{
	for (; n > 0; n--)
		append_mem(t, " ", 1);
}

/* The width of s on a terminal: its characters (escaped text is UTF-8). */
static size_t width(const char *s, size_t len)
{
	size_t w = 0;
	for (size_t i = 0; i < len; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* Lines whose cells are tab-separated, as columns two spaces apart; the
 * last cell of a line is not padded. */
static char *align(const char *text)
{
	_cleanup_free_ size_t *w = NULL;
	size_t ncols = 0;
	for (const char *line = text; *line;) {
		size_t llen = strcspn(line, "\n");
		size_t col = 0;
		for (size_t i = 0, start = 0; i <= llen; i++) {
			if (i < llen && line[i] != '\t')
				continue;
			if (i < llen) { /* a cell with a tab after it */
				if (col >= ncols) {
					w = xrealloc(w, (col + 1) * sizeof(*w));
					w[ncols++] = 0;
				}
				size_t cw = width(line + start, i - start);
				if (cw > w[col])
					w[col] = cw;
			}
			col++;
			start = i + 1;
		}
		line += llen + (line[llen] == '\n');
	}
	struct text out = {0};
	append(&out, "");
	for (const char *line = text; *line;) {
		size_t llen = strcspn(line, "\n");
		size_t col = 0;
		for (size_t i = 0, start = 0; i <= llen; i++) {
			if (i < llen && line[i] != '\t')
				continue;
			append_mem(&out, line + start, i - start);
			if (i < llen)
				append_spaces(&out, w[col] - width(line + start, i - start) + 2);
			col++;
			start = i + 1;
		}
		if (line[llen] == '\n')
			append(&out, "\n");
		line += llen + (line[llen] == '\n');
	}
	return out.s;
}

int format_render(const struct format *f, json_t *rows, bool trunc, char **out,
                  struct sbx_error **err)
{
	*out = NULL;
	if (f->kind == FORMAT_JSON) {
		char *s = json_dumps(rows, JSON_INDENT(2));
		*out = xasprintf("%s\n", s ? s : "[]");
		free(s);
		return 0;
	}
	struct text buf = {0};
	append(&buf, "");
	if (f->header) {
		for (size_t i = 0; i < f->n_parts; i++) {
			_cleanup_free_ char *h = heading(&f->parts[i]);
			append(&buf, h);
		}
		if (buf.len == 0 || buf.s[buf.len - 1] != '\n')
			append(&buf, "\n");
	}
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		size_t at = buf.len;
		for (size_t k = 0; k < f->n_parts; k++) {
			_cleanup_free_ char *s = NULL;
			if (render_part(f, &f->parts[k], row, trunc, &s, err) < 0) {
				free(buf.s);
				return -1;
			}
			append(&buf, s);
		}
		if (buf.len == at || buf.s[buf.len - 1] != '\n')
			append(&buf, "\n");
	}
	if (f->header) {
		*out = align(buf.s);
		free(buf.s);
	} else {
		*out = buf.s;
	}
	return 0;
}
