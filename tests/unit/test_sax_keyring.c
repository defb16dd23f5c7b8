/*
 * Unit tests for common/sax_keyring.c: key rotation of the SA transfer
 * messages (sax_keyring.h has the scheme).  A numbered table of instants
 * around one rotation (and a second one) says which keys the ring sends
 * under and which it accepts; separate cases check that only a bad HMAC or
 * a Sealed field that does not open falls back to the previous keys, that
 * the replay cache sees a message once, and a store's record whose HMAC
 * and seal come from different generations.
 */
#include "buf.h"
#include "check_main.h"
#include "sax.h"
#include "sax_keyring.h"

#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#define T0      1700000000000ull /* the rotation (wall ms) */
#define OVERLAP 1000u
#define WINDOW  (30u * 60 * 1000) /* wide: these tests move the clock, not the stamps' age */
#define MN_ID   "mn1@example.net"

enum gen { GEN_A, GEN_B, GEN_C, GEN_N };

static struct sax_keys gen_keys(enum gen g)
{
	struct sax_keys k;

	memset(&k, 0, sizeof(k));
	memset(k.k_sa, 0x10 + g, SAX_KEY_LEN);
	memset(k.k_db, 0x20 + g, SAX_KEY_LEN);
	k.have_k_sa = true;
	return k;
}

/* A REQUEST (sealed registration bytes) under k, stamped at ts. */
static size_t request(const struct sax_keys *k, uint64_t ts, uint8_t *out, size_t cap)
{
	struct sax_msg m;
	struct buf b;

	memset(&m, 0, sizeof(m));
	m.version = SAX_VERSION;
	m.type = SAX_REQUEST;
	sax_stamp_at(&m, ts);
	inet_pton(AF_INET, "192.0.2.1", &m.sender);
	m.mn_id_len = strlen(MN_ID);
	memcpy(m.mn_id, MN_ID, m.mn_id_len);
	m.req.reg_len = 8;
	memset(m.req.reg, 0xab, 8);
	buf_init_write(&b, out, cap);
	ck_assert_int_eq(sax_build(&b, &m, k), SAX_E_OK);
	return buf_used(&b);
}

/* The ring's answer to a message under generation g at now. */
static enum sax_err accepts(struct sax_keyring *r, enum gen g, uint64_t now,
			    enum sax_ring_slot *slot)
{
	static uint8_t msg[SAX_MSG_MAX];
	struct sax_keys k = gen_keys(g);
	struct sax_msg m;
	size_t len = request(&k, now, msg, sizeof(msg));

	return sax_ring_parse(r, msg, len, now, WINDOW, NULL, &m, slot);
}

/*
 * The table.  Every row: the ring starts with A; rotates to rot1 at T0
 * (GEN_N: no rotation) with overlap ov; then, when rot2 != GEN_N, to rot2
 * at T0 + at2; then at T0 + at: the keys it sends under, and for A, B, C:
 * -1 refused (a bad HMAC), else the slot that accepted it.
 */
struct ring_case {
	const char *name;
	enum gen rot1;
	uint32_t ov;
	enum gen rot2;
	uint64_t at2;
	uint64_t at;
	enum gen send;
	int acc[GEN_N];
	int ret1; /* what the first rotation returns */
	uint64_t dropped;
};

#define NONE  -1
#define CUR   SAX_RING_CUR
#define PREV  SAX_RING_PREV
#define NOROT GEN_N

static const struct ring_case ring_cases[] = {
	/* 0 */ {"no rotation", NOROT, OVERLAP, NOROT, 0, 0, GEN_A, {CUR, NONE, NONE}, 0, 0},
	/* 1 */
	{"at the rotation: old sent, both taken",
	 GEN_B,
	 OVERLAP,
	 NOROT,
	 0,
	 0,
	 GEN_A,
	 {PREV, CUR, NONE},
	 1,
	 0},
	/* 2 */
	{"just before the switch",
	 GEN_B,
	 OVERLAP,
	 NOROT,
	 0,
	 OVERLAP - 1,
	 GEN_A,
	 {PREV, CUR, NONE},
	 1,
	 0},
	/* 3 */
	{"at the switch: new sent",
	 GEN_B,
	 OVERLAP,
	 NOROT,
	 0,
	 OVERLAP,
	 GEN_B,
	 {PREV, CUR, NONE},
	 1,
	 0},
	/* 4 */
	{"just before the old retires",
	 GEN_B,
	 OVERLAP,
	 NOROT,
	 0,
	 2 * OVERLAP - 1,
	 GEN_B,
	 {PREV, CUR, NONE},
	 1,
	 0},
	/* 5 */
	{"the old retired: refused",
	 GEN_B,
	 OVERLAP,
	 NOROT,
	 0,
	 2 * OVERLAP,
	 GEN_B,
	 {NONE, CUR, NONE},
	 1,
	 0},
	/* 6 */
	{"long after", GEN_B, OVERLAP, NOROT, 0, 100 * OVERLAP, GEN_B, {NONE, CUR, NONE}, 1, 0},
	/* 7 */
	{"to the same keys: no change",
	 GEN_A,
	 OVERLAP,
	 NOROT,
	 0,
	 0,
	 GEN_A,
	 {CUR, NONE, NONE},
	 0,
	 0},
	/* 8 */ {"overlap 0: at once", GEN_B, 0, NOROT, 0, 0, GEN_B, {NONE, CUR, NONE}, 1, 0},
	/* 9 */
	{"again within the overlap: the oldest dropped",
	 GEN_B,
	 OVERLAP,
	 GEN_C,
	 OVERLAP / 2,
	 OVERLAP / 2,
	 GEN_B,
	 {NONE, PREV, CUR},
	 1,
	 1},
	/* 10 */
	{"... and its own overlap runs from then",
	 GEN_B,
	 OVERLAP,
	 GEN_C,
	 OVERLAP / 2,
	 OVERLAP / 2 + OVERLAP,
	 GEN_C,
	 {NONE, PREV, CUR},
	 1,
	 1},
	/* 11 */
	{"again after the old retired: nothing dropped",
	 GEN_B,
	 OVERLAP,
	 GEN_C,
	 3 * OVERLAP,
	 3 * OVERLAP,
	 GEN_B,
	 {NONE, PREV, CUR},
	 1,
	 0},
	/* 12 */
	{"back to the previous keys",
	 GEN_B,
	 OVERLAP,
	 GEN_A,
	 OVERLAP / 2,
	 OVERLAP / 2,
	 GEN_B,
	 {CUR, PREV, NONE},
	 1,
	 1},
	/* 13 */
	{"the same keys again within the overlap: unchanged",
	 GEN_B,
	 OVERLAP,
	 GEN_B,
	 OVERLAP / 2,
	 OVERLAP - 1,
	 GEN_A,
	 {PREV, CUR, NONE},
	 1,
	 0},
};

START_TEST(test_ring_table)
{
	const struct ring_case *c = &ring_cases[_i];
	struct sax_keys a = gen_keys(GEN_A), k;
	struct sax_keyring r;
	uint64_t rotations = 0;

	sax_ring_init(&r, &a);
	if (c->rot1 != NOROT) {
		k = gen_keys(c->rot1);
		ck_assert_int_eq(sax_ring_rotate(&r, &k, T0, c->ov), c->ret1);
		rotations += (uint64_t)c->ret1;
	}
	if (c->rot2 != NOROT) {
		k = gen_keys(c->rot2);
		int r2 = sax_ring_rotate(&r, &k, T0 + c->at2, c->ov);
		ck_assert_int_eq(r2, c->rot2 != c->rot1);
		rotations += (uint64_t)r2;
	}
	ck_assert_uint_eq(r.rotations, rotations);
	ck_assert_uint_eq(r.dropped, c->dropped);
	k = gen_keys(c->send);
	ck_assert_msg(memcmp(sax_ring_send(&r, T0 + c->at), &k, sizeof(k)) == 0,
		      "%d %s: sends under the wrong keys", _i, c->name);
	for (int g = 0; g < GEN_N; g++) {
		enum sax_ring_slot slot;
		uint64_t before = r.rx_previous;
		enum sax_err e = accepts(&r, (enum gen)g, T0 + c->at, &slot);
		if (c->acc[g] == NONE) {
			/* exactly as a forgery: a bad HMAC */
			ck_assert_msg(e == SAX_E_MAC, "%d %s: gen %d: %s", _i, c->name, g,
				      sax_err_name(e));
			ck_assert_uint_eq(r.rx_previous, before);
			continue;
		}
		ck_assert_msg(e == SAX_E_OK, "%d %s: gen %d: %s", _i, c->name, g, sax_err_name(e));
		ck_assert_int_eq(slot, c->acc[g]);
		ck_assert_uint_eq(r.rx_previous, before + (slot == SAX_RING_PREV));
		/* a reply goes under the keys that authenticated */
		k = gen_keys((enum gen)g);
		ck_assert(memcmp(sax_ring_keys(&r, slot), &k, sizeof(k)) == 0);
	}
	sax_ring_wipe(&r);
}
END_TEST

/* Retired keys are wiped, not only refused. */
START_TEST(test_ring_wiped)
{
	struct sax_keys a = gen_keys(GEN_A), b = gen_keys(GEN_B), zero;
	struct sax_keyring r;

	memset(&zero, 0, sizeof(zero));
	sax_ring_init(&r, &a);
	ck_assert_int_eq(sax_ring_rotate(&r, &b, T0, OVERLAP), 1);
	sax_ring_sweep(&r, T0 + 2 * OVERLAP - 1);
	ck_assert(r.have_prev);
	ck_assert(memcmp(&r.prev, &a, sizeof(a)) == 0);
	sax_ring_sweep(&r, T0 + 2 * OVERLAP);
	ck_assert(!r.have_prev);
	ck_assert(memcmp(&r.prev, &zero, sizeof(zero)) == 0);
	ck_assert(!sax_ring_has_prev(&r, T0 + 2 * OVERLAP));
}
END_TEST

/*
 * An authentic message under the current keys whose sealed TLVs are bad is
 * refused as such (ATTR), not tried under the previous keys (which would
 * turn it into SEALED): only MAC and SEALED move on.
 */
START_TEST(test_ring_fallback_only_mac_sealed)
{
	static const uint8_t bad_tlv[] = {0x77, 0x77, 0x00, 0x00}; /* unknown, not optional */
	struct sax_keys a = gen_keys(GEN_A), b = gen_keys(GEN_B);
	uint8_t msg[SAX_MSG_MAX];
	struct sax_keyring r;
	struct sax_msg m;
	struct buf buf;
	enum sax_ring_slot slot;

	sax_ring_init(&r, &a);
	ck_assert_int_eq(sax_ring_rotate(&r, &b, T0, OVERLAP), 1);
	memset(&m, 0, sizeof(m));
	m.version = SAX_VERSION;
	m.type = SAX_REQUEST;
	sax_stamp_at(&m, T0);
	m.mn_id_len = strlen(MN_ID);
	memcpy(m.mn_id, MN_ID, m.mn_id_len);
	buf_init_write(&buf, msg, sizeof(msg));
	ck_assert_int_eq(sax_build_raw(&buf, &m, &b, NULL, bad_tlv, sizeof(bad_tlv)), SAX_E_OK);
	ck_assert_int_eq(sax_ring_parse(&r, msg, buf_used(&buf), T0, WINDOW, NULL, &m, &slot),
			 SAX_E_ATTR);
	/* the same under the previous keys: its HMAC moved on, its TLVs are judged once */
	buf_init_write(&buf, msg, sizeof(msg));
	ck_assert_int_eq(sax_build_raw(&buf, &m, &a, NULL, bad_tlv, sizeof(bad_tlv)), SAX_E_OK);
	ck_assert_int_eq(sax_ring_parse(&r, msg, buf_used(&buf), T0, WINDOW, NULL, &m, &slot),
			 SAX_E_ATTR);
	/* stale under the previous keys: stale, not a bad HMAC */
	size_t len = request(&a, T0 - WINDOW - 1, msg, sizeof(msg));
	ck_assert_int_eq(sax_ring_parse(&r, msg, len, T0, WINDOW, NULL, &m, &slot), SAX_E_STALE);
	ck_assert_uint_eq(r.rx_previous, 0);
}
END_TEST

/* The replay cache sees a message once, whichever keys took it. */
START_TEST(test_ring_replay)
{
	struct sax_keys a = gen_keys(GEN_A), b = gen_keys(GEN_B);
	struct sax_replay *rc = sax_replay_new(16, WINDOW);
	uint8_t msg[SAX_MSG_MAX];
	struct sax_keyring r;
	struct sax_msg m;
	enum sax_ring_slot slot;
	size_t len;

	ck_assert_ptr_nonnull(rc);
	sax_ring_init(&r, &a);
	ck_assert_int_eq(sax_ring_rotate(&r, &b, T0, OVERLAP), 1);
	len = request(&a, T0, msg, sizeof(msg));
	ck_assert_int_eq(sax_ring_parse(&r, msg, len, T0, WINDOW, rc, &m, &slot), SAX_E_OK);
	ck_assert_int_eq(slot, SAX_RING_PREV);
	ck_assert_uint_eq(sax_replay_size(rc), 1);
	ck_assert_int_eq(sax_ring_parse(&r, msg, len, T0, WINDOW, rc, &m, &slot), SAX_E_REPLAY);
	/* a forgery under neither key leaves the cache alone */
	struct sax_keys c = gen_keys(GEN_C);
	len = request(&c, T0, msg, sizeof(msg));
	ck_assert_int_eq(sax_ring_parse(&r, msg, len, T0, WINDOW, rc, &m, &slot), SAX_E_MAC);
	ck_assert_uint_eq(sax_replay_size(rc), 1);
	ck_assert_uint_eq(r.rx_previous, 1);
	sax_replay_free(rc);
}
END_TEST

/*
 * A store's record: the HMAC under the store's (new) K_DB, the Sealed field
 * under the FA's old K_SA: taken, counted as under the previous keys; once
 * that K_SA retired, it does not open (SEALED: a bad record, negotiation).
 */
START_TEST(test_ring_mixed_generations)
{
	struct sax_keys a = gen_keys(GEN_A), b = gen_keys(GEN_B), mixed = gen_keys(GEN_B);
	uint8_t msg[SAX_MSG_MAX];
	struct sax_keyring r;
	struct sax_msg m;
	enum sax_ring_slot slot;
	size_t len;

	memcpy(mixed.k_sa, a.k_sa, SAX_KEY_LEN);
	sax_ring_init(&r, &a);
	ck_assert_int_eq(sax_ring_rotate(&r, &b, T0, OVERLAP), 1);
	len = request(&mixed, T0, msg, sizeof(msg));
	ck_assert_int_eq(sax_ring_parse(&r, msg, len, T0, WINDOW, NULL, &m, &slot), SAX_E_OK);
	ck_assert_int_eq(slot, SAX_RING_CUR);
	ck_assert_uint_eq(m.req.reg_len, 8);
	ck_assert_uint_eq(r.rx_previous, 1);
	len = request(&mixed, T0 + 2 * OVERLAP, msg, sizeof(msg));
	ck_assert_int_eq(sax_ring_parse(&r, msg, len, T0 + 2 * OVERLAP, WINDOW, NULL, &m, &slot),
			 SAX_E_SEALED);
	ck_assert_uint_eq(m.req.reg_len, 0); /* wiped */
}
END_TEST

/* A ring with K_DB only (the store, the store client): the same scheme. */
START_TEST(test_ring_k_db_only)
{
	struct sax_keys a = gen_keys(GEN_A), b = gen_keys(GEN_B);
	struct sax_keyring r;
	struct sax_msg m;
	uint8_t msg[SAX_MSG_MAX];
	enum sax_ring_slot slot;
	size_t len;

	a.have_k_sa = b.have_k_sa = false;
	sax_ring_init(&r, &a);
	ck_assert_int_eq(sax_ring_rotate(&r, &b, T0, OVERLAP), 1);
	struct sax_keys full = gen_keys(GEN_A);
	len = request(&full, T0 + OVERLAP, msg, sizeof(msg));
	ck_assert_int_eq(sax_ring_parse(&r, msg, len, T0 + OVERLAP, WINDOW, NULL, &m, &slot),
			 SAX_E_OK);
	ck_assert_int_eq(slot, SAX_RING_PREV);
	ck_assert_uint_eq(m.req.reg_len, 0); /* no K_SA: left sealed */
	len = request(&full, T0 + 2 * OVERLAP, msg, sizeof(msg));
	ck_assert_int_eq(sax_ring_parse(&r, msg, len, T0 + 2 * OVERLAP, WINDOW, NULL, &m, &slot),
			 SAX_E_MAC);
}
END_TEST

static Suite *keyring_suite(void)
{
	Suite *s = suite_create("sax_keyring");
	TCase *tc = tcase_create("ring");

	tcase_add_loop_test(tc, test_ring_table, 0,
			    (int)(sizeof(ring_cases) / sizeof(ring_cases[0])));
	tcase_add_test(tc, test_ring_wiped);
	tcase_add_test(tc, test_ring_fallback_only_mac_sealed);
	tcase_add_test(tc, test_ring_replay);
	tcase_add_test(tc, test_ring_mixed_generations);
	tcase_add_test(tc, test_ring_k_db_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(keyring_suite());
}
