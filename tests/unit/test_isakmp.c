/*
 * Unit tests for the ISAKMP codec (common/isakmp*.c): the header and the
 * payload chain (RFC 2408 3.1-3.2), the payloads of Main Mode, Quick Mode
 * and Informational exchanges, the builder, the error reports and the
 * names.  The SA payload's substructures are tested in test_isakmp_sa.c.
 *
 * The vectors are written out by hand from the RFC layouts (RFC 2408 3,
 * RFC 2407 4.5 and 4.6, RFC 2409 Appendix A, RFC 3947, RFC 3706), not
 * produced by the builder; the builder must reproduce them byte for byte.
 */
#include "buf.h"
#include "check_main.h"
#include "isakmp.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#define ICOOKIE 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88
#define RCOOKIE 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8
#define VID3947                                                                                    \
	0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45,  \
		0x2f

/*
 * Main Mode message 1 (148 bytes), initiator to responder:
 *   0  header: cookies 1122..88 / 0, Next SA, 1.0, Identity Protection, flags 0,
 *      message ID 0, Length 148
 *  28  SA (Next VID, 100): DOI IPsec, SIT_IDENTITY_ONLY
 *  40    proposal #1 (88): ISAKMP, SPI size 0, 2 transforms
 *  48      transform #1 (40): KEY_IKE; TV enc AES-CBC, key length 128,
 *          hash SHA1, auth PSK, group 14, life seconds; TLV life 86400 at 80
 *  88      transform #2 (40): the same with key length 256, SHA2-256 and a
 *          TLV life 28800 at 120
 * 128  VID (20): MD5("RFC 3947")
 */
/* clang-format off */
static const uint8_t mm1[148] = {
	ICOOKIE, 0, 0, 0, 0, 0, 0, 0, 0,
	0x01, 0x10, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x94,
	/* 28: SA */
	0x0d, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	/* 40: proposal */
	0x00, 0x00, 0x00, 0x58, 0x01, 0x01, 0x00, 0x02,
	/* 48: transform 1 */
	0x03, 0x00, 0x00, 0x28, 0x01, 0x01, 0x00, 0x00,
	0x80, 0x01, 0x00, 0x07, 0x80, 0x0e, 0x00, 0x80, 0x80, 0x02, 0x00, 0x02,
	0x80, 0x03, 0x00, 0x01, 0x80, 0x04, 0x00, 0x0e, 0x80, 0x0b, 0x00, 0x01,
	0x00, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80,
	/* 88: transform 2 */
	0x00, 0x00, 0x00, 0x28, 0x02, 0x01, 0x00, 0x00,
	0x80, 0x01, 0x00, 0x07, 0x80, 0x0e, 0x01, 0x00, 0x80, 0x02, 0x00, 0x04,
	0x80, 0x03, 0x00, 0x01, 0x80, 0x04, 0x00, 0x0e, 0x80, 0x0b, 0x00, 0x01,
	0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x70, 0x80,
	/* 128: VID */
	0x00, 0x00, 0x00, 0x14, VID3947,
};

/*
 * Quick Mode message 1: the header (E flag, message ID 0x5a5a0001, Length
 * 152) and the plaintext chain that follows it once decrypted:
 *  28  HASH(1) (Next SA, 24): 0xa0..0xb3
 *  52  SA (Next NONCE, 52): DOI IPsec, SIT_IDENTITY_ONLY
 *  64    proposal #1 (40): ESP, SPI size 4, 1 transform, SPI c0ffee01
 *  76      transform #1 (28): ESP_AES; TV life seconds, life 3600,
 *          tunnel, HMAC-SHA1, key length 128
 * 104  NONCE (Next ID, 20): 0x01..0x10
 * 124  ID (Next ID, 12): IPV4_ADDR 10.0.0.5, any protocol and port
 * 136  ID (16): IPV4_ADDR_SUBNET 10.1.0.0/255.255.0.0, UDP port 434
 */
static const uint8_t qm_hdr[28] = {
	ICOOKIE, RCOOKIE, 0x08, 0x10, 0x20, 0x01, 0x5a, 0x5a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x98,
};
static const uint8_t qm[124] = {
	/* 28: HASH */
	0x01, 0x00, 0x00, 0x18, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
	0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3,
	/* 52: SA */
	0x0a, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	/* 64: proposal */
	0x00, 0x00, 0x00, 0x28, 0x01, 0x03, 0x04, 0x01, 0xc0, 0xff, 0xee, 0x01,
	/* 76: transform */
	0x00, 0x00, 0x00, 0x1c, 0x01, 0x0c, 0x00, 0x00, 0x80, 0x01, 0x00, 0x01,
	0x80, 0x02, 0x0e, 0x10, 0x80, 0x04, 0x00, 0x01, 0x80, 0x05, 0x00, 0x02,
	0x80, 0x06, 0x00, 0x80,
	/* 104: NONCE */
	0x05, 0x00, 0x00, 0x14, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	/* 124: ID */
	0x05, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 10, 0, 0, 5,
	/* 136: ID */
	0x00, 0x00, 0x00, 0x10, 0x04, 0x11, 0x01, 0xb2, 10, 1, 0, 0, 255, 255, 0, 0,
};

/*
 * Informational, R-U-THERE (RFC 3706), 60 bytes: Next N, message ID
 * 0x01020304; N at 28 (32): DOI IPsec, protocol ISAKMP, SPI size 16,
 * type 36136, SPI = the cookies, sequence number 42.
 */
static const uint8_t dpd[60] = {
	ICOOKIE, RCOOKIE, 0x0b, 0x10, 0x05, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x3c,
	/* 28: N */
	0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x01, 0x01, 0x10, 0x8d, 0x28,
	ICOOKIE, RCOOKIE, 0x00, 0x00, 0x00, 0x2a,
};

/*
 * Informational, Delete, 48 bytes: Next D, message ID 0x0a0b0c0d; D at 28
 * (20): DOI IPsec, ESP, SPI size 4, 2 SPIs 11223344 and 55667788.
 */
static const uint8_t del[48] = {
	ICOOKIE, RCOOKIE, 0x0c, 0x10, 0x05, 0x00, 0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x00, 0x30,
	/* 28: D */
	0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x03, 0x04, 0x00, 0x02,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
};
/* clang-format on */

static const uint8_t icookie[8] = {ICOOKIE};
static const uint8_t rcookie[8] = {RCOOKIE};
static const uint8_t zero8[8];

/* The top-level payloads of a vector. */
struct pl_exp {
	size_t off;
	uint8_t type;
	size_t len;
};

struct vec {
	const uint8_t *hdr; /* the header, then chain_len bytes of payloads at chain */
	const uint8_t *chain;
	size_t chain_len;
	uint8_t first;
	const struct pl_exp *pl;
	size_t npl;
};

static const struct pl_exp mm1_pl[] = {{28, ISAKMP_PL_SA, 100}, {128, ISAKMP_PL_VID, 20}};
static const struct pl_exp qm_pl[] = {{28, ISAKMP_PL_HASH, 24},
				      {52, ISAKMP_PL_SA, 52},
				      {104, ISAKMP_PL_NONCE, 20},
				      {124, ISAKMP_PL_ID, 12},
				      {136, ISAKMP_PL_ID, 16}};
static const struct pl_exp dpd_pl[] = {{28, ISAKMP_PL_N, 32}};
static const struct pl_exp del_pl[] = {{28, ISAKMP_PL_D, 20}};

static const struct vec vecs[] = {
	{mm1, mm1 + 28, 120, ISAKMP_PL_SA, mm1_pl, 2},
	{qm_hdr, qm, sizeof(qm), ISAKMP_PL_HASH, qm_pl, 5},
	{dpd, dpd + 28, 32, ISAKMP_PL_N, dpd_pl, 1},
	{del, del + 28, 20, ISAKMP_PL_D, del_pl, 1},
};
#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

/* Space for one message. */
struct msg {
	uint8_t d[512];
	size_t len;
};

/* The whole message of vector v (header and chain). */
static void vec_msg(const struct vec *v, struct msg *m)
{
	memcpy(m->d, v->hdr, ISAKMP_HDR_LEN);
	memcpy(m->d + ISAKMP_HDR_LEN, v->chain, v->chain_len);
	m->len = ISAKMP_HDR_LEN + v->chain_len;
}

static void set_len(struct msg *m, size_t len)
{
	m->len = len;
	m->d[24] = (uint8_t)(len >> 24);
	m->d[25] = (uint8_t)(len >> 16);
	m->d[26] = (uint8_t)(len >> 8);
	m->d[27] = (uint8_t)len;
}

/* Payloads at message offsets base.. of chain c match the table. */
static void check_chain(const struct isakmp_chain *c, const uint8_t *msg, const struct vec *v)
{
	ck_assert_uint_eq(c->n, v->npl);
	ck_assert_uint_eq(c->base, ISAKMP_HDR_LEN);
	ck_assert_uint_eq(c->end, ISAKMP_HDR_LEN + v->chain_len);
	ck_assert_uint_eq(c->trailing, 0);
	for (size_t i = 0; i < v->npl; i++) {
		const struct isakmp_pl *pl = &c->pl[i];

		ck_assert_uint_eq(pl->type, v->pl[i].type);
		ck_assert_uint_eq(pl->next, i + 1 < v->npl ? v->pl[i + 1].type : ISAKMP_PL_NONE);
		ck_assert(pl->known);
		ck_assert_uint_eq(pl->offset, v->pl[i].off);
		ck_assert_uint_eq(pl->len, v->pl[i].len);
		ck_assert_ptr_eq(pl->raw, msg + v->pl[i].off);
		ck_assert_uint_eq(buf_left(&pl->body), v->pl[i].len - 4);
		ck_assert_ptr_eq(buf_rptr(&pl->body), msg + v->pl[i].off + 4);
	}
}

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
	ck_assert_ptr_nonnull(e->what);
}

static struct isakmp_msg m;
static struct isakmp_sa sa;

/* ---- parsing the vectors ---- */

/* One attribute: TV or TLV, value bytes at off in the message. */
struct attr_exp {
	uint16_t type;
	bool tv;
	uint16_t len;
	uint64_t u;
	size_t off;
};

static void check_xf(const struct isakmp_transform *t, uint8_t num, uint8_t id, const uint8_t *msg,
		     const struct attr_exp *x, size_t n)
{
	ck_assert_uint_eq(t->num, num);
	ck_assert_uint_eq(t->id, id);
	ck_assert_uint_eq(t->nattr, n);
	for (size_t k = 0; k < n; k++) {
		ck_assert_uint_eq(t->attr[k].type, x[k].type);
		ck_assert_int_eq(t->attr[k].tv, x[k].tv);
		ck_assert(t->attr[k].num);
		ck_assert_uint_eq(t->attr[k].len, x[k].len);
		ck_assert_uint_eq(t->attr[k].u, x[k].u);
		ck_assert_ptr_eq(t->attr[k].val, msg + x[k].off);
	}
}

static const struct attr_exp mm1_xf1[] = {
	{ISAKMP_P1_ENC, true, 2, ISAKMP_ENC_AES_CBC, 58},
	{ISAKMP_P1_KEY_LEN, true, 2, 128, 62},
	{ISAKMP_P1_HASH, true, 2, ISAKMP_HASH_SHA1, 66},
	{ISAKMP_P1_AUTH, true, 2, ISAKMP_AUTH_PSK, 70},
	{ISAKMP_P1_GROUP, true, 2, ISAKMP_GROUP_MODP2048, 74},
	{ISAKMP_P1_LIFE_TYPE, true, 2, ISAKMP_LIFE_SECONDS, 78},
	{ISAKMP_P1_LIFE_DURATION, false, 4, 86400, 84},
};
static const struct attr_exp mm1_xf2[] = {
	{ISAKMP_P1_ENC, true, 2, ISAKMP_ENC_AES_CBC, 98},
	{ISAKMP_P1_KEY_LEN, true, 2, 256, 102},
	{ISAKMP_P1_HASH, true, 2, ISAKMP_HASH_SHA2_256, 106},
	{ISAKMP_P1_AUTH, true, 2, ISAKMP_AUTH_PSK, 110},
	{ISAKMP_P1_GROUP, true, 2, ISAKMP_GROUP_MODP2048, 114},
	{ISAKMP_P1_LIFE_TYPE, true, 2, ISAKMP_LIFE_SECONDS, 118},
	{ISAKMP_P1_LIFE_DURATION, false, 4, 28800, 124},
};

START_TEST(test_parse_mm1)
{
	struct isakmp_error e;
	struct isakmp_data d;
	uint32_t v;

	ck_assert_int_eq(isakmp_msg_parse(mm1, sizeof(mm1), 0, &m, &e), ISAKMP_OK);
	ck_assert_int_eq(e.code, ISAKMP_OK);
	ck_assert_mem_eq(m.hdr.icookie, icookie, 8);
	ck_assert_mem_eq(m.hdr.rcookie, zero8, 8);
	ck_assert_uint_eq(m.hdr.next, ISAKMP_PL_SA);
	ck_assert_uint_eq(m.hdr.version, 0x10);
	ck_assert_uint_eq(m.hdr.exchange, ISAKMP_EXCH_MAIN);
	ck_assert_uint_eq(m.hdr.flags, 0);
	ck_assert_uint_eq(m.hdr.msgid, 0);
	ck_assert_uint_eq(m.hdr.length, 148);
	ck_assert_ptr_eq(m.hdr.raw, mm1);
	check_chain(&m.chain, mm1, &vecs[0]);
	ck_assert_ptr_eq(m.chain.data, mm1 + 28);

	ck_assert_int_eq(isakmp_sa_parse(&m.chain.pl[0], &sa, &e), ISAKMP_OK);
	ck_assert_uint_eq(sa.doi, ISAKMP_DOI_IPSEC);
	ck_assert_uint_eq(sa.situation, ISAKMP_SIT_IDENTITY_ONLY);
	ck_assert_ptr_eq(sa.body, mm1 + 32); /* SAi_b */
	ck_assert_uint_eq(sa.body_len, 96);
	ck_assert_uint_eq(sa.nprop, 1);
	ck_assert_uint_eq(sa.prop[0].num, 1);
	ck_assert_uint_eq(sa.prop[0].proto, ISAKMP_PROTO_ISAKMP);
	ck_assert_uint_eq(sa.prop[0].spi_size, 0);
	ck_assert_uint_eq(sa.prop[0].nxf, 2);
	check_xf(&sa.prop[0].xf[0], 1, ISAKMP_XF_KEY_IKE, mm1, mm1_xf1, 7);
	check_xf(&sa.prop[0].xf[1], 2, ISAKMP_XF_KEY_IKE, mm1, mm1_xf2, 7);
	ck_assert(isakmp_attr_get(&sa.prop[0].xf[0], ISAKMP_P1_LIFE_DURATION, &v));
	ck_assert_uint_eq(v, 86400);
	ck_assert_ptr_eq(isakmp_attr_find(&sa.prop[0].xf[1], ISAKMP_P1_HASH),
			 &sa.prop[0].xf[1].attr[2]);
	ck_assert_ptr_null(isakmp_attr_find(&sa.prop[0].xf[1], ISAKMP_P1_PRF));
	ck_assert(!isakmp_attr_get(&sa.prop[0].xf[1], ISAKMP_P1_PRF, &v));

	ck_assert_int_eq(isakmp_data_parse(&m.chain.pl[1], &d, &e), ISAKMP_OK);
	ck_assert_uint_eq(d.len, 16);
	ck_assert_ptr_eq(d.p, mm1 + 132);
	ck_assert_int_eq(isakmp_vid_lookup(d.p, d.len), ISAKMP_VID_RFC3947);

	ck_assert_uint_eq(isakmp_chain_count(&m.chain, ISAKMP_PL_SA), 1);
	ck_assert_uint_eq(isakmp_chain_count(&m.chain, ISAKMP_PL_KE), 0);
	ck_assert_ptr_eq(isakmp_chain_find(&m.chain, ISAKMP_PL_VID, 0), &m.chain.pl[1]);
	ck_assert_ptr_null(isakmp_chain_find(&m.chain, ISAKMP_PL_VID, 1));
	ck_assert_int_eq(isakmp_chain_check(&m.chain, &e), ISAKMP_OK);
}
END_TEST

static const struct attr_exp qm_xf[] = {
	{ISAKMP_IPSEC_LIFE_TYPE, true, 2, ISAKMP_LIFE_SECONDS, 86},
	{ISAKMP_IPSEC_LIFE_DURATION, true, 2, 3600, 90},
	{ISAKMP_IPSEC_ENCAP, true, 2, ISAKMP_ENCAP_TUNNEL, 94},
	{ISAKMP_IPSEC_AUTH, true, 2, ISAKMP_AUTH_HMAC_SHA1, 98},
	{ISAKMP_IPSEC_KEY_LEN, true, 2, 128, 102},
};

START_TEST(test_parse_qm)
{
	struct isakmp_chain *c = &m.chain;
	struct isakmp_error e;
	struct isakmp_data d;
	struct isakmp_id id;
	static struct msg b;
	const uint8_t *p, *q = b.d;
	size_t n;

	/* the decrypted message: offsets count from its header */
	vec_msg(&vecs[1], &b);
	ck_assert_int_eq(isakmp_chain_parse(ISAKMP_PL_HASH, q + 28, b.len - 28, 28, 0, c, &e),
			 ISAKMP_OK);
	check_chain(c, q, &vecs[1]);
	ck_assert_ptr_eq(c->data, q + 28);

	ck_assert_int_eq(isakmp_data_parse(&c->pl[0], &d, &e), ISAKMP_OK);
	ck_assert_uint_eq(d.len, 20);
	ck_assert_ptr_eq(d.p, q + 32);

	ck_assert_int_eq(isakmp_sa_parse(&c->pl[1], &sa, &e), ISAKMP_OK);
	ck_assert_uint_eq(sa.doi, ISAKMP_DOI_IPSEC);
	ck_assert_uint_eq(sa.situation, ISAKMP_SIT_IDENTITY_ONLY);
	ck_assert_ptr_eq(sa.body, q + 56);
	ck_assert_uint_eq(sa.body_len, 48);
	ck_assert_uint_eq(sa.nprop, 1);
	ck_assert_uint_eq(sa.prop[0].num, 1);
	ck_assert_uint_eq(sa.prop[0].proto, ISAKMP_PROTO_IPSEC_ESP);
	ck_assert_uint_eq(sa.prop[0].spi_size, 4);
	ck_assert_uint_eq(isakmp_spi32(&sa.prop[0]), 0xc0ffee01);
	ck_assert_uint_eq(sa.prop[0].nxf, 1);
	check_xf(&sa.prop[0].xf[0], 1, ISAKMP_ESP_AES, q, qm_xf, 5);

	ck_assert_int_eq(isakmp_data_parse(&c->pl[2], &d, &e), ISAKMP_OK);
	ck_assert_uint_eq(d.len, 16);
	ck_assert_ptr_eq(d.p, q + 108);

	ck_assert_int_eq(isakmp_id_parse(&c->pl[3], &id, &e), ISAKMP_OK);
	ck_assert_uint_eq(id.type, ISAKMP_ID_IPV4_ADDR);
	ck_assert_uint_eq(id.proto, 0);
	ck_assert_uint_eq(id.port, 0);
	ck_assert_ptr_eq(id.data, q + 132);
	ck_assert_uint_eq(id.data_len, 4);
	ck_assert_uint_eq(id.addr.s_addr, htonl(0x0a000005));
	ck_assert_uint_eq(id.mask.s_addr, 0xffffffff);
	ck_assert_ptr_eq(id.body, q + 128); /* IDci_b */
	ck_assert_uint_eq(id.body_len, 8);

	ck_assert_int_eq(isakmp_id_parse(&c->pl[4], &id, &e), ISAKMP_OK);
	ck_assert_uint_eq(id.type, ISAKMP_ID_IPV4_ADDR_SUBNET);
	ck_assert_uint_eq(id.proto, 17);
	ck_assert_uint_eq(id.port, 434);
	ck_assert_uint_eq(id.data_len, 8);
	ck_assert_uint_eq(id.addr.s_addr, htonl(0x0a010000));
	ck_assert_uint_eq(id.mask.s_addr, htonl(0xffff0000));
	ck_assert_int_eq(isakmp_mask_plen(id.mask), 16);
	ck_assert_ptr_eq(id.body, q + 140);
	ck_assert_uint_eq(id.body_len, 12);

	/* HASH(1) covers everything after the HASH payload */
	ck_assert_int_eq(isakmp_chain_after(c, 0, &p, &n), 0);
	ck_assert_ptr_eq(p, q + 52);
	ck_assert_uint_eq(n, 100);
	ck_assert_int_eq(isakmp_chain_after(c, 4, &p, &n), 0);
	ck_assert_ptr_eq(p, q + 152);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(isakmp_chain_after(c, 5, &p, &n), -1);
	ck_assert_uint_eq(isakmp_chain_count(c, ISAKMP_PL_ID), 2);
	ck_assert_ptr_eq(isakmp_chain_find(c, ISAKMP_PL_ID, 1), &c->pl[4]);
	ck_assert_int_eq(isakmp_chain_check(c, &e), ISAKMP_OK);
}
END_TEST

/* E flag: the header is filled and ISAKMP_E_ENCRYPTED; then decrypt, pad, parse. */
START_TEST(test_parse_encrypted)
{
	static const struct err_exp x = {ISAKMP_E_ENCRYPTED, 0, 19, ISAKMP_FLAG_E, 0, 0};
	struct isakmp_error e;
	struct msg b;
	const uint8_t *p;
	size_t n;

	vec_msg(&vecs[1], &b);
	check_err(isakmp_msg_parse(b.d, b.len, 0, &m, &e), &e, &x);
	ck_assert_uint_eq(m.hdr.exchange, ISAKMP_EXCH_QUICK);
	ck_assert_uint_eq(m.hdr.flags, ISAKMP_FLAG_E);
	ck_assert_uint_eq(m.hdr.msgid, 0x5a5a0001);
	ck_assert_uint_eq(m.hdr.next, ISAKMP_PL_HASH);
	ck_assert_uint_eq(m.hdr.length, 152);
	ck_assert_mem_eq(m.hdr.rcookie, rcookie, 8);
	ck_assert_uint_eq(m.chain.n, 0);

	/* the plaintext with 12 bytes of CBC padding, the last one its length */
	memset(b.d + b.len, 0, 12);
	b.d[b.len + 11] = 11;
	b.len += 12;
	ck_assert_int_eq(isakmp_chain_parse(m.hdr.next, b.d + 28, b.len - 28, 28, 0, &m.chain, &e),
			 ISAKMP_E_TRAILING);
	ck_assert_uint_eq(e.offset, 152);
	ck_assert_uint_eq(e.declared, 12);
	ck_assert_int_eq(isakmp_chain_parse(m.hdr.next, b.d + 28, b.len - 28, 28,
					    ISAKMP_PARSE_PADDING, &m.chain, &e),
			 ISAKMP_OK);
	ck_assert_uint_eq(m.chain.n, 5);
	ck_assert_uint_eq(m.chain.end, 152);
	ck_assert_uint_eq(m.chain.trailing, 12);
	ck_assert_int_eq(isakmp_chain_after(&m.chain, 0, &p, &n), 0);
	ck_assert_ptr_eq(p, b.d + 52);
	ck_assert_uint_eq(n, 100); /* the padding is not hashed */
}
END_TEST

START_TEST(test_parse_dpd)
{
	struct isakmp_notify n;
	struct isakmp_error e;
	uint32_t seq;

	ck_assert_int_eq(isakmp_msg_parse(dpd, sizeof(dpd), 0, &m, &e), ISAKMP_OK);
	ck_assert_uint_eq(m.hdr.exchange, ISAKMP_EXCH_INFO);
	ck_assert_uint_eq(m.hdr.msgid, 0x01020304);
	check_chain(&m.chain, dpd, &vecs[2]);
	ck_assert_int_eq(isakmp_notify_parse(&m.chain.pl[0], &n, &e), ISAKMP_OK);
	ck_assert_uint_eq(n.doi, ISAKMP_DOI_IPSEC);
	ck_assert_uint_eq(n.proto, ISAKMP_PROTO_ISAKMP);
	ck_assert_uint_eq(n.spi_size, 16);
	ck_assert_uint_eq(n.type, ISAKMP_N_R_U_THERE);
	ck_assert_mem_eq(n.spi, icookie, 8);
	ck_assert_mem_eq(n.spi + 8, rcookie, 8);
	ck_assert_ptr_eq(n.data, dpd + 56);
	ck_assert_uint_eq(n.data_len, 4);
	ck_assert(isakmp_dpd_seq(&n, &seq));
	ck_assert_uint_eq(seq, 42);
	ck_assert(!isakmp_notify_is_error(n.type));
	n.type = ISAKMP_N_INITIAL_CONTACT;
	ck_assert(!isakmp_dpd_seq(&n, &seq));
}
END_TEST

START_TEST(test_parse_delete)
{
	struct isakmp_delete d;
	struct isakmp_error e;

	ck_assert_int_eq(isakmp_msg_parse(del, sizeof(del), 0, &m, &e), ISAKMP_OK);
	ck_assert_uint_eq(m.hdr.msgid, 0x0a0b0c0d);
	check_chain(&m.chain, del, &vecs[3]);
	ck_assert_int_eq(isakmp_delete_parse(&m.chain.pl[0], &d, &e), ISAKMP_OK);
	ck_assert_uint_eq(d.doi, ISAKMP_DOI_IPSEC);
	ck_assert_uint_eq(d.proto, ISAKMP_PROTO_IPSEC_ESP);
	ck_assert_uint_eq(d.spi_size, 4);
	ck_assert_uint_eq(d.nspi, 2);
	ck_assert_ptr_eq(d.spis, del + 40);
	ck_assert_ptr_eq(isakmp_delete_spi(&d, 0), del + 40);
	ck_assert_ptr_eq(isakmp_delete_spi(&d, 1), del + 44);
	ck_assert_ptr_null(isakmp_delete_spi(&d, 2));
}
END_TEST

/* ---- truncation ---- */

/*
 * Every prefix of every vector fails: below 28 bytes in the header; with the
 * header's Length left alone as a length mismatch; with it patched to the
 * prefix, at the payload the cut falls in, with both numbers.
 */
START_TEST(test_truncated_every_length)
{
	struct isakmp_error e;
	struct isakmp_hdr h;
	struct msg b, t;

	for (size_t vi = 0; vi < NVECS; vi++) {
		const struct vec *v = &vecs[vi];

		vec_msg(v, &b);
		for (size_t n = 0; n < b.len; n++) {
			const struct pl_exp *p = NULL;
			struct err_exp x;
			int r;

			if (n < ISAKMP_HDR_LEN) {
				x = (struct err_exp){ISAKMP_E_TRUNCATED, 0, 0, 28, n, 0};
				check_err(isakmp_hdr_parse(b.d, n, &h, &e), &e, &x);
				check_err(isakmp_msg_parse(b.d, n, 0, &m, &e), &e, &x);
				continue;
			}
			x = (struct err_exp){ISAKMP_E_MSG_LENGTH, 0, 24, b.len, n, 30};
			check_err(isakmp_hdr_parse(b.d, n, &h, &e), &e, &x);

			for (size_t i = 0; i < v->npl; i++)
				if (v->pl[i].off <= n && n < v->pl[i].off + v->pl[i].len)
					p = &v->pl[i];
			ck_assert_ptr_nonnull(p);
			if (n - p->off < 4)
				x = (struct err_exp){
					ISAKMP_E_TRUNCATED,        p->type, p->off, 4, n - p->off,
					ISAKMP_N_PAYLOAD_MALFORMED};
			else
				x = (struct err_exp){ISAKMP_E_LENGTH_OVERRUN,
						     p->type,
						     p->off,
						     p->len,
						     n - p->off,
						     ISAKMP_N_PAYLOAD_MALFORMED};
			for (unsigned fl = 0; fl <= ISAKMP_PARSE_PADDING; fl++) {
				r = isakmp_chain_parse(v->first, b.d + 28, n - 28, 28, fl, &m.chain,
						       &e);
				check_err(r, &e, &x);
				ck_assert_uint_eq(m.chain.n, (size_t)(p - v->pl));
			}
			if (!(v->hdr[19] & ISAKMP_FLAG_E)) { /* through isakmp_msg_parse */
				t = b;
				set_len(&t, n);
				check_err(isakmp_msg_parse(t.d, n, 0, &m, &e), &e, &x);
			}
		}
	}
}
END_TEST

/* ---- header and chain errors ---- */

/* A change of MM1: bytes at off, parsed with flags; expect x. */
struct mut {
	const char *name;
	size_t off;
	size_t n;
	uint8_t v[4];
	unsigned flags;
	struct err_exp x;
};

#define X(c, pl, off, d, l, nt)                                                                    \
	{                                                                                          \
		ISAKMP_E_##c, pl, off, d, l, nt                                                    \
	}
#define PRIV ISAKMP_PARSE_PRIVATE

static const struct mut mm1_muts[] = {
	{"version 2.0", 17, 1, {0x20}, 0, X(VERSION, 0, 17, 0x20, 0, 5)},
	{"version 1.1", 17, 1, {0x11}, 0, X(VERSION, 0, 17, 0x11, 0, 6)},
	{"undefined flag", 19, 1, {0x08}, 0, X(FLAGS, 0, 19, 0x08, 0, 8)},
	{"Length > datagram", 24, 4, {0, 0, 0, 149}, 0, X(MSG_LENGTH, 0, 24, 149, 148, 30)},
	{"Length < datagram", 24, 4, {0, 0, 0, 147}, 0, X(MSG_LENGTH, 0, 24, 147, 148, 30)},
	{"Length < 28", 24, 4, {0, 0, 0, 27}, 0, X(LENGTH_SHORT, 0, 24, 27, 28, 30)},
	{"SA length < 12", 30, 2, {0, 11}, 0, X(LENGTH_SHORT, 1, 28, 11, 12, 16)},
	{"SA length > left", 30, 2, {0, 121}, 0, X(LENGTH_OVERRUN, 1, 28, 121, 120, 16)},
	{"SA length 0xffff", 30, 2, {0xff, 0xff}, 0, X(LENGTH_OVERRUN, 1, 28, 65535, 120, 16)},
	{"SA length 0", 30, 2, {0, 0}, 0, X(LENGTH_SHORT, 1, 28, 0, 12, 16)},
	{"VID length 3", 130, 2, {0, 3}, 0, X(LENGTH_SHORT, 13, 128, 3, 5, 16)},
	{"VID length 4: no data", 130, 2, {0, 4}, 0, X(LENGTH_SHORT, 13, 128, 4, 5, 16)},
	{"VID length > left", 130, 2, {0, 21}, 0, X(LENGTH_OVERRUN, 13, 128, 21, 20, 16)},
	{"SA RESERVED", 29, 1, {0x80}, 0, X(RESERVED, 1, 28, 0x80, 0, 16)},
	{"VID RESERVED", 129, 1, {0x01}, 0, X(RESERVED, 13, 128, 1, 0, 16)},
	{"unknown type 50", 28, 1, {50}, 0, X(PAYLOAD_TYPE, 50, 128, 50, 0, 1)},
	{"proposal at the top", 28, 1, {ISAKMP_PL_P}, 0, X(PAYLOAD_TYPE, 2, 128, 2, 0, 1)},
	{"private type", 28, 1, {200}, 0, X(PAYLOAD_TYPE, 200, 128, 200, 0, 1)},
	{"private type, length 3", 28, 1, {200}, PRIV, X(LENGTH_SHORT, 200, 128, 3, 4, 16)},
	{"Next none before VID", 28, 1, {0}, 0, X(TRAILING, 0, 128, 20, 0, 16)},
	{"header Next none", 16, 1, {0}, 0, X(TRAILING, 0, 28, 120, 0, 16)},
};

START_TEST(test_mutations)
{
	const struct mut *u = &mm1_muts[_i];
	struct isakmp_error e;
	struct msg b;

	memcpy(b.d, mm1, sizeof(mm1));
	b.len = sizeof(mm1);
	memcpy(b.d + u->off, u->v, u->n);
	if (u->flags & ISAKMP_PARSE_PRIVATE)
		b.d[131] = 3; /* a private type's minimum is 4 */
	check_err(isakmp_msg_parse(b.d, b.len, u->flags, &m, &e), &e, &u->x);
}
END_TEST

/* Unknown types do not stop the walk: the chain is complete; private ones pass when asked. */
START_TEST(test_unknown_types)
{
	struct isakmp_error e;
	struct msg b;

	memcpy(b.d, mm1, sizeof(mm1));
	b.len = sizeof(mm1);
	b.d[28] = 50;
	ck_assert_int_eq(isakmp_msg_parse(b.d, b.len, ISAKMP_PARSE_PRIVATE, &m, &e),
			 ISAKMP_E_PAYLOAD_TYPE);
	ck_assert_uint_eq(e.notify, ISAKMP_N_INVALID_PAYLOAD_TYPE);
	ck_assert_uint_eq(m.chain.n, 2);
	ck_assert_uint_eq(m.chain.pl[1].type, 50);
	ck_assert(!m.chain.pl[1].known);
	ck_assert_uint_eq(m.chain.end, 148);

	b.d[28] = 200;
	ck_assert_int_eq(isakmp_msg_parse(b.d, b.len, ISAKMP_PARSE_PRIVATE, &m, &e), ISAKMP_OK);
	ck_assert_uint_eq(m.chain.n, 2);
	ck_assert_uint_eq(m.chain.pl[1].type, 200);
	ck_assert(!m.chain.pl[1].known);
	ck_assert_uint_eq(m.chain.pl[1].len, 20);
	ck_assert_int_eq(isakmp_chain_check(&m.chain, &e), ISAKMP_OK);
}
END_TEST

/* Bytes after the last payload: refused, or counted as padding when asked. */
START_TEST(test_trailing)
{
	static const struct err_exp x = {ISAKMP_E_TRAILING, 0, 148, 5, 0, 16};
	struct isakmp_error e;
	struct msg b;

	memcpy(b.d, mm1, sizeof(mm1));
	memset(b.d + 148, 0xee, 5);
	set_len(&b, 153);
	check_err(isakmp_msg_parse(b.d, b.len, 0, &m, &e), &e, &x);
	ck_assert_uint_eq(m.chain.n, 2);
	ck_assert_int_eq(isakmp_msg_parse(b.d, b.len, ISAKMP_PARSE_PADDING, &m, &e), ISAKMP_OK);
	ck_assert_uint_eq(m.chain.n, 2);
	ck_assert_uint_eq(m.chain.end, 148);
	ck_assert_uint_eq(m.chain.trailing, 5);
}
END_TEST

/* 32 payloads are kept, the 33rd is an error. */
START_TEST(test_max_payloads)
{
	static const struct err_exp x = {ISAKMP_E_TOO_MANY, 13, 28 + 32 * 8, 33, 32, 16};
	struct isakmp_error e;
	uint8_t d[33 * 8];

	for (size_t i = 0; i < 33; i++) {
		uint8_t *p = d + i * 8;

		p[0] = i + 1 < 33 ? ISAKMP_PL_VID : 0;
		p[1] = 0;
		p[2] = 0;
		p[3] = 8;
		memset(p + 4, (int)i, 4);
	}
	d[31 * 8] = 0; /* 32 payloads */
	ck_assert_int_eq(isakmp_chain_parse(ISAKMP_PL_VID, d, 32 * 8, 28, 0, &m.chain, &e),
			 ISAKMP_OK);
	ck_assert_uint_eq(m.chain.n, ISAKMP_MAX_PAYLOADS);
	ck_assert_uint_eq(m.chain.pl[31].offset, 28 + 31 * 8);
	d[31 * 8] = ISAKMP_PL_VID;
	check_err(isakmp_chain_parse(ISAKMP_PL_VID, d, sizeof(d), 28, 0, &m.chain, &e), &e, &x);
	ck_assert_uint_eq(m.chain.n, ISAKMP_MAX_PAYLOADS);
}
END_TEST

/* ---- the builder reproduces the vectors ---- */

/* The header fields of raw, read by hand: the builder patches only Next and Length. */
static void hdr_of(const uint8_t *raw, struct isakmp_hdr *h)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->icookie, raw, 8);
	memcpy(h->rcookie, raw + 8, 8);
	h->exchange = raw[18];
	h->flags = raw[19];
	h->msgid = (uint32_t)raw[20] << 24 | (uint32_t)raw[21] << 16 | (uint32_t)raw[22] << 8 |
		   raw[23];
}

/* The SA of MM1. */
static void mm1_sa(struct isakmp_sa *s)
{
	static const uint8_t life2[4] = {0x00, 0x00, 0x70, 0x80};
	struct isakmp_proposal *p = &s->prop[0];

	memset(s, 0, sizeof(*s));
	s->doi = ISAKMP_DOI_IPSEC;
	s->situation = ISAKMP_SIT_IDENTITY_ONLY;
	s->nprop = 1;
	p->num = 1;
	p->proto = ISAKMP_PROTO_ISAKMP;
	p->nxf = 2;
	for (size_t j = 0; j < 2; j++) {
		struct isakmp_transform *t = &p->xf[j];

		t->num = (uint8_t)(j + 1);
		t->id = ISAKMP_XF_KEY_IKE;
		ck_assert_int_eq(isakmp_attr_add(t, ISAKMP_P1_ENC, ISAKMP_ENC_AES_CBC), 0);
		ck_assert_int_eq(isakmp_attr_add(t, ISAKMP_P1_KEY_LEN, j == 0 ? 128 : 256), 0);
		ck_assert_int_eq(isakmp_attr_add(t, ISAKMP_P1_HASH,
						 j == 0 ? ISAKMP_HASH_SHA1 : ISAKMP_HASH_SHA2_256),
				 0);
		ck_assert_int_eq(isakmp_attr_add(t, ISAKMP_P1_AUTH, ISAKMP_AUTH_PSK), 0);
		ck_assert_int_eq(isakmp_attr_add(t, ISAKMP_P1_GROUP, ISAKMP_GROUP_MODP2048), 0);
		ck_assert_int_eq(isakmp_attr_add(t, ISAKMP_P1_LIFE_TYPE, ISAKMP_LIFE_SECONDS), 0);
	}
	/* 86400 does not fit in 16 bits: a 4-byte TLV; 28800 does, so give the bytes */
	ck_assert_int_eq(isakmp_attr_add(&p->xf[0], ISAKMP_P1_LIFE_DURATION, 86400), 0);
	p->xf[1].attr[6] =
		(struct isakmp_attr){.type = ISAKMP_P1_LIFE_DURATION, .val = life2, .len = 4};
	p->xf[1].nattr = 7;
}

START_TEST(test_build_mm1)
{
	static const uint8_t vid[16] = {VID3947};
	struct isakmp_builder bld;
	struct isakmp_hdr h;
	uint8_t out[512];
	const uint8_t *p;
	struct buf b;
	size_t n, vn;

	hdr_of(mm1, &h);
	mm1_sa(&sa);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(isakmp_build_init(&bld, &b, &h), ISAKMP_OK);
	ck_assert_int_eq(isakmp_put_sa(&bld, &sa), ISAKMP_OK);
	ck_assert_int_eq(isakmp_build_last(&bld, &p, &n), 0);
	ck_assert_ptr_eq(p, out + 32); /* SAi_b as sent */
	ck_assert_uint_eq(n, 96);
	p = isakmp_vid_bytes(ISAKMP_VID_RFC3947, &vn);
	ck_assert_uint_eq(vn, 16);
	ck_assert_mem_eq(p, vid, 16);
	ck_assert_int_eq(isakmp_put_data(&bld, ISAKMP_PL_VID, p, vn), ISAKMP_OK);
	ck_assert_int_eq(isakmp_build_finish(&bld, &n), ISAKMP_OK);
	ck_assert_uint_eq(n, sizeof(mm1));
	ck_assert_mem_eq(out, mm1, sizeof(mm1));
	ck_assert_uint_eq(bld.n, 2);
}
END_TEST

START_TEST(test_build_qm)
{
	static const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const uint8_t spi[4] = {0xc0, 0xff, 0xee, 0x01};
	struct isakmp_id id1 = {.type = ISAKMP_ID_IPV4_ADDR};
	struct isakmp_id id2 = {.type = ISAKMP_ID_IPV4_ADDR_SUBNET, .proto = 17, .port = 434};
	struct isakmp_proposal *pr = &sa.prop[0];
	struct isakmp_builder bld;
	struct isakmp_hdr h;
	uint8_t out[512], hdr[28], *hash;
	const uint8_t *p;
	struct buf b;
	size_t n;

	memset(&sa, 0, sizeof(sa));
	sa.doi = ISAKMP_DOI_IPSEC;
	sa.situation = ISAKMP_SIT_IDENTITY_ONLY;
	sa.nprop = 1;
	*pr = (struct isakmp_proposal){
		.num = 1, .proto = ISAKMP_PROTO_IPSEC_ESP, .spi_size = 4, .nxf = 1};
	memcpy(pr->spi, spi, 4);
	pr->xf[0].num = 1;
	pr->xf[0].id = ISAKMP_ESP_AES;
	isakmp_attr_add(&pr->xf[0], ISAKMP_IPSEC_LIFE_TYPE, ISAKMP_LIFE_SECONDS);
	isakmp_attr_add(&pr->xf[0], ISAKMP_IPSEC_LIFE_DURATION, 3600);
	isakmp_attr_add(&pr->xf[0], ISAKMP_IPSEC_ENCAP, ISAKMP_ENCAP_TUNNEL);
	isakmp_attr_add(&pr->xf[0], ISAKMP_IPSEC_AUTH, ISAKMP_AUTH_HMAC_SHA1);
	isakmp_attr_add(&pr->xf[0], ISAKMP_IPSEC_KEY_LEN, 128);
	ck_assert_uint_eq(pr->xf[0].nattr, 5);
	id1.addr.s_addr = htonl(0x0a000005);
	id2.addr.s_addr = htonl(0x0a010000);
	id2.mask.s_addr = htonl(0xffff0000);

	/* a bare chain (to be encrypted): HASH reserved first, filled at the end */
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(isakmp_build_init(&bld, &b, NULL), ISAKMP_OK);
	ck_assert_int_eq(isakmp_put_reserve(&bld, ISAKMP_PL_HASH, 20, &hash), ISAKMP_OK);
	ck_assert_ptr_eq(hash, out + 4);
	ck_assert_int_eq(isakmp_put_sa(&bld, &sa), ISAKMP_OK);
	ck_assert_int_eq(isakmp_put_data(&bld, ISAKMP_PL_NONCE, nonce, 16), ISAKMP_OK);
	ck_assert_int_eq(isakmp_put_id(&bld, &id1), ISAKMP_OK);
	ck_assert_int_eq(isakmp_put_id(&bld, &id2), ISAKMP_OK);
	ck_assert_int_eq(isakmp_build_last(&bld, &p, &n), 0);
	ck_assert_ptr_eq(p, out + 112); /* IDcr_b */
	ck_assert_uint_eq(n, 12);
	ck_assert_int_eq(isakmp_build_finish(&bld, &n), ISAKMP_OK);
	for (size_t i = 0; i < 20; i++)
		hash[i] = (uint8_t)(0xa0 + i);
	ck_assert_uint_eq(bld.first, ISAKMP_PL_HASH);
	ck_assert_uint_eq(n, sizeof(qm));
	ck_assert_mem_eq(out, qm, sizeof(qm));

	/* encrypted (here: as is), the chain goes after a header written last */
	hdr_of(qm_hdr, &h);
	h.next = bld.first;
	h.length = (uint32_t)(ISAKMP_HDR_LEN + n);
	buf_init_write(&b, hdr, sizeof(hdr));
	ck_assert_int_eq(isakmp_hdr_put(&b, &h), ISAKMP_OK);
	ck_assert_mem_eq(hdr, qm_hdr, 28);
	ck_assert_int_eq(isakmp_hdr_put(&b, &h), ISAKMP_E_NOSPACE);
	ck_assert_uint_eq(buf_used(&b), 28);

	/* the ID body alone, as HASH_I covers it */
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(isakmp_id_body_put(&b, &id2, NULL), ISAKMP_OK);
	ck_assert_uint_eq(buf_used(&b), 12);
	ck_assert_mem_eq(out, qm + 112, 12);
}
END_TEST

START_TEST(test_build_informational)
{
	static const uint8_t seq[4] = {0, 0, 0, 42};
	static const uint8_t spis[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	struct isakmp_notify n = {.doi = 1, .proto = 1, .spi_size = 16, .type = 36136};
	struct isakmp_delete d = {.doi = 1, .proto = 3, .spi_size = 4, .nspi = 2, .spis = spis};
	struct isakmp_builder bld;
	struct isakmp_hdr h;
	uint8_t out[128];
	struct buf b;
	size_t len;

	memcpy(n.spi, icookie, 8);
	memcpy(n.spi + 8, rcookie, 8);
	n.data = seq;
	n.data_len = 4;
	hdr_of(dpd, &h);
	buf_init_write(&b, out, sizeof(out));
	isakmp_build_init(&bld, &b, &h);
	ck_assert_int_eq(isakmp_put_notify(&bld, &n), ISAKMP_OK);
	ck_assert_int_eq(isakmp_build_finish(&bld, &len), ISAKMP_OK);
	ck_assert_uint_eq(len, sizeof(dpd));
	ck_assert_mem_eq(out, dpd, sizeof(dpd));

	hdr_of(del, &h);
	buf_init_write(&b, out, sizeof(out));
	isakmp_build_init(&bld, &b, &h);
	ck_assert_int_eq(isakmp_put_delete(&bld, &d), ISAKMP_OK);
	ck_assert_int_eq(isakmp_build_finish(&bld, &len), ISAKMP_OK);
	ck_assert_uint_eq(len, sizeof(del));
	ck_assert_mem_eq(out, del, sizeof(del));
}
END_TEST

/* ---- error strings and names ---- */

START_TEST(test_error_str)
{
	struct isakmp_error e;
	struct msg b;
	char s[128];

	memcpy(b.d, mm1, sizeof(mm1));
	b.len = sizeof(mm1);
	b.d[131] = 21;
	ck_assert_int_eq(isakmp_msg_parse(b.d, b.len, 0, &m, &e), ISAKMP_E_LENGTH_OVERRUN);
	ck_assert_str_eq(isakmp_error_str(&e, s, sizeof(s)),
			 "VID payload at offset 128: payload length: declared 21, 20 left");
	b.d[131] = 3;
	isakmp_msg_parse(b.d, b.len, 0, &m, &e);
	ck_assert_str_eq(isakmp_error_str(&e, s, sizeof(s)),
			 "VID payload at offset 128: payload length: declared 3, minimum 5");
	isakmp_msg_parse(b.d, 100, 0, &m, &e);
	ck_assert_str_eq(isakmp_error_str(&e, s, sizeof(s)),
			 "message at offset 24: header Length: declared 148, datagram 100");
	isakmp_hdr_parse(b.d, 10, &m.hdr, &e);
	ck_assert_str_eq(isakmp_error_str(&e, s, sizeof(s)),
			 "message at offset 0: ISAKMP header: needs 28 bytes, 10 left");
	b.d[17] = 0x20;
	isakmp_hdr_parse(b.d, b.len, &m.hdr, &e);
	ck_assert_str_eq(isakmp_error_str(&e, s, sizeof(s)),
			 "message at offset 17: major version: version 2.0");
	/* truncated to the buffer, always terminated */
	ck_assert_str_eq(isakmp_error_str(&e, s, 8), "message");
	memset(&e, 0, sizeof(e));
	ck_assert_str_eq(isakmp_error_str(&e, s, sizeof(s)), "ok");
	ck_assert_str_eq(isakmp_err_name(ISAKMP_E_LENGTH_OVERRUN), "length beyond the data");
	ck_assert_str_eq(isakmp_err_name(ISAKMP_E_MAX), "unknown error");
}
END_TEST

static Suite *isakmp_suite(void)
{
	Suite *s = suite_create("isakmp");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_test(tc, test_parse_mm1);
	tcase_add_test(tc, test_parse_qm);
	tcase_add_test(tc, test_parse_encrypted);
	tcase_add_test(tc, test_parse_dpd);
	tcase_add_test(tc, test_parse_delete);
	tcase_add_test(tc, test_truncated_every_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("chain");
	tcase_add_loop_test(tc, test_mutations, 0, sizeof(mm1_muts) / sizeof(mm1_muts[0]));
	tcase_add_test(tc, test_unknown_types);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_max_payloads);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, test_build_mm1);
	tcase_add_test(tc, test_build_qm);
	tcase_add_test(tc, test_build_informational);
	suite_add_tcase(s, tc);

	tcase_add_test(tc, test_error_str);
	return s;
}

int main(void)
{
	return check_main(isakmp_suite());
}
