/* fuzz-volume.c - the value parsers shared by profiles and options. What
 * parses must print back to a spec that parses the same. */
#define _GNU_SOURCE
#include "profile/profile.h"
#include "lib/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("HOME", "/home/fuzz", 1);
	return 0;
}

static void check(bool cond, const char *what, const char *spec)
{
	if (!cond) {
		fprintf(stderr, "%s: \"%s\"\n", what, spec);
		abort();
	}
}

static void volume(const char *s)
{
	struct sbx_volume v, w;
	char *why = NULL;
	if (profile_parse_volume(s, &v, &why) < 0) {
		check(why != NULL, "volume: no reason", s);
		free(why);
		return;
	}
	char *again = xasprintf("%s:%s:%s", v.src, v.dst, v.ro ? "ro" : "rw");
	check(profile_parse_volume(again, &w, &why) == 0, "volume: printed form refused", again);
	check(strcmp(v.src, w.src) == 0 && strcmp(v.dst, w.dst) == 0 && v.ro == w.ro,
	      "volume: printed form differs", again);
	free(again);
	free(v.src);
	free(v.dst);
	free(w.src);
	free(w.dst);
}

static void tmpfs(const char *s)
{
	struct sbx_tmpfs t, u;
	char *why = NULL;
	if (profile_parse_tmpfs(s, &t, &why) < 0) {
		check(why != NULL, "tmpfs: no reason", s);
		free(why);
		return;
	}
	char *again = xasprintf("%s:size=%llu,mode=%o", t.dst, (unsigned long long)t.size, t.mode);
	check(profile_parse_tmpfs(again, &u, &why) == 0, "tmpfs: printed form refused", again);
	check(strcmp(t.dst, u.dst) == 0 && t.size == u.size && t.mode == u.mode,
	      "tmpfs: printed form differs", again);
	free(again);
	free(t.dst);
	free(u.dst);
}

static void publish(const char *s)
{
	struct sbx_publish x, y;
	char *why = NULL;
	if (net_publish_parse(s, &x, &why) < 0) {
		check(why != NULL, "publish: no reason", s);
		free(why);
		return;
	}
	char *again;
	if (x.host_ip && strchr(x.host_ip, ':'))
		again = xasprintf("[%s]:%u:%u/%s", x.host_ip, x.host_port, x.sandbox_port,
		                  x.udp ? "udp" : "tcp");
	else
		again = xasprintf("%s%s%u:%u/%s", x.host_ip ? x.host_ip : "", x.host_ip ? ":" : "",
		                  x.host_port, x.sandbox_port, x.udp ? "udp" : "tcp");
	check(net_publish_parse(again, &y, &why) == 0, "publish: printed form refused", again);
	check(x.host_port == y.host_port && x.sandbox_port == y.sandbox_port && x.udp == y.udp &&
	          (x.host_ip == NULL) == (y.host_ip == NULL) &&
	          (x.host_ip == NULL || strcmp(x.host_ip, y.host_ip) == 0),
	      "publish: printed form differs", again);
	free(again);
	free(x.host_ip);
	free(y.host_ip);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	char *why = NULL, *kv = NULL;

	volume(s);
	tmpfs(s);
	publish(s);
	if (profile_parse_env(s, &kv, &why) == 0)
		check(strchr(kv, '=') != NULL, "env without =", s);
	free(kv);
	free(why);
	why = NULL;

	enum sbx_net_mode n;
	enum sbx_userns_mode u;
	enum sbx_overlay_backend o;
	bool lo;
	if (net_mode_parse(s, &n, NULL, &why) == 0)
		check(strcmp(net_mode_name(n), s) == 0, "net name", s);
	free(why);
	why = NULL;
	if (net_mode_parse(s, &n, &lo, &why) == 0) {
		/* Formatted back, it parses to the same. */
		char *f = net_mode_format(n, lo);
		enum sbx_net_mode n2;
		bool lo2;
		char *why2 = NULL;
		check(net_mode_parse(f, &n2, &lo2, &why2) == 0 && n2 == n && lo2 == lo,
		      "net format", s);
		free(why2);
		free(f);
	}
	free(why);
	why = NULL;
	(void)profile_parse_userns(s, &u, &why);
	free(why);
	why = NULL;
	if (profile_parse_overlay(s, &o, &why) == 0)
		check(strcmp(profile_overlay_name(o), s) == 0, "overlay name", s);
	free(why);

	/* The command-line forms, on a fresh profile each time. */
	struct sbx_profile *p = profile_new();
	struct sbx_error *err = NULL;
	(void)profile_add_volume(p, s, &err);
	sbx_error_free(err);
	err = NULL;
	(void)profile_add_cap(p, s, size & 1, &err);
	sbx_error_free(err);
	err = NULL;
	(void)profile_set_seccomp(p, s, &err);
	sbx_error_free(err);
	err = NULL;
	(void)profile_set_user(p, s, &err);
	sbx_error_free(err);
	err = NULL;
	(void)profile_set_hostname(p, s, &err);
	sbx_error_free(err);
	profile_free(p);
	free(s);
	return 0;
}
