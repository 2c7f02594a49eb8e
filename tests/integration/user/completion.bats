#!/usr/bin/env bats
# Shell completion in the real shells from Debian: bash with bash-completion
# (calling _sbx with COMP_WORDS, as readline does), zsh (an interactive zsh
# under tmux, so compinit and the whole completion system run) and fish (its
# own engine, `complete -C`). Each checks the first word, an option, a
# per-user profile and an instance name; `sbx __complete` itself is checked
# against the option tables, as shown by --help.

load ../helpers
bats_require_minimum_version 1.5.0

setup_file() {
	# One XDG tree for the whole file: the instance is made once.
	export XDG_DATA_HOME=$BATS_FILE_TMPDIR/data
	export XDG_CONFIG_HOME=$BATS_FILE_TMPDIR/config
	export XDG_CACHE_HOME=$BATS_FILE_TMPDIR/cache
	export SBX_SYSCONFDIR=$BATS_FILE_TMPDIR/etc
	export PATH=$SBX_TOP/build:$PATH
	mkdir -p "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\n' >"$XDG_CONFIG_HOME/sbx/profiles/mytest.ini"
	# Instances are kept without --rm.
	"$SBX_TOP/build/sbx" -q run --name inst1 busybox true
}

teardown_file() {
	"$SBX_TOP/build/sbx" rm -f inst1 >/dev/null 2>&1 || true
	chmod -R u+rwX "$BATS_FILE_TMPDIR" 2>/dev/null || true
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# ---- bash ----

# Completes the last word of a line the way readline calls _sbx. Words are
# split at blanks; pass COMP_WORDS yourself for '=' splitting.
bash_complete() {
	bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		source "$SBX_TOP/completions/sbx.bash"
		COMP_LINE=$1 COMP_POINT=${#1}
		read -ra COMP_WORDS <<<"$1"
		[[ $1 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_sbx sbx "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' bash "$1"
}

@test "bash: the bash-completion loader finds the script under its installed name" {
	# make install puts it in .../bash-completion/completions/sbx; the
	# loader sources that file the first time sbx is completed.
	dir=$BATS_TEST_TMPDIR/share/bash-completion/completions
	mkdir -p "$dir"
	cp "$SBX_TOP/completions/sbx.bash" "$dir/sbx"
	run env XDG_DATA_DIRS="$BATS_TEST_TMPDIR/share" bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		__load_completion sbx && complete -p sbx'
	assert_status 0
	assert_output "complete -F _sbx sbx"
}

@test "bash: first word" {
	run bash_complete "sbx ru"
	assert_status 0
	assert_output run
}

@test "bash: an option" {
	run bash_complete "sbx run --vol"
	assert_status 0
	assert_output --volume
}

@test "bash: a per-user profile name" {
	run bash_complete "sbx run --profile my"
	assert_status 0
	assert_output mytest
	run -0 bash_complete "sbx run --profile "
	assert_contains mytest
	assert_contains strict
}

@test "bash: an instance name" {
	run bash_complete "sbx rm i"
	assert_status 0
	assert_output inst1
	run -0 bash_complete "sbx start i"
	assert_output inst1
}

@test "bash: subcommands, fixed words, --opt=value split at '=', and paths" {
	run -0 bash_complete "sbx image b"
	assert_output bootstrap
	run -0 bash_complete "sbx profile show str"
	assert_output strict
	# readline splits "--network=h" into "--network" "=" "h".
	run -0 bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		source "$SBX_TOP/completions/sbx.bash"
		COMP_WORDS=(sbx run --network = h) COMP_CWORD=4
		COMP_LINE="sbx run --network=h" COMP_POINT=19
		_sbx; printf "%s\n" "${COMPREPLY[@]}"'
	assert_output host
	mkdir -p share/sub
	run -0 bash_complete "sbx run --volume sh"
	assert_output share
	run -0 bash_complete "sbx spec --bundle share/s"
	assert_output share/sub
	run -0 bash_complete "sbx kill inst1 SIGK"
	assert_output SIGKILL
}

# The commands `sbx-oci --help` lists, sorted.
oci_commands() {
	sbx oci --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z]\+\) .*/\1/p' | sort
}

@test "bash: sbx-oci completes as sbx oci: its commands, their options, global options first" {
	run -0 bash_complete "sbx-oci "
	assert_output "$(oci_commands)"
	[ "${#lines[@]}" -ge 14 ]
	run -0 bash_complete "sbx-oci exec --pre"
	assert_output --preserve-fds
	run -0 bash_complete "sbx-oci --root /tmp de"
	assert_output delete
	# By its path: the sbx beside it completes.
	run -0 bash_complete "$SBX_TOP/build/sbx-oci kill --"
	assert_output "$(printf -- '--all\n--help')"
	run -0 bash_complete "sbx oci delete --f"
	assert_output --force
}

@test "bash and __complete: sbx-oci's commands that name a container complete its ID, under --root" {
	local OCI=$SBX_TOP/build/sbx-oci R=$BATS_TEST_TMPDIR/oci-root id
	SBX_OCI_ROOT=$R
	mkdir bundle
	make_busybox_rootfs bundle/rootfs
	(cd bundle && "$OCI" spec --rootless)
	jq '.process.terminal = false' bundle/config.json >c.json && mv c.json bundle/config.json
	for id in web1 web2 db; do
		"$OCI" --root "$R" create --bundle bundle "$id" </dev/null >/dev/null 2>&1
	done
	run -0 sbx __complete -- oci --root "$R" state ""
	assert_output "$(printf 'db\nweb1\nweb2')"
	run -0 sbx __complete -- oci --root "$R" kill we
	assert_output "$(printf 'web1\nweb2')"
	run -0 sbx __complete -- oci "--root=$R" delete --force d
	assert_output db
	# kill's second operand is a signal, exec's rest the payload's.
	run -0 sbx __complete -- oci --root "$R" kill web1 SIGK
	assert_output SIGKILL
	run -0 sbx __complete -- oci --root "$R" exec web1 ""
	assert_output ""
	# create and run name a new container; another root has none.
	run -0 sbx __complete -- oci --root "$R" create ""
	assert_output ""
	run -0 sbx __complete -- oci --root "$BATS_TEST_TMPDIR/none" start ""
	assert_output ""
	run -0 bash_complete "sbx-oci --root $R start w"
	assert_output "$(printf 'web1\nweb2')"
	for id in web1 web2 db; do
		"$OCI" --root "$R" delete --force "$id"
	done
	run -0 sbx __complete -- oci --root "$R" state ""
	assert_output ""
}

# ---- zsh: an interactive zsh under tmux, TAB typed like a user ----

zsh_start() {
	command -v tmux >/dev/null || fail "tmux is missing: run 'make deps'"
	sock=$BATS_TEST_TMPDIR/tmux.sock
	mkdir -p zdot
	cat >zdot/.zshrc <<-EOF
		PS1='%% '
		fpath=("$SBX_TOP/completions" \$fpath)
		autoload -Uz compinit && compinit -u -D
	EOF
	tmux -S "$sock" new-session -d -x 150 -y 30 "ZDOTDIR='$PWD/zdot' zsh -i"
	zsh_wait '^% *$'
}

# Waits for a line of the screen to match $1.
zsh_wait() {
	for _ in $(seq 100); do
		tmux -S "$sock" capture-pane -p | grep -q -e "$1" && return 0
		sleep 0.05
	done
	echo "no line matches '$1'; the screen:" >&2
	tmux -S "$sock" capture-pane -p >&2
	return 1
}

# Types $1 and TAB; the line must become "% $2" (completion adds a space).
zsh_complete() {
	tmux -S "$sock" send-keys -l "$1"
	tmux -S "$sock" send-keys Tab
	zsh_wait "^% $2 *\$" || return 1
	tmux -S "$sock" send-keys C-u
	zsh_wait '^% *$'
}

@test "bash: sbx unshare completes a host program, then paths" {
	run bash_complete "sbx unshare chgr"
	assert_status 0
	assert_output chgrp
	mkdir -p share
	run -0 bash_complete "sbx unshare chown -R sh"
	assert_output share
}

@test "zsh: first word, an option, a profile, an instance, a value, a path" {
	zsh_start
	zsh_complete "sbx ru" "sbx run"
	zsh_complete "sbx run --vol" "sbx run --volume"
	zsh_complete "sbx run --profile my" "sbx run --profile mytest"
	zsh_complete "sbx rm i" "sbx rm inst1"
	zsh_complete "sbx run --network=h" "sbx run --network=host"
	mkdir -p share
	zsh_complete "sbx run -v sh" "sbx run -v share/"
	zsh_complete "sbx unshare chgr" "sbx unshare chgrp"
	zsh_complete "sbx unshare chgrp 0 sh" "sbx unshare chgrp 0 share/"
	zsh_complete "sbx-oci exe" "sbx-oci exec"
	zsh_complete "sbx-oci exec --preserve-f" "sbx-oci exec --preserve-fds"
	zsh_complete "sbx oci kill --a" "sbx oci kill --all"
	tmux -S "$sock" kill-server
}

@test "zsh: options are listed with their line of help from the settings table" {
	zsh_start
	tmux -S "$sock" send-keys -l "sbx run --cap-"
	tmux -S "$sock" send-keys Tab
	zsh_wait '^% sbx run --cap-'
	tmux -S "$sock" send-keys Tab
	zsh_wait '^--cap-add  *-- add a capability$'
	zsh_wait '^--cap-drop  *-- drop a capability (ALL for every one)$'
	tmux -S "$sock" kill-server
}

# ---- fish: its own completion engine ----

fish_complete() {
	fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
		"$SBX_TOP/completions/sbx.fish" "$1" | cut -f1
}

@test "fish: first word" {
	run fish_complete "sbx ru"
	assert_status 0
	assert_output run
}

@test "fish: an option" {
	run fish_complete "sbx run --vol"
	assert_status 0
	assert_output --volume
}

@test "fish: a per-user profile name" {
	run fish_complete "sbx run --profile my"
	assert_status 0
	assert_output mytest
}

@test "fish: an instance name" {
	run fish_complete "sbx rm i"
	assert_status 0
	assert_output inst1
}

@test "fish: --opt=value and paths" {
	run -0 fish_complete "sbx run --network=h"
	assert_output --network=host
	mkdir -p share
	run -0 fish_complete "sbx run -v sh"
	assert_output share/
	run -0 fish_complete "sbx spec --bundle=sh"
	assert_output --bundle=share/
}

@test "fish: sbx unshare completes a host program, then paths" {
	run -0 fish_complete "sbx unshare chgr"
	assert_output chgrp
	mkdir -p share
	run -0 fish_complete "sbx unshare chown -R sh"
	assert_output share/
}

@test "fish: sbx-oci completes as sbx oci" {
	run -0 fish_complete "sbx-oci exe"
	assert_output exec
	run -0 fish_complete "sbx-oci exec --preserve-f"
	assert_output --preserve-fds
	run -0 fish_complete "sbx-oci --log-format=j"
	assert_output --log-format=json
}

# ---- sbx __complete: the data behind all three ----

# The long options `sbx CMD --help` shows, one per line, sorted.
help_options() {
	sbx $1 --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' | sort
}

@test "__complete is hidden from --help and lists every command --help lists" {
	run sbx --help
	assert_status 0
	[[ $output != *__complete* ]]
	expected=$(sbx --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }' | sort -u)
	expected=$(printf '%s\nhelp\n' "$expected" | sort)
	run sbx __complete -- ""
	assert_status 0
	assert_output "$expected"
}

@test "__complete offers exactly the options each command's --help lists" {
	local n=0 cmd
	while read -r cmd; do
		n=$((n + 1))
		diff -u <(help_options "$cmd") <(sbx __complete -- $cmd -- | sort) ||
			{ echo "sbx $cmd: completion and --help differ" >&2; return 1; }
	done < <(sbx --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z]\+\( [a-z]\+\)\?\)  .*/\1/p' | sed 's/ *$//')
	[ "$n" -ge 10 ]
}

@test "__complete: values by kind" {
	run -0 sbx __complete -- run --network ""
	assert_output "$(printf 'auto\nauto:host-loopback\nhost\nnone\npasta\npasta:host-loopback\nslirp4netns\nslirp4netns:host-loopback')"
	run -0 sbx __complete -- run --network slirp4netns:
	assert_output slirp4netns:host-loopback
	run -0 sbx __complete -- run --cap-drop al
	assert_output all
	run -0 sbx __complete -- run --cap-add CAP_SYS_AD
	assert_output CAP_SYS_ADMIN
	run -0 sbx __complete -- run --cap-add sys_ad
	assert_output sys_admin
	run -0 sbx __complete -- run --volume ""
	assert_output __files__
	run -0 sbx __complete -- run --volume "$HOME:/"
	assert_output ""
	run -0 sbx __complete -- spec --bundle=x
	assert_output __dirs__
	run -0 sbx __complete -- image rm ""
	assert_output busybox
	run -0 sbx __complete -- image bootstrap ""
	assert_output busybox
	run -0 sbx __complete -- kill inst1 TE
	assert_output TERM
	run -0 sbx __complete -- help image ""
	assert_output "$(sbx __complete -- image "")"
	# After the image, the words belong to the payload.
	run -0 sbx __complete -- run busybox --
	assert_output ""
	run -0 sbx __complete -- run -it --rm --profile strict busybox ""
	assert_output ""
	# A global option before the command.
	run -0 sbx __complete -- -q ru
	assert_output run
	run -0 sbx __complete -- --de
	assert_output --debug
}

@test "__complete: running instances only for exec, stop and kill" {
	run -0 sbx __complete -- exec ""
	assert_output ""
	run -0 sbx -q run -d --name live1 busybox sleep 60 </dev/null
	assert_output live1
	for _ in $(seq 50); do
		sbx ps -q | grep -qx live1 && break
		sleep 0.1
	done
	run -0 sbx ps -q
	assert_output live1
	run -0 sbx __complete -- exec ""
	assert_output live1
	run -0 sbx __complete -- stop ""
	assert_output live1
	run -0 sbx __complete -- kill ""
	assert_output live1
	run -0 sbx __complete -- rm ""
	assert_output "$(printf 'inst1\nlive1')"
	sbx rm -f live1
	run -0 sbx __complete -- stop ""
	assert_output ""
}

@test "__complete: sbx oci's commands, and each one's options exactly as sbx-oci CMD --help lists them" {
	run -0 sbx __complete -- oci exec --
	assert_contains --preserve-fds
	assert_contains --process
	assert_contains --console-socket
	run -0 sbx __complete -- oci ""
	assert_output "$(oci_commands)"
	local n=0 cmd
	while read -r cmd; do
		n=$((n + 1))
		diff -u <(help_options "oci $cmd") <(sbx __complete -- oci $cmd -- | sort) ||
			{ echo "sbx-oci $cmd: completion and --help differ" >&2; return 1; }
		# sbx-oci's --help is sbx oci's.
		[ "$("$SBX_TOP/build/sbx-oci" $cmd --help)" = "$(sbx oci $cmd --help | sed 's/^Usage: sbx oci /Usage: sbx-oci /')" ]
	done < <(oci_commands)
	[ "$n" -ge 14 ]
	# The global options, before the command, with their values.
	run -0 sbx __complete -- oci --r
	assert_output "$(printf -- '--root\n--rootless')"
	run -0 sbx __complete -- oci --root /tmp --log-format ""
	assert_output "$(printf 'json\ntext')"
	run -0 sbx __complete -- oci --root /tmp kill --a
	assert_output --all
	run -0 sbx __complete -- oci --cgroup-manager=sys
	assert_output --cgroup-manager=systemd
	# Values and operands of a command.
	run -0 sbx __complete -- oci exec --process ""
	assert_output __files__
	run -0 sbx __complete -- oci list --format ""
	assert_output "$(printf 'json\ntable')"
	run -0 sbx __complete -- oci kill c1 SIGK
	assert_output SIGKILL
	# exec's COMMAND and its words are the payload's.
	run -0 sbx __complete -- oci exec c1 --
	assert_output ""
	# An unknown command has nothing.
	run -0 sbx __complete -- oci bogus --
	assert_output ""
}
