# Shared by tests/bench/run and tests/bench/profile-sbx: the tool check, the
# drop from root to the unprivileged test user, and the private sbx tree with
# the busybox image every tool runs.

bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench_user=${BENCH_USER:-${SBX_TEST_USER:-sbxtest}}

bench_say() { echo "bench: $*" >&2; }
bench_die() { echo "bench: $*" >&2; exit 1; }

# "command:package" pairs for what `make bench` runs (used by run).
# shellcheck disable=SC2034
bench_tools=(hyperfine:hyperfine bwrap:bubblewrap ch-run:charliecloud-runtime
	/usr/bin/time:time gnuplot:gnuplot-nox unshare:util-linux
	setpriv:util-linux jq:jq /usr/bin/python3:python3 /bin/busybox:busybox-static
	strace:strace)
# The OCI runtimes and podman: a row whose tool is missing says so, and the
# bench goes on without it. As root, .ci/deps bench installs them.
# shellcheck disable=SC2034
bench_optional=(runc:runc crun:crun podman:podman conmon:conmon catatonit:catatonit
	newuidmap:uidmap)

bench_missing() {
	local pair
	for pair in "$@"; do
		PATH=$PATH:/usr/sbin:/sbin command -v "${pair%%:*}" >/dev/null 2>&1 || echo "$pair"
	done
}

# bench_want PAIR... - as root, installs what is missing (.ci/deps bench),
# and never fails: what is still missing is left out of the comparison.
bench_want() {
	[ -n "$(bench_missing "$@")" ] || return 0
	if [ "$(id -u)" = 0 ] && [ -x "$bench_top/.ci/deps" ]; then
		bench_say "installing the optional bench packages (.ci/deps bench)"
		"$bench_top/.ci/deps" bench || true
	fi
}

# bench_need PAIR... - as root, installs what is missing (.ci/deps bench);
# otherwise names the missing commands and their packages and exits 1.
bench_need() {
	local missing
	missing=$(bench_missing "$@")
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" = 0 ] && [ -x "$bench_top/.ci/deps" ]; then
		bench_say "installing the bench packages (.ci/deps bench)"
		"$bench_top/.ci/deps" bench || true
		missing=$(bench_missing "$@")
		[ -n "$missing" ] || return 0
	fi
	local pair pkgs=
	for pair in $missing; do
		echo "bench: missing '${pair%%:*}' (Debian package ${pair#*:})" >&2
		case " $pkgs " in *" ${pair#*:} "*) ;; *) pkgs="$pkgs ${pair#*:}" ;; esac
	done
	echo "bench: install with: sudo apt-get install -y --no-install-recommends$pkgs" >&2
	echo "bench: (or, as root: .ci/deps bench)" >&2
	exit 1
}

# bench_as_user SCRIPT STAGE ARG... - as root: makes sure the test user
# exists (with /etc/subuid and /etc/subgid ranges, like tests/integration/run),
# then runs tests/bench/SCRIPT --as-user --out STAGE ARG... as that user,
# under ../shared/bin/stock-host when it exists (crun refuses hybrid cgroup
# hosts). STAGE is created for the user. Returns the script's status.
bench_as_user() {
	local script=$1 stage=$2
	shift 2
	if ! id "$bench_user" >/dev/null 2>&1; then
		useradd --create-home --shell /bin/bash "$bench_user"
	fi
	local uid gid home f
	uid=$(id -u "$bench_user")
	gid=$(id -g "$bench_user")
	home=$(getent passwd "$bench_user" | cut -d: -f6)
	for f in /etc/subuid /etc/subgid; do
		touch "$f"
		grep -q "^$bench_user:" "$f" || echo "$bench_user:200000:65536" >>"$f"
	done
	install -d -m 0755 -o "$uid" -g "$gid" "$stage"
	# The user must reach the checkout; when it sits somewhere private
	# (e.g. under /root), run a copy of what the benchmark needs.
	local top=$bench_top
	if ! setpriv --reuid="$uid" --regid="$gid" --init-groups \
		test -x "$top/build/sbx" -a -r "$top/tests/bench/lib.bash" 2>/dev/null; then
		bench_copy=$(mktemp -d /tmp/sbx-bench-src.XXXXXX)
		mkdir -p "$bench_copy/build" "$bench_copy/tests"
		cp -a "$top/build/sbx" "$top/build/sbx-init" "$bench_copy/build/"
		for f in sbx-unpack limit; do
			if [ -x "$top/build/$f" ]; then cp -a "$top/build/$f" "$bench_copy/build/"; fi
		done
		cp -a "$top/profiles" "$bench_copy/"
		cp -a "$top/tests/bench" "$bench_copy/tests/"
		chmod -R a+rX "$bench_copy"
		chmod 755 "$bench_copy"
		top=$bench_copy
	fi
	local stock wrap=()
	stock=$(cd "$bench_top/.." && pwd)/shared/bin/stock-host
	if [ -x "$stock" ]; then
		wrap=("$stock")
	else
		bench_say "no $stock: running without it (crun may refuse a hybrid cgroup host)"
	fi
	local passenv=() v
	for v in $(compgen -v BENCH_); do
		passenv+=("$v=${!v}")
	done
	local rev
	rev=$(git -c safe.directory="$bench_top" -C "$bench_top" describe --always --dirty 2>/dev/null ||
		echo unknown)
	# What the person typed, for env.txt.
	local invoked="tests/bench/$script${*:+ $*}"
	[ -z "${MAKELEVEL:-}" ] || invoked="make (${invoked})"
	local status=0
	# Live state goes where a desktop session keeps it: /run/user/UID, a
	# tmpfs that pam_systemd mounts. Mount one in a private mount namespace.
	"${wrap[@]}" unshare --mount --propagation private sh -c '
		d=/run/user/$1
		mkdir -p "$d" && mount -t tmpfs -o "mode=0700,uid=$1,gid=$2,size=256m" sbx-bench "$d" &&
			shift 2 && exec "$@"' sh "$uid" "$gid" \
		setpriv --reuid="$uid" --regid="$gid" --init-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin \
		HOME="$home" USER="$bench_user" LOGNAME="$bench_user" LANG=C.UTF-8 \
		XDG_RUNTIME_DIR="/run/user/$uid" \
		TERM="${TERM:-dumb}" BENCH_GIT_REV="$rev" BENCH_STOCK_HOST="${wrap[0]:-none}" \
		BENCH_INVOKED="$invoked as root, run as $bench_user" \
		"${passenv[@]}" "$top/tests/bench/$script" --as-user --out "$stage" "$@" || status=$?
	if [ -n "${bench_copy:-}" ]; then
		rm -rf "$bench_copy"
	fi
	return $status
}

# bench_setup_work - a private temporary sbx tree (XDG dirs, runtime dir,
# no system profiles) with the busybox image bootstrapped in it. Sets work,
# sbx and rootfs, and removes the tree on exit.
bench_setup_work() {
	work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/sbx-bench.XXXXXX")
	trap 'bench_cleanup_work' EXIT
	export XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache
	export SBX_SYSCONFDIR=$work/etc
	export USER=${USER:-$(id -un)}
	mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$SBX_SYSCONFDIR"
	# Live state in a private directory of the session's runtime directory
	# (a tmpfs on a desktop), else in the work tree.
	if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -w "$XDG_RUNTIME_DIR" ]; then
		bench_rundir=$(mktemp -d "$XDG_RUNTIME_DIR/sbx-bench.XXXXXX")
	else
		bench_rundir=$work/run
		install -d -m 0700 "$bench_rundir"
	fi
	export XDG_RUNTIME_DIR=$bench_rundir
	# Measure a snapshot: build/sbx and profiles/ may be rebuilt or edited
	# while the benchmark runs.
	[ -x "$bench_top/build/sbx" ] || bench_die "$bench_top/build/sbx is missing: run make first"
	mkdir -p "$work/bin" "$work/share"
	cp "$bench_top/build/sbx" "$bench_top/build/sbx-init" "$work/bin/"
	if [ -x "$bench_top/build/sbx-unpack" ]; then
		cp "$bench_top/build/sbx-unpack" "$work/bin/sbx-unpack"
	fi
	if [ -x "$bench_top/build/limit" ]; then
		cp "$bench_top/build/limit" "$work/bin/limit"
	fi
	cp -r "$bench_top/profiles" "$work/share/profiles"
	export SBX_DATADIR=$work/share
	sbx=$work/bin/sbx
	"$sbx" -q image bootstrap busybox >/dev/null ||
		bench_die "sbx image bootstrap busybox failed"
	rootfs=$XDG_DATA_HOME/sbx/images/busybox/rootfs
	[ -x "$rootfs/bin/busybox" ] || bench_die "no busybox rootfs at $rootfs"
}

# bench_limit_plan - the limit program's plan (tests/bench/limit-plan) from
# the snapshot's `sbx spec busybox`, in $work/limit. Sets limit and
# limit_plan; dies when build/limit is missing or the program fails.
bench_limit_plan() {
	limit=$work/bin/limit
	[ -x "$limit" ] || bench_die "$bench_top/build/limit is missing: run make build/limit"
	"$bench_top/tests/bench/limit-plan" "$sbx" busybox "$work/limit" ||
		bench_die "tests/bench/limit-plan failed"
	limit_plan=$work/limit/limit.plan
	"$limit" "$limit_plan" /bin/true ||
		bench_die "the limit program failed: $limit $limit_plan /bin/true"
}

# bench_oci_cleanup - deletes what the OCI runtimes left in their --root
# (a run that failed half-way), and podman's containers and storage: podman
# keeps it under the user's subordinate ids, removable only from its user
# namespace; then ends podman's pause process of this runtime directory.
bench_oci_cleanup() {
	local rt id
	for rt in runc crun sbx-oci; do
		if [ ! -d "$work/$rt" ] || [ -z "$(ls -A "$work/$rt" 2>/dev/null)" ]; then
			continue
		fi
		local bin=$rt
		[ "$rt" != sbx-oci ] || bin=$work/bin/sbx-oci
		for id in $("$bin" --root "$work/$rt" list -q 2>/dev/null); do
			bench_say "$rt: deleting left-over container $id"
			"$bin" --root "$work/$rt" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	[ "${bench_podman:-0}" = 1 ] || return 0
	local left
	left=$(podman ps -aq 2>/dev/null || true)
	if [ -n "$left" ]; then
		bench_say "podman: removing left-over containers"
		# shellcheck disable=SC2086
		podman rm -f $left >/dev/null 2>&1 || true
	fi
	podman unshare rm -rf "$XDG_DATA_HOME/containers" "$XDG_RUNTIME_DIR/containers" \
		>/dev/null 2>&1 || true
	if [ -f "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" ]; then
		kill "$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid")" 2>/dev/null || true
	fi
	bench_podman=0
}

bench_cleanup_work() {
	if [ -n "${work:-}" ] && [ -d "$work" ]; then
		bench_oci_cleanup
	fi
	if [ -n "${bench_rundir:-}" ] && [ -d "$bench_rundir" ]; then
		rm -rf "$bench_rundir"
	fi
	[ -n "${work:-}" ] && [ -d "$work" ] || return 0
	# Overlay work dirs are left mode 000 by the kernel.
	chmod -R u+rwX "$work" 2>/dev/null || true
	rm -rf "$work"
}
