/* test-profile.c - profiles: value parsers, inih traps, diagnostics,
 * inheritance, lookup and the dump round trip. */
#define _GNU_SOURCE
#include "runtime/caps.h"
#include "profile/profile.h"
#include "tap.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

static char *top; /* the checkout, for the shipped profiles */
static char *tmp; /* a scratch tree with config/, etc/ */

static char *diag_join(struct sbx_diag *d)
{
	char *out = NULL;
	size_t cap = 0;
	FILE *f = open_memstream(&out, &cap);
	for (size_t i = 0; d->lines && d->lines[i]; i++)
		fprintf(f, "%s%s", i ? "\n" : "", d->lines[i]);
	fclose(f);
	return out;
}

/* Loads text as "t.ini"; returns the profile or NULL, and the diagnostics. */
static struct sbx_profile *load_n(const char *text, size_t len, char **diags, char **errmsg)
{
	struct sbx_diag d = {0};
	struct sbx_error *err = NULL;
	struct sbx_profile *p = NULL;
	int r = profile_load_string("t.ini", text, len, &p, &d, &err);
	*diags = diag_join(&d);
	if (errmsg)
		*errmsg = err ? xstrdup(err->msg) : NULL;
	diag_clear(&d);
	sbx_error_free(err);
	return r == 0 ? p : NULL;
}

static struct sbx_profile *load_s(const char *text, char **diags)
{
	return load_n(text, strlen(text), diags, NULL);
}

#define DIAG_IS(text, want, ...)                                                                   \
	do {                                                                                       \
		char *_d = NULL;                                                                   \
		struct sbx_profile *_p = load_s(text, &_d);                                        \
		ok(_p == NULL, "fails: " __VA_ARGS__);                                             \
		is_str(_d, want, __VA_ARGS__);                                                     \
		free(_d);                                                                          \
		profile_free(_p);                                                                  \
	} while (0)

/* Loads text that must be fine. */
static struct sbx_profile *load_ok(const char *text, const char *name)
{
	char *d = NULL;
	struct sbx_profile *p = load_s(text, &d);
	ok(p != NULL, "loads: %s", name);
	if (p == NULL)
		printf("#   %s\n", d);
	free(d);
	return p;
}

static void write_text(const char *path, const char *text)
{
	struct sbx_error *err = NULL;
	char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755, &err) < 0)
		abort();
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	free(dir);
}

static void test_defaults(void)
{
	struct sbx_profile *p = profile_new();
	ok(p->ns_pid && p->ns_ipc && p->ns_uts && p->ns_cgroup, "defaults: all namespaces");
	is_int(p->userns, SBX_USERNS_SINGLE, "defaults: userns single");
	is_int(p->net, SBX_NET_NONE, "defaults: network none");
	is_int(p->rootfs, SBX_ROOTFS_OVERLAY, "defaults: overlay root");
	is_str(p->workdir, "/", "defaults: workdir");
	is_str(p->hostname, "sbx", "defaults: hostname");
	ok(p->user == NULL && p->init, "defaults: root, sbx's init as pid 1");
	ok(p->caps_base == SBX_CAPS_DEFAULT && p->seccomp == SBX_SECCOMP_DEFAULT &&
	       p->no_new_privileges,
	   "defaults: caps, seccomp, no_new_privileges");
	ok(p->n_rlimits == 0 && p->memory == 0 && p->pids == 0, "defaults: no limits");
	profile_free(p);
	profile_free(NULL);
}

static void vol_ok(const char *spec, const char *src, const char *dst, bool ro)
{
	struct sbx_volume v;
	char *why = NULL;
	int r = profile_parse_volume(spec, &v, &why);
	ok(r == 0, "volume %s parses", spec);
	if (r == 0) {
		is_str(v.src, src, "volume %s: src", spec);
		is_str(v.dst, dst, "volume %s: dst", spec);
		is_int(v.ro, ro, "volume %s: ro", spec);
		free(v.src);
		free(v.dst);
	} else {
		printf("#   %s\n", why);
	}
	free(why);
}

static void vol_bad(const char *spec, const char *want)
{
	struct sbx_volume v;
	char *why = NULL;
	ok(profile_parse_volume(spec, &v, &why) < 0, "volume %s refused", spec);
	is_str(why, want, "volume %s: message", spec);
	free(why);
}

static void test_volume(void)
{
	vol_ok("/a:/b", "/a", "/b", false);
	vol_ok("/a:/b:ro", "/a", "/b", true);
	vol_ok("/a:/b:rw", "/a", "/b", false);
	vol_ok("/a/:/b//c/./d/", "/a", "/b/c/d", false);
	vol_ok("~/src:/src:ro", "/home/test/src", "/src", true);
	vol_ok("$HOME/x:/x", "/home/test/x", "/x", false);
	vol_ok("/proc:/host-proc:ro", "/proc", "/host-proc", true);
	vol_ok("/a:/devices", "/a", "/devices", false);
	/* Commas belong to the options only (found by fuzz-volume). */
	vol_ok("/a,,b:/c,,d:ro", "/a,,b", "/c,,d", true);
	vol_ok("/a:/c,", "/a", "/c,", false);
	vol_bad("/a", "expected SRC:DST[:ro|rw]");
	vol_bad("/a:/b:ro,rw", "only one of ro and rw may be given");
	vol_bad("/a:/b:rx", "unknown option \"rx\" (expected ro or rw)");
	vol_bad("/a:/b:", "empty option after ':' (expected ro or rw)");
	vol_bad("/a:/b:ro,", "empty option (expected ro or rw)");
	vol_bad("/a:b", "the destination must be an absolute path");
	vol_bad("/a:/x/../etc", "the destination must not contain \"..\"");
	vol_bad("/a:/", "cannot mount over \"/\"");
	vol_bad("/a://", "cannot mount over \"/\"");
	vol_bad("/a:/proc", "cannot mount over /proc (sbx sets up /proc, /sys and /dev itself)");
	vol_bad("/a:/sys/fs", "cannot mount over /sys (sbx sets up /proc, /sys and /dev itself)");
	vol_bad("/a:/dev//shm/",
	        "cannot mount over /dev (sbx sets up /proc, /sys and /dev itself)");
	vol_bad("foo:/bar", "the source must be an absolute path (or start with ~)");
	vol_bad("./foo:/bar", "the source must be an absolute path (or start with ~)");
	vol_bad(":/bar", "the source is empty");
	vol_bad("/a::ro", "the destination is empty");
	vol_bad("/a:b:/c:/d", "too many ':'; a path containing ':' cannot be used in a volume");
	vol_bad("/a:/b\tc", "the destination contains a control character");
	vol_bad("/a /:/b", "the source ends with a space, which a profile cannot keep");
	vol_bad("/a:/b /", "the destination ends with a space, which a profile cannot keep");

	/* On the command line ./x is relative to the working directory. */
	struct sbx_profile *p = profile_new();
	struct sbx_error *err = NULL;
	char *cwd = get_current_dir_name();
	ok(profile_add_volume(p, "./share:/share:ro", &err) == 0, "--volume ./share accepted");
	char *want = xasprintf("%s/share", cwd);
	ok(p->n_volumes == 1 && strcmp(p->volumes[0].src, want) == 0 && p->volumes[0].ro,
	   "--volume ./share is made absolute");
	ok(profile_add_volume(p, "foo:/bar", &err) < 0, "--volume foo:/bar refused");
	is_str(err ? err->msg : NULL,
	       "--volume \"foo:/bar\": the source must be an absolute path (or start with ~ or ./)",
	       "--volume message names the option");
	sbx_error_free(err);
	err = NULL;
	ok(profile_add_volume(p, "/other:/share", &err) == 0 && p->n_volumes == 1 &&
	       strcmp(p->volumes[0].src, "/other") == 0 && !p->volumes[0].ro,
	   "--volume at the same destination replaces");
	ok(profile_add_tmpfs(p, "/share", &err) == 0 && p->n_volumes == 0 && p->n_tmpfs == 1,
	   "--tmpfs at a volume's destination replaces it");
	free(want);
	free(cwd);
	profile_free(p);
}

static void test_tmpfs(void)
{
	struct sbx_tmpfs t;
	char *why = NULL;
	ok(profile_parse_tmpfs("/tmp", &t, &why) == 0 && t.size == 0 && t.mode == 01777 &&
	       strcmp(t.dst, "/tmp") == 0,
	   "tmpfs /tmp: defaults");
	free(t.dst);
	ok(profile_parse_tmpfs("/run/x/:size=64M,mode=755", &t, &why) == 0 &&
	       t.size == 64ull << 20 && t.mode == 0755 && strcmp(t.dst, "/run/x") == 0,
	   "tmpfs with size and mode");
	free(t.dst);
	ok(profile_parse_tmpfs("/t:mode=0700", &t, &why) == 0 && t.mode == 0700 && t.size == 0,
	   "tmpfs with mode only");
	free(t.dst);
	static const struct {
		const char *spec, *why;
	} bad[] = {
	    {"tmp", "the destination must be an absolute path"},
	    {"/dev/shm", "cannot mount over /dev (sbx sets up /proc, /sys and /dev itself)"},
	    {"/t:size=-1", "size=-1: must not be negative"},
	    {"/t:size=12Q", "size=12Q: expected a size such as 512K, 64M or 2G"},
	    {"/t:size=99999999999999999999", "size=99999999999999999999: number too large"},
	    {"/t:mode=99", "mode=99: expected an octal mode such as 1777"},
	    {"/t:mode=17777", "mode=17777: expected an octal mode such as 1777"},
	    {"/t:uid=0", "unknown option \"uid=0\" (expected size=SIZE or mode=OCTAL)"},
	    {"/t:size=1M,size=2M", "size given twice"},
	    {"/t:", "empty option (expected size=SIZE or mode=OCTAL)"},
	    {"/t:size=1M,", "empty option (expected size=SIZE or mode=OCTAL)"},
	    {"/t:a:b", "too many ':'; expected DST[:size=SIZE][,mode=OCTAL]"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		ok(profile_parse_tmpfs(bad[i].spec, &t, &why) < 0, "tmpfs %s refused", bad[i].spec);
		is_str(why, bad[i].why, "tmpfs %s: message", bad[i].spec);
		free(why);
	}
}

static void test_env(void)
{
	char *kv = NULL, *why = NULL;
	ok(profile_parse_env("A_1=x=y", &kv, &why) == 0 && strcmp(kv, "A_1=x=y") == 0,
	   "env A_1=x=y");
	free(kv);
	ok(profile_parse_env("_EMPTY=", &kv, &why) == 0 && strcmp(kv, "_EMPTY=") == 0,
	   "env with an empty value");
	free(kv);
	ok(profile_parse_env("1A=b", &kv, &why) < 0, "env 1A refused");
	is_str(why, "\"1A\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)",
	       "env 1A: message");
	free(why);
	why = NULL;
	ok(profile_parse_env("NOVALUE", &kv, &why) < 0, "env without = refused");
	is_str(why, "expected KEY=VALUE", "env without =: message");
	free(why);
	why = NULL;
	ok(profile_parse_env("=x", &kv, &why) < 0, "env with an empty name refused");
	free(why);

	struct sbx_profile *p = profile_new();
	struct sbx_error *err = NULL;
	ok(profile_add_env(p, "A=1", &err) == 0 && profile_add_env(p, "B=2", &err) == 0 &&
	       profile_add_env(p, "A=3", &err) == 0,
	   "--env three times");
	ok(strv_length(p->env) == 2 && strcmp(p->env[0], "A=3") == 0 &&
	       strcmp(p->env[1], "B=2") == 0,
	   "--env replaces a variable in place");
	ok(profile_add_env(p, "A-B=1", &err) < 0, "--env A-B refused");
	is_str(err ? err->msg : NULL,
	       "--env \"A-B=1\": \"A-B\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)",
	       "--env message");
	sbx_error_free(err);
	profile_free(p);
}

static void test_publish(void)
{
	struct sbx_publish x;
	char *why = NULL;
	ok(net_publish_parse("8080:80", &x, &why) == 0 && x.host_ip == NULL &&
	       x.host_port == 8080 && x.sandbox_port == 80 && !x.udp,
	   "publish 8080:80");
	ok(net_publish_parse("127.0.0.1:53:5353/udp", &x, &why) == 0 && x.host_ip &&
	       strcmp(x.host_ip, "127.0.0.1") == 0 && x.host_port == 53 && x.sandbox_port == 5353 &&
	       x.udp,
	   "publish 127.0.0.1:53:5353/udp");
	free(x.host_ip);
	ok(net_publish_parse("[0:0::1]:1:65535/tcp", &x, &why) == 0 && x.host_ip &&
	       strcmp(x.host_ip, "::1") == 0 && x.sandbox_port == 65535,
	   "publish [::1] canonicalised");
	free(x.host_ip);
	static const struct {
		const char *spec, *why;
	} bad[] = {
	    {"80", "expected [IP:]HOSTPORT:SANDBOXPORT[/tcp|udp]"},
	    {"0:80", "host port \"0\" is not a number from 1 to 65535"},
	    {"1:65536", "sandbox port \"65536\" is not a number from 1 to 65535"},
	    {"1:x", "sandbox port \"x\" is not a number from 1 to 65535"},
	    {"1:2/sctp", "unknown protocol \"sctp\" (expected tcp or udp)"},
	    {"300.1.1.1:1:2", "\"300.1.1.1\" is not an IPv4 address"},
	    {"::1:1:2", "put an IPv6 address in brackets: [::1]:HOSTPORT:SANDBOXPORT"},
	    {"[::1:1:2", "expected [IPV6]:HOSTPORT:SANDBOXPORT"},
	    {"[1.2.3.4]:1:2", "\"1.2.3.4\" is not an IPv6 address"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		ok(net_publish_parse(bad[i].spec, &x, &why) < 0, "publish %s refused", bad[i].spec);
		is_str(why, bad[i].why, "publish %s: message", bad[i].spec);
		free(why);
	}

	struct sbx_profile *p = profile_new();
	struct sbx_error *err = NULL;
	ok(profile_add_publish(p, "8080:80", &err) == 0, "--publish accepted");
	ok(profile_validate(p, &err) < 0, "--publish with network none refused");
	is_str(err ? err->msg : NULL,
	       "--publish needs a user-mode network (--network pasta, slirp4netns or auto); "
	       "network \"none\" has no route from the host",
	       "--publish with none: message");
	sbx_error_free(err);
	err = NULL;
	p->net = SBX_NET_HOST;
	ok(profile_validate(p, &err) < 0, "--publish with network host refused");
	sbx_error_free(err);
	err = NULL;
	p->net = SBX_NET_PASTA;
	ok(profile_validate(p, &err) == 0, "--publish with pasta fine");

	/* One host port, twice on the command line. */
	ok(profile_add_publish(p, "8080:81", &err) < 0, "--publish of the same host port refused");
	is_str(err ? err->msg : NULL,
	       "--publish \"8080:81\": host port 8080/tcp is already published by --publish "
	       "\"8080:80/tcp\"; choose another host port",
	       "--publish twice: message");
	sbx_error_free(err);
	err = NULL;
	ok(profile_add_publish(p, "127.0.0.1:8080:82", &err) < 0,
	   "--publish of one address of a port on all addresses refused");
	sbx_error_free(err);
	err = NULL;
	ok(profile_add_publish(p, "8080:80/udp", &err) == 0 &&
	       profile_add_publish(p, "8081:80", &err) == 0 && p->n_publish == 3,
	   "another protocol or port is fine");
	profile_free(p);

	/* Overlaps, address by address. */
	static const struct {
		const char *a, *b;
		bool overlap;
	} pairs[] = {
	    {"8080:80", "8080:81", true},
	    {"8080:80", "8080:80/udp", false},
	    {"8080:80", "8081:80", false},
	    {"8080:80", "127.0.0.1:8080:80", true},
	    {"8080:80", "[::1]:8080:80", true},
	    {"0.0.0.0:8080:80", "127.0.0.1:8080:80", true},
	    {"0.0.0.0:8080:80", "[::1]:8080:80", false},
	    {"[::]:8080:80", "[::1]:8080:80", true},
	    {"[::]:8080:80", "127.0.0.1:8080:80", false},
	    {"127.0.0.1:8080:80", "127.0.0.2:8080:80", false},
	    {"127.0.0.1:8080:80", "127.0.0.1:8080:81", true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct sbx_publish a, b;
		why = NULL;
		ok(net_publish_parse(pairs[i].a, &a, &why) == 0 &&
		       net_publish_parse(pairs[i].b, &b, &why) == 0,
		   "parsed %s and %s", pairs[i].a, pairs[i].b);
		ok(net_publish_overlap(&a, &b) == pairs[i].overlap &&
		       net_publish_overlap(&b, &a) == pairs[i].overlap,
		   "%s and %s: %s", pairs[i].a, pairs[i].b, pairs[i].overlap ? "overlap" : "apart");
		free(a.host_ip);
		free(b.host_ip);
	}
}

static void test_enums(void)
{
	enum sbx_net_mode n;
	enum sbx_userns_mode u;
	enum sbx_overlay_backend o;
	char *why = NULL;
	bool lo = true;
	ok(net_mode_parse("slirp4netns", &n, NULL, &why) == 0 && n == SBX_NET_SLIRP4NETNS,
	   "net slirp4netns");
	ok(net_mode_parse("auto", &n, &lo, &why) == 0 && n == SBX_NET_AUTO && !lo,
	   "net auto: no host loopback");
	ok(net_mode_parse("pastaa", &n, NULL, &why) < 0, "net pastaa refused");
	is_str(why, "expected none, host, pasta, slirp4netns or auto; did you mean \"pasta\"?",
	       "net: accepted list and suggestion");
	free(why);
	why = NULL;
	ok(net_mode_parse("bridge", &n, NULL, &why) < 0, "net bridge refused");
	is_str(why, "expected none, host, pasta, slirp4netns or auto", "net: no suggestion");
	free(why);
	why = NULL;
	static const struct {
		const char *s;
		enum sbx_net_mode mode;
		bool lo;
	} good[] = {
	    {"pasta:host-loopback", SBX_NET_PASTA, true},
	    {"slirp4netns:host-loopback", SBX_NET_SLIRP4NETNS, true},
	    {"auto:host-loopback,host-loopback", SBX_NET_AUTO, true},
	    {"host", SBX_NET_HOST, false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		lo = !good[i].lo;
		ok(net_mode_parse(good[i].s, &n, &lo, &why) == 0 && n == good[i].mode &&
		       lo == good[i].lo,
		   "net %s", good[i].s);
	}
	char *f = net_mode_format(SBX_NET_SLIRP4NETNS, true);
	is_str(f, "slirp4netns:host-loopback", "net format with host loopback");
	free(f);
	f = net_mode_format(SBX_NET_PASTA, false);
	is_str(f, "pasta", "net format without");
	free(f);
	static const struct {
		const char *s, *why;
		bool options;
	} bad[] = {
	    {"pasta:host-loopback",
	     "expected the mode alone; options have keys of their own, "
	     "such as host_loopback = true",
	     false},
	    {"pasta:", "unknown option \"\" (expected host-loopback)", true},
	    {"pasta:loopback", "unknown option \"loopback\" (expected host-loopback)", true},
	    {"pasta:host-loopback,", "unknown option \"\" (expected host-loopback)", true},
	    {"none:host-loopback",
	     "host-loopback needs a user-mode network (pasta, slirp4netns or auto)", true},
	    {"host:host-loopback",
	     "host-loopback needs a user-mode network (pasta, slirp4netns or auto)", true},
	    {"pastaa:host-loopback",
	     "expected none, host, pasta, slirp4netns or auto; did you mean \"pasta\"?", true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		n = SBX_NET_NONE;
		lo = false;
		ok(net_mode_parse(bad[i].s, &n, bad[i].options ? &lo : NULL, &why) < 0 &&
		       n == SBX_NET_NONE && !lo,
		   "net %s refused, nothing set", bad[i].s);
		is_str(why, bad[i].why, "net %s: message", bad[i].s);
		free(why);
		why = NULL;
	}
	ok(profile_parse_userns("subid", &u, &why) == 0 && u == SBX_USERNS_SUBID, "userns subid");
	ok(profile_parse_userns("", &u, &why) < 0, "userns empty refused");
	free(why);
	why = NULL;
	ok(profile_parse_overlay("fuse", &o, &why) == 0 && o == SBX_OVERLAY_FUSE, "overlay fuse");
	ok(profile_parse_overlay("FUSE", &o, &why) < 0, "overlay values are case-sensitive");
	is_str(why, "expected auto, kernel or fuse; did you mean \"fuse\"?", "overlay suggestion");
	free(why);
	is_str(net_mode_name(SBX_NET_PASTA), "pasta", "profile_net_name");
	is_str(profile_overlay_name(SBX_OVERLAY_KERNEL), "kernel", "profile_overlay_name");
}

static const struct sbx_rlimit *rlimit(const struct sbx_profile *p, int res)
{
	for (size_t i = 0; i < p->n_rlimits; i++)
		if (p->rlimits[i].resource == res)
			return &p->rlimits[i];
	return NULL;
}

static void test_values(void)
{
	struct sbx_profile *p =
	    load_ok("[limits]\nmemory = 64M\npids = 100\nnofile = 256:1024\nas = 1G\n"
	            "stack = unlimited\ncore = 0\ncpu = 10:unlimited\n"
	            "[process]\nuser = 1000:1000\nhostname = web-1.example\nworkdir = /srv//app/\n"
	            "init = no\n[namespaces]\npid = off\nipc = 0\nuser = subid\n"
	            "[security]\nno_new_privileges = false\ncapabilities = none\n",
	            "limits and process values");
	if (p) {
		ok(p->memory == 64ull << 20 && p->pids == 100, "memory and pids");
		const struct sbx_rlimit *r = rlimit(p, RLIMIT_NOFILE);
		ok(r && r->soft == 256 && r->hard == 1024, "nofile SOFT:HARD");
		r = rlimit(p, RLIMIT_AS);
		ok(r && r->soft == 1ull << 30 && r->hard == 1ull << 30, "as with a G suffix");
		r = rlimit(p, RLIMIT_STACK);
		ok(r && r->soft == UINT64_MAX && r->hard == UINT64_MAX, "stack unlimited");
		r = rlimit(p, RLIMIT_CPU);
		ok(r && r->soft == 10 && r->hard == UINT64_MAX, "cpu 10:unlimited");
		r = rlimit(p, RLIMIT_CORE);
		ok(r && r->soft == 0, "core 0");
		is_str(p->user, "1000:1000", "user");
		is_str(p->hostname, "web-1.example", "hostname");
		is_str(p->workdir, "/srv/app", "workdir normalised");
		ok(!p->init && !p->ns_pid && !p->ns_ipc && p->userns == SBX_USERNS_SUBID,
		   "booleans and userns");
		ok(!p->no_new_privileges && p->caps_base == SBX_CAPS_NONE, "security values");
	}
	profile_free(p);

	DIAG_IS("[limits]\nnofile = 1K\n", "t.ini:2: error: invalid nofile \"1K\": not a number",
	        "nofile takes no suffix");
	DIAG_IS(
	    "[limits]\nnofile = 512:256\n",
	    "t.ini:2: error: invalid nofile \"512:256\": the soft limit is above the hard limit",
	    "soft above hard");
	DIAG_IS("[limits]\nmemory = 0\n",
	        "t.ini:2: error: invalid memory \"0\": must be greater than 0 (leave it empty for "
	        "no limit)",
	        "memory 0");
	DIAG_IS("[limits]\nmemory = 5Q\n",
	        "t.ini:2: error: invalid memory \"5Q\": expected a size such as 512K, 64M or 2G",
	        "memory with a bad suffix");
	DIAG_IS("[limits]\nmemory = 99999999999T\n",
	        "t.ini:2: error: invalid memory \"99999999999T\": number too large",
	        "memory overflow through the suffix");
	DIAG_IS("[process]\nhostname = -bad\n",
	        "t.ini:2: error: invalid hostname \"-bad\": a hostname must not start or end with "
	        "'-' or '.', nor contain \"..\"",
	        "hostname starting with -");
	DIAG_IS("[process]\nhostname = a_b\n",
	        "t.ini:2: error: invalid hostname \"a_b\": a hostname may only contain letters, "
	        "digits, '-' and '.'",
	        "hostname with _");
	DIAG_IS("[process]\nuser = 1000:1000:1\n",
	        "t.ini:2: error: invalid user \"1000:1000:1\": expected UID[:GID] or NAME[:GROUP]",
	        "user with two colons");
	DIAG_IS("[process]\nworkdir = srv\n",
	        "t.ini:2: error: invalid workdir \"srv\": the working directory must be an "
	        "absolute path",
	        "relative workdir");
	DIAG_IS("[filesystem]\nmask = /\n",
	        "t.ini:2: error: invalid mask \"/\": the path must not be \"/\"", "mask /");
	/* Normalised, it would end with a space, which a dump could not keep
	 * (found by fuzz-profile). */
	DIAG_IS("[filesystem]\nreadonly = /etmp= /\n",
	        "t.ini:2: error: invalid readonly \"/etmp= /\": the path ends with a space, which "
	        "a profile cannot keep",
	        "readonly ending in a space once normalised");
	DIAG_IS("[filesystem]\nrootfs = ro\n",
	        "t.ini:2: error: invalid rootfs \"ro\": expected overlay or readonly",
	        "rootfs enum");
	DIAG_IS("[security]\ncapabilities = all\n",
	        "t.ini:2: error: invalid capabilities \"all\": expected default or none",
	        "capabilities enum");
	DIAG_IS("[process]\nenv = A=\x1b[31m\n", "t.ini:2: error: control character in \"env\"",
	        "control character in a value");
}

/* Every trap of libraries.md section 2. */
static void test_inih_traps(void)
{
	/* A value well over inih's default 200 bytes arrives whole, and the
	 * lines after it keep their numbers. */
	char src[301];
	memset(src, 'a', sizeof(src) - 1);
	src[0] = '/';
	src[sizeof(src) - 1] = '\0';
	char *text = xasprintf("[filesystem]\nvolume = %s:/long\n\n[process]\nhostnme = x\n", src);
	char *d = NULL;
	struct sbx_profile *p = load_s(text, &d);
	is_str(d,
	       "t.ini:5: error: unknown key \"hostnme\" in [process]; did you mean \"hostname\"?",
	       "long line: the next lines keep their numbers");
	free(d);
	free(text);
	text = xasprintf("[filesystem]\nvolume = %s:/long\n", src);
	p = load_ok(text, "a 300-byte path");
	ok(p && p->n_volumes == 1 && strcmp(p->volumes[0].src, src) == 0, "long value intact");
	profile_free(p);
	free(text);

	/* An indented line is a line of its own, not a continuation. */
	p = load_ok("[filesystem]\nvolume = /a:/a\n  volume = /b:/b\n", "indented line");
	ok(p && p->n_volumes == 2, "indented line is not a continuation");
	profile_free(p);
	DIAG_IS("[filesystem]\nvolume = /a:/a\n  indented = oops\n",
	        "t.ini:3: error: unknown key \"indented\" in [filesystem]",
	        "indented unknown key reported");

	/* ';' and '#' inside a value are not comments. */
	p = load_ok("[profile]\ndescription = a ; b # c\n[process]\nenv = A=x;y\nenv = B=1 ;2\n"
	            "; comment\n  # indented comment\n",
	            "inline ;");
	if (p) {
		is_str(p->description, "a ; b # c", "';' and '#' kept in description");
		ok(strv_length(p->env) == 2 && strcmp(p->env[0], "A=x;y") == 0 &&
		       strcmp(p->env[1], "B=1 ;2") == 0,
		   "';' kept in env values");
	}
	profile_free(p);

	/* Section names longer than inih's 49 bytes are reported, not cut. */
	char name[61];
	memset(name, 's', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	text = xasprintf("[network]\nmode = none\n[%s]\nmode = host\n", name);
	char *want = xasprintf("t.ini:3: error: section name \"[%s]\" is too long (at most 49 "
	                       "bytes)",
	                       name);
	DIAG_IS(text, want, "long section name");
	free(text);
	free(want);
	/* Its keys are not charged to a cut name or to the section before. */
	text = xasprintf("[network%43s]\nmode = host\nbogus = 1\n", "x");
	p = load_s(text, &d);
	ok(p == NULL && strstr(d, "t.ini:1: error: section name") && !strstr(d, ":2:") &&
	       !strstr(d, ":3:"),
	   "keys under a long section name are not applied");
	free(d);
	free(text);

	/* Every broken line is reported, not only the first. */
	DIAG_IS("[process]\nnoequals\nhostname = a\n[broken\nenv = A=1\nalso broken\n",
	        "t.ini:2: error: expected \"[section]\" or \"key = value\"\n"
	        "t.ini:4: error: expected \"[section]\" or \"key = value\"\n"
	        "t.ini:6: error: expected \"[section]\" or \"key = value\"",
	        "every line without = reported");
	/* inih splits at ':' too; a key with ':' is refused. */
	DIAG_IS("[process]\nhostname: x\nenv:A = 1\n",
	        "t.ini:2: error: expected \"[section]\" or \"key = value\"\n"
	        "t.ini:3: error: expected \"[section]\" or \"key = value\"",
	        "':' is no separator");
	DIAG_IS("mode = none\n[network]\n",
	        "t.ini:1: error: key \"mode\" before the first [section]", "key before a section");
	DIAG_IS("[network] x\nmode = none\n", "t.ini:1: error: unexpected text after \"[network]\"",
	        "text after ]");
	DIAG_IS("[process]\n = x\n", "t.ini:2: error: expected \"[section]\" or \"key = value\"",
	        "empty key");

	/* A BOM, CRLF line ends and a last line without '\n' are fine. */
	p = load_ok("\xef\xbb\xbf[process]\r\nhostname = crlf\r\n\r\n[network]\r\nmode = host",
	            "BOM and CRLF");
	ok(p && strcmp(p->hostname, "crlf") == 0 && p->net == SBX_NET_HOST, "BOM and CRLF values");
	profile_free(p);
	p = load_ok("", "empty file");
	profile_free(p);
}

static void test_diagnostics(void)
{
	DIAG_IS("# comment\n\n[netwrk]\nmode = none\n",
	        "t.ini:3: error: unknown section \"[netwrk]\"; did you mean \"[network]\"?",
	        "unknown section with suggestion (keys in it not reported)");
	DIAG_IS("[frobnicate]\n",
	        "t.ini:1: error: unknown section \"[frobnicate]\"; expected [profile], "
	        "[namespaces], [network], [filesystem], [process], [security] or [limits]",
	        "unknown section listing the known ones");
	DIAG_IS("[process]\nhostnme = x\n",
	        "t.ini:2: error: unknown key \"hostnme\" in [process]; did you mean \"hostname\"?",
	        "unknown key with suggestion");
	DIAG_IS("[network]\nhostname = x\n",
	        "t.ini:2: error: key \"hostname\" belongs in [process], not [network]",
	        "key in the wrong section");
	DIAG_IS("[process]\ninherit = default\n",
	        "t.ini:2: error: key \"inherit\" belongs in [profile], not [process]",
	        "inherit outside [profile]");
	DIAG_IS(
	    "[network]\nhostnme = x\n",
	    "t.ini:2: error: unknown key \"hostnme\" in [network]; did you mean \"hostname\" in "
	    "[process]?",
	    "suggestion from another section");
	DIAG_IS("[process]\nzzzzzz = 1\n", "t.ini:2: error: unknown key \"zzzzzz\" in [process]",
	        "unknown key without suggestion");
	DIAG_IS("[process]\n# c\nhostname = a\n\n[network]\n[process]\nhostname = b\n",
	        "t.ini:7: error: \"hostname\" set twice (first at line 3)", "key set twice");
	DIAG_IS("[namespaces]\npid = maybe\n",
	        "t.ini:2: error: invalid pid \"maybe\": expected true or false (or yes/no, on/off, "
	        "1/0)",
	        "bad boolean");
	DIAG_IS(
	    "[security]\ncap_add = NET_RAWW\n",
	    "t.ini:2: error: invalid cap_add \"NET_RAWW\": unknown capability \"CAP_NET_RAWW\"; "
	    "did you mean \"CAP_NET_RAW\"?",
	    "unknown capability");
	DIAG_IS("[security]\ncap_add = ALL\n",
	        "t.ini:2: error: invalid cap_add \"ALL\": \"ALL\" can only be dropped; use "
	        "capabilities = default or none for the base set",
	        "cap_add ALL");

	/* Several problems: all of them, in line order, and a summary. */
	const char *many = "[process]\nhostnme = x\nworkdir = rel\n[filesystem]\n"
	                   "volume = /a:/b:ro,rw\nbroken line\n[limits]\nnofile = 12x\n";
	char *d = NULL, *e = NULL;
	struct sbx_profile *p = load_n(many, strlen(many), &d, &e);
	is_str(d,
	       "t.ini:2: error: unknown key \"hostnme\" in [process]; did you mean "
	       "\"hostname\"?\n"
	       "t.ini:3: error: invalid workdir \"rel\": the working directory must be an "
	       "absolute path\n"
	       "t.ini:5: error: invalid volume \"/a:/b:ro,rw\": only one of ro and rw may be "
	       "given\n"
	       "t.ini:6: error: expected \"[section]\" or \"key = value\"\n"
	       "t.ini:8: error: invalid nofile \"12x\": not a number",
	       "five problems, in line order");
	is_str(e, "profile \"t.ini\" has 5 errors", "summary counts them");
	ok(p == NULL, "nothing returned on error");
	free(d);
	free(e);

	/* Bytes inih must never see. */
#define LIT(s) s, sizeof(s) - 1
	p = load_n(LIT("[process]\nhost\0name = x\n"), &d, &e);
	is_str(d, "t.ini:2: error: NUL byte", "NUL byte");
	is_str(e, "profile \"t.ini\" has 1 error", "summary: 1 error");
	free(d);
	free(e);
	p = load_n(LIT("[process]\n\nhostname = \xc3\x28\n# \xff\n"), &d, NULL);
	is_str(d, "t.ini:3: error: invalid UTF-8\nt.ini:4: error: invalid UTF-8",
	       "invalid UTF-8 on each line");
	free(d);
	p = load_ok("[profile]\ndescription = caf\xc3\xa9 \xe2\x98\x83\n", "valid UTF-8");
	profile_free(p);
	size_t big = 1024 * 1024 + 1;
	char *huge = xmalloc(big);
	memset(huge, '#', big);
	p = load_n(huge, big, &d, NULL);
	is_str(d, "t.ini: error: larger than 1 MiB", "over 1 MiB refused");
	free(d);
	p = load_n(huge, big - 1, &d, NULL);
	ok(p != NULL, "exactly 1 MiB of comment is fine");
	profile_free(p);
	free(d);
	free(huge);

	/* Diagnostics stop after 100 per file. */
	char *lots = NULL;
	size_t cap = 0;
	FILE *f = open_memstream(&lots, &cap);
	fputs("[process]\n", f);
	for (int i = 0; i < 150; i++)
		fputs("bad\n", f);
	fclose(f);
	struct sbx_diag dg = {0};
	struct sbx_error *err = NULL;
	ok(profile_load_string("t.ini", lots, strlen(lots), &p, &dg, &err) < 0, "150 bad lines");
	is_int(diag_count(&dg), 101, "100 diagnostics and a note");
	is_str(dg.lines ? dg.lines[100] : NULL, "t.ini: error: too many errors; stopped after 100",
	       "the note");
	diag_clear(&dg);
	sbx_error_free(err);
	free(lots);
}

static void test_lists(void)
{
	struct sbx_profile *p = load_ok(
	    "[filesystem]\nvolume = /a:/a\nvolume = /b:/b:ro\ntmpfs = /t\nmask = /m\nmask = /m\n"
	    "readonly = /etc\n[process]\nenv = A=1\nenv = B=2\n"
	    "[security]\ncap_add = net_admin, SYS_PTRACE\ncap_drop = CAP_NET_RAW\n"
	    "[network]\nmode = pasta\npublish = 8080:80\npublish = 8443:443/udp\n",
	    "repeated keys");
	if (p) {
		ok(p->n_volumes == 2 && p->volumes[1].ro, "volumes appended");
		ok(p->n_tmpfs == 1 && strv_length(p->masked) == 1 && strv_length(p->readonly) == 1,
		   "tmpfs, mask (deduplicated), readonly");
		ok(strv_length(p->cap_add) == 2 && strcmp(p->cap_add[0], "CAP_NET_ADMIN") == 0 &&
		       strcmp(p->cap_add[1], "CAP_SYS_PTRACE") == 0,
		   "cap_add list canonicalised");
		ok(strv_length(p->cap_drop) == 1 && strcmp(p->cap_drop[0], "CAP_NET_RAW") == 0,
		   "cap_drop canonicalised");
		ok(p->n_publish == 2 && p->publish[1].udp, "publish appended");
	}
	profile_free(p);
	p = load_ok("[filesystem]\nvolume = /a:/a\nvolume =\nvolume = /c:/c\n[process]\n"
	            "env = A=1\nenv =\n",
	            "empty value clears");
	ok(p && p->n_volumes == 1 && strcmp(p->volumes[0].src, "/c") == 0 && p->env == NULL,
	   "an empty value clears the list");
	profile_free(p);
	DIAG_IS("[filesystem]\nvolume = /a:/x\ntmpfs = /x/\n",
	        "t.ini:3: error: a mount at \"/x\" is already set at line 2",
	        "two mounts at one place in a file");
	DIAG_IS("[network]\nmode = pasta\npublish = 8080:80\npublish = 8080:81\n",
	        "t.ini:4: error: invalid publish \"8080:81\": host port 8080/tcp is already "
	        "published at line 3",
	        "one host port twice in a file");
	DIAG_IS("[network]\nmode = pasta\npublish = 127.0.0.1:8080:80\npublish = 8080:81\n",
	        "t.ini:4: error: invalid publish \"8080:81\": host port 8080/tcp is already "
	        "published at line 3",
	        "a port on all addresses and on one of them in a file");
	p = load_ok("[network]\nmode = pasta\npublish = 8080:80\npublish =\npublish = 8080:81\n",
	            "a port published again after the list is cleared");
	ok(p && p->n_publish == 1 && p->publish[0].sandbox_port == 81, "the later one stays");
	profile_free(p);
	DIAG_IS("[network]\nmode = pasta:host-loopback\n",
	        "t.ini:2: error: invalid mode \"pasta:host-loopback\": expected the mode alone; "
	        "options have keys of their own, such as host_loopback = true",
	        "options after the mode key");
	DIAG_IS("[network]\nhost_loopback = maybe\n",
	        "t.ini:2: error: invalid host_loopback \"maybe\": expected true or false (or "
	        "yes/no, on/off, 1/0)",
	        "host_loopback not a boolean");
	p = load_ok("[network]\nmode = slirp4netns\nhost_loopback = yes\n", "host_loopback");
	ok(p && p->host_loopback && p->net == SBX_NET_SLIRP4NETNS, "host_loopback = yes");
	profile_free(p);

	/* In one file drops come first (Docker's order), whatever the line order. */
	p = load_ok("[security]\ncap_add = chown\ncap_drop = ALL\n", "cap_add before cap_drop ALL");
	ok(p && strv_length(p->cap_add) == 1 && strcmp(p->cap_add[0], "CAP_CHOWN") == 0 &&
	       strcmp(p->cap_drop[0], "ALL") == 0,
	   "cap_drop = ALL keeps the same file's cap_add");
	profile_free(p);

	/* Capabilities: the later word wins whatever the list order. */
	p = profile_new();
	struct sbx_error *err = NULL;
	ok(profile_add_cap(p, "NET_ADMIN,sys_time", false, &err) == 0, "--cap-add list");
	ok(profile_add_cap(p, "net_admin", true, &err) == 0 && strv_length(p->cap_add) == 1 &&
	       strcmp(p->cap_drop[0], "CAP_NET_ADMIN") == 0,
	   "--cap-drop undoes an add");
	ok(profile_add_cap(p, "CAP_NET_ADMIN", false, &err) == 0 && p->cap_drop[0] == NULL,
	   "--cap-add undoes a drop");
	ok(profile_add_cap(p, "all", true, &err) == 0 && p->cap_add == NULL &&
	       strcmp(p->cap_drop[0], "ALL") == 0,
	   "--cap-drop ALL clears the adds");
	ok(profile_add_cap(p, "NET_RAWW", false, &err) < 0, "--cap-add unknown refused");
	is_str(err ? err->msg : NULL,
	       "--cap-add \"NET_RAWW\": unknown capability \"CAP_NET_RAWW\"; did you mean "
	       "\"CAP_NET_RAW\"?",
	       "--cap-add message");
	sbx_error_free(err);
	err = NULL;
	ok(profile_add_cap(p, "a,,b", false, &err) < 0, "empty item in a cap list refused");
	sbx_error_free(err);
	err = NULL;

	/* Seccomp files: ~ expanded, relative to the working directory here. */
	ok(profile_set_seccomp(p, "~/policy.json", &err) == 0 && p->seccomp == SBX_SECCOMP_FILE &&
	       strcmp(p->seccomp_file, "/home/test/policy.json") == 0,
	   "--seccomp ~/policy.json");
	char *cwd = get_current_dir_name();
	char *want = xasprintf("%s/x/p.json", cwd);
	ok(profile_set_seccomp(p, "./x//p.json", &err) == 0 && strcmp(p->seccomp_file, want) == 0,
	   "--seccomp relative to the working directory");
	ok(profile_set_seccomp(p, "unconfined", &err) == 0 && p->seccomp_file == NULL &&
	       p->seccomp == SBX_SECCOMP_UNCONFINED,
	   "--seccomp unconfined");
	ok(profile_set_seccomp(p, "defualt", &err) < 0, "--seccomp defualt refused");
	is_str(err ? err->msg : NULL,
	       "--seccomp \"defualt\": expected default, unconfined or a path to a JSON file; did "
	       "you mean \"default\"?",
	       "--seccomp message");
	sbx_error_free(err);
	err = NULL;
	ok(profile_set_hostname(p, "box", &err) == 0 && strcmp(p->hostname, "box") == 0,
	   "--hostname");
	ok(profile_set_hostname(p, "a b", &err) < 0, "--hostname with a space refused");
	sbx_error_free(err);
	err = NULL;
	ok(profile_set_workdir(p, "/x/./y/", &err) == 0 && strcmp(p->workdir, "/x/y") == 0,
	   "--workdir normalised");
	ok(profile_set_workdir(p, "/x/../y", &err) < 0, "--workdir with .. refused");
	sbx_error_free(err);
	err = NULL;
	ok(profile_set_user(p, "nobody:nogroup", &err) == 0 &&
	       strcmp(p->user, "nobody:nogroup") == 0,
	   "--user");
	ok(profile_set_user(p, ":1", &err) < 0, "--user :1 refused");
	sbx_error_free(err);
	err = NULL;
	free(want);
	free(cwd);
	profile_free(p);

	/* In a profile, a relative seccomp file is relative to the profile. */
	char *path = xasprintf("%s/dir/sec.ini", tmp);
	write_text(path, "[security]\nseccomp = policy.json\n");
	struct sbx_diag dg = {0};
	ok(profile_load(path, &p, &dg, &err) == 0, "profile with a relative seccomp file");
	want = xasprintf("%s/dir/policy.json", tmp);
	is_str(p ? p->seccomp_file : NULL, want, "seccomp relative to the profile's directory");
	diag_clear(&dg);
	sbx_error_free(err);
	free(want);
	free(path);
	profile_free(p);
}

/* The dump reads back into the same profile. */
static void round_trip(const struct sbx_profile *p, const char *what)
{
	char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	FILE *f = open_memstream(&a, &na);
	profile_dump(p, f);
	fclose(f);
	char *d = NULL;
	const char *body = strchr(a, '\n') + 1;
	struct sbx_profile *q = load_s(a, &d);
	ok(q != NULL, "%s: dump reads back", what);
	if (q == NULL)
		printf("#   %s\n", d);
	if (q) {
		f = open_memstream(&b, &nb);
		profile_dump(q, f);
		fclose(f);
		is_str(strchr(b, '\n') + 1, body, "%s: same dump after reading back", what);
		profile_free(q);
	}
	free(a);
	free(b);
	free(d);
}

static void test_round_trip(void)
{
	struct sbx_profile *p = profile_new();
	round_trip(p, "defaults");
	profile_free(p);
	p = load_ok("[profile]\ndescription = every ; kind # of value\n"
	            "[namespaces]\npid = no\ncgroup = off\nuser = subid\n"
	            "[network]\nmode = auto\nhost_loopback = on\npublish = 127.0.0.1:8080:80\n"
	            "publish = [::1]:53:53/udp\n"
	            "[filesystem]\nrootfs = readonly\noverlay = fuse\nvolume = /a b:/c d:ro\n"
	            "volume = ~/x:/x\ntmpfs = /tmp:size=1536K\ntmpfs = /run:mode=755\n"
	            "tmpfs = /big:size=1000\nmask = /etc/shadow\nreadonly = /etc\n"
	            "[process]\nenv = A=1 2\nenv = EMPTY=\nworkdir = /w\nhostname = h\n"
	            "user = app:staff\ninit = 1\n"
	            "[security]\ncapabilities = none\ncap_add = chown\ncap_drop = ALL\n"
	            "seccomp = /p.json\nno_new_privileges = off\nrestrict_suid_sgid = off\n"
	            "landlock_fs_ro = /\nlandlock_fs_rw = /tmp/\nlandlock_tcp_bind = 80, 8080\n"
	            "landlock_tcp_connect = none\n"
	            "[limits]\nmemory = 3G\npids = 7\nnofile = 1:2\nas = unlimited\n"
	            "stack = 8M:unlimited\ncpu = 60\n",
	            "a profile with every key");
	if (p) {
		round_trip(p, "every key");
		char *dump = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&dump, &n);
		profile_dump(p, f);
		fclose(f);
		ok(strstr(dump, "\ntmpfs = /tmp:size=1536K,mode=1777\n") &&
		       strstr(dump, "\ntmpfs = /big:size=1000,mode=1777\n") &&
		       strstr(dump, "\npublish = [::1]:53:53/udp\n") &&
		       strstr(dump, "\nhost_loopback = true\n") &&
		       strstr(dump, "\nstack = 8M:unlimited\n") &&
		       strstr(dump, "\nmemory = 3G\n") &&
		       strstr(dump, "\nvolume = /home/test/x:/x:rw\n") &&
		       strstr(dump, "\nnproc =\n") && strstr(dump, "\nlandlock_fs_rw = /tmp\n") &&
		       strstr(dump, "\nlandlock_tcp_bind = 80\nlandlock_tcp_bind = 8080\n") &&
		       strstr(dump, "\nlandlock_tcp_connect = none\n"),
		   "dump spells values as they are read");
		free(dump);
	}
	profile_free(p);
}

static void test_shipped(void)
{
	static const char *const names[] = {"default", "strict", "host-net"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct sbx_profile *p = NULL;
		struct sbx_diag d = {0};
		struct sbx_error *err = NULL;
		int r = profile_load(names[i], &p, &d, &err);
		ok(r == 0 && diag_count(&d) == 0, "shipped %s loads cleanly", names[i]);
		if (r < 0)
			printf("#   %s\n", err ? err->msg : "?");
		if (p) {
			ok(str_startswith(p->path, top), "shipped %s comes from the checkout",
			   names[i]);
			ok(profile_validate(p, &err) == 0, "shipped %s validates", names[i]);
			round_trip(p, names[i]);
		}
		if (p && strcmp(names[i], "strict") == 0) {
			ok(p->rootfs == SBX_ROOTFS_READONLY && p->caps_base == SBX_CAPS_NONE &&
			       p->net == SBX_NET_NONE && p->pids == 64 && p->memory == 256ull << 20,
			   "strict: read-only, no caps, no network, limits");
			ok(p->n_tmpfs == 1 && strcmp(p->tmpfs[0].dst, "/tmp") == 0 &&
			       p->tmpfs[0].size == 64ull << 20,
			   "strict: 64M /tmp");
			const struct sbx_rlimit *nofile = rlimit(p, RLIMIT_NOFILE);
			const struct sbx_rlimit *as = rlimit(p, RLIMIT_AS);
			ok(nofile && nofile->hard == 256 && as && as->hard == 1ull << 30 &&
			       rlimit(p, RLIMIT_NPROC) && rlimit(p, RLIMIT_CORE) &&
			       rlimit(p, RLIMIT_FSIZE),
			   "strict: rlimits");
			ok(strv_length(p->chain) == 1 && strcmp(p->chain[0], "default") == 0,
			   "strict inherits default");
		}
		if (p && strcmp(names[i], "host-net") == 0)
			ok(p->net == SBX_NET_HOST && p->caps_base == SBX_CAPS_DEFAULT,
			   "host-net: host network on top of default");
		profile_free(p);
		diag_clear(&d);
		sbx_error_free(err);
	}
}

static void test_inherit(void)
{
	char *dir = xasprintf("%s/config/sbx/profiles", tmp);
	char *path = NULL;
#define PUT(name, text)                                                                            \
	do {                                                                                       \
		path = xasprintf("%s/%s.ini", dir, name);                                          \
		write_text(path, text);                                                            \
		free(path);                                                                        \
	} while (0)
	PUT("base", "[profile]\ndescription = base\n[process]\nhostname = base\nenv = A=1\n"
	            "[filesystem]\nvolume = /a:/a\n[limits]\nnofile = 10\n");
	PUT("child", "[process]\nenv = B=2\n[profile]\ninherit = base\n[filesystem]\n"
	             "volume =\nvolume = /c:/c\n[limits]\nnofile =\n");
	PUT("grandchild",
	    "[profile]\ninherit = child\ndescription = gc\n[process]\nhostname = gc\n");
	PUT("cyc-a", "[profile]\ninherit = cyc-b\n");
	PUT("cyc-b", "# b\n[profile]\ninherit = cyc-a\n");
	PUT("self", "[profile]\ninherit = ./self.ini\n");
	PUT("missing", "[profile]\ninherit = nope\n");
	PUT("badparent", "[profile]\ninherit = broken\n[process]\nhostnme = x\n");
	PUT("broken", "[process]\nhostname = a b\n");
	PUT("capbase", "[security]\ncap_add = SYS_ADMIN\ncap_drop = NET_RAW\n");
	PUT("capchild", "[profile]\ninherit = capbase\n[security]\ncap_add = CHOWN, NET_RAW\n"
	                "cap_drop = ALL\n");
	/* A user "strict" that extends the shipped "strict". */
	PUT("strict", "[profile]\ninherit = strict\n[limits]\nnofile = 100\n");
	for (int i = 0; i < 20; i++) {
		char name[16], text[64];
		snprintf(name, sizeof(name), "deep%d", i);
		snprintf(text, sizeof(text), "[profile]\ninherit = deep%d\n", i + 1);
		PUT(name, text);
	}
	PUT("deep20", "");
	PUT("pubbase", "[network]\nmode = pasta\nhost_loopback = true\npublish = 8080:80\n"
	               "publish = 9090:90\n");
	PUT("pubchild", "[profile]\ninherit = pubbase\n[network]\npublish = 8080:81\n");
	PUT("puboverlap", "[profile]\ninherit = pubbase\n[network]\npublish = 127.0.0.1:9090:91\n");

	struct sbx_profile *p = NULL;
	struct sbx_diag d = {0};
	struct sbx_error *err = NULL;
	ok(profile_load("grandchild", &p, &d, &err) == 0, "grandchild loads");
	if (p) {
		is_str(p->hostname, "gc", "scalar replaced by the child");
		is_str(p->description, "gc", "description replaced");
		ok(strv_length(p->env) == 2 && strcmp(p->env[0], "A=1") == 0 &&
		       strcmp(p->env[1], "B=2") == 0,
		   "lists append along the chain");
		ok(p->n_volumes == 1 && strcmp(p->volumes[0].dst, "/c") == 0,
		   "empty value clears the inherited list");
		ok(rlimit(p, RLIMIT_NOFILE) == NULL, "empty limit removes the inherited one");
		ok(strv_length(p->chain) == 2 && strcmp(p->chain[0], "base") == 0 &&
		       strcmp(p->chain[1], "child") == 0,
		   "chain lists the parents, outermost first");
		is_str(p->name, "grandchild", "name as asked");
	}
	profile_free(p);
	p = NULL;

	/* A child's publish of an inherited host port replaces it; so does
	 * --publish, once. */
	ok(profile_load("pubchild", &p, &d, &err) == 0, "pubchild loads");
	ok(p && p->n_publish == 2 && p->publish[0].sandbox_port == 81 && p->host_loopback,
	   "a child replaces an inherited host port, and inherits host_loopback");
	ok(p && profile_add_publish(p, "9090:92", &err) == 0 && p->n_publish == 2 &&
	       p->publish[1].sandbox_port == 92 && profile_validate(p, &err) == 0,
	   "--publish replaces a profile's host port");
	ok(p && profile_add_publish(p, "9090:93", &err) < 0, "but not one of another --publish");
	is_str(err ? err->msg : NULL,
	       "--publish \"9090:93\": host port 9090/tcp is already published by --publish "
	       "\"9090:92/tcp\"; choose another host port",
	       "--publish twice: message");
	sbx_error_free(err);
	err = NULL;
	profile_free(p);
	p = NULL;
	ok(profile_load("puboverlap", &p, &d, &err) == 0, "puboverlap loads");
	ok(p && profile_validate(p, &err) < 0, "an address of an inherited port on all addresses");
	is_str(err ? err->msg : NULL,
	       "published ports \"9090:90/tcp\" and \"127.0.0.1:9090:91/tcp\" both take host "
	       "port 9090/tcp; choose another host port",
	       "overlap across profiles: message");
	sbx_error_free(err);
	err = NULL;
	profile_free(p);
	p = NULL;

	ok(profile_load("capchild", &p, &d, &err) == 0, "capchild loads");
	ok(p && strv_length(p->cap_add) == 2 && strcmp(p->cap_add[0], "CAP_CHOWN") == 0 &&
	       strcmp(p->cap_add[1], "CAP_NET_RAW") == 0 && strv_length(p->cap_drop) == 1 &&
	       strcmp(p->cap_drop[0], "ALL") == 0,
	   "a child's cap_drop = ALL clears inherited adds, not its own");
	profile_free(p);
	p = NULL;

	ok(profile_load("cyc-a", &p, &d, &err) < 0, "cycle refused");
	char *want =
	    xasprintf("%s/cyc-b.ini:3: error: inheritance cycle: cyc-a -> cyc-b -> cyc-a", dir);
	char *got = diag_join(&d);
	is_str(got, want, "cycle reported where it closes");
	free(got);
	free(want);
	diag_clear(&d);
	sbx_error_free(err);
	err = NULL;

	ok(profile_load("self", &p, &d, &err) < 0, "self-inheritance by path refused");
	got = diag_join(&d);
	ok(strstr(got, "inheritance cycle: self -> self") != NULL, "self cycle message");
	free(got);
	diag_clear(&d);
	sbx_error_free(err);
	err = NULL;

	ok(profile_load("missing", &p, &d, &err) < 0, "missing parent refused");
	got = diag_join(&d);
	ok(strstr(got, "missing.ini:2: error: profile \"nope\" not found; looked in ") != NULL,
	   "missing parent reported at the inherit line");
	free(got);
	diag_clear(&d);
	sbx_error_free(err);
	err = NULL;

	ok(profile_load("badparent", &p, &d, &err) < 0, "broken parent refused");
	is_int(diag_count(&d), 2, "errors of parent and child both reported");
	ok(d.lines && strstr(d.lines[0], "broken.ini:2: error: invalid hostname") &&
	       strstr(d.lines[1], "badparent.ini:4: error: unknown key"),
	   "parent's errors first, each with its own file");
	is_str(err ? err->msg : NULL, "profile \"badparent\" has 2 errors", "summary");
	diag_clear(&d);
	sbx_error_free(err);
	err = NULL;

	ok(profile_load("deep0", &p, &d, &err) < 0, "too deep refused");
	got = diag_join(&d);
	ok(strstr(got, "deep15.ini:2: error: inheritance deeper than 16 profiles") != NULL,
	   "depth limit message");
	free(got);
	diag_clear(&d);
	sbx_error_free(err);
	err = NULL;

	/* A user profile may extend the shipped one of the same name. */
	ok(profile_load("strict", &p, &d, &err) == 0, "user strict extends shipped strict");
	if (p) {
		const struct sbx_rlimit *r = rlimit(p, RLIMIT_NOFILE);
		ok(r && r->soft == 100 && p->rootfs == SBX_ROOTFS_READONLY,
		   "user override on top of shipped strict");
		ok(strv_length(p->chain) == 2 && strcmp(p->chain[0], "default") == 0 &&
		       strcmp(p->chain[1], "strict") == 0,
		   "chain: default, strict");
		ok(str_startswith(p->path, dir), "path is the user's file");
	}
	profile_free(p);
	p = NULL;

	/* Inheriting from a string-loaded profile goes through the lookup. */
	char *dd = NULL;
	p = load_s("[profile]\ninherit = base\n", &dd);
	ok(p && strcmp(p->hostname, "base") == 0, "profile_load_string resolves inherit");
	profile_free(p);
	free(dd);
	free(dir);
#undef PUT
}

static void test_lookup(void)
{
	char *path = NULL;
	enum sbx_profile_origin origin;
	struct sbx_error *err = NULL;
	char *user = xasprintf("%s/config/sbx/profiles", tmp);
	char *sys = xasprintf("%s/etc/profiles", tmp);

	ok(profile_find("default", &path, &origin, &err) == 0 && origin == SBX_ORIGIN_SHIPPED,
	   "default found shipped");
	free(path);
	path = NULL;
	char *p2 = xasprintf("%s/default.ini", sys);
	write_text(p2, "[network]\nmode = host\n");
	ok(profile_find("default", &path, &origin, &err) == 0 && origin == SBX_ORIGIN_SYSTEM &&
	       strcmp(path, p2) == 0,
	   "system profile shadows shipped");
	free(path);
	path = NULL;
	char *p1 = xasprintf("%s/default.ini", user);
	write_text(p1, "[network]\nmode = pasta\n");
	ok(profile_find("default", &path, &origin, &err) == 0 && origin == SBX_ORIGIN_USER &&
	       strcmp(path, p1) == 0,
	   "user profile shadows system and shipped");
	free(path);
	path = NULL;

	struct sbx_profile_entry *e = NULL;
	size_t n = 0;
	ok(profile_list(&e, &n, &err) == 0, "profile_list");
	const struct sbx_profile_entry *def = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].name, "default") == 0)
			def = &e[i];
		if (i > 0)
			ok(strcmp(e[i - 1].name, e[i].name) < 0, "list sorted: %s < %s",
			   e[i - 1].name, e[i].name);
	}
	ok(def && def->origin == SBX_ORIGIN_USER && strv_length(def->shadows) == 2 &&
	       strcmp(def->shadows[0], p2) == 0 && str_startswith(def->shadows[1], top),
	   "list: default from the user, shadowing system and shipped");
	profile_entries_free(e, n);
	unlink(p1);
	unlink(p2);
	free(p1);
	free(p2);

	ok(profile_find("..x", &path, &origin, &err) < 0, "invalid name refused");
	is_str(err ? err->msg : NULL,
	       "invalid profile name \"..x\": a name must not start with '-' or '.'",
	       "invalid name message");
	sbx_error_free(err);
	err = NULL;
	ok(profile_find("", &path, &origin, &err) < 0, "empty name refused");
	sbx_error_free(err);
	err = NULL;
	ok(profile_find("nope", &path, &origin, &err) < 0 && err && err->code == ENOENT,
	   "unknown name: ENOENT");
	char *want = xasprintf("profile \"nope\" not found; looked in %s, %s, %s/profiles (see "
	                       "'sbx profile ls')",
	                       user, sys, top);
	is_str(err ? err->msg : NULL, want, "not found lists the places");
	free(want);
	sbx_error_free(err);
	err = NULL;
	char *file = xasprintf("%s/elsewhere/mine.ini", tmp);
	write_text(file, "");
	ok(profile_find(file, &path, &origin, &err) == 0 && origin == SBX_ORIGIN_PATH &&
	       strcmp(path, file) == 0,
	   "a path is taken as it is");
	free(path);
	path = NULL;
	char *dir = xasprintf("%s/elsewhere", tmp);
	ok(profile_find(dir, &path, &origin, &err) < 0, "a directory is refused");
	sbx_error_free(err);
	free(dir);
	free(file);
	free(user);
	free(sys);
}

/* The settings table: what the loader, the options and the docs rely on. */
static void test_table(void)
{
	size_t n = 0;
	const struct sbx_setting *t = profile_settings(&n);
	ok(n >= 50, "the table has %zu settings", n);
	bool whole = true;
	for (size_t i = 0; i < n; i++) {
		const struct sbx_setting *s = &t[i];
		const char *name = s->key ? s->key : s->option;
		bool good = s->section && name && s->doc && s->doc[0] && s->set;
		/* A key is printed by profile show (inherit aside); an option
		 * with a value has a metavariable, one without sets a word. */
		good = good && (s->key == NULL || s->dump || (s->flags & SBX_SETTING_INHERIT));
		good = good && (s->option == NULL || s->fixed || s->metavar);
		good = good && (s->option || !s->fixed);
		for (size_t k = 0; k < i; k++) {
			const struct sbx_setting *o = &t[k];
			if (s->key && o->key && strcmp(s->key, o->key) == 0 &&
			    strcmp(s->section, o->section) == 0)
				good = false;
			if (s->option && o->option && strcmp(s->option, o->option) == 0)
				good = false;
			if (s->short_opt && s->short_opt == o->short_opt)
				good = false;
		}
		if (!good)
			printf("# setting %s in [%s] is incomplete or doubled\n", name ? name : "?",
			       s->section ? s->section : "?");
		whole = whole && good;
	}
	ok(whole, "every setting has a section, a name, help and a set function; none twice");
	ok(profile_setting_option("umask") && profile_setting_option("umask")->key &&
	       strcmp(profile_setting_option("umask")->key, "umask") == 0,
	   "--umask is [process] umask");
	ok(profile_setting_option("nosuch") == NULL, "no option nosuch");

	/* The new settings, through the same entries as the keys. */
	struct sbx_profile *p = profile_new();
	struct sbx_error *err = NULL;
	ok(p->umask == -1 && p->millicpus == 0 && p->entrypoint == NULL, "new settings unset");
	ok(profile_option(p, profile_setting_option("umask"), "027", NULL, &err) == 0 &&
	       p->umask == 027,
	   "--umask 027");
	ok(profile_option(p, profile_setting_option("umask"), "1000", NULL, &err) < 0 &&
	       strstr(err->msg, "--umask \"1000\": expected an octal mode") == err->msg,
	   "--umask 1000 refused: %s", err ? err->msg : "");
	sbx_error_free(err);
	err = NULL;
	ok(profile_option(p, profile_setting_option("cpus"), "0.5", NULL, &err) == 0 &&
	       p->millicpus == 500,
	   "--cpus 0.5");
	ok(profile_option(p, profile_setting_option("cpus"), "2.125", NULL, &err) == 0 &&
	       p->millicpus == 2125,
	   "--cpus 2.125");
	ok(profile_option(p, profile_setting_option("cpus"), "1.0001", NULL, &err) < 0,
	   "--cpus 1.0001 refused");
	sbx_error_free(err);
	err = NULL;
	ok(profile_option(p, profile_setting_option("read-only"), NULL, NULL, &err) == 0 &&
	       p->rootfs == SBX_ROOTFS_READONLY,
	   "--read-only sets rootfs = readonly");
	ok(profile_option(p, profile_setting_option("no-init"), NULL, NULL, &err) == 0 && !p->init,
	   "--no-init sets init = false");
	ok(profile_option(p, profile_setting_option("pids-limit"), "64", NULL, &err) == 0 &&
	       p->pids == 64,
	   "--pids-limit 64");
	ok(profile_option(p, profile_setting_option("entrypoint"), "[\"/bin/sh\",\"-c\"]", NULL,
	                  &err) == 0 &&
	       strv_length(p->entrypoint) == 2 && strcmp(p->entrypoint[1], "-c") == 0,
	   "--entrypoint [\"/bin/sh\",\"-c\"]");
	ok(profile_option(p, profile_setting_option("entrypoint"), "/bin/echo", NULL, &err) == 0 &&
	       strv_length(p->entrypoint) == 1 && strcmp(p->entrypoint[0], "/bin/echo") == 0,
	   "--entrypoint /bin/echo");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	profile_dump(p, f);
	fclose(f);
	ok(strstr(text, "\numask = 0027\n") && strstr(text, "\ncpus = 2.125\n") &&
	       strstr(text, "\npids = 64\n") && strstr(text, "\nrootfs = readonly\n"),
	   "profile show prints them");
	free(text);
	profile_free(p);
}

int main(void)
{
	/* Everything in a scratch tree: no real config is read or written. */
	char tmpl[] = "/tmp/sbx-test-profile.XXXXXX";
	tmp = xstrdup(mkdtemp(tmpl));
	top = get_current_dir_name();
	if (access("profiles/default.ini", R_OK) != 0) {
		printf("1..0 # SKIP run from the top of the checkout\n");
		return 0;
	}
	setenv("HOME", "/home/test", 1);
	char *v = xasprintf("%s/config", tmp);
	setenv("XDG_CONFIG_HOME", v, 1);
	free(v);
	v = xasprintf("%s/etc", tmp);
	setenv("SBX_SYSCONFDIR", v, 1);
	free(v);
	setenv("SBX_DATADIR", top, 1);

	test_defaults();
	test_volume();
	test_tmpfs();
	test_env();
	test_publish();
	test_enums();
	test_values();
	test_inih_traps();
	test_diagnostics();
	test_lists();
	test_round_trip();
	test_shipped();
	test_inherit();
	test_lookup();
	test_table();

	struct sbx_error *err = NULL;
	rm_rf_at(AT_FDCWD, tmp, &err);
	sbx_error_free(err);
	free(tmp);
	free(top);
	return done_testing();
}
