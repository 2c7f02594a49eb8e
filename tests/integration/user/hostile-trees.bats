#!/usr/bin/env bats
# The host-side tools that walk what a payload wrote (rm, image rm, diff,
# commit) against hostile trees: too deep for one fd a level, unreadable,
# owned by subordinate ids, and changed under the walk by a live payload
# that swaps a directory for a symbolic link to a host file.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	IMAGES=$XDG_DATA_HOME/sbx/images
	INSTANCES=$XDG_DATA_HOME/sbx/instances
	HELPERS=$SBX_TOP/build/helpers
	cd "$BATS_TEST_TMPDIR"
	sbx -q image bootstrap busybox
	touch "$IMAGES/busybox/rootfs/etc/resolv.conf"
	# Host files a racing payload points its links at.
	CANARY=$BATS_TEST_TMPDIR/canary
	mkdir -m 0750 "$CANARY"
	echo "canary-content-4711" >"$CANARY/secret"
	chmod 0640 "$CANARY/secret"
	touch "$CANARY/canary-name-4712"
}

teardown() {
	"$SBX" rm -f $("$SBX" ps -a -q 2>/dev/null) >/dev/null 2>&1 || true
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# The canary is as setup made it: content, modes, entries.
assert_canary() {
	[ "$(cat "$CANARY/secret")" = canary-content-4711 ]
	[ "$(stat -c %a "$CANARY/secret")" = 640 ]
	[ "$(stat -c %a "$CANARY")" = 750 ]
	[ "$(ls -A "$CANARY" | tr '\n' ' ')" = "canary-name-4712 secret " ]
}

# A busybox root with the racing helper in it.
racer_image() {
	cp "$HELPERS/swapdir" "$IMAGES/busybox/rootfs/bin/swapdir"
	racer_sbx -q image bootstrap busybox
	cp "$HELPERS/swapdir" "$BATS_TEST_TMPDIR/racer-data/sbx/images/busybox/rootfs/bin/swapdir"
}

# A racer that reaches into sbx's instances needs a store of its own: sbx
# refuses its own data directory as a volume.
racer_sbx() {
	XDG_DATA_HOME=$BATS_TEST_TMPDIR/racer-data "$SBX" "$@"
}

@test "rm: 1100 nested directories under 'ulimit -n 1024'" {
	sbx -q run --name deep busybox sh -c \
		'i=0; while [ $i -lt 1100 ]; do mkdir d && cd d || exit 1; i=$((i+1)); done; echo x >f; chmod 000 .; cd /; chmod 000 /d/d/d'
	[ -d "$INSTANCES/deep/upper/d/d/d" ]
	run bash -c "ulimit -n 1024 && '$SBX' rm deep"
	assert_status 0
	assert_output deep
	[ ! -e "$INSTANCES/deep" ]
	run -0 sbx ps -a -q
	assert_output ""
}

@test "image rm: a tarball of 500 nested directories under 'ulimit -n 256'" {
	mkdir tree
	(cd tree && mkdir -p "$(printf 'd/%.0s' $(seq 500))" && tar cf ../deep.tar d)
	rm -r tree
	sbx -q image import deep deep.tar
	[ -d "$IMAGES/deep/rootfs/d/d/d" ]
	chmod 000 "$IMAGES/deep/rootfs/d/d"
	run bash -c "ulimit -n 256 && '$SBX' image rm deep"
	assert_status 0
	[ "$(ls -A "$IMAGES" | tr '\n' ' ')" = "busybox " ]
}

@test "sbx raises its own soft fd limit; the payload keeps the caller's" {
	# commit copies with fds for each level of a 300-deep tree.
	sbx -q run --name deep busybox sh -c \
		'i=0; while [ $i -lt 300 ]; do mkdir d && cd d || exit 1; i=$((i+1)); done; echo x >f'
	[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 2048 ] || skip "the hard fd limit is below 2048"
	run bash -c "ulimit -Sn 256 && '$SBX' -q commit deep deepimg"
	assert_status 0
	[ "$(cat "$IMAGES/deepimg/rootfs/$(printf 'd/%.0s' $(seq 300))f")" = x ]
	run -0 bash -c "set -o pipefail; ulimit -Sn 256 && '$SBX' -q diff deep | wc -l"
	assert_output 301
	# Without nofile in the profile, the payload gets the caller's limits.
	run bash -c "ulimit -Sn 500 && '$SBX' run --rm busybox sh -c 'ulimit -Sn; ulimit -Hn'"
	assert_status 0
	assert_output "500
$(ulimit -Hn)"
}

@test "diff: a directory the payload made chmod 000, and the upper root itself" {
	sbx -q run --name locked busybox sh -c 'mkdir -p /z/y && echo hi >/z/y/f && chmod 000 /z/y /z'
	run sbx diff locked
	assert_status 0
	assert_output "A /z
A /z/y
A /z/y/f"
	# Read, not repaired: the modes stay as the payload left them.
	[ "$(stat -c %a "$INSTANCES/locked/upper/z")" = 0 ]
	sbx -q run --name root000 busybox sh -c 'echo x >/new && chmod 000 /'
	run sbx diff root000
	assert_status 0
	assert_output "A /new"
}

@test "diff and commit: subordinate-owned 0700 directories under --userns subid" {
	command -v newuidmap >/dev/null || fail "newuidmap is missing: run 'make deps'"
	grep -q "^$(id -un):" /etc/subuid || fail "no /etc/subuid range for $(id -un)"
	sbx -q run --userns subid --name sub busybox sh -c \
		'mkdir /d; echo x >/d/f; chown -R 1000:1000 /d; chmod 700 /d'
	[ "$(stat -c %u "$INSTANCES/sub/upper/d")" != "$(id -u)" ]
	run sbx diff sub
	assert_status 0
	assert_output "A /d
A /d/f"
	run sbx -q commit sub subimg
	assert_status 0
	assert_output ""
	run sbx run --rm subimg cat /d/f
	assert_status 0
	assert_output x
	run sbx rm sub
	assert_status 0
	[ ! -e "$INSTANCES/sub" ]
}

@test "diff: a running payload swaps a directory for links to host files, 200 times" {
	racer_image
	sbx run -d --name racer busybox sh -c \
		"swapdir / r '$CANARY' & swapdir /tmp s '$CANARY/secret' & wait" >/dev/null
	for i in $(seq 200); do
		format=text
		[ $((i % 2)) = 0 ] || format=json
		run sbx diff --format $format racer
		case "$output" in
		*canary-*) echo "diff showed the host: $output" >&2; return 1 ;;
		esac
	done
	# It did race: the payload's links are in the upper layer. Each look
	# races the swaps too (both names can read as directories), so look
	# until one reads as the link.
	raced=0
	for _ in $(seq 1000); do
		if links_to_canary "$INSTANCES/racer/upper" r; then
			raced=1
			break
		fi
	done
	[ "$raced" = 1 ] || fail "the payload never made its links in the upper layer"
	sbx rm -f racer >/dev/null
	assert_canary
}

# Whether NAME or its swap partner in DIR is now a link to the canary.
links_to_canary() {
	local n
	for n in "$1/$2" "$1/.$2-link"; do
		case "$(readlink "$n" 2>/dev/null)" in
		"$CANARY"*) return 0 ;;
		esac
	done
	return 1
}

# Whether swapdir made NAME and its link in DIR yet.
swapping() {
	[ -L "$1/$2" ] || [ -L "$1/.$2-link" ]
}

# rm -f stops a payload before it removes its instance; this payload is
# another sandbox given the instances directory as a volume, racing rm in
# each instance that is being removed.
@test "rm: a live payload swaps directories for links to host files, 200 times" {
	racer_image
	sbx -q run --name tmpl busybox true
	chmod -R u+rwX "$INSTANCES/tmpl" # the kernel's work/work, for cp
	racer_sbx run -d --name racer -v "$INSTANCES:/inst" busybox sh -c \
		"swapdir /inst/victim/upper x '$CANARY/secret' & swapdir /inst/victim/upper y '$CANARY' &
		 swapdir /inst/victim/upper z '$CANARY/secret' & wait" >/dev/null
	raced=0
	for i in $(seq 200); do
		cp -a "$INSTANCES/tmpl" "$INSTANCES/victim"
		upper=$INSTANCES/victim/upper
		for _ in $(seq 1000); do
			swapping "$upper" x && swapping "$upper" y && swapping "$upper" z && break
			sleep 0.01
		done
		if swapping "$upper" x; then raced=$((raced + 1)); fi
		run sbx rm victim
		# A racing payload may make rm fail; it must never reach the host.
		assert_canary
		[ ! -e "$INSTANCES/victim" ] || mv "$INSTANCES/victim" "$INSTANCES/left-$i"
	done
	[ "$raced" -gt 0 ]
	racer_sbx rm -f racer >/dev/null
	assert_canary
	# Once nothing races it, rm removes whatever the race left.
	left=$(cd "$INSTANCES" && ls -d left-* 2>/dev/null || true)
	if [ -n "$left" ]; then
		run sbx -q rm $left
		assert_status 0
	fi
	[ "$(ls -A "$INSTANCES" | tr '\n' ' ')" = "tmpl " ]
}

@test "commit: a live payload swaps directories for links to host files, 200 times" {
	racer_image
	sbx -q run --name victim busybox true
	racer_sbx run -d --name racer -v "$INSTANCES/victim/upper:/u" busybox sh -c \
		"swapdir /u x '$CANARY' & swapdir /u y '$CANARY/secret' & wait" >/dev/null
	for i in $(seq 200); do
		run sbx -q commit victim img
		if [ "$status" = 0 ]; then
			chmod -R u+rwX "$IMAGES/img" # the payload's mode 000 directories
			run -1 grep -rl -e canary-content-4711 -e canary-name-4712 "$IMAGES/img"
			assert_output ""
			[ -z "$(find "$IMAGES/img" -name 'canary-*')" ]
			sbx image rm img >/dev/null
		fi
		assert_canary
	done
	racer_sbx rm -f racer >/dev/null
	sbx rm -f victim >/dev/null
	assert_canary
}
