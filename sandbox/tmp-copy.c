/* TEMPORARY until image.c exports it. */
#include "image.h"
#include <errno.h>
int image_copy_rootfs(const struct sbx_image *img, const char *dst,
		      const struct sbx_image_progress *progress, struct sbx_error **err);
int image_copy_rootfs(const struct sbx_image *img, const char *dst,
		      const struct sbx_image_progress *progress, struct sbx_error **err)
{
	return sbx_error_set(err, ENOSYS, "not yet");
}
