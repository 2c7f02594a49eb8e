#!/usr/bin/env bats
# The command line's conventions: every error is printed once, from one
# place, as "sbx: COMMAND: MESSAGE" (a usage error adds "Try 'sbx COMMAND
# --help' for more information."), and every --format takes the same values.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_user_setup
}

# "run", "image ls", ... as `sbx --help` lists them.
commands() {
	sbx --help | sed -n '/^Commands:/,/^$/p' |
		sed -n 's/^  \([a-z]\+\( [a-z]\+\)\?\)  .*/\1/p' | sed 's/ *$//'
}

# The usage exit of every command: 125, as podman's.
usage_exit() {
	echo 125
}

@test "an unknown option of every command: one error, sbx: COMMAND:, the --help hint, the usage exit" {
	local cmd cmds
	mapfile -t cmds < <(commands)
	[ "${#cmds[@]}" -gt 20 ]
	for cmd in "${cmds[@]}"; do
		# runc's command line, with runc's errors (oci-runtime.bats).
		[ "$cmd" != oci ] || continue
		run sbx $cmd --no-such-option </dev/null
		[ "$status" = "$(usage_exit "$cmd")" ] || { echo "$cmd: exit $status: $output" >&2; return 1; }
		[ "$output" = "sbx: $cmd: unknown option '--no-such-option'
Try 'sbx $cmd --help' for more information." ] || { echo "$cmd: $output" >&2; return 1; }
	done
}

@test "bad option values and missing operands are usage errors, printed once" {
	run sbx stop --time soon x
	assert_status 125
	assert_output "sbx: stop: --time \"soon\": a number of seconds is needed
Try 'sbx stop --help' for more information."
	run sbx exec --env =NOKEY x true
	assert_status 125
	assert_output "sbx: exec: --env \"=NOKEY\": expected KEY=VALUE
Try 'sbx exec --help' for more information."
	run sbx exec --workdir rel x true
	assert_status 125
	assert_output "sbx: exec: --workdir \"rel\": must be an absolute path
Try 'sbx exec --help' for more information."
	run sbx image import --max-size lots x y
	assert_status 125
	assert_output "sbx: image import: invalid size 'lots' for --max-size; use e.g. 500M or 20G
Try 'sbx image import --help' for more information."
	run sbx kill
	assert_status 125
	assert_output "sbx: kill: no instance given
Try 'sbx kill --help' for more information."
	run sbx start a b
	assert_status 125
	assert_output "sbx: start: one instance at a time
Try 'sbx start --help' for more information."
	run sbx exec x
	assert_status 125
	assert_output "sbx: exec: an instance and a command are needed
Try 'sbx exec --help' for more information."
	# Not a usage error: the signal is the instance's business.
	run sbx kill x BOGUS
	assert_status 125
	assert_output 'sbx: kill: unknown signal "BOGUS"'
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ]
}

@test "a missing instance: the same error once from every command that takes one, exit 125" {
	local cmd
	for cmd in start stop kill rm inspect logs diff "exec nope true" "commit nope img"; do
		[ "${cmd#* }" = "$cmd" ] && cmd="$cmd nope"
		run sbx $cmd
		assert_status 125
		[ "$output" = "sbx: ${cmd%% *}: instance \"nope\" not found; see 'sbx ps -a'" ] ||
			{ echo "$cmd: $output" >&2; return 1; }
	done
	# One error per operand that fails; the others are done.
	sbx run --name there busybox true
	run bash -c '"$1" rm nope1 there nope2 2>err' _ "$SBX"
	assert_status 125
	assert_output there
	[ "$(cat err)" = "sbx: rm: instance \"nope1\" not found; see 'sbx ps -a'
sbx: rm: instance \"nope2\" not found; see 'sbx ps -a'" ]
	run sbx image rm nope
	assert_status 125
	assert_output 'sbx: image rm: image "nope" not found'
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances")" ]
}

@test "run -d and start that cannot execute: 127, the error once, nothing left by the time sbx returns" {
	run -127 sbx run -d --name d busybox no-such-command
	assert_output 'sbx: run: "no-such-command": executable file not found in $PATH'
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances")" ]
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx")" ]
	# A stored instance is kept, and says how it ended.
	sbx run --name kept busybox true
	cfg=$XDG_DATA_HOME/sbx/instances/kept/config.json
	jq '.process.args = ["no-such-command"]' "$cfg" >cfg.new && mv cfg.new "$cfg"
	run -127 sbx start kept
	assert_output 'sbx: start: "no-such-command": executable file not found in $PATH'
	run sbx ps -a --format json
	[ "$(jq -r '.[0].exit_code' <<<"$output")" = 127 ]
	run -127 sbx start -a kept
	assert_output 'sbx: start: "no-such-command": executable file not found in $PATH'
	sbx rm kept
}

@test "--format: text, table and json for every command that has it" {
	sbx run --name f busybox sh -c 'echo x >/added'
	run sbx ps -a --format text
	assert_status 0
	text=$output
	run sbx ps -a --format table
	assert_status 0
	[ "$output" = "$text" ]
	[ "$(sed -n 2p <<<"$text" | awk '{ print $1 }')" = f ]
	run sbx ps -a --format json
	[ "$(jq -r '.[0].name' <<<"$output")" = f ]
	run sbx image ls --format text
	assert_status 0
	text=$output
	run sbx image ls --format table
	[ "$output" = "$text" ]
	run sbx diff --format table f
	assert_status 0
	assert_output "A /added"
	run sbx diff --format json f
	[ "$(jq -r '.[0].path' <<<"$output")" = /added ]
	run sbx doctor --format table
	text=$output
	run sbx doctor --format text
	[ "$output" = "$text" ]
	for cmd in "diff f" doctor; do
		run sbx $cmd --format yaml
		assert_status 125
		assert_output "sbx: ${cmd% f}: unknown format 'yaml'; use 'text' or 'json'
Try 'sbx ${cmd% f} --help' for more information."
	done
	# ps and image ls take templates too.
	for cmd in ps "image ls"; do
		run sbx $cmd --format yaml
		assert_status 125
		assert_output "sbx: $cmd: unknown format 'yaml'; use 'text', 'json' or a template such as '{{.Name}}'
Try 'sbx $cmd --help' for more information."
	done
	sbx rm f
}
