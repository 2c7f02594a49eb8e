/* net.h - the sandbox's network: the loopback, the user-mode helpers (pasta
 * and slirp4netns) with published ports, and the generated /etc/hosts and
 * /etc/resolv.conf. Netlink jobs inside the sandbox use libnl-route.
 *
 * The helpers are found through $PATH and need a usable /dev/net/tun. sbx
 * starts the helper for the sandbox's network namespace once the uid/gid
 * maps are written, waits until it says it is ready (slirp4netns'
 * --ready-fd, pasta's pid file on a FIFO), checks with netlink inside the
 * namespace that the interface is up with an address and a default route,
 * and only then lets the sandbox go on. The helper dies with sbx
 * (PR_SET_PDEATHSIG, and slirp4netns' --exit-fd) and is stopped with it. */
#ifndef SBX_NET_H
#define SBX_NET_H

#include "runtime/netspec.h"
#include "lib/util.h"

#include <stdbool.h>
#include <sys/types.h>

/* Files sbx writes into the network directory (the instance directory). */
#define SBX_NET_HOSTS  "hosts"
#define SBX_NET_RESOLV "resolv.conf"
#define SBX_NET_INFO   "network.json"
#define SBX_NET_LOG    "network.log"

/* DNS forwarders the helpers provide, and slirp4netns' fixed addresses. */
#define SBX_NET_PASTA_DNS  "169.254.1.1"
#define SBX_NET_SLIRP_DNS  "10.0.2.3"
#define SBX_NET_SLIRP_ADDR "10.0.2.100"

/* The runtime's network settings, from the config's annotations. */
struct sbx_net_config {
	enum sbx_net_mode mode;
	bool host_loopback; /* the helper maps its gateway to the host's loopback */
	struct sbx_publish *publish;
	size_t n_publish;
	char *dir; /* hosts, resolv.conf, network.json and the helper's log; may be NULL */
};

/* Brings the loopback interface up. */
int net_loopback_up(struct sbx_error **err);

/* Checks that mode can work here and picks the helper for auto: pasta,
 * else slirp4netns. Fails with a one-line message and a hint when the
 * helper is missing from $PATH or /dev/net/tun cannot be opened. */
int net_resolve(enum sbx_net_mode mode, enum sbx_net_mode *out, struct sbx_error **err);

/* "[IP:]HOSTPORT:SANDBOXPORT/PROTO", IPv6 addresses in brackets, joined
 * with ','; NULL when n is 0. The form net_publish_parse reads. */
char *net_publish_format(const struct sbx_publish *p, size_t n);

/* Parses the annotations (mode and publish may be NULL); netns says
 * whether the config has a network namespace. mode is MODE[:host-loopback],
 * as --network takes it. */
int net_config_parse(const char *mode, const char *publish, const char *dir, bool netns,
                     struct sbx_net_config *out, struct sbx_error **err);
void net_config_free(struct sbx_net_config *c);

/* The running network of one sandbox. */
struct sbx_net;

/* Called by sbx once the sandbox's first process (pid, pidfd) exists and
 * its maps are written: starts the helper if the mode has one, waits until
 * the sandbox's interface is configured, publishes ports, and writes hosts,
 * resolv.conf and network.json into c->dir. On failure nothing is left
 * running. */
int net_start(const struct sbx_net_config *c, const char *hostname, pid_t pid, int pidfd,
              struct sbx_net **out, struct sbx_error **err);
/* Stops the helper and frees; NULL is fine. */
void net_stop(struct sbx_net *n);

#endif
