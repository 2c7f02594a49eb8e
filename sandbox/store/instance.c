/* instance.c - instance directories and their names. */
#define _GNU_SOURCE
#include "store/instance.h"
#include "lib/json-text.h"
#include "runtime/config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

static const char *const adjectives[] = {
    "admiring", "agitated", "amazing",  "blissful", "bold",    "brave",     "busy",     "calm",
    "clever",   "cool",     "dazzling", "eager",    "elastic", "epic",      "fervent",  "focused",
    "friendly", "gallant",  "gifted",   "goofy",    "happy",   "hopeful",   "jolly",    "keen",
    "kind",     "loving",   "lucid",    "modest",   "nifty",   "nostalgic", "peaceful", "pensive",
    "quirky",   "relaxed",  "serene",   "sharp",    "stoic",   "sweet",     "tender",   "trusting",
    "upbeat",   "vibrant",  "wizardly", "youthful", "zealous", "zen",
};
static const char *const surnames[] = {
    "agnesi",  "albattani", "allen",    "archimedes", "babbage", "bardeen",  "bell",
    "bohr",    "cerf",      "curie",    "darwin",     "davinci", "dijkstra", "einstein",
    "euler",   "fermat",    "feynman",  "galileo",    "gauss",   "goodall",  "hamilton",
    "hopper",  "hypatia",   "johnson",  "kepler",     "knuth",   "lamport",  "lovelace",
    "mayer",   "mccarthy",  "meitner",  "newton",     "noether", "pascal",   "pike",
    "ritchie", "shannon",   "thompson", "torvalds",   "turing",  "wilson",   "wozniak",
};

int instance_name_validate(const char *name, const char **why)
{
	size_t n = strlen(name);
	if (n == 0 || n > 63) {
		*why = "an instance name must be 1 to 63 characters long";
		return -1;
	}
	if (!isalnum((unsigned char)name[0])) {
		*why = "an instance name must start with a letter or a digit";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(isalnum(c) || c == '_' || c == '.' || c == '-')) {
			*why = "an instance name may only contain letters, digits and \"_.-\"";
			return -1;
		}
	}
	return 0;
}

char *instance_generate_name(void)
{
	uint32_t r[2] = {0, 0};
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		r[0] = (uint32_t)getpid();
		r[1] = (uint32_t)time(NULL);
	}
	return xasprintf("%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)],
	                 surnames[r[1] % ARRAY_SIZE(surnames)]);
}

static int instances_dir(bool create, char **out, struct sbx_error **err)
{
	_cleanup_free_ char *data = NULL;
	if (xdg_data_dir(&data, err) < 0)
		return -1;
	_cleanup_free_ char *dir = xasprintf("%s/instances", data);
	if (create && mkdir_p(dir, 0700, err) < 0)
		return -1;
	*out = steal_ptr(dir);
	return 0;
}

void instance_free(struct sbx_instance *inst)
{
	if (inst == NULL)
		return;
	free(inst->name);
	free(inst->dir);
	free(inst->upper);
	free(inst->work);
	free(inst->rootfs);
	if (inst->dirfd >= 0)
		close(inst->dirfd);
	if (inst->lockfd >= 0)
		close(inst->lockfd);
	free(inst);
}

/* The runtime directory of NAME is an ephemeral instance's when it holds
 * its scratch mount point (made before the name appears) or instance.json;
 * a kept instance keeps just its state there. */
static bool ephemeral_exists(const char *runtime, const char *name)
{
	_cleanup_free_ char *scratch = xasprintf("%s/%s/scratch", runtime, name);
	_cleanup_free_ char *meta = xasprintf("%s/%s/instance.json", runtime, name);
	return access(scratch, F_OK) == 0 || access(meta, F_OK) == 0;
}

/* Live state left by a kept instance that is gone: state.json, but neither
 * instance.json (an ephemeral instance has it once created, and nothing
 * before) nor the instance's own directory. */
static bool stale_state(const char *runtime, const char *data, const char *name)
{
	_cleanup_free_ char *state = xasprintf("%s/%s/state.json", runtime, name);
	_cleanup_free_ char *dir = xasprintf("%s/%s", data, name);
	return access(state, F_OK) == 0 && !ephemeral_exists(runtime, name) &&
	       access(dir, F_OK) != 0 && errno == ENOENT;
}

static int name_taken(const char *name, struct sbx_error **err)
{
	return sbx_error_setc(err, EEXIST,
	                      "an instance named \"%s\" already exists; remove it with 'sbx rm "
	                      "%s' or choose another --name",
	                      name, name);
}

/* Whether fd, locked, is still the directory NAME in dfd: a directory
 * removed (or replaced) between the open and the lock is not. */
static bool still_there(int dfd, const char *name, int fd)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Removes the directory NAME in dfd if nobody holds its lock; *locked says
 * whether someone did. The lock is held while it goes. */
static int remove_unlocked(int dfd, const char *name, bool *locked)
{
	*locked = false;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		*locked = errno == EWOULDBLOCK;
		return -1;
	}
	if (!still_there(dfd, name, fd))
		return 0;
	return rm_rf_at(dfd, name, NULL);
}

/* An ephemeral instance nobody runs is the leftover of a crash (its
 * directory appears only locked): removed, so that the name is free. */
static bool reclaim_ephemeral(const char *runtime, const char *name)
{
	if (!ephemeral_exists(runtime, name))
		return false;
	_cleanup_close_ int rfd = open(runtime, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool locked;
	return rfd >= 0 && remove_unlocked(rfd, name, &locked) == 0;
}

/* Instance directories are made in BASE/.new, locked, filled, and only
 * then renamed to their name: one that nobody holds locked is never one
 * being made, always the leftover of a crash. What a crash leaves in .new
 * itself is removed by the next creation that finds .new not empty. */
#define STAGING ".new"

static void sweep_staging(int bfd)
{
	_cleanup_close_ int sfd =
	    openat(bfd, STAGING, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return;
	DIR *d = fdopendir(dup(sfd));
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			bool locked;
			(void)remove_unlocked(sfd, e->d_name, &locked);
		}
	}
	closedir(d);
	unlinkat(bfd, STAGING, AT_REMOVEDIR);
}

/* renameat2(RENAME_NOREPLACE), or where the filesystem lacks it (NFS) an
 * empty directory made first, which rename(2) replaces: EEXIST either way
 * when TO exists. */
static int move_noreplace(int bfd, const char *from, const char *to)
{
	if (renameat2(bfd, from, bfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	if (mkdirat(bfd, to, 0700) < 0)
		return -1;
	if (renameat(bfd, from, bfd, to) == 0)
		return 0;
	unlinkat(bfd, to, AT_REMOVEDIR);
	errno = EEXIST;
	return -1;
}

/* Removes a staged directory, and .new with it when nothing else is there. */
static void unstage(int bfd, const char *tmp)
{
	if (tmp[0])
		rm_rf_at(bfd, tmp, NULL);
	unlinkat(bfd, STAGING, AT_REMOVEDIR);
}

/* A fresh, locked directory in BASE/.new; its name in tmp, its fd in *fd. */
static int stage(int bfd, const char *base, char tmp[32], int *fd, struct sbx_error **err)
{
	for (int tries = 0; tries < 100; tries++) {
		if (mkdirat(bfd, STAGING, 0700) < 0 && errno != EEXIST)
			return sbx_error_set(err, errno, "cannot create \"%s/" STAGING "\"", base);
		uint64_t r = 0;
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ (uint64_t)tries;
		snprintf(tmp, 32, STAGING "/%016llx", (unsigned long long)r);
		/* ENOENT: another creation removed .new meanwhile. */
		if (mkdirat(bfd, tmp, 0700) < 0) {
			if (errno == ENOENT || errno == EEXIST)
				continue;
			return sbx_error_set(err, errno, "cannot create \"%s/%s\"", base, tmp);
		}
		int dfd = openat(bfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		/* A sweep that locked it first removes it: start again. */
		if (flock(dfd, LOCK_EX | LOCK_NB) < 0 || !still_there(bfd, tmp, dfd)) {
			close(dfd);
			continue;
		}
		*fd = dfd;
		return 0;
	}
	return sbx_error_set(err, EAGAIN, "cannot create a directory in \"%s/" STAGING "\"", base);
}

int instance_create(const char *name, bool ephemeral, struct sbx_instance **out,
                    struct sbx_error **err)
{
	const char *why;
	if (name && instance_name_validate(name, &why) < 0)
		return sbx_error_setc(err, EINVAL, "invalid instance name \"%s\": %s", name, why);
	_cleanup_free_ char *data = NULL, *runtime = NULL;
	if (instances_dir(!ephemeral, &data, err) < 0 || xdg_runtime_dir(&runtime, err) < 0)
		return -1;
	/* Names are shared by the two places. A kept instance's state
	 * directory may exist already (a stale one is reused), so it is
	 * checked, not taken, here. */
	const char *base = ephemeral ? runtime : data;
	_cleanup_close_ int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", base);
	char tmp[32];
	_cleanup_close_ int lockfd = -1;
	if (stage(bfd, base, tmp, &lockfd, err) < 0)
		return -1;
	/* An ephemeral instance has only a mount point for its scratch tmpfs. */
	static const char *const kept_dirs[] = {"upper", "work", "rootfs", NULL};
	static const char *const ephemeral_dirs[] = {"scratch", NULL};
	for (const char *const *sub = ephemeral ? ephemeral_dirs : kept_dirs; *sub; sub++) {
		if (mkdirat(lockfd, *sub, ephemeral ? 0700 : 0755) < 0) {
			int e = errno;
			unstage(bfd, tmp);
			return sbx_error_set(err, e, "cannot create \"%s/%s/%s\"", base, tmp, *sub);
		}
	}
	_cleanup_free_ char *chosen = NULL;
	bool reclaimed = false;
	for (int tries = 0;; tries++) {
		free(chosen);
		chosen = name ? xstrdup(name) : instance_generate_name();
		if (!name && tries >= 16) {
			free(chosen);
			char *g = instance_generate_name();
			chosen = xasprintf("%s_%d", g, tries);
			free(g);
		}
		_cleanup_free_ char *other = xasprintf("%s/%s", data, chosen);
		if (move_noreplace(bfd, tmp, chosen) == 0) {
			if (ephemeral ? access(other, F_OK) != 0
			              : !ephemeral_exists(runtime, chosen) ||
			                    reclaim_ephemeral(runtime, chosen))
				break;
			/* Taken in the other place: back to staging. */
			if (move_noreplace(bfd, chosen, tmp) < 0) {
				rm_rf_at(bfd, chosen, NULL);
				tmp[0] = '\0';
			}
		} else if (errno != EEXIST) {
			int e = errno;
			unstage(bfd, tmp);
			return sbx_error_set(err, e, "cannot create \"%s/%s\"", base, chosen);
		} else if (ephemeral && name && !reclaimed &&
		           (stale_state(runtime, data, name) || reclaim_ephemeral(runtime, name))) {
			/* The state of a kept instance whose directory is gone,
			 * or an ephemeral one's crash: the name is free. */
			reclaimed = true;
			if (rm_rf_at(bfd, name, NULL) == 0) {
				tries--;
				continue;
			}
		}
		if (name || tmp[0] == '\0') {
			unstage(bfd, tmp);
			return name ? name_taken(name, err)
			            : sbx_error_set(err, errno,
			                            "cannot create an instance in \"%s\"", base);
		}
	}
	/* Nothing else is in .new unless another creation runs or crashed. */
	if (unlinkat(bfd, STAGING, AT_REMOVEDIR) < 0 && errno == ENOTEMPTY)
		sweep_staging(bfd);
	_cleanup_instance_ struct sbx_instance *inst = xcalloc(1, sizeof(*inst));
	inst->dirfd = -1;
	inst->lockfd = steal_fd(lockfd);
	inst->name = steal_ptr(chosen);
	inst->dir = xasprintf("%s/%s", base, inst->name);
	inst->ephemeral = ephemeral;
	if (ephemeral) {
		inst->rootfs = xasprintf("%s/scratch", inst->dir);
		*out = steal_ptr(inst);
		return 0;
	}
	inst->upper = xasprintf("%s/upper", inst->dir);
	inst->work = xasprintf("%s/work", inst->dir);
	inst->rootfs = xasprintf("%s/rootfs", inst->dir);
	inst->dirfd = open(inst->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (inst->dirfd < 0) {
		int e = errno;
		instance_remove(inst, NULL);
		return sbx_error_set(err, e, "cannot open \"%s\"", inst->dir);
	}
	*out = steal_ptr(inst);
	return 0;
}

int instance_dirfd(struct sbx_instance *inst, struct sbx_error **err)
{
	if (inst->dirfd < 0)
		inst->dirfd = open(inst->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (inst->dirfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", inst->dir);
	return inst->dirfd;
}

static int write_text(struct sbx_instance *inst, const char *file, const char *text, size_t len,
                      struct sbx_error **err)
{
	int dfd = instance_dirfd(inst, err);
	if (dfd < 0)
		return -1;
	if (write_file_atomic(dfd, file, text, len, 0600, err) < 0)
		return sbx_error_prefix(err, "\"%s\"", inst->dir);
	return 0;
}

static int write_json(struct sbx_instance *inst, const char *file, json_t *j,
                      struct sbx_error **err)
{
	size_t len = 0;
	_cleanup_free_ char *text = json_text(j, &len);
	if (text == NULL)
		return sbx_error_set(err, ENOMEM, "cannot serialise \"%s\"", file);
	return write_text(inst, file, text, len, err);
}

int instance_write_config(struct sbx_instance *inst, json_t *config, struct sbx_error **err)
{
	return write_json(inst, "config.json", config, err);
}

int instance_write_config_text(struct sbx_instance *inst, const char *text, size_t len,
                               struct sbx_error **err)
{
	return write_text(inst, "config.json", text, len, err);
}

int instance_write_meta(struct sbx_instance *inst, json_t *meta, struct sbx_error **err)
{
	return write_json(inst, "instance.json", meta, err);
}

int instance_need_upper(const struct sbx_instance *inst, struct sbx_error **err)
{
	if (!inst->ephemeral)
		return 0;
	return sbx_error_setc(err, ENOTSUP,
	                      "instance \"%s\" keeps its changes in memory (sbx run --rm) and "
	                      "loses them when it stops; to keep them, run with --rm --scratch "
	                      "disk, or without --rm",
	                      inst->name);
}

int instance_remove(struct sbx_instance *inst, struct sbx_error **err)
{
	_cleanup_free_ char *parent = xstrdup(inst->dir);
	char *slash = strrchr(parent, '/');
	*slash = '\0';
	_cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", parent);
	/* An ephemeral instance's directory holds sbx's own files and an empty
	 * scratch mount point (its upper layer was in memory): removed by
	 * name, a dozen system calls fewer than reading the tree. Anything
	 * else in it (an upper layer on disk, --scratch disk) makes the
	 * directory's removal fail, and the tree is removed as any other. */
	if (inst->ephemeral) {
		static const char *const files[] = {"state.json", "config.json", "instance.json",
		                                    "hosts", "resolv.conf"};
		/* The directory its files were written in, if still open. */
		_cleanup_close_ int opened =
		    inst->dirfd >= 0
		        ? -1
		        : openat(pfd, inst->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int dfd = inst->dirfd >= 0 ? inst->dirfd : opened;
		if (dfd >= 0) {
			for (size_t i = 0; i < ARRAY_SIZE(files); i++)
				(void)unlinkat(dfd, files[i], 0);
			(void)unlinkat(dfd, "scratch", AT_REMOVEDIR);
		}
		if (dfd >= 0 && unlinkat(pfd, inst->name, AT_REMOVEDIR) == 0)
			return 0;
	}
	if (rm_rf_at(pfd, inst->name, err) < 0)
		return sbx_error_prefix(err, "cannot remove instance \"%s\"", inst->name);
	return 0;
}

int instance_open(const char *name, struct sbx_instance **out, struct sbx_error **err)
{
	const char *why;
	if (instance_name_validate(name, &why) < 0)
		return sbx_error_setc(err, EINVAL, "invalid instance name \"%s\": %s", name, why);
	_cleanup_free_ char *base = NULL;
	if (instances_dir(true, &base, err) < 0)
		return -1;
	_cleanup_instance_ struct sbx_instance *inst = xcalloc(1, sizeof(*inst));
	inst->lockfd = -1;
	inst->name = xstrdup(name);
	inst->dir = xasprintf("%s/%s", base, name);
	inst->dirfd = open(inst->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *runtime = NULL;
	if (inst->dirfd < 0 && errno == ENOENT && xdg_runtime_dir(&runtime, NULL) == 0 &&
	    ephemeral_exists(runtime, name)) {
		free(inst->dir);
		inst->dir = xasprintf("%s/%s", runtime, name);
		inst->ephemeral = true;
		inst->dirfd = open(inst->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (!inst->ephemeral) {
		inst->upper = xasprintf("%s/upper", inst->dir);
		inst->work = xasprintf("%s/work", inst->dir);
		inst->rootfs = xasprintf("%s/rootfs", inst->dir);
	} else {
		inst->rootfs = xasprintf("%s/scratch", inst->dir);
	}
	if (inst->dirfd < 0 && errno == ENOENT)
		return sbx_error_setc(err, ENOENT, "instance \"%s\" not found; see 'sbx ps -a'",
		                      name);
	if (inst->dirfd < 0)
		return sbx_error_set(err, errno, "cannot open \"%s\"", inst->dir);
	*out = steal_ptr(inst);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the instance directories in DIR; with runtime, only ephemeral ones. */
static int list_dir(const char *base, bool runtime, char ***v, struct sbx_error **err)
{
	DIR *d = opendir(base);
	if (d == NULL)
		return sbx_error_set(err, errno, "cannot read \"%s\"", base);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *why;
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		if (instance_name_validate(e->d_name, &why) < 0)
			continue;
		if (runtime && !ephemeral_exists(base, e->d_name))
			continue;
		strv_push(v, e->d_name);
	}
	closedir(d);
	return 0;
}

int instance_list(char ***names, struct sbx_error **err)
{
	_cleanup_free_ char *base = NULL, *runtime = NULL;
	if (instances_dir(true, &base, err) < 0)
		return -1;
	char **v = xcalloc(1, sizeof(char *));
	if (list_dir(base, false, &v, err) < 0 ||
	    (xdg_runtime_dir(&runtime, NULL) == 0 && list_dir(runtime, true, &v, err) < 0)) {
		strv_free(v);
		return -1;
	}
	qsort(v, strv_length(v), sizeof(char *), cmp_names);
	*names = v;
	return 0;
}

int instance_read_meta(struct sbx_instance *inst, json_t **out, struct sbx_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/instance.json", inst->dir);
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		return sbx_error_setc(err, EINVAL, "%s:%d:%d: %s", path, je.line, je.column,
		                      je.text);
	*out = j;
	return 0;
}

int instance_read_config(struct sbx_instance *inst, struct sbx_config **out, struct sbx_error **err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", inst->dir);
	json_t *j = NULL;
	int r = config_load_file(path, &j, err);
	if (r == 0)
		r = config_parse(j, out, err);
	json_decref(j);
	return r;
}

/* Sets the string at j[key] to to when it is from; whether it was. */
static bool swap_string(json_t *j, const char *key, const char *from, const char *to)
{
	const char *v = json_string_value(json_object_get(j, key));
	if (v == NULL || strcmp(v, from) != 0)
		return false;
	json_object_set_new(j, key, json_string(to));
	return true;
}

int instance_rebase(const char *from_rootfs, const char *from_name, const char *to_name,
                    const char *to_rootfs, size_t *n, struct sbx_error **err)
{
	*n = 0;
	_cleanup_strv_ char **names = NULL;
	if (instance_list(&names, err) < 0)
		return -1;
	for (size_t i = 0; names[i]; i++) {
		_cleanup_instance_ struct sbx_instance *inst = NULL;
		struct sbx_error *skip = NULL;
		if (instance_open(names[i], &inst, &skip) < 0) {
			sbx_error_free(skip);
			continue;
		}
		_cleanup_free_ char *path = xasprintf("%s/config.json", inst->dir);
		json_t *config = NULL, *meta = NULL;
		if (config_load_file(path, &config, &skip) < 0) {
			/* One being made: its lower is not mounted from here. */
			sbx_error_free(skip);
			continue;
		}
		bool used = swap_string(json_object_get(config, "annotations"), SBX_ANN_LOWER,
		                        from_rootfs, to_rootfs);
		used |=
		    swap_string(json_object_get(config, "root"), "path", from_rootfs, to_rootfs);
		int r = 0;
		if (used) {
			r = instance_write_config(inst, config, err);
			if (r == 0 && instance_read_meta(inst, &meta, &skip) == 0) {
				swap_string(meta, "rootfs", from_rootfs, to_rootfs);
				swap_string(meta, "image", from_name, to_name);
				r = instance_write_meta(inst, meta, err);
			}
			sbx_error_free(steal_ptr(skip));
			(*n)++;
		}
		json_decref(config);
		json_decref(meta);
		if (r < 0)
			return sbx_error_prefix(err, "instance \"%s\"", inst->name);
	}
	return 0;
}
