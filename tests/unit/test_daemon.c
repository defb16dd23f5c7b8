/*
 * The daemons' command line (common/daemon.c): a table of lines, each with
 * the outcome and what it sets, run through daemon_args_parse, which prints
 * nothing and exits nowhere.
 */
#include "check_main.h"
#include "daemon.h"
#include "log.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGS_MAX 8

struct args_case {
	const char *argv[ARGS_MAX]; /* after the program name; NULL ends it */
	enum daemon_parse want;
	const char *config; /* on DAEMON_ARGS_OK */
	bool check_only, debug;
	const char *err; /* a part of the error text on DAEMON_ARGS_ERROR */
	bool use_syslog;
};

static const struct args_case args_cases[] = {
	/* 0 */ {{"-c", "fa.conf", false}, DAEMON_ARGS_OK, "fa.conf", false, false, NULL, false},
	/* 1 */
	{{"--config", "fa.conf", "-t", false}, DAEMON_ARGS_OK, "fa.conf", true, false, NULL, false},
	/* 2 */
	{{"--config=x.conf", "--check", "--debug", false},
	 DAEMON_ARGS_OK,
	 "x.conf",
	 true,
	 true,
	 NULL,
	 false},
	/* 3 */ {{"-dtc", "y.conf", false}, DAEMON_ARGS_OK, "y.conf", true, true, NULL, false},
	/* 4 */ {{"-h", false}, DAEMON_ARGS_HELP, NULL, false, false, NULL, false},
	/* 5 */ {{"--help", "-c", false}, DAEMON_ARGS_HELP, NULL, false, false, NULL, false},
	/* 6 */ {{"-V", false}, DAEMON_ARGS_VERSION, NULL, false, false, NULL, false},
	/* 7 */ {{"--version", false}, DAEMON_ARGS_VERSION, NULL, false, false, NULL, false},
	/* 8 */
	{{NULL, false}, DAEMON_ARGS_ERROR, NULL, false, false, "no configuration file", false},
	/* 9 */
	{{"-t", false}, DAEMON_ARGS_ERROR, NULL, false, false, "no configuration file", false},
	/* 10 */ {{"-c", false}, DAEMON_ARGS_ERROR, NULL, false, false, "needs an argument", false},
	/* 11 */
	{{"--config", false}, DAEMON_ARGS_ERROR, NULL, false, false, "needs an argument", false},
	/* 12 */
	{{"-x", "-c", "a", false},
	 DAEMON_ARGS_ERROR,
	 NULL,
	 false,
	 false,
	 "unknown option -x",
	 false},
	/* 13 */
	{{"--frob", "-c", "a", false},
	 DAEMON_ARGS_ERROR,
	 NULL,
	 false,
	 false,
	 "unknown option --frob",
	 false},
	/* 14 */
	{{"-c", "a", "extra", false},
	 DAEMON_ARGS_ERROR,
	 NULL,
	 false,
	 false,
	 "unexpected argument 'extra'",
	 false},
	/* 15 */ {{"--syslog", "-c", "a", false}, DAEMON_ARGS_OK, "a", false, false, NULL, true},
	/* 16 */ {{"-sc", "a", false}, DAEMON_ARGS_OK, "a", false, false, NULL, true},
};

START_TEST(test_args_table)
{
	const struct args_case *c = &args_cases[_i];
	char *argv[ARGS_MAX + 2];
	char copies[ARGS_MAX + 1][64];
	struct daemon_args a;
	char err[128];
	int argc = 0;

	snprintf(copies[0], sizeof(copies[0]), "mipsa-test");
	argv[argc++] = copies[0];
	for (size_t k = 0; k < ARGS_MAX && c->argv[k] != NULL; k++) {
		snprintf(copies[argc], sizeof(copies[argc]), "%s", c->argv[k]);
		argv[argc] = copies[argc];
		argc++;
	}
	argv[argc] = NULL;

	ck_assert_int_eq(daemon_args_parse(argc, argv, &a, err, sizeof(err)), c->want);
	if (c->want == DAEMON_ARGS_OK) {
		ck_assert_str_eq(a.config, c->config);
		ck_assert(a.check_only == c->check_only);
		ck_assert(a.debug == c->debug);
		ck_assert(a.use_syslog == c->use_syslog);
		ck_assert_str_eq(err, "");
	}
	if (c->want == DAEMON_ARGS_ERROR)
		ck_assert_msg(strstr(err, c->err) != NULL, "case %d: '%s' lacks '%s'", _i, err,
			      c->err);
}
END_TEST

/* JOURNAL_STREAM names stderr (the journal's stream) only when device and inode both match. */
START_TEST(test_journal_stream)
{
	struct stat st;
	char v[64];

	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	unsetenv("JOURNAL_STREAM");
	ck_assert(!log_stderr_is_journal());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert(log_stderr_is_journal());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert(!log_stderr_is_journal());
	setenv("JOURNAL_STREAM", "garbage", 1);
	ck_assert(!log_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("args");

	tcase_add_loop_test(tc, test_args_table, 0,
			    (int)(sizeof(args_cases) / sizeof(args_cases[0])));
	tcase_add_test(tc, test_journal_stream);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(daemon_suite());
}
