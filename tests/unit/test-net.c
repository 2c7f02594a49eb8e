/* test-net.c - published ports as annotations, parsing the runtime's network
 * settings, the OCI side (mounts, annotations), and choosing a helper. */
#define _GNU_SOURCE
#include "runtime/config.h"
#include "runtime/net.h"
#include "profile/oci.h"
#include "profile/profile.h"
#include "tap.h"

#include <errno.h>
#include <sched.h>
#include <sys/stat.h>

static void test_format(void)
{
	struct sbx_publish p[3] = {
	    {.host_ip = NULL, .host_port = 8080, .sandbox_port = 80},
	    {.host_ip = (char *)"127.0.0.1", .host_port = 5353, .sandbox_port = 53, .udp = true},
	    {.host_ip = (char *)"::1", .host_port = 8443, .sandbox_port = 443},
	};
	ok(net_publish_format(p, 0) == NULL, "no ports: NULL");
	char *s = net_publish_format(p, 3);
	is_str(s, "8080:80/tcp,127.0.0.1:5353:53/udp,[::1]:8443:443/tcp", "formatted");

	/* What the runtime reads back is what the profile held. */
	struct sbx_net_config c;
	struct sbx_error *err = NULL;
	ok(net_config_parse("pasta", s, "/tmp/x", true, &c, &err) == 0, "parsed back");
	is_int(c.mode, SBX_NET_PASTA, "mode pasta");
	is_int(c.n_publish, 3, "three ports");
	ok(c.publish[0].host_ip == NULL && c.publish[0].host_port == 8080 &&
	       c.publish[0].sandbox_port == 80 && !c.publish[0].udp,
	   "8080:80/tcp");
	ok(c.publish[1].udp && c.publish[1].host_port == 5353, "udp kept");
	is_str(c.publish[1].host_ip, "127.0.0.1", "IPv4 address kept");
	is_str(c.publish[2].host_ip, "::1", "IPv6 address kept");
	is_str(c.dir, "/tmp/x", "directory kept");
	char *again = net_publish_format(c.publish, c.n_publish);
	is_str(again, s, "round trip");
	free(again);
	net_config_free(&c);
	free(s);
}

static void test_parse_errors(void)
{
	struct sbx_net_config c;
	struct sbx_error *err = NULL;

	ok(net_config_parse(NULL, NULL, NULL, true, &c, &err) == 0 && c.mode == SBX_NET_NONE,
	   "no annotation, a network namespace: none");
	net_config_free(&c);
	ok(net_config_parse(NULL, NULL, NULL, false, &c, &err) == 0 && c.mode == SBX_NET_HOST,
	   "no annotation, no network namespace: host");
	net_config_free(&c);

#define BAD(mode, pub, dir, netns, want)                                                           \
	do {                                                                                       \
		err = NULL;                                                                        \
		ok(net_config_parse(mode, pub, dir, netns, &c, &err) < 0, "refused: %s", want);    \
		is_str(err ? err->msg : NULL, want, "message");                                    \
		sbx_error_free(err);                                                               \
	} while (0)
	BAD("bogus", NULL, NULL, true,
	    "annotations: run.sbx.network \"bogus\": expected none, host, pasta, slirp4netns or "
	    "auto");
	BAD("host", NULL, NULL, true,
	    "annotations: network \"host\" conflicts with a network namespace in "
	    "linux.namespaces");
	BAD("pasta", NULL, "/d", false,
	    "annotations: network \"pasta\" needs a network namespace in linux.namespaces");
	BAD("none", "8080:80", NULL, true,
	    "annotations: run.sbx.network.publish needs a user-mode network, not \"none\"");
	BAD("pasta", "8080:80,x", "/d", true,
	    "annotations: run.sbx.network.publish \"x\": expected "
	    "[IP:]HOSTPORT:SANDBOXPORT[/tcp|udp]");
	BAD("slirp4netns", NULL, NULL, true,
	    "annotations: network \"slirp4netns\" needs run.sbx.network.dir, the directory for "
	    "its files");
	BAD("pasta:host-lo", NULL, "/d", true,
	    "annotations: run.sbx.network \"pasta:host-lo\": unknown option \"host-lo\" "
	    "(expected host-loopback)");
	BAD("none:host-loopback", NULL, NULL, true,
	    "annotations: run.sbx.network \"none:host-loopback\": host-loopback needs a "
	    "user-mode network (pasta, slirp4netns or auto)");
	BAD("pasta", "8080:80,127.0.0.1:8080:81", "/d", true,
	    "annotations: run.sbx.network.publish \"127.0.0.1:8080:81\": host port 8080/tcp is "
	    "already published by \"8080:80/tcp\"");

	ok(net_config_parse("slirp4netns:host-loopback", "8080:80,8080:80/udp", "/d", true, &c,
	                    &err) == 0 &&
	       c.mode == SBX_NET_SLIRP4NETNS && c.host_loopback && c.n_publish == 2,
	   "host-loopback, and one port for each protocol");
	net_config_free(&c);
	ok(net_config_parse("pasta", NULL, "/d", true, &c, &err) == 0 && !c.host_loopback,
	   "no host loopback unless asked");
	net_config_free(&c);
}

static void test_oci(void)
{
	struct sbx_profile *p = profile_new();
	struct sbx_error *err = NULL;
	p->net = SBX_NET_PASTA;
	ok(profile_add_publish(p, "8080:80", &err) == 0, "--publish 8080:80");
	struct sbx_oci_input in = {.profile = p, .rootfs = "/nonexistent", .etc_dir = "/inst"};
	json_t *j = NULL;
	ok(oci_build(&in, &j, &err) == 0, "built");
	json_t *ann = json_object_get(j, "annotations");
	is_str(json_string_value(json_object_get(ann, SBX_ANN_PUBLISH)), "8080:80/tcp",
	       "publish annotation");
	is_str(json_string_value(json_object_get(ann, SBX_ANN_NETWORK_DIR)), "/inst",
	       "directory annotation");
	is_str(json_string_value(json_object_get(ann, SBX_ANN_NETWORK)), "pasta",
	       "network annotation");
	int found = 0;
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(j, "mounts"), i, m)
	{
		const char *dst = json_string_value(json_object_get(m, "destination"));
		const char *src = json_string_value(json_object_get(m, "source"));
		if (strcmp(dst, "/etc/hosts") == 0 && strcmp(src, "/inst/hosts") == 0)
			found |= 1;
		if (strcmp(dst, "/etc/resolv.conf") == 0 && strcmp(src, "/inst/resolv.conf") == 0)
			found |= 2;
	}
	is_int(found, 3, "hosts and resolv.conf are bound from the instance directory");

	struct sbx_config *c = NULL;
	ok(config_parse(j, &c, &err) == 0, "the runtime reads it");
	if (c) {
		is_int(c->net.mode, SBX_NET_PASTA, "runtime: pasta");
		is_int(c->net.n_publish, 1, "runtime: one port");
		is_str(c->net.dir, "/inst", "runtime: directory");
		ok(!c->net.host_loopback, "runtime: no host loopback");
		config_free(c);
	}
	json_decref(j);

	/* The host loopback travels with the mode, as --network spells it. */
	p->host_loopback = true;
	ok(oci_build(&in, &j, &err) == 0, "built with host_loopback");
	ann = json_object_get(j, "annotations");
	is_str(json_string_value(json_object_get(ann, SBX_ANN_NETWORK)), "pasta:host-loopback",
	       "network annotation with host-loopback");
	c = NULL;
	ok(config_parse(j, &c, &err) == 0 && c->net.mode == SBX_NET_PASTA && c->net.host_loopback,
	   "runtime: pasta with the host loopback");
	config_free(c);
	json_decref(j);
	profile_free(p);
}

static void test_resolve(void)
{
	enum sbx_net_mode m = SBX_NET_AUTO;
	struct sbx_error *err = NULL;
	ok(net_resolve(SBX_NET_NONE, &m, &err) == 0 && m == SBX_NET_NONE, "none needs nothing");
	ok(net_resolve(SBX_NET_HOST, &m, &err) == 0 && m == SBX_NET_HOST, "host needs nothing");
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	char dir[] = "/tmp/sbx-test-net.XXXXXX";
	ok(mkdtemp(dir) != NULL, "an empty directory");
	setenv("PATH", dir, 1);
	ok(net_resolve(SBX_NET_AUTO, &m, &err) < 0, "auto without helpers fails");
	is_str(err ? err->msg : NULL,
	       "network \"auto\": neither \"pasta\" nor \"slirp4netns\" was found in $PATH; hint: "
	       "install the \"passt\" or \"slirp4netns\" package, or use --network none",
	       "message");
	sbx_error_free(err);
	err = NULL;
	ok(net_resolve(SBX_NET_PASTA, &m, &err) < 0, "pasta not in $PATH fails");
	is_str(err ? err->msg : NULL,
	       "network \"pasta\": \"pasta\" was not found in $PATH; hint: install the \"passt\" "
	       "package, or use --network none",
	       "message");
	sbx_error_free(err);
	rmdir(dir);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
}

int main(void)
{
	test_format();
	test_parse_errors();
	test_oci();
	test_resolve();
	return done_testing();
}
