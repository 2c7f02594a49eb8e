/* fuzz-oci-layout.c - an OCI image layout through sbx's importer, from
 * index.json down to the manifest, the config and the layers' descriptors.
 *
 * Blobs are found by their sha256, which a fuzzer cannot forge, so the
 * input is a list of documents the harness writes as a layout:
 *
 *   [ref:REF\n]INDEX.JSON[\n%%\nBLOB1[\n%%\nBLOB2...]]
 *
 * index.json is the first document; each further one is a blob, stored
 * under its digest. In a document, "@N" stands for blob N's digest
 * ("sha256:" and 64 hex digits) and "#N" for its size, for N from 1 to 9
 * and greater than the document's own number (blobs name only later ones,
 * so every digest is known when it is needed). With "ref:REF", the layout
 * is imported as DIR:REF.
 *
 * Invariants: a refusal says why and leaves no image behind; an import
 * that succeeds makes exactly the image asked for. Layers are not
 * extracted here (sbx-unpack is out of reach): fuzz-profile and the unit
 * tests cover the extractor. */
#define _GNU_SOURCE
#include "store/layer.h"
#include "lib/sha256.h"
#include "lib/util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DOCS 10

static char *top, *layout, *store;
static bool verbose; /* SBX_FUZZ_VERBOSE=1: say how each input ends */

static void rm_all(const char *path);

static void cleanup(void)
{
	rm_all(top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tmpl[] = "/tmp/sbx-fuzz-oci-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		abort();
	top = xstrdup(tmpl);
	layout = xasprintf("%s/layout", top);
	char *data = xasprintf("%s/data", top);
	store = xasprintf("%s/sbx/images", data);
	setenv("XDG_DATA_HOME", data, 1);
	setenv("XDG_CACHE_HOME", top, 1);
	setenv("HOME", top, 1);
	/* No sbx-unpack: a layer's extraction fails at once. */
	setenv("SBX_LIBEXECDIR", "/nonexistent/sbx-fuzz", 1);
	free(data);
	verbose = getenv("SBX_FUZZ_VERBOSE") != NULL;
	atexit(cleanup);
	return 0;
}

static void spit(int dirfd, const char *name, const char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, buf, len) < 0)
		abort();
	close(fd);
}

/* The blob's name: the one use of sbx's SHA-256 here. */
static char *digest_of(const char *buf, size_t len)
{
	char hex[65];
	sha256_hex(buf, len, hex);
	return xstrdup(hex);
}

/* doc with "@N" and "#N" (N > self) replaced. */
static char *expand(const char *doc, size_t len, size_t self, char *const *hex, const size_t *sizes,
                    size_t n, size_t *out_len)
{
	size_t cap = len * 8 + 1, o = 0;
	char *out = xmalloc(cap);
	for (size_t i = 0; i < len; i++) {
		char c = doc[i];
		size_t k = i + 1 < len ? (size_t)(doc[i + 1] - '0') : 0;
		if ((c == '@' || c == '#') && i + 1 < len && doc[i + 1] >= '1' &&
		    doc[i + 1] <= '9' && k > self && k < n) {
			char tmp[80];
			int w = c == '@' ? snprintf(tmp, sizeof(tmp), "sha256:%s", hex[k])
			                 : snprintf(tmp, sizeof(tmp), "%zu", sizes[k]);
			if (o + (size_t)w + 1 > cap) {
				cap = (o + (size_t)w + 1) * 2;
				out = xrealloc(out, cap);
			}
			memcpy(out + o, tmp, (size_t)w);
			o += (size_t)w;
			i++;
			continue;
		}
		if (o + 2 > cap) {
			cap *= 2;
			out = xrealloc(out, cap);
		}
		out[o++] = c;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

static void rm_all(const char *path)
{
	_cleanup_free_ char *parent = xstrdup(path);
	char *slash = strrchr(parent, '/');
	*slash = '\0';
	int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return;
	struct sbx_error *err = NULL;
	if (rm_rf_at(pfd, slash + 1, &err) < 0)
		sbx_error_free(err);
	close(pfd);
}

static bool image_exists(const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", store, name);
	struct stat st;
	return lstat(p, &st) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *end = in + size;
	_cleanup_free_ char *ref = NULL;
	if (size >= 4 && memcmp(in, "ref:", 4) == 0) {
		const char *nl = memchr(in, '\n', size);
		if (nl == NULL)
			return 0;
		ref = xstrndup(in + 4, (size_t)(nl - in - 4));
		in = nl + 1;
	}

	/* Split into documents. */
	const char *doc[MAX_DOCS];
	size_t len[MAX_DOCS], n = 0;
	for (const char *p = in; n < MAX_DOCS;) {
		const char *sep = memmem(p, (size_t)(end - p), "\n%%\n", 4);
		doc[n] = p;
		len[n] = sep ? (size_t)(sep - p) : (size_t)(end - p);
		n++;
		if (sep == NULL)
			break;
		p = sep + 4;
	}

	/* Expand from the last blob back, so every "@N" is known. */
	char *text[MAX_DOCS] = {0}, *hex[MAX_DOCS] = {0};
	size_t tlen[MAX_DOCS] = {0};
	for (size_t i = n; i-- > 0;) {
		text[i] = expand(doc[i], len[i], i, hex, tlen, n, &tlen[i]);
		hex[i] = digest_of(text[i], tlen[i]);
	}

	rm_all(layout);
	if (mkdir(layout, 0755) < 0)
		abort();
	int dfd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || mkdirat(dfd, "blobs", 0755) < 0 || mkdirat(dfd, "blobs/sha256", 0755) < 0)
		abort();
	static const char marker[] = "{\"imageLayoutVersion\": \"1.0.0\"}";
	spit(dfd, "oci-layout", marker, sizeof(marker) - 1);
	spit(dfd, "index.json", text[0], tlen[0]);
	for (size_t i = 1; i < n; i++) {
		_cleanup_free_ char *name = xasprintf("blobs/sha256/%s", hex[i]);
		spit(dfd, name, text[i], tlen[i]);
	}
	close(dfd);

	_cleanup_free_ char *source = ref ? xasprintf("%s:%s", layout, ref) : xstrdup(layout);
	struct sbx_error *err = NULL;
	int r = layer_import_oci("fuzzimg", source, NULL, NULL, &err);
	if (verbose)
		fprintf(stderr, "import: %s\n", r == 0 ? "ok" : err ? err->msg : "(no message)");
	if (r < 0) {
		if (err == NULL || err->msg == NULL || err->msg[0] == '\0') {
			fprintf(stderr, "layer_import_oci failed without a message\n");
			abort();
		}
		if (image_exists("fuzzimg")) {
			fprintf(stderr, "a failed import left the image behind: %s\n", err->msg);
			abort();
		}
		sbx_error_free(err);
	} else {
		if (err != NULL || !image_exists("fuzzimg")) {
			fprintf(stderr, "an import succeeded without making its image\n");
			abort();
		}
		rm_all(store);
	}
	for (size_t i = 0; i < n; i++) {
		free(text[i]);
		free(hex[i]);
	}
	return 0;
}
