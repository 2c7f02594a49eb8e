#!/usr/bin/env bats
# sbx pull and sbx push against a real registry: Debian's docker-registry, started on
# 127.0.0.1 for this file, holding images this file builds with umoci and
# pushes with skopeo. The pull, the run of what was pulled, a multi-arch
# index, credentials, a commit pushed back and pulled again, and every error
# path: its message, exit status 125 and nothing left in the image store. As an unprivileged user; no network
# beyond 127.0.0.1.

load ../helpers
load ../registry-helpers
bats_require_minimum_version 1.5.0

# The architecture in OCI's words, and another one.
native_arch() {
	case $(uname -m) in
	x86_64) echo amd64 ;; aarch64) echo arm64 ;; i?86) echo 386 ;; armv*) echo arm ;;
	ppc64le) echo ppc64le ;; s390x) echo s390x ;; riscv64) echo riscv64 ;; *) uname -m ;;
	esac
}
other_arch() { [ "$(native_arch)" = arm64 ] && echo amd64 || echo arm64; }

# add_image LAYOUT TAG MARKER: an image TAG in the OCI layout: busybox, and
# /etc/pulled holding MARKER; its command prints that file.
add_image() {
	local layout=$1 tag=$2 bundle=$BATS_FILE_TMPDIR/bundle-$2
	[ -d "$layout" ] || umoci init --layout "$layout"
	umoci new --image "$layout:$tag"
	umoci unpack --rootless --image "$layout:$tag" "$bundle"
	cp -a "$BATS_FILE_TMPDIR/rootfs/." "$bundle/rootfs/"
	echo "$3" >"$bundle/rootfs/etc/pulled"
	umoci repack --image "$layout:$tag" "$bundle"
	umoci config --image "$layout:$tag" --config.cmd /bin/cat --config.cmd /etc/pulled \
		--config.env PULLED=yes
	chmod -R u+rwX "$bundle" && rm -rf "$bundle"
}

setup_file() {
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	local layout=$BATS_FILE_TMPDIR/layout to
	make_busybox_rootfs "$BATS_FILE_TMPDIR/rootfs"
	add_image "$layout" latest "from the registry"
	add_image "$layout" native "the native image"
	add_image "$layout" other "the other architecture's image"
	# A multi-arch index: the other architecture first, then this one.
	python3 - "$layout" "$(native_arch)" "$(other_arch)" <<-'EOF'
		import hashlib, json, sys
		d, native, other = sys.argv[1:]
		ref = "org.opencontainers.image.ref.name"
		index = json.load(open(d + "/index.json"))
		by_ref = {m["annotations"][ref]: m for m in index["manifests"]}
		def entry(tag, arch):
		    m = {k: v for k, v in by_ref[tag].items() if k != "annotations"}
		    m["platform"] = {"os": "linux", "architecture": arch}
		    return m
		lst = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		       "manifests": [entry("other", other), entry("native", native)]}
		data = json.dumps(lst).encode()
		h = hashlib.sha256(data).hexdigest()
		open(f"{d}/blobs/sha256/{h}", "wb").write(data)
		index["manifests"].append({"mediaType": lst["mediaType"], "digest": "sha256:" + h,
		                           "size": len(data), "annotations": {ref: "multi"}})
		json.dump(index, open(d + "/index.json", "w"))
	EOF
	PORT=$(free_port)
	start_registry registry "$PORT"
	export REGISTRY=127.0.0.1:$PORT
	to="--dest-tls-verify=false"
	skopeo copy -q "$to" "oci:$layout:latest" "docker://$REGISTRY/test/busybox:latest"
	skopeo copy -q "$to" "oci:$layout:latest" "docker://$REGISTRY/test/busybox:1.0"
	skopeo copy -q --all "$to" "oci:$layout:multi" "docker://$REGISTRY/test/multi:latest"
	# What docker.io's short names reach through mirror_docker_io.
	skopeo copy -q "$to" "oci:$layout:latest" "docker://$REGISTRY/library/alpine:latest"
	skopeo copy -q "$to" "oci:$layout:latest" "docker://$REGISTRY/library/alpine:3.19"
	skopeo copy -q "$to" "oci:$layout:latest" "docker://$REGISTRY/library/busybox:latest"
}

# mirror_docker_io: a registries.conf (containers-registries.conf(5)) that
# sends docker.io to the local registry, so that a short name is pulled as
# docker.io's without any network. skopeo 1.9 reads the user's own
# ~/.config/containers/registries.conf (it ignores
# CONTAINERS_REGISTRIES_CONF), so HOME is the test's.
mirror_docker_io() {
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME/.config/containers"
	cat >"$HOME/.config/containers/registries.conf" <<-EOF
		[[registry]]
		prefix = "docker.io"
		location = "$REGISTRY"
		insecure = true
	EOF
}

# Instance directories: none is left by a run that failed.
instances() { ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }

teardown_file() {
	stop_registry registry
	chmod -R u+rwX "$BATS_FILE_TMPDIR" 2>/dev/null || true
}

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	IMAGES=$XDG_DATA_HOME/sbx/images
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	stop_registry auth
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# Everything in the store, dot names included, one line.
store() { ls -A "$IMAGES" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }

@test "pull: an image from the registry is stored under its last path component and runs" {
	run --separate-stderr -0 sbx pull --tls-verify=false "$REGISTRY/test/busybox:latest"
	# stdout: the name only; skopeo's progress went to stderr.
	[ "$output" = busybox ]
	grep -q "Writing manifest" <<<"$stderr"
	[ "$(store)" = busybox ]
	run -0 sbx image ls --format json
	[ "$(jq -r '.[0].source' <<<"$output")" = "docker://$REGISTRY/test/busybox:latest" ]
	[ "$(jq -c '.[0].cmd' <<<"$output")" = '["/bin/cat","/etc/pulled"]' ]
	run -0 sbx run busybox
	assert_output "from the registry"
	run -0 sbx run busybox sh -c 'echo $PULLED; cat /etc/passwd'
	assert_output "yes
root:x:0:0:root:/root:/bin/sh"
}

@test "image pull: the same; docker://, --name (NAME:latest is NAME) and a tagless reference" {
	run -0 sbx image pull -q --tls-verify=false --name mine:latest "docker://$REGISTRY/test/busybox"
	assert_output mine
	run -0 sbx pull -q --tls-verify=false -n other "$REGISTRY/test/busybox"
	assert_output other
	[ "$(store)" = "mine other" ]
	run -0 sbx run mine
	assert_output "from the registry"
	run -0 sbx image ls --format json
	# Recorded in the normal form: the tag is explicit.
	[ "$(jq -r '.[0].source' <<<"$output")" = "docker://$REGISTRY/test/busybox:latest" ]
	[ "$(jq -r '.[1].source' <<<"$output")" = "docker://$REGISTRY/test/busybox:latest" ]
}

@test "pull: a tag other than latest goes in the name (busybox:1.0 is busybox-1.0), or --name chooses it" {
	run -0 sbx pull -q --tls-verify=false "$REGISTRY/test/busybox:1.0"
	assert_output busybox-1.0
	[ "$(store)" = busybox-1.0 ]
	run -0 sbx run --rm busybox-1.0
	assert_output "from the registry"
	# What the error of a run before the pull told to do: either name runs it.
	run -0 sbx run --rm "$REGISTRY/test/busybox:1.0"
	assert_output "from the registry"
	run -0 sbx image rm busybox-1.0
	run -0 sbx pull -q --tls-verify=false --name mine "$REGISTRY/test/busybox:1.0"
	assert_output mine
	[ "$(store)" = mine ]
	run -0 sbx run --rm "docker://$REGISTRY/test/busybox:1.0"
	assert_output "from the registry"
}

@test "pull: docker.io/library/alpine:3.19 as podman takes it: pulled, then run by that reference or alpine:3.19" {
	mirror_docker_io
	[ "$(sbx pull docker.io/library/alpine:3.19 2>/dev/null)" = alpine-3.19 ]
	[ "$(store)" = alpine-3.19 ]
	run -0 sbx run --rm docker.io/library/alpine:3.19
	assert_output "from the registry"
	run -0 sbx run --rm alpine:3.19
	assert_output "from the registry"
	# --pull missing takes the same form.
	run -0 sbx image rm alpine-3.19
	run -0 sbx run --rm --pull missing alpine:3.19
	[ "${lines[${#lines[@]}-1]}" = "from the registry" ]
	[ "$(store)" = alpine-3.19 ] && [ "$(instances)" = "" ]
}

@test "pull: a multi-arch index gives this machine's image" {
	run -0 sbx pull -q --tls-verify=false "$REGISTRY/test/multi"
	assert_output multi
	run -0 sbx run multi
	assert_output "the native image"
}

@test "pull: --quiet prints the name only" {
	run --separate-stderr -0 sbx pull --quiet --tls-verify=false "$REGISTRY/test/busybox"
	assert_output busybox
	[ -z "$stderr" ] || { echo "stderr: $stderr" >&2; return 1; }
	run --separate-stderr -0 sbx -q pull --tls-verify=false -n quiet2 "$REGISTRY/test/busybox"
	assert_output quiet2
	[ -z "$stderr" ] || { echo "stderr: $stderr" >&2; return 1; }
}

@test "pull: the same reference again updates the image; another one of that name is refused before anything is fetched" {
	sbx pull -q --tls-verify=false "$REGISTRY/test/busybox" >/dev/null
	run -0 sbx pull -q --tls-verify=false "$REGISTRY/test/busybox:latest"
	assert_output busybox
	[ "$(store)" = busybox ]
	sbx image rm busybox >/dev/null
	sbx image import busybox "$BATS_FILE_TMPDIR/rootfs" >/dev/null
	before=$(cat "$IMAGES/busybox/image.json")
	# The registry is not even asked: it is down.
	run -125 sbx pull --tls-verify=false "127.0.0.1:1/test/busybox"
	assert_output "sbx: pull: image \"busybox\" already exists and was not pulled from 127.0.0.1:1/test/busybox:latest; remove it first with 'sbx image rm busybox', or pull under another name with --name"
	[ "$(store)" = busybox ]
	[ "$(cat "$IMAGES/busybox/image.json")" = "$before" ]
	# As image import says it.
	mkdir tree
	run -125 sbx image import busybox tree
	assert_output "sbx: image import: image \"busybox\" already exists; remove it first with 'sbx image rm busybox'"
}

@test "pull: an import that fails after the download (--max-size) leaves nothing either" {
	run -125 sbx pull -q --tls-verify=false --max-size 100K "$REGISTRY/test/busybox"
	# Named after where it came from, not the staging directory.
	[ "${lines[0]}" = "${lines[-1]}" ]
	assert_contains "sbx: pull: \"docker://$REGISTRY/test/busybox:latest\": layer 1 of 1 (sha256:"
	assert_contains "): the image is larger than the size limit of 100 KiB; allow more with --max-size SIZE"
	[ "$(store)" = "" ]
}

@test "pull: a registry that is down: skopeo's reason, 125, nothing left" {
	port=$(free_port)
	run -125 sbx pull --tls-verify=false "127.0.0.1:$port/test/busybox"
	[ "${lines[0]}" = "${lines[-1]}" ]
	# sbx's words, then skopeo's reason (its wording is skopeo's own).
	assert_contains "sbx: pull: cannot pull \"127.0.0.1:$port/test/busybox\": "
	assert_contains "127.0.0.1:$port: connect: connection refused"
	[ "$(store)" = "" ]
}

@test "pull: an unknown image or tag: skopeo's reason, 125, nothing left" {
	run -125 sbx pull --tls-verify=false "$REGISTRY/test/nosuch"
	assert_contains "sbx: pull: cannot pull \"$REGISTRY/test/nosuch\": "
	assert_contains "manifest unknown"
	[ "$(store)" = "" ]
	run -125 sbx pull --tls-verify=false --name x "$REGISTRY/test/busybox:nosuch"
	assert_contains "sbx: pull: cannot pull \"$REGISTRY/test/busybox:nosuch\": "
	assert_contains "reading manifest nosuch in $REGISTRY/test/busybox: manifest unknown"
	[ "$(store)" = "" ]
}

@test "pull: a plain-HTTP registry without --tls-verify=false says what to add" {
	run -125 sbx pull "$REGISTRY/test/busybox"
	assert_contains "sbx: pull: cannot pull \"$REGISTRY/test/busybox\": "
	assert_contains "server gave HTTP response to HTTPS client; for a registry without TLS, add --tls-verify=false"
	[ "$(store)" = "" ]
	run -125 sbx pull --tls-verify=true "$REGISTRY/test/busybox"
	assert_contains "add --tls-verify=false"
	run -125 sbx pull --tls-verify=maybe "$REGISTRY/test/busybox"
	assert_output "sbx: pull: invalid value 'maybe' for --tls-verify; use true or false
Try 'sbx pull --help' for more information."
	[ "$(store)" = "" ]
}

@test "pull: credentials come from --authfile; without them the registry says no" {
	python3 -W ignore -c 'import crypt; print("u:" + crypt.crypt("pw", crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
		>"$BATS_FILE_TMPDIR/htpasswd"
	port=$(free_port)
	start_registry auth "$port" "$BATS_FILE_TMPDIR/htpasswd"
	run -125 sbx pull --tls-verify=false "127.0.0.1:$port/test/busybox"
	assert_contains "sbx: pull: cannot pull \"127.0.0.1:$port/test/busybox\": "
	assert_contains "authentication required"
	[ "$(store)" = "" ]
	printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$port" "$(printf u:pw | base64)" >auth.json
	run -0 sbx pull -q --tls-verify=false --authfile auth.json "127.0.0.1:$port/test/busybox"
	assert_output busybox
	run -0 sbx run busybox
	assert_output "from the registry"
}

@test "pull: without skopeo, the error names the package; nothing is made" {
	mkdir empty
	run -125 env PATH="$BATS_TEST_TMPDIR/empty" "$SBX" pull --tls-verify=false "$REGISTRY/test/busybox"
	assert_output "sbx: pull: cannot pull \"$REGISTRY/test/busybox\": skopeo is not installed (sbx reaches registries with it); install Debian's \"skopeo\" package"
	[ ! -e "$IMAGES" ]
}

@test "pull: references sbx does not pull, with what to write instead" {
	run -125 sbx pull Busybox
	assert_output "sbx: pull: \"Busybox\" is not a valid image reference; write [HOST[:PORT]/]PATH[:TAG][@DIGEST], the path in lower case"
	run -125 sbx pull --name x "$REGISTRY/Test//busybox"
	assert_output "sbx: pull: \"$REGISTRY/Test//busybox\" is not a valid image reference; write [HOST[:PORT]/]PATH[:TAG][@DIGEST], the path in lower case"
	run -125 sbx pull oci:layout:latest
	assert_output "sbx: pull: \"oci:layout:latest\" is not in a registry: sbx pulls from registries only (docker://); an OCI image layout is imported with 'sbx image import NAME DIR'"
	run -125 sbx pull https://example.org/x
	assert_output "sbx: pull: \"https://example.org/x\": unknown transport; sbx pulls from registries, as docker://REFERENCE or HOST/PATH[:TAG]"
	run -125 sbx pull docker://
	assert_output "sbx: pull: \"docker://\" names no image"
	digest=sha256:$(printf '%064d' 0)
	run -125 sbx pull "$REGISTRY/test/busybox@$digest"
	assert_output "sbx: pull: \"$REGISTRY/test/busybox@$digest\" names a digest, and sbx keeps one image per name: choose its name with --name NAME"
	run -125 sbx pull "$REGISTRY/test/Bad!Name"
	assert_output "sbx: pull: cannot name an image after \"$REGISTRY/test/Bad!Name\": a name may only contain letters, digits and \"_-.+@\"; choose its name with --name NAME"
	run -125 sbx pull --name 'a:b' "$REGISTRY/test/busybox"
	assert_contains 'sbx: pull: invalid image name "a:b"'
	run -125 sbx pull
	assert_output "sbx: pull: missing REFERENCE
Try 'sbx pull --help' for more information."
	run -125 sbx image pull a.b/c d.e/f
	assert_output "sbx: image pull: too many arguments, expected REFERENCE
Try 'sbx image pull --help' for more information."
	[ ! -e "$IMAGES" ]
}

@test "push: a committed image goes to the registry and comes back the same" {
	sbx pull -q --tls-verify=false "$REGISTRY/test/busybox" >/dev/null
	sbx -q run --name w1 busybox sh -c 'echo changed >/etc/changed; rm /etc/group'
	sbx -q commit w1 committed
	sbx -q rm w1
	run --separate-stderr -0 sbx push --tls-verify=false committed "$REGISTRY/test/committed:v2"
	# Nothing on stdout; skopeo's progress on stderr.
	[ -z "$output" ]
	grep -q "Writing manifest" <<<"$stderr"
	[ "$(store)" = "busybox committed" ]
	run -0 sbx pull -q --tls-verify=false --name back "docker://$REGISTRY/test/committed:v2"
	assert_output back
	# The files, and the defaults from the config.
	run -0 sbx run back
	assert_output "from the registry"
	run -0 sbx run back sh -c 'cat /etc/changed; echo $PULLED; test -e /etc/group || echo no group'
	assert_output "changed
yes
no group"
	diff <(cd "$IMAGES/committed/rootfs" && find . -printf '%p %y %m %l %s\n' | sort) \
		<(cd "$IMAGES/back/rootfs" && find . -printf '%p %y %m %l %s\n' | sort)
	# The layer is owned by root, whoever pushed it; the same image gives the
	# same layer.
	run -0 skopeo inspect --tls-verify=false "docker://$REGISTRY/test/committed:v2"
	layer=$(jq -r '.Layers[0]' <<<"$output")
	sbx push -q --tls-verify=false committed "$REGISTRY/test/again" >/dev/null
	run -0 skopeo inspect --tls-verify=false "docker://$REGISTRY/test/again"
	[ "$(jq -r '.Layers[0]' <<<"$output")" = "$layer" ]
	skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/test/again" "oci:$BATS_TEST_TMPDIR/again:x"
	blob=$(jq -r '.manifests[0].digest' again/index.json | cut -d: -f2)
	tarball=$(jq -r '.layers[0].digest' "again/blobs/sha256/$blob" | cut -d: -f2)
	run -0 tar --numeric-owner -tvzf "again/blobs/sha256/$tarball" ./etc/changed
	assert_contains " 0/0 "
	[ "$(store)" = "back busybox committed" ]
}

@test "push: errors say why, exit 125 and leave nothing in the store" {
	sbx pull -q --tls-verify=false "$REGISTRY/test/busybox" >/dev/null
	run -125 sbx push --tls-verify=false nosuch "$REGISTRY/test/x"
	assert_output "sbx: push: image \"nosuch\" not found; import one with 'sbx image import nosuch SOURCE' or see 'sbx image ls'"
	run -125 sbx push busybox busybox
	assert_output "sbx: push: \"busybox\" names no registry, and sbx does not guess one to push to; write it in full, e.g. \"docker.io/library/busybox\""
	run -125 sbx image push busybox oci:dir
	assert_output "sbx: image push: \"oci:dir\" is not in a registry: sbx pushes to registries only (docker://)"
	port=$(free_port)
	run -125 sbx push --tls-verify=false busybox "127.0.0.1:$port/test/x"
	assert_contains "sbx: push: cannot push \"busybox\" to \"127.0.0.1:$port/test/x\": "
	assert_contains "127.0.0.1:$port: connect: connection refused"
	run -125 sbx push busybox "$REGISTRY/test/x"
	assert_contains "server gave HTTP response to HTTPS client; for a registry without TLS, add --tls-verify=false"
	mkdir empty
	run -125 env PATH="$BATS_TEST_TMPDIR/empty" "$SBX" push --tls-verify=false busybox "$REGISTRY/test/x"
	assert_output "sbx: push: cannot push \"busybox\" to \"$REGISTRY/test/x\": skopeo is not installed (sbx reaches registries with it); install Debian's \"skopeo\" package"
	run -125 sbx push busybox
	assert_output "sbx: push: missing IMAGE and REFERENCE
Try 'sbx push --help' for more information."
	[ "$(store)" = busybox ]
	# Nothing reached the registry either.
	run -1 skopeo inspect --tls-verify=false "docker://$REGISTRY/test/x"
}

@test "pull: a short name is docker.io's, said on stderr (a mirror in registries.conf serves it here)" {
	mirror_docker_io
	run --separate-stderr -0 sbx pull --name al alpine
	[ "$output" = al ]
	[ "$(head -n1 <<<"$stderr")" = 'sbx: pull: resolved "alpine" to "docker.io/library/alpine:latest"' ]
	run -0 sbx image ls --format json
	[ "$(jq -r '.[0].source' <<<"$output")" = "docker://docker.io/library/alpine:latest" ]
	# user/name is docker.io's too; -q says nothing.
	run -125 sbx pull -q sbx-test/nosuch
	assert_contains 'sbx: pull: cannot pull "sbx-test/nosuch": '
	run --separate-stderr -0 sbx pull -q --name al2 docker.io/alpine
	[ "$output" = al2 ] && [ -z "$stderr" ]
	[ "$(store)" = "al al2" ]
}

@test "run: takes the reference the pull was given, in any of its spellings" {
	run -0 sbx pull -q --tls-verify=false --name fromreg "$REGISTRY/test/busybox:latest"
	for ref in "$REGISTRY/test/busybox:latest" "$REGISTRY/test/busybox" \
		"docker://$REGISTRY/test/busybox:latest"; do
		run -0 sbx run --rm "$ref"
		assert_output "from the registry"
	done
	# A directory is still a directory: ./ and / paths, and an existing one.
	mkdir -p "$REGISTRY/test"
	cp -a "$BATS_FILE_TMPDIR/rootfs" "$REGISTRY/test/busybox"
	run -0 sbx run --rm "$REGISTRY/test/busybox" sh -c 'test -e /etc/pulled || echo directory'
	assert_output directory
	run -0 sbx run --rm "./$REGISTRY/test/busybox" sh -c 'test -e /etc/pulled || echo directory'
	assert_output directory
	[ "$(store)" = fromreg ]
}

@test "run: a short name is a local image first, then the image pulled from docker.io" {
	mirror_docker_io
	run -0 sbx pull -q --name al alpine
	run -0 sbx run --rm alpine
	assert_output "from the registry"
	run -0 sbx run --rm alpine:latest
	assert_output "from the registry"
	run -0 sbx run --rm docker.io/library/alpine
	assert_output "from the registry"
	# busybox: pulled from docker.io as "mirrored", and a local image busybox.
	run -0 sbx pull -q --name mirrored busybox
	run -0 sbx image import busybox "$BATS_FILE_TMPDIR/rootfs"
	run -0 sbx run --rm busybox sh -c 'test -e /etc/pulled || echo local'
	assert_output local
	run -0 sbx run --rm docker.io/library/busybox
	assert_output "from the registry"
}

@test "run: an image never pulled is an error with the fix; nothing is pulled or made" {
	run -125 sbx run "$REGISTRY/test/busybox"
	assert_output "sbx: run: no image pulled from \"$REGISTRY/test/busybox\" ($REGISTRY/test/busybox:latest); pull it with 'sbx pull $REGISTRY/test/busybox' or run with --pull missing"
	run -125 sbx run alpine true
	assert_output "sbx: run: image \"alpine\" not found; pull it with 'sbx pull alpine' (docker.io/library/alpine:latest) or run with --pull missing, or import one with 'sbx image import alpine SOURCE'"
	run -125 sbx run alpine:3.19 true
	assert_output "sbx: run: no image pulled from \"alpine:3.19\" (docker.io/library/alpine:3.19); pull it with 'sbx pull alpine:3.19' (stored as alpine-3.19, sbx keeps one tag per name) or run with --pull missing"
	run -125 sbx run "./$REGISTRY/test/busybox"
	assert_output "sbx: run: cannot use \"./$REGISTRY/test/busybox\" as a root filesystem: No such file or directory"
	[ "$(store)" = "" ] && [ "$(instances)" = "" ]
}

@test "run --pull missing pulls what the store lacks, with progress, once" {
	run --separate-stderr -0 sbx run --rm --pull missing --tls-verify=false "$REGISTRY/test/busybox"
	assert_output "from the registry"
	grep -q "Writing manifest" <<<"$stderr"
	[ "$(store)" = busybox ]
	run --separate-stderr -0 sbx run --rm --pull missing --tls-verify=false "$REGISTRY/test/busybox"
	assert_output "from the registry"
	[ -z "$stderr" ]
	# A short name: the local image first; through the mirror when missing.
	mirror_docker_io
	run --separate-stderr -0 sbx run --rm --pull=missing alpine
	assert_output "from the registry"
	[ "$(head -n1 <<<"$stderr")" = 'sbx: run: resolved "alpine" to "docker.io/library/alpine:latest"' ]
	[ "$(store)" = "alpine busybox" ]
}

# The state of an instance, once it stopped.
wait_exited() {
	for _ in $(seq 400); do
		[ "$(sbx ps -a --filter status=exited --filter "name=^$1\$" -q)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "run --pull always and pull update a pulled image; an instance made from the old one keeps it" {
	local layout=$BATS_FILE_TMPDIR/layout to=--dest-tls-verify=false kept
	[ -d "$layout" ]
	umoci ls --layout "$layout" | grep -qx v2 || add_image "$layout" v2 "version 2"
	skopeo copy -q "$to" "oci:$layout:latest" "docker://$REGISTRY/test/moving:latest"
	run --separate-stderr -0 sbx run --rm --pull always --tls-verify=false "$REGISTRY/test/moving"
	assert_output "from the registry"
	grep -q "Writing manifest" <<<"$stderr"
	sbx run -d --name v1 "$REGISTRY/test/moving" >/dev/null
	wait_exited v1
	# v2 under the same tag: --pull always runs it.
	skopeo copy -q "$to" "oci:$layout:v2" "docker://$REGISTRY/test/moving:latest"
	run --separate-stderr -0 sbx run --rm --pull always --tls-verify=false "$REGISTRY/test/moving"
	assert_output "version 2"
	run -0 sbx run --rm "$REGISTRY/test/moving"
	assert_output "version 2"
	# v1's instance keeps its lower layer: the old image, under a name of its own.
	run -0 sbx ps -a --format '{{.Name}} {{.Image}}'
	[[ "$output" =~ ^"v1 moving@"[0-9]{8}T[0-9]{6}Z$ ]]
	kept=${output#v1 }
	[ "$(store)" = "moving $kept" ]
	sbx start v1 >/dev/null
	wait_exited v1
	run -0 sbx logs v1
	assert_output "from the registry
from the registry"
	run -0 sbx image ls --format '{{.Name}} {{.Source}}'
	assert_contains "$kept docker://$REGISTRY/test/moving:latest"
	run -125 sbx image rm "$kept"
	assert_output "sbx: image rm: image \"$kept\" is the lower layer of instance \"v1\"; remove the instance first ('sbx rm v1') or keep the image"
	sbx rm v1 >/dev/null
	run -0 sbx image rm "$kept"
	assert_output "$kept"
	# Unused, the old image goes: sbx pull of the same reference again.
	skopeo copy -q "$to" "oci:$layout:latest" "docker://$REGISTRY/test/moving:latest"
	run --separate-stderr -0 sbx pull --tls-verify=false "$REGISTRY/test/moving"
	assert_output moving
	[ "$(store)" = moving ]
	run -0 sbx run --rm moving
	assert_output "from the registry"
	[ "$(instances)" = "" ]
}

@test "run --pull always and pull refuse to replace an image not pulled from that reference" {
	sbx image import moving "$BATS_FILE_TMPDIR/rootfs" >/dev/null
	skopeo copy -q --dest-tls-verify=false "oci:$BATS_FILE_TMPDIR/layout:latest" \
		"docker://$REGISTRY/test/moving:latest"
	run -125 sbx run --rm --pull always --tls-verify=false "$REGISTRY/test/moving"
	assert_contains "sbx: run: --pull always replaces only an image pulled from the same reference: image \"moving\" already exists and was not pulled from $REGISTRY/test/moving:latest; remove it first with 'sbx image rm moving', or pull under another name with --name"
	run -125 sbx pull -q --tls-verify=false "$REGISTRY/test/busybox" --name moving
	assert_output "sbx: pull: image \"moving\" already exists and was not pulled from $REGISTRY/test/busybox:latest; remove it first with 'sbx image rm moving', or pull under another name with --name"
	[ "$(store)" = moving ] && [ "$(instances)" = "" ]
	run -0 sbx image ls --format '{{.Name}} {{.Source}}'
	assert_output "moving $BATS_FILE_TMPDIR/rootfs"
}

@test "run --pull: errors, exit 125, nothing pulled or made" {
	run -125 sbx run --pull newer "$REGISTRY/test/busybox"
	assert_output "sbx: run: --pull \"newer\": sbx keeps no manifest digest to compare with the registry's; use missing or always"
	run -125 sbx run --pull sometimes "$REGISTRY/test/busybox"
	assert_output "sbx: run: --pull \"sometimes\": expected never, missing or always"
	run -125 sbx spec --pull missin "$REGISTRY/test/busybox"
	assert_output "sbx: spec: --pull \"missin\": expected never, missing or always; did you mean \"missing\"?"
	run -125 sbx run --tls-verify=maybe "$REGISTRY/test/busybox"
	assert_output "sbx: run: invalid value 'maybe' for --tls-verify; use true or false
Try 'sbx run --help' for more information."
	# A registry that is down; an unknown image; plain HTTP without --tls-verify=false.
	port=$(free_port)
	run -125 sbx run --pull missing --tls-verify=false "127.0.0.1:$port/test/x"
	assert_contains "sbx: run: cannot pull \"127.0.0.1:$port/test/x\": "
	assert_contains "connection refused"
	run -125 sbx run --pull missing --tls-verify=false "$REGISTRY/test/nosuch"
	assert_contains "sbx: run: cannot pull \"$REGISTRY/test/nosuch\": "
	run -125 sbx run --pull missing "$REGISTRY/test/busybox"
	assert_contains "; for a registry without TLS, add --tls-verify=false"
	[ "$(store)" = "" ] && [ "$(instances)" = "" ]
}

@test "a profile's pull = missing pulls for run and spec; --pull never overrides it" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\npull = missing\n' >"$XDG_CONFIG_HOME/sbx/profiles/fetch.ini"
	run -125 sbx run --rm --profile fetch --pull never "$REGISTRY/test/busybox"
	assert_contains "no image pulled from \"$REGISTRY/test/busybox\""
	[ "$(store)" = "" ]
	run --separate-stderr -0 sbx spec --profile fetch --tls-verify=false "$REGISTRY/test/busybox"
	[ "$(jq -r '.process.args | join(" ")' <<<"$output")" = "/bin/cat /etc/pulled" ]
	grep -q "Writing manifest" <<<"$stderr"
	[ "$(store)" = busybox ]
	run -0 sbx run --rm --profile fetch "$REGISTRY/test/busybox"
	assert_output "from the registry"
	printf '[profile]\npull = newer\n' >"$XDG_CONFIG_HOME/sbx/profiles/newer.ini"
	run -125 sbx run --rm --profile newer "$REGISTRY/test/busybox"
	assert_contains "newer.ini:2: error: invalid pull \"newer\": sbx keeps no manifest digest to compare with the registry's; use missing or always"
}
