/* registry.c - images pulled from and pushed to a registry with skopeo (see
 * registry.h). */
#define _GNU_SOURCE
#include "store/registry.h"
#include "store/reference.h"
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

/* Checks that reference is in a registry; *rest gets what follows
 * "docker://" in it (all of it without). */
static int parse_source(const char *reference, bool push, const char **rest, struct sbx_error **err)
{
	_cleanup_free_ char *q = str_escape(reference);
	const char *verb = push ? "pushes to" : "pulls from";
	*rest = reference;
	if (str_startswith(reference, DOCKER)) {
		*rest = reference + strlen(DOCKER);
	} else {
		size_t t = strcspn(reference, ":/");
		for (size_t i = 0; reference[t] == ':' && i < ARRAY_SIZE(local_transports); i++)
			if (strlen(local_transports[i]) == t &&
			    strncmp(reference, local_transports[i], t) == 0)
				return sbx_error_setc(
				    err, EINVAL,
				    "\"%s\" is not in a registry: sbx %s registries only "
				    "(docker://)%s",
				    q, verb,
				    push ? ""
				         : "; an OCI image layout is imported with 'sbx image "
				           "import NAME DIR'");
		if (strstr(reference, "://"))
			return sbx_error_setc(err, EINVAL,
			                      "\"%s\": unknown transport; sbx %s registries, as "
			                      "docker://REFERENCE or HOST/PATH[:TAG]",
			                      q, verb);
		/* A pull of a short name is docker.io's, as docker's and podman's;
		 * a push there is not guessed. */
		const char *slash = strchr(reference, '/');
		if (push && !reference_has_host(reference))
			return sbx_error_setc(
			    err, EINVAL,
			    "\"%s\" names no registry, and sbx does not guess one to push to; "
			    "write it in full, e.g. \"" REFERENCE_DEFAULT_HOST "/%s%s\"",
			    q, slash ? "" : "library/", q);
	}
	if ((*rest)[0] == '\0')
		return sbx_error_setc(err, EINVAL, "\"%s\" names no image", q);
	return 0;
}

/* skopeo's docker:// source for reference, in the normal form
 * (reference.h), or an error. */
static char *docker_source(const char *reference, struct sbx_error **err)
{
	_cleanup_free_ char *n = reference_normalize(reference);
	if (n == NULL) {
		_cleanup_free_ char *q = str_escape(reference);
		sbx_error_setc(err, EINVAL,
		               "\"%s\" is not a valid image reference; write "
		               "[HOST[:PORT]/]PATH[:TAG][@DIGEST], the path in lower case",
		               q);
		return NULL;
	}
	return xasprintf(DOCKER "%s", n);
}

int registry_reference(const char *reference, const char *name, char **source, char **stored,
                       struct sbx_error **err)
{
	const char *rest;
	if (parse_source(reference, false, &rest, err) < 0)
		return -1;
	_cleanup_free_ char *q = str_escape(reference);
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
	} else {
		const char *why = NULL;
		/* sbx keeps one tag per name: another tag goes in the name,
		 * alpine:3.19 is stored as alpine-3.19 (and runs as either). */
		if (tag && strcmp(tag, IMAGE_DEFAULT_TAG) != 0)
			n = xasprintf("%s-%s", base, tag);
		else
			n = xstrdup(base);
		if (name_validate(base, &why) < 0 || name_validate(n, &why) < 0)
			return sbx_error_setc(
			    err, EINVAL,
			    "cannot name an image after \"%s\": %s; choose its name "
			    "with --name NAME",
			    q, why);
	}
	*source = docker_source(reference, err);
	if (*source == NULL)
		return -1;
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

/* Runs the program at path in dirfd (its cwd) with its output to out_fd
 * (-1: /dev/null). Returns its wait status, its error output in *text, or -1
 * with *err set when it cannot be run. */
static int tool_run(const char *path, char **argv, char **envp, int dirfd, int out_fd, char **text,
                    struct sbx_error **err)
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
		e = out_fd >= 0 ? posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO)
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
		e = posix_spawn(&pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(p[1]);
	if (e != 0) {
		close(p[0]);
		return sbx_error_set(err, e, "cannot run \"%s\"", path);
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
			return sbx_error_set(err, errno, "cannot wait for \"%s\"", path);
	return status;
}

/* A failed tool's error: "WHAT: REASON" from its wait status and output. */
static int tool_failed(const char *what, const char *tool, int status, const char *text,
                       const char *hint, struct sbx_error **err)
{
	if (WIFSIGNALED(status))
		return sbx_error_setc(err, EIO, "%s: %s was killed by signal %d", what, tool,
		                      WTERMSIG(status));
	_cleanup_free_ char *reason = skopeo_reason(text);
	_cleanup_free_ char *qr = str_escape_bare(reason); /* not quoted: " as it is */
	if (qr[0] == '\0')
		return sbx_error_setc(err, EIO, "%s: %s failed with exit status %d", what, tool,
		                      WEXITSTATUS(status));
	return sbx_error_setc(err, EIO, "%s: %s%s", what, qr, hint ? hint : "");
}

/* A staging directory of the store for one pull or push: .tmp-LABEL-XXXXXX,
 * locked while it is used, with tmp/ for skopeo's temporary files. */
struct stage {
	char *store;
	int storefd;
	char *tmp;
	int dirfd;
	char *tmpdir; /* absolute */
};

static void stage_end(struct stage *s)
{
	if (s->tmp && s->storefd >= 0)
		rm_rf_at(s->storefd, s->tmp, NULL);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->storefd >= 0)
		close(s->storefd);
	free(s->store);
	free(s->tmp);
	free(s->tmpdir);
	*s = (struct stage){.storefd = -1, .dirfd = -1};
}

/* Opens the store (s->storefd, set before: -1) when it is not open yet. */
static int stage_store(struct stage *s, struct sbx_error **err)
{
	if (s->storefd >= 0)
		return 0;
	s->storefd = staging_store_open(true, &s->store, err);
	if (s->storefd < 0)
		return -1;
	staging_gc(s->storefd);
	return 0;
}

static int stage_begin(struct stage *s, const char *label, struct sbx_error **err)
{
	if (stage_store(s, err) < 0)
		return -1;
	s->tmp = staging_mkdtemp(s->store, "tmp", label, err);
	if (s->tmp == NULL)
		return -1;
	s->dirfd = openat(s->storefd, s->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dirfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s/%s\"", s->store, s->tmp);
	/* Held until the end: staging_gc leaves the directory alone. */
	if (flock(s->dirfd, LOCK_EX) < 0)
		return sbx_error_set(err, errno, "cannot lock \"%s/%s\"", s->store, s->tmp);
	if (mkdirat(s->dirfd, "tmp", 0700) < 0)
		return sbx_error_set(err, errno, "cannot create \"%s/%s/tmp\"", s->store, s->tmp);
	s->tmpdir = xasprintf("%s/%s/tmp", s->store, s->tmp);
	return 0;
}

/* skopeo copy from to, in the staging directory; "src" or "dest" says
 * which side is the registry. */
static int skopeo_copy(const struct registry_opts *o, const char *skopeo, struct stage *s,
                       const char *side, const char *from, const char *to, const char *what,
                       struct sbx_error **err)
{
	_cleanup_strv_ char **argv = NULL;
	strv_push(&argv, "skopeo");
	strv_push(&argv, "--tmpdir");
	strv_push(&argv, s->tmpdir);
	strv_push(&argv, "copy");
	if (o->quiet)
		strv_push(&argv, "--quiet");
	if (!o->tls_verify)
		strv_push_take(&argv, xasprintf("--%s-tls-verify=false", side));
	if (o->authfile) {
		/* skopeo runs in the staging directory: a relative path is the
		 * caller's. */
		_cleanup_free_ char *cwd = o->authfile[0] == '/' ? NULL : getcwd(NULL, 0);
		if (o->authfile[0] != '/' && cwd == NULL)
			return sbx_error_set(err, errno,
			                     "%s: cannot find the current directory for --authfile",
			                     what);
		strv_push_take(&argv, cwd ? xasprintf("--%s-authfile=%s/%s", side, cwd, o->authfile)
		                          : xasprintf("--%s-authfile=%s", side, o->authfile));
	}
	strv_push(&argv, from);
	strv_push(&argv, to);
	_cleanup_strv_ char **envp = skopeo_env(s->tmpdir);
	_cleanup_free_ char *text = NULL;
	int status = tool_run(skopeo, argv, envp, s->dirfd, o->progress_fd, &text, err);
	if (status < 0)
		return sbx_error_prefix(err, "%s", what);
	if (status == 0)
		return 0;
	bool plain = o->tls_verify && strstr(text, "server gave HTTP response to HTTPS");
	return tool_failed(what, "skopeo", status, text,
	                   plain ? "; for a registry without TLS, add --tls-verify=false" : NULL,
	                   err);
}

/* skopeo, or an error saying it is missing. */
static char *skopeo_find(const char *what, struct sbx_error **err)
{
	char *skopeo = path_find("skopeo");
	if (skopeo == NULL)
		sbx_error_setc(err, ENOENT,
		               "%s: skopeo is not installed (sbx reaches registries with it); "
		               "install Debian's \"skopeo\" package",
		               what);
	return skopeo;
}

int registry_pull(const struct registry_opts *o, const struct sbx_image_progress *progress,
                  layer_progress_fn on_layer, char **name, struct sbx_error **err)
{
	_cleanup_free_ char *source = NULL, *stored = NULL;
	if (registry_reference(o->reference, o->name, &source, &stored, err) < 0)
		return -1;
	_cleanup_free_ char *q = str_escape(o->reference);
	_cleanup_free_ char *what = xasprintf("cannot pull \"%s\"", q);
	_cleanup_free_ char *skopeo = skopeo_find(what, err);
	if (skopeo == NULL)
		return -1;
	struct stage s = {.storefd = -1, .dirfd = -1};
	_cleanup_free_ char *label = xasprintf("pull-%s", stored);
	int r = stage_store(&s, err);
	if (r == 0)
		r = o->replace ? staging_check_replaceable(stored, source, err)
		               : staging_check_free(s.storefd, stored, err);
	if (r == 0)
		r = stage_begin(&s, label, err);
	/* "oci:layout" is relative: a ':' in the store's path is no ref. */
	if (r == 0)
		r = skopeo_copy(o, skopeo, &s, "src", source, "oci:" LAYOUT, what, err);
	if (r == 0) {
		_cleanup_free_ char *layout = xasprintf("%s/%s/" LAYOUT, s.store, s.tmp);
		struct sbx_image_progress p = progress ? *progress : (struct sbx_image_progress){0};
		p.replace = o->replace;
		r = layer_import_oci_from(stored, layout, source, &p, on_layer, err);
	}
	stage_end(&s);
	if (r == 0)
		*name = steal_ptr(stored);
	return r;
}

/* tar(1) writes the image's root filesystem into the file "layer" of
 * dirfd: by name, owned by root, as the sandbox sees it. */
static int push_layer(const struct sbx_image *img, int dirfd, const char *what,
                      struct sbx_error **err)
{
	_cleanup_free_ char *tar = path_find("tar");
	if (tar == NULL)
		return sbx_error_setc(err, ENOENT, "%s: tar is not installed", what);
	_cleanup_close_ int out =
	    openat(dirfd, "layer", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return sbx_error_set(err, errno, "%s: cannot create its layer", what);
	_cleanup_free_ char *dir = xasprintf("--directory=%s", img->rootfs);
	/* The same layer for the same image: no pid, atime or ctime in it. */
	char pax[] = "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime";
	char *argv[] = {(char *)"tar",
	                (char *)"--create",
	                (char *)"--file=-",
	                dir,
	                (char *)"--numeric-owner",
	                (char *)"--owner=0",
	                (char *)"--group=0",
	                (char *)"--format=pax",
	                (char *)"--sort=name",
	                (char *)"--no-xattrs",
	                pax,
	                (char *)".",
	                NULL};
	char *envp[] = {(char *)"LC_ALL=C", NULL};
	_cleanup_free_ char *text = NULL;
	int status = tool_run(tar, argv, envp, dirfd, out, &text, err);
	if (status < 0)
		return sbx_error_prefix(err, "%s", what);
	if (status != 0)
		return tool_failed(what, "tar", status, text, NULL, err);
	return 0;
}

int registry_push(const struct registry_opts *o, struct sbx_error **err)
{
	const char *rest;
	if (parse_source(o->reference, true, &rest, err) < 0)
		return -1;
	_cleanup_free_ char *dest = docker_source(o->reference, err);
	if (dest == NULL)
		return -1;
	_cleanup_image_ struct sbx_image *img = NULL;
	if (image_open(o->name, &img, err) < 0)
		return -1;
	_cleanup_free_ char *q = str_escape(o->reference);
	_cleanup_free_ char *what = xasprintf("cannot push \"%s\" to \"%s\"", img->name, q);
	_cleanup_free_ char *skopeo = skopeo_find(what, err);
	if (skopeo == NULL)
		return -1;
	struct stage s = {.storefd = -1, .dirfd = -1};
	_cleanup_free_ char *label = xasprintf("push-%s", img->name);
	int r = stage_begin(&s, label, err);
	_cleanup_close_ int layout = -1;
	if (r == 0 && (mkdirat(s.dirfd, LAYOUT, 0700) < 0 ||
	               (layout = openat(s.dirfd, LAYOUT,
	                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0))
		r = sbx_error_set(err, errno, "cannot create \"%s/%s/" LAYOUT "\"", s.store, s.tmp);
	if (r == 0)
		r = push_layer(img, layout, what, err);
	if (r == 0 && layer_export_oci(layout, "layer", img, err) < 0)
		r = sbx_error_prefix(err, "%s", what);
	if (r == 0)
		r = skopeo_copy(o, skopeo, &s, "dest", "oci:" LAYOUT, dest, what, err);
	stage_end(&s);
	return r;
}
