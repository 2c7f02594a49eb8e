#!/usr/bin/env bats
# sbx-oci on a cgroup v2 host, as root and rootless with a delegated
# subtree. This host mounts v2 beside v1 (hybrid), with every controller on
# v1: each test makes a cgroup of its own in the v2 hierarchy, moves its
# shell into a child of it ("base"), and in a private mount namespace shows
# that cgroup alone as /sys/fs/cgroup, a pure v2 host's layout. Nothing of
# the hierarchy's root is changed.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root"
	OCI=$SBX_TOP/build/sbx-oci
	[ -x "$OCI" ] || fail "missing $OCI: run 'make'"
	V2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	[ -n "$V2" ] || fail "no cgroup v2 mount on this host"
	USER_NAME=${SBX_TEST_USER:-sbxtest}
	TOP=$V2/sbxv2-$$-$BATS_TEST_NUMBER
	mkdir -p "$TOP/base"
	# Somewhere the test user reaches too.
	DIR=$(mktemp -d /tmp/sbx-cgv2.XXXXXX)
	chmod 755 "$DIR"
	cd "$DIR"
	make_busybox_rootfs bundle/rootfs
	"$OCI" spec --bundle bundle
	edit '.process.terminal = false | .linux.cgroupsPath = "c1"'
}

teardown() {
	[ -n "${TOP:-}" ] && [ -d "$TOP" ] && find "$TOP" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -n "${DIR:-}" ] && rm -rf "$DIR"
	true
}

edit() {
	jq "$1" bundle/config.json >bundle/c.json && mv bundle/c.json bundle/config.json
}

# Runs a script with $TOP as /sys/fs/cgroup, from $TOP/base.
in_v2() {
	unshare -m --propagation private /bin/sh -c '
		set -e
		echo $$ >"$1/base/cgroup.procs"
		m=$(mktemp -d)
		mount --bind "$1" "$m"
		umount -l /sys/fs/cgroup
		mount --move "$m" /sys/fs/cgroup
		rmdir "$m"
		cd "$2"
		exec /bin/sh -c "$3"' in_v2 "$TOP" "$DIR" "$1"
}

@test "cgroup v2, as root: the cgroup made below sbx-oci's own, unified keys written, the init in it, removed on delete" {
	edit '.linux.resources = {"unified": {"cgroup.max.descendants": "3"}}'
	edit '.process.args = ["sleep", "1000"]'
	run in_v2 "'$OCI' --root '$DIR/root' run -d --bundle bundle c1 >/dev/null 2>&1 </dev/null; jq -r '.cgroupPaths | to_entries[] | \"\\(.key) \\(.value)\"' root/c1/state.json"
	assert_status 0
	assert_output "unified /sys/fs/cgroup/base/c1"
	[ "$(cat "$TOP/base/c1/cgroup.max.descendants")" = 3 ]
	[ "$(cat "$TOP/base/c1/cgroup.procs")" = "$(jq -r .pid "$DIR/root/c1/state.json")" ]
	run in_v2 "'$OCI' --root '$DIR/root' delete --force c1"
	assert_status 0
	[ ! -e "$TOP/base/c1" ]
	run in_v2 "'$OCI' features"
	[ "$(jq -c .linux.cgroup <<<"$output")" = '{"v1":false,"v2":true,"systemd":true,"systemdUser":false}' ]
}

@test "cgroup v2, as root: a limit whose controller is not there, and a device rule that needs a BPF program, are refused by name; nothing is left" {
	edit '.linux.resources = {"pids": {"limit": 5}}'
	run in_v2 "'$OCI' --root '$DIR/root' run --bundle bundle c1"
	assert_status 125
	assert_output 'sbx-oci: run: linux.resources.pids.limit: "/sys/fs/cgroup/base/c1/pids.max" does not exist (its cgroup controller is not available there)'
	[ ! -e "$TOP/base/c1" ]
	edit '.linux.resources = {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 5, "access": "rwm"}]}'
	run in_v2 "'$OCI' --root '$DIR/root' run --bundle bundle c1"
	assert_status 125
	assert_output 'sbx-oci: run: linux.resources.devices[2]: this deny rule needs a device cgroup, which sbx has only on cgroup v1 as root (on cgroup v2 it is a BPF program sbx does not load)'
	[ ! -e "$TOP/base/c1" ]
	[ ! -e "$DIR/root/c1" ]
	# containerd's and runc's lists (deny all, then allow) run.
	edit '.linux.resources.devices |= .[0:2] | .process.args = ["true"]'
	run in_v2 "'$OCI' --root '$DIR/root' run --bundle bundle c1"
	assert_status 0
}

@test "cgroup v2, as root: update goes to the v2 cgroup as create does; a limit whose controller is not there is refused by name" {
	edit '.process.args = ["sleep", "1000"]'
	run in_v2 "'$OCI' --root '$DIR/root' run -d --bundle bundle c1 >/dev/null 2>&1 </dev/null"
	assert_status 0
	run in_v2 "'$OCI' --root '$DIR/root' update --pids-limit 5 c1"
	assert_status 125
	assert_output 'sbx-oci: update: linux.resources.pids.limit: "/sys/fs/cgroup/base/c1/pids.max" does not exist (its cgroup controller is not available there)'
	run in_v2 "'$OCI' --root '$DIR/root' update --cpu-period 50000 c1"
	assert_status 125
	assert_output 'sbx-oci: update: linux.resources.cpu.quota: "/sys/fs/cgroup/base/c1/cpu.max" does not exist (its cgroup controller is not available there)'
	run in_v2 "'$OCI' --root '$DIR/root' delete --force c1"
	assert_status 0
	[ ! -e "$TOP/base/c1" ]
}

@test "cgroup v2, rootless: a delegated subtree is used; without one, sbx-oci carries on without a cgroup" {
	chown -R "$USER_NAME:" "$TOP/base" "$DIR"
	edit '.linux.resources = {"unified": {"cgroup.max.descendants": "2"}}'
	edit '.process.args = ["sleep", "1000"]'
	edit '.linux.namespaces -= [{"type": "network"}]'
	as_user="setpriv --reuid=$USER_NAME --regid=$USER_NAME --init-groups env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR=$DIR/run"
	mkdir -p -m 700 "$DIR/run" && chown "$USER_NAME:" "$DIR/run"
	run in_v2 "$as_user '$OCI' run -d --bundle bundle c1 >/dev/null 2>&1 </dev/null; jq -c .cgroupPaths run/sbx-oci/c1/state.json"
	assert_status 0
	assert_output '{"unified":"/sys/fs/cgroup/base/c1"}'
	[ "$(cat "$TOP/base/c1/cgroup.max.descendants")" = 2 ]
	[ "$(cat "$TOP/base/c1/cgroup.procs")" = "$(jq -r .pid "$DIR/run/sbx-oci/c1/state.json")" ]
	run in_v2 "$as_user '$OCI' delete --force c1"
	assert_status 0
	[ ! -e "$TOP/base/c1" ]
	run in_v2 "$as_user '$OCI' features"
	[ "$(jq -c .linux.cgroup.v2 <<<"$output")" = true ]
	# Not delegated (the cgroup is root's): no cgroup, and the payload runs.
	chown -R root: "$TOP/base"
	edit '.process.args = ["true"]'
	run in_v2 "$as_user '$OCI' run --bundle bundle c1"
	assert_status 0
	[ ! -e "$TOP/base/c1" ]
	run in_v2 "$as_user '$OCI' features"
	[ "$(jq -c .linux.cgroup.v2 <<<"$output")" = false ]
}
