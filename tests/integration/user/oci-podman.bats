#!/usr/bin/env bats
# podman 4.3 (rootless, with conmon) drives sbx-oci: a terminal, volumes,
# --network none, stop, an imported image, containers.conf, pods and
# --userns. podman's default network (slirp4netns needs /dev/net/tun) is
# in ../root/oci-podman.bats, under stock-host.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user"
	command -v podman >/dev/null || fail "podman is missing: run 'make deps'"
	cd "$BATS_TEST_TMPDIR"
	OCI=$SBX_TOP/build/sbx-oci
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	make_busybox_rootfs rootfs
	tar -C rootfs -c . >bb.tar
	podman import bb.tar localhost/sbx-podman >/dev/null
	IMG=localhost/sbx-podman
}

# podman's storage belongs to subordinate ids: removed from its user
# namespace, with its pause process, before the helpers' teardown.
teardown() {
	podman pod rm -a -f >/dev/null 2>&1 || true
	podman rm -a -f -t 0 >/dev/null 2>&1 || true
	if [ -d "$XDG_DATA_HOME/containers" ]; then
		podman unshare rm -rf "$XDG_DATA_HOME/containers" || true
	fi
	if [ -f "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" ]; then
		kill "$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid")" 2>/dev/null || true
	fi
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

pod() { podman --runtime "$OCI" "$@"; }

# podman's -t needs a terminal: script(1) gives it one. Carriage returns
# (the pty's) are dropped from the output.
in_pty() {
	script -qec "$1" /dev/null | tr -d '\r'
	return "${PIPESTATUS[0]}"
}

# Waits (boundedly) until podman says container $1 is $2.
wait_podman_status() {
	local i
	for i in $(seq 1 300); do
		[ "$(podman inspect -f '{{.State.Status}}' "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	fail "container $1 never became $2"
}

@test "podman run -it: the container's stdio is a terminal (sbx-oci's --console-socket); typed input reaches it; its exit code comes back" {
	run in_pty "podman --runtime $OCI run -it --rm --network none $IMG sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo both-ttys; exit 4'" </dev/null
	assert_status 4
	assert_contains "/dev/pts/0"
	assert_contains "both-ttys"
	run in_pty "podman --runtime $OCI run -it --rm --network none $IMG sh" <<<'echo typed-$((6*7)); exit 5'
	assert_status 5
	assert_contains "typed-42"
}

@test "podman run -v: a host directory is read and written; :ro is read-only" {
	mkdir vol ro
	echo from-host >vol/in
	echo kept >ro/f
	run pod run --rm --network none -v "$PWD/vol:/vol" -v "$PWD/ro:/ro:ro" "$IMG" \
		sh -c 'cat /vol/in; echo from-container >/vol/out; { echo x >/ro/f; } 2>/dev/null || echo ro-refused'
	assert_status 0
	assert_output "$(printf 'from-host\nro-refused')"
	[ "$(cat vol/out)" = from-container ]
	# The container's root is the caller on the host.
	[ "$(stat -c %u vol/out)" = "$(id -u)" ]
	[ "$(cat ro/f)" = kept ]
}

@test "podman run --network none: the container has its loopback only" {
	run pod run --rm --network none "$IMG" sh -c 'ip -o link | cut -d: -f2 | tr -d " "; ip -o -4 addr show lo | cut -d" " -f7'
	assert_status 0
	assert_output "$(printf 'lo\n127.0.0.1/8')"
}

@test "podman stop: SIGTERM reaches the container; one that ignores it is killed after the timeout" {
	id=$(pod run -d --network none "$IMG" sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done')
	wait_podman_status "$id" running
	for i in $(seq 1 100); do podman logs "$id" | grep -q ready && break; sleep 0.05; done
	run podman stop -t 30 "$id"
	assert_status 0
	[ "$(podman inspect -f '{{.State.ExitCode}}' "$id")" = 7 ]
	run podman logs "$id"
	assert_output "$(printf 'ready\ngot-term')"
	run podman rm "$id"
	assert_status 0
	# sleep as pid 1 ignores SIGTERM: SIGKILL follows, 137.
	id=$(pod run -d --network none "$IMG" sleep 1000)
	wait_podman_status "$id" running
	run podman stop -t 1 "$id"
	assert_status 0
	[ "$(podman inspect -f '{{.State.ExitCode}}' "$id")" = 137 ]
	run podman rm "$id"
	assert_status 0
	run podman unshare "$OCI" list -q
	assert_output ""
}

@test "podman import: an image made from a tarball, with its own CMD and ENV, runs" {
	podman import --change 'CMD ["sh", "-c", "echo imported $GREETING"]' --change 'ENV GREETING=hello' \
		bb.tar localhost/sbx-imported >/dev/null
	run pod run --rm --network none localhost/sbx-imported
	assert_status 0
	assert_output "imported hello"
}

@test "containers.conf: a runtime named sbx, listed in runtime_supports_json, runs with podman --runtime sbx" {
	mkdir -p "$XDG_CONFIG_HOME/containers"
	cat >"$XDG_CONFIG_HOME/containers/containers.conf" <<-EOF
	[engine]
	runtime_supports_json = ["crun", "runc", "sbx"]

	[engine.runtimes]
	sbx = ["$OCI"]
	EOF
	run podman --runtime sbx run --rm --network none "$IMG" echo via-containers-conf
	assert_status 0
	assert_output via-containers-conf
	run -127 podman --runtime sbx run --rm --network none "$IMG" no-such-command
	assert_output 'sbx-oci: "no-such-command": executable file not found in $PATH'
	run podman --log-level=debug --runtime sbx run --rm --network none "$IMG" true
	assert_status 0
	assert_contains "Using OCI runtime \\\"$OCI\\\""
	run podman --runtime sbx info --format '{{.Host.OCIRuntime.Path}}'
	assert_output "$OCI"
}

@test "podman pods: a member joins the infra container's ipc, uts and user namespaces by path" {
	podman --runtime "$OCI" pod create --network none --name p1 >/dev/null
	infra=$(podman pod inspect -f '{{.InfraContainerID}}' p1)
	run pod run --rm --pod p1 "$IMG" sh -c 'hostname; for n in ipc uts user; do readlink /proc/self/ns/$n; done; touch /dev/mqueue/q && echo mqueue-created'
	assert_status 0
	pid=$(podman inspect -f '{{.State.Pid}}' "$infra")
	assert_output "p1
$(readlink /proc/$pid/ns/ipc)
$(readlink /proc/$pid/ns/uts)
$(readlink /proc/$pid/ns/user)
mqueue-created"
	# podman exec in a member joins the same namespaces.
	id=$(pod run -d --pod p1 "$IMG" sleep 1000)
	wait_podman_status "$id" running
	run pod exec "$id" sh -c 'readlink /proc/self/ns/ipc; hostname'
	assert_status 0
	assert_output "$(readlink /proc/$pid/ns/ipc)
p1"
	run podman pod rm -f p1
	assert_status 0
}

@test "podman --userns=container:ID: the container joins another's user namespace by path" {
	holder=$(pod run -d --network none "$IMG" sleep 1000)
	wait_podman_status "$holder" running
	want=$(pod exec "$holder" readlink /proc/self/ns/user)
	run pod run --rm --network none --userns "container:$holder" "$IMG" sh -c 'readlink /proc/self/ns/user; id -u'
	assert_status 0
	assert_output "$want
0"
	run podman rm -f -t 0 "$holder"
	assert_status 0
}
