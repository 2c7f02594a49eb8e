#!/usr/bin/env bats
# podman 4.3's default rootless network (slirp4netns, a network namespace
# podman makes and passes by path) with sbx-oci, as the test user. These
# machines' /dev/net/tun is root-only, so the user's part runs under
# ../shared/bin/stock-host. All traffic stays on the host's loopback.

load ../helpers
load stock-host-helpers
bats_require_minimum_version 1.5.0

setup() {
	stock_host_setup podman podman slirp4netns
	# The runtime podman is given (pod).
	AS_USER_ENV=(OCI="$SBX_TOP/build/sbx-oci")
}

teardown() {
	# podman's pause process; conmon and whatever a failed test left go
	# with $WORK.
	if [ -f "$WORK/run/libpod/tmp/pause.pid" ]; then
		kill -9 "$(cat "$WORK/run/libpod/tmp/pause.pid")" 2>/dev/null || true
	fi
	stock_host_teardown
}

# Shell functions for the user's scripts (after STOCK_HOST_LIB's).
read -r -d '' LIB <<'EOF' || true
pod() { podman --runtime "$OCI" "$@"; }
IMG=localhost/sbx-podman
# The first podman command warns that stock-host's / is not a shared mount.
if ! podman image exists "$IMG" 2>/dev/null; then
	mkdir -p rootfs/bin rootfs/etc rootfs/tmp rootfs/proc rootfs/sys rootfs/dev
	cp /bin/busybox rootfs/bin/busybox
	for a in $(rootfs/bin/busybox --list); do [ -e "rootfs/bin/$a" ] || ln -s busybox "rootfs/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >rootfs/etc/passwd
	tar -C rootfs -c . | podman import - "$IMG" >/dev/null 2>&1
fi
# An HTTP server on the host's 127.0.0.1:$1 serving www/, answering once up.
host_server() {
	mkdir -p www && echo "hello from the host" >www/index.txt
	python3 -m http.server --bind 127.0.0.1 --directory www "$1" >/dev/null 2>&1 &
	for i in $(seq 200); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no server on port $1" >&2
	return 1
}
EOF

@test "podman's default rootless network: slirp4netns's tap0 in the network namespace podman passes by path; its sysctl; exec" {
	run as_user '
		pod run --rm "$IMG" sh -c "ip -o -4 addr show tap0 | tr -s \" \" | cut -d\" \" -f2,4; ip route | grep ^default; cat /proc/sys/net/ipv4/ping_group_range; grep -c ^nameserver /etc/resolv.conf >/dev/null && echo resolv; [ -d /sys/kernel ] && echo sys; touch /sys/x 2>/dev/null || echo sys-read-only"
		id=$(pod run -d "$IMG" sleep 1000)
		pod exec "$id" sh -c "ip -o -4 addr show tap0 | tr -s \" \" | cut -d\" \" -f4"
		podman rm -f -t 0 "$id" >/dev/null'
	assert_status 0
	assert_output "tap0 10.0.2.100/24
default via 10.0.2.2 dev tap0 
0	0
resolv
sys
sys-read-only
10.0.2.100/24"
}

@test "podman's default rootless network: the host's loopback at 10.0.2.2 with allow_host_loopback, closed without" {
	run as_user '
		port=$(free_port)
		host_server "$port"
		pod run --rm --network slirp4netns:allow_host_loopback=true "$IMG" wget -q -O - "http://10.0.2.2:$port/index.txt"
		pod run --rm "$IMG" sh -c "wget -q -T 3 -O - http://10.0.2.2:$port/index.txt 2>/dev/null || echo closed"'
	assert_status 0
	assert_output "hello from the host
closed"
}

@test "podman pods on the default network: a member joins the pod's network, ipc and uts namespaces" {
	run as_user '
		podman --runtime "$OCI" pod create --name p1 >/dev/null
		pod run --rm --pod p1 "$IMG" sh -c "hostname; ip -o -4 addr show tap0 | tr -s \" \" | cut -d\" \" -f4"
		podman pod rm -f p1 >/dev/null'
	assert_status 0
	assert_output "p1
10.0.2.100/24"
}
