/*
 * Unit tests for mipsa-swarm's socket-free part (tools/swarm_logic.c): the
 * hand-over schedule spreads the nodes over one period and moves each once
 * a period; the (SPI, sequence number) set finds a pair seen twice, per
 * SPI, and grows as far as it tracks; the MN-HA keys are stable per seed
 * and index and differ otherwise; the command line refuses what the swarm
 * cannot use; the RESULT line carries every count.
 */
#include "check_main.h"
#include "swarm.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdarg.h>
#include <string.h>

static enum sw_parse parse(struct sw_opts *o, char *err, size_t n, ...)
{
	char *argv[20] = {"mipsa-swarm"};
	int argc = 1;
	va_list ap;
	char *s;

	va_start(ap, n);
	while ((s = va_arg(ap, char *)) != NULL && argc < 19)
		argv[argc++] = s;
	va_end(ap);
	return sw_parse_args(argc, argv, o, err, n);
}

START_TEST(schedule_spreads_and_repeats)
{
	/* 4 nodes, 1000 ms: phases 1000 (node 0: a full period), 250, 500, 750 */
	ck_assert_uint_eq(sw_next_move(0, 4, 1000, 0), 1000);
	ck_assert_uint_eq(sw_next_move(1, 4, 1000, 0), 250);
	ck_assert_uint_eq(sw_next_move(2, 4, 1000, 0), 500);
	ck_assert_uint_eq(sw_next_move(3, 4, 1000, 0), 750);
	/* strictly after: at its own move time, the next one is a period later */
	ck_assert_uint_eq(sw_next_move(1, 4, 1000, 250), 1250);
	ck_assert_uint_eq(sw_next_move(1, 4, 1000, 1249), 1250);
	ck_assert_uint_eq(sw_next_move(0, 4, 1000, 1000), 2000);
	ck_assert_uint_eq(sw_next_move(3, 4, 1000, 10000), 10750);
	/* no moves */
	ck_assert_uint_eq(sw_next_move(0, 4, 0, 0), UINT64_MAX);
	ck_assert_uint_eq(sw_next_move(0, 0, 1000, 0), UINT64_MAX);
}
END_TEST

START_TEST(schedule_rate_is_even)
{
	/* 1000 nodes, 5 s: every 1 s window from 1 s on holds 200 moves */
	unsigned per_window[10] = {0};

	for (unsigned i = 0; i < 1000; i++)
		for (uint64_t t = sw_next_move(i, 1000, 5000, 0); t < 10000;
		     t = sw_next_move(i, 1000, 5000, t))
			per_window[t / 1000]++;
	for (unsigned w = 1; w < 10; w++)
		ck_assert_uint_eq(per_window[w], 200);
}
END_TEST

START_TEST(seqset_finds_duplicates)
{
	struct sw_seqset s;

	sw_seqset_init(&s);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 1), 1);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 2), 1);
	/* the same number under another SPI is another pair */
	ck_assert_int_eq(sw_seqset_add(&s, 0x2000, 1), 1);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 1), 0);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 2), 0);
	/* far ahead: the set grows, and still remembers what it had */
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 100000), 1);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 100000), 0);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 1), 0);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 99999), 1);
	/* every 32-bit number is checked: the edges of a chunk, far apart, the top */
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 4095), 1);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 4096), 1);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 4095), 0);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 1u << 24), 1);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, (1u << 24) + 1), 1);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, 1u << 24), 0);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, UINT32_MAX), 1);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, UINT32_MAX), 0);
	ck_assert_int_eq(sw_seqset_add(&s, 0x1000, UINT32_MAX - 64), 1);
	/* ... and each SPI on its own */
	ck_assert_int_eq(sw_seqset_add(&s, 0x2000, UINT32_MAX), 1);
	ck_assert_uint_eq(s.pairs, 12);
	ck_assert_uint_eq(s.dups, 7);
	sw_seqset_free(&s);
}
END_TEST

START_TEST(ha_keys_stable_and_distinct)
{
	char a[SW_HA_KEY_HEX + 1], b[SW_HA_KEY_HEX + 1], c[SW_HA_KEY_HEX + 1];
	char small[8];

	ck_assert_int_eq(sw_ha_key("seed", 7, a, sizeof(a)), 0);
	ck_assert_int_eq(sw_ha_key("seed", 7, b, sizeof(b)), 0);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(strlen(a), SW_HA_KEY_HEX);
	ck_assert_int_eq(sw_ha_key("seed", 8, c, sizeof(c)), 0);
	ck_assert_str_ne(a, c);
	ck_assert_int_eq(sw_ha_key("other", 7, c, sizeof(c)), 0);
	ck_assert_str_ne(a, c);
	ck_assert_int_eq(sw_ha_key("seed", 7, small, sizeof(small)), -1);
}
END_TEST

START_TEST(args_defaults_and_values)
{
	struct sw_opts o;
	char err[256], buf[INET_ADDRSTRLEN];

	ck_assert_int_eq(parse(&o, err, sizeof(err), NULL), SW_PARSE_OK);
	ck_assert_uint_eq(o.n, 100);
	ck_assert_uint_eq(o.retry_ms, 1000);
	ck_assert_int_eq(o.mode, SW_MODE_REUSE);
	ck_assert_int_eq(o.group, IKE_GROUP_ECP256);
	ck_assert_str_eq(o.ifname[0], "sw1");
	ck_assert_str_eq(inet_ntop(AF_INET, &o.base, buf, sizeof(buf)), "198.18.128.1");
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-n", "10000", "-d", "60", "-m", "0", "-M",
			       "ike", "-1", "a1", "-2", "a2", "-c", "500", "-g", "modp2048", NULL),
			 SW_PARSE_OK);
	ck_assert_uint_eq(o.n, 10000);
	ck_assert_uint_eq(o.duration_s, 60);
	ck_assert_uint_eq(o.move_ms, 0);
	ck_assert_int_eq(o.mode, SW_MODE_IKE);
	ck_assert_str_eq(o.ifname[1], "a2");
	ck_assert_int_eq(o.group, IKE_GROUP_MODP2048);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-n", "5", "-c", "64", NULL), SW_PARSE_OK);
	ck_assert_uint_eq(o.inflight, 5); /* never more in flight than nodes */
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-h", NULL), SW_PARSE_HELP);
}
END_TEST

START_TEST(args_refused)
{
	struct sw_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), "-n", "0", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-n", "20001", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-M", "partial", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-1", "x", "-2", "x", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-1", "a-name-too-long-for-ifnamsiz", NULL),
			 SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-b", "198.18.128.0", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-b", "223.255.255.1", "-n", "300", NULL),
			 SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-i", "5", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-r", "60001", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-T", "nowhere", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "extra", NULL), SW_PARSE_ERROR);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-z", NULL), SW_PARSE_ERROR);
}
END_TEST

START_TEST(result_line_has_every_count)
{
	struct sw_opts o;
	struct sw_counts c;
	char err[256], line[2048];

	ck_assert_int_eq(parse(&o, err, sizeof(err), "-n", "3", NULL), SW_PARSE_OK);
	memset(&c, 0, sizeof(c));
	c.reg_ok = 42;
	c.dup_received = 7;
	c.send_errors = 9;
	ck_assert_int_gt(sw_result_line(&o, &c, 1.25, line, sizeof(line)), 0);
	ck_assert_ptr_nonnull(strstr(line, "RESULT mode=reuse n=3 "));
	ck_assert_ptr_nonnull(strstr(line, " wall_s=1.2"));
	ck_assert_ptr_nonnull(strstr(line, " reg_ok=42 "));
	ck_assert_ptr_nonnull(strstr(line, " dup_received=7 "));
	ck_assert_ptr_nonnull(strstr(line, " send_errors=9"));
	/* a short buffer: cut, terminated, the whole length still returned */
	ck_assert_int_gt(sw_result_line(&o, &c, 1.25, line, 16), 16);
	ck_assert_uint_eq(strlen(line), 15);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("swarm");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, schedule_spreads_and_repeats);
	tcase_add_test(tc, schedule_rate_is_even);
	tcase_add_test(tc, seqset_finds_duplicates);
	tcase_add_test(tc, ha_keys_stable_and_distinct);
	tcase_add_test(tc, args_defaults_and_values);
	tcase_add_test(tc, args_refused);
	tcase_add_test(tc, result_line_has_every_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(suite());
}
