#!/usr/bin/env bats
# README's sbx-oci walk-through, which is runc's README's: spec, a shell on
# the terminal, then config.json edited by hand for create, start, list and
# delete.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user"
	cd "$BATS_TEST_TMPDIR"
	PATH=$SBX_TOP/build:$PATH
	mkdir mycontainer
	cd mycontainer
	make_busybox_rootfs rootfs
}

# The container's status in `sbx-oci list`.
listed() {
	sbx-oci list | awk -v id="$1" '$1 == id {print $3}'
}

@test "README: sbx-oci spec, run on a terminal, then create, list, start, list, delete with config.json edited by hand" {
	run sbx-oci spec
	assert_status 0
	[ "$(jq .process.terminal config.json)" = true ]
	run bash -c "echo 'echo in-sh-\$((1+1)); exit 3' | script -qec 'sbx-oci run mycontainerid' /dev/null | tr -d '\r'; exit \${PIPESTATUS[1]}"
	assert_status 3
	assert_contains "in-sh-2"
	jq '.process.terminal = false | .process.args = ["sleep", "1000"]' config.json >c.json
	mv c.json config.json
	sbx-oci create mycontainerid </dev/null >/dev/null 2>&1 3>&-
	[ "$(listed mycontainerid)" = created ]
	run sbx-oci start mycontainerid
	assert_status 0
	[ "$(listed mycontainerid)" = running ]
	# README's sleep 5 ends by itself; here it is stopped (no timing).
	run sbx-oci kill mycontainerid KILL
	assert_status 0
	for i in $(seq 1 300); do
		[ "$(listed mycontainerid)" = stopped ] && break
		sleep 0.05
	done
	[ "$(listed mycontainerid)" = stopped ]
	run sbx-oci delete mycontainerid
	assert_status 0
	run sbx-oci list -q
	assert_output ""
}
