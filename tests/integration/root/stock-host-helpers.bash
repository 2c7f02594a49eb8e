# Shared by the root suites whose user's part runs on a stock host
# (network.bats, oci-podman.bats): these machines' /dev/net/tun is
# root-only, so the test user's scripts run under ../shared/bin/stock-host,
# which shows a 0666 /dev/net/tun in a private mount namespace.

# setup's part: runs as root only; USER_NAME, STOCK_HOST, and WORK, a
# directory of the test user's made with the prefix $1; $2... are the
# commands the suite needs.
stock_host_setup() { # NAME COMMAND...
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root"
	USER_NAME=${SBX_TEST_USER:-sbxtest}
	STOCK_HOST=$SBX_TOP/../shared/bin/stock-host
	[ -x "$STOCK_HOST" ] || fail "missing $STOCK_HOST"
	local name=$1 c
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null || fail "$c is missing: run 'make deps'"
	done
	WORK=$(mktemp -d "/tmp/sbx-$name.XXXXXX")
	chmod 755 "$WORK"
	chown "$USER_NAME:" "$WORK"
	AS_USER_ENV=()
}

# teardown's part: whatever a failed test left running in $WORK, or with
# $WORK on its command line, goes; then $WORK.
stock_host_teardown() {
	local p
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/cwd" 2>/dev/null) $(cat "$p/cmdline" 2>/dev/null | tr '\0' ' ')" in
		*"$WORK"*) kill -9 "${p#/proc/}" 2>/dev/null || true ;;
		esac
	done
	chmod -R u+rwX "$WORK" 2>/dev/null || true
	rm -rf "$WORK"
}

# What every user's script starts with, before the suite's $LIB.
read -r -d '' STOCK_HOST_LIB <<'EOF_LIB' || true
cd "$HOME"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
EOF_LIB

# Runs a bash script as the test user on a stock host, with its own XDG
# directories under $WORK, the suite's AS_USER_ENV (NAME=VALUE words) in
# its environment and its $LIB before it.
as_user() {
	"$STOCK_HOST" setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$WORK" LANG=C.UTF-8 \
		XDG_RUNTIME_DIR="$WORK/run" XDG_DATA_HOME="$WORK/data" \
		XDG_CONFIG_HOME="$WORK/config" "${AS_USER_ENV[@]}" \
		bash -euc "$STOCK_HOST_LIB
$LIB
$1" 3>&-
}
