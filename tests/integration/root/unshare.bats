#!/usr/bin/env bats
# sbx unshare for a user without subordinate ids (issue 12 §3): a clear
# error and exit 125, before anything runs. Root is needed only to be such
# a user (nobody); the rest is in user/unshare.bats.

load ../helpers

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root, dropping to nobody"
	if grep -qE '^(nobody|65534):' /etc/subuid /etc/subgid; then
		fail "nobody has a subordinate range here; this test needs a user without one"
	fi
	DIR=$(mktemp -d /tmp/sbx-unshare.XXXXXX)
	chmod 777 "$DIR"
}

teardown() {
	rm -rf "$DIR"
}

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env -i PATH=/usr/bin:/bin HOME="$DIR" SBX_DATADIR="$SBX_DATADIR" bash -c "cd \$HOME; $1"
}

@test "sbx unshare: a user with no /etc/subuid range gets a clear error, exit 125, and nothing runs" {
	run as_nobody "'$SBX' unshare touch ran"
	assert_status 125
	assert_output "sbx: unshare: no subordinate id range for \"nobody\" in \"/etc/subuid\"; ask an administrator to add one, e.g. 'usermod --add-subuids 100000-165535 --add-subgids 100000-165535 nobody'"
	[ -z "$(ls -A "$DIR")" ]
	# The same for --userns subid, which names the option.
	run as_nobody "'$SBX' -q run --rm --userns subid busybox true"
	assert_status 125
	assert_output "sbx: run: --userns subid: no subordinate id range for \"nobody\" in \"/etc/subuid\"; ask an administrator to add one, e.g. 'usermod --add-subuids 100000-165535 --add-subgids 100000-165535 nobody'"
}

@test "sbx unshare as root: the identity maps --userns subid gives root, no helper" {
	run "$SBX" unshare cat /proc/self/uid_map
	assert_status 0
	[ "$(awk '{ print $1, $2, $3 }' <<<"$output")" = "0 0 65536" ]
}
