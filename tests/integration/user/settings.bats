#!/usr/bin/env bats
# The settings added through the settings table (issue 14): [process] umask
# and --umask, -u for --user, --entrypoint, --env-file, and --memory,
# --pids-limit and --cpus on the profile's [limits]; "did you mean" for
# values; the completions' descriptions. Every error exits 125 and leaves
# no instance behind.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_user_setup
	cd "$BATS_TEST_TMPDIR"
}

no_instances() {
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ] ||
		{ echo "instances left: $(ls -A "$XDG_DATA_HOME/sbx/instances")" >&2; return 1; }
}

# ---- umask ----

@test "--umask and [process] umask set the payload's umask; without them it keeps sbx's" {
	run -0 sbx run --rm --umask 0027 busybox sh -c umask
	assert_output 0027
	run -0 sbx run --rm --umask 77 busybox sh -c umask
	assert_output 0077
	printf '[profile]\ninherit = default\n[process]\numask = 0007\n' >u.ini
	run -0 sbx run --rm --profile ./u.ini busybox sh -c umask
	assert_output 0007
	# The option overrides the profile.
	run -0 sbx run --rm --profile ./u.ini --umask 0022 busybox sh -c umask
	assert_output 0022
	run -0 sbx profile show ./u.ini
	assert_contains "umask = 0007"
	run -0 sbx spec --umask 0027 busybox
	[ "$(jq .process.user.umask <<<"$output")" = 23 ]
	# Not set: sbx's own umask, and nothing in the config.
	run -0 sbx spec busybox
	[ "$(jq .process.user.umask <<<"$output")" = null ]
	run -0 sh -c "umask 0002; exec '$SBX' run --rm busybox sh -c umask"
	assert_output 0002
}

@test "a bad umask: the option's and the key's messages, exit 125, nothing left" {
	for bad in 999 0800 abc 01777 ""; do
		run sbx run --rm --umask "$bad" busybox true
		assert_status 125
		assert_output "sbx: run: --umask \"$bad\": expected an octal mode from 0000 to 0777, such as 0022 or 0077"
	done
	printf '[process]\numask = 8\n' >bad.ini
	run sbx run --profile ./bad.ini busybox true
	assert_status 125
	assert_output "./bad.ini:2: error: invalid umask \"8\": expected an octal mode from 0000 to 0777, such as 0022 or 0077
sbx: run: profile \"./bad.ini\" has 1 error"
	no_instances
}

# ---- -u ----

@test "-u is --user, as in podman" {
	run -0 sbx run --rm -u 0:0 busybox id -u
	assert_output 0
	run -0 sbx spec -u root busybox
	[ "$(jq .process.user.uid <<<"$output")" = 0 ]
	run sbx run --rm -u :1 busybox true
	assert_status 125
	assert_output "sbx: run: --user \":1\": expected UID[:GID] or NAME[:GROUP]"
	run -0 sbx run --help
	assert_contains "  -u, --user USER[:GROUP]"
	no_instances
}

# ---- --entrypoint ----

@test "--entrypoint replaces the command's head: the words after the image are its arguments" {
	run -0 sbx run --rm --entrypoint /bin/echo busybox hi there
	assert_output "hi there"
	run -0 sbx spec --entrypoint /bin/echo busybox hi
	[ "$(jq -c .process.args <<<"$output")" = '["/bin/echo","hi"]' ]
	# Without words, the entrypoint alone, not the image's command after it.
	run -0 sbx spec --entrypoint /bin/true busybox
	[ "$(jq -c .process.args <<<"$output")" = '["/bin/true"]' ]
	# One program, not split at blanks.
	run -0 sbx spec --entrypoint "/bin/echo a" busybox
	[ "$(jq -c .process.args <<<"$output")" = '["/bin/echo a"]' ]
}

@test "--entrypoint takes podman's JSON array too: the program and its first arguments" {
	run -0 sbx run --rm --entrypoint '["/bin/sh","-c","echo \"$0\" $1"]' busybox "a  b" c
	assert_output "a  b c"
	run -0 sbx spec --entrypoint '["/bin/echo", "x y", ""]' busybox z
	[ "$(jq -c .process.args <<<"$output")" = '["/bin/echo","x y","","z"]' ]
	run -0 sbx spec --entrypoint '["/bin/true"]' busybox
	[ "$(jq -c .process.args <<<"$output")" = '["/bin/true"]' ]
	# Only what starts with '[' is JSON.
	run -0 sbx spec --entrypoint '"/bin/echo"' busybox
	[ "$(jq -c .process.args <<<"$output")" = '["\"/bin/echo\""]' ]
}

@test "a bad JSON --entrypoint is refused, exit 125, nothing left" {
	run sbx run --rm --entrypoint '[/bin/sh]' busybox true
	assert_status 125
	assert_output "sbx: run: --entrypoint \"[/bin/sh]\": not a JSON array of strings: invalid token near '/'"
	run sbx run --rm --entrypoint '["/bin/sh", 1]' busybox true
	assert_status 125
	assert_output 'sbx: run: --entrypoint "[\"/bin/sh\", 1]": not a JSON array of strings'
	run sbx run --rm --entrypoint '[]' busybox true
	assert_status 125
	assert_output 'sbx: run: --entrypoint "[]": expected a command'
	run sbx run --rm --entrypoint '["", "-c"]' busybox true
	assert_status 125
	assert_output 'sbx: run: --entrypoint "[\"\", \"-c\"]": expected a command'
	run sbx run --rm --entrypoint '["/bin/sh", "\u001b"]' busybox true
	assert_status 125
	assert_output 'sbx: run: --entrypoint "[\"/bin/sh\", \"\\u001b\"]": the command contains a control character'
	no_instances
}

@test "--entrypoint \"\" clears the image's command, as podman's: the words are the command" {
	# An image whose command is an entrypoint and its arguments.
	make_busybox_rootfs ep/rootfs
	umoci init --layout ep/layout
	umoci new --image ep/layout:latest
	umoci unpack --rootless --image ep/layout:latest ep/bundle
	cp -a ep/rootfs/. ep/bundle/rootfs/
	umoci repack --image ep/layout:latest ep/bundle
	umoci config --image ep/layout:latest --config.entrypoint /bin/echo --config.cmd from-image
	run -0 sbx image import -q ep ep/layout
	run -0 sbx run --rm ep
	assert_output from-image
	run -0 sbx run --rm --entrypoint "" ep /bin/echo mine
	assert_output mine
	run -0 sbx spec --entrypoint "" ep /bin/echo mine
	[ "$(jq -c .process.args <<<"$output")" = '["/bin/echo","mine"]' ]
	run -0 sbx spec --entrypoint '[""]' ep /bin/true
	[ "$(jq -c .process.args <<<"$output")" = '["/bin/true"]' ]
	# Without words: sbx's shell, as for an image without a command.
	run -0 sbx spec --entrypoint "" ep
	[ "$(jq -c .process.args <<<"$output")" = '["/bin/sh"]' ]
	run -0 sbx run --rm --entrypoint "" ep sh -c 'echo "$0"' shell
	assert_output shell
	run -0 sbx image rm ep
	no_instances
}

@test "a control character in --entrypoint is refused, exit 125, nothing left" {
	run sbx run --rm --entrypoint $'/bin/echo\033' busybox true
	assert_status 125
	assert_output 'sbx: run: --entrypoint "/bin/echo\x1b": the command contains a control character'
	no_instances
}

# ---- --env-file ----

@test "--env-file: KEY=VALUE as it is, KEY alone from sbx's environment, comments and blanks" {
	cat >env.list <<-'EOF'
		# a comment
		A=1

		  B=two words
		C= spaced =x
		FROM_CALLER
		NOT_IN_CALLER
		  # indented comment
		A=3
	EOF
	FROM_CALLER=yes run -0 sbx run --rm --env-file env.list busybox env
	assert_contains "A=3"
	assert_contains "B=two words"
	assert_contains "C= spaced =x"
	assert_contains "FROM_CALLER=yes"
	[[ $output != *NOT_IN_CALLER* ]]
	# In command-line order with --env: the later one wins.
	run -0 sbx run --rm -e A=0 --env-file env.list busybox sh -c 'echo $A'
	assert_output 3
	run -0 sbx run --rm --env-file env.list -e A=0 busybox sh -c 'echo $A'
	assert_output 0
}

@test "--env-file errors: every bad line as FILE:LINE, a missing file, exit 125, nothing left" {
	printf 'GOOD=1\n1BAD=2\nB C=3\n\nOK\nbad-name\n' >env.list
	run sbx run --rm --env-file env.list busybox true
	assert_status 125
	assert_output 'env.list:2: error: "1BAD" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)
env.list:3: error: "B C" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)
env.list:6: error: "bad-name" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)
sbx: run: --env-file "env.list" has 3 errors'
	printf 'A=\001\n' >ctl.list
	run sbx run --rm --env-file ctl.list busybox true
	assert_status 125
	assert_output 'ctl.list:1: error: the value contains a control character
sbx: run: --env-file "ctl.list" has 1 error'
	printf 'A=1\nB=\0x\n' >nul.list
	run sbx run --rm --env-file nul.list busybox true
	assert_status 125
	assert_output 'nul.list:2: error: NUL byte
sbx: run: --env-file "nul.list" has 1 error'
	run sbx run --rm --env-file nosuch.list busybox true
	assert_status 125
	assert_output 'sbx: run: --env-file "nosuch.list": cannot open "nosuch.list": No such file or directory'
	run sbx run --rm --env-file "" busybox true
	assert_status 125
	assert_output 'sbx: run: --env-file "": expected a file name'
	head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' a >big.list
	run sbx run --rm --env-file big.list busybox true
	assert_status 125
	assert_output 'sbx: run: --env-file "big.list": larger than 1 MiB'
	no_instances
}

# ---- --memory, --pids-limit, --cpus ----

@test "--memory, --pids-limit, --cpus go to linux.resources and [limits]; sbx run says once it does not enforce them" {
	run -0 sbx spec --memory 512M --pids-limit 64 --cpus 1.5 busybox
	[ "$(jq -c .linux.resources <<<"$output")" = '{"cpu":{"quota":150000,"period":100000},"memory":{"limit":536870912},"pids":{"limit":64}}' ]
	run -0 sbx spec --cpus 0.25 busybox
	[ "$(jq -c .linux.resources.cpu <<<"$output")" = '{"quota":25000,"period":100000}' ]
	printf '[profile]\ninherit = default\n[limits]\ncpus = 2\n' >c.ini
	run -0 sbx profile show ./c.ini
	assert_contains "cpus = 2"
	run -0 sbx spec --profile ./c.ini busybox
	[ "$(jq .linux.resources.cpu.quota <<<"$output")" = 200000 ]
	# Said once, on stderr; not with -q.
	run --separate-stderr sbx run --rm --memory 64M --pids-limit 10 --cpus 1 busybox echo ran
	assert_status 0
	assert_output ran
	[ "$stderr" = "sbx: warning: sbx does not enforce memory, pids and cpus limits yet; they are recorded in the config, for runc and crun (rlimits still apply)" ]
	run --separate-stderr sbx -q run --rm --cpus 1 busybox echo ran
	assert_status 0
	[ -z "$stderr" ]
}

@test "bad --memory, --pids-limit, --cpus and [limits] cpus: exact messages, exit 125, nothing left" {
	run sbx run --rm --memory lots busybox true
	assert_status 125
	assert_output 'sbx: run: --memory "lots": expected a size such as 512K, 64M or 2G'
	run sbx run --rm --memory 0 busybox true
	assert_status 125
	assert_output 'sbx: run: --memory "0": must be greater than 0'
	run sbx run --rm --pids-limit -1 busybox true
	assert_status 125
	assert_output 'sbx: run: --pids-limit "-1": must not be negative'
	run sbx run --rm --pids-limit many busybox true
	assert_status 125
	assert_output 'sbx: run: --pids-limit "many": not a number'
	for bad in 0 1.2345 -1 1,5 . abc 2000; do
		run sbx run --rm --cpus "$bad" busybox true
		assert_status 125
		assert_output "sbx: run: --cpus \"$bad\": expected a number of CPUs above 0, such as 0.5 or 2 (at most three decimal places)"
	done
	printf '[limits]\ncpus = 0.0\n' >bad.ini
	run sbx spec --profile ./bad.ini busybox
	assert_status 125
	assert_output './bad.ini:2: error: invalid cpus "0.0": expected a number of CPUs above 0, such as 0.5 or 2 (at most three decimal places)
sbx: spec: profile "./bad.ini" has 1 error'
	no_instances
}

# ---- did you mean, for values ----

@test "a near miss of a value gets 'did you mean', in a profile and on the command line" {
	printf '[network]\nmode = pastaa\n[filesystem]\noverlay = kernal\n[process]\ninit = treu\n' >typo.ini
	run sbx run --profile ./typo.ini busybox true
	assert_status 125
	assert_output './typo.ini:2: error: invalid mode "pastaa": expected none, host, pasta, slirp4netns or auto; did you mean "pasta"?
./typo.ini:4: error: invalid overlay "kernal": expected auto, kernel or fuse; did you mean "kernel"?
./typo.ini:6: error: invalid init "treu": expected true or false (or yes/no, on/off, 1/0); did you mean "true"?
sbx: run: profile "./typo.ini" has 3 errors'
	run sbx run --rm --network pastaa busybox true
	assert_status 125
	assert_output 'sbx: run: --network "pastaa": expected none, host, pasta, slirp4netns or auto; did you mean "pasta"?'
	run sbx run --rm --userns subidd busybox true
	assert_status 125
	assert_output 'sbx: run: --userns "subidd": expected single or subid; did you mean "subid"?'
	no_instances
}

@test "the issue's near misses: a swapped pair of letters (--network hots), a profile name (defualt)" {
	run sbx run --rm --network hots busybox true
	assert_status 125
	assert_output 'sbx: run: --network "hots": expected none, host, pasta, slirp4netns or auto; did you mean "host"?'
	printf '[profile]\ninherit = defualt\n' >typo.ini
	run sbx run --rm --profile ./typo.ini busybox true
	assert_status 125
	assert_output "./typo.ini:2: error: profile \"defualt\" not found; looked in $XDG_CONFIG_HOME/sbx/profiles, $SBX_SYSCONFDIR/profiles, $SBX_TOP/profiles (see 'sbx profile ls'); did you mean \"default\"?
sbx: run: profile \"./typo.ini\" has 1 error"
	run sbx run --rm --profile defualt busybox true
	assert_status 125
	assert_output "sbx: run: profile \"defualt\" not found; looked in $XDG_CONFIG_HOME/sbx/profiles, $SBX_SYSCONFDIR/profiles, $SBX_TOP/profiles (see 'sbx profile ls'); did you mean \"default\"?"
	# Nothing near: no suggestion.
	run sbx run --rm --profile zzzzzz busybox true
	assert_status 125
	assert_output "sbx: run: profile \"zzzzzz\" not found; looked in $XDG_CONFIG_HOME/sbx/profiles, $SBX_SYSCONFDIR/profiles, $SBX_TOP/profiles (see 'sbx profile ls')"
	no_instances
}

# ---- completion from the table ----

@test "every option of the table completes: its choices, and its help line with --describe" {
	local n=0
	while IFS=$'\t' read -r sec key opt short meta choices complete doc; do
		[ "$opt" != - ] || continue
		n=$((n + 1))
		run -0 sbx __complete --describe -- run --
		grep -qxF -- "--$opt"$'\t'"$doc" <<<"$output" ||
			{ echo "--$opt lacks its description" >&2; return 1; }
		[ "$meta" != - ] || continue
		want=$choices
		[ "$complete" = - ] || want=$complete
		[ "$want" != - ] || continue
		case $want in file | volume) want=__files__ ;; capability) continue ;; esac
		run -0 sbx __complete -- run "--$opt" ""
		[ "$output" = "$(tr ' ' '\n' <<<"$want" | sort)" ] ||
			{ echo "--$opt completes '$output', the table says '$want'" >&2; return 1; }
	done < <(sbx __complete --settings)
	[ "$n" -ge 20 ]
}

@test "fish shows the table's help beside an option and a command" {
	export PATH=$SBX_TOP/build:$PATH
	run -0 fish --no-config -c 'source $argv[1]; complete -C "sbx run --uma"' "$SBX_TOP/completions/sbx.fish"
	assert_output "--umask"$'\t'"the command's umask, in octal (default: sbx's own)"
	run -0 fish --no-config -c 'source $argv[1]; complete -C "sbx ru"' "$SBX_TOP/completions/sbx.fish"
	assert_output "run"$'\t'"Run a command in a new sandbox (a shell when no command is given)."
}
