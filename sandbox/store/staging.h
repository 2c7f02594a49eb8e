/* staging.h - the image store's directory on disk (store-internal): opening
 * it, its temporary directories (.tmp-NAME-XXXXXX while an image is built,
 * .rm-NAME-XXXXXX while one is removed) and their clean-up, and building an
 * image in one, then renaming it into place, so that an image appears
 * complete or not at all. */
#ifndef SBX_STAGING_H
#define SBX_STAGING_H

#include "store/image.h"

/* Opens the store, creating it when create is set (0700: images may hold
 * private files): an fd, -2 when it is missing and not to be created, or -1
 * with *err set. path (may be NULL) gets its path. */
int staging_store_open(bool create, char **path, struct sbx_error **err);
/* Creates STORE/.PREFIX-NAME-XXXXXX; returns its name. */
char *staging_mkdtemp(const char *store, const char *prefix, const char *name,
                      struct sbx_error **err);
/* Removes temporary directories a killed import or removal left behind. */
void staging_gc(int storefd);

/* 0 when no image is called name yet, else -1 with *err set (EEXIST) as
 * every import says it: early, before a long download or import. */
int staging_check_free(int storefd, const char *name, struct sbx_error **err);

/* 0 when an image that pulls source may replace name: none is called so,
 * or the one that is was pulled from the same reference; else -1 with *err
 * set (EEXIST). A pull checks early, and staging_commit again, locked. */
int staging_check_replaceable(const char *name, const char *source, struct sbx_error **err);

/* An image being built: STORE/.tmp-NAME-XXXXXX/rootfs is rootfd. */
struct staging {
	char *store;
	int storefd;
	char *tmp; /* set until committed */
	int tmpfd;
	int rootfd;
	bool replace; /* commit replaces an image of the same name */
};

/* Fails early, with EEXIST, when name is taken. */
int staging_begin(struct staging *s, const char *name, struct sbx_error **err);
/* The same, or, with replace, for an image that replaces name if taken. */
int staging_begin_for(struct staging *s, const char *name, bool replace, struct sbx_error **err);
/* Writes meta (its name and creation time set here) and renames the staging
 * directory to name, with the store's lock held exclusively (image-lock.h);
 * EEXIST when name was taken meanwhile, unless replace was set (and
 * staging_check_replaceable allows it, for a meta with a source). An image that replaces another
 * never changes an instance's lower layer: when instances use the old image, it is kept as
 * NAME@YYYYMMDDTHHMMSSZ and they are made to use it under that name
 * (instance_rebase); otherwise it is removed. */
int staging_commit(struct staging *s, const char *name, const struct sbx_image *meta,
                   struct sbx_error **err);
/* Removes what was not committed, and closes everything. */
void staging_end(struct staging *s);

#endif
