#!/usr/bin/env bats
# The image store's lock (sandbox/store/image-lock.h): an flock of the
# images directory, held exclusively while an image is added, replaced or
# removed, and shared while sbx run makes an instance of one. The tests
# hold it from here with flock(1), as another sbx would, and show that the
# other side waits (saying so) and what it does once the lock is released;
# pulls come from Debian's docker-registry on 127.0.0.1, as in pull.bats.
# Every wait here is bounded and fails the test when it runs out; nothing is
# timed.

load ../helpers
load ../registry-helpers
bats_require_minimum_version 1.5.0

setup_file() {
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	local v
	export XDG_DATA_HOME=$BATS_FILE_TMPDIR/data XDG_CONFIG_HOME=$BATS_FILE_TMPDIR/config
	export XDG_CACHE_HOME=$BATS_FILE_TMPDIR/cache
	PORT=$(free_port)
	start_registry registry "$PORT"
	export REGISTRY=127.0.0.1:$PORT
	# Two versions of an image, each saying which it is: pushed to a
	# repository of the test's own as the test needs them.
	for v in v1 v2; do
		make_busybox_rootfs "$BATS_FILE_TMPDIR/$v"
		echo "$v" >"$BATS_FILE_TMPDIR/$v/etc/version"
		sbx image import -q "$v" "$BATS_FILE_TMPDIR/$v"
	done
}

teardown_file() {
	stop_registry registry
	chmod -R u+rwX "$BATS_FILE_TMPDIR" 2>/dev/null || true
}

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	IMAGES=$XDG_DATA_HOME/sbx/images
	HOLDER=
	cd "$BATS_TEST_TMPDIR"
	sbx image bootstrap busybox >/dev/null 2>&1
}

teardown() {
	# A test that failed while holding the lock releases it.
	if [ -n "$HOLDER" ] && kill -0 "$HOLDER" 2>/dev/null; then
		timeout 5 sh -c 'echo go >"$1"' _ "$BATS_TEST_TMPDIR/release" || true
		wait "$HOLDER" 2>/dev/null || true
	fi
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# push VERSION REPO: the image VERSION (v1, v2) as $REGISTRY/test/REPO:latest.
push() {
	XDG_DATA_HOME=$BATS_FILE_TMPDIR/data XDG_CONFIG_HOME=$BATS_FILE_TMPDIR/config \
		XDG_CACHE_HOME=$BATS_FILE_TMPDIR/cache \
		sbx push -q --tls-verify=false "$1" "$REGISTRY/test/$2:latest"
}

# hold -s|-x: holds the store's lock, as another sbx would, until release;
# returns once it is held.
hold() {
	mkfifo "$BATS_TEST_TMPDIR/release"
	flock "$1" "$IMAGES" sh -c 'echo held >"$1/held"; read x <"$1/release"' _ \
		"$BATS_TEST_TMPDIR" 3>&- &
	HOLDER=$!
	wait_for "$BATS_TEST_TMPDIR/held" held
}

release() {
	echo go >"$BATS_TEST_TMPDIR/release"
	wait "$HOLDER"
	HOLDER=
}

# wait_for FILE TEXT [PID]: until FILE holds TEXT, or PID has exited
# (bounded: fails after 30 s). A command that does not wait for the lock
# ends instead, and the checks of the store that follow fail.
wait_for() {
	for _ in $(seq 600); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		[ -z "${3:-}" ] || kill -0 "$3" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "\"$1\" never held \"$2\"; it holds:" >&2
	cat "$1" >&2 2>/dev/null || true
	return 1
}

# What a command that makes an instance says while it waits, and one that
# changes an image.
WAIT_SHARED="waiting for the image store's lock (\"$BATS_TEST_TMPDIR/data/sbx/images\"): another sbx is adding, replacing or removing an image"
WAIT_EXCLUSIVE="waiting for the image store's lock (\"$BATS_TEST_TMPDIR/data/sbx/images\"): another sbx is making an instance of an image, or changing one"

# Everything in the store, dot names included, one line.
store() { ls -A "$IMAGES" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }

@test "image-lock: a pull that replaces an image waits while the store is locked, then replaces it whole" {
	push v1 t1
	run -0 sbx pull -q --tls-verify=false "$REGISTRY/test/t1"
	assert_output t1
	push v2 t1
	hold -x
	sbx pull -q --tls-verify=false "$REGISTRY/test/t1" >pull.out 2>pull.err 3>&- &
	pid=$!
	wait_for pull.err "sbx: $WAIT_EXCLUSIVE" "$pid"
	# Downloaded and extracted, but not in place: t1 is still v1.
	[ "$(cat "$IMAGES/t1/rootfs/etc/version")" = v1 ]
	[ -z "$(find "$IMAGES" -maxdepth 1 -name 't1@*')" ]
	grep -qxF "sbx: $WAIT_EXCLUSIVE" pull.err
	release
	wait "$pid"
	[ "$(cat pull.out)" = t1 ]
	run -0 sbx run --rm t1 cat /etc/version
	assert_output v2
	[ "$(store)" = "busybox t1" ]
}

@test "image-lock: two pulls of the same name wait for the lock; one consistent image, an instance keeps its own" {
	push v1 t2
	sbx pull -q --tls-verify=false "$REGISTRY/test/t2" >/dev/null
	sbx run --name old t2 cat /etc/version >/dev/null
	push v2 t2
	hold -x
	sbx pull -q --tls-verify=false "$REGISTRY/test/t2" >a.out 2>a.err 3>&- &
	a=$!
	sbx pull -q --tls-verify=false "$REGISTRY/test/t2" >b.out 2>b.err 3>&- &
	b=$!
	wait_for a.err "sbx: $WAIT_EXCLUSIVE" "$a"
	wait_for b.err "sbx: $WAIT_EXCLUSIVE" "$b"
	# Neither is in place yet.
	[ "$(cat "$IMAGES/t2/rootfs/etc/version")" = v1 ]
	[ -z "$(find "$IMAGES" -maxdepth 1 -name 't2@*')" ]
	grep -qxF "sbx: $WAIT_EXCLUSIVE" a.err && grep -qxF "sbx: $WAIT_EXCLUSIVE" b.err
	release
	wait "$a"
	wait "$b"
	[ "$(cat a.out)" = t2 ] && [ "$(cat b.out)" = t2 ]
	# One image under the name, and the old one kept once, for "old" only.
	run -0 sbx ps -a --format '{{.Name}} {{.Image}}'
	[[ "$output" =~ ^"old t2@"[0-9]{8}T[0-9]{6}Z$ ]]
	kept=${output#old }
	[ "$(store)" = "busybox t2 $kept" ]
	[ "$(cat "$IMAGES/t2/rootfs/etc/version")" = v2 ]
	[ "$(cat "$IMAGES/$kept/rootfs/etc/version")" = v1 ]
	run -0 sbx start -a old
	assert_output v1
}

@test "image-lock: a pull checks again, under the lock, that the name it replaces is still the image pulled from there" {
	push v1 t3
	sbx pull -q --tls-verify=false "$REGISTRY/test/t3" >/dev/null
	sbx image import -q mine "$BATS_FILE_TMPDIR/v2"
	push v2 t3
	hold -x
	sbx pull -q --tls-verify=false "$REGISTRY/test/t3" >pull.out 2>pull.err 3>&- &
	pid=$!
	wait_for pull.err "sbx: $WAIT_EXCLUSIVE" "$pid"
	[ "$(cat "$IMAGES/t3/rootfs/etc/version")" = v1 ]
	# Meanwhile, as an import would, the name changes hands.
	mv "$IMAGES/t3" "$BATS_TEST_TMPDIR/t3-pulled"
	mv "$IMAGES/mine" "$IMAGES/t3"
	release
	status=0
	wait "$pid" || status=$?
	[ "$status" = 125 ]
	[ "$(tail -1 pull.err)" = "sbx: pull: image \"t3\" already exists and was not pulled from $REGISTRY/test/t3:latest; remove it first with 'sbx image rm t3', or pull under another name with --name" ]
	[ "$(jq -r .source "$IMAGES/t3/image.json")" = "$BATS_FILE_TMPDIR/v2" ]
	[ "$(store)" = "busybox t3" ]
}

@test "image-lock: image rm waits while an instance is being made, then refuses: 125, the instance keeps its image" {
	# What sbx run holds while it makes an instance, until it is recorded.
	hold -s
	sbx image rm busybox >rm.out 2>rm.err 3>&- &
	pid=$!
	wait_for rm.err "sbx: $WAIT_EXCLUSIVE" "$pid"
	[ -d "$IMAGES/busybox/rootfs" ]
	# The instance being made meanwhile (a shared lock is no obstacle).
	run -0 sbx run --name made busybox echo made
	assert_output made
	release
	status=0
	wait "$pid" || status=$?
	[ "$status" = 125 ]
	[ "$(cat rm.err)" = "sbx: $WAIT_EXCLUSIVE
sbx: image rm: image \"busybox\" is the lower layer of instance \"made\"; remove the instance first ('sbx rm made') or keep the image" ]
	[ -z "$(cat rm.out)" ]
	[ "$(store)" = busybox ]
	run -0 sbx start -a made
	assert_output made
}

@test "image-lock: sbx run waits while an image is changed, and holds the lock only until its instance is recorded" {
	hold -x
	sbx run --rm busybox echo ran >run.out 2>run.err 3>&- &
	pid=$!
	wait_for run.err "sbx: $WAIT_SHARED" "$pid"
	[ -z "$(cat run.out)" ]
	grep -qxF "sbx: $WAIT_SHARED" run.err
	release
	wait "$pid"
	[ "$(cat run.out)" = ran ]
	# Detached, attached: while the payload runs, nothing holds the lock,
	# and image rm refuses at once, naming the instance.
	sbx run -d --name bg busybox sleep 1000 >/dev/null
	sbx run --name fg busybox sleep 1000 >/dev/null 2>&1 3>&- &
	fg=$!
	for _ in $(seq 400); do
		[ "$(sbx ps --format '{{.Name}}' | sort | tr '\n' ' ')" = "bg fg " ] && break
		sleep 0.05
	done
	[ "$(sbx ps --format '{{.Name}}' | sort | tr '\n' ' ')" = "bg fg " ]
	flock -n -x "$IMAGES" true
	run -125 sbx image rm busybox
	assert_contains "is the lower layer of instance"
	sbx kill -s KILL bg fg >/dev/null
	wait "$fg" || true
}

@test "image-lock: sbx commit waits while an image is changed, then saves the instance over the image it read" {
	sbx run --name ci busybox sh -c 'echo changed >/etc/version' >/dev/null
	hold -x
	sbx commit -q ci snap >commit.out 2>commit.err 3>&- &
	pid=$!
	# Before it reads which image the instance is of: shared. (It used to
	# copy first and wait only to add the new image, exclusively.)
	wait_for commit.err "sbx: $WAIT_SHARED" "$pid"
	grep -qxF "sbx: $WAIT_SHARED" commit.err
	run grep -F "$WAIT_EXCLUSIVE" commit.err
	assert_status 1
	release
	# Bounded: had it kept its shared lock, it would wait for itself.
	wait_while -n 600 kill -0 "$pid" 2>/dev/null
	if kill -0 "$pid" 2>/dev/null; then
		pkill -9 -u "$(id -u)" -f "commit -q ci snap"
		fail "sbx commit still waits once the store is released"
	fi
	wait "$pid"
	# It gave its shared lock up before it took the store exclusively.
	run -0 grep -c "waiting for the image store" commit.err
	assert_output 1
	run -0 sbx run --rm snap cat /etc/version
	assert_output changed
	sbx rm ci >/dev/null
	sbx image rm snap >/dev/null
}

@test "image-lock: sbx start of a stored instance waits while an image is changed (its lower layer may be renamed)" {
	sbx run --name kept busybox echo started >/dev/null
	hold -x
	sbx start -a kept >start.out 2>start.err 3>&- &
	pid=$!
	wait_for start.err "sbx: $WAIT_SHARED" "$pid"
	[ -z "$(cat start.out)" ]
	grep -qxF "sbx: $WAIT_SHARED" start.err
	release
	wait "$pid"
	[ "$(cat start.out)" = started ]
	# Without a store (an instance of a directory), a start makes none.
	sbx rm kept >/dev/null
	sbx image rm busybox >/dev/null
	rmdir "$IMAGES"
	make_busybox_rootfs root
	sbx run --name fromdir ./root echo fromdir >/dev/null
	run -0 sbx start -a fromdir
	assert_output fromdir
	[ ! -e "$IMAGES" ]
}
