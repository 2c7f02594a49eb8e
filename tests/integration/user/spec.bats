#!/usr/bin/env bats
# sbx spec: every generated config.json passes the OCI schema, and a bundle
# runs under runc as the same unprivileged user.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user"
	cd "$BATS_TEST_TMPDIR"
	mkdir -p share
}

validate() {
	run "$VALIDATE" "$@"
	if [ "$status" -ne 0 ]; then
		echo "$output" >&2
		return 1
	fi
}

@test "every shipped profile gives a valid config" {
	for f in "$SBX_TOP"/profiles/*.ini; do
		name=$(basename "$f" .ini)
		sbx spec --profile "$name" busybox >"$name.json"
		validate "$name.json"
	done
}

@test "a matrix of command-line options gives valid configs" {
	local i=0
	while IFS= read -r opts; do
		i=$((i + 1))
		eval "sbx spec $opts busybox sh -c true" >"m$i.json" || { echo "failed: $opts" >&2; return 1; }
		validate "m$i.json"
	done <<EOF2
-v $PWD/share:/host
-v $PWD/share:/host:ro -v $PWD/share:/other:rw
-e A=1 -e B= -w /tmp --hostname box
--network host
--network none --read-only
--tmpfs /scratch:size=10M,mode=700 --tmpfs /t2
--cap-add NET_ADMIN --cap-drop chown
--cap-drop ALL
--seccomp unconfined
--user 0:0
--userns subid --user 1000:1000
--profile strict -v $PWD/share:/host:ro
--profile host-net --init
--no-init -t
EOF2
}

@test "the config carries what the profile says" {
	sbx spec -v "$PWD/share:/host:ro" -e FOO=bar --hostname box busybox echo hi >c.json
	[ "$(jq -r .hostname c.json)" = box ]
	[ "$(jq -c .process.args c.json)" = '["echo","hi"]' ]
	jq -e '.process.env | index("FOO=bar")' c.json
	jq -e '.mounts[] | select(.destination == "/host") | select(.type == "bind" and .source == "'"$PWD"'/share") | .options | index("ro") and index("rbind")' c.json
	[ "$(jq -c .linux.uidMappings c.json)" = "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" ]
	jq -e '.linux.namespaces | map(.type) | index("network") and index("pid") and index("user")' c.json
	jq -e '.linux.maskedPaths | index("/proc/kcore")' c.json
	jq -e '.linux.readonlyPaths | index("/proc/sys")' c.json
	[ "$(jq -r .linux.seccomp.defaultAction c.json)" = SCMP_ACT_ERRNO ]
	[ "$(jq -r '.annotations["run.sbx.profile"]' c.json)" = default ]
	[ "$(jq -r .process.noNewPrivileges c.json)" = true ]
	jq -e '.process.capabilities.bounding | index("CAP_NET_BIND_SERVICE")' c.json
	# Host networking shares the netns and binds /sys instead of mounting it.
	sbx spec --network host busybox >h.json
	run ! jq -e '.linux.namespaces | map(.type) | index("network")' h.json
	jq -e '.mounts[] | select(.destination == "/sys") | select(.type == "bind")' h.json
}

@test "--userns subid adds the subordinate range" {
	grep -q "^$(id -un):" /etc/subuid || fail "no /etc/subuid range for $(id -un)"
	sbx spec --userns subid busybox >s.json
	start=$(grep "^$(id -un):" /etc/subuid | head -1 | cut -d: -f2)
	count=$(grep "^$(id -un):" /etc/subuid | head -1 | cut -d: -f3)
	[ "$(jq -c .linux.uidMappings s.json)" = "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1},{\"containerID\":1,\"hostID\":$start,\"size\":$count}]" ]
}

@test "round trip: a bundle from sbx spec runs under runc" {
	command -v runc >/dev/null || fail "runc is missing: run 'make deps'"
	rootfs=$BATS_TEST_TMPDIR/busybox-rootfs
	make_busybox_rootfs "$rootfs"
	run sbx spec --bundle bundle -v "$PWD/share:/host" "$rootfs" sh -c 'echo ok > /host/out'
	assert_status 0
	[ -f bundle/config.json ] && [ -x bundle/rootfs/bin/busybox ]
	validate bundle/config.json
	[ "$(jq -r .root.path bundle/config.json)" = rootfs ]
	cd bundle
	runc --root "$BATS_TEST_TMPDIR/runc" run "sbx-test-$$"
	[ "$(cat ../share/out)" = ok ]
	[ "$(stat -c %u ../share/out)" = "$(id -u)" ]
}

@test "errors: no image, a bad profile, an unknown option" {
	run sbx spec
	assert_status 125
	assert_output "sbx: spec: no image given
Try 'sbx spec --help' for more information."
	run sbx spec --frobnicate busybox
	assert_status 125
	assert_output "sbx: spec: unknown option '--frobnicate'
Try 'sbx spec --help' for more information."
	run sbx spec -v relative:/x busybox
	assert_status 125
	run sbx spec --bundle b -v "$PWD/share:/proc/x" busybox
	assert_status 125
	[ ! -e b ]
}
