#!/usr/bin/env bats
# pid 1 of a sandbox (--init, the default) is sbx-init, a program of its own:
# what a hostile payload tries against every process of sbx's it can see.
# The helper build/helpers/escape does the trying (tests/helpers/escape.c).

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_user_setup
	# The marker is in the caller's environment and in a volume's host path.
	MARKER=sbx-secret-$RANDOM$RANDOM
	export SBX_TEST_SECRET=$MARKER
	H=$BATS_TEST_TMPDIR/$MARKER
	mkdir -p "$H"
	cp "$SBX_TOP/build/helpers/escape" "$H/escape"
	DEV=$(stat -L -c %d "$SBX")
	INO=$(stat -L -c %i "$SBX")
}

@test "pid 1 holds nothing of the host: environment, command line, binary, fds; no ptrace" {
	run sbx run --rm -v "$H:/h" busybox sh -c 'cat /proc/1/comm; /h/escape scan "$1" "$2" "$3"' sh "$MARKER" "$DEV" "$INO"
	assert_status 0
	assert_output "sbx-init
scanned 1 processes, 0 leaks"
}

@test "pid 1 is in a session of its own, not the caller's, with no controlling terminal" {
	run sbx run --rm -v "$H:/h" busybox sh -c 'cut -d" " -f6 /proc/1/stat; cut -d" " -f6 /proc/self/stat; cut -d" " -f7 /proc/1/stat'
	assert_status 0
	# session of pid 1 is 1; the payload's (this sh, pid 2) is its own; tty_nr 0
	assert_output "1
2
0"
}

@test "-t: the payload cannot reach the caller's terminal through pid 1" {
	run script -qec "'$SBX' run --rm -t -v '$H:/h' busybox /h/escape scan '$MARKER' '$DEV' '$INO'" /dev/null
	assert_status 0
	assert_contains "scanned 1 processes, 0 leaks"
	[[ "$output" != *LEAK* ]]
}

@test "--seccomp unconfined: pid 1 still cannot be attached, read or typed through" {
	run sbx run --rm --seccomp unconfined -v "$H:/h" busybox /h/escape scan "$MARKER" "$DEV" "$INO"
	assert_status 0
	assert_output "scanned 1 processes, 0 leaks"
}

@test "run -d, and sbx exec racing a payload that watches every new process" {
	# The marker must not be in the payload's own command lines.
	echo "$MARKER" >"$H/marker"
	sbx run -d --name watched -v "$H:/h" busybox sh -c \
		'while :; do /h/escape scan @/h/marker "$1" "$2" >>/h/scans 2>&1; done' sh "$DEV" "$INO"
	wait_until [ -s "$H/scans" ]
	for _ in $(seq 40); do
		run sbx exec watched /bin/true
		assert_status 0
	done
	run sbx exec watched /h/escape scan @/h/marker "$DEV" "$INO"
	sbx rm -f watched >/dev/null
	assert_status 0
	assert_contains ", 0 leaks"
	run -0 grep -c '^scanned' "$H/scans"
	[ "$output" -ge 2 ]
	run grep LEAK "$H/scans"
	assert_status 1
}

@test "--cap-add SYS_PTRACE: pid 1 can be neither attached to nor written; /proc/1/root is closed; sbx lives" {
	# The payload's Landlock layer walls it off from sbx-init (landlock.h):
	# Landlock's ptrace rule heeds no capability. Before it, sbx-init's
	# filter stopped injected system calls, but its memory could be written.
	run sbx run --rm --cap-add SYS_PTRACE -v "$H:/h" busybox sh -c \
		'/h/escape mem 1; echo "mem: $?"; /h/escape inject 1; echo "inject: $?"
		ls /proc/1/root/ >/dev/null 2>&1 || echo "root: closed"
		kill -0 1 && echo "signal: allowed"
		grep -E "^(NoNewPrivs|Seccomp):" /proc/1/status | tr "\t" " "'
	assert_status 0
	assert_output "open /proc/1/mem: Permission denied
mem: 0
attach 1: Operation not permitted
inject: 2
root: closed
signal: allowed
NoNewPrivs: 1
Seccomp: 0"
}

@test "--cap-add SYS_PTRACE, Landlock without scopes: an injected prctl, kill or exec in pid 1 fails; sbx and its group live" {
	# Without the wall (Linux before 6.12), sbx-init's own filter.
	SBX_LANDLOCK_ABI_MAX=5 setsid "$SBX" run --rm --cap-add SYS_PTRACE -v "$H:/h" busybox sh -c \
		'trap "" ALRM; /h/escape inject 1 >/h/inject.out 2>&1; echo $? >/h/inject.rc; exec sleep 4343' 3>&- &
	pid=$!
	SBX_BG_PIDS=$pid SBX_BG_KILL='^sleep 4343$'
	wait_until -n 200 [ -s "$H/inject.rc" ]
	cat "$H/inject.out" >&2
	[ "$(cat "$H/inject.rc")" = 0 ]
	grep -qx 'prctl(PR_SET_PDEATHSIG, 0) = -1 Operation not permitted' "$H/inject.out"
	grep -qx 'kill(0, SIGALRM) = -1 Operation not permitted' "$H/inject.out"
	grep -qx 'ioctl(0, TIOCSTI) = -1 Operation not permitted' "$H/inject.out"
	grep -qx 'execve("/bin/sh") = -1 Operation not permitted' "$H/inject.out"
	# Neither is in its filter: without the filter the first would work
	# and the second fail with EBADF.
	grep -qx 'prctl(PR_SET_DUMPABLE, 1) = -1 Operation not permitted' "$H/inject.out"
	grep -qx 'setns(-1, CLONE_NEWUSER) = -1 Operation not permitted' "$H/inject.out"
	# sbx still runs, and its death still takes the sandbox with it.
	kill -0 $pid
	kill -9 $pid
	wait $pid || true
	wait_while pgrep -u "$(id -u)" -f '^sleep 4343$' >/dev/null
	run pgrep -u "$(id -u)" -f '^sleep 4343$'
	assert_status 1
}

@test "--cap-add SYS_PTRACE: pid 1's root, working directory and mount namespace are the sandbox's; no stdio" {
	# sbx-init starts while the set-up mounts: it must have left the
	# namespace whose mounts are not locked, and the host's tree. Seen
	# without the Landlock wall, which hides them from the payload.
	run env SBX_LANDLOCK_ABI_MAX=5 "$SBX" run --rm --cap-add SYS_PTRACE busybox sh -c '
		[ "$(readlink /proc/1/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] && echo same-ns
		[ "$(ls -a /proc/1/root/)" = "$(ls -a /)" ] && echo same-root
		[ "$(ls -a /proc/1/cwd/)" = "$(ls -a /)" ] && echo same-cwd
		ls /proc/1/fd | grep -x "[012]" || echo no-stdio'
	assert_status 0
	assert_output "same-ns
same-root
same-cwd
no-stdio"
}

@test "--userns subid --user: pid 1 runs as the payload's user, without groups or capabilities" {
	# Its bounding set is left as it is: it never execs (it has no exec,
	# and no-new-privileges is set). No filter: the payload is walled off.
	run sbx run --rm --userns subid --user 1000:1000 busybox sh -c \
		'grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs|Seccomp):" /proc/1/status | tr "\t" " " | sed "s/ *$//"'
	assert_status 0
	assert_output "Uid: 1000 1000 1000 1000
Gid: 1000 1000 1000 1000
Groups:
CapInh: 0000000000000000
CapPrm: 0000000000000000
CapEff: 0000000000000000
CapAmb: 0000000000000000
NoNewPrivs: 1
Seccomp: 0"
}

@test "default capabilities: pid 1 cannot even be attached" {
	# In a session of its own: if the attack worked, it would signal sbx's group.
	run setsid -w "$SBX" run --rm -v "$H:/h" busybox /h/escape inject 1
	assert_status 2
	assert_output "attach 1: Operation not permitted"
}

@test "the monitor of a detached instance dies: the sandbox dies, ps never says stopped while it runs" {
	sbx run -d --name mon busybox sleep 4344
	monitor=$(jq -r .monitor "$XDG_RUNTIME_DIR/sbx/mon/state.json")
	[ "$monitor" -gt 1 ]
	pgrep -u "$(id -u)" -f '^sleep 4344$' >/dev/null
	kill -9 "$monitor"
	wait_while pgrep -u "$(id -u)" -f '^sleep 4344$' >/dev/null
	run pgrep -u "$(id -u)" -f '^sleep 4344$'
	assert_status 1
	run -0 sbx ps -a --format json
	[ "$(jq -r '.[] | select(.name == "mon") | .status' <<<"$output")" = exited ]
	sbx rm -f mon >/dev/null
}

@test "run --rm returns once init told the status; what the payload left running dies with the sandbox" {
	# sbx does not wait for the kernel's teardown of a --rm sandbox: the
	# payload's status stands, and its background process is killed.
	run sbx --debug run --rm busybox sh -c 'sleep 4345 & exit 7'
	assert_status 7
	# pid 1's pid on the host, from the --debug timeline.
	pid1=$(sed -n 's/.*cloned pid \([0-9]*\)$/\1/p' <<<"$output")
	[ "$pid1" -gt 1 ]
	wait_while [ -e "/proc/$pid1" ]
	[ ! -e "/proc/$pid1" ]
	run pgrep -u "$(id -u)" -f '^sleep 4345$'
	assert_status 1
}

@test "sbx started with its stdio closed: the sandbox and its init start, the payload's status comes back" {
	# sbx's own fds then take the numbers 0-2; pid 1 closes those (they
	# are sbx's) but keeps sbx-init's own.
	run sh -c '"$1" run --rm busybox sh -c "exit 3" <&- >&- 2>&-' sh "$SBX"
	assert_status 3
	run sh -c '"$1" run --rm -v "$2:/h" busybox sh -c "ls /proc/self/fd >/h/fds" <&- >&- 2>&-' sh "$SBX" "$H"
	assert_status 0
	# Nothing of sbx's: ls's own directory fd (0) and the redirection (1).
	run cat "$H/fds"
	assert_output "0
1"
}

@test "sbx-init is not for running by hand" {
	run "$SBX_TOP/build/sbx-init"
	assert_status 2
	assert_output "sbx-init: pid 1 of an sbx sandbox, started by sbx run; not meant to be run by hand"
}

@test "sbx's init missing: a clear error, nothing left behind; --no-init still runs" {
	run env SBX_LIBEXECDIR=/nonexistent "$SBX" run --name noinit busybox true
	assert_status 125
	assert_output "sbx: run: cannot run sbx's init \"/nonexistent/sbx-init\": No such file or directory; reinstall sbx ('make install' installs it in /usr/local/libexec/sbx)"
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ]
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx" 2>/dev/null | grep -v '^\.')" ]
	run env SBX_LIBEXECDIR=/nonexistent "$SBX" run --rm --no-init busybox echo ran
	assert_status 0
	assert_output ran
}
