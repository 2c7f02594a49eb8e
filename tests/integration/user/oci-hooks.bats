#!/usr/bin/env bats
# sbx-oci: OCI hooks, --preserve-fds and LISTEN_FDS, pause, resume and
# update, as a user.

load ../helpers
load ../oci-helpers
bats_require_minimum_version 1.5.0

setup() {
	oci_setup
	LOG=$BATS_TEST_TMPDIR/log
	mkdir -p states bundle/rootfs/mnt
}

teardown() {
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# A hook run by the host's sh with script, given KIND as $0, PATH and
# LOG and STATES in its env.
hook() { # KIND SCRIPT [TIMEOUT]
	jq -n --arg k "$1" --arg s "$2" --arg log "$LOG" --arg st "$BATS_TEST_TMPDIR/states" \
		--argjson t "${3:-null}" \
		'{path: "/bin/sh", args: ["sh", "-c", $s, $k],
		  env: ["PATH=/usr/bin:/bin", "LOG=" + $log, "STATES=" + $st]}
		 + (if $t then {timeout: $t} else {} end)'
}

# Appends a hook of KIND that logs "KIND STATUS PID" and keeps its stdin
# as states/KIND.json.
add_logging_hook() { # KIND
	local h
	h=$(hook "$1" 's=$(tee "$STATES/$0.json"); echo "$0 $(echo "$s" | jq -r .status) $(echo "$s" | jq -r .pid)" >>"$LOG"')
	edit ".hooks.$1 += [$h]"
}

add_hook() { # KIND SCRIPT [TIMEOUT]
	local h
	h=$(hook "$@")
	edit ".hooks.$1 += [$h]"
}


@test "hooks: each kind runs once, in the lifecycle's order, with the state of its step" {
	for k in prestart createRuntime createContainer poststart poststop; do
		add_logging_hook "$k"
	done
	# startContainer runs in the container: the state goes to its /tmp.
	edit '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]'
	edit '.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "cat >/tmp/start.json"]}]'
	args '["sh", "-c", "cat /tmp/start.json"]'
	oci_bg create --bundle bundle --pid-file "$PWD/pid" c1
	pid=$(cat pid)
	[ "$(oci state c1 | jq -r .status)" = created ]
	run cat "$LOG"
	assert_output "prestart creating $pid
createRuntime creating $pid
createContainer creating $pid"
	run oci start c1
	assert_status 0
	# poststart runs once the payload runs, before start returns.
	run cat "$LOG"
	[ "${lines[3]}" = "poststart running $pid" ]
	wait_status c1 stopped
	run jq -c '[.status, .pid, .id, .bundle]' bg.out
	assert_output "[\"created\",$pid,\"c1\",\"$PWD/bundle\"]"
	[ "$(wc -l <"$LOG")" = 4 ]
	run oci delete c1
	assert_status 0
	run cat "$LOG"
	[ "${#lines[@]}" = 5 ]
	[ "${lines[4]}" = "poststop stopped 0" ]
	for k in prestart createRuntime createContainer poststart poststop; do
		validate_state "states/$k.json"
		[ "$(jq -r .bundle "states/$k.json")" = "$PWD/bundle" ]
		[ "$(jq -r .id "states/$k.json")" = c1 ]
	done
	jq . bg.out >states/start.json
	validate_state states/start.json
	assert_root_empty
}

@test "hooks: run runs them all too, and annotations reach the state" {
	edit '.annotations = {"org.example.key": "value"}'
	for k in prestart createRuntime createContainer poststart poststop; do
		add_logging_hook "$k"
	done
	edit '.hooks.startContainer = [{"path": "/bin/true"}]'
	# No signal the runtime blocks stays blocked in a hook (its stdout is
	# the runtime's).
	edit '.hooks.poststart += [{"path": "/bin/grep", "args": ["grep", "^SigBlk:", "/proc/self/status"]}]'
	args '["echo", "payload"]'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "payload
SigBlk:	0000000000000000"
	run cut -d' ' -f1,2 "$LOG"
	assert_output "prestart creating
createRuntime creating
createContainer creating
poststart running
poststop stopped"
	[ "$(jq -r '.annotations["org.example.key"]' states/poststop.json)" = value ]
	assert_root_empty
}

@test "createContainer runs in the container's namespaces once its mounts are done; createRuntime in the caller's" {
	edit '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs"}]'
	# Both record their namespaces; createContainer writes into the
	# container's /mnt, a tmpfs of its own mount namespace.
	add_hook createRuntime 'for n in pid net uts ipc; do readlink /proc/self/ns/$n; done >"$STATES/cr.ns"'
	add_hook createContainer 'b=$(jq -r .bundle); for n in pid net uts ipc; do readlink /proc/self/ns/$n; done >"$STATES/cc.ns"; echo from-hook >"$b/rootfs/mnt/hook-file"'
	args '["sh", "-c", "cat /mnt/hook-file; for n in pid net uts ipc; do readlink /proc/self/ns/$n; done"]'
	run oci run --bundle bundle c1
	assert_status 0
	[ "${lines[0]}" = from-hook ]
	printf '%s\n' "${lines[@]:1}" >payload.ns
	run diff states/cc.ns payload.ns
	assert_status 0
	# Not on the host: the hook wrote into the container's own tmpfs.
	[ ! -e bundle/rootfs/mnt/hook-file ]
	for n in pid net uts ipc; do readlink /proc/self/ns/$n; done >self.ns
	run diff states/cr.ns self.ns
	assert_status 0
	run diff states/cr.ns payload.ns
	assert_status 1
}

@test "startContainer runs in the container, its path resolved there, with its env and none of the host's" {
	edit '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}]'
	# A path that exists in the rootfs only.
	printf '#!/bin/sh\n{ echo "$0 $*"; env; readlink /proc/self/ns/pid; } >>/tmp/start.out\n' >bundle/rootfs/inside-hook
	chmod 755 bundle/rootfs/inside-hook
	[ ! -e /inside-hook ]
	edit '.hooks.startContainer = [{"path": "/inside-hook", "args": ["inside-hook", "one"]},
		{"path": "/inside-hook", "args": ["inside-hook", "two"], "env": ["HOOKVAR=set"]}]'
	args '["sh", "-c", "cat /tmp/start.out; readlink /proc/self/ns/pid"]'
	run env SBX_HOST_SECRET=1 "$OCI" --root "$ROOT" run --bundle bundle c1
	assert_status 0
	[ "${lines[0]}" = "/inside-hook one" ]
	[[ "$output" == *"inside-hook two"* ]]
	[[ "$output" == *HOOKVAR=set* ]]
	[[ "$output" != *SBX_HOST_SECRET* ]]
	# The payload's pid namespace, not the caller's.
	[ "$(echo "$output" | grep -cxF "${lines[-1]}")" = 3 ]
	[ "${lines[-1]}" != "$(readlink /proc/self/ns/pid)" ]
}

@test "a hook that outlives its timeout is killed and fails create; poststop runs; nothing is left in --root" {
	add_hook createRuntime 'echo $$ >"$STATES/hook.pid"; exec sleep 1000' 1
	add_logging_hook poststop
	run oci create --bundle bundle c1 </dev/null
	assert_status 125
	assert_output 'sbx-oci: create: createRuntime hook 0 ("/bin/sh") did not finish within its timeout of 1s and was killed'
	hook_pid=$(cat states/hook.pid)
	run kill -0 "$hook_pid"
	assert_status 1
	run pgrep -u "$(id -u)" -f "sleep 1000"
	assert_status 1
	run cat "$LOG"
	assert_output "poststop stopped 0"
	assert_root_empty
	run oci state c1
	assert_status 125
	assert_output 'sbx-oci: state: container "c1" does not exist'
}

@test "a failing createRuntime or createContainer hook fails create and leaves nothing in --root" {
	add_hook createRuntime 'exit 3'
	run oci create --bundle bundle c1 </dev/null
	assert_status 125
	assert_output 'sbx-oci: create: createRuntime hook 0 ("/bin/sh") failed: exit status 3'
	assert_root_empty
	edit 'del(.hooks)'
	add_hook createContainer 'true'
	add_hook createContainer 'kill -9 $$'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: createContainer hook 1 ("/bin/sh") was killed by signal 9 (Killed)'
	assert_root_empty
	edit '.hooks = {"prestart": [{"path": "/no/such/hook"}]}'
	run oci create --bundle bundle c1 </dev/null
	assert_status 125
	assert_output 'sbx-oci: create: prestart hook 0: cannot execute "/no/such/hook": No such file or directory'
	assert_root_empty
	# No process of the container is left.
	run pgrep -u "$(id -u)" -f "^sh -c true$"
	assert_status 1
}

@test "a failing startContainer hook fails start (and run) and stops the container" {
	edit '.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 4"]}]'
	args '["echo", "payload ran"]'
	oci_bg create --bundle bundle c1
	run oci start c1
	assert_status 125
	assert_output 'sbx-oci: start: cannot start container "c1": startContainer hook 0 ("/bin/sh") failed: exit status 4'
	[ "$(oci state c1 | jq -r .status)" = stopped ]
	run grep -c "payload ran" bg.out
	assert_output 0
	oci delete c1
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: startContainer hook 0 ("/bin/sh") failed: exit status 4'
	assert_root_empty
}

@test "a failing poststart hook fails start and stops the container (runtime-spec lifecycle step 9)" {
	add_hook poststart 'exit 5'
	args '["sleep", "1000"]'
	oci_bg create --bundle bundle c1
	run oci start c1
	assert_status 125
	assert_output 'sbx-oci: start: container "c1" was stopped: poststart hook 0 ("/bin/sh") failed: exit status 5'
	[ "$(oci state c1 | jq -r .status)" = stopped ]
	oci delete c1
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: poststart hook 0 ("/bin/sh") failed: exit status 5'
	run pgrep -u "$(id -u)" -f "^sleep 1000$"
	assert_status 1
	assert_root_empty
}

@test "a failing poststop hook only warns: delete goes on and the next hook runs" {
	add_hook poststop 'exit 6'
	add_logging_hook poststop
	args '["true"]'
	oci_bg create --bundle bundle c1
	oci start c1
	wait_status c1 stopped
	run "$OCI" --root "$ROOT" --log "$PWD/oci.log" --log-format json delete c1
	assert_status 0
	assert_output 'sbx-oci: delete: warning: poststop hook 0 ("/bin/sh") failed: exit status 6'
	run cat "$LOG"
	assert_output "poststop stopped 0"
	[ "$(jq -r .level oci.log)" = warning ]
	[ "$(jq -r .msg oci.log)" = 'poststop hook 0 ("/bin/sh") failed: exit status 6' ]
	assert_root_empty
	# run: the same once the payload ended.
	: >"$LOG"
	run oci run --bundle bundle c1
	assert_status 0
	assert_output 'sbx-oci: run: warning: poststop hook 0 ("/bin/sh") failed: exit status 6'
	run cat "$LOG"
	assert_output "poststop stopped 0"
	assert_root_empty
}

@test "hooks that config.json gets wrong are refused by name" {
	edit '.hooks = {"poststart": [{"path": "hook"}]}'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: config.json: hooks.poststart[0].path: "hook" is not an absolute path'
	edit '.hooks = {"poststart": [{"path": "/bin/true", "timeout": 0}]}'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: config.json: hooks.poststart[0].timeout: 0 is not a number of seconds greater than zero'
	edit '.hooks = {"preStart": [{"path": "/bin/true"}]}'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: config.json: hooks: unknown hook kind "preStart"'
	edit '.hooks = {"poststop": [{"path": "/bin/true", "env": [1]}]}'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: config.json: hooks.poststop[0].env[0]: expected a string'
	assert_root_empty
}

@test "features lists every hook kind and validates" {
	oci features >features.json
	run "$VALIDATE" --schema features features.json
	assert_status 0
	run jq -c .hooks features.json
	assert_output '["prestart","createRuntime","createContainer","startContainer","poststart","poststop"]'
	[ "$(jq -r '.annotations["run.sbx.hooks"]' features.json)" = null ]
	for c in checkpoint restore events; do
		[ "$(jq -r ".annotations[\"run.sbx.$c\"]" features.json)" = unsupported ]
	done
}

@test "--preserve-fds N passes exactly fds 3 to 3+N-1; the caller's other fds stay out" {
	echo three >f3
	echo four >f4
	echo five >f5
	# The shell's own fds (ls, its child, lists them; no pipe of the
	# shell's is open meanwhile).
	args '["sh", "-c", "cat <&3; cat <&4; ls /proc/$$/fd; true"]'
	run oci run --preserve-fds 2 --bundle bundle c1 3<f3 4<f4 5<f5 7<f5
	assert_status 0
	assert_output "three
four
$(printf '%s\n' 0 1 2 3 4)"
	# Without it, none.
	args '["sh", "-c", "ls /proc/$$/fd; true"]'
	run oci run --bundle bundle c1 3<f3 4<f4 5<f5
	assert_status 0
	assert_output "$(printf '%s\n' 0 1 2)"
	# create: the same once started.
	oci_bg create --preserve-fds 1 --bundle bundle c1 3<f3 4<f4
	oci start c1
	wait_status c1 stopped
	run cat bg.out
	assert_output "$(printf '%s\n' 0 1 2 3)"
	oci delete c1
	assert_root_empty
}

@test "--preserve-fds: an fd that is not open is refused; nothing is left in --root" {
	echo three >f3
	run oci run --preserve-fds 2 --bundle bundle c1 3<f3 4<&-
	assert_status 125
	assert_output 'sbx-oci: run: --preserve-fds: fd 4 is not open; pass exactly the fds from 3 on that the container gets'
	run oci run --preserve-fds x --bundle bundle c1
	assert_status 125
	assert_output "sbx-oci: run: --preserve-fds 'x' is not a number of fds"
	assert_root_empty
}

@test "LISTEN_FDS: socket activation's fds come first, and LISTEN_PID is the payload's own pid" {
	echo listen >f3
	echo kept >f4
	echo other >f5
	args '["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID $$; cat <&3; cat <&4; ls /proc/$$/fd; true"]'
	run env LISTEN_FDS=1 LISTEN_PID=$$ "$OCI" --root "$ROOT" run --preserve-fds 1 --bundle bundle c1 3<f3 4<f4 5<f5
	assert_status 0
	assert_output "1 1 1
listen
kept
$(printf '%s\n' 0 1 2 3 4)"
	run env LISTEN_FDS=2 "$OCI" --root "$ROOT" run --bundle bundle c1 3<f3 4<&-
	assert_status 125
	assert_output 'sbx-oci: run: LISTEN_FDS: fd 4 is not open; pass exactly the fds from 3 on that the container gets'
	assert_root_empty
}

@test "pause, resume and update rootless: no cgroup of its own, and the error says what to do; checkpoint, restore and events are refused" {
	args '["sleep", "1000"]'
	oci_bg run -d --bundle bundle c1
	for c in pause resume; do
		run oci "$c" c1
		assert_status 125
	done
	run oci pause c1
	assert_output 'sbx-oci: pause: the container has no cgroup of its own; nothing can freeze its processes; rootless, sbx-oci makes one only under a cgroup v2 subtree delegated to the caller (create it from a systemd scope with Delegate=yes: systemd-run --user --scope -p Delegate=yes sbx-oci create ...)'
	run oci resume c1
	assert_output 'sbx-oci: resume: the container has no cgroup of its own; nothing froze its processes; rootless, sbx-oci makes one only under a cgroup v2 subtree delegated to the caller (create it from a systemd scope with Delegate=yes: systemd-run --user --scope -p Delegate=yes sbx-oci create ...)'
	run oci update --memory 64m c1
	assert_status 125
	assert_output 'sbx-oci: update: the container has no cgroup of its own; its limits cannot change; rootless, sbx-oci makes one only under a cgroup v2 subtree delegated to the caller (create it from a systemd scope with Delegate=yes: systemd-run --user --scope -p Delegate=yes sbx-oci create ...)'
	run oci update --memory lots c1
	assert_status 125
	assert_output "sbx-oci: update: --memory 'lots' is not a size (-1: no limit)"
	echo '{"memory": {"kernel": 1}}' >res.json
	run oci update --resources res.json c1
	assert_status 125
	assert_output 'sbx-oci: update: resources.memory.kernel cannot be updated'
	# Still running: nothing was frozen.
	[ "$(oci state c1 | jq -r .status)" = running ]
	for c in checkpoint restore events; do
		run oci "$c" c1
		assert_status 125
		assert_output "sbx-oci: $c: not supported by sbx-oci (features lists it as run.sbx.$c: unsupported)"
	done
	oci delete --force c1
	run oci pause c1
	assert_status 125
	assert_output 'sbx-oci: pause: container "c1" does not exist'
	assert_root_empty
}

@test "a hook outside the sandbox may not lie where the container writes: its root filesystem or a writable volume" {
	mkdir -p share
	printf '#!/bin/sh\necho hook ran >>"%s"\n' "$LOG" >bundle/rootfs/hook
	chmod 755 bundle/rootfs/hook
	edit ".hooks.poststop = [{\"path\": \"$PWD/bundle/rootfs/hook\"}]"
	args '["true"]'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output "sbx-oci: run: config.json: hooks.poststop[0].path: \"$PWD/bundle/rootfs/hook\" is in \"$PWD/bundle/rootfs\", which the container can write; a hook that runs outside it must be out of its reach"
	cp bundle/rootfs/hook share/hook
	edit ".mounts += [{\"destination\": \"/share\", \"type\": \"bind\", \"source\": \"$PWD/share\", \"options\": [\"rbind\"]}]
		| .hooks = {\"createRuntime\": [{\"path\": \"$PWD/share/hook\"}]}"
	run oci create --bundle bundle c1 </dev/null
	assert_status 125
	assert_output "sbx-oci: create: config.json: hooks.createRuntime[0].path: \"$PWD/share/hook\" is in \"$PWD/share\", which the container can write; a hook that runs outside it must be out of its reach"
	[ ! -e "$LOG" ]
	# Read-only, the volume is out of the payload's reach.
	edit '.mounts[-1].options += ["ro"]'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output ""
	run cat "$LOG"
	assert_output "hook ran"
	# startContainer runs inside, as the payload's peer: its path is the
	# container's.
	printf '#!/bin/sh\necho inside >/share/inside\n' >share/inside-hook
	chmod 755 share/inside-hook
	edit '.mounts[-1].options -= ["ro"] | .hooks = {"startContainer": [{"path": "/share/inside-hook"}]}'
	run oci run --bundle bundle c1
	assert_status 0
	[ "$(cat share/inside)" = inside ]
	assert_root_empty
}

@test "sbx start refuses an instance whose config.json was given hooks by hand: only sbx-oci runs them" {
	sbx image bootstrap busybox >/dev/null 2>&1
	sbx run --name kept busybox true
	cfg=$XDG_DATA_HOME/sbx/instances/kept/config.json
	jq --arg log "$LOG" '.hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo ran >>\($log)"]}]}' \
		"$cfg" >cfg.new && mv cfg.new "$cfg"
	run sbx start kept
	assert_status 125
	assert_output "sbx: start: config.json: hooks: sbx run does not run OCI hooks; run the bundle with sbx-oci"
	[ ! -e "$LOG" ]
	sbx rm kept
}
