#!/usr/bin/env bats
# Landlock as a second wall (issue 11, section 4): abstract unix sockets
# scoped under --network host, signals scoped, the profile's filesystem and
# TCP rules, and the warning on kernels whose ABI lacks a feature.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_user_setup
	rootfs=$BATS_TEST_TMPDIR/rootfs
	make_busybox_rootfs "$rootfs"
	cp "$SBX_TOP/build/helpers/abstract-connect" "$rootfs/bin/"
}

# A listener on the host's abstract socket @NAME; prints what it received
# into $BATS_TEST_TMPDIR/got once the client is done, or "nothing".
listen() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1])
s.listen()
open(sys.argv[2] + ".ready", "w").close()
s.settimeout(60)
try:
    c, _ = s.accept()
    got = c.recv(100).decode()
except socket.timeout:
    got = "nothing"
open(sys.argv[2], "w").write(got)' "$1" "$BATS_TEST_TMPDIR/got" &
	listener=$!
	while [ ! -e "$BATS_TEST_TMPDIR/got.ready" ]; do sleep 0.05; done
}

# Stops the listener without a connection: it then writes "nothing".
unlisten() {
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect("\0" + sys.argv[1]); s.send(b"nothing")' "$1" 2>/dev/null || true
	wait "$listener"
}

@test "landlock: with --network host, the host's abstract unix sockets are out of reach" {
	name=sbx-test-$(id -u)-$$
	listen "$name"
	run sbx run --rm --network host "$rootfs" /bin/abstract-connect "$name" "from the sandbox"
	unlisten "$name"
	assert_status 1
	assert_output "abstract-connect: Operation not permitted"
	[ "$(cat got)" = nothing ]
}

@test "landlock: signals are scoped: the payload cannot signal a process of sbx exec, sbx exec can signal pid 1" {
	sbx run -d --name box busybox sh -c '
		while :; do
			if [ -e /tmp/target ]; then
				if kill -0 $(cat /tmp/target) 2>/dev/null; then echo allowed; else echo refused; fi >/tmp/result
				rm /tmp/target
			fi
			sleep 0.1
		done' >/dev/null
	run sbx exec box sh -c '
		sleep 60 & echo $! >/tmp/target
		while [ ! -s /tmp/result ]; do sleep 0.1; done
		echo "payload to exec: $(cat /tmp/result)"
		kill -0 1 && echo "exec to pid 1: allowed"
		kill $!'
	sbx rm -f box >/dev/null
	assert_status 0
	assert_output "payload to exec: refused
exec to pid 1: allowed"
}

@test "landlock: the profile's filesystem and TCP rules" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	cat >"$XDG_CONFIG_HOME/sbx/profiles/walled.ini" <<-'INI'
	[profile]
	inherit = default
	[security]
	landlock_fs_ro = /
	landlock_fs_rw = /tmp
	landlock_fs_rw = /dev
	landlock_tcp_bind = 8080
	landlock_tcp_connect = none
	INI
	run sbx spec --profile walled busybox
	assert_status 0
	jq -e '.annotations["run.sbx.landlock.fs_ro"] == "/" and
		.annotations["run.sbx.landlock.fs_rw"] == "/tmp\n/dev" and
		.annotations["run.sbx.landlock.tcp_bind"] == "8080" and
		.annotations["run.sbx.landlock.tcp_connect"] == ""' <<<"$output"
	run sbx run --rm --profile walled busybox sh -c '
		echo x >/tmp/a && echo "/tmp: written"
		{ echo x >/a; } 2>/dev/null || echo "/: refused"
		cat /etc/passwd >/dev/null && echo "/etc: read"
		httpd -p 127.0.0.1:8080 && echo "8080: bound"
		httpd -p 127.0.0.1:8081 2>/dev/null || echo "8081: refused"
		echo | nc 127.0.0.1 8080 2>/dev/null || echo "connect: refused"'
	assert_status 0
	assert_output "/tmp: written
/: refused
/etc: read
8080: bound
8081: refused
connect: refused"
}

@test "landlock: a rule's path missing in the sandbox: exit 125, the path and the fix named, nothing left" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\n[security]\nlandlock_fs_rw = /data\n' \
		>"$XDG_CONFIG_HOME/sbx/profiles/nodata.ini"
	run sbx run --rm --profile nodata busybox true
	assert_status 125
	assert_output 'sbx: run: landlock: cannot open "/data" in the sandbox; remove it from the profile'"'"'s landlock_fs_* keys or create it in the image: No such file or directory'
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ]
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx" 2>/dev/null)" ]
	assert_no_leftover_processes
}

@test "landlock: profile check rejects a bad port, with the line" {
	printf '[security]\nlandlock_tcp_bind = 80,http\nlandlock_fs_ro = tmp\n' >bad.ini
	run sbx profile check ./bad.ini
	assert_status 1
	assert_output './bad.ini:2: error: invalid landlock_tcp_bind "80,http": "http" is not a TCP port (1-65535), and the value is not "none"
./bad.ini:3: error: invalid landlock_fs_ro "tmp": the path must be an absolute path'
}

@test "landlock: an older kernel's ABI: a warning, and sbx doctor says what is missing" {
	run env SBX_LANDLOCK_ABI_MAX=5 "$SBX" run --rm --network host busybox true
	assert_status 0
	assert_output "sbx: warning: this kernel's Landlock (ABI 5) cannot scope abstract unix sockets (ABI 6): with --network host the sandbox can reach the host's, such as the session bus and X11's"
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\n[security]\nlandlock_tcp_connect = 443\n' \
		>"$XDG_CONFIG_HOME/sbx/profiles/tcp.ini"
	run env SBX_LANDLOCK_ABI_MAX=3 "$SBX" run --rm --profile tcp busybox true
	assert_status 0
	assert_output "sbx: warning: this kernel's Landlock (ABI 3) has no TCP rules (ABI 4): landlock_tcp_bind and landlock_tcp_connect are not enforced"
	run env SBX_LANDLOCK_ABI_MAX=0 "$SBX" run --rm --profile tcp busybox true
	assert_status 0
	assert_output "sbx: warning: this kernel has no Landlock: the profile's landlock_* rules are not enforced"
	# Without the scopes, the sandbox runs as before: the degraded path.
	name=sbx-test-$(id -u)-$$
	listen "$name"
	run env SBX_LANDLOCK_ABI_MAX=5 "$SBX" -q run --rm --network host "$rootfs" /bin/abstract-connect "$name" degraded
	wait "$listener"
	assert_status 0
	[ "$(cat got)" = degraded ]
	run -0 env SBX_LANDLOCK_ABI_MAX=5 "$SBX" doctor
	[[ "$output" == *"WARN  landlock     Landlock ABI 5: no scoping of signals and abstract unix sockets (ABI 6); with --network host the sandbox reaches the host's abstract sockets (session bus, X11)  fix: use Linux 6.12 or later"* ]]
}
