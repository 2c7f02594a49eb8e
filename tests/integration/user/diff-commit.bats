#!/usr/bin/env bats
# sbx diff (an instance's upper layer against its image, whiteouts and
# opaque directories included) and sbx commit (an instance saved as a new
# image), as an unprivileged user.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	IMAGES=$XDG_DATA_HOME/sbx/images
	INSTANCES=$XDG_DATA_HOME/sbx/instances
	cd "$BATS_TEST_TMPDIR"
	# sbx binds /etc/hosts and /etc/resolv.conf over the image's; a
	# missing one gets an empty mount point in the upper layer, which diff
	# rightly lists. Give the image both, so only the payload's changes show.
	sbx -q image bootstrap busybox
	touch "$IMAGES/busybox/rootfs/etc/resolv.conf"
}

store() { ls -A "$IMAGES" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }

# The scenario of the issue: adds, a change, deletions of a file and a dir.
make_d1() {
	sbx -q run --name d1 busybox sh -c \
		'mkdir -p /hello/world; echo x > /hello/world/today; echo y >> /etc/passwd; rm /bin/vi; rm -r /root'
}

@test "diff: added, changed and deleted, whiteouts included, sorted" {
	make_d1
	run sbx diff d1
	assert_status 0
	assert_output "C /bin
D /bin/vi
C /etc
C /etc/passwd
A /hello
A /hello/world
A /hello/world/today
D /root"
	# The whiteouts are what the kernel left in the upper layer.
	[ "$(stat -c '%F %t:%T' "$INSTANCES/d1/upper/bin/vi")" = "character special file 0:0" ]
	# An untouched instance has no changes.
	sbx -q run --name clean busybox true
	run sbx diff clean
	assert_status 0
	assert_output ""
}

@test "diff --format json" {
	make_d1
	run sbx diff --format json d1
	assert_status 0
	[ "$(jq -c . <<<"$output")" = '[{"path":"/bin","kind":"C"},{"path":"/bin/vi","kind":"D"},{"path":"/etc","kind":"C"},{"path":"/etc/passwd","kind":"C"},{"path":"/hello","kind":"A"},{"path":"/hello/world","kind":"A"},{"path":"/hello/world/today","kind":"A"},{"path":"/root","kind":"D"}]' ]
	sbx -q run --name clean busybox true
	run sbx diff --format json clean
	assert_status 0
	assert_output "[]"
	run sbx diff --format yaml d1
	assert_status 125
	assert_contains "unknown format 'yaml'; use 'text' or 'json'"
}

@test "diff: an opaque directory hides everything the image had in it" {
	mkdir -p "$IMAGES/busybox/rootfs/var/lib/app/deep" "$IMAGES/busybox/rootfs/var/log"
	touch "$IMAGES/busybox/rootfs/var/lib/app/deep/f" "$IMAGES/busybox/rootfs/var/lib/app/g"
	sbx -q run --name o1 busybox sh -c 'rm -r /var && mkdir -p /var/lib/app && echo new > /var/lib/app/new'
	# The kernel marks the new directory opaque (userxattr).
	[ "$(/usr/bin/python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.overlay.opaque").decode())' "$INSTANCES/o1/upper/var")" = y ]
	# Beneath it, what the image had is gone even where a directory of the
	# same name was made again.
	run sbx diff o1
	assert_status 0
	assert_output "C /var
C /var/lib
C /var/lib/app
D /var/lib/app/deep
D /var/lib/app/g
A /var/lib/app/new
D /var/log
D /var/tmp"
	sbx commit o1 o1img
	run -0 sbx run --rm o1img find /var
	assert_output "/var
/var/lib
/var/lib/app
/var/lib/app/new"
}

@test "diff: hostile names and symlinks in the upper layer are shown, never followed" {
	sbx -q run --name h1 busybox sh -c \
		'printf x > "$(printf "/a\nb")"; printf y > "$(printf "/esc\033]0;owned\007")"; ln -s /etc /link; mkdir /tmp/d; ln -s / /tmp/d/up'
	run sbx diff h1
	assert_status 0
	assert_output 'A /a\x0ab
A /esc\x1b]0;owned\x07
A /link
C /tmp
A /tmp/d
A /tmp/d/up'
}

@test "diff: a missing instance, bad usage" {
	run sbx diff nope
	assert_status 125
	assert_output "sbx: diff: instance \"nope\" not found; see 'sbx ps -a'"
	run sbx diff
	assert_status 125
	assert_contains "no instance given"
	run sbx diff a b
	assert_status 125
}

@test "commit: the instance becomes an image; the source image is unchanged" {
	make_d1
	before=$(cd "$IMAGES/busybox/rootfs" && find . -printf '%p %y %m %s\n' | sort | md5sum)
	run sbx commit d1 snap
	assert_status 0
	assert_output snap
	run sbx run --rm snap cat /hello/world/today
	assert_status 0
	assert_output x
	run sbx run --rm snap sh -c 'test -e /bin/vi || echo no-vi; test -e /root || echo no-root; tail -1 /etc/passwd'
	assert_status 0
	assert_output "no-vi
no-root
y"
	# Files are the user's, the metadata says where it came from and keeps
	# the image's defaults.
	[ "$(stat -c %u "$IMAGES/snap/rootfs/hello/world/today")" = "$(id -u)" ]
	[ "$(jq -r .source "$IMAGES/snap/image.json")" = "instance d1" ]
	[ "$(jq -c .cmd "$IMAGES/snap/image.json")" = "$(jq -c .cmd "$IMAGES/busybox/image.json")" ]
	[ "$(jq -c .env "$IMAGES/snap/image.json")" = "$(jq -c .env "$IMAGES/busybox/image.json")" ]
	# No whiteout made it into the image; the source image is untouched.
	[ -z "$(find "$IMAGES/snap/rootfs" -type c)" ]
	[ -e "$IMAGES/busybox/rootfs/bin/vi" ]
	[ "$(cd "$IMAGES/busybox/rootfs" && find . -printf '%p %y %m %s\n' | sort | md5sum)" = "$before" ]
	# The instance is unchanged too, and still shows its changes.
	run sbx diff d1
	assert_status 0
	[ "${#lines[@]}" = 8 ]
	# A second generation: an instance of the new image.
	sbx -q run --name d2 snap sh -c 'rm -r /hello'
	run sbx diff d2
	assert_status 0
	assert_output "D /hello"
	run sbx commit d2 snap2
	assert_status 0
	run -0 sbx run --rm snap2 sh -c 'test -e /hello || echo no-hello'
	assert_output no-hello
	[ "$(store)" = "busybox snap snap2" ]
	sbx rm d1 d2
	sbx image rm snap snap2
}

@test "commit: what the sandbox made unreadable is saved too" {
	sbx -q run --name u1 busybox sh -c 'echo secret > /secret; chmod 000 /secret; mkdir -p /locked/in; echo z > /locked/in/f; chmod 000 /locked'
	run sbx commit u1 locked
	assert_status 0
	assert_output locked
	[ "$(stat -c %a "$IMAGES/locked/rootfs/secret")" = 0 ]
	run sbx run --rm locked sh -c 'cat /secret; cat /locked/in/f'
	assert_status 0
	assert_output "secret
z"
	run sbx image rm locked
	assert_status 0
	sbx rm u1
}

@test "commit: an existing image, a running or missing instance, bad usage: exact errors" {
	make_d1
	sbx image import snap "$IMAGES/busybox/rootfs"
	run sbx commit d1 snap
	assert_status 125
	assert_output "sbx: commit: image \"snap\" already exists; remove it first with 'sbx image rm snap'"
	run sbx commit d1 ..bad
	assert_status 125
	assert_output "sbx: commit: invalid image name \"..bad\": a name must not start with '-' or '.'"
	run sbx commit nope img
	assert_status 125
	assert_output "sbx: commit: instance \"nope\" not found; see 'sbx ps -a'"
	sbx -q run -d --name r1 busybox sleep 300 >/dev/null
	for _ in $(seq 50); do
		[ "$(sbx ps -q)" = r1 ] && break
		sleep 0.1
	done
	[ "$(sbx ps -q)" = r1 ]
	run sbx commit r1 img
	assert_status 125
	assert_output "sbx: commit: instance \"r1\" is running; stop it first with 'sbx stop r1'"
	sbx rm -f r1
	run sbx commit d1
	assert_status 125
	assert_contains "missing NAME and IMAGE"
	# Nothing half-made is left in the store.
	[ "$(store)" = "busybox snap" ]
	sbx rm d1
	[ -z "$(ls -A "$INSTANCES")" ]
}
