#!/usr/bin/env bats
# Issue 12 §3: under --userns subid the payload can give a writable volume's
# files to subordinate ids and take their modes away, after which the user
# can neither read nor remove them. `sbx unshare` runs a command as root of
# the same id maps, which gives them back; `sbx run` warns about such
# volumes. (A user without a range: root/unshare.bats.)

load ../helpers

bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user"
	command -v newuidmap >/dev/null || fail "newuidmap is missing: run 'make deps'"
	RANGE=$(grep "^$(id -un):" /etc/subuid | head -n1)
	GRANGE=$(grep "^$(id -un):" /etc/subgid | head -n1)
	[ -n "$RANGE" ] && [ -n "$GRANGE" ] || fail "no /etc/subuid or /etc/subgid range for $(id -un)"
	cd "$BATS_TEST_TMPDIR"
	sbx image bootstrap busybox >/dev/null 2>&1
}

teardown() {
	# What a failed test left owned by subordinate ids.
	[ ! -e "$BATS_TEST_TMPDIR/vol" ] || "$SBX" unshare chown -R 0:0 "$BATS_TEST_TMPDIR/vol" 2>/dev/null || true
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# The attack as it was demonstrated.
take_away() {
	mkdir -p vol/sub
	echo 'my notes' >vol/notes
	echo 'deeper' >vol/sub/file
	run sbx -q run --rm --userns subid -v "$PWD/vol:/vol" busybox \
		sh -c 'chown -R 1000:1000 /vol; chmod -R go-rwx /vol'
	assert_status 0
	# The files now belong to subordinate id 1000, mode 0700/0600...
	local start=${RANGE#*:}
	start=${start%%:*}
	[ "$(stat -c '%u %a' vol)" = "$((start + 999)) 700" ]
	# ...and are out of the user's reach.
	run cat vol/notes
	assert_status 1
	assert_output "cat: vol/notes: Permission denied"
	run rm -rf vol
	[ "$status" -ne 0 ]
	assert_contains "Permission denied"
}

@test "a payload takes a volume's files away; sbx unshare chown -R 0:0 gives them back" {
	take_away
	run sbx unshare chown -R 0:0 "$PWD/vol"
	assert_status 0
	assert_output ""
	run -0 stat -c '%n %u %g %a' vol vol/notes vol/sub vol/sub/file
	assert_output "vol $(id -u) $(id -g) 700
vol/notes $(id -u) $(id -g) 600
vol/sub $(id -u) $(id -g) 700
vol/sub/file $(id -u) $(id -g) 600"
	# Mode 0700 is the owner's own: the user reads, changes and removes.
	run cat vol/notes vol/sub/file
	assert_status 0
	assert_output "my notes
deeper"
	echo more >>vol/notes
	rm -rf vol
	[ ! -e vol ]
}

@test "sbx unshare rm -rf removes what the payload took away" {
	take_away
	run sbx unshare rm -rf "$PWD/vol"
	assert_status 0
	assert_output ""
	[ ! -e vol ]
}

@test "sbx unshare runs as root of the --userns subid maps: the caller as 0, the ranges from 1" {
	run sbx unshare id -u
	assert_status 0
	assert_output 0
	IFS=: read -r _ start count <<<"$RANGE"
	IFS=: read -r _ gstart gcount <<<"$GRANGE"
	run sbx unshare cat /proc/self/uid_map
	assert_status 0
	[ "$(awk '{ print $1, $2, $3 }' <<<"$output")" = "0 $(id -u) 1
1 $start $count" ]
	run sbx unshare cat /proc/self/gid_map
	assert_status 0
	[ "$(awk '{ print $1, $2, $3 }' <<<"$output")" = "0 $(id -g) 1
1 $gstart $gcount" ]
	# The same maps as a --userns subid sandbox's.
	run sbx run --rm --userns subid busybox cat /proc/self/uid_map
	assert_status 0
	[ "$(awk '{ print $1, $2, $3 }' <<<"$output")" = "0 $(id -u) 1
1 $start $count" ]
}

@test "sbx unshare keeps the caller's environment and adds SBX_UNSHARE=1" {
	run env FOO='a b' "$SBX" unshare -- sh -c 'echo "$SBX_UNSHARE/$FOO/$HOME/$(pwd)"'
	assert_status 0
	assert_output "1/a b/$HOME/$BATS_TEST_TMPDIR"
}

@test "sbx unshare without a command runs \$SHELL, else /bin/sh" {
	printf '#!/bin/sh\necho "my shell: $(id -u) $SBX_UNSHARE"\n' >myshell
	chmod +x myshell
	run env SHELL="$PWD/myshell" "$SBX" unshare
	assert_status 0
	assert_output "my shell: 0 1"
	run env -u SHELL "$SBX" unshare <<<'echo "sh: $(id -u)"; exit 3'
	assert_status 3
	assert_output "sh: 0"
}

@test "sbx unshare: the command's exit status, 128+N for a signal, 126/127, 125 for its own errors" {
	run sbx unshare sh -c 'exit 7'
	assert_status 7
	run sbx unshare -- sh -c 'exit 0'
	assert_status 0
	run sbx unshare sh -c 'kill -TERM $$'
	assert_status 143
	run -127 sbx unshare /nonexistent
	assert_output 'sbx: unshare: cannot execute "/nonexistent": No such file or directory'
	run -127 sbx unshare no-such-command-here
	assert_output 'sbx: unshare: "no-such-command-here": executable file not found in $PATH'
	printf 'echo hi\n' >notexec
	run sbx unshare ./notexec
	assert_status 126
	assert_output 'sbx: unshare: cannot execute "./notexec": Permission denied'
	run sbx unshare --bogus true
	assert_status 125
	assert_output "sbx: unshare: unknown option '--bogus'
Try 'sbx unshare --help' for more information."
}

@test "sbx unshare is listed in --help and completed as a command" {
	run -0 sbx --help
	assert_contains "  unshare            Run a command as root of your --userns subid user namespace."
	run sbx __complete -- unsh
	assert_status 0
	assert_output unshare
}

@test "--userns subid with a writable volume warns once, naming the fix" {
	mkdir -p vol other ro
	run --separate-stderr sbx run --rm --userns subid -v "$PWD/vol:/vol" busybox true
	assert_status 0
	[ "$stderr" = "sbx: warning: with --userns subid, the sandbox can give the files in the writable volume \"$PWD/vol\" to your subordinate ids, and you could then no longer read or remove them; 'sbx unshare chown -R 0:0 $PWD/vol' gives them back" ]
	# Several writable volumes: one warning for all; :ro ones are left out.
	run --separate-stderr sbx run --rm --userns subid -v "$PWD/vol:/vol" -v "$PWD/ro:/ro:ro" \
		-v "$PWD/other:/other" busybox true
	assert_status 0
	[ "$stderr" = "sbx: warning: with --userns subid, the sandbox can give the files in the writable volumes \"$PWD/vol\", \"$PWD/other\" to your subordinate ids, and you could then no longer read or remove them; 'sbx unshare chown -R 0:0 PATH' gives them back" ]
	# A path a shell would split is quoted in the command.
	mkdir "my vol"
	run --separate-stderr sbx run --rm --userns subid -v "$PWD/my vol:/vol" busybox true
	assert_status 0
	[[ $stderr == *"'sbx unshare chown -R 0:0 \"$PWD/my vol\"' gives them back" ]]
	# sbx profile check lists it for a profile that asks for both.
	printf '[profile]\ninherit = default\n[namespaces]\nuser = subid\n[filesystem]\nvolume = %s/vol:/vol\n' "$PWD" >p.ini
	run --separate-stderr sbx profile check ./p.ini
	assert_status 0
	[ "$stderr" = "./p.ini: warning: [filesystem] with --userns subid, the sandbox can give the files in the writable volume \"$PWD/vol\" to your subordinate ids, and you could then no longer read or remove them; 'sbx unshare chown -R 0:0 $PWD/vol' gives them back" ]
}

@test "no warning for read-only volumes, without --userns subid, or with -q" {
	mkdir -p vol
	run --separate-stderr sbx run --rm --userns subid -v "$PWD/vol:/vol:ro" busybox true
	assert_status 0
	[ -z "$stderr" ]
	run --separate-stderr sbx run --rm -v "$PWD/vol:/vol" busybox true
	assert_status 0
	[ -z "$stderr" ]
	run --separate-stderr sbx -q run --rm --userns subid -v "$PWD/vol:/vol" busybox true
	assert_status 0
	[ -z "$stderr" ]
}
