/* image-lock.h - the image store's lock: an flock(2) of the store directory
 * itself ($XDG_DATA_HOME/sbx/images), as the instance lock is one of the
 * instance directory (state.h): no file of its own, nothing to create or
 * leave behind.
 *
 * Held exclusively by whatever changes what an image name is: the commit of
 * an import, pull or bootstrap (the rename into place, and a replace with
 * the instance_rebase of the old image's users), and image_remove (the
 * check that no instance uses the image, and the rename away). Held shared
 * by whatever makes an instance of an image, from opening it (image_resolve,
 * image_open_shared) until the instance is recorded (its config.json names
 * the image's root, so that a replace rebases it and image rm sees it),
 * and no longer: the payload runs without it. So an image never changes or
 * goes away under an instance being made, and the long parts (a download,
 * an extraction, the removal of a renamed-away tree) run unlocked.
 *
 * A lock that is held makes the caller wait, saying so once through the
 * notify function; a file system without flock (ENOLCK, EOPNOTSUPP) is
 * used without the lock. */
#ifndef SBX_IMAGE_LOCK_H
#define SBX_IMAGE_LOCK_H

#include "lib/util.h"

#include <stdbool.h>

/* Says "waiting for ..." before a lock is waited for; NULL (the default)
 * says nothing. */
void image_lock_set_notify(void (*fn)(void *ctx, const char *msg), void *ctx);

/* Locks storefd, an fd of the store directory: 0, or -1 with *err set. */
int image_lock_fd(int storefd, bool exclusive, struct sbx_error **err);

/* A shared lock this process holds on an open file of its own (sbx commit,
 * while it copies an instance's image): given up (LOCK_UN, which releases
 * it in every process that shares the open file) before this process waits
 * for the exclusive lock, which it would otherwise never get. -1: none. */
void image_lock_yield_before_exclusive(int fd);

/* Opens the store (creating it when create is set) and locks it: an
 * O_CLOEXEC fd that holds the lock until it is closed, -2 when there is no
 * store and create is not set, or -1 with *err set. */
int image_lock_store(bool exclusive, bool create, struct sbx_error **err);

#endif
