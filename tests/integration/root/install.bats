#!/usr/bin/env bats
# sbx finds sbx-init (pid 1 of every sandbox), sbx-unpack and the shipped
# profiles relative to its own binary. What it finds there must not be
# another user's: a copy of sbx in a shared sticky directory such as /tmp
# must not take the sbx-init, or the profiles, that someone else left next
# to it. Root is needed only to be that someone else (nobody) and to own the
# real install.

load ../helpers

setup() {
	sbx_setup
	[ "$(id -u)" = 0 ] || skip "runs as root, dropping to the test user and to nobody"
	USER_NAME=${SBX_TEST_USER:-sbxtest}
	TOP=$(mktemp -d /tmp/sbx-install.XXXXXX)
	chmod 755 "$TOP"
	HOMEDIR=$TOP/home
	install -d -m 755 -o "$USER_NAME" -g "$USER_NAME" "$HOMEDIR"
	# A directory every user can write to, as /tmp is.
	SHARED=$TOP/shared
	install -d -m 1777 "$SHARED"
}

teardown() {
	chmod -R u+rwX "$TOP" 2>/dev/null || true
	rm -rf "$TOP"
}

# Runs a shell command as the test user, with none of the variables that
# would bypass the lookup (SBX_LIBEXECDIR, SBX_DATADIR).
as_user() {
	setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$HOMEDIR" XDG_RUNTIME_DIR="$HOMEDIR/run" \
		SBX="$SBX" SHARED="$SHARED" bash -c "mkdir -p -m 700 \$XDG_RUNTIME_DIR; cd \$HOME; $1"
}

# The shipped default profile, as the user's own: a copy of sbx alone finds
# no shipped profiles.
user_profile() {
	install -D -m 644 -o "$USER_NAME" -g "$USER_NAME" "$SBX_TOP/profiles/default.ini" \
		"$HOMEDIR/.config/sbx/profiles/default.ini"
}

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

@test "an sbx-init planted by another user beside a copy of sbx in a shared directory is not run" {
	# The real install is root's: $TOP/libexec/sbx/sbx-init.
	install -D -m 755 "$SBX_TOP/build/sbx-init" "$TOP/libexec/sbx/sbx-init"
	# The user puts a copy of sbx in the shared directory...
	run as_user 'cp "$SBX" "$SHARED/sbx"'
	assert_status 0
	# ...and another user leaves a program of theirs next to it (busybox:
	# run as sbx-init, it says "applet not found").
	run as_nobody cp /bin/busybox "$SHARED/sbx-init"
	assert_status 0
	[ "$(stat -c %u "$SHARED/sbx-init")" = 65534 ]
	user_profile
	# (The old lookup took it: busybox ran as pid 1 and exited 127.)
	run as_user '"$SHARED/sbx" image bootstrap busybox >/dev/null 2>&1
		"$SHARED/sbx" run --rm busybox echo ran 2>&1'
	assert_status 0
	assert_output ran
}

@test "profiles planted by another user around a copied build tree in a shared directory are not used" {
	# The user copies a build tree's binaries into the shared directory,
	# as $SHARED/build/sbx...
	install -d -m 755 -o "$USER_NAME" -g "$USER_NAME" "$SHARED/build"
	install -m 755 -o "$USER_NAME" -g "$USER_NAME" "$SBX" "$SBX_TOP/build/sbx-init" \
		"$SBX_TOP/build/sbx-unpack" "$SHARED/build/"
	# ...and another user makes it look like a checkout, with a default
	# profile that shares the host's network.
	as_nobody mkdir "$SHARED/profiles" "$SHARED/sandbox"
	as_nobody sh -c "printf '[network]\nmode = host\n' >$SHARED/profiles/default.ini"
	run as_user '"$SHARED/build/sbx" profile path default 2>&1'
	[[ $output != "$SHARED/profiles/default.ini" ]] || {
		echo "sbx took the planted profile: $output" >&2
		return 1
	}
	assert_contains "\"$SHARED/profiles\" is not used: \"$SHARED/profiles\" belongs to uid 65534"
	run as_user '"$SHARED/build/sbx" profile ls 2>&1'
	[[ $output != *"$SHARED/profiles"* ]] || {
		echo "sbx lists the planted profiles: $output" >&2
		return 1
	}
}

@test "another user's share/sbx and libexec/sbx above a copy of sbx are refused, with the reason" {
	[ ! -e /usr/local/libexec/sbx/sbx-init ] && [ ! -e /usr/local/share/sbx/profiles ] ||
		fail "this test needs a host without sbx installed in /usr/local"
	# The user's own bin directory in the shared one; the shared directory
	# also holds another user's libexec/sbx and share/sbx.
	install -d -m 755 -o "$USER_NAME" -g "$USER_NAME" "$SHARED/bin"
	install -m 755 -o "$USER_NAME" -g "$USER_NAME" "$SBX" "$SHARED/bin/sbx"
	as_nobody mkdir -p "$SHARED/libexec/sbx" "$SHARED/share/sbx/profiles"
	as_nobody cp /bin/busybox "$SHARED/libexec/sbx/sbx-init"
	as_nobody sh -c "printf '[network]\nmode = host\n' >$SHARED/share/sbx/profiles/default.ini"
	run as_user '"$SHARED/bin/sbx" run --rm --no-init busybox echo ran 2>&1'
	assert_status 125
	assert_output "sbx: run: profile \"default\" not found; looked in $HOMEDIR/.config/sbx/profiles, /etc/sbx/profiles, /usr/local/share/sbx/profiles (see 'sbx profile ls'); \"$SHARED/share/sbx/profiles\" is not used: \"$SHARED/share\" belongs to uid 65534"
	# With a profile of the user's own, the planted sbx-init is refused too.
	user_profile
	run as_user '"$SHARED/bin/sbx" image bootstrap busybox >/dev/null 2>&1
		"$SHARED/bin/sbx" run --rm busybox echo ran 2>&1'
	assert_status 125
	assert_output "sbx: run: cannot run sbx's init \"/usr/local/libexec/sbx/sbx-init\": No such file or directory; \"$SHARED/libexec/sbx/sbx-init\" is not used: \"$SHARED/libexec\" belongs to uid 65534"
}
