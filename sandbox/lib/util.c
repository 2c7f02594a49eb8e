/* util.c - allocation, strings, numbers and small file helpers. */
#define _GNU_SOURCE
#include "lib/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>

/* sbx's heap, faulted in with one system call before main. A start-up
 * touches about 104 KiB of heap (profile, OCI config, seccomp policy: sbx
 * run --rm busybox /bin/true, the heap's Rss in smaps at its exit without
 * this), page by page; on a VM a page fault can cost 15-40 us (measured
 * here), populating a page ahead about 1.5 us. What is populated and never
 * touched is resident for nothing (peak RSS: 224 KiB here cost 120 KiB), so
 * this follows what a start uses, with a little room. The heap then stays:
 * large blocks come from it too, and frees do not give it back. A kernel
 * without MADV_POPULATE_WRITE (before 5.14) ignores the request. */
#define HEAP_PREFAULT (112 * 1024)

__attribute__((constructor)) static void heap_prefault(void)
{
	mallopt(M_MMAP_THRESHOLD, 2 * HEAP_PREFAULT);
	mallopt(M_TRIM_THRESHOLD, 4 * HEAP_PREFAULT);
	char *p = malloc(HEAP_PREFAULT);
	if (p == NULL)
		return;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)p + HEAP_PREFAULT) & ~(page - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_POPULATE_WRITE);
	free(p);
}

/* jansson seeds its hash function on the first object: from /dev/urandom,
 * an open, a read and a close. One getrandom gives it the same. */
__attribute__((constructor)) static void json_seed(void)
{
	uint32_t seed = 0;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed) && seed != 0)
		json_object_seed(seed);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (p == NULL)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		abort();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (p == NULL)
		abort();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p = NULL;
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

size_t strv_length(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void sbx_strv_freep(char ***v)
{
	strv_free(*v);
}

void strv_push_take(char ***v, char *s)
{
	size_t n = strv_length(*v);
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

void strv_push(char ***v, const char *s)
{
	strv_push_take(v, xstrdup(s));
}

char **strv_copy(char *const *v)
{
	char **out = xcalloc(strv_length(v) + 1, sizeof(char *));
	for (size_t i = 0; v && v[i]; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The optimal string alignment distance: insertions, deletions,
 * substitutions and swaps of two neighbours ("hots" is one from "host"),
 * ignoring case. */
size_t str_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca == cb ? 0 : 1);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *str_closest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word);
	return str_closest_within(word, candidates, n, len <= 4 ? 1 : (len <= 8 ? 2 : 3));
}

const char *str_closest_within(const char *word, const char *const *candidates, size_t n,
                               size_t limit)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t d = str_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* The decimal number s starts with (a digit first: no sign, no space), and
 * in *end what follows it. */
static int parse_digits(const char *s, unsigned long long *v, char **end)
{
	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno == ERANGE ? -ERANGE : 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end = NULL;
	int r = parse_digits(s, &v, &end);
	if (r < 0)
		return r;
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end = NULL;
	int r = parse_digits(s, &v, &end);
	if (r < 0)
		return r;
	unsigned shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end != '\0') {
		end++;
		/* Accept "64M", "64MB", "64MiB". */
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end != '\0')
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int read_file(const char *path, size_t max, char **out, size_t *len, struct sbx_error **err)
{
	return read_file_at(AT_FDCWD, path, 0, max, out, len, err);
}

int read_file_at(int dirfd, const char *path, int flags, size_t max, char **out, size_t *len,
                 struct sbx_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | flags);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sbx_error_set(err, errno, "cannot stat \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return sbx_error_set(err, EINVAL, "\"%s\" is not a regular file", path);
	if ((size_t)st.st_size > max)
		return sbx_error_set(err, EFBIG, "\"%s\" is larger than %zu bytes", path, max);
	/* procfs files report size 0 and must be read in one go. */
	size_t cap = (size_t)st.st_size < 4096 ? 4096 : (size_t)st.st_size + 1, n = 0;
	_cleanup_free_ char *buf = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap > max)
				return sbx_error_set(err, EFBIG, "\"%s\" is larger than %zu bytes",
				                     path, max);
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sbx_error_set(err, errno, "cannot read \"%s\"", path);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max)
		return sbx_error_set(err, EFBIG, "\"%s\" is larger than %zu bytes", path, max);
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = steal_ptr(buf);
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		/* Nothing taken and no error (a device or a filesystem that
		 * would take no more): asking again would loop for ever. */
		if (r == 0)
			return -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int write_string_at(int dirfd, const char *path, const char *s, int flags)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, s, strlen(s));
	close(fd);
	if (r < 0)
		errno = -r;
	return r;
}

size_t read_string(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

int write_file_atomic(int dirfd, const char *name, const char *data, size_t len, mode_t mode,
                      struct sbx_error **err)
{
	_cleanup_free_ char *tmp = xasprintf(".%s.tmp.%d", name, (int)getpid());
	_cleanup_close_ int fd =
	    openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot create \"%s\"", tmp);
	int r = write_all(fd, data, len);
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return sbx_error_set(err, -r, "cannot write \"%s\"", tmp);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return sbx_error_set(err, e, "cannot rename \"%s\" to \"%s\"", tmp, name);
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode, struct sbx_error **err)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return sbx_error_set(err, errno, "cannot create directory \"%s\"", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return sbx_error_set(err, errno, "cannot create directory \"%s\"", p);
	return 0;
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6 */
#endif

/* Changes the mode of what an O_PATH fd refers to: through its magic link in
 * /proc, which the kernel resolves to that very inode, or fchmodat2. */
static int chmod_opath(int fd, mode_t mode)
{
	char path[40];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (chmod(path, mode) == 0)
		return 0;
	if (errno != ENOENT) /* no /proc */
		return -1;
	return (int)syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH);
}

/* Opens dirfd's entry name, a directory on dev, for reading, and gives its
 * owner read, write and search permission when the sandbox took them away:
 * by fd, so a symbolic link swapped in meanwhile is never followed. dev 0:
 * any device. */
static int open_dir_writable(int dirfd, const char *name, dev_t dev, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		_cleanup_close_ int p =
		    openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (p < 0 || fstat(p, st) < 0)
			return -1;
		if (dev != 0 && st->st_dev != dev) {
			errno = EXDEV;
			return -1;
		}
		if (chmod_opath(p, (st->st_mode & 07777) | 0700) < 0) {
			errno = EACCES;
			return -1;
		}
		fd = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || (dev != 0 && st->st_dev != dev)) {
		int e = errno;
		close(fd);
		errno = dev != 0 && st->st_dev != dev ? EXDEV : e;
		return -1;
	}
	if ((st->st_mode & 0700) != 0700)
		(void)fchmod(fd, (st->st_mode & 07777) | 0700);
	return fd;
}

/* One directory of the walk: its stream (NULL once closed to bound the fds
 * held), its identity and its name in its parent. */
struct rm_level {
	DIR *d;
	dev_t dev;
	ino_t ino;
	char *name;
};

/* Directory streams kept open; deeper levels reopen their parent as "..". */
#define RM_OPEN_LEVELS 32

static char *rm_path(const struct rm_level *lv, size_t depth, const char *last)
{
	size_t len = 1;
	for (size_t i = 0; i <= depth; i++)
		len += strlen(lv[i].name) + 1;
	if (last)
		len += strlen(last) + 1;
	char *p = xmalloc(len), *o = p;
	for (size_t i = 0; i <= depth; i++)
		o += sprintf(o, "%s%s", i ? "/" : "", lv[i].name);
	if (last)
		sprintf(o, "/%s", last);
	char *q = str_escape(p);
	free(p);
	return q;
}

static int rm_fail(struct sbx_error **err, int e, const char *what, const struct rm_level *lv,
                   size_t depth, const char *last)
{
	_cleanup_free_ char *q = rm_path(lv, depth, last);
	if (e == EXDEV)
		return sbx_error_setc(err, EXDEV, "\"%s\" is a mount point, not removing it", q);
	return sbx_error_set(err, e, "cannot %s \"%s\"", what, q);
}

/* The parent of level depth, reopened as ".." when its stream was closed:
 * it must be the directory the walk came from, or the tree moved. */
static int rm_parent(struct rm_level *lv, size_t depth, struct sbx_error **err)
{
	struct rm_level *p = &lv[depth - 1];
	if (p->d)
		return 0;
	int fd = openat(dirfd(lv[depth].d), "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return rm_fail(err, e, "open the parent of", lv, depth, NULL);
	}
	if (st.st_dev != p->dev || st.st_ino != p->ino) {
		close(fd);
		_cleanup_free_ char *q = rm_path(lv, depth, NULL);
		return sbx_error_setc(err, ESTALE, "\"%s\" moved while it was being removed", q);
	}
	p->d = fdopendir(fd);
	if (p->d == NULL) {
		int e = errno;
		close(fd);
		return rm_fail(err, e, "read", lv, depth - 1, NULL);
	}
	return 0;
}

/* Depth first, one level at a time, by fd and never through a symbolic
 * link: at most RM_OPEN_LEVELS directory streams are open however deep the
 * tree is, so a sandbox's 100000 nested directories cannot exhaust sbx's
 * file descriptors. */
static int rm_tree(int top, const char *name, struct sbx_error **err)
{
	struct stat st;
	int fd = open_dir_writable(top, name, 0, &st);
	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
		/* Swapped for something else since it was looked at. */
		if (unlinkat(top, name, 0) < 0 && errno != ENOENT)
			return sbx_error_set(err, errno, "cannot remove \"%s\"", name);
		return 0;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return sbx_error_set(err, errno, "cannot open \"%s\"", name);
	}
	size_t cap = 16, depth = 0;
	struct rm_level *lv = xcalloc(cap, sizeof(*lv));
	lv[0] = (struct rm_level){fdopendir(fd), st.st_dev, st.st_ino, xstrdup(name)};
	dev_t dev = st.st_dev;
	int ret = 0;
	if (lv[0].d == NULL) {
		close(fd);
		ret = rm_fail(err, errno, "read", lv, 0, NULL);
	}
	while (ret == 0) {
		struct rm_level *cur = &lv[depth];
		errno = 0;
		struct dirent *de = readdir(cur->d);
		if (de == NULL && errno != 0) {
			ret = rm_fail(err, errno, "read", lv, depth, NULL);
			break;
		}
		if (de == NULL) {
			/* Empty now: remove it from its parent and go on there. */
			if (depth == 0)
				break;
			if (rm_parent(lv, depth, err) < 0) {
				ret = -1;
				break;
			}
			closedir(cur->d);
			cur->d = NULL;
			if (unlinkat(dirfd(lv[depth - 1].d), cur->name, AT_REMOVEDIR) < 0 &&
			    errno != ENOENT) {
				ret = rm_fail(err, errno, "remove directory", lv, depth, NULL);
				break;
			}
			free(cur->name);
			cur->name = NULL;
			depth--;
			continue;
		}
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		/* unlinkat never follows a symbolic link; a directory says EISDIR. */
		if (de->d_type != DT_DIR) {
			if (unlinkat(dirfd(cur->d), n, 0) == 0 || errno == ENOENT)
				continue;
			if (errno != EISDIR && errno != EPERM) {
				ret = rm_fail(err, errno, "remove", lv, depth, n);
				break;
			}
		}
		struct stat cst;
		int cfd = open_dir_writable(dirfd(cur->d), n, dev, &cst);
		if (cfd < 0) {
			int e = errno;
			if (e == ENOENT)
				continue;
			if (e == ENOTDIR || e == ELOOP) { /* not a directory (any more) */
				if (unlinkat(dirfd(cur->d), n, 0) == 0 || errno == ENOENT)
					continue;
				ret = rm_fail(err, errno, "remove", lv, depth, n);
				break;
			}
			ret = rm_fail(err, e, "open", lv, depth, n);
			break;
		}
		if (depth + 1 == cap) {
			lv = xrealloc(lv, cap * 2 * sizeof(*lv));
			memset(lv + cap, 0, cap * sizeof(*lv));
			cap *= 2;
		}
		if (depth + 1 >= RM_OPEN_LEVELS && lv[depth + 1 - RM_OPEN_LEVELS].d) {
			closedir(lv[depth + 1 - RM_OPEN_LEVELS].d);
			lv[depth + 1 - RM_OPEN_LEVELS].d = NULL;
		}
		depth++;
		lv[depth] = (struct rm_level){fdopendir(cfd), cst.st_dev, cst.st_ino, xstrdup(n)};
		if (lv[depth].d == NULL) {
			close(cfd);
			ret = rm_fail(err, errno, "read", lv, depth, NULL);
		}
	}
	for (size_t i = 0; i < cap; i++) {
		if (lv[i].d)
			closedir(lv[i].d);
		free(lv[i].name);
	}
	free(lv);
	if (ret < 0)
		return -1;
	if (unlinkat(top, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return sbx_error_set(err, errno, "cannot remove directory \"%s\"", name);
	return 0;
}

int rm_rf_at(int dirfd, const char *name, struct sbx_error **err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return sbx_error_set(err, errno, "cannot stat \"%s\"", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return sbx_error_set(err, errno, "cannot remove \"%s\"", name);
		return 0;
	}
	return rm_tree(dirfd, name, err);
}

int dir_list(int dirfd, const char *what, char ***out, struct sbx_error **err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot read \"%s\"", what);
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return sbx_error_set(err, errno, "cannot read \"%s\"", what);
	}
	char **names = xcalloc(1, sizeof(char *));
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			strv_push(&names, de->d_name);
		errno = 0;
	}
	if (errno != 0) {
		int e = errno;
		strv_free(names);
		return sbx_error_set(err, e, "cannot read \"%s\"", what);
	}
	*out = names;
	return 0;
}

char *path_join(const char *dir, const char *name)
{
	return dir[0] ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

char *path_find(const char *name)
{
	const char *path = getenv("PATH");
	if (path == NULL || path[0] == '\0')
		path = PATH_DEFAULT;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		if (p[0] == '/') {
			_cleanup_free_ char *full = xasprintf("%.*s/%s", (int)(end - p), p, name);
			struct stat st;
			if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
				return steal_ptr(full);
		}
		if (*end == '\0')
			return NULL;
		p = end;
	}
}

static struct rlimit nofile_caller;
static bool nofile_raised;

void rlimit_nofile_raise(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	nofile_caller = rl;
	rl.rlim_cur = rl.rlim_max;
	nofile_raised = setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

void rlimit_nofile_restore(void)
{
	if (nofile_raised && setrlimit(RLIMIT_NOFILE, &nofile_caller) == 0)
		nofile_raised = false;
}

/* One passwd(5) line: 0 and copies of the name and home when it is uid's. */
static int passwd_line(char *line, uid_t uid, char **name, char **home)
{
	char *f[7];
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		f[i] = strsep(&line, i + 1 < ARRAY_SIZE(f) ? ":" : "\n");
		if (f[i] == NULL)
			return -1;
	}
	uint64_t u;
	/* "+" and "-" lines are NIS compat, not users. */
	if (f[0][0] == '\0' || f[0][0] == '+' || f[0][0] == '-' || parse_u64(f[2], &u) < 0 ||
	    u != uid)
		return -1;
	*name = xstrdup(f[0]);
	*home = xstrdup(f[5]);
	return 0;
}

static int passwd_file(uid_t uid, char **name, char **home)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	if (f == NULL)
		return -1;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0)
		if (passwd_line(line, uid, name, home) == 0)
			return 0;
	return -1;
}

static int passwd_getent(uid_t uid, char **name, char **home)
{
	static const char *const paths[] = {"/usr/bin/getent", "/bin/getent"};
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	char num[16];
	snprintf(num, sizeof(num), "%u", (unsigned)uid);
	char *argv[] = {"getent", "passwd", num, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	pid_t pid = -1;
	for (size_t i = 0; i < ARRAY_SIZE(paths) && pid < 0; i++)
		if (posix_spawn(&pid, paths[i], &fa, NULL, argv, environ) != 0)
			pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	char buf[4096];
	if (pid > 0)
		read_string(p[0], buf, sizeof(buf));
	close(p[0]);
	if (pid < 0)
		return -1;
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return passwd_line(buf, uid, name, home);
}

int passwd_lookup(uid_t uid, char **name, char **home)
{
	/* The subordinate id checks ask more than once, found or not. */
	static bool cached;
	static uid_t cached_uid;
	static char *cached_name, *cached_home;
	if (!cached || cached_uid != uid) {
		free(cached_name);
		free(cached_home);
		cached_name = cached_home = NULL;
		if (passwd_file(uid, &cached_name, &cached_home) < 0)
			(void)passwd_getent(uid, &cached_name, &cached_home);
		cached = true;
		cached_uid = uid;
	}
	if (cached_name == NULL)
		return -1;
	if (name)
		*name = xstrdup(cached_name);
	if (home)
		*home = xstrdup(cached_home);
	return 0;
}

static char *home_dir(void)
{
	const char *h = getenv("HOME");
	if (h && h[0] == '/')
		return xstrdup(h);
	char *home = NULL;
	if (passwd_lookup(getuid(), NULL, &home) == 0 && home[0] == '/')
		return home;
	free(home);
	return NULL;
}

static int xdg_dir(const char *var, const char *fallback, char **out, struct sbx_error **err)
{
	const char *v = getenv(var);
	if (v && v[0] == '/') {
		*out = xasprintf("%s/sbx", v);
		return 0;
	}
	_cleanup_free_ char *home = home_dir();
	if (home == NULL)
		return sbx_error_set(err, 0, "neither $%s nor $HOME is set to an absolute path",
		                     var);
	*out = xasprintf("%s/%s/sbx", home, fallback);
	return 0;
}

int xdg_data_dir(char **out, struct sbx_error **err)
{
	return xdg_dir("XDG_DATA_HOME", ".local/share", out, err);
}

int xdg_config_dir(char **out, struct sbx_error **err)
{
	return xdg_dir("XDG_CONFIG_HOME", ".config", out, err);
}

int xdg_cache_dir(char **out, struct sbx_error **err)
{
	return xdg_dir("XDG_CACHE_HOME", ".cache", out, err);
}

/* The directory must be ours, 0700 and not a symlink: anything else could be
 * a trap laid by another user (bwrap #304). */
static int verify_private_dir(const char *path, struct sbx_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return sbx_error_set(err, errno, "cannot stat \"%s\"", path);
	if (!S_ISDIR(st.st_mode))
		return sbx_error_set(err, ENOTDIR, "\"%s\" is not a directory", path);
	if (st.st_uid != geteuid())
		return sbx_error_set(err, EPERM, "\"%s\" is owned by uid %u, not by you (uid %u)",
		                     path, st.st_uid, geteuid());
	if (st.st_mode & 0077)
		return sbx_error_set(err, EPERM,
		                     "\"%s\" is accessible by other users (mode %04o); run "
		                     "'chmod 700 %s'",
		                     path, st.st_mode & 07777, path);
	return 0;
}

int xdg_runtime_fallback_dir(char **out, struct sbx_error **err)
{
	_cleanup_free_ char *cache = NULL;
	if (xdg_cache_dir(&cache, err) < 0)
		return -1;
	*out = xasprintf("%s/run", cache);
	return 0;
}

int xdg_runtime_dir(char **out, struct sbx_error **err)
{
	/* A run asks several times: created and checked once per process (and
	 * per environment, which tests change). */
	static char *checked_for, *checked;
	const char *v = getenv("XDG_RUNTIME_DIR");
	const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	_cleanup_free_ char *key =
	    xasprintf("%s\n%s\n%s", v ? v : "", cache ? cache : "", home ? home : "");
	if (checked && strcmp(key, checked_for) == 0) {
		*out = xstrdup(checked);
		return 0;
	}
	_cleanup_free_ char *dir = NULL;
	if (v && v[0] == '/' && access(v, W_OK | X_OK) == 0) {
		dir = xasprintf("%s/sbx", v);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return sbx_error_set(err, errno, "cannot create runtime directory \"%s\"",
			                     dir);
	} else {
		/* Fallback: under the user's own cache directory, which no other
		 * user can create first (a name in /tmp could be taken by anyone,
		 * and then sbx could not run). Not a tmpfs, so a reboot leaves the
		 * live state of what ran: the locks tell it is stopped. */
		if (xdg_runtime_fallback_dir(&dir, err) < 0)
			return sbx_error_prefix(err, "no runtime directory");
		if (mkdir_p(dir, 0700, err) < 0)
			return -1;
	}
	if (verify_private_dir(dir, err) < 0)
		return -1;
	free(checked_for);
	free(checked);
	checked_for = steal_ptr(key);
	checked = xstrdup(dir);
	*out = steal_ptr(dir);
	return 0;
}

char *expand_home(const char *s)
{
	_cleanup_free_ char *home = home_dir();
	const char *h = home ? home : "";
	char *out = NULL;
	size_t cap = 0;
	FILE *f = open_memstream(&out, &cap);
	if (f == NULL)
		abort();
	const char *p = s;
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		fputs(h, f);
		p++;
	}
	while (*p) {
		if (str_startswith(p, "${HOME}")) {
			fputs(h, f);
			p += 7;
		} else if (str_startswith(p, "$HOME") &&
		           !(isalnum((unsigned char)p[5]) || p[5] == '_')) {
			fputs(h, f);
			p += 5;
		} else {
			fputc(*p++, f);
		}
	}
	fclose(f);
	return out;
}

int name_validate(const char *name, const char **why)
{
	if (name == NULL || name[0] == '\0') {
		*why = "the name is empty";
		return -1;
	}
	if (name[0] == '-' || name[0] == '.') {
		*why = "a name must not start with '-' or '.'";
		return -1;
	}
	if (strstr(name, "..")) {
		*why = "a name must not contain \"..\"";
		return -1;
	}
	if (strlen(name) > 128) {
		*why = "a name must be at most 128 characters";
		return -1;
	}
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!(isalnum(c) || c == '_' || c == '-' || c == '.' || c == '+' || c == '@')) {
			*why = "a name may only contain letters, digits and \"_-.+@\"";
			return -1;
		}
	}
	return 0;
}

/* The length of the UTF-8 sequence at p (1 to 4), 0 when it is invalid, -1
 * when it may be valid but avail cuts it short. */
static int utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char c = *p;
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 1;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i <= n; i++) {
		if (i >= avail)
			return -1;
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range code points. */
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return (int)n + 1;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		int n = utf8_seq(p, (size_t)(end - p));
		if (n <= 0)
			return false;
		p += n;
	}
	return true;
}

int sbx_trace_enabled;

void sbx_trace(const char *fmt, ...)
{
	if (!sbx_trace_enabled)
		return;
	static struct timespec start;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (start.tv_sec == 0 && start.tv_nsec == 0)
		start = now;
	double ms =
	    (double)(now.tv_sec - start.tv_sec) * 1e3 + (double)(now.tv_nsec - start.tv_nsec) / 1e6;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sbx: [%8.3f ms] [%d] %s\n", ms, (int)getpid(), buf);
}

char *str_escape_mem(const char *s, size_t len, enum str_escape_mode mode, size_t *used)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	char *out = xmalloc(len * 4 + 1), *o = out;
	while (p < end) {
		unsigned char c = *p;
		size_t avail = (size_t)(end - p);
		if (mode == ESCAPE_TEXT && (c == '\n' || c == '\t' || c == '\\')) {
			*o++ = (char)*p++;
			continue;
		}
		if (mode == ESCAPE_TEXT && c == '\r') {
			if (avail >= 2 && p[1] == '\n') {
				*o++ = '\r';
				*o++ = '\n';
				p += 2;
				continue;
			}
			if (avail == 1 && used)
				break; /* the next chunk may start with its '\n' */
		}
		if (mode == ESCAPE_QUOTED && (c == '"' || c == '\\')) {
			*o++ = '\\';
			*o++ = (char)*p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == '\\') {
			o += sprintf(o, "\\x%02x", c);
			p++;
			continue;
		}
		if (c < 0x80) {
			*o++ = (char)*p++;
			continue;
		}
		int n = utf8_seq(p, avail);
		if (n < 0 && used)
			break; /* the rest of the character is in the next chunk */
		if (n <= 0) {
			o += sprintf(o, "\\x%02x", c);
			p++;
			continue;
		}
		bool c1 = c == 0xc2 && p[1] <= 0x9f; /* U+0080 to U+009F */
		for (int i = 0; i < n; i++, p++) {
			if (c1)
				o += sprintf(o, "\\x%02x", *p);
			else
				*o++ = (char)*p;
		}
	}
	*o = '\0';
	if (used)
		*used = (size_t)(p - (const unsigned char *)s);
	return out;
}

char *str_escape(const char *s)
{
	return str_escape_mem(s, strlen(s), ESCAPE_QUOTED, NULL);
}

char *str_escape_bare(const char *s)
{
	return str_escape_mem(s, strlen(s), ESCAPE_BARE, NULL);
}

char *str_display(const char *s)
{
	size_t n = strlen(s), cut = n;
	if (n > STR_DISPLAY_MAX) {
		cut = STR_DISPLAY_MAX;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	char *q = str_escape_mem(s, cut, ESCAPE_QUOTED, NULL);
	if (cut == n)
		return q;
	char *r = xasprintf("%s...", q);
	free(q);
	return r;
}

char *why_set(char **why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	*why = xvasprintf(fmt, ap);
	va_end(ap);
	return NULL;
}

int str_choice(const char *s, const char *const *names, size_t n, int *out, char **why)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	char *list = NULL;
	size_t cap = 0;
	FILE *f = open_memstream(&list, &cap);
	if (f == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i == 0 ? "" : (i + 1 == n ? " or " : ", "), names[i]);
	fclose(f);
	const char *close = str_closest(s, names, n);
	if (close)
		why_set(why, "expected %s; did you mean \"%s\"?", list, close);
	else
		why_set(why, "expected %s", list);
	free(list);
	return -1;
}

size_t str_count_char(const char *s, char c)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == c;
	return n;
}
