#!/usr/bin/env bats
# sbx doctor where only root can set the scene: as an unprivileged user on a
# stock host (../shared/bin/stock-host makes /dev/fuse and /dev/net/tun
# usable by everyone, as udev does), where the fuse and tun checks must pass;
# with a binary that has file capabilities, which must fail; and as root.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root"
	USER_NAME=${SBX_TEST_USER:-sbxtest}
	STOCK_HOST=$SBX_TOP/../shared/bin/stock-host
	[ -x "$STOCK_HOST" ] || fail "missing $STOCK_HOST"
	HOME_DIR=$(mktemp -d /tmp/sbx-doctor-home.XXXXXX)
	chown "$USER_NAME:" "$HOME_DIR"
	RUN_DIR=$(mktemp -d /tmp/sbx-doctor-run.XXXXXX)
	chown "$USER_NAME:" "$RUN_DIR"
	chmod 700 "$RUN_DIR"
}

teardown() {
	rm -rf "$HOME_DIR" "$RUN_DIR" "${BIN_DIR:-}"
}

# Runs sbx doctor as the test user, with a clean environment.
as_user() {
	setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME_DIR" \
		XDG_RUNTIME_DIR="$RUN_DIR" "$@"
}

line_of() {
	grep -E "^(OK|WARN|FAIL) +$1 " <<<"$output"
}

@test "on a stock host, as a user: fuse and tun are OK, and nothing fails" {
	run "$STOCK_HOST" setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME_DIR" \
		XDG_RUNTIME_DIR="$RUN_DIR" "$SBX" doctor
	assert_status 0
	[ "$(line_of fuse)" = "OK    fuse         /usr/bin/fuse-overlayfs is installed and /dev/fuse is usable" ]
	[ "$(line_of tun)" = "OK    tun          /dev/net/tun is usable" ]
	[[ $(line_of userns) =~ ^OK\ +userns\ +unprivileged\ user\ namespaces\ work ]]
	[ "$(line_of overlay)" = "OK    overlay      kernel overlayfs works in a user namespace (userxattr)" ]
	[ "$(line_of runtime-dir)" = "OK    runtime-dir  XDG_RUNTIME_DIR=$RUN_DIR is yours, mode 0700" ]
	[ "$(line_of disk | cut -c1-19)" = "OK    disk         " ]
	[ "$(grep -c '^FAIL' <<<"$output")" = 0 ]
}

@test "on a stock host, as a user: the JSON says the same" {
	run "$STOCK_HOST" setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME_DIR" \
		XDG_RUNTIME_DIR="$RUN_DIR" "$SBX" doctor --format json
	assert_status 0
	[ "$(jq -r '.[] | select(.check == "fuse" or .check == "tun") | .status' <<<"$output")" = "$(printf 'ok\nok')" ]
	[ "$(jq -r '.[] | select(.check == "fuse") | .fix' <<<"$output")" = null ]
	[ "$(jq length <<<"$output")" = 14 ]
}

@test "without the stock host, as a user: fuse and tun warn with the fix" {
	run as_user "$SBX" doctor
	assert_status 0
	[ "$(line_of fuse)" = "WARN  fuse         /dev/fuse is not usable (Permission denied; mode 0600, owner uid 0); overlay = fuse needs it  fix: chmod 0666 /dev/fuse (udev does this on a stock system)" ] ||
		[ "$(stat -c %a /dev/fuse)" != 600 ]
	[ "$(line_of tun)" = "WARN  tun          /dev/net/tun is not usable (Permission denied; mode 0600, owner uid 0); network modes pasta, slirp4netns and auto need it  fix: chmod 0666 /dev/net/tun (udev does this on a stock system)" ] ||
		[ "$(stat -c %a /dev/net/tun)" != 600 ]
}

@test "a data directory a user namespace cannot reach: the overlay check says so" {
	# Root's namespace does not map the owner of a 0700 directory of the user.
	run -0 env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME_DIR" XDG_RUNTIME_DIR="$RUN_DIR" \
		"$SBX" doctor
	[ "$(line_of overlay)" = "WARN  overlay      cannot test the kernel overlay: $HOME_DIR cannot be reached from a user namespace: Permission denied; fuse-overlayfs stands in (slower)  fix: set XDG_DATA_HOME to a directory you own" ]
}

@test "a binary with file capabilities fails the binary check, exit 1" {
	command -v setcap >/dev/null || fail "setcap is missing: run 'make deps'"
	BIN_DIR=$(mktemp -d /tmp/sbx-doctor-bin.XXXXXX)
	chmod 755 "$BIN_DIR"
	cp "$SBX" "$BIN_DIR/sbx"
	setcap cap_net_raw+ep "$BIN_DIR/sbx"
	run as_user "$BIN_DIR/sbx" doctor
	assert_status 1
	[ "$(line_of binary)" = "FAIL  binary       $BIN_DIR/sbx has file capabilities; sbx must be installed without them  fix: setcap -r $BIN_DIR/sbx" ]
}

@test "as root: user namespaces and the overlay work, and the fix for subids names root" {
	chown root: "$HOME_DIR" "$RUN_DIR"
	run -0 env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME_DIR" XDG_RUNTIME_DIR="$RUN_DIR" \
		"$SBX" doctor
	[[ $(line_of userns) =~ ^OK\ +userns\ +user\ namespaces\ work ]]
	[ "$(line_of overlay)" = "OK    overlay      kernel overlayfs works in a user namespace (userxattr)" ]
	[ "$(line_of fuse | cut -c1-4)" = "OK  " ]
	if ! grep -q '^root:' /etc/subuid; then
		[ "$(line_of subids)" = "WARN  subids       no range for root in /etc/subuid and /etc/subgid; only --userns subid needs one  fix: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 root" ]
	fi
}
