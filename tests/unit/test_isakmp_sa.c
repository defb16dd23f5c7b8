/*
 * Unit tests for the ISAKMP codec, part two: the SA payload's proposals,
 * transforms and data attributes (RFC 2408 3.4-3.6, RFC 2407 4.5), the
 * limits of what the parser keeps, the other payload bodies (ID, CERT,
 * CR, NAT-D, NAT-OA, N, D, NONCE), the builder's refusals and the names of
 * values and vendor IDs.
 *
 * Byte layouts are written by hand (or by gen_sa below, which writes the
 * RFC 2408 layout field by field), never by the builder under test.
 */
#include "buf.h"
#include "check_main.h"
#include "isakmp.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The SA payload of test_isakmp.c's Main Mode message 1, at message offset
 * 28 (every offset below is in that message): proposal at 40, transform 1
 * at 48 (TLV life duration at 80), transform 2 at 88.
 */
/* clang-format off */
static const uint8_t sa_pl[100] = {
	0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	/* 40: proposal #1, ISAKMP, SPI size 0, 2 transforms */
	0x00, 0x00, 0x00, 0x58, 0x01, 0x01, 0x00, 0x02,
	/* 48: transform #1 KEY_IKE */
	0x03, 0x00, 0x00, 0x28, 0x01, 0x01, 0x00, 0x00,
	0x80, 0x01, 0x00, 0x07, 0x80, 0x0e, 0x00, 0x80, 0x80, 0x02, 0x00, 0x02,
	0x80, 0x03, 0x00, 0x01, 0x80, 0x04, 0x00, 0x0e, 0x80, 0x0b, 0x00, 0x01,
	0x00, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80,
	/* 88: transform #2 KEY_IKE */
	0x00, 0x00, 0x00, 0x28, 0x02, 0x01, 0x00, 0x00,
	0x80, 0x01, 0x00, 0x07, 0x80, 0x0e, 0x01, 0x00, 0x80, 0x02, 0x00, 0x04,
	0x80, 0x03, 0x00, 0x01, 0x80, 0x04, 0x00, 0x0e, 0x80, 0x0b, 0x00, 0x01,
	0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x70, 0x80,
};
/* clang-format on */

struct err_exp {
	enum isakmp_err code;
	uint8_t payload;
	size_t offset, declared, limit;
	uint16_t notify;
};

static void check_err(int r, const struct isakmp_error *e, const struct err_exp *x)
{
	ck_assert_int_eq(r, x->code);
	ck_assert_int_eq(e->code, x->code);
	ck_assert_uint_eq(e->payload, x->payload);
	ck_assert_uint_eq(e->offset, x->offset);
	ck_assert_uint_eq(e->declared, x->declared);
	ck_assert_uint_eq(e->limit, x->limit);
	ck_assert_uint_eq(e->notify, x->notify);
	if (x->code == ISAKMP_OK)
		ck_assert_ptr_null(e->what);
	else
		ck_assert_ptr_nonnull(e->what);
}

static struct isakmp_chain chain;
static struct isakmp_sa sa, sa2;
static uint8_t big[16384], out[16384];

/* A one-payload chain over d[0..len) at message offset 28; its payload. */
static const struct isakmp_pl *one(uint8_t type, const uint8_t *d, size_t len)
{
	struct isakmp_error e;

	ck_assert_int_eq(isakmp_chain_parse(type, d, len, 28, 0, &chain, &e), ISAKMP_OK);
	ck_assert_uint_eq(chain.n, 1);
	return &chain.pl[0];
}

/* ---- substructure errors ---- */

struct mut {
	const char *name;
	size_t off; /* in the message */
	size_t n;
	uint8_t v[2];
	struct err_exp x;
	int attr; /* the attribute's type when the error is in one, else -1 */
};

#define X(c, pl, off, d, l, nt)                                                                    \
	{                                                                                          \
		ISAKMP_E_##c, pl, off, d, l, nt                                                    \
	}
#define SYN  ISAKMP_N_BAD_PROPOSAL_SYNTAX
#define LIFE ISAKMP_P1_LIFE_DURATION

static const struct mut sa_muts[] = {
	{"DOI 2", 35, 1, {2}, X(DOI, 1, 28, 2, 0, 2), -1},
	{"DOI 0", 35, 1, {0}, X(DOI, 1, 28, 0, 0, 2), -1},
	{"situation secrecy", 39, 1, {2}, X(SITUATION, 1, 28, 2, 0, 3), -1},
	{"proposal Next T", 40, 1, {3}, X(PAYLOAD_TYPE, 2, 40, 3, 0, SYN), -1},
	{"proposal Next P, none follows", 40, 1, {2}, X(TRUNCATED, 2, 128, 4, 0, SYN), -1},
	{"proposal RESERVED", 41, 1, {1}, X(RESERVED, 2, 40, 1, 0, SYN), -1},
	{"proposal length 7", 42, 2, {0, 7}, X(LENGTH_SHORT, 2, 40, 7, 8, SYN), -1},
	{"proposal length 87", 42, 2, {0, 87}, X(LENGTH_OVERRUN, 3, 88, 40, 39, SYN), -1},
	{"proposal length 89", 42, 2, {0, 89}, X(LENGTH_OVERRUN, 2, 40, 89, 88, SYN), -1},
	{"SPI size 17", 46, 1, {17}, X(BAD_VALUE, 2, 40, 17, 16, SYN), -1},
	{"SPI size 4 eats a transform", 46, 1, {4}, X(RESERVED, 3, 52, 1, 0, SYN), -1},
	{"# of transforms 1", 47, 1, {1}, X(COUNT, 2, 40, 1, 2, SYN), -1},
	{"# of transforms 3", 47, 1, {3}, X(COUNT, 2, 40, 3, 2, SYN), -1},
	{"# of transforms 0", 47, 1, {0}, X(COUNT, 2, 40, 0, 2, SYN), -1},
	{"transform Next 5", 48, 1, {5}, X(PAYLOAD_TYPE, 3, 48, 5, 0, SYN), -1},
	{"transform Next none: trailing", 48, 1, {0}, X(TRAILING, 2, 40, 40, 0, SYN), -1},
	{"transform RESERVED", 49, 1, {1}, X(RESERVED, 3, 48, 1, 0, SYN), -1},
	{"transform length 7", 50, 2, {0, 7}, X(LENGTH_SHORT, 3, 48, 7, 8, SYN), -1},
	{"transform length 81", 50, 2, {0, 81}, X(LENGTH_OVERRUN, 3, 48, 81, 80, SYN), -1},
	{"RESERVED2", 54, 2, {0, 1}, X(RESERVED, 3, 48, 1, 0, SYN), -1},
	{"transform # repeated", 92, 1, {1}, X(BAD_VALUE, 3, 88, 1, 0, SYN), -1},
	{"TLV length 5, 4 left", 82, 2, {0, 5}, X(LENGTH_OVERRUN, 3, 80, 5, 4, SYN), LIFE},
	{"TLV length 0xffff", 82, 2, {0xff, 0xff}, X(LENGTH_OVERRUN, 3, 80, 65535, 4, SYN), LIFE},
	{"transform length 38: TLV cut", 50, 2, {0, 38}, X(LENGTH_OVERRUN, 3, 80, 4, 2, SYN), LIFE},
	{"transform length 42: 2 bytes", 50, 2, {0, 42}, X(TRUNCATED, 3, 88, 4, 2, SYN), 0},
};

START_TEST(test_sa_mutations)
{
	const struct mut *u = &sa_muts[_i];
	struct isakmp_error e;
	uint8_t d[sizeof(sa_pl)];
	int r;

	memcpy(d, sa_pl, sizeof(d));
	memcpy(d + u->off - 28, u->v, u->n);
	r = isakmp_sa_parse(one(ISAKMP_PL_SA, d, sizeof(d)), &sa, &e);
	check_err(r, &e, &u->x);
	ck_assert_int_eq(e.in_attr, u->attr >= 0);
	if (u->attr >= 0)
		ck_assert_uint_eq(e.attr_type, u->attr);
	/* isakmp_chain_check finds the same */
	check_err(isakmp_chain_check(&chain, &e), &e, &u->x);
}
END_TEST

/* Every shorter SA body fails inside the SA, at a place within what is left. */
START_TEST(test_sa_truncated)
{
	struct isakmp_error e;
	struct isakmp_pl pl;

	pl = *one(ISAKMP_PL_SA, sa_pl, sizeof(sa_pl));
	for (size_t n = 0; n < sizeof(sa_pl) - 4; n++) {
		int r;

		buf_init_read(&pl.body, sa_pl + 4, n);
		r = isakmp_sa_parse(&pl, &sa, &e);
		ck_assert_int_ne(r, ISAKMP_OK);
		ck_assert_int_eq(e.code, r);
		ck_assert(r == ISAKMP_E_TRUNCATED || r == ISAKMP_E_LENGTH_OVERRUN);
		ck_assert_uint_ge(e.offset, 28);
		ck_assert_uint_le(e.offset, 32 + n);
		ck_assert(e.payload == ISAKMP_PL_SA || e.payload == ISAKMP_PL_P ||
			  e.payload == ISAKMP_PL_T);
		ck_assert_uint_gt(e.notify, 0);
	}
}
END_TEST

/* ---- limits ---- */

/*
 * An SA payload written out field by field: nprop proposals (#1..) of ESP
 * with SPI 0x0000000i, nxf transforms each (#1.., ESP_AES), nattr TV
 * attributes each (type k+1, value k).  Returns its length.
 */
static size_t gen_sa(uint8_t *d, size_t nprop, size_t nxf, size_t nattr)
{
	size_t xlen = 8 + 4 * nattr, plen = 12 + nxf * xlen, len = 12 + nprop * plen;
	uint8_t *p = d;

	ck_assert_uint_le(len, sizeof(big));
	*p++ = 0, *p++ = 0, *p++ = (uint8_t)(len >> 8), *p++ = (uint8_t)len;
	*p++ = 0, *p++ = 0, *p++ = 0, *p++ = 1, *p++ = 0, *p++ = 0, *p++ = 0, *p++ = 1;
	for (size_t i = 0; i < nprop; i++) {
		*p++ = i + 1 < nprop ? 2 : 0, *p++ = 0;
		*p++ = (uint8_t)(plen >> 8), *p++ = (uint8_t)plen;
		*p++ = (uint8_t)(i + 1), *p++ = 3, *p++ = 4, *p++ = (uint8_t)nxf;
		*p++ = 0, *p++ = 0, *p++ = 0, *p++ = (uint8_t)i;
		for (size_t j = 0; j < nxf; j++) {
			*p++ = j + 1 < nxf ? 3 : 0, *p++ = 0;
			*p++ = (uint8_t)(xlen >> 8), *p++ = (uint8_t)xlen;
			*p++ = (uint8_t)(j + 1), *p++ = 12, *p++ = 0, *p++ = 0;
			for (size_t k = 0; k < nattr; k++) {
				*p++ = 0x80, *p++ = (uint8_t)(k + 1);
				*p++ = 0, *p++ = (uint8_t)k;
			}
		}
	}
	ck_assert_uint_eq((size_t)(p - d), len);
	return len;
}

/* The largest SA kept: 8 proposals of 16 transforms of 16 attributes; the builder agrees. */
START_TEST(test_sa_max)
{
	struct isakmp_builder bld;
	struct isakmp_error e;
	struct buf b;
	size_t len = gen_sa(big, ISAKMP_MAX_PROPOSALS, ISAKMP_MAX_TRANSFORMS, ISAKMP_MAX_ATTRS);

	ck_assert_uint_eq(len, 12 + 8 * (12 + 16 * (8 + 64)));
	ck_assert_int_eq(isakmp_sa_parse(one(ISAKMP_PL_SA, big, len), &sa, &e), ISAKMP_OK);
	ck_assert_uint_eq(sa.nprop, 8);
	for (size_t i = 0; i < 8; i++) {
		ck_assert_uint_eq(sa.prop[i].num, i + 1);
		ck_assert_uint_eq(isakmp_spi32(&sa.prop[i]), i);
		ck_assert_uint_eq(sa.prop[i].nxf, 16);
		for (size_t j = 0; j < 16; j++) {
			const struct isakmp_transform *t = &sa.prop[i].xf[j];

			ck_assert_uint_eq(t->num, j + 1);
			ck_assert_uint_eq(t->nattr, 16);
			ck_assert_uint_eq(t->attr[15].type, 16);
			ck_assert_uint_eq(t->attr[15].u, 15);
		}
	}
	buf_init_write(&b, out, sizeof(out));
	isakmp_build_init(&bld, &b, NULL);
	ck_assert_int_eq(isakmp_put_sa(&bld, &sa), ISAKMP_OK);
	ck_assert_int_eq(isakmp_build_finish(&bld, NULL), ISAKMP_OK);
	ck_assert_uint_eq(buf_used(&b), len);
	ck_assert_mem_eq(out, big, len);
}
END_TEST

struct limit_case {
	size_t nprop, nxf, nattr;
	struct err_exp x;
	bool in_attr;
};

/* One more than kept, in each dimension: proposal 9 at 232, transform 17 at 244, attribute 17 at
 * 124. */
static const struct limit_case limits[] = {
	{9, 1, 1, X(TOO_MANY, 2, 232, 9, 8, ISAKMP_N_NO_PROPOSAL_CHOSEN), false},
	{1, 17, 1, X(TOO_MANY, 3, 244, 17, 16, ISAKMP_N_NO_PROPOSAL_CHOSEN), false},
	{1, 1, 17, X(TOO_MANY, 3, 124, 17, 16, ISAKMP_N_ATTRIBUTES_NOT_SUPPORTED), true},
};

START_TEST(test_sa_too_many)
{
	const struct limit_case *c = &limits[_i];
	struct isakmp_error e;
	size_t len = gen_sa(big, c->nprop, c->nxf, c->nattr);

	check_err(isakmp_sa_parse(one(ISAKMP_PL_SA, big, len), &sa, &e), &e, &c->x);
	ck_assert_int_eq(e.in_attr, c->in_attr);
}
END_TEST

/* The builder refuses the same counts, and writes nothing. */
START_TEST(test_sa_build_limits)
{
	struct isakmp_builder bld;
	struct isakmp_error e;
	struct buf b;

	gen_sa(big, 1, 1, 1);
	ck_assert_int_eq(isakmp_sa_parse(one(ISAKMP_PL_SA, big, 24 + 12), &sa, &e), ISAKMP_OK);
	for (int k = 0; k < 5; k++) {
		sa2 = sa;
		if (k == 0)
			sa2.nprop = 9;
		else if (k == 1)
			sa2.prop[0].nxf = 17;
		else if (k == 2)
			sa2.prop[0].xf[0].nattr = 17;
		else if (k == 3)
			sa2.prop[0].spi_size = 17;
		else
			sa2.nprop = 0;
		ck_assert_uint_eq(isakmp_sa_body_len(&sa2, &e), 0);
		ck_assert_int_eq(e.code, ISAKMP_E_INVALID);
		buf_init_write(&b, out, sizeof(out));
		isakmp_build_init(&bld, &b, NULL);
		ck_assert_int_eq(isakmp_put_sa(&bld, &sa2), ISAKMP_E_INVALID);
		ck_assert_uint_eq(buf_used(&b), 0);
		ck_assert_int_eq(isakmp_build_finish(&bld, NULL), ISAKMP_E_INVALID);
	}
	sa.prop[0].xf[0].nattr = ISAKMP_MAX_ATTRS;
	ck_assert_int_eq(isakmp_attr_add(&sa.prop[0].xf[0], 1, 1), -1);
	sa.prop[0].xf[0].nattr = 0;
	ck_assert_int_eq(isakmp_attr_add(&sa.prop[0].xf[0], 0x8001, 1), -1);
	ck_assert_uint_eq(sa.prop[0].xf[0].nattr, 0);
}
END_TEST

/* ---- attribute encodings ---- */

/* An SA with one ISAKMP proposal and one KEY_IKE transform holding attrs; its length. */
static size_t wrap_attrs(uint8_t *d, const uint8_t *attrs, size_t n)
{
	static const uint8_t head[20] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
					 0, 1, 0, 0, 0, 0, 1, 1, 0, 1};

	memcpy(d, head, sizeof(head));
	d[3] = (uint8_t)(28 + n);
	d[15] = (uint8_t)(16 + n);
	d[20] = 0, d[21] = 0, d[22] = 0, d[23] = (uint8_t)(8 + n);
	d[24] = 1, d[25] = 1, d[26] = 0, d[27] = 0;
	memcpy(d + 28, attrs, n);
	return 28 + n;
}

struct attr_case {
	uint8_t b[16];
	size_t n;
	uint16_t type;
	bool tv, num;
	uint16_t len;
	uint64_t u;
};

static const struct attr_case attr_cases[] = {
	{{0x80, 0x01, 0xff, 0xff}, 4, 1, true, true, 2, 0xffff},
	{{0x00, 0x0c, 0x00, 0x00}, 4, 12, false, false, 0, 0},
	{{0x00, 0x0c, 0x00, 0x01, 0x7f}, 5, 12, false, true, 1, 0x7f},
	{{0x00, 0x0c, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8},
	 12,
	 12,
	 false,
	 true,
	 8,
	 0x0102030405060708},
	{{0x00, 0x06, 0x00, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 13, 6, false, false, 9, 0},
	{{0xff, 0xff, 0x12, 0x34}, 4, 0x7fff, true, true, 2, 0x1234},
};

/* Each form parses to what it says and the builder writes it back unchanged. */
START_TEST(test_attr_forms)
{
	const struct attr_case *c = &attr_cases[_i];
	struct isakmp_builder bld;
	struct isakmp_error e;
	const struct isakmp_attr *a;
	uint8_t d[64];
	size_t len = wrap_attrs(d, c->b, c->n);
	struct buf b;
	uint32_t v;

	ck_assert_int_eq(isakmp_sa_parse(one(ISAKMP_PL_SA, d, len), &sa, &e), ISAKMP_OK);
	ck_assert_uint_eq(sa.prop[0].xf[0].nattr, 1);
	a = &sa.prop[0].xf[0].attr[0];
	ck_assert_uint_eq(a->type, c->type);
	ck_assert_int_eq(a->tv, c->tv);
	ck_assert_int_eq(a->num, c->num);
	ck_assert_uint_eq(a->len, c->len);
	ck_assert_uint_eq(a->u, c->u);
	ck_assert_ptr_eq(a->val, chain.pl[0].raw + 28 + (c->tv ? 2 : 4));
	ck_assert_int_eq(isakmp_attr_get(&sa.prop[0].xf[0], c->type, &v),
			 c->num && c->u <= 0xffffffff);
	buf_init_write(&b, out, sizeof(out));
	isakmp_build_init(&bld, &b, NULL);
	ck_assert_int_eq(isakmp_put_sa(&bld, &sa), ISAKMP_OK);
	ck_assert_uint_eq(buf_used(&b), len);
	ck_assert_mem_eq(out, d, len);
}
END_TEST

/* Numbers: TV up to 0xffff, then a 4-byte TLV, then an 8-byte one (RFC 2409 Appendix A). */
START_TEST(test_attr_build_numbers)
{
	static const struct {
		uint64_t u;
		uint8_t b[12];
		size_t n;
	} cases[] = {
		{0xffff, {0x80, 0x0c, 0xff, 0xff}, 4},
		{0x10000, {0x00, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00}, 8},
		{0xffffffff, {0x00, 0x0c, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff}, 8},
		{0x100000000, {0x00, 0x0c, 0x00, 0x08, 0, 0, 0, 1, 0, 0, 0, 0}, 12},
	};
	struct isakmp_transform *t = &sa.prop[0].xf[0];
	struct isakmp_error e;
	struct buf b;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&sa, 0, sizeof(sa));
		sa.doi = 1;
		sa.situation = 1;
		sa.nprop = 1;
		sa.prop[0] = (struct isakmp_proposal){.num = 1, .proto = 1, .nxf = 1};
		t->num = 1;
		t->id = 1;
		ck_assert_int_eq(isakmp_attr_add(t, ISAKMP_P1_LIFE_DURATION, cases[i].u), 0);
		ck_assert_uint_eq(isakmp_sa_body_len(&sa, &e), 24 + cases[i].n);
		buf_init_write(&b, out, sizeof(out));
		ck_assert_int_eq(isakmp_sa_body_put(&b, &sa, &e), ISAKMP_OK);
		ck_assert_uint_eq(buf_used(&b), 24 + cases[i].n);
		ck_assert_mem_eq(out + 24, cases[i].b, cases[i].n);
		ck_assert_uint_eq(out[11], 16 + cases[i].n); /* proposal length */
		ck_assert_uint_eq(out[19], 8 + cases[i].n);  /* transform length */
	}
	/* TV forced with a value that does not fit; a type with the AF bit */
	t->attr[0].tv = true;
	t->attr[0].u = 0x10000;
	ck_assert_uint_eq(isakmp_sa_body_len(&sa, &e), 0);
	ck_assert_int_eq(e.code, ISAKMP_E_INVALID);
	ck_assert(e.in_attr);
	t->attr[0] = (struct isakmp_attr){.type = 0x8001, .u = 1};
	ck_assert_uint_eq(isakmp_sa_body_len(&sa, &e), 0);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(isakmp_sa_body_put(&b, &sa, &e), ISAKMP_E_INVALID);
	ck_assert_uint_eq(buf_used(&b), 0);
}
END_TEST

/* ---- the other payload bodies ---- */

struct body_case {
	const char *name;
	uint8_t type;
	uint8_t b[40];
	size_t n;
	struct err_exp x; /* x.code 0: parses */
};

#define E(c, pl, d, l, nt) X(c, pl, 28, d, l, nt)
#define MAL                ISAKMP_N_PAYLOAD_MALFORMED
#define BADID              ISAKMP_N_INVALID_ID_INFORMATION

static const struct body_case bodies[] = {
	{"ID IPV4_ADDR", 5, {1, 6, 0, 80, 192, 0, 2, 1}, 8, {0}},
	{"ID IPV4_ADDR 3 bytes", 5, {1, 0, 0, 0, 192, 0, 2}, 7, E(ID, 5, 3, 4, BADID)},
	{"ID IPV4_ADDR 5 bytes", 5, {1, 0, 0, 0, 192, 0, 2, 1, 0}, 9, E(ID, 5, 5, 4, BADID)},
	{"ID SUBNET 4 bytes", 5, {4, 0, 0, 0, 10, 0, 0, 0}, 8, E(ID, 5, 4, 8, BADID)},
	{"ID RANGE", 5, {7, 0, 0, 0, 10, 0, 0, 1, 10, 0, 0, 9}, 12, {0}},
	{"ID IPV6_ADDR 4 bytes", 5, {5, 0, 0, 0, 10, 0, 0, 1}, 8, E(ID, 5, 4, 16, BADID)},
	{"ID FQDN", 5, {2, 0, 0, 0, 'h', 'a', '.', 'n', 'e', 't'}, 10, {0}},
	{"ID FQDN empty", 5, {2, 0, 0, 0}, 4, E(ID, 5, 0, 1, BADID)},
	{"ID type 12", 5, {12, 0, 0, 0, 1}, 5, E(ID, 5, 12, 0, BADID)},
	{"ID type 0 empty", 5, {0, 0, 0, 0}, 4, E(ID, 5, 0, 0, BADID)},
	{"ID 3 bytes", 5, {1, 0, 0}, 3, E(LENGTH_SHORT, 5, 7, 8, MAL)},
	{"CERT", 6, {4, 0x30, 0x82}, 3, {0}},
	{"CERT empty", 6, {4}, 1, E(LENGTH_SHORT, 6, 5, 6, MAL)},
	{"CR any CA", 7, {4}, 1, {0}},
	{"CR no encoding", 7, {0}, 0, E(LENGTH_SHORT, 7, 4, 5, MAL)},
	{"KE empty", 4, {0}, 0, E(LENGTH_SHORT, 4, 4, 5, MAL)},
	{"NONCE 7", 10, {1, 2, 3, 4, 5, 6, 7}, 7, E(LENGTH_SHORT, 10, 11, 12, MAL)},
	{"NAT-D",
	 20,
	 {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
	 20,
	 {0}},
	{"NAT-OA IPv4", 21, {1, 0, 0, 0, 192, 168, 1, 2}, 8, {0}},
	{"NAT-OA (draft) IPv6", 131, {5, 0, 0, 0, 0x20, 1, 0xd, 0xb8, [19] = 1}, 20, {0}},
	{"NAT-OA RESERVED", 21, {1, 0, 1, 0, 192, 168, 1, 2}, 8, E(RESERVED, 21, 0x100, 0, MAL)},
	{"NAT-OA FQDN", 21, {2, 0, 0, 0, 'a', '.', 'b', 'c'}, 8, E(BAD_VALUE, 21, 2, 0, MAL)},
	{"NAT-OA IPv4 + 1", 21, {1, 0, 0, 0, 192, 168, 1, 2, 0}, 9, E(TRAILING, 21, 1, 0, MAL)},
	{"NAT-OA IPv6 cut", 21, {5, 0, 0, 0, 0x20, 1, 0xd, 0xb8}, 8, E(TRUNCATED, 21, 16, 4, MAL)},
	{"N SPI size 17", 11, {0, 0, 0, 1, 3, 17, 0, 14}, 8, E(BAD_VALUE, 11, 17, 16, MAL)},
	{"N SPI cut", 11, {0, 0, 0, 1, 3, 4, 0, 14, 1, 2}, 10, E(TRUNCATED, 11, 4, 2, MAL)},
	{"D SPI size 0", 12, {0, 0, 0, 1, 3, 0, 0, 1}, 8, E(BAD_VALUE, 12, 0, 0, MAL)},
	{"D no SPIs", 12, {0, 0, 0, 1, 3, 4, 0, 0}, 8, E(BAD_VALUE, 12, 0, 0, MAL)},
	{"D 2 SPIs, 1 there",
	 12,
	 {0, 0, 0, 1, 3, 4, 0, 2, 1, 2, 3, 4},
	 12,
	 E(TRUNCATED, 12, 8, 4, MAL)},
	{"D 2 bytes more",
	 12,
	 {0, 0, 0, 1, 3, 4, 0, 1, 1, 2, 3, 4, 5, 6},
	 14,
	 E(TRAILING, 12, 2, 0, MAL)},
};

/* Through the chain and isakmp_chain_check, which runs each type's parser. */
START_TEST(test_bodies)
{
	const struct body_case *c = &bodies[_i];
	struct isakmp_error e;
	uint8_t d[64];
	int r;

	d[0] = 0;
	d[1] = 0;
	d[2] = 0;
	d[3] = (uint8_t)(4 + c->n);
	memcpy(d + 4, c->b, c->n);
	r = isakmp_chain_parse(c->type, d, 4 + c->n, 28, 0, &chain, &e);
	if (r == ISAKMP_OK)
		r = isakmp_chain_check(&chain, &e);
	check_err(r, &e, &c->x);
}
END_TEST

/* What the successful cases decode to. */
START_TEST(test_body_values)
{
	static const uint8_t id_range[] = {0, 0, 0, 16, 7, 0, 0, 0, 10, 0, 0, 1, 10, 0, 0, 9};
	static const uint8_t id_fqdn[] = {0, 0, 0, 10, 2, 17, 1, 0xb2, 'h', 'a'};
	static const uint8_t cr[] = {0, 0, 0, 5, 4};
	static const uint8_t oa6[] = {0, 0, 0, 24, 5, 0, 0, 0, 0x20, 1, 0xd, 0xb8, [23] = 1};
	static const uint8_t oa4[] = {0, 0, 0, 12, 1, 0, 0, 0, 192, 168, 1, 2};
	struct isakmp_natoa oa;
	struct isakmp_cert ce;
	struct isakmp_error e;
	struct isakmp_id id;

	ck_assert_int_eq(isakmp_id_parse(one(5, id_range, sizeof(id_range)), &id, &e), ISAKMP_OK);
	ck_assert_uint_eq(id.type, ISAKMP_ID_IPV4_ADDR_RANGE);
	ck_assert_uint_eq(id.addr.s_addr, htonl(0x0a000001));
	ck_assert_uint_eq(id.end.s_addr, htonl(0x0a000009));
	ck_assert_uint_eq(id.mask.s_addr, 0);

	ck_assert_int_eq(isakmp_id_parse(one(5, id_fqdn, sizeof(id_fqdn)), &id, &e), ISAKMP_OK);
	ck_assert_uint_eq(id.type, ISAKMP_ID_FQDN);
	ck_assert_uint_eq(id.proto, 17);
	ck_assert_uint_eq(id.port, 434);
	ck_assert_uint_eq(id.data_len, 2);
	ck_assert_mem_eq(id.data, "ha", 2);
	ck_assert_uint_eq(id.addr.s_addr, 0);

	ck_assert_int_eq(isakmp_cert_parse(one(7, cr, sizeof(cr)), &ce, &e), ISAKMP_OK);
	ck_assert_uint_eq(ce.enc, ISAKMP_CERT_X509_SIG);
	ck_assert_uint_eq(ce.len, 0);

	ck_assert_int_eq(isakmp_natoa_parse(one(21, oa4, sizeof(oa4)), &oa, &e), ISAKMP_OK);
	ck_assert_uint_eq(oa.id_type, ISAKMP_ID_IPV4_ADDR);
	ck_assert_uint_eq(oa.addr_len, 4);
	ck_assert_uint_eq(oa.in4.s_addr, htonl(0xc0a80102));
	ck_assert_int_eq(isakmp_natoa_parse(one(131, oa6, sizeof(oa6)), &oa, &e), ISAKMP_OK);
	ck_assert_uint_eq(oa.addr_len, 16);
	ck_assert_mem_eq(oa.addr, oa6 + 8, 16);
	ck_assert_uint_eq(oa.in4.s_addr, 0);

	ck_assert_int_eq(isakmp_mask_plen((struct in_addr){htonl(0)}), 0);
	ck_assert_int_eq(isakmp_mask_plen((struct in_addr){htonl(0xffffffff)}), 32);
	ck_assert_int_eq(isakmp_mask_plen((struct in_addr){htonl(0xfffffff0)}), 28);
	ck_assert_int_eq(isakmp_mask_plen((struct in_addr){htonl(0xff00ff00)}), -1);
	ck_assert_int_eq(isakmp_mask_plen((struct in_addr){htonl(0x7fffffff)}), -1);
}
END_TEST

/* An unknown ID type is a type error, not a length one, parsed or built. */
START_TEST(test_id_errors)
{
	static const uint8_t t12[] = {0, 0, 0, 8, 12, 0, 0, 0};
	static const uint8_t short4[] = {0, 0, 0, 11, 1, 0, 0, 0, 192, 0, 2};
	struct isakmp_id id = {.type = 0};
	struct isakmp_builder bld;
	struct isakmp_error e;
	struct buf b;
	char s[128];

	ck_assert_int_eq(isakmp_id_parse(one(5, t12, sizeof(t12)), &id, &e), ISAKMP_E_ID);
	ck_assert_str_eq(isakmp_error_str(&e, s, sizeof(s)),
			 "ID payload at offset 28: ID type: 12");
	ck_assert_int_eq(isakmp_id_parse(one(5, short4, sizeof(short4)), &id, &e), ISAKMP_E_ID);
	ck_assert_str_eq(isakmp_error_str(&e, s, sizeof(s)),
			 "ID payload at offset 28: identification data length: 3, expected 4");

	id = (struct isakmp_id){.type = 0};
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(isakmp_id_body_put(&b, &id, &e), ISAKMP_E_INVALID);
	ck_assert_str_eq(e.what, "ID type");
	isakmp_build_init(&bld, &b, NULL);
	ck_assert_int_eq(isakmp_put_id(&bld, &id), ISAKMP_E_INVALID);
	ck_assert_str_eq(bld.err.what, "ID type");
	ck_assert_uint_eq(buf_used(&b), 0);
	id = (struct isakmp_id){.type = ISAKMP_ID_FQDN};
	ck_assert_int_eq(isakmp_id_body_put(&b, &id, &e), ISAKMP_E_INVALID);
	ck_assert_uint_eq(e.declared, 0);
	ck_assert_uint_eq(e.limit, 1);
}
END_TEST

/* Each body parser refuses another payload type. */
START_TEST(test_wrong_type)
{
	static const uint8_t vid[] = {0, 0, 0, 8, 1, 2, 3, 4};
	const struct isakmp_pl *pl = one(ISAKMP_PL_VID, vid, sizeof(vid));
	const struct err_exp x = {ISAKMP_E_WRONG_TYPE, 13, 28, 13, 0, 0};
	union {
		struct isakmp_id id;
		struct isakmp_cert c;
		struct isakmp_notify n;
		struct isakmp_delete d;
		struct isakmp_natoa oa;
	} u;
	struct isakmp_data d;
	struct isakmp_error e;

	check_err(isakmp_sa_parse(pl, &sa, &e), &e, &x);
	check_err(isakmp_id_parse(pl, &u.id, &e), &e, &x);
	check_err(isakmp_cert_parse(pl, &u.c, &e), &e, &x);
	check_err(isakmp_notify_parse(pl, &u.n, &e), &e, &x);
	check_err(isakmp_delete_parse(pl, &u.d, &e), &e, &x);
	check_err(isakmp_natoa_parse(pl, &u.oa, &e), &e, &x);
	pl = one(ISAKMP_PL_ID, (const uint8_t[]){0, 0, 0, 8, 1, 0, 0, 0}, 8);
	check_err(isakmp_data_parse(pl, &d, &e), &e,
		  &(struct err_exp){ISAKMP_E_WRONG_TYPE, 5, 28, 5, 0, 0});
}
END_TEST

/* ---- builder refusals ---- */

START_TEST(test_build_refusals)
{
	static const uint8_t data[300];
	struct isakmp_id fq = {.type = ISAKMP_ID_FQDN};
	struct isakmp_cert ce = {.enc = 4};
	struct isakmp_natoa oa = {.id_type = ISAKMP_ID_FQDN};
	struct isakmp_delete de = {.doi = 1, .proto = 3, .spi_size = 0, .nspi = 1, .spis = data};
	struct isakmp_notify no = {.doi = 1, .proto = 3, .spi_size = 17};
	struct isakmp_builder bld;
	struct buf b;

	for (int k = 0; k < 13; k++) {
		int r = 0;

		buf_init_write(&b, out, sizeof(out));
		isakmp_build_init(&bld, &b, NULL);
		switch (k) {
		case 0:
			r = isakmp_put_data(&bld, ISAKMP_PL_NONCE, data, 7);
			break;
		case 1:
			r = isakmp_put_data(&bld, ISAKMP_PL_NONCE, data, 257);
			break;
		case 2:
			r = isakmp_put_data(&bld, ISAKMP_PL_HASH, data, 0);
			break;
		case 3:
			r = isakmp_put_data(&bld, ISAKMP_PL_ID, data, 8);
			break;
		case 4:
			r = isakmp_put_raw(&bld, ISAKMP_PL_NONE, data, 8);
			break;
		case 5:
			r = isakmp_put_raw(&bld, 200, big, ISAKMP_PL_MAX_LEN - 3);
			break;
		case 6:
			r = isakmp_put_id(&bld, &fq);
			break;
		case 7:
			r = isakmp_put_cert(&bld, ISAKMP_PL_CERT, &ce);
			break;
		case 8:
			r = isakmp_put_natoa(&bld, ISAKMP_PL_NATOA, &oa);
			break;
		case 9:
			r = isakmp_put_delete(&bld, &de);
			break;
		case 10:
			r = isakmp_put_notify(&bld, &no);
			break;
		case 11: /* 1 + len wraps */
			ce.len = SIZE_MAX;
			r = isakmp_put_cert(&bld, ISAKMP_PL_CR, &ce);
			break;
		default:
			ce.len = ISAKMP_PL_MAX_LEN - 4;
			r = isakmp_put_cert(&bld, ISAKMP_PL_CERT, &ce);
			break;
		}
		ck_assert_int_eq(r, ISAKMP_E_INVALID);
		ck_assert_uint_eq(buf_used(&b), 0);
		/* sticky: a valid put after it is refused too */
		ck_assert_int_eq(isakmp_put_data(&bld, ISAKMP_PL_VID, data, 4), ISAKMP_E_INVALID);
		ck_assert_uint_eq(buf_used(&b), 0);
		ck_assert_int_eq(isakmp_build_finish(&bld, NULL), ISAKMP_E_INVALID);
	}
	ck_assert_int_eq(isakmp_build_last(&bld, &(const uint8_t *){NULL}, &(size_t){0}), -1);
}
END_TEST

/* No room: nothing written, the header's Next untouched, the need reported. */
START_TEST(test_build_nospace)
{
	static const uint8_t vid[16];
	struct isakmp_hdr h = {.exchange = ISAKMP_EXCH_INFO};
	struct isakmp_builder bld;
	uint8_t small[40];
	struct buf b;

	buf_init_write(&b, small, sizeof(small));
	ck_assert_int_eq(isakmp_build_init(&bld, &b, &h), ISAKMP_OK);
	ck_assert_int_eq(isakmp_put_data(&bld, ISAKMP_PL_VID, vid, 8), ISAKMP_OK);
	ck_assert_uint_eq(small[16], ISAKMP_PL_VID);
	ck_assert_int_eq(isakmp_put_data(&bld, ISAKMP_PL_VID, vid, 16), ISAKMP_E_NOSPACE);
	ck_assert_uint_eq(buf_used(&b), 40);
	ck_assert_uint_eq(small[28], 0); /* the first VID's Next is still none */
	ck_assert_uint_eq(bld.err.declared, 20);
	ck_assert_uint_eq(bld.err.limit, 0);
	ck_assert_int_eq(isakmp_build_finish(&bld, NULL), ISAKMP_E_NOSPACE);

	buf_init_write(&b, small, 20);
	ck_assert_int_eq(isakmp_build_init(&bld, &b, &h), ISAKMP_E_NOSPACE);
	ck_assert_uint_eq(buf_used(&b), 0);
	ck_assert_int_eq(isakmp_put_data(&bld, ISAKMP_PL_VID, vid, 4), ISAKMP_E_NOSPACE);
	buf_init_read(&b, vid, sizeof(vid));
	isakmp_build_init(&bld, &b, NULL);
	ck_assert_int_eq(isakmp_put_data(&bld, ISAKMP_PL_VID, vid, 4), ISAKMP_E_NOSPACE);
}
END_TEST

/* CERT, CR, NAT-OA (both types) go out as the parser reads them back. */
START_TEST(test_build_others)
{
	static const uint8_t cert[3] = {0x30, 0x82, 0x01};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
	/* clang-format off */
	static const uint8_t want[] = {
		7,   0, 0, 8,    4,    0x30, 0x82, 0x01, /* CERT */
		21,  0, 0, 5,    4,                      /* CR, empty */
		131, 0, 0, 12,   1,    0,    0,    0,    192, 0, 2, 7, /* NAT-OA (RFC) */
		0,   0, 0, 24,   5,    0,    0,    0,    0x20, 1, 0xd, 0xb8, 0, 0, 0, 0,
		0,   0, 0, 0,    0,    0,    0,    9, /* NAT-OA (draft), IPv6 */
	};
	/* clang-format on */
	struct isakmp_cert ce = {.enc = 4, .data = cert, .len = 3}, cr = {.enc = 4};
	struct isakmp_natoa oa4 = {.id_type = 1}, oa6 = {.id_type = 5};
	struct isakmp_builder bld;
	struct isakmp_error e;
	struct buf b;
	size_t n;

	oa4.in4.s_addr = htonl(0xc0000207);
	memcpy(oa6.addr, v6, 16);
	buf_init_write(&b, out, sizeof(out));
	isakmp_build_init(&bld, &b, NULL);
	isakmp_put_cert(&bld, ISAKMP_PL_CERT, &ce);
	isakmp_put_cert(&bld, ISAKMP_PL_CR, &cr);
	isakmp_put_natoa(&bld, ISAKMP_PL_NATOA, &oa4);
	isakmp_put_natoa(&bld, ISAKMP_PL_NATOA_DRAFT, &oa6);
	ck_assert_int_eq(isakmp_build_finish(&bld, &n), ISAKMP_OK);
	ck_assert_uint_eq(bld.first, ISAKMP_PL_CERT);
	ck_assert_uint_eq(n, sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
	ck_assert_int_eq(isakmp_chain_parse(bld.first, out, n, 28, 0, &chain, &e), ISAKMP_OK);
	ck_assert_int_eq(isakmp_chain_check(&chain, &e), ISAKMP_OK);
	ck_assert_uint_eq(chain.n, 4);
}
END_TEST

/* ---- names ---- */

struct name_case {
	const char *(*fn)(uint8_t);
	uint8_t v;
	const char *name;
};

START_TEST(test_names)
{
	static const struct name_case cases[] = {
		{isakmp_exchange_name, ISAKMP_EXCH_MAIN, "Main Mode"},
		{isakmp_exchange_name, ISAKMP_EXCH_QUICK, "Quick Mode"},
		{isakmp_exchange_name, 250, "private"},
		{isakmp_exchange_name, 100, "unknown"},
		{isakmp_payload_name, ISAKMP_PL_VID, "VID"},
		{isakmp_payload_name, ISAKMP_PL_NATD, "NAT-D"},
		{isakmp_payload_name, 14, "unknown"},
		{isakmp_payload_name, 200, "private"},
		{isakmp_proto_name, ISAKMP_PROTO_IPSEC_ESP, "ESP"},
		{isakmp_proto_name, 9, "unknown"},
		{isakmp_id_type_name, ISAKMP_ID_IPV4_ADDR_SUBNET, "IPV4_ADDR_SUBNET"},
		{isakmp_id_type_name, 0, "unknown"},
		{isakmp_id_type_name, 12, "unknown"},
		{isakmp_cert_enc_name, ISAKMP_CERT_X509_SIG, "X.509 signature"},
		{isakmp_cert_enc_name, 11, "unknown"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(cases[i].fn(cases[i].v), cases[i].name);
	ck_assert_str_eq(isakmp_notify_name(ISAKMP_N_R_U_THERE), "R-U-THERE");
	ck_assert_str_eq(isakmp_notify_name(ISAKMP_N_NO_PROPOSAL_CHOSEN), "NO-PROPOSAL-CHOSEN");
	ck_assert_str_eq(isakmp_notify_name(ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS),
			 "UNEQUAL-PAYLOAD-LENGTHS");
	ck_assert_str_eq(isakmp_notify_name(0), "unknown error");
	ck_assert_str_eq(isakmp_notify_name(40000), "unknown status");
	ck_assert_str_eq(isakmp_xf_name(ISAKMP_PROTO_IPSEC_ESP, ISAKMP_ESP_AES), "AES-CBC");
	ck_assert_str_eq(isakmp_xf_name(ISAKMP_PROTO_IPSEC_ESP, 17), "unknown");
	ck_assert_str_eq(isakmp_xf_name(ISAKMP_PROTO_ISAKMP, ISAKMP_XF_KEY_IKE), "KEY_IKE");
	ck_assert_str_eq(isakmp_xf_name(ISAKMP_PROTO_IPSEC_AH, ISAKMP_AH_SHA), "AH-SHA");
	ck_assert_str_eq(isakmp_attr_name(ISAKMP_PROTO_ISAKMP, ISAKMP_P1_KEY_LEN), "Key Length");
	ck_assert_str_eq(isakmp_attr_name(ISAKMP_PROTO_IPSEC_ESP, ISAKMP_IPSEC_ENCAP),
			 "Encapsulation Mode");
	ck_assert_str_eq(isakmp_attr_name(ISAKMP_PROTO_IPSEC_ESP, 20000), "private");
	ck_assert_str_eq(isakmp_attr_value_name(ISAKMP_PROTO_ISAKMP, ISAKMP_P1_GROUP, 14),
			 "MODP2048");
	ck_assert_str_eq(isakmp_attr_value_name(ISAKMP_PROTO_ISAKMP, ISAKMP_P1_ENC, 7), "AES-CBC");
	ck_assert_str_eq(isakmp_attr_value_name(ISAKMP_PROTO_IPSEC_ESP, ISAKMP_IPSEC_ENCAP,
						ISAKMP_ENCAP_UDP_TUNNEL_DRAFT),
			 "UDP-encapsulated tunnel (draft)");
	ck_assert_str_eq(isakmp_attr_value_name(ISAKMP_PROTO_ISAKMP, ISAKMP_P1_LIFE_DURATION, 5),
			 "");
	ck_assert_str_eq(isakmp_attr_value_name(ISAKMP_PROTO_ISAKMP, ISAKMP_P1_HASH, 1ULL << 40),
			 "unknown");
	ck_assert_str_eq(isakmp_vid_name(ISAKMP_VID_DPD), "RFC 3706 DPD 1.0");
}
END_TEST

/* Every well-known VID is found by its own bytes, and nothing else is. */
START_TEST(test_vids)
{
	static const uint8_t dpd_vid[16] = ISAKMP_VID_DPD_BYTES;
	size_t n = 99;

	for (int v = ISAKMP_VID_UNKNOWN + 1; v < ISAKMP_VID_MAX; v++) {
		const uint8_t *p = isakmp_vid_bytes((enum isakmp_vid)v, &n);

		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(n, v == ISAKMP_VID_XAUTH ? 8 : 16);
		ck_assert_int_eq(isakmp_vid_lookup(p, n), v);
		ck_assert_int_eq(isakmp_vid_lookup(p, n - 1), ISAKMP_VID_UNKNOWN);
	}
	ck_assert_int_eq(isakmp_vid_lookup(dpd_vid, 16), ISAKMP_VID_DPD);
	ck_assert_ptr_null(isakmp_vid_bytes(ISAKMP_VID_UNKNOWN, &n));
	ck_assert_ptr_null(isakmp_vid_bytes(ISAKMP_VID_MAX, &n));
	ck_assert_int_eq(isakmp_vid_lookup(sa_pl, 16), ISAKMP_VID_UNKNOWN);
}
END_TEST

static Suite *isakmp_sa_suite(void)
{
	Suite *s = suite_create("isakmp_sa");
	TCase *tc;

	tc = tcase_create("sa");
	tcase_add_loop_test(tc, test_sa_mutations, 0, sizeof(sa_muts) / sizeof(sa_muts[0]));
	tcase_add_test(tc, test_sa_truncated);
	tcase_add_test(tc, test_sa_max);
	tcase_add_loop_test(tc, test_sa_too_many, 0, sizeof(limits) / sizeof(limits[0]));
	tcase_add_test(tc, test_sa_build_limits);
	tcase_add_loop_test(tc, test_attr_forms, 0, sizeof(attr_cases) / sizeof(attr_cases[0]));
	tcase_add_test(tc, test_attr_build_numbers);
	suite_add_tcase(s, tc);

	tc = tcase_create("payloads");
	tcase_add_loop_test(tc, test_bodies, 0, sizeof(bodies) / sizeof(bodies[0]));
	tcase_add_test(tc, test_body_values);
	tcase_add_test(tc, test_id_errors);
	tcase_add_test(tc, test_wrong_type);
	tcase_add_test(tc, test_build_refusals);
	tcase_add_test(tc, test_build_nospace);
	tcase_add_test(tc, test_build_others);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_vids);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(isakmp_sa_suite());
}
