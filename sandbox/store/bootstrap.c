/* bootstrap.c - the "busybox" image, built from the host's static busybox:
 * the binary, a link for each applet it lists, and a minimal /etc. */
#define _GNU_SOURCE
#include "store/image.h"
#include "lib/elf.h"
#include "store/import.h"
#include "store/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *const busybox_paths[] = {"/bin/busybox", "/usr/bin/busybox"};

/* Runs the verified binary itself (through its fd, so it is the file that
 * was checked) for its applet list. */
static int busybox_list(int bbfd, const char *path, char **out, struct sbx_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sbx_error_set(err, errno, "cannot create a pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	char exe[64];
	snprintf(exe, sizeof(exe), "/proc/self/fd/%d", bbfd);
	char *argv[] = {(char *)"busybox", (char *)"--list-full", NULL};
	char *envp[] = {NULL};
	pid_t pid;
	int r = posix_spawn(&pid, exe, &fa, NULL, argv, envp);
	if (r == ENOENT) /* no /proc */
		r = posix_spawn(&pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		return sbx_error_set(err, r, "cannot run \"%s\"", path);
	}
	size_t cap = 16 << 10, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= (1 << 20))
				break;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(p[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sbx_error_set(err, errno, "cannot wait for \"%s\"", path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sbx_error_set(err, 0, "\"%s --list-full\" failed; is it busybox?", path);
	*out = steal_ptr(buf);
	return 0;
}

struct bb_dir {
	const char *path;
	mode_t mode;
	const char *link; /* applet link target from here, NULL: no applets */
};

static const struct bb_dir bb_dirs[] = {
    {"bin", 0755, "busybox"},
    {"sbin", 0755, "../bin/busybox"},
    {"usr", 0755, NULL},
    {"usr/bin", 0755, "../../bin/busybox"},
    {"usr/sbin", 0755, "../../bin/busybox"},
    {"etc", 0755, NULL},
    {"tmp", 01777, NULL},
    {"root", 0700, NULL},
    {"proc", 0555, NULL},
    {"sys", 0555, NULL},
    {"dev", 0755, NULL},
    {"home", 0755, NULL},
    {"var", 0755, NULL},
    {"var/tmp", 01777, NULL},
    {"run", 0755, NULL},
};

static const struct {
	const char *name, *content;
} bb_etc[] = {
    {"passwd", "root:x:0:0:root:/root:/bin/sh\n"
               "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
    {"group", "root:x:0:\nnogroup:x:65534:\n"},
    {"hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
    {"shells", "/bin/sh\n/bin/ash\n"},
    {"nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"},
};

static int write_new_file(int dirfd, const char *name, const char *data, mode_t mode,
                          struct sbx_error **err)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot create \"%s\"", name);
	int r = write_all(fd, data, strlen(data));
	if (r < 0)
		return sbx_error_set(err, -r, "cannot write \"%s\"", name);
	if (fchmod(fd, mode) < 0)
		return sbx_error_set(err, errno, "cannot chmod \"%s\"", name);
	return 0;
}

static int bootstrap_fill(int rootfd, int bbfd, const char *path, struct sbx_error **err)
{
	int dirfds[ARRAY_SIZE(bb_dirs)];
	char *list = NULL;
	int ret = -1;
	for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++)
		dirfds[i] = -1;
	for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++) {
		const struct bb_dir *d = &bb_dirs[i];
		/* Explicit chmod: the umask must not decide the image's modes. */
		if (mkdirat(rootfd, d->path, 0700) < 0 ||
		    fchmodat(rootfd, d->path, d->mode, 0) < 0) {
			sbx_error_set(err, errno, "cannot create \"%s\"", d->path);
			goto out;
		}
		if (d->link || strcmp(d->path, "etc") == 0) {
			dirfds[i] = openat(rootfd, d->path,
			                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (dirfds[i] < 0) {
				sbx_error_set(err, errno, "cannot open \"%s\"", d->path);
				goto out;
			}
		}
	}
	{
		_cleanup_close_ int out =
		    openat(dirfds[0], "busybox",
		           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755);
		if (out < 0 || lseek(bbfd, 0, SEEK_SET) < 0 ||
		    import_copy_data(bbfd, out, NULL, 0) < 0 || fchmod(out, 0755) < 0) {
			sbx_error_set(err, errno, "cannot copy \"%s\" into the image", path);
			goto out;
		}
	}
	if (busybox_list(bbfd, path, &list, err) < 0)
		goto out;
	for (char *line = list, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *slash = strrchr(line, '/');
		if (slash == NULL)
			continue;
		*slash = '\0';
		const char *applet = slash + 1;
		if (applet[0] == '\0' || strcmp(applet, ".") == 0 || strcmp(applet, "..") == 0)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++) {
			if (bb_dirs[i].link == NULL || strcmp(bb_dirs[i].path, line) != 0)
				continue;
			if (i == 0 && strcmp(applet, "busybox") == 0)
				break;
			if (symlinkat(bb_dirs[i].link, dirfds[i], applet) < 0 && errno != EEXIST) {
				sbx_error_set(err, errno, "cannot create \"%s/%s\"", line, applet);
				goto out;
			}
			break;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++) {
		if (strcmp(bb_dirs[i].path, "etc") != 0)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(bb_etc); k++)
			if (write_new_file(dirfds[i], bb_etc[k].name, bb_etc[k].content, 0644,
			                   err) < 0)
				goto out;
	}
	ret = 0;
out:
	free(list);
	for (size_t i = 0; i < ARRAY_SIZE(bb_dirs); i++)
		if (dirfds[i] >= 0)
			close(dirfds[i]);
	return ret;
}

static int bootstrap_staged(struct staging *s, const char *name, int bbfd, const char *path,
                            uint64_t size, struct sbx_error **err)
{
	if (bootstrap_fill(s->rootfd, bbfd, path, err) < 0)
		return -1;
	_cleanup_free_ char *source = xasprintf("bootstrap %s", path);
	char *cmd[] = {(char *)"/bin/sh", NULL};
	char *env[] = {(char *)"PATH=" PATH_DEFAULT, NULL};
	struct sbx_image meta = {
	    .source = source,
	    .size = size,
	    .cmd = cmd,
	    .env = env,
	};
	return staging_commit(s, name, &meta, err);
}

int image_bootstrap_busybox(const char *ref, const char *busybox_path,
                            const struct sbx_image_progress *progress, struct sbx_error **err)
{
	_cleanup_free_ char *name = image_ref_name(ref);
	if (image_check_name(name, err) < 0)
		return -1;
	_cleanup_close_ int bbfd = -1;
	const char *path = busybox_path;
	if (path) {
		bbfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (bbfd < 0)
			return sbx_error_set(err, errno, "cannot open \"%s\"", path);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(busybox_paths) && bbfd < 0; i++) {
			path = busybox_paths[i];
			bbfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		}
		if (bbfd < 0)
			return sbx_error_setc(err, ENOENT,
			                      "no busybox binary found; install it with 'apt-get "
			                      "install busybox-static' (as root)");
	}
	struct stat st;
	if (fstat(bbfd, &st) < 0)
		return sbx_error_set(err, errno, "cannot stat \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return sbx_error_set(err, 0, "\"%s\" is not a regular file", path);
	int r = elf_is_static(bbfd, path, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return sbx_error_set(err, 0,
		                     "\"%s\" is not statically linked; install Debian's "
		                     "busybox-static",
		                     path);

	struct staging s;
	int r2 = staging_begin(&s, name, err);
	if (r2 == 0)
		r2 = bootstrap_staged(&s, name, bbfd, path, (uint64_t)st.st_size, err);
	staging_end(&s);
	(void)progress;
	return r2;
}
