#!/usr/bin/env bats
# The manual pages and --help: every command, long option and profile key is
# documented, the pages render without a warning, and the help texts list
# every option. Options and commands come from sbx itself (the same tables
# that drive parsing), profile keys from the key table in profile.c, so a new
# option or key without documentation fails here.

load ../helpers
bats_require_minimum_version 1.5.0

MAN=$SBX_TOP/build/man
PAGES="sbx.1 sbx-run.1 sbx-instance.1 sbx-image.1 sbx-profile.1 sbx-doctor.1 sbx-unshare.1 sbx-oci.1 sbx-profile.5"

setup() {
	sbx_setup
	cd "$BATS_TEST_TMPDIR"
}

# A page as plain text: wide, unhyphenated, unjustified, ASCII.
render() {
	MANWIDTH=1000 man --no-hyphenation --no-justification -E ascii -l "$MAN/$1" 2>/dev/null |
		col -bx
}

# The commands `sbx --help` lists: "run", "image ls", ...
commands() {
	sbx --help | sed -n '/^Commands:/,/^$/p' |
		sed -n 's/^  \([a-z]\+\( [a-z]\+\)\?\)  .*/\1/p' | sed 's/ *$//'
}

# "-p --profile" or "--hostname" for each option `sbx CMD --help` lists.
options_of() {
	sbx $1 --help | sed -n 's/^ \+\(-[a-zA-Z], \)\?\(--[a-z0-9-]\+\).*/\1\2/p' | sed 's/,//'
}

# The page that documents a command.
page_of() {
	case $1 in
	"image "*) echo sbx-image.1 ;;
	"profile "*) echo sbx-profile.1 ;;
	run | spec) echo sbx-run.1 ;;
	doctor) echo sbx-doctor.1 ;;
	version) echo sbx.1 ;;
	unshare) echo sbx-unshare.1 ;;
	*) echo sbx-instance.1 ;;
	esac
}

@test "every page is built and renders without a warning from man or groff" {
	local p
	for p in $PAGES; do
		[ -s "$MAN/$p" ] || { echo "$MAN/$p is missing or empty: run make" >&2; return 1; }
		run -0 groff -ww -man -z "$MAN/$p"
		[ -z "$output" ] || { echo "groff -ww on $p: $output" >&2; return 1; }
		run -0 bash -c 'man --warnings -l "$1" 2>&1 >/dev/null' _ "$MAN/$p"
		[ -z "$output" ] || { echo "man --warnings on $p: $output" >&2; return 1; }
	done
	# No page is left out of this list.
	[ "$(ls "$MAN" | sort)" = "$(printf '%s\n' $PAGES | sort)" ]
}

@test "sbx(1) names every command, each page has its NAME, and pages cross-reference" {
	local cmd text
	text=$(render sbx.1 | sed -n '/^COMMANDS/,/^GLOBAL OPTIONS/p')
	while read -r cmd; do
		grep -qw -- "${cmd##* }" <<<"$text" || { echo "sbx.1 lacks '$cmd'" >&2; return 1; }
	done < <(commands)
	text=$(render sbx.1)
	for p in $PAGES; do
		render "$p" | grep -q "^NAME" || { echo "$p has no NAME" >&2; return 1; }
		[ "$p" = sbx.1 ] || grep -qF "${p%.*}(${p##*.})" <<<"$text" ||
			{ echo "sbx.1 does not refer to $p" >&2; return 1; }
	done
}

@test "every long option of every command is in its man page, with its short form" {
	local cmd opt n=0
	while read -r cmd; do
		text=$(render "$(page_of "$cmd")")
		while read -r opt; do
			n=$((n + 1))
			case $opt in
			"-"?" "*) want="${opt% *}, ${opt#* }" ;;
			*) want=$opt ;;
			esac
			grep -qF -- "$want" <<<"$text" ||
				{ echo "$(page_of "$cmd") does not document '$want' of 'sbx $cmd'" >&2; return 1; }
		done < <(options_of "$cmd")
	done < <(commands)
	[ "$n" -ge 50 ]
}

@test "the global options, environment variables and exit codes are in sbx(1)" {
	text=$(render sbx.1)
	for want in "-q, --quiet" "-v, --verbose" "--debug" "-h, --help" "--version" \
		XDG_DATA_HOME XDG_CONFIG_HOME XDG_RUNTIME_DIR SBX_DATADIR SBX_SYSCONFDIR SBX_DEBUG \
		NO_COLOR; do
		grep -qF -- "$want" <<<"$text" || { echo "sbx.1 lacks '$want'" >&2; return 1; }
	done
	status_text=$(sed -n '/^EXIT STATUS/,/^EXAMPLES/p' <<<"$text")
	for code in "0..255" "128+N" 125 126 127; do
		grep -qF -- "$code" <<<"$status_text" || { echo "EXIT STATUS lacks $code" >&2; return 1; }
	done
	# The global options are the ones `sbx --help` shows.
	while read -r opt; do
		grep -qF -- "$opt" <<<"$text" || { echo "sbx.1 lacks '$opt'" >&2; return 1; }
	done < <(sbx --help | sed -n '/^Global options:/,/^$/p' | grep -oE -- '--[a-z]+')
}

@test "the first example of sbx(1) is the README's volume example" {
	readme=$(awk '/^```console$/ { on = 1; next } on && /^```$/ { exit } on' "$SBX_TOP/README.md")
	example=$(sed -n '/^# EXAMPLES/,$p' "$SBX_TOP/man/sbx.1.scd" | sed -n '/^```$/,/^```$/p' |
		sed '1d' | sed '/^```$/,$d')
	[ -n "$readme" ]
	[ "$readme" = "$example" ] || {
		printf 'README:\n%s\nsbx.1:\n%s\n' "$readme" "$example" >&2
		return 1
	}
	grep -q '^\$ sbx run --volume ~/share:/host busybox$' <<<"$example"
}

# section key pairs from the key table in profile.c: "[limits] nofile".
profile_keys() {
	sed -n 's/^ *{"\([a-z_]\+\)", SEC_\([A-Z]\+\),.*/\2 \1/p' "$SBX_TOP/sandbox/profile/profile.c" |
		while read -r sec key; do echo "$(tr 'A-Z' 'a-z' <<<"$sec") $key"; done
}

@test "every profile key is in sbx-profile(5), in its section" {
	text=$(render sbx-profile.5)
	local n=0 sec key
	while read -r sec key; do
		n=$((n + 1))
		# The section's text: from "   [sec]" to the next heading.
		body=$(awk -v h="   [$sec]" '$0 == h { on = 1; next }
			on && $0 != "" { match($0, /^ */); if (RLENGTH < 7) exit } on' <<<"$text")
		[ -n "$body" ] || { echo "sbx-profile.5 has no section [$sec]" >&2; return 1; }
		grep -qE "^ {7}([a-z_]+, )*$key(, [a-z_]+)* = " <<<"$body" ||
			{ echo "sbx-profile.5 does not document $key in [$sec]" >&2; return 1; }
	done < <(profile_keys)
	[ "$n" -ge 40 ]
}

@test "the key table the docs test reads matches what 'sbx profile show' prints" {
	# profile show prints every key but inherit; a drift in the table's
	# layout would otherwise make the test above check nothing.
	expected=$(profile_keys | grep -v '^profile inherit$' | sort)
	got=$(sbx profile show default | awk '/^\[/ { s = substr($1, 2, length($1) - 2) } / =/ { print s, $1 }' | sort -u)
	[ "$expected" = "$got" ] || { diff <(echo "$expected") <(echo "$got") >&2; return 1; }
}

@test "sbx --help lists every command and the global options; help is hidden for __complete" {
	run sbx --help
	assert_status 0
	for want in "-q, --quiet" "-v, --verbose" "--debug" "-h, --help" "--version"; do
		assert_contains "$want"
	done
	[[ $output != *__complete* ]]
	[ "$(commands | wc -l)" -ge 15 ]
	# Each listed command has its own help.
	while read -r cmd; do
		sbx help $cmd >/dev/null || { echo "sbx help $cmd failed" >&2; return 1; }
	done < <(commands)
}

@test "sbx help run, sbx run --help: the same text, every option of run with its help line" {
	run sbx help run
	assert_status 0
	help=$output
	run sbx run --help
	assert_status 0
	[ "$output" = "$help" ]
	local n=0
	while read -r opt; do
		n=$((n + 1))
		grep -qE -- "(^ +|, )${opt}( |$)" <<<"$help" || { echo "missing $opt" >&2; return 1; }
	done < <(sbx __complete -- run --)
	[ "$n" -ge 20 ]
	# Every option has its line of help, beside it or on the next line.
	bad=$(awk '/^ +(-[a-zA-Z], )?--[a-z]/ { if ($0 ~ /[^ ]  +[^ ]/) next; getline l;
		match(l, /^ */); if (RLENGTH != 32) print }' <<<"$help")
	[ -z "$bad" ] || { echo "no help for: $bad" >&2; return 1; }
	# And so for every command.
	while read -r cmd; do
		[ "$(sbx help $cmd)" = "$(sbx $cmd --help)" ] ||
			{ echo "sbx help $cmd and sbx $cmd --help differ" >&2; return 1; }
	done < <(commands)
}

@test "make install puts the pages and the completions where man and the shells look" {
	dest=$BATS_TEST_TMPDIR/root
	# -o all: install what is built, without building as this user.
	run make -s -C "$SBX_TOP" -o all install DESTDIR="$dest" PREFIX=/usr
	assert_status 0
	for p in $PAGES; do
		[ -s "$dest/usr/share/man/man${p##*.}/$p" ] || { echo "$p not installed" >&2; return 1; }
	done
	[ -s "$dest/usr/share/bash-completion/completions/sbx" ]
	[ -s "$dest/usr/share/zsh/site-functions/_sbx" ]
	[ -s "$dest/usr/share/fish/vendor_completions.d/sbx.fish" ]
	# man finds an installed page by name.
	MANPATH=$dest/usr/share/man run man -w sbx-profile.5
	assert_output "$dest/usr/share/man/man5/sbx-profile.5"
}
