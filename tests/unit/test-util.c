/* test-util.c - sizes (parse_size) and the one escaper for the terminal
 * (str_escape, str_escape_mem, str_display), at their edges; write_string_at;
 * write_all given a write that takes nothing. */
#define _GNU_SOURCE
#include "lib/util.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_parse_size(void)
{
	static const struct {
		const char *in;
		int ret;
		uint64_t want;
	} cases[] = {
	    {"0", 0, 0},
	    {"4096", 0, 4096},
	    {"1k", 0, 1024},
	    {"1K", 0, 1024},
	    {"64M", 0, 64ULL << 20},
	    {"64m", 0, 64ULL << 20},
	    {"64MB", 0, 64ULL << 20},
	    {"64Mb", 0, 64ULL << 20},
	    {"64MiB", 0, 64ULL << 20},
	    {"64Mi", 0, 64ULL << 20},
	    {"2G", 0, 2ULL << 30},
	    {"3T", 0, 3ULL << 40},
	    {"007", 0, 7},
	    {"18446744073709551615", 0, UINT64_MAX},
	    {"16777215T", 0, 16777215ULL << 40},
	    /* Overflow, before and after the suffix. */
	    {"18446744073709551616", -ERANGE, 0},
	    {"16777216T", -ERANGE, 0},
	    {"17179869184G", -ERANGE, 0},
	    /* Junk, signs, spaces, fractions, unknown suffixes. */
	    {"", -EINVAL, 0},
	    {"M", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"+1", -EINVAL, 0},
	    {" 1", -EINVAL, 0},
	    {"1 ", -EINVAL, 0},
	    {"1 M", -EINVAL, 0},
	    {"1.5M", -EINVAL, 0},
	    {"1P", -EINVAL, 0},
	    {"1B", -EINVAL, 0},
	    {"1iB", -EINVAL, 0},
	    {"1MBi", -EINVAL, 0},
	    {"1MiBx", -EINVAL, 0},
	    {"1KK", -EINVAL, 0},
	    {"0x10", -EINVAL, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t got = 12345;
		int r = parse_size(cases[i].in, &got);
		is_int(r, cases[i].ret, "parse_size(\"%s\") returns %d", cases[i].in, cases[i].ret);
		if (cases[i].ret == 0)
			ok(got == cases[i].want, "parse_size(\"%s\") = %llu", cases[i].in,
			   (unsigned long long)cases[i].want);
		else
			ok(got == 12345, "parse_size(\"%s\") leaves the output alone", cases[i].in);
	}
	uint64_t v;
	is_int(parse_size(NULL, &v), -EINVAL, "parse_size(NULL) is refused");
}

static void test_escape(void)
{
	static const struct {
		const char *in;
		const char *quoted, *bare, *text;
	} cases[] = {
	    {"", "", "", ""},
	    {"plain name-1.2_3", "plain name-1.2_3", "plain name-1.2_3", "plain name-1.2_3"},
	    {"q\"b\\s", "q\\\"b\\\\s", "q\"b\\x5cs", "q\"b\\s"},
	    /* Terminal controls: ESC, BEL, DEL, CR, backspace. */
	    {"\x1b[31mred\x07\x7f", "\\x1b[31mred\\x07\\x7f", "\\x1b[31mred\\x07\\x7f",
	     "\\x1b[31mred\\x07\\x7f"},
	    {"a\nb\tc", "a\\x0ab\\x09c", "a\\x0ab\\x09c", "a\nb\tc"},
	    {"a\r\nb\rc", "a\\x0d\\x0ab\\x0dc", "a\\x0d\\x0ab\\x0dc", "a\r\nb\\x0dc"},
	    /* Valid UTF-8 of every length stays. */
	    {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
	    /* C1 controls as UTF-8 (U+0080, U+009B CSI, U+009F); U+00A0 stays. */
	    {"\xc2\x80\xc2\x9b\xc2\x9f\xc2\xa0", "\\xc2\\x80\\xc2\\x9b\\xc2\\x9f\xc2\xa0",
	     "\\xc2\\x80\\xc2\\x9b\\xc2\\x9f\xc2\xa0", "\\xc2\\x80\\xc2\\x9b\\xc2\\x9f\xc2\xa0"},
	    /* A raw C1 byte, a lone continuation byte, 0xff. */
	    {"\x9b\x80\xff", "\\x9b\\x80\\xff", "\\x9b\\x80\\xff", "\\x9b\\x80\\xff"},
	    /* Overlong forms ("/" in two bytes, NUL in three), a surrogate, a
	     * code point above U+10FFFF, a truncated sequence before ASCII. */
	    {"\xc0\xaf\xe0\x80\x80", "\\xc0\\xaf\\xe0\\x80\\x80", "\\xc0\\xaf\\xe0\\x80\\x80",
	     "\\xc0\\xaf\\xe0\\x80\\x80"},
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80", "\\xed\\xa0\\x80", "\\xed\\xa0\\x80"},
	    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", "\\xf4\\x90\\x80\\x80",
	     "\\xf4\\x90\\x80\\x80"},
	    {"\xe2\x82x", "\\xe2\\x82x", "\\xe2\\x82x", "\\xe2\\x82x"},
	    /* The largest code point is fine. */
	    {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = strlen(cases[i].in);
		char *q = str_escape(cases[i].in);
		is_str(q, cases[i].quoted, "str_escape, case %zu", i);
		free(q);
		q = str_escape_mem(cases[i].in, n, ESCAPE_BARE, NULL);
		is_str(q, cases[i].bare, "ESCAPE_BARE, case %zu", i);
		free(q);
		q = str_escape_mem(cases[i].in, n, ESCAPE_TEXT, NULL);
		is_str(q, cases[i].text, "ESCAPE_TEXT, case %zu", i);
		free(q);
	}

	/* No escaped output holds a byte below 0x20 (but TEXT's \n, \t and
	 * \r before \n) or DEL: every byte value, alone. */
	int bad = 0;
	for (int c = 0; c < 256; c++) {
		char in[1] = {(char)c};
		for (int m = ESCAPE_QUOTED; m <= ESCAPE_TEXT; m++) {
			char *q = str_escape_mem(in, 1, (enum str_escape_mode)m, NULL);
			for (const unsigned char *p = (const unsigned char *)q; *p; p++)
				if ((*p < 0x20 || *p == 0x7f || *p >= 0x80) &&
				    !(m == ESCAPE_TEXT && (*p == '\n' || *p == '\t')))
					bad++;
			free(q);
		}
	}
	is_int(bad, 0, "no single byte comes out as a control or a stray high byte");

	/* A BARE name is one line and tells "\" from "\x5c". */
	char *a = str_escape_mem("a\\x5c", 5, ESCAPE_BARE, NULL);
	char *b = str_escape_mem("a\\\\x5c", 6, ESCAPE_BARE, NULL);
	ok(strcmp(a, b) != 0, "BARE: \"a\\x5c\" and \"a\\\\x5c\" differ: %s vs %s", a, b);
	free(a);
	free(b);

	/* Streams: what is cut at a chunk's end waits for the next chunk. */
	size_t used = 99;
	char *q = str_escape_mem("ok\xf0\x9f\x98", 5, ESCAPE_TEXT, &used);
	is_str(q, "ok", "a 4-byte character cut after 3 bytes waits");
	is_int(used, 2, "2 bytes used");
	free(q);
	q = str_escape_mem("ok\xf0\x9f\x98", 5, ESCAPE_TEXT, NULL);
	is_str(q, "ok\\xf0\\x9f\\x98", "without a stream, the cut character is escaped");
	free(q);
	q = str_escape_mem("ok\xff", 3, ESCAPE_TEXT, &used);
	is_str(q, "ok\\xff", "a byte that can start nothing does not wait");
	is_int(used, 3, "3 bytes used");
	free(q);
	q = str_escape_mem("line\r", 5, ESCAPE_TEXT, &used);
	is_str(q, "line", "TEXT: a final \\r waits for a \\n");
	is_int(used, 4, "4 bytes used");
	free(q);
	q = str_escape_mem("line\r", 5, ESCAPE_BARE, &used);
	is_str(q, "line\\x0d", "BARE: a final \\r is escaped at once");
	is_int(used, 5, "5 bytes used");
	free(q);
	q = str_escape_mem("a\0b", 3, ESCAPE_QUOTED, NULL);
	is_str(q, "a\\x00b", "NUL inside the buffer is escaped, not an end");
	free(q);
	q = str_escape_mem("abc", 0, ESCAPE_QUOTED, &used);
	is_str(q, "", "empty input");
	is_int(used, 0, "nothing used");
	free(q);
}

static void test_display(void)
{
	char *d = str_display("short \"x\"");
	is_str(d, "short \\\"x\\\"", "short: escaped, not cut");
	free(d);
	char s[200];
	memset(s, 'a', sizeof(s));
	s[STR_DISPLAY_MAX] = '\0';
	d = str_display(s);
	is_str(d, s, "exactly STR_DISPLAY_MAX bytes: not cut");
	free(d);
	s[STR_DISPLAY_MAX] = 'b';
	s[STR_DISPLAY_MAX + 1] = '\0';
	d = str_display(s);
	ok(strlen(d) == STR_DISPLAY_MAX + 3 && strcmp(d + STR_DISPLAY_MAX, "...") == 0,
	   "one byte more: cut at STR_DISPLAY_MAX with \"...\"");
	free(d);
	/* A 3-byte character across the cut is not split. */
	memset(s, 'a', sizeof(s));
	memcpy(s + STR_DISPLAY_MAX - 1, "\xe2\x82\xac", 3);
	s[STR_DISPLAY_MAX + 10] = '\0';
	d = str_display(s);
	ok(strlen(d) == STR_DISPLAY_MAX - 1 + 3 && strchr(d, '\xe2') == NULL &&
	       strcmp(d + STR_DISPLAY_MAX - 1, "...") == 0,
	   "a character across the cut goes whole: %s", d);
	free(d);
}

static void test_distance(void)
{
	ok(str_distance("host", "host") == 0, "distance: equal");
	ok(str_distance("hots", "host") == 1, "distance: a swap of neighbours is one edit");
	ok(str_distance("defualt", "default") == 1, "distance: a swap inside a word");
	ok(str_distance("pastaa", "pasta") == 1, "distance: an insertion");
	ok(str_distance("KERNAL", "kernel") == 1, "distance: case is ignored");
	ok(str_distance("ab", "ba") == 1, "distance: a swap of the whole word");
	ok(str_distance("abc", "") == 3, "distance: to the empty word");
	static const char *const nets[] = {"none", "host", "pasta", "slirp4netns", "auto"};
	is_str(str_closest("hots", nets, 5), "host", "closest: --network hots is host");
	ok(str_closest("bogus", nets, 5) == NULL, "closest: nothing near bogus");
}

static char *slurp_at(int dfd, const char *name)
{
	static char buf[256];
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	read_string(fd, buf, sizeof(buf));
	return buf;
}

static void test_write_string_at(void)
{
	char tmpl[] = "/tmp/sbx-test-util-XXXXXX";
	if (mkdtemp(tmpl) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	_cleanup_close_ int dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int c = openat(dfd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ok(dfd >= 0 && c >= 0, "write_string_at: made \"f\" in %s", tmpl);
	is_int(write_string_at(dfd, "f", "1 2 3", 0), 0, "write_string_at: relative to dirfd");
	is_str(slurp_at(dfd, "f"), "1 2 3", "write_string_at: the whole string is there");
	_cleanup_free_ char *abs = path_join(tmpl, "f");
	is_int(write_string_at(AT_FDCWD, abs, "max", 0), 0, "write_string_at: absolute path");
	/* No O_CREAT, no O_TRUNC: the files it is for exist and take one write. */
	is_str(slurp_at(dfd, "f"), "max 3", "write_string_at: neither truncates nor appends");
	errno = 0;
	is_int(write_string_at(dfd, "missing", "x", 0), -ENOENT,
	       "write_string_at: a missing file is -ENOENT (nothing created)");
	is_int(errno, ENOENT, "write_string_at: errno is set too");
	ok(faccessat(dfd, "missing", F_OK, AT_SYMLINK_NOFOLLOW) < 0,
	   "write_string_at: no file made");
	ok(symlinkat("f", dfd, "link") == 0, "write_string_at: made a symlink");
	is_int(write_string_at(dfd, "link", "y", O_NOFOLLOW), -ELOOP,
	       "write_string_at: O_NOFOLLOW refuses a symlink");
	is_str(slurp_at(dfd, "f"), "max 3", "write_string_at: nothing written through it");
	is_int(write_string_at(dfd, "link", "y", 0), 0, "write_string_at: without it, followed");
	is_str(slurp_at(dfd, "f"), "yax 3", "write_string_at: written through the symlink");
	/* A short write goes on where it stopped: past RLIMIT_FSIZE the first
	 * write is short and the next fails with EFBIG, which is returned. */
	_cleanup_close_ int g = openat(dfd, "g", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ok(g >= 0, "write_string_at: made \"g\"");
	struct rlimit old, small = {.rlim_cur = 4};
	getrlimit(RLIMIT_FSIZE, &old);
	small.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &small);
	int r = write_string_at(dfd, "g", "0123456789", 0);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	is_int(r, -EFBIG,
	       "write_string_at: a short write is followed by the next, whose error counts");
	is_str(slurp_at(dfd, "g"), "0123", "write_string_at: the first write went in");
	unlinkat(dfd, "f", 0);
	unlinkat(dfd, "g", 0);
	unlinkat(dfd, "link", 0);
	rmdir(tmpl);
}

/* A write(2) that returns 0 for a non-empty buffer, as the seccomp
 * filter made in a child below has it for fd 1000: write_all says -EIO
 * rather than ask again for ever (an alarm ends the child if it loops). */
static void test_write_all_zero(void)
{
	int pipefd[2];
	ok(pipe(pipefd) == 0, "write_all: a pipe for the child's answer");
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 1000) < 0)
			_exit(3);
		struct sock_filter f[] = {
		    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 0, 3),
		    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1000, 0, 1),
		    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0),
		    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			_exit(4);
		alarm(5);
		int r = write_all(1000, "abc", 3);
		_exit(write(pipefd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 5);
	}
	close(pipefd[1]);
	int r = 1, status = -1;
	ssize_t n = read(pipefd[0], &r, sizeof(r));
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "write_all: the child ended by itself (status %#x)", status);
	ok(n == sizeof(r), "write_all: the child answered");
	is_int(r, -EIO, "write_all: a write that takes nothing is -EIO, not asked again");
}

int main(void)
{
	test_write_all_zero();
	test_write_string_at();
	test_distance();
	test_parse_size();
	test_escape();
	test_display();
	return done_testing();
}
