#!/usr/bin/env bats
# sbx-oci: linux.namespaces entries with a path, as podman, CNI and pods
# pass them: joined with setns instead of created, as a user.

load ../helpers
load ../oci-helpers
bats_require_minimum_version 1.5.0

setup() {
	oci_setup
	HOLDER=
}

teardown() {
	# unshare --fork ignores SIGTERM; --kill-child takes its child along.
	[ -z "$HOLDER" ] || kill -9 "$HOLDER" 2>/dev/null || true
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# Sets linux.namespaces to the JSON array $1.
namespaces() {
	edit --argjson n "$1" '.linux.namespaces = $n'
}

# A process that holds new namespaces ($@: unshare's options) and sleeps;
# its pid in HOLDER once they exist.
start_holder() {
	unshare "$@" sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	HOLDER=$!
	local i
	for i in $(seq 1 200); do
		[ "$(readlink /proc/$HOLDER/ns/user)" != "$(readlink /proc/self/ns/user)" ] && return 0
		sleep 0.05
	done
	fail "the namespace holder never started"
}

@test "namespaces by path: user, network, ipc, uts and pid are joined; mount and cgroup made; hostname and sysctl set in them" {
	start_holder --user --map-root-user --net --uts --ipc --pid --fork --kill-child
	h=/proc/$HOLDER/ns
	namespaces "[{\"type\": \"user\", \"path\": \"$h/user\"}, {\"type\": \"network\", \"path\": \"$h/net\"},
		{\"type\": \"ipc\", \"path\": \"$h/ipc\"}, {\"type\": \"uts\", \"path\": \"$h/uts\"},
		{\"type\": \"pid\", \"path\": \"$h/pid_for_children\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}]"
	edit '.hostname = "joined" | .linux.sysctl = {"net.ipv4.ip_default_ttl": "42"}'
	edit '.process.args = ["sh", "-c", "for n in user net ipc uts pid mnt; do readlink /proc/self/ns/$n; done; hostname; cat /proc/sys/net/ipv4/ip_default_ttl; [ $$ != 1 ] && echo not-pid-1; id -u"]'
	run oci run --bundle bundle c1
	assert_status 0
	mnt=$(readlink /proc/self/ns/mnt)
	assert_output "$(readlink $h/user)
$(readlink $h/net)
$(readlink $h/ipc)
$(readlink $h/uts)
$(readlink $h/pid_for_children)
${lines[5]}
joined
42
not-pid-1
0"
	[ "${lines[5]}" != "$mnt" ]
	# The holder's uts namespace got the hostname, as under runc.
	[ "$(nsenter --preserve-credentials -U -u -t "$HOLDER" hostname)" = joined ]
	assert_root_empty
}

@test "namespaces by path: a network namespace alone joins the user namespace that owns it; exec joins them too" {
	start_holder --user --map-root-user --net
	namespaces "[{\"type\": \"network\", \"path\": \"/proc/$HOLDER/ns/net\"}, {\"type\": \"mount\"}, {\"type\": \"pid\"}, {\"type\": \"ipc\"}]"
	edit 'del(.linux.uidMappings, .linux.gidMappings)'
	edit '.process.args = ["sleep", "1000"]'
	"$OCI" --root "$ROOT" run -d --bundle bundle c1 </dev/null >bg.out 2>&1 3>&-
	run oci exec c1 sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/user'
	assert_status 0
	assert_output "$(readlink /proc/$HOLDER/ns/net)
$(readlink /proc/$HOLDER/ns/user)"
	[ "$(jq -c '.linux.namespaces[-1]' "$ROOT/c1/config.json")" = "{\"type\":\"user\",\"path\":\"/proc/$HOLDER/ns/user\"}" ]
	run oci kill c1 KILL
	assert_status 0
	for i in $(seq 1 300); do
		[ "$(oci state c1 | jq -r .status)" = stopped ] && break
		sleep 0.05
	done
	run oci delete c1
	assert_status 0
	assert_root_empty
}

@test "namespaces by path: a missing file, a file that is no namespace, one of another type; nothing left in --root" {
	namespaces '[{"type": "mount"}, {"type": "ipc"}, {"type": "network", "path": "/nonexistent/net"}]'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: linux.namespaces: cannot open the network namespace "/nonexistent/net": No such file or directory'
	assert_root_empty
	namespaces '[{"type": "mount"}, {"type": "ipc"}, {"type": "network", "path": "/etc/passwd"}]'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: linux.namespaces: "/etc/passwd" is not a namespace (a network namespace is a file like /proc/PID/ns/net)'
	assert_root_empty
	namespaces '[{"type": "mount"}, {"type": "ipc", "path": "/proc/self/ns/uts"}]'
	run oci create --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: create: linux.namespaces: "/proc/self/ns/uts" is not a namespace of type "ipc" (it is of type "uts")'
	assert_root_empty
}

@test "namespaces by path: one sbx has no privileges in is refused, with why; nothing left in --root" {
	# The caller's own network namespace belongs to the host's user namespace.
	namespaces '[{"type": "mount"}, {"type": "ipc"}, {"type": "network", "path": "/proc/self/ns/net"}]'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: cannot join the network namespace "/proc/self/ns/net": Operation not permitted (sbx has no privileges in the user namespace that owns it)'
	assert_root_empty
}

@test "namespaces by path: a mount namespace, a relative path and a type listed twice are refused by name" {
	namespaces '[{"type": "user"}, {"type": "mount", "path": "/proc/self/ns/mnt"}]'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: config.json: linux.namespaces[1]: joining a mount namespace by path is not supported (sbx builds the root in a mount namespace of its own): Operation not supported'
	namespaces '[{"type": "user"}, {"type": "mount"}, {"type": "network", "path": "proc/self/ns/net"}]'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: config.json: linux.namespaces[2].path: "proc/self/ns/net" is not an absolute path: Invalid argument'
	namespaces '[{"type": "user"}, {"type": "mount"}, {"type": "network"}, {"type": "network", "path": "/proc/self/ns/net"}]'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: config.json: linux.namespaces[3]: a second "network" namespace: Invalid argument'
	# A user namespace is still needed: one joined by path counts, none does not.
	namespaces '[{"type": "mount"}]'
	edit '.linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 1}] | .linux.gidMappings = .linux.uidMappings'
	run oci run --bundle bundle c1
	assert_status 125
	assert_output 'sbx-oci: run: config.json: linux.namespaces: sbx needs a user namespace; add {"type": "user"}: Operation not supported'
	assert_root_empty
}
