#!/usr/bin/env bats
# pasta and slirp4netns, as an unprivileged user on a stock host: these
# machines' /dev/net/tun is root-only, so each test runs the user's part
# under ../shared/bin/stock-host, which shows a 0666 /dev/net/tun in a
# private mount namespace. All traffic stays on the host's loopback or
# inside the sandboxes' namespaces.

load ../helpers
load stock-host-helpers
bats_require_minimum_version 1.5.0

setup() {
	stock_host_setup net pasta slirp4netns
	AS_USER_ENV=(SBX="$SBX" SBX_DATADIR="$SBX_DATADIR")
}

teardown() {
	stock_host_teardown
}

# Shell functions for the user's scripts (after STOCK_HOST_LIB's).
read -r -d '' LIB <<'EOF' || true
S=$SBX
[ -d "$XDG_DATA_HOME/sbx/images/busybox" ] || $S image bootstrap busybox >/dev/null 2>&1
# An HTTP server on the host's 127.0.0.1:$1 serving $2.
host_server() {
	python3 -m http.server --bind 127.0.0.1 --directory "$2" "$1" >/dev/null 2>&1 &
	fetch "$1" /dev/null >/dev/null
}
# GETs http://127.0.0.1:$1/ (retrying until it answers) and prints the body.
fetch() {
	python3 - "$1" <<-'PY'
	import sys, time, urllib.request
	deadline = time.time() + 10
	while True:
	    try:
	        print(urllib.request.urlopen("http://127.0.0.1:%s/index.txt" % sys.argv[1], timeout=2).read().decode().strip())
	        break
	    except OSError as e:
	        if time.time() > deadline:
	            sys.exit("no answer on port %s: %s" % (sys.argv[1], e))
	        time.sleep(0.05)
	PY
}
# The same on the host's ::1:$1, which pasta maps its IPv6 gateway to.
host_server6() {
	python3 -m http.server --bind ::1 --directory "$2" "$1" >/dev/null 2>&1 &
	python3 - "$1" <<-'PY'
	import socket, sys, time
	deadline = time.time() + 10
	while True:
	    try:
	        socket.create_connection(("::1", int(sys.argv[1])), timeout=2).close()
	        break
	    except OSError as e:
	        if time.time() > deadline:
	            sys.exit("no server on [::1]:%s: %s" % (sys.argv[1], e))
	        time.sleep(0.05)
	PY
}
# The sandbox's script for the loopback tests: the interface, the generated
# files, and what answers at the gateway's addresses on port $1 (the host's
# 127.0.0.1 and ::1 when the helper maps them).
probe_script() {
	cat <<-SH
	gw=\$(ip route | awk '/^default/ {print \$3}')
	gw6=\$(ip -6 route | awk '/^default/ {print \$3}')
	addr=\$(ip -4 -o addr show scope global | awk '{print \$4}' | cut -d/ -f1)
	[ \$(ip -4 -o addr show scope global | wc -l) = 1 ] && echo one-address
	grep -qx "\$addr	box" /etc/hosts && echo hosts-address
	grep -x "[^ ]*	host.sbx.internal" /etc/hosts | sed "s/^\$gw	/GATEWAY	/"
	grep -qx "127.0.0.1	localhost" /etc/hosts && echo hosts-localhost
	grep -qx "::1	localhost ip6-localhost ip6-loopback" /etc/hosts && echo hosts-ip6
	grep ^nameserver /etc/resolv.conf
	[ \$(hostname) = box ] && echo hostname
	echo "4: \$(timeout 3 wget -q -O - http://\$gw:$1/index.txt 2>/dev/null || echo closed)"
	[ -z "\$gw6" ] || echo "6: \$(timeout 3 wget -q -O - http://[\$gw6]:$1/index.txt 2>/dev/null || echo closed)"
	SH
}
json_get() { # FILE KEY
	python3 -c 'import json, sys; v = json.load(open(sys.argv[1])); print(v.get(sys.argv[2]))' "$1" "$2" 2>/dev/null
}
# Waits until instance $1's network.json names its helper; prints the pid.
helper_pid() {
	local f=$XDG_DATA_HOME/sbx/instances/$1/network.json pid
	for i in $(seq 200); do
		pid=$(json_get "$f" helper_pid)
		case "$pid" in [0-9]*) echo "$pid"; return 0 ;; esac
		sleep 0.05
	done
	echo "no helper pid for $1" >&2
	return 1
}
running() { # PID: alive, and not a zombie
	case "$(ps -o stat= -p "$1")" in "" | Z*) return 1 ;; esac
}
# Fails unless PID dies within 5 seconds.
gone() {
	for i in $(seq 100); do running "$1" || return 0; sleep 0.05; done
	echo "process $1 ($(cat /proc/$1/cmdline | tr '\0' ' ')) is still running" >&2
	return 1
}
nothing_left() {
	local p
	for p in /proc/[0-9]*; do
		case "$(readlink $p/cwd 2>/dev/null)" in
		"$XDG_DATA_HOME"*) echo "left over: $(tr '\0' ' ' <$p/cmdline)" >&2; return 1 ;;
		esac
	done
}
EOF

@test "pasta, slirp4netns: the host's loopback is closed by default; no host.sbx.internal; /etc/hosts and /etc/resolv.conf" {
	run as_user '
		mkdir www && echo "hello from the host" >www/index.txt
		port=$(free_port)
		host_server "$port" www
		host_server6 "$port" www
		for mode in pasta slirp4netns; do
			echo "== $mode"
			$S run --rm --hostname box --network $mode busybox sh -c "$(probe_script $port)"
		done'
	assert_status 0
	assert_output "== pasta
one-address
hosts-address
hosts-localhost
hosts-ip6
nameserver 169.254.1.1
hostname
4: closed
6: closed
== slirp4netns
one-address
hosts-address
hosts-localhost
hosts-ip6
nameserver 10.0.2.3
hostname
4: closed"
	# slirp4netns' addresses are fixed.
	run as_user '$S run --rm --network slirp4netns busybox sh -c "ip route | awk \"/^default/ {print \\\$3}\"; grep -v ^# /etc/hosts"'
	assert_status 0
	assert_output "10.0.2.2
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
10.0.2.100	sbx"
}

@test "pasta, slirp4netns: --network MODE:host-loopback and host_loopback = true open the host's loopback as host.sbx.internal" {
	run as_user '
		mkdir www && echo "hello from the host" >www/index.txt
		port=$(free_port)
		host_server "$port" www
		host_server6 "$port" www
		mkdir -p $XDG_CONFIG_HOME/sbx/profiles
		for mode in pasta slirp4netns; do
			printf "[profile]\ninherit = default\n[network]\nmode = $mode\nhost_loopback = true\n" \
				>$XDG_CONFIG_HOME/sbx/profiles/$mode-lo.ini
			echo "== --network $mode:host-loopback"
			$S run --rm --hostname box --network $mode:host-loopback busybox sh -c "$(probe_script $port)"
			echo "== host_loopback = true"
			$S run --rm --hostname box --profile $mode-lo busybox sh -c "$(probe_script $port)"
			echo "== host_loopback = true, --network $mode"
			$S run --rm --hostname box --profile $mode-lo --network $mode busybox sh -c "$(probe_script $port)" | grep "^[46]:"
		done'
	assert_status 0
	open_pasta="one-address
hosts-address
GATEWAY	host.sbx.internal
hosts-localhost
hosts-ip6
nameserver 169.254.1.1
hostname
4: hello from the host
6: hello from the host"
	open_slirp="one-address
hosts-address
GATEWAY	host.sbx.internal
hosts-localhost
hosts-ip6
nameserver 10.0.2.3
hostname
4: hello from the host"
	assert_output "== --network pasta:host-loopback
$open_pasta
== host_loopback = true
$open_pasta
== host_loopback = true, --network pasta
4: closed
6: closed
== --network slirp4netns:host-loopback
$open_slirp
== host_loopback = true
$open_slirp
== host_loopback = true, --network slirp4netns
4: closed"
}

@test "pasta, slirp4netns: a server in the sandbox is reached from the host through --publish" {
	run as_user '
		for mode in pasta slirp4netns; do
			mkdir -p $mode && echo "hello from the sandbox ($mode)" >$mode/index.txt
			port=$(free_port)
			$S run --rm --network $mode -p 127.0.0.1:$port:8080 -v "$PWD/$mode:/www:ro" \
				busybox httpd -f -p 8080 -h /www &
			sbx=$!
			fetch $port
			kill $sbx; wait $sbx || true
			nothing_left
		done'
	assert_status 0
	assert_output "hello from the sandbox (pasta)
hello from the sandbox (slirp4netns)"
}

@test "pasta, slirp4netns: no helper outlives its sandbox, nor kill -9 of sbx or of a detached monitor" {
	run as_user '
		mkdir ctl
		for mode in pasta slirp4netns; do
			# The sandbox ends.
			$S run --name a-$mode --network $mode -v "$PWD/ctl:/ctl" busybox \
				sh -c "while [ ! -e /ctl/go ]; do sleep 0.05; done" &
			sbx=$!
			hp=$(helper_pid a-$mode)
			running $hp
			touch ctl/go; wait $sbx; rm ctl/go
			gone $hp
			[ "$(json_get $XDG_DATA_HOME/sbx/instances/a-$mode/network.json helper_pid)" = None ]
			echo "$mode: ends with its sandbox"

			# sbx is killed.
			# (Started by a shell that is gone, so bash does not report the kill.)
			sbx=$(sh -c "\"\$0\" run --name b-$mode --network $mode busybox sleep 1000 >/dev/null 2>&1 & echo \$!" "$S")
			hp=$(helper_pid b-$mode)
			sandbox=$(json_get $XDG_RUNTIME_DIR/sbx/b-$mode/state.json pid)
			kill -9 $sbx
			gone $hp
			gone $sandbox
			echo "$mode: dies with sbx"

			# The monitor of a detached instance is killed.
			$S -q run -d --name c-$mode --network $mode busybox sleep 1000 >/dev/null
			hp=$(helper_pid c-$mode)
			monitor=$(json_get $XDG_RUNTIME_DIR/sbx/c-$mode/state.json monitor)
			running $monitor
			kill -9 $monitor
			gone $hp
			echo "$mode: dies with the monitor"
			$S rm -f a-$mode b-$mode c-$mode >/dev/null
		done
		nothing_left'
	assert_status 0
	assert_output "pasta: ends with its sandbox
pasta: dies with sbx
pasta: dies with the monitor
slirp4netns: ends with its sandbox
slirp4netns: dies with sbx
slirp4netns: dies with the monitor"
}

@test "pasta, slirp4netns: a host port already taken is a clear error, exit 125, nothing left" {
	run as_user '
		port=$(free_port)
		python3 -c "import socket, time; s = socket.socket(); s.bind((\"127.0.0.1\", $port)); s.listen(); time.sleep(60)" &
		taker=$!
		while ! python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $port)).close()" 2>/dev/null; do sleep 0.05; done
		for mode in pasta slirp4netns; do
			set +e
			out=$($S run --rm --network $mode -p $port:80 busybox true 2>&1)
			echo "$mode: $? $out" | sed "s/$port/PORT/g"
			set -e
			nothing_left
			[ -z "$(ls -A $XDG_DATA_HOME/sbx/instances 2>/dev/null)" ]
			[ -z "$(ls -A $XDG_RUNTIME_DIR/sbx 2>/dev/null)" ]
		done
		kill $taker'
	assert_status 0
	assert_output 'pasta: 125 sbx: run: --publish "PORT:80/tcp": host port PORT/tcp is already in use; choose another host port
slirp4netns: 125 sbx: run: --publish "PORT:80/tcp": host port PORT/tcp is already in use; choose another host port'
}

@test "pasta, slirp4netns: a host port held only on [::] is taken too: exact error, exit 125, nothing left" {
	run as_user '
		port=$(free_port)
		python3 -c "import socket, time; s = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s.bind((\"::\", $port)); s.listen(); time.sleep(60)" &
		taker=$!
		for i in $(seq 200); do
			python3 -c "import socket; socket.create_connection((\"::1\", $port)).close()" 2>/dev/null && break
			sleep 0.05
		done
		# Free on 0.0.0.0, which is all the old check tried.
		python3 -c "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"0.0.0.0\", $port))"
		for mode in pasta slirp4netns; do
			set +e
			out=$($S run --rm --network $mode -p $port:80 busybox true 2>&1)
			echo "$mode: $? $out" | sed "s/$port/PORT/g"
			set -e
			nothing_left
			[ -z "$(ls -A $XDG_DATA_HOME/sbx/instances 2>/dev/null)" ]
			[ -z "$(ls -A $XDG_RUNTIME_DIR/sbx 2>/dev/null)" ]
		done
		kill $taker'
	assert_status 0
	assert_output 'pasta: 125 sbx: run: --publish "PORT:80/tcp": host port PORT/tcp is already in use on ::; choose another host port
slirp4netns: 125 sbx: run: --publish "PORT:80/tcp": host port PORT/tcp is already in use on ::; choose another host port'
}

@test "auto: picks pasta, then slirp4netns, and says so (not with -q); inspect shows mode, helper pid and ports" {
	run as_user '
		$S run --rm --network auto busybox true
		$S -q run --rm --network auto busybox true
		mkdir only-slirp && ln -s "$(command -v slirp4netns)" only-slirp/
		PATH=$PWD/only-slirp $S run --rm --network auto busybox true
		port=$(free_port)
		$S -q run -d --name i1 --network auto -p $port:80 busybox sleep 1000 >/dev/null
		hp=$(helper_pid i1)
		$S inspect i1 | python3 -c "
import json, sys
n = json.load(sys.stdin)[\"network\"]
assert n[\"mode\"] == \"pasta\" and n[\"helper\"] == \"pasta\", n
assert n[\"helper_pid\"] == $hp, n
assert n[\"publish\"] == [\"$port:80/tcp\"], n
assert n[\"dns\"] == \"169.254.1.1\" and n[\"host_loopback\"] is None, n
print(\"inspect ok\")"
		# ps shows the published port as podman does.
		[ "$($S ps --filter name=^i1$ --format "{{.Ports}}")" = "$port->80/tcp" ] && echo "ps ports ok"
		running $hp
		$S rm -f i1 >/dev/null
		gone $hp
		# With the host loopback, inspect names the address that reaches it.
		$S -q run -d --name i2 --network auto:host-loopback busybox sleep 1000 >/dev/null
		hp=$(helper_pid i2)
		$S inspect i2 | python3 -c "
import json, sys
n = json.load(sys.stdin)[\"network\"]
assert n[\"mode\"] == \"pasta\" and n[\"host_loopback\"] == n[\"gateway\"] != None, n
print(\"inspect host-loopback ok\")"
		$S rm -f i2 >/dev/null
		gone $hp' 2>&1
	assert_status 0
	assert_output "sbx: network: using pasta
sbx: network: using slirp4netns
inspect ok
ps ports ok
inspect host-loopback ok"
}
