#!/usr/bin/env bats
# sbx image bootstrap|import|ls|rm, as an unprivileged user: formats,
# atomicity (nothing left behind), hostile archives and exact messages.

load ../helpers

setup() {
	sbx_setup
	[ "$(id -u)" != 0 ] || skip "the rootless suite must run as a user (tests/integration/run does that)"
	IMAGES=$XDG_DATA_HOME/sbx/images
	PY=/usr/bin/python3
	cd "$BATS_TEST_TMPDIR"
}

# Images may hold read-only directories; let bats clean up.
teardown() { chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true; }

# Everything in the store, dot names included, one line.
store() { ls -A "$IMAGES" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }

# A listing of a tree to compare copies: path, type, mode, link target, size.
tree() { (cd "$1" && find . -type d -printf '%p d %m\n' -o -printf '%p %y %m %l %s\n' | sort); }

# A small tree with the things an image has.
make_tree() {
	mkdir -p "$1/etc" "$1/bin" "$1/usr/lib" "$1/ro" "$1/tmp"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$1/etc/passwd"
	printf '#!/bin/sh\necho hi\n' >"$1/bin/tool"
	chmod 755 "$1/bin/tool"
	ln "$1/bin/tool" "$1/bin/tool-hardlink"
	ln -s tool "$1/bin/alias"
	ln -s /etc/passwd "$1/usr/lib/abs-link"
	ln -s ../../nowhere "$1/usr/lib/dangling"
	echo 'caf' >"$1/usr/lib/café"
	echo inner >"$1/ro/inner"
	chmod 555 "$1/ro"
	chmod 1777 "$1/tmp"
}

# Writes a tarball from a python tarfile description, for entries tar(1)
# will not make: absolute names, "..", devices, links out.
make_evil_tar() {
	local out=$1
	shift
	"$PY" - "$out" "$@" <<-'EOF'
		import io, sys, tarfile
		out, specs = sys.argv[1], sys.argv[2:]
		with tarfile.open(out, "w") as t:
		    for spec in specs:
		        kind, name, arg = (spec.split(":", 2) + [""])[:3]
		        ti = tarfile.TarInfo(name)
		        ti.mode = 0o644
		        if kind == "file":
		            data = (arg or "x").encode()
		            ti.size = len(data)
		            t.addfile(ti, io.BytesIO(data))
		            continue
		        if kind == "dir":
		            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
		        elif kind == "sym":
		            ti.type, ti.linkname = tarfile.SYMTYPE, arg
		        elif kind == "hard":
		            ti.type, ti.linkname = tarfile.LNKTYPE, arg
		        elif kind == "chr":
		            ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
		        t.addfile(ti)
	EOF
}

@test "bootstrap busybox: a working minimal image, quietly" {
	run sbx image bootstrap busybox
	assert_status 0
	assert_output ""
	root=$IMAGES/busybox/rootfs
	[ "$(readlink "$root/bin/sh")" = busybox ]
	[ "$(readlink "$root/usr/bin/env")" = ../../bin/busybox ]
	[ "$(stat -c %a "$root/tmp")" = 1777 ]
	[ "$(stat -c %a "$root/root")" = 700 ]
	[ "$(stat -c %u "$root/bin/busybox")" = "$(id -u)" ]
	grep -qx 'root:x:0:0:root:/root:/bin/sh' "$root/etc/passwd"
	# The copied static binary runs, and its applets resolve.
	[ "$("$root/bin/sh" -c 'echo hi')" = hi ]
	[ "$(jq -c .cmd "$IMAGES/busybox/image.json")" = '["/bin/sh"]' ]
	[ "$(store)" = busybox ]
}

@test "bootstrap: --name, twice, a dynamic binary, a missing one, bad usage" {
	run sbx image bootstrap --name bb busybox
	assert_status 0
	run sbx image bootstrap --name bb busybox
	assert_status 125
	assert_output "sbx: image bootstrap: image \"bb\" already exists; remove it first with 'sbx image rm bb'"
	run sbx image bootstrap --name dyn --busybox /bin/ls busybox
	assert_status 125
	assert_output "sbx: image bootstrap: \"/bin/ls\" is not statically linked; install Debian's busybox-static"
	run sbx image bootstrap --name none --busybox /nonexistent busybox
	assert_status 125
	assert_output 'sbx: image bootstrap: cannot open "/nonexistent": No such file or directory'
	run sbx image bootstrap alpine
	assert_status 125
	assert_contains "unknown kind 'alpine'; the only kind is 'busybox'"
	run sbx image bootstrap
	assert_status 125
	[ "$(store)" = bb ]
}

@test "image ls: table, -q, json, empty, bad format" {
	run sbx image ls
	assert_status 0
	assert_output "NAME  CREATED  SIZE  SOURCE"
	run sbx image ls --format json
	assert_status 0
	assert_output "[]"
	sbx image bootstrap busybox
	mkdir src && echo x >src/file
	sbx image import mine src
	run sbx image ls -q
	assert_status 0
	assert_output "busybox
mine"
	run sbx image ls
	assert_status 0
	# Columns as wide as their longest entry, two spaces apart.
	[ "${lines[0]}" = "NAME     CREATED               SIZE     SOURCE" ]
	[[ "${lines[1]}" =~ ^busybox\ \ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\ \ [0-9.]+\ MiB\ \ bootstrap\ /(usr/)?bin/busybox$ ]]
	[[ "${lines[2]}" =~ ^mine\ {5}[0-9-]+T[0-9:]+Z\ \ 2\ B\ +$BATS_TEST_TMPDIR/src$ ]]
	# SOURCE starts where its heading does.
	before=${lines[0]%%SOURCE*}
	[ "${lines[2]:${#before}}" = "$BATS_TEST_TMPDIR/src" ]
	run sbx image ls --format json
	assert_status 0
	[ "$(jq -r '.[].name' <<<"$output" | tr '\n' ' ')" = "busybox mine " ]
	[ "$(jq -c '.[0].cmd' <<<"$output")" = '["/bin/sh"]' ]
	[ "$(jq -r '.[1].source' <<<"$output")" = "$BATS_TEST_TMPDIR/src" ]
	[ "$(jq -r '.[1].size' <<<"$output")" = 2 ]
	[ "$(jq -r '.[1].rootfs' <<<"$output")" = "$IMAGES/mine/rootfs" ]
	run sbx image list -q
	assert_status 0
	run sbx image ls --format yaml
	assert_status 125
	assert_output "sbx: image ls: unknown format 'yaml'; use 'text', 'json' or a template such as '{{.Name}}'
Try 'sbx image ls --help' for more information."
}

@test "import a directory: files, modes, links, hard links, read-only dirs" {
	make_tree src
	run sbx image import tree src
	assert_status 0
	assert_output tree
	root=$IMAGES/tree/rootfs
	diff <(tree src) <(tree "$root")
	[ "$(stat -c %i "$root/bin/tool")" = "$(stat -c %i "$root/bin/tool-hardlink")" ]
	[ "$(stat -c %Y "$root/etc/passwd")" = "$(stat -c %Y src/etc/passwd)" ]
	# The store copes with the read-only directory when removing.
	run sbx image rm tree
	assert_status 0
	[ "$(store)" = "" ]
}

@test "import tarballs: .tar, .tar.gz, .tgz, .tar.xz, .tar.zst" {
	make_tree src
	tar -C src -cf t.tar .
	gzip -c t.tar >t.tar.gz
	cp t.tar.gz t.tgz
	xz -c t.tar >t.tar.xz
	zstd -q -c t.tar >t.tar.zst
	for f in t.tar t.tar.gz t.tgz t.tar.xz t.tar.zst; do
		name=${f//./-}
		run sbx image import "$name" "$f"
		assert_status 0
		assert_output "$name"
		diff <(tree src) <(tree "$IMAGES/$name/rootfs")
	done
	[ "$(store)" = "t-tar t-tar-gz t-tar-xz t-tar-zst t-tgz" ]
}

@test "import from standard input" {
	make_tree src
	tar -C src -cf - . | zstd -q >t.tar.zst
	run sbx image import piped - <t.tar.zst
	assert_status 0
	assert_output piped
	diff <(tree src) <(tree "$IMAGES/piped/rootfs")
	run bash -c "cat t.tar.zst | '$SBX' image import piped2 -"
	assert_status 0
	[ "$(jq -r .source "$IMAGES/piped2/image.json")" = "(stdin)" ]
	run sbx image import bad - </dev/null
	assert_status 125
	assert_output "sbx: image import: standard input is neither a pipe nor a file"
	echo hello | {
		run sbx image import bad -
		assert_status 125
		assert_output "sbx: image import: standard input: not a tar archive: Unrecognized archive format"
	}
	[ "$(store)" = "piped piped2" ]
}

@test "import: setuid bits and owners are dropped, files are the user's" {
	mkdir -p src/bin
	cp /bin/true src/bin/su
	chmod 6755 src/bin/su
	tar -C src --owner=0 --group=0 -cf t.tar .
	run sbx image import t t.tar
	assert_status 0
	[ "$(stat -c '%a %u' "$IMAGES/t/rootfs/bin/su")" = "755 $(id -u)" ]
}

@test "import over an existing image fails 125 and leaves nothing behind" {
	mkdir src && echo x >src/f
	sbx image import img src
	echo changed >src/f
	run sbx image import img src
	assert_status 125
	assert_output "sbx: image import: image \"img\" already exists; remove it first with 'sbx image rm img'"
	[ "$(store)" = img ]
	[ "$(cat "$IMAGES/img/rootfs/f")" = x ]
}

@test "import: a failure half-way removes the staging directory" {
	mkdir -p src/a
	echo x >src/a/readable
	echo y >src/a/secret
	chmod 000 src/a/secret
	run sbx image import img src
	assert_status 125
	assert_output "sbx: image import: \"src\": cannot open \"a/secret\": Permission denied"
	[ "$(store)" = "" ]
}

@test "import: bad sources" {
	run sbx image import x /nonexistent
	assert_status 125
	assert_output 'sbx: image import: cannot open "/nonexistent": No such file or directory'
	echo hello >notes.txt
	run sbx image import x notes.txt
	assert_status 125
	assert_output 'sbx: image import: "notes.txt": not a tar archive: Unrecognized archive format'
	# libarchive's mtree format would open the host files it names.
	printf '#mtree\n./stolen type=file contents=/etc/passwd\n' >list.mtree
	run sbx image import x list.mtree
	assert_status 125
	assert_output 'sbx: image import: "list.mtree": not a tar archive: Unrecognized archive format'
	tar -cf empty.tar -T /dev/null
	run sbx image import x empty.tar
	assert_status 125
	assert_output 'sbx: image import: "empty.tar": the archive is empty'
	run sbx image import x
	assert_status 125
	run sbx image import x y z
	assert_status 125
	[ "$(store)" = "" ]
}

@test "import: invalid names" {
	mkdir src
	run sbx image import ..x src
	assert_status 125
	assert_output "sbx: image import: invalid image name \"..x\": a name must not start with '-' or '.'"
	run sbx image import -- -x src
	assert_status 125
	assert_output "sbx: image import: invalid image name \"-x\": a name must not start with '-' or '.'"
	run sbx image import "" src
	assert_status 125
	assert_output 'sbx: image import: invalid image name "": the name is empty'
	run sbx image import a/b src
	assert_status 125
	assert_output 'sbx: image import: invalid image name "a/b": a name may only contain letters, digits and "_-.+@"'
	[ "$(store)" = "" ]
}

@test "hostile archive: '..' is refused, nothing written anywhere" {
	mkdir -p deep/er
	make_evil_tar evil.tar file:ok file:../../escaped
	cd deep/er
	run sbx image import evil ../../evil.tar
	assert_status 125
	assert_output 'sbx: image import: "../../evil.tar": entry "../../escaped" escapes the image root'
	cd ../..
	[ ! -e escaped ] && [ ! -e deep/escaped ] && [ ! -e "$IMAGES/escaped" ]
	[ "$(store)" = "" ]
}

@test "hostile archive: an absolute path is refused" {
	make_evil_tar evil.tar "file:$BATS_TEST_TMPDIR/escaped"
	run sbx image import evil evil.tar
	assert_status 125
	assert_output "sbx: image import: \"evil.tar\": entry \"$BATS_TEST_TMPDIR/escaped\" escapes the image root"
	[ ! -e escaped ]
	[ "$(store)" = "" ]
}

@test "hostile archive: a file through a symlink is refused" {
	mkdir target
	make_evil_tar evil.tar "sym:link:$BATS_TEST_TMPDIR/target" "file:link/planted"
	run sbx image import evil evil.tar
	assert_status 125
	assert_output 'sbx: image import: "evil.tar": entry "link/planted" goes through the symbolic link "link"; refusing to write through it'
	[ -z "$(ls -A target)" ]
	[ "$(store)" = "" ]
	# And a relative one that climbs out.
	make_evil_tar evil2.tar "sym:a/link:../../../../../../../$BATS_TEST_TMPDIR/target" "file:a/link/planted"
	run sbx image import evil evil2.tar
	assert_status 125
	assert_contains 'entry "a/link/planted" goes through the symbolic link "a/link"'
	[ -z "$(ls -A target)" ]
	[ "$(store)" = "" ]
}

@test "hostile archive: hard links out of the image are refused" {
	echo secret >secret
	make_evil_tar evil.tar "hard:h:$BATS_TEST_TMPDIR/secret"
	run sbx image import evil evil.tar
	assert_status 125
	assert_output "sbx: image import: \"evil.tar\": entry \"h\" is a hard link to \"$BATS_TEST_TMPDIR/secret\", outside the image root"
	make_evil_tar evil2.tar "hard:h:../../../../secret"
	run sbx image import evil evil2.tar
	assert_status 125
	assert_output 'sbx: image import: "evil2.tar": entry "h" is a hard link to "../../../../secret", outside the image root'
	[ "$(stat -c %h secret)" = 1 ]
	[ "$(store)" = "" ]
}

@test "hostile archive: escape sequences in names are not sent to the terminal" {
	make_evil_tar evil.tar "file:$(printf '../\033]0;owned\007')"
	run sbx image import evil evil.tar
	assert_status 125
	assert_output 'sbx: image import: "evil.tar": entry "../\x1b]0;owned\x07" escapes the image root'
}

@test "import: device nodes are skipped with a warning" {
	make_evil_tar devs.tar dir:dev chr:dev/null chr:dev/zero file:etc/hostname:box
	run sbx image import devs devs.tar
	assert_status 0
	assert_output 'sbx: image import: warning: skipping device node "dev/null"
sbx: image import: warning: skipping device node "dev/zero"
devs'
	[ -d "$IMAGES/devs/rootfs/dev" ]
	[ -z "$(ls -A "$IMAGES/devs/rootfs/dev")" ]
	[ "$(cat "$IMAGES/devs/rootfs/etc/hostname")" = box ]
	# -q silences warnings, and the name.
	run sbx image import -q devs2 devs.tar
	assert_status 0
	assert_output ""
}

@test "import: no progress output when stderr is not a terminal" {
	head -c 20000000 /dev/urandom >big
	tar -cf - big | zstd -q -1 >big.tar.zst
	run sbx image import big big.tar.zst
	assert_status 0
	assert_output big
	cmp big "$IMAGES/big/rootfs/big"
}

@test "image rm: one, several, missing, -f" {
	mkdir src && echo x >src/f
	for n in a b c; do sbx image import "$n" src; done
	run sbx image rm a
	assert_status 0
	assert_output a
	[ "$(store)" = "b c" ]
	run sbx image rm nope
	assert_status 125
	assert_output 'sbx: image rm: image "nope" not found'
	run sbx image rm b nope c
	assert_status 125
	assert_output 'b
sbx: image rm: image "nope" not found
c'
	[ "$(store)" = "" ]
	# Nothing removed, nothing printed.
	run sbx image rm -f nope
	assert_status 0
	assert_output ""
	run sbx image rm
	assert_status 125
}

@test "image ls: a damaged image is listed so it can be removed" {
	mkdir src && echo x >src/f
	sbx image import img src
	rm "$IMAGES/img/image.json"
	run sbx image ls
	assert_status 0
	assert_contains "(damaged; remove it with 'sbx image rm')"
	run sbx image rm img
	assert_status 0
	[ "$(store)" = "" ]
}

# A tarball of $2 nested directories "d/d/...", each listed, and a file at
# the bottom; written by python, as tar(1) cannot make paths this long.
make_deep_tar() {
	"$PY" - "$1" "$2" <<-'EOF'
		import io, sys, tarfile
		out, depth = sys.argv[1], int(sys.argv[2])
		with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
		    path = ""
		    for _ in range(depth):
		        path = path + "/d" if path else "d"
		        ti = tarfile.TarInfo(path)
		        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
		        t.addfile(ti)
		    ti = tarfile.TarInfo(path + "/bottom")
		    ti.size = 3
		    t.addfile(ti, io.BytesIO(b"end"))
	EOF
}

# "d/d/.../d", $1 levels.
deep_path() { printf 'd%.0s/' $(seq "$1") | sed 's|/$||'; }

@test "deep trees: the walk reuses the directories it holds (openat linear in the depth)" {
	make_deep_tar deep500.tar 500
	# Under strace -f, the helper sbx-unpack included; 10 per level is
	# generous: walking from the root for every entry made 250,000.
	run strace -f -qq -c -o "$BATS_TEST_TMPDIR/strace.out" -e trace=openat,openat2 \
		"$SBX" image import deep deep500.tar
	assert_status 0
	assert_output deep
	opens=$(awk '$NF == "openat" || $NF == "openat2" { n += $4 } END { print n + 0 }' "$BATS_TEST_TMPDIR/strace.out")
	echo "openat calls: $opens" >&2
	[ "$opens" -gt 500 ]
	[ "$opens" -lt 5000 ]
	[ "$(cat "$IMAGES/deep/rootfs/$(deep_path 500)/bottom")" = end ]
	[ "$(stat -c %a "$IMAGES/deep/rootfs/$(deep_path 250)")" = 755 ]
}

@test "deep trees: more than 512 levels are refused, from an archive or a directory" {
	make_deep_tar deep4000.tar 4000
	zstd -q --rm deep4000.tar
	run sbx image import deep deep4000.tar.zst
	assert_status 125
	assert_output "sbx: image import: \"deep4000.tar.zst\": entry \"$(deep_path 513)\" is nested too deeply (more than 512 levels)"
	[ "$(store)" = "" ]
	# Files beneath a directory the archive does not list count too.
	make_evil_tar deep-file.tar "file:$(deep_path 600)/f"
	run sbx image import deep deep-file.tar
	assert_status 125
	assert_output "sbx: image import: \"deep-file.tar\": entry \"$(deep_path 600)/f\" is nested too deeply (more than 512 levels)"
	[ "$(store)" = "" ]
	mkdir -p "src/$(deep_path 513)"
	run sbx image import deep src
	assert_status 125
	assert_output "sbx: image import: \"src\": \"$(deep_path 513)\" is nested too deeply (more than 512 levels)"
	[ "$(store)" = "" ]
	# 512 levels are fine.
	make_deep_tar deep512.tar 512
	run sbx image import deep deep512.tar
	assert_status 0
	[ "$(cat "$IMAGES/deep/rootfs/$(deep_path 512)/bottom")" = end ]
}

# No import helper of this test's may be left.
assert_no_unpack() {
	[ -z "$(pgrep -u "$(id -u)" -x sbx-unpack || true)" ]
}

@test "size limit: a zstd bomb stops at --max-size and leaves nothing behind" {
	head -c 200M /dev/zero >zero
	tar -cf - zero | zstd -q -19 >bomb.tar.zst
	rm zero
	[ "$(stat -c %s bomb.tar.zst)" -lt 100000 ]
	run sbx image import --max-size 10M bomb bomb.tar.zst
	assert_status 125
	assert_output 'sbx: image import: "bomb.tar.zst": the image is larger than the size limit of 10 MiB; allow more with --max-size SIZE'
	[ "$(store)" = "" ]
	assert_no_unpack
	# From standard input too.
	run sbx image import --max-size 1G bomb - <bomb.tar.zst
	assert_status 0
	[ "$(stat -c %s "$IMAGES/bomb/rootfs/zero")" = 209715200 ]
	run sbx image import --max-size 199M bomb2 - <bomb.tar.zst
	assert_status 125
	assert_output 'sbx: image import: standard input: the image is larger than the size limit of 199 MiB; allow more with --max-size SIZE'
	[ "$(store)" = bomb ]
	# Bad sizes are usage errors.
	run sbx image import --max-size 0 x bomb.tar.zst
	assert_status 125
	assert_contains "invalid size '0' for --max-size; use e.g. 500M or 20G"
	run sbx image import --max-size lots x bomb.tar.zst
	assert_status 125
	assert_contains "invalid size 'lots' for --max-size; use e.g. 500M or 20G"
	[ "$(store)" = bomb ]
}

@test "size limit: 8 GiB by default, holes included; many empty entries count too" {
	truncate -s 9G sparse
	tar --sparse -cf - sparse | zstd -q >sparse.tar.zst
	rm sparse
	run sbx image import sparse sparse.tar.zst
	assert_status 125
	assert_output 'sbx: image import: "sparse.tar.zst": the image is larger than the size limit of 8 GiB; allow more with --max-size SIZE'
	[ "$(store)" = "" ]
	# A directory's sparse file is refused before it is copied.
	mkdir src && truncate -s 9G src/sparse
	run sbx image import sparse src
	assert_status 125
	assert_output 'sbx: image import: "src": the image is larger than the size limit of 8 GiB; allow more with --max-size SIZE'
	[ "$(store)" = "" ]
	# Empty entries cost 4 KiB each: 300 of them are more than 1M.
	mkdir many && (cd many && touch $(seq 300))
	run sbx image import --max-size 1M many many
	assert_status 125
	assert_output 'sbx: image import: "many": the image is larger than the size limit of 1 MiB; allow more with --max-size SIZE'
	[ "$(store)" = "" ]
	assert_no_unpack
}

@test "free space: an import stops before the file system is full" {
	head -c 200M /dev/zero >zero
	tar -cf - zero | zstd -q -19 >bomb.tar.zst
	rm zero
	mkdir small
	# A 64 MiB tmpfs of our own, in a user and mount namespace.
	run unshare -rm sh -c 'mount -t tmpfs -o size=64m sbx-test "$1" || exit 99
		XDG_DATA_HOME=$1 "$2" image import bomb bomb.tar.zst
		echo "exit $?"; ls -A "$1/sbx/images"' sh "$PWD/small" "$SBX"
	[ "$status" != 99 ] || fail "cannot mount a tmpfs in a user namespace"
	assert_status 0
	[ "${#lines[@]}" = 2 ]
	[[ "${lines[0]}" =~ ^sbx:\ image\ import:\ \"bomb.tar.zst\":\ the\ file\ system\ is\ nearly\ full\ \([0-9.]+\ (bytes|KiB|MiB)\ left,\ less\ than\ the\ 3.2\ MiB\ that\ imports\ leave\ free\)\;\ free\ some\ space\ and\ try\ again$ ]]
	[ "${lines[1]}" = "exit 125" ]
	assert_no_unpack
}

@test "escape sequences in file names: image ls, the progress line and errors show them escaped" {
	mkdir src && echo x >src/f
	evil=$(printf 'evil\033]0;owned\007\302\233.tar')
	tar -C src -cf "$evil" .
	# Under a terminal, so the progress line is drawn.
	run script -qec "'$SBX' image import img '$evil'" /dev/null
	assert_status 0
	[[ "$output" != *$'\033]0;owned'* ]]
	[[ "$output" != *$'\302\233'* ]]
	run sbx image ls
	assert_status 0
	[[ "${lines[1]}" == *"  $BATS_TEST_TMPDIR/evil\\x1b]0;owned\\x07\\xc2\\x9b.tar" ]]
	[[ "$output" != *$'\033'* ]]
	# JSON stays exact: it escapes control characters itself.
	[ "$(sbx image ls --format json | jq -r '.[0].source')" = "$BATS_TEST_TMPDIR/$evil" ]
	run sbx image import img2 "$evil.missing"
	assert_status 125
	assert_output 'sbx: image import: cannot open "evil\x1b]0;owned\x07\xc2\x9b.tar.missing": No such file or directory'
}
