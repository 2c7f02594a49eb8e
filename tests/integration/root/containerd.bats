#!/usr/bin/env bats
# containerd (Debian's 1.6) drives sbx-oci as root through its runc shim
# (`ctr run --runc-binary`): a private containerd (its own root, state and
# socket), an image made here from busybox-static with umoci, and the
# container's cgroup checked from the host. Runs under
# ../shared/bin/stock-host, with the cgroups confined (cgroup-helpers.bash).

load ../helpers
load cgroup-helpers
bats_require_minimum_version 1.5.0

IMAGE=docker.io/library/sbxbox:latest

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	export CTD_DIR
	CTD_DIR=$(mktemp -d /tmp/sbx-containerd.XXXXXX)
	# ctr's namespace names the cgroups (/NS/ID): one per run.
	export NS=sbxtest-$$
	local d=$CTD_DIR
	cat >"$d/config.toml" <<-EOF
		version = 2
		root = "$d/root"
		state = "$d/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$d/c.sock"
		[ttrpc]
		  address = "$d/c.sock.ttrpc"
		[debug]
		  address = "$d/debug.sock"
	EOF
	# The image: one layer of busybox-static, in an OCI archive.
	(
		set -e
		cd "$d"
		umoci init --layout layout
		umoci new --image layout:latest
		umoci unpack --image layout:latest img
		make_busybox_rootfs img/rootfs
		umoci repack --image layout:latest img
		umoci config --image layout:latest --config.cmd /bin/sh --config.env PATH=/bin
		cd layout && tar cf ../image.tar .
	) >"$d/image.log" 2>&1
	# exec all the way down: $! is containerd itself.
	(exec "$STOCK_HOST" /bin/sh -c "$hybrid_script$confine_script" confine containerd --config "$d/config.toml") \
		>"$d/containerd.log" 2>&1 3>&- &
	echo $! >"$d/containerd.pid"
	local i
	for i in $(seq 1 200); do
		[ -S "$d/c.sock" ] && break
		sleep 0.05
	done
	ctr --address "$d/c.sock" -n "$NS" images import --base-name docker.io/library/sbxbox \
		"$d/image.tar" >"$d/import.log" 2>&1
}

teardown_file() {
	[ -n "${CTD_DIR:-}" ] || return 0
	local d=$CTD_DIR pid
	ctr --address "$d/c.sock" -n "$NS" task ls -q 2>/dev/null | while read -r t; do
		ctr --address "$d/c.sock" -n "$NS" task delete -f "$t" >/dev/null 2>&1 || true
	done
	if [ -f "$d/containerd.pid" ]; then
		pid=$(cat "$d/containerd.pid")
		kill "$pid" 2>/dev/null || true
		# Its shutdown is bounded; bats waits for whatever holds its output.
		for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	# The shims outlive containerd: each names the socket on its command line.
	for pid in $(pgrep -u 0 -f "containerd-shim-runc-v2 .*$d/c.sock" || true); do
		kill "$pid" 2>/dev/null || true
	done
	remove_cgroup "$NS"
	remove_cgroup sbxctr.slice
	umount "$d/root/io.containerd.snapshotter.v1.overlayfs/snapshots/"*/fs 2>/dev/null || true
	rm -rf "$d"
}

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root"
	[ -x "$STOCK_HOST" ] || fail "missing $STOCK_HOST"
	command -v containerd >/dev/null || fail "containerd is missing: run 'make deps'"
	command -v umoci >/dev/null || fail "umoci is missing: run 'make deps'"
	OCI=$SBX_TOP/build/sbx-oci
	[ -x "$OCI" ] || fail "missing $OCI: run 'make'"
	[ -S "$CTD_DIR/c.sock" ] || fail "containerd did not start: $(cat "$CTD_DIR/containerd.log")"
	grep -q "unpacking $IMAGE" "$CTD_DIR/import.log" ||
		fail "ctr images import failed: $(cat "$CTD_DIR/image.log" "$CTD_DIR/import.log")"
	RUNC_ROOT=$CTD_DIR/runc
}

c() { ctr --address "$CTD_DIR/c.sock" -n "$NS" "$@"; }

# ctr run with sbx-oci as the runc binary, its state under RUNC_ROOT.
crun() { timeout 120 ctr --address "$CTD_DIR/c.sock" -n "$NS" run --runc-binary "$OCI" --runc-root "$RUNC_ROOT" "$@"; }

# What the shim logged for a task (sbx-oci's --log json goes there).
shim_log() { cat "$CTD_DIR/state/io.containerd.runtime.v2.task/$NS/$1/log.json" 2>/dev/null; }

@test "containerd: ctr run passes the exit code and the output; the container has no user namespace of the host's" {
	run crun --rm "$IMAGE" r1 sh -c 'echo hello from sbx; cat /proc/self/uid_map; exit 3'
	[ "$status" -eq 3 ] || fail "status $status: $output $(shim_log r1)"
	assert_contains "hello from sbx"
	# Root of an identity-mapped user namespace (see README).
	[[ "$output" =~ 0\ +0\ +4294967295 ]]
	run c containers ls -q
	assert_output ""
	assert_no_cgroup "$NS/r1"
	[ ! -e "$RUNC_ROOT/$NS/r1" ]
}

@test "containerd: ctr run -d, task exec, kill and delete; the cgroup holds the memory limit and goes with the task" {
	run crun -d --memory-limit 33554432 "$IMAGE" d1 sleep 1000
	assert_status 0
	state=$RUNC_ROOT/$NS/d1/state.json
	[ -f "$state" ] || fail "no $state: $(shim_log d1)"
	mem=$(jq -r '.cgroupPaths.memory' "$state")
	cpu=$(jq -r '.cgroupPaths["cpu"]' "$state")
	[ "$mem" = /sys/fs/cgroup/memory/$NS/d1 ]
	[ "$cpu" = /sys/fs/cgroup/cpu/$NS/d1 ]
	pid=$(jq -r .pid "$state")
	run in_ns "cat $mem/memory.limit_in_bytes; cat $mem/cgroup.procs; cat $cpu/cgroup.procs; cat $cpu/cpu.shares"
	assert_output "33554432
$pid
$pid
1024"
	run c task exec --exec-id e1 d1 sh -c 'echo exec ran; grep ":cpu:" /proc/self/cgroup; exit 4'
	assert_status 4
	assert_contains "exec ran"
	assert_contains ":cpu:/$NS/d1"
	run c task kill -s SIGKILL d1
	assert_status 0
	for i in $(seq 1 200); do
		c task ls | grep -q "^d1 .*STOPPED" && break
		sleep 0.05
	done
	run c task delete d1
	assert_status 0
	run c container rm d1
	assert_status 0
	assert_no_cgroup "$NS/d1"
	[ ! -e "$RUNC_ROOT/$NS/d1" ]
}

@test "containerd: ctr run --rm -t gives the container a terminal" {
	run timeout 120 script -qec "ctr --address '$CTD_DIR/c.sock' -n '$NS' run --runc-binary '$OCI' --runc-root '$RUNC_ROOT' --rm -t '$IMAGE' t1 sh -c 'tty; test -t 0 && echo stdin is a tty; exit 5'" /dev/null
	[ "$status" -eq 5 ] || fail "status $status: $output $(shim_log t1)"
	assert_contains "/dev/pts/0"
	assert_contains "stdin is a tty"
	assert_no_cgroup "$NS/t1"
}

@test "containerd: --runc-systemd-cgroup maps slice:prefix:name onto systemd's layout, without systemd" {
	run crun --rm --runc-systemd-cgroup --cgroup "sbxctr.slice:sbx:s1" "$IMAGE" s1 grep ":cpu:" /proc/self/cgroup
	assert_status 0
	assert_output "$(grep -m1 ":cpu:" /proc/self/cgroup | cut -d: -f1):cpu:/sbxctr.slice/sbx-s1.scope"
	assert_no_cgroup "sbxctr.slice/sbx-s1.scope"
}

@test "containerd: a runtime error reaches ctr through the shim's log" {
	run crun --rm --cgroup "$NS/../x" "$IMAGE" e1 true
	assert_status 1
	assert_contains "linux.cgroupsPath: \"$NS/../x\" holds \"..\"; give a path without . or .. components"
	assert_no_cgroup "$NS/x"
}
