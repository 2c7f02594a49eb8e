#!/usr/bin/env bats
# sbx-oci pause, resume and update as root, on a cgroup the test makes by
# hand and records in the container's state ("cgroupPaths", as sbx-oci's
# cgroup creation records it): the v1 freezer and pids hierarchies these
# machines mount, or cgroup v2 where that is all there is.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root"
	cd "$BATS_TEST_TMPDIR"
	OCI=$SBX_TOP/build/sbx-oci
	ROOT=$BATS_TEST_TMPDIR/oci-root
	mkdir -p bundle share
	make_busybox_rootfs bundle/rootfs
	(cd bundle && "$OCI" spec)
	jq --arg s "$PWD/share" '.process.terminal = false
		| .mounts += [{"destination": "/share", "type": "bind", "source": $s, "options": ["rbind"]}]
		| .process.args = ["sh", "-c", "read x </share/fifo; echo done >/share/out"]' \
		bundle/config.json >bundle/c.json && mv bundle/c.json bundle/config.json
	mkfifo share/fifo
	CG=sbx-test-oci-$$-$BATS_TEST_NUMBER
	DIRS=()
}

teardown() {
	# Whatever is left in the hand-made cgroups goes back to the root.
	for d in "${DIRS[@]}"; do
		[ -d "$d" ] || continue
		[ -e "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -e "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
		oci delete --force c1 2>/dev/null || true
		rmdir "$d" 2>/dev/null || true
	done
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# v1 NAME: where the v1 hierarchy of controller NAME is mounted: the host's
# under /sys/fs/cgroup, or, where the host shows the cgroup2 mount alone
# while the kernel binds the controllers to v1 hierarchies (CI's fresh root
# on these machines), that hierarchy mounted for this file, with the
# controllers it holds together (cpu with cpuacct), and unmounted in
# teardown_file.
v1() {
	local ctls dir
	if [ -e "/sys/fs/cgroup/$1/cgroup.procs" ]; then
		echo "/sys/fs/cgroup/$1"
		return
	fi
	ctls=$(awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $2 }' /proc/self/cgroup)
	[ -n "$ctls" ] || { echo "no v1 hierarchy holds the $1 controller" >&2; return 1; }
	dir=$BATS_FILE_TMPDIR/cgroup/$ctls
	if ! mountpoint -q "$dir"; then
		mkdir -p "$dir"
		mount -t cgroup -o "$ctls" cgroup "$dir" || return 1
		echo "$dir" >>"$BATS_FILE_TMPDIR/cgroup-mounts"
	fi
	echo "$dir"
}

teardown_file() {
	local d
	[ -f "$BATS_FILE_TMPDIR/cgroup-mounts" ] || return 0
	while read -r d; do umount "$d" 2>/dev/null || umount -l "$d"; done <"$BATS_FILE_TMPDIR/cgroup-mounts"
}

# sbx-oci makes no cgroup of its own here: the tests make it by hand.
oci() { "$OCI" --root "$ROOT" --cgroup-manager disabled "$@"; }

# A cgroup of hierarchy $1 (a v1 controller, or "unified") holding pid $2;
# prints its directory.
make_cgroup() {
	local dir
	if [ "$1" = unified ]; then
		dir=$V2/$CG
	else
		dir=$(v1 "$1")/$CG
	fi
	mkdir "$dir"
	echo "$2" >"$dir/cgroup.procs"
	echo "$dir"
}

# Records hierarchy -> directory in the container's state.json.
record() {
	jq --arg k "$1" --arg d "$2" '.cgroupPaths[$k] = $d' "$ROOT/c1/state.json" >s.json
	mv s.json "$ROOT/c1/state.json"
}

@test "pause and resume freeze and thaw the container through the cgroup its state records" {
	V2=""
	if [ -d /sys/fs/cgroup/freezer ]; then
		hier=freezer file=freezer.state frozen=FROZEN thawed=THAWED
	else
		# A pure cgroup v2 host.
		V2=/sys/fs/cgroup
		hier=unified file=cgroup.events frozen="frozen 1" thawed="frozen 0"
	fi
	oci run -d --bundle bundle --pid-file "$PWD/pid" c1 </dev/null >bg.out 2>&1
	pid=$(cat pid)
	# Without a record, pause says why.
	run oci pause c1
	assert_status 125
	assert_output 'sbx-oci: pause: the container has no cgroup of its own; nothing can freeze its processes; create it again without --cgroup-manager disabled'
	dir=$(make_cgroup "$hier" "$pid")
	DIRS+=("$dir")
	record "$hier" "$dir"
	run oci pause c1
	assert_status 0
	grep -qx "$frozen" "$dir/$file"
	# Frozen: the kernel says so of the payload too.
	if [ "$hier" = freezer ]; then
		[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status")" = D ]
	fi
	run oci resume c1
	assert_status 0
	grep -qx "$thawed" "$dir/$file"
	# It runs on.
	echo go >share/fifo
	for i in $(seq 1 300); do [ -s share/out ] && break; sleep 0.05; done
	[ "$(cat share/out)" = done ]
	run oci pause c1
	assert_status 125
	assert_output 'sbx-oci: pause: container "c1" is not running'
	oci delete c1
}

@test "update writes the limits to the container's cgroup; a missing controller is refused by name" {
	v1 pids >/dev/null
	oci run -d --bundle bundle --pid-file "$PWD/pid" c1 </dev/null >bg.out 2>&1
	pid=$(cat pid)
	run oci update --pids-limit 10 c1
	assert_status 125
	assert_output 'sbx-oci: update: the container has no cgroup of its own; its limits cannot change; create it again without --cgroup-manager disabled'
	dir=$(make_cgroup pids "$pid")
	DIRS+=("$dir")
	record pids "$dir"
	run oci update --pids-limit 10 c1
	assert_status 0
	[ "$(cat "$dir/pids.max")" = 10 ]
	echo '{"pids": {"limit": 20}}' | oci update --resources - c1
	[ "$(cat "$dir/pids.max")" = 20 ]
	# The option wins over the file, as runc's does.
	echo '{"pids": {"limit": 20}}' >res.json
	oci update --resources res.json --pids-limit -1 c1
	[ "$(cat "$dir/pids.max")" = max ]
	run oci update --memory 64m --pids-limit 5 c1
	assert_status 125
	assert_output "sbx-oci: update: linux.resources.memory: the container's cgroup has no memory controller"
	# Nothing was written.
	[ "$(cat "$dir/pids.max")" = max ]
	echo '{"hugepageLimits": []}' >res.json
	run oci update --resources res.json c1
	assert_status 125
	assert_output 'sbx-oci: update: resources: "hugepageLimits" cannot be updated'
	echo go >share/fifo
	for i in $(seq 1 300); do [ -s share/out ] && break; sleep 0.05; done
	oci delete --force c1
}

@test "update goes through linux.resources' parser and applier: cpu and memory on v1, -1 back to the default, a raised limit after its swap" {
	v1 cpu >/dev/null && v1 memory >/dev/null
	oci run -d --bundle bundle --pid-file "$PWD/pid" c1 </dev/null >bg.out 2>&1
	pid=$(cat pid)
	cpu=$(make_cgroup cpu "$pid")
	DIRS+=("$cpu")
	record cpu "$cpu"
	run oci update --cpu-share 512 --cpu-quota 20000 --cpu-period 50000 c1
	assert_status 0
	[ "$(cat "$cpu/cpu.shares")" = 512 ]
	[ "$(cat "$cpu/cpu.cfs_quota_us")" = 20000 ]
	[ "$(cat "$cpu/cpu.cfs_period_us")" = 50000 ]
	# -1: no quota, the default shares; the period not given stays.
	echo '{"cpu": {"shares": -1, "quota": -1}}' | oci update --resources - c1
	[ "$(cat "$cpu/cpu.shares")" = 1024 ]
	[ "$(cat "$cpu/cpu.cfs_quota_us")" = -1 ]
	[ "$(cat "$cpu/cpu.cfs_period_us")" = 50000 ]
	# The create's checks: a weight out of range, a swap below the limit.
	run oci update --blkio-weight 5 c1
	assert_status 125
	assert_output 'sbx-oci: update: linux.resources.blockIO.weight: 5 is not from 10 to 1000'
	run oci update --memory 64m --memory-swap 32m c1
	assert_status 125
	assert_output 'sbx-oci: update: linux.resources.memory.swap: 33554432 is below the limit (67108864): swap counts memory and swap together'
	run oci update c1
	assert_status 125
	assert_output 'sbx-oci: update: nothing to update'
	mem=$(make_cgroup memory "$pid")
	DIRS+=("$mem")
	record memory "$mem"
	run oci update --memory 64m c1
	assert_status 0
	[ "$(cat "$mem/memory.limit_in_bytes")" = 67108864 ]
	if [ -e "$mem/memory.memsw.limit_in_bytes" ]; then
		oci update --memory 64m --memory-swap 64m c1
		[ "$(cat "$mem/memory.memsw.limit_in_bytes")" = 67108864 ]
		# Memory above the swap's old limit: the swap's goes first.
		run oci update --memory 128m --memory-swap 256m c1
		assert_status 0
		[ "$(cat "$mem/memory.limit_in_bytes")" = 134217728 ]
		[ "$(cat "$mem/memory.memsw.limit_in_bytes")" = 268435456 ]
	fi
	run oci update --memory -1 --memory-swap -1 c1
	assert_status 0
	[ "$(cat "$mem/memory.limit_in_bytes")" = "$(cat "$(v1 memory)/memory.limit_in_bytes")" ]
	echo go >share/fifo
	for i in $(seq 1 300); do [ -s share/out ] && break; sleep 0.05; done
	oci delete --force c1
}
