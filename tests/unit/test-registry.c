/* test-registry.c - the references sbx pull takes: the skopeo source each
 * one means, the stored name it gets, and the ones refused. */
#define _GNU_SOURCE
#include "store/reference.h"
#include "store/registry.h"
#include "tap.h"
#include "lib/util.h"

#include <errno.h>

#define DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static void accepted(const char *ref, const char *name, const char *want_source,
                     const char *want_name)
{
	char *source = NULL, *stored = NULL;
	struct sbx_error *err = NULL;
	int r = registry_reference(ref, name, &source, &stored, &err);
	ok(r == 0, "%s%s%s is accepted%s%s", ref, name ? " --name " : "", name ? name : "",
	   err ? ": " : "", err ? err->msg : "");
	is_str(source, want_source, "%s: the source", ref);
	is_str(stored, want_name, "%s: the name", ref);
	free(source);
	free(stored);
	sbx_error_free(err);
}

static void refused(const char *ref, const char *name, const char *want_msg)
{
	char *source = NULL, *stored = NULL;
	struct sbx_error *err = NULL;
	int r = registry_reference(ref, name, &source, &stored, &err);
	ok(r < 0 && source == NULL && stored == NULL, "%s is refused", ref);
	is_int(err ? err->code : 0, EINVAL, "%s: EINVAL", ref);
	is_str(err ? err->msg : NULL, want_msg, "%s: the message", ref);
	free(source);
	free(stored);
	sbx_error_free(err);
}

static void normal(const char *ref, const char *want)
{
	char *n = reference_normalize(ref);
	is_str(n, want, "\"%s\" normalised", ref);
	free(n);
}

int main(void)
{
	/* Fully qualified: a host with a '.' or a ':', or localhost; the
	 * source is the normal form, with the default tag. */
	accepted("localhost:5000/library/busybox:latest", NULL,
	         "docker://localhost:5000/library/busybox:latest", "busybox");
	accepted("localhost/tools/x", NULL, "docker://localhost/tools/x:latest", "x");
	accepted("docker.io/library/alpine", NULL, "docker://docker.io/library/alpine:latest",
	         "alpine");
	accepted("registry:5000/a", NULL, "docker://registry:5000/a:latest", "a");
	/* Short names are docker.io's, as docker's and podman's. */
	accepted("alpine", NULL, "docker://docker.io/library/alpine:latest", "alpine");
	accepted("alpine:latest", NULL, "docker://docker.io/library/alpine:latest", "alpine");
	accepted("alpine:3.19", "alpine-3.19", "docker://docker.io/library/alpine:3.19",
	         "alpine-3.19");
	accepted("user/tool", NULL, "docker://docker.io/user/tool:latest", "tool");
	accepted("docker.io/alpine", NULL, "docker://docker.io/library/alpine:latest", "alpine");
	accepted("index.docker.io/library/alpine", NULL, "docker://docker.io/library/alpine:latest",
	         "alpine");
	/* skopeo's docker://, with Docker's defaults. */
	accepted("docker://alpine", NULL, "docker://docker.io/library/alpine:latest", "alpine");
	accepted("docker://alpine:latest", NULL, "docker://docker.io/library/alpine:latest",
	         "alpine");
	/* A tag or a digest with a name; NAME:latest is NAME. */
	accepted("quay.io/a/b:1.0", "b-1.0", "docker://quay.io/a/b:1.0", "b-1.0");
	/* Another tag without --name goes in the name, as podman's forms. */
	accepted("quay.io/a/b:1.0", NULL, "docker://quay.io/a/b:1.0", "b-1.0");
	accepted("docker.io/library/alpine:3.19", NULL, "docker://docker.io/library/alpine:3.19",
	         "alpine-3.19");
	accepted("localhost:5000/x:v2_rc.1", NULL, "docker://localhost:5000/x:v2_rc.1",
	         "x-v2_rc.1");
	accepted("quay.io/a/b@" DIGEST, "pinned:latest", "docker://quay.io/a/b@" DIGEST, "pinned");
	accepted("quay.io/a/b:1.0@" DIGEST, "pinned", "docker://quay.io/a/b:1.0@" DIGEST, "pinned");

	normal("127.0.0.1:5000/test/busybox", "127.0.0.1:5000/test/busybox:latest");
	normal("docker://127.0.0.1:5000/test/busybox:latest", "127.0.0.1:5000/test/busybox:latest");
	normal("busybox", "docker.io/library/busybox:latest");
	normal("a/b/c:v1", "docker.io/a/b/c:v1");
	normal("my-registry.example:443/x__y/a.b-c", "my-registry.example:443/x__y/a.b-c:latest");
	/* Not references: run takes these as something else, or refuses them. */
	normal("./dir", NULL);
	normal("Alpine", NULL);
	normal("a//b", NULL);
	normal("a/b/", NULL);
	normal("a:", NULL);
	normal("a:-x", NULL);
	normal("a@sha256:12", NULL);
	normal("bad_host.x:99999/a", NULL);
	normal("a..b", NULL);
	normal("a_-b", NULL);
	normal("", NULL);

	refused("Alpine", NULL,
	        "\"Alpine\" is not a valid image reference; write "
	        "[HOST[:PORT]/]PATH[:TAG][@DIGEST], the path in lower case");
	refused("quay.io/A/b", "x",
	        "\"quay.io/A/b\" is not a valid image reference; write "
	        "[HOST[:PORT]/]PATH[:TAG][@DIGEST], the path in lower case");
	refused("oci:dir:tag", NULL,
	        "\"oci:dir:tag\" is not in a registry: sbx pulls from registries only "
	        "(docker://); an OCI image layout is imported with 'sbx image import NAME DIR'");
	refused("docker-archive:x.tar", NULL,
	        "\"docker-archive:x.tar\" is not in a registry: sbx pulls from registries only "
	        "(docker://); an OCI image layout is imported with 'sbx image import NAME DIR'");
	refused("https://a.b/c", NULL,
	        "\"https://a.b/c\": unknown transport; sbx pulls from registries, as "
	        "docker://REFERENCE or HOST/PATH[:TAG]");
	refused("docker://", NULL, "\"docker://\" names no image");
	refused("quay.io/a/:1.0", NULL,
	        "cannot name an image after \"quay.io/a/:1.0\": the name is empty; choose its "
	        "name with --name NAME");
	refused("quay.io/a/b:latest@" DIGEST, NULL,
	        "\"quay.io/a/b:latest@" DIGEST "\" names a digest, and sbx keeps one image per "
	        "name: choose its name with --name NAME");
	refused("quay.io/a/", NULL,
	        "cannot name an image after \"quay.io/a/\": the name is empty; choose its name "
	        "with --name NAME");
	refused("quay.io/a/.hidden", NULL,
	        "cannot name an image after \"quay.io/a/.hidden\": a name must not start with '-' "
	        "or '.'; choose its name with --name NAME");
	/* Escaped in the message, as everything from the command line is. */
	refused("quay.io/a/b\x1b[2J", NULL,
	        "cannot name an image after \"quay.io/a/b\\x1b[2J\": a name may only contain "
	        "letters, digits and \"_-.+@\"; choose its name with --name NAME");
	return done_testing();
}
