/* devices.c - linux.devices, as crun makes them when it cannot mknod: the
 * host's node bound onto a file the sandbox's root gets. */
#define _GNU_SOURCE
#include "runtime/devices.h"
#include "runtime/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int devices_parse(json_t *a, struct sbx_device **out, size_t *n, struct sbx_error **err)
{
	*n = 0;
	*out = NULL;
	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return sbx_error_setc(err, EINVAL, "linux.devices: expected an array");
	*out = xcalloc(json_array_size(a) + 1, sizeof(**out));
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e)
	{
		const char *path = NULL, *type = NULL;
		json_int_t maj = -1, min = -1, mode = -1, uid = -1, gid = -1;
		json_error_t je;
		if (json_unpack_ex(e, &je, JSON_STRICT, "{s:s, s:s, s?I, s?I, s?I, s?I, s?I}",
		                   "path", &path, "type", &type, "major", &maj, "minor", &min,
		                   "fileMode", &mode, "uid", &uid, "gid", &gid) < 0)
			return sbx_error_setc(err, EINVAL, "linux.devices[%zu]: %s", i, je.text);
		struct sbx_device *d = &(*out)[(*n)++];
		d->path = xstrdup(path);
		if (path[0] != '/' || strstr(path, "/../") || str_endswith(path, "/.."))
			return sbx_error_setc(err, EINVAL,
			                      "linux.devices[%zu].path: \"%s\" is not an absolute "
			                      "path without \"..\"",
			                      i, path);
		if (strlen(type) != 1 || !strchr("cbup", type[0]))
			return sbx_error_setc(err, EINVAL,
			                      "linux.devices[%zu].type: \"%s\" is not c, b, u or p",
			                      i, type);
		d->type = type[0] == 'u' ? 'c' : type[0];
		if (d->type != 'p' && (maj < 0 || min < 0 || maj > 0xfff || min > 0xfffff))
			return sbx_error_setc(err, EINVAL,
			                      "linux.devices[%zu]: a %s device needs a major and a "
			                      "minor number",
			                      i, d->type == 'b' ? "block" : "character");
		d->major = (unsigned)(maj < 0 ? 0 : maj);
		d->minor = (unsigned)(min < 0 ? 0 : min);
		if (json_object_get(e, "fileMode")) {
			if (mode < 0 || mode > 07777)
				return sbx_error_setc(
				    err, EINVAL, "linux.devices[%zu].fileMode: %lld is not a mode",
				    i, (long long)mode);
			d->has_mode = true;
			d->mode = (mode_t)mode;
		}
		if (json_object_get(e, "uid")) {
			if (uid < 0 || uid >= UINT32_MAX)
				return sbx_error_setc(err, EINVAL,
				                      "linux.devices[%zu].uid: bad uid", i);
			d->has_uid = true;
			d->uid = (uid_t)uid;
		}
		if (json_object_get(e, "gid")) {
			if (gid < 0 || gid >= UINT32_MAX)
				return sbx_error_setc(err, EINVAL,
				                      "linux.devices[%zu].gid: bad gid", i);
			d->has_gid = true;
			d->gid = (gid_t)gid;
		}
	}
	return 0;
}

void devices_free(struct sbx_device *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		free(d[i].path);
	free(d);
}

/* The file the device goes on: its directory found (and made) in the root,
 * the last component created there, never followed. */
static int open_node_target(int rootfd, const struct sbx_device *d, int *out,
                            struct sbx_error **err)
{
	_cleanup_free_ char *dir = xstrdup(d->path);
	char *slash = strrchr(dir, '/');
	const char *base = d->path + (slash - dir) + 1;
	*slash = '\0';
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return sbx_error_setc(err, EINVAL, "linux.devices: \"%s\" names no file", d->path);
	_cleanup_close_ int pfd = -1;
	if (mount_open_target(rootfd, *dir ? dir : "/", false, &pfd, err) < 0)
		return -1;
	if (d->type == 'p') {
		if (mkfifoat(pfd, base, d->has_mode ? d->mode & 0777 : 0666) < 0 && errno != EEXIST)
			return sbx_error_set(err, errno, "cannot create the fifo \"%s\"", d->path);
	} else {
		int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd >= 0)
			close(fd);
		else if (errno != EEXIST)
			return sbx_error_set(err, errno, "cannot create \"%s\" in the sandbox",
			                     d->path);
	}
	int fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sbx_error_set(err, e, "cannot open \"%s\" in the sandbox", d->path);
	}
	if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
		close(fd);
		return sbx_error_setc(err, EEXIST,
		                      "linux.devices: \"%s\" is a %s in the root; refusing to "
		                      "cover it",
		                      d->path, S_ISLNK(st.st_mode) ? "symlink" : "directory");
	}
	*out = fd;
	return 0;
}

static int check_owner(const struct sbx_device *d, const struct stat *st, struct sbx_error **err)
{
	if (d->has_mode && (st->st_mode & 07777) != (d->mode & 07777))
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.devices: \"%s\": fileMode %04o cannot be honoured: "
		                      "the host's node, which a rootless sandbox binds, has mode "
		                      "%04o",
		                      d->path, (unsigned)(d->mode & 07777),
		                      (unsigned)(st->st_mode & 07777));
	if ((d->has_uid && st->st_uid != d->uid) || (d->has_gid && st->st_gid != d->gid))
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.devices: \"%s\": uid %u, gid %u cannot be honoured: "
		                      "the host's node, which a rootless sandbox binds, belongs "
		                      "to %u:%u in the sandbox",
		                      d->path, d->has_uid ? d->uid : st->st_uid,
		                      d->has_gid ? d->gid : st->st_gid, st->st_uid, st->st_gid);
	return 0;
}

static int bind_device(int target, const struct sbx_device *d, struct sbx_error **err)
{
	const char *kind = d->type == 'b' ? "block" : "character";
	_cleanup_close_ int tfd = open_tree(AT_FDCWD, d->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tfd < 0) {
		if (errno == ENOENT)
			return sbx_error_setc(
			    err, ENOENT,
			    "linux.devices: \"%s\" (%s %u:%u) cannot be created: "
			    "the host has no \"%s\" to bind, and a user namespace "
			    "cannot mknod",
			    d->path, kind, d->major, d->minor, d->path);
		return sbx_error_set(err, errno, "linux.devices: cannot open the host's \"%s\"",
		                     d->path);
	}
	struct stat st;
	if (fstat(tfd, &st) < 0)
		return sbx_error_set(err, errno, "cannot stat the host's \"%s\"", d->path);
	bool type_ok = d->type == 'b' ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode);
	if (!type_ok || major(st.st_rdev) != d->major || minor(st.st_rdev) != d->minor)
		return sbx_error_setc(err, ENOTSUP,
		                      "linux.devices: \"%s\" (%s %u:%u) cannot be created: the "
		                      "host's \"%s\" is %s %u:%u, and a user namespace cannot "
		                      "mknod",
		                      d->path, kind, d->major, d->minor, d->path,
		                      S_ISCHR(st.st_mode)   ? "character"
		                      : S_ISBLK(st.st_mode) ? "block"
		                                            : "not a device",
		                      major(st.st_rdev), minor(st.st_rdev));
	if (check_owner(d, &st, err) < 0)
		return -1;
	if (move_mount(tfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return sbx_error_set(err, errno, "cannot bind the host's \"%s\" in the sandbox",
		                     d->path);
	return 0;
}

int devices_create(int rootfd, const struct sbx_device *d, size_t n, struct sbx_error **err)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int target = -1;
		if (open_node_target(rootfd, &d[i], &target, err) < 0)
			return -1;
		if (d[i].type == 'p') {
			struct stat st;
			if (fstat(target, &st) < 0 || !S_ISFIFO(st.st_mode))
				return sbx_error_setc(
				    err, EEXIST,
				    "linux.devices: \"%s\" exists in the root and is "
				    "not a fifo",
				    d[i].path);
			continue;
		}
		if (bind_device(target, &d[i], err) < 0)
			return -1;
	}
	return 0;
}
