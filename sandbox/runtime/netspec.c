/* netspec.c - network settings as words: modes and published ports. */
#include "runtime/netspec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const net_names[] = {"none", "host", "pasta", "slirp4netns", "auto"};

#define NET_HOST_LOOPBACK "host-loopback"

int net_mode_parse(const char *s, enum sbx_net_mode *out, bool *host_loopback, char **why)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *opts = strchr(copy, ':');
	if (opts)
		*opts++ = '\0';
	int v;
	if (str_choice(copy, net_names, ARRAY_SIZE(net_names), &v, why) < 0)
		return -1;
	bool loopback = false;
	if (opts && host_loopback == NULL) {
		why_set(why, "expected the mode alone; options have keys of their own, such as "
		             "host_loopback = true");
		return -1;
	}
	for (char *o; opts && (o = strsep(&opts, ","));) {
		if (strcmp(o, NET_HOST_LOOPBACK) != 0) {
			_cleanup_free_ char *d = str_display(o);
			why_set(why, "unknown option \"%s\" (expected " NET_HOST_LOOPBACK ")", d);
			return -1;
		}
		loopback = true;
	}
	if (loopback && (v == SBX_NET_NONE || v == SBX_NET_HOST)) {
		why_set(why, NET_HOST_LOOPBACK " needs a user-mode network (pasta, slirp4netns or "
		                               "auto)");
		return -1;
	}
	*out = (enum sbx_net_mode)v;
	if (host_loopback)
		*host_loopback = loopback;
	return 0;
}

char *net_mode_format(enum sbx_net_mode m, bool host_loopback)
{
	return xasprintf("%s%s", net_mode_name(m), host_loopback ? ":" NET_HOST_LOOPBACK : "");
}

const char *net_mode_name(enum sbx_net_mode m)
{
	return (size_t)m < ARRAY_SIZE(net_names) ? net_names[m] : "?";
}

static int parse_port(const char *s, const char *what, uint16_t *out, char **why)
{
	uint64_t v;
	if (parse_u64(s, &v) < 0 || v == 0 || v > 65535) {
		_cleanup_free_ char *d = str_display(s);
		why_set(why, "%s port \"%s\" is not a number from 1 to 65535", what, d);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

int net_publish_parse(const char *spec, struct sbx_publish *out, char **why)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *copy = xstrdup(spec);
	char *proto = strrchr(copy, '/');
	if (proto) {
		*proto++ = '\0';
		if (strcmp(proto, "udp") == 0) {
			out->udp = true;
		} else if (strcmp(proto, "tcp") != 0) {
			_cleanup_free_ char *d = str_display(proto);
			why_set(why, "unknown protocol \"%s\" (expected tcp or udp)", d);
			return -1;
		}
	}
	char *ports = copy, *ip = NULL;
	bool v6 = false;
	if (copy[0] == '[') {
		char *rb = strchr(copy, ']');
		if (rb == NULL || rb[1] != ':') {
			why_set(why, "expected [IPV6]:HOSTPORT:SANDBOXPORT");
			return -1;
		}
		*rb = '\0';
		ip = copy + 1;
		ports = rb + 2;
		v6 = true;
	} else {
		size_t colons = str_count_char(copy, ':');
		if (colons == 2) {
			ip = copy;
			ports = strchr(copy, ':');
			*ports++ = '\0';
		} else if (colons != 1) {
			why_set(why, colons == 0 ? "expected [IP:]HOSTPORT:SANDBOXPORT[/tcp|udp]"
			                         : "put an IPv6 address in brackets: "
			                           "[::1]:HOSTPORT:SANDBOXPORT");
			return -1;
		}
	}
	char *sport = strchr(ports, ':');
	if (sport == NULL || strchr(sport + 1, ':')) {
		why_set(why, "expected [IP:]HOSTPORT:SANDBOXPORT[/tcp|udp]");
		return -1;
	}
	*sport++ = '\0';
	if (parse_port(ports, "host", &out->host_port, why) < 0 ||
	    parse_port(sport, "sandbox", &out->sandbox_port, why) < 0)
		return -1;
	if (ip) {
		unsigned char addr[sizeof(struct in6_addr)];
		char buf[INET6_ADDRSTRLEN];
		int af = v6 ? AF_INET6 : AF_INET;
		if (inet_pton(af, ip, addr) != 1 || inet_ntop(af, addr, buf, sizeof(buf)) == NULL) {
			_cleanup_free_ char *d = str_display(ip);
			why_set(why, "\"%s\" is not an %s address", d, v6 ? "IPv6" : "IPv4");
			return -1;
		}
		out->host_ip = xstrdup(buf);
	}
	return 0;
}

static bool any_address(const char *ip)
{
	return strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

bool net_publish_overlap(const struct sbx_publish *a, const struct sbx_publish *b)
{
	if (a->host_port != b->host_port || a->udp != b->udp)
		return false;
	if (a->host_ip == NULL || b->host_ip == NULL)
		return true;
	if ((strchr(a->host_ip, ':') == NULL) != (strchr(b->host_ip, ':') == NULL))
		return false;
	return strcmp(a->host_ip, b->host_ip) == 0 || any_address(a->host_ip) ||
	       any_address(b->host_ip);
}
