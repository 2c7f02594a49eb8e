#!/usr/bin/env bats
# What only root can show: sbx as plain root, and the crun round trip, which
# needs ../shared/bin/stock-host on these machines (crun refuses hybrid cgroups).

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root"
	USER_NAME=${SBX_TEST_USER:-sbxtest}
	STOCK_HOST=$SBX_TOP/../shared/bin/stock-host
	sbx image bootstrap busybox >/dev/null 2>&1
}

@test "sbx works as plain root" {
	run sbx run --rm busybox sh -c 'echo $((1+1)); cat /proc/self/uid_map'
	assert_status 0
	[ "${lines[0]}" = 2 ]
	[[ "${lines[1]}" =~ ^\ +0\ +0\ +1$ ]]
}

@test "sbx refuses to run setuid" {
	dir=$(mktemp -d /tmp/sbx-suid.XXXXXX)
	chmod 755 "$dir"
	cp "$SBX" "$dir/sbx"
	chmod 4755 "$dir/sbx"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$dir/sbx" --version
	rm -rf "$dir"
	assert_status 125
	assert_contains "refusing to run setuid or setgid"
}

@test "round trip under crun, as an unprivileged user on a stock host" {
	[ -x "$STOCK_HOST" ] || fail "missing $STOCK_HOST"
	command -v crun >/dev/null || fail "crun is missing: run 'make deps'"
	dir=$(mktemp -d /tmp/sbx-crun.XXXXXX)
	chown "$USER_NAME" "$dir"
	run "$STOCK_HOST" setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$dir" SBX_DATADIR="$SBX_DATADIR" bash -c '
		set -e
		cd "$HOME"; mkdir share
		"'"$SBX"'" spec --bundle bundle -v "$HOME/share:/host" busybox sh -c "echo ok > /host/out"
		cd bundle
		crun --root "$HOME/crun" run sbx-crun-test
		cat ../share/out'
	rm -rf "$dir"
	assert_status 0
	assert_contains ok
}

@test "an image owned by an unmapped uid: a warning that names EOVERFLOW and the fix" {
	dir=$(mktemp -d /tmp/sbx-eoverflow.XXXXXX)
	chmod 755 "$dir"
	make_busybox_rootfs "$dir/rootfs"
	chmod -R a+rX "$dir"
	home=$(mktemp -d /tmp/sbx-home.XXXXXX)
	chown "$USER_NAME" "$home"
	run setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$home" SBX_DATADIR="$SBX_DATADIR" \
		"$SBX" run --rm "$dir/rootfs" sh -c 'echo x >> /etc/passwd'
	rm -rf "$dir" "$home"
	# Creating the mount point of /etc/resolv.conf already needs a copy-up.
	assert_status 125
	assert_output "sbx: warning: the image \"$dir/rootfs\" is owned by uid 0, which is not mapped in the sandbox: changing its files will fail with EOVERFLOW; re-import the image as yourself or use --userns subid
sbx: run: cannot create \"/etc/resolv.conf\" in the sandbox: Permission denied"
}

@test "without XDG_RUNTIME_DIR, another user's /tmp/sbx-UID does not stop sbx" {
	uid=$(id -u "$USER_NAME")
	# Another local user got there first, with a directory sbx must refuse.
	rm -rf "/tmp/sbx-$uid"
	install -d -m 0700 -o 65534 -g 65534 "/tmp/sbx-$uid"
	home=$(mktemp -d /tmp/sbx-home.XXXXXX)
	chown "$USER_NAME" "$home"
	as_user() {
		setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
			env -i PATH=/usr/bin:/bin HOME="$home" SBX_DATADIR="$SBX_DATADIR" "$@"
	}
	as_user "$SBX" image bootstrap busybox >/dev/null 2>&1
	run as_user "$SBX" run --rm busybox echo fine
	assert_status 0
	assert_output fine
	run as_user "$SBX" run -d --name bg busybox sleep 30
	assert_status 0
	run -0 as_user "$SBX" ps -q
	assert_output bg
	# The live state is in the user's own cache directory, mode 0700.
	[ -f "$home/.cache/sbx/run/bg/state.json" ]
	[ "$(stat -c '%a %U' "$home/.cache/sbx/run")" = "700 $USER_NAME" ]
	run as_user "$SBX" rm -f bg
	assert_status 0
	[ -z "$(ls -A "$home/.cache/sbx/run")" ]
	[ -z "$(ls -A "/tmp/sbx-$uid")" ]
	[ "$(stat -c %u "/tmp/sbx-$uid")" = 65534 ]
	rm -rf "$home" "/tmp/sbx-$uid"
}
