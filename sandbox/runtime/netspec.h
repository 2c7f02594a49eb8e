/* netspec.h - network settings as words: the modes --network and the
 * [network] keys name, and published ports. Shared by the profile loader,
 * which reads them, and the runtime, which reads them back from the
 * config's annotations. */
#ifndef SBX_NETSPEC_H
#define SBX_NETSPEC_H

#include "lib/util.h"

#include <stdbool.h>
#include <stdint.h>

enum sbx_net_mode {
	SBX_NET_NONE = 0, /* private netns, loopback only */
	SBX_NET_HOST,
	SBX_NET_PASTA,
	SBX_NET_SLIRP4NETNS,
	SBX_NET_AUTO, /* pasta, else slirp4netns */
};

struct sbx_publish {
	char *host_ip; /* NULL = all */
	uint16_t host_port, sandbox_port;
	bool udp;
	int line; /* while loading: the line that set it; -1: --publish; 0: inherited */
};

/* MODE[:OPTION[,OPTION...]], the form of --network; the only option is
 * host-loopback, for pasta, slirp4netns and auto. With host_loopback NULL
 * (the profile key mode) options are refused. Each parser returns 0, or -1
 * with a message in *why (allocated). */
int net_mode_parse(const char *s, enum sbx_net_mode *out, bool *host_loopback, char **why);
/* "pasta" or "pasta:host-loopback", as net_mode_parse reads it. */
char *net_mode_format(enum sbx_net_mode m, bool host_loopback);
const char *net_mode_name(enum sbx_net_mode m);
/* [IP:]HOSTPORT:SANDBOXPORT[/tcp|udp], IPv6 addresses in brackets. */
int net_publish_parse(const char *spec, struct sbx_publish *out, char **why);
/* Whether two published ports would take the same host socket: the same
 * port and protocol on the same address, or on all addresses (NULL, 0.0.0.0
 * or ::) of a family and one of its addresses. */
bool net_publish_overlap(const struct sbx_publish *a, const struct sbx_publish *b);

#endif
