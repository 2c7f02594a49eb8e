#!/usr/bin/env bats
# The manual pages and --help: every command, long option and profile key is
# documented, the pages render without a warning, and the help texts list
# every option. Options and commands come from sbx itself (the same tables
# that drive parsing), profile keys from the key table in settings.c, so a new
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
	"image "* | pull | push) echo sbx-image.1 ;;
	"profile "*) echo sbx-profile.1 ;;
	run | spec) echo sbx-run.1 ;;
	doctor) echo sbx-doctor.1 ;;
	version) echo sbx.1 ;;
	unshare) echo sbx-unshare.1 ;;
	oci) echo sbx-oci.1 ;;
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

# The commands `sbx-oci --help` lists (its command table).
oci_commands() {
	sbx oci --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z]\+\) .*/\1/p'
}

# The headings of sbx-oci(1)'s COMMANDS and their paragraphs, as rendered.
oci_page_commands() {
	render sbx-oci.1 | sed -n '/^COMMANDS/,/^THE CONFIG/p'
}

# The paragraph of sbx-oci(1) whose heading names the command $1 ("pause ID,
# resume ID" names two).
oci_paragraph() {
	oci_page_commands | awk -v c="$1" '/^       [^ ]/ { h = substr($0, 8)
		on = index(h, c " ") == 1 || h == c || index(h, ", " c " ") > 0 } on'
}

@test "sbx-oci(1) documents each command of its table, each with every option and its short form" {
	local cmd opt want n=0 text
	while read -r cmd; do
		text=$(oci_paragraph "$cmd")
		[ -n "$text" ] || { echo "sbx-oci.1 has no paragraph for '$cmd'" >&2; return 1; }
		while read -r opt; do
			[ "$opt" != "-h --help" ] || continue
			n=$((n + 1))
			case $opt in
			"-"?" "*) want="${opt% *}, ${opt#* }" ;;
			*) want=$opt ;;
			esac
			grep -qF -- "$want" <<<"$text" ||
				{ echo "sbx-oci.1 does not document '$want' of 'sbx-oci $cmd'" >&2; return 1; }
		done < <(options_of "oci $cmd")
	done < <(oci_commands)
	[ "$(oci_commands | wc -l)" -ge 14 ]
	[ "$n" -ge 40 ]
	# And no heading names a command the table lacks, but the refused ones.
	while read -r cmd; do
		oci_commands | grep -qx -- "$cmd" ||
			{ echo "sbx-oci.1 documents '$cmd', which sbx-oci does not list" >&2; return 1; }
	done < <(oci_page_commands | sed -n 's/^       \([a-z]\+\).*/\1/p' | grep -vx events)
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

# The settings table (settings.c), as sbx prints it: one line per setting,
# tab-separated: section, key, option, short option, metavariable, choices,
# completion, help ("-" for none).
settings() {
	sbx __complete --settings
}

# section key pairs of the table: "limits nofile".
profile_keys() {
	settings | awk -F'\t' '$2 != "-" { print $1, $2 }'
}

@test "the settings table is whole: every entry has a section, a key or an option, and help" {
	run -0 settings
	[ "${#lines[@]}" -ge 50 ]
	bad=$(awk -F'\t' 'NF != 8 || $1 == "-" || ($2 == "-" && $3 == "-") || $8 == "-" || $8 == ""' <<<"$output")
	[ -z "$bad" ] || { echo "incomplete entries: $bad" >&2; return 1; }
	# No key twice in a section, no option twice.
	[ -z "$(profile_keys | sort | uniq -d)" ]
	[ -z "$(awk -F'\t' '$3 != "-" { print $3 }' <<<"$output" | sort | uniq -d)" ]
}

# The headings of the profile overrides in sbx-run(1): "-v, --volume SRC:DST[:ro|rw]".
run_page_overrides() {
	render sbx-run.1 | sed -n '/^   Profile overrides/,/^   run only/p' | grep -E '^ {7}-' | sed 's/^ *//'
}

# The same, from the table: --profile, then every setting's option.
table_overrides() {
	echo "--profile NAME"
	settings | awk -F'\t' '$3 != "-" {
		s = ($4 != "-" ? $4 ", " : "") "--" $3
		if ($5 != "-") s = s " " $5
		print s }'
}

@test "sbx-run(1) lists exactly the table's options, with their short forms and values" {
	diff -u <(table_overrides | sort) <(run_page_overrides | sort) ||
		{ echo "sbx-run(1)'s profile overrides differ from the settings table (- table, + page)" >&2; return 1; }
	[ "$(table_overrides | wc -l)" -ge 20 ]
	# Each option with fixed words names every one of them in its paragraph.
	local page n=0
	page=$(render sbx-run.1 | sed -n '/^   Profile overrides/,/^   run only/p')
	while IFS=$'\t' read -r sec key opt short meta choices complete doc; do
		[ "$opt" != - ] && [ "$choices" != - ] && [ "$meta" != - ] || continue
		body=$(awk -v h="--$opt $meta" 'index($0, h) && /^       -/ { on = 1; next }
			on && /^       [^ ]/ { exit } on' <<<"$page")
		for w in $choices; do
			n=$((n + 1))
			grep -qw -- "$w" <<<"$body" || { echo "sbx-run(1) --$opt does not name '$w'" >&2; return 1; }
		done
	done < <(settings)
	[ "$n" -ge 10 ]
}

# The keys sbx-profile(5) documents in [sec], one per line.
page_keys() {
	awk -v h="   [$1]" '$0 == h { on = 1; next }
		on && $0 != "" { match($0, /^ */); if (RLENGTH < 7) exit }
		on && /^       [a-z_]+(, [a-z_]+)* = / { sub(/ = .*/, ""); gsub(/^ +/, ""); print }' <<<"$2" |
		tr -s ', ' '\n\n' | grep -v '^$'
}

@test "sbx-profile(5) documents exactly the table's keys, each in its section, with its choices" {
	text=$(render sbx-profile.5)
	local sec n=0
	for sec in $(profile_keys | awk '{ print $1 }' | uniq); do
		n=$((n + 1))
		diff -u <(profile_keys | awk -v s="$sec" '$1 == s { print $2 }' | sort) \
			<(page_keys "$sec" "$text" | sort) ||
			{ echo "sbx-profile(5) [$sec] differs from the settings table (- table, + page)" >&2; return 1; }
	done
	[ "$n" -eq 7 ]
	# A key of fixed words lists exactly those words: "user = single | subid".
	while IFS=$'\t' read -r sec key opt short meta choices complete doc; do
		[ "$key" != - ] && [ "$choices" != - ] && [ "$meta" != BOOL ] || continue
		got=$(awk -v h="   [$sec]" -v k="       $key = " '$0 == h { on = 1; next }
			on && index($0, k) == 1 { sub(/^ *[a-z_]+ = /, ""); print; exit }' <<<"$text" |
			tr -d ' ' | tr '|' '\n' | sort)
		[ "$got" = "$(tr ' ' '\n' <<<"$choices" | sort)" ] ||
			{ echo "sbx-profile(5): $key lists '$got', the table '$choices'" >&2; return 1; }
	done < <(settings)
}

@test "the table's keys are what 'sbx profile show' prints" {
	# profile show prints every key but inherit.
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
