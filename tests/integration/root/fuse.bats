#!/usr/bin/env bats
# The fuse-overlayfs backend passes the instance seed scenario. /dev/fuse is
# root-only on the build machines, so this runs under ../shared/bin/stock-host,
# as the unprivileged test user.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root, dropping to the test user"
	USER_NAME=${SBX_TEST_USER:-sbxtest}
	STOCK_HOST=$SBX_TOP/../shared/bin/stock-host
	[ -x "$STOCK_HOST" ] || fail "missing $STOCK_HOST"
	command -v fuse-overlayfs >/dev/null || fail "fuse-overlayfs is missing: run 'make deps'"
	HOMEDIR=$(mktemp -d /tmp/sbx-fuse.XXXXXX)
	chown "$USER_NAME" "$HOMEDIR"
}

teardown() {
	chmod -R u+rwX "$HOMEDIR" 2>/dev/null || true
	rm -rf "$HOMEDIR"
}

as_user() {
	"$STOCK_HOST" setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$HOMEDIR" SBX_DATADIR="$SBX_DATADIR" \
		XDG_RUNTIME_DIR="$HOMEDIR/run" SBX="$SBX" bash -c \
		"mkdir -p -m 700 \$XDG_RUNTIME_DIR; \"\$SBX\" image bootstrap busybox >/dev/null 2>&1; $1"
}

@test "fuse-overlayfs: the seed scenario, end to end" {
	run as_user '
		set -e
		img=$HOME/.local/share/sbx/images/busybox/rootfs
		before=$(cd "$img" && find . | sort | sha256sum)
		"$SBX" -v run --overlay fuse --name goofy_davinci busybox sh -c "mkdir -p /hello/world; date >> /hello/world/today"
		upper=$("$SBX" inspect goofy_davinci | jq -r .paths.upper)
		test -f "$upper/hello/world/today"
		"$SBX" inspect goofy_davinci | jq -r .overlay.used
		"$SBX" start -a goofy_davinci
		test "$(wc -l < "$upper/hello/world/today")" = 2
		"$SBX" diff goofy_davinci | grep -x "A /hello/world/today"
		"$SBX" run --rm --overlay fuse busybox sh -c "test ! -e /hello && echo isolated"
		after=$(cd "$img" && find . | sort | sha256sum)
		test "$before" = "$after"
		"$SBX" rm goofy_davinci
		test ! -e "$HOME/.local/share/sbx/instances/goofy_davinci"
		echo done'
	assert_status 0
	assert_contains "sbx: overlay: fuse"
	assert_contains "isolated"
	assert_contains "done"
	run ! pgrep -u "$USER_NAME" fuse-overlayfs
}

@test "fuse-overlayfs never outlives the instance, even after kill -9 of sbx" {
	run as_user '
		"$SBX" run --overlay fuse --name f9 busybox sleep 4343 &
		for i in $(seq 100); do pgrep -f "^sleep 4343$" >/dev/null && break; sleep 0.05; done
		pgrep -u "$(id -u)" fuse-overlayfs >/dev/null && echo fuse-running
		# bash reports the killed job ("Killed") on its own stderr, at a moment
		# of its choosing: hide the stderr of this shell until the job is reaped.
		exec 4>&2 2>/dev/null
		kill -9 $!
		wait $!
		for i in $(seq 100); do pgrep -u "$(id -u)" fuse-overlayfs >/dev/null || break; sleep 0.05; done
		exec 2>&4
		pgrep -u "$(id -u)" -a fuse-overlayfs || echo fuse-gone
		"$SBX" ps -a --format json | jq -r ".[0].status"
		"$SBX" rm f9'
	assert_status 0
	assert_output "fuse-running
fuse-gone
exited
f9"
}

@test "--overlay kernel does not fall back" {
	run as_user '"$SBX" run --rm --overlay kernel busybox true && echo ok'
	assert_status 0
	assert_output ok
}

@test "fuse-overlayfs: writes, renames and deletes in / and deep in the tree, kept and --rm" {
	run as_user '
		set -e
		script="echo x > /newfile && mkdir -p /a/b/c/d/e && echo y > /a/b/c/d/e/f && mv /a/b/c/d/e/f /a/g &&
			mv /newfile /etc/renamed && rm /bin/ls && rm -r /a/b && ls / | grep -c . >/dev/null &&
			cat /etc/renamed /a/g && test ! -e /bin/ls && test ! -e /a/b && echo wrote"
		timeout 60 "$SBX" run --rm --overlay fuse busybox sh -c "$script"
		timeout 60 "$SBX" run --overlay fuse --name kept busybox sh -c "$script"
		"$SBX" diff kept | grep -v "/\.wh\.\.wh\.\.opq$" | sort -k2 | tr "\n" " "; echo
		"$SBX" rm kept'
	assert_status 0
	assert_output "x
y
wrote
x
y
wrote
A /a A /a/g C /bin D /bin/ls C /etc A /etc/renamed 
kept"
	run pgrep -u "$USER_NAME" fuse-overlayfs
	assert_status 1
}

@test "fuse-overlayfs runs outside the sandbox: with CAP_SYS_PTRACE the payload neither sees it nor reaches the host through it" {
	echo precious >"$HOMEDIR/secret.txt"
	chown "$USER_NAME" "$HOMEDIR/secret.txt"
	run as_user '
		timeout 60 "$SBX" run --rm --overlay fuse --cap-add SYS_PTRACE busybox sh -c "
			pidof fuse-overlayfs || echo no-daemon
			for fd in /proc/[0-9]*/fd/*; do
				up=..
				for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
					cat \"\$fd/\$up/secret.txt\" 2>/dev/null && echo ESCAPED
					up=\$up/..
				done
			done
			echo done"'
	assert_status 0
	assert_output "no-daemon
done"
}

@test "fuse-overlayfs: kill -9 of the daemon breaks only that sandbox, and nothing is left behind" {
	run as_user '
		"$SBX" run --rm --overlay fuse busybox sh -c "sleep 1; cat /bin/busybox >/dev/null; exec sleep 4345" &
		sbx=$!
		# Once the payload runs (its sleep 1): killed any earlier, the
		# daemon fails the start instead, with a message of its own.
		for i in $(seq 100); do pgrep -u "$(id -u)" -x sleep >/dev/null && break; sleep 0.05; done
		pkill -9 -u "$(id -u)" -x fuse-overlayfs
		wait $sbx && echo "sbx ran on" || echo "sbx failed"
		for i in $(seq 100); do pgrep -u "$(id -u)" -x fuse-overlayfs >/dev/null || break; sleep 0.05; done
		{ pgrep -u "$(id -u)" -ax fuse-overlayfs; pgrep -u "$(id -u)" -ax sleep; } || echo nothing-left
		"$SBX" ps -a --format json | jq length
		grep -c fuse-overlayfs /proc/self/mountinfo || :'
	assert_status 0
	assert_output "sbx failed
nothing-left
0
0"
}

@test "fuse-overlayfs: --scratch memory is refused with the reason; --rm keeps its upper layer on disk" {
	run as_user '"$SBX" run --rm --overlay fuse --scratch memory busybox true'
	assert_status 125
	assert_output "sbx: run: --scratch memory cannot be used with --overlay fuse (fuse-overlayfs runs outside the sandbox, away from its memory); use --scratch disk"
}
