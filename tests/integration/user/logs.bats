#!/usr/bin/env bats
# sbx logs with times: a capture process between a detached payload and its
# log writes the output byte for byte and, beside it, when each part was
# read (log.idx). --since, --until and -t/--timestamps use those times,
# alone and with --tail and -f; a bad time is a usage error.

load ../helpers
bats_require_minimum_version 1.5.0

setup() {
	sbx_user_setup
	mkdir -p "$BATS_TEST_TMPDIR/v"
}

teardown() {
	"$SBX" rm -f $("$SBX" ps -a -q 2>/dev/null) >/dev/null 2>&1 || true
	chmod -R u+rwX "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

wait_exited() {
	for _ in $(seq 400); do
		[ "$(sbx ps -a --filter status=exited --filter "name=^$1\$" -q)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_log NAME TEXT: until the log holds TEXT.
wait_log() {
	for _ in $(seq 400); do
		sbx logs "$1" | grep -q "$2" && return 0
		sleep 0.05
	done
	return 1
}

# A payload that prints one and two, waits for /v/go, then prints three and
# four (without a newline); $T is a time between the two halves.
two_halves() {
	sbx run -d --name "$1" -v "$BATS_TEST_TMPDIR/v:/v" busybox sh -c \
		'echo one; echo two; while [ ! -e /v/go ]; do sleep 0.02; done; echo three; printf four' >/dev/null
	wait_log "$1" two
	T_NS=$(date +%s%N)
	T=${T_NS:0:-9}.${T_NS: -9}
	sleep 0.01
}

@test "logs: the output byte for byte through the capture process, binary, no newline, a 1 MiB line" {
	sbx run -d --name raw busybox sh -c \
		'printf "a\r\n\000\001\033[31mb\n"; head -c 1048576 /dev/zero | tr "\000" x; printf "\nend"' >/dev/null
	wait_exited raw
	{ printf 'a\r\n\000\001\033[31mb\n'; head -c 1048576 /dev/zero | tr '\000' x; printf '\nend'; } >want
	sbx logs raw >got
	cmp want got
	cmp want "$XDG_DATA_HOME/sbx/instances/raw/log"
	# Records of 16 bytes, a few, however many lines.
	local size
	size=$(stat -c %s "$XDG_DATA_HOME/sbx/instances/raw/log.idx")
	[ "$size" -gt 0 ] && [ $((size % 16)) = 0 ] && [ "$size" -lt 16000 ]
	# -t puts a time before each line and changes nothing else: podman's
	# form, local time in RFC 3339, the fraction without trailing zeros.
	TZ=UTC0 sbx logs -t raw >stamped
	run -0 grep -c -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,8}[1-9])?Z ' stamped
	[ "$output" = 4 ]
	sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z //' stamped >unstamped
	cmp want unstamped
	# In another zone: the same instants, at that zone's offset.
	TZ=IST-5:30 sbx logs -t raw >stamped-ist
	run -0 grep -c -E '^[0-9-]{10}T[0-9:]{8}(\.[0-9]{0,8}[1-9])?\+05:30 ' stamped-ist
	[ "$output" = 4 ]
	[ "$(cut -d' ' -f1 stamped | xargs -n1 date +%s%N -d)" = "$(cut -d' ' -f1 stamped-ist | xargs -n1 date +%s%N -d)" ]
	run -0 sbx logs --tail 1 raw
	assert_output end
}

@test "logs --since and --until: a time between two lines, in each form; with --tail" {
	two_halves h
	touch v/go
	wait_exited h
	run -0 sbx logs --since "$T" h
	assert_output "three
four"
	run -0 sbx logs --since "$(date -u -d "@$T" +%Y-%m-%dT%H:%M:%S.%NZ)" h
	assert_output "three
four"
	run -0 sbx logs --since "$(date -d "@$T" +%Y-%m-%dT%H:%M:%S.%N%:z)" h
	assert_output "three
four"
	run -0 sbx logs --until "$T" h
	assert_output "one
two"
	run -0 sbx logs --since "$T" --until "$T" h
	assert_output ""
	# A duration counts back from now for --since, forward for --until.
	run -0 sbx logs --since 10m h
	assert_output "one
two
three
four"
	run -0 sbx logs --until 1m h
	[ "${#lines[@]}" = 4 ]
	run -0 sbx logs --until -10m h
	assert_output ""
	run -0 sbx logs --since 2000-01-01 h
	[ "${#lines[@]}" = 4 ]
	run -0 sbx logs --since 1h1m1s --until 2100-01-01T00:00:00Z h
	[ "${#lines[@]}" = 4 ]
	# --tail takes the last lines first, as podman's, then the times.
	run -0 sbx logs --tail 1 --since "$T" h
	assert_output four
	run -0 sbx logs --tail 3 --since "$T" h
	assert_output "three
four"
	run -0 sbx logs --tail 3 --until "$T" h
	assert_output two
	run -0 sbx logs --tail 1 --until "$T" h
	assert_output ""
	# -t: the times are in order and on the right side of $T.
	run -0 sbx logs -t h
	[ "${#lines[@]}" = 4 ]
	local i t
	for i in 0 1 2 3; do
		t=$(date -d "${lines[$i]%% *}" +%s%N)
		if [ "$i" -lt 2 ]; then
			[ "$t" -le "$T_NS" ]
		else
			[ "$t" -gt "$T_NS" ]
		fi
	done
	[ "${lines[3]#* }" = four ]
	run -0 sbx logs --timestamps --since "$T" h
	[ "${#lines[@]}" = 2 ] && [ "${lines[0]#* }" = three ]
}

@test "logs -f --since: follows from a time still to come, and ends with the instance" {
	two_halves fo
	sbx logs -f --since "$T" fo >followed &
	local pid=$!
	touch v/go
	wait_exited fo
	wait "$pid"
	printf 'three\nfour' >want
	cmp want followed
	# --until in the past ends -f at once, the instance running or not.
	run -0 sbx logs -f --until "$T" fo
	assert_output "one
two"
}

@test "logs -f --until: stops after TIME while the instance still runs" {
	sbx run -d --name fu busybox sh -c 'echo first; while :; do sleep 1; done' >/dev/null
	wait_log fu first
	run -0 sbx logs -f --until "$(date -d '+1 sec' +%s.%N)" fu
	assert_output first
	run -0 sbx ps --format '{{.Name}} {{.State}}'
	assert_output "fu running"
}

@test "logs --since/--until: a bad time is refused with exit status 125" {
	sbx run -d --name bad busybox true >/dev/null
	wait_exited bad
	run sbx logs --since bogus bad
	assert_status 125
	assert_output "sbx: logs: --since \"bogus\": not a time: give an RFC 3339 time (2024-05-01T12:00:00Z), a Unix time (1714564800) or a duration (10m, 1h30m)
Try 'sbx logs --help' for more information."
	run sbx logs --until 2024-02-30 bad
	assert_status 125
	assert_output "sbx: logs: --until \"2024-02-30\": not a time: give an RFC 3339 time (2024-05-01T12:00:00Z), a Unix time (1714564800) or a duration (10m, 1h30m)
Try 'sbx logs --help' for more information."
	run sbx logs --since '10x' bad
	assert_status 125
	assert_contains '--since "10x": not a time'
}

@test "logs: the instance counts as running until the capture process has every byte" {
	sbx run -d --name slow -v "$BATS_TEST_TMPDIR/v:/v" busybox sh -c \
		'echo first; while [ ! -e /v/go ]; do sleep 0.02; done; echo last' >/dev/null
	wait_log slow first
	# The capture process of this test's instance: the one process with its
	# log.idx open, by the file's full path under this test's own
	# XDG_DATA_HOME, whatever other instance named slow the user runs.
	local idx cap="" monitor p fd
	idx=$(readlink -f "$XDG_DATA_HOME/sbx/instances/slow/log.idx")
	[ -f "$idx" ]
	for p in $(pgrep -u "$(id -u)" -x sbx); do
		for fd in "/proc/$p/fd/"*; do
			if [ "$(readlink "$fd" 2>/dev/null)" = "$idx" ]; then
				[ -z "$cap" ] || [ "$cap" = "$p" ] || fail "both $cap and $p have $idx open"
				cap=$p
			fi
		done
	done
	[ -n "$cap" ]
	monitor=$(jq -r .monitor "$XDG_RUNTIME_DIR/sbx/slow/state.json")
	[ "$monitor" -gt 1 ] && [ "$monitor" != "$cap" ]
	kill -STOP "$cap"
	touch v/go
	# The monitor ends with the payload; "last" waits in the pipe.
	for _ in $(seq 400); do
		kill -0 "$monitor" 2>/dev/null || break
		sleep 0.05
	done
	run ! kill -0 "$monitor"
	run -0 sbx ps -a --format '{{.Name}} {{.State}}'
	assert_output "slow running"
	kill -CONT "$cap"
	wait_exited slow
	run -0 sbx logs slow
	assert_output "first
last"
}

@test "logs: a burst of 200000 lines as the payload's last act is all in the log once it exited" {
	# A payload whose last act is a burst of output: once ps says exited,
	# all of it is there.
	sbx run -d --name burst busybox sh -c 'seq 1 200000' >/dev/null
	wait_exited burst
	run -0 sbx logs --tail 1 burst
	assert_output 200000
	[ "$(sbx logs burst | wc -l)" = 200000 ]
}
