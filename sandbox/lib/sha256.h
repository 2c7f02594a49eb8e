/* sha256.h - SHA-256 (FIPS 180-4), for OCI blob digests and the seccomp
 * program cache's keys; OpenSSL is not a dependency. */
#ifndef SBX_SHA256_H
#define SBX_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	unsigned char buf[64];
	size_t n; /* bytes waiting in buf */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Writes the digest as 64 lowercase hex digits and a NUL. */
void sha256_final(struct sha256 *c, char hex[65]);
/* The digest of len bytes at data, in one call. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
