/* test-cmdline.c - option parsing from a command's table: short and long
 * forms, "--opt=value", abbreviations refused, clustered short options,
 * operands in any order (or, for a payload, everything after the first
 * one left alone), "--", --help, usage errors, and scrubbing the command
 * line. */
#define _GNU_SOURCE
#include "cli/cmdline.h"
#include "lib/util.h"
#include "tap.h"

#include <fcntl.h>
#include <unistd.h>

enum { OPT_RM = 256, OPT_NAME, OPT_NETWORK, OPT_SCRATCH_SIZE, OPT_NO_INIT };

static const struct sbx_option run_options[] = {
    {"volume", 'v', required_argument, "SRC:DST", "bind a host path", NULL},
    {"interactive", 'i', no_argument, NULL, "keep stdin open", NULL},
    {"tty", 't', no_argument, NULL, "allocate a terminal", NULL},
    {"rm", OPT_RM, no_argument, NULL, "remove the instance when it stops", NULL},
    {"name", OPT_NAME, required_argument, "NAME", "name the instance", NULL},
    {"network", OPT_NETWORK, required_argument, "MODE", "the network", "none host"},
    {"no-init", OPT_NO_INIT, no_argument, NULL, "no init", NULL},
    {"scratch-size", OPT_SCRATCH_SIZE, required_argument, NULL, "no metavariable", NULL},
    {"publish", 'P', required_argument, "[IP:]HOSTPORT:SANDBOXPORT", "a long left column", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static const struct sbx_command run_cmd = {NULL,
                                           "run",
                                           "[OPTIONS] IMAGE [COMMAND [ARG...]]",
                                           "Run a command in a sandbox.",
                                           run_options,
                                           NULL,
                                           NULL,
                                           125};

static const struct sbx_option rm_options[] = {
    {"force", 'f', no_argument, NULL, "stop it first", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static const struct sbx_command image_rm_cmd = {
    "image", "rm", "[OPTIONS] NAME...", "Remove images.", rm_options, NULL, NULL, 2};

/* What the callback saw, as "val=arg" words. */
struct seen {
	char log[512];
	int stop_at; /* a val that makes the callback fail, or 0 */
};

static int record(void *ctx, int val, const char *arg, struct sbx_error **err)
{
	struct seen *s = ctx;
	size_t n = strlen(s->log);
	if (val < 256)
		snprintf(s->log + n, sizeof(s->log) - n, "%s%c", n ? " " : "", val);
	else
		snprintf(s->log + n, sizeof(s->log) - n, "%s%d", n ? " " : "", val);
	if (arg) {
		n = strlen(s->log);
		snprintf(s->log + n, sizeof(s->log) - n, "=%s", arg);
	}
	if (s->stop_at && val == s->stop_at)
		return cmdline_usage(err, "stopped at %d", val);
	return 0;
}

/* Runs cmdline_parse on a copy of the words, with stdout and stderr
 * captured: the one call of cmdline_parse here, with record() the one
 * option callback. */
struct result {
	int ret;
	char *out, *err;
	char **argv; /* as permuted */
	struct seen seen;
};

static char *slurp(int fd)
{
	lseek(fd, 0, SEEK_SET);
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return xstrdup(buf);
}

static struct result parse(const struct sbx_command *cmd, bool stop_at_operand, int stop_at,
                           char *const *words)
{
	struct result r = {0};
	r.seen.stop_at = stop_at;
	int argc = (int)strv_length(words);
	r.argv = xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++)
		r.argv[i] = words[i];
	fflush(stdout);
	fflush(stderr);
	int out = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	int err = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	int saved_out = dup(1), saved_err = dup(2);
	if (out < 0 || err < 0 || saved_out < 0 || saved_err < 0)
		abort();
	dup2(out, 1);
	dup2(err, 2);
	struct sbx_error *e = NULL;
	r.ret = cmdline_parse(cmd, argc, r.argv, stop_at_operand, record, &r.seen, &e);
	/* Printed as main prints what a command returns. */
	if (r.ret == -1)
		cmdline_error(cmd, e);
	sbx_error_free(e);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	r.out = slurp(out);
	r.err = slurp(err);
	close(out);
	close(err);
	return r;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	free(r->argv);
}

/* The operands from index ret on, space-separated. */
static char *operands(const struct result *r)
{
	char *s = xstrdup("");
	for (int i = r->ret; i >= 0 && r->argv[i]; i++) {
		char *t = xasprintf("%s%s%s", s, *s ? " " : "", r->argv[i]);
		free(s);
		s = t;
	}
	return s;
}

#define W(...) ((char *const[]){__VA_ARGS__, NULL})

static void check(const char *what, const struct sbx_command *cmd, bool stop, char *const *words,
                  int want_ret, const char *want_seen, const char *want_operands)
{
	struct result r = parse(cmd, stop, 0, words);
	is_int(r.ret, want_ret, "%s: returns %d", what, want_ret);
	is_str(r.seen.log, want_seen, "%s: options seen", what);
	char *ops = operands(&r);
	is_str(ops, want_operands, "%s: operands", what);
	is_str(r.err, "", "%s: nothing on stderr", what);
	free(ops);
	result_free(&r);
}

static void test_parsing(void)
{
	/* Long and short forms, with the value in the next word or after '='. */
	check("long and short", &run_cmd, true,
	      W("run", "-v", "/a:/b", "--volume", "/c:/d", "--volume=/e:/f", "-v/g:/h", "--rm",
	        "--name", "box", "busybox", "sh"),
	      10, "v=/a:/b v=/c:/d v=/e:/f v=/g:/h 256 257=box", "busybox sh");
	/* Clustered short options, and a cluster ending in one with a value. */
	check("clusters", &run_cmd, true, W("run", "-it", "-iv/x:/y", "img"), 3, "i t i v=/x:/y",
	      "img");
	/* A payload's own options are left alone after the image. */
	check("payload options", &run_cmd, true,
	      W("run", "--rm", "img", "sh", "-c", "--volume", "-v"), 2, "256",
	      "img sh -c --volume -v");
	check("no operand", &run_cmd, true, W("run", "--rm"), 2, "256", "");
	check("just the command", &run_cmd, true, W("run"), 1, "", "");
	/* "--" ends the options. */
	check("-- then an operand like an option", &run_cmd, true, W("run", "--", "-v", "x"), 2, "",
	      "-v x");
	/* Without stop_at_operand: options anywhere, operands gathered at the
	 * end in order. */
	check("operands in any order", &image_rm_cmd, false,
	      W("rm", "a", "-f", "b", "--force", "c"), 3, "f f", "a b c");
	check("operands after --", &image_rm_cmd, false, W("rm", "a", "--", "-f", "--force"), 2, "",
	      "a -f --force");
	check("only options", &image_rm_cmd, false, W("rm", "-f"), 2, "f", "");
	/* A second parse starts afresh (getopt's state is reset). */
	check("again", &image_rm_cmd, false, W("rm", "x", "-f"), 2, "f", "x");
}

/* A usage error as the user sees it. */
#define USAGE(cmd, msg) "sbx: " cmd ": " msg "\nTry 'sbx " cmd " --help' for more information.\n"

static void usage(const char *what, const struct sbx_command *cmd, bool stop, char *const *words,
                  const char *want_err)
{
	struct result r = parse(cmd, stop, 0, words);
	is_int(r.ret, -1, "%s: a usage error", what);
	is_str(r.err, want_err, "%s: message", what);
	is_str(r.out, "", "%s: nothing on stdout", what);
	result_free(&r);
}

static void test_errors(void)
{
	usage("unknown short option", &run_cmd, true, W("run", "-x", "img"),
	      USAGE("run", "unknown option '-x'"));
	usage("unknown long option", &run_cmd, true, W("run", "--bogus", "img"),
	      USAGE("run", "unknown option '--bogus'"));
	usage("short option without its value", &run_cmd, true, W("run", "-v"),
	      USAGE("run", "option '-v' needs an argument"));
	usage("long-only option without its value", &run_cmd, true, W("run", "--name"),
	      USAGE("run", "option '--name' needs an argument"));
	usage("a group's command names both words", &image_rm_cmd, false, W("rm", "-q", "x"),
	      USAGE("image rm", "unknown option '-q'"));
	usage("unknown option after an operand", &image_rm_cmd, false, W("rm", "x", "--nope"),
	      USAGE("image rm", "unknown option '--nope'"));
	/* Unambiguous abbreviations are refused too, as podman does: a prefix
	 * changes meaning when an option is added. */
	usage("abbreviation", &run_cmd, true, W("run", "--vol", "/a:/b", "img"),
	      USAGE("run", "unknown option '--vol'; did you mean '--volume'?"));
	usage("abbreviation with =", &run_cmd, true, W("run", "--rm", "--netw=host", "img"),
	      USAGE("run", "unknown option '--netw'; did you mean '--network'?"));
	usage("abbreviation after a cluster", &run_cmd, true, W("run", "-it", "--scr", "4M", "img"),
	      USAGE("run", "unknown option '--scr'; did you mean '--scratch-size'?"));
	usage("abbreviation of --help", &run_cmd, true, W("run", "--he"),
	      USAGE("run", "unknown option '--he'; did you mean '--help'?"));
	/* An unknown option close to one of the table's. */
	usage("close to an option", &run_cmd, true, W("run", "--volumes", "/a:/b", "img"),
	      USAGE("run", "unknown option '--volumes'; did you mean '--volume'?"));
	usage("close to an option, after an operand", &image_rm_cmd, false, W("rm", "x", "--forse"),
	      USAGE("image rm", "unknown option '--forse'; did you mean '--force'?"));

	/* An ambiguous abbreviation (--n: name, network, no-init) is refused;
	 * none of them is picked. */
	struct result r = parse(&run_cmd, true, 0, W("run", "--n", "x", "img"));
	is_int(r.ret, -1, "ambiguous abbreviation: a usage error");
	is_str(r.seen.log, "", "ambiguous abbreviation: no option taken");
	ok(str_startswith(r.err, "sbx: run: "), "ambiguous abbreviation: a message: %.*s",
	   (int)strcspn(r.err, "\n"), r.err);
	result_free(&r);
	/* A value given to an option that takes none is refused. */
	r = parse(&run_cmd, true, 0, W("run", "--rm=yes", "img"));
	is_int(r.ret, -1, "--rm=yes: a usage error");
	is_str(r.seen.log, "", "--rm=yes: not taken as --rm");
	result_free(&r);

	/* The callback's refusal stops parsing at once. */
	r = parse(&run_cmd, true, 'i', W("run", "-t", "-i", "-v", "x", "img"));
	is_int(r.ret, -1, "a callback's error stops the parse");
	is_str(r.seen.log, "t i", "nothing after the refused option is seen");
	result_free(&r);
}

static void test_help(void)
{
	struct result r = parse(&run_cmd, true, 0, W("run", "--rm", "--help", "-v", "x"));
	is_int(r.ret, -2, "--help: -2");
	is_str(r.seen.log, "256", "--help: the options before it were seen, none after");
	is_str(r.err, "", "--help: nothing on stderr");
	is_str(r.out,
	       "Usage: sbx run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
	       "\n"
	       "Run a command in a sandbox.\n"
	       "\n"
	       "Options:\n"
	       "  -v, --volume SRC:DST          bind a host path\n"
	       "  -i, --interactive             keep stdin open\n"
	       "  -t, --tty                     allocate a terminal\n"
	       "      --rm                      remove the instance when it stops\n"
	       "      --name NAME               name the instance\n"
	       "      --network MODE            the network\n"
	       "      --no-init                 no init\n"
	       "      --scratch-size ARG        no metavariable\n"
	       "  -P, --publish [IP:]HOSTPORT:SANDBOXPORT\n"
	       "                                a long left column\n"
	       "  -h, --help                    show this help and exit\n",
	       "--help: the table, with --help last");
	result_free(&r);
	r = parse(&image_rm_cmd, false, 0, W("rm", "-h"));
	is_int(r.ret, -2, "-h: -2");
	ok(str_startswith(r.out, "Usage: sbx image rm [OPTIONS] NAME...\n"),
	   "-h: the group's usage");
	result_free(&r);

	char buf[64];
	is_str(cmdline_name(&image_rm_cmd, buf, sizeof(buf)), "image rm", "cmdline_name: group");
	is_str(cmdline_name(&run_cmd, buf, sizeof(buf)), "run", "cmdline_name: top level");
	is_str(cmdline_name(&image_rm_cmd, buf, 5), "imag", "cmdline_name: cut to the buffer");
}

/* sbx-oci's way: a command shown under another name, with commands of its
 * own named by its first operand, and an option whose value is optional. */
static void test_help_as(void)
{
	static const struct sbx_option opts[] = {
	    {"rootless", 300, optional_argument, "V", "true, false or auto", NULL},
	    {"tls-verify", 301, optional_argument, NULL, "=false: no checks", NULL},
	    {NULL, 0, 0, NULL, NULL, NULL},
	};
	static const struct sbx_command top = {
	    NULL, "oci", "[OPTIONS] COMMAND", "Speak runc's.", opts, NULL, NULL, 125};
	const struct sbx_command *const subs[] = {&run_cmd, &image_rm_cmd, NULL};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cmdline_help_as(&top, "sbx-oci", subs, f);
	fclose(f);
	is_str(text,
	       "Usage: sbx-oci [OPTIONS] COMMAND\n"
	       "\n"
	       "Speak runc's.\n"
	       "\n"
	       "Commands:\n"
	       "  run         Run a command in a sandbox.\n"
	       "  rm          Remove images.\n"
	       "\n"
	       "Options:\n"
	       "      --rootless[=V]            true, false or auto\n"
	       "      --tls-verify              =false: no checks\n"
	       "  -h, --help                    show this help and exit\n",
	       "cmdline_help_as: the name shown, the commands, [=V] for an optional value");
	free(text);
	ok(cmdline_subcommand(subs, "rm") == &image_rm_cmd, "cmdline_subcommand: by name");
	ok(cmdline_subcommand(subs, "r") == NULL, "cmdline_subcommand: no prefix");
	ok(cmdline_subcommand(NULL, "rm") == NULL, "cmdline_subcommand: none");
}

static void test_scrub(void)
{
	/* As the kernel lays out argv: the strings back to back. */
	char area[] = "sbx\0exec\0box\0secret-token\0";
	char *argv[] = {area, area + 4, area + 9, area + 13, NULL};
	size_t len = sizeof(area) - 1; /* up to the last string's NUL */
	cmdline_record(4, argv);
	cmdline_scrub("sbx exec box");
	ok(memcmp(area, "sbx exec box", 12) == 0, "the shown line is written");
	bool zero = true;
	for (size_t i = 12; i < len; i++)
		zero = zero && area[i] == '\0';
	ok(zero, "the rest, the secret with it, is zeroed");
	cmdline_scrub("a line far longer than the space the kernel gave the arguments");
	ok(area[len - 1] == '\0' && memcmp(area, "a line far longer than", 22) == 0,
	   "a longer line is cut, and stays NUL-terminated");
}

int main(void)
{
	test_parsing();
	test_errors();
	test_help();
	test_help_as();
	test_scrub();
	return done_testing();
}
