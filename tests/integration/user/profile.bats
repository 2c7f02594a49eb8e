#!/usr/bin/env bats
# sbx profile ls | show | check | path: golden diagnostics for every bad
# fixture, golden output for every good one, lookup order and shadowing.

load ../helpers
bats_require_minimum_version 1.5.0

FIXTURES=$SBX_TOP/tests/data/profiles

setup() {
	sbx_setup
	cd "$BATS_TEST_TMPDIR"
}

# The fixtures' golden files were made with this environment: ~ is
# /home/fixture, nothing in the user or system directories, and the checkout
# spelled @TOP@.
fixture_env() {
	HOME=/home/fixture XDG_CONFIG_HOME=/nonexistent/config \
		SBX_SYSCONFDIR=/nonexistent/etc SBX_DATADIR="$SBX_TOP" "$SBX" "$@"
}

# Runs a command; its stderr (with the checkout as @TOP@) goes to $BATS_TEST_TMPDIR/err.
stderr_of() {
	local rc=0
	"$@" 2>"$BATS_TEST_TMPDIR/err.raw" >"$BATS_TEST_TMPDIR/out" || rc=$?
	sed "s|$SBX_TOP|@TOP@|g" "$BATS_TEST_TMPDIR/err.raw" >"$BATS_TEST_TMPDIR/err"
	return $rc
}

@test "every bad fixture: exact diagnostics from 'profile check', exit 1" {
	cd "$FIXTURES/bad"
	local n=0 f rc
	for f in *.ini; do
		n=$((n + 1))
		rc=0
		stderr_of fixture_env profile check "$f" || rc=$?
		if [ "$rc" -ne 1 ]; then
			echo "$f: exit $rc, expected 1" >&2
			return 1
		fi
		diff -u "${f%.ini}.expected" "$BATS_TEST_TMPDIR/err" >&2 || {
			echo "$f: diagnostics differ" >&2
			return 1
		}
		[ ! -s "$BATS_TEST_TMPDIR/out" ] || { echo "$f: printed to stdout" >&2; return 1; }
	done
	[ "$n" -ge 20 ]
}

@test "every bad fixture given to 'profile show' exits 125 with the same diagnostics" {
	cd "$FIXTURES/bad"
	local f rc
	for f in *.ini; do
		# publish-without-network loads; only check and run validate it.
		[ "$f" != publish-without-network.ini ] || continue
		rc=0
		stderr_of fixture_env profile show "$f" || rc=$?
		[ "$rc" -eq 125 ] || { echo "$f: exit $rc, expected 125" >&2; return 1; }
		# The diagnostics, then one summary line.
		head -n -1 "$BATS_TEST_TMPDIR/err" | diff -u "${f%.ini}.expected" - >&2 || return 1
		tail -n 1 "$BATS_TEST_TMPDIR/err" | grep -Eq "^sbx: profile show: profile \"$f\" has [0-9]+ errors?$" ||
			{ echo "$f: no summary line" >&2; cat "$BATS_TEST_TMPDIR/err" >&2; return 1; }
		[ ! -s "$BATS_TEST_TMPDIR/out" ] || { echo "$f: printed to stdout" >&2; return 1; }
	done
}

@test "every good fixture: exact 'profile show' output, and 'check' says ok" {
	cd "$FIXTURES/good"
	local n=0 f
	for f in *.ini; do
		n=$((n + 1))
		stderr_of fixture_env profile show "$f" || { cat "$BATS_TEST_TMPDIR/err" >&2; return 1; }
		diff -u "${f%.ini}.expected" "$BATS_TEST_TMPDIR/out" >&2 || {
			echo "$f: output differs" >&2
			return 1
		}
		[ ! -s "$BATS_TEST_TMPDIR/err" ]
		# Warnings about what a profile turns off are in profile-check.bats.
		run --separate-stderr fixture_env profile check "$f"
		assert_status 0
		assert_output "$f: ok"
	done
	[ "$n" -ge 3 ]
}

@test "'profile show' output reads back into the same profile" {
	local f name
	for f in "$FIXTURES"/good/*.ini "$SBX_TOP"/profiles/*.ini; do
		name=$(basename "$f" .ini)
		fixture_env profile show "$f" >"$name.show.ini"
		fixture_env profile show "$name.show.ini" >"$name.again"
		diff -u <(tail -n +2 "$name.show.ini") <(tail -n +2 "$name.again") >&2 || {
			echo "$f: round trip differs" >&2
			return 1
		}
	done
}

@test "a profile over 1 MiB is refused before it is parsed" {
	{ echo '[profile]'; head -c 1048576 /dev/zero | tr '\0' '#'; } >big.ini
	run sbx profile check big.ini
	assert_status 1
	assert_output "big.ini: error: larger than 1 MiB"
	run sbx profile show ./big.ini
	assert_status 125
	assert_contains "./big.ini: error: larger than 1 MiB"
}

@test "the shipped profiles are clean; host-net is flagged for its network" {
	run --separate-stderr sbx profile check default strict host-net
	assert_status 0
	assert_output "default: ok
strict: ok
host-net: ok"
	[ "$stderr" = "$SBX_TOP/profiles/host-net.ini: warning: [network] mode = host: the sandbox shares the host's network, its services on 127.0.0.1 and abstract sockets such as X11's" ]
	run --separate-stderr sbx profile check -q default strict
	assert_status 0
	assert_output ""
	[ -z "$stderr" ]
}

@test "'profile check' reports every file and fails if one is bad" {
	run sbx profile check default "$FIXTURES/bad/unknown-key.ini" strict
	assert_status 1
	assert_contains "default: ok"
	assert_contains "$FIXTURES/bad/unknown-key.ini:2: error: unknown key \"hostnme\" in [process]; did you mean \"hostname\"?"
	assert_contains "strict: ok"
}

@test "'profile ls' lists the shipped profiles" {
	run sbx profile ls
	assert_status 0
	assert_contains "NAME      ORIGIN   PATH"
	assert_contains "default   shipped  $SBX_TOP/profiles/default.ini"
	assert_contains "host-net  shipped  $SBX_TOP/profiles/host-net.ini"
	assert_contains "strict    shipped  $SBX_TOP/profiles/strict.ini"
	run sbx profile ls -q
	assert_status 0
	assert_output "default
host-net
strict"
	# "list" is an alias.
	run sbx profile list -q
	assert_status 0
}

@test "a user profile shadows the system and shipped ones of the same name" {
	mkdir -p "$XDG_CONFIG_HOME/sbx/profiles" "$SBX_SYSCONFDIR/profiles"
	printf '[profile]\ninherit = default\n[process]\nhostname = mine\n' \
		>"$XDG_CONFIG_HOME/sbx/profiles/default.ini"
	printf '[network]\nmode = host\n' >"$SBX_SYSCONFDIR/profiles/default.ini"
	printf '[network]\nmode = host\n' >"$SBX_SYSCONFDIR/profiles/site.ini"
	run sbx profile ls
	assert_status 0
	assert_contains "default   user     $XDG_CONFIG_HOME/sbx/profiles/default.ini (shadows $SBX_SYSCONFDIR/profiles/default.ini, $SBX_TOP/profiles/default.ini)"
	assert_contains "site      system   $SBX_SYSCONFDIR/profiles/site.ini"
	run sbx profile path default
	assert_status 0
	assert_output "$XDG_CONFIG_HOME/sbx/profiles/default.ini"
	run -0 sbx profile path site
	assert_output "$SBX_SYSCONFDIR/profiles/site.ini"
	run -0 sbx profile path strict
	assert_output "$SBX_TOP/profiles/strict.ini"
	# Inheriting its own name reaches the next one: here the system's.
	run sbx profile show default
	assert_status 0
	assert_contains "# profile default from $XDG_CONFIG_HOME/sbx/profiles/default.ini (inherits: default)"
	assert_contains "hostname = mine"
	assert_contains "mode = host"
	# strict inherits default too, and now gets the user's.
	run -0 sbx profile show strict
	assert_contains "(inherits: default, default)"
	assert_contains "hostname = mine"
}

@test "invalid and unknown names" {
	run sbx profile show ..x
	assert_status 125
	assert_output "sbx: profile show: invalid profile name \"..x\": a name must not start with '-' or '.'"
	run sbx profile path -- -x
	assert_status 125
	assert_output "sbx: profile path: invalid profile name \"-x\": a name must not start with '-' or '.'"
	run sbx profile check 'a b'
	assert_status 1
	assert_output "sbx: profile check: invalid profile name \"a b\": a name may only contain letters, digits and \"_-.+@\""
	run sbx profile path nope
	assert_status 125
	assert_output "sbx: profile path: profile \"nope\" not found; looked in $XDG_CONFIG_HOME/sbx/profiles, $SBX_SYSCONFDIR/profiles, $SBX_TOP/profiles (see 'sbx profile ls')"
	run sbx profile show ./missing.ini
	assert_status 125
	assert_contains "cannot open profile \"./missing.ini\": No such file or directory"
	mkdir adir.ini
	run sbx profile check adir.ini
	assert_status 1
	assert_contains "profile \"adir.ini\" is not a regular file"
}

@test "usage errors exit 2, --help exits 0" {
	run sbx profile check
	assert_status 125
	assert_contains "Try 'sbx profile check --help'"
	run sbx profile show a b
	assert_status 125
	run sbx profile path
	assert_status 125
	run sbx profile ls --bogus
	assert_status 125
	run sbx profile show --help
	assert_status 0
	assert_contains "Usage: sbx profile show"
}

@test "'profile show' with no name shows default" {
	run sbx profile show
	assert_status 0
	assert_contains "# profile default from $SBX_TOP/profiles/default.ini"
}

@test "an unreadable profile is reported" {
	[ "$(id -u)" != 0 ] || skip "root reads any file"
	printf '[process]\nhostname = secret\n' >locked.ini
	chmod 000 locked.ini
	run sbx profile check locked.ini
	assert_status 1
	assert_contains "locked.ini"
	assert_contains "Permission denied"
}
