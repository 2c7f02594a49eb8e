# Shared by the rootless sbx-oci suites (user/oci-*.bats), loaded after
# helpers.bash: a bundle of busybox with runc's default config.json, and
# the sbx-oci command on a --root of the test's own.

# setup's part: bundle/rootfs, bundle/config.json from `sbx-oci spec` with
# $@ as its options (--rootless) and process.terminal false; OCI and ROOT.
oci_setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user"
	cd "$BATS_TEST_TMPDIR"
	OCI=$SBX_TOP/build/sbx-oci
	ROOT=$BATS_TEST_TMPDIR/oci-root
	mkdir -p bundle
	make_busybox_rootfs bundle/rootfs
	(cd bundle && "$OCI" spec "$@")
	edit '.process.terminal = false'
}

oci() { "$OCI" --root "$ROOT" "$@"; }

# create and run -d leave a container that holds its stdio: never a pipe
# that `run` waits on. Its output goes to bg.out.
oci_bg() { "$OCI" --root "$ROOT" "$@" </dev/null >>"$BATS_TEST_TMPDIR/bg.out" 2>&1; }

# Edits bundle/config.json with jq: a filter, after jq's own options if
# any (--arg, --argjson).
edit() {
	jq "$@" bundle/config.json >bundle/c.json && mv bundle/c.json bundle/config.json
}

# The container's process.args: the JSON array $1.
args() {
	edit ".process.args = $1"
}

# --root holds nothing once every container is deleted.
assert_root_empty() {
	if [ -d "$ROOT" ]; then
		run ls -A "$ROOT"
		assert_output ""
	fi
}

# Waits (boundedly) until the container's state says $2.
wait_status() {
	local i
	for i in $(seq 1 300); do
		[ "$(oci state "$1" | jq -r .status)" = "$2" ] && return 0
		sleep 0.05
	done
	echo "container $1 never became $2: $(oci state "$1")" >&2
	return 1
}

# The state in file $1 is valid against the runtime-spec's schema.
validate_state() {
	run "$VALIDATE" --schema state "$1"
	if [ "$status" -ne 0 ]; then
		echo "$output" >&2
		return 1
	fi
}
