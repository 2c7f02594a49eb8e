#!/usr/bin/env bats
# sbx-oci's command line, parsed from sbx's option tables (cmd-oci.c): runc's
# spellings, the usage errors, and --help made from the same rows. No
# container runs here: each command is given an ID that does not exist, so
# that reaching that error shows every option before it was accepted.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	cd "$BATS_TEST_TMPDIR"
	OCI=$SBX_TOP/build/sbx-oci
	ROOT=$BATS_TEST_TMPDIR/oci-root
}

oci() { "$OCI" --root "$ROOT" "$@"; }

# --root holds nothing.
assert_root_empty() {
	if [ -d "$ROOT" ]; then
		run ls -A "$ROOT"
		assert_output ""
	fi
}

@test "runc's spellings: global options, then each command's, long, short, clustered and with '='" {
	run -0 "$OCI" --root "$ROOT" --log "$PWD/log" --log-format json --systemd-cgroup \
		--cgroup-manager cgroupfs --rootless --rootless=auto --criu /usr/sbin/criu list -q
	assert_output ""
	run -0 "$OCI" --root="$ROOT" --log-format=text list --format=json
	assert_output "[]"
	run -0 oci list -f json
	assert_output "[]"
	run -0 oci list --quiet --format table
	assert_output ""
	run oci exec -d -t --pid-file p --console-socket s --cwd /x -e A=B --env C=D -u 1:2 \
		--user 3 --no-new-privs --preserve-fds 0 nope true
	assert_status 125
	assert_output 'sbx-oci: exec: container "nope" does not exist'
	run oci exec -dt --console-socket s -eA=B nope true
	assert_status 125
	assert_output 'sbx-oci: exec: container "nope" does not exist'
	echo '{}' >p.json
	run oci exec -p p.json nope
	assert_status 125
	assert_output 'sbx-oci: exec: container "nope" does not exist'
	run oci exec --process=p.json nope
	assert_status 125
	assert_output 'sbx-oci: exec: container "nope" does not exist'
	run oci create -b "$PWD/missing" --pid-file p --console-socket s --preserve-fds 0 \
		--no-pivot --no-new-keyring --no-subreaper c1
	assert_status 125
	assert_output "sbx-oci: create: cannot use the bundle \"$PWD/missing\": No such file or directory"
	run oci run -d --bundle="$PWD/missing" --no-subreaper c1
	assert_status 125
	assert_output "sbx-oci: run: cannot use the bundle \"$PWD/missing\": No such file or directory"
	run oci kill -a nope 9
	assert_status 125
	assert_output 'sbx-oci: kill: container "nope" does not exist'
	run oci kill --all nope KILL
	assert_status 125
	assert_output 'sbx-oci: kill: container "nope" does not exist'
	run oci delete -f nope
	assert_status 125
	assert_output 'sbx-oci: delete: container "nope" does not exist'
	run oci ps -f json nope
	assert_status 125
	assert_output 'sbx-oci: ps: container "nope" does not exist'
	run oci update --memory 1m --memory-swap 2m --memory-reservation 1m --pids-limit 5 \
		--cpu-share 2 --cpu-quota 1000 --cpu-period 10000 --cpuset-cpus 0 --cpuset-mems 0 \
		--blkio-weight 100 nope
	assert_status 125
	assert_output 'sbx-oci: update: container "nope" does not exist'
	mkdir b
	run -0 oci spec --rootless -b b
	[ "$(jq -r '[.linux.namespaces[].type] | index("user") != null' b/config.json)" = true ]
	assert_root_empty
}

@test "usage errors: exit 125, 'PROG: COMMAND: message', in --log too, nothing under --root" {
	run oci list --bogus
	assert_status 125
	assert_output "sbx-oci: list: unknown option '--bogus'"
	run "$OCI" --bogus list
	assert_status 125
	assert_output "sbx-oci: unknown option '--bogus'"
	# No prefix of a name: runc takes none, and one can change meaning.
	run oci list --forma json
	assert_status 125
	assert_output "sbx-oci: list: unknown option '--forma'; did you mean '--format'?"
	run "$OCI" --roo "$ROOT" list
	assert_status 125
	assert_output "sbx-oci: unknown option '--roo'; did you mean '--root'?"
	run oci exec -x nope true
	assert_status 125
	assert_output "sbx-oci: exec: unknown option '-x'"
	run oci exec --process
	assert_status 125
	assert_output "sbx-oci: exec: option '--process' needs an argument"
	run oci exec -p
	assert_status 125
	assert_output "sbx-oci: exec: option '-p' needs an argument"
	run "$OCI" --root
	assert_status 125
	assert_output "sbx-oci: option '--root' needs an argument"
	# run's -d is not create's; spec's --rootless has no -r.
	run oci create -d c1
	assert_status 125
	assert_output "sbx-oci: create: unknown option '-d'"
	run oci create --detach c1
	assert_status 125
	assert_output "sbx-oci: create: unknown option '--detach'"
	run oci spec -r
	assert_status 125
	assert_output "sbx-oci: spec: unknown option '-r'"
	# Options come before the operands, as runc has them.
	run oci delete nope --force
	assert_status 125
	assert_output "sbx-oci: delete: too many arguments, expected a container ID"
	run oci list --format xml
	assert_status 125
	assert_output "sbx-oci: list: unknown format 'xml'; use 'table' or 'json'"
	run oci update --memory lots nope
	assert_status 125
	assert_output "sbx-oci: update: --memory 'lots' is not a size (-1: no limit)"
	run oci create --preserve-fds many c1
	assert_status 125
	assert_output "sbx-oci: create: --preserve-fds 'many' is not a number of fds"
	run oci exec --preserve-fds many nope true
	assert_status 125
	assert_output "sbx-oci: exec: --preserve-fds 'many' is not a number of fds"
	run oci exec --apparmor p nope true
	assert_status 125
	assert_output "sbx-oci: exec: --apparmor: not supported by sbx-oci"
	run oci exec -c CAP_KILL nope true
	assert_status 125
	assert_output "sbx-oci: exec: --cap: not supported by sbx-oci"
	run "$OCI" --rootless=maybe list
	assert_status 125
	assert_output "sbx-oci: --rootless 'maybe': use true, false or auto"
	run "$OCI" --cgroup-manager=cgroupv3 list
	assert_status 125
	assert_output "sbx-oci: unknown cgroup manager 'cgroupv3'; use cgroupfs, systemd or disabled"
	# sbx oci names itself so.
	run "$SBX_TOP/build/sbx" oci --root "$ROOT" list --bogus
	assert_status 125
	assert_output "sbx oci: list: unknown option '--bogus'"
	# The error is logged, as containerd reads it.
	run "$OCI" --root "$ROOT" --log "$PWD/log" --log-format json kill --bogus nope
	assert_status 125
	[ "$(jq -r '"\(.level) \(.msg)"' log)" = "error unknown option '--bogus'" ]
	assert_root_empty
}

@test "--help: the commands and each command's options, from the table; no command is a usage error" {
	run -0 "$OCI" --help
	[ "${lines[0]}" = "Usage: sbx-oci [OPTIONS] COMMAND [ARGS...]" ]
	for c in create start run exec state list kill ps delete pause resume update spec features; do
		grep -qE "^  $c +[a-z]" <<<"$output" || { echo "--help lacks $c" >&2; return 1; }
	done
	for o in --root --log --log-format --systemd-cgroup --cgroup-manager --rootless; do
		grep -qE -- "^ +$o( |\[|$)" <<<"$output" || { echo "--help lacks $o" >&2; return 1; }
	done
	run -0 "$OCI" -h
	[ "${lines[0]}" = "Usage: sbx-oci [OPTIONS] COMMAND [ARGS...]" ]
	run -0 "$OCI" exec --help
	[ "${lines[0]}" = "Usage: sbx-oci exec [OPTIONS] ID [COMMAND [ARG...]]" ]
	grep -qE -- '^  -p, --process FILE ' <<<"$output"
	grep -qE -- '^      --preserve-fds N ' <<<"$output"
	run -0 "$OCI" --root "$ROOT" kill -h
	[ "${lines[0]}" = "Usage: sbx-oci kill [OPTIONS] ID [SIGNAL]" ]
	grep -qE -- '^  -a, --all ' <<<"$output"
	run -0 "$SBX_TOP/build/sbx" oci delete --help
	[ "${lines[0]}" = "Usage: sbx oci delete [OPTIONS] ID" ]
	grep -qE -- '^  -f, --force ' <<<"$output"
	run -0 "$SBX_TOP/build/sbx" help oci
	[ "${lines[0]}" = "Usage: sbx oci [OPTIONS] COMMAND [ARGS...]" ]
	run "$OCI"
	assert_status 125
	[ "${lines[0]}" = "Usage: sbx-oci [OPTIONS] COMMAND [ARGS...]" ]
	run -0 "$OCI" --version
	[ "${lines[0]}" = "sbx-oci version $(sbx --version | cut -d' ' -f2)" ]
	assert_root_empty
}
