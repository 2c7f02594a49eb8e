/* seccomp-notify.c - sends an SCMP_ACT_NOTIFY filter's listener to the
 * seccomp agent at linux.seccomp.listenerPath, as runc and crun do: one
 * container process state per connection, the fd with SCM_RIGHTS. */
#define _GNU_SOURCE
#include "runtime/seccomp-notify.h"
#include "runtime/config.h"
#include "lib/fdpass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The spec version sbx-oci reports (lifecycle/oci-runtime.h, a layer up). */
#define OCI_STATE_VERSION "1.0.2"

static int agent = -1; /* the connection to listenerPath */
static char *state;    /* the message, made before the sandbox's root is pivoted */
static char agent_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

int seccomp_notify_prepare(const struct sbx_config *c, struct sbx_error **err)
{
	const char *path = json_string_value(json_object_get(c->seccomp, "listenerPath"));
	if (path == NULL)
		return 0;
	const char *meta = json_string_value(json_object_get(c->seccomp, "listenerMetadata"));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return sbx_error_setc(err, ENAMETOOLONG,
		                      "linux.seccomp.listenerPath: \"%s\" is too long for a unix "
		                      "socket",
		                      path);
	strcpy(sa.sun_path, path);
	strcpy(agent_path, path);
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sbx_error_set(err, errno,
		                     "linux.seccomp.listenerPath: cannot connect to the seccomp "
		                     "agent at \"%s\"",
		                     path);
	/* The host's /proc, not yet replaced: /proc/self is this process's pid
	 * as the host (and the agent) sees it; the payload is this process. */
	char self[32];
	ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
	long pid = n > 0 ? (self[n] = '\0', strtol(self, NULL, 10)) : 0;
	json_t *st = json_pack("{s:s, s:s, s:s, s:I, s:s, s:O}", "ociVersion", OCI_STATE_VERSION,
	                       "id", c->state_id ? c->state_id : "", "status", "creating", "pid",
	                       (json_int_t)pid, "bundle", c->state_bundle ? c->state_bundle : "",
	                       "annotations", c->annotations ? c->annotations : json_object());
	json_t *msg = json_pack("{s:s, s:[s], s:I, s:s, s:o}", "ociVersion", OCI_STATE_VERSION,
	                        "fds", "seccompFd", "pid", (json_int_t)pid, "metadata",
	                        meta ? meta : "", "state", st);
	if (msg == NULL)
		return sbx_error_setc(err, ENOMEM, "cannot make the seccomp agent's state");
	state = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	agent = steal_fd(s);
	return 0;
}

int seccomp_notify_send(int listener, struct sbx_error **err)
{
	if (agent < 0) {
		close(listener);
		return 0;
	}
	int r = fdpass_send(agent, state, strlen(state), &listener, 1);
	int e = errno;
	close(agent);
	agent = -1;
	close(listener);
	if (r < 0)
		return sbx_error_set(err, e,
		                     "linux.seccomp.listenerPath: cannot send the notification fd "
		                     "to \"%s\"",
		                     agent_path);
	return 0;
}
