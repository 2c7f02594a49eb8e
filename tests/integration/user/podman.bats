#!/usr/bin/env bats
# Podman habits (issue 14): where a flag or a word means the same thing in
# podman, sbx spells it podman's way, and every usage error exits 125.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_user_setup
	cd "$BATS_TEST_TMPDIR"
}

@test "usage errors exit 125: no command, an unknown command, a missing operand, an unknown option" {
	run sbx
	assert_status 125
	[ "${lines[0]}" = "Usage: sbx [-q|-v|--debug] COMMAND [OPTIONS] [ARGS...]" ]
	run sbx bogus
	assert_status 125
	assert_output "sbx: unknown command 'bogus'; did you mean 'logs'?"
	run sbx --bogus
	assert_status 125
	assert_output "sbx: unknown option '--bogus'
Try 'sbx --help' for more information."
	run sbx rm
	assert_status 125
	assert_output "sbx: rm: no instance given
Try 'sbx rm --help' for more information."
	for cmd in ps logs kill; do
		run sbx $cmd --bogus
		assert_status 125
		assert_output "sbx: $cmd: unknown option '--bogus'
Try 'sbx $cmd --help' for more information."
	done
}

@test "-p is --publish, as in podman; --profile has no short form" {
	run --separate-stderr sbx spec --network pasta -p 127.0.0.1:8080:80 -p 8081:81/udp busybox
	assert_status 0
	[ "$(jq -r '.annotations["run.sbx.network.publish"]' <<<"$output")" = "127.0.0.1:8080:80/tcp,8081:81/udp" ]
	# -p takes a port mapping, not a profile name.
	run sbx run --rm -p 8080:80 --network host busybox true
	assert_status 125
	[[ $output != *profile* ]]
	# --profile is long only: -P is no option at all.
	run sbx run -P strict busybox true
	assert_status 125
	assert_output "sbx: run: unknown option '-P'
Try 'sbx run --help' for more information."
	run --separate-stderr sbx spec --profile strict busybox
	assert_status 0
	run -0 sbx run --help
	assert_contains "-p, --publish"
	assert_contains "    --profile NAME"
	[[ $output != *"-p, --profile"* ]]
}

@test "NAME:latest is NAME; another tag is refused, saying why" {
	run -0 sbx run --rm busybox:latest echo ran
	assert_output ran
	run -0 sbx spec busybox:latest
	[ "$(jq -r .root.path <<<"$output")" = "$(sbx spec busybox | jq -r .root.path)" ]
	make_busybox_rootfs tree && echo hi >tree/f
	run -0 sbx -q image import mine:latest tree
	run -0 sbx image ls --format json
	[ "$(jq -r '[.[].name] | sort | join(" ")' <<<"$output")" = "busybox mine" ]
	run -0 sbx spec mine:latest
	mine=$(jq -r .root.path <<<"$output")
	[ "$mine" = "$(sbx spec mine | jq -r .root.path)" ]
	[ "$mine" != "$(sbx spec busybox | jq -r .root.path)" ]
	run -0 sbx run --rm busybox:latest cat /dev/null
	# Another tag is a registry's image, pulled under a name of its own.
	run sbx run --rm busybox:1.36 true
	assert_status 125
	assert_output "sbx: run: no image pulled from \"busybox:1.36\" (docker.io/library/busybox:1.36); pull it with 'sbx pull busybox:1.36' (stored as busybox-1.36, sbx keeps one tag per name) or run with --pull missing"
	run sbx image import mine:v2 tree
	assert_status 125
	assert_output 'sbx: image import: invalid image name "mine:v2": sbx knows one tag per name, "latest" ("mine:latest" is "mine"); for another, put the tag in the name without '"':'"
	# An image an instance stands on is kept, whichever way it is named.
	run -0 sbx run --name on-mine mine:latest cat /f
	assert_output hi
	run sbx image rm mine:latest
	assert_status 125
	assert_output "sbx: image rm: image \"mine:latest\" is the lower layer of instance \"on-mine\"; remove the instance first ('sbx rm on-mine') or keep the image"
	sbx rm on-mine
	run -0 sbx image rm mine:latest
	run -0 sbx image ls --format json
	[ "$(jq -r '[.[].name] | join(" ")' <<<"$output")" = busybox ]
	# An image name is no tag: "latest" alone is a name.
	run sbx image rm latest
	assert_status 125
	assert_output 'sbx: image rm: image "latest" not found'
}

@test "-e KEY passes sbx's own value of KEY; an unset KEY is not set" {
	export SBX_T_SET="from the caller" SBX_T_EMPTY=
	unset SBX_T_UNSET
	run -0 sbx run --rm -e SBX_T_SET -e SBX_T_EMPTY -e SBX_T_UNSET -e SBX_T_KV=x busybox \
		sh -c 'echo "[$SBX_T_SET] [${SBX_T_EMPTY-unset}] [${SBX_T_UNSET-unset}] [$SBX_T_KV]"'
	assert_output "[from the caller] [] [unset] [x]"
	run --separate-stderr sbx spec -e SBX_T_SET -e SBX_T_UNSET busybox
	assert_status 0
	[ "$(jq -r '.process.env[] | select(startswith("SBX_T_"))' <<<"$output")" = "SBX_T_SET=from the caller" ]
	run sbx run --rm -e 1BAD busybox true
	assert_status 125
	assert_output "sbx: run: --env \"1BAD\": expected KEY=VALUE or KEY
Try 'sbx run --help' for more information."
	run sbx exec -e 1BAD x true
	assert_status 125
	assert_output "sbx: exec: --env \"1BAD\": expected KEY=VALUE or KEY
Try 'sbx exec --help' for more information."
	sbx run -d --name e busybox sleep 1000
	run -0 sbx exec -e SBX_T_SET -e SBX_T_UNSET e sh -c 'echo "[$SBX_T_SET] [${SBX_T_UNSET-unset}]"'
	assert_output "[from the caller] [unset]"
	sbx rm -f e
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances")" ]
}

@test "sbx version prints what sbx --version prints" {
	run -0 sbx --version
	want=$output
	[[ $want == "sbx "[0-9]* ]]
	run -0 sbx version
	[ "$output" = "$want" ]
	run sbx version extra
	assert_status 125
	assert_output "sbx: version: takes no argument
Try 'sbx version --help' for more information."
	run -0 sbx help version
	assert_contains "Usage: sbx version"
}

@test "a group lists its commands: sbx image, --help, sbx help image; help works for every command" {
	want="Usage: sbx image COMMAND [OPTIONS] [ARGS...]

Commands:
  ls                 List the stored images.
  rm                 Remove stored images.
  import             Import a directory, a tarball (.tar, .tar.gz, .tar.xz, .tar.zst; - for stdin) or an OCI image layout (DIR or DIR:REF) as an image.
  bootstrap          Build a minimal image from the host's static busybox.
  pull               Pull an image from a registry, with skopeo.
  push               Push an image to a registry, with skopeo.

Run 'sbx image COMMAND --help' for a command's options."
	run --separate-stderr sbx image --help
	assert_status 0
	[ "$output" = "$want" ]
	[ -z "$stderr" ]
	run --separate-stderr sbx help image
	assert_status 0
	[ "$output" = "$want" ]
	run --separate-stderr sbx image
	assert_status 125
	[ -z "$output" ]
	[ "$stderr" = "sbx: image: a command is needed
$want" ]
	run -0 sbx profile --help
	[ "${lines[0]}" = "Usage: sbx profile COMMAND [OPTIONS] [ARGS...]" ]
	for sub in ls show check path; do
		grep -q "^  $sub  " <<<"$output" || { echo "no $sub in: $output" >&2; return 1; }
	done
	run -0 sbx help profile
	[ "${lines[0]}" = "Usage: sbx profile COMMAND [OPTIONS] [ARGS...]" ]
	run sbx image lss
	assert_status 125
	assert_output "sbx: image: unknown command 'lss'; did you mean 'ls'?"
	run sbx help image lss
	assert_status 125
	assert_output "sbx: image: unknown command 'lss'; did you mean 'ls'?"
	run sbx help nosuch
	assert_status 125
	assert_output "sbx: unknown command 'nosuch'"
	# help COMMAND for every command sbx --help lists, groups too.
	local cmd
	while read -r cmd; do
		run sbx help $cmd
		[ "$status" = 0 ] || { echo "sbx help $cmd: $status: $output" >&2; return 1; }
		run sbx help ${cmd%% *}
		[ "$status" = 0 ] || { echo "sbx help ${cmd%% *}: $status: $output" >&2; return 1; }
	done < <(sbx --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z]\+\( [a-z]\+\)\?\)  .*/\1/p' | sed 's/ *$//')
}

@test "abbreviated long options are refused with 'did you mean'; so are near misses" {
	run sbx run --volum /a:/b busybox true
	assert_status 125
	assert_output "sbx: run: unknown option '--volum'; did you mean '--volume'?
Try 'sbx run --help' for more information."
	run sbx run --netw=host busybox true
	assert_status 125
	assert_output "sbx: run: unknown option '--netw'; did you mean '--network'?
Try 'sbx run --help' for more information."
	run sbx run --volumes /a:/b busybox true
	assert_status 125
	assert_output "sbx: run: unknown option '--volumes'; did you mean '--volume'?
Try 'sbx run --help' for more information."
	run sbx ps --al
	assert_status 125
	assert_output "sbx: ps: unknown option '--al'; did you mean '--all'?
Try 'sbx ps --help' for more information."
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ]
}

@test "bad --userns and --overlay values: the message without a stray errno text" {
	run sbx run --rm --network bogus busybox true
	assert_status 125
	assert_output 'sbx: run: --network "bogus": expected none, host, pasta, slirp4netns or auto'
	run sbx run --rm --userns bogus busybox true
	assert_status 125
	assert_output 'sbx: run: --userns "bogus": expected single or subid'
	run sbx run --rm --overlay bogus busybox true
	assert_status 125
	assert_output 'sbx: run: --overlay "bogus": expected auto, kernel or fuse'
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ]
}

@test "rm -f ignores missing names, as image rm -f does; without -f they are errors" {
	run -0 sbx rm -f nosuch
	assert_output ""
	sbx run --name there busybox true
	run -0 sbx rm -f nope1 there nope2
	assert_output there
	run sbx rm nosuch
	assert_status 125
	assert_output "sbx: rm: instance \"nosuch\" not found; see 'sbx ps -a'"
	# An invalid name is still an error.
	run sbx rm -f ../x
	assert_status 125
	[[ $output == "sbx: rm: "* ]]
	run -0 sbx image rm -f nosuch
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances")" ]
}
