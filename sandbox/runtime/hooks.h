/* hooks.h - OCI hooks (config.json "hooks"), parsed with the config and run
 * by sbx-oci at each step of a container's life (runtime-spec config.md,
 * "POSIX-platform Hooks"; runtime.md, "Lifecycle").
 *
 * A hook is the config author's program, never the payload's: those of the
 * runtime namespace (prestart, createRuntime, poststart, poststop) run as
 * the caller, outside the sandbox; createContainer runs in the container's
 * namespaces before the root is pivoted, its path resolved outside;
 * startContainer runs inside the sandbox, as the payload's own process,
 * its path resolved there. Each gets the runtime-spec state on stdin, its
 * args and env, and is killed and fails when it outlives its timeout. */
#ifndef SBX_HOOKS_H
#define SBX_HOOKS_H

#include "lib/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

enum sbx_hook_kind {
	SBX_HOOK_PRESTART, /* deprecated: runs as createRuntime, before it */
	SBX_HOOK_CREATE_RUNTIME,
	SBX_HOOK_CREATE_CONTAINER,
	SBX_HOOK_START_CONTAINER,
	SBX_HOOK_POSTSTART,
	SBX_HOOK_POSTSTOP,
	SBX_HOOK_KINDS,
};

struct sbx_hook {
	char *path;       /* absolute */
	char **args;      /* argv; empty: just the path */
	char **env;       /* NULL: not given */
	unsigned timeout; /* seconds; 0: none */
};

struct sbx_hooks {
	struct sbx_hook *list[SBX_HOOK_KINDS];
	size_t n[SBX_HOOK_KINDS];
};

/* The config.json name of a kind ("createRuntime"). */
const char *hooks_kind_name(enum sbx_hook_kind k);
/* Parses config.json's "hooks" (NULL: none); errors name the JSON path. */
int hooks_parse(json_t *j, struct sbx_hooks *out, struct sbx_error **err);
void hooks_free(struct sbx_hooks *h);
size_t hooks_count(const struct sbx_hooks *h);

/* The state a hook reads: base (ociVersion, id, pid, bundle, annotations)
 * with status. */
char *hooks_state(json_t *base, const char *status);

/* Where hooks run: by default in the caller's namespaces, with the
 * caller's environment when a hook gives none. With ns_pidfd, in the
 * namespaces ns_flags (CLONE_NEW*) of that process, the path still
 * resolved in the caller's. clean_env: a hook that gives no env gets an
 * empty one (inside the sandbox: nothing of the host's goes in). */
struct sbx_hooks_where {
	int ns_pidfd;
	int ns_flags;
	bool clean_env;
};
#define SBX_HOOKS_HERE ((struct sbx_hooks_where){.ns_pidfd = -1})

/* Runs the hooks of kind k in order, each with state on stdin; the first
 * that fails (exit status, signal, timeout, not executable) stops the rest
 * and fails with its index and path named. */
int hooks_run(const struct sbx_hooks *h, enum sbx_hook_kind k, const char *state,
              const struct sbx_hooks_where *where, struct sbx_error **err);

#endif
