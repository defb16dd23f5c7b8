/*
 * Control answers: a daemon's command table run by ctl_dispatch (help,
 * unknown names, commands the daemon layer answers, a failing command),
 * and the IKE engine's part rendered by common/ike_ctl.c.
 */
#include "check_main.h"
#include "ctl.h"
#include "ike.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static int runs;

static int cmd_ok(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	runs++;
	ctl_str(o, "got", argc > 1 ? argv[1] : "-");
	ctl_str(o, "arg", arg);
	return 0;
}

static int cmd_fail(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	runs++;
	snprintf(err, errlen, "no such thing");
	return -1;
}

static const struct ctl_cmd cmds[] = {
	{"show", "[what]", "what was asked", cmd_ok},
	{"fail", "", "always refused", cmd_fail},
	{"outside", "", "answered by the daemon layer", NULL},
	{NULL, NULL, NULL, NULL},
};

/* Run argv through the table into o (the caller frees it); the error, if any, in err. */
static int run(bool json, int argc, char **argv, char *err, size_t errlen, struct ctl_out *o)
{
	err[0] = '\0';
	ctl_out_init(o, json);
	return ctl_dispatch(cmds, "mipsa-test", "the arg", argc, argv, o, err, errlen);
}

START_TEST(test_dispatch_runs_the_command)
{
	struct ctl_out o;
	char err[256], *argv[] = {"show", "bindings"};

	runs = 0;
	ck_assert_int_eq(run(true, 2, argv, err, sizeof(err), &o), 0);
	ck_assert_int_eq(runs, 1);
	ck_assert_str_eq(ctl_out_str(&o),
			 "{\"daemon\":\"mipsa-test\",\"got\":\"bindings\",\"arg\":\"the arg\"}\n");
	ctl_out_free(&o);
}
END_TEST

START_TEST(test_dispatch_help_lists_the_table)
{
	struct ctl_out o;
	char err[256], *argv[] = {CTL_HELP};
	const char *s;

	runs = 0;
	ck_assert_int_eq(run(true, 1, argv, err, sizeof(err), &o), 0);
	ck_assert_int_eq(runs, 0);
	s = ctl_out_str(&o);
	ck_assert_ptr_nonnull(strstr(s, "\"daemon\":\"mipsa-test\",\"commands\":["));
	ck_assert_ptr_nonnull(strstr(
		s, "{\"command\":\"show\",\"args\":\"[what]\",\"answer\":\"what was asked\"}"));
	ck_assert_ptr_nonnull(strstr(s, "{\"command\":\"outside\",\"args\":\"-\""));
	ck_assert_ptr_nonnull(strstr(s, "{\"command\":\"help\",\"args\":\"-\""));
	ctl_out_free(&o);

	/* text: one aligned row per command */
	ck_assert_int_eq(run(false, 1, argv, err, sizeof(err), &o), 0);
	s = ctl_out_str(&o);
	ck_assert_ptr_nonnull(strstr(s, "show"));
	ck_assert_ptr_nonnull(strstr(s, "always refused"));
	ck_assert_ptr_nonnull(strstr(s, "these commands"));
	ctl_out_free(&o);
}
END_TEST

START_TEST(test_dispatch_unknown_lists_the_names)
{
	struct ctl_out o;
	char err[256], small[24], *argv[] = {"bindings"};

	ck_assert_int_eq(run(true, 1, argv, err, sizeof(err), &o), -1);
	ck_assert_str_eq(err, "unknown command 'bindings' (show, fail, outside, help)");
	ctl_out_free(&o);
	/* cut to the buffer, still terminated */
	ck_assert_int_eq(run(true, 1, argv, small, sizeof(small), &o), -1);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ctl_out_free(&o);
	/* no command at all */
	ck_assert_int_eq(run(true, 0, argv, err, sizeof(err), &o), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown command ''"));
	ctl_out_free(&o);
}
END_TEST

START_TEST(test_dispatch_refusals)
{
	struct ctl_out o;
	char err[256], *argv[] = {"outside"};

	runs = 0;
	ck_assert_int_eq(run(true, 1, argv, err, sizeof(err), &o), -1);
	ck_assert_str_eq(err,
			 "'outside' is answered by mipsa-test's daemon layer, not its library");
	ctl_out_free(&o);
	argv[0] = "fail";
	ck_assert_int_eq(run(true, 1, argv, err, sizeof(err), &o), -1);
	ck_assert_str_eq(err, "no such thing");
	ck_assert_int_eq(runs, 1);
	ctl_out_free(&o);
}
END_TEST

static void no_send(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
		    uint16_t pport, const uint8_t *msg, size_t len)
{
}

/* An engine without SAs: empty lists and every counter, from ike_ctl.c. */
START_TEST(test_ike_ctl_sas_empty_engine)
{
	struct ev_loop *loop = ev_loop_new();
	struct ike_config cfg;
	struct ike_ops ops = {.send = no_send};
	struct ike_engine *eng;
	struct ctl_out o;
	const char *s;

	ck_assert_ptr_nonnull(loop);
	ike_config_defaults(&cfg);
	eng = ike_engine_new(loop, &cfg, &ops);
	ck_assert_ptr_nonnull(eng);
	ck_assert_ptr_null(ike_sa_next(eng, NULL));
	ctl_out_init(&o, true);
	ctl_obj_begin(&o, NULL);
	ike_ctl_sas(eng, &o);
	ctl_obj_end(&o);
	s = ctl_out_str(&o);
	ck_assert_ptr_nonnull(strstr(s, "\"isakmp_sas\":[],\"ipsec_sas\":[],\"ike_counters\":{"));
#define CHECK_IKE_COUNTER(n) ck_assert_ptr_nonnull(strstr(s, "\"" #n "\":0"));
	IKE_COUNTERS(CHECK_IKE_COUNTER)
#undef CHECK_IKE_COUNTER
	ctl_out_free(&o);
	ike_engine_free(eng);
	ev_loop_free(loop);
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("dispatch");
	TCase *ike = tcase_create("ike");

	tcase_add_test(tc, test_dispatch_runs_the_command);
	tcase_add_test(tc, test_dispatch_help_lists_the_table);
	tcase_add_test(tc, test_dispatch_unknown_lists_the_names);
	tcase_add_test(tc, test_dispatch_refusals);
	suite_add_tcase(s, tc);
	tcase_add_test(ike, test_ike_ctl_sas_empty_engine);
	suite_add_tcase(s, ike);
	return s;
}

int main(void)
{
	return check_main(ctl_suite());
}
