/* test-hooks.c - config.json's "hooks" as sbx-oci reads them (every kind,
 * its args, env and timeout; what is wrong refused by name) and the state a
 * hook reads; runc update's resources (runtime/cgroup.c) likewise. */
#define _GNU_SOURCE
#include "runtime/cgroup.h"
#include "runtime/hooks.h"
#include "lib/util.h"
#include "tap.h"

/* The error hooks_parse gives for text, or NULL when it parses. */
static char *hooks_error(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (j == NULL)
		return xasprintf("bad test JSON: %s", je.text);
	struct sbx_hooks h;
	struct sbx_error *e = NULL;
	int r = hooks_parse(j, &h, &e);
	hooks_free(&h);
	json_decref(j);
	char *msg = r < 0 ? xstrdup(e ? e->msg : "(no message)") : NULL;
	sbx_error_free(e);
	return msg;
}

static void test_parse(void)
{
	json_t *j = json_loads("{\"prestart\": [{\"path\": \"/a\"}],"
	                       " \"createRuntime\": [{\"path\": \"/b\", \"args\": [\"b\", \"1\"],"
	                       "                      \"env\": [\"K=V\"], \"timeout\": 5}],"
	                       " \"createContainer\": [], \"startContainer\": [{\"path\": \"/c\"}],"
	                       " \"poststart\": [{\"path\": \"/d\"}, {\"path\": \"/e\"}],"
	                       " \"poststop\": [{\"path\": \"/f\"}]}",
	                       0, NULL);
	struct sbx_hooks h;
	struct sbx_error *e = NULL;
	ok(hooks_parse(j, &h, &e) == 0, "every kind parses");
	is_int(hooks_count(&h), 6, "six hooks");
	is_int(h.n[SBX_HOOK_PRESTART], 1, "one prestart");
	is_int(h.n[SBX_HOOK_CREATE_CONTAINER], 0, "no createContainer");
	is_int(h.n[SBX_HOOK_POSTSTART], 2, "two poststart");
	is_str(h.list[SBX_HOOK_POSTSTART][1].path, "/e", "in order");
	const struct sbx_hook *cr = &h.list[SBX_HOOK_CREATE_RUNTIME][0];
	is_str(cr->args[1], "1", "args");
	is_str(cr->env[0], "K=V", "env");
	ok(cr->env[1] == NULL, "env ends");
	is_int(cr->timeout, 5, "timeout");
	const struct sbx_hook *pre = &h.list[SBX_HOOK_PRESTART][0];
	ok(pre->args && pre->args[0] == NULL, "no args: an empty list (the path is argv[0])");
	ok(pre->env == NULL, "no env: NULL (the runner decides)");
	is_int(pre->timeout, 0, "no timeout");
	hooks_free(&h);
	is_int(hooks_count(&h), 0, "freed");
	json_decref(j);
	ok(hooks_parse(NULL, &h, &e) == 0 && hooks_count(&h) == 0, "no hooks");
	is_str(hooks_kind_name(SBX_HOOK_START_CONTAINER), "startContainer", "kind names");
}

static void test_refused(void)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
	    {"[]", "hooks: expected an object"},
	    {"{\"preStart\": []}", "hooks: unknown hook kind \"preStart\""},
	    {"{\"poststop\": {}}", "hooks.poststop: expected an array"},
	    {"{\"poststop\": [{\"args\": []}]}", "hooks.poststop[0]: Object item not found: path"},
	    {"{\"poststop\": [{\"path\": \"x\"}]}",
	     "hooks.poststop[0].path: \"x\" is not an absolute path"},
	    {"{\"poststop\": [{\"path\": \"/x\", \"timeout\": 0}]}",
	     "hooks.poststop[0].timeout: 0 is not a number of seconds greater than zero"},
	    {"{\"poststop\": [{\"path\": \"/x\", \"timeout\": -3}]}",
	     "hooks.poststop[0].timeout: -3 is not a number of seconds greater than zero"},
	    {"{\"poststop\": [{\"path\": \"/x\", \"args\": [1]}]}",
	     "hooks.poststop[0].args[0]: expected a string"},
	    {"{\"poststop\": [{\"path\": \"/x\", \"env\": \"A=B\"}]}",
	     "hooks.poststop[0].env: expected an array of strings"},
	    {"{\"poststop\": [{\"path\": \"/x\", \"when\": 1}]}",
	     "hooks.poststop[0]: 1 object item(s) left unpacked: when"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *msg = hooks_error(cases[i].json);
		is_str(msg, cases[i].msg, "refused: %s", cases[i].json);
		free(msg);
	}
}

static void test_state(void)
{
	json_t *base = json_pack("{s:s, s:s, s:i, s:s}", "ociVersion", "1.0.2", "id", "c1", "pid",
	                         42, "bundle", "/b");
	char *s = hooks_state(base, "created");
	json_t *j = json_loads(s, 0, NULL);
	is_str(json_string_value(json_object_get(j, "status")), "created", "status set");
	is_int(json_integer_value(json_object_get(j, "pid")), 42, "pid kept");
	ok(json_object_get(base, "status") == NULL, "the base is left alone");
	json_decref(j);
	free(s);
	json_decref(base);
}

static void test_resources(void)
{
	struct sbx_resources r;
	struct sbx_error *e = NULL;
	json_t *j = json_loads("{\"memory\": {\"limit\": 1048576, \"swap\": -1},"
	                       " \"cpu\": {\"quota\": 50000, \"cpus\": \"0-1\"},"
	                       " \"pids\": {\"limit\": 10}}",
	                       0, NULL);
	ok(cgroup_resources_parse_update(j, &r, &e) == 0, "runc's resources parse");
	is_int(r.mem_limit, 1048576, "memory.limit");
	ok(r.mem_swap == CGROUP_RESET, "memory.swap -1: no limit");
	is_int(r.pids_limit, 10, "pids.limit");
	is_int(r.cpu_quota, 50000, "cpu.quota");
	ok(r.cpu_period == -1, "cpu.period not given");
	is_str(r.cpus, "0-1", "cpu.cpus");
	ok(r.mems == NULL, "cpu.mems not given");
	json_decref(j);
	cgroup_resources_free(&r);
	static const struct {
		const char *json, *msg;
	} cases[] = {
	    {"{\"devices\": []}", "resources: \"devices\" cannot be updated"},
	    {"{\"memory\": {\"kernel\": 1}}", "resources.memory.kernel cannot be updated"},
	    {"{\"pids\": {\"limit\": \"10\"}}", "linux.resources.pids.limit: expected an integer"},
	    {"{\"memory\": {\"limit\": -2}}", "linux.resources.memory: a limit below -1"},
	    {"{\"cpu\": {\"cpus\": 1}}", "linux.resources.cpu.cpus: expected a string"},
	    {"[]", "resources: expected a JSON object"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *c = json_loads(cases[i].json, 0, NULL);
		struct sbx_error *ce = NULL;
		ok(cgroup_resources_parse_update(c, &r, &ce) < 0, "refused: %s", cases[i].json);
		is_str(ce ? ce->msg : NULL, cases[i].msg, "its message");
		sbx_error_free(ce);
		json_decref(c);
		cgroup_resources_free(&r);
	}
}

int main(void)
{
	test_parse();
	test_refused();
	test_state();
	test_resources();
	return done_testing();
}
