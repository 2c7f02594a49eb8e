#!/usr/bin/env bats
# Set-id files: the payload cannot give a file S_ISUID or S_ISGID, in a
# volume or anywhere else (issue 12 §4), by any of the calls that set a
# mode; volumes are nosuid inside; restrict_suid_sgid = false turns the rule
# off. root/setid.bats shows the attack itself: another user runs the file.

load ../helpers

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	cd "$BATS_TEST_TMPDIR"
	rootfs=$BATS_TEST_TMPDIR/rootfs
	make_busybox_rootfs "$rootfs"
	cp "$SBX_TOP/build/helpers/setid" "$rootfs/bin/setid"
	mkdir share
}

# Every way to set a mode, on /vol/CALL (made first where the call needs a
# file), with the mode $1; one line "CALL RESULT" each.
try_all='
m=$1; d=$2; mkdir -p $d
for c in chmod fchmod fchmodat fchmodat2; do
	cp /bin/setid $d/$c; echo "$c $(setid $c $d/$c $m)"
done
for c in mknod mknodat creat open openat openat2; do
	echo "$c $(setid $c $d/$c $m)"
done
mkdir $d/tmp; echo "tmpfile $(setid tmpfile $d/tmp $m)"
cp /bin/setid $d/shell; chmod $m $d/shell 2>&1 | sed "s/^/shell /"
'

@test "set-id modes fail with EPERM by every call (openat2 ENOSYS), in a volume and in the overlay" {
	for m in 4755 2755 6711; do
		for d in /vol/$m /root/$m; do
			run sbx run --rm -v "$PWD/share:/vol" "$rootfs" sh -c "$try_all" sh $m $d
			assert_status 0
			assert_output "chmod EPERM
fchmod EPERM
fchmodat EPERM
fchmodat2 EPERM
mknod EPERM
mknodat EPERM
creat EPERM
open EPERM
openat EPERM
openat2 ENOSYS
tmpfile EPERM
shell chmod: $d/shell: Operation not permitted"
		done
	done
	# On the host, nothing in the volume carries a set-id bit.
	[ -z "$(find share -perm /6000)" ]
	[ -n "$(find share -type f)" ]
}

@test "plain modes still work: chmod, mknod, open and O_TMPFILE without set-id bits, open without O_CREAT" {
	run sbx run --rm -v "$PWD/share:/vol" "$rootfs" sh -c "$try_all"' 
		cat /vol/chmod >/dev/null && echo read ok; echo x >>/vol/open && echo append ok
		chmod 1777 /vol/tmp && echo sticky ok' sh 755 /vol
	assert_status 0
	assert_output "chmod ok
fchmod ok
fchmodat ok
fchmodat2 ok
mknod ok
mknodat ok
creat ok
open ok
openat ok
openat2 ENOSYS
tmpfile ok
read ok
append ok
sticky ok"
	[ "$(stat -c %a share/chmod share/mknod share/open share/tmp/tmpfile share/tmp)" = "755
755
755
755
1777" ]
}

@test "volumes are mounted nosuid and nodev inside" {
	run sbx run --rm -v "$PWD/share:/vol" -v "$PWD/share:/ro:ro" "$rootfs" sh -c \
		'for m in /vol /ro; do awk -v m=$m "\$5 == m { print m, \$6 }" /proc/self/mountinfo; done'
	assert_status 0
	[[ ${lines[0]} == "/vol rw,nosuid,nodev,"* ]]
	[[ ${lines[1]} == "/ro ro,nosuid,nodev,"* ]]
}

@test "restrict_suid_sgid = false lets the payload set the bits; a seccomp file gets the rule too" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles"
	printf '[profile]\ninherit = default\n[security]\nrestrict_suid_sgid = false\n' \
		>"$XDG_CONFIG_HOME/sbx/profiles/setid.ini"
	run sbx run --rm --profile setid -v "$PWD/share:/vol" "$rootfs" sh -c \
		'cp /bin/setid /vol/a; chmod 4755 /vol/a && echo chmod ok; setid openat /vol/b 2755'
	assert_status 0
	assert_output "chmod ok
ok"
	[ "$(stat -c %a share/a share/b)" = "4755
2755" ]
	rm share/a share/b
	# A policy of one's own is restricted too: the default allowlist as a
	# file, and a denylist.
	sbx spec --profile setid "$rootfs" | jq .linux.seccomp >allow.json
	jq -e '.syscalls[0].names | index("chmod")' allow.json
	echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["chmod", "openat2"], "action": "SCMP_ACT_ALLOW"}, {"names": ["reboot"], "action": "SCMP_ACT_ERRNO"}]}' >deny.json
	for f in allow deny; do
		run sbx run --rm --seccomp "$PWD/$f.json" -v "$PWD/share:/vol" "$rootfs" sh -c \
			'for c in creat openat openat2; do setid $c /vol/$c 4755; done; setid creat /vol/d 755; rm /vol/d
			touch /vol/e; setid chmod /vol/e 2755; setid chmod /vol/e 700; rm /vol/e'
		assert_status 0
		assert_output "EPERM
EPERM
ENOSYS
ok
EPERM
ok"
	done
	[ -z "$(ls share)" ]
}

@test "sbx spec: the default policy guards the mode calls and gives openat2 ENOSYS" {
	sbx spec busybox >on.json
	jq -e '.linux.seccomp.syscalls[0].names | (index("chmod") or index("openat") or index("openat2")) | not' on.json
	[ "$(jq -c '[.linux.seccomp.syscalls[] | select(.names == ["openat"]) | .args]' on.json)" = \
		'[[{"index":3,"value":3072,"op":"SCMP_CMP_MASKED_EQ"}],[{"index":2,"value":4194368,"op":"SCMP_CMP_MASKED_EQ"}]]' ]
	[ "$(jq -c '.linux.seccomp.syscalls[] | select(.names == ["openat2"])' on.json)" = \
		'{"names":["openat2"],"action":"SCMP_ACT_ERRNO","errnoRet":38}' ]
	sbx profile show default | grep -qx 'restrict_suid_sgid = true'
}

@test "a seccomp file that already compares the mode cannot take the rule: exit 125, nothing left" {
	cat >policy.json <<'EOF'
{"defaultAction": "SCMP_ACT_ERRNO",
 "syscalls": [{"names": ["chmod"], "action": "SCMP_ACT_ALLOW",
               "args": [{"index": 1, "value": 493, "op": "SCMP_CMP_EQ"}]}]}
EOF
	run sbx run --rm --seccomp "$PWD/policy.json" "$rootfs" true
	assert_status 125
	assert_output "sbx: run: $PWD/policy.json: syscalls[0]: already compares argument 1 of \"chmod\", which restrict_suid_sgid needs; allow the call without it, or set restrict_suid_sgid = false"
	[ -z "$(ls "$XDG_DATA_HOME/sbx/instances" 2>/dev/null)" ]
	[ -z "$(ls "$XDG_RUNTIME_DIR/sbx" 2>/dev/null)" ]
}
