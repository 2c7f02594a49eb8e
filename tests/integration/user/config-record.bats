#!/usr/bin/env bats
# The config.json sbx run records: its seccomp policy, which sbx run only
# builds once its program is needed and not cached, or once the file is
# written, is the policy sbx spec shows, restricted or not, and sbx exec
# reads it back.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user"
	cd "$BATS_TEST_TMPDIR"
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\n[security]\nrestrict_suid_sgid = false\n' \
		>"$XDG_CONFIG_HOME/sbx/profiles/setid.ini"
}

@test "config.json holds the built-in policy sbx spec shows, restricted or not" {
	for profile in default setid; do
		sbx spec --profile "$profile" busybox | jq -S .linux.seccomp >spec.json
		jq -e '.syscalls | length > 10' spec.json
		# Twice: the program compiled, then from the cache.
		for i in 1 2; do
			sbx run --name "rec-$profile-$i" --profile "$profile" busybox /bin/true
			jq -S .linux.seccomp "$XDG_DATA_HOME/sbx/instances/rec-$profile-$i/config.json" >run.json
			cmp spec.json run.json
		done
	done
	# The two policies differ: the restriction is in one of them.
	[ "$(jq -S .linux.seccomp "$XDG_DATA_HOME/sbx/instances/rec-default-1/config.json")" != \
		"$(jq -S .linux.seccomp "$XDG_DATA_HOME/sbx/instances/rec-setid-1/config.json")" ]
}

@test "sbx exec applies the recorded policy: set-id bits refused, a filter on" {
	sbx run -d --name rec-exec busybox sleep 60
	run sbx exec rec-exec sh -c 'touch /tmp/f; chmod 4755 /tmp/f; echo $?'
	assert_status 0
	[[ $output == *"1" ]]
	run sbx exec rec-exec sh -c 'cat /proc/self/status | grep ^Seccomp:'
	assert_status 0
	assert_output "Seccomp:	2"
	sbx stop -t 1 rec-exec
}
