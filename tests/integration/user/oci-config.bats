#!/usr/bin/env bats
# sbx-oci: the whole config.json, not only what sbx generates, as a user:
# each field shows its effect in the container, or is refused by name with
# the reason, leaving nothing behind.

load ../helpers
load ../oci-helpers
bats_require_minimum_version 1.5.0

setup() {
	oci_setup --rootless
}

# The container runs sh -c "$1".
script() {
	edit ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')]"
}

# run fails with exit 125, the message $1, and nothing is left behind.
assert_refused() {
	run oci run --bundle bundle c1
	assert_status 125
	assert_output "$1"
	assert_root_empty
}

@test "process.oomScoreAdj: raised in the container; lowering it rootless is refused with the current value" {
	cur=$(cat /proc/self/oom_score_adj)
	[ "$cur" -lt 1000 ]
	want=$((cur + 100 > 1000 ? 1000 : cur + 100))
	edit ".process.oomScoreAdj = $want"
	script 'cat /proc/self/oom_score_adj'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "$want"
	assert_root_empty
	# Below what it is takes CAP_SYS_RESOURCE on the host (crun says so too).
	[ "$cur" -gt -1000 ]
	edit '.process.oomScoreAdj = -1000'
	assert_refused "sbx-oci: run: process.oomScoreAdj: cannot lower the OOM score adjustment to -1000 (it is $cur): that needs CAP_SYS_RESOURCE on the host: Permission denied"
	edit '.process.oomScoreAdj = 1001'
	assert_refused "sbx-oci: run: config.json: process.oomScoreAdj: expected an integer from -1000 to 1000"
}

@test "process.rlimits: every limit is set; an unknown or repeated one is refused" {
	edit '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}, {"type": "RLIMIT_MSGQUEUE", "soft": 4096, "hard": 8192}, {"type": "RLIMIT_STACK", "soft": 1048576, "hard": 1048576}]'
	script 'grep -E "^Max (open files|core file size|msgqueue size|stack size)" /proc/self/limits | tr -s " "'
	run oci run --bundle bundle c1
	assert_status 0
	[ "${lines[0]}" = "Max stack size 1048576 1048576 bytes " ]
	[ "${lines[1]}" = "Max core file size 0 0 bytes " ]
	[ "${lines[2]}" = "Max open files 100 200 files " ]
	[ "${lines[3]}" = "Max msgqueue size 4096 8192 bytes " ]
	edit '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}, {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}]'
	assert_refused "sbx-oci: run: config.json: process.rlimits[1].type: \"RLIMIT_NOFILE\" is given twice"
	edit '.process.rlimits = [{"type": "RLIMIT_NOPE", "soft": 1, "hard": 1}]'
	assert_refused "sbx-oci: run: config.json: process.rlimits[0].type: unknown limit \"RLIMIT_NOPE\": Invalid argument"
}

@test "linux.personality: LINUX32 makes uname -m say i686, LINUX leaves it; flags are refused" {
	[ "$(uname -m)" = x86_64 ] || skip "LINUX32 is shown on x86_64 hosts (this is $(uname -m))"
	script 'uname -m'
	edit '.linux.personality = {"domain": "LINUX32"}'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output i686
	edit '.linux.personality = {"domain": "LINUX"}'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output x86_64
	edit '.linux.personality = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}'
	assert_refused "sbx-oci: run: config.json: linux.personality.flags: \"ADDR_NO_RANDOMIZE\" is not supported (the runtime spec defines no flag)"
	edit '.linux.personality = {"domain": "PER_BSD"}'
	assert_refused "sbx-oci: run: config.json: linux.personality.domain: unknown domain \"PER_BSD\" (LINUX or LINUX32)"
}

@test "process.ioPriority: the class and level reach the payload; the real-time class is refused rootless" {
	script 'ionice'
	edit '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "best-effort: prio 6"
	edit '.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE"}'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "idle"
	edit '.process.ioPriority = {"class": "IOPRIO_CLASS_RT", "priority": 0}'
	assert_refused "sbx-oci: run: process.ioPriority: cannot set class 1 level 0 (the real-time class needs CAP_SYS_ADMIN on the host): Operation not permitted"
	edit '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 8}'
	assert_refused "sbx-oci: run: config.json: process.ioPriority.priority: 8 is not a level (0 to 7)"
}

@test "process.scheduler: policy and nice reach the payload (/proc/self/stat); a real-time one is refused rootless" {
	# Field 19 is the nice value, 41 the policy.
	script 'cut -d" " -f19,41 /proc/self/stat'
	edit '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "7 3"
	edit '.process.scheduler = {"policy": "SCHED_IDLE"}'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "0 5"
	[ "$(ulimit -r)" = 0 ] || skip "this user may take real-time priorities (RLIMIT_RTPRIO $(ulimit -r))"
	edit '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 10}'
	assert_refused "sbx-oci: run: process.scheduler: cannot set policy 1 (nice 0, priority 10): a real-time policy, a deadline or a lower nice value needs CAP_SYS_NICE on the host or RLIMIT_RTPRIO/RLIMIT_NICE: Operation not permitted"
	edit '.process.scheduler = {"policy": "SCHED_ISO"}'
	assert_refused "sbx-oci: run: config.json: process.scheduler.policy: \"SCHED_ISO\" is not supported (Linux has no such policy)"
}

@test "domainname, and kernel.hostname/kernel.domainname sysctls, in the container's UTS namespace" {
	edit '.domainname = "example.org"'
	script 'cat /proc/sys/kernel/domainname; hostname'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "example.org
sbx"
	edit '.linux.sysctl = {"kernel.hostname": "box", "kernel.domainname": "example.net"}'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "example.net
box"
	# Without a UTS namespace of its own, they would be the host's.
	edit 'del(.linux.sysctl) | .linux.namespaces |= map(select(.type != "uts"))'
	assert_refused "sbx-oci: run: config.json: domainname: \"example.org\" would be the host's: it needs a UTS namespace of the sandbox's own (add {\"type\": \"uts\"} to linux.namespaces)"
}

@test "linux.sysctl: the IPC namespace's keys are written; other keys are refused by name with the reason" {
	edit '.linux.sysctl = {"kernel.shmmax": "12345678", "kernel.msgmax": "4096", "kernel.sem": "250 32000 32 128", "fs.mqueue.msg_max": "20"}'
	script 'cat /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax /proc/sys/fs/mqueue/msg_max; tr -s "\t " " " </proc/sys/kernel/sem'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "12345678
4096
20
250 32000 32 128"
	[ "$(cat /proc/sys/kernel/shmmax)" != 12345678 ]
	edit '.linux.sysctl = {"kernel.randomize_va_space": "0"}'
	assert_refused "sbx-oci: run: config.json: linux.sysctl: \"kernel.randomize_va_space\" is not supported (only net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, kernel.hostname and kernel.domainname, which a sandbox's namespaces own)"
	edit '.linux.sysctl = {"net.ipv4.ping_group_range": "0 0"} | .linux.namespaces |= map(select(.type != "network"))'
	assert_refused "sbx-oci: run: config.json: linux.sysctl: \"net.ipv4.ping_group_range\" would be the host's: it needs a network namespace of the sandbox's own (add {\"type\": \"network\"} to linux.namespaces)"
	edit '.linux.sysctl = {"kernel.shmmax": "1"} | .linux.namespaces |= map(select(.type != "ipc"))'
	assert_refused "sbx-oci: run: config.json: linux.sysctl: \"kernel.shmmax\" would be the host's: it needs a IPC namespace of the sandbox's own (add {\"type\": \"ipc\"} to linux.namespaces)"
}

@test "process.apparmorProfile is refused where AppArmor is absent; process.selinuxLabel is refused" {
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
		edit '.process.apparmorProfile = "unconfined"'
		script 'cat /proc/self/attr/current'
		run oci run --bundle bundle c1
		assert_status 0
		assert_output unconfined
	else
		edit '.process.apparmorProfile = "docker-default"'
		assert_refused "sbx-oci: run: config.json: process.apparmorProfile: \"docker-default\" cannot be applied: AppArmor is not enabled on this host"
	fi
	edit 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
	assert_refused "sbx-oci: run: config.json: process.selinuxLabel: \"system_u:system_r:container_t:s0\" cannot be applied: sbx does not apply SELinux labels"
}

@test "linux.devices: the host's node is bound at its path and works; a fifo is made" {
	# /dev from the rootfs, so the device is there only through linux.devices.
	edit '.mounts |= map(select(.destination != "/dev" and (.destination | startswith("/dev/") | not)))'
	edit '.root.readonly = false'
	edit '.linux.devices = [{"path": "/dev/full", "type": "c", "major": 1, "minor": 7, "fileMode": 438}, {"path": "/dev/sub/pipe", "type": "p", "fileMode": 384}]'
	script 'ls -ln /dev/full | cut -c1-10; ls -ln /dev/sub/pipe | cut -c1-10; head -c 3 /dev/full | od -An -tx1; echo x >/dev/full || echo write failed'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output "crw-rw-rw-
prw-------
 00 00 00
sh: write error: No space left on device
write failed"
	# Nothing was made on the host's side of the rootfs but the files the nodes cover.
	[ -f bundle/rootfs/dev/full ] && [ ! -s bundle/rootfs/dev/full ]
	assert_root_empty
}

@test "linux.devices: a device the host lacks, or has with another number, mode or owner, is refused" {
	edit '.linux.devices = [{"path": "/dev/sbx-no-such-device", "type": "c", "major": 1, "minor": 7}]'
	assert_refused "sbx-oci: run: linux.devices: \"/dev/sbx-no-such-device\" (character 1:7) cannot be created: the host has no \"/dev/sbx-no-such-device\" to bind, and a user namespace cannot mknod"
	edit '.linux.devices = [{"path": "/dev/full", "type": "c", "major": 1, "minor": 8}]'
	assert_refused "sbx-oci: run: linux.devices: \"/dev/full\" (character 1:8) cannot be created: the host's \"/dev/full\" is character 1:7, and a user namespace cannot mknod"
	edit '.linux.devices = [{"path": "/dev/full", "type": "b", "major": 1, "minor": 7}]'
	assert_refused "sbx-oci: run: linux.devices: \"/dev/full\" (block 1:7) cannot be created: the host's \"/dev/full\" is character 1:7, and a user namespace cannot mknod"
	edit '.linux.devices = [{"path": "/dev/full", "type": "c", "major": 1, "minor": 7, "fileMode": 384}]'
	assert_refused "sbx-oci: run: linux.devices: \"/dev/full\": fileMode 0600 cannot be honoured: the host's node, which a rootless sandbox binds, has mode 0666"
	edit '.linux.devices = [{"path": "/dev/full", "type": "c", "major": 1, "minor": 7, "uid": 0, "gid": 0}]'
	assert_refused "sbx-oci: run: linux.devices: \"/dev/full\": uid 0, gid 0 cannot be honoured: the host's node, which a rootless sandbox binds, belongs to 65534:65534 in the sandbox"
	edit '.linux.devices = [{"path": "/dev/x", "type": "q"}]'
	assert_refused "sbx-oci: run: config.json: linux.devices[0].type: \"q\" is not c, b, u or p"
}

@test "mounts: propagation flags per mount, nosymfollow and rootfsPropagation, as /proc/self/mountinfo shows" {
	mkdir -p share
	edit ".mounts += [{\"destination\": \"/a\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"rshared\"]}, {\"destination\": \"/b\", \"type\": \"bind\", \"source\": \"$PWD/share\", \"options\": [\"bind\", \"private\"]}, {\"destination\": \"/c\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"unbindable\", \"nosymfollow\"]}, {\"destination\": \"/d\", \"type\": \"bind\", \"source\": \"$PWD/share\", \"options\": [\"rbind\", \"rslave\"]}]"
	# Field 5 is the mount point; the optional fields follow field 6.
	script 'awk '\''$5 == "/" || $5 ~ /^\/[abcd]$/ { o = ""; for (i = 7; $i != "-"; i++) o = o " " $i; print $5 ":" o }'\'' /proc/self/mountinfo | sed -E "s/(shared|master):[0-9]+/\1:N/g"; echo hi >/c/f; ln -s f /c/l; cat /c/l || echo no symlink followed'
	run oci run --bundle bundle c1
	assert_status 0
	# The root and /d are slaves of the host's mounts, where those are
	# shared (here they may be private: no master).
	[[ "${lines[0]}" =~ ^/:( master:N)?$ ]]
	[ "${lines[1]}" = "/a: shared:N" ]
	[ "${lines[2]}" = "/b:" ]
	[ "${lines[3]}" = "/c: unbindable" ]
	[[ "${lines[4]}" =~ ^/d:( master:N)?$ ]]
	[[ "${lines[5]}" == *"Too many levels of symbolic links"* ]] || [[ "${lines[5]}" == *"Symbolic link loop"* ]]
	[ "${lines[6]}" = "no symlink followed" ]
	# The root made private, then unbindable.
	edit '.linux.rootfsPropagation = "private"'
	run oci run --bundle bundle c1
	assert_status 0
	[ "${lines[0]}" = "/:" ]
	edit '.linux.rootfsPropagation = "unbindable"'
	run oci run --bundle bundle c1
	assert_status 0
	[ "${lines[0]}" = "/: unbindable" ]
	assert_root_empty
}

@test "mounts: a shared root, idmapped mounts and unknown propagation are refused with the reason" {
	edit '.linux.rootfsPropagation = "shared"'
	assert_refused "sbx-oci: run: config.json: linux.rootfsPropagation: \"shared\" cannot be honoured: the container's mounts cannot propagate to the host from a user namespace (the kernel makes the host's mounts its slaves)"
	edit '.linux.rootfsPropagation = "sideways"'
	assert_refused "sbx-oci: run: config.json: linux.rootfsPropagation: unknown value \"sideways\" (private, slave, unbindable or shared)"
	edit 'del(.linux.rootfsPropagation) | .mounts += [{"destination": "/m", "type": "bind", "source": "/tmp", "options": ["rbind", "idmap"]}]'
	assert_refused "sbx-oci: run: config.json: mounts[6].options: \"idmap\" cannot be honoured: idmapping a host filesystem needs CAP_SYS_ADMIN over it, which a sandbox in a user namespace does not have"
	edit '.mounts[6].options = ["rbind"] | .mounts[6].uidMappings = [{"containerID": 0, "hostID": 0, "size": 1}]'
	assert_refused "sbx-oci: run: config.json: mounts[6]: uidMappings/gidMappings (an idmapped mount) cannot be honoured: idmapping a host filesystem needs CAP_SYS_ADMIN over it, which a sandbox in a user namespace does not have"
}

# A seccomp agent: takes one connection on $1, writes the container process
# state it got to $2, answers the first notified call with EXDEV (as $3) and
# exits.
write_agent() {
	cat >agent.py <<'PY'
import array, fcntl, json, os, socket, struct, sys
sock, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock)
s.listen(1)
c, _ = s.accept()
fds = array.array("i")
data = b""
while True:
    msg, anc, _, _ = c.recvmsg(65536, socket.CMSG_SPACE(4 * 4))
    for level, kind, d in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(d[: len(d) - len(d) % 4])
    if not msg:
        break
    data += msg
state = json.loads(data)
state["nfds"] = len(fds)
with open(out + ".tmp", "w") as f:
    json.dump(state, f)
os.rename(out + ".tmp", out)
fd = fds[0]
# struct seccomp_notif (80 bytes) and seccomp_notif_resp (24 bytes).
req = bytearray(80)
fcntl.ioctl(fd, 0xC0502100, req, True)
nid, pid, flags, nr = struct.unpack_from("QIIi", req)
fcntl.ioctl(fd, 0xC0182101, bytearray(struct.pack("QqiI", nid, 0, -18, 0)), True)
PY
}

@test "linux.seccomp: SCMP_ACT_NOTIFY's fd reaches the agent at listenerPath with the state and listenerMetadata; the agent answers" {
	command -v python3 >/dev/null || skip "python3 is needed for the seccomp agent"
	write_agent
	python3 agent.py "$PWD/agent.sock" "$PWD/state.json" &
	agent=$!
	wait_until -n 200 [ -S agent.sock ]
	[ -S agent.sock ]
	edit ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$PWD/agent.sock\", \"listenerMetadata\": \"hello agent\", \"flags\": [\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"], \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
	edit '.annotations = {"org.example": "x"}'
	script 'mkdir /tmp/d 2>&1; echo "rc=$?"'
	run oci run --bundle bundle c1
	# The agent wrote the state before it answered the call, which run
	# waited for; one that never got a connection waits no longer.
	kill "$agent" 2>/dev/null || true
	wait "$agent" || true
	assert_status 0
	assert_output "mkdir: can't create directory '/tmp/d': Invalid cross-device link
rc=1"
	run jq -c '[.ociVersion, .fds, .nfds, .metadata, .state.id, .state.status, .state.bundle, .state.annotations, (.pid > 1), (.pid == .state.pid)]' state.json
	assert_output "[\"1.0.2\",[\"seccompFd\"],1,\"hello agent\",\"c1\",\"creating\",\"$PWD/bundle\",{\"org.example\":\"x\"},true,true]"
	assert_root_empty
}

@test "linux.seccomp: each action's visible effect: ERRNO with errnoRet, defaultErrnoRet, KILL_PROCESS, KILL_THREAD, TRAP, TRACE, LOG, ALLOW" {
	pol() {
		edit ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"], \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], $1}]}"
	}
	[ "$(uname -m)" = x86_64 ] || skip "the policy names x86 architectures"
	edit '.process.args = ["mkdir", "/tmp/d"]'
	pol '"action": "SCMP_ACT_ERRNO", "errnoRet": 18'
	run oci run --bundle bundle c1
	assert_status 1
	assert_output "mkdir: can't create directory '/tmp/d': Invalid cross-device link"
	# SCMP_ACT_KILL_PROCESS: SIGSYS, exit 128+31.
	pol '"action": "SCMP_ACT_KILL_PROCESS"'
	run oci run --bundle bundle c1
	assert_status 159
	pol '"action": "SCMP_ACT_KILL_THREAD"'
	run oci run --bundle bundle c1
	assert_status 159
	pol '"action": "SCMP_ACT_KILL"'
	run oci run --bundle bundle c1
	assert_status 159
	# SCMP_ACT_TRAP: a SIGSYS the process could catch; busybox does not.
	pol '"action": "SCMP_ACT_TRAP"'
	run oci run --bundle bundle c1
	assert_status 159
	# SCMP_ACT_TRACE without a tracer: the call fails with ENOSYS.
	pol '"action": "SCMP_ACT_TRACE", "errnoRet": 1'
	run oci run --bundle bundle c1
	assert_status 1
	assert_output "mkdir: can't create directory '/tmp/d': Function not implemented"
	# SCMP_ACT_LOG and SCMP_ACT_ALLOW let it through (the root is read-only).
	for a in SCMP_ACT_LOG SCMP_ACT_ALLOW; do
		pol "\"action\": \"$a\""
		run oci run --bundle bundle c1
		assert_status 1
		assert_output "mkdir: can't create directory '/tmp/d': Read-only file system"
	done
	# defaultErrnoRet for what no rule names.
	edit '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 18, "syscalls": [{"names": ["execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "mprotect", "getuid", "geteuid", "write", "exit_group", "mmap", "munmap", "readlink", "uname", "getpid", "rt_sigaction", "rt_sigprocmask", "ioctl", "stat", "newfstatat", "fstat", "getrandom", "futex", "close", "read", "openat", "access", "setsid", "sendmsg", "sendto", "exit", "getppid", "wait4", "fcntl", "dup2", "dup3", "lseek", "getcwd", "chdir", "sigaltstack", "statx", "poll", "pread64", "madvise", "getgid", "getegid", "gettid", "close_range", "prctl", "capget", "capset", "rt_sigreturn"], "action": "SCMP_ACT_ALLOW"}]}'
	run oci run --bundle bundle c1
	assert_status 1
	assert_output "mkdir: can't create directory '/tmp/d': Invalid cross-device link"
	assert_root_empty
}

@test "linux.seccomp: what cannot work is refused by name: NOTIFY without listenerPath or as the default, an agent that is not there" {
	edit '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
	assert_refused "sbx-oci: run: config.json: linux.seccomp: listenerPath: SCMP_ACT_NOTIFY needs it: the unix socket its notifications' fd is sent to"
	edit '.linux.seccomp = {"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/nonexistent.sock"}'
	assert_refused "sbx-oci: run: config.json: linux.seccomp: defaultAction: SCMP_ACT_NOTIFY cannot be the default action (only a rule's)"
	edit ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$PWD/no-agent.sock\", \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
	assert_refused "sbx-oci: run: linux.seccomp.listenerPath: cannot connect to the seccomp agent at \"$PWD/no-agent.sock\": No such file or directory"
	edit '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}'
	assert_refused "sbx-oci: run: config.json: linux.seccomp: flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is only meaningful with SCMP_ACT_NOTIFY"
}

# create and run -d leave a container that holds its stdio: never a pipe
# that `run` waits on.
oci_bg() { "$OCI" --root "$ROOT" "$@" </dev/null >>"$BATS_TEST_TMPDIR/bg.out" 2>&1; }

@test "linux.seccomp: create sends the agent the state (status creating); exec into a container with a listener is refused by name" {
	command -v python3 >/dev/null || skip "python3 is needed for the seccomp agent"
	write_agent
	python3 agent.py "$PWD/agent.sock" "$PWD/state.json" &
	agent=$!
	wait_until -n 200 [ -S agent.sock ]
	[ -S agent.sock ]
	edit ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$PWD/agent.sock\", \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
	edit '.process.args = ["sh", "-c", "mkdir /tmp/d; exec sleep 1000"]'
	oci_bg run -d --bundle bundle c1 || { kill "$agent"; false; }
	wait "$agent"
	run jq -c '[.metadata, .state.id, .state.status]' state.json
	assert_output '["","c1","creating"]'
	run oci exec c1 true
	assert_status 125
	assert_output "sbx-oci: exec: linux.seccomp.listenerPath: not supported for exec yet (the seccomp agent gets the container's own process only)"
	run oci delete --force c1
	assert_status 0
	# The agent answered mkdir with EXDEV.
	grep -q "Invalid cross-device link" bg.out
	assert_root_empty
}

@test "linux.devices: a node's path that is a symlink in the (hostile) root is refused, never followed" {
	mkdir -p bundle/rootfs/etc
	echo secret >bundle/rootfs/etc/target
	ln -s /etc/target bundle/rootfs/dev/full
	edit '.mounts |= map(select(.destination != "/dev" and (.destination | startswith("/dev/") | not)))'
	edit '.linux.devices = [{"path": "/dev/full", "type": "c", "major": 1, "minor": 7}]'
	assert_refused "sbx-oci: run: linux.devices: \"/dev/full\" is a symlink in the root; refusing to cover it"
	# A directory on the way resolves inside the root: with the root's
	# /dev a symlink that climbs out, the node lands in the root's /etc,
	# not the host's.
	rm -rf bundle/rootfs/dev
	ln -s ../../../../../../../../etc bundle/rootfs/dev
	edit '.root.readonly = false'
	script 'ls -l /etc/full | cut -c1'
	run oci run --bundle bundle c1
	assert_status 0
	assert_output c
	[ -f bundle/rootfs/etc/full ]
	[ ! -e /etc/full ]
	[ "$(cat bundle/rootfs/etc/target)" = secret ]
	assert_root_empty
}
