/* test-caps.c - capability names, resolving profile sets, OCI parsing, and
 * applying sets in a child inside its own user namespace. */
#define _GNU_SOURCE
#include "runtime/caps.h"
#include "profile/profile.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define BIT(c) (UINT64_C(1) << (c))

static void test_names(void)
{
	size_t n = 0;
	const char *const *all = caps_all_names(&n);
	is_int(n, 41, "41 capability names (CAP_CHOWN..CAP_CHECKPOINT_RESTORE)");
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		int c = -1;
		if (all[i] == NULL || strncmp(all[i], "CAP_", 4) != 0 ||
		    caps_from_name(all[i], &c) < 0 || c != (int)i || caps_name((int)i) != all[i])
			bad++;
	}
	is_int(bad, 0, "every name round-trips");
	is_str(caps_name(0), "CAP_CHOWN", "0 is CAP_CHOWN");
	is_str(caps_name(21), "CAP_SYS_ADMIN", "21 is CAP_SYS_ADMIN");
	is_str(caps_name(40), "CAP_CHECKPOINT_RESTORE", "40 is CAP_CHECKPOINT_RESTORE");
	ok(caps_name(-1) == NULL && caps_name(41) == NULL, "out of range: NULL");

	static const char *const spellings[] = {"CAP_NET_RAW", "cap_net_raw", "NET_RAW",
	                                        "net_raw",     "Cap_Net_Raw", "nEt_RaW"};
	for (size_t i = 0; i < ARRAY_SIZE(spellings); i++) {
		int c = -1;
		ok(caps_from_name(spellings[i], &c) == 0 && c == 13, "\"%s\" is CAP_NET_RAW",
		   spellings[i]);
	}
	is_str(caps_canonical("sys_admin"), "CAP_SYS_ADMIN", "canonical of sys_admin");
	is_str(caps_canonical("CAP_bpf"), "CAP_BPF", "canonical of CAP_bpf");

	static const char *const unknown[] = {"CAP_FOO",      "",        "CAP_",          "ALL",
	                                      "CAP_NET_RAW ", "NET-RAW", "CAP_CAP_CHOWN", "41"};
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		int c = -7;
		ok(caps_from_name(unknown[i], &c) < 0 && c == -7, "\"%s\" is unknown", unknown[i]);
	}
	int c;
	ok(caps_from_name(NULL, &c) < 0 && caps_canonical(NULL) == NULL &&
	       caps_canonical("nope") == NULL,
	   "NULL and unknown names");
}

static void test_default(void)
{
	is_int(caps_default_mask(), 0xa80425fbULL, "Docker's default set (CapBnd a80425fb)");
	json_t *j = caps_mask_to_json(caps_default_mask());
	char *s = json_dumps(j, JSON_COMPACT);
	is_str(s,
	       "[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\","
	       "\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\","
	       "\"CAP_NET_RAW\",\"CAP_SYS_CHROOT\",\"CAP_MKNOD\",\"CAP_AUDIT_WRITE\","
	       "\"CAP_SETFCAP\"]",
	       "default set as JSON, in number order");
	free(s);
	json_decref(j);
	j = caps_mask_to_json(0);
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "[]", "empty mask: empty array");
	free(s);
	json_decref(j);
	j = caps_mask_to_json(BIT(40) | BIT(50) | BIT(63));
	s = json_dumps(j, JSON_COMPACT);
	is_str(s, "[\"CAP_CHECKPOINT_RESTORE\"]", "bits without a name are left out");
	free(s);
	json_decref(j);
}

static int resolve(enum sbx_caps_base base, char **add, char **drop, uint64_t *mask, char **msg)
{
	struct sbx_profile p;
	memset(&p, 0, sizeof(p));
	p.caps_base = base;
	p.cap_add = add;
	p.cap_drop = drop;
	struct sbx_error *err = NULL;
	*mask = 0xdead;
	int r = caps_resolve(p.caps_base == SBX_CAPS_NONE, p.cap_drop, p.cap_add, mask, &err);
	*msg = err ? xstrdup(err->msg) : NULL;
	sbx_error_free(err);
	return r;
}

static void test_resolve(void)
{
	uint64_t m;
	char *msg = NULL;
	uint64_t def = caps_default_mask();
	ok(resolve(SBX_CAPS_DEFAULT, NULL, NULL, &m, &msg) == 0 && m == def, "default base");
	ok(resolve(SBX_CAPS_NONE, NULL, NULL, &m, &msg) == 0 && m == 0, "none base");

	char *add_net_admin[] = {"CAP_NET_ADMIN", NULL};
	ok(resolve(SBX_CAPS_NONE, add_net_admin, NULL, &m, &msg) == 0 && m == BIT(12),
	   "none + NET_ADMIN");
	char *drop_raw[] = {"CAP_NET_RAW", "CAP_MKNOD", NULL};
	ok(resolve(SBX_CAPS_DEFAULT, NULL, drop_raw, &m, &msg) == 0 &&
	       m == (def & ~(BIT(13) | BIT(27))),
	   "default - NET_RAW - MKNOD");
	char *drop_all_late[] = {"CAP_KILL", "ALL", NULL};
	char *add_chown[] = {"CAP_CHOWN", NULL};
	ok(resolve(SBX_CAPS_DEFAULT, add_chown, drop_all_late, &m, &msg) == 0 && m == BIT(0),
	   "drop ALL (anywhere in the list) then add CHOWN");
	char *drop_all[] = {"all", NULL};
	ok(resolve(SBX_CAPS_DEFAULT, NULL, drop_all, &m, &msg) == 0 && m == 0,
	   "drop all, any case");
	char *add_all[] = {"ALL", NULL};
	ok(resolve(SBX_CAPS_NONE, add_all, NULL, &m, &msg) == 0 && m == (BIT(41) - 1),
	   "add ALL: every known capability");
	char *add_drop_same[] = {"CAP_SYS_ADMIN", NULL};
	char *drop_same[] = {"CAP_SYS_ADMIN", NULL};
	ok(resolve(SBX_CAPS_DEFAULT, add_drop_same, drop_same, &m, &msg) == 0 &&
	       m == (def | BIT(21)),
	   "add wins over drop of the same capability");

	char *add_typo[] = {"CAP_NET_RAWW", NULL};
	ok(resolve(SBX_CAPS_DEFAULT, add_typo, NULL, &m, &msg) < 0, "unknown cap_add fails");
	is_str(msg, "cap_add: unknown capability \"CAP_NET_RAWW\"; did you mean \"CAP_NET_RAW\"?",
	       "cap_add error");
	free(msg);
	char *drop_foo[] = {"CAP_KILL", "FOO", NULL};
	ok(resolve(SBX_CAPS_DEFAULT, NULL, drop_foo, &m, &msg) < 0, "unknown cap_drop fails");
	is_str(msg, "cap_drop: unknown capability \"FOO\"", "cap_drop error");
	free(msg);
	char *add_short[] = {"sys_admn", NULL};
	ok(resolve(SBX_CAPS_DEFAULT, add_short, NULL, &m, &msg) < 0, "prefix-less typo fails");
	is_str(msg, "cap_add: unknown capability \"sys_admn\"; did you mean \"CAP_SYS_ADMIN\"?",
	       "suggestion for a name without CAP_");
	free(msg);
}

static int from_oci(const char *text, struct sbx_capsets *c, char **msg)
{
	json_error_t je;
	json_t *j = text ? json_loads(text, 0, &je) : NULL;
	if (text && j == NULL) {
		printf("# bad test JSON: %s\n", je.text);
		return -2;
	}
	struct sbx_error *err = NULL;
	memset(c, 0xff, sizeof(*c));
	int r = caps_from_oci(j, c, &err);
	*msg = err ? xstrdup(err->msg) : NULL;
	sbx_error_free(err);
	json_decref(j);
	return r;
}

static void test_oci(void)
{
	struct sbx_capsets c;
	char *msg = NULL;
	ok(from_oci(NULL, &c, &msg) == 0 && c.bounding == 0 && c.effective == 0 &&
	       c.permitted == 0 && c.inheritable == 0 && c.ambient == 0,
	   "NULL: all empty");
	ok(from_oci("{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
	            "\"permitted\":[\"CAP_KILL\",\"CAP_KILL\"],\"inheritable\":[],"
	            "\"ambient\":[\"CAP_CHECKPOINT_RESTORE\"]}",
	            &c, &msg) == 0,
	   "a full object parses");
	ok(c.bounding == (BIT(0) | BIT(5)) && c.effective == BIT(5) && c.permitted == BIT(5) &&
	       c.inheritable == 0 && c.ambient == BIT(40),
	   "sets as given");
	ok(from_oci("{\"effective\":[\"CAP_SETUID\"]}", &c, &msg) == 0 && c.effective == BIT(7) &&
	       c.bounding == 0 && c.ambient == 0,
	   "missing sets are empty");

	static const struct {
		const char *json, *msg;
	} bad[] = {
	    {"{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_FOO\"]}",
	     "process.capabilities.bounding[2]: unknown capability \"CAP_FOO\""},
	    {"{\"boundin\":[]}",
	     "process.capabilities: unknown key \"boundin\"; did you mean \"bounding\"?"},
	    {"{\"bounding\":[],\"extra\":[]}", "process.capabilities: unknown key \"extra\""},
	    {"{\"permitted\":[\"cap_chown\"]}",
	     "process.capabilities.permitted[0]: unknown capability \"cap_chown\"; did you mean "
	     "\"CAP_CHOWN\"?"},
	    {"{\"permitted\":[\"CHOWN\"]}",
	     "process.capabilities.permitted[0]: unknown capability \"CHOWN\"; did you mean "
	     "\"CAP_CHOWN\"?"},
	    {"{\"effective\":\"CAP_CHOWN\"}", "process.capabilities.effective: expected an array"},
	    {"{\"effective\":null}", "process.capabilities.effective: expected an array"},
	    {"{\"ambient\":[1]}", "process.capabilities.ambient[0]: expected a string"},
	    {"[\"CAP_CHOWN\"]", "process.capabilities: expected an object"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ok(from_oci(bad[i].json, &c, &msg) == -1, "rejected: %s", bad[i].json);
		is_str(msg, bad[i].msg, "error message %zu", i);
		free(msg);
		msg = NULL;
	}
}

/* The runtime part, in a child that is root in a new user namespace. */

struct apply_case {
	const char *what;
	struct sbx_capsets c;
	bool switch_user;  /* to uid/gid 1000 with KEEPCAPS, as the runtime does */
	const char *error; /* expected error prefix, or NULL */
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Writes "OK\n" plus the Cap* lines of /proc/self/status, or "ERR msg". */
static void child(const struct apply_case *t, int sync_r, int out)
{
	char buf[4096];
	struct sbx_error *err = NULL;
	if (unshare(CLONE_NEWUSER) < 0) {
		dprintf(out, "SKIP unshare(CLONE_NEWUSER): %s", strerror(errno));
		_exit(0);
	}
	/* Tell the parent to write our maps, then wait for it. */
	if (write(out, "U", 1) != 1 || read(sync_r, buf, 1) != 1)
		_exit(3);
	if (t->switch_user) {
		/* The runtime's order: bounding while uid 0, then the switch. */
		if (caps_drop_bounding(&t->c, &err) < 0)
			goto fail;
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresgid(1000, 1000, 1000) < 0 ||
		    setresuid(1000, 1000, 1000) < 0) {
			dprintf(out, "ERR switch: %s", strerror(errno));
			_exit(0);
		}
	} else if (caps_drop_bounding(&t->c, &err) < 0) {
		goto fail;
	}
	if (caps_apply(&t->c, &err) < 0)
		goto fail;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		_exit(4);
	buf[n] = '\0';
	dprintf(out, "OK\n");
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "Uid:", 4) == 0)
			dprintf(out, "%s\n", line);
	_exit(0);
fail:
	dprintf(out, "ERR %s", err ? err->msg : "?");
	_exit(0);
}

static uint64_t status_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : UINT64_MAX;
}

static void run_case(const struct apply_case *t)
{
	int to_child[2], from_child[2];
	if (pipe2(to_child, O_CLOEXEC) < 0 || pipe2(from_child, O_CLOEXEC) < 0)
		abort();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(to_child[1]);
		close(from_child[0]);
		child(t, to_child[0], from_child[1]);
	}
	close(to_child[0]);
	close(from_child[1]);
	char out[4096] = "";
	size_t len = 0;
	ssize_t n = read(from_child[0], out, 1);
	if (n == 1 && out[0] == 'U') {
		/* Root may map a second id (for the user switch); a user maps only
		 * itself and must deny setgroups first. */
		char path[64], map[64];
		bool root = geteuid() == 0;
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		if (!root)
			write_str(path, "deny");
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		snprintf(map, sizeof(map), root ? "0 0 1\n1000 1000 1\n" : "0 %u 1\n", geteuid());
		int r = write_str(path, map);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		snprintf(map, sizeof(map), root ? "0 0 1\n1000 1000 1\n" : "0 %u 1\n", getegid());
		r |= write_str(path, map);
		if (r < 0)
			printf("# writing the maps failed: %s\n", strerror(errno));
		if (write(to_child[1], "G", 1) != 1)
			abort();
		out[0] = '\0';
	} else if (n == 1) {
		len = 1;
	}
	while ((n = read(from_child[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(to_child[1]);
	close(from_child[0]);
	int st;
	waitpid(pid, &st, 0);

	if (strncmp(out, "SKIP", 4) == 0) {
		printf("ok %d - # SKIP %s: %s\n", ++tap_n, t->what, out);
		return;
	}
	if (t->error) {
		ok(strncmp(out, "ERR ", 4) == 0 &&
		       strncmp(out + 4, t->error, strlen(t->error)) == 0,
		   "%s: fails with \"%s\"", t->what, t->error);
		if (strncmp(out + 4, t->error, strlen(t->error)) != 0)
			printf("#   got: %s\n", out);
		return;
	}
	if (strncmp(out, "OK\n", 3) != 0) {
		ok(0, "%s: %s", t->what, out);
		return;
	}
	uint64_t bnd = status_field(out, "CapBnd:"), eff = status_field(out, "CapEff:");
	uint64_t prm = status_field(out, "CapPrm:"), inh = status_field(out, "CapInh:");
	uint64_t amb = status_field(out, "CapAmb:");
	bool exact = bnd == t->c.bounding && eff == t->c.effective && prm == t->c.permitted &&
	             inh == t->c.inheritable && amb == t->c.ambient;
	ok(exact, "%s: /proc/self/status shows exactly the sets", t->what);
	if (!exact)
		printf("#   got bnd %llx eff %llx prm %llx inh %llx amb %llx\n",
		       (unsigned long long)bnd, (unsigned long long)eff, (unsigned long long)prm,
		       (unsigned long long)inh, (unsigned long long)amb);
	if (t->switch_user)
		ok(strstr(out, "Uid:\t1000\t1000\t1000\t1000") != NULL, "%s: running as uid 1000",
		   t->what);
}

static void test_apply(void)
{
	uint64_t def = caps_default_mask();
	uint64_t nbs = BIT(10), kill = BIT(5), chown = BIT(0), setpcap = BIT(8);
	const struct apply_case cases[] = {
	    {"default set", {def, def, def, 0, 0}, false, NULL},
	    {"nothing at all", {0, 0, 0, 0, 0}, false, NULL},
	    {"ambient NET_BIND_SERVICE",
	     {chown | kill | nbs | setpcap, kill, kill | nbs, nbs, nbs},
	     false,
	     NULL},
	    {"bounding only", {kill, 0, 0, 0, 0}, false, NULL},
	    {"effective not permitted",
	     {def, kill | nbs, kill, 0, 0},
	     false,
	     "effective capabilities must also be permitted: CAP_NET_BIND_SERVICE"},
	    {"ambient not inheritable",
	     {def, 0, kill | nbs, nbs, kill | nbs},
	     false,
	     "ambient capabilities must also be permitted and inheritable: CAP_KILL"},
	    {"inheritable outside the bounding set",
	     {kill, 0, chown, chown, 0},
	     false,
	     "inheritable capabilities must also be in the bounding set: CAP_CHOWN"},
	    {"switch to uid 1000, keep NET_BIND_SERVICE as ambient",
	     {def, nbs, nbs | kill, nbs, nbs},
	     true,
	     NULL},
	    {"switch to uid 1000, no capabilities", {def, 0, 0, 0, 0}, true, NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].switch_user && geteuid() != 0) {
			printf("ok %d - # SKIP %s: only root can map a second id\n", ++tap_n,
			       cases[i].what);
			continue;
		}
		run_case(&cases[i]);
	}
}

int main(void)
{
	test_names();
	test_default();
	test_resolve();
	test_oci();
	test_apply();
	return done_testing();
}
