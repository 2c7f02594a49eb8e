/* registry.c - images pulled from a registry with skopeo (see registry.h). */
#define _GNU_SOURCE
#include "store/registry.h"
#include "store/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DOCKER "docker://"
/* The layout skopeo writes, in the staging directory. */
#define LAYOUT "layout"
/* What sbx keeps of skopeo's error output (its last words), and of the
 * reason it shows. */
#define STDERR_KEEP (16 << 10)
#define REASON_MAX  1024

/* skopeo's transports for local images: an OCI layout is `sbx image
 * import`'s, the others are not sbx's. */
static const char *const local_transports[] = {
    "oci", "oci-archive",        "docker-archive", "docker-daemon", "dir",
    "sif", "containers-storage", "ostree",         "tarball",
};

/* What skopeo sees of the caller's environment: where its configuration
 * and credentials are, the proxies and the CA certificates. */
static const char *const pass_env[] = {
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "REGISTRY_AUTH_FILE",
    "DOCKER_CONFIG",
    "CONTAINERS_REGISTRIES_CONF",
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
};

/* A first path component that is a registry, as podman decides it. */
static bool names_registry(const char *first, size_t len)
{
	return memchr(first, '.', len) || memchr(first, ':', len) ||
	       (len == strlen("localhost") && strncmp(first, "localhost", len) == 0);
}

int registry_reference(const char *reference, const char *name, char **source, char **stored,
                       struct sbx_error **err)
{
	_cleanup_free_ char *q = str_escape(reference);
	const char *rest = reference;
	if (str_startswith(reference, DOCKER)) {
		rest = reference + strlen(DOCKER);
	} else {
		size_t t = strcspn(reference, ":/");
		for (size_t i = 0; reference[t] == ':' && i < ARRAY_SIZE(local_transports); i++)
			if (strlen(local_transports[i]) == t &&
			    strncmp(reference, local_transports[i], t) == 0)
				return sbx_error_setc(
				    err, EINVAL,
				    "\"%s\" is not in a registry: sbx pulls with docker:// only; "
				    "import an OCI image layout with 'sbx image import NAME DIR'",
				    q);
		if (strstr(reference, "://"))
			return sbx_error_setc(
			    err, EINVAL,
			    "\"%s\": unknown transport; sbx pulls from registries, "
			    "as docker://REFERENCE or HOST/PATH[:TAG]",
			    q);
		const char *slash = strchr(reference, '/');
		if (slash == NULL || !names_registry(reference, (size_t)(slash - reference)))
			return sbx_error_setc(
			    err, EINVAL,
			    "\"%s\" names no registry, and sbx does not guess one; write it in "
			    "full, e.g. \"docker.io/%s%s\"",
			    q, slash ? "" : "library/", q);
	}
	if (rest[0] == '\0')
		return sbx_error_setc(err, EINVAL, "\"%s\" names no image", q);
	size_t len = strcspn(rest, "@");
	bool digest = rest[len] == '@';
	_cleanup_free_ char *path = xstrndup(rest, len);
	char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *tag = strchr(base, ':');
	if (tag)
		*tag++ = '\0';
	_cleanup_free_ char *n = NULL;
	if (name) {
		n = image_ref_name(name);
		if (image_check_name(n, err) < 0)
			return -1;
	} else if (digest) {
		return sbx_error_setc(err, EINVAL,
		                      "\"%s\" names a digest, and sbx keeps one image per name: "
		                      "choose its name with --name NAME",
		                      q);
	} else if (tag && strcmp(tag, IMAGE_DEFAULT_TAG) != 0) {
		_cleanup_free_ char *qt = str_escape(tag);
		_cleanup_free_ char *qb = str_escape(base);
		return sbx_error_setc(err, EINVAL,
		                      "\"%s\" has the tag \"%s\", and sbx keeps one tag per name, "
		                      "\"" IMAGE_DEFAULT_TAG "\": choose the image's name with "
		                      "--name NAME (e.g. --name %s-%s)",
		                      q, qt, qb, qt);
	} else {
		const char *why = NULL;
		if (name_validate(base, &why) < 0)
			return sbx_error_setc(
			    err, EINVAL,
			    "cannot name an image after \"%s\": %s; choose its name "
			    "with --name NAME",
			    q, why);
		n = xstrdup(base);
	}
	*source = rest == reference ? xasprintf(DOCKER "%s", reference) : xstrdup(reference);
	*stored = steal_ptr(n);
	return 0;
}

/* skopeo's reason in its error output: the msg="..." of its last line
 * (logrus quotes it as Go does), else that line; raw bytes, cut short. */
static char *skopeo_reason(const char *text)
{
	const char *end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *start = end;
	while (start > text && start[-1] != '\n')
		start--;
	const char *m = memmem(start, (size_t)(end - start), "msg=\"", 5);
	char *out = xmalloc((size_t)(end - start) + 1);
	size_t n = 0;
	if (m == NULL) {
		memcpy(out, start, (size_t)(end - start));
		n = (size_t)(end - start);
	} else {
		for (const char *p = m + 5; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
				out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			} else {
				out[n++] = *p;
			}
		}
	}
	if (n > REASON_MAX) {
		n = REASON_MAX;
		memcpy(out + n - 3, "...", 3);
	}
	out[n] = '\0';
	return out;
}

/* The environment skopeo gets: pass_env's variables that are set, and
 * TMPDIR. */
static char **skopeo_env(const char *tmpdir)
{
	char **env = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(pass_env); i++) {
		const char *v = getenv(pass_env[i]);
		if (v)
			strv_push_take(&env, xasprintf("%s=%s", pass_env[i], v));
	}
	strv_push_take(&env, xasprintf("TMPDIR=%s", tmpdir));
	return env;
}

/* Runs skopeo in dirfd (its cwd) with progress to progress_fd. Returns its
 * wait status, its error output in *text, or -1 with *err set when it
 * cannot be run. */
static int skopeo_run(const char *skopeo, char **argv, char **envp, int dirfd, int progress_fd,
                      char **text, struct sbx_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "cannot create a pipe");
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	int e = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (e == 0)
		e = progress_fd >= 0
		        ? posix_spawn_file_actions_adddup2(&fa, progress_fd, STDOUT_FILENO)
		        : posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
		                                           O_WRONLY, 0);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
	if (e == 0)
		e = posix_spawn_file_actions_addfchdir_np(&fa, dirfd);
	if (e == 0)
		e = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (e == 0)
		e = posix_spawnattr_setsigmask(&attr, &none);
	if (e == 0)
		e = posix_spawnattr_setsigdefault(&attr, &all);
	if (e == 0)
		e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid = -1;
	if (e == 0)
		e = posix_spawn(&pid, skopeo, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(p[1]);
	if (e != 0) {
		close(p[0]);
		return sbx_error_set(err, e, "cannot run \"%s\"", skopeo);
	}
	size_t cap = 2 * STDERR_KEEP, len = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n = read(p[0], buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			memmove(buf, buf + len - STDERR_KEEP, STDERR_KEEP);
			len = STDERR_KEEP;
		}
	}
	close(p[0]);
	buf[len] = '\0';
	*text = buf;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sbx_error_set(err, errno, "cannot wait for \"%s\"", skopeo);
	return status;
}

/* skopeo copies the image into tmp, then the layout is imported. */
static int pull_staged(const struct registry_pull *o, const char *skopeo, const char *source,
                       const char *stored, int storefd, const char *store, const char *tmp,
                       const struct sbx_image_progress *progress, layer_progress_fn on_layer,
                       struct sbx_error **err)
{
	_cleanup_free_ char *q = str_escape(o->reference);
	_cleanup_close_ int dfd =
	    openat(storefd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s/%s\"", store, tmp);
	/* Held until the end: staging_gc leaves the directory alone. */
	if (flock(dfd, LOCK_EX) < 0)
		return sbx_error_set(err, errno, "cannot lock \"%s/%s\"", store, tmp);
	if (mkdirat(dfd, "tmp", 0700) < 0)
		return sbx_error_set(err, errno, "cannot create \"%s/%s/tmp\"", store, tmp);
	_cleanup_free_ char *tmpdir = xasprintf("%s/%s/tmp", store, tmp);
	_cleanup_strv_ char **argv = NULL;
	strv_push(&argv, "skopeo");
	strv_push(&argv, "--tmpdir");
	strv_push(&argv, tmpdir);
	strv_push(&argv, "copy");
	if (o->quiet)
		strv_push(&argv, "--quiet");
	if (!o->tls_verify)
		strv_push(&argv, "--src-tls-verify=false");
	if (o->authfile) {
		/* skopeo runs in the staging directory: a relative path is the
		 * caller's. */
		_cleanup_free_ char *cwd = o->authfile[0] == '/' ? NULL : getcwd(NULL, 0);
		if (o->authfile[0] != '/' && cwd == NULL)
			return sbx_error_set(err, errno,
			                     "cannot pull \"%s\": cannot find the "
			                     "current directory for --authfile",
			                     q);
		strv_push_take(&argv, cwd ? xasprintf("--src-authfile=%s/%s", cwd, o->authfile)
		                          : xasprintf("--src-authfile=%s", o->authfile));
	}
	strv_push(&argv, source);
	strv_push(&argv, "oci:" LAYOUT); /* relative: a ':' in the store's path is no ref */
	_cleanup_strv_ char **envp = skopeo_env(tmpdir);
	_cleanup_free_ char *text = NULL;
	int status = skopeo_run(skopeo, argv, envp, dfd, o->progress_fd, &text, err);
	if (status < 0)
		return sbx_error_prefix(err, "cannot pull \"%s\"", q);
	if (WIFSIGNALED(status))
		return sbx_error_setc(err, EIO,
		                      "cannot pull \"%s\": skopeo was killed by signal %d", q,
		                      WTERMSIG(status));
	if (WEXITSTATUS(status) != 0) {
		_cleanup_free_ char *reason = skopeo_reason(text);
		_cleanup_free_ char *qr = str_escape_bare(reason); /* not quoted: " as it is */
		bool plain = o->tls_verify && strstr(reason, "server gave HTTP response to HTTPS");
		if (qr[0] == '\0')
			return sbx_error_setc(
			    err, EIO, "cannot pull \"%s\": skopeo failed with exit status %d", q,
			    WEXITSTATUS(status));
		return sbx_error_setc(err, EIO, "cannot pull \"%s\": %s%s", q, qr,
		                      plain ? "; for a registry without TLS, add --tls-verify=false"
		                            : "");
	}
	_cleanup_free_ char *layout = xasprintf("%s/%s/" LAYOUT, store, tmp);
	return layer_import_oci_from(stored, layout, source, progress, on_layer, err);
}

int registry_pull(const struct registry_pull *o, const struct sbx_image_progress *progress,
                  layer_progress_fn on_layer, char **name, struct sbx_error **err)
{
	_cleanup_free_ char *source = NULL, *stored = NULL;
	if (registry_reference(o->reference, o->name, &source, &stored, err) < 0)
		return -1;
	_cleanup_free_ char *skopeo = path_find("skopeo");
	if (skopeo == NULL) {
		_cleanup_free_ char *q = str_escape(o->reference);
		return sbx_error_setc(
		    err, ENOENT,
		    "cannot pull \"%s\": skopeo is not installed (sbx pulls images "
		    "with it); install Debian's \"skopeo\" package",
		    q);
	}
	_cleanup_free_ char *store = NULL;
	_cleanup_close_ int storefd = staging_store_open(true, &store, err);
	if (storefd < 0)
		return -1;
	staging_gc(storefd);
	if (staging_check_free(storefd, stored, err) < 0)
		return -1;
	_cleanup_free_ char *label = xasprintf("pull-%s", stored);
	_cleanup_free_ char *tmp = staging_mkdtemp(store, "tmp", label, err);
	if (tmp == NULL)
		return -1;
	int r =
	    pull_staged(o, skopeo, source, stored, storefd, store, tmp, progress, on_layer, err);
	rm_rf_at(storefd, tmp, NULL);
	if (r == 0)
		*name = steal_ptr(stored);
	return r;
}
