/*
 * Unit tests for common/mip_msg.c: Registration Request and Reply (RFC 5944
 * 3.3, 3.4) with the MN-HA/MN-FA/FA-HA authentication extensions (3.5), the
 * NAI extension (RFC 2794) and the Encapsulating Delivery Style extension
 * (RFC 3024).  The vectors are written out by hand from the RFC layouts.
 */
#include "buf.h"
#include "check_main.h"
#include "mip_auth.h"
#include "mip_msg.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

/*
 * Registration Request (113 bytes):
 *   0  type 1, flags T, lifetime 300
 *   4  home address 10.0.0.5, home agent 10.0.0.1, care-of 192.168.1.1
 *  16  identification 0xe800000012345678
 *  24  NAI (131), 15 bytes "mn1@example.org"
 *  41  unknown skippable extension 200, 2 bytes
 *  45  MN-HA auth (32), length 20, SPI 256, authenticator 0x11..0x20
 *  67  Encapsulating Delivery Style (130), length 0
 *  69  MN-FA auth (33), length 20, SPI 512, authenticator 0x31..0x40
 *  91  FA-HA auth (34), length 20, SPI 768, authenticator 0x51..0x60
 */
/* clang-format off */
static const uint8_t req_vec[113] = {
	0x01, 0x02, 0x01, 0x2c, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x01,
	0x01, 0xe8, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78,
	/* 24: NAI */
	0x83, 0x0f, 'm', 'n', '1', '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g',
	/* 41: skippable 200 */
	0xc8, 0x02, 0xaa, 0xbb,
	/* 45: MN-HA */
	0x20, 0x14, 0x00, 0x00, 0x01, 0x00, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
	0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
	/* 67: encapsulating delivery style */
	0x82, 0x00,
	/* 69: MN-FA */
	0x21, 0x14, 0x00, 0x00, 0x02, 0x00, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
	0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40,
	/* 91: FA-HA */
	0x22, 0x14, 0x00, 0x00, 0x03, 0x00, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
	0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60,
};
/* clang-format on */
/* Lengths at which a prefix of req_vec is itself a complete request. */
static const size_t req_bounds[] = {24, 41, 45, 67, 69, 91, 113};

/*
 * Registration Reply (59 bytes): code 0, lifetime 300, home address
 * 10.0.0.5, home agent 10.0.0.1, identification 0xe800000012345678,
 * NAI at 20, MN-HA (SPI 256, authenticator 0x71..0x80) at 37.
 */
/* clang-format off */
static const uint8_t rep_vec[59] = {
	0x03, 0x00, 0x01, 0x2c, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x01, 0xe8, 0x00, 0x00,
	0x00, 0x12, 0x34, 0x56, 0x78,
	/* 20: NAI */
	0x83, 0x0f, 'm', 'n', '1', '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g',
	/* 37: MN-HA */
	0x20, 0x14, 0x00, 0x00, 0x01, 0x00, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79,
	0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80,
};
/* clang-format on */
static const size_t rep_bounds[] = {20, 37, 59};

/* A valid MN-HA extension with SPI 256 and a dummy authenticator. */
static const uint8_t mnha[22] = {0x20, 0x14, 0x00, 0x00, 0x01, 0x00, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4,
				 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
static const uint8_t nai3[5] = {0x83, 0x03, 'a', '@', 'b'};
static const uint8_t mnfa[22] = {0x21, 0x14, 0x00, 0x00, 0x01, 0x01, 1,  2,  3,  4,  5,
				 6,    7,    8,    9,    10,   11,   12, 13, 14, 15, 16};
static const uint8_t faha[22] = {0x22, 0x14, 0x00, 0x00, 0x01, 0x02, 1,  2,  3,  4,  5,
				 6,    7,    8,    9,    10,   11,   12, 13, 14, 15, 16};
static const uint8_t encap[2] = {0x82, 0x00};

/* A message: the fixed part of req_vec (or rep_vec) followed by pieces. */
struct msg {
	uint8_t d[600];
	size_t len;
};

static void msg_start(struct msg *m, bool reply)
{
	m->len = reply ? 20 : 24;
	memcpy(m->d, reply ? rep_vec : req_vec, m->len);
}

static void msg_add(struct msg *m, const void *p, size_t n)
{
	ck_assert_uint_le(m->len + n, sizeof(m->d));
	memcpy(m->d + m->len, p, n);
	m->len += n;
}

static enum mip_perr parse_req(const struct msg *m, struct mip_reg_request *rq)
{
	return mip_request_parse(m->d, m->len, rq);
}

static enum mip_perr parse_rep(const struct msg *m, struct mip_reg_reply *rp)
{
	return mip_reply_parse(m->d, m->len, rp);
}

/* ---- known vectors ---- */

START_TEST(test_request_vector)
{
	struct mip_reg_request rq;

	ck_assert_int_eq(mip_request_parse(req_vec, sizeof(req_vec), &rq), MIP_PERR_OK);
	ck_assert_uint_eq(rq.flags, MIP_RQ_T);
	ck_assert_uint_eq(rq.lifetime, 300);
	ck_assert_uint_eq(rq.home_addr.s_addr, htonl(0x0a000005));
	ck_assert_uint_eq(rq.home_agent.s_addr, htonl(0x0a000001));
	ck_assert_uint_eq(rq.coa.s_addr, htonl(0xc0a80101));
	ck_assert_uint_eq(rq.id, 0xe800000012345678ULL);

	ck_assert_uint_eq(rq.ext.nai_len, 15);
	ck_assert_ptr_eq(rq.ext.nai, req_vec + 26);
	ck_assert_mem_eq(rq.ext.nai, "mn1@example.org", 15);
	ck_assert_uint_eq(rq.ext.skipped, 1);
	ck_assert(rq.ext.encap_delivery);

	ck_assert(rq.ext.mn_ha.present);
	ck_assert_uint_eq(rq.ext.mn_ha.spi, 256);
	ck_assert_uint_eq(rq.ext.mn_ha.auth_len, 16);
	ck_assert_ptr_eq(rq.ext.mn_ha.auth, req_vec + 51);
	ck_assert_uint_eq(rq.ext.mn_ha.offset, 45);
	ck_assert_uint_eq(rq.ext.mn_ha.covered_len, 51); /* up to and including the SPI */
	ck_assert_uint_eq(rq.ext.mn_ha.end, 67);

	ck_assert(rq.ext.mn_fa.present);
	ck_assert_uint_eq(rq.ext.mn_fa.spi, 512);
	ck_assert_uint_eq(rq.ext.mn_fa.auth_len, 16);
	ck_assert_ptr_eq(rq.ext.mn_fa.auth, req_vec + 75);
	ck_assert_uint_eq(rq.ext.mn_fa.offset, 69);
	ck_assert_uint_eq(rq.ext.mn_fa.covered_len, 75);
	ck_assert_uint_eq(rq.ext.mn_fa.end, 91);

	ck_assert(rq.ext.fa_ha.present);
	ck_assert_uint_eq(rq.ext.fa_ha.spi, 768);
	ck_assert_ptr_eq(rq.ext.fa_ha.auth, req_vec + 97);
	ck_assert_uint_eq(rq.ext.fa_ha.offset, 91);
	ck_assert_uint_eq(rq.ext.fa_ha.covered_len, 97);
	ck_assert_uint_eq(rq.ext.fa_ha.end, 113);
}
END_TEST

START_TEST(test_reply_vector)
{
	struct mip_reg_reply rp;

	ck_assert_int_eq(mip_reply_parse(rep_vec, sizeof(rep_vec), &rp), MIP_PERR_OK);
	ck_assert_uint_eq(rp.code, MIP_CODE_ACCEPTED);
	ck_assert_uint_eq(rp.lifetime, 300);
	ck_assert_uint_eq(rp.home_addr.s_addr, htonl(0x0a000005));
	ck_assert_uint_eq(rp.home_agent.s_addr, htonl(0x0a000001));
	ck_assert_uint_eq(rp.id, 0xe800000012345678ULL);
	ck_assert_uint_eq(rp.ext.nai_len, 15);
	ck_assert_ptr_eq(rp.ext.nai, rep_vec + 22);
	ck_assert(rp.ext.mn_ha.present);
	ck_assert_uint_eq(rp.ext.mn_ha.spi, 256);
	ck_assert_ptr_eq(rp.ext.mn_ha.auth, rep_vec + 43);
	ck_assert_uint_eq(rp.ext.mn_ha.auth_len, 16);
	ck_assert_uint_eq(rp.ext.mn_ha.offset, 37);
	ck_assert_uint_eq(rp.ext.mn_ha.covered_len, 43);
	ck_assert_uint_eq(rp.ext.mn_ha.end, 59);
	ck_assert(!rp.ext.mn_fa.present);
	ck_assert(!rp.ext.fa_ha.present);
	ck_assert(!rp.ext.encap_delivery);
	ck_assert_uint_eq(rp.ext.skipped, 0);
}
END_TEST

START_TEST(test_reply_code_and_flags)
{
	/* Every flag bit and every code byte comes through unchanged. */
	for (unsigned v = 0; v < 256; v++) {
		uint8_t rq_msg[24], rp_msg[20];
		struct mip_reg_request rq;
		struct mip_reg_reply rp;

		memcpy(rq_msg, req_vec, 24);
		memcpy(rp_msg, rep_vec, 20);
		rq_msg[1] = (uint8_t)v;
		rp_msg[1] = (uint8_t)v;
		ck_assert_int_eq(mip_request_parse(rq_msg, 24, &rq), MIP_PERR_OK);
		ck_assert_uint_eq(rq.flags, v);
		ck_assert_int_eq(mip_reply_parse(rp_msg, 20, &rp), MIP_PERR_OK);
		ck_assert_uint_eq(rp.code, v);
	}
}
END_TEST

static bool in_list(size_t v, const size_t *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == v)
			return true;
	return false;
}

START_TEST(test_request_truncated_every_length)
{
	for (size_t len = 0; len < sizeof(req_vec); len++) {
		uint8_t *copy = malloc(len ? len : 1); /* exact size, for memory checkers */
		struct mip_reg_request rq;

		memcpy(copy, req_vec, len);
		enum mip_perr e = mip_request_parse(copy, len, &rq);
		bool boundary = in_list(len, req_bounds, sizeof(req_bounds) / sizeof(size_t));
		enum mip_perr want = boundary ? MIP_PERR_OK : MIP_PERR_TRUNCATED;
		ck_assert_msg(e == want, "len %zu: %s", len, mip_perr_name(e));
		if (boundary) {
			/* A shorter, complete request: only the extensions before len. */
			ck_assert_uint_eq(rq.ext.nai_len, len >= 41 ? 15 : 0);
			ck_assert_uint_eq(rq.ext.skipped, len >= 45 ? 1 : 0);
			ck_assert(rq.ext.mn_ha.present == (len >= 67));
			ck_assert(rq.ext.encap_delivery == (len >= 69));
			ck_assert(rq.ext.mn_fa.present == (len >= 91));
			ck_assert(!rq.ext.fa_ha.present);
		}
		free(copy);
	}
}
END_TEST

START_TEST(test_reply_truncated_every_length)
{
	for (size_t len = 0; len < sizeof(rep_vec); len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct mip_reg_reply rp;

		memcpy(copy, rep_vec, len);
		enum mip_perr e = mip_reply_parse(copy, len, &rp);
		bool boundary = in_list(len, rep_bounds, sizeof(rep_bounds) / sizeof(size_t));
		ck_assert_msg(e == (boundary ? MIP_PERR_OK : MIP_PERR_TRUNCATED), "len %zu: %s",
			      len, mip_perr_name(e));
		free(copy);
	}
}
END_TEST

START_TEST(test_wrong_type)
{
	struct mip_reg_request rq;
	struct mip_reg_reply rp;
	uint8_t m[24];

	ck_assert_int_eq(mip_reply_parse(req_vec, sizeof(req_vec), &rp), MIP_PERR_TYPE);
	ck_assert_int_eq(mip_request_parse(rep_vec, sizeof(rep_vec), &rq), MIP_PERR_TYPE);
	memcpy(m, req_vec, 24);
	const uint8_t types[] = {0, 2, 4, 255};
	for (size_t i = 0; i < sizeof(types); i++) {
		m[0] = types[i];
		ck_assert_int_eq(mip_request_parse(m, 24, &rq), MIP_PERR_TYPE);
		ck_assert_int_eq(mip_reply_parse(m, 24, &rp), MIP_PERR_TYPE);
	}
	/* The type is judged from one byte, before the length. */
	ck_assert_int_eq(mip_request_parse(rep_vec, 1, &rq), MIP_PERR_TYPE);
	ck_assert_int_eq(mip_request_parse(req_vec, 0, &rq), MIP_PERR_TRUNCATED);
}
END_TEST

/* ---- extension types ---- */

/* Each type with length 0, after the fixed part alone and after a valid MN-HA. */
static enum mip_perr want_empty_ext(unsigned type, bool after_mnha, bool reply)
{
	switch (type) {
	case MIP_EXT_MN_HA_AUTH:
		return after_mnha ? MIP_PERR_DUP_EXT : MIP_PERR_BAD_EXT;
	case MIP_EXT_MN_FA_AUTH:
		/* A reply may carry MN-FA alone: a denial by the FA (RFC 5944 3.7.2.3). */
		return after_mnha || reply ? MIP_PERR_BAD_EXT : MIP_PERR_EXT_ORDER;
	case MIP_EXT_FA_HA_AUTH:
		return after_mnha ? MIP_PERR_BAD_EXT : MIP_PERR_EXT_ORDER;
	case MIP_EXT_NAI:
		return after_mnha ? MIP_PERR_EXT_ORDER : MIP_PERR_BAD_EXT;
	case MIP_EXT_ENCAP_DELIVERY:
		return MIP_PERR_OK;
	default:
		return type < 128 ? MIP_PERR_UNKNOWN_EXT : MIP_PERR_OK;
	}
}

START_TEST(test_every_ext_type_len0)
{
	for (int reply = 0; reply < 2; reply++) {
		for (int after = 0; after < 2; after++) {
			for (unsigned type = 0; type < 256; type++) {
				uint8_t ext[2] = {(uint8_t)type, 0};
				struct mip_reg_request rq;
				struct mip_reg_reply rp;
				struct mip_exts *x = reply ? &rp.ext : &rq.ext;
				struct msg m;

				msg_start(&m, reply);
				if (after)
					msg_add(&m, mnha, sizeof(mnha));
				msg_add(&m, ext, 2);
				enum mip_perr e = reply ? parse_rep(&m, &rp) : parse_req(&m, &rq);
				enum mip_perr want = want_empty_ext(type, after, reply);
				ck_assert_msg(e == want, "reply %d after %d type %u: %s, want %s",
					      reply, after, type, mip_perr_name(e),
					      mip_perr_name(want));
				if (e == MIP_PERR_OK) {
					bool skip = type >= 128 && type != MIP_EXT_ENCAP_DELIVERY &&
						    type != MIP_EXT_NAI;
					ck_assert_uint_eq(x->skipped, skip ? 1 : 0);
					ck_assert(x->encap_delivery ==
						  (type == MIP_EXT_ENCAP_DELIVERY));
					ck_assert(x->mn_ha.present == (after == 1));
				}
			}
		}
	}
}
END_TEST

/* Skippable (128-255) extensions of every length are passed over. */
START_TEST(test_skippable_any_length)
{
	uint8_t body[255];

	memset(body, 0x83, sizeof(body)); /* contents that look like extensions */
	for (unsigned len = 0; len < 256; len += 15) {
		uint8_t hdr[2] = {0xfe, (uint8_t)len};
		struct mip_reg_request rq;
		struct msg m;

		msg_start(&m, false);
		msg_add(&m, nai3, sizeof(nai3));
		msg_add(&m, hdr, 2);
		msg_add(&m, body, len);
		msg_add(&m, mnha, sizeof(mnha));
		ck_assert_int_eq(parse_req(&m, &rq), MIP_PERR_OK);
		ck_assert_uint_eq(rq.ext.skipped, 1);
		ck_assert_uint_eq(rq.ext.nai_len, 3);
		ck_assert(rq.ext.mn_ha.present);
		ck_assert_uint_eq(rq.ext.mn_ha.offset, 24 + 5 + 2 + len);
	}
}
END_TEST

/* ---- extension lengths, trailing bytes, duplicates, order ---- */

struct piece {
	const uint8_t *p;
	size_t n;
};

/* A message: the fixed part, then up to 5 pieces; the verdicts for a request and a reply. */
struct ext_case {
	const char *what;
	struct piece parts[5];
	enum mip_perr want, want_reply;
};

#define P(a)                                                                                       \
	{                                                                                          \
		a, sizeof(a)                                                                       \
	}

static void run_cases(const struct ext_case *t, size_t n)
{
	for (int reply = 0; reply < 2; reply++) {
		for (size_t i = 0; i < n; i++) {
			struct mip_reg_request rq;
			struct mip_reg_reply rp;
			struct msg m;

			msg_start(&m, reply);
			for (int k = 0; k < 5 && t[i].parts[k].p != NULL; k++)
				msg_add(&m, t[i].parts[k].p, t[i].parts[k].n);
			enum mip_perr e = reply ? parse_rep(&m, &rp) : parse_req(&m, &rq);
			enum mip_perr want = reply ? t[i].want_reply : t[i].want;
			ck_assert_msg(e == want, "%s (%s): %s, want %s", t[i].what,
				      reply ? "reply" : "request", mip_perr_name(e),
				      mip_perr_name(want));
		}
	}
}

START_TEST(test_ext_lengths)
{
	static const uint8_t nai_over[] = {0x83, 0x10, 'm', 'n', '1', '@', 'e', 'x', 'a',
					   'm',  'p',  'l', 'e', '.', 'o', 'r', 'g'};
	static const uint8_t nai_255[] = {0x83, 0xff, 'a', 'b', 'c'};
	static const uint8_t mnha_len3[] = {0x20, 0x03, 0x00, 0x00, 0x01};
	static const uint8_t mnha_len0[] = {0x20, 0x00};
	static const uint8_t mnha_cut[] = {0x20, 0x14, 0x00, 0x00, 0x01, 0x00, 1,  2,  3,  4, 5,
					   6,    7,    8,    9,    10,   11,   12, 13, 14, 15};
	static const uint8_t mnfa_len2[] = {0x21, 0x02, 0x00, 0x00};
	static const uint8_t encap_len1[] = {0x82, 0x01, 0x00};
	static const uint8_t encap_len2[] = {0x82, 0x02, 0x00, 0x00};
	static const uint8_t type_only[] = {0x83};
	static const uint8_t skip_over[] = {0xc8, 0x05, 0x00, 0x00};
	static const uint8_t skip_255_cut[] = {0xc8, 0xff};
	static const struct ext_case t[] = {
		{"NAI length one beyond the end",
		 {P(nai_over)},
		 MIP_PERR_TRUNCATED,
		 MIP_PERR_TRUNCATED},
		{"NAI length 255, 3 bytes", {P(nai_255)}, MIP_PERR_TRUNCATED, MIP_PERR_TRUNCATED},
		{"MN-HA length 3 (no room for SPI)",
		 {P(mnha_len3)},
		 MIP_PERR_BAD_EXT,
		 MIP_PERR_BAD_EXT},
		{"MN-HA length 0", {P(mnha_len0)}, MIP_PERR_BAD_EXT, MIP_PERR_BAD_EXT},
		{"MN-HA one byte cut", {P(mnha_cut)}, MIP_PERR_TRUNCATED, MIP_PERR_TRUNCATED},
		{"MN-FA length 2", {P(mnha), P(mnfa_len2)}, MIP_PERR_BAD_EXT, MIP_PERR_BAD_EXT},
		{"encap length 1", {P(encap_len1)}, MIP_PERR_BAD_EXT, MIP_PERR_BAD_EXT},
		{"encap length 2", {P(encap_len2)}, MIP_PERR_BAD_EXT, MIP_PERR_BAD_EXT},
		{"type byte without length",
		 {P(type_only)},
		 MIP_PERR_TRUNCATED,
		 MIP_PERR_TRUNCATED},
		{"type byte after MN-HA",
		 {P(mnha), P(type_only)},
		 MIP_PERR_TRUNCATED,
		 MIP_PERR_TRUNCATED},
		{"skippable length beyond the end",
		 {P(skip_over)},
		 MIP_PERR_TRUNCATED,
		 MIP_PERR_TRUNCATED},
		{"skippable length 255, no data",
		 {P(skip_255_cut)},
		 MIP_PERR_TRUNCATED,
		 MIP_PERR_TRUNCATED},
	};
	run_cases(t, sizeof(t) / sizeof(t[0]));
}
END_TEST

/* Authenticators of the wrong size parse; mip_auth_check refuses them. */
START_TEST(test_auth_len_recorded)
{
	for (unsigned alen = 0; alen <= 251; alen++) {
		uint8_t ext[6 + 251];
		struct mip_reg_request rq;
		struct msg m;

		ext[0] = MIP_EXT_MN_HA_AUTH;
		ext[1] = (uint8_t)(4 + alen);
		ext[2] = 0x00;
		ext[3] = 0x00;
		ext[4] = 0x12;
		ext[5] = 0x34;
		memset(ext + 6, 0x5a, alen);
		msg_start(&m, false);
		msg_add(&m, ext, 6 + alen);
		ck_assert_int_eq(parse_req(&m, &rq), MIP_PERR_OK);
		ck_assert(rq.ext.mn_ha.present);
		ck_assert_uint_eq(rq.ext.mn_ha.spi, 0x1234);
		ck_assert_uint_eq(rq.ext.mn_ha.auth_len, alen);
		ck_assert_ptr_eq(rq.ext.mn_ha.auth, m.d + 30);
		ck_assert_uint_eq(rq.ext.mn_ha.covered_len, 30);
		ck_assert_uint_eq(rq.ext.mn_ha.end, 30 + alen);
	}
}
END_TEST

START_TEST(test_trailing_bytes)
{
	static const uint8_t one_zero[] = {0x00};
	static const uint8_t two_zero[] = {0x00, 0x00};
	static const uint8_t two_ff[] = {0xff, 0x00};
	static const uint8_t junk[] = {0x7f, 0x01, 0x00};
	static const struct ext_case t[] = {
		{"one trailing byte",
		 {P(nai3), P(mnha), P(one_zero)},
		 MIP_PERR_TRUNCATED,
		 MIP_PERR_TRUNCATED},
		{"type 0, length 0",
		 {P(nai3), P(mnha), P(two_zero)},
		 MIP_PERR_UNKNOWN_EXT,
		 MIP_PERR_UNKNOWN_EXT},
		{"type 127",
		 {P(nai3), P(mnha), P(junk)},
		 MIP_PERR_UNKNOWN_EXT,
		 MIP_PERR_UNKNOWN_EXT},
		{"skippable after MN-HA", {P(nai3), P(mnha), P(two_ff)}, MIP_PERR_OK, MIP_PERR_OK},
	};
	run_cases(t, sizeof(t) / sizeof(t[0]));

	/* The full vector with one more byte. */
	uint8_t m[sizeof(req_vec) + 1];
	struct mip_reg_request rq;
	memcpy(m, req_vec, sizeof(req_vec));
	m[sizeof(req_vec)] = 0xc8;
	ck_assert_int_eq(mip_request_parse(m, sizeof(m), &rq), MIP_PERR_TRUNCATED);
}
END_TEST

START_TEST(test_duplicates)
{
	static const uint8_t skip[] = {0xc8, 0x00};
	static const struct ext_case t[] = {
		{"NAI twice", {P(nai3), P(nai3), P(mnha)}, MIP_PERR_DUP_EXT, MIP_PERR_DUP_EXT},
		{"MN-HA twice", {P(nai3), P(mnha), P(mnha)}, MIP_PERR_DUP_EXT, MIP_PERR_DUP_EXT},
		{"MN-FA twice", {P(mnha), P(mnfa), P(mnfa)}, MIP_PERR_DUP_EXT, MIP_PERR_DUP_EXT},
		{"FA-HA twice", {P(mnha), P(faha), P(faha)}, MIP_PERR_DUP_EXT, MIP_PERR_DUP_EXT},
		{"encap twice", {P(mnha), P(encap), P(encap)}, MIP_PERR_DUP_EXT, MIP_PERR_DUP_EXT},
		{"MN-HA twice, apart",
		 {P(mnha), P(mnfa), P(mnha)},
		 MIP_PERR_DUP_EXT,
		 MIP_PERR_DUP_EXT},
		{"MN-FA twice, no MN-HA", {P(mnfa), P(mnfa)}, MIP_PERR_EXT_ORDER, MIP_PERR_DUP_EXT},
		{"skippable twice is fine", {P(skip), P(mnha), P(skip)}, MIP_PERR_OK, MIP_PERR_OK},
	};
	run_cases(t, sizeof(t) / sizeof(t[0]));
}
END_TEST

START_TEST(test_order)
{
	static const struct ext_case t[] = {
		{"NAI before MN-HA", {P(nai3), P(mnha)}, MIP_PERR_OK, MIP_PERR_OK},
		{"NAI after MN-HA", {P(mnha), P(nai3)}, MIP_PERR_EXT_ORDER, MIP_PERR_EXT_ORDER},
		/* A denial by the FA: MN-FA without MN-HA, in a reply only. */
		{"MN-FA without MN-HA", {P(nai3), P(mnfa)}, MIP_PERR_EXT_ORDER, MIP_PERR_OK},
		{"MN-FA alone", {P(mnfa)}, MIP_PERR_EXT_ORDER, MIP_PERR_OK},
		{"FA-HA without MN-HA", {P(faha)}, MIP_PERR_EXT_ORDER, MIP_PERR_EXT_ORDER},
		{"MN-FA, FA-HA", {P(mnfa), P(faha)}, MIP_PERR_EXT_ORDER, MIP_PERR_EXT_ORDER},
		/* MN-FA covers MN-HA, never the reverse. */
		{"MN-FA before MN-HA", {P(mnfa), P(mnha)}, MIP_PERR_EXT_ORDER, MIP_PERR_EXT_ORDER},
		{"FA-HA before MN-HA", {P(faha), P(mnha)}, MIP_PERR_EXT_ORDER, MIP_PERR_EXT_ORDER},
		{"MN-HA, MN-FA", {P(mnha), P(mnfa)}, MIP_PERR_OK, MIP_PERR_OK},
		{"MN-HA, FA-HA", {P(mnha), P(faha)}, MIP_PERR_OK, MIP_PERR_OK},
		{"NAI, MN-HA, encap, MN-FA",
		 {P(nai3), P(mnha), P(encap), P(mnfa)},
		 MIP_PERR_OK,
		 MIP_PERR_OK},
		{"NAI after MN-FA",
		 {P(mnha), P(mnfa), P(nai3)},
		 MIP_PERR_EXT_ORDER,
		 MIP_PERR_EXT_ORDER},
		/* The NAI precedes every authenticator (RFC 2794). */
		{"MN-FA, NAI", {P(mnfa), P(nai3)}, MIP_PERR_EXT_ORDER, MIP_PERR_EXT_ORDER},
	};
	run_cases(t, sizeof(t) / sizeof(t[0]));
}
END_TEST

/* ---- builders ---- */

static struct mip_reg_request vec_request(void)
{
	struct mip_reg_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.flags = MIP_RQ_T;
	rq.lifetime = 300;
	rq.home_addr.s_addr = htonl(0x0a000005);
	rq.home_agent.s_addr = htonl(0x0a000001);
	rq.coa.s_addr = htonl(0xc0a80101);
	rq.id = 0xe800000012345678ULL;
	return rq;
}

START_TEST(test_build_matches_vectors)
{
	struct mip_reg_request rq = vec_request();
	struct mip_reg_reply rp;
	uint8_t out[64];
	struct buf b;

	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	ck_assert_int_eq(mip_ext_put_nai(&b, "mn1@example.org", 15), 0);
	ck_assert_uint_eq(buf_used(&b), 41);
	ck_assert_mem_eq(out, req_vec, 41);

	memset(&rp, 0, sizeof(rp));
	rp.code = 0;
	rp.lifetime = 300;
	rp.home_addr.s_addr = htonl(0x0a000005);
	rp.home_agent.s_addr = htonl(0x0a000001);
	rp.id = 0xe800000012345678ULL;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_reply_put(&b, &rp), 0);
	ck_assert_int_eq(mip_ext_put_nai(&b, "mn1@example.org", 15), 0);
	ck_assert_uint_eq(buf_used(&b), 37);
	ck_assert_mem_eq(out, rep_vec, 37);

	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_ext_put_encap_delivery(&b), 0);
	ck_assert_uint_eq(buf_used(&b), 2);
	ck_assert_mem_eq(out, encap, 2);
}
END_TEST

START_TEST(test_build_auth_layout)
{
	const uint8_t key[16] = {0};
	uint8_t out[64];
	struct buf b;

	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put_u8(&b, 0x42), BUF_OK);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_FA_HA_AUTH, 0x01020304, key, 16), 0);
	ck_assert_uint_eq(buf_used(&b), 1 + 22);
	const uint8_t hdr[6] = {0x22, 0x14, 0x01, 0x02, 0x03, 0x04};
	ck_assert_mem_eq(out + 1, hdr, 6);

	/* Every capacity short of the whole extension fails. */
	for (size_t cap = 0; cap < 22; cap++) {
		buf_init_write(&b, out, cap);
		ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, 256, key, 16), -1);
	}
}
END_TEST

START_TEST(test_build_roundtrip)
{
	const uint8_t key[16] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
	struct mip_reg_request rq = vec_request(), back;
	struct mip_reg_reply rp, rback;
	uint8_t out[128];
	struct buf b;

	rq.flags = MIP_RQ_S | MIP_RQ_D | MIP_RQ_T;
	rq.lifetime = 0xffff;
	rq.id = UINT64_MAX;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	ck_assert_int_eq(mip_ext_put_nai(&b, "x@y", 3), 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, 0x100, key, 16), 0);
	ck_assert_int_eq(mip_ext_put_encap_delivery(&b), 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_FA_AUTH, 0x200, key, 16), 0);
	ck_assert_uint_eq(buf_used(&b), 24 + 5 + 22 + 2 + 22);
	ck_assert_int_eq(mip_request_parse(out, buf_used(&b), &back), MIP_PERR_OK);
	ck_assert_uint_eq(back.flags, rq.flags);
	ck_assert_uint_eq(back.lifetime, 0xffff);
	ck_assert_uint_eq(back.home_addr.s_addr, rq.home_addr.s_addr);
	ck_assert_uint_eq(back.home_agent.s_addr, rq.home_agent.s_addr);
	ck_assert_uint_eq(back.coa.s_addr, rq.coa.s_addr);
	ck_assert_uint_eq(back.id, UINT64_MAX);
	ck_assert_uint_eq(back.ext.nai_len, 3);
	ck_assert_mem_eq(back.ext.nai, "x@y", 3);
	ck_assert(back.ext.encap_delivery);
	ck_assert_uint_eq(back.ext.mn_ha.spi, 0x100);
	ck_assert_uint_eq(back.ext.mn_ha.offset, 29);
	ck_assert_uint_eq(back.ext.mn_ha.covered_len, 35);
	ck_assert_uint_eq(back.ext.mn_fa.spi, 0x200);
	ck_assert_uint_eq(back.ext.mn_fa.offset, 53);
	ck_assert(!back.ext.fa_ha.present);

	memset(&rp, 0, sizeof(rp));
	rp.code = MIP_CODE_HA_ID_MISMATCH;
	rp.lifetime = 0;
	rp.home_addr.s_addr = htonl(0xc6120005);
	rp.home_agent.s_addr = htonl(0xc6120001);
	rp.id = 0x0123456789abcdefULL;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_reply_put(&b, &rp), 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, 0xffffffffu, key, 16), 0);
	ck_assert_int_eq(mip_reply_parse(out, buf_used(&b), &rback), MIP_PERR_OK);
	ck_assert_uint_eq(rback.code, MIP_CODE_HA_ID_MISMATCH);
	ck_assert_uint_eq(rback.lifetime, 0);
	ck_assert_uint_eq(rback.home_addr.s_addr, rp.home_addr.s_addr);
	ck_assert_uint_eq(rback.home_agent.s_addr, rp.home_agent.s_addr);
	ck_assert_uint_eq(rback.id, 0x0123456789abcdefULL);
	ck_assert_uint_eq(rback.ext.mn_ha.spi, 0xffffffffu);
	ck_assert_uint_eq(rback.ext.nai_len, 0);
}
END_TEST

START_TEST(test_build_limits)
{
	struct mip_reg_request rq = vec_request();
	struct mip_reg_reply rp;
	char nai[257];
	uint8_t out[300];
	struct buf b;

	memset(&rp, 0, sizeof(rp));
	for (size_t cap = 0; cap < 24; cap++) {
		buf_init_write(&b, out, cap);
		ck_assert_int_eq(mip_request_put(&b, &rq), -1);
	}
	for (size_t cap = 0; cap < 20; cap++) {
		buf_init_write(&b, out, cap);
		ck_assert_int_eq(mip_reply_put(&b, &rp), -1);
	}
	buf_init_write(&b, out, 1);
	ck_assert_int_eq(mip_ext_put_encap_delivery(&b), -1);

	memset(nai, 'n', sizeof(nai));
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_ext_put_nai(&b, nai, 0), -1);
	ck_assert_int_eq(mip_ext_put_nai(&b, nai, 256), -1);
	ck_assert_int_eq(mip_ext_put_nai(&b, nai, SIZE_MAX), -1);
	ck_assert_uint_eq(buf_used(&b), 0);
	ck_assert_int_eq(mip_ext_put_nai(&b, nai, 255), 0);
	ck_assert_uint_eq(buf_used(&b), 257);
	ck_assert_uint_eq(out[0], MIP_EXT_NAI);
	ck_assert_uint_eq(out[1], 255);
	buf_init_write(&b, out, 2 + 9);
	ck_assert_int_eq(mip_ext_put_nai(&b, nai, 10), -1);
}
END_TEST

/* ---- names ---- */

START_TEST(test_names)
{
	ck_assert_str_eq(mip_perr_name(MIP_PERR_OK), "ok");
	ck_assert_str_eq(mip_perr_name(MIP_PERR_TRUNCATED), "truncated");
	ck_assert_str_eq(mip_perr_name(MIP_PERR_TYPE), "wrong message type");
	ck_assert_str_eq(mip_perr_name(MIP_PERR_UNKNOWN_EXT), "unknown non-skippable extension");
	ck_assert_str_eq(mip_perr_name(MIP_PERR_BAD_EXT), "malformed extension");
	ck_assert_str_eq(mip_perr_name(MIP_PERR_DUP_EXT), "duplicate extension");
	ck_assert_str_eq(mip_perr_name(MIP_PERR_EXT_ORDER), "extension out of order");
	ck_assert_str_eq(mip_perr_name(MIP_PERR_MAX), "unknown error");

	ck_assert_str_eq(mip_code_name(0), "accepted");
	ck_assert_str_eq(mip_code_name(133), "HA: registration identification mismatch");
	ck_assert_str_eq(mip_code_name(79), "FA: delivery style not supported");
	ck_assert_str_eq(mip_code_name(2), "accepted (unknown code)");
	ck_assert_str_eq(mip_code_name(63), "accepted (unknown code)");
	ck_assert_str_eq(mip_code_name(73), "denied (unknown code)");
	ck_assert_str_eq(mip_code_name(255), "denied (unknown code)");

	ck_assert(mip_code_accepted(MIP_CODE_ACCEPTED));
	ck_assert(mip_code_accepted(MIP_CODE_ACCEPTED_NO_SIMUL));
	ck_assert(!mip_code_accepted(2));
	ck_assert(!mip_code_accepted(MIP_CODE_FA_UNSPECIFIED));
	ck_assert(!mip_code_accepted(MIP_CODE_HA_MN_AUTH));
}
END_TEST

static Suite *mip_msg_suite(void)
{
	Suite *s = suite_create("mip_msg");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_test(tc, test_request_vector);
	tcase_add_test(tc, test_reply_vector);
	tcase_add_test(tc, test_reply_code_and_flags);
	tcase_add_test(tc, test_request_truncated_every_length);
	tcase_add_test(tc, test_reply_truncated_every_length);
	tcase_add_test(tc, test_wrong_type);
	suite_add_tcase(s, tc);

	tc = tcase_create("extensions");
	tcase_add_test(tc, test_every_ext_type_len0);
	tcase_add_test(tc, test_skippable_any_length);
	tcase_add_test(tc, test_ext_lengths);
	tcase_add_test(tc, test_auth_len_recorded);
	tcase_add_test(tc, test_trailing_bytes);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, test_build_matches_vectors);
	tcase_add_test(tc, test_build_auth_layout);
	tcase_add_test(tc, test_build_roundtrip);
	tcase_add_test(tc, test_build_limits);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(mip_msg_suite());
}
