/* test-sha256.c - SHA-256 against the FIPS 180-4 vectors, fed whole and in
 * pieces. */
#define _GNU_SOURCE
#include "lib/sha256.h"
#include "tap.h"
#include "lib/util.h"

#include <stdbool.h>
#include <string.h>

static char *sha_hex(const void *data, size_t len)
{
	char hex[65];
	sha256_hex(data, len, hex);
	return xstrdup(hex);
}

static void test_sha256(void)
{
	static const struct {
		const char *in, *hex;
	} v[] = {
	    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
	     "nopqrlmnopqrsmnopqrstnopqrstu",
	     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char *h = sha_hex(v[i].in, strlen(v[i].in));
		is_str(h, v[i].hex, "sha256 vector %zu (%zu bytes)", i, strlen(v[i].in));
		free(h);
	}
	/* A million 'a's, in uneven pieces. */
	struct sha256 c;
	char hex[65];
	char *a = xmalloc(1000000);
	memset(a, 'a', 1000000);
	sha256_init(&c);
	for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 % 997 + 1)
		sha256_update(&c, a + off, off + step > 1000000 ? 1000000 - off : step);
	sha256_final(&c, hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256 of a million 'a's, fed in uneven pieces");
	free(a);
	/* Every split of messages around the 55/56/64-byte padding edges. */
	char msg[130];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('A' + i % 26);
	bool same = true;
	for (size_t len = 50; len <= sizeof(msg) && same; len++) {
		char *one = sha_hex(msg, len);
		for (size_t cut = 0; cut <= len && same; cut++) {
			sha256_init(&c);
			sha256_update(&c, msg, cut);
			sha256_update(&c, msg + cut, len - cut);
			sha256_final(&c, hex);
			same = strcmp(hex, one) == 0;
		}
		free(one);
	}
	ok(same, "sha256: any split of a message gives the one-shot digest");
}

int main(void)
{
	test_sha256();
	return done_testing();
}
