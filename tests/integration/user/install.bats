#!/usr/bin/env bats
# A per-user install, as the README describes it: `make install
# PREFIX=~/.local` after a plain `make`. The installed sbx finds sbx-init,
# sbx-unpack and the shipped profiles from where it is, so any PREFIX works
# without a rebuild and the tree can be moved whole; `make uninstall` takes
# everything away again.
#
# The test user may not write the checkout's build/, so make runs in a copy
# of what install reads (Makefile, man/, profiles/, completions/) with the
# binaries already built (-o: make does not remake them; it only formats
# the man pages).

load ../helpers

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	cd "$BATS_TEST_TMPDIR" || return 1
	# Nothing may point the installed sbx elsewhere: no SBX_LIBEXECDIR, no
	# SBX_DATADIR (which helpers.bash sets to the checkout).
	unset SBX_LIBEXECDIR SBX_DATADIR
	SRC=$BATS_TEST_TMPDIR/src
	PREFIX=$BATS_TEST_TMPDIR/prefix
	mkdir -p "$SRC/build"
	cp -r "$SBX_TOP/Makefile" "$SBX_TOP/man" "$SBX_TOP/profiles" "$SBX_TOP/completions" "$SRC/"
	cp "$SBX_TOP/build/sbx" "$SBX_TOP/build/sbx-init" "$SBX_TOP/build/sbx-unpack" "$SRC/build/"
	make_busybox_rootfs rootfs
	tar -C rootfs -cf busybox.tar .
	"$SBX" image bootstrap busybox >/dev/null 2>&1
}

make_in_copy() {
	make -s -C "$SRC" -o build/sbx -o build/sbx-unpack -o build/sbx-init "$@"
}

# Every file and directory under $1, relative to it, with its type.
listing() { (cd "$1" && find . -mindepth 1 -printf '%y %P\n' | sort); }

# What `make install` puts under a prefix.
installed_files() {
	local m
	echo "f bin/sbx"
	echo "f libexec/sbx/sbx-init"
	echo "f libexec/sbx/sbx-unpack"
	for m in "$SBX_TOP"/profiles/*.ini; do echo "f share/sbx/profiles/${m##*/}"; done
	for m in "$SBX_TOP"/man/*.scd; do m=${m##*/}; m=${m%.scd}; echo "f share/man/man${m##*.}/$m"; done
	echo "f share/bash-completion/completions/sbx"
	echo "f share/zsh/site-functions/_sbx"
	echo "f share/fish/vendor_completions.d/sbx.fish"
}

@test "make install PREFIX=...: every file in its place, and only files for uninstall to take" {
	run make_in_copy install PREFIX="$PREFIX"
	assert_status 0
	[ "$(listing "$PREFIX" | grep '^f ')" = "$(installed_files | sort)" ] ||
		{ diff <(installed_files | sort) <(listing "$PREFIX" | grep '^f ') >&2; return 1; }
	[ "$(stat -c %a "$PREFIX/bin/sbx" "$PREFIX/libexec/sbx/sbx-init" "$PREFIX/share/sbx/profiles/default.ini" | tr '\n' ' ')" = "755 755 644 " ]
	cmp "$SBX_TOP/build/sbx-init" "$PREFIX/libexec/sbx/sbx-init"
	# sbx-oci: sbx under runc's name (sbx-oci(1)).
	[ "$(readlink "$PREFIX/bin/sbx-oci")" = sbx ]
}

@test "the installed sbx runs with the sbx-init, profiles and sbx-unpack under its PREFIX" {
	run make_in_copy install PREFIX="$PREFIX"
	assert_status 0
	sbx=$PREFIX/bin/sbx
	# No other sbx-init within reach: none beside the binary, no
	# SBX_LIBEXECDIR. Without the installed one, sbx says where it looked.
	[ ! -e "$PREFIX/bin/sbx-init" ] && [ -z "${SBX_LIBEXECDIR+set}" ]
	run "$sbx" run --rm busybox echo ran
	assert_status 0
	assert_output ran
	mv "$PREFIX/libexec/sbx/sbx-init" sbx-init.away
	run "$sbx" run --rm busybox echo ran
	assert_status 125
	assert_output "sbx: run: cannot run sbx's init \"$PREFIX/libexec/sbx/sbx-init\": No such file or directory; reinstall sbx ('make install' installs it in $PREFIX/libexec/sbx)"
	mv sbx-init.away "$PREFIX/libexec/sbx/sbx-init"

	run "$sbx" profile ls
	assert_status 0
	assert_output "NAME      ORIGIN   PATH
default   shipped  $PREFIX/share/sbx/profiles/default.ini
host-net  shipped  $PREFIX/share/sbx/profiles/host-net.ini
strict    shipped  $PREFIX/share/sbx/profiles/strict.ini"
	run "$sbx" profile path strict
	assert_output "$PREFIX/share/sbx/profiles/strict.ini"

	run "$sbx" image import bb busybox.tar
	assert_status 0
	run "$sbx" run --rm bb cat /etc/passwd
	assert_status 0
	assert_output "root:x:0:0:root:/root:/bin/sh"
	mv "$PREFIX/libexec/sbx/sbx-unpack" sbx-unpack.away
	run "$sbx" image import bb2 busybox.tar
	assert_status 125
	assert_output "sbx: image import: \"busybox.tar\": cannot run the archive helper \"$PREFIX/libexec/sbx/sbx-unpack\": No such file or directory; reinstall sbx ('make install' installs it in $PREFIX/libexec/sbx)"
	[ ! -e "$XDG_DATA_HOME/sbx/images/bb2" ]

	# doctor checks the files that are used: here they are all yours.
	mv sbx-unpack.away "$PREFIX/libexec/sbx/sbx-unpack"
	run "$sbx" doctor
	assert_contains "WARN  binary       $PREFIX/bin/sbx can be replaced by you (\"$PREFIX/bin/sbx\" is writable by you)"
}

@test "make uninstall takes away everything install put there, and nothing else" {
	# Others' files in the directories sbx shares with them.
	mkdir -p "$PREFIX/share/man/man1" "$PREFIX/share/zsh/site-functions"
	echo other >"$PREFIX/share/man/man1/other.1"
	echo other >"$PREFIX/share/zsh/site-functions/_other"
	run make_in_copy install PREFIX="$PREFIX"
	assert_status 0
	run make_in_copy uninstall PREFIX="$PREFIX"
	assert_status 0
	assert_output ""
	run listing "$PREFIX"
	assert_output "d bin
d libexec
d share
d share/man
d share/man/man1
d share/zsh
d share/zsh/site-functions
f share/man/man1/other.1
f share/zsh/site-functions/_other"
	rm "$PREFIX/share/man/man1/other.1" "$PREFIX/share/zsh/site-functions/_other"
	# Without them, only the standard directories of a prefix (BINDIR,
	# LIBEXECDIR, DATADIR, MANDIR) stay, empty.
	run make_in_copy install PREFIX="$PREFIX"
	assert_status 0
	run make_in_copy uninstall PREFIX="$PREFIX"
	assert_status 0
	run listing "$PREFIX"
	assert_output "d bin
d libexec
d share
d share/man"
	# A second uninstall has nothing to do, and does not fail.
	run make_in_copy uninstall PREFIX="$PREFIX"
	assert_status 0
}

@test "an install moved whole, or staged with DESTDIR, still finds everything" {
	run make_in_copy install PREFIX="$PREFIX"
	assert_status 0
	mv "$PREFIX" moved
	moved=$BATS_TEST_TMPDIR/moved
	run moved/bin/sbx run --rm busybox echo ran
	assert_status 0
	assert_output ran
	run moved/bin/sbx profile path default
	assert_output "$moved/share/sbx/profiles/default.ini"
	run moved/bin/sbx image import bb busybox.tar
	assert_status 0
	run moved/bin/sbx run --rm bb echo ran
	assert_output ran

	# A package's staging tree: built for /usr, run from where it is.
	run make_in_copy install DESTDIR="$BATS_TEST_TMPDIR/stage" PREFIX=/usr
	assert_status 0
	run stage/usr/bin/sbx profile path strict
	assert_output "$BATS_TEST_TMPDIR/stage/usr/share/sbx/profiles/strict.ini"
	run stage/usr/bin/sbx run --rm bb echo staged
	assert_output staged
	run make_in_copy uninstall DESTDIR="$BATS_TEST_TMPDIR/stage" PREFIX=/usr
	assert_status 0
	run listing stage
	assert_output "d usr
d usr/bin
d usr/libexec
d usr/share
d usr/share/man"
}

@test "a per-user install as the README has it: man, bash, fish and zsh find what is in ~/.local" {
	home=$BATS_TEST_TMPDIR/home
	mkdir -p "$home"
	run make_in_copy install PREFIX="$home/.local"
	assert_status 0
	path=$home/.local/bin:/usr/bin:/bin
	# man through PATH, without MANPATH.
	run env -u MANPATH PATH="$path" man -w sbx-profile.5
	assert_output "$home/.local/share/man/man5/sbx-profile.5"
	# bash-completion's user directory.
	run env -u XDG_DATA_HOME -u BASH_COMPLETION_USER_DIR HOME="$home" PATH="$path" \
		bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		__load_completion sbx && complete -p sbx'
	assert_output "complete -F _sbx sbx"
	# sbx-oci's, the same script under its name.
	run env -u XDG_DATA_HOME -u BASH_COMPLETION_USER_DIR HOME="$home" PATH="$path" \
		bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		__load_completion sbx-oci && complete -p sbx-oci'
	assert_output "complete -F _sbx sbx-oci"
	# fish's user vendor_completions.d.
	run env -u XDG_DATA_HOME -u XDG_CONFIG_HOME HOME="$home" PATH="$path" fish -c 'complete -C "sbx ima"'
	assert_output image
	run env -u XDG_DATA_HOME -u XDG_CONFIG_HOME HOME="$home" PATH="$path" fish -c 'complete -C "sbx-oci exe"'
	assert_output "$(printf 'exec\trun a process in a container: COMMAND, or --process')"
	# zsh, with the README's fpath line.
	run env HOME="$home" PATH="$path" zsh -f -c '
		fpath=(~/.local/share/zsh/site-functions $fpath)
		autoload -Uz compinit && compinit -D && print -r -- $_comps[sbx] $_comps[sbx-oci]'
	assert_output "_sbx _sbx"
}
