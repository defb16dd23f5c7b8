/*
 * Unit tests for common/mip_ident.c: timestamp Identifications (RFC 5944
 * 5.7.1), the tolerance and replay checks, and resynchronisation after a
 * code-133 reply.
 */
#include "check_main.h"
#include "mip_ident.h"

#include <check.h>
#include <stdlib.h>
#include <time.h>

#define SEC(s) ((uint64_t)(s) << 32)

/* A "now" with a fraction, well inside the NTP era. */
#define T 0xe8000000ULL

START_TEST(test_tolerance_edges)
{
	const uint64_t now = SEC(T) | 0x80000000u;
	const struct {
		int64_t delta_s; /* id seconds relative to now */
		uint32_t frac;
		uint32_t tol;
		enum mip_ident_verdict want;
	} t[] = {
		{0, 0x80000000u, 7, MIP_IDENT_OK},
		{7, 0, 7, MIP_IDENT_OK},           /* exactly the tolerance ahead */
		{7, 0xffffffffu, 7, MIP_IDENT_OK}, /* judged by whole seconds */
		{8, 0, 7, MIP_IDENT_STALE},        /* one second more */
		{-7, 0, 7, MIP_IDENT_OK},          /* exactly the tolerance behind */
		{-7, 0xffffffffu, 7, MIP_IDENT_OK},
		{-8, 0xffffffffu, 7, MIP_IDENT_STALE},
		{0, 0, 0, MIP_IDENT_OK}, /* tolerance 0: the same second only */
		{1, 0, 0, MIP_IDENT_STALE},
		{-1, 0xffffffffu, 0, MIP_IDENT_STALE},
		{3600, 0, 3600, MIP_IDENT_OK},
		{3601, 0, 3600, MIP_IDENT_STALE},
		{-3601, 0, 3600, MIP_IDENT_STALE},
		{-(int64_t)T, 0, 7, MIP_IDENT_STALE}, /* zero seconds */
		{0xffffffffLL - (int64_t)T, 0, 7, MIP_IDENT_STALE},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t id = SEC(T + t[i].delta_s) | t[i].frac;
		/* No replay involved: the last accepted is far behind. */
		enum mip_ident_verdict v = mip_ident_check(id, now, 0, t[i].tol);
		ck_assert_msg(v == t[i].want, "delta %lld tol %u: %s", (long long)t[i].delta_s,
			      t[i].tol, mip_ident_verdict_name(v));
	}
	/* The default tolerance. */
	ck_assert_int_eq(
		mip_ident_check(SEC(T + MIP_IDENT_TOLERANCE), SEC(T), 0, MIP_IDENT_TOLERANCE),
		MIP_IDENT_OK);
	ck_assert_int_eq(
		mip_ident_check(SEC(T + MIP_IDENT_TOLERANCE + 1), SEC(T), 0, MIP_IDENT_TOLERANCE),
		MIP_IDENT_STALE);
	ck_assert_int_eq(
		mip_ident_check(SEC(T - MIP_IDENT_TOLERANCE - 1), SEC(T), 0, MIP_IDENT_TOLERANCE),
		MIP_IDENT_STALE);
}
END_TEST

START_TEST(test_replay)
{
	const uint64_t now = SEC(T) | 0x1000;
	const uint64_t last = SEC(T - 1) | 0x5555;

	ck_assert_int_eq(mip_ident_check(last, now, last, 7), MIP_IDENT_REPLAY);     /* equal */
	ck_assert_int_eq(mip_ident_check(last - 1, now, last, 7), MIP_IDENT_REPLAY); /* lower */
	ck_assert_int_eq(mip_ident_check(SEC(T - 2), now, last, 7), MIP_IDENT_REPLAY);
	ck_assert_int_eq(mip_ident_check(last + 1, now, last, 7), MIP_IDENT_OK);
	ck_assert_int_eq(mip_ident_check(now, now, last, 7), MIP_IDENT_OK);
	/* A lower fraction in the same second is still a replay. */
	ck_assert_int_eq(mip_ident_check(SEC(T) | 0x0fff, now, SEC(T) | 0x1000, 7),
			 MIP_IDENT_REPLAY);
	/* Outside the tolerance and not newer: the clock is judged first. */
	ck_assert_int_eq(mip_ident_check(SEC(T - 100), now, SEC(T - 50), 7), MIP_IDENT_STALE);
	/* Nothing accepted yet (0): any current id is fine. */
	ck_assert_int_eq(mip_ident_check(now, now, 0, 7), MIP_IDENT_OK);
	/* The largest possible last accepted id leaves nothing newer. */
	ck_assert_int_eq(mip_ident_check(UINT64_MAX, UINT64_MAX, UINT64_MAX, 7), MIP_IDENT_REPLAY);
}
END_TEST

START_TEST(test_mismatch_reply)
{
	ck_assert_uint_eq(mip_ident_mismatch_reply(0x1111111122222222ULL, 0x3333333344444444ULL),
			  0x3333333322222222ULL);
	ck_assert_uint_eq(mip_ident_mismatch_reply(0xffffffffffffffffULL, 0),
			  0x00000000ffffffffULL);
	ck_assert_uint_eq(mip_ident_mismatch_reply(0, 0xffffffffffffffffULL),
			  0xffffffff00000000ULL);
	ck_assert_uint_eq(mip_ident_mismatch_reply(0xdeadbeef00c0ffeeULL, 0x0123456789abcdefULL),
			  0x0123456700c0ffeeULL);
}
END_TEST

START_TEST(test_offset)
{
	ck_assert_int_eq(mip_ident_offset(SEC(T + 10) | 5, SEC(T) | 0xffffffffu), 10);
	ck_assert_int_eq(mip_ident_offset(SEC(T - 10), SEC(T) | 7), -10);
	ck_assert_int_eq(mip_ident_offset(SEC(T), SEC(T) | 0x1234), 0);
	ck_assert_int_eq(mip_ident_offset(SEC(0xffffffffu), 0), 0xffffffffLL);
	ck_assert_int_eq(mip_ident_offset(0, SEC(0xffffffffu)), -0xffffffffLL);

	/* Resync round trip: the agent answers 133, the node's next id is then accepted. */
	const uint64_t agent_now = SEC(T + 500) | 0x100;
	const uint64_t sent = SEC(T) | 0xabc;
	ck_assert_int_eq(mip_ident_check(sent, agent_now, 0, 7), MIP_IDENT_STALE);
	uint64_t reply = mip_ident_mismatch_reply(sent, agent_now);
	ck_assert_int_eq(mip_ident_offset(reply, sent), 500);
	ck_assert_uint_eq(reply & 0xffffffffu, 0xabc);
}
END_TEST

static uint64_t wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec + MIP_IDENT_NTP_OFFSET;
}

/* 2026-01-01T00:00:00Z in microseconds since 1970, and in NTP seconds. */
#define W_US  1767225600000000ULL
#define W_NTP 3976214400ULL
/* Random bits below a microsecond: two ids of one microsecond may differ by this much. */
#define NOISE 0xfffu

START_TEST(test_at)
{
	unsigned seen = 0;

	ck_assert_uint_eq(mip_ident_at(W_US) >> 32, W_NTP);
	ck_assert_uint_eq(mip_ident_at(W_US) & ~(uint64_t)NOISE, SEC(W_NTP));
	ck_assert_uint_eq(mip_ident_at(0) >> 32, MIP_IDENT_NTP_OFFSET);
	/* half a second is half the fraction */
	ck_assert_uint_eq(mip_ident_at(W_US + 500000) & ~(uint64_t)NOISE, SEC(W_NTP) | 0x80000000u);
	/* 20 ms later the fraction has moved by 20 ms (2^32 / 50), give or take both noises */
	uint64_t a = mip_ident_at(W_US + 123456), b = mip_ident_at(W_US + 143456);
	ck_assert_uint_ge(b - a, SEC(1) / 50 - 2 * NOISE - 1);
	ck_assert_uint_le(b - a, SEC(1) / 50 + 2 * NOISE + 1);
	/* every later microsecond gives a larger id, across a second too; the noise is random */
	uint64_t last = mip_ident_at(W_US + 995000);
	for (uint64_t us = W_US + 995001; us < W_US + 1005000; us++) {
		uint64_t id = mip_ident_at(us);
		if (id <= last) /* not ck_assert: it reports its location on every call */
			ck_abort_msg("%llu us: %llx after %llx", (unsigned long long)us,
				     (unsigned long long)id, (unsigned long long)last);
		seen |= 1u << (id & 7);
		last = id;
	}
	ck_assert_uint_eq(last >> 32, W_NTP + 1);
	ck_assert_uint_eq(seen, 0xff);
}
END_TEST

/* mip_ident_now() is mip_ident_at() on the system's wall clock. */
START_TEST(test_now)
{
	uint64_t before = wall_s();
	uint64_t id = mip_ident_now();
	uint64_t after = wall_s();

	ck_assert_uint_ge(id >> 32, before);
	ck_assert_uint_le(id >> 32, after);
}
END_TEST

START_TEST(test_next)
{
	uint64_t id;

	/* Nothing sent before: the time given. */
	id = mip_ident_next(W_US, 0, 0);
	ck_assert_uint_eq(id >> 32, W_NTP);

	/* With the agent's clock 1 hour ahead or behind. */
	ck_assert_uint_eq(mip_ident_next(W_US, 0, 3600) >> 32, W_NTP + 3600);
	ck_assert_uint_eq(mip_ident_next(W_US, 0, -3600) >> 32, W_NTP - 3600);

	/* Last id ahead of the clock: one more than it. */
	uint64_t ahead = SEC(W_NTP + 1000) | 0x77;
	ck_assert_uint_eq(mip_ident_next(W_US, ahead, 0), ahead + 1);
	/* After moving the offset back, still above the last one sent. */
	uint64_t last = mip_ident_next(W_US, 0, 100);
	ck_assert_uint_eq(mip_ident_next(W_US, last, -100), last + 1);

	/* Strictly increasing, however fast it is called: all in one microsecond. */
	last = 0;
	for (int i = 0; i < 100000; i++) {
		id = mip_ident_next(W_US, last, 0);
		if (id <= last)
			ck_abort_msg("iteration %d: %llx after %llx", i, (unsigned long long)id,
				     (unsigned long long)last);
		last = id;
	}
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(mip_ident_verdict_name(MIP_IDENT_OK), "ok");
	ck_assert_str_eq(mip_ident_verdict_name(MIP_IDENT_STALE), "timestamp outside tolerance");
	ck_assert_str_eq(mip_ident_verdict_name(MIP_IDENT_REPLAY),
			 "identification not newer than the last accepted");
	ck_assert_str_eq(mip_ident_verdict_name((enum mip_ident_verdict)7), "?");
	ck_assert_uint_eq(MIP_IDENT_NTP_OFFSET, 2208988800ULL);
}
END_TEST

static Suite *mip_ident_suite(void)
{
	Suite *s = suite_create("mip_ident");
	TCase *tc = tcase_create("ident");

	tcase_add_test(tc, test_tolerance_edges);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_mismatch_reply);
	tcase_add_test(tc, test_offset);
	tcase_add_test(tc, test_at);
	tcase_add_test(tc, test_now);
	tcase_add_test(tc, test_next);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(mip_ident_suite());
}
