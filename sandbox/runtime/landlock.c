/* landlock.c - Landlock, a second wall inside the sandbox.
 *
 * Raw syscalls: libc has no wrappers, and Debian 12's headers stop at ABI 2,
 * so the later flags and structures are spelled out here. */
#define _GNU_SOURCE
#include "runtime/landlock.h"
#include "runtime/config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#define SBX_LANDLOCK_RULE_NET_PORT          2
#define SBX_LANDLOCK_ACCESS_NET_BIND_TCP    (1ULL << 0)
#define SBX_LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define SBX_LANDLOCK_SCOPE_ABSTRACT_UNIX    (1ULL << 0)
#define SBX_LANDLOCK_SCOPE_SIGNAL           (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6; the kernel takes its size. */
struct ruleset_attr {
	uint64_t handled_access_fs, handled_access_net, scoped;
};

struct net_port_attr {
	uint64_t allowed_access, port;
};

/* Rights that apply to a file, not only to a directory. */
#define FS_FILE_RIGHTS                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                              \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_READ_RIGHTS                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* Every filesystem right the kernel of this ABI knows. */
static uint64_t fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

int landlock_abi(void)
{
	/* Asked once per sbx: the sandbox's processes, which share or copy
	 * sbx's memory, find the answer sbx got when it built the config. */
	static int cached = -1;
	if (cached >= 0)
		return cached;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		abi = 0;
	const char *max = getenv("SBX_LANDLOCK_ABI_MAX");
	uint64_t m;
	if (max && parse_u64(max, &m) == 0 && (uint64_t)abi > m)
		abi = (long)m;
	return cached = (int)abi;
}

static bool has_fs_rules(const struct sbx_landlock *l);

bool landlock_has_rules(const struct sbx_landlock *l)
{
	return has_fs_rules(l) || l->bind_handled || l->connect_handled;
}

static bool has_fs_rules(const struct sbx_landlock *l)
{
	return (l->fs_ro && l->fs_ro[0]) || (l->fs_rw && l->fs_rw[0]);
}

char *landlock_shortfall(int abi, bool fs_rules, bool tcp_rules, bool host_net)
{
	if (abi < 1 && (fs_rules || tcp_rules))
		return xasprintf("this kernel has no Landlock: the profile's landlock_* rules "
		                 "are not enforced");
	if (abi < LANDLOCK_ABI_NET && tcp_rules)
		return xasprintf("this kernel's Landlock (ABI %d) has no TCP rules (ABI 4): "
		                 "landlock_tcp_bind and landlock_tcp_connect are not enforced",
		                 abi);
	if (abi < LANDLOCK_ABI_SCOPE && host_net)
		return xasprintf("this kernel's Landlock (ABI %d) cannot scope abstract unix "
		                 "sockets (ABI 6): with --network host the sandbox can reach the "
		                 "host's, such as the session bus and X11's",
		                 abi);
	return NULL;
}

static int parse_paths(const char *s, const char *what, char ***out, struct sbx_error **err)
{
	*out = xcalloc(1, sizeof(char *));
	if (s == NULL)
		return 0;
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *p = strtok_r(copy, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		if (p[0] != '/')
			return sbx_error_set(err, EINVAL,
			                     "annotations: %s: \"%s\" is not an absolute path",
			                     what, p);
		strv_push(out, p);
	}
	return 0;
}

static int parse_ports(const char *s, const char *what, uint16_t **out, size_t *n, bool *handled,
                       struct sbx_error **err)
{
	*handled = s != NULL;
	*n = 0;
	*out = xcalloc(1, sizeof(uint16_t));
	if (s == NULL || s[0] == '\0')
		return 0;
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (parse_u64(p, &v) < 0 || v > 65535)
			return sbx_error_set(err, EINVAL, "annotations: %s: \"%s\" is not a port",
			                     what, p);
		*out = xrealloc(*out, (*n + 1) * sizeof(uint16_t));
		(*out)[(*n)++] = (uint16_t)v;
	}
	return 0;
}

int landlock_parse(const char *fs_ro, const char *fs_rw, const char *tcp_bind,
                   const char *tcp_connect, struct sbx_landlock *l, struct sbx_error **err)
{
	return parse_paths(fs_ro, SBX_ANN_LANDLOCK_FS_RO, &l->fs_ro, err) < 0 ||
	               parse_paths(fs_rw, SBX_ANN_LANDLOCK_FS_RW, &l->fs_rw, err) < 0 ||
	               parse_ports(tcp_bind, SBX_ANN_LANDLOCK_TCP_BIND, &l->tcp_bind,
	                           &l->n_tcp_bind, &l->bind_handled, err) < 0 ||
	               parse_ports(tcp_connect, SBX_ANN_LANDLOCK_TCP_CONNECT, &l->tcp_connect,
	                           &l->n_tcp_connect, &l->connect_handled, err) < 0
	           ? -1
	           : 0;
}

void landlock_free(struct sbx_landlock *l)
{
	strv_free(l->fs_ro);
	strv_free(l->fs_rw);
	free(l->tcp_bind);
	free(l->tcp_connect);
	memset(l, 0, sizeof(*l));
}

static int add_path(int ruleset, const char *path, uint64_t rights, struct sbx_error **err)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno,
		                     "landlock: cannot open \"%s\" in the sandbox; remove it from "
		                     "the profile's landlock_fs_* keys or create it in the image",
		                     path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_error_set(err, errno, "landlock: cannot stat \"%s\"", path);
	if (!S_ISDIR(st.st_mode))
		rights &= FS_FILE_RIGHTS;
	struct landlock_path_beneath_attr a = {.allowed_access = rights, .parent_fd = fd};
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &a, 0) < 0)
		return sbx_error_set(err, errno, "landlock: cannot add a rule for \"%s\"", path);
	return 0;
}

static int add_ports(int ruleset, const uint16_t *ports, size_t n, uint64_t right,
                     struct sbx_error **err)
{
	for (size_t i = 0; i < n; i++) {
		struct net_port_attr a = {.allowed_access = right, .port = ports[i]};
		if (syscall(SYS_landlock_add_rule, ruleset, SBX_LANDLOCK_RULE_NET_PORT, &a, 0) < 0)
			return sbx_error_set(err, errno, "landlock: cannot add a rule for port %u",
			                     ports[i]);
	}
	return 0;
}

bool landlock_can_wall(void)
{
	return landlock_abi() >= LANDLOCK_ABI_SCOPE;
}

int landlock_wall(struct sbx_error **err)
{
	struct ruleset_attr attr = {.scoped = SBX_LANDLOCK_SCOPE_ABSTRACT_UNIX};
	_cleanup_close_ int ruleset =
	    (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return sbx_error_set(err, errno, "landlock: cannot create a ruleset");
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return sbx_error_set(err, errno,
		                     "landlock: cannot wall the payload off from sbx's init");
	return 0;
}

int landlock_apply(const struct sbx_config *c, enum landlock_part part, struct sbx_error **err)
{
	const struct sbx_landlock *l = &c->landlock;
	int abi = landlock_abi();
	if (abi < 1)
		return 0;
	bool rules = part != LANDLOCK_SCOPES, scopes = part != LANDLOCK_RULES;
	struct ruleset_attr attr = {0};
	size_t size = sizeof(attr.handled_access_fs);
	if (rules && has_fs_rules(l))
		attr.handled_access_fs = fs_rights(abi);
	if (rules && abi >= LANDLOCK_ABI_NET) {
		attr.handled_access_net =
		    (l->bind_handled ? SBX_LANDLOCK_ACCESS_NET_BIND_TCP : 0) |
		    (l->connect_handled ? SBX_LANDLOCK_ACCESS_NET_CONNECT_TCP : 0);
		size = offsetof(struct ruleset_attr, scoped);
	}
	if (scopes && abi >= LANDLOCK_ABI_SCOPE) {
		/* `sbx exec` joins in a domain of its own: it may still signal
		 * the payload (sbx exec NAME kill -HUP 1), not the reverse. */
		if (part != LANDLOCK_JOIN)
			attr.scoped |= SBX_LANDLOCK_SCOPE_SIGNAL;
		if (!(c->clone_flags & CLONE_NEWNET))
			attr.scoped |= SBX_LANDLOCK_SCOPE_ABSTRACT_UNIX;
		size = sizeof(attr);
	}
	if (attr.handled_access_fs == 0 && attr.handled_access_net == 0 && attr.scoped == 0)
		return 0;
	_cleanup_close_ int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return sbx_error_set(err, errno, "landlock: cannot create a ruleset");
	for (size_t i = 0; attr.handled_access_fs && l->fs_ro && l->fs_ro[i]; i++)
		if (add_path(ruleset, l->fs_ro[i], attr.handled_access_fs & FS_READ_RIGHTS, err) <
		    0)
			return -1;
	for (size_t i = 0; attr.handled_access_fs && l->fs_rw && l->fs_rw[i]; i++)
		if (add_path(ruleset, l->fs_rw[i], attr.handled_access_fs, err) < 0)
			return -1;
	if (attr.handled_access_net && (add_ports(ruleset, l->tcp_bind, l->n_tcp_bind,
	                                          SBX_LANDLOCK_ACCESS_NET_BIND_TCP, err) < 0 ||
	                                add_ports(ruleset, l->tcp_connect, l->n_tcp_connect,
	                                          SBX_LANDLOCK_ACCESS_NET_CONNECT_TCP, err) < 0))
		return -1;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
		/* Without no_new_privs nor CAP_SYS_ADMIN: the default scopes
		 * go, as sbx-profile(5) says; asked-for rules fail. */
		if (errno == EPERM && !has_fs_rules(l) && !l->bind_handled && !l->connect_handled)
			return 0;
		if (errno == EPERM)
			return sbx_error_set(err, errno,
			                     "landlock: cannot restrict the sandbox (it needs "
			                     "no_new_privileges = true, or CAP_SYS_ADMIN)");
		return sbx_error_set(err, errno, "landlock: cannot restrict the sandbox");
	}
	sbx_trace("child: landlock ABI %d applied", abi);
	return 0;
}
