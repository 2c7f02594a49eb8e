/* main.c - global options and command dispatch. */
#define _GNU_SOURCE
#include "cli/cmd-common.h"
#include "cli/commands.h"
#include "lib/util.h"
#include "store/image-lock.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

static int version_main(const struct sbx_command *cmd, int argc, char **argv,
                        struct sbx_error **err)
{
	int first = cmdline_parse(cmd, argc, argv, false, NULL, NULL, err);
	if (first < 0)
		return first;
	if (first < argc)
		return cmdline_usage(err, "takes no argument");
	printf("sbx %s\n", SBX_VERSION);
	return 0;
}

/* `sbx version`, as podman has it: what `sbx --version` prints. */
static const struct sbx_command cmd_version = {
    .name = "version",
    .args = "[OPTIONS]",
    .summary = "Show the version, as --version does.",
    .main = version_main,
    .usage_exit = SBX_EXIT_USAGE,
};

static const struct sbx_command *const commands[] = {
    &cmd_run,
    &cmd_start,
    &cmd_ps,
    &cmd_list,
    &cmd_stop,
    &cmd_kill,
    &cmd_rm,
    &cmd_exec,
    &cmd_inspect,
    &cmd_logs,
    &cmd_diff,
    &cmd_commit,
    &cmd_pull,
    &cmd_push,
    &cmd_spec,
    &cmd_image_ls,
    &cmd_image_rm,
    &cmd_image_import,
    &cmd_image_bootstrap,
    &cmd_image_pull,
    &cmd_image_push,
    &cmd_profile_ls,
    &cmd_profile_show,
    &cmd_profile_check,
    &cmd_profile_path,
    &cmd_unshare,
    &cmd_oci,
    &cmd_doctor,
    &cmd_version,
    &cmd_complete,
};
const struct sbx_command *const *const sbx_commands = commands;
const size_t sbx_n_commands = ARRAY_SIZE(commands);

static void usage(FILE *f)
{
	fprintf(f, "Usage: sbx [-q|-v|--debug] COMMAND [OPTIONS] [ARGS...]\n\n"
	           "A rootless, setuid-free sandbox launcher.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		char name[64];
		if (str_startswith(commands[i]->name, "__"))
			continue; /* hidden, e.g. __complete for the shell completions */
		fprintf(f, "  %-18s %s\n", cmdline_name(commands[i], name, sizeof(name)),
		        commands[i]->summary);
	}
	fprintf(f, "\nGlobal options:\n"
	           "  -q, --quiet         only print errors\n"
	           "  -v, --verbose       say what is being done\n"
	           "      --debug         also time each step\n"
	           "  -h, --help          show this help\n"
	           "      --version       show the version\n"
	           "\nRun 'sbx COMMAND --help' for a command's options.\n");
}

/* sbx runs as the user and is no boundary for them: a set-id install would
 * turn it into one, which it is not built to be (charliecloud does the same). */
static int refuse_privileged(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -1;
	if (r != e || r != s || rg != eg || rg != sg) {
		fprintf(stderr,
		        "sbx: refusing to run setuid or setgid (uid %u/%u/%u, gid "
		        "%u/%u/%u); sbx must be installed without set-id bits\n",
		        r, e, s, rg, eg, sg);
		return -1;
	}
	return 0;
}

static const struct sbx_command *find_command(int argc, char **argv, int *consumed)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct sbx_command *c = commands[i];
		if (c->group == NULL && strcmp(argv[0], c->name) == 0) {
			*consumed = 1;
			return c;
		}
		if (c->group && strcmp(argv[0], c->group) == 0 && argc > 1 &&
		    strcmp(argv[1], c->name) == 0) {
			*consumed = 2;
			return c;
		}
	}
	/* Aliases. */
	if (argc > 1 && (strcmp(argv[0], "image") == 0 || strcmp(argv[0], "profile") == 0) &&
	    (strcmp(argv[1], "list") == 0)) {
		char *save = argv[1];
		argv[1] = (char *)"ls";
		const struct sbx_command *c = find_command(argc, argv, consumed);
		argv[1] = save;
		return c;
	}
	return NULL;
}

static bool is_group(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i]->group && strcmp(commands[i]->group, name) == 0)
			return true;
	return false;
}

/* `sbx image --help`: the subcommands of a group, with their summaries. */
static void group_usage(const char *group, FILE *f)
{
	fprintf(f, "Usage: sbx %s COMMAND [OPTIONS] [ARGS...]\n\nCommands:\n", group);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i]->group && strcmp(commands[i]->group, group) == 0)
			fprintf(f, "  %-18s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nRun 'sbx %s COMMAND --help' for a command's options.\n", group);
}

/* A group without a known subcommand: its list, on stdout for --help. */
static int group_main(const char *group, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "sbx: %s: a command is needed\n", group);
		group_usage(group, stderr);
		return SBX_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		group_usage(group, stdout);
		return 0;
	}
	const char *names[ARRAY_SIZE(commands)];
	size_t n = 0;
	for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
		if (commands[k]->group && strcmp(commands[k]->group, group) == 0)
			names[n++] = commands[k]->name;
	const char *close = str_closest(argv[1], names, n);
	if (close)
		fprintf(stderr, "sbx: %s: unknown command '%s'; did you mean '%s'?\n", group,
		        argv[1], close);
	else
		fprintf(stderr, "sbx: %s: unknown command '%s'\nTry 'sbx %s --help'.\n", group,
		        argv[1], group);
	return SBX_EXIT_USAGE;
}

static void on_sigpipe(int sig)
{
	(void)sig;
}

#if defined(__x86_64__)
/* The first of the memory sbx_entry leaves alone (SBX_UNPOPULATED): main.o
 * is linked before the objects with such stacks. */
char sbx_unpopulated[1] SBX_UNPOPULATED __attribute__((aligned(4096)));

/* sbx's entry point, ahead of libc's _start. First its code and read-only
 * data are mapped with madvise(MADV_POPULATE_READ), where a start faulted
 * them in one 64 KiB window at a time (about 26 faults; on a VM a fault
 * costs 10-30 us, a populated page about 0.3 us): all of it up to the
 * unwind tables but the objects sbx run never executes (between the markers
 * sbx_cold_begin and sbx_cold_end, see the Makefile) and the code's last
 * window (libgcc's unwinder and soft float). The kernel maps the 64 KiB
 * window around a faulting page, so the code's ranges are cut to windows:
 * the window the cold objects share with code before them is in, the one
 * they share with libnl's start out (sbx run touches neither). Then its
 * writable segment (the tables that the start-up code of a static PIE
 * relocates, .data and .bss, not the stacks after sbx_unpopulated) is
 * populated with MADV_POPULATE_WRITE, where relocating it copied each page
 * on a fault of its own and a start touched 12 pages of .bss one by one.
 * Position-independent before relocation: the addresses are relative to
 * the instruction. A kernel without MADV_POPULATE_* (before 5.14) refuses
 * them: no harm. */
__asm__(".text\n"
        ".globl sbx_entry\n"
        ".type sbx_entry, @function\n"
        "sbx_entry:\n"
        "	endbr64\n"
        "	mov %rdx, %r12\n"
        "	lea __executable_start(%rip), %rdi\n"
        "	lea sbx_cold_begin+0xffff(%rip), %rsi\n"
        "	and $-0x10000, %rsi\n"
        "	call 1f\n"
        "	lea sbx_cold_end+0xffff(%rip), %rdi\n"
        "	and $-0x10000, %rdi\n"
        "	lea etext(%rip), %rsi\n"
        "	and $-0x10000, %rsi\n"
        "	call 1f\n"
        "	lea etext+0xfff(%rip), %rdi\n"
        "	and $-0x1000, %rdi\n"
        "	lea __GNU_EH_FRAME_HDR(%rip), %rsi\n"
        "	call 1f\n"
        "	lea __preinit_array_start(%rip), %rdi\n"
        "	and $-4096, %rdi\n"
        "	lea sbx_unpopulated(%rip), %rsi\n"
        "	sub %rdi, %rsi\n"
        "	mov $23, %edx\n"
        "	mov $28, %eax\n"
        "	syscall\n"
        "	mov %r12, %rdx\n"
        "	jmp _start\n"
        /* madvise(rdi, rsi - rdi, MADV_POPULATE_READ) when rsi > rdi. */
        "1:	sub %rdi, %rsi\n"
        "	jbe 2f\n"
        "	mov $22, %edx\n"
        "	mov $28, %eax\n"
        "	syscall\n"
        "2:	ret\n");
#endif

int main(int argc, char **argv)
{
	cmdline_record(argc, argv);
	/* sbx must never die of SIGPIPE (a closed stdout or stderr would leave
	 * an instance half made or half removed): its writes to a closed pipe
	 * fail with EPIPE instead. A handler, not SIG_IGN: exec resets it, so
	 * every program sbx runs, the payload included, gets the default. */
	struct sigaction sa = {.sa_handler = on_sigpipe, .sa_flags = SA_RESTART};
	sigaction(SIGPIPE, &sa, NULL);
	sbx_trace_enabled = getenv("SBX_DEBUG") != NULL;
	sbx_trace("start");
	if (refuse_privileged() < 0)
		return SBX_EXIT_FAILURE;
	rlimit_nofile_raise();
	/* A command that waits for the image store's lock says so. */
	image_lock_set_notify(say_info, NULL);
	/* Called as sbx-oci (a link to sbx), or `sbx oci`: runc's command line. */
	const char *base = strrchr(argv[0], '/');
	if (strcmp(base ? base + 1 : argv[0], "sbx-oci") == 0)
		return oci_main("sbx-oci", argc, argv);
	if (argc > 1 && strcmp(argv[1], "oci") == 0)
		return oci_main("sbx oci", argc - 1, argv + 1);
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			sbx_verbose = -1;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			sbx_verbose = 1;
		else if (strcmp(a, "--debug") == 0) {
			sbx_verbose = 2;
			sbx_trace_enabled = 1;
			sbx_trace("start");
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("sbx %s\n", SBX_VERSION);
			return 0;
		} else {
			fprintf(stderr,
			        "sbx: unknown option '%s'\nTry 'sbx --help' for more "
			        "information.\n",
			        a);
			return SBX_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return SBX_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i + 1], "oci") == 0) {
			char *help[] = {argv[i + 1], (char *)"--help", NULL};
			return oci_main("sbx oci", 2, help);
		}
		int consumed = 0;
		const struct sbx_command *c = find_command(argc - i - 1, argv + i + 1, &consumed);
		if (c == NULL && is_group(argv[i + 1])) {
			if (i + 2 >= argc) {
				group_usage(argv[i + 1], stdout);
				return 0;
			}
			return group_main(argv[i + 1], argc - i - 1, argv + i + 1);
		}
		if (c == NULL) {
			fprintf(stderr, "sbx: unknown command '%s'\n", argv[i + 1]);
			return SBX_EXIT_USAGE;
		}
		cmdline_help(c, stdout);
		return 0;
	}
	int consumed = 0;
	const struct sbx_command *c = find_command(argc - i, argv + i, &consumed);
	if (c == NULL && is_group(argv[i]))
		return group_main(argv[i], argc - i, argv + i);
	if (c == NULL) {
		const char *names[ARRAY_SIZE(commands)];
		for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
			names[k] = commands[k]->group ? commands[k]->group : commands[k]->name;
		const char *close = str_closest(argv[i], names, ARRAY_SIZE(commands));
		if (close)
			fprintf(stderr, "sbx: unknown command '%s'; did you mean '%s'?\n", argv[i],
			        close);
		else
			fprintf(stderr, "sbx: unknown command '%s'\nTry 'sbx --help'.\n", argv[i]);
		return SBX_EXIT_USAGE;
	}
	/* The command sees its own name as argv[0]. */
	int sub_argc = argc - i - consumed + 1;
	char **sub_argv = argv + i + consumed - 1;
	/* Errors come back up to here and are printed once. */
	_cleanup_error_ struct sbx_error *err = NULL;
	int r = c->main(c, sub_argc, sub_argv, &err);
	if (err)
		cmdline_error(c, err);
	return cmdline_status(c, r, err);
}
