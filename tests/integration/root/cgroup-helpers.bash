# Shared by the root suites that make cgroups (containerd.bats,
# oci-cgroup.bats). They run under ../shared/bin/stock-host (cgroup v1
# only, as on a host whose unified mount is hidden), in a mount namespace
# where each v1 hierarchy in which this process is not at the top shows
# only its own cgroup: an absolute cgroupsPath (containerd's /NS/ID,
# systemd's slices) then lands below the cgroups the tests were started
# in, never beside them.

STOCK_HOST=$SBX_TOP/../shared/bin/stock-host

# Where no v1 hierarchy is mounted (a root whose /sys/fs/cgroup is the
# cgroup2 mount, while the kernel's controllers are bound to v1
# hierarchies, as in CI's fresh root on these machines), the namespace
# mounts the host's hybrid layout: each v1 hierarchy of /proc/self/cgroup
# on a tmpfs /sys/fs/cgroup in place of the cgroup2 mount, so the suites
# see the same hosts everywhere.
hybrid_script='
if ! grep -q " - cgroup " /proc/self/mountinfo; then
	if grep -q " /sys/fs/cgroup .* - cgroup2 " /proc/self/mountinfo; then
		umount -l /sys/fs/cgroup
	fi
	mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
	while IFS=: read -r _ ctls _; do
		[ -n "$ctls" ] || continue
		dir=${ctls#name=}
		case $ctls in name=*) opts=none,$ctls ;; *) opts=$ctls ;; esac
		mkdir -p "/sys/fs/cgroup/$dir"
		mount -t cgroup -o "$opts" cgroup "/sys/fs/cgroup/$dir"
	done </proc/self/cgroup
fi
'

# The command line for in_ns: stock-host, then the binds.
confine_script='
while IFS=: read -r _ ctls own; do
	[ -n "$ctls" ] && [ "$own" != / ] || continue
	first=${ctls%%,*}
	mnt=$(awk -v c="$first" '"'"'{
		for (i = 1; i <= NF; i++) if ($i == "-") break
		if ($(i + 1) != "cgroup") next
		n = split($(i + 3), o, ",")
		for (k = 1; k <= n; k++) if (o[k] == c) { print $5; exit }
	}'"'"' /proc/self/mountinfo)
	[ -n "$mnt" ] && mount --bind "$mnt$own" "$mnt"
done </proc/self/cgroup
exec "$@"'

# Runs a shell script in such a namespace.
in_ns() {
	"$STOCK_HOST" /bin/sh -c "$hybrid_script$confine_script" confine /bin/sh -c "$1"
}

# Every v1 hierarchy's mount point in such a namespace.
cgroup_mounts() {
	in_ns 'awk '"'"'{ for (i = 1; i <= NF; i++) if ($i == "-") break
		if ($(i + 1) == "cgroup") print $5 }'"'"' /proc/self/mountinfo' | sort -u
}

# Fails when any hierarchy still holds $1 (a path below the namespace's
# view of it).
assert_no_cgroup() {
	local left
	left=$(in_ns "for m in $(cgroup_mounts | tr '\n' ' '); do [ -e \"\$m/$1\" ] && echo \"\$m/$1\"; done; true")
	[ -z "$left" ] || { echo "cgroups left behind: $left" >&2; return 1; }
}

# Removes $1 (a path below the namespace's view) from every hierarchy,
# with what is below it; it must hold no process.
remove_cgroup() {
	in_ns "for m in $(cgroup_mounts | tr '\n' ' '); do [ -d \"\$m/$1\" ] && find \"\$m/$1\" -depth -type d -exec rmdir {} +; done; true"
}
