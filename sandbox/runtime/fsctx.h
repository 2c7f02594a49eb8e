/* fsctx.h - filesystem contexts of the kernel's mount API (fsopen,
 * fsconfig): when the kernel refuses an option or the creation, it often
 * says why through the context's fd ("e overlay: ..."); those words go into
 * the error, between the caller's message and strerror. */
#ifndef SBX_FSCTX_H
#define SBX_FSCTX_H

#include "lib/util.h"

/* fsopen(type), close-on-exec: the context's fd, or -1 with *err set to the
 * caller's message and strerror. */
int fsctx_open(const char *type, struct sbx_error **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* fsconfig(fsfd, cmd, key, value, aux): 0, or -1 with *err set to the
 * caller's message, the kernel's explanation (when it gave one) and
 * strerror. FSCONFIG_CMD_CREATE goes through here too. */
int fsctx_set(int fsfd, unsigned int cmd, const char *key, const void *value, int aux,
              struct sbx_error **err, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* The same for what may fail (an option older kernels lack): 0 or -1, and
 * the kernel's explanation of a refusal is read away, so that the next
 * error gets its own. */
int fsctx_try(int fsfd, unsigned int cmd, const char *key, const void *value, int aux);

#endif
