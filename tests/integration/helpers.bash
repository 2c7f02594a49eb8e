# Shared set-up for the bats suites. Every test gets its own XDG tree, so
# nothing leaks from one test into another.
SBX_TOP=${SBX_TOP:-$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)}
SBX=$SBX_TOP/build/sbx
VALIDATE=$SBX_TOP/../shared/oci-runtime-spec/validate
export SBX_DATADIR=$SBX_TOP

sbx_setup() {
	export XDG_DATA_HOME=$BATS_TEST_TMPDIR/data
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/config
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache
	export SBX_SYSCONFDIR=$BATS_TEST_TMPDIR/etc
	# Live state per test too: ephemeral (--rm) instances live there.
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
	mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
	mkdir -p -m 700 "$XDG_RUNTIME_DIR"
}

setup() { sbx_setup; }

# The rootless suites' set-up: as a user, in the test's own directory, with
# busybox bootstrapped (its notice kept out of the tests' output).
sbx_user_setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	cd "$BATS_TEST_TMPDIR" || return 1
	sbx image bootstrap busybox >/dev/null 2>&1
}

# Overlay work dirs are left mode 000 by the kernel; let bats clean up.
# A test that starts a sandbox in the background names it in SBX_BG_PIDS
# and its payload's command line in SBX_BG_KILL (a pgrep pattern), and one
# that makes sbx-oci containers their --root in SBX_OCI_ROOT: killed or
# deleted here if the test failed before it could end them, so that bats
# does not wait for a payload holding its output.
teardown() {
	if [ -n "${SBX_BG_PIDS:-}" ]; then
		# shellcheck disable=SC2086
		kill -9 $SBX_BG_PIDS 2>/dev/null || true
	fi
	if [ -n "${SBX_BG_KILL:-}" ]; then
		pkill -9 -u "$(id -u)" -f "$SBX_BG_KILL" 2>/dev/null || true
	fi
	# Containers a test left under an sbx-oci --root of its own.
	local id
	if [ -n "${SBX_OCI_ROOT:-}" ] && [ -d "$SBX_OCI_ROOT" ]; then
		for id in $(ls -A "$SBX_OCI_ROOT"); do
			"$SBX_TOP/build/sbx-oci" --root "$SBX_OCI_ROOT" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	if [ -S "$BATS_TEST_TMPDIR/tmux.sock" ]; then
		tmux -S "$BATS_TEST_TMPDIR/tmux.sock" kill-server 2>/dev/null || true
	fi
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

sbx() { "$SBX" "$@"; }

# wait_until [-n STEPS] CMD...: runs CMD every 0.05 s until it succeeds,
# at most STEPS times (default 100: 5 s); wait_while, while it succeeds.
# CMD's words are expanded once: `eval '...'` re-expands a $(...) at each
# try. Both return 0: the check after them decides, with its own message,
# and nothing is timed.
wait_until() {
	local steps=100 i
	if [ "$1" = -n ]; then
		steps=$2
		shift 2
	fi
	for ((i = 0; i < steps; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 0
}

wait_while() {
	local steps=()
	if [ "$1" = -n ]; then
		steps=(-n "$2")
		shift 2
	fi
	wait_until "${steps[@]}" sbx_not "$@"
}

sbx_not() { ! "$@"; }

# A busybox root filesystem made by hand from Debian's busybox-static, for
# tests that must not depend on sbx's own image code.
make_busybox_rootfs() {
	local dir=$1
	mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/root"
	cp /bin/busybox "$dir/bin/busybox"
	for a in $("$dir/bin/busybox" --list); do
		[ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
	echo 'root:x:0:' >"$dir/etc/group"
	printf '127.0.0.1\tlocalhost\n' >"$dir/etc/hosts"
}

# Fails the test (or the set-up) with a message: bats-support's fail, which
# bats itself does not have.
fail() {
	printf '%s\n' "$*" >&2
	return 1
}

# Fails the test with the output shown when the last `run` did not exit $1.
assert_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected exit $1, got $status; output:" >&2
		echo "$output" >&2
		return 1
	fi
}

assert_output() {
	if [ "$output" != "$1" ]; then
		printf 'expected output:\n%s\ngot:\n%s\n' "$1" "$output" >&2
		return 1
	fi
}

assert_contains() {
	case "$output" in
	*"$1"*) ;;
	*) printf 'expected output to contain:\n%s\ngot:\n%s\n' "$1" "$output" >&2; return 1 ;;
	esac
}

# No process of ours may still run anything from the sandbox.
assert_no_leftover_processes() {
	local left
	left=$(pgrep -u "$(id -u)" -f "${1:-sbx-test-marker}" || true)
	[ -z "$left" ] || { echo "left-over processes: $left" >&2; ps -fp $left >&2; return 1; }
}
