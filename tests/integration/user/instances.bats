#!/usr/bin/env bats
# Instances: named, persistent overlays and their lifecycle, as a user.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user"
	cd "$BATS_TEST_TMPDIR"
	sbx image bootstrap busybox >/dev/null 2>&1
	IMAGE=$XDG_DATA_HOME/sbx/images/busybox/rootfs
}

teardown() {
	"$SBX" rm -f $("$SBX" ps -a -q 2>/dev/null) >/dev/null 2>&1 || true
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

image_digest() {
	(cd "$IMAGE" && find . -printf '%p %s %m %T@\n' | sort | sha256sum)
}

wait_running() {
	for _ in $(seq 200); do
		[ "$(sbx ps --format json | jq -r --arg n "$1" '.[] | select(.name == $n) | .status')" = running ] && return 0
		sleep 0.05
	done
	return 1
}

@test "seed: an instance keeps what it wrote, across runs, until rm" {
	before=$(image_digest)
	run sbx run --name goofy_davinci busybox sh -c 'mkdir -p /hello/world; date >> /hello/world/today'
	assert_status 0
	upper=$(sbx inspect goofy_davinci | jq -r .paths.upper)
	[ "$upper" = "$XDG_DATA_HOME/sbx/instances/goofy_davinci/upper" ]
	[ "$(wc -l <"$upper/hello/world/today")" = 1 ]
	[ "$(image_digest)" = "$before" ]
	[ ! -e "$IMAGE/hello" ]
	run sbx start -a goofy_davinci
	assert_status 0
	run -0 sbx run --rm busybox true
	# start -a ran the same command again: a second line in the same file.
	[ "$(wc -l <"$upper/hello/world/today")" = 2 ]
	run sbx diff goofy_davinci
	assert_status 0
	assert_contains "A /hello/world/today"
	run sbx rm goofy_davinci
	assert_status 0
	assert_output goofy_davinci
	[ ! -e "$XDG_DATA_HOME/sbx/instances/goofy_davinci" ]
	[ ! -e "$XDG_RUNTIME_DIR/sbx/goofy_davinci" ]
	[ "$(image_digest)" = "$before" ]
	# The name is free again.
	run sbx run --rm --name goofy_davinci busybox true
	assert_status 0
}

@test "a second instance of the same image does not see the first one's files" {
	sbx run --name one busybox sh -c 'echo mine > /secret'
	run sbx run --name two busybox cat /secret
	assert_status 1
	assert_contains "No such file or directory"
}

@test "names: generated ones look like adjective_surname; bad ones are refused" {
	run sbx run busybox true
	assert_status 0
	run -0 sbx ps -a -q
	[[ "$output" =~ ^[a-z]+_[a-z]+$ ]]
	run sbx run --name -bad busybox true
	assert_status 125
	run sbx run --name 'a/b' busybox true
	assert_status 125
	assert_output 'sbx: run: invalid instance name "a/b": an instance name may only contain letters, digits and "_.-"'
	run sbx run --name "$(printf 'x%.0s' $(seq 64))" busybox true
	assert_status 125
	assert_contains "1 to 63 characters"
}

@test "ps and list: table and JSON, running and stopped" {
	run -3 sbx run --name stopped1 busybox sh -c 'exit 3'
	run sbx run -d --name sleeper busybox sleep 60
	assert_status 0
	assert_output sleeper
	wait_running sleeper
	run sbx ps
	assert_status 0
	[[ "${lines[0]}" =~ ^NAME\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +PROFILE\ +PID$ ]]
	[ "${#lines[@]}" = 2 ]
	[[ "${lines[1]}" =~ ^sleeper\ +busybox\ +sleep\ 60\ +20[0-9-]+T[0-9:]+Z\ +running\ +default\ +[0-9]+$ ]]
	run -0 sbx list -a
	[ "${#lines[@]}" = 3 ]
	[[ "$output" == *"stopped1"*"exited (3)"* ]]
	run sbx ps -a --format json
	assert_status 0
	[ "$(echo "$output" | jq -r '.[] | select(.name == "sleeper") | .status')" = running ]
	[ "$(echo "$output" | jq -r '.[] | select(.name == "stopped1") | .exit_code')" = 3 ]
	[ "$(echo "$output" | jq -r '.[] | select(.name == "stopped1") | .pid')" = null ]
	pid=$(echo "$output" | jq -r '.[] | select(.name == "sleeper") | .pid')
	kill -0 "$pid"
	run -0 sbx ps -q
	assert_output sleeper
}

@test "exec joins a running instance with its namespaces and policy" {
	sbx run -d --name box busybox sh -c 'echo inside > /marker; sleep 60' >/dev/null
	wait_running box
	wait_until sbx exec box test -e /marker 2>/dev/null
	run sbx exec box sh -c 'cat /marker; hostname; grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; ps -o pid,comm | grep -c sleep'
	assert_status 0
	assert_output "inside
sbx
CapBnd:	00000000a80425fb
NoNewPrivs:	1
Seccomp:	2
1"
	run -0 sbx exec -e FOO=bar -w /tmp box sh -c 'echo $FOO; pwd'
	assert_output "bar
/tmp"
	run sbx exec box sh -c 'exit 9'
	assert_status 9
	run -127 sbx exec box nope
	assert_status 127
}

@test "exec into a stopped or missing instance fails clearly" {
	sbx run --name halted busybox true
	run sbx exec halted true
	assert_status 125
	assert_output "sbx: exec: instance \"halted\" is not running; start it with 'sbx start halted'"
	run sbx exec ghost true
	assert_status 125
	assert_output "sbx: exec: instance \"ghost\" not found; see 'sbx ps -a'"
}

@test "stop: TERM then KILL after the timeout; kill sends a signal; logs show output" {
	sbx run -d --name svc busybox sh -c 'echo hello from svc; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
	wait_running svc
	run -0 sbx logs svc
	assert_output "hello from svc"
	run sbx stop svc
	assert_status 0
	assert_output svc
	run -0 sbx ps -a --format json
	[ "$(echo "$output" | jq -r '.[] | select(.name == "svc") | .status')" = exited ]
	[ "$(echo "$output" | jq -r '.[] | select(.name == "svc") | .exit_code')" = 0 ]
	run -0 sbx logs svc
	assert_output "hello from svc
bye"
	# A payload that ignores TERM is killed after -t seconds.
	sbx run -d --name stubborn --no-init busybox sleep 60 >/dev/null
	wait_running stubborn
	start=$(date +%s)
	run sbx stop -t 1 stubborn
	assert_status 0
	[ $(($(date +%s) - start)) -lt 5 ]
	[ "$(sbx ps -a --format json | jq -r '.[] | select(.name == "stubborn") | .exit_code')" = 137 ]
	sbx run -d --name k busybox sh -c 'trap "exit 42" USR1; while :; do sleep 0.1; done' >/dev/null
	wait_running k
	run sbx kill k USR1
	assert_status 0
	wait_until eval '[ "$(sbx ps -q)" = "" ]'
	[ "$(sbx ps -a --format json | jq -r '.[] | select(.name == "k") | .exit_code')" = 42 ]
	run sbx kill k
	assert_status 125
	assert_output 'sbx: kill: instance "k" is not running'
}

@test "logs -f follows until the instance stops" {
	sbx run -d --name talker busybox sh -c 'for i in 1 2 3; do echo line $i; sleep 0.2; done' >/dev/null
	run timeout 20 "$SBX" logs -f talker
	assert_status 0
	assert_output "line 1
line 2
line 3"
}

@test "rm: a running instance needs -f; files the sandbox locked away are removed" {
	sbx run -d --name busy busybox sh -c 'mkdir -p /x/y; touch /x/y/z; chmod 000 /x/y /x; sleep 60' >/dev/null
	wait_running busy
	run sbx rm busy
	assert_status 125
	assert_output "sbx: rm: instance \"busy\" is running; stop it first with 'sbx stop busy' or use 'sbx rm -f busy'"
	[ -d "$XDG_DATA_HOME/sbx/instances/busy" ]
	run sbx rm -f busy
	assert_status 0
	[ ! -e "$XDG_DATA_HOME/sbx/instances/busy" ]
	run ! pgrep -u "$(id -u)" -f 'sleep 60'
	run sbx rm busy
	assert_status 125
	assert_output "sbx: rm: instance \"busy\" not found; see 'sbx ps -a'"
}

@test "start: a running instance cannot be started twice" {
	sbx run -d --name twice busybox sleep 60 >/dev/null
	wait_running twice
	run sbx start twice
	assert_status 125
	assert_output 'sbx: start: cannot start: instance "twice" is running'
}

@test "inspect: config, paths, state and overlay" {
	# Not $PWD itself: it holds sbx's own directories, which no volume may.
	mkdir host
	sbx run --name insp -v "$PWD/host:/host:ro" busybox true
	run sbx inspect insp
	assert_status 0
	[ "$(echo "$output" | jq -r .name)" = insp ]
	[ "$(echo "$output" | jq -r .image)" = busybox ]
	[ "$(echo "$output" | jq -r .state.status)" = exited ]
	[ "$(echo "$output" | jq -r .state.exit_code)" = 0 ]
	[ "$(echo "$output" | jq -r .overlay.lower)" = "$IMAGE" ]
	[ "$(echo "$output" | jq -r .overlay.used)" = kernel ]
	[ "$(echo "$output" | jq -r .network.mode)" = none ]
	[ "$(echo "$output" | jq -r '.config.mounts[] | select(.destination == "/host") | .source')" = "$PWD/host" ]
	"$VALIDATE" "$(echo "$output" | jq -r .paths.config)"
	run sbx inspect nope
	assert_status 125
}

@test "20 parallel runs with the same name: one wins, 19 fail, the winner is unharmed" {
	for i in $(seq 20); do
		(
			rc=0
			"$SBX" run --name same busybox sh -c 'echo winner > /w; sleep 1' >/dev/null 2>"err.$i" || rc=$?
			echo $rc >"rc.$i"
		) &
	done
	wait
	# On failure, show what each loser said.
	for i in $(seq 20); do echo "run $i: exit $(cat rc.$i): $(cat err.$i)"; done
	[ "$(cat rc.* | grep -c '^0$')" = 1 ]
	[ "$(cat rc.* | grep -c '^125$')" = 19 ]
	[ "$(cat err.* | grep -c 'an instance named "same" already exists')" = 19 ]
	[ "$(cat "$XDG_DATA_HOME/sbx/instances/same/upper/w")" = winner ]
	run sbx start -a same
	assert_status 0
}

@test "kill -9 of the launcher at any set-up step: ps says stopped, rm cleans, the name is free" {
	command -v strace >/dev/null || fail "strace is missing: run 'make deps'"
	# strace kills sbx (or its sandbox process) at the Nth call of a syscall:
	# before the instance exists, while it is set up, and while it runs.
	for fault in mkdir:when=3 openat:when=20 write:when=2 clone3 sendmsg:when=2 \
		recvmsg:when=2 openat:when=80 waitid wait4; do
		name=crash_${fault%%:*}_${fault##*=}
		run timeout 60 strace -f -qq -o /dev/null \
			-e inject="${fault%%:*}:signal=KILL${fault#"${fault%%:*}"}" \
			"$SBX" run --name "$name" busybox sleep 5
		wait_while pgrep -u "$(id -u)" -f '^sleep 5$' >/dev/null
		run ! pgrep -u "$(id -u)" -f '^sleep 5$'
		if [ -d "$XDG_DATA_HOME/sbx/instances/$name" ]; then
			[ "$(sbx ps -a --format json | jq -r --arg n "$name" '.[] | select(.name == $n) | .status')" = exited ]
			[ -z "$(sbx ps -q)" ]
			run sbx rm "$name"
			assert_status 0
		fi
		run sbx run --rm --name "$name" busybox true
		assert_status 0
	done
}

@test "the instance lock keeps two runners off one upper layer" {
	sbx run -d --name shared busybox sleep 60 >/dev/null
	wait_running shared
	# Attached or not, a second runner is refused while the first holds the lock.
	run sbx start -a shared
	assert_status 125
	assert_output 'sbx: start: cannot start: instance "shared" is running'
	run sbx start shared
	assert_status 125
	# Once the first runner let go, the layer is free again.
	sbx stop -t 0 shared >/dev/null
	run sbx start shared
	assert_status 0
	assert_output shared
}

@test "rm copes with files owned by subordinate ids (--userns subid)" {
	grep -q "^$(id -un):" /etc/subuid || fail "no /etc/subuid range for $(id -un)"
	run sbx run --name sub --userns subid busybox sh -c 'mkdir -p /data/private && touch /data/private/f && chown -R 1000:1000 /data && chmod 700 /data/private'
	assert_status 0
	upper=$XDG_DATA_HOME/sbx/instances/sub/upper
	[ "$(stat -c %u "$upper/data/private")" != "$(id -u)" ]
	run sbx rm sub
	assert_status 0
	[ ! -e "$XDG_DATA_HOME/sbx/instances/sub" ]
}

@test "image rm refuses an image that an instance still uses as its lower layer" {
	sbx image bootstrap busybox --name base2 >/dev/null
	sbx run --name child base2 true
	run sbx image rm base2
	assert_status 125
	assert_output "sbx: image rm: image \"base2\" is the lower layer of instance \"child\"; remove the instance first ('sbx rm child') or keep the image"
	[ -d "$XDG_DATA_HOME/sbx/images/base2" ]
	sbx rm child
	run sbx image rm base2
	assert_status 0
	[ ! -e "$XDG_DATA_HOME/sbx/images/base2" ]
}

@test "--rm: the upper layer is in memory; nothing is created on disk, ps and exec see it while it runs" {
	before=$(image_digest)
	ls -A "$XDG_DATA_HOME/sbx/instances" >instances.before 2>/dev/null || true
	# The marker is computed in the sandbox: its command line, in config.json, does not hold it.
	sbx run --rm -d --name mem busybox sh -c 'echo $((6*7))-scratch-$((1000+234)) > /w; dd if=/dev/zero of=/big bs=1M count=8 2>/dev/null; sleep 30' >/dev/null
	wait_running mem
	# Only the live directory exists, under the runtime directory.
	[ -f "$XDG_RUNTIME_DIR/sbx/mem/instance.json" ]
	[ ! -e "$XDG_DATA_HOME/sbx/instances/mem" ]
	run sbx ps --format json
	assert_status 0
	[ "$(jq -r '.[] | select(.name == "mem") | .status' <<<"$output")" = running ]
	run sbx exec mem cat /w
	assert_status 0
	assert_output 42-scratch-1234
	run -0 sbx exec mem sh -c 'grep " / " /proc/mounts'
	# The overlay's layers are the fds sbx opened for them (the upper one
	# on the scratch tmpfs): no host path shows in the sandbox.
	assert_contains " overlay "
	assert_contains "upperdir=/proc/self/fd/"
	[[ $output != *"$XDG_RUNTIME_DIR"* && $output != *"$XDG_DATA_HOME"* ]]
	run sbx inspect mem
	assert_status 0
	[ "$(jq -r .overlay.scratch <<<"$output")" = memory ]
	[ "$(jq -r .overlay.upper <<<"$output")" = null ]
	# The writes are nowhere on the host's disk.
	run ! grep -rqs 42-scratch-1234 "$XDG_DATA_HOME/sbx" "$XDG_RUNTIME_DIR/sbx"
	# diff reads the in-memory layer through the sandbox's init.
	run sbx diff mem
	assert_status 0
	assert_contains "A /big"
	assert_contains "A /w"
	[[ $output != *resolv.conf* ]]
	run sbx commit mem img
	assert_status 125
	assert_output 'sbx: commit: instance "mem" keeps its changes in memory (sbx run --rm) and loses them when it stops; to keep them, run with --rm --scratch disk, or without --rm'
	[ ! -e "$XDG_DATA_HOME/sbx/images/img" ]
	# A name an ephemeral instance holds is taken for kept ones too.
	run sbx run --name mem busybox true
	assert_status 125
	assert_output 'sbx: run: an instance named "mem" already exists; remove it with '\''sbx rm mem'\'' or choose another --name'
	[ ! -e "$XDG_DATA_HOME/sbx/instances/mem" ]
	run sbx stop -t 1 mem
	assert_status 0
	wait_while [ -e "$XDG_RUNTIME_DIR/sbx/mem" ]
	[ ! -e "$XDG_RUNTIME_DIR/sbx/mem" ]
	{ ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null || true; } | diff - instances.before
	[ -z "$(sbx ps -a -q)" ]
	[ "$(image_digest)" = "$before" ]
}

@test "--rm: a kept instance's name is taken for an ephemeral one" {
	sbx run --name kept busybox true
	run sbx run --rm --name kept busybox true
	assert_status 125
	assert_output 'sbx: run: an instance named "kept" already exists; remove it with '\''sbx rm kept'\'' or choose another --name'
	[ ! -e "$XDG_RUNTIME_DIR/sbx/kept/instance.json" ]
	[ -d "$XDG_DATA_HOME/sbx/instances/kept/upper" ]
}

@test "--rm --scratch disk: the upper layer is an instance directory while it runs, removed after" {
	sbx run --rm --scratch disk -d --name ondisk busybox sh -c 'echo x > /w; sleep 30' >/dev/null
	wait_running ondisk
	wait_until [ -f "$XDG_DATA_HOME/sbx/instances/ondisk/upper/w" ]
	[ "$(cat "$XDG_DATA_HOME/sbx/instances/ondisk/upper/w")" = x ]
	run sbx diff ondisk
	assert_status 0
	assert_contains "A /w"
	run sbx stop -t 1 ondisk
	assert_status 0
	wait_while [ -e "$XDG_DATA_HOME/sbx/instances/ondisk" ]
	[ ! -e "$XDG_DATA_HOME/sbx/instances/ondisk" ]
	[ ! -e "$XDG_RUNTIME_DIR/sbx/ondisk" ]
}

@test "--rm: the upper layer in memory has a cap: --scratch-size, [limits] scratch, or 1 GiB (a quarter of the RAM if less)" {
	# Its statfs is the overlay's: df / shows the cap.
	kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
	want=$(( (kib / 4 + 3) / 4 * 4 ))
	[ "$want" -lt 1048576 ] || want=1048576
	run sbx run --rm busybox sh -c 'df -k / | tail -1'
	assert_status 0
	[ "$(awk '{ print $2 }' <<<"$output")" = "$want" ]
	# Writing past the cap fails inside with ENOSPC, at the cap exactly.
	run sbx run --rm --scratch-size 8M busybox sh -c 'dd if=/dev/zero of=/big bs=1M count=9 2>&1; stat -c %s /big'
	assert_status 0
	assert_output "dd: error writing '/big': No space left on device
9+0 records in
8+0 records out
8388608"
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\n[limits]\nscratch = 4M\n' >"$XDG_CONFIG_HOME/sbx/profiles/small.ini"
	run -0 sbx profile show small
	assert_contains "scratch = 4M"
	run sbx run --rm --profile small busybox sh -c 'df -k / | tail -1'
	assert_status 0
	[ "$(awk '{ print $2 }' <<<"$output")" = 4096 ]
	# The option wins over the profile.
	run -0 sbx run --rm --profile small --scratch-size 6M busybox sh -c 'df -k / | tail -1'
	[ "$(awk '{ print $2 }' <<<"$output")" = 6144 ]
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx")" ]
}

@test "--scratch-size: a bad size, and no --rm in memory, are usage errors; nothing is created" {
	run sbx run --rm --scratch-size 8Q busybox true
	assert_status 125
	assert_output "sbx: run: --scratch-size \"8Q\": expected a size such as 512K, 64M or 2G
Try 'sbx run --help' for more information."
	run sbx run --scratch-size 8M busybox true
	assert_status 125
	assert_output "sbx: run: --scratch-size needs --rm with the upper layer in memory
Try 'sbx run --help' for more information."
	run sbx run --rm --scratch disk --scratch-size 8M busybox true
	assert_status 125
	assert_output "sbx: run: --scratch-size needs --rm with the upper layer in memory
Try 'sbx run --help' for more information."
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[limits]\nscratch = 0\n' >"$XDG_CONFIG_HOME/sbx/profiles/zero.ini"
	run sbx run --rm --profile zero busybox true
	assert_status 125
	assert_output "$XDG_CONFIG_HOME/sbx/profiles/zero.ini:2: error: invalid scratch \"0\": must be greater than 0 (leave it empty for the default)
sbx: run: profile \"zero\" has 1 error"
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ]
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx" 2>/dev/null)" ]
}

@test "--scratch: a bad value and a missing --rm are usage errors, nothing is created" {
	ls -A "$XDG_DATA_HOME/sbx/instances" >instances.before 2>/dev/null || true
	run sbx run --rm --scratch ram busybox true
	assert_status 125
	assert_output "sbx: run: --scratch \"ram\": expected memory or disk
Try 'sbx run --help' for more information."
	run sbx run --scratch disk busybox true
	assert_status 125
	assert_output "sbx: run: --scratch needs --rm: a kept instance's upper layer is always on disk
Try 'sbx run --help' for more information."
	{ ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null || true; } | diff - instances.before
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx" | grep -v '^\.')" ] || { ls -la "$XDG_RUNTIME_DIR/sbx"; false; }
}

@test "a --rm instance left behind by kill -9 is listed as stopped, cannot start, and rm removes it" {
	sbx run --rm -d --name orphan busybox sleep 30 >/dev/null
	wait_running orphan
	pid=$(jq -r .monitor "$XDG_RUNTIME_DIR/sbx/orphan/state.json")
	kill -9 "$pid"
	for _ in $(seq 100); do [ "$(sbx ps -a --format json | jq -r '.[] | select(.name == "orphan") | .status')" = exited ] && break; sleep 0.05; done
	[ "$(sbx ps -a --format json | jq -r '.[] | select(.name == "orphan") | .status')" = exited ]
	run sbx start orphan
	assert_status 125
	assert_output "sbx: start: instance \"orphan\" ran with --rm and its changes were in memory; remove it with 'sbx rm orphan'"
	run sbx diff orphan
	assert_status 125
	assert_output "sbx: diff: instance \"orphan\" ran with --rm and its changes, kept in memory, are gone; remove it with 'sbx rm orphan'"
	run sbx rm orphan
	assert_status 0
	[ ! -e "$XDG_RUNTIME_DIR/sbx/orphan" ]
	[ -z "$(sbx ps -a -q)" ]
}

@test "--rm reuses the name of a kept instance whose directory is gone (stale state)" {
	sbx run --name gone busybox true
	rm -rf "$XDG_DATA_HOME/sbx/instances/gone"
	[ -f "$XDG_RUNTIME_DIR/sbx/gone/state.json" ]
	run sbx run --rm --name gone busybox echo fine
	assert_status 0
	assert_output fine
	[ ! -e "$XDG_RUNTIME_DIR/sbx/gone" ]
}

@test "40 parallel --rm runs with generated names: all succeed, nothing is left" {
	for i in $(seq 40); do
		(
			rc=0
			"$SBX" run --rm busybox true 2>"err.$i" || rc=$?
			echo $rc >"rc.$i"
		) &
	done
	wait
	for i in $(seq 40); do echo "run $i: exit $(cat rc.$i): $(cat err.$i)"; done
	[ "$(cat rc.* | grep -c '^0$')" = 40 ]
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx")" ]
	[ -z "$(sbx ps -a -q)" ]
}

@test "--rm never takes the directory of an ephemeral instance that someone holds" {
	# What a concurrent `run --rm --name busy` has made so far: the
	# directory and its mount point, no files yet, and the lock, which it
	# takes before the directory has its name.
	mkdir -m 700 "$XDG_RUNTIME_DIR/sbx" "$XDG_RUNTIME_DIR/sbx/busy" "$XDG_RUNTIME_DIR/sbx/busy/scratch"
	run flock "$XDG_RUNTIME_DIR/sbx/busy" "$SBX" run --rm --name busy busybox true
	assert_status 125
	assert_output 'sbx: run: an instance named "busy" already exists; remove it with '\''sbx rm busy'\'' or choose another --name'
	[ -d "$XDG_RUNTIME_DIR/sbx/busy/scratch" ]
	run flock "$XDG_RUNTIME_DIR/sbx/busy" "$SBX" run --name busy busybox true
	assert_status 125
	assert_output 'sbx: run: an instance named "busy" already exists; remove it with '\''sbx rm busy'\'' or choose another --name'
	[ ! -e "$XDG_DATA_HOME/sbx/instances/busy" ]
	run flock "$XDG_RUNTIME_DIR/sbx/busy" "$SBX" rm busy
	assert_status 125
	assert_output "sbx: rm: instance \"busy\" is running; stop it first with 'sbx stop busy' or use 'sbx rm -f busy'"
	[ -d "$XDG_RUNTIME_DIR/sbx/busy/scratch" ]
}

@test "piped into head, sbx --debug run --rm does not die of SIGPIPE and leaves nothing" {
	for i in 1 2 3 4; do
		run bash -c "'$SBX' --debug run --rm busybox true 2>&1 | head -2 >/dev/null; echo \${PIPESTATUS[0]}"
		assert_output 0
	done
	run -0 sbx ps -a -q
	assert_output ""
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx")" ]
}

@test "what a crash left before the instance was recorded: ps -a lists it, rm and the next run remove it" {
	# sbx killed right after making the directories: no files, no lock.
	mkdir -m 700 "$XDG_RUNTIME_DIR/sbx"
	for n in left1 left2 left3; do mkdir -p -m 700 "$XDG_RUNTIME_DIR/sbx/$n/scratch"; done
	run sbx ps -a --format json
	assert_status 0
	[ "$(jq -r '[.[] | "\(.name) \(.status)"] | join(",")' <<<"$output")" = "left1 exited,left2 exited,left3 exited" ]
	run sbx start left1
	assert_status 125
	assert_output "sbx: start: instance \"left1\" ran with --rm and its changes were in memory; remove it with 'sbx rm left1'"
	run sbx rm left1
	assert_status 0
	assert_output left1
	[ ! -e "$XDG_RUNTIME_DIR/sbx/left1" ]
	# The next run with that name, --rm or kept, takes it over.
	run sbx run --rm --name left2 busybox echo fine
	assert_status 0
	assert_output fine
	run sbx run --name left3 busybox echo kept
	assert_status 0
	assert_output kept
	[ -d "$XDG_DATA_HOME/sbx/instances/left3/upper" ]
	[ ! -e "$XDG_RUNTIME_DIR/sbx/left3/scratch" ]
	sbx rm left3 >/dev/null
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx")" ]
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances")" ]
}

@test "what a crash left while an instance was being made (.new) goes with the next run" {
	mkdir -m 700 "$XDG_RUNTIME_DIR/sbx"
	mkdir -p -m 700 "$XDG_RUNTIME_DIR/sbx/.new/0123456789abcdef/scratch" \
		"$XDG_DATA_HOME/sbx/instances/.new/0123456789abcdef/upper"
	run sbx run --rm busybox true
	assert_status 0
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx")" ]
	run sbx run --name kept busybox true
	assert_status 0
	[ "$(ls -A "$XDG_DATA_HOME/sbx/instances")" = kept ]
}

@test "kill -9 of sbx during run --rm and during a kept run: ps -a lists both, rm removes both" {
	"$SBX" run --rm --name gone1 busybox sleep 4241 &
	pid1=$!
	"$SBX" run --name gone2 busybox sleep 4242 &
	pid2=$!
	wait_running gone1
	wait_running gone2
	kill -9 "$pid1" "$pid2"
	wait "$pid1" "$pid2" || true
	run -0 sbx ps -a --format json
	[ "$(jq -r '[.[] | "\(.name) \(.status)"] | join(",")' <<<"$output")" = "gone1 exited,gone2 exited" ]
	run sbx rm gone1 gone2
	assert_status 0
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx")" ]
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances")" ]
	wait_while pgrep -u "$(id -u)" -f '^sleep 424[12]$' >/dev/null
	assert_no_leftover_processes '^sleep 424[12]$'
}

@test "--rm on a kernel before 6.6 (no user xattrs on tmpfs) keeps its upper layer on disk" {
	command -v setarch >/dev/null || fail "setarch (util-linux) is missing"
	# setarch --uname-2.6 makes uname(2) report a 2.6 kernel.
	setarch "$(uname -m)" --uname-2.6 "$SBX" run --rm -d --name old busybox sh -c 'echo x > /w; sleep 30' >/dev/null
	wait_running old
	wait_until [ -f "$XDG_DATA_HOME/sbx/instances/old/upper/w" ]
	[ -f "$XDG_DATA_HOME/sbx/instances/old/upper/w" ]
	sbx stop -t 1 old
	wait_while [ -e "$XDG_DATA_HOME/sbx/instances/old" ]
	[ ! -e "$XDG_DATA_HOME/sbx/instances/old" ]
	run setarch "$(uname -m)" --uname-2.6 "$SBX" run --rm --scratch memory busybox true
	assert_status 125
	assert_output 'sbx: run: --scratch memory needs Linux 6.6 or later (user xattrs on tmpfs, for the overlay'"'"'s whiteouts); use --scratch disk'
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx" 2>/dev/null)" ]
}

@test "logs: on a terminal the payload's escape sequences are escaped; elsewhere bytes are exact" {
	fmt='a\033]0;owned\007b\tc\r\nd\302\233e\033[2J\r\n\bf\n'
	sbx run -d --name esc busybox printf "$fmt" >/dev/null
	wait_until -n 200 eval '[ -z "$(sbx ps -q)" ]'
	[ -z "$(sbx ps -q)" ]
	sbx logs esc >raw
	printf "$fmt" >expected
	cmp raw expected
	run script -qec "'$SBX' logs esc" /dev/null
	assert_status 0
	[[ "$output" != *$'\033'* ]]
	[ "$(printf '%s' "$output" | tr -d '\r')" = "$(printf 'a\\x1b]0;owned\\x07b\tc\nd\\xc2\\x9be\\x1b[2J\n\\x08f')" ]
	run script -qec "'$SBX' logs -f esc" /dev/null
	assert_status 0
	[[ "$output" != *$'\033'* ]]
}

@test "ps: an image path with escape sequences is shown escaped" {
	dir=$BATS_TEST_TMPDIR/$(printf 'root\033[31mfs')
	make_busybox_rootfs "$dir"
	sbx run --name p "$dir" true
	run sbx ps -a
	assert_status 0
	[[ "$output" != *$'\033'* ]]
	[[ "${lines[1]}" == *" $BATS_TEST_TMPDIR/root\\x1b[31mfs "* ]]
}
