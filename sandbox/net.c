/* net.c - netlink jobs inside the sandbox, with libnl-route. */
#define _GNU_SOURCE
#include "net.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

static void nl_socket_freep(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}
static void rtnl_link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
#define _cleanup_nl_sock_ _cleanup_(nl_socket_freep)
#define _cleanup_link_    _cleanup_(rtnl_link_putp)

int net_loopback_up(struct sbx_error **err)
{
	_cleanup_nl_sock_ struct nl_sock *sk = nl_socket_alloc();
	if (sk == NULL)
		return sbx_error_set(err, ENOMEM, "cannot allocate a netlink socket");
	int r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		return sbx_error_set(err, 0, "cannot open a netlink socket: %s", nl_geterror(r));
	_cleanup_link_ struct rtnl_link *lo = NULL;
	r = rtnl_link_get_kernel(sk, 0, "lo", &lo);
	if (r < 0)
		return sbx_error_set(err, 0, "cannot find the loopback interface: %s",
				     nl_geterror(r));
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	if (change == NULL)
		return sbx_error_set(err, ENOMEM, "cannot allocate a link change");
	rtnl_link_set_flags(change, IFF_UP);
	r = rtnl_link_change(sk, lo, change, 0);
	if (r < 0)
		return sbx_error_set(err, 0, "cannot bring the loopback interface up: %s",
				     nl_geterror(r));
	return 0;
}
