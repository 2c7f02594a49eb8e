/* test-instance.c - instance names, and instance directories: created
 * locked under a staging name, one name shared by kept and ephemeral
 * instances, a crash's leftovers reclaimed, opened, listed, removed. */
#define _GNU_SOURCE
#include "store/instance.h"
#include "store/state.h"
#include "lib/util.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static char *base, *data, *runtime;

static bool exists(const char *fmt, const char *a, const char *b)
{
	char *p = xasprintf(fmt, a, b);
	struct stat st;
	bool r = lstat(p, &st) == 0;
	free(p);
	return r;
}

static bool running(const char *dir)
{
	bool r = false;
	struct sbx_error *err = NULL;
	if (state_is_running(dir, &r, &err) < 0) {
		sbx_error_free(err);
		return false;
	}
	return r;
}

static void test_names(void)
{
	const char *why = NULL;
	static const char *const good[] = {"a",       "0",       "box", "goofy_davinci",
	                                   "web-1.2", "A_B-c.d", "x--", "9lives"};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		ok(instance_name_validate(good[i], &why) == 0, "\"%s\" is a name", good[i]);
	char long_name[65];
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	ok(instance_name_validate(long_name, &why) < 0, "64 characters are too many");
	is_str(why, "an instance name must be 1 to 63 characters long", "why");
	long_name[63] = '\0';
	ok(instance_name_validate(long_name, &why) == 0, "63 are fine");
	ok(instance_name_validate("", &why) < 0, "empty is refused");
	is_str(why, "an instance name must be 1 to 63 characters long", "why");

	static const char *const bad_start[] = {"-rf", ".", "..", ".hidden", "_x", " x"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_start); i++) {
		why = NULL;
		ok(instance_name_validate(bad_start[i], &why) < 0, "\"%s\" is refused",
		   bad_start[i]);
		is_str(why, "an instance name must start with a letter or a digit", "why");
	}
	static const char *const bad_char[] = {"a/b", "a b",         "a:b",       "a\nb",
	                                       "a*",  "caf\xc3\xa9", "x\x1b[31m", "a\\b"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_char); i++) {
		why = NULL;
		ok(instance_name_validate(bad_char[i], &why) < 0, "name %zu with a bad character",
		   i);
		is_str(why, "an instance name may only contain letters, digits and \"_.-\"", "why");
	}

	regex_t re;
	regcomp(&re, "^[a-z]+_[a-z]+$", REG_EXTENDED | REG_NOSUB);
	int fine = 0;
	for (int i = 0; i < 50; i++) {
		char *g = instance_generate_name();
		fine += regexec(&re, g, 0, NULL, 0) == 0 && instance_name_validate(g, &why) == 0;
		free(g);
	}
	regfree(&re);
	is_int(fine, 50, "generated names are adjective_surname and valid");
}

static void test_create(void)
{
	struct sbx_error *err = NULL;
	struct sbx_instance *a = NULL;

	ok(instance_create("box", false, &a, &err) == 0, "create a kept instance");
	char *dir = xasprintf("%s/sbx/instances/box", data);
	is_str(a->name, "box", "name");
	is_str(a->dir, dir, "under $XDG_DATA_HOME/sbx/instances");
	char *p = xasprintf("%s/upper", dir);
	is_str(a->upper, p, "upper");
	free(p);
	p = xasprintf("%s/work", dir);
	is_str(a->work, p, "work");
	free(p);
	p = xasprintf("%s/rootfs", dir);
	is_str(a->rootfs, p, "rootfs");
	free(p);
	ok(!a->ephemeral, "not ephemeral");
	ok(a->dirfd >= 0 && a->lockfd >= 0, "an fd and the lock");
	ok(exists("%s/%s", dir, "upper") && exists("%s/%s", dir, "work") &&
	       exists("%s/%s", dir, "rootfs"),
	   "upper, work and rootfs exist");
	ok(running(dir), "its lock is held from the start");
	ok(!exists("%s/sbx/instances/%s", data, ".new"), "nothing is left in staging");
	ok(instance_need_upper(a, &err) == 0, "a kept instance has an upper layer");

	/* The name is taken, kept or ephemeral. */
	struct sbx_instance *b = NULL;
	ok(instance_create("box", false, &b, &err) < 0 && b == NULL, "the same name again fails");
	ok(err && err->code == EEXIST, "EEXIST");
	is_str(err ? err->msg : NULL,
	       "an instance named \"box\" already exists; remove it with 'sbx rm box' or choose "
	       "another --name",
	       "message");
	sbx_error_free(err);
	err = NULL;
	ok(instance_create("box", true, &b, &err) < 0 && err && err->code == EEXIST,
	   "an ephemeral instance cannot take a kept one's name");
	sbx_error_free(err);
	err = NULL;
	ok(!exists("%s/sbx/%s", runtime, "box") && !exists("%s/sbx/%s", runtime, ".new"),
	   "and leaves nothing in the runtime directory");
	ok(!exists("%s/sbx/instances/%s", data, ".new"), "nor in staging");

	/* Invalid names never reach the disk. */
	ok(instance_create("../evil", false, &b, &err) < 0 && err && err->code == EINVAL,
	   "an invalid name: EINVAL");
	is_str(err ? err->msg : NULL,
	       "invalid instance name \"../evil\": an instance name must start with a letter or a "
	       "digit",
	       "message");
	sbx_error_free(err);
	err = NULL;
	ok(!exists("%s/sbx/%s", data, "evil") && !exists("%s/%s", base, "evil"), "nothing made");

	/* Ephemeral: in the runtime directory, a scratch mount point only. */
	struct sbx_instance *e = NULL;
	ok(instance_create("eph", true, &e, &err) == 0, "create an ephemeral instance");
	char *edir = xasprintf("%s/sbx/eph", runtime);
	is_str(e->dir, edir, "under $XDG_RUNTIME_DIR/sbx");
	p = xasprintf("%s/scratch", edir);
	is_str(e->rootfs, p, "rootfs is its scratch mount point");
	free(p);
	ok(e->ephemeral && e->upper == NULL && e->work == NULL, "ephemeral, no upper or work");
	ok(exists("%s/%s", edir, "scratch") && !exists("%s/%s", edir, "upper"), "only scratch");
	ok(running(edir), "locked");
	ok(!exists("%s/sbx/instances/%s", data, "eph"), "nothing under the data directory");
	ok(instance_need_upper(e, &err) < 0 && err && err->code == ENOTSUP,
	   "need_upper refuses it");
	is_str(err ? err->msg : NULL,
	       "instance \"eph\" keeps its changes in memory (sbx run --rm) and loses them when it "
	       "stops; to keep them, run with --rm --scratch disk, or without --rm",
	       "message");
	sbx_error_free(err);
	err = NULL;
	/* While it runs, a kept instance cannot take its name... */
	ok(instance_create("eph", false, &b, &err) < 0 && err && err->code == EEXIST,
	   "a kept instance cannot take a running ephemeral one's name");
	sbx_error_free(err);
	err = NULL;
	ok(exists("%s/%s", edir, "scratch"), "the running one is untouched");
	ok(!exists("%s/sbx/instances/%s", data, "eph"), "no kept directory was left");
	/* ...but once it is gone without clean-up (a crash), the name is free. */
	instance_free(e);
	ok(instance_create("eph", false, &b, &err) == 0, "after a crash, the name is reclaimed");
	ok(!exists("%s/sbx/%s", runtime, "eph"), "the leftover ephemeral directory is removed");
	ok(b && instance_remove(b, &err) == 0, "removed");
	instance_free(b);
	b = NULL;

	/* A kept instance's stale state (its directory gone) frees the name
	 * for an ephemeral one. */
	char *sdir = xasprintf("%s/sbx/ghost", runtime);
	mkdir(sdir, 0700);
	char *sfile = xasprintf("%s/state.json", sdir);
	int fd = open(sfile, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	ok(instance_create("ghost", true, &b, &err) == 0,
	   "stale state of a kept instance is reused");
	ok(b && b->ephemeral && exists("%s/%s", sdir, "scratch") &&
	       !exists("%s/%s", sdir, "state.json"),
	   "as a fresh ephemeral instance");
	ok(b && instance_remove(b, &err) == 0 && !exists("%s/%s", sdir, ""), "removed");
	instance_free(b);
	b = NULL;
	free(sfile);
	free(sdir);

	/* Generated names. */
	ok(instance_create(NULL, false, &b, &err) == 0, "a generated name");
	const char *why;
	ok(b && instance_name_validate(b->name, &why) == 0 && exists("%s/%s", b->dir, "upper"),
	   "valid, and made: %s", b ? b->name : "(none)");
	ok(b && instance_remove(b, &err) == 0, "removed");
	instance_free(b);
	b = NULL;

	/* A crash's leftovers in staging go with the next creation; a staged
	 * directory someone holds locked (a creation in progress) stays. */
	char *stage = xasprintf("%s/sbx/instances/.new", data);
	mkdir(stage, 0700);
	char *left = xasprintf("%s/0123456789abcdef", stage);
	mkdir(left, 0700);
	char *deep = xasprintf("%s/upper", left);
	mkdir(deep, 0000);
	char *busy = xasprintf("%s/fedcba9876543210", stage);
	mkdir(busy, 0700);
	int busyfd = open(busy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ok(busyfd >= 0 && flock(busyfd, LOCK_EX) == 0, "a staged directory, locked");
	ok(instance_create("next", false, &b, &err) == 0, "created beside a crash's leftovers");
	ok(!exists("%s/%s", left, ""), "the unlocked leftover is gone");
	ok(exists("%s/%s", busy, ""), "the locked one stays");
	close(busyfd);
	ok(b && instance_remove(b, &err) == 0, "removed");
	instance_free(b);
	b = NULL;
	ok(instance_create("next", false, &b, &err) == 0, "created again");
	ok(!exists("%s/%s", stage, ""), "staging is empty and gone");
	ok(b && instance_remove(b, &err) == 0, "removed");
	instance_free(b);
	free(stage);
	free(left);
	free(deep);
	free(busy);

	instance_free(a);
	free(edir);
	free(dir);
	ok(err == NULL, "no error left over");
}

static void test_open_list(void)
{
	struct sbx_error *err = NULL;
	struct sbx_instance *a = NULL, *e = NULL, *o = NULL;
	ok(instance_create("kept1", false, &a, &err) == 0, "kept1");
	ok(instance_create("eph1", true, &e, &err) == 0, "eph1");
	/* Live state of a kept instance is no instance of its own. */
	char *st = xasprintf("%s/sbx/kept1", runtime);
	mkdir(st, 0700);
	/* Nor are invalid names or files. */
	char *junk = xasprintf("%s/sbx/instances/-junk", data);
	mkdir(junk, 0700);
	char *file = xasprintf("%s/sbx/instances/afile", data);
	close(open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));

	char **names = NULL;
	ok(instance_list(&names, &err) == 0, "list");
	char *joined = xstrdup("");
	for (size_t i = 0; names && names[i]; i++) {
		char *t = xasprintf("%s%s%s", joined, i ? " " : "", names[i]);
		free(joined);
		joined = t;
	}
	is_str(joined, "box eph1 kept1", "sorted, kept and ephemeral, once each");
	free(joined);
	strv_free(names);

	ok(instance_open("kept1", &o, &err) == 0, "open kept1");
	is_str(o->dir, a->dir, "its directory");
	ok(!o->ephemeral && o->upper && o->dirfd >= 0 && o->lockfd == -1,
	   "kept, not locked by opening");
	instance_free(o);
	o = NULL;
	ok(instance_open("eph1", &o, &err) == 0, "open eph1");
	ok(o->ephemeral && o->upper == NULL, "found in the runtime directory, ephemeral");
	is_str(o->rootfs, e->rootfs, "its scratch");
	instance_free(o);
	o = NULL;

	ok(instance_open("nope", &o, &err) < 0 && o == NULL && err && err->code == ENOENT,
	   "a missing instance: ENOENT");
	is_str(err ? err->msg : NULL, "instance \"nope\" not found; see 'sbx ps -a'", "message");
	sbx_error_free(err);
	err = NULL;
	ok(instance_open("a/../box", &o, &err) < 0 && err && err->code == EINVAL,
	   "a path is no name");
	sbx_error_free(err);
	err = NULL;
	/* A symlink in place of an instance is not followed. */
	char *link = xasprintf("%s/sbx/instances/linked", data);
	if (symlink(a->dir, link) < 0)
		abort();
	ok(instance_open("linked", &o, &err) < 0 && err, "a symlinked instance is refused");
	sbx_error_free(err);
	err = NULL;
	unlink(link);
	free(link);

	/* instance.json and config.json. */
	json_t *meta = json_pack("{s:s, s:[s]}", "image", "busybox", "cmd", "sh");
	ok(instance_write_meta(a, meta, &err) == 0, "write instance.json");
	json_t *back = NULL;
	ok(instance_read_meta(a, &back, &err) == 0 && json_equal(meta, back), "read it back");
	json_decref(back);
	json_decref(meta);
	char *mpath = xasprintf("%s/instance.json", a->dir);
	struct stat sb;
	ok(stat(mpath, &sb) == 0 && (sb.st_mode & 07777) == 0600, "mode 0600");
	FILE *f = fopen(mpath, "we");
	fputs("{\"image\": \"a\", \"image\": \"b\"}", f);
	fclose(f);
	ok(instance_read_meta(a, &back, &err) < 0 && err && err->code == EINVAL,
	   "duplicate keys are refused");
	ok(err && str_startswith(err->msg, mpath), "the message names the file: %s",
	   err ? err->msg : "");
	sbx_error_free(err);
	err = NULL;
	free(mpath);

	json_t *cfg = json_loads(
	    "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"/r\"}, \"process\": {\"args\": "
	    "[\"sh\"], \"cwd\": \"/\"}, \"linux\": {\"uidMappings\": [{\"containerID\": 0, "
	    "\"hostID\": 1000, \"size\": 1}], \"gidMappings\": [{\"containerID\": 0, \"hostID\": "
	    "1000, \"size\": 1}], \"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}]}}",
	    0, NULL);
	ok(cfg != NULL, "a config");
	ok(instance_write_config(a, cfg, &err) == 0, "write config.json");
	struct sbx_config *c = NULL;
	ok(instance_read_config(a, &c, &err) == 0 && c && c->n_uid_maps == 1 &&
	       c->uid_maps[0].host == 1000,
	   "read and parsed back");
	config_free(c);
	json_decref(cfg);

	ok(instance_remove(a, &err) == 0, "remove kept1");
	ok(!exists("%s/%s", a->dir, ""), "gone");
	ok(instance_remove(e, &err) == 0, "remove eph1");
	ok(!exists("%s/%s", e->dir, ""), "gone");
	instance_free(a);
	instance_free(e);
	rmdir(st);
	rmdir(junk);
	unlink(file);
	free(st);
	free(junk);
	free(file);
	ok(err == NULL, "no error left over");
}

static void rm_tree(const char *path)
{
	char *cmd = xasprintf("chmod -R u+rwX '%s'; rm -rf '%s'", path, path);
	if (system(cmd) != 0)
		abort();
	free(cmd);
}

int main(void)
{
	char tmpl[] = "/tmp/sbx-test-instance-XXXXXX";
	if (mkdtemp(tmpl) == NULL)
		return 1;
	base = xstrdup(tmpl);
	data = xasprintf("%s/data", base);
	runtime = xasprintf("%s/run", base);
	mkdir(runtime, 0700);
	setenv("XDG_DATA_HOME", data, 1);
	setenv("XDG_RUNTIME_DIR", runtime, 1);

	test_names();
	test_create();
	test_open_list();

	rm_tree(base);
	free(runtime);
	free(data);
	free(base);
	return done_testing();
}
