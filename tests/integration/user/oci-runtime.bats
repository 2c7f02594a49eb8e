#!/usr/bin/env bats
# sbx-oci: runc's command line on bundles sbx did not make, as a user.

load ../helpers
load ../oci-helpers
bats_require_minimum_version 1.5.0

setup() {
	oci_setup
	mkdir -p share
}

# podman's storage belongs to subordinate ids: removed from its user
# namespace, before the helpers' teardown.
teardown() {
	if [ -d "$XDG_DATA_HOME/containers" ]; then
		HOME=$BATS_TEST_TMPDIR/home podman unshare rm -rf "$XDG_DATA_HOME/containers" || true
	fi
	# podman's pause process (catatonit) for this test's runtime directory.
	if [ -f "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" ]; then
		kill "$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid")" 2>/dev/null || true
	fi
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

@test "sbx-oci --version: runc's lines, which go-runc parses" {
	run "$OCI" --version
	assert_status 0
	[ "${lines[0]}" = "sbx-oci version $("$SBX" --version | cut -d' ' -f2)" ]
	[[ "${lines[1]}" =~ ^spec:\ 1\.[0-9]+\.[0-9]+$ ]]
	# The same through sbx itself.
	run sbx oci --version
	assert_status 0
	[ "${lines[0]}" = "sbx-oci version $("$SBX" --version | cut -d' ' -f2)" ]
}

@test "spec: a valid config.json, runc's defaults; --rootless maps the caller; an existing one is kept" {
	run "$VALIDATE" bundle/config.json
	assert_status 0
	[ "$(jq -r .root.path bundle/config.json)" = rootfs ]
	[ "$(jq -c .process.args bundle/config.json)" = '["sh"]' ]
	run "$OCI" spec --bundle bundle
	assert_status 125
	assert_output "sbx-oci: spec: \"bundle/config.json\" exists; remove it first"
	mkdir rl
	"$OCI" spec --rootless --bundle rl
	run "$VALIDATE" rl/config.json
	assert_status 0
	[ "$(jq '.linux.uidMappings[0].hostID' rl/config.json)" = "$(id -u)" ]
	[ "$(jq '.linux.gidMappings[0].hostID' rl/config.json)" = "$(id -g)" ]
	jq -e '.linux.namespaces | index({"type": "user"})' rl/config.json
}

@test "run: stdout passes through, exit codes 0, 3, 126 and 127; nothing left in --root" {
	args '["sh", "-c", "echo out; echo err >&2"]'
	run --separate-stderr oci run --bundle bundle c1
	assert_status 0
	assert_output "out"
	[ "$stderr" = err ]
	args '["sh", "-c", "exit 3"]'
	run oci run --bundle bundle c1
	assert_status 3
	args '["/etc"]'
	run oci run --bundle bundle c1
	assert_status 126
	assert_output 'sbx-oci: run: cannot execute "/etc": Permission denied'
	args '["no-such-command"]'
	run -127 oci run --bundle bundle c1
	assert_status 127
	assert_output 'sbx-oci: run: "no-such-command": executable file not found in $PATH'
	# The bundle is the current directory by default.
	args '["echo", "here"]'
	cd bundle
	run oci run c1
	assert_status 0
	assert_output here
	assert_root_empty
}

@test "run: the default spec's namespaces, hostname and user, rootless" {
	args '["sh", "-c", "hostname; id -u; echo $$; cat /proc/self/uid_map"]'
	run oci run --bundle bundle c1
	assert_status 0
	[ "${lines[0]}" = sbx ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = 1 ]
	[ "$(echo "${lines[3]}" | awk '{print $1, $2, $3}')" = "0 $(id -u) 1" ]
}

@test "create, state (created), start, state (running, then stopped), delete" {
	edit ".mounts += [{\"destination\": \"/share\", \"type\": \"bind\", \"source\": \"$PWD/share\", \"options\": [\"rbind\"]}]"
	args '["sh", "-c", "echo started > /share/out; while [ ! -e /share/go ]; do sleep 0.05; done; echo done > /share/out"]'
	oci_bg create --bundle bundle --pid-file "$PWD/pid" c1
	[ ! -s bg.out ]
	oci state c1 >state.json
	validate_state state.json
	[ "$(jq -r .status state.json)" = created ]
	[ "$(jq -r .id state.json)" = c1 ]
	[ "$(jq -r .bundle state.json)" = "$PWD/bundle" ]
	[ "$(jq -r .ociVersion state.json)" = "$("$OCI" --version | sed -n 's/^spec: //p')" ]
	pid=$(cat pid)
	[ "$(jq -r .pid state.json)" = "$pid" ]
	# Blocked before exec: the payload wrote nothing yet.
	[ ! -e share/out ]
	# An orphan: no sbx process holds it.
	ppid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")
	[ "$ppid" != "$$" ]
	run cat "/proc/$ppid/comm"
	[ "$output" != sbx-oci ] && [ "$output" != sbx ]
	run oci start c1
	assert_status 0
	for i in $(seq 1 300); do [ -s share/out ] && break; sleep 0.05; done
	[ "$(cat share/out)" = started ]
	oci state c1 >state.json
	validate_state state.json
	[ "$(jq -r .status state.json)" = running ]
	[ "$(jq -r .pid state.json)" = "$pid" ]
	run oci start c1
	assert_status 125
	assert_output 'sbx-oci: start: cannot start container "c1": it is running'
	touch share/go
	wait_status c1 stopped
	oci state c1 >state.json
	validate_state state.json
	[ "$(jq -r .pid state.json)" = 0 ]
	[ "$(cat share/out)" = done ]
	run oci start c1
	assert_status 125
	assert_output 'sbx-oci: start: cannot start container "c1": it is stopped'
	run oci delete c1
	assert_status 0
	assert_root_empty
}

@test "a created container that is deleted with --force never runs" {
	edit ".mounts += [{\"destination\": \"/share\", \"type\": \"bind\", \"source\": \"$PWD/share\", \"options\": [\"rbind\"]}]"
	args '["sh", "-c", "echo ran > /share/out"]'
	oci_bg create --bundle bundle c1
	run oci delete c1
	assert_status 125
	assert_output 'sbx-oci: delete: cannot delete container "c1" that is not stopped: created; stop it first or use --force'
	run oci delete --force c1
	assert_status 0
	[ ! -e share/out ]
	assert_root_empty
}

@test "kill: by name or number; a stopped container is refused" {
	args '["sleep", "1000"]'
	oci_bg run -d --bundle bundle --pid-file "$PWD/pid" c1
	pid=$(cat pid)
	[ "$(oci state c1 | jq -r .status)" = running ]
	run oci kill c1 NOSUCHSIG
	assert_status 125
	assert_output "sbx-oci: kill: unknown signal 'NOSUCHSIG'"
	# sleep is pid 1 of its namespace: TERM, without a handler, is ignored.
	run oci kill c1 SIGKILL
	assert_status 0
	wait_status c1 stopped
	run oci kill c1 9
	assert_status 125
	assert_output 'sbx-oci: kill: container "c1" is not running'
	oci delete c1
	oci_bg run -d --bundle bundle c2
	run oci kill --all c2 KILL
	assert_status 0
	wait_status c2 stopped
	oci delete c2
	args '["sh", "-c", "trap \"exit 7\" TERM; while :; do sleep 0.05; done"]'
	oci_bg run -d --bundle bundle c3
	run oci kill c3
	assert_status 0
	wait_status c3 stopped
	oci delete c3
	assert_root_empty
}

@test "list: runc's columns, -q, --format json" {
	args '["sleep", "1000"]'
	run oci list
	assert_status 0
	assert_output "$(printf '%-2s   %-10s %-10s %-40s %-30s %s' ID PID STATUS BUNDLE CREATED OWNER)"
	oci_bg run -d --bundle bundle --pid-file "$PWD/pid" b1
	oci_bg create --bundle bundle a1
	run oci list -q
	assert_status 0
	assert_output "$(printf 'a1\nb1')"
	run oci list
	assert_status 0
	[ "$(echo "${lines[0]}" | awk '{print $1, $2, $3, $4, $5, $6}')" = "ID PID STATUS BUNDLE CREATED OWNER" ]
	[ "$(echo "${lines[2]}" | awk '{print $1, $2, $3, $4, $6}')" = "b1 $(cat pid) running $PWD/bundle $(id -un)" ]
	[ "$(echo "${lines[1]}" | awk '{print $1, $3}')" = "a1 created" ]
	run oci list --format json
	assert_status 0
	[ "$(echo "$output" | jq -r '.[1].id, .[1].status, .[1].pid, .[1].rootfs')" = "$(printf 'b1\nrunning\n%s\n%s' "$(cat pid)" "$PWD/bundle/rootfs")" ]
	oci delete --force a1
	oci delete --force b1
	run oci list -q
	assert_output ""
	assert_root_empty
}

@test "a hand-edited config: hostname, env, cwd, a read-only volume; as under runc" {
	echo data >share/file
	edit '.hostname = "edited" | .process.env += ["FOO=bar"] | .process.cwd = "/tmp"'
	edit ".mounts += [{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$PWD/share\", \"options\": [\"rbind\", \"ro\"]}]"
	args '["sh", "-c", "hostname; echo $FOO; pwd; cat /data/file; touch /data/x 2>/dev/null && echo writable || echo read-only"]'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "$(printf 'edited\nbar\n/tmp\ndata\nread-only')"
	expected=$output
	# runc runs the same bundle with the same result (as this user, with a
	# user namespace mapping the caller, which sbx-oci adds by itself).
	command -v runc >/dev/null || fail "runc is missing: run 'make deps'"
	edit ".linux.namespaces += [{\"type\": \"user\"}] | .linux.uidMappings = [{\"containerID\": 0, \"hostID\": $(id -u), \"size\": 1}] | .linux.gidMappings = [{\"containerID\": 0, \"hostID\": $(id -g), \"size\": 1}]"
	edit 'del(.linux.resources) | .mounts |= map(if .destination == "/dev/pts" then .options -= ["gid=5"] else . end) | del(.process.capabilities.ambient)'
	edit '.linux.namespaces -= [{"type": "cgroup"}]'
	run runc --root "$BATS_TEST_TMPDIR/runc" run --bundle bundle "sbx-oci-test-$$"
	assert_status 0
	assert_output "$expected"
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "$expected"
	assert_root_empty
}

@test "what sbx cannot honour is refused by name; nothing is left behind" {
	edit '.linux.sysctl = {"vm.swappiness": "1"}'
	run oci create --bundle bundle c1
	assert_status 125
	assert_output "sbx-oci: create: config.json: linux.sysctl: \"vm.swappiness\" is not supported (only net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, kernel.hostname and kernel.domainname, which a sandbox's namespaces own)"
	edit 'del(.linux.sysctl) | .linux.resources = {"devices": [{"allow": false, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rw"}]}'
	run oci create --bundle bundle c1
	assert_status 125
	assert_output "sbx-oci: create: linux.resources.devices[1]: this deny rule needs a device cgroup, which sbx has only on cgroup v1 as root (on cgroup v2 it is a BPF program sbx does not load)"
	edit '.linux.resources = {"network": {"classID": 1}}'
	run oci create --bundle bundle c1
	assert_status 125
	assert_output "sbx-oci: create: config.json: linux.resources.network: not supported by sbx"
	edit 'del(.linux.resources) | .annotations = {"run.sbx.init": "true"}'
	run oci create --bundle bundle c1
	assert_status 125
	assert_output "sbx-oci: create: config.json: annotations: run.sbx.init is not supported by sbx-oci"
	edit 'del(.annotations) | .process.terminal = true'
	run oci create --bundle bundle c1
	assert_status 125
	assert_output "sbx-oci: create: process.terminal is true but no --console-socket was given: the terminal would have no reader"
	assert_root_empty
}

@test "errors: unknown options and commands, unknown ID, ID exists, bad bundle, bad ID" {
	run "$OCI" --bogus list
	assert_status 125
	assert_output "sbx-oci: unknown option '--bogus'"
	run oci list --bogus
	assert_status 125
	assert_output "sbx-oci: list: unknown option '--bogus'"
	run oci frobnicate
	assert_status 125
	assert_output "sbx-oci: unknown command 'frobnicate'; see 'sbx-oci --help'"
	run "$OCI" --log-format xml list
	assert_status 125
	assert_output "sbx-oci: unknown log format 'xml'; use 'text' or 'json'"
	run oci create --bundle bundle
	assert_status 125
	assert_output "sbx-oci: create: missing a container ID"
	for cmd in state start delete kill; do
		run oci $cmd nope
		assert_status 125
		assert_output "sbx-oci: $cmd: container \"nope\" does not exist"
	done
	run oci run --bundle "$PWD/missing" c1
	assert_status 125
	assert_output "sbx-oci: run: cannot use the bundle \"$PWD/missing\": No such file or directory"
	mkdir empty
	run oci run --bundle empty c1
	assert_status 125
	assert_output "sbx-oci: run: the bundle \"empty\" has no config.json; 'sbx-oci spec' writes one"
	echo '{' >empty/config.json
	run oci run --bundle empty c1
	assert_status 125
	assert_output "sbx-oci: run: $PWD/empty/config.json:2:0: string or '}' expected near end of file"
	run oci run --bundle bundle ../c1
	assert_status 125
	assert_output 'sbx-oci: run: invalid container id "../c1": use letters, digits and _ + - . only'
	args '["sleep", "1000"]'
	oci_bg create --bundle bundle c1
	run oci create --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: create: container "c1" already exists'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: container "c1" already exists'
	run oci checkpoint c1
	assert_status 125
	assert_output 'sbx-oci: checkpoint: not supported by sbx-oci (features lists it as run.sbx.checkpoint: unsupported)'
	oci delete --force c1
	assert_root_empty
}

@test "--log with --log-format json: one JSON line per error, as containerd's shim reads it" {
	run "$OCI" --root "$ROOT" --log "$PWD/log.json" --log-format json state nope
	assert_status 125
	[ "$(jq -r .level log.json)" = error ]
	[ "$(jq -r .msg log.json)" = 'container "nope" does not exist' ]
	jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' log.json
	# The other global options runc takes are accepted.
	run "$OCI" --root "$ROOT" --debug --systemd-cgroup --cgroup-manager cgroupfs --rootless=true list -q
	assert_status 0
	assert_output ""
}

@test "features: valid against the schema, checkpoint and restore said absent" {
	oci features >features.json
	run "$VALIDATE" --schema features features.json
	assert_status 0
	[ "$(jq -r '.annotations["run.sbx.checkpoint"]' features.json)" = unsupported ]
	[ "$(jq -r '.annotations["run.sbx.restore"]' features.json)" = unsupported ]
	jq -e '.linux.namespaces | index("user")' features.json
}

@test "the default --root is \$XDG_RUNTIME_DIR/sbx-oci" {
	args '["sleep", "1000"]'
	"$OCI" create --bundle bundle c1 </dev/null >bg.out 2>&1
	[ -f "$XDG_RUNTIME_DIR/sbx-oci/c1/state.json" ]
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/sbx-oci")" = 700 ]
	"$OCI" delete --force c1
	[ ! -e "$XDG_RUNTIME_DIR/sbx-oci/c1" ]
}

@test "linux.sysctl: a namespaced key is written in the container, before /proc/sys turns read-only" {
	edit '.linux.sysctl = {"net.ipv4.ping_group_range": "0 0", "net.ipv4.ip_unprivileged_port_start": "80"}'
	args '["cat", "/proc/sys/net/ipv4/ping_group_range", "/proc/sys/net/ipv4/ip_unprivileged_port_start"]'
	host=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
	[ "$host" != 80 ]
	run oci run --bundle bundle c1
	assert_status 0
	[ "$(echo "${lines[0]}" | awk '{print $1, $2}')" = "0 0" ]
	[ "${lines[1]}" = 80 ]
	# The host's value is untouched (it is not 80 here).
	[ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" = "$host" ]
	assert_root_empty
}

@test "a 'cgroup' mount (runc's and podman's configs have one) becomes a bind of the host's, rootless" {
	edit '.mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]'
	edit '.linux.namespaces -= [{"type": "cgroup"}]'
	args '["sh", "-c", "ls /sys/fs/cgroup >/dev/null && echo listed; touch /sys/fs/cgroup/x 2>/dev/null || echo read-only"]'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "$(printf 'listed\nread-only')"
}

# podman 4.3 (rootless, with conmon) drives sbx-oci: create, start, state
# and delete from inside its user namespace; conmon reaps the container.
@test "podman --runtime sbx-oci: run --rm with exit codes 0, 3, 126, 127; run -d, logs, rm" {
	command -v podman >/dev/null || fail "podman is missing: run 'make deps'"
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	tar -C bundle/rootfs -c . >bb.tar
	podman import bb.tar localhost/sbx-oci-test >/dev/null
	pod() { podman --runtime "$OCI" "$@"; }
	run pod run --rm --network none localhost/sbx-oci-test echo hello
	assert_status 0
	assert_output hello
	run pod run --rm --network none localhost/sbx-oci-test sh -c 'exit 3'
	assert_status 3
	run -127 pod run --rm --network none localhost/sbx-oci-test no-such-command
	assert_output 'sbx-oci: "no-such-command": executable file not found in $PATH'
	run pod run --rm --network none localhost/sbx-oci-test /etc
	assert_status 126
	assert_output 'sbx-oci: cannot execute "/etc": Permission denied'
	id=$(pod run -d --network none localhost/sbx-oci-test sh -c 'echo started; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo done')
	# Running, as sbx-oci says from inside podman's user namespace.
	for i in $(seq 1 300); do
		[ "$(podman inspect -f '{{.State.Status}}' "$id")" = running ] && break
		sleep 0.05
	done
	[ "$(podman inspect -f '{{.State.Status}}' "$id")" = running ]
	run podman unshare "$OCI" state "$id"
	assert_status 0
	[ "$(echo "$output" | jq -r .status)" = running ]
	# podman exec: conmon runs sbx-oci exec --process F --detach --pid-file.
	run pod exec "$id" sh -c 'echo in-exec; exit 3'
	assert_status 3
	assert_output in-exec
	# In the container's pid namespace: its pid 1 is the container's command.
	run pod exec "$id" sh -c 'tr "\0" " " </proc/1/cmdline'
	assert_status 0
	assert_output "sh -c echo started; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo done "
	run pod exec "$id" true
	assert_status 0
	run -127 pod exec "$id" no-such-command
	run pod exec "$id" /etc
	assert_status 126
	run pod exec -w /tmp -e FOO=bar "$id" sh -c 'echo $FOO; pwd'
	assert_status 0
	assert_output "$(printf 'bar\n/tmp')"
	run podman mount "$id"
	run podman unshare sh -c "touch \$(podman mount $id)/tmp/go"
	assert_status 0
	run podman wait "$id"
	assert_status 0
	assert_output 0
	run podman logs "$id"
	assert_output "$(printf 'started\ndone')"
	run podman rm "$id"
	assert_status 0
	# podman deleted it from sbx-oci's root too.
	run podman unshare "$OCI" list -q
	assert_output ""
}

@test "create --console-socket: the terminal's master goes to the socket with SCM_RIGHTS" {
	edit '.process.terminal = true'
	args '["sh", "-c", "tty; echo on-the-pty"]'
	"$SBX_TOP/build/helpers/console-recv" "$PWD/console.sock" >console.out 2>&1 &
	recv=$!
	for i in $(seq 1 300); do [ -S console.sock ] && break; sleep 0.05; done
	oci_bg create --bundle bundle --console-socket "$PWD/console.sock" c1
	run oci start c1
	assert_status 0
	wait "$recv"
	run tr -d '\r' <console.out
	assert_output "$(printf '/dev/pts/0\non-the-pty')"
	wait_status c1 stopped
	oci delete c1
	# Without a reader, create fails and leaves nothing behind.
	run oci create --bundle bundle --console-socket "$PWD/nobody.sock" c2
	assert_status 125
	assert_output "sbx-oci: create: cannot connect to the console socket \"$PWD/nobody.sock\": No such file or directory"
	assert_root_empty
}

@test "linux.cgroupsPath, rootless: sbx-oci carries on without a cgroup, as runc does rootless" {
	edit '.linux.cgroupsPath = "user.slice:libpod:x"'
	args '["echo", "ran"]'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output ran
	[ "$(oci features | jq '.linux.cgroup.v2')" = false ]
}

@test "ps: the container's processes, --format json as go-runc reads it" {
	args '["sh", "-c", "sleep 1000 & exec sleep 1001"]'
	oci_bg run -d --bundle bundle --pid-file "$PWD/pid" c1
	for i in $(seq 1 300); do
		[ "$(oci ps --format json c1 | jq length)" = 2 ] && break
		sleep 0.05
	done
	run oci ps --format json c1
	assert_status 0
	[ "$(echo "$output" | jq length)" = 2 ]
	echo "$output" | jq -e "index($(cat pid))"
	run oci ps c1
	assert_status 0
	[ "${lines[0]}" = "$(printf '%-10s %s' PID CMD)" ]
	assert_contains "sleep 1000"
	assert_contains "$(printf '%-10s %s' "$(cat pid)" "sleep 1001")"
	oci delete --force c1
	run oci ps c1
	assert_status 125
	assert_output 'sbx-oci: ps: container "c1" does not exist'
	assert_root_empty
}

@test "exec: a command in a running container, as its process: exit codes 0, 3, 126, 127; --env, --cwd, --user" {
	args '["sleep", "1000"]'
	oci_bg run -d --bundle bundle --pid-file "$PWD/pid" c1
	pid=$(cat pid)
	run oci exec c1 sh -c 'echo hi; cat /proc/sys/kernel/hostname'
	assert_status 0
	assert_output "$(printf 'hi\nsbx')"
	# The container's namespaces, capabilities and no_new_privs.
	for ns in mnt pid net ipc uts user; do
		[ "$(oci exec c1 readlink /proc/self/ns/$ns)" = "$(readlink "/proc/$pid/ns/$ns")" ]
	done
	for f in CapBnd CapEff CapPrm NoNewPrivs Seccomp; do
		[ "$(oci exec c1 grep "^$f:" /proc/self/status)" = "$(grep "^$f:" "/proc/$pid/status")" ]
	done
	run oci exec --env FOO=bar --env HOME=/x --cwd /tmp --user 0:0 c1 sh -c 'echo $FOO $HOME; pwd; id -u'
	assert_status 0
	assert_output "$(printf 'bar /x\n/tmp\n0')"
	run oci exec c1 sh -c 'exit 3'
	assert_status 3
	run oci exec c1 /etc
	assert_status 126
	assert_output 'sbx-oci: exec: cannot execute "/etc": Permission denied'
	run -127 oci exec c1 no-such-command
	assert_output 'sbx-oci: exec: "no-such-command": executable file not found in $PATH'
	# --log is the host's file, though exec fails in the container's
	# mount namespace.
	run -127 oci --log "$PWD/exec.log" exec c1 no-such-command
	grep -qF 'level=error msg=""no-such-command": executable file not found in $PATH"' exec.log
	[ ! -e bundle/rootfs"$PWD/exec.log" ]
	# Nothing of exec's is left in --root.
	run ls -A "$ROOT/c1"
	assert_output "$(printf 'config.json\nstate.json')"
	oci delete --force c1
	assert_root_empty
}

@test "exec --process --detach --pid-file (podman's form): the process outlives exec; a seccomp filter applies to it" {
	edit ".mounts += [{\"destination\": \"/share\", \"type\": \"bind\", \"source\": \"$PWD/share\", \"options\": [\"rbind\"]}]"
	edit '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	args '["sleep", "1000"]'
	oci_bg run -d --bundle bundle --pid-file "$PWD/pid" c1
	jq '.process | .args = ["sh", "-c", "mkdir /tmp/d 2>/dev/null || echo denied > /share/out; while [ ! -e /share/go ]; do sleep 0.05; done; echo $FOO >> /share/out"] | .env += ["FOO=from-process"]' bundle/config.json >process.json
	# Its stdio is the caller's (conmon's pipes): not one that run waits on.
	oci exec --process process.json --detach --pid-file "$PWD/xpid" c1 </dev/null >x.out 2>&1
	[ ! -s x.out ]
	xpid=$(cat xpid)
	# Running after exec returned, in the container's pid namespace.
	[ "$(readlink "/proc/$xpid/ns/pid")" = "$(readlink "/proc/$(cat pid)/ns/pid")" ]
	[ "$(grep '^Seccomp:' "/proc/$xpid/status")" = "$(printf 'Seccomp:\t2')" ]
	for i in $(seq 1 300); do [ -s share/out ] && break; sleep 0.05; done
	[ "$(cat share/out)" = denied ]
	touch share/go
	for i in $(seq 1 300); do [ "$(wc -l <share/out)" = 2 ] && break; sleep 0.05; done
	[ "$(cat share/out)" = "$(printf 'denied\nfrom-process')" ]
	oci delete --force c1
	assert_root_empty
}

@test "exec --preserve-fds N: fds 3 to 3+N-1 reach the process, no other of the caller's; one missing is refused" {
	args '["sleep", "1000"]'
	oci_bg run -d --bundle bundle c1
	echo three >f3
	echo four >f4
	echo five >f5
	# ls's own directory fd takes the lowest free number: 5 when 5 is not
	# passed on.
	run oci exec --preserve-fds 2 c1 sh -c 'cat <&3; cat <&4; readlink /proc/self/fd/5 || echo no-5' 3<f3 4<f4 5<f5
	assert_status 0
	assert_output "$(printf 'three\nfour\nno-5')"
	run oci exec --preserve-fds 3 c1 sh -c 'cat <&5' 3<f3 4<f4 5<f5
	assert_status 0
	assert_output five
	# Without it, none.
	run oci exec c1 sh -c 'cat <&3 || echo no-3' 3<f3
	assert_status 0
	assert_contains no-3
	# One that is not open: sbx-oci's own fds could take its number.
	run oci exec --preserve-fds 2 c1 true 3<f3 4<&-
	assert_status 125
	assert_output "sbx-oci: exec: --preserve-fds: fd 4 is not open; pass exactly the fds from 3 on that the process gets"
	run oci exec --preserve-fds 4097 c1 true
	assert_status 125
	assert_output "sbx-oci: exec: --preserve-fds '4097' is not a number of fds"
	oci delete --force c1
	assert_root_empty
}

@test "exec: what it cannot honour or a caller got wrong is refused; nothing is left behind" {
	args '["sleep", "1000"]'
	oci_bg run -d --bundle bundle c1
	run oci exec c1
	assert_status 125
	assert_output "sbx-oci: exec: missing a command, or --process FILE"
	run oci exec
	assert_status 125
	assert_output "sbx-oci: exec: missing a container ID"
	jq '.process' bundle/config.json >process.json
	run oci exec --process process.json c1 true
	assert_status 125
	assert_output "sbx-oci: exec: --process and a command exclude each other"
	run oci exec -t c1 true
	assert_status 125
	assert_output "sbx-oci: exec: -t needs --console-socket: the terminal would have no reader"
	run oci exec --cap CAP_SYS_ADMIN c1 true
	assert_status 125
	assert_output "sbx-oci: exec: --cap: not supported by sbx-oci"
	run oci exec -g 10 c1 true
	assert_status 125
	assert_output "sbx-oci: exec: --additional-gids: not supported by sbx-oci"
	run oci exec --env NOVALUE c1 true
	assert_status 125
	assert_output 'sbx-oci: exec: --env "NOVALUE": expected KEY=VALUE'
	run oci exec --cwd tmp c1 true
	assert_status 125
	assert_output 'sbx-oci: exec: --cwd "tmp": must be an absolute path'
	run oci exec --user root c1 true
	assert_status 125
	assert_output 'sbx-oci: exec: --user "root": expected UID[:GID] (numbers)'
	# process.json may narrow the capabilities, never add one.
	jq '.process | .capabilities.bounding += ["CAP_SYS_ADMIN"]' bundle/config.json >process.json
	run oci exec --process process.json c1
	assert_status 125
	assert_output "sbx-oci: exec: --process: capabilities.bounding: CAP_SYS_ADMIN is not in the container's set; exec cannot add capabilities"
	jq '.process | .capabilities.bounding = ["CAP_KILL"] | .capabilities.effective = [] | .capabilities.permitted = [] | .capabilities.ambient = [] | .args = ["grep", "^CapBnd:", "/proc/self/status"]' bundle/config.json >process.json
	run oci exec --process process.json c1
	assert_status 0
	assert_output "$(printf 'CapBnd:\t0000000000000020')"
	echo '{' >bad.json
	run oci exec --process bad.json c1
	assert_status 125
	assert_output "sbx-oci: exec: cannot read --process \"bad.json\": string or '}' expected near end of file"
	run oci exec nope true
	assert_status 125
	assert_output 'sbx-oci: exec: container "nope" does not exist'
	oci kill c1 KILL
	wait_status c1 stopped
	run oci exec c1 true
	assert_status 125
	assert_output 'sbx-oci: exec: cannot exec in container "c1": it is stopped'
	run ls -A "$ROOT/c1"
	assert_output "$(printf 'config.json\nstate.json')"
	oci delete c1
	assert_root_empty
}

@test "sbx --help lists oci; sbx oci is sbx-oci; __complete offers it and its commands" {
	run "$SBX_TOP/build/sbx" --help
	assert_status 0
	[[ $output == *"  oci                Speak runc's command line on OCI bundles (as sbx-oci)."* ]]
	run "$SBX_TOP/build/sbx" __complete -- oci ""
	assert_status 0
	for c in create start run exec state list kill ps delete spec features; do
		echo "$output" | grep -qx "$c"
	done
	args '["echo", "via sbx oci"]'
	run "$SBX_TOP/build/sbx" oci --root "$ROOT" run --bundle bundle c1
	assert_status 0
	assert_output "via sbx oci"
	run "$SBX_TOP/build/sbx" oci --root "$ROOT" exec
	assert_status 125
	assert_output "sbx oci: exec: missing a container ID"
	assert_root_empty
}
