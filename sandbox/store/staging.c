/* staging.c - the image store's directory on disk (see staging.h). */
#define _GNU_SOURCE
#include "store/staging.h"
#include "store/image-lock.h"
#include "store/instance.h"
#include "store/reference.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

/* Left-over staging directories older than this are garbage. */
#define STALE_SECONDS 60

static char *now_rfc3339(void)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

int staging_store_open(bool create, char **path, struct sbx_error **err)
{
	_cleanup_free_ char *dir = NULL;
	if (image_store_dir(&dir, err) < 0)
		return -1;
	if (create && mkdir_p(dir, 0700, err) < 0)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return -2;
		return sbx_error_set(err, errno, "cannot open the image store \"%s\"", dir);
	}
	if (path)
		*path = steal_ptr(dir);
	return fd;
}

char *staging_mkdtemp(const char *store, const char *prefix, const char *name,
                      struct sbx_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/.%s-%s-XXXXXX", store, prefix, name);
	if (mkdtemp(path) == NULL) {
		sbx_error_set(err, errno, "cannot create a directory in \"%s\"", store);
		return NULL;
	}
	return xstrdup(strrchr(path, '/') + 1);
}

/* Removes staging directories a killed import or rm left behind. Holding
 * the flock marks one in use; the age check covers the moment between
 * mkdtemp and flock. */
void staging_gc(int storefd)
{
	int fd = openat(storefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!str_startswith(de->d_name, ".tmp-") && !str_startswith(de->d_name, ".rm-"))
			continue;
		_cleanup_close_ int t =
		    openat(storefd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (t < 0 || fstat(t, &st) < 0)
			continue;
		time_t changed = st.st_mtime > st.st_ctime ? st.st_mtime : st.st_ctime;
		if (now - changed < STALE_SECONDS || flock(t, LOCK_EX | LOCK_NB) < 0)
			continue;
		rm_rf_at(storefd, de->d_name, NULL);
	}
}

void staging_end(struct staging *s)
{
	if (s->tmp && s->storefd >= 0)
		rm_rf_at(s->storefd, s->tmp, NULL);
	if (s->rootfd >= 0)
		close(s->rootfd);
	if (s->tmpfd >= 0)
		close(s->tmpfd);
	if (s->storefd >= 0)
		close(s->storefd);
	free(s->tmp);
	free(s->store);
	*s = (struct staging){.storefd = -1, .tmpfd = -1, .rootfd = -1};
}

static int exists_error(struct sbx_error **err, const char *name)
{
	return sbx_error_setc(err, EEXIST,
	                      "image \"%s\" already exists; remove it first with 'sbx image rm %s'",
	                      name, name);
}

int staging_check_free(int storefd, const char *name, struct sbx_error **err)
{
	struct stat st;
	if (fstatat(storefd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return exists_error(err, name);
	return 0;
}

int staging_check_replaceable(const char *name, const char *source, struct sbx_error **err)
{
	_cleanup_image_ struct sbx_image *img = NULL;
	struct sbx_error *e = NULL;
	if (image_open(name, &img, &e) < 0) {
		int code = e->code;
		sbx_error_free(e);
		if (code == ENOENT)
			return 0;
		/* Damaged: image_rm is the way, as the import says. */
		return exists_error(err, name);
	}
	_cleanup_free_ char *want = source ? reference_normalize(source) : NULL;
	_cleanup_free_ char *have = img->source ? reference_normalize(img->source) : NULL;
	if (want && have && strcmp(want, have) == 0)
		return 0;
	_cleanup_free_ char *q = str_escape(want ? want : source ? source : "");
	return sbx_error_setc(err, EEXIST,
	                      "image \"%s\" already exists and was not pulled from %s; remove it "
	                      "first with 'sbx image rm %s', or pull under another name with "
	                      "--name",
	                      name, q, name);
}

int staging_begin(struct staging *s, const char *name, struct sbx_error **err)
{
	return staging_begin_for(s, name, false, err);
}

int staging_begin_for(struct staging *s, const char *name, bool replace, struct sbx_error **err)
{
	*s = (struct staging){.storefd = -1, .tmpfd = -1, .rootfd = -1, .replace = replace};
	s->storefd = staging_store_open(true, &s->store, err);
	if (s->storefd < 0)
		return -1;
	staging_gc(s->storefd);
	/* Fail early rather than after a long import; the rename decides. */
	if (!replace && staging_check_free(s->storefd, name, err) < 0)
		return -1;
	s->tmp = staging_mkdtemp(s->store, "tmp", name, err);
	if (s->tmp == NULL)
		return -1;
	s->tmpfd = openat(s->storefd, s->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->tmpfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s/%s\"", s->store, s->tmp);
	if (flock(s->tmpfd, LOCK_EX) < 0)
		return sbx_error_set(err, errno, "cannot lock \"%s/%s\"", s->store, s->tmp);
	if (mkdirat(s->tmpfd, "rootfs", 0755) < 0 || fchmodat(s->tmpfd, "rootfs", 0755, 0) < 0)
		return sbx_error_set(err, errno, "cannot create \"%s/%s/rootfs\"", s->store,
		                     s->tmp);
	s->rootfd = openat(s->tmpfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->rootfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s/%s/rootfs\"", s->store, s->tmp);
	return 0;
}

/* NAME@YYYYMMDDTHHMMSSZ, or with -2, -3... when that is taken. */
static char *kept_name(int storefd, const char *name)
{
	time_t t = time(NULL);
	struct tm tm;
	char stamp[32];
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 1;; i++) {
		char suffix[16] = "";
		if (i > 1)
			snprintf(suffix, sizeof(suffix), "-%d", i);
		/* Names are at most 128 characters: the base is cut to fit. */
		int room = 128 - (int)(strlen(stamp) + strlen(suffix) + 1);
		char *kept = xasprintf("%.*s@%s%s", room, name, stamp, suffix);
		struct stat st;
		if (fstatat(storefd, kept, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			return kept;
		free(kept);
	}
}

/* The staging directory takes name's place. The instances that use the old
 * image are pointed at its new name first: one that starts meanwhile finds
 * no lower layer and fails, rather than running on the new image. Then the
 * two directories are exchanged in one step (name is never missing), and
 * the old one is renamed to its new name, or, unused, left to staging_end
 * to remove. */
static int replace(struct staging *s, const char *name, struct sbx_error **err)
{
	_cleanup_free_ char *kept = kept_name(s->storefd, name);
	_cleanup_free_ char *old_rootfs = xasprintf("%s/%s/rootfs", s->store, name);
	_cleanup_free_ char *kept_rootfs = xasprintf("%s/%s/rootfs", s->store, kept);
	size_t users = 0;
	if (instance_rebase(old_rootfs, name, kept, kept_rootfs, &users, err) < 0)
		return sbx_error_prefix(err, "cannot replace image \"%s\"", name);
	int fd = s->storefd, e = 0;
	if (renameat2(fd, s->tmp, fd, name, RENAME_EXCHANGE) == 0) {
		/* Unused, the old image (now at s->tmp) goes with staging_end. */
		if (users == 0)
			return 0;
		if (renameat2(fd, s->tmp, fd, kept, RENAME_NOREPLACE) < 0) {
			e = errno;
			(void)renameat2(fd, s->tmp, fd, name, RENAME_EXCHANGE);
		}
	} else if (errno != EINVAL && errno != ENOSYS) {
		e = errno;
	} else if (renameat2(fd, name, fd, kept, RENAME_NOREPLACE) < 0) {
		/* No exchange here: name is missing for a moment. */
		e = errno;
	} else if (renameat2(fd, s->tmp, fd, name, RENAME_NOREPLACE) < 0) {
		e = errno;
		(void)renameat2(fd, kept, fd, name, RENAME_NOREPLACE);
	} else if (users == 0) {
		(void)rm_rf_at(fd, kept, NULL);
	}
	if (e != 0) {
		size_t back = 0;
		struct sbx_error *ignored = NULL;
		(void)instance_rebase(kept_rootfs, kept, name, old_rootfs, &back, &ignored);
		sbx_error_free(ignored);
		return sbx_error_set(err, e, "cannot replace image \"%s\" in \"%s\"", name,
		                     s->store);
	}
	free(s->tmp);
	s->tmp = NULL;
	return 0;
}

static int commit_locked(struct staging *s, const char *name, const struct sbx_image *meta,
                         struct sbx_error **err)
{
	int r = renameat2(s->storefd, s->tmp, s->storefd, name, RENAME_NOREPLACE);
	if (r < 0 && (errno == EINVAL || errno == ENOSYS))
		/* No RENAME_NOREPLACE here: a non-empty target still fails. */
		r = renameat(s->storefd, s->tmp, s->storefd, name);
	if (r < 0 && (errno == EEXIST || errno == ENOTEMPTY) && s->replace) {
		/* A pull's, checked again: the name may have changed hands
		 * since its early check. */
		if (meta->source && staging_check_replaceable(name, meta->source, err) < 0)
			return -1;
		return replace(s, name, err);
	}
	if (r < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			return exists_error(err, name);
		return sbx_error_set(err, errno, "cannot rename \"%s/%s\" to \"%s\"", s->store,
		                     s->tmp, name);
	}
	free(s->tmp);
	s->tmp = NULL;
	return 0;
}

int staging_commit(struct staging *s, const char *name, const struct sbx_image *meta,
                   struct sbx_error **err)
{
	_cleanup_free_ char *created = now_rfc3339();
	struct sbx_image m = *meta;
	m.name = (char *)name;
	m.created = created;
	if (image_metadata_write(s->tmpfd, &m, err) < 0)
		return -1;
	/* What name is changes under the lock only (image-lock.h); a replaced
	 * image left unused goes with staging_end, unlocked. */
	if (image_lock_fd(s->storefd, true, err) < 0)
		return sbx_error_prefix(err, "cannot add image \"%s\"", name);
	int r = commit_locked(s, name, meta, err);
	(void)flock(s->storefd, LOCK_UN);
	return r;
}
