#!/usr/bin/env bats
# Issue 12 §4, as it was demonstrated: the payload plants a program in a
# writable volume and makes it setuid; another local user runs it and reads
# the user's files. Root is needed only to be that other user (nobody).

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root, dropping to the test user and to nobody"
	USER_NAME=${SBX_TEST_USER:-sbxtest}
	HOMEDIR=$(mktemp -d /tmp/sbx-setid.XXXXXX)
	chmod 755 "$HOMEDIR"
	chown "$USER_NAME" "$HOMEDIR"
}

teardown() {
	rm -rf "$HOMEDIR"
}

as_user() {
	setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$HOMEDIR" SBX_DATADIR="$SBX_DATADIR" \
		XDG_RUNTIME_DIR="$HOMEDIR/run" SBX="$SBX" SETID="$SBX_TOP/build/helpers/setid" bash -c \
		"mkdir -p -m 700 \$XDG_RUNTIME_DIR; cd \$HOME; $1"
}

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

@test "a program made setuid in a volume does not run as the user for another user" {
	run as_user '
		set -e
		echo "the user'\''s secret" >secret; chmod 600 secret
		mkdir -p share rootfs/bin; chmod 755 share
		cp /bin/busybox rootfs/bin/; for a in sh cp chmod; do ln -s busybox rootfs/bin/$a; done
		cp "$SETID" rootfs/bin/setid
		"$SBX" run --rm -v "$HOME/share:/vol" "$HOME/rootfs" sh -c "
			cp /bin/setid /vol/chmod; chmod 4755 /vol/chmod
			cp /bin/setid /vol/chmod-g; chmod 2755 /vol/chmod-g
			cp /bin/setid /vol/fchmodat2; setid fchmodat2 /vol/fchmodat2 4755
			setid openat /vol/openat 4755; setid mknod /vol/mknod 6755; true" 2>&1'
	assert_status 0
	assert_output "chmod: /vol/chmod: Operation not permitted
chmod: /vol/chmod-g: Operation not permitted
EPERM
EPERM
EPERM"
	# The planted files carry no set-id bit on the host...
	run -0 stat -c '%n %A %U' "$HOMEDIR"/share/chmod "$HOMEDIR"/share/chmod-g "$HOMEDIR"/share/fchmodat2
	assert_output "$HOMEDIR/share/chmod -rwxr-xr-x $USER_NAME
$HOMEDIR/share/chmod-g -rwxr-xr-x $USER_NAME
$HOMEDIR/share/fchmodat2 -rwxr-xr-x $USER_NAME"
	[ ! -e "$HOMEDIR/share/openat" ] && [ ! -e "$HOMEDIR/share/mknod" ]
	# ...so another user who runs them is still that other user.
	for f in chmod chmod-g fchmodat2; do
		run as_nobody "$HOMEDIR/share/$f" cat "$HOMEDIR/secret"
		assert_status 1
		assert_output "euid 65534
cat: Permission denied"
	done
}
