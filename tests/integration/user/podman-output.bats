#!/usr/bin/env bats
# What a podman user expects of listing, logs, signals and output: ps with
# PORTS and COMMAND in columns sized from their content, --filter, --format
# templates for ps, inspect and image ls (their fields listed in the man
# pages), logs --tail, kill -s, and names printed on success.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_user_setup
}

teardown() {
	"$SBX" rm -f $("$SBX" ps -a -q 2>/dev/null) >/dev/null 2>&1 || true
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

wait_running() {
	for _ in $(seq 200); do
		[ "$(sbx ps --format '{{.Name}} {{.State}}' | grep -c "^$1 running$")" = 1 ] && return 0
		sleep 0.05
	done
	return 1
}

wait_exited() {
	for _ in $(seq 200); do
		[ "$(sbx ps -a --filter status=exited --filter "name=^$1\$" -q)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# The offset of the first $2 in $1.
offset() {
	local before=${1%%"$2"*}
	echo "${#before}"
}

# What the instances are, to show that a refused command changed nothing.
instances() {
	sbx ps -a --format '{{.Name}} {{.Status}}'
}

@test "ps: COMMAND and PORTS, columns as wide as their content, a long name keeps them aligned" {
	long=$(printf 'n%.0s' $(seq 63))
	run -3 sbx run --name "$long" busybox sh -c 'exit 3'
	run -0 sbx run --name short busybox true
	# PORTS shows what the network helper published, from the network.json
	# it writes (pasta and slirp4netns run only in ../root/network.bats,
	# which checks a real one).
	printf '{"mode": "pasta", "helper": "pasta", "publish": ["8080:80/tcp", "127.0.0.1:5353:53/udp"]}' \
		>"$XDG_DATA_HOME/sbx/instances/short/network.json"
	run -0 sbx ps -a
	[ "${#lines[@]}" = 3 ]
	[[ "${lines[0]}" =~ ^NAME\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +PROFILE\ +PID$ ]]
	[[ "${lines[1]}" =~ ^${long}\ \ busybox\ \ sh\ -c\ exit\ 3\ +20[0-9T:-]+Z\ \ exited\ \(3\)\ +default\ \ -$ ]]
	[[ "${lines[2]}" == "short "*" true "*"exited (0)  8080->80/tcp, 127.0.0.1:5353->53/udp  default  -" ]]
	# Every column starts at the same place on every line.
	for col in IMAGE COMMAND CREATED STATUS PROFILE; do
		case $col in
		IMAGE) cell=busybox ;; COMMAND) cell="sh -c" ;; CREATED) cell=20 ;;
		STATUS) cell=exited ;; PROFILE) cell=default ;;
		esac
		[ "$(offset "${lines[0]}" "$col")" = "$(offset "${lines[1]}" "$cell")" ] ||
			{ echo "$col is not aligned: ${lines[0]} / ${lines[1]}" >&2; return 1; }
	done
	[ "$(offset "${lines[0]}" PORTS)" = "$(offset "${lines[2]}" 8080)" ]
	# JSON says the same: exited, with the code, and the ports as the table has them.
	run -0 sbx ps -a --format json
	[ "$(jq -r '.[] | "\(.name[0:5]) \(.status) \(.exit_code)"' <<<"$output")" = "nnnnn exited 3
short exited 0" ]
	[ "$(jq -c '.[1].ports' <<<"$output")" = '["8080->80/tcp","127.0.0.1:5353->53/udp"]' ]
	[ "$(jq -c '.[0].command' <<<"$output")" = '["sh","-c","exit 3"]' ]
	# inspect agrees.
	[ "$(sbx inspect short | jq -r .state.status)" = exited ]
}

@test "ps: a long COMMAND is cut in the table, whole with --no-trunc, in JSON and templates" {
	run -0 sbx run --name c busybox sh -c 'echo a rather long command line that goes on'
	run -0 sbx ps -a
	[[ "${lines[1]}" == *"  sh -c echo a rather l...  "* ]]
	run -0 sbx ps -a --no-trunc
	[[ "${lines[1]}" == *"  sh -c echo a rather long command line that goes on  "* ]]
	run -0 sbx ps -a --format '{{.Command}}'
	assert_output "sh -c echo a rather long command line that goes on"
}

@test "ps --filter: name as a regular expression, status, repeated keys OR, different keys AND, with -q" {
	run -0 sbx run --name web1 busybox true
	run -0 sbx run --name myweb busybox true
	run -0 sbx run --name db busybox true
	sbx run -d --name webrun busybox sleep 60 >/dev/null
	wait_running webrun
	run -0 sbx ps -a -q --filter name=web
	assert_output "myweb
web1
webrun"
	run -0 sbx ps -a -q --filter 'name=^web'
	assert_output "web1
webrun"
	run -0 sbx ps -a -q --filter name=db --filter name=myweb
	assert_output "db
myweb"
	# status= lists exited instances without -a.
	run -0 sbx ps -q --filter status=exited
	assert_output "db
myweb
web1"
	run -0 sbx ps -q --filter status=running
	assert_output webrun
	run -0 sbx ps -q --filter status=exited --filter status=running --filter name=web
	assert_output "myweb
web1
webrun"
	run -0 sbx ps -q --filter status=running --filter name=db
	assert_output ""
	run -0 sbx ps --filter name=db --format '{{.Name}}'
	assert_output ""
	run -0 sbx ps -a --filter 'name=^db$' --format '{{.Name}} {{.Status}}'
	assert_output "db exited (0)"
	run -0 sbx ps -a --filter 'name=^db$' --format json
	[ "$(jq -r '.[].name' <<<"$output")" = db ]
	# -q wins over --format, as in podman; a bad --format is still refused.
	run -0 sbx ps -a -q --filter 'name=^db$' --format json
	assert_output db
	run -0 sbx image ls -q --format '{{.Size}}'
	assert_output busybox
	run sbx ps -q --format '{{.Nope}}'
	assert_status 125
}

@test "ps --filter: unknown keys and states, bad expressions, no '=': exact errors, exit 125, nothing changed" {
	run -0 sbx run --name keep busybox true
	before=$(instances)
	run sbx ps --filter nmae=keep
	assert_status 125
	assert_output "sbx: ps: --filter: unknown key \"nmae\"; did you mean \"name\"? The keys are name and status
Try 'sbx ps --help' for more information."
	run sbx ps --filter label=x
	assert_status 125
	assert_output "sbx: ps: --filter: unknown key \"label\"; the keys are name and status
Try 'sbx ps --help' for more information."
	run sbx ps --filter status=runing
	assert_status 125
	assert_output "sbx: ps: --filter status=\"runing\": expected running or exited; did you mean \"running\"?
Try 'sbx ps --help' for more information."
	run sbx ps --filter status=stopped
	assert_status 125
	assert_output "sbx: ps: --filter status=\"stopped\": expected running or exited (a stopped instance has exited)
Try 'sbx ps --help' for more information."
	run sbx ps --filter 'name=a(b'
	assert_status 125
	assert_output "sbx: ps: --filter name=\"a(b\": not a regular expression: Unmatched ( or \\(
Try 'sbx ps --help' for more information."
	run sbx ps --filter name
	assert_status 125
	assert_output "sbx: ps: --filter \"name\": expected KEY=VALUE, name=REGEX or status=running|exited
Try 'sbx ps --help' for more information."
	run sbx list -q --filter nmae=keep
	assert_status 125
	[ "${lines[0]}" = "sbx: list: --filter: unknown key \"nmae\"; did you mean \"name\"? The keys are name and status" ]
	[ "$(instances)" = "$before" ]
}

@test "--format templates: ps, image ls and inspect; table, json, escapes" {
	run -3 sbx run --name t1 busybox sh -c 'exit 3'
	run -0 sbx ps -a --format '{{.Name}}\t{{.Status}}\t{{.ExitCode}}\t{{.Pid}}\t{{.State}}'
	assert_output "$(printf 't1\texited (3)\t3\t-\texited')"
	run -0 sbx ps -a --format 'table {{.Name}}\t{{.Image}}'
	assert_output "NAME  IMAGE
t1    busybox"
	run -0 sbx ps -a --format '{{json .Command}} {{.Running}}'
	assert_output '["sh","-c","exit 3"] false'
	run -0 sbx ps -a --format '{{json .}}'
	[ "$(jq -r '"\(.name) \(.status) \(.exit_code)"' <<<"$output")" = "t1 exited 3" ]
	# The keys of {{json .}} are those of --format json.
	[ "$(jq -c 'keys' <<<"$output")" = "$(sbx ps -a --format json | jq -c '.[0] | keys')" ]
	run -0 sbx image ls --format '{{.Name}} {{.Size}} {{json .Cmd}}'
	[[ "$output" =~ ^busybox\ [0-9.]+\ MiB\ \[\"/bin/sh\"\]$ ]]
	run -0 sbx image ls --format 'table {{.Name}}\t{{.Workdir}}'
	assert_output "NAME     WORKDIR
busybox  -"
	run -0 sbx inspect -f '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.Config.process.args}}' t1
	assert_output "t1 exited 3 sh -c exit 3"
	run -0 sbx inspect --format '{{.Paths.Upper}}' t1 t1
	assert_output "$XDG_DATA_HOME/sbx/instances/t1/upper
$XDG_DATA_HOME/sbx/instances/t1/upper"
	# json stays the default, one object for one name.
	[ "$(sbx inspect t1 | jq -r .name)" = t1 ]
	[ "$(sbx inspect --format json t1 | jq -r .state.exit_code)" = 3 ]
	# A value reaches the terminal escaped, as in the table.
	dir=$BATS_TEST_TMPDIR/$(printf 'root\033[31mfs')
	make_busybox_rootfs "$dir"
	run -0 sbx run --name esc "$dir" true
	run -0 sbx ps -a --filter name=esc --format '{{.Image}}'
	assert_output "$BATS_TEST_TMPDIR/root\\x1b[31mfs"
}

@test "--format: podman's {{.Names}} is sbx's {{.Name}}, in ps's templates, tables and json" {
	run -0 sbx run --name n1 busybox true
	run -0 sbx ps -a --format '{{.Names}}'
	assert_output n1
	run -0 sbx ps -a --format '{{.Names}} {{.Name}} {{json .Names}}'
	assert_output 'n1 n1 "n1"'
	run -0 sbx ps -a --format 'table {{.Names}}\t{{.Image}}'
	assert_output "NAME  IMAGE
n1    busybox"
	run -0 sbx list -a --format '{{.Names}}'
	assert_output n1
	# Not a field of its own: the fields, the JSON keys and --format json are as before.
	[ "$(sbx ps -a --format json | jq -c '.[0] | has("names")')" = false ]
}

@test "--format: unknown fields and actions are refused with the fields, exit 125, nothing printed" {
	run -0 sbx run --name f1 busybox true
	before=$(instances)
	run sbx ps -a --format '{{.Nmae}}'
	assert_status 125
	assert_output "sbx: ps: --format: unknown field \".Nmae\"; did you mean \".Name\"? The fields are .Name, .Image, .Command, .Created, .Status, .Ports, .Profile, .Pid, .State, .Running, .ExitCode, .Started, .Finished
Try 'sbx ps --help' for more information."
	run sbx ps -a --format '{{.Names}} {{.ID}}'
	assert_status 125
	assert_output "sbx: ps: --format: unknown field \".ID\"; did you mean \".Pid\"? The fields are .Name, .Image, .Command, .Created, .Status, .Ports, .Profile, .Pid, .State, .Running, .ExitCode, .Started, .Finished
Try 'sbx ps --help' for more information."
	run sbx image ls --format '{{.Tag}}'
	assert_status 125
	assert_output "sbx: image ls: --format: unknown field \".Tag\"; the fields are .Name, .Created, .Size, .Source, .Rootfs, .Cmd, .Env, .Workdir, .User
Try 'sbx image ls --help' for more information."
	run sbx inspect -f '{{.Stat.Pid}}' f1
	assert_status 125
	assert_output "sbx: inspect: --format: unknown field \".Stat\"; did you mean \".State\"? The fields are .Name, .Image, .Profile, .Created, .State, .Paths, .Overlay, .Network, .Metadata, .Config
Try 'sbx inspect --help' for more information."
	run sbx inspect -f '{{.State.Pidd}}' f1
	assert_status 125
	assert_output 'sbx: inspect: --format: .State has no field "Pidd"'
	run sbx ps -a --format '{{.Name | upper}}'
	assert_status 125
	assert_output "sbx: ps: --format: unsupported template action \"{{.Name | upper}}\"; sbx knows {{.Field}}, {{.Field.Sub}}, {{json .}} and {{json .Field}}
Try 'sbx ps --help' for more information."
	run sbx ps -a --format '{{.Name'
	assert_status 125
	assert_output "sbx: ps: --format: \"{{\" without its \"}}\"
Try 'sbx ps --help' for more information."
	run sbx ps --format yaml
	assert_status 125
	assert_output "sbx: ps: unknown format 'yaml'; use 'text', 'json' or a template such as '{{.Name}}'
Try 'sbx ps --help' for more information."
	run sbx inspect --format table f1
	assert_status 125
	assert_output "sbx: inspect: --format: inspect prints json or a template, not a table
Try 'sbx inspect --help' for more information."
	[ "$(instances)" = "$before" ]
}

# "Name name" pairs from the ".Name (name), .Image (image) ..." list that
# follows $2 in the rendered page $1.
page_fields() {
	MANWIDTH=1000 man --no-hyphenation --no-justification -E ascii -l "$SBX_TOP/build/man/$1" 2>/dev/null |
		col -bx | grep -F -- "$2" | head -1 | sed 's/.*'"$2"'//' |
		grep -oE '\.[A-Za-z]+ \([a-z_]+' | tr -d '.(' 
}

# The same pairs from sbx: the fields from the unknown-field error (made
# from the command's table) and the keys of {{json .}} (made from it too).
sbx_fields() {
	local fields keys
	fields=$("$@" --format '{{.X}}' 2>&1 | sed -n 's/.*the fields are //Ip' | tr -d ',.' | tr ' ' '\n')
	keys=$("$@" --format '{{json .}}' | head -1 | jq -r 'keys_unsorted[]')
	paste -d ' ' <(echo "$fields") <(echo "$keys")
}

@test "the man pages list each command's --format fields and JSON keys, as its table has them" {
	run -0 sbx run --name m1 busybox true
	want=$(sbx_fields sbx ps -a)
	[ "$(wc -l <<<"$want")" -ge 10 ]
	got=$(page_fields sbx-instance.1 "The fields of ps, as templates name them, with their JSON keys:")
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") >&2; return 1; }
	want=$(sbx_fields sbx image ls)
	got=$(page_fields sbx-image.1 "The fields, as templates name them, with their JSON keys:")
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") >&2; return 1; }
	want=$(paste -d ' ' <(sbx inspect -f '{{.X}}' m1 2>&1 | sed -n 's/.*the fields are //Ip' | tr -d ',.' | tr ' ' '\n') \
		<(sbx inspect m1 | jq -r 'keys_unsorted[]'))
	got=$(page_fields sbx-instance.1 "The fields of inspect, with their JSON keys:")
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") >&2; return 1; }
}

@test "logs --tail N: the last lines, with -f too; a foreground instance has no log" {
	sbx run -d --name lg busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done; printf partial' >/dev/null
	wait_exited lg
	run -0 sbx logs --tail 2 lg
	assert_output "line5
partial"
	run -0 sbx logs --tail 0 lg
	assert_output ""
	run -0 sbx logs --tail 100 lg
	[ "${#lines[@]}" = 6 ]
	run -0 sbx logs --tail -1 lg
	[ "${#lines[@]}" = 6 ]
	run -0 sbx logs --tail=1 -f lg
	assert_output partial
	sbx run -d --name nl busybox sh -c 'echo a; echo b; echo c' >/dev/null
	wait_exited nl
	run -0 sbx logs --tail 1 nl
	assert_output c
	run sbx logs --tail x nl
	assert_status 125
	assert_output "sbx: logs: --tail \"x\": a number of lines is needed
Try 'sbx logs --help' for more information."
	run sbx logs nl lg
	assert_status 125
	assert_output "sbx: logs: one instance at a time
Try 'sbx logs --help' for more information."
	# In the foreground the output went to the terminal: no log, said so.
	run -0 sbx run --name fg busybox echo hi
	run sbx logs fg
	assert_status 125
	assert_output "sbx: logs: instance \"fg\" has no log: only detached instances (sbx run -d, sbx start) are logged; a foreground one's output went to its terminal"
	run sbx logs -f fg
	assert_status 125
	[ ! -e "$XDG_DATA_HOME/sbx/instances/fg/log" ]
}

@test "kill -s SIGNAL NAME..., --signal, kill NAME SIGNAL: the names are printed" {
	sbx run -d --name k1 busybox sh -c 'trap "exit 41" USR1; while :; do sleep 0.1; done' >/dev/null
	sbx run -d --name k2 busybox sh -c 'trap "exit 42" USR1; while :; do sleep 0.1; done' >/dev/null
	sbx run -d --name k3 busybox sh -c 'trap "exit 43" HUP; while :; do sleep 0.1; done' >/dev/null
	sbx run -d --name k4 busybox sh -c 'trap "exit 44" INT; while :; do sleep 0.1; done' >/dev/null
	for n in k1 k2 k3 k4; do wait_running $n; done
	run -0 sbx kill -s USR1 k1 k2
	assert_output "k1
k2"
	run -0 sbx kill --signal SIGHUP k3
	assert_output k3
	run -0 sbx kill k4 INT
	assert_output k4
	for n in k1 k2 k3 k4; do wait_exited $n; done
	run -0 sbx ps -a --format '{{.Name}} {{.ExitCode}}'
	assert_output "k1 41
k2 42
k3 43
k4 44"
	# -q prints nothing.
	sbx run -d --name k5 busybox sleep 60 >/dev/null
	wait_running k5
	run -0 sbx -q kill -s KILL k5
	assert_output ""
}

@test "kill: errors are exact, exit 125, and nothing is signalled" {
	sbx run -d --name alive busybox sleep 60 >/dev/null
	wait_running alive
	run sbx kill -s BOGUS alive
	assert_status 125
	assert_output 'sbx: kill: unknown signal "BOGUS"'
	run sbx kill --signal
	assert_status 125
	assert_output "sbx: kill: option '--signal' needs an argument
Try 'sbx kill --help' for more information."
	run sbx kill -s
	assert_status 125
	assert_output "sbx: kill: option '-s' needs an argument
Try 'sbx kill --help' for more information."
	run sbx kill alive HUP extra
	assert_status 125
	assert_output "sbx: kill: too many arguments; to signal several instances, give the signal with -s
Try 'sbx kill --help' for more information."
	run sbx kill -s HUP alive nosuch
	assert_status 125
	assert_output "alive
sbx: kill: instance \"nosuch\" not found; see 'sbx ps -a'"
	# HUP ends sleep: the first one was signalled, the refusals sent nothing.
	wait_exited alive
	[ "$(sbx ps -a --format '{{.ExitCode}}' --filter name=alive)" = 129 ]
}

@test "image import and commit print the name, and nothing with -q; image rm prints what it removed" {
	mkdir src && echo x >src/f
	run -0 sbx image import one src
	assert_output one
	run -0 sbx image import -q two src
	assert_output ""
	run -0 sbx run --name c1 busybox true
	run -0 sbx commit c1 three
	assert_output three
	run -0 sbx commit -q c1 four
	assert_output ""
	run -0 sbx image rm one two
	assert_output "one
two"
	run -0 sbx image rm -f three nosuch four
	assert_output "three
four"
	[ "$(sbx image ls -q)" = busybox ]
}

@test "completion: the new options and their values come from the option tables" {
	run -0 sbx __complete -- kill -s SIGK
	assert_output SIGKILL
	run -0 sbx __complete -- kill --
	assert_contains --signal
	run -0 sbx __complete -- ps --filter ''
	assert_output "name=
status=exited
status=running"
	run -0 sbx __complete -- ps --
	assert_contains --filter
	assert_contains --no-trunc
	run -0 sbx __complete -- logs --
	assert_contains --tail
	run -0 sbx __complete -- inspect --
	assert_contains --format
}
