#!/usr/bin/env bats
# sbx doctor as an unprivileged user on the build machine as it is (no
# stock-host): user namespaces and the kernel overlay work; /dev/fuse and
# /dev/net/tun are root's only here, so those checks warn with their fix.
# Where a line does not depend on the machine, it is asserted exactly.

load ../helpers
bats_require_minimum_version 1.5.0

CHECKS="userns uidmap subids overlay fuse network tun registry cgroup seccomp landlock runtime-dir disk binary"

setup() {
	sbx_setup
	cd "$BATS_TEST_TMPDIR"
}

# The line of one check in the text output.
line_of() {
	grep -E "^(OK|WARN|FAIL) +$1 " <<<"$output"
}

# The expected line for a device check, from what this user can do with it.
device_line() { # check device what-needs-it
	local check=$1 dev=$2 needs=$3
	if [ -r "$dev" ] && [ -w "$dev" ]; then
		return 1
	fi
	local mode uid
	mode=$(stat -c %04a "$dev")
	uid=$(stat -c %u "$dev")
	printf 'WARN  %-11s  %s is not usable (Permission denied; mode %s, owner uid %s); %s  fix: chmod 0666 %s (udev does this on a stock system)\n' \
		"$check" "$dev" "$mode" "$uid" "$needs" "$dev"
}

@test "one line per check, in order, each OK, WARN or FAIL with its name" {
	run sbx doctor
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 14 ]
	names=$(awk '{ print $2 }' <<<"$output" | tr '\n' ' ')
	[ "$names" = "$CHECKS " ]
	[ -z "$(grep -vE '^(OK  |WARN|FAIL)  [a-z-]+ +[^ ]' <<<"$output")" ]
	# A fix comes with every WARN and FAIL, and only with them.
	[ -z "$(grep -E '^(WARN|FAIL) ' <<<"$output" | grep -v '  fix: ')" ]
	[ -z "$(grep -E '^OK ' <<<"$output" | grep '  fix: ')" ]
}

@test "user namespaces and the kernel overlay work here, and nothing fails" {
	run sbx doctor
	assert_status 0
	[[ $(line_of userns) =~ ^OK\ +userns\ +unprivileged\ user\ namespaces\ work\ \(user\.max_user_namespaces=[0-9]+\)$ ]]
	[ "$(line_of overlay)" = "OK    overlay      kernel overlayfs works in a user namespace (userxattr)" ]
	[ -z "$(grep '^FAIL' <<<"$output")" ]
	# The overlay test directory is gone again.
	[ -z "$(find "$XDG_DATA_HOME" "$HOME/.local/share" -maxdepth 2 -name '.sbx-doctor-*' 2>/dev/null)" ]
}

@test "fuse and tun: a warning with the exact fix when the devices are root's only" {
	run -0 sbx doctor
	want=$(device_line fuse /dev/fuse "overlay = fuse needs it") || skip "/dev/fuse is usable here"
	[ "$(line_of fuse)" = "$want" ] || { printf 'want: %s\ngot:  %s\n' "$want" "$(line_of fuse)" >&2; return 1; }
	want=$(device_line tun /dev/net/tun "network modes pasta, slirp4netns and auto need it") ||
		skip "/dev/net/tun is usable here"
	[ "$(line_of tun)" = "$want" ] || { printf 'want: %s\ngot:  %s\n' "$want" "$(line_of tun)" >&2; return 1; }
}

@test "the lines that depend only on the installed packages and this user" {
	run -0 sbx doctor
	[ "$(line_of uidmap)" = "OK    uidmap       /usr/bin/newuidmap and /usr/bin/newgidmap are installed (setuid root)" ]
	[ "$(line_of network)" = "OK    network      /usr/bin/pasta and /usr/bin/slirp4netns are installed" ]
	[ "$(line_of registry)" = "OK    registry     /usr/bin/skopeo is installed" ]
	read -r start count < <(awk -F: -v u="$(id -un)" '$1 == u { print $2, $3; exit }' /etc/subuid)
	read -r gstart gcount < <(awk -F: -v u="$(id -un)" '$1 == u { print $2, $3; exit }' /etc/subgid)
	[ "$(line_of subids)" = "OK    subids       $(id -un) has $count subordinate uids (from $start) and $gcount gids (from $gstart)" ]
	[ "$(line_of runtime-dir)" = "OK    runtime-dir  XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR is yours, mode 0700" ]
	[ "$(line_of binary)" = "OK    binary       $SBX has no set-id bits and no file capabilities" ]
	[[ $(line_of seccomp) == "OK    seccomp      seccomp filters are available (actions: "*errno*")" ]]
	[[ $(line_of disk) == "OK    disk         "*" GiB free under $XDG_DATA_HOME" ]]
	[[ $(line_of landlock) =~ ^(OK\ +landlock\ +Landlock\ ABI\ [0-9]+|WARN\ +landlock\ .*fix:\ .*)$ ]]
	[[ $(line_of cgroup) =~ ^(OK|WARN)\ +cgroup\  ]]
}

@test "--format json: an array with every check, matching the text output" {
	run -0 sbx doctor
	text=$output
	run sbx doctor --format json
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jq -r 'map(.check) | join(" ")' <<<"$json")" = "$CHECKS" ]
	jq -e 'all(.[]; (keys == ["check", "fix", "message", "status"])
		and (.status | IN("ok", "warn", "fail"))
		and (.message | type == "string")
		and (if .status == "ok" then .fix == null else (.fix | type == "string") end))' <<<"$json" >/dev/null
	# The same findings as the text, line by line.
	from_json=$(jq -r '.[] | "\(.status | ascii_upcase)|\(.check)|\(.message)|\(.fix // "")"' <<<"$json")
	from_text=$(sed -E 's/^([A-Z]+) +([a-z-]+) +(.*)$/\1|\2|\3/; s/  fix: (.*)$/|\1/; /\|[^|]*\|[^|]*\|/!s/$/|/' <<<"$text")
	[ "$from_json" = "$from_text" ] || { diff <(echo "$from_text") <(echo "$from_json") >&2; return 1; }
}

@test "--quiet prints only what is not OK" {
	run -0 sbx doctor
	want=$(grep -v '^OK' <<<"$output" || true)
	run -0 sbx doctor -q
	assert_output "$want"
	run -0 sbx doctor --quiet --format json
	jq -e 'all(.[]; .status != "ok")' <<<"$output" >/dev/null
}

@test "a failing check: exit 1 and the fix, with user namespaces disabled" {
	# In a user namespace of our own, the limit is ours to set to 0.
	run unshare -Ur sh -c 'echo 0 >/proc/sys/user/max_user_namespaces && exec "$1" doctor' _ "$SBX"
	assert_status 1
	[ "$(line_of userns)" = "FAIL  userns       user namespaces are disabled (user.max_user_namespaces=0)  fix: sysctl -w user.max_user_namespaces=15000" ]
	# The overlay cannot be tried either; fuse-overlayfs decides FAIL or WARN.
	overlay=$(line_of overlay)
	[[ ${overlay:6} == "overlay      kernel overlayfs in a user namespace does not work here: unshare(CLONE_NEWUSER|CLONE_NEWNS) failed: No space left on device"*"  fix: see the userns check" ]]
}

@test "runtime-dir: unset or shared, a warning with the fix" {
	run -0 env -u XDG_RUNTIME_DIR "$SBX" doctor
	[ "$(line_of runtime-dir)" = "WARN  runtime-dir  XDG_RUNTIME_DIR is not set; live state goes to $XDG_CACHE_HOME/sbx/run  fix: log in through pam_systemd, or export XDG_RUNTIME_DIR=DIR for a directory of yours with mode 0700" ]
	mkdir -m 0755 rt
	run -0 env XDG_RUNTIME_DIR="$PWD/rt" "$SBX" doctor
	[ "$(line_of runtime-dir)" = "WARN  runtime-dir  XDG_RUNTIME_DIR=$PWD/rt has mode 0755, not 0700  fix: chmod 700 $PWD/rt" ]
}

@test "colour only on a terminal, and never with NO_COLOR" {
	run -0 sbx doctor
	[[ $output != *$'\e['* ]]
	# TERM=dumb (as CI may have it) rightly means no colour either.
	run -0 env TERM=dumb script -qec "'$SBX' doctor" /dev/null
	[[ $output != *$'\e['* ]]
	run -0 env TERM=xterm script -qec "'$SBX' doctor" /dev/null
	[[ $output == *$'\e[32mOK\e[0m'* ]]
	run -0 env TERM=xterm NO_COLOR=1 script -qec "'$SBX' doctor" /dev/null
	[[ $output != *$'\e['* ]]
	[[ $output == *"OK    userns"* ]]
}

@test "misuse: exit 2 and a pointer to --help" {
	run sbx doctor --format yaml
	assert_status 125
	assert_contains "unknown format 'yaml'"
	assert_contains "sbx doctor --help"
	run sbx doctor extra
	assert_status 125
}

@test "binary: a warning when you can replace sbx or its helpers, as in a build tree of yours" {
	mkdir bin
	cp "$SBX" "$SBX_TOP/build/sbx-init" "$SBX_TOP/build/sbx-unpack" bin/
	exe=$(realpath bin/sbx)
	run -0 bin/sbx doctor
	[ "$(line_of binary)" = "WARN  binary       $exe can be replaced by you (\"$exe\" is writable by you): a payload that got out could plant a program that your next sbx command runs  fix: install sbx as root, e.g. 'sudo make install'" ] ||
		{ echo "got: $(line_of binary)" >&2; return 1; }
}

@test "registry: a warning with the fix when skopeo is not installed" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	for t in pasta slirp4netns newuidmap newgidmap fuse-overlayfs; do
		p=$(command -v "$t") && ln -s "$p" "$BATS_TEST_TMPDIR/bin/$t"
	done
	run env PATH="$BATS_TEST_TMPDIR/bin" "$SBX" doctor
	[ "$(line_of registry)" = "WARN  registry     skopeo is not installed; sbx pull, sbx push and run --pull need it  fix: apt-get install skopeo" ]
}
