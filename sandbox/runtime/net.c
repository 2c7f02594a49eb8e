/* net.c - the sandbox's network: loopback, pasta and slirp4netns, published
 * ports and the generated /etc files. Netlink jobs use libnl-route. */
#define _GNU_SOURCE
#include "runtime/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#define READY_TIMEOUT_MS 10000 /* helper start-up and interface configuration */
#define API_TIMEOUT_MS   5000  /* one slirp4netns API request */
#define STOP_TIMEOUT_MS  2000  /* SIGTERM, then SIGKILL */
#define READY_FIFO       ".network-ready"
#define API_SOCKET       "slirp4netns.sock"

static void nl_socket_freep(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}
static void nl_cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}
#define _cleanup_nl_sock_  _cleanup_(nl_socket_freep)
#define _cleanup_nl_cache_ _cleanup_(nl_cache_freep)

static int nl_open(struct nl_sock **out, struct sbx_error **err)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (sk == NULL)
		return sbx_error_set(err, ENOMEM, "cannot allocate a netlink socket");
	int r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return sbx_error_set(err, 0, "cannot open a netlink socket: %s", nl_geterror(r));
	}
	*out = sk;
	return 0;
}

int net_loopback_up(struct sbx_error **err)
{
	/* A new network namespace registers its loopback first, as index 1
	 * (LOOPBACK_IFINDEX): one RTM_NEWLINK request and its ack, built on
	 * the stack (libnl's allocations and socket set-up cost the sandbox's
	 * start-up more than the request). */
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open a netlink socket");
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
	    .nh = {.nlmsg_len = sizeof(req),
	           .nlmsg_type = RTM_NEWLINK,
	           .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
	           .nlmsg_seq = 1},
	    .ifi = {.ifi_family = AF_UNSPEC,
	            .ifi_index = 1,
	            .ifi_flags = IFF_UP,
	            .ifi_change = IFF_UP},
	};
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return sbx_error_set(err, errno, "cannot bring the loopback interface up");
	/* The ack: an error message (0 for success), then the request. */
	union {
		struct nlmsghdr nh;
		char buf[256];
	} ack;
	ssize_t n;
	do
		n = recv(fd, &ack, sizeof(ack), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sbx_error_set(err, errno, "cannot bring the loopback interface up");
	const struct nlmsgerr *e = NLMSG_DATA(&ack.nh);
	if ((size_t)n < NLMSG_LENGTH(sizeof(*e)) || ack.nh.nlmsg_type != NLMSG_ERROR ||
	    ack.nh.nlmsg_seq != req.nh.nlmsg_seq)
		return sbx_error_set(err, EPROTO, "cannot bring the loopback interface up");
	if (e->error != 0)
		return sbx_error_set(err, -e->error, "cannot bring the loopback interface up");
	return 0;
}

/* ---- finding a helper ---- */

static const char *helper_name(enum sbx_net_mode m)
{
	return m == SBX_NET_PASTA ? "pasta" : "slirp4netns";
}

static const char *helper_package(enum sbx_net_mode m)
{
	return m == SBX_NET_PASTA ? "passt" : "slirp4netns";
}

static int tun_error(enum sbx_net_mode asked, struct sbx_error **err)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	int e = errno;
	const char *hint = e == ENOENT || e == ENODEV
	                       ? "load the tun kernel module (modprobe tun)"
	                       : "ask an administrator to make it mode 0666 (udev normally does)";
	return sbx_error_setc(err, e,
	                      "network \"%s\": /dev/net/tun is not usable (%s); hint: %s, or use "
	                      "--network none",
	                      net_mode_name(asked), strerror(e), hint);
}

/* The helper's path for mode (pasta or slirp4netns), checked. */
static int helper_find(enum sbx_net_mode asked, enum sbx_net_mode m, char **path,
                       struct sbx_error **err)
{
	_cleanup_free_ char *p = path_find(helper_name(m));
	if (p == NULL)
		return sbx_error_setc(
		    err, ENOENT,
		    "network \"%s\": \"%s\" was not found in $PATH; hint: install "
		    "the \"%s\" package, or use --network none",
		    net_mode_name(asked), helper_name(m), helper_package(m));
	if (tun_error(asked, err) < 0)
		return -1;
	if (path)
		*path = steal_ptr(p);
	return 0;
}

static int resolve(enum sbx_net_mode mode, enum sbx_net_mode *out, char **path,
                   struct sbx_error **err)
{
	if (path)
		*path = NULL;
	switch (mode) {
	case SBX_NET_NONE:
	case SBX_NET_HOST:
		*out = mode;
		return 0;
	case SBX_NET_PASTA:
	case SBX_NET_SLIRP4NETNS:
		*out = mode;
		return helper_find(mode, mode, path, err);
	case SBX_NET_AUTO:
		break;
	default:
		return sbx_error_set(err, EINVAL, "unknown network mode %d", (int)mode);
	}
	static const enum sbx_net_mode order[] = {SBX_NET_PASTA, SBX_NET_SLIRP4NETNS};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		_cleanup_free_ char *p = path_find(helper_name(order[i]));
		if (p == NULL)
			continue;
		if (tun_error(mode, err) < 0)
			return -1;
		*out = order[i];
		if (path)
			*path = steal_ptr(p);
		return 0;
	}
	return sbx_error_setc(
	    err, ENOENT,
	    "network \"auto\": neither \"pasta\" nor \"slirp4netns\" was found in "
	    "$PATH; hint: install the \"passt\" or \"slirp4netns\" package, or "
	    "use --network none");
}

int net_resolve(enum sbx_net_mode mode, enum sbx_net_mode *out, struct sbx_error **err)
{
	return resolve(mode, out, NULL, err);
}

/* ---- published ports ---- */

static char *publish_one(const struct sbx_publish *p)
{
	const char *ip = p->host_ip;
	bool v6 = ip && strchr(ip, ':');
	return xasprintf("%s%s%s%s%u:%u/%s", v6 ? "[" : "", ip ? ip : "", v6 ? "]" : "",
	                 ip ? ":" : "", p->host_port, p->sandbox_port, p->udp ? "udp" : "tcp");
}

char *net_publish_format(const struct sbx_publish *p, size_t n)
{
	if (n == 0)
		return NULL;
	char *out = NULL;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *one = publish_one(&p[i]);
		char *next = xasprintf("%s%s%s", out ? out : "", out ? "," : "", one);
		free(out);
		out = next;
	}
	return out;
}

static void publish_free(struct sbx_publish *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].host_ip);
	free(p);
}

int net_config_parse(const char *mode, const char *publish, const char *dir, bool netns,
                     struct sbx_net_config *out, struct sbx_error **err)
{
	memset(out, 0, sizeof(*out));
	_cleanup_free_ char *why = NULL;
	if (mode == NULL)
		out->mode = netns ? SBX_NET_NONE : SBX_NET_HOST;
	else if (net_mode_parse(mode, &out->mode, &out->host_loopback, &why) < 0)
		return sbx_error_setc(err, EINVAL, "annotations: run.sbx.network \"%s\": %s", mode,
		                      why);
	if ((out->mode == SBX_NET_HOST) == netns)
		return sbx_error_setc(err, EINVAL,
		                      "annotations: network \"%s\" %s a network namespace in "
		                      "linux.namespaces",
		                      net_mode_name(out->mode), netns ? "conflicts with" : "needs");
	bool helper = out->mode != SBX_NET_NONE && out->mode != SBX_NET_HOST;
	if (publish && *publish) {
		if (!helper)
			return sbx_error_setc(err, EINVAL,
			                      "annotations: run.sbx.network.publish needs a "
			                      "user-mode network, not \"%s\"",
			                      net_mode_name(out->mode));
		_cleanup_free_ char *copy = xstrdup(publish);
		char *save = NULL;
		for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
			struct sbx_publish p;
			if (net_publish_parse(s, &p, &why) < 0) {
				net_config_free(out);
				return sbx_error_setc(err, EINVAL,
				                      "annotations: run.sbx.network.publish "
				                      "\"%s\": %s",
				                      s, why);
			}
			for (size_t i = 0; i < out->n_publish; i++) {
				if (!net_publish_overlap(&out->publish[i], &p))
					continue;
				_cleanup_free_ char *other = publish_one(&out->publish[i]);
				free(p.host_ip);
				net_config_free(out);
				return sbx_error_setc(err, EINVAL,
				                      "annotations: run.sbx.network.publish "
				                      "\"%s\": host port %u/%s is already "
				                      "published by \"%s\"",
				                      s, p.host_port, p.udp ? "udp" : "tcp", other);
			}
			out->publish =
			    xrealloc(out->publish, (out->n_publish + 1) * sizeof(*out->publish));
			out->publish[out->n_publish++] = p;
		}
	}
	if (helper && (dir == NULL || *dir == '\0')) {
		enum sbx_net_mode m = out->mode;
		net_config_free(out);
		return sbx_error_setc(err, EINVAL,
		                      "annotations: network \"%s\" needs run.sbx.network.dir, the "
		                      "directory for its files",
		                      net_mode_name(m));
	}
	out->dir = dir && *dir ? xstrdup(dir) : NULL;
	return 0;
}

void net_config_free(struct sbx_net_config *c)
{
	if (c == NULL)
		return;
	publish_free(c->publish, c->n_publish);
	free(c->dir);
	memset(c, 0, sizeof(*c));
}

/* Binds the host port of p on ip (NULL: the wildcard of family af) the way
 * the helpers would. Returns 0 when it is free, else an errno; *sock says
 * whether socket() was what failed. */
static int try_bind(const struct sbx_publish *p, int af, const char *ip, bool *sock)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	*sock = false;
	if (af == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p->host_port);
		a->sin6_addr = in6addr_any;
		if (ip)
			inet_pton(AF_INET6, ip, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(p->host_port);
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		if (ip)
			inet_pton(AF_INET, ip, &a->sin_addr);
		len = sizeof(*a);
	}
	_cleanup_close_ int fd = socket(af, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*sock = true;
		return errno;
	}
	int one = 1;
	/* As the helpers bind: a TCP port in TIME_WAIT is not in use. */
	if (!p->udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	return bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
}

/* A host port pasta or slirp4netns would fail to bind: checked up front,
 * because pasta only logs such a failure and goes on without the port. A
 * port on all addresses must be free in both families: pasta binds both,
 * and a program on [::] would answer the host's clients of localhost. */
static int publish_check(const struct sbx_publish *p, struct sbx_error **err)
{
	bool v6 = p->host_ip && strchr(p->host_ip, ':');
	const char *where = p->host_ip;
	bool sock;
	int e = try_bind(p, v6 ? AF_INET6 : AF_INET, p->host_ip, &sock);
	if (e == 0 && p->host_ip == NULL) {
		e = try_bind(p, AF_INET6, NULL, &sock);
		/* A host without IPv6. */
		if (e == EAFNOSUPPORT || e == EADDRNOTAVAIL)
			e = 0;
		where = "::";
	}
	if (e == 0)
		return 0;
	if (sock)
		return sbx_error_set(err, e, "--publish: cannot create a socket");
	_cleanup_free_ char *spec = publish_one(p);
	if (e == EADDRINUSE)
		return sbx_error_setc(err, e,
		                      "--publish \"%s\": host port %u/%s is already in use%s%s; "
		                      "choose another host port",
		                      spec, p->host_port, p->udp ? "udp" : "tcp",
		                      where ? " on " : "", where ? where : "");
	if (e == EACCES)
		return sbx_error_setc(
		    err, e,
		    "--publish \"%s\": host port %u needs privileges (ports below "
		    "net.ipv4.ip_unprivileged_port_start do); choose a higher host "
		    "port",
		    spec, p->host_port);
	return sbx_error_setc(err, e, "--publish \"%s\": cannot bind host port %u: %s", spec,
	                      p->host_port, strerror(e));
}

/* ---- the running network ---- */

struct sbx_addrs {
	char ifname[IF_NAMESIZE];
	char addr[INET6_ADDRSTRLEN];
	char gateway[INET6_ADDRSTRLEN];
};

struct sbx_net {
	enum sbx_net_mode mode;
	pid_t pid; /* the helper, 0 = none */
	int pidfd;
	int exit_fd; /* our end of slirp4netns' --exit-fd */
	int dirfd;   /* O_PATH of the network directory, or -1 */
	bool exited;
	json_t *info; /* network.json */
};

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last lines of the helper's log, for a failure message. */
static char *log_tail(int dirfd)
{
	if (dirfd < 0)
		return NULL;
	_cleanup_close_ int fd = openat(dirfd, SBX_NET_LOG, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	char buf[4096];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	/* Up to two last lines worth showing. */
	char *lines[2] = {NULL, NULL};
	char *save = NULL;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '\0' || str_startswith(l, "Failed to send") ||
		    strstr(l, "unknown version") || str_startswith(l, "WARNING"))
			continue;
		lines[0] = lines[1];
		lines[1] = l;
	}
	if (lines[1] == NULL)
		return NULL;
	/* pasta logs an error to its log file and to stderr: once is enough. */
	if (lines[0] == NULL || strstr(lines[0], lines[1]) || strstr(lines[1], lines[0]))
		return xstrdup(lines[1]);
	return xasprintf("%s; %s", lines[0], lines[1]);
}

static void helper_reap(struct sbx_net *n, int *status)
{
	siginfo_t si = {0};
	*status = -1;
	int r;
	do
		r = waitid(P_PIDFD, (id_t)n->pidfd, &si, WEXITED);
	while (r < 0 && errno == EINTR);
	n->exited = true;
	if (r == 0)
		*status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

static int helper_died(struct sbx_net *n, const char *when, struct sbx_error **err)
{
	int status;
	helper_reap(n, &status);
	_cleanup_free_ char *tail = log_tail(n->dirfd);
	return sbx_error_set(err, 0, "network \"%s\": %s exited with status %d %s%s%s",
	                     net_mode_name(n->mode), helper_name(n->mode), status, when,
	                     tail ? ": " : "", tail ? tail : "");
}

/* Forks and execs the helper in its own session, with fds[i] as fd 3+i,
 * stdout and stderr to the log, and the network directory as its cwd. It
 * gets SIGKILL when sbx dies. */
static int helper_spawn(struct sbx_net *n, const char *path, char *const argv[], int log_fd,
                        const int *fds, size_t n_fds, struct sbx_error **err)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return sbx_error_set(err, errno, "cannot start %s", helper_name(n->mode));
	if (pid == 0) {
		setsid();
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		struct sigaction sa = {.sa_handler = SIG_DFL};
		for (int s = 1; s < NSIG; s++)
			sigaction(s, &sa, NULL);
		if (fchdir(n->dirfd) < 0)
			_exit(127);
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		int tmp_log = fcntl(log_fd, F_DUPFD_CLOEXEC, 16);
		int tmp[8];
		for (size_t i = 0; i < n_fds && i < ARRAY_SIZE(tmp); i++)
			tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16);
		if (nul < 0 || tmp_log < 0 || dup2(nul, 0) < 0 || dup2(tmp_log, 1) < 0 ||
		    dup2(tmp_log, 2) < 0)
			_exit(127);
		for (size_t i = 0; i < n_fds && i < ARRAY_SIZE(tmp); i++)
			if (tmp[i] < 0 || dup2(tmp[i], 3 + (int)i) < 0)
				_exit(127);
		close_range(3 + (unsigned)n_fds, ~0U, 0);
		execv(path, argv);
		dprintf(2, "sbx: cannot execute \"%s\": %s\n", path, strerror(errno));
		_exit(127);
	}
	n->pid = pid;
	n->pidfd = pidfd_open_(pid);
	if (n->pidfd < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		n->pid = 0;
		return sbx_error_set(err, e, "pidfd_open");
	}
	sbx_trace("network: %s started, pid %d", helper_name(n->mode), (int)pid);
	return 0;
}

/* Waits until fd has data or the helper exits. */
static int helper_wait(struct sbx_net *n, int fd, struct sbx_error **err)
{
	long deadline = now_ms() + READY_TIMEOUT_MS;
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return sbx_error_set(err, 0,
			                     "network \"%s\": %s did not become ready within %d "
			                     "seconds",
			                     net_mode_name(n->mode), helper_name(n->mode),
			                     READY_TIMEOUT_MS / 1000);
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
		                      {.fd = n->pidfd, .events = POLLIN}};
		int r = poll(p, 2, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sbx_error_set(err, errno, "poll");
		if (p[0].revents & POLLIN) {
			char buf[64];
			ssize_t got = read(fd, buf, sizeof(buf));
			if (got > 0)
				return 0;
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return helper_died(n, "before it was ready", err);
		}
		if (p[0].revents & (POLLHUP | POLLERR) || p[1].revents)
			return helper_died(n, "before it was ready", err);
	}
}

/* ---- the readiness check inside the namespace ---- */

/* A non-loopback link that is up, with an IPv4 address and the default
 * route through it. Returns 1 when there is one, 0 when not yet. */
static int probe_check(struct nl_sock *sk, struct sbx_addrs *a, struct sbx_error **err)
{
	_cleanup_nl_cache_ struct nl_cache *routes = NULL;
	_cleanup_nl_cache_ struct nl_cache *links = NULL;
	_cleanup_nl_cache_ struct nl_cache *addrs = NULL;
	int r = rtnl_route_alloc_cache(sk, AF_INET, 0, &routes);
	if (r == 0)
		r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
	if (r == 0)
		r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r < 0)
		return sbx_error_set(err, 0, "netlink: %s", nl_geterror(r));
	for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;
		struct nl_addr *dst = rtnl_route_get_dst(rt);
		if (rtnl_route_get_table(rt) != RT_TABLE_MAIN ||
		    (dst && nl_addr_get_prefixlen(dst) != 0) || rtnl_route_get_nnexthops(rt) < 1)
			continue;
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
		struct nl_addr *gw = rtnl_route_nh_get_gateway(nh);
		int ifindex = rtnl_route_nh_get_ifindex(nh);
		struct rtnl_link *link = rtnl_link_get(links, ifindex);
		if (link == NULL)
			continue;
		bool up = rtnl_link_get_flags(link) & IFF_UP;
		snprintf(a->ifname, sizeof(a->ifname), "%s", rtnl_link_get_name(link));
		rtnl_link_put(link);
		if (!up)
			continue;
		a->gateway[0] = '\0';
		if (gw && nl_addr_get_family(gw) == AF_INET)
			inet_ntop(AF_INET, nl_addr_get_binary_addr(gw), a->gateway,
			          sizeof(a->gateway));
		for (struct nl_object *x = nl_cache_get_first(addrs); x; x = nl_cache_get_next(x)) {
			struct rtnl_addr *ad = (struct rtnl_addr *)x;
			struct nl_addr *local = rtnl_addr_get_local(ad);
			if (rtnl_addr_get_ifindex(ad) != ifindex ||
			    rtnl_addr_get_family(ad) != AF_INET || local == NULL)
				continue;
			inet_ntop(AF_INET, nl_addr_get_binary_addr(local), a->addr,
			          sizeof(a->addr));
			return 1;
		}
	}
	return 0;
}

/* In the probe process: joins the sandbox's user and network namespaces,
 * then checks, and re-checks on every link, address or route change, until
 * the interface is ready. Returns 1 when it is, 0 on timeout. */
static int probe_run(int pidfd, struct sbx_addrs *a, struct sbx_error **err)
{
	if (setns(pidfd, CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return sbx_error_set(err, errno, "cannot join the sandbox's network namespace");
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	_cleanup_nl_sock_ struct nl_sock *ev = NULL;
	if (nl_open(&sk, err) < 0 || nl_open(&ev, err) < 0)
		return -1;
	/* Subscribed before the first check, so no change can slip between. */
	int r =
	    nl_socket_add_memberships(ev, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, 0);
	if (r < 0)
		return sbx_error_set(err, 0, "netlink: %s", nl_geterror(r));
	long deadline = now_ms() + READY_TIMEOUT_MS;
	for (;;) {
		int ready = probe_check(sk, a, err);
		if (ready != 0)
			return ready;
		long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = nl_socket_get_fd(ev), .events = POLLIN};
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return sbx_error_set(err, errno, "poll");
		char buf[8192];
		while (recv(nl_socket_get_fd(ev), buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
}

/* Writes "ok IFNAME ADDR GATEWAY" or "error TEXT" to out. */
_Noreturn static void probe_main(int pidfd, int out)
{
	struct sbx_error *err = NULL;
	struct sbx_addrs a = {0};
	int ready = probe_run(pidfd, &a, &err);
	char msg[512];
	if (ready == 1)
		snprintf(msg, sizeof(msg), "ok %s %s %s", a.ifname, a.addr,
		         a.gateway[0] ? a.gateway : "-");
	else if (err)
		snprintf(msg, sizeof(msg), "error %s", err->msg);
	else
		snprintf(msg, sizeof(msg),
		         "error the sandbox's interface%s%s has no address and default route "
		         "after %d seconds",
		         a.ifname[0] ? " " : "", a.ifname, READY_TIMEOUT_MS / 1000);
	write_all(out, msg, strlen(msg));
	_exit(ready == 1 ? 0 : 1);
}

static int probe(struct sbx_net *n, int pidfd, struct sbx_addrs *a, struct sbx_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "pipe");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return sbx_error_set(err, e, "fork");
	}
	if (pid == 0) {
		close(p[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
			_exit(1);
		probe_main(pidfd, p[1]);
	}
	close(p[1]);
	char buf[600];
	size_t len = 0;
	for (;;) {
		ssize_t r = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1)
			break;
	}
	close(p[0]);
	buf[len] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char gw[INET6_ADDRSTRLEN] = "";
	if (sscanf(buf, "ok %15s %45s %45s", a->ifname, a->addr, gw) == 3) {
		snprintf(a->gateway, sizeof(a->gateway), "%s", strcmp(gw, "-") ? gw : "");
		sbx_trace("network: %s has %s, gateway %s", a->ifname, a->addr, gw);
		return 0;
	}
	return sbx_error_set(err, 0, "network \"%s\": %s", net_mode_name(n->mode),
	                     str_startswith(buf, "error ") ? buf + 6
	                                                   : "the readiness check failed");
}

/* ---- slirp4netns' API socket ---- */

static int slirp_request(struct sbx_net *n, json_t *req, struct sbx_error **err)
{
	_cleanup_free_ char *text = json_dumps(req, JSON_COMPACT);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sbx_error_set(err, errno, "socket");
	/* Through the directory fd: the socket's own path may be too long. */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", n->dirfd, API_SOCKET);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sbx_error_set(err, errno, "cannot reach slirp4netns' API socket");
	if (write_all(fd, text, strlen(text)) < 0 || shutdown(fd, SHUT_WR) < 0)
		return sbx_error_set(err, errno, "cannot send a request to slirp4netns");
	char buf[4096];
	size_t len = 0;
	long deadline = now_ms() + API_TIMEOUT_MS;
	for (;;) {
		long left = deadline - now_ms();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			return sbx_error_set(err, ETIMEDOUT, "slirp4netns did not answer");
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sbx_error_set(err, errno, "cannot read slirp4netns' answer");
		if (r == 0 || (len += (size_t)r) == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	json_error_t je;
	_cleanup_json_ json_t *reply = json_loads(buf, 0, &je);
	if (json_object_get(reply, "return"))
		return 0;
	const char *desc =
	    json_string_value(json_object_get(json_object_get(reply, "error"), "desc"));
	return sbx_error_set(err, 0, "slirp4netns refused: %s", desc ? desc : buf);
}

static int slirp_publish(struct sbx_net *n, const struct sbx_net_config *c, struct sbx_error **err)
{
	for (size_t i = 0; i < c->n_publish; i++) {
		const struct sbx_publish *p = &c->publish[i];
		_cleanup_json_ json_t *req =
		    json_pack("{s:s, s:{s:s, s:s, s:i, s:s, s:i}}", "execute", "add_hostfwd",
		              "arguments", "proto", p->udp ? "udp" : "tcp", "host_addr",
		              p->host_ip ? p->host_ip : "0.0.0.0", "host_port", (int)p->host_port,
		              "guest_addr", SBX_NET_SLIRP_ADDR, "guest_port", (int)p->sandbox_port);
		if (slirp_request(n, req, err) < 0) {
			_cleanup_free_ char *spec = publish_one(p);
			return sbx_error_prefix(err, "--publish \"%s\"", spec);
		}
	}
	return 0;
}

/* ---- starting the helpers ---- */

static int open_log(struct sbx_net *n, struct sbx_error **err)
{
	int fd = openat(n->dirfd, SBX_NET_LOG,
	                O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot create the network log");
	return fd;
}

static int start_pasta(struct sbx_net *n, const struct sbx_net_config *c, const char *path,
                       pid_t target, struct sbx_error **err)
{
	/* pasta writes its pid file once the namespace is configured: a FIFO,
	 * held open for reading and writing so it never reports EOF. */
	unlinkat(n->dirfd, READY_FIFO, 0);
	if (mkfifoat(n->dirfd, READY_FIFO, 0600) < 0)
		return sbx_error_set(err, errno, "cannot create a FIFO for pasta");
	_cleanup_close_ int ready = openat(n->dirfd, READY_FIFO, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (ready < 0) {
		int e = errno;
		unlinkat(n->dirfd, READY_FIFO, 0);
		return sbx_error_set(err, e, "cannot open a FIFO for pasta");
	}
	_cleanup_close_ int log_fd = open_log(n, err);
	if (log_fd < 0) {
		unlinkat(n->dirfd, READY_FIFO, 0);
		return -1;
	}
	_cleanup_strv_ char **argv = NULL;
	strv_push(&argv, "pasta");
	/* Foreground, so the pid sbx watches is pasta's; -T/-U none: the
	 * sandbox's own loopback stays its own. */
	const char *fixed[] = {"--config-net",   "--foreground", "--quiet",  "--log-file",
	                       SBX_NET_LOG,      "--pid",        READY_FIFO, "--tcp-ns",
	                       "none",           "--udp-ns",     "none",     "--dns-forward",
	                       SBX_NET_PASTA_DNS};
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		strv_push(&argv, fixed[i]);
	/* pasta maps the gateway's addresses to the host's 127.0.0.1 and ::1
	 * unless told not to; as in podman, only on request. */
	if (!c->host_loopback)
		strv_push(&argv, "--no-map-gw");
	/* As root, pasta would become nobody, who cannot enter the namespaces. */
	if (geteuid() == 0) {
		strv_push(&argv, "--runas");
		strv_push(&argv, "0:0");
	}
	bool tcp = false, udp = false;
	for (size_t i = 0; i < c->n_publish; i++) {
		const struct sbx_publish *p = &c->publish[i];
		strv_push(&argv, p->udp ? "--udp-ports" : "--tcp-ports");
		strv_push_take(&argv,
		               xasprintf("%s%s%u:%u", p->host_ip ? p->host_ip : "",
		                         p->host_ip ? "/" : "", p->host_port, p->sandbox_port));
		if (p->udp)
			udp = true;
		else
			tcp = true;
	}
	if (!tcp) {
		strv_push(&argv, "--tcp-ports");
		strv_push(&argv, "none");
	}
	if (!udp) {
		strv_push(&argv, "--udp-ports");
		strv_push(&argv, "none");
	}
	strv_push_take(&argv, xasprintf("%d", (int)target));
	int r = helper_spawn(n, path, argv, log_fd, NULL, 0, err);
	if (r == 0)
		r = helper_wait(n, ready, err);
	unlinkat(n->dirfd, READY_FIFO, 0);
	return r;
}

static int start_slirp(struct sbx_net *n, const struct sbx_net_config *c, const char *path,
                       pid_t target, struct sbx_error **err)
{
	int ready[2], ex[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "pipe");
	if (pipe2(ex, O_CLOEXEC) < 0) {
		int e = errno;
		close(ready[0]);
		close(ready[1]);
		return sbx_error_set(err, e, "pipe");
	}
	_cleanup_close_ int ready_r = ready[0];
	_cleanup_close_ int ready_w = ready[1];
	_cleanup_close_ int exit_r = ex[0];
	/* slirp4netns exits when this end closes: with sbx, whatever kills it. */
	n->exit_fd = ex[1];
	_cleanup_close_ int log_fd = open_log(n, err);
	if (log_fd < 0)
		return -1;
	unlinkat(n->dirfd, API_SOCKET, 0);
	_cleanup_free_ char *pid = xasprintf("%d", (int)target);
	_cleanup_strv_ char **argv = NULL;
	const char *fixed[] = {"slirp4netns",  "--configure",      "--mtu=65520",
	                       "--ready-fd=3", "--exit-fd=4",      "--api-socket",
	                       API_SOCKET,     "--enable-sandbox", "--enable-seccomp"};
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		strv_push(&argv, fixed[i]);
	/* 10.0.2.2 is the host's 127.0.0.1 unless this is given; as in podman,
	 * it is open only on request. */
	if (!c->host_loopback)
		strv_push(&argv, "--disable-host-loopback");
	strv_push(&argv, pid);
	strv_push(&argv, "tap0");
	int fds[] = {ready_w, exit_r};
	if (helper_spawn(n, path, argv, log_fd, fds, ARRAY_SIZE(fds), err) < 0)
		return -1;
	close(steal_fd(ready_w));
	close(steal_fd(exit_r));
	if (helper_wait(n, ready_r, err) < 0)
		return -1;
	return slirp_publish(n, c, err);
}

/* ---- the generated files ---- */

static char *host_resolv(void)
{
	char *text = NULL;
	size_t len;
	if (read_file("/etc/resolv.conf", 1 << 20, &text, &len, NULL) < 0)
		return NULL;
	return text;
}

/* search and domain lines of the host's resolv.conf, behind a forwarder. */
static char *host_search(void)
{
	_cleanup_free_ char *text = host_resolv();
	char *out = xstrdup("");
	char *save = NULL;
	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (!str_startswith(l, "search") && !str_startswith(l, "domain"))
			continue;
		char *next = xasprintf("%s%s\n", out, l);
		free(out);
		out = next;
	}
	return out;
}

static int write_text(struct sbx_net *n, const char *name, const char *text, struct sbx_error **err)
{
	return write_file_atomic(n->dirfd, name, text, strlen(text), 0644, err);
}

static int write_info(struct sbx_net *n, struct sbx_error **err)
{
	_cleanup_free_ char *text = json_dumps(n->info, JSON_INDENT(2));
	if (text == NULL)
		return sbx_error_set(err, ENOMEM, "cannot write %s", SBX_NET_INFO);
	size_t len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	return write_text(n, SBX_NET_INFO, text, err);
}

static int write_files(struct sbx_net *n, const struct sbx_net_config *c, const char *hostname,
                       const struct sbx_addrs *a, const char *helper_path, struct sbx_error **err)
{
	char host[256] = "sbx";
	if (hostname && *hostname)
		snprintf(host, sizeof(host), "%s", hostname);
	else
		gethostname(host, sizeof(host) - 1);
	const char *mode = net_mode_name(n->mode);
	bool helper = n->pid > 0;
	const char *dns = n->mode == SBX_NET_PASTA         ? SBX_NET_PASTA_DNS
	                  : n->mode == SBX_NET_SLIRP4NETNS ? SBX_NET_SLIRP_DNS
	                                                   : NULL;

	_cleanup_free_ char *hosts = xasprintf(
	    "# Written by sbx for this sandbox (network \"%s\"); the image is not changed.\n"
	    "127.0.0.1\tlocalhost\n"
	    "::1\tlocalhost ip6-localhost ip6-loopback\n"
	    "%s\t%s\n",
	    mode, helper ? a->addr : "127.0.1.1", host);
	bool loopback = helper && c->host_loopback && a->gateway[0];
	if (loopback) {
		/* The helper maps its gateway address to the host's loopback. */
		char *more = xasprintf("%s%s\thost.sbx.internal\n", hosts, a->gateway);
		free(hosts);
		hosts = more;
	}
	_cleanup_free_ char *resolv = NULL;
	if (n->mode == SBX_NET_HOST) {
		_cleanup_free_ char *h = host_resolv();
		resolv =
		    xasprintf("# The host's /etc/resolv.conf, copied by sbx (network \"host\").\n"
		              "%s",
		              h ? h : "");
	} else if (dns) {
		_cleanup_free_ char *search = host_search();
		resolv = xasprintf("# Written by sbx: %s forwards DNS queries to the host's "
		                   "resolvers.\nnameserver %s\n%s",
		                   helper_name(n->mode), dns, search);
	} else {
		resolv = xstrdup("# Written by sbx: network \"none\" has no DNS server.\n");
	}

	json_t *publish = json_array();
	for (size_t i = 0; i < c->n_publish; i++) {
		_cleanup_free_ char *spec = publish_one(&c->publish[i]);
		json_array_append_new(publish, json_string(spec));
	}
	n->info = json_pack("{s:s, s:o, s:o, s:o}", "mode", mode, "helper",
	                    helper ? json_string(helper_name(n->mode)) : json_null(), "helper_pid",
	                    helper ? json_integer(n->pid) : json_null(), "publish", publish);
	if (helper) {
		_cleanup_free_ char *log = xasprintf("%s/%s", c->dir, SBX_NET_LOG);
		json_object_set_new(n->info, "helper_path", json_string(helper_path));
		json_object_set_new(n->info, "interface", json_string(a->ifname));
		json_object_set_new(n->info, "address", json_string(a->addr));
		json_object_set_new(n->info, "gateway",
		                    a->gateway[0] ? json_string(a->gateway) : json_null());
		json_object_set_new(n->info, "host_loopback",
		                    loopback ? json_string(a->gateway) : json_null());
		json_object_set_new(n->info, "log", json_string(log));
	}
	json_object_set_new(n->info, "dns", dns ? json_string(dns) : json_null());
	/* Without a helper network.json would only repeat the mode, which
	 * inspect reads from the config. */
	if (write_text(n, SBX_NET_HOSTS, hosts, err) < 0 ||
	    write_text(n, SBX_NET_RESOLV, resolv, err) < 0 || (helper && write_info(n, err) < 0))
		return -1;
	return 0;
}

int net_start(const struct sbx_net_config *c, const char *hostname, pid_t pid, int pidfd,
              struct sbx_net **out, struct sbx_error **err)
{
	*out = NULL;
	struct sbx_net *n = xcalloc(1, sizeof(*n));
	n->pidfd = n->exit_fd = n->dirfd = -1;
	_cleanup_free_ char *path = NULL;
	struct sbx_addrs a = {0};
	if (resolve(c->mode, &n->mode, &path, err) < 0)
		goto fail;
	if (c->dir) {
		n->dirfd = open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (n->dirfd < 0) {
			sbx_error_set(err, errno, "cannot open \"%s\"", c->dir);
			goto fail;
		}
	}
	if (path) {
		for (size_t i = 0; i < c->n_publish; i++) {
			const struct sbx_publish *p = &c->publish[i];
			if (n->mode == SBX_NET_SLIRP4NETNS && p->host_ip &&
			    strchr(p->host_ip, ':')) {
				_cleanup_free_ char *spec = publish_one(p);
				sbx_error_set(err, 0,
				              "--publish \"%s\": slirp4netns publishes IPv4 "
				              "addresses only; use --network pasta",
				              spec);
				goto fail;
			}
			if (publish_check(p, err) < 0)
				goto fail;
		}
		int r = n->mode == SBX_NET_PASTA ? start_pasta(n, c, path, pid, err)
		                                 : start_slirp(n, c, path, pid, err);
		if (r < 0 || probe(n, pidfd, &a, err) < 0)
			goto fail;
		if (n->pidfd >= 0) {
			struct pollfd p = {.fd = n->pidfd, .events = POLLIN};
			if (poll(&p, 1, 0) > 0) {
				helper_died(n, "while setting up", err);
				goto fail;
			}
		}
	}
	if (n->dirfd >= 0 && write_files(n, c, hostname, &a, path, err) < 0)
		goto fail;
	*out = n;
	return 0;
fail:
	net_stop(n);
	return -1;
}

void net_stop(struct sbx_net *n)
{
	if (n == NULL)
		return;
	if (n->pid > 0 && n->pidfd >= 0 && !n->exited) {
		/* slirp4netns leaves on its own once the exit fd is closed. */
		if (n->exit_fd >= 0)
			close(steal_fd(n->exit_fd));
		else
			syscall(SYS_pidfd_send_signal, n->pidfd, SIGTERM, NULL, 0);
		struct pollfd p = {.fd = n->pidfd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, STOP_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			syscall(SYS_pidfd_send_signal, n->pidfd, SIGKILL, NULL, 0);
		int status;
		helper_reap(n, &status);
		sbx_trace("network: %s stopped (status %d)", helper_name(n->mode), status);
	}
	if (n->dirfd >= 0) {
		if (n->mode == SBX_NET_SLIRP4NETNS)
			unlinkat(n->dirfd, API_SOCKET, 0);
		/* The instance stays inspectable: no helper runs any more. */
		if (n->info && n->pid > 0) {
			json_object_set_new(n->info, "helper_pid", json_null());
			write_info(n, NULL);
		}
		close(n->dirfd);
	}
	if (n->exit_fd >= 0)
		close(n->exit_fd);
	if (n->pidfd >= 0)
		close(n->pidfd);
	json_decref(n->info);
	free(n);
}
