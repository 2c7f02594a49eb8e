#!/usr/bin/env bats
# sbx run, as an unprivileged user: the seed scenario, isolation, exit codes,
# process hygiene and hostile images.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	HELPERS=$SBX_TOP/build/helpers
	cd "$BATS_TEST_TMPDIR"
	# Bootstrapped once here, so its notice does not mix with test output.
	sbx image bootstrap busybox >/dev/null 2>&1
}

# The default capability set (Docker's), as /proc/self/status shows it.
DEFAULT_CAPS=00000000a80425fb

@test "seed: a volume carries files both ways, owned by the user" {
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p ~/share
	echo 'host says hello' >~/share/hello
	run sbx run --rm -v ~/share:/host busybox sh -c 'cat /host/hello; echo "sandbox says bye" >> /host/bye'
	assert_status 0
	assert_contains "host says hello"
	[ "$(cat ~/share/bye)" = "sandbox says bye" ]
	[ "$(stat -c %u ~/share/bye)" = "$(id -u)" ]
	# --rm leaves no instance behind.
	[ -z "$(ls "$XDG_DATA_HOME/sbx/instances")" ]
}

@test "a :ro volume refuses writes, even after a remount inside" {
	mkdir share
	run sbx run --rm -v "$PWD/share:/host:ro" busybox sh -c \
		'echo x > /host/x; mount -o remount,rw /host 2>&1; mount -o remount,rw,bind /host 2>&1; echo y > /host/y; echo done'
	assert_status 0
	assert_contains "Read-only file system"
	assert_contains "done"
	[ -z "$(ls share)" ]
}

@test "inside: uid 0, uid_map, caps, no_new_privs, seccomp" {
	run sbx run --rm busybox sh -c 'id -u; cat /proc/self/uid_map; grep -E "^(CapBnd|CapEff|CapPrm|CapInh|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status'
	assert_status 0
	expected="0
         0 $(printf '%10s' "$(id -u)")          1
CapInh:	0000000000000000
CapPrm:	$DEFAULT_CAPS
CapEff:	$DEFAULT_CAPS
CapBnd:	$DEFAULT_CAPS
CapAmb:	0000000000000000
NoNewPrivs:	1
Seccomp:	2"
	assert_output "$expected"
}

@test "inside: the maps are the caller's one uid and gid, setgroups denied, with or without a network" {
	for net in none host; do
		run sbx run --rm --network "$net" busybox sh -c 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id'
		assert_status 0
		assert_output "         0 $(printf '%10s' "$(id -u)")          1
         0 $(printf '%10s' "$(id -g)")          1
deny
uid=0(root) gid=0(root) groups=0(root)"
	done
}

@test "inside: --cap-drop ALL and the strict profile leave no capability" {
	run sbx run --rm --cap-drop ALL busybox grep -E '^Cap(Bnd|Eff|Prm)' /proc/self/status
	assert_status 0
	assert_output "CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	0000000000000000"
	run --separate-stderr sbx run --rm --profile strict busybox grep -E '^CapBnd' /proc/self/status
	assert_status 0
	assert_output "CapBnd:	0000000000000000"
}

@test "inside: pid 1 is sbx's init, the payload is pid 2, host processes are invisible" {
	run sbx run --rm busybox sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "; ls /proc | grep -c "^[0-9]"'
	assert_status 0
	lines=($output)
	[ "${lines[0]}" = 2 ]
	# The host has hundreds of processes; the sandbox sees init, sh and ls.
	[ "${lines[-1]}" -le 4 ]
}

@test "inside: --no-init makes the payload pid 1" {
	run sbx run --rm --no-init busybox sh -c 'echo $$'
	assert_status 0
	assert_output "1"
}

@test "inside: a private hostname, and only lo, up, with --network none" {
	run sbx run --rm --network none busybox sh -c 'hostname; ip -o link | cut -d: -f2,3'
	assert_status 0
	[ "${lines[0]}" = sbx ]
	[ "${#lines[@]}" = 2 ]
	[[ "${lines[1]}" == *"lo: <LOOPBACK,UP,LOWER_UP>"* ]]
	run sbx run --rm --hostname box busybox hostname
	assert_output "box"
	[ "$(hostname)" != box ]
}

@test "inside: runc's masked paths are empty and read-only, its read-only paths refuse writes" {
	run sbx run --rm busybox sh -c '
		for d in /proc/acpi /sys/firmware; do
			[ -d "$d" ] || continue
			echo "$d: $(ls -A "$d" | wc -l) entries"
			touch "$d/x" 2>/dev/null && echo "$d: writable"
		done
		for f in /proc/kcore /proc/keys /proc/timer_list; do
			[ -e "$f" ] || continue
			echo "$f: $(wc -c <"$f") bytes"
		done
		echo 1 >/proc/sys/kernel/ns_last_pid 2>/dev/null && echo "proc/sys: writable"
		echo h >/proc/sysrq-trigger 2>/dev/null && echo "sysrq-trigger: writable"
		grep -c " /proc/sys " /proc/mounts'
	assert_status 0
	assert_contains "/proc/acpi: 0 entries"
	assert_contains "/sys/firmware: 0 entries"
	assert_contains "/proc/keys: 0 bytes"
	assert_contains "/proc/timer_list: 0 bytes"
	[[ $output != *writable* ]]
	# /proc/sys is a read-only bind of its own.
	[ "${lines[-1]}" = 1 ]
}

@test "the payload and init run on the caller's CPUs, whatever CPU the set-up ran on" {
	command -v taskset >/dev/null || fail "taskset (util-linux) is missing"
	all=$(sed -n 's/^Cpus_allowed_list:\t//p' /proc/self/status)
	run sbx run --rm busybox sh -c 'grep Cpus_allowed_list /proc/self/status /proc/1/status'
	assert_status 0
	assert_output "/proc/self/status:Cpus_allowed_list:	$all
/proc/1/status:Cpus_allowed_list:	$all"
	run taskset -c 0 "$SBX" run --rm busybox sh -c 'grep Cpus_allowed_list /proc/self/status'
	assert_status 0
	assert_output "Cpus_allowed_list:	0"
}

@test "writes to the root land in the upper layer, never in the image" {
	image=$XDG_DATA_HOME/sbx/images/busybox/rootfs
	before=$(cd "$image" && find . -printf '%p %s %T@\n' | sort | sha256sum)
	run sbx run --name keep busybox sh -c 'echo new > /etc/new; echo changed >> /etc/passwd; rm /bin/vi; mkdir -p /hello/world'
	assert_status 0
	after=$(cd "$image" && find . -printf '%p %s %T@\n' | sort | sha256sum)
	[ "$before" = "$after" ]
	upper=$XDG_DATA_HOME/sbx/instances/keep/upper
	[ "$(cat "$upper/etc/new")" = new ]
	grep -q changed "$upper/etc/passwd"
	run ! grep -q changed "$image/etc/passwd"
	[ -d "$upper/hello/world" ]
	# A whiteout records the deletion.
	[ -c "$upper/bin/vi" ]
}

@test "exit codes: 0, 1, 42, 126, 127 and 125" {
	run sbx run --rm busybox true
	assert_status 0
	run sbx run --rm busybox false
	assert_status 1
	run sbx run --rm busybox sh -c 'exit 42'
	assert_status 42
	run -126 sbx run --rm busybox /etc/passwd
	assert_status 126
	assert_output 'sbx: run: cannot execute "/etc/passwd": Permission denied'
	run -127 sbx run --rm busybox no-such-command
	assert_status 127
	assert_output 'sbx: run: "no-such-command": executable file not found in $PATH'
	run sbx run --rm -v /no/such/dir:/x busybox true
	assert_status 125
	assert_output 'sbx: run: volume source "/no/such/dir" does not exist; create it or fix the --volume option'
	[ -z "$(ls "$XDG_DATA_HOME/sbx/instances")" ]
}

@test "a profile's volume whose source is missing: the profile file and line, not --volume" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	# README's dev.ini, for a user without the source directory.
	cat >"$XDG_CONFIG_HOME/sbx/profiles/dev.ini" <<-EOF
		[profile]
		inherit = default
		description = my dev box

		[filesystem]
		volume = $BATS_TEST_TMPDIR/src:/src:rw
	EOF
	run -125 sbx run --rm --profile dev busybox true
	assert_output "sbx: run: $XDG_CONFIG_HOME/sbx/profiles/dev.ini:6: volume source \"$BATS_TEST_TMPDIR/src\" does not exist; create it or fix the volume line"
	[ -z "$(ls "$XDG_DATA_HOME/sbx/instances")" ]
	# The same volume from the command line names the option.
	run -125 sbx run --rm -v "$BATS_TEST_TMPDIR/other:/src" busybox true
	assert_output "sbx: run: volume source \"$BATS_TEST_TMPDIR/other\" does not exist; create it or fix the --volume option"
	[ -z "$(ls "$XDG_DATA_HOME/sbx/instances")" ]
	# Created, the profile works.
	mkdir "$BATS_TEST_TMPDIR/src"
	run -0 sbx run --rm --profile dev busybox sh -c 'test -d /src && echo mounted'
	assert_output mounted
}

@test "exit codes: 143 when sbx gets SIGTERM, forwarded to the payload" {
	"$SBX" run --rm busybox sleep 60 &
	pid=$!
	# Wait until the payload runs, then signal sbx itself.
	wait_until pgrep -u "$(id -u)" -f '^sleep 60$' >/dev/null
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[ "$status" = 143 ]
	run ! pgrep -u "$(id -u)" -f '^sleep 60$'
}

@test "signals INT, HUP, QUIT, USR1, USR2 reach the payload" {
	for sig in INT HUP QUIT USR1 USR2; do
		"$SBX" run --rm busybox sh -c "trap 'echo got-$sig; exit 7' $sig; echo ready; while :; do sleep 0.1; done" >out &
		pid=$!
		wait_until grep -q ready out
		kill -$sig $pid
		status=0
		wait $pid || status=$?
		[ "$status" = 7 ]
		grep -q "got-$sig" out
	done
}

@test "stdin and stdout pass straight through, byte-exact; a closed stdout gives SIGPIPE" {
	head -c 3000000 /dev/urandom >big
	want=$(sha256sum <big)
	got=$(sbx run --rm busybox cat <big | sha256sum)
	[ "$want" = "$got" ]
	run bash -c "'$SBX' run --rm busybox yes | head -1; echo \${PIPESTATUS[0]}"
	assert_output "y
141"
}

@test "only fds 0-2 reach the payload, whatever the caller holds open" {
	rootfs=$BATS_TEST_TMPDIR/rootfs
	make_busybox_rootfs "$rootfs"
	cp "$HELPERS/fdlist" "$rootfs/bin/fdlist"
	exec 7</etc/passwd 8>"$BATS_TEST_TMPDIR/x"
	run sbx run --rm "$rootfs" /bin/fdlist
	exec 7<&- 8>&-
	assert_status 0
	assert_output "0
1
2"
}

@test "TIOCSTI from inside cannot reach the caller's terminal" {
	rootfs=$BATS_TEST_TMPDIR/rootfs
	make_busybox_rootfs "$rootfs"
	cp "$HELPERS/tiocsti" "$rootfs/bin/tiocsti"
	# script gives sbx a real controlling terminal; seccomp is turned off to
	# show the payload's own session stops the attack by itself.
	for policy in default unconfined; do
		run script -qec "'$SBX' run --rm --seccomp $policy '$rootfs' /bin/tiocsti" /dev/null
		[ "$status" = 1 ]
		[[ "$output" == *"tiocsti: Operation not permitted"* ]]
		[[ "$output" != *INJECTED* ]]
	done
}

@test "-t gives a pty that works under tmux, with the window size and Ctrl-C once" {
	command -v tmux >/dev/null || fail "tmux is missing: run 'make deps'"
	sock=$BATS_TEST_TMPDIR/tmux.sock
	tmux -S "$sock" new-session -d -x 100 -y 30 "'$SBX' run --rm -it busybox sh; echo EXITED \$?; sleep 30"
	wait_screen() {
		for _ in $(seq 100); do
			tmux -S "$sock" capture-pane -p | grep -q "$1" && return 0
			sleep 0.05
		done
		tmux -S "$sock" capture-pane -p >&2
		return 1
	}
	wait_screen '#'
	tmux -S "$sock" send-keys 'tty; stty size' Enter
	wait_screen '^/dev/pts/0'
	wait_screen '^30 100'
	# The typed line shows $((6*7)), so only the handler prints "42-caught".
	tmux -S "$sock" send-keys 'trap "echo \$((6*7))-caught" INT; sleep 20' Enter
	sleep 0.3
	tmux -S "$sock" send-keys C-c
	wait_screen '42-caught'
	[ "$(tmux -S "$sock" capture-pane -p | grep -c '42-caught')" = 1 ]
	tmux -S "$sock" resize-window -x 80 -y 20 2>/dev/null || tmux -S "$sock" resize-pane -x 80 -y 20
	tmux -S "$sock" send-keys 'stty size' Enter
	wait_screen '^20 80'
	tmux -S "$sock" send-keys 'exit 3' Enter
	wait_screen 'EXITED 3'
	tmux -S "$sock" kill-server
}

# An interactive bash in tmux, as a user's shell; wait_screen TEXT waits
# for TEXT on the screen.
shell_in_tmux() {
	command -v tmux >/dev/null || fail "tmux is missing: run 'make deps'"
	sock=$BATS_TEST_TMPDIR/tmux.sock
	tmux -S "$sock" new-session -d -x 150 -y 30 "PS1='$ ' bash --norc --noprofile -i"
	wait_screen() {
		for _ in $(seq 200); do
			tmux -S "$sock" capture-pane -p | grep -q "$1" && return 0
			sleep 0.05
		done
		tmux -S "$sock" capture-pane -p >&2
		return 1
	}
}

# Bytes waiting in the input queue of the pane's terminal.
typed_ahead() {
	/usr/bin/python3 -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
print(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0])' "$1"
}

@test "-t without -i: what is typed meanwhile is discarded, not run by the shell afterwards" {
	shell_in_tmux
	marker=$BATS_TEST_TMPDIR/typed-marker
	mkdir gate
	# The typed lines show $((1+1)) and $((40+2)); only their output has 2 and 42.
	tmux -S "$sock" send-keys "'$SBX' run --rm -t -v '$PWD/gate:/gate' busybox sh -c 'echo \$((1+1))-ready; until [ -e /gate/go ]; do sleep 0.05; done'; echo EXITED-\$((40+2))-\$?" Enter
	wait_screen '2-ready'
	tmux -S "$sock" send-keys "touch $marker" Enter
	pty=$(tmux -S "$sock" display -p '#{pane_tty}')
	wait_until -n 200 eval '[ "$(typed_ahead "$pty")" -gt "${#marker}" ]'
	[ "$(typed_ahead "$pty")" -gt "${#marker}" ]
	touch gate/go
	wait_screen 'EXITED-42-0'
	tmux -S "$sock" send-keys 'echo AFTER-$((2+3))' Enter
	wait_screen 'AFTER-5'
	[ ! -e "$marker" ]
	tmux -S "$sock" kill-server
}

@test "-t without -i: Ctrl-C reaches the sandbox once" {
	shell_in_tmux
	tmux -S "$sock" send-keys "'$SBX' run --rm -t busybox sh -c 'trap \"echo \$((6*7))-caught; exit 7\" INT; echo \$((1+1))-ready; while :; do sleep 0.05; done'; echo EXITED-\$((40+2))-\$?" Enter
	wait_screen '2-ready'
	tmux -S "$sock" send-keys C-c
	wait_screen 'EXITED-42-7'
	[ "$(tmux -S "$sock" capture-pane -p | grep -c '42-caught')" = 1 ]
	tmux -S "$sock" kill-server
}

@test "kill -9 of sbx leaves no sandbox process behind" {
	"$SBX" run --rm busybox sleep 4242 &
	pid=$!
	wait_until pgrep -u "$(id -u)" -f '^sleep 4242$' >/dev/null
	pgrep -u "$(id -u)" -f '^sleep 4242$'
	kill -9 $pid
	wait $pid || true
	wait_while pgrep -u "$(id -u)" -f '^sleep 4242$' >/dev/null
	run ! pgrep -u "$(id -u)" -f '^sleep 4242$'
}

@test "hostile image: a symlinked /dev/null, /proc, /etc/hosts or volume target stays inside" {
	rootfs=$BATS_TEST_TMPDIR/rootfs
	victim=$BATS_TEST_TMPDIR/victim
	mkdir -p "$victim"
	echo precious >"$victim/file"
	make_busybox_rootfs "$rootfs"
	rmdir "$rootfs/dev" "$rootfs/proc"
	ln -s "$victim" "$rootfs/dev"
	ln -s "$victim" "$rootfs/proc"
	rm "$rootfs/etc/hosts"
	ln -s "$victim/file" "$rootfs/etc/hosts"
	ln -s "$victim" "$rootfs/mnt"
	mkdir share
	echo from-volume >share/f
	before=$(ls -la "$victim"; cat "$victim/file")
	run sbx run --rm -v "$PWD/share:/mnt/vol" "$rootfs" sh -c 'cat /mnt/vol/f; echo owned > /etc/hosts; ls /dev/null'
	assert_status 0
	assert_contains from-volume
	after=$(ls -la "$victim"; cat "$victim/file")
	[ "$before" = "$after" ]
	# Nothing is mounted on the host either.
	run ! grep -q "$victim" /proc/self/mountinfo
}

@test "a read-only root refuses writes, tmpfs stays writable" {
	run sbx run --rm --read-only --tmpfs /scratch:size=1M busybox sh -c 'echo x > /etc/x 2>&1; echo y > /scratch/y && cat /scratch/y'
	assert_status 0
	assert_contains "Read-only file system"
	assert_contains "y"
}

@test "without --rm the instance is kept with its config" {
	run sbx run --name kept busybox true
	assert_status 0
	dir=$XDG_DATA_HOME/sbx/instances/kept
	[ -f "$dir/config.json" ] && [ -d "$dir/upper" ] && [ -f "$dir/instance.json" ]
	"$VALIDATE" "$dir/config.json"
	run sbx run --name kept busybox true
	assert_status 125
	assert_output "sbx: run: an instance named \"kept\" already exists; remove it with 'sbx rm kept' or choose another --name"
}

@test "rlimits from the strict profile apply; unenforceable limits are reported" {
	run --separate-stderr sbx run --rm --profile strict busybox sh -c 'ulimit -n; ulimit -u'
	assert_status 0
	assert_output "256
64"
	# sbx enforces no cgroup limits: it says so, delegated subtree or not.
	[[ "$stderr" == *"sbx: warning: sbx does not enforce memory, pids and cpus limits yet; they are recorded in the config, for runc and crun (rlimits still apply)"* ]]
}

@test "--user switches to a mapped id and fails clearly for an unmapped one" {
	run sbx run --rm --user 1000 busybox id -u
	assert_status 125
	assert_output "sbx: run: --user \"1000\": uid 1000 or gid 1000 is not mapped in the sandbox; only 0 is mapped by default, use --userns subid for more ids"
	[ -z "$(ls "$XDG_DATA_HOME/sbx/instances")" ]
}

@test "--userns subid maps the user's subordinate range through newuidmap" {
	command -v newuidmap >/dev/null || fail "newuidmap is missing: run 'make deps'"
	grep -q "^$(id -un):" /etc/subuid || fail "no /etc/subuid range for $(id -un)"
	run sbx run --rm --userns subid --user 1000:1000 busybox sh -c 'id -u; id -g; cat /proc/self/uid_map'
	assert_status 0
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	[ "${#lines[@]}" = 4 ]
}

@test "--userns subid --user: the image's groups of that user, never the caller's group 0" {
	grep -q "^$(id -un):" /etc/subuid || fail "no /etc/subuid range for $(id -un)"
	run sbx run --rm --userns subid --user 1000 busybox id
	assert_status 0
	assert_output "uid=1000 gid=1000 groups=1000"
	run sbx run --rm --userns subid --user nobody busybox id -G
	assert_status 0
	assert_output 65534
	rootfs=$BATS_TEST_TMPDIR/rootfs
	make_busybox_rootfs "$rootfs"
	echo 'alice:x:1000:1000::/home/alice:/bin/sh' >>"$rootfs/etc/passwd"
	printf '%s\n' alice:x:1000: wheel:x:10:bob,alice audio:x:29:bob staff:x:50:alice \
		'big:x:4294967296:alice' >>"$rootfs/etc/group"
	run sbx run --rm --userns subid --user alice "$rootfs" id -G
	assert_status 0
	assert_output "1000 10 50"
	run sbx run --rm --userns subid --user 1000:29 "$rootfs" id -G
	assert_status 0
	assert_output "29 10 50"
	# Root keeps group 0, and only what the image gives it.
	run sbx run --rm --userns subid "$rootfs" id -G
	assert_status 0
	assert_output 0
}

@test "user namespaces disabled: a clear error with a hint" {
	# A nested user namespace with max_user_namespaces=0 reproduces a host
	# where an administrator disabled them.
	command -v unshare >/dev/null
	run unshare -Ur sh -c "echo 0 > /proc/sys/user/max_user_namespaces && '$SBX' run --rm busybox true"
	assert_status 125
	assert_output "sbx: run: cannot create the sandbox's namespaces: No space left on device; hint: user namespaces are disabled (user.max_user_namespaces=0); an administrator can run 'sysctl user.max_user_namespaces=15000'"
}
