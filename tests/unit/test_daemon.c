/*
 * The daemons' command line (common/daemon.c): a table of lines, each with
 * the outcome and what it sets, run through daemon_args_parse, which prints
 * nothing and exits nowhere.
 */
#include "check_main.h"
#include "daemon.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define ARGS_MAX 8

struct args_case {
	const char *argv[ARGS_MAX]; /* after the program name; NULL ends it */
	enum daemon_parse want;
	const char *config; /* on DAEMON_ARGS_OK */
	bool check_only, debug;
	const char *err; /* a part of the error text on DAEMON_ARGS_ERROR */
};

static const struct args_case args_cases[] = {
	/* 0 */ {{"-c", "fa.conf"}, DAEMON_ARGS_OK, "fa.conf", false, false, NULL},
	/* 1 */ {{"--config", "fa.conf", "-t"}, DAEMON_ARGS_OK, "fa.conf", true, false, NULL},
	/* 2 */
	{{"--config=x.conf", "--check", "--debug"}, DAEMON_ARGS_OK, "x.conf", true, true, NULL},
	/* 3 */ {{"-dtc", "y.conf"}, DAEMON_ARGS_OK, "y.conf", true, true, NULL},
	/* 4 */ {{"-h"}, DAEMON_ARGS_HELP, NULL, false, false, NULL},
	/* 5 */ {{"--help", "-c"}, DAEMON_ARGS_HELP, NULL, false, false, NULL},
	/* 6 */ {{"-V"}, DAEMON_ARGS_VERSION, NULL, false, false, NULL},
	/* 7 */ {{"--version"}, DAEMON_ARGS_VERSION, NULL, false, false, NULL},
	/* 8 */ {{NULL}, DAEMON_ARGS_ERROR, NULL, false, false, "no configuration file"},
	/* 9 */ {{"-t"}, DAEMON_ARGS_ERROR, NULL, false, false, "no configuration file"},
	/* 10 */ {{"-c"}, DAEMON_ARGS_ERROR, NULL, false, false, "needs an argument"},
	/* 11 */ {{"--config"}, DAEMON_ARGS_ERROR, NULL, false, false, "needs an argument"},
	/* 12 */ {{"-x", "-c", "a"}, DAEMON_ARGS_ERROR, NULL, false, false, "unknown option -x"},
	/* 13 */
	{{"--frob", "-c", "a"}, DAEMON_ARGS_ERROR, NULL, false, false, "unknown option --frob"},
	/* 14 */
	{{"-c", "a", "extra"},
	 DAEMON_ARGS_ERROR,
	 NULL,
	 false,
	 false,
	 "unexpected argument 'extra'"},
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
		ck_assert_str_eq(err, "");
	}
	if (c->want == DAEMON_ARGS_ERROR)
		ck_assert_msg(strstr(err, c->err) != NULL, "case %d: '%s' lacks '%s'", _i, err,
			      c->err);
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("args");

	tcase_add_loop_test(tc, test_args_table, 0,
			    (int)(sizeof(args_cases) / sizeof(args_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(daemon_suite());
}
