/* reference.h - image references in a registry, as docker and podman read
 * them: [docker://][HOST[:PORT]/]PATH[:TAG][@DIGEST]. One normal form lets
 * `sbx run REF` find the image `sbx pull REF` stored, whichever way the
 * reference was spelled. */
#ifndef SBX_REFERENCE_H
#define SBX_REFERENCE_H

#include <stdbool.h>

/* The registry of a reference that names none, as docker's. */
#define REFERENCE_DEFAULT_HOST "docker.io"

/* The normal form of ref, HOST/PATH:TAG or HOST/PATH[:TAG]@DIGEST, without
 * "docker://": docker's rules, a first component with a '.' or a ':' or
 * "localhost" is the registry, else docker.io, where a one-component path
 * is under library/ ("alpine" is docker.io/library/alpine:latest); the tag
 * defaults to latest unless there is a digest. NULL when ref does not parse
 * as a reference (bad characters, an upper-case path, an empty component). */
char *reference_normalize(const char *ref);

/* Whether ref names its registry (its first component is a host). */
bool reference_has_host(const char *ref);

#endif
