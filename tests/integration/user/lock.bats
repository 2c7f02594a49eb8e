#!/usr/bin/env bats
# Walls that hold even with added capabilities: the mounts sbx made are
# locked against the payload (issue 11, section 4).

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_user_setup
}

# Every attempt prints "ARGS: done" or "ARGS: refused".
TRY='try() { if "$@" 2>/dev/null; then echo "$*: done"; else echo "$*: refused"; fi; }'

# The attacks on a :ro volume mounted at /host; the host directory must stay empty.
RO_ATTACKS='
try mount -o remount,bind,rw /host
try mount -o remount,rw /host
mkdir -p /b
try mount --bind /host /b
try mount -o remount,bind,rw /b
try umount -l /host
{ echo x >/host/x; } 2>/dev/null
{ echo x >/b/x; } 2>/dev/null
true'

RO_REFUSED="mount -o remount,bind,rw /host: refused
mount -o remount,rw /host: refused
mount --bind /host /b: done
mount -o remount,bind,rw /b: refused
umount -l /host: refused"

ADDED="--cap-add SYS_ADMIN --seccomp unconfined"

@test "lock: with SYS_ADMIN and no seccomp, a :ro volume cannot be remounted read-write" {
	mkdir share
	run sbx run --rm $ADDED -v "$PWD/share:/host:ro" busybox sh -c "$TRY $RO_ATTACKS"
	assert_status 0
	assert_output "$RO_REFUSED"
	[ -z "$(ls -A share)" ]
}

@test "lock: with SYS_ADMIN and no seccomp, masks, read-only paths and /sys hold" {
	run sbx run --rm $ADDED busybox sh -c "$TRY"'
		mkdir -p /t
		try umount /proc/keys
		try umount -l /proc/kcore
		try umount -l /sys/firmware
		try mount -o remount,rw /sys
		try mount -o remount,bind,rw /sys
		try umount -l /sys
		try mount -o remount,bind,rw /proc/sys
		try umount -l /proc/sys
		try mount -t proc proc /t
		try mount -t sysfs sysfs /t
		try mount -t tmpfs tmpfs /t
		echo "keys: $(wc -c </proc/keys)"
		awk '"'"'$5 == "/sys" { print "/sys: " substr($6, 1, 3) }'"'"' /proc/self/mountinfo
		touch /proc/sys/kernel/hostname 2>/dev/null && echo "proc/sys: writable"
		true'
	assert_status 0
	assert_output "umount /proc/keys: refused
umount -l /proc/kcore: refused
umount -l /sys/firmware: refused
mount -o remount,rw /sys: refused
mount -o remount,bind,rw /sys: refused
umount -l /sys: refused
mount -o remount,bind,rw /proc/sys: refused
umount -l /proc/sys: refused
mount -t proc proc /t: refused
mount -t sysfs sysfs /t: refused
mount -t tmpfs tmpfs /t: done
keys: 0
/sys: ro,"
}

@test "lock: sbx exec joins the locked mounts" {
	mkdir share
	sbx run -d --name box $ADDED -v "$PWD/share:/host:ro" busybox sleep 60 >/dev/null
	run sbx exec box sh -c "$TRY $RO_ATTACKS"
	assert_status 0
	assert_output "$RO_REFUSED"
	[ -z "$(ls -A share)" ]
	run -0 sbx exec box sh -c "$TRY"'; try umount /proc/keys; try umount -l /sys'
	assert_output "umount /proc/keys: refused
umount -l /sys: refused"
	sbx rm -f box >/dev/null
}

@test "lock: with --userns subid too" {
	command -v newuidmap >/dev/null || fail "newuidmap is missing: run 'make deps'"
	mkdir share
	run sbx run --rm --userns subid $ADDED -v "$PWD/share:/host:ro" busybox sh -c "$TRY $RO_ATTACKS"
	assert_status 0
	assert_output "$RO_REFUSED"
	[ -z "$(ls -A share)" ]
}

@test "lock: the payload keeps its user namespace and capabilities: NET_BIND_SERVICE, hostname, new mounts" {
	run sbx run --rm $ADDED busybox sh -c '
		cat /proc/self/uid_map
		httpd -p 127.0.0.1:80 && echo "port 80: bound"
		hostname other && hostname
		mount -t tmpfs tmpfs /tmp && touch /tmp/x && umount /tmp && echo "tmpfs: mounted and unmounted"
		echo "pid: $$"'
	assert_status 0
	assert_output "         0 $(printf '%10s' "$(id -u)")          1
port 80: bound
other
tmpfs: mounted and unmounted
pid: 2"
}

@test "lock: no user namespace left for the lock: exit 125, the limit named, nothing left" {
	# A nested user namespace with max_user_namespaces=1: the sandbox's own
	# user namespace fits, the one that locks its mounts does not.
	command -v unshare >/dev/null
	run unshare -Ur sh -c "echo 1 > /proc/sys/user/max_user_namespaces && '$SBX' run --rm busybox true"
	assert_status 125
	assert_output "sbx: run: cannot lock the sandbox's mounts: cannot create a nested user namespace: No space left on device; hint: each sandbox needs two user namespaces, and the limit (user.max_user_namespaces) is reached"
	[ -z "$(ls -A "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ]
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/sbx" 2>/dev/null)" ]
	assert_no_leftover_processes
}
