/* landlock.h - Landlock, a second wall inside the sandbox. */
#ifndef SBX_LANDLOCK_H
#define SBX_LANDLOCK_H

#include "lib/util.h"

#include <stdbool.h>
#include <stdint.h>

struct sbx_config;

/* The rules a profile asks for, as config.json's annotations carry them. */
struct sbx_landlock {
	char **fs_ro; /* sandbox paths: read and execute beneath */
	char **fs_rw; /* sandbox paths: everything beneath */
	/* TCP ports; a list that is handled with no port allows none. */
	uint16_t *tcp_bind, *tcp_connect;
	size_t n_tcp_bind, n_tcp_connect;
	bool bind_handled, connect_handled;
};

/* The first ABI with TCP rules, and with scopes (abstract unix sockets, signals). */
#define LANDLOCK_ABI_NET   4
#define LANDLOCK_ABI_SCOPE 6

/* The Landlock ABI this kernel offers, 0 without Landlock. The environment
 * variable SBX_LANDLOCK_ABI_MAX caps it, for tests of older kernels. */
int landlock_abi(void);
/* What a sandbox with these rules loses on a kernel with this ABI, as a
 * sentence for a warning, or NULL when nothing is lost. host_net: the
 * sandbox shares the host's network namespace, so scoping abstract unix
 * sockets matters. Allocated. */
char *landlock_shortfall(int abi, bool fs_rules, bool tcp_rules, bool host_net);
/* Parses the annotations into *l. Returns 0, or -1 naming the annotation. */
int landlock_parse(const char *fs_ro, const char *fs_rw, const char *tcp_bind,
                   const char *tcp_connect, struct sbx_landlock *l, struct sbx_error **err);
void landlock_free(struct sbx_landlock *l);
/* Whether a profile asked for filesystem or TCP rules. */
bool landlock_has_rules(const struct sbx_landlock *l);
/* Restricts the calling process and its future children, as far as the
 * kernel's ABI allows, the part asked for: signals scoped to the sandbox
 * (not for `sbx exec`, which may signal the payload),
 * abstract unix sockets scoped too when the sandbox shares the host's
 * network, and the profile's filesystem and TCP rules. Paths are opened in
 * the sandbox, so call it after pivot_root, before seccomp. */
enum landlock_part {
	LANDLOCK_ALL,    /* pid 1 that is the payload (--no-init) */
	LANDLOCK_SCOPES, /* pid 1 before sbx-init: scopes only, so that its exec is
	                    not a file access and the payload may still signal it */
	LANDLOCK_RULES,  /* the payload under sbx-init: the profile's rules, nested */
	LANDLOCK_JOIN,   /* `sbx exec`: rules and socket scope, no signal scope */
};
int landlock_apply(const struct sbx_config *c, enum landlock_part part, struct sbx_error **err);

/* Whether landlock_wall can wall the payload off from sbx-init: a kernel
 * with scopes (ABI 6). */
bool landlock_can_wall(void);
/* Puts the calling process (the payload's, under sbx-init, whose layers it
 * nests in) in a Landlock layer of its own. Landlock lets no process
 * ptrace, read or write the memory of, or take fds from, one outside its
 * domain, whatever its capabilities: so not even a payload given
 * CAP_SYS_PTRACE can reach pid 1. The layer scopes abstract unix sockets
 * only, so the payload keeps its mounts and its signals to pid 1 (it loses
 * connecting to those of `sbx exec`'s processes, which it could not signal
 * already). Needs CAP_SYS_ADMIN or no_new_privs; 0, or -1 with *err. */
int landlock_wall(struct sbx_error **err);

#endif
