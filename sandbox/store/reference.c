/* reference.c - image references in a registry (see reference.h). */
#define _GNU_SOURCE
#include "store/reference.h"
#include "lib/util.h"

#include <ctype.h>
#include <string.h>

#define DOCKER  "docker://"
#define TAG_MAX 128

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A path component, docker's [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*. */
static bool valid_component(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !is_lower_alnum(s[j]))
			j++;
		size_t len = j - i;
		bool dashes = strspn(s + i, "-") >= len;
		if (!(len == 1 && (s[i] == '.' || s[i] == '_')) &&
		    !(len == 2 && s[i] == '_' && s[i + 1] == '_') && !dashes)
			return false;
		i = j;
	}
	return true;
}

/* A registry host, [A-Za-z0-9.-]+ without an empty label, with an optional
 * :PORT. */
static bool valid_host(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t h = colon ? (size_t)(colon - s) : n;
	if (h == 0 || s[0] == '.' || s[0] == '-' || s[h - 1] == '.' || s[h - 1] == '-')
		return false;
	for (size_t i = 0; i < h; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    !(s[i] == '.' && s[i + 1] != '.'))
			return false;
	if (colon) {
		size_t p = n - h - 1;
		if (p == 0 || p > 5)
			return false;
		for (size_t i = h + 1; i < n; i++)
			if (!isdigit((unsigned char)s[i]))
				return false;
	}
	return true;
}

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TAG_MAX || t[0] == '.' || t[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr("_.-", t[i]))
			return false;
	return true;
}

/* ALGORITHM:HEX, with at least 32 hex digits. */
static bool valid_digest(const char *d)
{
	const char *colon = strchr(d, ':');
	if (colon == NULL || colon == d || strlen(colon + 1) < 32)
		return false;
	for (const char *p = d; p < colon; p++)
		if (!is_lower_alnum(*p) && !strchr("+._-", *p))
			return false;
	for (const char *p = colon + 1; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return false;
	return true;
}

static bool names_host(const char *first, size_t len)
{
	return memchr(first, '.', len) || memchr(first, ':', len) ||
	       (len == strlen("localhost") && strncmp(first, "localhost", len) == 0);
}

bool reference_has_host(const char *ref)
{
	if (str_startswith(ref, DOCKER))
		ref += strlen(DOCKER);
	const char *slash = strchr(ref, '/');
	return slash && names_host(ref, (size_t)(slash - ref));
}

char *reference_normalize(const char *ref)
{
	if (str_startswith(ref, DOCKER))
		ref += strlen(DOCKER);
	const char *at = strchr(ref, '@');
	if (at && !valid_digest(at + 1))
		return NULL;
	_cleanup_free_ char *name = at ? xstrndup(ref, (size_t)(at - ref)) : xstrdup(ref);
	char *last = strrchr(name, '/');
	char *tag = strchr(last ? last : name, ':');
	if (tag) {
		*tag++ = '\0';
		if (!valid_tag(tag))
			return NULL;
	}
	const char *host = REFERENCE_DEFAULT_HOST, *path = name;
	size_t host_len = strlen(host);
	char *slash = strchr(name, '/');
	if (slash && names_host(name, (size_t)(slash - name))) {
		if (!valid_host(name, (size_t)(slash - name)))
			return NULL;
		host = name;
		host_len = (size_t)(slash - name);
		path = slash + 1;
		if (host_len == strlen("index.docker.io") &&
		    strncmp(host, "index.docker.io", host_len) == 0) {
			host = REFERENCE_DEFAULT_HOST;
			host_len = strlen(host);
		}
	}
	for (const char *c = path;;) {
		const char *end = strchrnul(c, '/');
		if (!valid_component(c, (size_t)(end - c)))
			return NULL;
		if (*end == '\0')
			break;
		c = end + 1;
	}
	bool library = strchr(path, '/') == NULL && host_len == strlen(REFERENCE_DEFAULT_HOST) &&
	               strncmp(host, REFERENCE_DEFAULT_HOST, host_len) == 0;
	return xasprintf("%.*s/%s%s%s%s%s%s", (int)host_len, host, library ? "library/" : "", path,
	                 tag || !at ? ":" : "",
	                 tag  ? tag
	                 : at ? ""
	                      : "latest",
	                 at ? "@" : "", at ? at + 1 : "");
}
