#!/usr/bin/env bats
# sbx-oci as root: linux.cgroupsPath and linux.resources on the host's
# cgroup v1 hierarchies (under ../shared/bin/stock-host, which hides the
# unified one), with the cgroups confined below the tests' own
# (cgroup-helpers.bash). Every refusal leaves nothing in --root nor in the
# cgroup tree.

load ../helpers
load cgroup-helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root"
	[ -x "$STOCK_HOST" ] || fail "missing $STOCK_HOST"
	OCI=$SBX_TOP/build/sbx-oci
	[ -x "$OCI" ] || fail "missing $OCI: run 'make'"
	cd "$BATS_TEST_TMPDIR"
	ROOT=$BATS_TEST_TMPDIR/oci-root
	# One parent per test, relative to sbx-oci's own cgroup.
	CG=sbxcg-$$-$BATS_TEST_NUMBER
	mkdir -p bundle
	make_busybox_rootfs bundle/rootfs
	"$OCI" spec --bundle bundle
	edit ".process.terminal = false | .linux.cgroupsPath = \"$CG/c1\""
}

teardown() {
	in_ns "'$OCI' --root '$ROOT' delete --force c1" >/dev/null 2>&1 || true
	remove_cgroup "$CG"
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

edit() {
	jq "$1" bundle/config.json >bundle/c.json && mv bundle/c.json bundle/config.json
}

# sbx-oci in the confined namespace, from the test's directory.
oci() {
	local q
	printf -v q '%q ' "$@"
	in_ns "cd '$BATS_TEST_TMPDIR' && exec '$OCI' --root '$ROOT' $q </dev/null"
}

# run -d leaves a container that holds its stdio: never a pipe that `run`
# waits on.
oci_bg() { oci "$@" >>"$BATS_TEST_TMPDIR/bg.out" 2>&1; }

assert_root_empty() {
	if [ -d "$ROOT" ]; then
		run ls -A "$ROOT"
		assert_output ""
	fi
}

# A refusal: exit 125, the exact message, nothing left.
assert_refused() {
	assert_status 125
	assert_output "$1"
	assert_root_empty
	assert_no_cgroup "$CG/c1"
}

@test "sbx-oci as root: linux.resources applied to the cgroup, the init in it, its cgroup namespace rooted there; delete --force removes it" {
	edit '.linux.resources = {"memory": {"limit": 67108864, "reservation": 33554432}, "pids": {"limit": 20}, "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}}'
	edit '.process.args = ["sh", "-c", "cat /proc/self/cgroup; exec sleep 1000"]'
	run oci_bg run -d --bundle bundle c1
	assert_status 0
	state=$ROOT/c1/state.json
	[ "$(jq -r .cgroupPaths.memory "$state")" = "/sys/fs/cgroup/memory/$CG/c1" ]
	[ "$(jq -r '.cgroupPaths | keys | join(" ")' "$state")" = "blkio cpu cpuacct cpuset devices freezer memory name=systemd pids" ]
	pid=$(jq -r .pid "$state")
	m=/sys/fs/cgroup
	run in_ns "cat $m/memory/$CG/c1/memory.limit_in_bytes $m/memory/$CG/c1/memory.soft_limit_in_bytes $m/pids/$CG/c1/pids.max $m/cpu/$CG/c1/cpu.shares $m/cpu/$CG/c1/cpu.cfs_quota_us $m/cpu/$CG/c1/cpu.cfs_period_us $m/cpuset/$CG/c1/cpuset.cpus $m/freezer/$CG/c1/cgroup.procs"
	assert_output "67108864
33554432
20
512
50000
100000
0
$pid"
	run oci delete --force c1
	assert_status 0
	assert_root_empty
	assert_no_cgroup "$CG/c1"
}

@test "sbx-oci as root: the cgroup namespace is rooted at the container's cgroup" {
	edit '.process.args = ["grep", ":memory:", "/proc/self/cgroup"]'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "4:memory:/"
	assert_root_empty
	assert_no_cgroup "$CG/c1"
}

@test "sbx-oci as root: linux.resources.pids.limit is enforced" {
	edit '.linux.resources = {"pids": {"limit": 4}}'
	edit '.process.args = ["sh", "-c", "for i in 1 2 3 4 5 6; do sleep 100 & done"]'
	run oci run --bundle bundle c1
	assert_status 2
	assert_output "sh: can't fork: Resource temporarily unavailable"
	assert_no_cgroup "$CG/c1"
}

@test "sbx-oci as root: linux.resources.devices goes to the v1 device cgroup" {
	[ -c /dev/fuse ] || skip "no /dev/fuse on this host"
	edit '.mounts += [{"destination": "/dev/fuse", "type": "bind", "source": "/dev/fuse"}]'
	edit '.linux.resources = {"devices": [{"allow": false, "access": "rwm"}]}'
	edit '.process.args = ["sh", "-c", "(: </dev/null) && echo null ok; (: </dev/fuse) || echo fuse denied"]'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "null ok
sh: can't open /dev/fuse: Operation not permitted
fuse denied"
	edit '.linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}]'
	edit '.process.args = ["sh", "-c", "(: </dev/fuse) && echo fuse allowed"]'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "fuse allowed"
	assert_no_cgroup "$CG/c1"
}

@test "sbx-oci as root: delete kills what is left in the cgroup of a stopped container" {
	# No pid namespace (nor a /proc of its own): its processes outlive
	# its init.
	edit '.linux.namespaces -= [{"type": "pid"}] | .mounts |= map(select(.type != "proc")) | .linux.maskedPaths = [] | .linux.readonlyPaths = []'
	edit '.process.args = ["sh", "-c", "sleep 4243 & echo started"]'
	run oci_bg run -d --bundle bundle c1
	assert_status 0
	for i in $(seq 1 200); do
		[ "$(oci state c1 | jq -r .status)" = stopped ] && break
		sleep 0.05
	done
	pgrep -f "^sleep 4243$" >/dev/null
	run oci delete c1
	assert_status 0
	run ! pgrep -f "^sleep 4243$"
	assert_root_empty
	assert_no_cgroup "$CG/c1"
}

@test "sbx-oci as root: --systemd-cgroup lays slice:prefix:name out as systemd would" {
	# A dash nests a slice in another.
	edit ".linux.cgroupsPath = \"sbxcg-t$$.slice:sbx:c1\" | .process.args = [\"grep\", \":pids:\", \"/proc/self/cgroup\"] | .linux.namespaces -= [{\"type\": \"cgroup\"}]"
	run oci --systemd-cgroup run --bundle bundle c1
	assert_status 0
	assert_output "8:pids:/sbxcg.slice/sbxcg-t$$.slice/sbx-c1.scope"
	assert_no_cgroup "sbxcg.slice/sbxcg-t$$.slice/sbx-c1.scope"
	remove_cgroup "sbxcg.slice"
	edit '.linux.cgroupsPath = "a/b"'
	run oci --systemd-cgroup run --bundle bundle c1
	assert_refused 'sbx-oci: run: linux.cgroupsPath: "a/b" is not slice:prefix:name, which --systemd-cgroup needs'
	edit '.linux.cgroupsPath = "a-.slice:x:y"'
	run oci --systemd-cgroup run --bundle bundle c1
	assert_refused 'sbx-oci: run: linux.cgroupsPath: "a-.slice" is not a systemd slice name (NAME.slice, dashes for nesting, no slashes)'
}

@test "sbx-oci as root: features says cgroup v1 (the unified hierarchy is hidden here)" {
	run oci features
	assert_status 0
	[ "$(jq -c .linux.cgroup <<<"$output")" = '{"v1":true,"v2":false,"systemd":true,"systemdUser":false}' ]
}

@test "sbx-oci as root: what cannot be honoured is refused by name; nothing is left in --root nor in the cgroup tree" {
	edit ".linux.cgroupsPath = \"$CG/../c1\""
	run oci run --bundle bundle c1
	assert_refused "sbx-oci: run: linux.cgroupsPath: \"$CG/../c1\" holds \"..\"; give a path without . or .. components"
	edit ".linux.cgroupsPath = \"$CG/c1\" | .linux.resources = {\"memory\": {\"kernel\": 1}}"
	run oci create --bundle bundle c1
	assert_refused "sbx-oci: create: config.json: linux.resources.memory.kernel: not supported by sbx"
	edit '.linux.resources = {"cpu": {"realtimeRuntime": 5}}'
	run oci create --bundle bundle c1
	assert_refused "sbx-oci: create: config.json: linux.resources.cpu.realtimeRuntime: not supported by sbx"
	edit '.linux.resources = {"memory": {"limit": 2000000, "swap": 1000000}}'
	run oci create --bundle bundle c1
	assert_refused "sbx-oci: create: config.json: linux.resources.memory.swap: 1000000 is below the limit (2000000): swap counts memory and swap together"
	# After the cgroup was made: taken down again.
	edit '.linux.resources = {"unified": {"memory.high": "1000000"}}'
	run oci create --bundle bundle c1
	assert_refused "sbx-oci: create: linux.resources.unified: needs cgroup v2, which this host does not mount"
	edit '.linux.resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}'
	run oci create --bundle bundle c1
	assert_refused "sbx-oci: create: linux.resources.hugepageLimits: this host has no hugetlb cgroup controller sbx can use"
	edit '.linux.resources = {"blockIO": {"weight": 100}}'
	run oci create --bundle bundle c1
	assert_refused "sbx-oci: create: linux.resources.blockIO.weight: \"/sys/fs/cgroup/blkio/$CG/c1/blkio.bfq.weight\" does not exist (its cgroup controller is not available there)"
	edit '.linux.resources = {"cpu": {"cpus": "4096"}}'
	run oci create --bundle bundle c1
	assert_refused "sbx-oci: create: linux.resources.cpu.cpus: cannot write \"4096\" to \"/sys/fs/cgroup/cpuset/$CG/c1/cpuset.cpus\": Numerical result out of range"
	assert_no_cgroup "$CG"
}

@test "sbx-oci as root: linux.resources.memory.limit is enforced (the kernel kills the payload)" {
	edit '.linux.resources = {"memory": {"limit": 16777216, "swap": 16777216}}'
	edit '.process.args = ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]'
	run oci run --bundle bundle c1
	assert_status 137
	assert_root_empty
	assert_no_cgroup "$CG/c1"
}

@test "sbx-oci as root: pause, resume and update work on the cgroup sbx-oci made; delete --force removes a paused container" {
	edit '.process.args = ["sleep", "1000"]'
	run oci_bg run -d --bundle bundle c1
	assert_status 0
	m=/sys/fs/cgroup
	run oci pause c1
	assert_status 0
	run in_ns "cat $m/freezer/$CG/c1/freezer.state"
	assert_output FROZEN
	run oci resume c1
	assert_status 0
	run in_ns "cat $m/freezer/$CG/c1/freezer.state"
	assert_output THAWED
	run oci update --pids-limit 7 c1
	assert_status 0
	run in_ns "cat $m/pids/$CG/c1/pids.max"
	assert_output 7
	run oci pause c1
	assert_status 0
	run oci delete --force c1
	assert_status 0
	assert_root_empty
	assert_no_cgroup "$CG/c1"
}
