/* image-lock.c - the image store's lock (see image-lock.h). */
#define _GNU_SOURCE
#include "store/image-lock.h"
#include "store/image.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>

static void (*notify_fn)(void *ctx, const char *msg);
static void *notify_ctx;

void image_lock_set_notify(void (*fn)(void *ctx, const char *msg), void *ctx)
{
	notify_fn = fn;
	notify_ctx = ctx;
}

static int yield_fd = -1;

void image_lock_yield_before_exclusive(int fd)
{
	yield_fd = fd;
}

int image_lock_fd(int storefd, bool exclusive, struct sbx_error **err)
{
	int op = exclusive ? LOCK_EX : LOCK_SH;
	if (exclusive && yield_fd >= 0) {
		(void)flock(yield_fd, LOCK_UN);
		yield_fd = -1;
	}
	/* The uncontended case is this one call. */
	if (flock(storefd, op | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK) {
		if (notify_fn) {
			_cleanup_free_ char *store = NULL;
			struct sbx_error *ignored = NULL;
			if (image_store_dir(&store, &ignored) < 0)
				sbx_error_free(ignored);
			_cleanup_free_ char *msg = xasprintf(
			    "waiting for the image store's lock (\"%s\"): another sbx is %s",
			    store ? store : "images",
			    exclusive ? "making an instance of an image, or changing one"
			              : "adding, replacing or removing an image");
			notify_fn(notify_ctx, msg);
		}
		int r;
		do
			r = flock(storefd, op);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return 0;
	}
	if (errno == ENOLCK || errno == EOPNOTSUPP)
		return 0;
	return sbx_error_set(err, errno, "cannot lock the image store");
}

int image_lock_store(bool exclusive, bool create, struct sbx_error **err)
{
	_cleanup_free_ char *dir = NULL;
	if (image_store_dir(&dir, err) < 0)
		return -1;
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !create)
		return -2;
	if (fd < 0 && errno == ENOENT) {
		if (mkdir_p(dir, 0700, err) < 0)
			return -1;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return sbx_error_set(err, errno, "cannot open the image store \"%s\"", dir);
	if (image_lock_fd(fd, exclusive, err) < 0)
		return sbx_error_prefix(err, "\"%s\"", dir);
	return steal_fd(fd);
}
