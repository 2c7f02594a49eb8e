#!/usr/bin/env bats
# Networking as an unprivileged user, on a host where /dev/net/tun is
# root-only: the none and host modes, the generated /etc files, and the
# errors of the user-mode modes. pasta and slirp4netns themselves run in
# ../root/network.bats, under stock-host. All traffic stays on loopback.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	cd "$BATS_TEST_TMPDIR"
	sbx image bootstrap busybox >/dev/null 2>&1
	SERVER_PID=
}

teardown() {
	[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# Starts an HTTP server on the host's 127.0.0.1, on a free port the test
# picks, and waits until it answers; sets PORT and SERVER_PID.
start_host_server() {
	mkdir -p www
	echo "hello from the host" >www/index.txt
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 -m http.server --bind 127.0.0.1 --directory www "$PORT" >/dev/null 2>&1 &
	SERVER_PID=$!
	python3 - "$PORT" <<-'EOF'
	import socket, sys, time
	deadline = time.time() + 10
	while True:
	    try:
	        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
	        break
	    except OSError:
	        if time.time() > deadline:
	            sys.exit("the test server did not start")
	        time.sleep(0.05)
	EOF
}

# Nothing sbx started may still run: no process of ours works in the
# test's directory (the helpers run in the instance directory).
assert_nothing_left() {
	local p left=
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/cwd" 2>/dev/null)" in
		"$XDG_DATA_HOME"*) left="$left ${p#/proc/}" ;;
		esac
	done
	[ -z "$left" ] || { echo "left-over processes:$left" >&2; ps -fp $left >&2; return 1; }
	[ -z "$(ls "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ] || {
		echo "left-over instances: $(ls "$XDG_DATA_HOME/sbx/instances")" >&2
		return 1
	}
}

tun_usable() { (exec 3<>/dev/net/tun) 2>/dev/null; }

@test "none: only lo, up, and 127.0.0.1 answers inside" {
	run sbx run --rm busybox sh -c '
		ip -o link | cut -d: -f2 | tr -d " "
		ip -o link show lo | grep -q "<LOOPBACK,UP" && echo lo-up
		echo pong | nc -l -p 8080 &
		for i in $(seq 100); do
			out=$(nc 127.0.0.1 8080 </dev/null 2>/dev/null) && [ -n "$out" ] && break
			sleep 0.05
		done
		echo "$out"'
	assert_status 0
	assert_output "lo
lo-up
pong"
}

@test "none: a server on the host's loopback is unreachable from inside" {
	start_host_server
	# Reachable from the host itself...
	run -0 busybox wget -q -O - "http://127.0.0.1:$PORT/index.txt"
	assert_output "hello from the host"
	# ...but not from the sandbox: its 127.0.0.1 is its own, and there is
	# no route anywhere else.
	run sbx run --rm busybox sh -c "
		timeout 5 wget -q -O - http://127.0.0.1:$PORT/index.txt; echo loopback=\$?
		ip route | wc -l"
	assert_status 0
	assert_contains "loopback=1"
	[ "${lines[-1]}" = 0 ]
	[[ "$output" != *"hello from the host"* ]]
}

@test "none: generated /etc/hosts and /etc/resolv.conf, read-only, image untouched" {
	image_hosts=$XDG_DATA_HOME/sbx/images/busybox/rootfs/etc/hosts
	before=$(cat "$image_hosts" 2>/dev/null || echo missing)
	run sbx run --rm --hostname box1 busybox sh -c '
		cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---
		{ echo x >> /etc/hosts; } 2>/dev/null || echo hosts-ro
		{ echo x >> /etc/resolv.conf; } 2>/dev/null || echo resolv-ro'
	assert_status 0
	assert_output '# Written by sbx for this sandbox (network "none"); the image is not changed.
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
127.0.1.1	box1
---
# Written by sbx: network "none" has no DNS server.
---
hosts-ro
resolv-ro'
	[ "$(cat "$image_hosts" 2>/dev/null || echo missing)" = "$before" ]
}

@test "none: symlinked /etc files in the image stay inside the root" {
	make_busybox_rootfs rootfs
	echo outside >outside
	# One pointing out of the root, one dangling (as in Ubuntu images).
	ln -sf "../../../../../../../../..$PWD/outside" rootfs/etc/hosts
	ln -sf ../run/systemd/resolve/stub-resolv.conf rootfs/etc/resolv.conf
	run sbx run --rm "$PWD/rootfs" sh -c 'grep -c "Written by sbx" /etc/hosts /etc/resolv.conf'
	assert_status 0
	assert_output "/etc/hosts:1
/etc/resolv.conf:1"
	[ "$(cat outside)" = outside ]
	[ -L rootfs/etc/hosts ] && [ -L rootfs/etc/resolv.conf ] && [ ! -e rootfs/run ]
}

@test "host: the host's interfaces are visible, resolv.conf is the host's" {
	run sbx run --rm --network host busybox sh -c 'ls /sys/class/net; echo ---; cat /etc/resolv.conf'
	assert_status 0
	for ifc in /sys/class/net/*; do
		assert_contains "${ifc##*/}"
	done
	[ -n "$(ls /sys/class/net | grep -v '^lo$')" ]
	assert_contains '# The host'"'"'s /etc/resolv.conf, copied by sbx (network "host").'
	assert_contains "$(cat /etc/resolv.conf)"
}

@test "inspect shows the mode; no helper, and so no network.json, for none" {
	run sbx run --name n1 busybox true
	assert_status 0
	[ ! -e "$XDG_DATA_HOME/sbx/instances/n1/network.json" ]
	run sbx inspect n1
	assert_status 0
	echo "$output" | python3 -c '
import json, sys
n = json.load(sys.stdin)["network"]
assert n == {"mode": "none", "helper": None, "helper_pid": None, "publish": [], "dns": None}, n'
	sbx rm n1
}

@test "spec: publish and the network travel as annotations; no /etc mounts without an instance" {
	run --separate-stderr sbx spec --network pasta -p 127.0.0.1:8080:80 --publish '[::1]:5353:53/udp' busybox
	assert_status 0
	echo "$output" | python3 -c '
import json, sys
c = json.load(sys.stdin)
a = c["annotations"]
assert a["run.sbx.network"] == "pasta", a
assert a["run.sbx.network.publish"] == "127.0.0.1:8080:80/tcp,[::1]:5353:53/udp", a
assert "run.sbx.network.dir" not in a, a
assert not [m for m in c["mounts"] if m["destination"].startswith("/etc/")], c["mounts"]'
	# The profile key does the same.
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\n[network]\nmode = slirp4netns\npublish = 8081:81\n' \
		>"$XDG_CONFIG_HOME/sbx/profiles/pub.ini"
	run --separate-stderr sbx spec --profile pub busybox
	assert_status 0
	assert_contains '"run.sbx.network.publish": "8081:81/tcp"'
}

@test "--publish with network none or host: exact error, exit 125, nothing left" {
	run sbx run --rm --publish 8080:80 busybox true
	assert_status 125
	assert_output 'sbx: run: --publish needs a user-mode network (--network pasta, slirp4netns or auto); network "none" has no route from the host'
	run sbx run --rm -p 8080:80 --network host busybox true
	assert_status 125
	assert_output 'sbx: run: --publish needs a user-mode network (--network pasta, slirp4netns or auto); with network "host" the sandbox already uses the host'"'"'s ports'
	run sbx run --rm --network pasta -p 8080:80/sctp busybox true
	assert_status 125
	assert_output 'sbx: run: --publish "8080:80/sctp": unknown protocol "sctp" (expected tcp or udp)'
	assert_nothing_left
}

@test "a missing helper: exact error with a hint, exit 125, nothing left" {
	mkdir empty
	PATH=$PWD/empty run sbx run --rm --network pasta busybox true
	assert_status 125
	assert_output 'sbx: run: network "pasta": "pasta" was not found in $PATH; hint: install the "passt" package, or use --network none'
	PATH=$PWD/empty run sbx run --rm --network slirp4netns busybox true
	assert_status 125
	assert_output 'sbx: run: network "slirp4netns": "slirp4netns" was not found in $PATH; hint: install the "slirp4netns" package, or use --network none'
	PATH=$PWD/empty run sbx run --rm --network auto busybox true
	assert_status 125
	assert_output 'sbx: run: network "auto": neither "pasta" nor "slirp4netns" was found in $PATH; hint: install the "passt" or "slirp4netns" package, or use --network none'
	assert_nothing_left
}

@test "a helper in a relative \$PATH entry is not used: run and doctor agree it is missing" {
	# A relative entry, and the empty one (the current directory to a
	# shell), would find programs in whatever directory sbx starts in.
	mkdir empty fake
	printf '#!/bin/sh\ntouch "%s/ran"\n' "$PWD" >fake/pasta
	chmod +x fake/pasta
	cp fake/pasta fake/slirp4netns
	cp fake/pasta pasta
	missing='sbx: run: network "pasta": "pasta" was not found in $PATH; hint: install the "passt" package, or use --network none'
	PATH=fake:$PWD/empty run sbx run --rm --network pasta busybox true
	assert_status 125
	assert_output "$missing"
	PATH=:$PWD/empty run sbx run --rm --network pasta busybox true
	assert_status 125
	assert_output "$missing"
	PATH=fake:$PWD/empty run sbx run --rm --network auto busybox true
	assert_status 125
	assert_output 'sbx: run: network "auto": neither "pasta" nor "slirp4netns" was found in $PATH; hint: install the "passt" or "slirp4netns" package, or use --network none'
	PATH=fake::$PWD/empty run sbx doctor
	[ "$(grep -E '^(OK|WARN|FAIL) +network ' <<<"$output")" = "WARN  network      neither pasta nor slirp4netns is installed; network modes pasta, slirp4netns and auto need one  fix: apt-get install passt" ]
	[ ! -e ran ]
	assert_nothing_left
}

@test "an unusable /dev/net/tun: exact error with a hint, exit 125, nothing left" {
	if tun_usable; then skip "/dev/net/tun is usable here"; fi
	why=$(python3 -c 'import os
try:
    os.open("/dev/net/tun", os.O_RDWR)
except OSError as e:
    print(e.strerror)')
	for mode in pasta slirp4netns auto; do
		run sbx run --rm --network "$mode" busybox true
		assert_status 125
		assert_output "sbx: run: network \"$mode\": /dev/net/tun is not usable ($why); hint: ask an administrator to make it mode 0666 (udev normally does), or use --network none"
	done
	assert_nothing_left
}

@test "--publish of one host port twice: exact error, exit 125, nothing left; another protocol is fine" {
	run sbx run --rm --network pasta -p 18081:80 -p 18081:81 busybox true
	assert_status 125
	assert_output 'sbx: run: --publish "18081:81": host port 18081/tcp is already published by --publish "18081:80/tcp"; choose another host port'
	# One address of a port published on all of them.
	run sbx run --rm --network slirp4netns -p 18081:80 --publish 127.0.0.1:18081:81 busybox true
	assert_status 125
	assert_output 'sbx: run: --publish "127.0.0.1:18081:81": host port 18081/tcp is already published by --publish "18081:80/tcp"; choose another host port'
	assert_nothing_left
	run --separate-stderr sbx spec --network pasta -p 18081:80 -p 18081:80/udp -p 127.0.0.1:18082:80 -p 127.0.0.2:18082:80 busybox
	assert_status 0
	assert_contains '"run.sbx.network.publish": "18081:80/tcp,18081:80/udp,127.0.0.1:18082:80/tcp,127.0.0.2:18082:80/tcp"'
}

@test "--publish over a profile's ports: the same host address replaces it, another address of it is an error" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\n[network]\nmode = pasta\npublish = 18081:80\n' \
		>"$XDG_CONFIG_HOME/sbx/profiles/pub.ini"
	run --separate-stderr sbx spec --profile pub -p 18081:81 busybox
	assert_status 0
	assert_contains '"run.sbx.network.publish": "18081:81/tcp"'
	run sbx run --rm --profile pub -p 127.0.0.1:18081:81 busybox true
	assert_status 125
	assert_output 'sbx: run: published ports "18081:80/tcp" and "127.0.0.1:18081:81/tcp" both take host port 18081/tcp; choose another host port'
	assert_nothing_left
}

@test "--network MODE:host-loopback: exact errors, exit 125; the spec carries it" {
	run sbx run --rm --network none:host-loopback busybox true
	assert_status 125
	assert_output 'sbx: run: --network "none:host-loopback": host-loopback needs a user-mode network (pasta, slirp4netns or auto)'
	run sbx run --rm --network pasta:hostloopback busybox true
	assert_status 125
	assert_output 'sbx: run: --network "pasta:hostloopback": unknown option "hostloopback" (expected host-loopback)'
	assert_nothing_left
	run --separate-stderr sbx spec --network slirp4netns:host-loopback busybox
	assert_status 0
	assert_contains '"run.sbx.network": "slirp4netns:host-loopback"'
	run --separate-stderr sbx spec --network slirp4netns busybox
	assert_status 0
	assert_contains '"run.sbx.network": "slirp4netns"'
}
