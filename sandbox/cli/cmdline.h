/* cmdline.h - one option table per command drives parsing, --help and
 * shell completion, so the three never drift. */
#ifndef SBX_CMDLINE_H
#define SBX_CMDLINE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Completion kinds for option arguments and positional words. */
#define SBX_COMPLETE_FILE       "file"
#define SBX_COMPLETE_DIR        "dir"
#define SBX_COMPLETE_PROFILE    "profile"
#define SBX_COMPLETE_IMAGE      "image"
#define SBX_COMPLETE_INSTANCE   "instance"
#define SBX_COMPLETE_RUNNING    "running"
#define SBX_COMPLETE_SIGNAL     "signal"
#define SBX_COMPLETE_CAPABILITY "capability"
#define SBX_COMPLETE_VOLUME     "volume"
/* sbx oci: a container's ID, under the --root given before the command. */
#define SBX_COMPLETE_CONTAINER "container"
/* A program of the host's (sbx unshare COMMAND), then its own words: paths. */
#define SBX_COMPLETE_HOST_COMMAND "host-command"

struct sbx_option {
	const char *name;     /* long name, without "--" */
	int val;              /* short option letter, or a code >= 256 */
	int has_arg;          /* no_argument or required_argument */
	const char *arg;      /* metavariable shown in --help */
	const char *help;     /* one line */
	const char *complete; /* SBX_COMPLETE_*, or "word word ..." for a fixed list */
};

struct sbx_command;
struct sbx_error;
/* A command's main. It returns its exit status (>= 0), or -1 with *err set:
 * main prints *err once, prefixed with the command's name, and exits with
 * the command's usage_exit for a usage error (cmdline_usage), 125 for any
 * other. An error may come with a status too (126 or 127 when a command
 * could not be executed). CMDLINE_HELP (from cmdline_parse) exits 0. */
typedef int (*sbx_command_fn)(const struct sbx_command *cmd, int argc, char **argv,
                              struct sbx_error **err);

struct sbx_command {
	const char *group; /* "image" for "sbx image ls", NULL for top level */
	const char *name;
	const char *args;                 /* e.g. "[OPTIONS] IMAGE [COMMAND [ARG...]]" */
	const char *summary;              /* one line */
	const struct sbx_option *options; /* terminated by an entry with name NULL */
	const char *positional;           /* completion kind for the first operand */
	sbx_command_fn main;
	int usage_exit; /* exit code for misuse: 125, as podman has it */
};

/* Global verbosity, set by -q/-v/--debug. */
extern int sbx_verbose; /* -1 quiet, 0 normal, 1 verbose, 2 debug */

/* Called for each option; return <0 with *err set (cmdline_usage) to stop.
 * A command without options passes NULL. */
typedef int (*sbx_option_fn)(void *ctx, int val, const char *arg, struct sbx_error **err);

/* What cmdline_parse returns after printing --help: a command returns it
 * as it is, and sbx exits 0. */
#define CMDLINE_HELP (-2)

/* Parses options of cmd from argv[1..] (argv[0] is the command name). Stops at
 * the first operand when stop_at_operand is set, so a payload's own options
 * are left alone. Returns the index of the first operand, -1 with a usage
 * error in *err, or CMDLINE_HELP once --help is printed. */
int cmdline_parse(const struct sbx_command *cmd, int argc, char **argv, bool stop_at_operand,
                  sbx_option_fn fn, void *ctx, struct sbx_error **err);
/* The same, for a command shown as `shown` in --help ("sbx-oci kill")
 * rather than "sbx NAME", with its subcommands (see cmdline_help_as). */
int cmdline_parse_as(const struct sbx_command *cmd, const char *shown,
                     const struct sbx_command *const *subcommands, int argc, char **argv,
                     bool stop_at_operand, sbx_option_fn fn, void *ctx, struct sbx_error **err);
void cmdline_help(const struct sbx_command *cmd, FILE *f);
/* The usage line names the command as `shown`; subcommands, NULL or a
 * NULL-terminated list of the commands cmd's first operand names (sbx
 * oci's), are listed before the options. */
void cmdline_help_as(const struct sbx_command *cmd, const char *shown,
                     const struct sbx_command *const *subcommands, FILE *f);
/* The command of subcommands called name, or NULL. */
const struct sbx_command *cmdline_subcommand(const struct sbx_command *const *subcommands,
                                             const char *name);
/* Fills *err with a usage error: printed with "Try 'sbx CMD --help' for more
 * information.", exit status the command's usage_exit. Returns -1. */
int cmdline_usage(struct sbx_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* 0 when a command got exactly want operands; else a usage error, "missing
 * WHAT" or "too many arguments, expected WHAT", and -1. */
int cmdline_operands(int have, int want, const char *what, struct sbx_error **err);
/* Prints err, the only way sbx prints an error: "sbx: CMD: MESSAGE", and
 * the --help hint after a usage error. main prints what a command returns;
 * a command that goes on after an error (one operand of several) prints
 * that one here. */
void cmdline_error(const struct sbx_command *cmd, const struct sbx_error *err);
/* The exit status for what cmd's main returned (see sbx_command_fn). */
int cmdline_status(const struct sbx_command *cmd, int r, const struct sbx_error *err);

/* The --format of every command that has one: text (also spelled table,
 * for the commands that print a table) or json. */
enum cmdline_format { CMDLINE_TEXT, CMDLINE_JSON };
#define CMDLINE_OPT_FORMAT 0x2000
#define CMDLINE_OPTION_FORMAT(help)                                                                \
	{                                                                                          \
		"format", CMDLINE_OPT_FORMAT, required_argument, "FORMAT", help, "text json"       \
	}
int cmdline_format(const char *arg, enum cmdline_format *out, struct sbx_error **err);
/* "image ls" or "run". */
const char *cmdline_name(const struct sbx_command *cmd, char *buf, size_t len);

/* Where main's argv lies, for cmdline_scrub. */
void cmdline_record(int argc, char **argv);
/* Overwrites sbx's own command line (/proc/PID/cmdline, readable by every
 * process that can see this one) with `shown`: before `sbx exec` enters a
 * sandbox, whose payload would otherwise read the caller's arguments. The
 * strings of argv are gone afterwards. */
void cmdline_scrub(const char *shown);

#endif
