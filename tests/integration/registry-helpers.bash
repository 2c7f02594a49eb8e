# registry-helpers.bash - Debian's docker-registry on 127.0.0.1 for a bats
# file (pull.bats, image-lock.bats): a free port, start and stop.

# A TCP port nothing listens on (for a moment: the caller binds it next).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME PORT [AUTH-FILE]: docker-registry serving
# $BATS_FILE_TMPDIR/storage on 127.0.0.1:PORT (with htpasswd auth), its pid
# in $BATS_FILE_TMPDIR/NAME.pid; returns once it accepts connections.
start_registry() {
	local name=$1 port=$2 auth=${3:-} conf=$BATS_FILE_TMPDIR/$1.yml i
	cat >"$conf" <<-EOF
		version: 0.1
		log:
		  level: error
		storage:
		  filesystem:
		    rootdirectory: $BATS_FILE_TMPDIR/storage
		http:
		  addr: 127.0.0.1:$port
	EOF
	if [ -n "$auth" ]; then
		printf 'auth:\n  htpasswd:\n    realm: sbx-test\n    path: %s\n' "$auth" >>"$conf"
	fi
	/usr/bin/docker-registry serve "$conf" >"$BATS_FILE_TMPDIR/$name.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/$name.pid"
	for i in $(seq 200); do
		(exec 4<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		kill -0 "$(cat "$BATS_FILE_TMPDIR/$name.pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "docker-registry did not start on 127.0.0.1:$port:" >&2
	cat "$BATS_FILE_TMPDIR/$name.log" >&2
	return 1
}

stop_registry() {
	local f=$BATS_FILE_TMPDIR/$1.pid pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$f"
}
