#!/usr/bin/env bats
# Issue 12 §6: say so when a setting opens the wall. sbx's own directories
# cannot be volumes; the home directory, keys and settings are warned about
# once per run; a user profile that shadows a shipped or system one is named;
# `sbx profile check` lists what a profile turns off.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	cd "$BATS_TEST_TMPDIR"
	sbx image bootstrap busybox >/dev/null 2>&1
	# A home of the test's own, with sbx's directories outside it (as
	# sbx_setup puts them) unless a test moves them in.
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME/share" "$HOME/.ssh" "$HOME/.gnupg/private-keys-v1.d"
	DATA=$XDG_DATA_HOME/sbx
	RUN=$XDG_RUNTIME_DIR/sbx
}

refusal() {
	echo "sbx: run: the volume \"$1\" $2 sbx's $3 \"$4\", which no sandbox may reach: it could change what later sandboxes run with; mount another directory"
}

# Nothing of a refused run is left: no instance, no live state.
assert_nothing_left() {
	[ -z "$(ls "$DATA/instances" 2>/dev/null)" ]
	[ -z "$(ls "$RUN" 2>/dev/null)" ]
}

@test "sbx's own directories, what contains them and what is inside them: exit 125 with the reason" {
	mkdir -p "$XDG_CACHE_HOME/sbx" "$XDG_CONFIG_HOME/sbx/profiles"
	run sbx run --rm -v "$DATA:/d" busybox true
	assert_status 125
	assert_output "$(refusal "$DATA" is "data directory (images and instances)" "$DATA")"
	run sbx run --rm -v "$DATA/images/busybox:/d:ro" busybox true
	assert_status 125
	assert_output "$(refusal "$DATA/images/busybox" "is inside" "data directory (images and instances)" "$DATA")"
	run sbx run --rm -v "$XDG_DATA_HOME:/d" busybox true
	assert_status 125
	assert_output "$(refusal "$XDG_DATA_HOME" contains "data directory (images and instances)" "$DATA")"
	run sbx run --rm -v "$XDG_CONFIG_HOME:/cfg" busybox true
	assert_status 125
	assert_output "$(refusal "$XDG_CONFIG_HOME" contains "configuration directory (profiles)" "$XDG_CONFIG_HOME/sbx")"
	run sbx run --rm -v "$XDG_CACHE_HOME/sbx:/c" busybox true
	assert_status 125
	assert_output "$(refusal "$XDG_CACHE_HOME/sbx" is "cache (compiled seccomp filters)" "$XDG_CACHE_HOME/sbx")"
	run sbx run --rm -v "$XDG_RUNTIME_DIR:/r" busybox true
	assert_status 125
	assert_output "$(refusal "$XDG_RUNTIME_DIR" contains "runtime directory (live instances)" "$RUN")"
	run sbx run --rm -v "/:/host" busybox true
	assert_status 125
	assert_output "$(refusal / contains "data directory (images and instances)" "$DATA")"
	# -q silences warnings, not refusals; spec refuses too.
	run sbx -q run --rm -v "$DATA:/d" busybox true
	assert_status 125
	run sbx spec -v "$DATA:/d" busybox
	assert_status 125
	assert_output "$(refusal "$DATA" is "data directory (images and instances)" "$DATA" | sed 's/^sbx: run:/sbx: spec:/')"
	assert_nothing_left
}

@test "by device and inode: a symlink, a file inside, and a directory yet to be made are refused too" {
	ln -s "$DATA" "$HOME/share/innocent"
	run sbx run --rm -v "$HOME/share/innocent:/d" busybox true
	assert_status 125
	assert_output "$(refusal "$HOME/share/innocent" is "data directory (images and instances)" "$DATA")"
	ln -s "$DATA/images/busybox/image.json" "$HOME/share/file"
	run sbx run --rm -v "$HOME/share/file:/f" busybox true
	assert_status 125
	assert_output "$(refusal "$HOME/share/file" "is inside" "data directory (images and instances)" "$DATA")"
	# The configuration directory does not exist yet; what would hold it
	# is refused all the same: the payload could make it.
	[ ! -e "$XDG_CONFIG_HOME/sbx" ]
	run sbx run --rm -v "$XDG_CONFIG_HOME:/cfg" busybox true
	assert_status 125
	assert_output "$(refusal "$XDG_CONFIG_HOME" contains "configuration directory (profiles)" "$XDG_CONFIG_HOME/sbx")"
	# The attack of the issue: with ~/.config as the settings directory,
	# ~/.config cannot be given to a sandbox to plant a default.ini in.
	mkdir "$HOME/.config"
	XDG_CONFIG_HOME=$HOME/.config run sbx run --rm -v "$HOME/.config:/c" busybox true
	assert_status 125
	assert_output "$(refusal "$HOME/.config" contains "configuration directory (profiles)" "$HOME/.config/sbx")"
	[ -z "$(ls -A "$HOME/.config")" ]
	assert_nothing_left
}

@test "the home directory, keys and settings: one warning per volume, -q silences them" {
	run --separate-stderr sbx run --rm -v "$HOME:/h" -v "$HOME/.ssh:/s:ro" \
		-v "$HOME/.gnupg/private-keys-v1.d:/g" -v "$HOME/share:/share" busybox echo ran
	assert_status 0
	assert_output ran
	[ "$stderr" = "sbx: warning: the volume \"$HOME\" lets the sandbox read and change your home directory \"$HOME\"; mount only what it needs, or add :ro
sbx: warning: the volume \"$HOME/.ssh\" lets the sandbox read your SSH keys and settings \"$HOME/.ssh\"; mount only what it needs
sbx: warning: the volume \"$HOME/.gnupg/private-keys-v1.d\" lets the sandbox read and change your GnuPG keys \"$HOME/.gnupg\"; mount only what it needs, or add :ro" ]
	# A settings directory of its own, outside sbx's.
	mkdir -p "$HOME/.config"
	XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config run --separate-stderr sbx run --rm -v "$HOME/.config:/c:ro" busybox true
	assert_status 0
	[ "$stderr" = "" ]
	run --separate-stderr sbx -q run --rm -v "$HOME:/h" -v "$HOME/.ssh:/s:ro" busybox echo ran
	assert_status 0
	assert_output ran
	[ -z "$stderr" ]
}

@test "a user profile that shadows a shipped or system one is named once, on stderr" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles" "$SBX_SYSCONFDIR/profiles"
	printf '[profile]\ninherit = default\n' >"$XDG_CONFIG_HOME/sbx/profiles/default.ini"
	run --separate-stderr sbx run --rm busybox echo ran
	assert_status 0
	assert_output ran
	[ "$stderr" = "sbx: warning: profile \"default\" is your own \"$XDG_CONFIG_HOME/sbx/profiles/default.ini\", which shadows the shipped \"$SBX_TOP/profiles/default.ini\"" ]
	# A system one too; a profile that inherits the shadowing one by name.
	cp "$SBX_TOP/profiles/default.ini" "$SBX_SYSCONFDIR/profiles/default.ini"
	printf '[profile]\ninherit = default\n' >"$XDG_CONFIG_HOME/sbx/profiles/mine.ini"
	run --separate-stderr sbx run --rm --profile mine busybox echo ran
	assert_status 0
	[ "$stderr" = "sbx: warning: profile \"default\" is your own \"$XDG_CONFIG_HOME/sbx/profiles/default.ini\", which shadows the system \"$SBX_SYSCONFDIR/profiles/default.ini\" and the shipped \"$SBX_TOP/profiles/default.ini\"" ]
	run --separate-stderr sbx spec busybox
	assert_status 0
	[[ $stderr == "sbx: warning: profile \"default\" is your own "* ]]
	run -0 --separate-stderr sbx -q run --rm busybox echo ran
	assert_output ran
	[ -z "$stderr" ]
	run --separate-stderr sbx profile check default
	assert_status 0
	assert_output "default: ok"
	[ "$stderr" = "$XDG_CONFIG_HOME/sbx/profiles/default.ini: warning: [profile] it shadows the system profile \"$SBX_SYSCONFDIR/profiles/default.ini\"
$XDG_CONFIG_HOME/sbx/profiles/default.ini: warning: [profile] it shadows the shipped profile \"$SBX_TOP/profiles/default.ini\"" ]
	# A user profile of a name of its own shadows nothing.
	rm "$XDG_CONFIG_HOME/sbx/profiles/default.ini"
	run --separate-stderr sbx run --rm --profile mine busybox echo ran
	assert_status 0
	[ -z "$stderr" ]
}

@test "profile check flags every protection a profile turns off, and still says ok" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	cat >open.ini <<EOF
[profile]
inherit = default
[namespaces]
pid = false
ipc = false
[network]
mode = host
[filesystem]
volume = ~:/h
volume = $DATA:/d:ro
[security]
seccomp = unconfined
cap_add = SYS_ADMIN, SYS_PTRACE, CHOWN
no_new_privileges = false
EOF
	run --separate-stderr sbx profile check open.ini
	assert_status 0
	assert_output "open.ini: ok"
	[ "$stderr" = "open.ini: warning: [security] seccomp = unconfined: no system call filter, so restrict_suid_sgid has no effect either
open.ini: warning: [security] no_new_privileges = false: set-id and file-capability programs in the sandbox gain privileges when run
open.ini: warning: [security] cap_add: CAP_SYS_PTRACE is not among Docker's default capabilities
open.ini: warning: [security] cap_add: CAP_SYS_ADMIN is not among Docker's default capabilities
open.ini: warning: [network] mode = host: the sandbox shares the host's network, its services on 127.0.0.1 and abstract sockets such as X11's
open.ini: warning: [namespaces] pid = false: the sandbox can see, signal and trace your other processes
open.ini: warning: [namespaces] ipc = false: the sandbox shares System V IPC and POSIX message queues with your other processes
open.ini: warning: [filesystem] the volume \"$DATA\" is sbx's data directory (images and instances) \"$DATA\", which no sandbox may reach: it could change what later sandboxes run with; mount another directory" ]
	printf '[profile]\ninherit = default\n[security]\nrestrict_suid_sgid = no\n' >suid.ini
	run --separate-stderr sbx profile check -q suid.ini
	assert_status 0
	assert_output ""
	[ "$stderr" = "suid.ini: warning: [security] restrict_suid_sgid = false: the sandbox can make setuid files in volumes, which run as you for other local users" ]
	# Without the refused volume, the home directory is a warning.
	sed -i '/^volume = \//d' open.ini
	run -0 --separate-stderr sbx profile check open.ini
	[[ $stderr == *"open.ini: warning: [filesystem] the volume \"$HOME\" lets the sandbox read and change your home directory \"$HOME\"; mount only what it needs, or add :ro" ]]
}
