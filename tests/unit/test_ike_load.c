/*
 * Unit tests for ike-load's socket-free part (tools/ike_load_args.c): the
 * identities' addresses skip each /24's .0 and .255 and stop before
 * multicast; IDs and PSKs are the same for the same seed and index (the
 * responders' configurations are written from them) and differ otherwise;
 * the command line refuses what it cannot use.
 */
#include "check_main.h"
#include "ike_load.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdarg.h>
#include <string.h>

static struct in_addr a4(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void ck_addr(const char *base, unsigned i, const char *want)
{
	struct in_addr out;
	char buf[INET_ADDRSTRLEN];

	ck_assert_int_eq(il_addr(a4(base), i, &out), 0);
	ck_assert_str_eq(inet_ntop(AF_INET, &out, buf, sizeof(buf)), want);
}

START_TEST(addr_skips_network_and_broadcast)
{
	ck_addr("10.200.0.1", 0, "10.200.0.1");
	ck_addr("10.200.0.1", 253, "10.200.0.254");
	ck_addr("10.200.0.1", 254, "10.200.1.1");
	ck_addr("10.200.0.1", 508, "10.200.2.1");
	ck_addr("10.200.0.250", 4, "10.200.0.254");
	ck_addr("10.200.0.250", 5, "10.200.1.1");
	/* across a /16: 10.200.255.254 is followed by 10.201.0.1 */
	ck_addr("10.200.255.254", 1, "10.201.0.1");
}
END_TEST

START_TEST(addr_refuses_bad_base_and_multicast)
{
	struct in_addr out;

	ck_assert_int_eq(il_addr(a4("10.200.0.0"), 0, &out), -1);
	ck_assert_int_eq(il_addr(a4("10.200.0.255"), 0, &out), -1);
	ck_addr("223.255.255.253", 1, "223.255.255.254");
	ck_assert_int_eq(il_addr(a4("223.255.255.253"), 2, &out), -1);
	ck_assert_int_eq(il_addr(a4("223.255.255.254"), 0xffffffffu, &out), -1);
}
END_TEST

START_TEST(ident_is_stable_and_distinct)
{
	char id[IL_ID_LEN], psk[IL_PSK_HEX + 1], id2[IL_ID_LEN], psk2[IL_PSK_HEX + 1];

	ck_assert_int_eq(il_ident("s", 7, id, sizeof(id), psk, sizeof(psk)), 0);
	ck_assert_str_eq(id, "mn7@load.example");
	ck_assert_uint_eq(strlen(psk), IL_PSK_HEX);
	ck_assert_uint_eq(strspn(psk, "0123456789abcdef"), IL_PSK_HEX);
	ck_assert_int_eq(il_ident("s", 7, id2, sizeof(id2), psk2, sizeof(psk2)), 0);
	ck_assert_str_eq(psk, psk2);
	ck_assert_int_eq(il_ident("s", 8, id2, sizeof(id2), psk2, sizeof(psk2)), 0);
	ck_assert_str_ne(psk, psk2);
	ck_assert_int_eq(il_ident("t", 7, id2, sizeof(id2), psk2, sizeof(psk2)), 0);
	ck_assert_str_ne(psk, psk2);
	/* "s" ":7" and "s:" "7" must not meet: the separator is the index's */
	ck_assert_int_eq(il_ident("s:", 7, id2, sizeof(id2), psk2, sizeof(psk2)), 0);
	ck_assert_str_ne(psk, psk2);
	ck_assert_int_eq(il_ident("s", 7, id, 5, psk, sizeof(psk)), -1);
	ck_assert_int_eq(il_ident("s", 7, id, sizeof(id), psk, IL_PSK_HEX), -1);
}
END_TEST

static enum il_parse parse(struct il_opts *o, char *err, size_t n, ...)
{
	char *argv[16] = {"ike-load"};
	int argc = 1;
	va_list ap;
	char *s;

	va_start(ap, n);
	while ((s = va_arg(ap, char *)) != NULL && argc < 15)
		argv[argc++] = s;
	va_end(ap);
	return il_parse_args(argc, argv, o, err, n);
}

START_TEST(args_defaults_and_values)
{
	struct il_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "10.199.0.1", NULL), IL_PARSE_OK);
	ck_assert_uint_eq(o.n, IL_DEFAULT_N);
	ck_assert_uint_eq(o.inflight, IL_DEFAULT_FLIGHT);
	ck_assert_int_eq(o.group, IKE_GROUP_MODP2048);
	ck_assert_uint_eq(o.responder.s_addr, a4("10.199.0.1").s_addr);
	ck_assert(!o.hold);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "10.199.0.1", "-n", "20", "-c", "32",
			       "-g", "ecp256", "-k", "x", "-i", "fa.load.example", "-H", NULL),
			 IL_PARSE_OK);
	ck_assert_uint_eq(o.n, 20);
	ck_assert_uint_eq(o.inflight, 20); /* never more in flight than there are */
	ck_assert_int_eq(o.group, IKE_GROUP_ECP256);
	ck_assert_str_eq(o.seed, "x");
	ck_assert_str_eq(o.responder_id, "fa.load.example");
	ck_assert(o.hold);
	/* -P needs no responder */
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-P", "-n", "3", NULL), IL_PARSE_OK);
	ck_assert(o.print_ids);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-h", NULL), IL_PARSE_HELP);
}
END_TEST

START_TEST(args_refused)
{
	struct il_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), NULL), IL_PARSE_ERROR);
	ck_assert_ptr_nonnull(strstr(err, "-a"));
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "x", NULL), IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-n", "0", NULL),
			 IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-n", "-5", NULL),
			 IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-n", "12x", NULL),
			 IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-c", "0", NULL),
			 IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-g", "modp1024", NULL),
			 IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-b", "10.0.0.0", NULL),
			 IL_PARSE_ERROR);
	/* 300 addresses from 223.255.255.1 would reach multicast */
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-b", "223.255.255.1", "-n",
			       "300", NULL),
			 IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-k", "", NULL),
			 IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "extra", NULL),
			 IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", "1.2.3.4", "-z", NULL), IL_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-a", NULL), IL_PARSE_ERROR);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ike_load");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, addr_skips_network_and_broadcast);
	tcase_add_test(tc, addr_refuses_bad_base_and_multicast);
	tcase_add_test(tc, ident_is_stable_and_distinct);
	tcase_add_test(tc, args_defaults_and_values);
	tcase_add_test(tc, args_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(suite());
}
